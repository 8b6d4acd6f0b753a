/*
 * Process and credential identity: getpid, getppid, gettid, getuid, geteuid,
 * getgid, getegid, getgroups, getresuid, getresgid. Prints relations between
 * the values, never the values (the sandbox has its own pids).
 */
#include "conformance.h"

#include <sys/types.h>

int main(void)
{
	conformance_init();

	pid_t pid = getpid();
	pid_t ppid = getppid();
	CHECK(pid > 0);
	CHECK(ppid >= 0);
	CHECK(ppid != pid);
	CHECK(gettid() == pid);
	CHECK(syscall(SYS_getpid) == pid);
	CHECK(syscall(SYS_gettid) == pid);
	CHECK(syscall(SYS_getppid) == ppid);
	CHECK(getpid() == pid);

	uid_t uid = getuid();
	gid_t gid = getgid();
	CHECK(geteuid() == uid);
	CHECK(getegid() == gid);

	uid_t ruid, euid, suid;
	EXPECT_OK("getresuid", getresuid(&ruid, &euid, &suid));
	CHECK(ruid == uid);
	CHECK(euid == uid);
	CHECK(suid == uid);
	gid_t rgid, egid, sgid;
	EXPECT_OK("getresgid", getresgid(&rgid, &egid, &sgid));
	CHECK(rgid == gid);
	CHECK(egid == gid);
	CHECK(sgid == gid);
	EXPECT_ERR("getresuid(bad ptr)", syscall(SYS_getresuid, BAD_PTR, &euid, &suid), EFAULT);
	EXPECT_ERR("getresgid(bad ptr)", syscall(SYS_getresgid, &rgid, &egid, BAD_PTR), EFAULT);

	long ngroups = EXPECT_OK("getgroups(0, NULL)", syscall(SYS_getgroups, 0, NULL));
	CHECK(ngroups >= 0);
	CHECK(ngroups <= 65536);
	static gid_t groups[65536];
	CHECK(syscall(SYS_getgroups, 65536, groups) == ngroups);
	CHECK(syscall(SYS_getgroups, ngroups, groups) == ngroups);
	EXPECT_ERR("getgroups(-1, buf)", syscall(SYS_getgroups, -1, groups), EINVAL);
	/* A buffer one entry too small fails only when there is a group. */
	if (ngroups > 0) {
		EXPECT_ERR("getgroups(n-1, buf)", syscall(SYS_getgroups, ngroups - 1, groups), EINVAL);
		EXPECT_ERR("getgroups(n, bad ptr)", syscall(SYS_getgroups, ngroups, BAD_PTR), EFAULT);
	}

	return conformance_done();
}
