//! Changes to the tree and to inodes (`fs/namei.c`'s `vfs_*`, `fs/attr.c`,
//! `fs/xattr.c`): the permission checks every file system shares, then the
//! file system's own operation.
//!
//! The checks that must hold at the moment of the change (the name is free,
//! the directory is empty, the types match) are made again by the file
//! system under its tree lock; the permission checks here use the status
//! as of the lookup.

use std::sync::Arc;

use abi::Errno;
use abi::capability::{CAP_CHOWN, CAP_FOWNER, CAP_FSETID, CAP_SYS_ADMIN};
use abi::stat::{S_IFDIR, S_IFMT, S_IFREG, S_ISGID, S_ISVTX, S_IXGRP, Stat};
use abi::xattr::{
    XATTR_SECURITY_PREFIX, XATTR_SYSTEM_PREFIX, XATTR_TRUSTED_PREFIX, XATTR_USER_PREFIX,
};

use super::dentry::{Dentry, Node, d_delete, d_move, lock_names};
use super::perm::{Access, MAY_EXEC, MAY_READ, MAY_WRITE};
use crate::fs::devpts::PtsNode;
pub(crate) use crate::fs::overlay::NewNode;
use crate::fs::overlay::{self, check_rename};
pub(crate) use crate::fs::tmpfs::{SetAttr, SetTime, XattrMode};

/// `may_create`: the directory is writable and searchable (`EROFS` first
/// for a read-only file system, as `mnt_want_write` comes before it).
pub(crate) fn may_create(access: &Access<'_>, dir: &Dentry) -> Result<(), Errno> {
    if dir.read_only() {
        return Err(Errno::EROFS);
    }
    access.check(&dir.stat()?, MAY_WRITE | MAY_EXEC)
}

/// `check_sticky`: in a sticky directory only the file's owner, the
/// directory's owner or a privileged caller may remove or rename it.
fn sticky_denies(access: &Access<'_>, dir: &Stat, victim: &Stat) -> bool {
    dir.st_mode & S_ISVTX != 0
        && !access.capable(CAP_FOWNER)
        && access.uid() != victim.st_uid
        && access.uid() != dir.st_uid
}

/// `may_delete`: permission to remove `victim` from `dir`, and its type
/// against `is_dir`.
pub(crate) fn may_delete(
    access: &Access<'_>,
    dir: &Dentry,
    victim: &Dentry,
    is_dir: bool,
) -> Result<(), Errno> {
    if dir.read_only() {
        return Err(Errno::EROFS);
    }
    let dst = dir.stat()?;
    let vst = victim.stat()?;
    access.check(&dst, MAY_WRITE | MAY_EXEC)?;
    if sticky_denies(access, &dst, &vst) {
        return Err(Errno::EPERM);
    }
    let victim_dir = vst.st_mode & S_IFMT == S_IFDIR;
    if is_dir && !victim_dir {
        return Err(Errno::ENOTDIR);
    }
    if !is_dir && victim_dir {
        return Err(Errno::EISDIR);
    }
    if victim.mount != dir.mount {
        return Err(Errno::EBUSY);
    }
    Ok(())
}

/// `inode_init_owner` plus `mode_strip_sgid`: the mode, owner and group a
/// new node in `dir` gets.
pub(crate) fn init_owner(access: &Access<'_>, dir: &Stat, mode: u32) -> (u32, u32, u32) {
    let mut mode = mode;
    let gid = if dir.st_mode & S_ISGID != 0 {
        if mode & S_IFMT == S_IFDIR {
            mode |= S_ISGID;
        }
        dir.st_gid
    } else {
        access.gid()
    };
    if mode & S_IFMT != S_IFDIR
        && mode & (S_ISGID | S_IXGRP) == (S_ISGID | S_IXGRP)
        && !access.in_group(gid)
        && !access.capable(CAP_FSETID)
    {
        mode &= !S_ISGID;
    }
    (mode, access.uid(), gid)
}

/// Makes `name` in the directory `dir` (checks done); `EEXIST` if taken.
pub(crate) fn create(
    dir: &Arc<Dentry>,
    name: &[u8],
    new: NewNode<'_>,
) -> Result<Arc<Dentry>, Errno> {
    let _names = lock_names(dir);
    let node = match &dir.node {
        Node::Tmpfs(d) => {
            let fs = Arc::clone(d.fs());
            let tree = fs.lock_tree();
            match d.lookup(name) {
                Ok(_) => return Err(Errno::EEXIST),
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
            let inode = fs.new_inode(new.mode, new.uid, new.gid, new.rdev, new.target)?;
            d.add_new(&tree, name, &inode)?;
            Node::Tmpfs(inode)
        }
        Node::Ovl(d) => Node::Ovl(overlay::create(d, &dir.mount_path(), name, new)?),
        Node::Host(d) => Node::Host(d.create(name, &new)?),
        _ => return Err(Errno::EROFS),
    };
    Ok(dir.add(name, node))
}

/// An unnamed regular file in `dir` (`O_TMPFILE`); `linkable` unless
/// `O_EXCL` was given.
pub(crate) fn tmpfile(
    dir: &Arc<Dentry>,
    new: NewNode<'_>,
    linkable: bool,
) -> Result<Arc<Dentry>, Errno> {
    let (node, ino) = match &dir.node {
        Node::Tmpfs(d) => {
            let inode = d.fs().new_inode(new.mode, new.uid, new.gid, 0, None)?;
            inode.make_tmpfile();
            if linkable {
                inode.set_linkable();
            }
            let ino = inode.ino();
            (Node::Tmpfs(inode), ino)
        }
        Node::Ovl(d) => {
            let node = overlay::tmpfile(d, &dir.mount_path(), new)?;
            let up = node.upper().ok_or(Errno::EIO)?;
            if linkable {
                up.set_linkable();
            }
            (Node::Ovl(node), up.ino())
        }
        Node::Host(d) => {
            let node = d.tmpfile(&new, linkable)?;
            let ino = node.stat.st_ino;
            (Node::Host(node), ino)
        }
        _ => return Err(Errno::EOPNOTSUPP),
    };
    Ok(Dentry::unnamed(dir, format!("#{ino}").as_bytes(), node))
}

/// Links `target` as `name` in `dir` (checks done).
pub(crate) fn link(target: &Dentry, dir: &Dentry, name: &[u8]) -> Result<(), Errno> {
    if target.mount != dir.mount {
        return Err(Errno::EXDEV);
    }
    match (&target.node, &dir.node) {
        (Node::Tmpfs(t), Node::Tmpfs(d)) => {
            if !Arc::ptr_eq(t.fs(), d.fs()) {
                return Err(Errno::EXDEV);
            }
            let tree = d.fs().lock_tree();
            if d.lookup(name).is_ok() {
                return Err(Errno::EEXIST);
            }
            if t.nlink() == 0 && !t.linkable() {
                return Err(Errno::ENOENT);
            }
            d.link(&tree, name, t)
        }
        (Node::Ovl(t), Node::Ovl(d)) => {
            overlay::link(t, &target.mount_path(), d, &dir.mount_path(), name)
        }
        (Node::Host(t), Node::Host(d)) => t.link(d, name),
        _ if dir.read_only() => Err(Errno::EROFS),
        _ => Err(Errno::EXDEV),
    }
}

/// Removes `name` (a directory if `is_dir`) from `dir` (checks done).
pub(crate) fn remove(dir: &Dentry, name: &[u8], is_dir: bool) -> Result<(), Errno> {
    let _names = lock_names(dir);
    fs_remove(dir, name, is_dir)?;
    d_delete(dir, name);
    Ok(())
}

/// The file system's part of [`remove`].
fn fs_remove(dir: &Dentry, name: &[u8], is_dir: bool) -> Result<(), Errno> {
    match &dir.node {
        Node::Tmpfs(d) => {
            let tree = d.fs().lock_tree();
            let child = d.lookup(name)?;
            match (is_dir, child.is_dir()) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                _ => {}
            }
            d.unlink(&tree, name, false).map(|_| ())
        }
        Node::Ovl(d) => overlay::remove(d, &dir.mount_path(), name, is_dir),
        Node::Host(d) => d.remove(name, is_dir),
        _ => Err(Errno::EROFS),
    }
}

/// Renames `old_dir/old_name` to `new_dir/new_name` (permission checks
/// done; both directories on one mount), and moves the dentries.
///
/// Precondition: the caller holds the view's rename lock
/// ([`super::Vfs::lock_rename`]) and checked under it that neither name
/// is above the other's directory.
pub(crate) fn rename(
    old_dir: &Arc<Dentry>,
    old_name: &[u8],
    new_dir: &Arc<Dentry>,
    new_name: &[u8],
    exchange: bool,
    noreplace: bool,
) -> Result<(), Errno> {
    let _old_names = lock_names(old_dir);
    let _new_names = (!Arc::ptr_eq(old_dir, new_dir)).then(|| lock_names(new_dir));
    fs_rename(old_dir, old_name, new_dir, new_name, exchange, noreplace)?;
    d_move(old_dir, old_name, new_dir, new_name, exchange);
    Ok(())
}

/// The file system's part of [`rename`].
fn fs_rename(
    old_dir: &Dentry,
    old_name: &[u8],
    new_dir: &Dentry,
    new_name: &[u8],
    exchange: bool,
    noreplace: bool,
) -> Result<(), Errno> {
    match (&old_dir.node, &new_dir.node) {
        (Node::Tmpfs(od), Node::Tmpfs(nd)) => {
            if !Arc::ptr_eq(od.fs(), nd.fs()) {
                return Err(Errno::EXDEV);
            }
            let tree = od.fs().lock_tree();
            let src = od.lookup(old_name)?;
            let dst = match nd.lookup(new_name) {
                Ok(d) => Some(d),
                Err(Errno::ENOENT) => None,
                Err(e) => return Err(e),
            };
            let src_st = src.stat();
            let dst_info = dst.as_ref().map(|d| (d.stat(), d.is_empty_dir(true)));
            check_rename(
                &src_st,
                dst_info.as_ref().map(|(s, e)| (s, *e)),
                exchange,
                noreplace,
            )?;
            if let Some(d) = &dst
                && Arc::ptr_eq(d, &src)
            {
                return Ok(());
            }
            if exchange {
                let a = od.detach(&tree, old_name)?;
                let b = nd.detach(&tree, new_name)?;
                od.attach(&tree, old_name, &b)?;
                nd.attach(&tree, new_name, &a)
            } else {
                if dst.is_some() {
                    nd.unlink(&tree, new_name, false)?;
                }
                let moved = od.detach(&tree, old_name)?;
                nd.attach(&tree, new_name, &moved)
            }
        }
        (Node::Ovl(od), Node::Ovl(nd)) => overlay::rename(
            od,
            &old_dir.mount_path(),
            old_name,
            nd,
            &new_dir.mount_path(),
            new_name,
            exchange,
            noreplace,
        ),
        (Node::Host(od), Node::Host(nd)) => {
            let flags = if exchange {
                abi::fcntl::RENAME_EXCHANGE
            } else if noreplace {
                abi::fcntl::RENAME_NOREPLACE
            } else {
                0
            };
            od.rename(old_name, nd, new_name, flags)
        }
        _ if old_dir.read_only() => Err(Errno::EROFS),
        _ => Err(Errno::EXDEV),
    }
}

/// Applies `attr` to the node (checks done).
pub(crate) fn setattr(dentry: &Dentry, attr: &SetAttr) -> Result<(), Errno> {
    match &dentry.node {
        Node::Tmpfs(i) => i.setattr(attr),
        Node::Ovl(o) => overlay::setattr(o, &dentry.mount_path(), attr),
        Node::Host(h) => h.setattr(attr),
        Node::Pts(PtsNode::Slave(p)) => p.setattr(attr),
        _ => Err(Errno::EROFS),
    }
}

/// `chmod_common`/`setattr_prepare` for a mode change: the owner or a
/// privileged caller; a caller outside the file's group loses `S_ISGID`.
pub(crate) fn chmod_attr(access: &Access<'_>, st: &Stat, mode: u32) -> Result<SetAttr, Errno> {
    if !access.owns(st) {
        return Err(Errno::EPERM);
    }
    let mut mode = mode & abi::stat::S_IALLUGO;
    if !access.capable(CAP_FSETID) && !access.in_group(st.st_gid) {
        mode &= !S_ISGID;
    }
    Ok(SetAttr {
        mode: Some(mode),
        ..SetAttr::default()
    })
}

/// `chown_common`/`chown_ok`/`chgrp_ok`: only a privileged caller gives a
/// file away; the owner may change its group to one of its own.
pub(crate) fn chown_attr(
    access: &Access<'_>,
    st: &Stat,
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<SetAttr, Errno> {
    let privileged = access.capable(CAP_CHOWN);
    if let Some(uid) = uid
        && !privileged
        && (uid != st.st_uid || access.uid() != st.st_uid)
    {
        return Err(Errno::EPERM);
    }
    if let Some(gid) = gid
        && !privileged
        && (access.uid() != st.st_uid || (gid != st.st_gid && !access.in_group(gid)))
    {
        return Err(Errno::EPERM);
    }
    Ok(SetAttr {
        uid,
        gid,
        kill_suid: st.st_mode & S_IFMT != S_IFDIR,
        ..SetAttr::default()
    })
}

/// `utimes` permission: explicit times need the owner (or privilege);
/// "now" needs the owner or write permission.
pub(crate) fn utimes_attr(
    access: &Access<'_>,
    st: &Stat,
    read_only: bool,
    atime: Option<SetTime>,
    mtime: Option<SetTime>,
) -> Result<SetAttr, Errno> {
    let explicit = matches!(atime, Some(SetTime::At(_))) || matches!(mtime, Some(SetTime::At(_)));
    let owner = access.owns(st);
    if read_only {
        return Err(Errno::EROFS);
    }
    if explicit && !owner {
        return Err(Errno::EPERM);
    }
    if !owner {
        access.check(st, MAY_WRITE)?;
    }
    Ok(SetAttr {
        atime,
        mtime,
        ..SetAttr::default()
    })
}

/// `xattr_permission` and the namespaces tmpfs serves.
pub(crate) fn xattr_permission(
    access: &Access<'_>,
    dentry: &Dentry,
    name: &[u8],
    write: bool,
) -> Result<(), Errno> {
    let st = dentry.stat()?;
    if name.starts_with(XATTR_SECURITY_PREFIX) || name.starts_with(XATTR_SYSTEM_PREFIX) {
        return Ok(());
    }
    if name.starts_with(XATTR_TRUSTED_PREFIX) {
        if !access.capable(CAP_SYS_ADMIN) {
            return Err(if write { Errno::EPERM } else { Errno::ENODATA });
        }
        return Ok(());
    }
    if name.starts_with(XATTR_USER_PREFIX) {
        let kind = st.st_mode & S_IFMT;
        if kind != S_IFREG && kind != S_IFDIR {
            return Err(if write { Errno::EPERM } else { Errno::ENODATA });
        }
        if kind == S_IFDIR && st.st_mode & S_ISVTX != 0 && write && !access.owns(&st) {
            return Err(Errno::EPERM);
        }
    }
    access.check(&st, if write { MAY_WRITE } else { MAY_READ })
}

fn xattr_namespace_ok(name: &[u8]) -> Result<(), Errno> {
    if name.starts_with(XATTR_USER_PREFIX)
        || name.starts_with(XATTR_TRUSTED_PREFIX)
        || name.starts_with(XATTR_SECURITY_PREFIX)
    {
        Ok(())
    } else {
        Err(Errno::EOPNOTSUPP)
    }
}

/// `getxattr` on the node (permission checked). Host files (volumes and
/// the overlay's lower layer) show their `user.*` attributes; the sentry's
/// own read-only file systems have none.
pub(crate) fn getxattr(dentry: &Dentry, name: &[u8]) -> Result<Vec<u8>, Errno> {
    xattr_namespace_ok(name)?;
    match &dentry.node {
        Node::Tmpfs(i) => i.getxattr(name),
        Node::Ovl(o) => match (o.upper(), o.lower()) {
            (Some(u), _) => u.getxattr(name),
            (None, Some(l)) => l.getxattr(name),
            (None, None) => Err(Errno::ENODATA),
        },
        Node::Host(h) => h.getxattr(name),
        _ => Err(Errno::ENODATA),
    }
}

/// `setxattr` on the node (permission checked).
pub(crate) fn setxattr(
    dentry: &Dentry,
    name: &[u8],
    value: &[u8],
    mode: XattrMode,
) -> Result<(), Errno> {
    if dentry.read_only() {
        return Err(Errno::EROFS);
    }
    xattr_namespace_ok(name)?;
    match &dentry.node {
        Node::Tmpfs(i) => i.setxattr(name, value, mode),
        Node::Ovl(o) => {
            let up = overlay::copy_up_for_write(o, &dentry.mount_path(), false)
                .or_else(|_| o.upper().ok_or(Errno::ENOENT))?;
            up.setxattr(name, value, mode)
        }
        Node::Host(h) => h.set_xattr(name, Some(value), mode),
        _ => Err(Errno::EROFS),
    }
}

/// `removexattr` on the node (permission checked).
pub(crate) fn removexattr(dentry: &Dentry, name: &[u8]) -> Result<(), Errno> {
    if dentry.read_only() {
        return Err(Errno::EROFS);
    }
    xattr_namespace_ok(name)?;
    match &dentry.node {
        Node::Tmpfs(i) => i.removexattr(name),
        Node::Ovl(o) => {
            if o.upper().is_none() && o.lower().is_some_and(|l| l.getxattr(name).is_err()) {
                return Err(Errno::ENODATA);
            }
            overlay::copy_up_for_write(o, &dentry.mount_path(), false)?.removexattr(name)
        }
        Node::Host(h) => h.set_xattr(name, None, XattrMode::Any),
        _ => Err(Errno::EROFS),
    }
}

/// The attribute names `listxattr` shows the caller (`trusted.*` only to a
/// privileged one).
pub(crate) fn listxattr(access: &Access<'_>, dentry: &Dentry) -> Vec<Vec<u8>> {
    let names = match &dentry.node {
        Node::Tmpfs(i) => i.listxattr(),
        Node::Ovl(o) => match (o.upper(), o.lower()) {
            (Some(u), _) => u.listxattr(),
            (None, Some(l)) => l.listxattr().unwrap_or_default(),
            (None, None) => Vec::new(),
        },
        Node::Host(h) => h.listxattr().unwrap_or_default(),
        _ => Vec::new(),
    };
    names
        .into_iter()
        .filter(|n| access.capable(CAP_SYS_ADMIN) || !n.starts_with(XATTR_TRUSTED_PREFIX))
        .collect()
}
