//! The sentry: carapace's own implementation of the Linux kernel interface.
//!
//! A program's syscalls and faults arrive here from the platform; the sentry
//! answers them from its own state (tasks, memory, files) and touches the
//! host only through the fds and the MemoryFile it holds. Nothing a program
//! passes is trusted: every handler validates its arguments and returns the
//! errno Linux would.
//!
//! - `task/`: threads, thread groups and the run loop.
//! - `mm/`: VMAs, the allocator over the MemoryFile, page faults, copy-in/out.
//! - `loader/`: ELF loading, the initial stack and auxv.
//! - `vfs/`, `fs/`: the mount tree, path walk, open files; hostfs and devfs.
//! - `signal/`: signal actions and masks.
//! - `futex/`: futex wait queues.
//! - `syscalls/`: the table and the handlers, one file per area.

#![deny(unsafe_code)]

pub mod fs;
pub mod futex;
mod host;
pub mod kernel;
pub mod loader;
pub mod log;
pub mod mm;
pub mod signal;
pub mod syscalls;
pub mod task;
pub mod timer;
pub mod vfs;

pub use kernel::{ExitStatus, InheritedSignals, Kernel, KernelConfig, KernelError};
pub use log::DebugLog;
