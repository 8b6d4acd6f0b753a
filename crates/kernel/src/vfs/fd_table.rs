//! File descriptor tables: fd → (open file description, close-on-exec).
//!
//! A table is also the owner of the POSIX record locks taken through it
//! (Linux's `files_struct` is): closing any of its fds drops its locks on
//! that inode, and the table's end drops them all.

use std::sync::Arc;

use abi::Errno;

use super::file::File;
use super::lock;

/// One slot.
#[derive(Clone, Debug)]
struct Slot {
    file: Arc<File>,
    cloexec: bool,
}

/// A task's file descriptor table.
///
/// New fds are the lowest free number at or above a minimum, below the
/// caller's `RLIMIT_NOFILE` (`EMFILE` otherwise).
#[derive(Debug)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// The table's identity as the owner of POSIX locks.
    lock_owner: u64,
}

impl Default for FdTable {
    fn default() -> FdTable {
        FdTable::new()
    }
}

/// A copy (`fork` without `CLONE_FILES`) is a new lock owner: POSIX locks
/// are not inherited.
impl Clone for FdTable {
    fn clone(&self) -> FdTable {
        FdTable {
            slots: self.slots.clone(),
            lock_owner: lock::new_owner_id(),
        }
    }
}

impl Drop for FdTable {
    fn drop(&mut self) {
        lock::release_posix_owner(self.lock_owner);
    }
}

fn index(fd: i32) -> Result<usize, Errno> {
    usize::try_from(fd).map_err(|_| Errno::EBADF)
}

impl FdTable {
    /// An empty table.
    pub fn new() -> FdTable {
        FdTable {
            slots: Vec::new(),
            lock_owner: lock::new_owner_id(),
        }
    }

    /// The table's identity as the owner of POSIX locks.
    pub(crate) fn lock_owner(&self) -> u64 {
        self.lock_owner
    }

    /// `file` left the table (`filp_close`): the table's POSIX locks on
    /// its inode go, whichever fd they were taken through (an `O_PATH` fd
    /// takes none with it).
    fn closed(&self, file: &File) {
        if !file.is_path()
            && lock::holds_posix_locks(self.lock_owner)
            && let Ok(key) = file.lock_key()
        {
            lock::release_posix(key, self.lock_owner);
        }
    }

    /// The file at `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<Arc<File>, Errno> {
        self.slot(fd).map(|s| Arc::clone(&s.file))
    }

    fn slot(&self, fd: i32) -> Result<&Slot, Errno> {
        self.slots
            .get(index(fd)?)
            .and_then(Option::as_ref)
            .ok_or(Errno::EBADF)
    }

    /// Whether `fd` is close-on-exec; EBADF if it is not open.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        self.slot(fd).map(|s| s.cloexec)
    }

    /// Sets `fd`'s close-on-exec flag; EBADF if it is not open.
    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> Result<(), Errno> {
        let slot = self
            .slots
            .get_mut(index(fd)?)
            .and_then(Option::as_mut)
            .ok_or(Errno::EBADF)?;
        slot.cloexec = cloexec;
        Ok(())
    }

    /// Installs `file` at the lowest free fd at or above `min`, which must be
    /// below `limit` (`RLIMIT_NOFILE`): `EMFILE` if none is.
    pub fn alloc(
        &mut self,
        file: Arc<File>,
        cloexec: bool,
        min: i32,
        limit: u64,
    ) -> Result<i32, Errno> {
        let min = index(min).map_err(|_| Errno::EINVAL)?;
        let limit = usize::try_from(limit.min(i32::MAX as u64)).unwrap_or(usize::MAX);
        let free = (min..self.slots.len()).find(|&i| self.slots[i].is_none());
        let i = free.unwrap_or(self.slots.len().max(min));
        if i >= limit {
            return Err(Errno::EMFILE);
        }
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(Slot { file, cloexec });
        i32::try_from(i).map_err(|_| Errno::EMFILE)
    }

    /// Installs `file` at exactly `fd`, replacing (and returning) whatever
    /// was there.
    pub fn install_at(
        &mut self,
        fd: i32,
        file: Arc<File>,
        cloexec: bool,
    ) -> Result<Option<Arc<File>>, Errno> {
        let i = index(fd)?;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        let old = self.slots[i].replace(Slot { file, cloexec });
        if let Some(old) = &old {
            self.closed(&old.file);
        }
        Ok(old.map(|s| s.file))
    }

    /// Removes `fd`, returning its file; EBADF if it is not open.
    pub fn remove(&mut self, fd: i32) -> Result<Arc<File>, Errno> {
        let slot = self
            .slots
            .get_mut(index(fd)?)
            .and_then(Option::take)
            .ok_or(Errno::EBADF)?;
        self.trim();
        self.closed(&slot.file);
        Ok(slot.file)
    }

    /// `close_range`: removes (or, with `cloexec_only`, marks close-on-exec)
    /// every open fd in `first..=last`, returning the removed files.
    pub fn close_range(&mut self, first: u32, last: u32, cloexec_only: bool) -> Vec<Arc<File>> {
        let first = usize::try_from(first).unwrap_or(usize::MAX);
        let last = usize::try_from(last).unwrap_or(usize::MAX);
        let end = last.saturating_add(1).min(self.slots.len());
        let mut removed = Vec::new();
        for slot in self.slots.iter_mut().take(end).skip(first) {
            if cloexec_only {
                if let Some(s) = slot.as_mut() {
                    s.cloexec = true;
                }
            } else if let Some(s) = slot.take() {
                removed.push(s.file);
            }
        }
        self.trim();
        for file in &removed {
            self.closed(file);
        }
        removed
    }

    /// Removes every close-on-exec fd (at `execve`), returning the files.
    pub fn remove_cloexec(&mut self) -> Vec<Arc<File>> {
        let mut removed = Vec::new();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.cloexec) {
                removed.extend(slot.take().map(|s| s.file));
            }
        }
        self.trim();
        for file in &removed {
            self.closed(file);
        }
        removed
    }

    /// The open fds, in order.
    pub fn fds(&self) -> Vec<i32> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].is_some())
            .filter_map(|i| i32::try_from(i).ok())
            .collect()
    }

    fn trim(&mut self) {
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::devfs::{DevFileOps, DevKind};

    fn file() -> Arc<File> {
        File::new(
            Box::new(DevFileOps(DevKind::Null)),
            abi::fcntl::O_RDWR,
            None,
        )
    }

    #[test]
    fn lowest_free_fd_and_limits() {
        let mut t = FdTable::new();
        assert_eq!(t.alloc(file(), false, 0, 1024), Ok(0));
        assert_eq!(t.alloc(file(), true, 0, 1024), Ok(1));
        assert_eq!(t.alloc(file(), false, 10, 1024), Ok(10));
        assert_eq!(t.alloc(file(), false, 0, 1024), Ok(2));
        t.remove(1).unwrap();
        assert_eq!(t.remove(1).err(), Some(Errno::EBADF));
        assert_eq!(t.alloc(file(), false, 0, 1024), Ok(1));
        assert_eq!(t.alloc(file(), false, 0, 3), Err(Errno::EMFILE));
        assert_eq!(t.get(-1).err(), Some(Errno::EBADF));
        assert_eq!(t.get(99).err(), Some(Errno::EBADF));
        assert_eq!(t.fds(), [0, 1, 2, 10]);
    }

    #[test]
    fn cloexec_and_ranges() {
        let mut t = FdTable::new();
        for _ in 0..5 {
            t.alloc(file(), false, 0, 1024).unwrap();
        }
        t.set_cloexec(3, true).unwrap();
        assert_eq!(t.cloexec(3), Ok(true));
        assert_eq!(t.remove_cloexec().len(), 1);
        assert_eq!(t.fds(), [0, 1, 2, 4]);
        t.close_range(1, 2, true);
        assert_eq!(t.cloexec(2), Ok(true));
        assert_eq!(t.close_range(1, u32::MAX, false).len(), 3);
        assert_eq!(t.fds(), [0]);
        let shared = t.get(0).unwrap();
        assert!(
            t.install_at(7, Arc::clone(&shared), false)
                .unwrap()
                .is_none()
        );
        assert!(Arc::ptr_eq(&t.get(7).unwrap(), &shared));
    }
}
