/* Changing credentials: setuid/setgid, setreuid/setregid,
 * setresuid/setresgid, setfsuid/setfsgid and setgroups, as root and after
 * dropping root, with Linux's EPERM/EINVAL rules; a credential change makes
 * the process non-dumpable. Each case runs in a child, since dropping root
 * is for good. Skipped (same output) when not started as root. */
#include "conformance.h"
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static void print_ids(const char *label)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("%s: uid %u %u %u fsuid %d gid %u %u %u fsgid %d\n", label, r, e, s,
	       setfsuid(-1), gr, ge, gs, setfsgid(-1));
}

static void run(void (*body)(void))
{
	pid_t c = fork();
	if (c == 0) {
		body();
		_exit(conformance_failures ? 1 : 0);
	}
	int status;
	CHECK(waitpid(c, &status, 0) == c);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void setuid_as_root(void)
{
	EXPECT_ERR("setuid(-1)", setuid(-1), EINVAL);
	EXPECT_ERR("setgid(-1)", setgid(-1), EINVAL);
	EXPECT_VAL("setgid 100", setgid(100), 0);
	EXPECT_VAL("setuid 1000", setuid(1000), 0);
	print_ids("after setuid");
	EXPECT_VAL("dumpable", prctl(PR_GET_DUMPABLE), 0);
	EXPECT_ERR("setuid 0 again", setuid(0), EPERM);
	EXPECT_ERR("setgid 0", setgid(0), EPERM);
	EXPECT_VAL("setuid to itself", setuid(1000), 0);
	EXPECT_ERR("setgroups unprivileged", setgroups(0, NULL), EPERM);
}

static void setresuid_rules(void)
{
	EXPECT_VAL("setresgid", setresgid(10, 20, 30), 0);
	EXPECT_VAL("setresuid", setresuid(1000, 2000, 0), 0);
	print_ids("after setresuid");
	/* Unprivileged now (euid 2000): only current ids are allowed. */
	EXPECT_ERR("setresuid to a new id", setresuid(-1, 3000, -1), EPERM);
	EXPECT_VAL("setresuid euid from saved", setresuid(-1, 0, -1), 0);
	print_ids("euid back to 0");
	EXPECT_VAL("setresuid all -1", setresuid(-1, -1, -1), 0);
	EXPECT_VAL("setresuid drop all", setresuid(1000, 1000, 1000), 0);
	EXPECT_ERR("setresuid to 0", setresuid(-1, 0, -1), EPERM);
	EXPECT_ERR("setresgid to new", setresgid(-1, 40, -1), EPERM);
	EXPECT_VAL("setresgid among current", setresgid(30, 10, 20), 0);
	print_ids("rotated gids");
}

static void setreuid_rules(void)
{
	EXPECT_VAL("setreuid(1000, 2000)", setreuid(1000, 2000), 0);
	print_ids("after setreuid");
	EXPECT_VAL("setreuid(-1, 1000)", setreuid(-1, 1000), 0);
	print_ids("euid to ruid");
	EXPECT_VAL("setreuid(-1, 2000) from saved", setreuid(-1, 2000), 0);
	print_ids("euid to saved");
	EXPECT_ERR("setreuid to a new real id", setreuid(3000, -1), EPERM);
	EXPECT_VAL("setreuid(2000, -1)", setreuid(2000, -1), 0);
	print_ids("ruid to euid");
}

static void fsuid_rules(void)
{
	EXPECT_VAL("setfsuid as root", setfsuid(500), 0);
	EXPECT_VAL("setfsuid reads back", setfsuid(-1), 500);
	EXPECT_VAL("setfsgid as root", setfsgid(600), 0);
	EXPECT_VAL("setuid resets fsuid", setuid(700), 0);
	EXPECT_VAL("fsuid follows euid", setfsuid(-1), 700);
	EXPECT_VAL("setfsuid refused returns old", setfsuid(800), 700);
	EXPECT_VAL("unchanged", setfsuid(-1), 700);
}

static void groups_rules(void)
{
	gid_t list[] = {30, 10, 20};
	EXPECT_VAL("setgroups", setgroups(3, list), 0);
	gid_t got[8];
	int n = getgroups(8, got);
	EXPECT_VAL("getgroups", n, 3);
	printf("groups: %u %u %u\n", got[0], got[1], got[2]);
	EXPECT_VAL("setgroups empty", setgroups(0, NULL), 0);
	EXPECT_VAL("getgroups", getgroups(0, NULL), 0);
	EXPECT_ERR("setgroups bad pointer", setgroups(2, BAD_PTR), EFAULT);
	EXPECT_ERR("setgroups huge", syscall(SYS_setgroups, 65537, list), EINVAL);
	EXPECT_ERR("setgroups negative", syscall(SYS_setgroups, -1, list), EINVAL);
}

int main(void)
{
	conformance_init();
	if (geteuid() != 0) {
		printf("not root: skipped\n");
		return conformance_done();
	}
	run(setuid_as_root);
	run(setresuid_rules);
	run(setreuid_rules);
	run(fsuid_rules);
	run(groups_rules);
	return conformance_done();
}
