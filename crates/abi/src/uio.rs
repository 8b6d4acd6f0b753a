//! Vectored I/O, from `include/uapi/linux/uio.h`.

#![allow(missing_docs)]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `UIO_MAXIOV`: the most `iovec`s one call takes.
pub const UIO_MAXIOV: u64 = 1024;
/// `MAX_RW_COUNT` (`include/linux/fs.h`): one read or write moves at most this much.
pub const MAX_RW_COUNT: u64 = 0x7fff_f000;

/// `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Iovec {
    pub iov_base: u64,
    pub iov_len: u64,
}
const _: () = assert!(core::mem::size_of::<Iovec>() == 16);
