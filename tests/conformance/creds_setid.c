/*
 * The set*id calls and their effect on capabilities and permission checks:
 * setuid, setreuid, setresuid, setfsuid, the gid counterparts, setgroups,
 * and set-user-ID executables. Needs root to start; as anyone else it only
 * says so.
 */
#include "conformance.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static unsigned long long effective_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return ~0ULL;
	return d[0].effective | ((unsigned long long)d[1].effective << 32);
}

static unsigned long long permitted_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return ~0ULL;
	return d[0].permitted | ((unsigned long long)d[1].permitted << 32);
}

static void print_ids(const char *when)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("%s: uid %u/%u/%u fsuid %ld gid %u/%u/%u fsgid %ld\n", when, r, e, s,
	       syscall(SYS_setfsuid, -1), gr, ge, gs, syscall(SYS_setfsgid, -1));
}

/* Runs fn in a child and reports its exit status. */
static void in_child(const char *what, void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(conformance_failures ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("%s: FAIL: child status %#x\n", what, status);
		conformance_failures++;
	}
}

static const char *secret = "/tmp/carapace-creds-secret";

static void drop_everything(void)
{
	EXPECT_OK("setgroups(2)", syscall(SYS_setgroups, 2, (gid_t[]){5, 7}));
	gid_t g[4];
	EXPECT_VAL("getgroups", getgroups(4, g), 2);
	EXPECT_OK("setresgid(1000,1000,1000)", syscall(SYS_setresgid, 1000, 1000, 1000));
	EXPECT_OK("setresuid(1000,1001,1002)", syscall(SYS_setresuid, 1000, 1001, 1002));
	print_ids("unprivileged");
	CHECK(effective_caps() == 0);
	CHECK(permitted_caps() == 0);
	EXPECT_ERR("setuid(0)", syscall(SYS_setuid, 0), EPERM);
	EXPECT_ERR("setresuid(-1,0,-1)", syscall(SYS_setresuid, -1, 0, -1), EPERM);
	EXPECT_OK("setresuid(-1,1002,-1)", syscall(SYS_setresuid, -1, 1002, -1));
	EXPECT_OK("setreuid(-1,1000)", syscall(SYS_setreuid, -1, 1000));
	print_ids("after setreuid(-1,1000)");
	EXPECT_ERR("setreuid(7,-1)", syscall(SYS_setreuid, 7, -1), EPERM);
	EXPECT_OK("setuid(1002) (saved)", syscall(SYS_setuid, 1002));
	print_ids("after setuid(1002)");
	EXPECT_ERR("setgid(0)", syscall(SYS_setgid, 0), EPERM);
	EXPECT_ERR("setregid(-1, 0)", syscall(SYS_setregid, -1, 0), EPERM);
	EXPECT_ERR("setgroups", syscall(SYS_setgroups, 0, NULL), EPERM);
	EXPECT_VAL("setfsuid(0) refused, answers old", syscall(SYS_setfsuid, 0), 1002);
	EXPECT_VAL("fsuid unchanged", syscall(SYS_setfsuid, -1), 1002);
	EXPECT_ERR("open(secret)", open(secret, O_RDONLY), EACCES);
	int fd = EXPECT_OK("create /tmp file", open("/tmp/carapace-creds-mine", O_CREAT | O_RDWR | O_TRUNC, 0600));
	struct stat st;
	fstat(fd, &st);
	printf("new file owner %u group %u\n", st.st_uid, st.st_gid);
	close(fd);
	unlink("/tmp/carapace-creds-mine");
	EXPECT_ERR("chown to root", chown("/tmp/carapace-creds-mine2", 0, 0), ENOENT);
}

static void effective_round_trip(void)
{
	unsigned long long full = effective_caps();
	EXPECT_OK("seteuid(1000)", syscall(SYS_setresuid, -1, 1000, -1));
	print_ids("seteuid(1000)");
	CHECK(effective_caps() == 0);
	CHECK(permitted_caps() == full);
	EXPECT_ERR("open(secret) as euid 1000", open(secret, O_RDONLY), EACCES);
	EXPECT_OK("seteuid(0)", syscall(SYS_setresuid, -1, 0, -1));
	CHECK(effective_caps() == full);
	int fd = EXPECT_OK("open(secret) as root again", open(secret, O_RDONLY));
	close(fd);
}

static void fsuid_only(void)
{
	unsigned long long full = effective_caps();
	EXPECT_VAL("setfsuid(1000)", syscall(SYS_setfsuid, 1000), 0);
	print_ids("setfsuid(1000)");
	unsigned long long fs = (1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) |
				(1ULL << CAP_DAC_READ_SEARCH) | (1ULL << CAP_FOWNER) |
				(1ULL << CAP_FSETID) | (1ULL << CAP_LINUX_IMMUTABLE) |
				(1ULL << CAP_MKNOD) | (1ULL << CAP_MAC_OVERRIDE);
	CHECK(effective_caps() == (full & ~fs));
	EXPECT_ERR("open(secret) with fsuid 1000", open(secret, O_RDONLY), EACCES);
	EXPECT_VAL("setfsuid(0)", syscall(SYS_setfsuid, 0), 1000);
	CHECK(effective_caps() == full);
	EXPECT_VAL("setfsgid(1234)", syscall(SYS_setfsgid, 1234), 0);
	int fd = open("/tmp/carapace-creds-fsgid", O_CREAT | O_RDWR | O_TRUNC, 0600);
	struct stat st;
	fstat(fd, &st);
	printf("fsgid file group %u\n", st.st_gid);
	close(fd);
	unlink("/tmp/carapace-creds-fsgid");
}

static void keep_caps(void)
{
	unsigned long long full = permitted_caps();
	EXPECT_VAL("PR_GET_KEEPCAPS", prctl(PR_GET_KEEPCAPS), 0);
	EXPECT_ERR("PR_SET_KEEPCAPS(2)", prctl(PR_SET_KEEPCAPS, 2), EINVAL);
	EXPECT_OK("PR_SET_KEEPCAPS(1)", prctl(PR_SET_KEEPCAPS, 1));
	EXPECT_OK("setresuid(1000,1000,1000)", syscall(SYS_setresuid, 1000, 1000, 1000));
	CHECK(effective_caps() == 0);
	CHECK(permitted_caps() == full);
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0}};
	d[0].permitted = d[0].effective = 1u << CAP_DAC_OVERRIDE;
	EXPECT_OK("capset(DAC_OVERRIDE)", syscall(SYS_capset, &h, d));
	CHECK(permitted_caps() == 1u << CAP_DAC_OVERRIDE);
	int fd = EXPECT_OK("open(secret) with CAP_DAC_OVERRIDE", open(secret, O_RDONLY));
	close(fd);
	d[0].permitted = d[0].effective = 1u << CAP_SETUID;
	EXPECT_ERR("capset(raise permitted)", syscall(SYS_capset, &h, d), EPERM);
	EXPECT_ERR("setuid(0) without CAP_SETUID", syscall(SYS_setuid, 0), EPERM);
}

static void set_user_id_exec(void)
{
	EXPECT_OK("setresgid(1000)", syscall(SYS_setresgid, 1000, 1000, 1000));
	EXPECT_OK("setresuid(1000)", syscall(SYS_setresuid, 1000, 1000, 1000));
}

int main(int argc, char **argv)
{
	conformance_init();
	if (argc > 1 && strcmp(argv[1], "report") == 0) {
		uid_t r, e, s;
		getresuid(&r, &e, &s);
		printf("  exec'd: uid %u/%u/%u secure %lu caps %s\n", r, e, s, getauxval(AT_SECURE),
		       effective_caps() ? "some" : "none");
		return 0;
	}
	if (getuid() != 0) {
		printf("not root: nothing to check\n");
		return 0;
	}
	print_ids("start");
	EXPECT_ERR("setuid(-1)", syscall(SYS_setuid, -1), EINVAL);
	EXPECT_ERR("setgid(-1)", syscall(SYS_setgid, -1), EINVAL);
	EXPECT_ERR("setgroups(-1)", syscall(SYS_setgroups, -1, NULL), EINVAL);
	EXPECT_ERR("setgroups(65537)", syscall(SYS_setgroups, 65537, NULL), EINVAL);
	EXPECT_ERR("setgroups(bad ptr)", syscall(SYS_setgroups, 2, BAD_PTR), EFAULT);
	int fd = open(secret, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);

	in_child("drop_everything", drop_everything);
	in_child("effective_round_trip", effective_round_trip);
	in_child("fsuid_only", fsuid_only);
	in_child("keep_caps", keep_caps);

	/* A set-user-ID copy of this program, beside it. (Whether a nosuid
	 * mount is at hand natively depends on the host, so that case is not
	 * compared.) */
	char exe[4096], copy[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	CHECK(n > 0);
	exe[n > 0 ? n : 0] = 0;
	snprintf(copy, sizeof copy, "%s-suid-%d", exe, (int)getpid());
	int in = open(exe, O_RDONLY), out = open(copy, O_CREAT | O_WRONLY | O_TRUNC, 0700);
	char buf[65536];
	ssize_t got;
	while ((got = read(in, buf, sizeof buf)) > 0)
		CHECK(write(out, buf, got) == got);
	close(in);
	close(out);
	EXPECT_OK("chmod 04755", chmod(copy, 04755));
	pid_t pid = fork();
	if (pid == 0) {
		set_user_id_exec();
		execl(copy, copy, "report", (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(copy);
	unlink(secret);
	return conformance_done();
}
