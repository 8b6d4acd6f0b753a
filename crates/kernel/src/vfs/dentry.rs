//! Dentries: a resolved location in the view (its canonical path) and the
//! node of the file system there.
//!
//! Dentries are values, made fresh by each walk and kept only by whoever
//! holds them (a working directory, an open file); there is no cache to
//! keep coherent with the host.

use abi::Errno;
use abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, Stat, Statfs, Statx};

use std::sync::Arc;

use super::file::statx_from_stat;
use super::mount::MountId;
use crate::fs::devfs::{self, DevKind};
use crate::fs::devpts::{self, PtsNode};
use crate::fs::hostfs::HostNode;
use crate::fs::overlay::OvlInode;
use crate::fs::procfs::ProcNode;
use crate::fs::tmpfs::Inode;

/// What a dentry names.
#[derive(Debug)]
pub(crate) enum Node {
    /// A file or directory of the host rootfs (seen read-only) or of a
    /// `--volume`.
    Host(HostNode),
    /// A tmpfs inode.
    Tmpfs(Arc<Inode>),
    /// A node of the overlay rootfs.
    Ovl(Arc<OvlInode>),
    /// `/dev` itself.
    DevDir,
    /// A device in `/dev`.
    Device(DevKind),
    /// A symlink in `/dev` (its name).
    DevLink(Vec<u8>),
    /// A node of devpts.
    Pts(PtsNode),
    /// A node of procfs or sysfs.
    Proc(ProcNode),
    /// An open file with no place in the view (a pipe), reached through a
    /// `/proc/[pid]/fd/N` magic link: opening it gives that description.
    OpenFile(Arc<super::File>),
}

/// A resolved location in the sandbox's view.
#[derive(Debug)]
pub struct Dentry {
    /// The canonical absolute path (no symlinks, `.` or `..`).
    pub(crate) path: Vec<u8>,
    /// What is there.
    pub(crate) node: Node,
    /// The mount it is on.
    pub(crate) mount: MountId,
}

impl Dentry {
    /// The canonical absolute path in the view.
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// The status as of the lookup (cheap; the type never changes).
    pub(crate) fn cached_stat(&self) -> Stat {
        match &self.node {
            Node::Host(h) => h.stat,
            Node::Tmpfs(i) => i.stat(),
            Node::Ovl(o) => o.stat().unwrap_or_default(),
            Node::DevDir => devfs::dir_stat(),
            Node::Device(kind) => kind.stat(),
            Node::DevLink(name) => devfs::link_stat(name),
            Node::Pts(p) => p.stat(),
            Node::Proc(p) => p.stat(),
            Node::OpenFile(f) => f.stat().unwrap_or_default(),
        }
    }

    /// The current status.
    pub fn stat(&self) -> Result<Stat, Errno> {
        match &self.node {
            Node::Host(h) => h.fresh_stat(),
            Node::Ovl(o) => o.stat(),
            Node::OpenFile(f) => f.stat(),
            _ => Ok(self.cached_stat()),
        }
    }

    /// `statx`.
    pub(crate) fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        match &self.node {
            Node::Host(h) => h.statx(sync, mask),
            _ => Ok(statx_from_stat(&self.stat()?)),
        }
    }

    /// `statfs` of the file system the dentry is on.
    pub(crate) fn statfs(&self) -> Result<Statfs, Errno> {
        match &self.node {
            Node::Host(h) => h.statfs(),
            Node::Tmpfs(i) => Ok(i.fs().statfs()),
            Node::Ovl(o) => Ok(o.statfs()),
            Node::DevDir | Node::Device(_) | Node::DevLink(_) => Ok(devfs::statfs()),
            Node::Pts(_) => Ok(devpts::statfs()),
            Node::Proc(p) => Ok(p.statfs()),
            Node::OpenFile(f) => f.ops().statfs(),
        }
    }

    /// `S_IFMT` bits of the mode.
    pub fn file_type(&self) -> u32 {
        match &self.node {
            Node::Host(h) => h.stat.st_mode & S_IFMT,
            Node::Tmpfs(i) => i.file_type(),
            Node::Ovl(o) => o.file_type(),
            Node::Proc(p) => p.file_type(),
            _ => self.cached_stat().st_mode & S_IFMT,
        }
    }

    /// Whether the dentry is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    /// Whether the dentry is a symlink.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }

    /// The symlink's target; `EINVAL` if it is not a symlink.
    pub fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.node {
            Node::Host(h) if self.is_symlink() => h.readlink(),
            Node::Tmpfs(i) => i.readlink(),
            Node::Ovl(o) => o.readlink(),
            Node::DevLink(name) => devfs::link_target(name)
                .map(<[u8]>::to_vec)
                .ok_or(Errno::EINVAL),
            Node::Proc(p) => p.readlink(),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Whether the file system the dentry is on refuses changes: the
    /// read-only rootfs, `:ro` volumes, devfs, procfs and sysfs do; tmpfs,
    /// the overlay, writable volumes and devpts' slave nodes do not.
    pub(crate) fn read_only(&self) -> bool {
        match &self.node {
            // devpts lets its slave nodes' attributes change.
            Node::Tmpfs(_) | Node::Ovl(_) | Node::Pts(PtsNode::Slave(_)) => false,
            Node::Host(h) => !h.writable(),
            _ => true,
        }
    }

    /// The canonical path of the child `name`.
    pub(crate) fn child_path(&self, name: &[u8]) -> Vec<u8> {
        let mut path = self.path.clone();
        if path != b"/" {
            path.push(b'/');
        }
        path.extend_from_slice(name);
        path
    }

    /// The canonical path of the parent (the root's is the root).
    pub(crate) fn parent_path(&self) -> &[u8] {
        match self.path.iter().rposition(|&b| b == b'/') {
            Some(0) | None => b"/",
            Some(i) => &self.path[..i],
        }
    }
}
