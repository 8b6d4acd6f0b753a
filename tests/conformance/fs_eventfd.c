// eventfd(2) and eventfd2(2): counter and semaphore semantics, flags,
// short buffers, overflow, blocking and non-blocking reads and writes,
// poll readiness, the /proc fd link and fdinfo.
#include "conformance.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static short revents(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

static void *late_writer(void *arg)
{
    int fd = *(int *)arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t v = 7;
    write(fd, &v, sizeof v);
    return NULL;
}

static void *late_reader(void *arg)
{
    int fd = *(int *)arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t v;
    read(fd, &v, sizeof v);
    return NULL;
}

static void on_alarm(int sig) { (void)sig; }

int main(void)
{
    conformance_init();
    uint64_t v = 0;

    EXPECT_ERR("eventfd2 bad flags", syscall(SYS_eventfd2, 0, 1 << 5), EINVAL);
    EXPECT_ERR("eventfd2 O_RDWR flag", syscall(SYS_eventfd2, 0, O_RDWR), EINVAL);

    int fd = syscall(SYS_eventfd, 3);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) == 0);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
    EXPECT_VAL("read initial", read(fd, &v, 8), 8);
    CHECK(v == 3);
    CHECK(revents(fd, POLLIN | POLLOUT) == POLLOUT);

    /* Short buffers and the forbidden value. */
    char small[7];
    EXPECT_ERR("read 7 bytes", read(fd, small, sizeof small), EINVAL);
    EXPECT_ERR("write 7 bytes", write(fd, small, sizeof small), EINVAL);
    v = UINT64_MAX;
    EXPECT_ERR("write UINT64_MAX", write(fd, &v, 8), EINVAL);
    EXPECT_ERR("write bad ptr", syscall(SYS_write, fd, BAD_PTR, 8), EFAULT);
    EXPECT_VAL("lseek is a no-op", lseek(fd, 5, SEEK_SET), 0);

    /* Counter: writes add, a read takes it all; a longer buffer reads 8. */
    v = 5;
    EXPECT_VAL("write 5", write(fd, &v, 8), 8);
    v = 6;
    EXPECT_VAL("write 6", write(fd, &v, 8), 8);
    char big[16] = {0};
    EXPECT_VAL("read 16-byte buffer", read(fd, big, sizeof big), 8);
    memcpy(&v, big, 8);
    CHECK(v == 11);
    EXPECT_VAL("write 0", write(fd, &(uint64_t){0}, 8), 8);
    CHECK(revents(fd, POLLIN) == 0);
    close(fd);

    /* Non-blocking: empty read and a full counter are EAGAIN. */
    fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    EXPECT_ERR("read empty nonblock", read(fd, &v, 8), EAGAIN);
    EXPECT_ERR("read bad ptr empty", syscall(SYS_read, fd, BAD_PTR, 8), EAGAIN);
    v = 2;
    write(fd, &v, 8);
    EXPECT_ERR("read bad ptr", syscall(SYS_read, fd, BAD_PTR, 8), EFAULT);
    CHECK(revents(fd, POLLIN) == 0);
    v = UINT64_MAX - 1;
    EXPECT_VAL("write max-1", write(fd, &v, 8), 8);
    CHECK(revents(fd, POLLIN | POLLOUT) == POLLIN);
    v = 1;
    EXPECT_ERR("write past max nonblock", write(fd, &v, 8), EAGAIN);
    v = 0;
    EXPECT_VAL("write 0 at max", write(fd, &v, 8), 8);
    EXPECT_VAL("read max-1", read(fd, &v, 8), 8);
    CHECK(v == UINT64_MAX - 1);
    v = UINT64_MAX - 2;
    EXPECT_VAL("write max-2", write(fd, &v, 8), 8);
    CHECK(revents(fd, POLLIN | POLLOUT) == (POLLIN | POLLOUT));
    read(fd, &v, 8);
    close(fd);

    /* Semaphore: each read takes 1. */
    fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    for (int i = 0; i < 3; i++) {
        v = 0;
        EXPECT_VAL("semaphore read", read(fd, &v, 8), 8);
        CHECK(v == 1);
    }
    EXPECT_ERR("semaphore empty", read(fd, &v, 8), EAGAIN);
    close(fd);

    /* A blocking read waits for a writer; a blocking write for a reader. */
    fd = eventfd(0, 0);
    pthread_t t;
    pthread_create(&t, NULL, late_writer, &fd);
    v = 0;
    EXPECT_VAL("blocking read", read(fd, &v, 8), 8);
    CHECK(v == 7);
    pthread_join(t, NULL);
    v = UINT64_MAX - 1;
    write(fd, &v, 8);
    pthread_create(&t, NULL, late_reader, &fd);
    v = 1;
    EXPECT_VAL("blocking write", write(fd, &v, 8), 8);
    pthread_join(t, NULL);
    EXPECT_VAL("read after blocking write", read(fd, &v, 8), 8);
    CHECK(v == 1);

    /* A signal interrupts a blocking read: EINTR without SA_RESTART. */
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerspec its = {.it_value = {0, 50 * 1000 * 1000}};
    timer_t timer;
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    timer_create(CLOCK_MONOTONIC, &sev, &timer);
    timer_settime(timer, 0, &its, NULL);
    EXPECT_ERR("read interrupted", read(fd, &v, 8), EINTR);
    /* With SA_RESTART the read resumes and gets the late write. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    timer_settime(timer, 0, &its, NULL);
    pthread_create(&t, NULL, late_writer, &fd);
    struct timespec tiny = {0, 1000 * 1000};
    nanosleep(&tiny, NULL);
    EXPECT_VAL("read restarted", read(fd, &v, 8), 8);
    CHECK(v == 7);
    pthread_join(t, NULL);

    /* An anonymous inode, named in /proc/self/fd and fdinfo. */
    struct stat st;
    EXPECT_OK("fstat", fstat(fd, &st));
    CHECK((st.st_mode & S_IFMT) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    char path[64], link[64] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    CHECK(readlink(path, link, sizeof link - 1) > 0);
    CHECK(strcmp(link, "anon_inode:[eventfd]") == 0);
    v = 0x2a;
    write(fd, &v, 8);
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int info = open(path, O_RDONLY);
    char text[512] = {0};
    CHECK(read(info, text, sizeof text - 1) > 0);
    CHECK(strstr(text, "eventfd-count:               2a\n") != NULL);
    close(info);
    close(fd);
    return conformance_done();
}
