//! Path syscalls: open, stat, access, readlink, the working directory, the
//! calls that change the tree (mkdir, unlink, rename, link, symlink, ...)
//! and inodes (chmod, chown, truncate, utimensat), and extended attributes.
//! The file systems behind them are in `crate::fs`; `EROFS` comes only from
//! the read-only ones (a rootfs without the overlay, devfs, procfs).
//!
//! Each follows its Linux function's order of checks (flags, `getname`,
//! the walk, then the file system), so that a bad pointer, an unknown flag
//! and a missing path give the errno Linux gives.

use std::sync::Arc;

use abi::Errno;
use abi::capability::{CAP_DAC_READ_SEARCH, CAP_FSETID, CAP_MKNOD};
use abi::fcntl::{
    AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE,
    AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_ACCMODE, O_CREAT, O_DIRECTORY, O_LARGEFILE, O_PATH,
    O_PATH_FLAGS, O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY, OpenHow, PATH_MAX, RENAME_EXCHANGE,
    RENAME_NOREPLACE, RENAME_WHITEOUT, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT,
    VALID_OPEN_FLAGS, VALID_RESOLVE_FLAGS,
};
use abi::stat::{
    S_IALLUGO, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID,
    S_ISUID, S_IXGRP, STATX__RESERVED,
};
use abi::sysno::*;
use abi::time::{Timespec, Timeval};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::Task;
use abi::xattr::{XATTR_CREATE, XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_REPLACE, XATTR_SIZE_MAX};

use crate::vfs::{
    Access, Dentry, File, Last, MAY_EXEC, MAY_WRITE, NewNode, SetAttr, SetTime, WriteCount,
    XattrMode, chmod_attr, chown_attr, getxattr, init_owner, inode_permission, listxattr,
    may_create, may_delete, removexattr, setattr, setxattr, utimes_attr, xattr_permission,
};

/// `MAY_READ`.
const MAY_READ: u32 = 4;
/// `__O_TMPFILE` without the `O_DIRECTORY` bit `O_TMPFILE` includes.
const O_TMPFILE_BIT: u32 = O_TMPFILE & !O_DIRECTORY;
/// `OPEN_HOW_SIZE_VER0`.
const OPEN_HOW_SIZE_VER0: u64 = 24;

/// Reads a path argument (`getname`): `EFAULT`, or `ENAMETOOLONG` at `PATH_MAX`.
pub(super) fn read_path(task: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    task.mm.read_c_string(addr, PATH_MAX)
}

/// The directory a relative `path` starts from: `None` for the cwd.
/// `EBADF` for a bad `dirfd`, `ENOTDIR` if it is not a directory; an
/// absolute path ignores `dirfd` entirely.
pub(super) fn dirfd_start(
    task: &Task,
    dirfd: i32,
    path: &[u8],
) -> Result<Option<Arc<Dentry>>, Errno> {
    if path.first() == Some(&b'/') || dirfd == AT_FDCWD {
        return Ok(None);
    }
    let file = task.fds().get(dirfd)?;
    match file.dentry() {
        Some(d) if d.is_dir() => Ok(Some(Arc::clone(d))),
        _ => Err(Errno::ENOTDIR),
    }
}

/// What an `*at` call names: a place in the view, or, for `AT_EMPTY_PATH`
/// on an open file with no place (a host stream), the file itself.
pub(super) enum Target {
    Dentry(Arc<Dentry>),
    File(Arc<File>),
}

impl Target {
    fn stat(&self) -> Result<abi::stat::Stat, Errno> {
        match self {
            Target::Dentry(d) => d.stat(),
            Target::File(f) => f.stat(),
        }
    }
}

/// Resolves `(dirfd, path)` for a call taking `AT_EMPTY_PATH` (`at_flags`)
/// and following a final symlink if `follow`. A NULL path with
/// `AT_EMPTY_PATH` is the empty path (Linux 6.11 and later).
pub(super) fn target_at(
    task: &Task,
    access: &Access<'_>,
    dirfd: i32,
    path_addr: u64,
    at_flags: u32,
    follow: bool,
) -> Result<Target, Errno> {
    let empty_ok = at_flags & AT_EMPTY_PATH != 0;
    let path = if path_addr == 0 && empty_ok {
        Vec::new()
    } else {
        read_path(task, path_addr)?
    };
    if path.is_empty() {
        if !empty_ok {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            return Ok(Target::Dentry(Arc::clone(task.fs().cwd())));
        }
        let file = task.fds().get(dirfd)?;
        return Ok(match file.dentry() {
            Some(d) => Target::Dentry(Arc::clone(d)),
            None => Target::File(file),
        });
    }
    let start = dirfd_start(task, dirfd, &path)?;
    task.fs()
        .resolve(access, start.as_ref(), &path, follow)
        .map(Target::Dentry)
}

/// Resolves `(dirfd, path)` with no `AT_EMPTY_PATH`.
fn dentry_at(task: &Task, dirfd: i32, path_addr: u64, follow: bool) -> Result<Arc<Dentry>, Errno> {
    let access = Access::fs(&task.creds);
    match target_at(task, &access, dirfd, path_addr, 0, follow)? {
        Target::Dentry(d) => Ok(d),
        Target::File(_) => Err(Errno::ENOENT),
    }
}

fn nofile_limit(task: &Task) -> u64 {
    task.thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur
}

/// Installs `file` at the lowest free fd.
pub(super) fn install(task: &mut Task, file: Arc<File>, cloexec: bool) -> SyscallResult {
    let limit = nofile_limit(task);
    let fd = task.fds().alloc(file, cloexec, 0, limit)?;
    Ok(u64::try_from(fd).unwrap_or(0))
}

// ---------------------------------------------------------------------------
// open

/// `build_open_flags` plus the walk and the open, shared by the open family.
fn do_open(task: &mut Task, dirfd: i32, path_addr: u64, how: OpenHow) -> SyscallResult {
    let flags = u32::try_from(how.flags).map_err(|_| Errno::EINVAL)?;
    let will_create = flags & (O_CREAT | O_TMPFILE_BIT) != 0;
    if will_create {
        if how.mode & !u64::from(S_IALLUGO) != 0 {
            return Err(Errno::EINVAL);
        }
    } else if how.mode != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & O_CREAT != 0 && flags & O_DIRECTORY != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & O_TMPFILE_BIT != 0 {
        if flags & (O_TMPFILE | O_CREAT) != O_TMPFILE {
            return Err(Errno::EINVAL);
        }
        if flags & O_ACCMODE == O_RDONLY {
            return Err(Errno::EINVAL);
        }
    }
    if flags & O_PATH != 0 && flags & !O_PATH_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if how.resolve & RESOLVE_CACHED != 0 && flags & (O_TRUNC | O_CREAT | O_TMPFILE_BIT) != 0 {
        return Err(Errno::EAGAIN);
    }
    let path = read_path(task, path_addr)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let start = if how.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0
        && path.first() == Some(&b'/')
        && dirfd != AT_FDCWD
    {
        // Confined walks start (and are rooted) at dirfd even for absolute paths.
        let file = task.fds().get(dirfd)?;
        match file.dentry() {
            Some(d) if d.is_dir() => Some(Arc::clone(d)),
            _ => return Err(Errno::ENOTDIR),
        }
    } else {
        dirfd_start(task, dirfd, &path)?
    };
    let mode = u32::try_from(how.mode).map_err(|_| Errno::EINVAL)?;
    let file = if flags & O_TMPFILE_BIT != 0 {
        task.fs()
            .open_tmpfile(&task.creds, start.as_ref(), &path, flags, mode)?
    } else {
        task.fs()
            .open(&task.creds, start.as_ref(), &path, flags, mode, how.resolve)?
    };
    install(task, file, flags & abi::fcntl::O_CLOEXEC != 0)
}

/// The `open_how` `open(2)` and `openat(2)` build: unknown flags dropped,
/// `O_PATH` keeping only its own, mode only with `O_CREAT`/`O_TMPFILE`.
fn build_open_how(flags: u32, mode: u32) -> OpenHow {
    // force_o_largefile() comes first, so O_PATH drops it again.
    let mut flags = (flags & VALID_OPEN_FLAGS) | O_LARGEFILE;
    if flags & O_PATH != 0 {
        flags &= O_PATH_FLAGS;
    }
    let mode = if flags & (O_CREAT | O_TMPFILE_BIT) != 0 {
        mode & S_IALLUGO
    } else {
        0
    };
    OpenHow {
        flags: u64::from(flags),
        mode: u64::from(mode),
        resolve: 0,
    }
}

/// Implements Linux `openat(2)`.
///
/// The view is read-only: write access to a rootfs file, `O_TRUNC` of one,
/// and creating a file give `EROFS`; host device nodes give `EACCES` and
/// host FIFOs and sockets `ENXIO` (never opened).
fn sys_openat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let how = build_open_how(args.u32(2), args.u32(3));
    do_open(task, args.i32(0), args.addr(1), how)
}

/// Implements Linux `open(2)`.
fn sys_open(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let how = build_open_how(args.u32(1), args.u32(2));
    do_open(task, AT_FDCWD, args.addr(0), how)
}

/// Implements Linux `creat(2)`.
fn sys_creat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let how = build_open_how(O_CREAT | O_WRONLY | O_TRUNC, args.u32(1));
    do_open(task, AT_FDCWD, args.addr(0), how)
}

/// Implements Linux `openat2(2)`.
///
/// `RESOLVE_CACHED` is honoured as "may need I/O" only for creating opens.
fn sys_openat2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let size = args.u64(3);
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > abi::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    let how: OpenHow = task.mm.read_obj(args.addr(2))?;
    if size > OPEN_HOW_SIZE_VER0 {
        // Fields this kernel does not know must be zero.
        let extra = usize::try_from(size - OPEN_HOW_SIZE_VER0).map_err(|_| Errno::E2BIG)?;
        let mut rest = vec![0u8; extra];
        task.mm
            .copy_in(args.addr(2) + OPEN_HOW_SIZE_VER0, &mut rest)?;
        if rest.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    if how.flags & !u64::from(VALID_OPEN_FLAGS) != 0 || how.resolve & !VALID_RESOLVE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    if how.resolve & RESOLVE_IN_ROOT != 0 && how.resolve & RESOLVE_BENEATH != 0 {
        return Err(Errno::EINVAL);
    }
    let largefile = if how.flags & u64::from(O_PATH) == 0 {
        u64::from(O_LARGEFILE)
    } else {
        0
    };
    let how = OpenHow {
        flags: how.flags | largefile,
        ..how
    };
    do_open(task, args.i32(0), args.addr(1), how)
}

// ---------------------------------------------------------------------------
// stat

fn do_stat(task: &mut Task, dirfd: i32, path: u64, buf: u64, flags: u32) -> SyscallResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let access = Access::fs(&task.creds);
    let target = target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )?;
    let st = target.stat()?;
    task.mm.write_obj(buf, &st)?;
    Ok(0)
}

/// Implements Linux `newfstatat(2)`.
fn sys_newfstatat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_stat(task, args.i32(0), args.addr(1), args.addr(2), args.u32(3))
}

/// Implements Linux `stat(2)`.
fn sys_stat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_stat(task, AT_FDCWD, args.addr(0), args.addr(1), 0)
}

/// Implements Linux `lstat(2)`.
fn sys_lstat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_stat(
        task,
        AT_FDCWD,
        args.addr(0),
        args.addr(1),
        AT_SYMLINK_NOFOLLOW,
    )
}

/// Implements Linux `statx(2)`.
///
/// Host files report what the host's `statx` gives; the sentry's own nodes
/// report the basic fields.
fn sys_statx(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (dirfd, path, flags, mask, buf) = (
        args.i32(0),
        args.addr(1),
        args.u32(2),
        args.u32(3),
        args.addr(4),
    );
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & AT_STATX_SYNC_TYPE == AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL);
    }
    if mask & STATX__RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let access = Access::fs(&task.creds);
    let target = target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )?;
    let sync = flags & AT_STATX_SYNC_TYPE;
    let stx = match &target {
        Target::Dentry(d) => d.statx(sync, mask)?,
        Target::File(f) => f.ops().statx(sync, mask)?,
    };
    task.mm.write_obj(buf, &stx)?;
    Ok(0)
}

/// Implements Linux `statfs(2)`.
///
/// The rootfs reports the host file system's figures with `ST_RDONLY` set.
fn sys_statfs(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    let st = d.statfs()?;
    task.mm.write_obj(args.addr(1), &st)?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// readlink, access

fn do_readlink(
    task: &mut Task,
    dirfd: i32,
    path_addr: u64,
    buf: u64,
    bufsiz: i32,
) -> SyscallResult {
    if bufsiz <= 0 {
        return Err(Errno::EINVAL);
    }
    let path = read_path(task, path_addr)?;
    let dentry = if path.is_empty() {
        // An empty path names dirfd itself, which must be a symlink (O_PATH).
        let d = if dirfd == AT_FDCWD {
            Arc::clone(task.fs().cwd())
        } else {
            task.fds()
                .get(dirfd)?
                .dentry()
                .cloned()
                .ok_or(Errno::ENOENT)?
        };
        if !d.is_symlink() {
            return Err(Errno::ENOENT);
        }
        d
    } else {
        let start = dirfd_start(task, dirfd, &path)?;
        let access = Access::fs(&task.creds);
        task.fs().resolve(&access, start.as_ref(), &path, false)?
    };
    let target = dentry.readlink()?;
    let n = target.len().min(usize::try_from(bufsiz).unwrap_or(0));
    task.mm.copy_out(buf, &target[..n])?;
    Ok(n as u64)
}

/// Implements Linux `readlink(2)`.
fn sys_readlink(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_readlink(task, AT_FDCWD, args.addr(0), args.addr(1), args.i32(2))
}

/// Implements Linux `readlinkat(2)`.
fn sys_readlinkat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_readlink(task, args.i32(0), args.addr(1), args.addr(2), args.i32(3))
}

fn do_faccessat(task: &mut Task, dirfd: i32, path: u64, mode: u32, flags: u32) -> SyscallResult {
    if mode & !0o7 != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let creds = task.creds.clone();
    let access = if flags & AT_EACCESS != 0 {
        Access::fs(&creds)
    } else {
        Access::real(&creds)
    };
    let target = target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )?;
    let (st, read_only) = match &target {
        Target::Dentry(d) => (d.stat()?, d.read_only()),
        Target::File(f) => (f.stat()?, false),
    };
    if mode == 0 {
        return Ok(0);
    }
    // access(2)'s mask bits are MAY_READ/MAY_WRITE/MAY_EXEC's values.
    inode_permission(&access, &st, read_only, mode)?;
    Ok(0)
}

/// Implements Linux `access(2)`.
fn sys_access(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_faccessat(task, AT_FDCWD, args.addr(0), args.u32(1), 0)
}

/// Implements Linux `faccessat(2)` (the syscall has no flags argument).
fn sys_faccessat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_faccessat(task, args.i32(0), args.addr(1), args.u32(2), 0)
}

/// Implements Linux `faccessat2(2)`.
fn sys_faccessat2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_faccessat(task, args.i32(0), args.addr(1), args.u32(2), args.u32(3))
}

// ---------------------------------------------------------------------------
// the working directory

/// Implements Linux `getcwd(2)`: `ENOENT` once the directory was removed,
/// `ENAMETOOLONG` for a path longer than a page.
fn sys_getcwd(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let cwd = Arc::clone(task.fs().cwd());
    if cwd.unlinked() {
        return Err(Errno::ENOENT);
    }
    let mut path = cwd.path();
    path.push(0);
    if path.len() as u64 > abi::PAGE_SIZE {
        return Err(Errno::ENAMETOOLONG);
    }
    if (path.len() as u64) > args.u64(1) {
        return Err(Errno::ERANGE);
    }
    task.mm.copy_out(args.addr(0), &path)?;
    Ok(path.len() as u64)
}

fn set_cwd(task: &mut Task, dentry: Arc<Dentry>) -> SyscallResult {
    if !dentry.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Access::fs(&task.creds).check(&dentry.stat()?, MAY_EXEC)?;
    task.update_fs(|fs| fs.set_cwd(dentry));
    Ok(0)
}

/// Implements Linux `chdir(2)`.
fn sys_chdir(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let dentry = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    set_cwd(task, dentry)
}

/// Implements Linux `fchdir(2)`.
fn sys_fchdir(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let file = task.fds().get(args.i32(0))?;
    let dentry = file.dentry().cloned().ok_or(Errno::ENOTDIR)?;
    set_cwd(task, dentry)
}

/// Implements Linux `umask(2)`.
fn sys_umask(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.update_fs(|fs| fs.set_umask(args.u32(0)))))
}

// ---------------------------------------------------------------------------
// calls that change the tree

/// `filename_create`: the parent walk, then `EEXIST` for an existing name,
/// `ENOENT` for a trailing slash on a non-directory, then `may_create`
/// (`EROFS`, `EACCES`). Returns the directory and the name.
fn create_at(
    task: &Task,
    dirfd: i32,
    path: &[u8],
    want_dir: bool,
) -> Result<(Arc<Dentry>, Vec<u8>), Errno> {
    let start = dirfd_start(task, dirfd, path)?;
    let access = Access::fs(&task.creds);
    let fs = task.fs();
    let parent = fs.resolve_parent(&access, start.as_ref(), path)?;
    let Last::Norm(name) = parent.last else {
        return Err(Errno::EEXIST);
    };
    match fs.lookup_child(&parent.dir, &name) {
        Ok(_) => Err(Errno::EEXIST),
        Err(Errno::ENOENT) if parent.trailing_slash && !want_dir => Err(Errno::ENOENT),
        Err(Errno::ENOENT) => {
            may_create(&access, &parent.dir)?;
            Ok((parent.dir, name))
        }
        Err(e) => Err(e),
    }
}

/// Makes a node of type and permissions `mode` (before the umask) as
/// `name` in `dir`.
fn make_node(
    task: &Task,
    dir: &Arc<Dentry>,
    name: &[u8],
    mode: u32,
    rdev: u64,
    target: Option<&[u8]>,
) -> SyscallResult {
    let access = Access::fs(&task.creds);
    let umask = if mode & S_IFMT == S_IFLNK {
        0
    } else {
        task.fs().umask()
    };
    let (mode, uid, gid) = init_owner(&access, &dir.stat()?, mode & !umask);
    let new = NewNode {
        mode,
        uid,
        gid,
        rdev,
        target,
    };
    crate::vfs::create(dir, name, new).map(|_| 0)
}

fn do_mkdirat(task: &mut Task, dirfd: i32, path: u64, mode: u32) -> SyscallResult {
    let path = read_path(task, path)?;
    let (dir, name) = create_at(task, dirfd, &path, true)?;
    make_node(task, &dir, &name, S_IFDIR | (mode & 0o1777), 0, None)
}

/// Implements Linux `mkdirat(2)`.
fn sys_mkdirat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_mkdirat(task, args.i32(0), args.addr(1), args.u32(2))
}

/// Implements Linux `mkdir(2)`.
fn sys_mkdir(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_mkdirat(task, AT_FDCWD, args.addr(0), args.u32(1))
}

fn do_mknodat(task: &mut Task, dirfd: i32, path_addr: u64, mode: u32, dev: u32) -> SyscallResult {
    let kind = match mode & S_IFMT {
        0 => S_IFREG,
        k @ (S_IFREG | S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK) => k,
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    };
    let path = read_path(task, path_addr)?;
    let (dir, name) = create_at(task, dirfd, &path, false)?;
    let rdev = if matches!(kind, S_IFCHR | S_IFBLK) {
        if !task.creds.has_cap(CAP_MKNOD) {
            return Err(Errno::EPERM);
        }
        // new_decode_dev
        let (major, minor) = ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
        abi::stat::makedev(major, minor)
    } else {
        0
    };
    make_node(task, &dir, &name, kind | (mode & S_IALLUGO), rdev, None)
}

/// Implements Linux `mknodat(2)`.
///
/// Device nodes open as the devfs device with the same number (null, zero,
/// full, random, urandom, tty), others with `ENXIO`; FIFOs and sockets
/// cannot be opened yet (`ENXIO`).
fn sys_mknodat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_mknodat(task, args.i32(0), args.addr(1), args.u32(2), args.u32(3))
}

/// Implements Linux `mknod(2)`.
fn sys_mknod(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_mknodat(task, AT_FDCWD, args.addr(0), args.u32(1), args.u32(2))
}

fn do_symlinkat(task: &mut Task, target: u64, dirfd: i32, path_addr: u64) -> SyscallResult {
    let target = read_path(task, target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let path = read_path(task, path_addr)?;
    let (dir, name) = create_at(task, dirfd, &path, false)?;
    make_node(task, &dir, &name, S_IFLNK | 0o777, 0, Some(&target))
}

/// Implements Linux `symlinkat(2)`.
fn sys_symlinkat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_symlinkat(task, args.addr(0), args.i32(1), args.addr(2))
}

/// Implements Linux `symlink(2)`.
fn sys_symlink(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_symlinkat(task, args.addr(0), AT_FDCWD, args.addr(1))
}

/// `may_linkat` with `fs.protected_hardlinks = 1`: a caller that does not
/// own the file may link it only if it could open it for reading and
/// writing, and it is a plain regular file.
fn may_linkat(access: &Access<'_>, st: &abi::stat::Stat) -> Result<(), Errno> {
    if access.owns(st) {
        return Ok(());
    }
    let safe = st.st_mode & S_IFMT == S_IFREG
        && st.st_mode & S_ISUID == 0
        && st.st_mode & (S_ISGID | S_IXGRP) != (S_ISGID | S_IXGRP)
        && access.check(st, MAY_READ | MAY_WRITE).is_ok();
    if safe { Ok(()) } else { Err(Errno::EPERM) }
}

fn do_linkat(
    task: &mut Task,
    olddfd: i32,
    old: u64,
    newdfd: i32,
    new: u64,
    flags: u32,
) -> SyscallResult {
    if flags & !(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let creds = task.creds.clone();
    let access = Access::fs(&creds);
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; without it the empty path is ENOENT.
    let at = if flags & AT_EMPTY_PATH != 0 && !creds.has_cap(CAP_DAC_READ_SEARCH) {
        0
    } else {
        flags
    };
    let target = match target_at(
        task,
        &access,
        olddfd,
        old,
        at,
        flags & AT_SYMLINK_FOLLOW != 0,
    )? {
        Target::Dentry(d) => d,
        Target::File(_) => return Err(Errno::ENOENT),
    };
    let path = read_path(task, new)?;
    let start = dirfd_start(task, newdfd, &path)?;
    let fs = task.fs();
    let parent = fs.resolve_parent(&access, start.as_ref(), &path)?;
    let Last::Norm(name) = parent.last else {
        return Err(Errno::EEXIST);
    };
    match fs.lookup_child(&parent.dir, &name) {
        Ok(_) => return Err(Errno::EEXIST),
        Err(Errno::ENOENT) if parent.trailing_slash => return Err(Errno::ENOENT),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    if parent.dir.read_only() {
        return Err(Errno::EROFS);
    }
    if target.mount != parent.dir.mount {
        return Err(Errno::EXDEV);
    }
    let st = target.stat()?;
    may_linkat(&access, &st)?;
    may_create(&access, &parent.dir)?;
    if st.st_mode & S_IFMT == S_IFDIR {
        return Err(Errno::EPERM);
    }
    crate::vfs::link(&target, &parent.dir, &name).map(|()| 0)
}

/// Implements Linux `linkat(2)`.
fn sys_linkat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_linkat(
        task,
        args.i32(0),
        args.addr(1),
        args.i32(2),
        args.addr(3),
        args.u32(4),
    )
}

/// Implements Linux `link(2)`.
fn sys_link(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_linkat(task, AT_FDCWD, args.addr(0), AT_FDCWD, args.addr(1), 0)
}

/// `do_unlinkat`/`do_rmdir`: the parent walk, the last component's kind,
/// `EROFS` (before the name is looked up, as Linux does), the lookup, then
/// `may_delete` and the file system.
fn remove_at(task: &mut Task, dirfd: i32, path_addr: u64, dir: bool) -> SyscallResult {
    let path = read_path(task, path_addr)?;
    let start = dirfd_start(task, dirfd, &path)?;
    let access = Access::fs(&task.creds);
    let fs = task.fs();
    let parent = fs.resolve_parent(&access, start.as_ref(), &path)?;
    let name = match (parent.last, dir) {
        (Last::Norm(name), _) => name,
        (_, false) => return Err(Errno::EISDIR),
        (Last::DotDot, true) => return Err(Errno::ENOTEMPTY),
        (Last::Dot, true) => return Err(Errno::EINVAL),
        (Last::Root, true) => return Err(Errno::EBUSY),
    };
    if parent.dir.read_only() {
        return Err(Errno::EROFS);
    }
    let victim = fs.lookup_child(&parent.dir, &name)?;
    if !dir && parent.trailing_slash {
        return Err(if victim.is_dir() {
            Errno::EISDIR
        } else {
            Errno::ENOTDIR
        });
    }
    may_delete(&access, &parent.dir, &victim, dir)?;
    crate::vfs::remove(&parent.dir, &name, dir)?;
    fs.forget_removed(&victim);
    Ok(0)
}

/// Implements Linux `unlinkat(2)`.
fn sys_unlinkat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(2);
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    remove_at(task, args.i32(0), args.addr(1), flags & AT_REMOVEDIR != 0)
}

/// Implements Linux `unlink(2)`.
fn sys_unlink(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    remove_at(task, AT_FDCWD, args.addr(0), false)
}

/// Implements Linux `rmdir(2)`.
fn sys_rmdir(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    remove_at(task, AT_FDCWD, args.addr(0), true)
}

fn do_renameat2(
    task: &mut Task,
    olddfd: i32,
    old: u64,
    newdfd: i32,
    new: u64,
    flags: u32,
) -> SyscallResult {
    if flags & !(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 && flags & RENAME_EXCHANGE != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & RENAME_WHITEOUT != 0 && !task.creds.has_cap(CAP_MKNOD) {
        return Err(Errno::EPERM);
    }
    let exchange = flags & RENAME_EXCHANGE != 0;
    let noreplace = flags & RENAME_NOREPLACE != 0;
    let old = read_path(task, old)?;
    let new = read_path(task, new)?;
    let access = Access::fs(&task.creds);
    let fs = task.fs();
    let old_start = dirfd_start(task, olddfd, &old)?;
    let old_parent = fs.resolve_parent(&access, old_start.as_ref(), &old)?;
    let new_start = dirfd_start(task, newdfd, &new)?;
    let new_parent = fs.resolve_parent(&access, new_start.as_ref(), &new)?;
    if old_parent.dir.mount != new_parent.dir.mount {
        return Err(Errno::EXDEV);
    }
    let Last::Norm(old_name) = &old_parent.last else {
        return Err(Errno::EBUSY);
    };
    let Last::Norm(new_name) = &new_parent.last else {
        return Err(if noreplace {
            Errno::EEXIST
        } else {
            Errno::EBUSY
        });
    };
    if old_parent.dir.read_only() {
        return Err(Errno::EROFS);
    }
    let vfs = Arc::clone(fs.vfs());
    let _rename = vfs.lock_rename();
    let src = fs.lookup_child(&old_parent.dir, old_name)?;
    if !src.is_dir() && old_parent.trailing_slash {
        return Err(Errno::ENOTDIR);
    }
    let dst = match fs.lookup_child(&new_parent.dir, new_name) {
        Ok(d) => Some(d),
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(e),
    };
    if noreplace && dst.is_some() {
        return Err(Errno::EEXIST);
    }
    if exchange && dst.is_none() {
        return Err(Errno::ENOENT);
    }
    if !src.is_dir() && new_parent.trailing_slash && !exchange {
        return Err(Errno::ENOTDIR);
    }
    if exchange
        && let Some(d) = &dst
        && !d.is_dir()
        && (new_parent.trailing_slash || old_parent.trailing_slash)
    {
        return Err(Errno::ENOTDIR);
    }
    // The source may not move below itself, nor the target be above the source.
    if src.is_dir() && new_parent.dir.is_within(&src) {
        return Err(Errno::EINVAL);
    }
    if let Some(d) = &dst
        && d.is_dir()
        && old_parent.dir.is_within(d)
    {
        return Err(if exchange {
            Errno::EINVAL
        } else {
            Errno::ENOTEMPTY
        });
    }
    let (sst, dst_st) = (src.stat()?, dst.as_ref().map(|d| d.stat()).transpose()?);
    if let Some(d) = &dst_st
        && (d.st_dev, d.st_ino) == (sst.st_dev, sst.st_ino)
    {
        return Ok(0);
    }
    let src_dir = src.is_dir();
    may_delete(&access, &old_parent.dir, &src, src_dir)?;
    match &dst {
        Some(d) => {
            let is_dir = if exchange { d.is_dir() } else { src_dir };
            may_delete(&access, &new_parent.dir, d, is_dir)?;
        }
        None => may_create(&access, &new_parent.dir)?,
    }
    if !Arc::ptr_eq(&old_parent.dir, &new_parent.dir) {
        if src_dir {
            access.check(&sst, MAY_WRITE)?;
        }
        if exchange
            && let (Some(d), Some(st)) = (&dst, &dst_st)
            && d.is_dir()
        {
            access.check(st, MAY_WRITE)?;
        }
    }
    if flags & RENAME_WHITEOUT != 0 {
        // Neither tmpfs here nor the overlay makes whiteouts on request.
        return Err(Errno::EINVAL);
    }
    crate::vfs::rename(
        &old_parent.dir,
        old_name,
        &new_parent.dir,
        new_name,
        exchange,
        noreplace,
    )?;
    if let (Some(replaced), false) = (&dst, exchange) {
        fs.forget_removed(replaced);
    }
    Ok(0)
}

/// Implements Linux `renameat2(2)`.
///
/// `RENAME_WHITEOUT` gives `EINVAL` after its `EPERM` check (as on
/// overlayfs).
fn sys_renameat2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_renameat2(
        task,
        args.i32(0),
        args.addr(1),
        args.i32(2),
        args.addr(3),
        args.u32(4),
    )
}

/// Implements Linux `renameat(2)`.
fn sys_renameat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_renameat2(
        task,
        args.i32(0),
        args.addr(1),
        args.i32(2),
        args.addr(3),
        0,
    )
}

/// Implements Linux `rename(2)`.
fn sys_rename(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_renameat2(task, AT_FDCWD, args.addr(0), AT_FDCWD, args.addr(1), 0)
}

/// Applies a metadata change to what an `*at` call named: `EROFS` on the
/// read-only file systems, `EPERM` for host streams (the sentry never
/// changes the caller's files).
pub(super) fn change_attr(
    task: &Task,
    target: &Target,
    make: impl FnOnce(&Access<'_>, &abi::stat::Stat, bool) -> Result<SetAttr, Errno>,
) -> SyscallResult {
    let Target::Dentry(d) = target else {
        return Err(Errno::EPERM);
    };
    let access = Access::fs(&task.creds);
    let st = d.stat()?;
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let attr = make(&access, &st, d.read_only())?;
    setattr(d, &attr).map(|()| 0)
}

fn do_fchmodat(task: &mut Task, dirfd: i32, path: u64, mode: u32, flags: u32) -> SyscallResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let access = Access::fs(&task.creds);
    let target = target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )?;
    if let Target::Dentry(d) = &target
        && d.is_symlink()
    {
        // Symlinks have no mode to change (fchmodat2 with AT_SYMLINK_NOFOLLOW).
        return Err(Errno::EOPNOTSUPP);
    }
    change_attr(task, &target, |a, st, _| chmod_attr(a, st, mode))
}

/// Implements Linux `fchmodat(2)` (the syscall has no flags argument).
fn sys_fchmodat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchmodat(task, args.i32(0), args.addr(1), args.u32(2), 0)
}

/// Implements Linux `chmod(2)`.
fn sys_chmod(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchmodat(task, AT_FDCWD, args.addr(0), args.u32(1), 0)
}

/// A `chown` id argument: -1 leaves it unchanged.
pub(super) fn id_arg(id: u32) -> Option<u32> {
    (id != u32::MAX).then_some(id)
}

fn do_fchownat(
    task: &mut Task,
    dirfd: i32,
    path: u64,
    uid: u32,
    gid: u32,
    flags: u32,
) -> SyscallResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let access = Access::fs(&task.creds);
    let target = target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )?;
    change_attr(task, &target, |a, st, _| {
        chown_attr(a, st, id_arg(uid), id_arg(gid))
    })
}

/// Implements Linux `fchownat(2)`.
fn sys_fchownat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchownat(
        task,
        args.i32(0),
        args.addr(1),
        args.u32(2),
        args.u32(3),
        args.u32(4),
    )
}

/// Implements Linux `chown(2)`.
fn sys_chown(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchownat(task, AT_FDCWD, args.addr(0), args.u32(1), args.u32(2), 0)
}

/// Implements Linux `lchown(2)`.
fn sys_lchown(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchownat(
        task,
        AT_FDCWD,
        args.addr(0),
        args.u32(1),
        args.u32(2),
        AT_SYMLINK_NOFOLLOW,
    )
}

/// Implements Linux `truncate(2)`.
fn sys_truncate(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let Ok(len) = u64::try_from(args.i64(1)) else {
        return Err(Errno::EINVAL);
    };
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    match d.file_type() {
        S_IFDIR => return Err(Errno::EISDIR),
        S_IFREG => {}
        _ => return Err(Errno::EINVAL),
    }
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let access = Access::fs(&task.creds);
    let st = d.stat()?;
    access.check(&st, MAY_WRITE)?;
    let _writer = WriteCount::writer((st.st_dev, st.st_ino))?;
    let attr = SetAttr {
        size: Some(len),
        kill_suid: !access.capable(CAP_FSETID),
        ..SetAttr::default()
    };
    setattr(&d, &attr).map(|()| 0)
}

fn nsec_valid(nsec: i64) -> bool {
    (0..abi::time::NSEC_PER_SEC).contains(&nsec)
        || nsec == abi::stat::UTIME_NOW
        || nsec == abi::stat::UTIME_OMIT
}

/// The times `utimensat` sets: `None` for `UTIME_OMIT`.
fn set_times(times: Option<[Timespec; 2]>) -> (Option<SetTime>, Option<SetTime>) {
    let Some(ts) = times else {
        return (Some(SetTime::Now), Some(SetTime::Now));
    };
    let one = |t: Timespec| match t.tv_nsec {
        abi::stat::UTIME_OMIT => None,
        abi::stat::UTIME_NOW => Some(SetTime::Now),
        _ => Some(SetTime::At(t)),
    };
    (one(ts[0]), one(ts[1]))
}

/// Sets times on a resolved target.
fn utimes_target(task: &Task, target: &Target, times: Option<[Timespec; 2]>) -> SyscallResult {
    let (atime, mtime) = set_times(times);
    change_attr(task, target, |a, st, ro| {
        utimes_attr(a, st, ro, atime, mtime)
    })
}

/// Implements Linux `utimensat(2)`.
fn sys_utimensat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (dirfd, path, times, flags) = (args.i32(0), args.addr(1), args.addr(2), args.u32(3));
    let mut valid = true;
    let mut ts_opt = None;
    if times != 0 {
        let ts: [Timespec; 2] = task.mm.read_obj(times)?;
        if ts.iter().all(|t| t.tv_nsec == abi::stat::UTIME_OMIT) {
            return Ok(0);
        }
        valid = ts.iter().all(|t| nsec_valid(t.tv_nsec));
        ts_opt = Some(ts);
    }
    if path == 0 && dirfd != AT_FDCWD {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        let file = task.fds().get(dirfd)?;
        if file.is_path() {
            return Err(Errno::EBADF);
        }
        if !valid {
            return Err(Errno::EINVAL);
        }
        let target = match file.dentry() {
            Some(d) => Target::Dentry(Arc::clone(d)),
            None => Target::File(file),
        };
        return utimes_target(task, &target, ts_opt);
    }
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let access = Access::fs(&task.creds);
    let target = target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )?;
    if !valid {
        return Err(Errno::EINVAL);
    }
    utimes_target(task, &target, ts_opt)
}

/// Implements Linux `utimes(2)`.
fn sys_utimes(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let mut times = None;
    if args.addr(1) != 0 {
        let tv: [Timeval; 2] = task.mm.read_obj(args.addr(1))?;
        if tv.iter().any(|t| !(0..1_000_000).contains(&t.tv_usec)) {
            return Err(Errno::EINVAL);
        }
        times = Some(tv.map(|t| Timespec {
            tv_sec: t.tv_sec,
            tv_nsec: t.tv_usec * 1000,
        }));
    }
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    utimes_target(task, &Target::Dentry(d), times)
}

/// Implements Linux `utime(2)`.
fn sys_utime(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let mut times = None;
    if args.addr(1) != 0 {
        let t: [i64; 2] = task.mm.read_obj(args.addr(1))?;
        times = Some(t.map(|s| Timespec {
            tv_sec: s,
            tv_nsec: 0,
        }));
    }
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    utimes_target(task, &Target::Dentry(d), times)
}

// ---------------------------------------------------------------------------
// extended attributes

/// Reads an attribute name (`import_xattr_name`): `ERANGE` if empty or
/// longer than `XATTR_NAME_MAX`.
fn read_xattr_name(task: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    match task.mm.read_c_string(addr, XATTR_NAME_MAX + 1) {
        Ok(name) if name.is_empty() => Err(Errno::ERANGE),
        Ok(name) => Ok(name),
        Err(Errno::ENAMETOOLONG) => Err(Errno::ERANGE),
        Err(e) => Err(e),
    }
}

/// `setxattr` on a resolved target, shared with `fsetxattr`.
pub(super) fn do_setxattr(
    task: &Task,
    target: &Target,
    name: u64,
    value: u64,
    size: u64,
    flags: u32,
) -> SyscallResult {
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = read_xattr_name(task, name)?;
    let size = usize::try_from(size).map_err(|_| Errno::E2BIG)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut buf = vec![0u8; size];
    task.mm.copy_in(value, &mut buf)?;
    let Target::Dentry(d) = target else {
        return Err(Errno::EOPNOTSUPP);
    };
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let access = Access::fs(&task.creds);
    xattr_permission(&access, d, &name, true)?;
    let mode = match flags {
        XATTR_CREATE => XattrMode::Create,
        XATTR_REPLACE => XattrMode::Replace,
        _ => XattrMode::Any,
    };
    setxattr(d, &name, &buf, mode).map(|()| 0)
}

/// `getxattr` on a resolved target, shared with `fgetxattr`.
pub(super) fn do_getxattr(
    task: &Task,
    target: &Target,
    name: u64,
    value: u64,
    size: u64,
) -> SyscallResult {
    let name = read_xattr_name(task, name)?;
    let Target::Dentry(d) = target else {
        return Err(Errno::EOPNOTSUPP);
    };
    let access = Access::fs(&task.creds);
    xattr_permission(&access, d, &name, false)?;
    let data = getxattr(d, &name)?;
    let size = usize::try_from(size.min(XATTR_SIZE_MAX as u64)).unwrap_or(XATTR_SIZE_MAX);
    if size == 0 {
        return Ok(data.len() as u64);
    }
    if data.len() > size {
        return Err(Errno::ERANGE);
    }
    task.mm.copy_out(value, &data)?;
    Ok(data.len() as u64)
}

/// `listxattr` on a resolved target, shared with `flistxattr`.
pub(super) fn do_listxattr(task: &Task, target: &Target, list: u64, size: u64) -> SyscallResult {
    let Target::Dentry(d) = target else {
        return Ok(0);
    };
    let access = Access::fs(&task.creds);
    let mut out = Vec::new();
    for name in listxattr(&access, d) {
        out.extend_from_slice(&name);
        out.push(0);
    }
    let size = usize::try_from(size.min(XATTR_LIST_MAX as u64)).unwrap_or(XATTR_LIST_MAX);
    if size == 0 {
        return Ok(out.len() as u64);
    }
    if out.len() > size {
        return Err(Errno::ERANGE);
    }
    task.mm.copy_out(list, &out)?;
    Ok(out.len() as u64)
}

/// `removexattr` on a resolved target, shared with `fremovexattr`.
pub(super) fn do_removexattr(task: &Task, target: &Target, name: u64) -> SyscallResult {
    let name = read_xattr_name(task, name)?;
    let Target::Dentry(d) = target else {
        return Err(Errno::EOPNOTSUPP);
    };
    if d.read_only() {
        return Err(Errno::EROFS);
    }
    let access = Access::fs(&task.creds);
    xattr_permission(&access, d, &name, true)?;
    removexattr(d, &name).map(|()| 0)
}

fn xattr_target(task: &Task, path: u64, follow: bool) -> Result<Target, Errno> {
    dentry_at(task, AT_FDCWD, path, follow).map(Target::Dentry)
}

/// Implements Linux `setxattr(2)`.
///
/// tmpfs and the overlay keep `user.*`, `trusted.*` and `security.*`
/// attributes; other namespaces give `EOPNOTSUPP`. Host files (volumes and
/// the overlay's lower layer) show only their `user.*` attributes.
fn sys_setxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), true)?;
    do_setxattr(
        task,
        &t,
        args.addr(1),
        args.addr(2),
        args.u64(3),
        args.u32(4),
    )
}

/// Implements Linux `lsetxattr(2)`.
fn sys_lsetxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), false)?;
    do_setxattr(
        task,
        &t,
        args.addr(1),
        args.addr(2),
        args.u64(3),
        args.u32(4),
    )
}

/// Implements Linux `getxattr(2)`.
fn sys_getxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), true)?;
    do_getxattr(task, &t, args.addr(1), args.addr(2), args.u64(3))
}

/// Implements Linux `lgetxattr(2)`.
fn sys_lgetxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), false)?;
    do_getxattr(task, &t, args.addr(1), args.addr(2), args.u64(3))
}

/// Implements Linux `listxattr(2)`.
fn sys_listxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), true)?;
    do_listxattr(task, &t, args.addr(1), args.u64(2))
}

/// Implements Linux `llistxattr(2)`.
fn sys_llistxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), false)?;
    do_listxattr(task, &t, args.addr(1), args.u64(2))
}

/// Implements Linux `removexattr(2)`.
fn sys_removexattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), true)?;
    do_removexattr(task, &t, args.addr(1))
}

/// Implements Linux `lremovexattr(2)`.
fn sys_lremovexattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = xattr_target(task, args.addr(0), false)?;
    do_removexattr(task, &t, args.addr(1))
}

const RO: &str = "";
const MKNOD: &str = "FIFOs and sockets cannot be opened yet (ENXIO)";
const RENAME: &str = "RENAME_WHITEOUT gives EINVAL";
const XATTR: &str = "user/trusted/security namespaces; lower overlay files show no host attributes";

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_OPEN,
        sys_open,
        &[Arg::Path, Arg::OpenFlags, Arg::Mode],
        Support::Full,
        "",
    ),
    entry(
        SYS_OPENAT,
        sys_openat,
        &[Arg::Fd, Arg::Path, Arg::OpenFlags, Arg::Mode],
        Support::Full,
        "",
    ),
    entry(
        SYS_CREAT,
        sys_creat,
        &[Arg::Path, Arg::Mode],
        Support::Full,
        RO,
    ),
    entry(
        SYS_OPENAT2,
        sys_openat2,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        "RESOLVE_CACHED gives EAGAIN only for opens that create or truncate",
    ),
    entry(
        SYS_NEWFSTATAT,
        sys_newfstatat,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::AtFlags],
        Support::Full,
        "",
    ),
    entry(
        SYS_STAT,
        sys_stat,
        &[Arg::Path, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_LSTAT,
        sys_lstat,
        &[Arg::Path, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_STATX,
        sys_statx,
        &[Arg::Fd, Arg::Path, Arg::AtFlags, Arg::Hex, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_STATFS,
        sys_statfs,
        &[Arg::Path, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_READLINK,
        sys_readlink,
        &[Arg::Path, Arg::OutBuf, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_READLINKAT,
        sys_readlinkat,
        &[Arg::Fd, Arg::Path, Arg::OutBuf, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_ACCESS,
        sys_access,
        &[Arg::Path, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_FACCESSAT,
        sys_faccessat,
        &[Arg::Fd, Arg::Path, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_FACCESSAT2,
        sys_faccessat2,
        &[Arg::Fd, Arg::Path, Arg::Int, Arg::AtFlags],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETCWD,
        sys_getcwd,
        &[Arg::OutBuf, Arg::Len],
        Support::Full,
        "",
    ),
    entry(SYS_CHDIR, sys_chdir, &[Arg::Path], Support::Full, ""),
    entry(SYS_FCHDIR, sys_fchdir, &[Arg::Fd], Support::Full, ""),
    entry(SYS_UMASK, sys_umask, &[Arg::Mode], Support::Full, ""),
    entry(
        SYS_MKDIR,
        sys_mkdir,
        &[Arg::Path, Arg::Mode],
        Support::Full,
        RO,
    ),
    entry(
        SYS_MKDIRAT,
        sys_mkdirat,
        &[Arg::Fd, Arg::Path, Arg::Mode],
        Support::Full,
        RO,
    ),
    entry(
        SYS_MKNOD,
        sys_mknod,
        &[Arg::Path, Arg::Mode, Arg::Hex],
        Support::Partial,
        MKNOD,
    ),
    entry(
        SYS_MKNODAT,
        sys_mknodat,
        &[Arg::Fd, Arg::Path, Arg::Mode, Arg::Hex],
        Support::Partial,
        MKNOD,
    ),
    entry(
        SYS_SYMLINK,
        sys_symlink,
        &[Arg::Path, Arg::Path],
        Support::Full,
        RO,
    ),
    entry(
        SYS_SYMLINKAT,
        sys_symlinkat,
        &[Arg::Path, Arg::Fd, Arg::Path],
        Support::Full,
        RO,
    ),
    entry(
        SYS_LINK,
        sys_link,
        &[Arg::Path, Arg::Path],
        Support::Full,
        RO,
    ),
    entry(
        SYS_LINKAT,
        sys_linkat,
        &[Arg::Fd, Arg::Path, Arg::Fd, Arg::Path, Arg::AtFlags],
        Support::Full,
        RO,
    ),
    entry(SYS_UNLINK, sys_unlink, &[Arg::Path], Support::Full, RO),
    entry(
        SYS_UNLINKAT,
        sys_unlinkat,
        &[Arg::Fd, Arg::Path, Arg::AtFlags],
        Support::Full,
        RO,
    ),
    entry(SYS_RMDIR, sys_rmdir, &[Arg::Path], Support::Full, RO),
    entry(
        SYS_RENAME,
        sys_rename,
        &[Arg::Path, Arg::Path],
        Support::Partial,
        RENAME,
    ),
    entry(
        SYS_RENAMEAT,
        sys_renameat,
        &[Arg::Fd, Arg::Path, Arg::Fd, Arg::Path],
        Support::Partial,
        RENAME,
    ),
    entry(
        SYS_RENAMEAT2,
        sys_renameat2,
        &[Arg::Fd, Arg::Path, Arg::Fd, Arg::Path, Arg::Hex],
        Support::Partial,
        RENAME,
    ),
    entry(
        SYS_CHMOD,
        sys_chmod,
        &[Arg::Path, Arg::Mode],
        Support::Full,
        RO,
    ),
    entry(
        SYS_FCHMODAT,
        sys_fchmodat,
        &[Arg::Fd, Arg::Path, Arg::Mode],
        Support::Full,
        RO,
    ),
    entry(
        SYS_CHOWN,
        sys_chown,
        &[Arg::Path, Arg::Int, Arg::Int],
        Support::Full,
        RO,
    ),
    entry(
        SYS_LCHOWN,
        sys_lchown,
        &[Arg::Path, Arg::Int, Arg::Int],
        Support::Full,
        RO,
    ),
    entry(
        SYS_FCHOWNAT,
        sys_fchownat,
        &[Arg::Fd, Arg::Path, Arg::Int, Arg::Int, Arg::AtFlags],
        Support::Full,
        RO,
    ),
    entry(
        SYS_TRUNCATE,
        sys_truncate,
        &[Arg::Path, Arg::Int],
        Support::Full,
        RO,
    ),
    entry(
        SYS_UTIMENSAT,
        sys_utimensat,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::AtFlags],
        Support::Full,
        RO,
    ),
    entry(
        SYS_UTIMES,
        sys_utimes,
        &[Arg::Path, Arg::Ptr],
        Support::Full,
        RO,
    ),
    entry(
        SYS_UTIME,
        sys_utime,
        &[Arg::Path, Arg::Ptr],
        Support::Full,
        RO,
    ),
    entry(
        SYS_SETXATTR,
        sys_setxattr,
        &[Arg::Path, Arg::Path, Arg::Ptr, Arg::Len, Arg::Hex],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_LSETXATTR,
        sys_lsetxattr,
        &[Arg::Path, Arg::Path, Arg::Ptr, Arg::Len, Arg::Hex],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_GETXATTR,
        sys_getxattr,
        &[Arg::Path, Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_LGETXATTR,
        sys_lgetxattr,
        &[Arg::Path, Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_LISTXATTR,
        sys_listxattr,
        &[Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_LLISTXATTR,
        sys_llistxattr,
        &[Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_REMOVEXATTR,
        sys_removexattr,
        &[Arg::Path, Arg::Path],
        Support::Partial,
        XATTR,
    ),
    entry(
        SYS_LREMOVEXATTR,
        sys_lremovexattr,
        &[Arg::Path, Arg::Path],
        Support::Partial,
        XATTR,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_are_built_as_linux_does() {
        let how = build_open_how(0x8000_0000 | O_PATH | O_TRUNC | O_DIRECTORY, 0o644);
        assert_eq!(how.flags, u64::from(O_PATH | O_DIRECTORY));
        assert_eq!(how.mode, 0);
        let how = build_open_how(O_CREAT, 0o170_777);
        assert_eq!(how.mode, 0o777);
        assert!(nsec_valid(abi::stat::UTIME_NOW));
        assert!(!nsec_valid(-1));
    }
}
