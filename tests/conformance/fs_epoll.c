// epoll: epoll_create/epoll_create1, epoll_ctl ADD/MOD/DEL and their
// errors, level- and edge-triggered reports on pipes and eventfds,
// EPOLLONESHOT, registrations across close and dup, nested instances and
// loops, epoll_wait's maxevents and timeouts.
#include "conformance.h"

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Waits with timeout 0 and prints what was reported, data sorted. */
static int report(const char *label, int ep, int max)
{
    struct epoll_event ev[16];
    int n = epoll_wait(ep, ev, max, 0);
    if (n < 0) {
        printf("%s: error %s\n", label, errno_name(errno));
        return n;
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (ev[j].data.u64 < ev[i].data.u64) {
                struct epoll_event t = ev[i];
                ev[i] = ev[j];
                ev[j] = t;
            }
    printf("%s: %d", label, n);
    for (int i = 0; i < n; i++)
        printf(" [data=%llu events=%#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
    return n;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = events, .data.u64 = data};
    return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

int main(void)
{
    conformance_init();
    struct epoll_event ev = {.events = EPOLLIN};

    /* Creation. */
    EXPECT_ERR("epoll_create 0", syscall(SYS_epoll_create, 0), EINVAL);
    EXPECT_ERR("epoll_create -1", syscall(SYS_epoll_create, -1), EINVAL);
    EXPECT_ERR("epoll_create1 bad flags", syscall(SYS_epoll_create1, 1), EINVAL);
    int ep = syscall(SYS_epoll_create, 1);
    CHECK(ep >= 0);
    CHECK(fcntl(ep, F_GETFD) == 0);
    close(ep);
    ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(ep >= 0);
    CHECK(fcntl(ep, F_GETFD) == FD_CLOEXEC);
    struct stat st;
    EXPECT_OK("fstat epoll", fstat(ep, &st));
    CHECK((st.st_mode & S_IFMT) == 0);
    char path[64], link[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", ep);
    CHECK(readlink(path, link, sizeof link - 1) > 0);
    CHECK(strcmp(link, "anon_inode:[eventpoll]") == 0);
    char buf[64];
    EXPECT_ERR("read epoll", read(ep, buf, sizeof buf), EINVAL);

    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);

    /* epoll_ctl errors. */
    EXPECT_ERR("ctl bad epfd", epoll_ctl(-1, EPOLL_CTL_ADD, p[0], &ev), EBADF);
    EXPECT_ERR("ctl bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
    EXPECT_ERR("ctl not epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev), EINVAL);
    EXPECT_ERR("ctl self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
    EXPECT_ERR("ctl bad event ptr", syscall(SYS_epoll_ctl, ep, EPOLL_CTL_ADD, p[0], BAD_PTR),
               EFAULT);
    EXPECT_ERR("ctl bad op", epoll_ctl(ep, 7, p[0], &ev), EINVAL);
    EXPECT_ERR("ctl MOD missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), ENOENT);
    EXPECT_ERR("ctl DEL missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
    int reg = open("/proc/self/cmdline", O_RDONLY);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    EXPECT_ERR("ctl regular file", epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev), EPERM);
    EXPECT_ERR("ctl directory", epoll_ctl(ep, EPOLL_CTL_ADD, dir, &ev), EPERM);
    int opath = open("/", O_PATH);
    EXPECT_ERR("ctl O_PATH fd", epoll_ctl(ep, EPOLL_CTL_ADD, opath, &ev), EBADF);
    EXPECT_ERR("ctl O_PATH epfd", epoll_ctl(opath, EPOLL_CTL_ADD, p[0], &ev), EBADF);
    close(opath);
    close(reg);
    close(dir);
    EXPECT_OK("ctl ADD", add(ep, p[0], EPOLLIN, 1));
    EXPECT_ERR("ctl ADD twice", add(ep, p[0], EPOLLIN, 1), EEXIST);
    EXPECT_ERR("ctl EXCLUSIVE MOD", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1), EINVAL);
    EXPECT_ERR("ctl EXCLUSIVE bad bits", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLPRI, 2),
               EINVAL);
    EXPECT_ERR("ctl EXCLUSIVE ONESHOT", add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 2),
               EINVAL);

    /* epoll_wait errors. */
    struct epoll_event out[4];
    EXPECT_ERR("wait maxevents 0", epoll_wait(ep, out, 0, 0), EINVAL);
    EXPECT_ERR("wait maxevents -1", syscall(SYS_epoll_wait, ep, out, -1, 0), EINVAL);
    EXPECT_ERR("wait maxevents huge", syscall(SYS_epoll_wait, ep, out, 0x7fffffff, 0), EINVAL);
    EXPECT_ERR("wait bad epfd", epoll_wait(-1, out, 1, 0), EBADF);
    EXPECT_ERR("wait not epoll", epoll_wait(p[0], out, 1, 0), EINVAL);
    EXPECT_VAL("wait nothing ready", epoll_wait(ep, out, 4, 0), 0);
    EXPECT_VAL("wait 30ms nothing ready", epoll_wait(ep, out, 4, 30), 0);

    /* Level-triggered: reported while readable. */
    write(p[1], "ab", 2);
    report("LT after write", ep, 4);
    report("LT again", ep, 4);
    EXPECT_ERR("wait bad events ptr", syscall(SYS_epoll_wait, ep, BAD_PTR, 4, 0), EFAULT);
    read(p[0], buf, sizeof buf);
    report("LT drained", ep, 4);

    /* Edge-triggered: once per write. */
    EXPECT_OK("MOD to ET", mod(ep, p[0], EPOLLIN | EPOLLET, 3));
    report("ET nothing", ep, 4);
    write(p[1], "a", 1);
    report("ET after write", ep, 4);
    report("ET again", ep, 4);
    write(p[1], "b", 1);
    report("ET second write", ep, 4);
    report("ET again", ep, 4);
    read(p[0], buf, sizeof buf);
    write(p[1], "c", 1);
    report("ET after drain and write", ep, 4);
    EXPECT_OK("MOD re-arms ET", mod(ep, p[0], EPOLLIN | EPOLLET, 4));
    report("ET after MOD", ep, 4);
    read(p[0], buf, sizeof buf);

    /* One-shot: disabled after one report until MOD. */
    EXPECT_OK("MOD to ONESHOT", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 5));
    write(p[1], "d", 1);
    report("ONESHOT first", ep, 4);
    report("ONESHOT disabled", ep, 4);
    write(p[1], "e", 1);
    report("ONESHOT still disabled", ep, 4);
    EXPECT_OK("MOD re-arms ONESHOT", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 6));
    report("ONESHOT re-armed", ep, 4);
    read(p[0], buf, sizeof buf);

    /* Several files; the write end; RDNORM only when asked; HUP always. */
    EXPECT_OK("MOD back to LT", mod(ep, p[0], EPOLLIN | EPOLLRDNORM, 7));
    EXPECT_OK("ADD write end", add(ep, p[1], EPOLLOUT, 8));
    int efd = eventfd(0, EFD_NONBLOCK);
    EXPECT_OK("ADD eventfd", add(ep, efd, EPOLLIN | EPOLLOUT, 9));
    write(p[1], "f", 1);
    report("three files", ep, 4);
    /* maxevents 1 takes turns: three waits see the three files. */
    uint64_t seen = 0;
    for (int i = 0; i < 3; i++) {
        EXPECT_VAL("maxevents 1", epoll_wait(ep, out, 1, 0), 1);
        seen |= 1ull << out[0].data.u64;
    }
    CHECK(seen == ((1 << 7) | (1 << 8) | (1 << 9)));
    EXPECT_OK("DEL write end", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    EXPECT_ERR("DEL again", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL), ENOENT);
    uint64_t one = 1;
    write(efd, &one, 8);
    report("eventfd readable", ep, 4);
    read(efd, &one, 8);
    read(p[0], buf, sizeof buf);

    /* Eventfd edge-triggered: each write is a new event. */
    EXPECT_OK("eventfd ET", mod(ep, efd, EPOLLIN | EPOLLET, 10));
    report("eventfd ET quiet", ep, 4);
    write(efd, &one, 8);
    report("eventfd ET write", ep, 4);
    report("eventfd ET again", ep, 4);
    write(efd, &one, 8);
    report("eventfd ET second write", ep, 4);
    EXPECT_OK("DEL eventfd", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL));

    /* A registration outlives its fd while the description lives on. */
    int d = dup(p[0]);
    write(p[1], "g", 1);
    report("before close", ep, 4);
    close(p[0]);
    report("fd closed, dup open", ep, 4);
    EXPECT_ERR("DEL closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), EBADF);
    EXPECT_ERR("DEL the dup", epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), ENOENT);
    EXPECT_OK("ADD the dup", add(ep, d, EPOLLIN, 11));
    report("both", ep, 4);
    close(d);
    report("all closed", ep, 4);

    /* Hang-up: the write end closes. */
    int q[2];
    pipe(q);
    EXPECT_OK("ADD for HUP", add(ep, q[0], EPOLLIN, 12));
    close(q[1]);
    report("HUP", ep, 4);
    close(q[0]);

    /* Nested: an epoll fd is readable when its instance has events. */
    int inner = epoll_create1(0);
    int r[2];
    pipe(r);
    EXPECT_OK("inner ADD", add(inner, r[0], EPOLLIN, 13));
    EXPECT_OK("outer ADD inner", add(ep, inner, EPOLLIN, 14));
    report("nested quiet", ep, 4);
    struct pollfd pf = {.fd = inner, .events = POLLIN};
    EXPECT_VAL("poll inner quiet", poll(&pf, 1, 0), 0);
    write(r[1], "h", 1);
    report("nested ready", ep, 4);
    EXPECT_VAL("poll inner ready", poll(&pf, 1, 0), 1);
    CHECK(pf.revents == POLLIN);
    report("inner itself", inner, 4);
    EXPECT_ERR("loop", add(inner, ep, EPOLLIN, 15), ELOOP);
    EXPECT_ERR("EXCLUSIVE on epoll", add(inner, epoll_create1(0), EPOLLIN | EPOLLEXCLUSIVE, 16),
               EINVAL);
    /* Nesting deeper than Linux allows. */
    int chain[6];
    chain[0] = epoll_create1(0);
    int deep_err = 0;
    for (int i = 1; i < 6; i++) {
        chain[i] = epoll_create1(0);
        if (add(chain[i], chain[i - 1], EPOLLIN, 20 + i) < 0) {
            deep_err = errno;
            printf("chain stops at depth %d: %s\n", i, errno_name(errno));
            break;
        }
    }
    CHECK(deep_err == ELOOP);

    /* A blocking wait wakes when a file becomes ready. */
    int s[2];
    pipe(s);
    int ep2 = epoll_create1(0);
    add(ep2, s[0], EPOLLIN, 30);
    pid_t child = fork();
    if (child == 0) {
        usleep(50 * 1000);
        write(s[1], "x", 1);
        _exit(0);
    }
    EXPECT_VAL("blocking wait", epoll_wait(ep2, out, 4, -1), 1);
    CHECK(out[0].data.u64 == 30 && out[0].events == EPOLLIN);
    EXPECT_VAL("pwait2 NULL timeout", syscall(SYS_epoll_pwait2, ep2, out, 4, NULL, NULL, 8), 1);
    struct timespec bad = {0, 2000000000};
    EXPECT_ERR("pwait2 bad timespec", syscall(SYS_epoll_pwait2, ep2, out, 4, &bad, NULL, 8),
               EINVAL);
    read(s[0], buf, 1);
    struct timespec ts = {0, 20 * 1000 * 1000};
    EXPECT_VAL("pwait2 timeout", syscall(SYS_epoll_pwait2, ep2, out, 4, &ts, NULL, 8), 0);
    return conformance_done();
}
