#![doc = include_str!("README.md")]

mod dentry;
mod fd_table;
mod file;
pub(crate) mod lock;
mod mount;
mod open;
mod ops;
mod path;
mod perm;
mod write_access;

use std::sync::Arc;

use abi::Errno;

pub use dentry::Dentry;
pub(crate) use dentry::FileName;
pub use fd_table::FdTable;
pub use file::{DirEntry, File, FileOps};
pub(crate) use file::{IO_CHUNK, MAX_LFS_FILESIZE, dir_seek, generic_seek};
pub use mount::{Vfs, VfsOptions, Volume};
pub(crate) use ops::{
    NewNode, SetAttr, SetTime, XattrMode, chmod_attr, chown_attr, create, getxattr, init_owner,
    link, listxattr, may_create, may_delete, remove, removexattr, rename, setattr, setxattr,
    utimes_attr, xattr_permission,
};
pub use path::{Last, Parent};
pub use perm::Access;
pub(crate) use perm::{MAY_EXEC, MAY_WRITE, inode_permission};
pub(crate) use write_access::WriteCount;

use crate::task::Credentials;

/// A task's root, working directory and umask.
#[derive(Debug, Clone)]
pub struct FsContext {
    vfs: Arc<Vfs>,
    root: Arc<Dentry>,
    cwd: Arc<Dentry>,
    umask: u32,
}

impl FsContext {
    /// Root at the view's root; cwd at `cwd` if it resolves to a directory,
    /// else "/".
    pub fn new(vfs: &Arc<Vfs>, cwd: &[u8]) -> FsContext {
        let root = Arc::clone(vfs.root());
        let access = Access::kernel();
        let mut lookup = path::Lookup::new(vfs, Arc::clone(&root), &access, 0);
        let cwd = match lookup.walk(&root, cwd, true) {
            Ok(d) if d.is_dir() && !cwd.is_empty() => d,
            _ => Arc::clone(&root),
        };
        FsContext {
            vfs: Arc::clone(vfs),
            root,
            cwd,
            umask: 0o022,
        }
    }

    /// The view.
    pub fn vfs(&self) -> &Arc<Vfs> {
        &self.vfs
    }

    /// The task's root directory.
    pub fn root(&self) -> &Arc<Dentry> {
        &self.root
    }

    /// The working directory.
    pub fn cwd(&self) -> &Arc<Dentry> {
        &self.cwd
    }

    /// Changes the working directory (already checked to be a searchable directory).
    pub fn set_cwd(&mut self, cwd: Arc<Dentry>) {
        self.cwd = cwd;
    }

    /// The file-creation mask.
    pub fn umask(&self) -> u32 {
        self.umask
    }

    /// Sets the file-creation mask (low 9 bits), returning the old one.
    pub fn set_umask(&mut self, mask: u32) -> u32 {
        std::mem::replace(&mut self.umask, mask & 0o777)
    }

    fn lookup<'a>(
        &'a self,
        access: &'a Access<'a>,
        start: &Arc<Dentry>,
        resolve: u64,
    ) -> path::Lookup<'a> {
        let root = if path::Lookup::confined(resolve) {
            Arc::clone(start)
        } else {
            Arc::clone(&self.root)
        };
        path::Lookup::new(&self.vfs, root, access, resolve)
    }

    /// Resolves `path` (non-empty) from `start` (the cwd if `None`),
    /// following a final symlink if `follow`.
    pub fn resolve(
        &self,
        access: &Access<'_>,
        start: Option<&Arc<Dentry>>,
        path: &[u8],
        follow: bool,
    ) -> Result<Arc<Dentry>, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let start = start.unwrap_or(&self.cwd);
        self.lookup(access, start, 0).walk(start, path, follow)
    }

    /// Walks `path` (non-empty) from `start` (the cwd if `None`) to the
    /// directory holding its last component (`path_parentat`).
    pub fn resolve_parent(
        &self,
        access: &Access<'_>,
        start: Option<&Arc<Dentry>>,
        path: &[u8],
    ) -> Result<Parent, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let start = start.unwrap_or(&self.cwd);
        self.lookup(access, start, 0).walk_parent(start, path)
    }

    /// The child `name` of the directory `dir` (a lookup of the last
    /// component after [`FsContext::resolve_parent`]); not followed.
    pub fn lookup_child(&self, dir: &Arc<Dentry>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        path::lookup_child(&self.vfs, dir, name)
    }

    /// `dentry` was removed (by unlink, rmdir, or a rename over it): the
    /// view stops keeping it among the recent dentries, so that its file's
    /// memory goes once nothing else holds it, as on Linux.
    pub fn forget_removed(&self, dentry: &Arc<Dentry>) {
        self.vfs.recent.forget(dentry);
    }

    /// Opens `path` (non-empty) from `start` (the cwd if `None`) with open
    /// `flags` already validated as `build_open_flags` does, under the
    /// `RESOLVE_*` bits `resolve`; a file `O_CREAT` makes gets `mode` less
    /// the umask.
    pub fn open(
        &self,
        creds: &Credentials,
        start: Option<&Arc<Dentry>>,
        path: &[u8],
        flags: u32,
        mode: u32,
        resolve: u64,
    ) -> Result<Arc<File>, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let access = Access::fs(creds);
        let start = start.unwrap_or(&self.cwd);
        let mut lookup = self.lookup(&access, start, resolve);
        let create = open::CreateMode {
            mode,
            umask: self.umask,
        };
        open::open_path(&mut lookup, &access, &self.vfs, start, path, flags, create)
    }

    /// `O_TMPFILE`: an unnamed regular file in the directory `path`, opened
    /// with `flags` (a write mode), `linkat`-able unless `O_EXCL`.
    pub fn open_tmpfile(
        &self,
        creds: &Credentials,
        start: Option<&Arc<Dentry>>,
        path: &[u8],
        flags: u32,
        mode: u32,
    ) -> Result<Arc<File>, Errno> {
        let access = Access::fs(creds);
        let dir = self.resolve(&access, start, path, true)?;
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        ops::may_create(&access, &dir)?;
        let mode = abi::stat::S_IFREG | (mode & !self.umask & abi::stat::S_IALLUGO);
        let (mode, uid, gid) = ops::init_owner(&access, &dir.stat()?, mode);
        let new = NewNode {
            mode,
            uid,
            gid,
            rdev: 0,
            target: None,
        };
        let dentry = ops::tmpfile(&dir, new, flags & abi::fcntl::O_EXCL == 0)?;
        let flags =
            flags & !(abi::fcntl::O_TMPFILE & !abi::fcntl::O_DIRECTORY) & !abi::fcntl::O_DIRECTORY;
        open::open_dentry(&access, &self.vfs, dentry, flags, true)
    }

    /// A new memfd (`memfd_create`): a regular file of mode `mode` owned
    /// by `creds`' fs ids, on the internal tmpfs and in no directory, whose
    /// path is `/memfd:NAME (deleted)`, open for reading and writing.
    pub fn open_memfd(
        &self,
        creds: &Credentials,
        name: &[u8],
        mode: u32,
        seals: u32,
    ) -> Result<Arc<File>, Errno> {
        let inode = self.vfs.memfd_fs().new_inode(
            abi::stat::S_IFREG | mode,
            creds.fsuid,
            creds.fsgid,
            0,
            None,
        )?;
        inode.make_tmpfile();
        inode.init_seals(seals);
        let mut path = b"/memfd:".to_vec();
        path.extend_from_slice(name);
        let privileged = Access::fs(creds).capable(abi::capability::CAP_FSETID);
        let dentry = Dentry::anonymous(
            path,
            dentry::Node::Tmpfs(Arc::clone(&inode)),
            mount::MEMFD_MOUNT,
        );
        let ops = crate::fs::tmpfs::TmpfsFileOps::new(inode, FileName::of(&dentry), privileged);
        // Like Linux's alloc_file_pseudo, the description takes no write
        // count: the file can be executed while it stays open (fexecve of
        // the memfd just written), unlike a file opened for writing.
        Ok(File::new(
            Box::new(ops),
            abi::fcntl::O_RDWR | abi::fcntl::O_LARGEFILE,
            Some(dentry),
        ))
    }

    /// Opens an already resolved dentry with `flags` (for `O_PATH` re-opens
    /// and `AT_EMPTY_PATH`).
    pub fn open_dentry(
        &self,
        creds: &Credentials,
        dentry: Arc<Dentry>,
        flags: u32,
    ) -> Result<Arc<File>, Errno> {
        open::open_dentry(&Access::fs(creds), &self.vfs, dentry, flags, false)
    }
}

/// Whether open `flags` ask for write access (`O_WRONLY`, `O_RDWR`, `O_TRUNC`).
pub fn wants_write(flags: u32) -> bool {
    open::wants_write(flags)
}

/// Opens `path` (relative to the cwd of `fs`) for execution: follows
/// symlinks, requires a regular file with execute permission for `creds`.
/// ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES as execve(2) gives them.
pub fn open_executable(
    fs: &FsContext,
    creds: &Credentials,
    path: &[u8],
) -> Result<Arc<File>, Errno> {
    open_executable_at(fs, creds, None, path, true)
}

/// Opens `path` from `start` (the cwd if `None`) for execution, as
/// [`open_executable`] does, following a final symlink only if `follow`
/// (`ELOOP` on one otherwise, as `execveat`'s `AT_SYMLINK_NOFOLLOW` gives).
pub fn open_executable_at(
    fs: &FsContext,
    creds: &Credentials,
    start: Option<&Arc<Dentry>>,
    path: &[u8],
    follow: bool,
) -> Result<Arc<File>, Errno> {
    let access = Access::fs(creds);
    let dentry = fs.resolve(&access, start, path, follow)?;
    open::open_exec(&access, dentry)
}

/// Opens the file `dentry` names afresh for execution (`execveat` with
/// `AT_EMPTY_PATH`), with [`open_executable`]'s checks.
pub fn open_executable_dentry(
    creds: &Credentials,
    dentry: Arc<Dentry>,
) -> Result<Arc<File>, Errno> {
    open::open_exec(&Access::fs(creds), dentry)
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;

    use super::*;

    fn host_root() -> (Arc<Vfs>, FsContext) {
        let fd: OwnedFd = std::fs::File::open("/").unwrap().into();
        let options = VfsOptions {
            overlay: false,
            ..VfsOptions::default()
        };
        let vfs = Vfs::with_options(fd, options).unwrap();
        let fs = FsContext::new(&vfs, b"/etc");
        (vfs, fs)
    }

    fn overlay_root(limit: u64) -> (Arc<Vfs>, FsContext) {
        let fd: OwnedFd = std::fs::File::open("/").unwrap().into();
        let options = VfsOptions {
            overlay: true,
            memory_limit: limit,
        };
        let vfs = Vfs::with_options(fd, options).unwrap();
        let fs = FsContext::new(&vfs, b"/");
        (vfs, fs)
    }

    fn names(fs: &FsContext, path: &[u8]) -> Vec<Vec<u8>> {
        let creds = Credentials::new(0, 0, vec![]);
        let f = fs
            .open(
                &creds,
                None,
                path,
                abi::fcntl::O_RDONLY | abi::fcntl::O_DIRECTORY,
                0,
                0,
            )
            .unwrap();
        let mut names = Vec::new();
        f.getdents(&mut |e, _| {
            names.push(e.name.clone());
            true
        })
        .unwrap();
        names
    }

    fn write_file(fs: &FsContext, path: &[u8], data: &[u8]) -> Result<(), Errno> {
        let creds = Credentials::new(0, 0, vec![]);
        let flags = abi::fcntl::O_WRONLY | abi::fcntl::O_CREAT | abi::fcntl::O_TRUNC;
        let f = fs.open(&creds, None, path, flags, 0o644, 0)?;
        let mut src = data;
        let n = f.write_with(None, data.len(), &mut |buf| {
            let n = buf.len().min(src.len());
            buf[..n].copy_from_slice(&src[..n]);
            src = &src[n..];
            n
        })?;
        assert_eq!(n, data.len());
        Ok(())
    }

    fn read_file(fs: &FsContext, path: &[u8]) -> Result<Vec<u8>, Errno> {
        let creds = Credentials::new(0, 0, vec![]);
        let f = fs.open(&creds, None, path, abi::fcntl::O_RDONLY, 0, 0)?;
        let mut out = Vec::new();
        f.read_with(None, 1 << 20, &mut |c| {
            out.extend_from_slice(c);
            c.len()
        })?;
        Ok(out)
    }

    fn parent(fs: &FsContext, path: &[u8]) -> (Arc<Dentry>, Vec<u8>) {
        let p = fs.resolve_parent(&Access::kernel(), None, path).unwrap();
        let Last::Norm(name) = p.last else {
            panic!("not a name")
        };
        (p.dir, name)
    }

    #[test]
    fn overlay_writes_stay_in_memory() {
        let (_, fs) = overlay_root(64 << 20);
        // A lower file: copied up on write, the host's stays as it was.
        let host = std::fs::read("/etc/passwd").unwrap();
        let before = fs
            .resolve(&Access::kernel(), None, b"/etc/passwd", true)
            .unwrap()
            .stat()
            .unwrap();
        write_file(&fs, b"/etc/passwd", b"changed\n").unwrap();
        assert_eq!(read_file(&fs, b"/etc/passwd").unwrap(), b"changed\n");
        assert_eq!(std::fs::read("/etc/passwd").unwrap(), host);
        let after = fs
            .resolve(&Access::kernel(), None, b"/etc/passwd", true)
            .unwrap()
            .stat()
            .unwrap();
        assert_eq!((before.st_dev, before.st_ino), (after.st_dev, after.st_ino));
        // A new file in /tmp, listed once.
        write_file(&fs, b"/tmp/carapace-overlay-test", b"x").unwrap();
        let tmp = names(&fs, b"/tmp");
        assert_eq!(
            tmp.iter()
                .filter(|n| *n == b"carapace-overlay-test")
                .count(),
            1
        );
        assert!(!std::path::Path::new("/tmp/carapace-overlay-test").exists());
        // Unlinking a lower file leaves a whiteout: gone from the listing.
        let (dir, name) = parent(&fs, b"/etc/hostname");
        if fs.lookup_child(&dir, &name).is_ok() {
            remove(&dir, &name, false).unwrap();
            assert_eq!(fs.lookup_child(&dir, &name).err(), Some(Errno::ENOENT));
            assert!(!names(&fs, b"/etc").contains(&name));
            assert!(std::path::Path::new("/etc/hostname").exists());
            // And it can be made again.
            write_file(&fs, b"/etc/hostname", b"new\n").unwrap();
            assert_eq!(read_file(&fs, b"/etc/hostname").unwrap(), b"new\n");
        }
        // A lower directory can be emptied and removed.
        let (dir, name) = parent(&fs, b"/etc/carapace-no-such-dir");
        assert_eq!(remove(&dir, &name, true).err(), Some(Errno::ENOENT));
        // A lower directory renames with its contents, upper and lower;
        // the host's stays.
        let (etc_parent, etc) = parent(&fs, b"/etc");
        let (tmp_parent, new) = parent(&fs, b"/tmp/etc2");
        rename(&etc_parent, &etc, &tmp_parent, &new, false, false).unwrap();
        assert_eq!(read_file(&fs, b"/tmp/etc2/passwd").unwrap(), b"changed\n");
        let group = std::fs::read("/etc/group").unwrap();
        assert_eq!(read_file(&fs, b"/tmp/etc2/group").unwrap(), group);
        assert_eq!(read_file(&fs, b"/etc/group").err(), Some(Errno::ENOENT));
        let (tmp_parent, new) = parent(&fs, b"/tmp/etc2");
        let (etc_parent, etc) = parent(&fs, b"/etc");
        rename(&tmp_parent, &new, &etc_parent, &etc, false, false).unwrap();
        assert_eq!(read_file(&fs, b"/etc/group").unwrap(), group);
        assert!(std::path::Path::new("/etc/group").exists());
        assert!(!std::path::Path::new("/tmp/etc2").exists());
        // A lower file renames too.
        let (sdir, sname) = parent(&fs, b"/etc/passwd");
        let (ddir, dname) = parent(&fs, b"/tmp/passwd2");
        rename(&sdir, &sname, &ddir, &dname, false, false).unwrap();
        assert_eq!(read_file(&fs, b"/tmp/passwd2").unwrap(), b"changed\n");
        assert_eq!(read_file(&fs, b"/etc/passwd").err(), Some(Errno::ENOENT));
        assert!(std::path::Path::new("/etc/passwd").exists());
    }

    #[test]
    fn overlay_limit_gives_enospc() {
        let (vfs, fs) = overlay_root(1 << 20);
        let big = vec![1u8; 2 << 20];
        let creds = Credentials::new(0, 0, vec![]);
        let flags = abi::fcntl::O_WRONLY | abi::fcntl::O_CREAT;
        let f = fs.open(&creds, None, b"/tmp/big", flags, 0o644, 0).unwrap();
        let mut src = &big[..];
        let n = f
            .write_with(None, big.len(), &mut |buf| {
                let n = buf.len().min(src.len());
                buf[..n].copy_from_slice(&src[..n]);
                src = &src[n..];
                n
            })
            .unwrap();
        assert!(n < big.len());
        assert_eq!(write_file(&fs, b"/tmp/more", &big), Err(Errno::ENOSPC));
        assert!(vfs.space().used() <= vfs.space().max());
        // Copying up a file larger than the budget fails too, leaving the lower one.
        let r = fs.open(&creds, None, b"/bin/sh", abi::fcntl::O_RDWR, 0, 0);
        if std::fs::metadata("/bin/sh").unwrap().len() > (1 << 20) {
            assert_eq!(r.err(), Some(Errno::ENOSPC));
        }
    }

    #[test]
    fn tmpfs_mounts_and_proc() {
        let (_, fs) = overlay_root(8 << 20);
        write_file(&fs, b"/dev/shm/x", b"shm").unwrap();
        assert_eq!(read_file(&fs, b"/dev/shm/x").unwrap(), b"shm");
        write_file(&fs, b"/run/y", b"run").unwrap();
        let st = fs
            .resolve(&Access::kernel(), None, b"/dev/shm", true)
            .unwrap()
            .statfs()
            .unwrap();
        assert_eq!(st.f_type, abi::stat::TMPFS_MAGIC);
        let v = read_file(&fs, b"/proc/version").unwrap();
        assert!(v.starts_with(b"Linux version "));
        let m = read_file(&fs, b"/proc/mounts").unwrap();
        assert!(String::from_utf8_lossy(&m).contains(" /dev/shm tmpfs "));
        assert_eq!(write_file(&fs, b"/proc/x", b"").err(), Some(Errno::EROFS));
        let creds = Credentials::new(0, 0, vec![]);
        let tty = fs.open(&creds, None, b"/dev/tty", abi::fcntl::O_RDWR, 0, 0);
        assert_eq!(tty.err(), Some(Errno::ENXIO));
        let stdin = fs
            .resolve(&Access::kernel(), None, b"/dev/stdin", false)
            .unwrap();
        assert_eq!(stdin.readlink().unwrap(), b"/proc/self/fd/0");
    }

    #[test]
    fn cwd_falls_back_to_root() {
        let (vfs, fs) = host_root();
        assert_eq!(fs.cwd().path(), b"/etc");
        assert_eq!(FsContext::new(&vfs, b"/etc/passwd").cwd().path(), b"/");
        assert_eq!(FsContext::new(&vfs, b"/nonexistent").cwd().path(), b"/");
        assert_eq!(FsContext::new(&vfs, b"").cwd().path(), b"/");
    }

    #[test]
    fn open_read_and_refuse_writes() {
        let (_, fs) = host_root();
        let creds = Credentials::new(0, 0, vec![]);
        let f = fs
            .open(&creds, None, b"passwd", abi::fcntl::O_RDONLY, 0, 0)
            .unwrap();
        let mut buf = [0u8; 5];
        assert_eq!(f.read_at(&mut buf, 0), Ok(5));
        assert_eq!(&buf, b"root:");
        assert!(matches!(
            f.mmap_backing(),
            Ok(crate::mm::MmapBacking::File(_))
        ));
        let w = fs.open(&creds, None, b"/etc/passwd", abi::fcntl::O_WRONLY, 0, 0);
        assert_eq!(w.err(), Some(Errno::EROFS));
        let c = fs.open(
            &creds,
            None,
            b"/etc/new-file",
            abi::fcntl::O_CREAT | abi::fcntl::O_WRONLY,
            0,
            0,
        );
        assert_eq!(c.err(), Some(Errno::EROFS));
        let x = fs.open(
            &creds,
            None,
            b"/etc/passwd",
            abi::fcntl::O_CREAT | abi::fcntl::O_EXCL,
            0,
            0,
        );
        assert_eq!(x.err(), Some(Errno::EEXIST));
        let m = fs.open(&creds, None, b"/nonexistent/x", abi::fcntl::O_CREAT, 0, 0);
        assert_eq!(m.err(), Some(Errno::ENOENT));
        let d = fs.open(&creds, None, b"/etc", abi::fcntl::O_RDWR, 0, 0);
        assert_eq!(d.err(), Some(Errno::EISDIR));
        let z = fs
            .open(&creds, None, b"/dev/zero", abi::fcntl::O_RDWR, 0, 0)
            .unwrap();
        assert!(matches!(
            z.mmap_backing(),
            Ok(crate::mm::MmapBacking::Anonymous)
        ));
        let mut zeros = [1u8; 3];
        assert_eq!(z.read_at(&mut zeros, 0), Ok(3));
        assert_eq!(zeros, [0; 3]);
    }

    #[test]
    fn executables() {
        let (_, fs) = host_root();
        let creds = Credentials::new(0, 0, vec![]);
        open_executable(&fs, &creds, b"/bin/sh").unwrap();
        assert_eq!(
            open_executable(&fs, &creds, b"/etc/passwd").err(),
            Some(Errno::EACCES)
        );
        assert_eq!(
            open_executable(&fs, &creds, b"/etc").err(),
            Some(Errno::EACCES)
        );
        assert_eq!(
            open_executable(&fs, &creds, b"/dev/null").err(),
            Some(Errno::EACCES)
        );
        assert_eq!(
            open_executable(&fs, &creds, b"/nope").err(),
            Some(Errno::ENOENT)
        );
        assert_eq!(
            open_executable(&fs, &creds, b"/etc/passwd/x").err(),
            Some(Errno::ENOTDIR)
        );
    }

    #[test]
    fn root_listing_merges_mounts() {
        let (_, fs) = host_root();
        let creds = Credentials::new(0, 0, vec![]);
        let f = fs
            .open(
                &creds,
                None,
                b"/",
                abi::fcntl::O_RDONLY | abi::fcntl::O_DIRECTORY,
                0,
                0,
            )
            .unwrap();
        let mut names = Vec::new();
        f.getdents(&mut |e, _| {
            names.push(e.name.clone());
            true
        })
        .unwrap();
        for m in [&b"dev"[..], b"proc", b"sys", b"run", b"etc", b"."] {
            assert!(names.iter().any(|n| n == m));
        }
        let d = fs
            .open(&creds, None, b"/dev", abi::fcntl::O_RDONLY, 0, 0)
            .unwrap();
        let mut count = 0;
        d.getdents(&mut |_, _| {
            count += 1;
            true
        })
        .unwrap();
        // `.`, `..`, 8 devices, 4 links, `pts` and `shm`.
        assert_eq!(count, 16);
    }
}
