/*
 * prlimit64(2), getrlimit(2), setrlimit(2): every resource reads back with
 * soft <= hard; raising soft to hard and lowering hard work and read back;
 * soft > hard and unknown resources give EINVAL; bad pointers EFAULT.
 * Limits are host-specific, so only relations are printed.
 */
#include "conformance.h"

#include <sys/resource.h>

static long raw_prlimit(pid_t pid, int resource, const struct rlimit *new, struct rlimit *old)
{
	return syscall(SYS_prlimit64, pid, resource, new, old);
}

int main(void)
{
	conformance_init();
	char label[128];
	struct rlimit lim, old;

	for (int res = 0; res < RLIM_NLIMITS; res++) {
		snprintf(label, sizeof(label), "getrlimit(%d)", res);
		EXPECT_OK(label, syscall(SYS_getrlimit, res, &lim));
		CHECK(lim.rlim_cur <= lim.rlim_max);
		struct rlimit via_prlimit;
		snprintf(label, sizeof(label), "prlimit64(0, %d, NULL, &old)", res);
		EXPECT_OK(label, raw_prlimit(0, res, NULL, &via_prlimit));
		CHECK(via_prlimit.rlim_cur == lim.rlim_cur && via_prlimit.rlim_max == lim.rlim_max);
	}

	/* Raise the soft NOFILE limit to the hard one, then restore it. */
	struct rlimit orig;
	EXPECT_OK("getrlimit(RLIMIT_NOFILE)", getrlimit(RLIMIT_NOFILE, &orig));
	lim = (struct rlimit){orig.rlim_max, orig.rlim_max};
	EXPECT_VAL("setrlimit(RLIMIT_NOFILE, soft = hard)", setrlimit(RLIMIT_NOFILE, &lim), 0);
	EXPECT_OK("getrlimit(RLIMIT_NOFILE)", getrlimit(RLIMIT_NOFILE, &lim));
	CHECK(lim.rlim_cur == orig.rlim_max && lim.rlim_max == orig.rlim_max);
	EXPECT_VAL("prlimit64(self, NOFILE, orig, &old)",
		   raw_prlimit(getpid(), RLIMIT_NOFILE, &orig, &old), 0);
	CHECK(old.rlim_cur == orig.rlim_max && old.rlim_max == orig.rlim_max);
	getrlimit(RLIMIT_NOFILE, &lim);
	CHECK(lim.rlim_cur == orig.rlim_cur && lim.rlim_max == orig.rlim_max);

	/* Soft above hard. */
	lim = (struct rlimit){orig.rlim_max, orig.rlim_cur};
	if (orig.rlim_cur == orig.rlim_max)
		lim.rlim_max = orig.rlim_max - 1;
	EXPECT_ERR("setrlimit(soft > hard)", setrlimit(RLIMIT_NOFILE, &lim), EINVAL);
	EXPECT_ERR("prlimit64(soft > hard)", raw_prlimit(0, RLIMIT_NOFILE, &lim, NULL), EINVAL);
	lim = (struct rlimit){RLIM_INFINITY, orig.rlim_max};
	if (orig.rlim_max != RLIM_INFINITY)
		EXPECT_ERR("setrlimit(soft = infinity > hard)", setrlimit(RLIMIT_NOFILE, &lim),
			   EINVAL);

	/* Lower the hard limit of RLIMIT_CORE (lowering is always allowed). */
	struct rlimit core;
	getrlimit(RLIMIT_CORE, &core);
	lim = (struct rlimit){0, 4096};
	if (core.rlim_max < 4096)
		lim.rlim_max = core.rlim_max;
	EXPECT_VAL("setrlimit(RLIMIT_CORE, lower hard)", setrlimit(RLIMIT_CORE, &lim), 0);
	struct rlimit now;
	getrlimit(RLIMIT_CORE, &now);
	CHECK(now.rlim_cur == 0 && now.rlim_max == lim.rlim_max);
	/* Lower the hard NOFILE limit to the soft one; soft above it then fails. */
	lim = (struct rlimit){orig.rlim_cur, orig.rlim_cur};
	EXPECT_VAL("setrlimit(RLIMIT_NOFILE, hard = soft)", setrlimit(RLIMIT_NOFILE, &lim), 0);
	getrlimit(RLIMIT_NOFILE, &now);
	CHECK(now.rlim_cur == orig.rlim_cur && now.rlim_max == orig.rlim_cur);
	lim = (struct rlimit){orig.rlim_cur + 1, orig.rlim_cur};
	EXPECT_ERR("setrlimit(soft > lowered hard)", setrlimit(RLIMIT_NOFILE, &lim), EINVAL);

	/* Unknown resources. */
	int bad_res[] = {RLIM_NLIMITS, 100, -1, 0x7fffffff};
	for (size_t i = 0; i < sizeof(bad_res) / sizeof(bad_res[0]); i++) {
		snprintf(label, sizeof(label), "getrlimit(%d)", bad_res[i]);
		EXPECT_ERR(label, syscall(SYS_getrlimit, bad_res[i], &lim), EINVAL);
		snprintf(label, sizeof(label), "setrlimit(%d)", bad_res[i]);
		EXPECT_ERR(label, syscall(SYS_setrlimit, bad_res[i], &core), EINVAL);
		snprintf(label, sizeof(label), "prlimit64(0, %d)", bad_res[i]);
		EXPECT_ERR(label, raw_prlimit(0, bad_res[i], NULL, &lim), EINVAL);
	}

	/* Bad pointers. */
	EXPECT_ERR("getrlimit(bad ptr)", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
	EXPECT_ERR("setrlimit(bad ptr)", syscall(SYS_setrlimit, RLIMIT_NOFILE, BAD_PTR), EFAULT);
	EXPECT_ERR("prlimit64(new = bad ptr)", raw_prlimit(0, RLIMIT_NOFILE, BAD_PTR, NULL), EFAULT);
	EXPECT_ERR("prlimit64(old = bad ptr)", raw_prlimit(0, RLIMIT_NOFILE, NULL, BAD_PTR), EFAULT);
	EXPECT_VAL("prlimit64(NULL, NULL)", raw_prlimit(0, RLIMIT_NOFILE, NULL, NULL), 0);
	/* No such process. */
	EXPECT_ERR("prlimit64(pid 0x3fffffff)", raw_prlimit(0x3fffffff, RLIMIT_NOFILE, NULL, &lim),
		   ESRCH);

	return conformance_done();
}
