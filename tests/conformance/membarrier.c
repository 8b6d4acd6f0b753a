/* membarrier(2): the commands QUERY reports (every non-rseq command),
 * registration (EPERM before it, per process), flags and unknown commands,
 * and barriers issued while other threads run. */
#include "conformance.h"
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

static long membarrier(int cmd, unsigned flags) { return syscall(SYS_membarrier, cmd, flags, 0); }

static _Atomic int stop;
static _Atomic long spins;

static void *spinner(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed);
	return NULL;
}

int main(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		errno = 0;
		return membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == -1 && errno == EPERM ? 0 : 1;
	}
	conformance_init();
	long q = membarrier(MEMBARRIER_CMD_QUERY, 0);
	CHECK(q > 0);
	static const struct {
		int cmd;
		const char *name;
	} cmds[] = {
		{MEMBARRIER_CMD_GLOBAL, "GLOBAL"},
		{MEMBARRIER_CMD_GLOBAL_EXPEDITED, "GLOBAL_EXPEDITED"},
		{MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, "REGISTER_GLOBAL_EXPEDITED"},
		{MEMBARRIER_CMD_PRIVATE_EXPEDITED, "PRIVATE_EXPEDITED"},
		{MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, "REGISTER_PRIVATE_EXPEDITED"},
		{MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, "PRIVATE_EXPEDITED_SYNC_CORE"},
		{MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
		 "REGISTER_PRIVATE_EXPEDITED_SYNC_CORE"},
	};
	for (unsigned i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		printf("query has %s: %s\n", cmds[i].name, (q & cmds[i].cmd) ? "yes" : "no");

	EXPECT_ERR("query with flags", membarrier(MEMBARRIER_CMD_QUERY, 1), EINVAL);
	EXPECT_ERR("global with flags", membarrier(MEMBARRIER_CMD_GLOBAL, 1), EINVAL);
	EXPECT_ERR("two commands at once",
		   membarrier(MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), EINVAL);
	EXPECT_ERR("unknown command 1<<20", membarrier(1 << 20, 0), EINVAL);
	EXPECT_ERR("negative command", membarrier(-1, 0), EINVAL);

	EXPECT_ERR("private expedited unregistered", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0),
		   EPERM);
	EXPECT_ERR("sync core unregistered",
		   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), EPERM);
	EXPECT_VAL("global", membarrier(MEMBARRIER_CMD_GLOBAL, 0), 0);
	EXPECT_VAL("global expedited, nobody registered",
		   membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0), 0);
	EXPECT_VAL("register global expedited",
		   membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0), 0);
	EXPECT_VAL("global expedited", membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0), 0);
	EXPECT_ERR("private expedited still unregistered",
		   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), EPERM);
	EXPECT_VAL("register private expedited",
		   membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	EXPECT_VAL("register private expedited again",
		   membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0);
	EXPECT_VAL("private expedited, one thread", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0),
		   0);
	EXPECT_ERR("sync core needs its own registration",
		   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), EPERM);
	EXPECT_VAL("register sync core",
		   membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0), 0);

	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spinner, NULL);
	while (atomic_load(&spins) == 0)
		usleep(1000);
	EXPECT_VAL("private expedited, threads running",
		   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), 0);
	EXPECT_VAL("sync core, threads running",
		   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), 0);
	EXPECT_VAL("global, threads running", membarrier(MEMBARRIER_CMD_GLOBAL, 0), 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	/* Registrations belong to the address space: a fork copies them, an
	 * exec'd image starts unregistered. */
	pid_t pid = fork();
	if (pid == 0) {
		if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) != 0)
			_exit(2);
		execl("/proc/self/exe", "membarrier", "child", (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	EXPECT_VAL("forked child registered, its exec'd image not",
		   WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
	return conformance_done();
}
