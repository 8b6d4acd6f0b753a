//! Host calls of the ptrace platform: ptrace requests, waits, the stub's
//! machine code, and forking stubs. All of this platform's `unsafe` is here.
//!
//! Every request number the platform uses is in the table below; every
//! "-1 and errno" result becomes a `Result` in [`cvt`].

#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use abi::signal::SigInfo;

use crate::Registers;

// include/uapi/linux/ptrace.h and arch/x86/include/uapi/asm/ptrace-abi.h
pub(super) const PTRACE_CONT: u64 = 7;
pub(super) const PTRACE_GETREGS: u64 = 12;
pub(super) const PTRACE_SETREGS: u64 = 13;
pub(super) const PTRACE_GETFPREGS: u64 = 14;
pub(super) const PTRACE_SETFPREGS: u64 = 15;
pub(super) const PTRACE_DETACH: u64 = 17;
pub(super) const PTRACE_SYSEMU: u64 = 31;
pub(super) const PTRACE_GETSIGINFO: u64 = 0x4202;
pub(super) const PTRACE_GETREGSET: u64 = 0x4204;
pub(super) const PTRACE_SETREGSET: u64 = 0x4205;
/// `NT_X86_XSTATE` (`include/uapi/linux/elf.h`): the regset of the xsave area.
pub(super) const NT_X86_XSTATE: u64 = 0x202;
pub(super) const PTRACE_SEIZE: u64 = 0x4206;
pub(super) const PTRACE_INTERRUPT: u64 = 0x4207;
pub(super) const PTRACE_GET_SYSCALL_INFO: u64 = 0x420e;
pub(super) const PTRACE_O_TRACESYSGOOD: u64 = 1;
pub(super) const PTRACE_O_EXITKILL: u64 = 1 << 20;
pub(super) const PTRACE_EVENT_STOP: i32 = 128;
pub(super) const PTRACE_SYSCALL_INFO_ENTRY: u8 = 1;
/// `AUDIT_ARCH_X86_64` (`include/uapi/linux/audit.h`): the only syscall ABI served.
pub(super) const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// The `user_fpregs_struct` (`fxsave` layout) size.
pub(super) const FXSAVE_SIZE: usize = 512;

/// Turns a raw syscall's "-1 and errno" result into a `Result`.
fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// One ptrace request whose result is only success or failure.
fn ptrace(request: u64, tid: i32, addr: u64, data: u64) -> io::Result<()> {
    // SAFETY: the requests made through this helper (SEIZE, CONT, SYSEMU)
    // take no pointers; a bad tid is an error, not undefined behaviour.
    cvt(unsafe { libc::syscall(libc::SYS_ptrace, request, tid, addr, data) }).map(drop)
}

/// `PTRACE_SEIZE` with `options`.
pub(super) fn seize(tid: i32, options: u64) -> io::Result<()> {
    ptrace(PTRACE_SEIZE, tid, 0, options)
}

/// Resumes a stopped tracee with `request` (`PTRACE_CONT`, `PTRACE_SYSEMU`),
/// suppressing any pending signal.
pub(super) fn resume(request: u64, tid: i32) -> io::Result<()> {
    ptrace(request, tid, 0, 0)
}

/// `PTRACE_GETREGS`.
pub(super) fn get_regs(tid: i32, regs: &mut Registers) -> io::Result<()> {
    // SAFETY: `Registers` has the layout of `struct user_regs_struct`, which
    // is what the kernel writes to `data`.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_GETREGS,
            tid,
            0,
            std::ptr::from_mut(regs),
        )
    })
    .map(drop)
}

/// `PTRACE_SETREGS`.
pub(super) fn set_regs(tid: i32, regs: &Registers) -> io::Result<()> {
    // SAFETY: the kernel reads one `struct user_regs_struct` from `data`,
    // which `Registers` is laid out as.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_SETREGS,
            tid,
            0,
            std::ptr::from_ref(regs),
        )
    })
    .map(drop)
}

/// `PTRACE_GETFPREGS`: the `fxsave` area.
pub(super) fn get_fpregs(tid: i32) -> io::Result<Vec<u8>> {
    let mut area = vec![0u8; FXSAVE_SIZE];
    // SAFETY: the kernel writes FXSAVE_SIZE bytes to `data`, which points to
    // a buffer of exactly that size.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_GETFPREGS,
            tid,
            0,
            area.as_mut_ptr(),
        )
    })?;
    Ok(area)
}

/// `PTRACE_SETFPREGS` from an `fxsave` area of [`FXSAVE_SIZE`] bytes.
pub(super) fn set_fpregs(tid: i32, area: &[u8; FXSAVE_SIZE]) -> io::Result<()> {
    // SAFETY: the kernel reads FXSAVE_SIZE bytes from `data`.
    cvt(unsafe { libc::syscall(libc::SYS_ptrace, PTRACE_SETFPREGS, tid, 0, area.as_ptr()) })
        .map(drop)
}

/// `PTRACE_GETREGSET` of `NT_X86_XSTATE`: the thread's xsave area, as
/// long as the kernel makes it (at most `max` bytes).
pub(super) fn get_xstate(tid: i32, max: usize) -> io::Result<Vec<u8>> {
    let mut area = vec![0u8; max];
    let mut iov = libc::iovec {
        iov_base: area.as_mut_ptr().cast(),
        iov_len: area.len(),
    };
    // SAFETY: the kernel writes at most `iov_len` bytes to `iov_base`, a
    // buffer of that size, and stores the length it wrote in `iov_len`.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_GETREGSET,
            tid,
            NT_X86_XSTATE,
            std::ptr::from_mut(&mut iov),
        )
    })?;
    area.truncate(iov.iov_len);
    Ok(area)
}

/// `PTRACE_SETREGSET` of `NT_X86_XSTATE` from an xsave area as
/// [`get_xstate`] returned it.
pub(super) fn set_xstate(tid: i32, area: &[u8]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: area.as_ptr().cast_mut().cast(),
        iov_len: area.len(),
    };
    // SAFETY: the kernel only reads `iov_len` bytes from `iov_base`, the
    // whole of `area`.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_SETREGSET,
            tid,
            NT_X86_XSTATE,
            std::ptr::from_mut(&mut iov),
        )
    })
    .map(drop)
}

/// `PTRACE_GETSIGINFO`.
pub(super) fn get_siginfo(tid: i32) -> io::Result<SigInfo> {
    let mut info = SigInfo::default();
    // SAFETY: the kernel writes one 128-byte `siginfo_t`, the size of `SigInfo`.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_GETSIGINFO,
            tid,
            0,
            std::ptr::from_mut(&mut info),
        )
    })?;
    Ok(info)
}

/// The op and arch of the current syscall stop (`PTRACE_GET_SYSCALL_INFO`).
pub(super) fn syscall_op_arch(tid: i32) -> io::Result<(u8, u32)> {
    // struct ptrace_syscall_info: op (u8), pad[3], arch (u32), then more we
    // do not need; the kernel copies at most `addr` bytes.
    let mut head = [0u8; 8];
    // SAFETY: the kernel writes at most `head.len()` bytes to `data`.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_ptrace,
            PTRACE_GET_SYSCALL_INFO,
            tid,
            head.len(),
            head.as_mut_ptr(),
        )
    })?;
    let arch = u32::from_ne_bytes([head[4], head[5], head[6], head[7]]);
    Ok((head[0], arch))
}

/// How a waited-for tracee changed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WaitStatus {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Killed(i32),
    /// It stopped: the stop signal and the ptrace event (`status >> 16`).
    Stopped { signo: i32, event: i32 },
}

/// `waitpid(tid, __WALL | __WNOTHREAD)`: waits only for `tid`, only as this
/// thread's tracee, so no other thread's stops are ever stolen.
pub(super) fn wait(tid: i32) -> io::Result<WaitStatus> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes one int to `status`.
        let ret = unsafe { libc::waitpid(tid, &mut status, libc::__WALL | libc::__WNOTHREAD) };
        if ret >= 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    Ok(if libc::WIFEXITED(status) {
        WaitStatus::Exited(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        WaitStatus::Killed(libc::WTERMSIG(status))
    } else {
        WaitStatus::Stopped {
            signo: libc::WSTOPSIG(status),
            event: status >> 16,
        }
    })
}

/// `tgkill(tgid, tid, signo)`.
pub(super) fn tgkill(tgid: i32, tid: i32, signo: i32) -> io::Result<()> {
    // SAFETY: tgkill takes no pointers.
    cvt(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, signo) }).map(drop)
}

/// `kill(pid, SIGKILL)`.
pub(super) fn kill_process(pid: i32) {
    // SAFETY: kill takes no pointers; failure (already gone) is harmless.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

/// The calling thread's host tid.
pub(super) fn gettid() -> i32 {
    // SAFETY: gettid cannot fail.
    unsafe { libc::gettid() }
}

/// Pins thread `tid` (0: the caller) to `cpu`.
pub(super) fn pin_to_cpu(tid: i32, cpu: usize) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET bounds-checks `cpu` against the set's size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: sched_setaffinity reads one cpu_set_t of the size we pass.
    cvt(unsafe { libc::sched_setaffinity(tid, size_of::<libc::cpu_set_t>(), &set) }.into())
        .map(drop)
}

/// The CPUs the calling thread may run on.
pub(super) fn allowed_cpus() -> io::Result<Vec<usize>> {
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

// The stub: position-independent code with no libc and no stack. Entered
// (from the forked child) with %rdi = the address it must live at. It maps a
// page there, copies itself into it, jumps to the copy, unmaps everything
// else of the address space, and stops itself with SIGSTOP for the tracer.
// After that the tracer only ever points %rip at `stub_syscall` to inject a
// syscall; the `int3` after it hands control back.
std::arch::global_asm!(
    ".pushsection .text.carapace_stub, \"ax\"",
    ".globl carapace_stub_start",
    ".globl carapace_stub_syscall",
    ".globl carapace_stub_end",
    "carapace_stub_start:",
    "mov %rdi, %r12",
    // mmap(r12, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)
    "mov $9, %eax",
    "mov $4096, %esi",
    "mov $7, %edx",
    "mov $0x32, %r10d",
    "mov $-1, %r8",
    "xor %r9d, %r9d",
    "syscall",
    "lea carapace_stub_start(%rip), %rsi",
    "mov %r12, %rdi",
    "mov $(carapace_stub_end - carapace_stub_start), %ecx",
    "rep movsb",
    // mprotect(r12, 4096, PROT_READ|PROT_EXEC)
    "mov $10, %eax",
    "mov %r12, %rdi",
    "mov $4096, %esi",
    "mov $5, %edx",
    "syscall",
    "lea (carapace_stub_relocated - carapace_stub_start)(%r12), %rax",
    "jmp *%rax",
    "carapace_stub_relocated:",
    // munmap(0, r12)
    "xor %edi, %edi",
    "mov %r12, %rsi",
    "mov $11, %eax",
    "syscall",
    // munmap(r12 + 4096, TASK_SIZE - r12 - 4096)
    "lea 4096(%r12), %rdi",
    "mov $0x7ffffffff000, %rsi",
    "sub %rdi, %rsi",
    "mov $11, %eax",
    "syscall",
    // kill(getpid(), SIGSTOP)
    "mov $39, %eax",
    "syscall",
    "mov %eax, %edi",
    "mov $19, %esi",
    "mov $62, %eax",
    "syscall",
    "carapace_stub_syscall:",
    "syscall",
    "int3",
    "jmp carapace_stub_syscall",
    // An injected clone of a new stub thread enters here: the parent
    // thread traps back to its tracer; the child, untraced until a new
    // tracer seizes it, waits in pause(2) (it has no stack and needs none).
    ".globl carapace_stub_clone",
    "carapace_stub_clone:",
    "syscall",
    "test %eax, %eax",
    "jz 2f",
    "int3",
    "jmp carapace_stub_syscall",
    "2:",
    "mov $34, %eax",
    "syscall",
    "jmp 2b",
    "carapace_stub_end:",
    ".popsection",
    options(att_syntax),
);

unsafe extern "C" {
    static carapace_stub_start: u8;
    static carapace_stub_syscall: u8;
    static carapace_stub_clone: u8;
    static carapace_stub_end: u8;
    /// glibc's offset of the thread's rseq area from the thread pointer.
    static __rseq_offset: isize;
    /// glibc's size of the registered rseq area (0 if none was registered).
    static __rseq_size: u32;
}

/// The offset of the injected-syscall instruction within the stub page.
pub(super) fn stub_syscall_offset() -> u64 {
    let start = &raw const carapace_stub_start;
    let syscall = &raw const carapace_stub_syscall;
    syscall as u64 - start as u64
}

/// The offset of the clone entry (see the stub code) within the stub page.
pub(super) fn stub_clone_offset() -> u64 {
    let start = &raw const carapace_stub_start;
    let clone = &raw const carapace_stub_clone;
    clone as u64 - start as u64
}

/// The stub code's length.
fn stub_len() -> u64 {
    let start = &raw const carapace_stub_start;
    let end = &raw const carapace_stub_end;
    end as u64 - start as u64
}

/// Forks the stub master: a single-threaded child that forks stubs on request.
/// Returns the sentry's end of the request socket.
///
/// Must be called while the calling process is single-threaded (a forked
/// child of a multi-threaded process may only make async-signal-safe calls).
pub(super) fn fork_stub_master(memory_fd: RawFd, stub_base: u64) -> io::Result<OwnedFd> {
    debug_assert!(stub_len() <= 4096);
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
        stub_master_main(master_end.as_raw_fd(), memory_fd, stub_base);
    }
    drop(master_end);
    Ok(sentry_end)
}

/// Asks the stub master for a new stub and returns its pid.
pub(super) fn request_stub(master: BorrowedFd<'_>) -> io::Result<i32> {
    let request = [1u8];
    // SAFETY: send reads one byte from `request`.
    cvt(unsafe {
        libc::send(
            master.as_raw_fd(),
            request.as_ptr().cast(),
            1,
            libc::MSG_NOSIGNAL,
        )
    } as libc::c_long)?;
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

/// The stub master's loop: for each request byte, fork a stub and reply with
/// its pid (or -errno). Never returns.
// JUSTIFICATION: a forked child's whole life is raw syscalls on its own
// state; one block with one argument reads better than a dozen.
#[allow(clippy::multiple_unsafe_ops_per_block)]
fn stub_master_main(sock: RawFd, memory_fd: RawFd, stub_base: u64) -> ! {
    // SAFETY: plain syscalls on values we own, in a single-threaded child;
    // failures are reported through the socket or end the master, whose
    // death the sentry sees as a failed request.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // Stubs must hold no more privilege than the sentry that traces
        // them (which drops every capability), or ptrace refuses to attach.
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        drop_capabilities();
        // Stubs are reaped automatically: the master never waits.
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        let (low, high) = if sock < memory_fd {
            (sock, memory_fd)
        } else {
            (memory_fd, sock)
        };
        close_all_but(low, high);
        loop {
            let mut request = [0u8; 1];
            let n = libc::recv(sock, request.as_mut_ptr().cast(), 1, 0);
            if n <= 0 {
                libc::_exit(0);
            }
            let pid = libc::fork();
            if pid == 0 {
                stub_main(sock, memory_fd, stub_base);
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

/// Closes every fd except `low` and `high` (`low < high`).
///
/// # Safety
/// Only for a freshly forked child that owns no Rust objects holding fds it
/// still uses.
#[allow(clippy::multiple_unsafe_ops_per_block)]
unsafe fn close_all_but(low: RawFd, high: RawFd) {
    let (low, high) = (low.unsigned_abs(), high.unsigned_abs());
    // SAFETY: close_range takes no pointers; the caller vouches for the fds.
    unsafe {
        if low > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, low - 1, 0u32);
        }
        if high > low + 1 {
            libc::syscall(libc::SYS_close_range, low + 1, high - 1, 0u32);
        }
        libc::syscall(libc::SYS_close_range, high + 1, u32::MAX, 0u32);
    }
}

/// A new stub, in the child of the master: shed everything but the
/// MemoryFile fd, then run the stub code, which never returns.
// JUSTIFICATION: as for the stub master.
#[allow(clippy::multiple_unsafe_ops_per_block)]
fn stub_main(sock: RawFd, memory_fd: RawFd, stub_base: u64) -> ! {
    // SAFETY: a single-threaded child setting up its own state; nothing
    // here returns to Rust code that could observe it.
    unsafe {
        libc::close(sock);
        close_all_but(memory_fd, memory_fd + 1);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // Terminal signals to the caller's process group must not reach stubs.
        libc::setsid();
        for signo in 1..=64 {
            libc::signal(signo, libc::SIG_DFL);
        }
        let mut all = MaybeUninit::<libc::sigset_t>::zeroed();
        libc::sigemptyset(all.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, all.as_ptr(), std::ptr::null_mut());
        // The kernel writes the rseq area on preemption; once the stub unmaps
        // the sentry's memory that write would fault and kill the stub.
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
        // Run a copy of the stub code (the original lives in the sentry's
        // text, which the stub is about to unmap).
        let page = libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if page == libc::MAP_FAILED {
            libc::_exit(127);
        }
        let len = usize::try_from(stub_len()).unwrap_or(0);
        std::ptr::copy_nonoverlapping(&raw const carapace_stub_start, page.cast::<u8>(), len);
        std::arch::asm!("jmp {entry}", entry = in(reg) page, in("rdi") stub_base, options(noreturn));
    }
}
