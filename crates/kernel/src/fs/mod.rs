//! The sentry's file systems: hostfs (the host rootfs, read-only), tmpfs
//! (in sandbox memory), the overlay of the two that is the default rootfs,
//! devfs, devpts and pseudo-terminals, procfs and sysfs (static parts),
//! pipes, signalfds, pidfds, eventfds and epoll instances, and the host stdio streams. The mount tree and path walk that tie them together live in
//! [`crate::vfs`].
//!
//! Only `host` makes host calls with `unsafe`; every other module here is
//! safe code over it.

pub mod cpuinfo;
pub mod devfs;
pub mod devpts;
pub mod eventfd;
pub mod eventpoll;
pub(crate) mod host;
pub mod host_stream;
pub mod hostfs;
pub mod n_tty;
pub mod overlay;
pub mod pidfd;
pub mod pipe;
pub(crate) mod proc_pid;
pub mod procfs;
pub mod pty;
pub mod signalfd;
pub mod tmpfs;

use std::sync::OnceLock;

use abi::time::Timespec;

/// The time the sentry's synthetic nodes (devices, empty directories) report
/// as their atime, mtime and ctime: when the first of them was asked for.
pub(crate) fn synthetic_time() -> Timespec {
    static TIME: OnceLock<Timespec> = OnceLock::new();
    *TIME.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timespec {
            tv_sec: i64::try_from(now.as_secs()).unwrap_or(0),
            tv_nsec: i64::from(now.subsec_nanos()),
        }
    })
}

/// The `Stat` of the one anonymous inode that signalfds, eventfds and
/// epoll instances share: owner read and write, no file type.
pub(crate) fn anon_inode_stat() -> abi::stat::Stat {
    abi::stat::Stat {
        st_dev: ANON_INODE_DEV,
        st_ino: 1,
        st_nlink: 1,
        st_mode: 0o600,
        st_blksize: 4096,
        ..abi::stat::Stat::default()
    }
}

/// The [`crate::vfs::FileOps`] methods every anonymous-inode file
/// (signalfd, eventfd, epoll) shares: a stream without a position that
/// `lseek` leaves alone (Linux's `noop_llseek`), and the one anonymous
/// inode's `stat`.
macro_rules! anon_inode_ops {
    () => {
        fn positioned(&self) -> bool {
            false
        }

        fn seek(
            &self,
            _file: &crate::vfs::File,
            pos: u64,
            _offset: i64,
            _whence: u32,
        ) -> Result<u64, abi::Errno> {
            Ok(pos)
        }

        fn stat(&self) -> Result<abi::stat::Stat, abi::Errno> {
            Ok(crate::fs::anon_inode_stat())
        }
    };
}
pub(crate) use anon_inode_ops;

/// The device number of anonymous inodes.
pub(crate) const ANON_INODE_DEV: u64 = 0xe;

/// A `Stat` for a synthetic node.
pub(crate) fn synthetic_stat(
    dev: u64,
    ino: u64,
    mode: u32,
    nlink: u64,
    rdev: u64,
) -> abi::stat::Stat {
    let t = synthetic_time();
    abi::stat::Stat {
        st_dev: dev,
        st_ino: ino,
        st_nlink: nlink,
        st_mode: mode,
        st_rdev: rdev,
        st_blksize: 4096,
        st_atime: t,
        st_mtime: t,
        st_ctime: t,
        ..abi::stat::Stat::default()
    }
}
