//! tmpfs: a file system in sentry memory (`mm/shmem.c`).
//!
//! Regular files keep their data in MemoryFile pages (a [`PageCache`] by
//! page index), so files are sparse: a page that was never written (or was
//! punched out) is a hole. A shared mapping maps those very pages, so
//! `read(2)`, `write(2)` and every mapping agree. Every page, inode, name, symlink target and
//! extended attribute is charged to a [`SpaceLimit`] shared by the file
//! systems drawing on the same budget; a change that would exceed it fails
//! with `ENOSPC`, so a program can never run the sentry out of memory
//! through a file system.
//!
//! Directories map names to inodes. An inode lives while a directory entry,
//! an open file or a dentry holds it; an unlinked file stays readable
//! through its open descriptions, as on Linux.
//!
//! Lock order: [`FsShared::lock_tree`] (one per file system, held by every
//! change to a directory, like `s_vfs_rename_mutex` plus `i_rwsem` for all
//! directories at once), then inode state locks. A thread holding the tree
//! lock may hold several inode locks (never in a cycle, since only it can);
//! a thread without it holds at most one inode lock at a time. Neither is
//! held across a call into another subsystem.
//!
//! This module knows nothing of credentials or paths: the VFS makes the
//! permission checks first and passes the ids to give new inodes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::mm::{Mappable, MappingSet, MemoryAllocator, MemoryManager, MmapBacking, PageCache};
use crate::vfs::{DirEntry, File, FileName, FileOps, MAX_LFS_FILESIZE, dir_seek, generic_seek};
use abi::Errno;
use abi::falloc::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
use abi::fcntl::{
    DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN, F_SEAL_EXEC,
    F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
};
use abi::stat::{
    S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID,
    S_IXGRP, Stat, Statfs,
};
use abi::time::Timespec;

/// The page size files are stored in.
const PAGE: u64 = 4096;
/// What an inode costs the budget besides its data (a rough size of the
/// sentry's structures for it).
const INODE_COST: u64 = 512;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The current time, as file times record it.
pub(crate) fn now() -> Timespec {
    crate::host::clock_gettime(abi::time::CLOCK_REALTIME).unwrap_or_default()
}

/// A budget of bytes shared by file systems in sandbox memory, and the
/// MemoryFile their file pages come from.
#[derive(Debug)]
pub struct SpaceLimit {
    used: AtomicU64,
    max: u64,
    pages: Arc<MemoryAllocator>,
}

/// The default budget of the sentry's in-memory file systems (the overlay's
/// upper layer, /dev/shm, /run): half the host's RAM, at most 2 GiB. It
/// bounds what a program can make the sentry hold, so a full overlay
/// returns `ENOSPC` rather than running the sandbox out of memory.
pub fn default_space_limit() -> u64 {
    const CAP: u64 = 2 << 30;
    let (total, _, _) = crate::host::host_memory();
    if total == 0 {
        CAP
    } else {
        (total / 2).min(CAP)
    }
}

impl SpaceLimit {
    /// A budget of `max` bytes, for files whose pages come from `pages`.
    pub fn new(max: u64, pages: Arc<MemoryAllocator>) -> Arc<SpaceLimit> {
        Arc::new(SpaceLimit {
            used: AtomicU64::new(0),
            max,
            pages,
        })
    }

    /// Takes `bytes` from the budget, or `ENOSPC`.
    pub(crate) fn charge(&self, bytes: u64) -> Result<(), Errno> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&n| n <= self.max)
            })
            .map(|_| ())
            .map_err(|_| Errno::ENOSPC)
    }

    /// Gives `bytes` back.
    pub(crate) fn release(&self, bytes: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(bytes))
            });
    }

    /// Bytes in use.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The budget.
    pub fn max(&self) -> u64 {
        self.max
    }
}

/// What one tmpfs instance shares among its inodes.
#[derive(Debug)]
pub struct FsShared {
    dev: u64,
    magic: i64,
    flags: i64,
    next_ino: AtomicU64,
    inodes: AtomicU64,
    space: Arc<SpaceLimit>,
    tree: Mutex<()>,
}

/// Proof that the caller holds its file system's tree lock.
#[derive(Debug)]
pub struct TreeGuard<'a>(#[allow(dead_code)] MutexGuard<'a, ()>);

impl FsShared {
    /// A new file system reporting device `dev`, `statfs` type `magic` and
    /// mount flags `flags` (`ST_*`), drawing on `space`.
    pub fn new(dev: u64, magic: i64, flags: i64, space: Arc<SpaceLimit>) -> Arc<FsShared> {
        Arc::new(FsShared {
            dev,
            magic,
            flags,
            next_ino: AtomicU64::new(1),
            inodes: AtomicU64::new(0),
            space,
            tree: Mutex::new(()),
        })
    }

    /// Takes the tree lock: every change of a directory holds it.
    pub fn lock_tree(&self) -> TreeGuard<'_> {
        TreeGuard(lock(&self.tree))
    }

    /// The device number inodes report.
    pub fn dev(&self) -> u64 {
        self.dev
    }

    /// The budget this file system draws on.
    pub fn space(&self) -> &Arc<SpaceLimit> {
        &self.space
    }

    /// `statfs`.
    pub fn statfs(&self) -> Statfs {
        let max = self.space.max();
        let free = max.saturating_sub(self.space.used());
        let files = max / INODE_COST;
        let used_inodes = self.inodes.load(Ordering::Relaxed);
        Statfs {
            f_type: self.magic,
            f_bsize: 4096,
            f_blocks: max / PAGE,
            f_bfree: free / PAGE,
            f_bavail: free / PAGE,
            f_files: files,
            f_ffree: files.saturating_sub(used_inodes),
            f_fsid: [0, 0],
            f_namelen: 255,
            f_frsize: 4096,
            f_flags: self.flags | abi::stat::ST_VALID,
            f_spare: [0; 4],
        }
    }

    /// A new inode (not yet in any directory, `nlink` as given) of type and
    /// permissions `mode`, owned by `uid`/`gid`.
    pub fn new_inode(
        self: &Arc<FsShared>,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        target: Option<&[u8]>,
    ) -> Result<Arc<Inode>, Errno> {
        let extra = target.map_or(0, |t| t.len() as u64);
        self.space.charge(INODE_COST + extra)?;
        let ino = self.next_ino.fetch_add(1, Ordering::Relaxed);
        self.inodes.fetch_add(1, Ordering::Relaxed);
        let t = now();
        let (body, nlink) = match mode & S_IFMT {
            S_IFREG => (
                Body::Reg(Pages {
                    size: 0,
                    cache: PageCache::new(Arc::clone(&self.space.pages)),
                }),
                1,
            ),
            S_IFDIR => (
                Body::Dir(Dir {
                    entries: BTreeMap::new(),
                    parent_ino: ino,
                    opaque: false,
                }),
                2,
            ),
            S_IFLNK => (Body::Link(target.unwrap_or_default().to_vec()), 1),
            _ => (Body::Other, 1),
        };
        Ok(Arc::new(Inode {
            fs: Arc::clone(self),
            ino,
            mappings: MappingSet::new(),
            state: Mutex::new(State {
                mode,
                uid,
                gid,
                nlink,
                rdev,
                atime: t,
                mtime: t,
                ctime: t,
                xattrs: BTreeMap::new(),
                origin: None,
                linkable: false,
                charged: INODE_COST + extra,
                seals: F_SEAL_SEAL,
                body,
            }),
        }))
    }
}

/// A regular file's data.
struct Pages {
    size: u64,
    cache: PageCache,
}

/// A directory's entries.
struct Dir {
    entries: BTreeMap<Vec<u8>, Arc<Inode>>,
    parent_ino: u64,
    /// The overlay's opaque mark: lower entries are hidden.
    opaque: bool,
}

enum Body {
    Reg(Pages),
    Dir(Dir),
    Link(Vec<u8>),
    /// FIFOs, sockets and device nodes (a 0:0 character device is an
    /// overlay whiteout).
    Other,
}

struct State {
    mode: u32,
    uid: u32,
    gid: u32,
    nlink: u64,
    rdev: u64,
    atime: Timespec,
    mtime: Timespec,
    ctime: Timespec,
    xattrs: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The (device, inode) the overlay reports for a copied-up file.
    origin: Option<(u64, u64)>,
    /// An `O_TMPFILE` file that `linkat` may give a name.
    linkable: bool,
    /// Bytes charged to the budget besides data pages.
    charged: u64,
    /// `F_SEAL_*` bits (`shmem_inode_info.seals`): `F_SEAL_SEAL` unless a
    /// memfd was made to allow sealing.
    seals: u32,
    body: Body,
}

/// A tmpfs inode.
pub struct Inode {
    fs: Arc<FsShared>,
    ino: u64,
    /// The memory managers mapping the file (regular files).
    mappings: Arc<MappingSet>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Inode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inode")
            .field("dev", &self.fs.dev)
            .field("ino", &self.ino)
            .finish_non_exhaustive()
    }
}

impl Drop for Inode {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let pages = match &state.body {
            Body::Reg(p) => p.cache.len(),
            _ => 0,
        };
        self.fs.space.release(state.charged + pages * PAGE);
        self.fs.inodes.fetch_sub(1, Ordering::Relaxed);
        // Drop a directory tree iteratively, so a deep one cannot overflow
        // the stack.
        if let Body::Dir(dir) = &mut state.body {
            let mut pending: Vec<Arc<Inode>> = Vec::new();
            let mut take = |entries: &mut BTreeMap<Vec<u8>, Arc<Inode>>| {
                let names: u64 = entries.keys().map(|n| n.len() as u64).sum();
                self.fs.space.release(names);
                pending.extend(std::mem::take(entries).into_values());
            };
            take(&mut dir.entries);
            while let Some(child) = pending.pop() {
                if let Ok(mut child) = Arc::try_unwrap(child) {
                    let st = child
                        .state
                        .get_mut()
                        .unwrap_or_else(PoisonError::into_inner);
                    if let Body::Dir(d) = &mut st.body {
                        let names: u64 = d.entries.keys().map(|n| n.len() as u64).sum();
                        self.fs.space.release(names);
                        pending.extend(std::mem::take(&mut d.entries).into_values());
                    }
                }
            }
        }
    }
}

/// `d_type` for a mode.
pub(crate) fn dtype(mode: u32) -> u8 {
    match mode & S_IFMT {
        S_IFREG => DT_REG,
        S_IFDIR => DT_DIR,
        S_IFLNK => DT_LNK,
        S_IFCHR => DT_CHR,
        S_IFBLK => DT_BLK,
        S_IFIFO => DT_FIFO,
        S_IFSOCK => DT_SOCK,
        _ => DT_UNKNOWN,
    }
}

/// A time to set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTime {
    /// The current time.
    Now,
    /// This time.
    At(Timespec),
}

/// A metadata change, already permitted by the caller (`struct iattr`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    /// New permission bits (type bits ignored).
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New access time.
    pub atime: Option<SetTime>,
    /// New modification time.
    pub mtime: Option<SetTime>,
    /// New size (regular files).
    pub size: Option<u64>,
    /// Clear set-user-id, and set-group-id when group-executable
    /// (`ATTR_KILL_SUID | ATTR_KILL_SGID`).
    pub kill_suid: bool,
}

/// How `setxattr` may treat an existing attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XattrMode {
    /// Create or replace.
    Any,
    /// `XATTR_CREATE`.
    Create,
    /// `XATTR_REPLACE`.
    Replace,
}

impl Inode {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The file system.
    pub fn fs(&self) -> &Arc<FsShared> {
        &self.fs
    }

    /// The inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The status.
    pub fn stat(&self) -> Stat {
        let s = self.state();
        let (size, blocks) = match &s.body {
            Body::Reg(p) => (p.size, p.cache.len() * (PAGE / 512)),
            Body::Link(t) => (t.len() as u64, 0),
            Body::Dir(_) => (4096, 8),
            Body::Other => (0, 0),
        };
        let (dev, ino) = s.origin.unwrap_or((self.fs.dev, self.ino));
        Stat {
            st_dev: dev,
            st_ino: ino,
            st_nlink: s.nlink,
            st_mode: s.mode,
            st_uid: s.uid,
            st_gid: s.gid,
            st_rdev: s.rdev,
            st_size: i64::try_from(size).unwrap_or(i64::MAX),
            st_blksize: 4096,
            st_blocks: i64::try_from(blocks).unwrap_or(i64::MAX),
            st_atime: s.atime,
            st_mtime: s.mtime,
            st_ctime: s.ctime,
            ..Stat::default()
        }
    }

    /// `S_IFMT` bits.
    pub fn file_type(&self) -> u32 {
        self.state().mode & S_IFMT
    }

    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    /// Whether this is an overlay whiteout (a 0:0 character device).
    pub fn is_whiteout(&self) -> bool {
        let s = self.state();
        s.mode & S_IFMT == S_IFCHR && s.rdev == 0
    }

    /// Whether the directory is marked opaque.
    pub fn opaque(&self) -> bool {
        matches!(&self.state().body, Body::Dir(d) if d.opaque)
    }

    /// Marks the directory opaque.
    pub fn set_opaque(&self) {
        if let Body::Dir(d) = &mut self.state().body {
            d.opaque = true;
        }
    }

    /// Records the (device, inode) to report instead of this inode's own.
    pub fn set_origin(&self, dev: u64, ino: u64) {
        self.state().origin = Some((dev, ino));
    }

    /// Marks an `O_TMPFILE` inode as one `linkat` may name.
    pub fn set_linkable(&self) {
        self.state().linkable = true;
    }

    /// Whether `linkat` may name this unlinked inode.
    pub fn linkable(&self) -> bool {
        self.state().linkable
    }

    /// Makes a new inode an unnamed `O_TMPFILE` file (no links yet).
    pub fn make_tmpfile(&self) {
        self.state().nlink = 0;
    }

    /// The number of links.
    pub fn nlink(&self) -> u64 {
        self.state().nlink
    }

    /// The symlink's target; `EINVAL` if it is not a symlink.
    pub fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.state().body {
            Body::Link(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The child `name` of this directory.
    pub fn lookup(&self, name: &[u8]) -> Result<Arc<Inode>, Errno> {
        match &self.state().body {
            Body::Dir(d) => d.entries.get(name).cloned().ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The directory's entries (names and inodes), without `.` and `..`.
    pub fn children(&self) -> Vec<(Vec<u8>, Arc<Inode>)> {
        match &self.state().body {
            Body::Dir(d) => d
                .entries
                .iter()
                .map(|(n, i)| (n.clone(), Arc::clone(i)))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The listing `getdents` shows: `.`, `..`, then the entries in name
    /// order.
    pub fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        let children = {
            let s = self.state();
            let Body::Dir(d) = &s.body else {
                return Err(Errno::ENOTDIR);
            };
            let mut out = vec![
                DirEntry {
                    ino: self.ino,
                    kind: DT_DIR,
                    name: b".".to_vec(),
                },
                DirEntry {
                    ino: d.parent_ino,
                    kind: DT_DIR,
                    name: b"..".to_vec(),
                },
            ];
            out.reserve(d.entries.len());
            let children: Vec<(Vec<u8>, Arc<Inode>)> = d
                .entries
                .iter()
                .map(|(n, i)| (n.clone(), Arc::clone(i)))
                .collect();
            (out, children)
        };
        let (mut out, children) = children;
        for (name, inode) in children {
            let st = inode.stat();
            out.push(DirEntry {
                ino: st.st_ino,
                kind: dtype(st.st_mode),
                name,
            });
        }
        Ok(out)
    }

    /// Whether the directory has no entries (whiteouts count only if `count_whiteouts`).
    pub fn is_empty_dir(&self, count_whiteouts: bool) -> bool {
        match &self.state().body {
            Body::Dir(d) => d
                .entries
                .values()
                .all(|i| !count_whiteouts && i.is_whiteout()),
            _ => false,
        }
    }

    // -----------------------------------------------------------------
    // Directory changes: the caller holds the tree lock.

    /// Adds `child` as `name` in this directory (`EEXIST` if taken),
    /// counting a link.
    pub fn link(
        &self,
        _tree: &TreeGuard<'_>,
        name: &[u8],
        child: &Arc<Inode>,
    ) -> Result<(), Errno> {
        if !Arc::ptr_eq(&self.fs, &child.fs) {
            return Err(Errno::EXDEV);
        }
        let child_is_dir = child.is_dir();
        self.fs.space.charge(name.len() as u64)?;
        let t = now();
        {
            let mut s = self.state();
            let dead = s.nlink == 0;
            let Body::Dir(d) = &mut s.body else {
                self.fs.space.release(name.len() as u64);
                return Err(Errno::ENOTDIR);
            };
            if dead {
                // A removed directory takes no new names (IS_DEADDIR).
                self.fs.space.release(name.len() as u64);
                return Err(Errno::ENOENT);
            }
            if d.entries.contains_key(name) {
                self.fs.space.release(name.len() as u64);
                return Err(Errno::EEXIST);
            }
            d.entries.insert(name.to_vec(), Arc::clone(child));
            if child_is_dir {
                s.nlink += 1;
            }
            s.mtime = t;
            s.ctime = t;
        }
        let mut c = child.state();
        if let Body::Dir(d) = &mut c.body {
            d.parent_ino = self.ino;
        } else {
            c.nlink += 1;
        }
        c.ctime = t;
        c.linkable = false;
        Ok(())
    }

    /// Adds a newly made `child` (its `nlink` already counts this name).
    pub fn add_new(
        &self,
        tree: &TreeGuard<'_>,
        name: &[u8],
        child: &Arc<Inode>,
    ) -> Result<(), Errno> {
        self.link(tree, name, child)?;
        let mut c = child.state();
        if c.mode & S_IFMT != S_IFDIR {
            c.nlink -= 1;
        }
        Ok(())
    }

    /// Removes the entry `name`, dropping a link, and returns its inode.
    /// Directories must be empty (`ENOTEMPTY`), whiteouts aside when
    /// `whiteouts_ok`, which are dropped with it.
    pub fn unlink(
        &self,
        _tree: &TreeGuard<'_>,
        name: &[u8],
        whiteouts_ok: bool,
    ) -> Result<Arc<Inode>, Errno> {
        let child = self.lookup(name)?;
        let child_is_dir = child.is_dir();
        if child_is_dir && !child.is_empty_dir(!whiteouts_ok) {
            return Err(Errno::ENOTEMPTY);
        }
        let t = now();
        {
            let mut s = self.state();
            if let Body::Dir(d) = &mut s.body {
                d.entries.remove(name);
            }
            if child_is_dir {
                s.nlink = s.nlink.saturating_sub(1);
            }
            s.mtime = t;
            s.ctime = t;
        }
        self.fs.space.release(name.len() as u64);
        {
            let mut c = child.state();
            let c = &mut *c;
            if let Body::Dir(d) = &mut c.body {
                c.nlink = 0;
                d.entries.clear();
            } else {
                c.nlink = c.nlink.saturating_sub(1);
            }
            c.ctime = t;
        }
        Ok(child)
    }

    /// Takes the entry `name` out of this directory without changing the
    /// child's link count (the first half of a rename).
    pub fn detach(&self, _tree: &TreeGuard<'_>, name: &[u8]) -> Result<Arc<Inode>, Errno> {
        let t = now();
        let mut s = self.state();
        let Body::Dir(d) = &mut s.body else {
            return Err(Errno::ENOTDIR);
        };
        let child = d.entries.remove(name).ok_or(Errno::ENOENT)?;
        if child.is_dir() {
            s.nlink = s.nlink.saturating_sub(1);
        }
        s.mtime = t;
        s.ctime = t;
        drop(s);
        self.fs.space.release(name.len() as u64);
        Ok(child)
    }

    /// Puts a detached `child` in as `name` (the second half of a rename);
    /// `EEXIST` if the name is taken.
    pub fn attach(
        &self,
        tree: &TreeGuard<'_>,
        name: &[u8],
        child: &Arc<Inode>,
    ) -> Result<(), Errno> {
        let is_dir = child.is_dir();
        self.link(tree, name, child)?;
        let mut c = child.state();
        if !is_dir {
            c.nlink = c.nlink.saturating_sub(1);
        }
        Ok(())
    }

    /// Replaces the entry `name` with `child` (used for whiteouts), without
    /// link counting of the old entry beyond dropping it.
    pub fn replace(
        &self,
        tree: &TreeGuard<'_>,
        name: &[u8],
        child: &Arc<Inode>,
    ) -> Result<(), Errno> {
        if self.lookup(name).is_ok() {
            self.unlink(tree, name, true)?;
        }
        self.add_new(tree, name, child)
    }

    // -----------------------------------------------------------------
    // Data

    /// Reads at `pos`; 0 at or past the end.
    pub fn read(&self, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        let mut s = self.state();
        let Body::Reg(p) = &s.body else {
            return Err(Errno::EISDIR);
        };
        if pos >= p.size {
            return Ok(0);
        }
        let n = usize::try_from((p.size - pos).min(buf.len() as u64)).unwrap_or(0);
        p.cache.read(pos, &mut buf[..n]);
        let t = now();
        // relatime: update atime if it is older than mtime or ctime, or a day old.
        if s.atime <= s.mtime || s.atime <= s.ctime || t.tv_sec - s.atime.tv_sec >= 86400 {
            s.atime = t;
        }
        Ok(n)
    }

    /// Writes at `pos` (`None`: at the end, atomically); returns the count
    /// and the end offset. A full budget gives a short count, or `ENOSPC`
    /// if nothing fit. Clears set-id bits unless `privileged`.
    pub fn write(
        &self,
        buf: &[u8],
        pos: Option<u64>,
        privileged: bool,
    ) -> Result<(usize, u64), Errno> {
        let mut s = self.state();
        let s = &mut *s;
        let Body::Reg(p) = &mut s.body else {
            return Err(Errno::EINVAL);
        };
        let pos = pos.unwrap_or(p.size);
        if pos >= MAX_LFS_FILESIZE {
            return Err(Errno::EFBIG);
        }
        let len = (buf.len() as u64).min(MAX_LFS_FILESIZE - pos);
        let len = usize::try_from(sealed_write_len(s.seals, p.size, pos, len)?).unwrap_or(0);
        let space = &self.fs.space;
        let done = p.cache.write(
            pos,
            &buf[..len],
            || space.charge(PAGE),
            || space.release(PAGE),
        )?;
        let end = pos + done as u64;
        if end > p.size {
            p.size = end;
        }
        if done > 0 {
            let t = now();
            s.mtime = t;
            s.ctime = t;
            if !privileged {
                kill_suid(&mut s.mode);
            }
        }
        Ok((done, end))
    }

    /// The file size.
    pub fn size(&self) -> u64 {
        match &self.state().body {
            Body::Reg(p) => p.size,
            _ => 0,
        }
    }

    /// The file's `F_SEAL_*` bits.
    pub fn seals(&self) -> u32 {
        self.state().seals
    }

    /// Sets the seals of a new memfd (`memfd_create`'s `MFD_ALLOW_SEALING`
    /// and `MFD_NOEXEC_SEAL`).
    pub fn init_seals(&self, seals: u32) {
        self.state().seals = seals;
    }

    /// `F_ADD_SEALS` (`memfd_add_seals`): `EPERM` once `F_SEAL_SEAL` is
    /// set. `F_SEAL_EXEC` on an executable file seals writes too, so it is
    /// write-xor-execute from then on.
    pub fn add_seals(&self, seals: u32) -> Result<(), Errno> {
        let mut s = self.state();
        if s.seals & F_SEAL_SEAL != 0 {
            return Err(Errno::EPERM);
        }
        let mut seals = seals;
        if seals & F_SEAL_EXEC != 0 && s.mode & 0o111 != 0 {
            seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
        }
        s.seals |= seals;
        Ok(())
    }

    /// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset`.
    pub fn seek_data(&self, offset: i64, data: bool) -> Result<u64, Errno> {
        let s = self.state();
        let Body::Reg(p) = &s.body else {
            return Err(Errno::EINVAL);
        };
        let off = u64::try_from(offset).map_err(|_| Errno::ENXIO)?;
        if off >= p.size {
            return Err(Errno::ENXIO);
        }
        let first = off / PAGE;
        if data {
            match p.cache.next_present(first) {
                Some(i) if i * PAGE < p.size => Ok(off.max(i * PAGE)),
                _ => Err(Errno::ENXIO),
            }
        } else {
            let mut i = first;
            while p.cache.contains(i) && i * PAGE < p.size {
                i += 1;
            }
            Ok(off.max(i * PAGE).min(p.size))
        }
    }

    /// `fallocate`: `mode` is 0, `KEEP_SIZE`, or `PUNCH_HOLE | KEEP_SIZE`
    /// (checked by the caller). All or nothing on `ENOSPC`.
    pub fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
        let mut s = self.state();
        let s = &mut *s;
        let Body::Reg(p) = &mut s.body else {
            return Err(Errno::ENODEV);
        };
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let t = now();
        if mode & FALLOC_FL_PUNCH_HOLE != 0 && s.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Err(Errno::EPERM);
        }
        if mode & FALLOC_FL_PUNCH_HOLE == 0 && s.seals & F_SEAL_GROW != 0 && end > p.size {
            return Err(Errno::EPERM);
        }
        if mode & FALLOC_FL_PUNCH_HOLE != 0 {
            self.punch(p, offset, end, false);
            s.mtime = t;
            s.ctime = t;
            return Ok(());
        }
        let (first, last) = (offset / PAGE, end.div_ceil(PAGE));
        let missing = (first..last).filter(|&i| !p.cache.contains(i)).count() as u64;
        let bytes = missing.checked_mul(PAGE).ok_or(Errno::ENOSPC)?;
        self.fs.space.charge(bytes)?;
        let mut added = Vec::new();
        for i in first..last {
            if p.cache.contains(i) {
                continue;
            }
            if p.cache.get_or_insert(i).is_err() {
                // All or nothing: the MemoryFile is full.
                for &j in &added {
                    p.cache.punch(j * PAGE, (j + 1) * PAGE);
                }
                self.fs.space.release(bytes);
                return Err(Errno::ENOSPC);
            }
            added.push(i);
        }
        if mode & FALLOC_FL_KEEP_SIZE == 0 && end > p.size {
            p.size = end;
            s.mtime = t;
        }
        s.ctime = t;
        Ok(())
    }

    /// Frees the whole pages of `[start, end)` and zeroes the parts of
    /// partial pages at its edges; mappings drop the freed pages
    /// (`truncation`, with `end` at `u64::MAX`: private copies too, as
    /// truncation does on Linux).
    fn punch(&self, p: &mut Pages, start: u64, end: u64, truncation: bool) {
        let freed = p.cache.punch(start, end);
        self.fs.space.release(freed * PAGE);
        self.mappings.invalidate(start, end, truncation);
    }

    /// Whether `file_offset` (inside the file) lies in a hole: a page
    /// never written or punched since.
    pub fn is_hole(&self, file_offset: u64) -> bool {
        match &self.state().body {
            Body::Reg(p) => file_offset < p.size && !p.cache.contains(file_offset / PAGE),
            _ => false,
        }
    }

    /// The MemoryFile page holding `file_offset` (page-aligned) for a
    /// shared mapping, with a reference for it; a hole gets a zeroed page,
    /// charged to the budget.
    ///
    /// # Errors
    /// `EFAULT` at or beyond the end of file, `ENOSPC` if the budget or the
    /// MemoryFile is full.
    pub fn shared_page(&self, file_offset: u64) -> Result<u64, Errno> {
        let mut s = self.state();
        let Body::Reg(p) = &mut s.body else {
            return Err(Errno::EFAULT);
        };
        if file_offset >= p.size {
            return Err(Errno::EFAULT);
        }
        let index = file_offset / PAGE;
        if !p.cache.contains(index) {
            self.fs.space.charge(PAGE)?;
            if p.cache.get_or_insert(index).is_err() {
                self.fs.space.release(PAGE);
                return Err(Errno::ENOSPC);
            }
        }
        p.cache.share(index).ok_or(Errno::EFAULT)
    }

    /// Applies `attr` (permission checks done by the caller).
    pub fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        let mut s = self.state();
        let s = &mut *s;
        let t = now();
        if let Some(mode) = attr.mode
            && s.seals & F_SEAL_EXEC != 0
            && (s.mode ^ mode) & 0o111 != 0
        {
            return Err(Errno::EPERM);
        }
        if let Some(size) = attr.size {
            let Body::Reg(p) = &mut s.body else {
                return Err(Errno::EINVAL);
            };
            if (size < p.size && s.seals & F_SEAL_SHRINK != 0)
                || (size > p.size && s.seals & F_SEAL_GROW != 0)
            {
                return Err(Errno::EPERM);
            }
            if size != p.size {
                if size < p.size {
                    self.punch(p, size, u64::MAX, true);
                }
                p.size = size;
                s.mtime = t;
            }
            // do_truncate: ATTR_MTIME | ATTR_CTIME even for the same size
            // (the caller decides; an open(O_TRUNC) of an empty file too).
            s.mtime = t;
        }
        if let Some(mode) = attr.mode {
            s.mode = (s.mode & S_IFMT) | (mode & !S_IFMT);
        }
        if let Some(uid) = attr.uid {
            s.uid = uid;
        }
        if let Some(gid) = attr.gid {
            s.gid = gid;
        }
        if attr.kill_suid && s.mode & S_IFMT != S_IFDIR {
            kill_suid(&mut s.mode);
        }
        match attr.atime {
            Some(SetTime::Now) => s.atime = t,
            Some(SetTime::At(at)) => s.atime = at,
            None => {}
        }
        match attr.mtime {
            Some(SetTime::Now) => s.mtime = t,
            Some(SetTime::At(at)) => s.mtime = at,
            None => {}
        }
        s.ctime = t;
        Ok(())
    }

    /// Copies every attribute the overlay keeps on copy-up from `st`.
    pub fn copy_meta(&self, st: &Stat) {
        let mut s = self.state();
        s.mode = st.st_mode;
        s.uid = st.st_uid;
        s.gid = st.st_gid;
        s.rdev = st.st_rdev;
        s.atime = st.st_atime;
        s.mtime = st.st_mtime;
    }

    // -----------------------------------------------------------------
    // Extended attributes (names are full, with their namespace prefix).

    /// The attribute `name`, or `ENODATA`.
    pub fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        self.state().xattrs.get(name).cloned().ok_or(Errno::ENODATA)
    }

    /// Sets the attribute `name`.
    pub fn setxattr(&self, name: &[u8], value: &[u8], mode: XattrMode) -> Result<(), Errno> {
        let mut s = self.state();
        let old = s
            .xattrs
            .get(name)
            .map(|v| v.len() as u64 + name.len() as u64);
        match (mode, old) {
            (XattrMode::Create, Some(_)) => return Err(Errno::EEXIST),
            (XattrMode::Replace, None) => return Err(Errno::ENODATA),
            _ => {}
        }
        let new = value.len() as u64 + name.len() as u64;
        self.fs.space.charge(new)?;
        self.fs.space.release(old.unwrap_or(0));
        s.charged = s.charged + new - old.unwrap_or(0);
        s.xattrs.insert(name.to_vec(), value.to_vec());
        s.ctime = now();
        Ok(())
    }

    /// Removes the attribute `name`, or `ENODATA`.
    pub fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        let mut s = self.state();
        let value = s.xattrs.remove(name).ok_or(Errno::ENODATA)?;
        let bytes = value.len() as u64 + name.len() as u64;
        self.fs.space.release(bytes);
        s.charged = s.charged.saturating_sub(bytes);
        s.ctime = now();
        Ok(())
    }

    /// The attribute names.
    pub fn listxattr(&self) -> Vec<Vec<u8>> {
        self.state().xattrs.keys().cloned().collect()
    }
}

/// `should_remove_suid`: clear set-user-id, and set-group-id when the file
/// is group-executable.
/// How much of a `len`-byte write at `pos` the seals `seals` let through
/// on a file of `size` bytes: none under a write seal, and under
/// `F_SEAL_GROW` what ends within the file (`EPERM` if nothing does).
fn sealed_write_len(seals: u32, size: u64, pos: u64, len: u64) -> Result<u64, Errno> {
    if len == 0 {
        return Ok(0);
    }
    if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
        return Err(Errno::EPERM);
    }
    if seals & F_SEAL_GROW == 0 {
        return Ok(len);
    }
    if pos >= size {
        return Err(Errno::EPERM);
    }
    Ok(len.min(size - pos))
}

pub(crate) fn kill_suid(mode: &mut u32) {
    *mode &= !S_ISUID;
    if *mode & (S_ISGID | S_IXGRP) == (S_ISGID | S_IXGRP) {
        *mode &= !S_ISGID;
    }
}

/// What a mapping of a tmpfs file maps: the file's own pages (a private
/// mapping copies a page when it first writes it).
#[derive(Debug)]
pub struct TmpfsMapping {
    inode: Arc<Inode>,
    name: FileName,
}

impl TmpfsMapping {
    /// A mapping source for `inode`, called `name` in `/proc/[pid]/maps`.
    pub(crate) fn new(inode: Arc<Inode>, name: FileName) -> Arc<TmpfsMapping> {
        Arc::new(TmpfsMapping { inode, name })
    }
}

impl Mappable for TmpfsMapping {
    fn size(&self) -> Result<u64, Errno> {
        Ok(self.inode.size())
    }

    fn identity(&self) -> (u64, u64, String) {
        let st = self.inode.stat();
        (st.st_dev, st.st_ino, self.name.get())
    }

    fn shared_page(
        &self,
        _: &Arc<MemoryAllocator>,
        file_offset: u64,
        _: bool,
    ) -> Result<Option<u64>, Errno> {
        // The file's pages come from its file system's allocator, which
        // draws on the same MemoryFile.
        self.inode.shared_page(file_offset).map(Some)
    }

    fn is_hole(&self, file_offset: u64) -> bool {
        self.inode.is_hole(file_offset)
    }

    fn mapping_set(&self) -> Option<Arc<MappingSet>> {
        Some(Arc::clone(&self.inode.mappings))
    }

    fn punch_hole(&self, offset: u64, len: u64) -> Result<(), Errno> {
        self.inode
            .fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len)
    }
}

/// The `FileOps` of an open tmpfs regular file.
#[derive(Debug)]
pub struct TmpfsFileOps {
    inode: Arc<Inode>,
    name: FileName,
    /// Whether the opener may keep set-id bits on write (`CAP_FSETID`).
    privileged: bool,
}

impl TmpfsFileOps {
    /// Operations on `inode`, opened as `name` by a task that is (or is
    /// not) privileged.
    pub(crate) fn new(inode: Arc<Inode>, name: FileName, privileged: bool) -> TmpfsFileOps {
        TmpfsFileOps {
            inode,
            name,
            privileged,
        }
    }
}

impl FileOps for TmpfsFileOps {
    fn read(&self, _: &File, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        self.inode.read(buf, pos)
    }

    fn write(&self, _: &File, buf: &[u8], pos: u64) -> Result<usize, Errno> {
        self.inode
            .write(buf, Some(pos), self.privileged)
            .map(|(n, _)| n)
    }

    fn append(&self, _: &File, buf: &[u8]) -> Result<(usize, u64), Errno> {
        self.inode.write(buf, None, self.privileged)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        match whence {
            abi::fcntl::SEEK_DATA => self.inode.seek_data(offset, true),
            abi::fcntl::SEEK_HOLE => self.inode.seek_data(offset, false),
            _ => generic_seek(pos, self.inode.size(), offset, whence),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.inode.fs.statfs())
    }

    fn truncate(&self, size: u64) -> Result<(), Errno> {
        self.inode.setattr(&SetAttr {
            size: Some(size),
            kill_suid: !self.privileged,
            ..SetAttr::default()
        })
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
        self.inode.fallocate(mode, offset, len)
    }

    fn seals(&self) -> Result<u32, Errno> {
        Ok(self.inode.seals())
    }

    fn add_seals(&self, seals: u32) -> Result<(), Errno> {
        self.inode.add_seals(seals)
    }

    fn ioctl(&self, file: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        if cmd == abi::termios::FIONREAD {
            let left = self.inode.size().saturating_sub(file.pos());
            let left = i32::try_from(left).unwrap_or(i32::MAX);
            mm.write_obj(arg, &left)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn mmap_backing(&self) -> Result<MmapBacking, Errno> {
        Ok(MmapBacking::File(
            TmpfsMapping::new(Arc::clone(&self.inode), self.name.clone()) as Arc<dyn Mappable>,
        ))
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// The `FileOps` of an open tmpfs directory.
#[derive(Debug)]
pub struct TmpfsDirOps {
    inode: Arc<Inode>,
    /// Mount points in this directory, merged into its listing.
    mounts: Vec<(Vec<u8>, u64)>,
}

impl TmpfsDirOps {
    /// Operations on the directory `inode`; `mounts` are mount points in it.
    pub fn new(inode: Arc<Inode>, mounts: Vec<(Vec<u8>, u64)>) -> TmpfsDirOps {
        TmpfsDirOps { inode, mounts }
    }
}

/// Adds mount points missing from a listing.
pub(crate) fn merge_mounts(entries: &mut Vec<DirEntry>, mounts: &[(Vec<u8>, u64)]) {
    for (name, ino) in mounts {
        match entries.iter_mut().find(|e| &e.name == name) {
            Some(e) => e.kind = DT_DIR,
            None => entries.push(DirEntry {
                ino: *ino,
                kind: DT_DIR,
                name: name.clone(),
            }),
        }
    }
}

impl FileOps for TmpfsDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.inode.fs.statfs())
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut entries = self.inode.dirents()?;
        merge_mounts(&mut entries, &self.mounts);
        Ok(entries)
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use abi::stat::S_IFREG;

    fn pages(max: u64) -> Arc<MemoryAllocator> {
        MemoryAllocator::new(Arc::new(platform::MemoryFile::new(max).expect("memfd")))
    }

    fn fs(max: u64) -> (Arc<FsShared>, Arc<Inode>) {
        let fs = FsShared::new(
            42,
            abi::stat::TMPFS_MAGIC,
            0,
            SpaceLimit::new(max, pages(max)),
        );
        let root = fs.new_inode(S_IFDIR | 0o755, 0, 0, 0, None).unwrap();
        (fs, root)
    }

    #[test]
    fn files_are_sparse_and_limited() {
        let (fs, root) = fs(64 * 1024);
        let f = fs.new_inode(S_IFREG | 0o644, 0, 0, 0, None).unwrap();
        root.add_new(&fs.lock_tree(), b"f", &f).unwrap();
        assert_eq!(f.write(b"hello", Some(0), true).unwrap(), (5, 5));
        assert_eq!(f.write(b"x", Some(40000), true).unwrap(), (1, 40001));
        let mut buf = [1u8; 8];
        assert_eq!(f.read(&mut buf, 3).unwrap(), 8);
        assert_eq!(&buf, b"lo\0\0\0\0\0\0");
        assert_eq!(f.stat().st_blocks, 16);
        assert_eq!(f.seek_data(5, false), Ok(4096));
        assert_eq!(f.seek_data(5000, true), Ok(36864));
        assert_eq!(f.seek_data(40001, true), Err(Errno::ENXIO));
        // 64 KiB: the inodes and two pages are used, so a big write is short.
        let big = vec![7u8; 128 * 1024];
        let (n, _) = f.write(&big, Some(100_000), true).unwrap();
        assert!(n > 0 && n < big.len());
        assert_eq!(f.write(&big, Some(1 << 30), true), Err(Errno::ENOSPC));
        let used = fs.space().used();
        f.setattr(&SetAttr {
            size: Some(0),
            ..SetAttr::default()
        })
        .unwrap();
        assert!(fs.space().used() < used);
        assert_eq!(f.fallocate(0, 0, 1 << 30), Err(Errno::ENOSPC));
        assert_eq!(f.size(), 0);
        f.fallocate(FALLOC_FL_KEEP_SIZE, 0, 8192).unwrap();
        assert_eq!(f.size(), 0);
        assert_eq!(f.stat().st_blocks, 16);
        drop(root.unlink(&fs.lock_tree(), b"f", false).unwrap());
        assert_eq!(f.nlink(), 0);
        drop(f);
        assert_eq!(fs.space().used(), INODE_COST);
    }

    #[test]
    fn punch_holes_and_truncate_zero_tails() {
        let (fs, _root) = fs(1 << 20);
        let f = fs.new_inode(S_IFREG | 0o644, 0, 0, 0, None).unwrap();
        f.write(&[9u8; 3 * 4096], Some(0), true).unwrap();
        f.fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 5000)
            .unwrap();
        let mut buf = vec![0u8; 3 * 4096];
        f.read(&mut buf, 0).unwrap();
        assert!(buf[..100].iter().all(|&b| b == 9));
        assert!(buf[100..5100].iter().all(|&b| b == 0));
        assert!(buf[5100..].iter().all(|&b| b == 9));
        f.setattr(&SetAttr {
            size: Some(10),
            ..SetAttr::default()
        })
        .unwrap();
        f.setattr(&SetAttr {
            size: Some(20),
            ..SetAttr::default()
        })
        .unwrap();
        let mut buf = [1u8; 20];
        assert_eq!(f.read(&mut buf, 0).unwrap(), 20);
        assert_eq!(&buf[10..], &[0; 10]);
    }

    #[test]
    fn shared_pages_are_the_file_data() {
        let (fs, _root) = fs(1 << 20);
        let f = fs.new_inode(S_IFREG | 0o644, 0, 0, 0, None).unwrap();
        f.write(b"hello", Some(0), true).unwrap();
        assert_eq!(
            f.shared_page(4096),
            Err(Errno::EFAULT),
            "beyond end of file"
        );
        let page = f.shared_page(0).unwrap();
        fs.space().pages.file().write(page, b"J");
        let mut buf = [0u8; 5];
        f.read(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"Jello");
        // Truncation drops the file's reference; the mapping's keeps the page.
        f.setattr(&SetAttr {
            size: Some(0),
            ..SetAttr::default()
        })
        .unwrap();
        assert_eq!(fs.space().pages.allocated(), 4096);
        f.write(b"x", Some(0), true).unwrap();
        assert_ne!(
            f.shared_page(0).unwrap(),
            page,
            "a new page after truncation"
        );
    }

    #[test]
    fn directories_count_links() {
        let (fs, root) = fs(1 << 20);
        let tree = fs.lock_tree();
        let d = fs.new_inode(S_IFDIR | 0o755, 0, 0, 0, None).unwrap();
        root.add_new(&tree, b"d", &d).unwrap();
        assert_eq!((root.nlink(), d.nlink()), (3, 2));
        let f = fs.new_inode(S_IFREG | 0o644, 0, 0, 0, None).unwrap();
        d.add_new(&tree, b"f", &f).unwrap();
        d.link(&tree, b"g", &f).unwrap();
        assert_eq!(f.nlink(), 2);
        assert_eq!(d.link(&tree, b"g", &f), Err(Errno::EEXIST));
        assert_eq!(
            root.unlink(&tree, b"d", false).err(),
            Some(Errno::ENOTEMPTY)
        );
        d.unlink(&tree, b"f", false).unwrap();
        d.unlink(&tree, b"g", false).unwrap();
        assert_eq!(f.nlink(), 0);
        root.unlink(&tree, b"d", false).unwrap();
        assert_eq!(root.nlink(), 2);
        let names: Vec<Vec<u8>> = root
            .dirents()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, [b".".to_vec(), b"..".to_vec()]);
    }

    #[test]
    fn xattrs() {
        let (fs, _) = fs(1 << 20);
        let f = fs.new_inode(S_IFREG | 0o644, 0, 0, 0, None).unwrap();
        assert_eq!(f.getxattr(b"user.a"), Err(Errno::ENODATA));
        assert_eq!(
            f.setxattr(b"user.a", b"1", XattrMode::Replace),
            Err(Errno::ENODATA)
        );
        f.setxattr(b"user.a", b"1", XattrMode::Create).unwrap();
        assert_eq!(
            f.setxattr(b"user.a", b"2", XattrMode::Create),
            Err(Errno::EEXIST)
        );
        f.setxattr(b"user.a", b"22", XattrMode::Replace).unwrap();
        assert_eq!(f.getxattr(b"user.a").unwrap(), b"22");
        assert_eq!(f.listxattr(), [b"user.a".to_vec()]);
        f.removexattr(b"user.a").unwrap();
        assert_eq!(f.removexattr(b"user.a"), Err(Errno::ENODATA));
    }

    #[test]
    fn deep_trees_drop_without_recursion() {
        let (fs, root) = fs(1 << 30);
        let tree = fs.lock_tree();
        let mut cur = Arc::clone(&root);
        for _ in 0..100_000 {
            let d = fs.new_inode(S_IFDIR | 0o755, 0, 0, 0, None).unwrap();
            cur.add_new(&tree, b"d", &d).unwrap();
            cur = d;
        }
        drop(cur);
        drop(tree);
        drop(root);
        assert_eq!(fs.space().used(), 0);
    }
}
