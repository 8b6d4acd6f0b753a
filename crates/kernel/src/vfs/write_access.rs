//! Write access against execution: Linux's `i_writecount`
//! (`get_write_access` and `exe_file_deny_write_access` in
//! `include/linux/fs.h`).
//!
//! A regular file open for writing cannot be executed, and a file some
//! process runs cannot be opened for writing or truncated: both give
//! `ETXTBSY`. The count is kept per inode identity, (`st_dev`, `st_ino`),
//! which the overlay keeps stable across copy-up, so hard links and the
//! overlay's layers of one file share it. Open file descriptions hold
//! their part of the count ([`WriteCount`]) and give it back when their
//! last reference goes; a process holds the description of the program it
//! runs until it execs another or exits.
//!
//! Lock order: [`WRITE_COUNTS`] is a leaf.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use abi::Errno;

use super::lock::InodeKey;

/// Per inode: the number of writers (positive) or of executions (negative).
/// An inode with neither has no entry.
static WRITE_COUNTS: Mutex<BTreeMap<InodeKey, i64>> = Mutex::new(BTreeMap::new());

/// One writer's or one execution's part of an inode's count, given back
/// on drop.
#[derive(Debug)]
pub(crate) struct WriteCount {
    key: InodeKey,
    /// +1 for a writer, -1 for an execution.
    delta: i64,
}

impl WriteCount {
    /// `get_write_access`: a writer of `key`.
    ///
    /// # Errors
    /// `ETXTBSY` while some process runs the file.
    pub(crate) fn writer(key: InodeKey) -> Result<WriteCount, Errno> {
        WriteCount::take(key, 1)
    }

    /// `exe_file_deny_write_access`: an execution of `key`.
    ///
    /// # Errors
    /// `ETXTBSY` while the file is open for writing.
    pub(crate) fn execution(key: InodeKey) -> Result<WriteCount, Errno> {
        WriteCount::take(key, -1)
    }

    fn take(key: InodeKey, delta: i64) -> Result<WriteCount, Errno> {
        let mut counts = WRITE_COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
        let count = counts.get(&key).copied().unwrap_or(0);
        // Writers and executions exclude each other.
        if count.signum() == -delta {
            return Err(Errno::ETXTBSY);
        }
        counts.insert(key, count + delta);
        Ok(WriteCount { key, delta })
    }
}

impl Drop for WriteCount {
    fn drop(&mut self) {
        let mut counts = WRITE_COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= self.delta;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_and_executions_exclude_each_other() {
        let key = (u64::MAX, 1);
        let w1 = WriteCount::writer(key).unwrap();
        let w2 = WriteCount::writer(key).unwrap();
        assert_eq!(WriteCount::execution(key).err(), Some(Errno::ETXTBSY));
        drop(w1);
        assert_eq!(WriteCount::execution(key).err(), Some(Errno::ETXTBSY));
        drop(w2);
        let e1 = WriteCount::execution(key).unwrap();
        let e2 = WriteCount::execution(key).unwrap();
        assert_eq!(WriteCount::writer(key).err(), Some(Errno::ETXTBSY));
        drop((e1, e2));
        drop(WriteCount::writer(key).unwrap());
        assert!(!WRITE_COUNTS.lock().unwrap().contains_key(&key));
    }
}
