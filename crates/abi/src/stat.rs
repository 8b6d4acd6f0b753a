//! File status, from `arch/x86/include/uapi/asm/stat.h`,
//! `include/uapi/linux/stat.h` and `include/uapi/linux/statfs.h`.

#![allow(missing_docs)]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use crate::time::Timespec;

pub const S_IFMT: u32 = 0o170000;
pub const S_IFSOCK: u32 = 0o140000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFBLK: u32 = 0o060000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFCHR: u32 = 0o020000;
pub const S_IFIFO: u32 = 0o010000;
pub const S_ISUID: u32 = 0o4000;
pub const S_ISGID: u32 = 0o2000;
pub const S_ISVTX: u32 = 0o1000;

/// x86-64 `struct stat`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Stat {
    pub st_dev: u64,
    pub st_ino: u64,
    pub st_nlink: u64,
    pub st_mode: u32,
    pub st_uid: u32,
    pub st_gid: u32,
    pub _pad0: u32,
    pub st_rdev: u64,
    pub st_size: i64,
    pub st_blksize: i64,
    pub st_blocks: i64,
    pub st_atime: Timespec,
    pub st_mtime: Timespec,
    pub st_ctime: Timespec,
    pub _unused: [i64; 3],
}
const _: () = assert!(core::mem::size_of::<Stat>() == 144);

pub const STATX_TYPE: u32 = 0x0001;
pub const STATX_MODE: u32 = 0x0002;
pub const STATX_NLINK: u32 = 0x0004;
pub const STATX_UID: u32 = 0x0008;
pub const STATX_GID: u32 = 0x0010;
pub const STATX_ATIME: u32 = 0x0020;
pub const STATX_MTIME: u32 = 0x0040;
pub const STATX_CTIME: u32 = 0x0080;
pub const STATX_INO: u32 = 0x0100;
pub const STATX_SIZE: u32 = 0x0200;
pub const STATX_BLOCKS: u32 = 0x0400;
pub const STATX_BASIC_STATS: u32 = 0x07ff;
pub const STATX_BTIME: u32 = 0x0800;
pub const STATX_MNT_ID: u32 = 0x1000;
/// Reserved for future `struct statx` expansion; requesting it is `EINVAL`.
pub const STATX__RESERVED: u32 = 0x8000_0000;

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub _reserved: i32,
}

/// `struct statx`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Statx {
    pub stx_mask: u32,
    pub stx_blksize: u32,
    pub stx_attributes: u64,
    pub stx_nlink: u32,
    pub stx_uid: u32,
    pub stx_gid: u32,
    pub stx_mode: u16,
    pub _spare0: u16,
    pub stx_ino: u64,
    pub stx_size: u64,
    pub stx_blocks: u64,
    pub stx_attributes_mask: u64,
    pub stx_atime: StatxTimestamp,
    pub stx_btime: StatxTimestamp,
    pub stx_ctime: StatxTimestamp,
    pub stx_mtime: StatxTimestamp,
    pub stx_rdev_major: u32,
    pub stx_rdev_minor: u32,
    pub stx_dev_major: u32,
    pub stx_dev_minor: u32,
    pub stx_mnt_id: u64,
    pub _spare2: [u64; 13],
}
const _: () = assert!(core::mem::size_of::<Statx>() == 256);

/// `struct statfs` (x86-64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Statfs {
    pub f_type: i64,
    pub f_bsize: i64,
    pub f_blocks: u64,
    pub f_bfree: u64,
    pub f_bavail: u64,
    pub f_files: u64,
    pub f_ffree: u64,
    pub f_fsid: [i32; 2],
    pub f_namelen: i64,
    pub f_frsize: i64,
    pub f_flags: i64,
    pub f_spare: [i64; 4],
}
const _: () = assert!(core::mem::size_of::<Statfs>() == 120);

/// `major(dev)` of the kernel's 32-bit `dev_t` encoding as userspace sees it.
#[allow(clippy::cast_possible_truncation)] // masked to 32 bits
pub const fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

/// `minor(dev)`.
#[allow(clippy::cast_possible_truncation)] // masked to 32 bits
pub const fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// `makedev(major, minor)`.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xffff_f000) << 32) | ((ma & 0xfff) << 8) | ((mi & 0xffff_ff00) << 12) | (mi & 0xff)
}

// include/uapi/linux/stat.h: permission bits
pub const S_IRWXU: u32 = 0o700;
pub const S_IRUSR: u32 = 0o400;
pub const S_IWUSR: u32 = 0o200;
pub const S_IXUSR: u32 = 0o100;
pub const S_IRWXG: u32 = 0o070;
pub const S_IRGRP: u32 = 0o040;
pub const S_IWGRP: u32 = 0o020;
pub const S_IXGRP: u32 = 0o010;
pub const S_IRWXO: u32 = 0o007;
pub const S_IROTH: u32 = 0o004;
pub const S_IWOTH: u32 = 0o002;
pub const S_IXOTH: u32 = 0o001;
/// `S_IXUGO` (`include/linux/stat.h`).
pub const S_IXUGO: u32 = S_IXUSR | S_IXGRP | S_IXOTH;
/// `S_IALLUGO`: every permission bit, with set-id and sticky.
pub const S_IALLUGO: u32 = S_ISUID | S_ISGID | S_ISVTX | 0o777;

// include/uapi/linux/stat.h: more statx(2) mask bits
pub const STATX_DIOALIGN: u32 = 0x2000;
pub const STATX_ALL: u32 = 0x0fff;

// include/uapi/linux/stat.h: statx(2) attributes
pub const STATX_ATTR_IMMUTABLE: u64 = 0x0000_0010;
pub const STATX_ATTR_APPEND: u64 = 0x0000_0020;
pub const STATX_ATTR_MOUNT_ROOT: u64 = 0x0000_2000;

// include/uapi/linux/stat.h (utimensat(2)) `UTIME_NOW` / `UTIME_OMIT`
pub const UTIME_NOW: i64 = (1 << 30) - 1;
pub const UTIME_OMIT: i64 = (1 << 30) - 2;

// include/linux/statfs.h: f_flags bits
pub const ST_RDONLY: i64 = 0x0001;
pub const ST_NOSUID: i64 = 0x0002;
pub const ST_NODEV: i64 = 0x0004;
pub const ST_NOEXEC: i64 = 0x0008;
pub const ST_VALID: i64 = 0x0020;

// include/uapi/linux/magic.h
pub const TMPFS_MAGIC: i64 = 0x0102_1994;
pub const PROC_SUPER_MAGIC: i64 = 0x9fa0;
pub const SYSFS_MAGIC: i64 = 0x6265_6572;
pub const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;
pub const DEVPTS_SUPER_MAGIC: i64 = 0x1cd1;

/// The fixed header of the old `struct linux_dirent` (`fs/readdir.c`):
/// `d_name` follows, then a NUL, padding, and `d_type` in the record's last byte.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct LinuxDirentHeader {
    pub d_ino: u64,
    pub d_off: i64,
    pub d_reclen: u16,
    pub _pad: [u8; 6],
}
/// Offset of `d_name` in the old `struct linux_dirent`.
pub const DIRENT_NAME_OFFSET: usize = 18;
