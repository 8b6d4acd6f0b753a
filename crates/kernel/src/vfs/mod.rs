#![doc = include_str!("README.md")]

mod dentry;
mod fd_table;
mod file;
mod mount;
mod open;
mod path;
mod perm;

use std::sync::Arc;

use abi::Errno;

pub use dentry::Dentry;
pub use fd_table::FdTable;
pub use file::{DirEntry, File, FileOps};
pub(crate) use file::{IO_CHUNK, MAX_LFS_FILESIZE, dir_seek, generic_seek};
pub use mount::Vfs;
pub use path::{Last, Parent};
pub use perm::Access;
pub(crate) use perm::{MAY_EXEC, inode_permission};

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
        let mut lookup = path::Lookup::new(vfs.root(), Arc::clone(&root), &access, 0);
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
        path::Lookup::new(self.vfs.root(), root, access, resolve)
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
        path::lookup_child(dir, name)
    }

    /// Opens `path` (non-empty) from `start` (the cwd if `None`) with open
    /// `flags` already validated as `build_open_flags` does, under the
    /// `RESOLVE_*` bits `resolve`.
    pub fn open(
        &self,
        creds: &Credentials,
        start: Option<&Arc<Dentry>>,
        path: &[u8],
        flags: u32,
        resolve: u64,
    ) -> Result<Arc<File>, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let access = Access::fs(creds);
        let start = start.unwrap_or(&self.cwd);
        let mut lookup = self.lookup(&access, start, resolve);
        open::open_path(&mut lookup, &access, start, path, flags)
    }

    /// Opens an already resolved dentry with `flags` (for `O_PATH` re-opens
    /// and `AT_EMPTY_PATH`).
    pub fn open_dentry(
        &self,
        creds: &Credentials,
        dentry: Arc<Dentry>,
        flags: u32,
    ) -> Result<Arc<File>, Errno> {
        open::open_dentry(&Access::fs(creds), dentry, flags)
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
    let access = Access::fs(creds);
    let dentry = fs.resolve(&access, None, path, true)?;
    open::open_exec(&access, dentry)
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;

    use super::*;

    fn host_root() -> (Arc<Vfs>, FsContext) {
        let fd: OwnedFd = std::fs::File::open("/").unwrap().into();
        let vfs = Vfs::new(fd).unwrap();
        let fs = FsContext::new(&vfs, b"/etc");
        (vfs, fs)
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
            .open(&creds, None, b"passwd", abi::fcntl::O_RDONLY, 0)
            .unwrap();
        let mut buf = [0u8; 5];
        assert_eq!(f.read_at(&mut buf, 0), Ok(5));
        assert_eq!(&buf, b"root:");
        assert!(matches!(
            f.mmap_backing(),
            Ok(crate::mm::MmapBacking::File(_))
        ));
        let w = fs.open(&creds, None, b"/etc/passwd", abi::fcntl::O_WRONLY, 0);
        assert_eq!(w.err(), Some(Errno::EROFS));
        let c = fs.open(
            &creds,
            None,
            b"/etc/new-file",
            abi::fcntl::O_CREAT | abi::fcntl::O_WRONLY,
            0,
        );
        assert_eq!(c.err(), Some(Errno::EROFS));
        let x = fs.open(
            &creds,
            None,
            b"/etc/passwd",
            abi::fcntl::O_CREAT | abi::fcntl::O_EXCL,
            0,
        );
        assert_eq!(x.err(), Some(Errno::EEXIST));
        let m = fs.open(&creds, None, b"/nonexistent/x", abi::fcntl::O_CREAT, 0);
        assert_eq!(m.err(), Some(Errno::ENOENT));
        let d = fs.open(&creds, None, b"/etc", abi::fcntl::O_RDWR, 0);
        assert_eq!(d.err(), Some(Errno::EISDIR));
        let z = fs
            .open(&creds, None, b"/dev/zero", abi::fcntl::O_RDWR, 0)
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
            .open(&creds, None, b"/dev", abi::fcntl::O_RDONLY, 0)
            .unwrap();
        let mut count = 0;
        d.getdents(&mut |_, _| {
            count += 1;
            true
        })
        .unwrap();
        assert_eq!(count, 7);
    }
}
