/*
 * capget, capset and the capability prctls: versions, pids, subset rules,
 * the bounding set, ambient capabilities and securebits. Values are printed
 * only where they do not depend on what the host grants the caller.
 */
#include "conformance.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int capget3(pid_t pid, struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, pid};
	return syscall(SYS_capget, &h, d);
}

static int capset3(unsigned long long eff, unsigned long long prm, unsigned long long inh)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {
		{(unsigned)eff, (unsigned)prm, (unsigned)inh},
		{(unsigned)(eff >> 32), (unsigned)(prm >> 32), (unsigned)(inh >> 32)},
	};
	return syscall(SYS_capset, &h, d);
}

int main(void)
{
	conformance_init();
	struct __user_cap_header_struct h = {0x12345678, 0};
	struct __user_cap_data_struct d[2];

	EXPECT_ERR("capget(bad version)", syscall(SYS_capget, &h, d), EINVAL);
	printf("version written back: %#x\n", h.version);
	h.version = 0x12345678;
	EXPECT_VAL("capget(bad version, NULL data)", syscall(SYS_capget, &h, NULL), 0);
	printf("version written back: %#x\n", h.version);
	EXPECT_VAL("capget(v3, NULL data)", syscall(SYS_capget, &h, NULL), 0);
	EXPECT_ERR("capget(bad header)", syscall(SYS_capget, BAD_PTR, d), EFAULT);
	EXPECT_ERR("capget(bad data)", syscall(SYS_capget, &h, BAD_PTR), EFAULT);
	h.pid = -1;
	EXPECT_ERR("capget(pid -1)", syscall(SYS_capget, &h, d), EINVAL);
	h.pid = 999999;
	EXPECT_ERR("capget(no such pid)", syscall(SYS_capget, &h, d), ESRCH);

	struct __user_cap_data_struct self[2], mine[2];
	EXPECT_OK("capget(0)", capget3(0, self));
	EXPECT_OK("capget(getpid())", capget3(getpid(), mine));
	CHECK(memcmp(self, mine, sizeof self) == 0);
	/* Version 1 reports only the low word. */
	struct __user_cap_header_struct h1 = {_LINUX_CAPABILITY_VERSION_1, 0};
	struct __user_cap_data_struct v1[2] = {{0}, {0xdead, 0xdead, 0xdead}};
	EXPECT_OK("capget(v1)", syscall(SYS_capget, &h1, v1));
	CHECK(v1[0].effective == self[0].effective);
	CHECK(v1[1].effective == 0xdead);

	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	struct __user_cap_data_struct theirs[2];
	EXPECT_OK("capget(child)", capget3(child, theirs));
	CHECK(memcmp(self, theirs, sizeof self) == 0);
	struct __user_cap_header_struct hc = {_LINUX_CAPABILITY_VERSION_3, child};
	EXPECT_ERR("capset(child)", syscall(SYS_capset, &hc, self), EPERM);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	unsigned long long eff = self[0].effective | ((unsigned long long)self[1].effective << 32);
	unsigned long long prm = self[0].permitted | ((unsigned long long)self[1].permitted << 32);
	EXPECT_ERR("capset(bad version)", syscall(SYS_capset, &h1 + 0, BAD_PTR), EFAULT);
	EXPECT_ERR("capset(effective beyond permitted)", capset3(1ULL << CAP_CHOWN, 0, 0), EPERM);
	/* Bits above the last capability are dropped, not refused. */
	EXPECT_OK("capset(unknown bits)", capset3(eff | (1ULL << 63), prm | (1ULL << 63), 1ULL << 62));
	struct __user_cap_data_struct now[2];
	capget3(0, now);
	CHECK(memcmp(now, self, sizeof now) == 0);

	EXPECT_ERR("PR_CAPBSET_READ(64)", prctl(PR_CAPBSET_READ, 64), EINVAL);
	EXPECT_ERR("PR_CAPBSET_READ(-1)", prctl(PR_CAPBSET_READ, -1L), EINVAL);
	EXPECT_VAL("PR_GET_SECUREBITS", prctl(PR_GET_SECUREBITS), 0);
	EXPECT_ERR("PR_CAP_AMBIENT(bad op)", prctl(PR_CAP_AMBIENT, 99, 0, 0, 0), EINVAL);
	EXPECT_ERR("PR_CAP_AMBIENT(CLEAR_ALL, 1)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 1, 0, 0), EINVAL);
	EXPECT_ERR("PR_CAP_AMBIENT(IS_SET, 64)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 64, 0, 0), EINVAL);
	EXPECT_VAL("PR_CAP_AMBIENT(IS_SET, CHOWN)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0), 0);
	EXPECT_ERR("PR_CAP_AMBIENT(RAISE) without inheritable",
		   prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0), EPERM);

	if (!(eff & (1ULL << CAP_SETPCAP)) || !(prm & (1ULL << CAP_CHOWN))) {
		printf("no CAP_SETPCAP/CAP_CHOWN: the rest needs them\n");
		return conformance_done();
	}
	EXPECT_OK("capset(inheritable CHOWN)", capset3(eff, prm, 1ULL << CAP_CHOWN));
	EXPECT_OK("PR_CAP_AMBIENT(RAISE, CHOWN)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
	EXPECT_VAL("PR_CAP_AMBIENT(IS_SET, CHOWN)", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0), 1);
	/* Dropping it from inheritable drops it from ambient. */
	EXPECT_OK("capset(no inheritable)", capset3(eff, prm, 0));
	EXPECT_VAL("ambient after", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0), 0);

	child = fork();
	if (child == 0) {
		EXPECT_VAL("PR_CAPBSET_READ(CHOWN)", prctl(PR_CAPBSET_READ, CAP_CHOWN), 1);
		EXPECT_OK("PR_CAPBSET_DROP(CHOWN)", prctl(PR_CAPBSET_DROP, CAP_CHOWN));
		EXPECT_VAL("PR_CAPBSET_READ(CHOWN)", prctl(PR_CAPBSET_READ, CAP_CHOWN), 0);
		EXPECT_ERR("PR_CAPBSET_DROP(64)", prctl(PR_CAPBSET_DROP, 64), EINVAL);
		EXPECT_ERR("capset(inheritable outside bounding)",
			   capset3(eff, prm, 1ULL << CAP_CHOWN), EPERM);
		EXPECT_OK("PR_SET_SECUREBITS(KEEP_CAPS|locked)",
			  prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED));
		EXPECT_VAL("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS), 1);
		EXPECT_ERR("PR_SET_KEEPCAPS(0) while locked", prctl(PR_SET_KEEPCAPS, 0), EPERM);
		EXPECT_ERR("PR_SET_SECUREBITS(unlock)", prctl(PR_SET_SECUREBITS, 0), EPERM);
		EXPECT_ERR("PR_SET_SECUREBITS(unknown bit)",
			   prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_KEEP_CAPS_LOCKED | (1 << 20)),
			   EPERM);
		/* Giving up CAP_SETPCAP: no more bounding-set drops. */
		EXPECT_OK("capset(without SETPCAP)",
			  capset3(eff & ~(1ULL << CAP_SETPCAP), prm & ~(1ULL << CAP_SETPCAP), 0));
		EXPECT_ERR("PR_CAPBSET_DROP without SETPCAP", prctl(PR_CAPBSET_DROP, CAP_KILL), EPERM);
		EXPECT_ERR("capset(regain SETPCAP)", capset3(eff, prm, 0), EPERM);
		_exit(conformance_failures ? 1 : 0);
	}
	int status;
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return conformance_done();
}
