//! Signals, from `arch/x86/include/uapi/asm/signal.h`,
//! `include/uapi/asm-generic/signal-defs.h` and
//! `include/uapi/asm-generic/siginfo.h`.

#![allow(missing_docs)]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

pub const SIGHUP: u32 = 1;
pub const SIGINT: u32 = 2;
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGBUS: u32 = 7;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGUSR1: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGUSR2: u32 = 12;
pub const SIGPIPE: u32 = 13;
pub const SIGALRM: u32 = 14;
pub const SIGTERM: u32 = 15;
pub const SIGSTKFLT: u32 = 16;
pub const SIGCHLD: u32 = 17;
pub const SIGCONT: u32 = 18;
pub const SIGSTOP: u32 = 19;
pub const SIGTSTP: u32 = 20;
pub const SIGTTIN: u32 = 21;
pub const SIGTTOU: u32 = 22;
pub const SIGURG: u32 = 23;
pub const SIGXCPU: u32 = 24;
pub const SIGXFSZ: u32 = 25;
pub const SIGVTALRM: u32 = 26;
pub const SIGPROF: u32 = 27;
pub const SIGWINCH: u32 = 28;
pub const SIGIO: u32 = 29;
pub const SIGPWR: u32 = 30;
pub const SIGSYS: u32 = 31;

/// The names of the standard signals, `SIGHUP` (1) to `SIGSYS` (31).
const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// The name of standard signal `signo` (`SIGKILL` for 9), `None` for the
/// real-time signals and numbers that are no signal.
pub fn name(signo: u64) -> Option<&'static str> {
    NAMES
        .get(usize::try_from(signo.checked_sub(1)?).ok()?)
        .copied()
}
pub const SIGRTMIN: u32 = 32;
/// `_NSIG`: signals are numbered 1..=64.
pub const SIGRTMAX: u32 = 64;
/// The size of the kernel's `sigset_t`, the only `sigsetsize` accepted.
pub const SIGSET_SIZE: u64 = 8;

pub const SIG_DFL: u64 = 0;
pub const SIG_IGN: u64 = 1;

pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
pub const SA_SIGINFO: u64 = 0x0000_0004;
pub const SA_UNSUPPORTED: u64 = 0x0000_0400;
pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;
pub const SA_RESTORER: u64 = 0x0400_0000;
pub const SA_ONSTACK: u64 = 0x0800_0000;
pub const SA_RESTART: u64 = 0x1000_0000;
pub const SA_NODEFER: u64 = 0x4000_0000;
pub const SA_RESETHAND: u64 = 0x8000_0000;

pub const SIG_BLOCK: u32 = 0;
pub const SIG_UNBLOCK: u32 = 1;
pub const SIG_SETMASK: u32 = 2;

pub const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
pub const SS_AUTODISARM: u32 = 1 << 31;
pub const MINSIGSTKSZ: u64 = 2048;

// si_code values
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_QUEUE: i32 = -1;
pub const SI_TIMER: i32 = -2;
pub const SI_TKILL: i32 = -6;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const BUS_ADRALN: i32 = 1;
pub const BUS_ADRERR: i32 = 2;
pub const BUS_OBJERR: i32 = 3;

/// The kernel's `struct sigaction` for `rt_sigaction(2)` on x86-64.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}
const _: () = assert!(core::mem::size_of::<SigAction>() == 32);

/// `stack_t`, for `sigaltstack(2)`.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct StackT {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub _pad: u32,
    pub ss_size: u64,
}
const _: () = assert!(core::mem::size_of::<StackT>() == 24);

/// `siginfo_t`: the three common fields, then the union as raw words.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SigInfo {
    pub si_signo: i32,
    pub si_errno: i32,
    pub si_code: i32,
    pub _pad: i32,
    /// The union; for faults, `fields[0]` is `si_addr`.
    pub fields: [u64; 14],
}
const _: () = assert!(core::mem::size_of::<SigInfo>() == 128);

/// The bit for signal `sig` (1..=64) in a `sigset_t`.
pub const fn sigmask(sig: u32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
pub const UNBLOCKABLE: u64 = sigmask(SIGKILL) | sigmask(SIGSTOP);

/// x86-64 `struct sigcontext` (`arch/x86/include/uapi/asm/sigcontext.h`):
/// the registers a signal frame saves.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SigContext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    /// Where the FPU state (an `fxsave` area) was saved, or 0.
    pub fpstate: u64,
    pub reserved1: [u64; 8],
}
const _: () = assert!(core::mem::size_of::<SigContext>() == 256);

/// The kernel's `struct ucontext` on x86-64.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct UContext {
    pub uc_flags: u64,
    pub uc_link: u64,
    pub uc_stack: StackT,
    pub uc_mcontext: SigContext,
    pub uc_sigmask: u64,
}
const _: () = assert!(core::mem::size_of::<UContext>() == 304);

/// `struct rt_sigframe` (`arch/x86/include/asm/sigframe.h`): what a handler
/// finds on its stack. The FPU state follows, 64-byte aligned, below it.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct RtSigFrame {
    /// The return address: the `sa_restorer` that calls `rt_sigreturn`.
    pub pretcode: u64,
    pub uc: UContext,
    pub info: SigInfo,
}
const _: () = assert!(core::mem::size_of::<RtSigFrame>() == 440);

/// `uc_flags`: the frame saved `ss` (`UC_SIGCONTEXT_SS`), and `rt_sigreturn`
/// should restore it strictly (`UC_STRICT_RESTORE_SS`).
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;
/// `uc_flags`: the frame's FPU state is in xsave format (`UC_FP_XSTATE`).
pub const UC_FP_XSTATE: u64 = 0x1;

// arch/x86/include/uapi/asm/sigcontext.h: the FPU state of a signal frame.
/// The legacy `fxsave` area's size.
pub const FXSAVE_SIZE: usize = 512;
/// Where the legacy area's software-reserved bytes (`FpxSwBytes`) start.
pub const FX_SW_BYTES_OFFSET: usize = 464;
/// The xsave header, right after the legacy area: `xstate_bv`, `xcomp_bv`,
/// reserved bytes.
pub const XSAVE_HEADER_SIZE: usize = 64;
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// Follows the xsave area in a frame (`FP_XSTATE_MAGIC2_SIZE` bytes).
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
pub const FP_XSTATE_MAGIC2_SIZE: usize = 4;
/// `XFEATURE_MASK_FPSSE`: the x87 and SSE components, the legacy area's.
pub const XFEATURE_MASK_FPSSE: u64 = 0x3;

/// `struct _fpx_sw_bytes`: in the legacy area's software-reserved bytes,
/// the kernel's description of the xsave area that follows.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct FpxSwBytes {
    pub magic1: u32,
    /// The xsave area's size plus `FP_XSTATE_MAGIC2_SIZE`.
    pub extended_size: u32,
    /// The components the area may hold.
    pub xfeatures: u64,
    /// The xsave area's size (legacy area and header included).
    pub xstate_size: u32,
    pub padding: [u32; 7],
}
const _: () = assert!(core::mem::size_of::<FpxSwBytes>() == 48);

/// `struct signalfd_siginfo` (`include/uapi/linux/signalfd.h`): what a
/// read of a signalfd returns per signal.
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
pub struct SignalfdSiginfo {
    pub ssi_signo: u32,
    pub ssi_errno: i32,
    pub ssi_code: i32,
    pub ssi_pid: u32,
    pub ssi_uid: u32,
    pub ssi_fd: i32,
    pub ssi_tid: u32,
    pub ssi_band: u32,
    pub ssi_overrun: u32,
    pub ssi_trapno: u32,
    pub ssi_status: i32,
    pub ssi_int: i32,
    pub ssi_ptr: u64,
    pub ssi_utime: u64,
    pub ssi_stime: u64,
    pub ssi_addr: u64,
    pub ssi_addr_lsb: u16,
    pub _pad2: u16,
    pub ssi_syscall: i32,
    pub ssi_call_addr: u64,
    pub ssi_arch: u32,
    pub _pad: [u8; 28],
}
const _: () = assert!(core::mem::size_of::<SignalfdSiginfo>() == 128);

// include/uapi/linux/signalfd.h
pub const SFD_CLOEXEC: u32 = 0o2_000_000;
pub const SFD_NONBLOCK: u32 = 0o4_000;
