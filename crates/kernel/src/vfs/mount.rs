//! The mount table: the host rootfs at `/`, the sentry's devfs over `/dev`,
//! and empty read-only directories over `/proc`, `/sys` and `/run`.
//!
//! The table is fixed for now; the overlay, tmpfs and bind mounts will make
//! it a real tree.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use abi::Errno;

use super::dentry::{Dentry, Node};
use crate::fs::emptydir::EmptyKind;
use crate::fs::hostfs::HostNode;

/// Identifies a mount (`st_mnt_id`-like; used for `EXDEV` and `RESOLVE_NO_XDEV`).
pub(crate) type MountId = u32;

/// The rootfs's mount.
pub(crate) const ROOT_MOUNT: MountId = 0;

#[derive(Clone, Copy, Debug)]
enum MountKind {
    Dev,
    Empty(EmptyKind),
}

/// The mounts over the rootfs: path, id, what is mounted.
const MOUNTS: [(&[u8], MountId, MountKind); 4] = [
    (b"/dev", 1, MountKind::Dev),
    (b"/proc", 2, MountKind::Empty(EmptyKind::Proc)),
    (b"/sys", 3, MountKind::Empty(EmptyKind::Sys)),
    (b"/run", 4, MountKind::Empty(EmptyKind::Run)),
];

/// The root of the mount at `path`, if `path` is a mount point.
pub(crate) fn mount_root(path: &[u8]) -> Option<Dentry> {
    let (_, id, kind) = MOUNTS.iter().find(|m| m.0 == path)?;
    let node = match kind {
        MountKind::Dev => Node::DevDir,
        MountKind::Empty(kind) => Node::Empty(*kind),
    };
    Some(Dentry {
        path: path.to_vec(),
        node,
        mount: *id,
    })
}

/// The mount points directly inside the directory `dir`: (name, inode of
/// the mounted root), to merge into its listing.
pub(crate) fn mounts_in(dir: &[u8]) -> Vec<(Vec<u8>, u64)> {
    MOUNTS
        .iter()
        .filter_map(|(path, ..)| {
            let i = path.iter().rposition(|&b| b == b'/')?;
            let parent: &[u8] = if i == 0 { b"/" } else { &path[..i] };
            (parent == dir).then(|| (path[i + 1..].to_vec(), 1))
        })
        .collect()
}

/// The sandbox's file-system view: the mount tree.
#[derive(Debug)]
pub struct Vfs {
    root: Arc<Dentry>,
}

impl Vfs {
    /// The view over the host directory `rootfs`, with the sentry's own /dev
    /// and empty /proc, /sys and /run.
    ///
    /// # Errors
    /// `ENOTDIR` if `rootfs` is not a directory; the host's errno if it
    /// cannot be examined.
    pub fn new(rootfs: OwnedFd) -> Result<Arc<Vfs>, Errno> {
        let node = HostNode::root(rootfs)?;
        let root = Arc::new(Dentry {
            path: b"/".to_vec(),
            node: Node::Host(node),
            mount: ROOT_MOUNT,
        });
        Ok(Arc::new(Vfs { root }))
    }

    /// The root of the view.
    pub fn root(&self) -> &Arc<Dentry> {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points() {
        assert!(mount_root(b"/dev").is_some());
        assert!(mount_root(b"/dev/null").is_none());
        let names: Vec<Vec<u8>> = mounts_in(b"/").into_iter().map(|m| m.0).collect();
        assert_eq!(
            names,
            [
                b"dev".to_vec(),
                b"proc".to_vec(),
                b"sys".to_vec(),
                b"run".to_vec()
            ]
        );
        assert!(mounts_in(b"/etc").is_empty());
    }
}
