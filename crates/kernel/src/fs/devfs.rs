//! devfs: the sentry's `/dev`, with the memory devices of
//! `drivers/char/mem.c` and `drivers/char/random.c`.
//!
//! `null` (1:3) reads end of file and swallows writes; `zero` (1:5) reads
//! zeros and maps as anonymous memory; `full` (1:7) reads zeros and fails
//! writes with `ENOSPC`; `random` (1:8) and `urandom` (1:9) read the host's
//! `getrandom` and accept (and ignore) writes. Nothing here opens a host
//! device. `tty` (5:0) is the caller's session's controlling terminal: with
//! none registered (`Vfs::set_controlling_tty`) opening it gives `ENXIO`.
//! `console` (5:1, root's only, as on a booted system) is the sandbox's
//! console (`Vfs::set_console`): the terminal carapace runs on, or else the
//! stream it got as standard error, so console messages reach the user;
//! with neither, opening it gives `ENODEV` as Linux does without a console.
//! `ptmx` (5:2) makes a new pseudo-terminal ([`super::pty`]) whose slave
//! appears in the devpts mount at `pts`. `fd`, `stdin`, `stdout` and
//! `stderr` are the usual links into `/proc/self/fd`, and `shm` is a tmpfs
//! mount. The directory itself cannot be changed: creating or
//! removing names gives `EROFS`.

use abi::Errno;
use abi::fcntl::{DT_CHR, DT_DIR};
use abi::stat::{S_IFCHR, S_IFDIR, Stat, Statfs};

use super::{host, synthetic_stat};
use crate::mm::{MemoryManager, MmapBacking};
use crate::vfs::{DirEntry, File, FileOps, dir_seek};

/// The device number devfs reports as `st_dev` (an anonymous device, as
/// devtmpfs has).
pub const DEVFS_DEV: u64 = abi::stat::makedev(0, 5);

/// A device devfs serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevKind {
    /// `/dev/null`.
    Null,
    /// `/dev/zero`.
    Zero,
    /// `/dev/full`.
    Full,
    /// `/dev/random`.
    Random,
    /// `/dev/urandom`.
    Urandom,
    /// `/dev/tty` (5:0): the controlling terminal, `ENXIO` without one.
    Tty,
    /// `/dev/ptmx` (5:2): opening it makes a pseudo-terminal.
    Ptmx,
    /// `/dev/console` (5:1): the sandbox's console.
    Console,
}

/// A device row: name, kind, (major, minor), inode number, permissions.
type Device = (&'static [u8], DevKind, (u32, u32), u64, u32);

/// Every device.
const DEVICES: [Device; 8] = [
    (b"console", DevKind::Console, (5, 1), 13, 0o600),
    (b"full", DevKind::Full, (1, 7), 4, 0o666),
    (b"null", DevKind::Null, (1, 3), 2, 0o666),
    (b"ptmx", DevKind::Ptmx, (5, 2), 12, 0o666),
    (b"random", DevKind::Random, (1, 8), 5, 0o666),
    (b"tty", DevKind::Tty, (5, 0), 7, 0o666),
    (b"urandom", DevKind::Urandom, (1, 9), 6, 0o666),
    (b"zero", DevKind::Zero, (1, 5), 3, 0o666),
];

/// The symlinks in `/dev`: name, target, inode number.
const LINKS: [(&[u8], &[u8], u64); 4] = [
    (b"fd", b"/proc/self/fd", 8),
    (b"stderr", b"/proc/self/fd/2", 11),
    (b"stdin", b"/proc/self/fd/0", 9),
    (b"stdout", b"/proc/self/fd/1", 10),
];

/// The target of the symlink `name` in `/dev`, if it is one.
pub fn link_target(name: &[u8]) -> Option<&'static [u8]> {
    LINKS.iter().find(|l| l.0 == name).map(|l| l.1)
}

/// The status of the symlink `/dev/<name>`.
pub fn link_stat(name: &[u8]) -> Stat {
    let (_, target, ino) = LINKS
        .iter()
        .copied()
        .find(|l| l.0 == name)
        .unwrap_or(LINKS[0]);
    let mut st = synthetic_stat(DEVFS_DEV, ino, abi::stat::S_IFLNK | 0o777, 1, 0);
    st.st_size = i64::try_from(target.len()).unwrap_or(0);
    st
}

/// The device named `name` in `/dev`, or `ENOENT`.
pub fn lookup(name: &[u8]) -> Result<DevKind, Errno> {
    DEVICES
        .iter()
        .find(|d| d.0 == name)
        .map(|d| d.1)
        .ok_or(Errno::ENOENT)
}

/// The status of `/dev` itself.
pub fn dir_stat() -> Stat {
    synthetic_stat(DEVFS_DEV, 1, S_IFDIR | 0o755, 2, 0)
}

/// devfs' `statfs` (a devtmpfs is a tmpfs).
pub(crate) fn statfs() -> Statfs {
    Statfs {
        f_type: abi::stat::TMPFS_MAGIC,
        f_bsize: 4096,
        f_namelen: 255,
        f_frsize: 4096,
        f_flags: abi::stat::ST_NOSUID | abi::stat::ST_VALID,
        ..Statfs::default()
    }
}

impl DevKind {
    /// The device's status: a root-owned character device.
    pub fn stat(self) -> Stat {
        let (_, _, (major, minor), ino, perms) = DEVICES
            .iter()
            .copied()
            .find(|d| d.1 == self)
            .unwrap_or(DEVICES[2]);
        synthetic_stat(
            DEVFS_DEV,
            ino,
            S_IFCHR | perms,
            1,
            abi::stat::makedev(major, minor),
        )
    }
}

/// An open `/dev` directory.
#[derive(Debug)]
pub struct DevDirOps;

impl FileOps for DevDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(dir_stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(statfs())
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut entries = vec![
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
        ];
        entries.extend(DEVICES.iter().map(|d| DirEntry {
            ino: d.3,
            kind: DT_CHR,
            name: d.0.to_vec(),
        }));
        entries.extend(LINKS.iter().map(|l| DirEntry {
            ino: l.2,
            kind: abi::fcntl::DT_LNK,
            name: l.0.to_vec(),
        }));
        for name in [&b"pts"[..], b"shm"] {
            entries.push(DirEntry {
                ino: 1,
                kind: DT_DIR,
                name: name.to_vec(),
            });
        }
        Ok(entries)
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// An open device.
#[derive(Debug)]
pub struct DevFileOps(pub DevKind);

impl FileOps for DevFileOps {
    fn read(&self, _: &File, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        match self.0 {
            DevKind::Null => Ok(0),
            DevKind::Zero | DevKind::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            DevKind::Random | DevKind::Urandom => host::getrandom(buf),
            // Opening these gives another file; a description of the device
            // itself never exists.
            DevKind::Tty | DevKind::Ptmx | DevKind::Console => Err(Errno::ENXIO),
        }
    }

    fn write(&self, _: &File, buf: &[u8], _: u64) -> Result<usize, Errno> {
        match self.0 {
            DevKind::Full => Err(Errno::ENOSPC),
            DevKind::Tty | DevKind::Ptmx | DevKind::Console => Err(Errno::ENXIO),
            _ => Ok(buf.len()),
        }
    }

    fn write_without_data(&self, len: usize) -> Option<Result<usize, Errno>> {
        match self.0 {
            DevKind::Null | DevKind::Zero => Some(Ok(len)),
            DevKind::Full => Some(Err(Errno::ENOSPC)),
            DevKind::Random
            | DevKind::Urandom
            | DevKind::Tty
            | DevKind::Ptmx
            | DevKind::Console => None,
        }
    }

    fn advances_pos(&self) -> bool {
        false
    }

    fn seek(&self, _: &File, pos: u64, _: i64, _: u32) -> Result<u64, Errno> {
        // null_lseek/full_lseek reset to 0; random's noop_llseek keeps the offset.
        Ok(match self.0 {
            DevKind::Random
            | DevKind::Urandom
            | DevKind::Tty
            | DevKind::Ptmx
            | DevKind::Console => pos,
            _ => 0,
        })
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(statfs())
    }

    fn ioctl(&self, _: &File, _: &MemoryManager, _: u32, _: u64) -> Result<u64, Errno> {
        // The random ioctls (RNDGETENTCNT, ...) are not served.
        Err(Errno::ENOTTY)
    }

    fn mmap_backing(&self) -> Result<MmapBacking, Errno> {
        match self.0 {
            DevKind::Zero => Ok(MmapBacking::Anonymous),
            _ => Err(Errno::ENODEV),
        }
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        // The memory devices have no fsync operation.
        Err(Errno::EINVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_have_linux_numbers() {
        assert_eq!(lookup(b"null"), Ok(DevKind::Null));
        assert_eq!(lookup(b"tty"), Ok(DevKind::Tty));
        assert_eq!(lookup(b"sda"), Err(Errno::ENOENT));
        assert_eq!(link_target(b"stdin"), Some(&b"/proc/self/fd/0"[..]));
        let st = DevKind::Urandom.stat();
        assert_eq!(
            (abi::stat::major(st.st_rdev), abi::stat::minor(st.st_rdev)),
            (1, 9)
        );
        assert_eq!(st.st_mode, S_IFCHR | 0o666);
        assert_eq!(DevKind::Console.stat().st_mode, S_IFCHR | 0o600);
    }
}
