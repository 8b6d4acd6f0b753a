//! Host calls the stub platforms (ptrace, systrap) share: the stub master,
//! which forks every stub process, the set-up every stub makes before it
//! runs its own machine code, and the thread and process calls around
//! stubs. Each platform's `sys.rs` keeps what is its own (its stub code,
//! what a stub does with a request); this module must not learn either.
//!
//! The stub master is forked at boot while the sandbox is single-threaded
//! and forks a stub for each request: a `u64` payload, optionally with one
//! fd passed along (`SCM_RIGHTS`), answered with the stub's pid (or
//! `-errno`), in order.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Turns a raw call's "-1 and errno" result into a `Result`.
pub(crate) fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `tgkill(tgid, tid, signo)`.
pub(crate) fn tgkill(tgid: i32, tid: i32, signo: i32) -> io::Result<()> {
    // SAFETY: tgkill takes no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, signo) }).map(drop)
}

/// `kill(pid, SIGKILL)`.
pub(crate) fn kill_process(pid: i32) {
    // SAFETY: kill takes no pointers; failure (already gone) is harmless.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// Pins thread `tid` (0: the caller) to `cpu`.
pub(crate) fn pin_to_cpu(tid: i32, cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET bounds-checks `cpu` against the set's size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: sched_setaffinity reads one cpu_set_t of the size we pass.
    cvt(unsafe { libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &set) }.into())
        .map(drop)
}

/// The CPUs the calling thread may run on.
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes one cpu_set_t of the size we pass.
    cvt(unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) }.into())?;
    let count = usize::try_from(libc::CPU_SETSIZE).unwrap_or(0);
    // SAFETY: CPU_ISSET reads the set in bounds (cpu < CPU_SETSIZE).
    Ok((0..count)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect())
}

/// Forks the stub master: a single-threaded child, holding only the fds in
/// `keep`, that forks a stub for each request, which runs `stub` with the
/// request's payload and fd (owned by the stub); `stub` runs the stub code
/// and does not return (a stub whose set-up failed exits). Returns the
/// sentry's end of the request socket.
///
/// Must be called while the calling process is single-threaded (a forked
/// child of a multi-threaded process may only make async-signal-safe calls).
pub(crate) fn fork_stub_master(
    keep: &[RawFd],
    stub: impl Fn(u64, Option<RawFd>),
) -> io::Result<OwnedFd> {
    let mut socks = [0; 2];
    // SAFETY: socketpair writes two fds to `socks`.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            socks.as_mut_ptr(),
        )
    }
    .into())?;
    // SAFETY: both fds were just created and are owned by nobody else.
    #[allow(clippy::multiple_unsafe_ops_per_block)]
    let (sentry_end, master_end) = unsafe {
        (
            OwnedFd::from_raw_fd(socks[0]),
            OwnedFd::from_raw_fd(socks[1]),
        )
    };
    // SAFETY: the caller guarantees the process is single-threaded, so the
    // child may run arbitrary code.
    let pid = cvt(unsafe { libc::fork() }.into())?;
    if pid == 0 {
        drop(sentry_end);
        stub_master_main(master_end.as_raw_fd(), keep, stub);
    }
    drop(master_end);
    Ok(sentry_end)
}

/// Asks the stub master for a stub, handing it `payload` and `fd`, without
/// waiting: the master answers each request in order, and [`stub_reply`]
/// reads the answer.
pub(crate) fn send_stub_request(
    master: BorrowedFd<'_>,
    payload: u64,
    fd: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    let mut payload = payload.to_ne_bytes();
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    // Room for one SCM_RIGHTS message with one fd, 8-aligned.
    let mut control = [0u64; 4];
    // SAFETY: CMSG_SPACE is arithmetic.
    let space = unsafe { libc::CMSG_SPACE(4) } as usize;
    assert!(space <= size_of_val(&control));
    // SAFETY: an all-zero msghdr is valid; we fill the fields we use.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space;
        // SAFETY: msg_control points to `space` bytes we own, so the first
        // header fits; we write one fd into its data.
        #[allow(clippy::multiple_unsafe_ops_per_block)]
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(4) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd.as_raw_fd());
        }
    }
    // SAFETY: sendmsg reads the header, the iovec and the control data above.
    let sent = unsafe { libc::sendmsg(master.as_raw_fd(), &raw const msg, libc::MSG_NOSIGNAL) };
    cvt(sent as libc::c_long).map(drop)
}

/// Reads the master's answer to the oldest request not yet answered: the
/// new stub's pid.
pub(crate) fn stub_reply(master: BorrowedFd<'_>) -> io::Result<i32> {
    let mut reply = [0u8; 4];
    // SAFETY: recv writes at most 4 bytes to `reply`.
    let n = cvt(
        unsafe { libc::recv(master.as_raw_fd(), reply.as_mut_ptr().cast(), 4, 0) } as libc::c_long,
    )?;
    let pid = i32::from_ne_bytes(reply);
    if n != 4 || pid <= 0 {
        return Err(io::Error::other(format!(
            "stub master could not fork a stub (reply {pid})"
        )));
    }
    Ok(pid)
}

/// Receives one request in the master: the payload and the fd, if any.
///
/// # Safety
/// Only in the stub master.
unsafe fn receive_request(sock: RawFd) -> Option<(u64, Option<RawFd>)> {
    let mut payload = [0u8; 8];
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    let mut control = [0u64; 4];
    // SAFETY: an all-zero msghdr is valid.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    // SAFETY: recvmsg writes into the buffers described by `msg`.
    let n = unsafe { libc::recvmsg(sock, &raw mut msg, 0) };
    if n != 8 {
        return None;
    }
    let payload = u64::from_ne_bytes(payload);
    // SAFETY: the kernel filled msg_control; CMSG_FIRSTHDR checks its length.
    let cmsg = unsafe { libc::CMSG_FIRSTHDR(&raw const msg) };
    if cmsg.is_null() {
        return Some((payload, None));
    }
    // SAFETY: `cmsg` points to a header inside `control`; an SCM_RIGHTS
    // message carries at least one fd in its data.
    #[allow(clippy::multiple_unsafe_ops_per_block)]
    let fd = unsafe {
        if (*cmsg).cmsg_type != libc::SCM_RIGHTS {
            return None;
        }
        std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>())
    };
    Some((payload, Some(fd)))
}

/// The stub master's loop: for each request, fork a stub and reply with its
/// pid (or -errno). Never returns.
// JUSTIFICATION: a forked child's whole life is raw syscalls on its own
// state; one block with one argument reads better than a dozen.
#[allow(clippy::multiple_unsafe_ops_per_block)]
fn stub_master_main(sock: RawFd, keep: &[RawFd], stub: impl Fn(u64, Option<RawFd>)) -> ! {
    // SAFETY: plain syscalls on values we own, in a single-threaded child;
    // failures are reported through the socket or end the master, whose
    // death the sentry sees as a failed request.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // Stubs hold no more privilege than the sentry (which drops every
        // capability: ptrace refuses to attach otherwise), and seccomp
        // filters without CAP_SYS_ADMIN need no_new_privs.
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        drop_capabilities();
        // Stubs are reaped automatically: the master never waits.
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        let mut kept = keep.to_vec();
        kept.push(sock);
        close_all_but(&kept);
        loop {
            let Some((payload, fd)) = receive_request(sock) else {
                libc::_exit(0);
            };
            let pid = libc::fork();
            if pid == 0 {
                libc::close(sock);
                stub(payload, fd);
                libc::_exit(127);
            }
            if let Some(fd) = fd {
                libc::close(fd);
            }
            let reply = if pid < 0 {
                -*libc::__errno_location()
            } else {
                pid
            };
            let bytes = reply.to_ne_bytes();
            libc::send(sock, bytes.as_ptr().cast(), 4, libc::MSG_NOSIGNAL);
        }
    }
}

/// Clears every capability of the calling process.
///
/// # Safety
/// Only for the freshly forked stub master.
unsafe fn drop_capabilities() {
    // struct __user_cap_header_struct and two __user_cap_data_struct (v3).
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let header: [u32; 2] = [LINUX_CAPABILITY_VERSION_3, 0];
    let data = [0u32; 6];
    // SAFETY: capset reads the header and the two data structs.
    unsafe { libc::syscall(libc::SYS_capset, header.as_ptr(), data.as_ptr()) };
}

/// Closes every fd except those in `keep`.
///
/// # Safety
/// Only for a freshly forked child that owns no Rust objects holding fds it
/// still uses.
pub(crate) unsafe fn close_all_but(keep: &[RawFd]) {
    let mut keep: Vec<u32> = keep.iter().map(|fd| fd.unsigned_abs()).collect();
    keep.sort_unstable();
    let mut next = 0u32;
    for fd in keep {
        if fd > next {
            // SAFETY: close_range takes no pointers; the caller vouches for the fds.
            unsafe { libc::syscall(libc::SYS_close_range, next, fd - 1, 0u32) };
        }
        next = fd + 1;
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, next, u32::MAX, 0u32) };
}

unsafe extern "C" {
    /// glibc's offset of the thread's rseq area from the thread pointer.
    static __rseq_offset: isize;
    /// glibc's size of the registered rseq area (0 if none was registered).
    static __rseq_size: u32;
}

/// What every new stub does first, in the master's forked child: die with
/// the sentry, leave the caller's session (terminal signals to its process
/// group must not reach stubs), default every signal's action, and stop
/// glibc's rseq registration (the kernel writes the rseq area on
/// preemption; once the stub unmaps the sentry's memory that write would
/// fault and kill the stub).
///
/// # Safety
/// Only for a freshly forked, single-threaded stub.
// JUSTIFICATION: as for the stub master.
#[allow(clippy::multiple_unsafe_ops_per_block)]
pub(crate) unsafe fn stub_prelude() {
    // SAFETY: a single-threaded child setting up its own state.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        libc::setsid();
        for signo in 1..=64 {
            libc::signal(signo, libc::SIG_DFL);
        }
        if __rseq_size > 0 {
            let thread_pointer: u64;
            std::arch::asm!("mov {}, fs:0", out(reg) thread_pointer);
            let area = thread_pointer.wrapping_add_signed(__rseq_offset as i64);
            const RSEQ_FLAG_UNREGISTER: u64 = 1;
            const RSEQ_SIG: u64 = 0x5305_3053;
            libc::syscall(
                libc::SYS_rseq,
                area,
                u64::from(__rseq_size).max(32),
                RSEQ_FLAG_UNREGISTER,
                RSEQ_SIG,
            );
        }
    }
}

/// Runs a copy of the stub code `[start, start + len)` in a fresh
/// `size`-byte mapping, entering it with `rdi` and `rsi`: the original
/// lives in the sentry's text, which the stub is about to unmap.
///
/// # Safety
/// Only at the end of a stub's set-up; `start..start + len` must be
/// position-independent stub code that never returns.
// JUSTIFICATION: as for the stub master.
#[allow(clippy::multiple_unsafe_ops_per_block)]
pub(crate) unsafe fn run_stub_code(start: *const u8, len: u64, size: u64, rdi: u64, rsi: u64) -> ! {
    // SAFETY: a fresh private mapping, filled with the caller's code and
    // entered; nothing returns to Rust.
    unsafe {
        let page = libc::mmap(
            std::ptr::null_mut(),
            usize::try_from(size).unwrap_or(8192),
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if page == libc::MAP_FAILED {
            libc::_exit(127);
        }
        let len = usize::try_from(len).unwrap_or(0);
        std::ptr::copy_nonoverlapping(start, page.cast::<u8>(), len);
        std::arch::asm!(
            "jmp {entry}",
            entry = in(reg) page,
            in("rdi") rdi,
            in("rsi") rsi,
            options(noreturn)
        );
    }
}
