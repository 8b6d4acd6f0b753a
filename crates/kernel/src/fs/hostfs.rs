//! hostfs: the rootfs, a host directory the sandbox sees read-only, and
//! `--volume` bind mounts, which may be writable.
//!
//! A node is an `O_PATH | O_NOFOLLOW` fd on the host plus its status at
//! lookup. Opening one for I/O re-opens it from its parent with
//! `O_NOFOLLOW | O_NOCTTY | O_NONBLOCK` and checks that (device, inode) did
//! not change in between, so a host-side rename cannot slip a different file
//! (or a FIFO) in. Nodes of the rootfs and of `:ro` volumes are only ever
//! opened for reading; every change to them is refused above this module
//! with `EROFS`.
//!
//! On a writable volume every change is one host call relative to a
//! directory fd the sentry holds and one name the walk checked (never a
//! path): `openat(O_CREAT | O_EXCL)`, `mkdirat`, `symlinkat`, `unlinkat`,
//! `renameat2`, `linkat` without following; metadata goes through the
//! node's `O_PATH` fd with `AT_EMPTY_PATH` (`fchmodat2`, `fchownat`,
//! `utimensat`), so no symlink the program plants can redirect a change
//! outside the volume. Device nodes are never made or opened (the runtime
//! also mounts volumes `nodev`).
//!
//! Mappings of a file on a writable volume go through a [`HostCache`]: the
//! file's pages in the MemoryFile, filled from the host on first touch, one
//! per host (device, inode) while any mapping of it lives. Shared mappings
//! store into those pages; the sentry's own `read(2)` and `write(2)` of the
//! file read and update them too, so the sandbox sees one file. They are
//! written back to the host on `msync`, `munmap`, `fsync` and when the last
//! mapping goes (at exit at the latest). Other host processes get no
//! coherence while the file is mapped: they see stores at writeback, and
//! the sandbox does not see their writes to pages it has cached (as two
//! machines sharing a file over NFS).

use std::collections::{BTreeMap, BTreeSet};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use abi::Errno;
use abi::fcntl::{DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN};
use abi::stat::{S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, Stat, Statfs, Statx};
use abi::xattr::XATTR_USER_PREFIX;
use platform::MemoryFile;
use zerocopy::FromBytes;

use super::host;
use super::overlay::NewNode;
use super::tmpfs::{SetAttr, SetTime, XattrMode};
use crate::mm::{
    Mappable, MappingSet, MemoryAllocator, MemoryManager, MmapBacking, PageCache, chunk_in_page,
};
use crate::vfs::{DirEntry, File, FileName, FileOps, dir_seek, generic_seek};

/// A host file or directory, as the path walk found it.
#[derive(Clone, Debug)]
pub struct HostNode {
    /// The `O_PATH | O_NOFOLLOW` fd; for an `O_TMPFILE` file, its
    /// `O_RDWR` fd.
    pub(crate) fd: Arc<OwnedFd>,
    /// The directory it was found in (`None` for the rootfs itself and
    /// for `O_TMPFILE` files).
    parent: Option<Arc<OwnedFd>>,
    /// Its name in `parent`.
    name: Vec<u8>,
    /// Its status at lookup.
    pub(crate) stat: Stat,
    /// On a writable volume: the sandbox may change it.
    writable: bool,
}

/// Host errnos a lookup may pass on. The sentry running out of its own fds
/// is the system's limit (`ENFILE`), not the program's `EMFILE`.
fn lookup_errno(e: Errno) -> Errno {
    if e == Errno::EMFILE { Errno::ENFILE } else { e }
}

impl HostNode {
    /// The host (device, inode).
    pub(crate) fn key(&self) -> (u64, u64) {
        (self.stat.st_dev, self.stat.st_ino)
    }

    /// Whether the node was found as `name` in `dir` (so it reopens there).
    pub(crate) fn found_as(&self, dir: &HostNode, name: &[u8]) -> bool {
        self.parent
            .as_ref()
            .is_some_and(|p| Arc::ptr_eq(p, &dir.fd))
            && self.name == name
    }

    /// Whether `other` is this node through the same handle: the same
    /// file and, for anything but a directory (which is reached through
    /// its own fd), the same directory and name to reopen it by.
    pub(crate) fn same_as(&self, other: &HostNode) -> bool {
        let same_place = match (&self.parent, &other.parent) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) && self.name == other.name,
            (None, None) => true,
            _ => false,
        };
        self.key() == other.key() && (self.stat.st_mode & S_IFMT == S_IFDIR || same_place)
    }

    /// The rootfs directory `fd`.
    pub(crate) fn root(fd: OwnedFd) -> Result<HostNode, Errno> {
        let stat = host::fstat(fd.as_fd())?;
        if stat.st_mode & S_IFMT != abi::stat::S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        Ok(HostNode {
            fd: Arc::new(fd),
            parent: None,
            name: Vec::new(),
            stat,
            writable: false,
        })
    }

    /// The root directory `fd` of a `--volume`, writable unless `read_only`.
    pub(crate) fn volume(fd: OwnedFd, read_only: bool) -> Result<HostNode, Errno> {
        let mut node = HostNode::root(fd)?;
        node.writable = !read_only;
        Ok(node)
    }

    /// Whether the node is on a writable volume.
    pub(crate) fn writable(&self) -> bool {
        self.writable
    }

    /// The child `name` of this directory (never `.` or `..`).
    pub(crate) fn lookup(&self, name: &[u8]) -> Result<HostNode, Errno> {
        let fd = host::openat(self.fd.as_fd(), name, libc::O_PATH | libc::O_NOFOLLOW)
            .map_err(lookup_errno)?;
        let stat = host::fstat(fd.as_fd())?;
        Ok(HostNode {
            fd: Arc::new(fd),
            parent: Some(Arc::clone(&self.fd)),
            name: name.to_vec(),
            stat,
            writable: self.writable,
        })
    }

    /// The node's current status.
    pub(crate) fn fresh_stat(&self) -> Result<Stat, Errno> {
        host::fstat(self.fd.as_fd())
    }

    /// `statx` of the node.
    pub(crate) fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        host::statx(self.fd.as_fd(), sync, mask)
    }

    /// `statfs` of the file system the node is on, marked read-only
    /// unless the volume is writable.
    pub(crate) fn statfs(&self) -> Result<Statfs, Errno> {
        volume_statfs(host::fstatfs(self.fd.as_fd())?, self.writable)
    }

    /// The symlink's target.
    pub(crate) fn readlink(&self) -> Result<Vec<u8>, Errno> {
        host::readlink(self.fd.as_fd())
    }

    /// Opens the regular file for reading; `name` is what
    /// /proc/[pid]/maps calls it.
    pub(crate) fn open_regular(&self, name: FileName) -> Result<Arc<HostFile>, Errno> {
        self.open_file(name, libc::O_RDONLY)
    }

    /// Opens the regular file with the host access mode `mode` (`O_RDONLY`,
    /// `O_WRONLY` or `O_RDWR`, plus `O_TRUNC`); anything but `O_RDONLY`
    /// needs a writable volume (`EROFS`).
    pub(crate) fn open_file(&self, name: FileName, mode: i32) -> Result<Arc<HostFile>, Errno> {
        if mode != libc::O_RDONLY && !self.writable {
            return Err(Errno::EROFS);
        }
        let (fd, stat) = self.reopen_regular(mode)?;
        let file = Arc::new(HostFile {
            fd,
            dev: stat.st_dev,
            ino: stat.st_ino,
            name,
            writable: self.writable,
            opened_for_writing: mode & libc::O_ACCMODE != libc::O_RDONLY,
        });
        if mode & libc::O_TRUNC != 0
            && let Some(cache) = file.cache()
        {
            // The host emptied the file: so must its mappings.
            cache.punch(0, u64::MAX);
        }
        Ok(file)
    }

    /// Re-opens the regular file from its parent with the host access
    /// `mode`, checking it is still the file the walk found.
    fn reopen_regular(&self, mode: i32) -> Result<(OwnedFd, Stat), Errno> {
        let flags = mode | libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_NONBLOCK;
        let fd = match &self.parent {
            Some(parent) => host::openat(parent.as_fd(), &self.name, flags),
            // No name to open it by: its own fd, open for reading and
            // writing, serves (the description checks the access mode).
            None if self.is_unnamed() => self
                .fd
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| host_errno(&e)),
            None => Err(Errno::EISDIR),
        }
        .map_err(lookup_errno)?;
        let stat = host::fstat(fd.as_fd())?;
        if (stat.st_dev, stat.st_ino) != (self.stat.st_dev, self.stat.st_ino)
            || stat.st_mode & S_IFMT != S_IFREG
        {
            // Replaced on the host between lookup and open.
            return Err(Errno::ENOENT);
        }
        Ok((fd, stat))
    }

    /// A descriptor the host's xattr calls accept (an `O_PATH` one is
    /// not), for the kinds that carry `user.*` attributes; `None` for
    /// the others.
    fn xattr_fd(&self) -> Result<Option<OwnedFd>, Errno> {
        match self.stat.st_mode & S_IFMT {
            S_IFDIR => host::openat(self.fd.as_fd(), b".", libc::O_RDONLY | libc::O_DIRECTORY)
                .map(Some)
                .map_err(lookup_errno),
            S_IFREG => self.reopen_regular(libc::O_RDONLY).map(|(fd, _)| Some(fd)),
            _ => Ok(None),
        }
    }

    /// The host attribute `name`. Only the `user.*` namespace is passed
    /// through: the host's `security.*` and `trusted.*` attributes (labels,
    /// file capabilities) are the host's business, and read as absent.
    pub(crate) fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        if !name.starts_with(XATTR_USER_PREFIX) {
            return Err(Errno::ENODATA);
        }
        let fd = self.xattr_fd()?.ok_or(Errno::ENODATA)?;
        host::fgetxattr(fd.as_fd(), name)
    }

    /// The host's `user.*` attribute names (see [`HostNode::getxattr`]).
    pub(crate) fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        let Some(fd) = self.xattr_fd()? else {
            return Ok(Vec::new());
        };
        Ok(user_names(host::flistxattr(fd.as_fd())?))
    }

    /// Every `user.*` attribute with its value, read through one open of
    /// the file (for copy-up).
    pub(crate) fn user_xattrs(&self) -> Result<Vec<Xattr>, Errno> {
        let Some(fd) = self.xattr_fd()? else {
            return Ok(Vec::new());
        };
        Ok(user_names(host::flistxattr(fd.as_fd())?)
            .into_iter()
            .filter_map(|name| {
                // One removed meanwhile on the host is simply not copied.
                let value = host::fgetxattr(fd.as_fd(), &name).ok()?;
                Some((name, value))
            })
            .collect())
    }

    /// Sets (`Some(value)`) or removes (`None`) the `user.*` attribute
    /// `name` on a writable volume. Other namespaces would need the host
    /// privileges the sentry does not hold: `EPERM`.
    pub(crate) fn set_xattr(
        &self,
        name: &[u8],
        value: Option<&[u8]>,
        mode: XattrMode,
    ) -> Result<(), Errno> {
        if !self.writable {
            return Err(Errno::EROFS);
        }
        if !name.starts_with(XATTR_USER_PREFIX) {
            return Err(Errno::EPERM);
        }
        let fd = self.xattr_fd()?.ok_or(Errno::EPERM)?;
        match value {
            Some(value) => {
                let flags = match mode {
                    XattrMode::Any => 0,
                    XattrMode::Create => libc::XATTR_CREATE,
                    XattrMode::Replace => libc::XATTR_REPLACE,
                };
                host::fsetxattr(fd.as_fd(), name, value, flags)
            }
            None => host::fremovexattr(fd.as_fd(), name),
        }
    }

    /// Opens the directory for listing; `mounts` are names of mount points
    /// in it, merged into its listing.
    pub(crate) fn open_dir(&self, mounts: Vec<(Vec<u8>, u64)>) -> Result<HostDirOps, Errno> {
        let fd = host::openat(self.fd.as_fd(), b".", libc::O_RDONLY | libc::O_DIRECTORY)
            .map_err(lookup_errno)?;
        Ok(HostDirOps {
            fd,
            mounts,
            writable: self.writable,
        })
    }

    /// Makes `name` in this directory of a writable volume (permission
    /// checks done): a regular file, directory, symlink, FIFO or socket with
    /// `new.mode`'s permission bits. Device nodes get `EPERM`. Returns the
    /// new node; `EEXIST` if the name is taken.
    pub(crate) fn create(&self, name: &[u8], new: &NewNode<'_>) -> Result<HostNode, Errno> {
        if !self.writable {
            return Err(Errno::EROFS);
        }
        let perm = new.mode & abi::stat::S_IALLUGO;
        let dir = self.fd.as_fd();
        match new.mode & S_IFMT {
            S_IFREG => {
                let flags = libc::O_CREAT
                    | libc::O_EXCL
                    | libc::O_WRONLY
                    | libc::O_NOFOLLOW
                    | libc::O_NOCTTY
                    | libc::O_NONBLOCK;
                drop(host::openat_mode(dir, name, flags, perm)?);
            }
            S_IFDIR => host::mkdirat(dir, name, perm)?,
            S_IFLNK => host::symlinkat(new.target.ok_or(Errno::EINVAL)?, dir, name)?,
            S_IFIFO | S_IFSOCK => host::mknodat(dir, name, new.mode & (S_IFMT | perm))?,
            _ => return Err(Errno::EPERM),
        }
        let node = self.lookup(name)?;
        // The sentry's umask must not narrow the mode the program asked for.
        if new.mode & S_IFMT != S_IFLNK && node.stat.st_mode & abi::stat::S_IALLUGO != perm {
            host::fchmod_path_fd(node.fd.as_fd(), perm)?;
        }
        Ok(node)
    }

    /// An unnamed regular file in this directory of a writable volume
    /// (`O_TMPFILE`, permission checks done) with `new.mode`'s permission
    /// bits, which `linkat` may name unless `linkable` is false. A host
    /// file system without `O_TMPFILE` gives `EOPNOTSUPP`.
    pub(crate) fn tmpfile(&self, new: &NewNode<'_>, linkable: bool) -> Result<HostNode, Errno> {
        if !self.writable {
            return Err(Errno::EROFS);
        }
        let perm = new.mode & abi::stat::S_IALLUGO;
        let excl = if linkable { 0 } else { libc::O_EXCL };
        // The file is opened for reading and writing whatever the program
        // asked for: this fd is the only way to it, for every later open.
        let flags = libc::O_TMPFILE | libc::O_RDWR | excl | libc::O_NOCTTY | libc::O_NONBLOCK;
        let fd = match host::openat_mode(self.fd.as_fd(), b".", flags, perm) {
            // A kernel without O_TMPFILE sees O_DIRECTORY | O_RDWR.
            Err(Errno::EISDIR) => return Err(Errno::EOPNOTSUPP),
            other => other?,
        };
        let mut stat = host::fstat(fd.as_fd())?;
        if stat.st_mode & abi::stat::S_IALLUGO != perm {
            host::fchmod_path_fd(fd.as_fd(), perm)?;
            stat = host::fstat(fd.as_fd())?;
        }
        Ok(HostNode {
            fd: Arc::new(fd),
            parent: None,
            name: Vec::new(),
            stat,
            writable: true,
        })
    }

    /// An `O_TMPFILE` file: a regular file with no directory to find it in.
    fn is_unnamed(&self) -> bool {
        self.parent.is_none() && self.stat.st_mode & S_IFMT == S_IFREG
    }

    /// Removes `name` (a directory if `is_dir`) from this directory of a
    /// writable volume.
    pub(crate) fn remove(&self, name: &[u8], is_dir: bool) -> Result<(), Errno> {
        if !self.writable {
            return Err(Errno::EROFS);
        }
        let child = self.lookup(name)?;
        let child_dir = child.stat.st_mode & S_IFMT == S_IFDIR;
        match (is_dir, child_dir) {
            (true, false) => Err(Errno::ENOTDIR),
            (false, true) => Err(Errno::EISDIR),
            _ => host::unlinkat(self.fd.as_fd(), name, is_dir),
        }
    }

    /// Renames `old` in this directory to `new` in `new_dir` (both on one
    /// writable volume); `flags` are `renameat2`'s.
    pub(crate) fn rename(
        &self,
        old: &[u8],
        new_dir: &HostNode,
        new: &[u8],
        flags: u32,
    ) -> Result<(), Errno> {
        if !self.writable || !new_dir.writable {
            return Err(Errno::EROFS);
        }
        host::renameat2(self.fd.as_fd(), old, new_dir.fd.as_fd(), new, flags)
    }

    /// Links this node as `name` in `dir` (both on one writable volume).
    pub(crate) fn link(&self, dir: &HostNode, name: &[u8]) -> Result<(), Errno> {
        if !dir.writable {
            return Err(Errno::EROFS);
        }
        let Some(parent) = &self.parent else {
            if self.is_unnamed() {
                // The host refuses an `O_EXCL` one (`ENOENT`), as Linux does.
                return host::linkat(
                    self.fd.as_fd(),
                    b"",
                    dir.fd.as_fd(),
                    name,
                    libc::AT_EMPTY_PATH,
                );
            }
            return Err(Errno::EPERM);
        };
        let now = host::openat(parent.as_fd(), &self.name, libc::O_PATH | libc::O_NOFOLLOW)?;
        let st = host::fstat(now.as_fd())?;
        if (st.st_dev, st.st_ino) != (self.stat.st_dev, self.stat.st_ino) {
            // Renamed on the host since the lookup.
            return Err(Errno::ENOENT);
        }
        host::linkat(parent.as_fd(), &self.name, dir.fd.as_fd(), name, 0)
    }

    /// Applies `attr` to the node on a writable volume (checks done).
    pub(crate) fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        if !self.writable {
            return Err(Errno::EROFS);
        }
        let fd = self.fd.as_fd();
        if let Some(size) = attr.size {
            HostFileOps(self.open_file(FileName::default(), libc::O_WRONLY)?).truncate(size)?;
        }
        if attr.uid.is_some() || attr.gid.is_some() {
            host::fchown_path_fd(
                fd,
                attr.uid.unwrap_or(u32::MAX),
                attr.gid.unwrap_or(u32::MAX),
            )?;
        }
        if let Some(mode) = attr.mode {
            host::fchmod_path_fd(fd, mode & abi::stat::S_IALLUGO)?;
        }
        if attr.atime.is_some() || attr.mtime.is_some() {
            let time = |t: Option<SetTime>| match t {
                None => (0, abi::stat::UTIME_OMIT),
                Some(SetTime::Now) => (0, abi::stat::UTIME_NOW),
                Some(SetTime::At(ts)) => (ts.tv_sec, ts.tv_nsec),
            };
            host::utimens_path_fd(fd, time(attr.atime), time(attr.mtime))?;
        }
        Ok(())
    }
}

/// Marks a host `statfs` read-only unless the volume is writable.
/// An extended attribute: its full name and its value.
pub(crate) type Xattr = (Vec<u8>, Vec<u8>);

/// The names of the `user.*` namespace, the only one passed through.
fn user_names(mut names: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    names.retain(|n| n.starts_with(XATTR_USER_PREFIX));
    names
}

fn volume_statfs(mut st: Statfs, writable: bool) -> Result<Statfs, Errno> {
    if !writable {
        st.f_flags |= abi::stat::ST_RDONLY;
    }
    Ok(st)
}

/// An open host regular file, also what a file mapping of it fills from.
#[derive(Debug)]
pub struct HostFile {
    fd: OwnedFd,
    dev: u64,
    ino: u64,
    name: FileName,
    /// On a writable volume.
    writable: bool,
    /// The host fd may be written (`O_WRONLY` or `O_RDWR`).
    opened_for_writing: bool,
}

impl HostFile {
    /// The open host fd.
    pub(crate) fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The page cache of this host file, if something maps it.
    fn cache(&self) -> Option<Arc<HostCache>> {
        lock(&HOST_CACHES)
            .get(&(self.dev, self.ino))
            .and_then(Weak::upgrade)
    }

    /// Reads at `pos`, through the page cache while the file is mapped.
    fn read(&self, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        if pos > crate::vfs::MAX_LFS_FILESIZE {
            return Ok(0);
        }
        match self.cache() {
            Some(cache) => cache.read(self, buf, pos),
            None => host::pread(self.fd.as_fd(), buf, pos),
        }
    }
}

/// The page caches of mapped host files, by host (device, inode).
static HOST_CACHES: Mutex<BTreeMap<(u64, u64), Weak<HostCache>>> = Mutex::new(BTreeMap::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The pages of a mapped host file in the MemoryFile (see the module doc).
///
/// Lock order: a memory manager's state, then `state`, then host calls.
#[derive(Debug)]
pub struct HostCache {
    key: (u64, u64),
    state: Mutex<HostCacheState>,
    mappings: Arc<MappingSet>,
}

#[derive(Debug, Default)]
struct HostCacheState {
    /// The cached pages; made with the first fault's allocator.
    pages: Option<PageCache>,
    /// Indexes of the pages a writable shared mapping has had: what may
    /// hold stores the host has not seen. They stay here while cached,
    /// since such a mapping may store again without faulting.
    dirty: BTreeSet<u64>,
    /// A descriptor open for writing, from the first such that mapped the
    /// file: what writeback writes through.
    writer: Option<Arc<HostFile>>,
}

impl HostCache {
    /// The cache of `file`'s host inode, made if nothing maps it yet.
    fn of(file: &Arc<HostFile>) -> Arc<HostCache> {
        let key = (file.dev, file.ino);
        let mut caches = lock(&HOST_CACHES);
        let cache = match caches.get(&key).and_then(Weak::upgrade) {
            Some(cache) => cache,
            None => {
                caches.retain(|_, w| w.strong_count() > 0);
                let cache = Arc::new(HostCache {
                    key,
                    state: Mutex::default(),
                    mappings: MappingSet::new(),
                });
                caches.insert(key, Arc::downgrade(&cache));
                cache
            }
        };
        drop(caches);
        if file.opened_for_writing {
            lock(&cache.state)
                .writer
                .get_or_insert_with(|| Arc::clone(file));
        }
        cache
    }

    /// `HostFile::read` while the file is mapped: cached pages from the
    /// MemoryFile, the rest from the host, up to the host's file size.
    fn read(&self, file: &HostFile, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        let st = lock(&self.state);
        let Some(pages) = &st.pages else {
            return host::pread(file.fd.as_fd(), buf, pos);
        };
        let size = file.size()?;
        let n = usize::try_from(size.saturating_sub(pos))
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let mut done = 0;
        while done < n {
            let at = pos + done as u64;
            let index = at / PAGE;
            let chunk = chunk_in_page(at, n - done);
            let piece = &mut buf[done..done + chunk];
            if pages.contains(index) {
                pages.read(at, piece);
            } else {
                let got = host::pread(file.fd.as_fd(), piece, at)?;
                if got < chunk {
                    return Ok(done + got);
                }
            }
            done += chunk;
        }
        Ok(n)
    }

    /// Copies what `write(2)` put at `[pos, pos + buf.len())` of the host
    /// file into the cached pages it covers.
    fn update(&self, buf: &[u8], pos: u64) {
        let st = lock(&self.state);
        let Some(pages) = &st.pages else {
            return;
        };
        let mut done = 0;
        while done < buf.len() {
            let at = pos + done as u64;
            let chunk = chunk_in_page(at, buf.len() - done);
            if let Some(page) = pages.get(at / PAGE) {
                pages
                    .memory_file()
                    .write(page + at % PAGE, &buf[done..done + chunk]);
            }
            done += chunk;
        }
    }

    /// Drops the cached pages of `[start, end)` after a truncation (`end`
    /// `u64::MAX`) or hole punch on the host, so that mappings see it.
    fn punch(&self, start: u64, end: u64) {
        let mut st = lock(&self.state);
        if let Some(pages) = &mut st.pages {
            pages.punch(start, end);
        }
        self.mappings.invalidate(start, end, end == u64::MAX);
    }

    /// The page holding `file_offset` for a mapping (see
    /// [`Mappable::shared_page`]), filled from the host if not cached.
    fn shared_page(
        &self,
        file: &HostFile,
        allocator: &Arc<MemoryAllocator>,
        file_offset: u64,
        writable: bool,
    ) -> Result<u64, Errno> {
        let mut st = lock(&self.state);
        if file_offset >= file.size()? {
            return Err(Errno::EFAULT);
        }
        let index = file_offset / PAGE;
        if writable {
            st.dirty.insert(index);
        }
        let pages = st
            .pages
            .get_or_insert_with(|| PageCache::new(Arc::clone(allocator)));
        if !pages.contains(index) {
            let page = pages.get_or_insert(index)?;
            let filled =
                pages
                    .memory_file()
                    .read_from_fd(file.fd.as_fd(), index * PAGE, page, PAGE);
            if let Err(err) = filled {
                pages.punch(index * PAGE, (index + 1) * PAGE);
                return Err(host_errno(&err));
            }
        }
        pages.share(index).ok_or(Errno::EFAULT)
    }

    /// Writes the cached pages of file bytes `[offset, offset + len)` that a
    /// writable shared mapping had (within the host file's size) back to
    /// the host; with `sync`, flushes the file to disk too.
    fn writeback(&self, offset: u64, len: u64, sync: bool) -> Result<(), Errno> {
        let st = lock(&self.state);
        let (Some(pages), Some(writer)) = (&st.pages, &st.writer) else {
            return Ok(());
        };
        let fd = writer.fd.as_fd();
        let size = writer.size()?;
        let mut buf = vec![0u8; PAGE_USIZE];
        let first = offset / PAGE;
        let end = offset
            .saturating_add(len)
            .div_ceil(PAGE)
            .min(size.div_ceil(PAGE));
        for &index in st.dirty.range(first..end.max(first)) {
            if !pages.contains(index) {
                continue;
            }
            let at = index * PAGE;
            let len = usize::try_from((size - at).min(PAGE)).unwrap_or(PAGE_USIZE);
            pages.read(at, &mut buf[..len]);
            let mut done = 0;
            while done < len {
                done += host::pwrite(fd, &buf[done..len], at + done as u64)?;
            }
        }
        if sync {
            host::fsync(fd, true)?;
        }
        Ok(())
    }
}

impl Drop for HostCache {
    fn drop(&mut self) {
        // The last mapping went (munmap, exit): nothing may stay unwritten.
        // There is no one left to report a host error to.
        let _ = self.writeback(0, u64::MAX, false);
        let mut caches = lock(&HOST_CACHES);
        if caches.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
            caches.remove(&self.key);
        }
    }
}

/// What a mapping of a file on a writable volume maps: the file's
/// [`HostCache`].
#[derive(Debug)]
pub struct HostMapping {
    file: Arc<HostFile>,
    cache: Arc<HostCache>,
}

impl Mappable for HostMapping {
    fn size(&self) -> Result<u64, Errno> {
        self.file.size()
    }

    fn identity(&self) -> (u64, u64, String) {
        self.file.identity()
    }

    fn shared_page(
        &self,
        allocator: &Arc<MemoryAllocator>,
        file_offset: u64,
        writable: bool,
    ) -> Result<Option<u64>, Errno> {
        self.cache
            .shared_page(&self.file, allocator, file_offset, writable)
            .map(Some)
    }

    fn mapping_set(&self) -> Option<Arc<MappingSet>> {
        Some(Arc::clone(&self.cache.mappings))
    }

    fn punch_hole(&self, offset: u64, len: u64) -> Result<(), Errno> {
        HostFileOps(Arc::clone(&self.file)).fallocate(PUNCH_HOLE, offset, len)
    }

    fn writeback(&self, offset: u64, len: u64, sync: bool) -> Result<(), Errno> {
        self.cache.writeback(offset, len, sync)
    }
}

/// `fallocate` mode of a hole punch.
const PUNCH_HOLE: u32 = abi::falloc::FALLOC_FL_PUNCH_HOLE | abi::falloc::FALLOC_FL_KEEP_SIZE;

/// The page size of [`HostCache`] pages.
const PAGE: u64 = abi::PAGE_SIZE;
/// [`PAGE`] as a length.
const PAGE_USIZE: usize = abi::PAGE_SIZE_USIZE;

/// A host I/O error as the errno the program sees.
fn host_errno(e: &std::io::Error) -> Errno {
    Errno(
        e.raw_os_error()
            .and_then(|r| u16::try_from(r).ok())
            .unwrap_or(Errno::EIO.0),
    )
}

impl Mappable for HostFile {
    fn size(&self) -> Result<u64, Errno> {
        let st = host::fstat(self.fd.as_fd())?;
        u64::try_from(st.st_size).map_err(|_| Errno::EIO)
    }

    fn fill(
        &self,
        memory_file: &MemoryFile,
        mf_offset: u64,
        file_offset: u64,
        len: u64,
    ) -> Result<u64, Errno> {
        if let Some(cache) = self.cache() {
            // A mapped file's cached pages may hold stores not yet written
            // back: copy through the cache.
            let mut buf = vec![0u8; PAGE_USIZE];
            let mut done = 0;
            while done < len {
                let want = usize::try_from((len - done).min(PAGE)).unwrap_or(PAGE_USIZE);
                let n = cache.read(self, &mut buf[..want], file_offset + done)?;
                memory_file.write(mf_offset + done, &buf[..n]);
                done += n as u64;
                if n < want {
                    break;
                }
            }
            return Ok(done);
        }
        memory_file
            .read_from_fd(self.fd.as_fd(), file_offset, mf_offset, len)
            .map_err(|e| host_errno(&e))
    }

    fn identity(&self) -> (u64, u64, String) {
        (self.dev, self.ino, self.name.get())
    }
}

/// The `FileOps` of an open host regular file.
#[derive(Debug)]
pub struct HostFileOps(pub Arc<HostFile>);

impl FileOps for HostFileOps {
    fn read(&self, _: &File, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        self.0.read(buf, pos)
    }

    fn write(&self, _: &File, buf: &[u8], pos: u64) -> Result<usize, Errno> {
        // Only files on writable volumes are opened for writing; the host
        // refuses a write to an fd opened read-only with EBADF.
        if pos > crate::vfs::MAX_LFS_FILESIZE {
            return Err(Errno::EFBIG);
        }
        // The host first, so that a failed write leaves the cache alone.
        let n = host::pwrite(self.0.fd.as_fd(), buf, pos)?;
        if let Some(cache) = self.0.cache() {
            cache.update(&buf[..n], pos);
        }
        Ok(n)
    }

    fn append(&self, _: &File, buf: &[u8]) -> Result<(usize, u64), Errno> {
        let n = host::append(self.0.fd.as_fd(), buf)?;
        let end = host::lseek(self.0.fd.as_fd(), 0, abi::fcntl::SEEK_CUR)?;
        if let Some(cache) = self.0.cache() {
            let start = end - n as u64;
            cache.update(&buf[..n], start);
        }
        Ok((n, end))
    }

    fn truncate(&self, size: u64) -> Result<(), Errno> {
        host::ftruncate(self.0.fd.as_fd(), size)?;
        if let Some(cache) = self.0.cache() {
            cache.punch(size, u64::MAX);
        }
        Ok(())
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
        host::fallocate(self.0.fd.as_fd(), mode, offset, len)?;
        if mode & abi::falloc::FALLOC_FL_PUNCH_HOLE != 0
            && let Some(cache) = self.0.cache()
        {
            cache.punch(offset, offset.saturating_add(len));
        }
        Ok(())
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        match whence {
            abi::fcntl::SEEK_DATA | abi::fcntl::SEEK_HOLE => {
                host::lseek(self.0.fd.as_fd(), offset, whence)
            }
            _ => generic_seek(pos, self.0.size()?, offset, whence),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        host::fstat(self.0.fd.as_fd())
    }

    fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        host::statx(self.0.fd.as_fd(), sync, mask)
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        volume_statfs(host::fstatfs(self.0.fd.as_fd())?, self.0.writable)
    }

    fn ioctl(&self, file: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        if cmd == abi::termios::FIONREAD {
            // file_ioctl: the bytes between the offset and the end, as an int.
            let left = self.0.size()?.saturating_sub(file.pos());
            let left = i32::try_from(left).unwrap_or(i32::MAX);
            mm.write_obj(arg, &left)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn mmap_backing(&self) -> Result<MmapBacking, Errno> {
        if !self.0.writable {
            // Nothing can change the file from inside the sandbox: a
            // mapping copies its pages.
            return Ok(MmapBacking::File(Arc::clone(&self.0) as Arc<dyn Mappable>));
        }
        Ok(MmapBacking::File(Arc::new(HostMapping {
            cache: HostCache::of(&self.0),
            file: Arc::clone(&self.0),
        })))
    }

    fn fsync(&self, data_only: bool) -> Result<(), Errno> {
        if self.0.writable {
            if let Some(cache) = self.0.cache() {
                cache.writeback(0, u64::MAX, false)?;
            }
            host::fsync(self.0.fd.as_fd(), data_only)
        } else {
            // Nothing can have been written through this description.
            Ok(())
        }
    }
}

/// An open host directory.
#[derive(Debug)]
pub struct HostDirOps {
    fd: OwnedFd,
    /// Mount points in this directory: (name, inode to report).
    mounts: Vec<(Vec<u8>, u64)>,
    /// On a writable volume.
    writable: bool,
}

/// `d_type` from a host `linux_dirent64`, kept only if it is a known value.
fn dtype(t: u8) -> u8 {
    match t {
        DT_FIFO | DT_CHR | DT_DIR | DT_BLK | DT_REG | DT_LNK | DT_SOCK => t,
        _ => DT_UNKNOWN,
    }
}

/// Parses host `struct linux_dirent64` records.
fn parse_dirents(buf: &[u8], out: &mut Vec<DirEntry>) {
    let mut off = 0;
    while let Some(rec) = buf.get(off..) {
        let Ok((hdr, _)) = abi::fcntl::LinuxDirent64Header::read_from_prefix(rec) else {
            break;
        };
        let reclen = usize::from(hdr.d_reclen);
        let Some(name) = rec.get(abi::fcntl::DIRENT64_NAME_OFFSET..reclen) else {
            break;
        };
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        out.push(DirEntry {
            ino: hdr.d_ino,
            kind: dtype(hdr.d_type),
            name: name[..len].to_vec(),
        });
        if reclen == 0 {
            break;
        }
        off += reclen;
    }
}

impl FileOps for HostDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        host::fstat(self.fd.as_fd())
    }

    fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        host::statx(self.fd.as_fd(), sync, mask)
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        volume_statfs(host::fstatfs(self.fd.as_fd())?, self.writable)
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        host::lseek(self.fd.as_fd(), 0, abi::fcntl::SEEK_SET)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut entries = Vec::new();
        loop {
            let n = host::getdents64(self.fd.as_fd(), &mut buf)?;
            if n == 0 {
                break;
            }
            parse_dirents(&buf[..n], &mut entries);
        }
        for (name, ino) in &self.mounts {
            match entries.iter_mut().find(|e| &e.name == name) {
                Some(e) => e.kind = DT_DIR,
                None => entries.push(DirEntry {
                    ino: *ino,
                    kind: DT_DIR,
                    name: name.clone(),
                }),
            }
        }
        Ok(entries)
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_open_and_list() {
        let root = host::openat(
            std::fs::File::open("/").unwrap().as_fd(),
            b".",
            libc::O_PATH,
        )
        .unwrap();
        let root = HostNode::root(root).unwrap();
        let etc = root.lookup(b"etc").unwrap();
        let passwd = etc.lookup(b"passwd").unwrap();
        let file = passwd.open_regular(FileName::default()).unwrap();
        assert!(file.size().unwrap() > 0);
        let dir = etc.open_dir(Vec::new()).unwrap();
        let names: Vec<Vec<u8>> = dir.dirents().unwrap().into_iter().map(|e| e.name).collect();
        assert!(names.contains(&b"passwd".to_vec()));
        assert!(names.contains(&b"..".to_vec()));
        assert_eq!(
            etc.open_regular(FileName::default()).err(),
            Some(Errno::ENOENT)
        );
    }

    #[test]
    fn a_mapped_volume_file_is_one_file_until_written_back() {
        let dir = std::env::temp_dir().join(format!("carapace-hostfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        std::fs::write(&path, [b'a'; 8192]).unwrap();
        let fd = host::openat(
            std::fs::File::open(&dir).unwrap().as_fd(),
            b".",
            libc::O_PATH,
        )
        .unwrap();
        let volume = HostNode::volume(fd, false).unwrap();
        let file = volume
            .lookup(b"data")
            .unwrap()
            .open_file(FileName::default(), libc::O_RDWR)
            .unwrap();
        let mapping = HostMapping {
            cache: HostCache::of(&file),
            file: Arc::clone(&file),
        };
        let pages = MemoryAllocator::new(Arc::new(MemoryFile::new(1 << 20).unwrap()));
        let page = mapping.shared_page(&pages, 0, true).unwrap().unwrap();
        assert_eq!(mapping.shared_page(&pages, 8192, true), Err(Errno::EFAULT));
        // A store through the mapping: the sandbox reads it, the host not yet.
        pages.file().write(page + 1, b"M");
        let mut buf = [0u8; 3];
        assert_eq!(file.read(&mut buf, 0), Ok(3));
        assert_eq!(&buf, b"aMa");
        assert_eq!(std::fs::read(&path).unwrap()[1], b'a');
        // write(2) reaches the host and the mapping.
        let ops = HostFileOps(Arc::clone(&file));
        let open = File::new(Box::new(HostFileOps(Arc::clone(&file))), 2, None);
        assert_eq!(ops.write(&open, b"W", 2), Ok(1));
        let mut mapped = [0u8; 3];
        pages.file().read(page, &mut mapped);
        assert_eq!(&mapped, b"aMW");
        mapping.writeback(0, 4096, true).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..3], b"aMW");
        // Truncation takes the page out of the cache; the last mapping's
        // end drops the cache.
        pages.file().write(page + 5, b"Z");
        ops.truncate(4).unwrap();
        drop(mapping);
        assert!(file.cache().is_none());
        assert_eq!(std::fs::read(&path).unwrap(), b"aMWa");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
