//! devpts: the file system at `/dev/pts` that names the slave ends of the
//! sandbox's pseudo-terminals (`fs/devpts/inode.c`).
//!
//! It holds `ptmx` (5:2, mode 0000 as with devpts' default `ptmxmode`; the
//! usable multiplexer is `/dev/ptmx`) and one node `N` (136:N) for each
//! terminal whose master is open, owned by whoever opened the master, mode
//! 0600 (devpts' default `mode`). A node appears when `/dev/ptmx` is opened
//! and disappears when the master closes; its index is free again once
//! every end is closed. A node's mode, owner and times may change (`mesg`
//! does); names cannot be made or removed (`EROFS`, where Linux, whose
//! devpts has no such operations, says `EPERM`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use abi::Errno;
use abi::fcntl::{DT_CHR, DT_DIR};
use abi::stat::{DEVPTS_SUPER_MAGIC, S_IFCHR, S_IFDIR, Stat, Statfs};

use super::pty::Pty;
use super::synthetic_stat;
use crate::task::lock;
use crate::vfs::{DirEntry, File, FileOps, dir_seek};

/// The device number devpts reports as `st_dev`.
pub const DEVPTS_DEV: u64 = abi::stat::makedev(0, 0x1a);

/// `UNIX98_PTY_SLAVE_MAJOR`.
pub const PTY_SLAVE_MAJOR: u32 = 136;

/// The most terminals at once (`/proc/sys/kernel/pty/max`'s default).
const PTY_MAX: usize = 4096;

/// The inode numbers devpts gives: the root, `ptmx`, then index + 3.
const ROOT_INO: u64 = 1;
const PTMX_INO: u64 = 2;

/// A node of devpts.
#[derive(Clone, Debug)]
pub enum PtsNode {
    /// `/dev/pts` itself.
    Root,
    /// `/dev/pts/ptmx`.
    Ptmx,
    /// A slave end, `/dev/pts/N`.
    Slave(Arc<Pty>),
}

/// The devpts instance of a sandbox: its terminals by index.
#[derive(Debug, Default)]
pub struct DevPts {
    ptys: Mutex<BTreeMap<u32, Weak<Pty>>>,
}

impl DevPts {
    /// An empty devpts.
    pub fn new() -> Arc<DevPts> {
        Arc::default()
    }

    /// A new terminal at the lowest free index, owned by `uid`/`gid`;
    /// `ENOSPC` when `PTY_MAX` exist.
    pub(crate) fn alloc(self: &Arc<DevPts>, uid: u32, gid: u32) -> Result<Arc<Pty>, Errno> {
        let mut ptys = lock(&self.ptys);
        if ptys.len() >= PTY_MAX {
            return Err(Errno::ENOSPC);
        }
        let index = (0u32..)
            .find(|i| !ptys.contains_key(i))
            .ok_or(Errno::ENOSPC)?;
        let pty = Pty::new(index, uid, gid, Arc::clone(self));
        ptys.insert(index, Arc::downgrade(&pty));
        Ok(pty)
    }

    /// Frees `index` (its terminal is gone).
    pub(crate) fn release(&self, index: u32) {
        lock(&self.ptys).remove(&index);
    }

    /// The terminals whose slave node is visible.
    fn visible(&self) -> Vec<Arc<Pty>> {
        // Upgraded outside the lock: dropping the last reference to a
        // terminal releases its index, which takes the lock.
        let weak: Vec<Weak<Pty>> = lock(&self.ptys).values().cloned().collect();
        weak.iter()
            .filter_map(Weak::upgrade)
            .filter(|p| p.node_visible())
            .collect()
    }

    /// The node `name` in `/dev/pts`, or `ENOENT`.
    pub(crate) fn lookup(&self, name: &[u8]) -> Result<PtsNode, Errno> {
        if name == b"ptmx" {
            return Ok(PtsNode::Ptmx);
        }
        // Only canonical decimal names (no sign, no leading zero) exist.
        let canonical = !name.is_empty()
            && name.iter().all(u8::is_ascii_digit)
            && (name == b"0" || name[0] != b'0');
        let index: u32 = std::str::from_utf8(name)
            .ok()
            .filter(|_| canonical)
            .and_then(|s| s.parse().ok())
            .ok_or(Errno::ENOENT)?;
        let weak = lock(&self.ptys).get(&index).cloned();
        weak.and_then(|w| w.upgrade())
            .filter(|p| p.node_visible())
            .map(PtsNode::Slave)
            .ok_or(Errno::ENOENT)
    }
}

impl PtsNode {
    /// The node's status.
    pub fn stat(&self) -> Stat {
        match self {
            PtsNode::Root => synthetic_stat(DEVPTS_DEV, ROOT_INO, S_IFDIR | 0o755, 2, 0),
            PtsNode::Ptmx => {
                synthetic_stat(DEVPTS_DEV, PTMX_INO, S_IFCHR, 1, abi::stat::makedev(5, 2))
            }
            PtsNode::Slave(pty) => pty.stat(),
        }
    }
}

/// The status of the slave node of terminal `index`, owned by `uid`/`gid`.
pub(crate) fn slave_stat(index: u32, uid: u32, gid: u32) -> Stat {
    let mut st = synthetic_stat(
        DEVPTS_DEV,
        u64::from(index) + 3,
        S_IFCHR | 0o600,
        1,
        abi::stat::makedev(PTY_SLAVE_MAJOR, index),
    );
    st.st_uid = uid;
    st.st_gid = gid;
    st
}

/// devpts' `statfs`.
pub fn statfs() -> Statfs {
    Statfs {
        f_type: DEVPTS_SUPER_MAGIC,
        f_bsize: 4096,
        f_namelen: 255,
        f_frsize: 4096,
        f_flags: abi::stat::ST_NOSUID | abi::stat::ST_NOEXEC | abi::stat::ST_VALID,
        ..Statfs::default()
    }
}

/// An open `/dev/pts` directory.
#[derive(Debug)]
pub struct PtsDirOps(pub Arc<DevPts>);

impl FileOps for PtsDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(PtsNode::Root.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(statfs())
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut entries = vec![
            DirEntry {
                ino: ROOT_INO,
                kind: DT_DIR,
                name: b".".to_vec(),
            },
            DirEntry {
                ino: crate::fs::devfs::dir_stat().st_ino,
                kind: DT_DIR,
                name: b"..".to_vec(),
            },
            DirEntry {
                ino: PTMX_INO,
                kind: DT_CHR,
                name: b"ptmx".to_vec(),
            },
        ];
        entries.extend(self.0.visible().iter().map(|p| DirEntry {
            ino: u64::from(p.index()) + 3,
            kind: DT_CHR,
            name: p.index().to_string().into_bytes(),
        }));
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
    fn names_and_indices() {
        let pts = DevPts::new();
        let a = pts.alloc(0, 0).unwrap();
        let b = pts.alloc(0, 0).unwrap();
        assert_eq!((a.index(), b.index()), (0, 1));
        assert!(matches!(pts.lookup(b"ptmx"), Ok(PtsNode::Ptmx)));
        // Not visible until a master holds it open.
        assert!(matches!(pts.lookup(b"0"), Err(Errno::ENOENT)));
        assert!(matches!(pts.lookup(b"00"), Err(Errno::ENOENT)));
        assert!(matches!(pts.lookup(b"-1"), Err(Errno::ENOENT)));
        drop(a);
        assert_eq!(pts.alloc(0, 0).unwrap().index(), 0);
        let st = slave_stat(7, 1000, 5);
        assert_eq!(abi::stat::major(st.st_rdev), PTY_SLAVE_MAJOR);
        assert_eq!(abi::stat::minor(st.st_rdev), 7);
        assert_eq!(st.st_mode, S_IFCHR | 0o600);
    }
}
