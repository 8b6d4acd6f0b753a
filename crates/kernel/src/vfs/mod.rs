//! PLACEHOLDER API, to be replaced by the vfs implementation (see the helper
//! brief). Signatures here are the contract the rest of the kernel codes to.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use abi::Errno;
use abi::stat::Stat;

use crate::mm::MmapBacking;
use crate::task::Credentials;

/// The sandbox's file-system view: the mount tree.
#[derive(Debug)]
pub struct Vfs {}

/// A task's root, working directory and umask.
#[derive(Debug, Clone)]
pub struct FsContext {}

/// A task's file descriptor table.
#[derive(Debug, Default)]
pub struct FdTable {}

/// An open file description.
#[derive(Debug)]
pub struct File {}

#[allow(unused_variables, missing_docs)]
impl Vfs {
    /// The view over the host directory `rootfs`, with the sentry's own /dev
    /// and empty /proc, /sys and /run.
    pub fn new(rootfs: OwnedFd) -> Result<Arc<Vfs>, Errno> { Err(Errno::ENOSYS) }
}

#[allow(unused_variables, missing_docs)]
impl FsContext {
    /// Root at the view's root; cwd at `cwd` if it resolves to a directory, else "/".
    pub fn new(vfs: &Arc<Vfs>, cwd: &[u8]) -> FsContext { FsContext {} }
}

#[allow(unused_variables, missing_docs)]
impl FdTable {
    pub fn new() -> FdTable { FdTable {} }
    /// Installs `file` at exactly `fd`.
    /// The file at `fd`, or EBADF.
    pub fn get(&self, fd: i32) -> Result<Arc<File>, Errno> { Err(Errno::EBADF) }
    pub fn install_at(&mut self, fd: i32, file: Arc<File>, cloexec: bool) -> Result<(), Errno> { Err(Errno::ENOSYS) }
}

#[allow(unused_variables, missing_docs)]
impl File {
    /// A stream over a host fd the sandbox was given (stdin/stdout/stderr).
    pub fn host_stdio(fd: OwnedFd) -> Result<Arc<File>, Errno> { Err(Errno::ENOSYS) }
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> { Err(Errno::ENOSYS) }
    pub fn stat(&self) -> Result<Stat, Errno> { Err(Errno::ENOSYS) }
    /// What `mmap` of this file maps: ENODEV if it cannot be mapped.
    pub fn mmap_backing(&self) -> Result<MmapBacking, Errno> { Err(Errno::ENODEV) }
    /// The status flags and access mode (`O_RDONLY`/`O_WRONLY`/`O_RDWR`, `O_APPEND`, `O_PATH`, ...).
    pub fn flags(&self) -> u32 { 0 }
}

/// Opens `path` (relative to the cwd of `fs`) for execution: follows
/// symlinks, requires a regular file with execute permission for `creds`.
/// ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EACCES as execve(2) gives them.
#[allow(unused_variables)]
pub fn open_executable(fs: &FsContext, creds: &Credentials, path: &[u8]) -> Result<Arc<File>, Errno> { Err(Errno::ENOSYS) }
