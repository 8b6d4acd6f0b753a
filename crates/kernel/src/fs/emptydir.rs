//! Empty read-only directories standing in for `/proc`, `/sys` and `/run`
//! until their file systems exist, so the host's are never visible.

use abi::Errno;
use abi::fcntl::DT_DIR;
use abi::stat::{S_IFDIR, Stat, Statfs};

use super::synthetic_stat;
use crate::vfs::{DirEntry, File, FileOps, dir_seek};

/// Which stand-in directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyKind {
    /// `/proc`.
    Proc,
    /// `/sys`.
    Sys,
    /// `/run`.
    Run,
}

impl EmptyKind {
    /// The anonymous device number the directory reports (`st_dev`).
    fn dev(self) -> u64 {
        match self {
            EmptyKind::Proc => abi::stat::makedev(0, 0x16),
            EmptyKind::Sys => abi::stat::makedev(0, 0x17),
            EmptyKind::Run => abi::stat::makedev(0, 0x18),
        }
    }

    /// The directory's status: root-owned, `dr-xr-xr-x` (`drwxr-xr-x` for /run).
    pub fn stat(self) -> Stat {
        let perm = if self == EmptyKind::Run { 0o755 } else { 0o555 };
        synthetic_stat(self.dev(), 1, S_IFDIR | perm, 2, 0)
    }

    /// The `statfs` the real file system would give, read-only and empty.
    pub fn statfs(self) -> Statfs {
        let f_type = match self {
            EmptyKind::Proc => abi::stat::PROC_SUPER_MAGIC,
            EmptyKind::Sys => abi::stat::SYSFS_MAGIC,
            EmptyKind::Run => abi::stat::TMPFS_MAGIC,
        };
        Statfs {
            f_type,
            f_bsize: 4096,
            f_namelen: 255,
            f_frsize: 4096,
            f_flags: abi::stat::ST_RDONLY
                | abi::stat::ST_NOSUID
                | abi::stat::ST_NODEV
                | abi::stat::ST_VALID,
            ..Statfs::default()
        }
    }
}

/// An open empty directory.
#[derive(Debug)]
pub struct EmptyDirOps(pub EmptyKind);

impl FileOps for EmptyDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.0.statfs())
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(vec![
            DirEntry {
                ino: 1,
                kind: DT_DIR,
                name: b".".to_vec(),
            },
            DirEntry {
                ino: 1,
                kind: DT_DIR,
                name: b"..".to_vec(),
            },
        ])
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}
