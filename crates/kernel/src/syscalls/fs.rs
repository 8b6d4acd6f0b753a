//! Path syscalls: open, stat, access, readlink, the working directory, and
//! the calls that would change the tree (mkdir, unlink, rename, chmod, ...),
//! which do their lookups and then answer `EROFS`: the sandbox's view is
//! read-only until the overlay exists.
//!
//! Each follows its Linux function's order of checks (flags, `getname`,
//! the walk, then the file system), so that a bad pointer, an unknown flag
//! and a missing path give the errno Linux gives.

use std::sync::Arc;

use abi::Errno;
use abi::fcntl::{
    AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE,
    AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, O_ACCMODE, O_CREAT, O_DIRECTORY, O_LARGEFILE, O_PATH,
    O_PATH_FLAGS, O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY, OpenHow, PATH_MAX, RENAME_EXCHANGE,
    RENAME_NOREPLACE, RENAME_WHITEOUT, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT,
    VALID_OPEN_FLAGS, VALID_RESOLVE_FLAGS,
};
use abi::stat::{S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK, STATX__RESERVED};
use abi::sysno::*;
use abi::time::{Timespec, Timeval};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::Task;
use crate::vfs::{Access, Dentry, File, Last, MAY_EXEC, inode_permission};

/// `S_IALLUGO`: the mode bits open(2) and mkdir(2) take.
const S_IALLUGO: u32 = 0o7777;
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
    let file = if flags & O_TMPFILE_BIT != 0 {
        // An unnamed file in a directory: the view is read-only.
        let access = Access::fs(&task.creds);
        let dir = task.fs().resolve(&access, start.as_ref(), &path, true)?;
        if !dir.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        return Err(Errno::EROFS);
    } else {
        task.fs()
            .open(&task.creds, start.as_ref(), &path, flags, how.resolve)?
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
/// `RESOLVE_NO_MAGICLINKS` changes nothing (there are no magic links yet);
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

/// Implements Linux `getcwd(2)`.
fn sys_getcwd(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let mut path = task.fs().cwd().path().to_vec();
    path.push(0);
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
// calls that would change the tree

/// `filename_create`: the parent walk, then `EEXIST` for an existing name,
/// `ENOENT` for a trailing slash on a non-directory, and `EROFS` (nothing
/// can be created in the view).
fn create_at(task: &Task, dirfd: i32, path: &[u8], want_dir: bool) -> Result<Arc<Dentry>, Errno> {
    let start = dirfd_start(task, dirfd, path)?;
    let access = Access::fs(&task.creds);
    let parent = task.fs().resolve_parent(&access, start.as_ref(), path)?;
    let Last::Norm(name) = parent.last else {
        return Err(Errno::EEXIST);
    };
    match task.fs().lookup_child(&parent.dir, &name) {
        Ok(_) => Err(Errno::EEXIST),
        Err(Errno::ENOENT) if parent.trailing_slash && !want_dir => Err(Errno::ENOENT),
        Err(Errno::ENOENT) if parent.dir.read_only() => Err(Errno::EROFS),
        Err(e) => Err(e),
    }
}

/// Implements Linux `mkdirat(2)`.
///
/// The view is read-only: `EROFS` once the parent exists and the name does not.
fn sys_mkdirat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let path = read_path(task, args.addr(1))?;
    create_at(task, args.i32(0), &path, true).map(|_| 0)
}

/// Implements Linux `mkdir(2)`.
fn sys_mkdir(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let path = read_path(task, args.addr(0))?;
    create_at(task, AT_FDCWD, &path, true).map(|_| 0)
}

fn do_mknodat(task: &mut Task, dirfd: i32, path_addr: u64, mode: u32) -> SyscallResult {
    match mode & S_IFMT {
        0 | S_IFREG | S_IFCHR | S_IFBLK | S_IFIFO | S_IFSOCK => {}
        S_IFDIR => return Err(Errno::EPERM),
        _ => return Err(Errno::EINVAL),
    }
    let path = read_path(task, path_addr)?;
    create_at(task, dirfd, &path, false).map(|_| 0)
}

/// Implements Linux `mknodat(2)`.
fn sys_mknodat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_mknodat(task, args.i32(0), args.addr(1), args.u32(2))
}

/// Implements Linux `mknod(2)`.
fn sys_mknod(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_mknodat(task, AT_FDCWD, args.addr(0), args.u32(1))
}

fn do_symlinkat(task: &mut Task, target: u64, dirfd: i32, path_addr: u64) -> SyscallResult {
    let target = read_path(task, target)?;
    if target.is_empty() {
        return Err(Errno::ENOENT);
    }
    let path = read_path(task, path_addr)?;
    create_at(task, dirfd, &path, false).map(|_| 0)
}

/// Implements Linux `symlinkat(2)`.
fn sys_symlinkat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_symlinkat(task, args.addr(0), args.i32(1), args.addr(2))
}

/// Implements Linux `symlink(2)`.
fn sys_symlink(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_symlinkat(task, args.addr(0), AT_FDCWD, args.addr(1))
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
    let at = if flags & AT_EMPTY_PATH != 0 && creds.euid != 0 {
        0
    } else {
        flags
    };
    target_at(
        task,
        &access,
        olddfd,
        old,
        at,
        flags & AT_SYMLINK_FOLLOW != 0,
    )?;
    let path = read_path(task, new)?;
    create_at(task, newdfd, &path, false).map(|_| 0)
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
/// then `EROFS` (checked before the name is looked up, as Linux does).
fn remove_at(task: &mut Task, dirfd: i32, path_addr: u64, dir: bool) -> SyscallResult {
    let path = read_path(task, path_addr)?;
    let start = dirfd_start(task, dirfd, &path)?;
    let access = Access::fs(&task.creds);
    let parent = task.fs().resolve_parent(&access, start.as_ref(), &path)?;
    match (&parent.last, dir) {
        (Last::Norm(_), _) => {}
        (_, false) => return Err(Errno::EISDIR),
        (Last::DotDot, true) => return Err(Errno::ENOTEMPTY),
        (Last::Dot, true) => return Err(Errno::EINVAL),
        (Last::Root, true) => return Err(Errno::EBUSY),
    }
    Err(Errno::EROFS)
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
    let old = read_path(task, old)?;
    let new = read_path(task, new)?;
    let access = Access::fs(&task.creds);
    let old_start = dirfd_start(task, olddfd, &old)?;
    let old_parent = task
        .fs()
        .resolve_parent(&access, old_start.as_ref(), &old)?;
    let new_start = dirfd_start(task, newdfd, &new)?;
    let new_parent = task
        .fs()
        .resolve_parent(&access, new_start.as_ref(), &new)?;
    if old_parent.dir.mount != new_parent.dir.mount {
        return Err(Errno::EXDEV);
    }
    if !matches!(old_parent.last, Last::Norm(_)) {
        return Err(Errno::EBUSY);
    }
    if !matches!(new_parent.last, Last::Norm(_)) {
        return Err(if flags & RENAME_NOREPLACE != 0 {
            Errno::EEXIST
        } else {
            Errno::EBUSY
        });
    }
    Err(Errno::EROFS)
}

/// Implements Linux `renameat2(2)`.
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

/// A metadata change on a resolved node: `EROFS` (every file system in the
/// view refuses changes for now).
fn change_attr(dentry: &Dentry) -> SyscallResult {
    if dentry.read_only() {
        Err(Errno::EROFS)
    } else {
        Err(Errno::EPERM)
    }
}

fn do_fchmodat(task: &mut Task, dirfd: i32, path: u64, flags: u32) -> SyscallResult {
    if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let access = Access::fs(&task.creds);
    match target_at(
        task,
        &access,
        dirfd,
        path,
        flags,
        flags & AT_SYMLINK_NOFOLLOW == 0,
    )? {
        Target::Dentry(d) => change_attr(&d),
        Target::File(_) => Err(Errno::EPERM),
    }
}

/// Implements Linux `fchmodat(2)` (the syscall has no flags argument).
fn sys_fchmodat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchmodat(task, args.i32(0), args.addr(1), 0)
}

/// Implements Linux `chmod(2)`.
fn sys_chmod(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchmodat(task, AT_FDCWD, args.addr(0), 0)
}

fn do_fchownat(task: &mut Task, dirfd: i32, path: u64, flags: u32) -> SyscallResult {
    do_fchmodat(task, dirfd, path, flags)
}

/// Implements Linux `fchownat(2)`.
fn sys_fchownat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchownat(task, args.i32(0), args.addr(1), args.u32(4))
}

/// Implements Linux `chown(2)`.
fn sys_chown(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchownat(task, AT_FDCWD, args.addr(0), 0)
}

/// Implements Linux `lchown(2)`.
fn sys_lchown(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fchownat(task, AT_FDCWD, args.addr(0), AT_SYMLINK_NOFOLLOW)
}

/// Implements Linux `truncate(2)`.
fn sys_truncate(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.i64(1) < 0 {
        return Err(Errno::EINVAL);
    }
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    match d.file_type() {
        S_IFDIR => Err(Errno::EISDIR),
        S_IFREG => change_attr(&d),
        _ => Err(Errno::EINVAL),
    }
}

fn nsec_valid(nsec: i64) -> bool {
    (0..abi::time::NSEC_PER_SEC).contains(&nsec)
        || nsec == abi::stat::UTIME_NOW
        || nsec == abi::stat::UTIME_OMIT
}

/// Implements Linux `utimensat(2)`.
fn sys_utimensat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (dirfd, path, times, flags) = (args.i32(0), args.addr(1), args.addr(2), args.u32(3));
    let mut valid = true;
    if times != 0 {
        let ts: [Timespec; 2] = task.mm.read_obj(times)?;
        if ts.iter().all(|t| t.tv_nsec == abi::stat::UTIME_OMIT) {
            return Ok(0);
        }
        valid = ts.iter().all(|t| nsec_valid(t.tv_nsec));
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
        return match file.dentry() {
            Some(d) => change_attr(d),
            None => Err(Errno::EPERM),
        };
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
    match target {
        Target::Dentry(d) => change_attr(&d),
        Target::File(_) => Err(Errno::EPERM),
    }
}

/// Implements Linux `utimes(2)`.
fn sys_utimes(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(1) != 0 {
        let tv: [Timeval; 2] = task.mm.read_obj(args.addr(1))?;
        if tv.iter().any(|t| !(0..1_000_000).contains(&t.tv_usec)) {
            return Err(Errno::EINVAL);
        }
    }
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    change_attr(&d)
}

/// Implements Linux `utime(2)`.
fn sys_utime(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(1) != 0 {
        let _: [i64; 2] = task.mm.read_obj(args.addr(1))?;
    }
    let d = dentry_at(task, AT_FDCWD, args.addr(0), true)?;
    change_attr(&d)
}

const RO: &str = "the view is read-only: EROFS after the lookup";

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_OPEN,
        sys_open,
        &[Arg::Path, Arg::OpenFlags, Arg::Mode],
        Support::Partial,
        "read-only view: writes and creation give EROFS",
    ),
    entry(
        SYS_OPENAT,
        sys_openat,
        &[Arg::Fd, Arg::Path, Arg::OpenFlags, Arg::Mode],
        Support::Partial,
        "read-only view: writes and creation give EROFS",
    ),
    entry(
        SYS_CREAT,
        sys_creat,
        &[Arg::Path, Arg::Mode],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_OPENAT2,
        sys_openat2,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        "RESOLVE_NO_MAGICLINKS is a no-op (no magic links yet)",
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
        "the rootfs reports ST_RDONLY",
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
        Support::Partial,
        RO,
    ),
    entry(
        SYS_MKDIRAT,
        sys_mkdirat,
        &[Arg::Fd, Arg::Path, Arg::Mode],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_MKNOD,
        sys_mknod,
        &[Arg::Path, Arg::Mode, Arg::Hex],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_MKNODAT,
        sys_mknodat,
        &[Arg::Fd, Arg::Path, Arg::Mode, Arg::Hex],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_SYMLINK,
        sys_symlink,
        &[Arg::Path, Arg::Path],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_SYMLINKAT,
        sys_symlinkat,
        &[Arg::Path, Arg::Fd, Arg::Path],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_LINK,
        sys_link,
        &[Arg::Path, Arg::Path],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_LINKAT,
        sys_linkat,
        &[Arg::Fd, Arg::Path, Arg::Fd, Arg::Path, Arg::AtFlags],
        Support::Partial,
        RO,
    ),
    entry(SYS_UNLINK, sys_unlink, &[Arg::Path], Support::Partial, RO),
    entry(
        SYS_UNLINKAT,
        sys_unlinkat,
        &[Arg::Fd, Arg::Path, Arg::AtFlags],
        Support::Partial,
        RO,
    ),
    entry(SYS_RMDIR, sys_rmdir, &[Arg::Path], Support::Partial, RO),
    entry(
        SYS_RENAME,
        sys_rename,
        &[Arg::Path, Arg::Path],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_RENAMEAT,
        sys_renameat,
        &[Arg::Fd, Arg::Path, Arg::Fd, Arg::Path],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_RENAMEAT2,
        sys_renameat2,
        &[Arg::Fd, Arg::Path, Arg::Fd, Arg::Path, Arg::Hex],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_CHMOD,
        sys_chmod,
        &[Arg::Path, Arg::Mode],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_FCHMODAT,
        sys_fchmodat,
        &[Arg::Fd, Arg::Path, Arg::Mode],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_CHOWN,
        sys_chown,
        &[Arg::Path, Arg::Int, Arg::Int],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_LCHOWN,
        sys_lchown,
        &[Arg::Path, Arg::Int, Arg::Int],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_FCHOWNAT,
        sys_fchownat,
        &[Arg::Fd, Arg::Path, Arg::Int, Arg::Int, Arg::AtFlags],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_TRUNCATE,
        sys_truncate,
        &[Arg::Path, Arg::Int],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_UTIMENSAT,
        sys_utimensat,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::AtFlags],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_UTIMES,
        sys_utimes,
        &[Arg::Path, Arg::Ptr],
        Support::Partial,
        RO,
    ),
    entry(
        SYS_UTIME,
        sys_utime,
        &[Arg::Path, Arg::Ptr],
        Support::Partial,
        RO,
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
