/*
 * sysinfo(2): mem_unit > 0, totalram > 0, freeram <= totalram, procs >= 1,
 * and EFAULT for bad pointers. Values are host- and sandbox-specific.
 */
#include "conformance.h"

#include <sys/sysinfo.h>

int main(void)
{
	conformance_init();

	struct sysinfo si;
	memset(&si, 0, sizeof(si));
	EXPECT_VAL("sysinfo", syscall(SYS_sysinfo, &si), 0);
	CHECK(si.mem_unit > 0);
	CHECK(si.totalram > 0);
	CHECK(si.freeram <= si.totalram);
	CHECK(si.sharedram <= si.totalram);
	CHECK(si.bufferram <= si.totalram);
	CHECK(si.freeswap <= si.totalswap);
	CHECK(si.freehigh <= si.totalhigh);
	CHECK(si.procs >= 1);
	CHECK(si.uptime >= 0);

	EXPECT_ERR("sysinfo(NULL)", syscall(SYS_sysinfo, NULL), EFAULT);
	EXPECT_ERR("sysinfo(bad ptr)", syscall(SYS_sysinfo, BAD_PTR), EFAULT);

	/* glibc's get_nprocs and friends read /sys or /proc, not sysinfo: not used. */
	return conformance_done();
}
