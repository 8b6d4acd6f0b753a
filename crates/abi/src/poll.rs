//! Polling, from `include/uapi/asm-generic/poll.h`.

#![allow(missing_docs)]

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

pub const POLLIN: u32 = 0x0001;
pub const POLLPRI: u32 = 0x0002;
pub const POLLOUT: u32 = 0x0004;
pub const POLLERR: u32 = 0x0008;
pub const POLLHUP: u32 = 0x0010;
pub const POLLNVAL: u32 = 0x0020;
pub const POLLRDNORM: u32 = 0x0040;
pub const POLLRDBAND: u32 = 0x0080;
pub const POLLWRNORM: u32 = 0x0100;
pub const POLLWRBAND: u32 = 0x0200;
pub const POLLMSG: u32 = 0x0400;
pub const POLLRDHUP: u32 = 0x2000;

/// `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}
const _: () = assert!(core::mem::size_of::<PollFd>() == 8);

/// `FD_SETSIZE`: the bits of a `fd_set` glibc's macros use (select itself
/// takes any `nfds` up to the fd limit).
pub const FD_SETSIZE: usize = 1024;
