/*
 * uname(2): sysname "Linux", machine "x86_64", release and version non-empty,
 * nodename equal to gethostname(2). The release is the sandbox's declared one,
 * so only its shape is printed.
 */
#include "conformance.h"

#include <ctype.h>
#include <sys/utsname.h>

int main(void)
{
	conformance_init();

	struct utsname u;
	memset(&u, 0x7f, sizeof(u));
	EXPECT_OK("uname", uname(&u));
	printf("sysname = %s\n", u.sysname);
	printf("machine = %s\n", u.machine);
	CHECK(strcmp(u.sysname, "Linux") == 0);
	CHECK(strcmp(u.machine, "x86_64") == 0);
	CHECK(strnlen(u.release, sizeof(u.release)) < sizeof(u.release));
	CHECK(u.release[0] != '\0');
	CHECK(isdigit((unsigned char)u.release[0]));
	CHECK(strchr(u.release, '.') != NULL);
	CHECK(strnlen(u.version, sizeof(u.version)) < sizeof(u.version));
	CHECK(u.version[0] != '\0');
	CHECK(strnlen(u.nodename, sizeof(u.nodename)) < sizeof(u.nodename));
	CHECK(strnlen(u.domainname, sizeof(u.domainname)) < sizeof(u.domainname));

	char host[256];
	EXPECT_OK("gethostname", gethostname(host, sizeof(host)));
	CHECK(strcmp(host, u.nodename) == 0);

	struct utsname again;
	EXPECT_OK("uname again", syscall(SYS_uname, &again));
	CHECK(memcmp(&again, &u, sizeof(u)) == 0);

	EXPECT_ERR("uname(NULL)", syscall(SYS_uname, NULL), EFAULT);
	EXPECT_ERR("uname(bad ptr)", syscall(SYS_uname, BAD_PTR), EFAULT);

	return conformance_done();
}
