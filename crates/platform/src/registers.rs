//! The general registers of a program thread.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// The general registers of an x86-64 thread, laid out as the host's
/// `struct user_regs_struct` so ptrace can read and write it whole.
///
/// The FPU/xsave area is not here: it is loaded only when the kernel needs it
/// ([`crate::Context::fpu_state`]).
#[repr(C)]
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[allow(missing_docs)]
pub struct Registers {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}
const _: () = assert!(core::mem::size_of::<Registers>() == 27 * 8);

/// `__USER_CS` (`arch/x86/include/asm/segment.h`): the 64-bit user code segment.
pub(crate) const USER_CS: u64 = 0x33;
/// `__USER_DS`: the user data/stack segment.
pub(crate) const USER_DS: u64 = 0x2b;
/// `X86_EFLAGS_IF`, plus the always-one bit 1: the flags a new thread starts with.
const INITIAL_EFLAGS: u64 = 0x202;

impl Registers {
    /// The state of a thread about to run its first instruction at `rip`
    /// with its stack at `rsp`, as `execve` leaves it: 64-bit segments,
    /// interrupts enabled, every general register zero.
    pub fn new_user(rip: u64, rsp: u64) -> Registers {
        Registers {
            rip,
            rsp,
            cs: USER_CS,
            ss: USER_DS,
            eflags: INITIAL_EFLAGS,
            ..Registers::default()
        }
    }

    /// The syscall number of an [`crate::Event::Syscall`].
    pub fn syscall_nr(&self) -> u64 {
        self.orig_rax
    }

    /// The six syscall arguments, in order.
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }
}
