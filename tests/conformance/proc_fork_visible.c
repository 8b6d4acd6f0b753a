/* A child is known the moment fork returns, as Linux's copy_process makes
 * it: kill(pid, 0), capget of its pid, /proc/<pid> and a pidfd find it at
 * once, every time, before it has run at all. */
#include "conformance.h"
#include <linux/capability.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define ROUNDS 100

int main(void)
{
	conformance_init();
	int killed = 0, capgot = 0, in_proc = 0, pidfds = 0;
	for (int i = 0; i < ROUNDS; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			printf("fork: %s\n", errno_name(errno));
			break;
		}
		killed += kill(pid, 0) == 0;
		struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, pid};
		struct __user_cap_data_struct data[2];
		capgot += syscall(SYS_capget, &head, data) == 0;
		char path[32];
		snprintf(path, sizeof path, "/proc/%d", pid);
		struct stat st;
		in_proc += stat(path, &st) == 0;
		int fd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (fd >= 0) {
			pidfds++;
			close(fd);
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	EXPECT_VAL("kill(pid, 0) found the new child", killed, ROUNDS);
	EXPECT_VAL("capget found the new child", capgot, ROUNDS);
	EXPECT_VAL("/proc/<pid> of the new child", in_proc, ROUNDS);
	EXPECT_VAL("pidfd_open of the new child", pidfds, ROUNDS);
	return conformance_done();
}
