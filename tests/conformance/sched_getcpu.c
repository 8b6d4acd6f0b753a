/* getcpu(2): the CPU is one the task may run on, the node is 0, NULL
 * pointers are allowed and bad ones give EFAULT. */
#include "conformance.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    conformance_init();

    unsigned cpu = ~0u, node = ~0u;
    EXPECT_OK("getcpu(&cpu, &node)", syscall(SYS_getcpu, &cpu, &node, NULL));
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_OK("sched_getaffinity", sched_getaffinity(0, sizeof(set), &set));
    CHECK(cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set));
    CHECK(node == 0);

    cpu = ~0u;
    EXPECT_OK("getcpu(&cpu, NULL)", syscall(SYS_getcpu, &cpu, NULL, NULL));
    CHECK(cpu < CPU_SETSIZE);
    node = ~0u;
    EXPECT_OK("getcpu(NULL, &node)", syscall(SYS_getcpu, NULL, &node, NULL));
    CHECK(node == 0);
    EXPECT_OK("getcpu(NULL, NULL, NULL)", syscall(SYS_getcpu, NULL, NULL, NULL));
    /* The third argument is ignored, even when it is not a pointer. */
    EXPECT_OK("getcpu with a bad cache", syscall(SYS_getcpu, &cpu, &node, BAD_PTR));

    EXPECT_ERR("getcpu(BAD_PTR, ...)", syscall(SYS_getcpu, BAD_PTR, &node, NULL), EFAULT);
    EXPECT_ERR("getcpu(..., BAD_PTR)", syscall(SYS_getcpu, &cpu, BAD_PTR, NULL), EFAULT);

    /* Pinned to one CPU of the set, the task reports that CPU. */
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) {
            first = i;
            break;
        }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    EXPECT_OK("sched_setaffinity(one cpu)", sched_setaffinity(0, sizeof(one), &one));
    EXPECT_OK("getcpu pinned", syscall(SYS_getcpu, &cpu, &node, NULL));
    CHECK(cpu == (unsigned)first);
    return conformance_done();
}
