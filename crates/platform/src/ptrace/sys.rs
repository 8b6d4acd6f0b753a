//! Host calls of the ptrace platform: ptrace requests, waits, the stub's
//! machine code, and forking stubs. All of this platform's `unsafe` is here.
//!
//! Every request number the platform uses is in the table below; every
//! "-1 and errno" result becomes a `Result` in [`cvt`].

#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

use abi::signal::SigInfo;

use crate::Registers;
use crate::host::{self, cvt};
pub(super) use crate::host::{allowed_cpus, kill_process, pin_to_cpu, tgkill};

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

/// The calling thread's host tid.
pub(super) fn gettid() -> i32 {
    // SAFETY: gettid cannot fail.
    unsafe { libc::gettid() }
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

/// Forks the stub master (see [`crate::host`]): each stub it forks keeps
/// only `memory_fd` and runs the stub code at `stub_base`.
///
/// Must be called while the calling process is single-threaded (a forked
/// child of a multi-threaded process may only make async-signal-safe calls).
pub(super) fn fork_stub_master(memory_fd: RawFd, stub_base: u64) -> io::Result<OwnedFd> {
    debug_assert!(stub_len() <= 4096);
    host::fork_stub_master(&[memory_fd], move |_, _| stub_main(memory_fd, stub_base))
}

/// Asks the stub master for a new stub and returns its pid.
pub(super) fn request_stub(master: BorrowedFd<'_>) -> io::Result<i32> {
    host::send_stub_request(master, 0, None)?;
    host::stub_reply(master)
}

/// A new stub, in the child of the master: shed everything but the
/// MemoryFile fd, then run the stub code, which never returns.
fn stub_main(memory_fd: RawFd, stub_base: u64) -> ! {
    // SAFETY: a freshly forked, single-threaded stub that owns no Rust
    // objects holding fds.
    unsafe { host::close_all_but(&[memory_fd]) };
    // SAFETY: as above.
    unsafe { host::stub_prelude() };
    let mut none = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: sigemptyset and sigprocmask read and write the set we own.
    #[allow(clippy::multiple_unsafe_ops_per_block)]
    unsafe {
        libc::sigemptyset(none.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, none.as_ptr(), std::ptr::null_mut());
    }
    // SAFETY: the stub code is position-independent and never returns; its
    // set-up is done.
    unsafe {
        host::run_stub_code(
            &raw const carapace_stub_start,
            stub_len(),
            4096,
            stub_base,
            0,
        )
    }
}
