//! `fallocate(2)` modes: `include/uapi/linux/falloc.h`.

/// `FALLOC_FL_KEEP_SIZE`: do not change the file size.
pub const FALLOC_FL_KEEP_SIZE: u32 = 0x01;
/// `FALLOC_FL_PUNCH_HOLE`: free the range (needs `KEEP_SIZE`).
pub const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;
/// `FALLOC_FL_NO_HIDE_STALE`: reserved, never supported.
pub const FALLOC_FL_NO_HIDE_STALE: u32 = 0x04;
/// `FALLOC_FL_COLLAPSE_RANGE`.
pub const FALLOC_FL_COLLAPSE_RANGE: u32 = 0x08;
/// `FALLOC_FL_ZERO_RANGE`.
pub const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
/// `FALLOC_FL_INSERT_RANGE`.
pub const FALLOC_FL_INSERT_RANGE: u32 = 0x20;
/// `FALLOC_FL_UNSHARE_RANGE`.
pub const FALLOC_FL_UNSHARE_RANGE: u32 = 0x40;

// include/linux/falloc.h
/// `FALLOC_FL_SUPPORTED_MASK`: the modes `vfs_fallocate` knows.
pub const FALLOC_FL_SUPPORTED_MASK: u32 = FALLOC_FL_KEEP_SIZE
    | FALLOC_FL_PUNCH_HOLE
    | FALLOC_FL_COLLAPSE_RANGE
    | FALLOC_FL_ZERO_RANGE
    | FALLOC_FL_INSERT_RANGE
    | FALLOC_FL_UNSHARE_RANGE;
