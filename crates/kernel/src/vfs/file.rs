//! Open file descriptions: [`File`] (offset, status flags) over a file
//! system's [`FileOps`].

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use abi::Errno;
use abi::fcntl::{
    FOwnerEx, O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_END, SEEK_SET,
};
use abi::stat::{S_IFDIR, S_IFMT, Stat, Statfs, Statx};

use super::dentry::Dentry;
use super::lock::{self, InodeKey};
use super::write_access::WriteCount;
use crate::mm::{MemoryManager, MmapBacking};

/// The most one read or write moves through the sentry's buffer at a time.
pub(crate) const IO_CHUNK: usize = 1 << 20;

/// The largest file offset (`MAX_LFS_FILESIZE`).
pub(crate) const MAX_LFS_FILESIZE: u64 = i64::MAX as u64;

/// One directory entry, as a file system lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The inode number.
    pub ino: u64,
    /// `DT_*`.
    pub kind: u8,
    /// The name.
    pub name: Vec<u8>,
}

/// What a file system implements for its open files.
///
/// Every method runs on the task's thread and may block (a host read);
/// none takes a kernel lock the caller holds. Defaults give Linux's answer
/// for a file without that operation.
pub trait FileOps: Send + Sync + std::fmt::Debug {
    /// Reads into `buf` at position `pos` (ignored by streams); returns how
    /// many bytes were read, 0 at end of file.
    fn read(&self, file: &File, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        let _ = (file, buf, pos);
        Err(Errno::EINVAL)
    }

    /// Writes `buf` at position `pos` (ignored by streams); returns how many
    /// bytes were written.
    fn write(&self, file: &File, buf: &[u8], pos: u64) -> Result<usize, Errno> {
        let _ = (file, buf, pos);
        Err(Errno::EINVAL)
    }

    /// An `O_APPEND` write: writes `buf` at the end of the file, atomically
    /// with finding the end; returns the count and the new end.
    fn append(&self, file: &File, buf: &[u8]) -> Result<(usize, u64), Errno> {
        let _ = (file, buf);
        Err(Errno::EINVAL)
    }

    /// `ftruncate` on a description open for writing.
    fn truncate(&self, size: u64) -> Result<(), Errno> {
        let _ = size;
        Err(Errno::EINVAL)
    }

    /// The file's seals (`F_GET_SEALS`); `EINVAL` for a file that cannot
    /// have any (anything but tmpfs and memfd files).
    fn seals(&self) -> Result<u32, Errno> {
        Err(Errno::EINVAL)
    }

    /// Adds `seals` (`F_ADD_SEALS`; the caller checked the description is
    /// open for writing and the bits are known).
    fn add_seals(&self, seals: u32) -> Result<(), Errno> {
        let _ = seals;
        Err(Errno::EINVAL)
    }

    /// `fallocate` with a mode the caller validated.
    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
        let _ = (mode, offset, len);
        Err(Errno::EOPNOTSUPP)
    }

    /// For files whose writes never look at the data (`/dev/null`,
    /// `/dev/full`): the answer to a write of `len` bytes, given without
    /// reading the program's buffer, as Linux's `write_null` does.
    fn write_without_data(&self, len: usize) -> Option<Result<usize, Errno>> {
        let _ = len;
        None
    }

    /// Whether reads and writes use the description's offset (and `pread`
    /// goes through [`FileOps::read`]). Streams that keep their position
    /// elsewhere (a host fd) answer false and implement [`FileOps::pread`].
    fn positioned(&self) -> bool {
        true
    }

    /// Whether a read or write moves the offset (false for `/dev/zero` and friends).
    fn advances_pos(&self) -> bool {
        true
    }

    /// Whether one big read returns after the first chunk (pipes, terminals)
    /// rather than filling the buffer (regular files).
    fn streaming(&self) -> bool {
        false
    }

    /// `pread` on a file that is not [`FileOps::positioned`].
    fn pread(&self, file: &File, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let _ = (file, buf, offset);
        Err(Errno::ESPIPE)
    }

    /// `pwrite` on a file that is not [`FileOps::positioned`].
    fn pwrite(&self, file: &File, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        let _ = (file, buf, offset);
        Err(Errno::ESPIPE)
    }

    /// `lseek`: the new position given the current one, `pos`.
    fn seek(&self, file: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        let _ = (file, pos, offset, whence);
        Err(Errno::ESPIPE)
    }

    /// `fstat`.
    fn stat(&self) -> Result<Stat, Errno>;

    /// `statx` of the open file; `mask` and `sync` are what the program asked.
    fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        let _ = (sync, mask);
        Ok(statx_from_stat(&self.stat()?))
    }

    /// `fstatfs`.
    fn statfs(&self) -> Result<Statfs, Errno> {
        Err(Errno::ENOSYS)
    }

    /// The directory's entries, in order (`.` and `..` included), or
    /// `ENOTDIR`. Called when a listing starts at offset 0.
    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// An `ioctl` the generic code did not handle.
    fn ioctl(&self, file: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        let _ = (file, mm, cmd, arg);
        Err(Errno::ENOTTY)
    }

    /// What `mmap` of this file maps; `ENODEV` if it cannot be mapped.
    fn mmap_backing(&self) -> Result<MmapBacking, Errno> {
        Err(Errno::ENODEV)
    }

    /// `fsync`/`fdatasync`; `EINVAL` where Linux has no fsync operation.
    fn fsync(&self, data_only: bool) -> Result<(), Errno> {
        let _ = data_only;
        Err(Errno::EINVAL)
    }

    /// The file's readiness for `poll`/`select` (`POLLIN`, `POLLOUT`,
    /// `POLLHUP`, ...). Files that never block are always ready.
    fn poll_events(&self, file: &File) -> u32 {
        let _ = file;
        abi::poll::POLLIN | abi::poll::POLLOUT | abi::poll::POLLRDNORM | abi::poll::POLLWRNORM
    }

    /// Queues `waiter` to be woken when the readiness may have changed.
    /// Returns false for files that cannot notify (a poller then re-checks
    /// them now and then).
    fn add_poll_waiter(&self, waiter: &Arc<crate::task::TaskHandle>) -> bool {
        let _ = waiter;
        false
    }

    /// A count of the wake-ups that concern a poller of `events`: it
    /// changes whenever such an event happens (data arrives, the peer
    /// closes), even if the readiness stays the same. Edge-triggered epoll
    /// reports a ready file again when it changed. `None` for files that
    /// do not count.
    fn poll_generation(&self, events: u32) -> Option<u64> {
        let _ = events;
        None
    }

    /// Removes a waiter queued by [`FileOps::add_poll_waiter`].
    fn remove_poll_waiter(&self, waiter: &Arc<crate::task::TaskHandle>) {
        let _ = waiter;
    }

    /// The name an anonymous-inode file shows as in `/proc/[pid]/fd`
    /// (`anon_inode:[name]`).
    fn anon_name(&self) -> Option<&'static str> {
        None
    }

    /// Lines the file adds to `/proc/[pid]/fdinfo/N` (Linux's
    /// `show_fdinfo`), each ending in a newline.
    fn show_fdinfo(&self) -> String {
        String::new()
    }

    /// The file as its own type, for the calls that act only on one kind
    /// of file (`signalfd4` changing a signalfd's mask, the terminal ioctls
    /// that need the calling task).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// The `statx` view of a `stat`, with the basic fields marked valid.
pub(crate) fn statx_from_stat(st: &Stat) -> Statx {
    let ts = |t: &abi::time::Timespec| abi::stat::StatxTimestamp {
        tv_sec: t.tv_sec,
        tv_nsec: u32::try_from(t.tv_nsec).unwrap_or(0),
        _reserved: 0,
    };
    Statx {
        stx_mask: abi::stat::STATX_BASIC_STATS,
        stx_blksize: u32::try_from(st.st_blksize).unwrap_or(4096),
        stx_nlink: u32::try_from(st.st_nlink).unwrap_or(u32::MAX),
        stx_uid: st.st_uid,
        stx_gid: st.st_gid,
        stx_mode: u16::try_from(st.st_mode & 0xffff).unwrap_or(0),
        stx_ino: st.st_ino,
        stx_size: u64::try_from(st.st_size).unwrap_or(0),
        stx_blocks: u64::try_from(st.st_blocks).unwrap_or(0),
        stx_atime: ts(&st.st_atime),
        stx_ctime: ts(&st.st_ctime),
        stx_mtime: ts(&st.st_mtime),
        stx_rdev_major: abi::stat::major(st.st_rdev),
        stx_rdev_minor: abi::stat::minor(st.st_rdev),
        stx_dev_major: abi::stat::major(st.st_dev),
        stx_dev_minor: abi::stat::minor(st.st_dev),
        ..Statx::default()
    }
}

/// The new position for `lseek` on a file of `size` bytes, as
/// `generic_file_llseek_size` computes it (`SEEK_DATA`/`SEEK_HOLE` treat the
/// whole file as data).
pub(crate) fn generic_seek(pos: u64, size: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => pos,
        SEEK_END => size,
        abi::fcntl::SEEK_DATA => {
            let off = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
            return if off >= size {
                Err(Errno::ENXIO)
            } else {
                Ok(off)
            };
        }
        abi::fcntl::SEEK_HOLE => {
            let off = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
            return if off >= size {
                Err(Errno::ENXIO)
            } else {
                Ok(size)
            };
        }
        _ => return Err(Errno::EINVAL),
    };
    let new = i128::from(base) + i128::from(offset);
    if new < 0 || new > i128::from(MAX_LFS_FILESIZE) {
        return Err(Errno::EINVAL);
    }
    u64::try_from(new).map_err(|_| Errno::EINVAL)
}

/// An open file description.
#[derive(Debug)]
pub struct File {
    ops: Box<dyn FileOps>,
    /// Access mode and status flags (`O_*`, as `F_GETFL` reports them).
    flags: AtomicU32,
    /// The offset. Guards the whole of a read, write or seek on a positioned
    /// file, as Linux's `f_pos_lock` does.
    pos: Mutex<u64>,
    /// Where the file was opened, if it has a place in the view.
    dentry: Option<Arc<Dentry>>,
    /// The listing being read by `getdents`, taken at offset 0.
    dir_cache: Mutex<Option<Arc<Vec<DirEntry>>>>,
    /// The description's identity as the owner of OFD and `flock` locks.
    lock_id: u64,
    /// The inode this description has taken OFD or `flock` locks on, so
    /// that they go with its last reference.
    locked_inode: OnceLock<InodeKey>,
    /// `F_SETOWN`'s owner (`F_OWNER_TID` 0 until set, as Linux reports it).
    owner: Mutex<FOwnerEx>,
    /// `F_SETSIG`'s signal (0: `SIGIO`).
    owner_signal: AtomicU32,
    /// The part of its inode's write count a regular file opened for
    /// writing, or opened to be executed, holds.
    write_count: OnceLock<WriteCount>,
}

impl Drop for File {
    fn drop(&mut self) {
        if let Some(key) = self.locked_inode.get() {
            lock::release_file(*key, self.lock_id);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl File {
    /// A new description over `ops`, with `flags` as `F_GETFL` will report them.
    pub fn new(ops: Box<dyn FileOps>, flags: u32, dentry: Option<Arc<Dentry>>) -> Arc<File> {
        Arc::new(File {
            ops,
            flags: AtomicU32::new(flags),
            pos: Mutex::new(0),
            dentry,
            dir_cache: Mutex::new(None),
            lock_id: lock::new_owner_id(),
            locked_inode: OnceLock::new(),
            owner: Mutex::new(FOwnerEx::default()),
            owner_signal: AtomicU32::new(0),
            write_count: OnceLock::new(),
        })
    }

    /// Keeps `count` until the description's last reference goes.
    pub(crate) fn hold_write_count(&self, count: WriteCount) {
        let _ = self.write_count.set(count);
    }

    /// The inode identity locks on this file are kept under:
    /// (`st_dev`, `st_ino`).
    pub(crate) fn lock_key(&self) -> Result<InodeKey, Errno> {
        if let Some(key) = self.locked_inode.get() {
            return Ok(*key);
        }
        let st = self.ops.stat()?;
        Ok((st.st_dev, st.st_ino))
    }

    /// This description as the owner of OFD and `flock` locks on `key`
    /// (from [`File::lock_key`]); they are dropped with its last reference.
    pub(crate) fn lock_owner(&self, key: InodeKey) -> u64 {
        let _ = self.locked_inode.set(key);
        self.lock_id
    }

    /// The owner `F_SETOWN`/`F_SETOWN_EX` stored.
    pub fn owner(&self) -> FOwnerEx {
        *lock(&self.owner)
    }

    /// `F_SETOWN`/`F_SETOWN_EX`, already checked.
    pub fn set_owner(&self, owner: FOwnerEx) {
        *lock(&self.owner) = owner;
    }

    /// `F_GETSIG`.
    pub fn owner_signal(&self) -> u32 {
        self.owner_signal.load(Ordering::Relaxed)
    }

    /// `F_SETSIG`, already checked.
    pub fn set_owner_signal(&self, signo: u32) {
        self.owner_signal.store(signo, Ordering::Relaxed);
    }

    /// A stream over a host fd the sandbox was given (stdin/stdout/stderr).
    pub fn host_stdio(fd: OwnedFd) -> Result<Arc<File>, Errno> {
        crate::fs::host_stream::open(fd)
    }

    /// The status flags and access mode (`O_RDONLY`/`O_WRONLY`/`O_RDWR`,
    /// `O_APPEND`, `O_PATH`, ...), as `F_GETFL` reports them.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Replaces the status flags in `mask` with those of `flags`.
    pub fn set_flags(&self, mask: u32, flags: u32) {
        let _ = self
            .flags
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some((old & !mask) | (flags & mask))
            });
    }

    /// Where this file was opened, if it has a place in the view.
    pub fn dentry(&self) -> Option<&Arc<Dentry>> {
        self.dentry.as_ref()
    }

    /// The file system's operations.
    pub fn ops(&self) -> &dyn FileOps {
        self.ops.as_ref()
    }

    /// Whether this is an `O_PATH` description (no I/O at all).
    pub fn is_path(&self) -> bool {
        self.flags() & O_PATH != 0
    }

    /// Whether the description was opened for reading (`FMODE_READ`).
    pub fn readable(&self) -> bool {
        !self.is_path() && matches!(self.flags() & O_ACCMODE, O_RDONLY | O_RDWR)
    }

    /// Whether the description was opened for writing (`FMODE_WRITE`).
    pub fn writable(&self) -> bool {
        !self.is_path() && matches!(self.flags() & O_ACCMODE, O_WRONLY | O_RDWR)
    }

    /// The current offset.
    pub fn pos(&self) -> u64 {
        *lock(&self.pos)
    }

    /// Reads up to `buf.len()` bytes at `offset` without moving the offset,
    /// looping until `buf` is full or end of file (as the loader wants).
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            let n = if self.ops.positioned() {
                self.ops.read(self, &mut buf[done..], at)?
            } else {
                self.ops.pread(self, &mut buf[done..], at)?
            };
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(done)
    }

    /// `fstat`.
    pub fn stat(&self) -> Result<Stat, Errno> {
        self.ops.stat()
    }

    /// What `mmap` of this file maps: ENODEV if it cannot be mapped.
    pub fn mmap_backing(&self) -> Result<MmapBacking, Errno> {
        if self.is_path() {
            return Err(Errno::EBADF);
        }
        self.ops.mmap_backing()
    }

    /// Reads up to `count` bytes at the offset (`offset == None`, moving it)
    /// or at `offset` (`pread`), handing each chunk to `sink`, which returns
    /// how much of it it took (less at a fault). Stops at the first short
    /// read or short sink; an error after some bytes moved becomes the
    /// partial count, and a sink that takes nothing of the first chunk is
    /// `EFAULT`.
    pub fn read_with(
        &self,
        offset: Option<u64>,
        count: usize,
        sink: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if count == 0 {
            // vfs_read calls the file system even for 0 bytes: directories say EISDIR.
            return if self.is_dir() {
                Err(Errno::EISDIR)
            } else {
                Ok(0)
            };
        }
        let positioned = self.ops.positioned();
        if offset.is_some() && !positioned {
            return self.transfer_stream_pread(offset.unwrap_or(0), count, sink);
        }
        let mut guard = positioned.then(|| lock(&self.pos));
        let mut pos = offset.or(guard.as_deref().copied()).unwrap_or(0);
        let mut buf = vec![0u8; count.min(IO_CHUNK)];
        let mut done = 0usize;
        while done < count {
            let want = (count - done).min(IO_CHUNK);
            let n = match self.ops.read(self, &mut buf[..want], pos) {
                Ok(n) => n,
                Err(_) if done > 0 => break,
                Err(e) => return Err(e),
            };
            if n == 0 {
                break;
            }
            let took = sink(&buf[..n]).min(n);
            done += took;
            if self.ops.advances_pos() {
                pos += took as u64;
            }
            if took < n {
                if done == 0 {
                    return Err(Errno::EFAULT);
                }
                break;
            }
            if n < want || self.ops.streaming() {
                break;
            }
        }
        if offset.is_none()
            && let Some(g) = guard.as_deref_mut()
        {
            *g = pos;
        }
        Ok(done)
    }

    fn transfer_stream_pread(
        &self,
        offset: u64,
        count: usize,
        sink: &mut dyn FnMut(&[u8]) -> usize,
    ) -> Result<usize, Errno> {
        let mut buf = vec![0u8; count.min(IO_CHUNK)];
        let n = self.ops.pread(self, &mut buf, offset)?;
        let took = sink(&buf[..n]).min(n);
        if took == 0 && n > 0 {
            return Err(Errno::EFAULT);
        }
        Ok(took)
    }

    /// Writes up to `count` bytes at the offset (`offset == None`) or at
    /// `offset` (`pwrite`), taking each chunk from `source`, which fills the
    /// buffer it is given and returns how much it filled (less at a fault).
    pub fn write_with(
        &self,
        offset: Option<u64>,
        count: usize,
        source: &mut dyn FnMut(&mut [u8]) -> usize,
    ) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if let Some(result) = self.ops.write_without_data(count) {
            return result;
        }
        if count == 0 {
            return Ok(0);
        }
        let positioned = self.ops.positioned();
        let append = self.flags() & abi::fcntl::O_APPEND != 0;
        let mut guard = positioned.then(|| lock(&self.pos));
        let mut pos = offset.or(guard.as_deref().copied()).unwrap_or(0);
        let mut buf = vec![0u8; count.min(IO_CHUNK)];
        let mut done = 0usize;
        while done < count {
            let want = (count - done).min(IO_CHUNK);
            let got = source(&mut buf[..want]).min(want);
            if got == 0 {
                if done == 0 {
                    return Err(Errno::EFAULT);
                }
                break;
            }
            let result = match (offset, positioned) {
                (Some(at), false) => self.ops.pwrite(self, &buf[..got], at + done as u64),
                // O_APPEND writes at the end, even for pwrite (a Linux quirk
                // pwrite(2) documents); pwrite leaves the offset alone.
                (_, true) if append => self.ops.append(self, &buf[..got]).map(|(n, end)| {
                    pos = end - n as u64;
                    n
                }),
                _ => self.ops.write(self, &buf[..got], pos),
            };
            let n = match result {
                Ok(n) => n,
                Err(_) if done > 0 => break,
                Err(e) => return Err(e),
            };
            done += n;
            if self.ops.advances_pos() {
                pos += n as u64;
            }
            if n < got || got < want {
                break;
            }
        }
        if offset.is_none()
            && let Some(g) = guard.as_deref_mut()
        {
            *g = pos;
        }
        Ok(done)
    }

    /// `lseek`.
    pub fn seek(&self, offset: i64, whence: u32) -> Result<u64, Errno> {
        if self.is_path() {
            return Err(Errno::EBADF);
        }
        let mut pos = lock(&self.pos);
        let new = self.ops.seek(self, *pos, offset, whence)?;
        if self.ops.positioned() {
            *pos = new;
        }
        Ok(new)
    }

    /// Lists directory entries from the offset on, calling `emit(entry,
    /// next_offset)` for each until it returns false (the caller's buffer is
    /// full); the offset moves past every entry emitted.
    pub fn getdents(&self, emit: &mut dyn FnMut(&DirEntry, u64) -> bool) -> Result<(), Errno> {
        if self.is_path() {
            return Err(Errno::EBADF);
        }
        // A removed directory lists nothing (`iterate_dir`'s `IS_DEADDIR`).
        if self
            .dentry
            .as_ref()
            .is_some_and(|d| d.is_dir() && d.unlinked())
        {
            return Err(Errno::ENOENT);
        }
        let mut pos = lock(&self.pos);
        let entries = {
            let mut cache = lock(&self.dir_cache);
            match cache.as_ref() {
                Some(entries) if *pos != 0 => Arc::clone(entries),
                _ => {
                    let entries = Arc::new(self.ops.dirents()?);
                    *cache = Some(Arc::clone(&entries));
                    entries
                }
            }
        };
        let start = usize::try_from(*pos).unwrap_or(usize::MAX);
        for (i, entry) in entries.iter().enumerate().skip(start) {
            let next = i as u64 + 1;
            if !emit(entry, next) {
                break;
            }
            *pos = next;
        }
        Ok(())
    }

    /// Whether the file is a directory.
    pub fn is_dir(&self) -> bool {
        self.ops
            .stat()
            .is_ok_and(|st| st.st_mode & S_IFMT == S_IFDIR)
    }
}

/// `lseek` on a directory listing: the offset is an entry index.
pub(crate) fn dir_seek(pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
    let new = match whence {
        SEEK_SET => i128::from(offset),
        SEEK_CUR => i128::from(pos) + i128::from(offset),
        _ => return Err(Errno::EINVAL),
    };
    u64::try_from(new).map_err(|_| Errno::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_arithmetic() {
        assert_eq!(generic_seek(5, 100, 10, SEEK_CUR), Ok(15));
        assert_eq!(generic_seek(5, 100, -10, SEEK_CUR), Err(Errno::EINVAL));
        assert_eq!(generic_seek(5, 100, -1, SEEK_END), Ok(99));
        assert_eq!(generic_seek(5, 100, 0, 7), Err(Errno::EINVAL));
        assert_eq!(
            generic_seek(0, 100, 100, abi::fcntl::SEEK_DATA),
            Err(Errno::ENXIO)
        );
        assert_eq!(generic_seek(0, 100, 3, abi::fcntl::SEEK_HOLE), Ok(100));
        assert_eq!(generic_seek(0, 0, i64::MAX, SEEK_SET), Ok(i64::MAX as u64));
        assert_eq!(dir_seek(3, -4, SEEK_CUR), Err(Errno::EINVAL));
    }
}
