//! The Linux x86-64 ABI as plain data.
//!
//! Syscall numbers, error numbers, flag values and the C structs that cross
//! the user/kernel boundary, grouped by the uapi header each comes from. This
//! crate holds no logic, makes no host calls and does not link libc, so the
//! platform stubs, the sentry and the tests can all share it.
//!
//! Constants keep their C spelling (`O_CLOEXEC`); a struct is its C name in
//! CamelCase (`struct stat` is [`stat::Stat`]). Every struct is `#[repr(C)]`
//! with zerocopy derives and a `const` assertion pinning its size.

#![no_std]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod auxv;
pub mod capability;
pub mod elf;
pub mod epoll;
pub mod errno;
pub mod fcntl;
pub mod mman;
pub mod poll;
pub mod resource;
pub mod sched;
pub mod signal;
pub mod stat;
pub mod sysno;
pub mod termios;
pub mod time;
pub mod uio;
pub mod utsname;

pub use errno::Errno;

/// The size of a page on x86-64.
pub const PAGE_SIZE: u64 = 4096;
/// [`PAGE_SIZE`] as a buffer length.
pub const PAGE_SIZE_USIZE: usize = 4096;

/// `TASK_SIZE_MAX` for 4-level paging (`arch/x86/include/asm/page_64_types.h`):
/// one page below the canonical-address hole.
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;

pub mod falloc;
pub mod xattr;
