// conformance: exit=42
/*
 * exit_group(2) ends the process with the given status at once: atexit
 * handlers and stdio buffers are libc's business, so neither runs.
 */
#include "conformance.h"

static void never(void)
{
	printf("atexit handler ran: FAIL\n");
}

int main(void)
{
	conformance_init();
	CHECK(atexit(never) == 0);
	printf("calling exit_group(42)\n");
	syscall(SYS_exit_group, 42);
	printf("exit_group returned: FAIL\n");
	return 1;
}
