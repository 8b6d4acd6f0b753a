//! System call handlers, one file per Linux area, and the table that maps
//! each number to its handler.
//!
//! A handler is `fn sys_<name>(task: &mut Task, args: &SyscallArgs) ->
//! SyscallResult`. It validates every argument (the program is hostile),
//! touches program memory only through the task's memory manager, and returns
//! the value for `rax` or an [`Errno`]. Restart codes
//! ([`Errno::ERESTARTSYS`] and friends) are turned into `EINTR` or a restart
//! by the task loop, never seen by the program.

mod creds;
mod epoll;
mod file;
mod fork;
mod fs;
mod futex;
mod memfd;
mod mmap;
mod pidfd;
mod pipe;
mod poll;
mod process;
mod sched;
mod signal;
pub mod strace;
mod sys;
pub mod table;
mod time;
mod timer;
mod wait;

use abi::Errno;

/// What a handler returns: the value for `rax`, or an error.
pub type SyscallResult = Result<u64, Errno>;

/// The six raw arguments of a syscall, with typed views.
///
/// Each view converts exactly as the kernel's `SYSCALL_DEFINE` wrappers do:
/// an `int` argument is the low 32 bits of the register, sign-extended where
/// the C type is signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyscallArgs(pub [u64; 6]);

#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
impl SyscallArgs {
    /// Argument `i` as the raw 64-bit register.
    pub fn u64(&self, i: usize) -> u64 {
        self.0[i]
    }

    /// Argument `i` as a C `long`.
    pub fn i64(&self, i: usize) -> i64 {
        self.0[i] as i64
    }

    /// Argument `i` as a C `unsigned int`.
    pub fn u32(&self, i: usize) -> u32 {
        self.0[i] as u32
    }

    /// Argument `i` as a C `int` (file descriptors, `dirfd`s, pids).
    pub fn i32(&self, i: usize) -> i32 {
        self.0[i] as u32 as i32
    }

    /// Argument `i` as a program address.
    pub fn addr(&self, i: usize) -> u64 {
        self.0[i]
    }
}
