//! The host calls the sentry's file systems make: the one module under
//! `fs/` and `vfs/` allowed `unsafe`.
//!
//! Each wrapper takes `BorrowedFd`s and slices, makes one libc call, and turns
//! its "-1 and errno" result into a `Result` through [`cvt`]. Host errnos are
//! passed through as [`Errno`]s: every caller makes these calls on the
//! program's behalf (a lookup, a read), where the host's answer is the one
//! Linux gives. `EINTR` is retried, since no program signal ever interrupts
//! a host call here.
//!
//! Structs are read straight into their `abi` twins, whose layouts are the
//! kernel's (pinned by the size assertions below).

#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use abi::Errno;
use abi::stat::{Stat, Statfs, Statx};
use abi::termios::{Termios, Winsize};

const _: () = assert!(size_of::<Stat>() == size_of::<libc::stat>());
const _: () = assert!(size_of::<Statx>() == size_of::<libc::statx>());
const _: () = assert!(size_of::<Statfs>() == size_of::<libc::statfs>());

/// The calling thread's `errno` as an [`Errno`].
fn last_errno() -> Errno {
    let raw = std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    Errno(u16::try_from(raw).unwrap_or(Errno::EIO.0))
}

/// Turns a libc return value into a `Result`: -1 becomes the thread's errno.
fn cvt<T: PartialEq + From<i8>>(ret: T) -> Result<T, Errno> {
    if ret == T::from(-1) {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

/// Runs `f` until it does not fail with `EINTR`.
fn retry<T>(mut f: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    loop {
        match f() {
            Err(Errno::EINTR) => {}
            other => return other,
        }
    }
}

/// `name` as a C string. A name read from program memory or a symlink never
/// holds a NUL; one that does cannot name a host file.
fn c_name(name: &[u8]) -> Result<CString, Errno> {
    CString::new(name).map_err(|_| Errno::ENOENT)
}

fn to_usize(n: isize) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// `openat(dir, name, flags | O_CLOEXEC)`.
pub(crate) fn openat(dir: BorrowedFd<'_>, name: &[u8], flags: i32) -> Result<OwnedFd, Errno> {
    let name = c_name(name)?;
    let fd = retry(|| {
        // SAFETY: `name` is a valid NUL-terminated string that outlives the
        // call; openat reads only it and returns a new fd or -1.
        cvt(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) })
    })?;
    // SAFETY: openat succeeded, so `fd` is a fresh descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`: an open that may create.
pub(crate) fn openat_mode(
    dir: BorrowedFd<'_>,
    name: &[u8],
    flags: i32,
    mode: u32,
) -> Result<OwnedFd, Errno> {
    let name = c_name(name)?;
    let fd = retry(|| {
        // SAFETY: `name` is a valid NUL-terminated string that outlives the
        // call; openat reads only it and returns a new fd or -1.
        cvt(unsafe {
            libc::openat(
                dir.as_raw_fd(),
                name.as_ptr(),
                flags | libc::O_CLOEXEC,
                mode,
            )
        })
    })?;
    // SAFETY: openat succeeded, so `fd` is a fresh descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fgetxattr(fd, name)`: the whole value (at most `XATTR_SIZE_MAX` bytes).
pub(crate) fn fgetxattr(fd: BorrowedFd<'_>, name: &[u8]) -> Result<Vec<u8>, Errno> {
    let name = c_name(name)?;
    let mut buf = vec![0u8; abi::xattr::XATTR_SIZE_MAX];
    let n = retry(|| {
        // SAFETY: `name` is NUL-terminated and `buf` is writable for its
        // length; fgetxattr writes at most that many bytes.
        cvt(unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        })
    })?;
    buf.truncate(to_usize(n));
    Ok(buf)
}

/// `flistxattr(fd)`: the attribute names.
pub(crate) fn flistxattr(fd: BorrowedFd<'_>) -> Result<Vec<Vec<u8>>, Errno> {
    let mut buf = vec![0u8; abi::xattr::XATTR_LIST_MAX];
    let n = retry(|| {
        // SAFETY: `buf` is writable for its length; flistxattr writes at
        // most that many bytes.
        cvt(unsafe { libc::flistxattr(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
    })?;
    buf.truncate(to_usize(n));
    Ok(buf
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

/// `fsetxattr(fd, name, value, flags)`.
pub(crate) fn fsetxattr(
    fd: BorrowedFd<'_>,
    name: &[u8],
    value: &[u8],
    flags: i32,
) -> Result<(), Errno> {
    let name = c_name(name)?;
    retry(|| {
        // SAFETY: `name` is NUL-terminated and `value` readable for its
        // length; fsetxattr only reads them.
        cvt(unsafe {
            libc::fsetxattr(
                fd.as_raw_fd(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                flags,
            )
        })
    })
    .map(drop)
}

/// `fremovexattr(fd, name)`.
pub(crate) fn fremovexattr(fd: BorrowedFd<'_>, name: &[u8]) -> Result<(), Errno> {
    let name = c_name(name)?;
    // SAFETY: `name` is NUL-terminated; fremovexattr only reads it.
    retry(|| cvt(unsafe { libc::fremovexattr(fd.as_raw_fd(), name.as_ptr()) })).map(drop)
}

/// `pwritev2(fd, [buf], -1, RWF_APPEND)`: writes at the end of the file,
/// atomically with finding it, and leaves the fd's position at the end.
pub(crate) fn append(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    let iov = libc::iovec {
        iov_base: buf.as_ptr().cast_mut().cast(),
        iov_len: buf.len(),
    };
    let n = retry(|| {
        // SAFETY: `iov` describes `buf`, which the kernel only reads.
        cvt(unsafe { libc::pwritev2(fd.as_raw_fd(), &raw const iov, 1, -1, libc::RWF_APPEND) })
    })?;
    Ok(to_usize(n))
}

/// `fstatat(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)`: the status of
/// what `fd` refers to (works on `O_PATH` fds, symlinks included).
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    retry(|| {
        // SAFETY: `Stat` has the layout of the x86-64 `struct stat` (size
        // asserted above), so the kernel writes exactly within `st`; the path
        // is a static empty C string.
        cvt(unsafe { libc::fstatat(fd.as_raw_fd(), c"".as_ptr(), (&raw mut st).cast(), flags) })
    })?;
    Ok(st)
}

/// `statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | sync, mask)`.
pub(crate) fn statx(fd: BorrowedFd<'_>, sync_flags: u32, mask: u32) -> Result<Statx, Errno> {
    let mut stx = Statx::default();
    let flags = libc::AT_EMPTY_PATH
        | libc::AT_SYMLINK_NOFOLLOW
        | i32::try_from(sync_flags & abi::fcntl::AT_STATX_SYNC_TYPE).unwrap_or(0);
    retry(|| {
        // SAFETY: `Statx` has the layout of `struct statx` (size asserted
        // above); the kernel writes only within it.
        cvt(unsafe {
            libc::statx(
                fd.as_raw_fd(),
                c"".as_ptr(),
                flags,
                mask,
                (&raw mut stx).cast(),
            )
        })
    })?;
    Ok(stx)
}

/// `fstatfs(fd)`.
pub(crate) fn fstatfs(fd: BorrowedFd<'_>) -> Result<Statfs, Errno> {
    let mut st = Statfs::default();
    retry(|| {
        // SAFETY: `Statfs` has the layout of the x86-64 `struct statfs` (size
        // asserted above); the kernel writes only within it.
        cvt(unsafe { libc::fstatfs(fd.as_raw_fd(), (&raw mut st).cast()) })
    })?;
    Ok(st)
}

/// `readlinkat(fd, "")`: the target of the symlink `fd` (an `O_PATH` fd) refers to.
pub(crate) fn readlink(fd: BorrowedFd<'_>) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; abi::fcntl::PATH_MAX];
    let n = retry(|| {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        cvt(unsafe {
            libc::readlinkat(
                fd.as_raw_fd(),
                c"".as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        })
    })?;
    buf.truncate(to_usize(n));
    Ok(buf)
}

/// `pread(fd, buf, offset)`.
pub(crate) fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    let offset = libc::off_t::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let n = retry(|| {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        cvt(unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), offset) })
    })?;
    Ok(to_usize(n))
}

/// `pwrite(fd, buf, offset)`.
pub(crate) fn pwrite(fd: BorrowedFd<'_>, buf: &[u8], offset: u64) -> Result<usize, Errno> {
    let offset = libc::off_t::try_from(offset).map_err(|_| Errno::EINVAL)?;
    let n = retry(|| {
        // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
        cvt(unsafe { libc::pwrite(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len(), offset) })
    })?;
    Ok(to_usize(n))
}

/// `read(fd, buf)`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    let n = retry(|| {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        cvt(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
    })?;
    Ok(to_usize(n))
}

/// `write(fd, buf)`.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    let n = retry(|| {
        // SAFETY: the kernel reads at most `buf.len()` bytes from `buf`.
        cvt(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })
    })?;
    Ok(to_usize(n))
}

/// `lseek(fd, offset, whence)`.
pub(crate) fn lseek(fd: BorrowedFd<'_>, offset: i64, whence: u32) -> Result<u64, Errno> {
    let whence = i32::try_from(whence).map_err(|_| Errno::EINVAL)?;
    // SAFETY: lseek takes no pointers.
    let pos = cvt(unsafe { libc::lseek(fd.as_raw_fd(), offset, whence) })?;
    u64::try_from(pos).map_err(|_| Errno::EINVAL)
}

/// `getdents64(fd, buf)`: raw `struct linux_dirent64` records.
pub(crate) fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    let n = retry(|| {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        cvt(unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        })
    })?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// `poll` on one fd for `events`; returns the `revents` (0 on timeout).
pub(crate) fn poll(fd: BorrowedFd<'_>, events: i16, timeout_ms: i32) -> Result<i16, Errno> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    let n = retry(|| {
        // SAFETY: `pfd` is one valid `struct pollfd` the kernel may write.
        cvt(unsafe { libc::poll(&raw mut pfd, 1, timeout_ms) })
    })?;
    Ok(if n == 0 { 0 } else { pfd.revents })
}

/// `ioctl(fd, TCGETS)`: the terminal's `struct termios`.
pub(crate) fn tcgets(fd: BorrowedFd<'_>) -> Result<Termios, Errno> {
    let mut t = Termios::default();
    retry(|| {
        // SAFETY: TCGETS writes one kernel `struct termios`, whose layout
        // `Termios` has (36 bytes, asserted in abi).
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TCGETS, &raw mut t) })
    })?;
    Ok(t)
}

/// `ioctl(fd, TIOCGWINSZ)`.
pub(crate) fn tiocgwinsz(fd: BorrowedFd<'_>) -> Result<Winsize, Errno> {
    let mut w = Winsize::default();
    retry(|| {
        // SAFETY: TIOCGWINSZ writes one `struct winsize`, whose layout
        // `Winsize` has.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &raw mut w) })
    })?;
    Ok(w)
}

/// `ioctl(fd, FIONREAD)`.
pub(crate) fn fionread(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    let mut n: libc::c_int = 0;
    retry(|| {
        // SAFETY: FIONREAD writes one `int`.
        cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::FIONREAD, &raw mut n) })
    })?;
    Ok(n)
}

/// `fcntl(fd, F_GETFL)`.
pub(crate) fn getfl(fd: BorrowedFd<'_>) -> Result<u32, Errno> {
    // SAFETY: F_GETFL takes no pointer.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    Ok(flags.cast_unsigned())
}

/// `fsync(fd)` or `fdatasync(fd)`.
pub(crate) fn fsync(fd: BorrowedFd<'_>, data_only: bool) -> Result<(), Errno> {
    retry(|| {
        let ret = if data_only {
            // SAFETY: fdatasync takes no pointer.
            unsafe { libc::fdatasync(fd.as_raw_fd()) }
        } else {
            // SAFETY: fsync takes no pointer.
            unsafe { libc::fsync(fd.as_raw_fd()) }
        };
        cvt(ret)
    })?;
    Ok(())
}

/// `mkdirat(dir, name, mode)`.
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> Result<(), Errno> {
    let name = c_name(name)?;
    retry(|| {
        // SAFETY: `name` is a valid C string that outlives the call.
        cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
    })
    .map(drop)
}

/// `mknodat(dir, name, mode, 0)`: FIFOs and sockets only (callers refuse
/// device nodes).
pub(crate) fn mknodat(dir: BorrowedFd<'_>, name: &[u8], mode: u32) -> Result<(), Errno> {
    let name = c_name(name)?;
    retry(|| {
        // SAFETY: `name` is a valid C string that outlives the call.
        cvt(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, 0) })
    })
    .map(drop)
}

/// `symlinkat(target, dir, name)`.
pub(crate) fn symlinkat(target: &[u8], dir: BorrowedFd<'_>, name: &[u8]) -> Result<(), Errno> {
    let name = c_name(name)?;
    let target = CString::new(target).map_err(|_| Errno::EINVAL)?;
    retry(|| {
        // SAFETY: both are valid C strings that outlive the call.
        cvt(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
    })
    .map(drop)
}

/// `unlinkat(dir, name, AT_REMOVEDIR if is_dir)`.
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &[u8], is_dir: bool) -> Result<(), Errno> {
    let name = c_name(name)?;
    let flags = if is_dir { libc::AT_REMOVEDIR } else { 0 };
    retry(|| {
        // SAFETY: `name` is a valid C string that outlives the call.
        cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
    })
    .map(drop)
}

/// `renameat2(old_dir, old, new_dir, new, flags)`.
pub(crate) fn renameat2(
    old_dir: BorrowedFd<'_>,
    old: &[u8],
    new_dir: BorrowedFd<'_>,
    new: &[u8],
    flags: u32,
) -> Result<(), Errno> {
    let old = c_name(old)?;
    let new = c_name(new)?;
    retry(|| {
        // SAFETY: both names are valid C strings that outlive the call.
        cvt(unsafe {
            libc::renameat2(
                old_dir.as_raw_fd(),
                old.as_ptr(),
                new_dir.as_raw_fd(),
                new.as_ptr(),
                flags,
            )
        })
    })
    .map(drop)
}

/// `linkat(old_dir, old, new_dir, new, flags)`: `0` (a final symlink is
/// not followed) or `AT_EMPTY_PATH` (`old_dir` is the file to link).
pub(crate) fn linkat(
    old_dir: BorrowedFd<'_>,
    old: &[u8],
    new_dir: BorrowedFd<'_>,
    new: &[u8],
    flags: i32,
) -> Result<(), Errno> {
    let old = c_name(old)?;
    let new = c_name(new)?;
    retry(|| {
        // SAFETY: both names are valid C strings that outlive the call.
        cvt(unsafe {
            libc::linkat(
                old_dir.as_raw_fd(),
                old.as_ptr(),
                new_dir.as_raw_fd(),
                new.as_ptr(),
                flags,
            )
        })
    })
    .map(drop)
}

/// `fchmodat2(fd, "", mode, AT_EMPTY_PATH)`: changes the mode of what the
/// `O_PATH` fd refers to, without a path.
pub(crate) fn fchmod_path_fd(fd: BorrowedFd<'_>, mode: u32) -> Result<(), Errno> {
    const SYS_FCHMODAT2: libc::c_long = 452;
    retry(|| {
        // SAFETY: the path is a static empty C string; no other pointers.
        cvt(unsafe {
            libc::syscall(
                SYS_FCHMODAT2,
                fd.as_raw_fd(),
                c"".as_ptr(),
                mode,
                libc::AT_EMPTY_PATH,
            )
        })
    })
    .map(drop)
}

/// `fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)`;
/// `u32::MAX` leaves an id unchanged.
pub(crate) fn fchown_path_fd(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> Result<(), Errno> {
    let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    retry(|| {
        // SAFETY: the path is a static empty C string.
        cvt(unsafe { libc::fchownat(fd.as_raw_fd(), c"".as_ptr(), uid, gid, flags) })
    })
    .map(drop)
}

/// `utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)`; each
/// time is `(sec, nsec)` where `nsec` may be `UTIME_NOW` or `UTIME_OMIT`.
pub(crate) fn utimens_path_fd(
    fd: BorrowedFd<'_>,
    atime: (i64, i64),
    mtime: (i64, i64),
) -> Result<(), Errno> {
    let times = [
        libc::timespec {
            tv_sec: atime.0,
            tv_nsec: atime.1,
        },
        libc::timespec {
            tv_sec: mtime.0,
            tv_nsec: mtime.1,
        },
    ];
    let flags = libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW;
    retry(|| {
        // SAFETY: `times` is two valid timespecs the kernel only reads.
        cvt(unsafe { libc::utimensat(fd.as_raw_fd(), c"".as_ptr(), times.as_ptr(), flags) })
    })
    .map(drop)
}

/// `ftruncate(fd, size)`.
pub(crate) fn ftruncate(fd: BorrowedFd<'_>, size: u64) -> Result<(), Errno> {
    let size = libc::off_t::try_from(size).map_err(|_| Errno::EFBIG)?;
    retry(|| {
        // SAFETY: ftruncate takes no pointer.
        cvt(unsafe { libc::ftruncate(fd.as_raw_fd(), size) })
    })
    .map(drop)
}

/// `fallocate(fd, mode, offset, len)`.
pub(crate) fn fallocate(fd: BorrowedFd<'_>, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
    let offset = libc::off_t::try_from(offset).map_err(|_| Errno::EFBIG)?;
    let len = libc::off_t::try_from(len).map_err(|_| Errno::EFBIG)?;
    let mode = i32::try_from(mode).map_err(|_| Errno::EOPNOTSUPP)?;
    retry(|| {
        // SAFETY: fallocate takes no pointer.
        cvt(unsafe { libc::fallocate(fd.as_raw_fd(), mode, offset, len) })
    })
    .map(drop)
}

/// Fills `buf` from the host's `getrandom` (blocking until the pool is ready).
pub(crate) fn getrandom(buf: &mut [u8]) -> Result<usize, Errno> {
    let n = retry(|| {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        cvt(unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) })
    })?;
    Ok(to_usize(n))
}

/// The CPUs the calling thread may run on (`sched_getaffinity`), or `[0]`.
pub(crate) fn affinity() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes at most the size we pass into `set`.
    let ret = unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &raw mut set) };
    if ret != 0 {
        return vec![0];
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads the set we own, at an index below CPU_SETSIZE.
        .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
        .collect();
    if cpus.is_empty() { vec![0] } else { cpus }
}

/// The host name of the sentry's UTS namespace (`gethostname`).
pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 65];
    // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
    let ret = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if ret != 0 {
        return String::from("localhost");
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn stat_and_read_a_host_file() {
        let root = std::fs::File::open("/").unwrap();
        let fd = openat(root.as_fd(), b"etc", libc::O_PATH | libc::O_NOFOLLOW).unwrap();
        let st = fstat(fd.as_fd()).unwrap();
        assert_eq!(st.st_mode & abi::stat::S_IFMT, abi::stat::S_IFDIR);
        assert_eq!(
            openat(root.as_fd(), b"no such file", libc::O_PATH).err(),
            Some(Errno::ENOENT)
        );
        let f = openat(fd.as_fd(), b"passwd", libc::O_RDONLY).unwrap();
        let mut buf = [0u8; 5];
        assert_eq!(pread(f.as_fd(), &mut buf, 0).unwrap(), 5);
        assert_eq!(&buf, b"root:");
        assert_eq!(readlink(f.as_fd()).err(), Some(Errno::ENOENT));
    }
}
