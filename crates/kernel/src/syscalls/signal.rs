//! The signal area's syscalls.

use super::table::Entry;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[];
