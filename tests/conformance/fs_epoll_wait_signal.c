// epoll_wait and epoll_pwait under signals: a handled signal ends the
// wait with EINTR even with SA_RESTART; epoll_pwait's mask lets a blocked
// signal in for the wait only, or keeps one out; mask argument errors.
#include "conformance.h"

#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static volatile sig_atomic_t blocked_in_handler;

static void on_usr1(int sig)
{
    (void)sig;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    blocked_in_handler = sigismember(&now, SIGUSR2);
    handled++;
}

static timer_t timer;

/* Sends SIGUSR1 to the process in 50 ms. */
static void arm(void)
{
    struct itimerspec its = {.it_value = {0, 50 * 1000 * 1000}};
    timer_settime(timer, 0, &its, NULL);
}

int main(void)
{
    conformance_init();
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1}, out[2];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    timer_create(CLOCK_MONOTONIC, &sev, &timer);

    /* A handler with SA_RESTART still ends the wait: epoll never restarts. */
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    sigaction(SIGUSR1, &sa, NULL);
    arm();
    EXPECT_ERR("epoll_wait interrupted", epoll_wait(ep, out, 2, -1), EINTR);
    CHECK(handled == 1);
    arm();
    EXPECT_ERR("epoll_wait with timeout interrupted", epoll_wait(ep, out, 2, 5000), EINTR);
    CHECK(handled == 2);
    arm();
    struct timespec long_ts = {5, 0};
    EXPECT_ERR("epoll_pwait2 interrupted",
               syscall(SYS_epoll_pwait2, ep, out, 2, &long_ts, NULL, 8), EINTR);
    CHECK(handled == 3);

    /* Blocked signal, let in by epoll_pwait's mask. */
    sigset_t usr1, empty, usr2, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&empty);
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    arm();
    EXPECT_ERR("epoll_pwait mask lets it in", epoll_pwait(ep, out, 2, 5000, &usr2), EINTR);
    CHECK(handled == 4);
    CHECK(blocked_in_handler == 1);
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1));
    CHECK(!sigismember(&now, SIGUSR2));

    /* Already pending and blocked: the mask delivers it at once. */
    raise(SIGUSR1);
    EXPECT_ERR("pending signal let in", epoll_pwait(ep, out, 2, -1, &empty), EINTR);
    CHECK(handled == 5);

    /* The mask keeps the signal out: the wait times out. */
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    arm();
    EXPECT_VAL("epoll_pwait mask keeps it out", epoll_pwait(ep, out, 2, 150, &usr1), 0);
    CHECK(handled == 6);

    /* Ready beats the signal mask errors only after the mask is read. */
    write(p[1], "x", 1);
    EXPECT_VAL("epoll_pwait ready", epoll_pwait(ep, out, 2, -1, &empty), 1);
    EXPECT_ERR("bad sigsetsize", syscall(SYS_epoll_pwait, ep, out, 2, 0, &empty, 4), EINVAL);
    EXPECT_ERR("bad mask pointer", syscall(SYS_epoll_pwait, ep, out, 2, 0, BAD_PTR, 8), EFAULT);
    EXPECT_ERR("pwait2 bad sigsetsize",
               syscall(SYS_epoll_pwait2, ep, out, 2, NULL, &empty, 16), EINVAL);
    EXPECT_VAL("NULL mask ignores size", syscall(SYS_epoll_pwait, ep, out, 2, 0, NULL, 3), 1);
    return conformance_done();
}
