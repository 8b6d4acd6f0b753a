//! Opening files: `do_filp_open`'s order of checks (`fs/namei.c`,
//! `fs/open.c`) over the sentry's walk.

use std::sync::Arc;

use abi::Errno;
use abi::fcntl::{
    O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOCTTY, O_NOFOLLOW, O_PATH,
    O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY,
};
use abi::stat::{
    S_IALLUGO, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, Stat, Statfs, Statx,
};

use super::dentry::{Dentry, FileName, Node};
use super::file::{File, FileOps};
use super::mount::Vfs;
use super::ops::{self, NewNode, SetAttr, init_owner, may_create};
use super::path::{Last, Lookup};
use super::perm::{Access, MAY_EXEC, MAY_READ, MAY_WRITE, inode_permission};
use super::write_access::WriteCount;
use crate::fs::devfs::{DevDirOps, DevFileOps, DevKind};
use crate::fs::devpts::{PtsDirOps, PtsNode};
use crate::fs::hostfs::HostFileOps;
use crate::fs::overlay::{self, OvlDirOps, OvlFileOps};
use crate::fs::pty;
use crate::fs::tmpfs::{TmpfsDirOps, TmpfsFileOps};

/// The `FileOps` of an `O_PATH` description: status only.
#[derive(Debug)]
pub(crate) struct PathOps(pub(crate) Arc<Dentry>);

impl FileOps for PathOps {
    fn stat(&self) -> Result<Stat, Errno> {
        self.0.stat()
    }

    fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        self.0.statx(sync, mask)
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        self.0.statfs()
    }
}

/// `MAY_*` bits an open with `flags` needs (`ACC_MODE`, plus write for `O_TRUNC`).
fn acc_mode(flags: u32) -> u32 {
    let mode = match flags & O_ACCMODE {
        O_RDONLY => MAY_READ,
        O_WRONLY => MAY_WRITE,
        _ => MAY_READ | MAY_WRITE,
    };
    if flags & O_TRUNC != 0 {
        mode | MAY_WRITE
    } else {
        mode
    }
}

/// What an open that may create needs besides the flags.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CreateMode {
    /// The mode bits asked for (`S_IALLUGO`).
    pub(crate) mode: u32,
    /// The task's umask.
    pub(crate) umask: u32,
}

/// Resolves and opens `path` from `start` with the already validated
/// `flags` (`build_open_flags` done by the caller).
pub(crate) fn open_path(
    lookup: &mut Lookup<'_>,
    access: &Access<'_>,
    vfs: &Vfs,
    start: &Arc<Dentry>,
    path: &[u8],
    flags: u32,
    create: CreateMode,
) -> Result<Arc<File>, Errno> {
    let follow = flags & O_NOFOLLOW == 0;
    let (dentry, created) = if flags & O_CREAT != 0 {
        lookup_create(lookup, access, start, path, flags, create)?
    } else {
        (lookup.walk(start, path, follow)?, false)
    };
    open_dentry(access, vfs, dentry, flags, created)
}

/// The O_CREAT walk (`open_last_lookups`): the parent, then the last name,
/// created if missing. Returns the dentry and whether this open made it.
fn lookup_create(
    lookup: &mut Lookup<'_>,
    access: &Access<'_>,
    start: &Arc<Dentry>,
    path: &[u8],
    flags: u32,
    create: CreateMode,
) -> Result<(Arc<Dentry>, bool), Errno> {
    let mut start = Arc::clone(start);
    let mut path = path.to_vec();
    loop {
        let parent = lookup.walk_parent(&start, &path)?;
        let name = match parent.last {
            Last::Norm(name) => name,
            // ".", ".." and "/" are directories: O_CREAT on one is EISDIR.
            _ => return Err(Errno::EISDIR),
        };
        if parent.trailing_slash {
            return Err(Errno::EISDIR);
        }
        let child = match lookup.child(&parent.dir, &name) {
            Ok(child) => child,
            Err(Errno::ENOENT) => {
                may_create(access, &parent.dir)?;
                let dir_st = parent.dir.stat()?;
                let mode = S_IFREG | (create.mode & !create.umask & S_IALLUGO);
                let (mode, uid, gid) = init_owner(access, &dir_st, mode);
                let new = NewNode {
                    mode,
                    uid,
                    gid,
                    rdev: 0,
                    target: None,
                };
                match ops::create(&parent.dir, &name, new) {
                    Ok(d) => return Ok((d, true)),
                    // Someone else made it in between: open theirs.
                    Err(Errno::EEXIST) if flags & O_EXCL == 0 => {
                        lookup.child(&parent.dir, &name)?
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if flags & O_EXCL != 0 {
            return Err(Errno::EEXIST);
        }
        if !child.is_symlink() || flags & O_NOFOLLOW != 0 {
            return Ok((child, false));
        }
        if let Some(target) = lookup.magic_jump(&child) {
            return Ok((target?, false));
        }
        lookup.count_link()?;
        let target = child.readlink()?;
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        // An absolute target restarts at the walk's root inside walk_parent.
        start = parent.dir;
        path = target;
    }
}

/// The devfs device a device node made with `mknod` (on tmpfs or the
/// overlay) stands for, if it is one devfs serves.
fn device_for(rdev: u64) -> Option<DevKind> {
    let kind = match (abi::stat::major(rdev), abi::stat::minor(rdev)) {
        (1, 3) => DevKind::Null,
        (1, 5) => DevKind::Zero,
        (1, 7) => DevKind::Full,
        (1, 8) => DevKind::Random,
        (1, 9) => DevKind::Urandom,
        (5, 0) => DevKind::Tty,
        (5, 1) => DevKind::Console,
        (5, 2) => DevKind::Ptmx,
        _ => return None,
    };
    Some(kind)
}

/// `do_open` on a resolved dentry: type checks, permissions, then the
/// file system's open. `created`: this open made the file, so its mode is
/// not checked and there is nothing to truncate.
pub(crate) fn open_dentry(
    access: &Access<'_>,
    vfs: &Vfs,
    dentry: Arc<Dentry>,
    flags: u32,
    created: bool,
) -> Result<Arc<File>, Errno> {
    let kind = dentry.file_type();
    if flags & O_CREAT != 0 && kind == S_IFDIR {
        return Err(Errno::EISDIR);
    }
    if flags & O_DIRECTORY != 0 && kind != S_IFDIR {
        return Err(Errno::ENOTDIR);
    }
    if let Node::OpenFile(file) = &dentry.node
        && flags & O_PATH == 0
    {
        return reopen(file, flags);
    }
    if flags & O_PATH != 0 {
        let status = (flags & (O_PATH | O_NOFOLLOW | O_DIRECTORY)) & !O_CLOEXEC;
        return Ok(File::new(
            Box::new(PathOps(Arc::clone(&dentry))),
            status,
            Some(dentry),
        ));
    }
    let truncate = flags & O_TRUNC != 0 && kind == S_IFREG && !created;
    if truncate && dentry.read_only() {
        return Err(Errno::EROFS);
    }
    let mask = if created { 0 } else { acc_mode(flags) };
    // may_open
    match kind {
        S_IFLNK => return Err(Errno::ELOOP),
        S_IFDIR if acc_mode(flags) & MAY_WRITE != 0 => return Err(Errno::EISDIR),
        // Host device nodes are refused as on a nodev mount.
        S_IFCHR | S_IFBLK if matches!(dentry.node, Node::Host(_)) => return Err(Errno::EACCES),
        _ => {}
    }
    // Access mode 3 checks read and write permission but opens for neither
    // (`OPEN_FMODE`), so only a real write mode meets the read-only mount.
    let fmode_write = matches!(flags & O_ACCMODE, O_WRONLY | O_RDWR);
    inode_permission(
        access,
        &dentry.cached_stat(),
        dentry.read_only() && fmode_write,
        mask,
    )?;
    if matches!(kind, S_IFIFO | S_IFSOCK) {
        // Never opened on the host: a FIFO open could block the sentry.
        // FIFOs on the sentry's own file systems wait for pipes.
        return Err(Errno::ENXIO);
    }
    let status = (flags & !(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) | O_LARGEFILE;
    // CAP_FSETID keeps set-id bits through writes and truncation.
    let privileged = access.capable(abi::capability::CAP_FSETID);
    let writing = fmode_write || truncate;
    // Taken before any truncation, so a running program is never changed.
    let write_count = if kind == S_IFREG && writing {
        let st = dentry.cached_stat();
        Some(WriteCount::writer((st.st_dev, st.st_ino))?)
    } else {
        None
    };
    let ops: Box<dyn FileOps> = match &dentry.node {
        Node::Host(h) if kind == S_IFREG => {
            let mut mode = match flags & O_ACCMODE {
                O_WRONLY => libc::O_WRONLY,
                O_RDWR => libc::O_RDWR,
                _ => libc::O_RDONLY,
            };
            if truncate {
                mode |= libc::O_TRUNC;
            }
            let h = dentry.host_node_now(h);
            Box::new(HostFileOps(h.open_file(FileName::of(&dentry), mode)?))
        }
        Node::Host(h) if kind == S_IFDIR => Box::new(h.open_dir(vfs.mounts_in(&dentry))?),
        Node::Host(_) => return Err(Errno::ENXIO),
        Node::Tmpfs(i) if kind == S_IFREG => {
            if truncate {
                ops::setattr(&dentry, &truncate_attr(privileged))?;
            }
            Box::new(TmpfsFileOps::new(
                Arc::clone(i),
                FileName::of(&dentry),
                privileged,
            ))
        }
        Node::Tmpfs(i) if kind == S_IFDIR => {
            Box::new(TmpfsDirOps::new(Arc::clone(i), vfs.mounts_in(&dentry)))
        }
        Node::Ovl(o) if kind == S_IFREG => {
            if writing {
                let up = overlay::copy_up_for_write(o, &dentry.mount_path(), truncate)?;
                if truncate {
                    up.setattr(&truncate_attr(privileged))?;
                }
                Box::new(TmpfsFileOps::new(up, FileName::of(&dentry), privileged))
            } else {
                Box::new(OvlFileOps::open(Arc::clone(o), FileName::of(&dentry))?)
            }
        }
        Node::Ovl(o) if kind == S_IFDIR => {
            Box::new(OvlDirOps::new(Arc::clone(o), vfs.mounts_in(&dentry)))
        }
        Node::Tmpfs(_) | Node::Ovl(_) => {
            let rdev = dentry.cached_stat().st_rdev;
            match device_for(rdev) {
                Some(kind) => return open_device(access, vfs, kind, &dentry, flags, status),
                None => return Err(Errno::ENXIO),
            }
        }
        Node::DevDir => Box::new(DevDirOps),
        Node::Device(kind) => return open_device(access, vfs, *kind, &dentry, flags, status),
        Node::Pts(PtsNode::Root) => Box::new(PtsDirOps(Arc::clone(vfs.devpts()))),
        Node::Pts(PtsNode::Ptmx) => {
            return open_device(access, vfs, DevKind::Ptmx, &dentry, flags, status);
        }
        Node::Pts(PtsNode::Slave(p)) => return p.open_slave(flags, Some(Arc::clone(&dentry))),
        Node::DevLink(_) => return Err(Errno::ELOOP),
        Node::Proc(p) => p.open()?,
        Node::OpenFile(file) => return reopen(file, flags),
    };
    let file = File::new(ops, status, Some(dentry));
    // `O_RDONLY | O_TRUNC` wrote only while truncating.
    if let Some(count) = write_count.filter(|_| fmode_write) {
        file.hold_write_count(count);
    }
    Ok(file)
}

/// Opens the devfs device `kind` found at `dentry`: the terminal devices
/// give a terminal's file, the others a description of the device with
/// status flags `status`.
fn open_device(
    access: &Access<'_>,
    vfs: &Vfs,
    kind: DevKind,
    dentry: &Arc<Dentry>,
    flags: u32,
    status: u32,
) -> Result<Arc<File>, Errno> {
    let dentry = Arc::clone(dentry);
    match kind {
        DevKind::Tty => pty::open_controlling_tty(vfs, flags, dentry),
        DevKind::Console => reopen(&vfs.console().ok_or(Errno::ENODEV)?, flags),
        DevKind::Ptmx => pty::open_master(
            vfs.devpts(),
            access.uid(),
            access.gid(),
            flags,
            Some(dentry),
        ),
        _ => Ok(File::new(Box::new(DevFileOps(kind)), status, Some(dentry))),
    }
}

/// Opening a `/proc/[pid]/fd/N` link to a file with no place in the view
/// (a pipe, a host stream): the same description, if the access mode asked
/// for is one it has. Sockets cannot be opened (`ENXIO`), as on Linux.
fn reopen(file: &Arc<File>, flags: u32) -> Result<Arc<File>, Errno> {
    let st = file.stat()?;
    if st.st_mode & abi::stat::S_IFMT == S_IFSOCK {
        return Err(Errno::ENXIO);
    }
    let (read, write) = match flags & O_ACCMODE {
        O_RDONLY => (true, false),
        O_WRONLY => (false, true),
        _ => (true, true),
    };
    if (read && !file.readable()) || (write && !file.writable()) {
        return Err(Errno::EACCES);
    }
    Ok(Arc::clone(file))
}

/// The change `O_TRUNC` makes.
fn truncate_attr(privileged: bool) -> SetAttr {
    SetAttr {
        size: Some(0),
        kill_suid: !privileged,
        ..SetAttr::default()
    }
}

/// `open_exec`: a regular file the caller may execute, opened for reading;
/// the file cannot be opened for writing while the description lives.
pub(crate) fn open_exec(access: &Access<'_>, dentry: Arc<Dentry>) -> Result<Arc<File>, Errno> {
    // A symlink is only reached unfollowed (`AT_SYMLINK_NOFOLLOW`, or an
    // `O_PATH` fd on one), and Linux's open refuses it.
    if dentry.file_type() == S_IFLNK {
        return Err(Errno::ELOOP);
    }
    if dentry.file_type() != S_IFREG {
        return Err(Errno::EACCES);
    }
    let st = dentry.cached_stat();
    access.check(&st, MAY_EXEC)?;
    let count = WriteCount::execution((st.st_dev, st.st_ino))?;
    let ops: Box<dyn FileOps> = match &dentry.node {
        Node::Host(h) => Box::new(HostFileOps(
            dentry
                .host_node_now(h)
                .open_regular(FileName::of(&dentry))?,
        )),
        Node::Tmpfs(i) => Box::new(TmpfsFileOps::new(
            Arc::clone(i),
            FileName::of(&dentry),
            false,
        )),
        Node::Ovl(o) => Box::new(OvlFileOps::open(Arc::clone(o), FileName::of(&dentry))?),
        _ => return Err(Errno::EACCES),
    };
    let file = File::new(ops, O_RDONLY | O_LARGEFILE, Some(dentry));
    file.hold_write_count(count);
    Ok(file)
}

/// Whether `flags` ask for write access (`O_WRONLY`, `O_RDWR` or `O_TRUNC`).
pub(crate) fn wants_write(flags: u32) -> bool {
    matches!(flags & O_ACCMODE, O_WRONLY | O_RDWR) || flags & O_TRUNC != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_modes() {
        assert_eq!(acc_mode(O_RDONLY), MAY_READ);
        assert_eq!(acc_mode(O_WRONLY | O_TRUNC), MAY_WRITE);
        assert_eq!(acc_mode(O_RDONLY | O_TRUNC), MAY_READ | MAY_WRITE);
        assert_eq!(acc_mode(3), MAY_READ | MAY_WRITE);
        assert!(wants_write(O_RDWR));
        assert!(!wants_write(O_RDONLY | O_CREAT));
    }
}
