//! PLACEHOLDER: the mmap area's syscalls (owned by a helper).

use super::table::Entry;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[];
