// conformance: exit=139
/*
 * A NULL dereference kills the process with SIGSEGV: status 128+11 = 139
 * under carapace, as the shell reports it natively. The transcript stops at
 * the crash (stdout is unbuffered).
 */
#include "conformance.h"

#include <sys/resource.h>

int main(void)
{
	conformance_init();
	/* No core file: the runner's cwd is /. */
	struct rlimit no_core = {0, 0};
	EXPECT_OK("setrlimit(RLIMIT_CORE, 0)", setrlimit(RLIMIT_CORE, &no_core));
	printf("dereferencing NULL\n");
	*(volatile int *)0 = 1;
	printf("survived a NULL store: FAIL\n");
	return 1;
}
