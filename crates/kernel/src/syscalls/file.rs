//! File-descriptor syscalls: read and write in all their forms, lseek,
//! fstat, getdents, dup, fcntl, ioctl, close, fsync and friends.
//!
//! Data moves between program memory and files through bounded buffers
//! (`vfs::File::read_with`/`write_with`); a fault part-way gives the partial
//! count, and `EFAULT` only when nothing moved, as Linux does.

use std::sync::Arc;

use abi::Errno;
use abi::falloc::{
    FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE,
    FALLOC_FL_SUPPORTED_MASK, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_ZERO_RANGE,
};
use abi::fcntl::{
    CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_UNSHARE, DIRENT64_NAME_OFFSET, F_ADD_SEALS, F_DUPFD,
    F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD, F_GETFL, F_GETLK, F_GETOWN, F_GETOWN_EX, F_GETSIG,
    F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID, F_RDLCK,
    F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
    F_SETFD, F_SETFL, F_SETLK, F_SETLKW, F_SETOWN, F_SETOWN_EX, F_SETSIG, F_UNLCK, F_WRLCK, FASYNC,
    FD_CLOEXEC, FOwnerEx, Flock, LOCK_EX, LOCK_MAND, LOCK_NB, LOCK_SH, LOCK_UN,
    LinuxDirent64Header, O_ACCMODE, O_APPEND, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK, O_RDWR,
    O_WRONLY, RWF_NOWAIT, RWF_SUPPORTED, SEEK_HOLE,
};
use abi::stat::{DIRENT_NAME_OFFSET, LinuxDirentHeader, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG};
use abi::sysno::*;
use abi::termios::{FIOASYNC, FIOCLEX, FIONBIO, FIONCLEX};
use abi::uio::{Iovec, MAX_RW_COUNT};
use zerocopy::IntoBytes;

use super::fs::{
    Target, change_attr, do_getxattr, do_listxattr, do_removexattr, do_setxattr, id_arg,
};
use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::mm::MemoryManager;
use crate::task::Task;
use crate::vfs::lock::{self, InodeKey, Kind, Owner, Request};
use crate::vfs::{File, IO_CHUNK, MAX_LFS_FILESIZE, chmod_attr, chown_attr};

/// The open file at `fd`, refusing `O_PATH` descriptions (`fdget`, not `fdget_raw`).
pub(super) fn get_file(task: &Task, fd: i32) -> Result<Arc<File>, Errno> {
    let file = task.fds().get(fd)?;
    if file.is_path() {
        return Err(Errno::EBADF);
    }
    Ok(file)
}

fn nofile_limit(task: &Task) -> u64 {
    task.thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur
}

/// `access_ok`: the range lies in the user address range.
fn access_ok(addr: u64, len: u64) -> bool {
    addr.checked_add(len)
        .is_some_and(|end| end <= abi::TASK_SIZE)
}

/// A sink writing successive chunks across `iovs` in program memory.
fn scatter<'a>(mm: &'a MemoryManager, iovs: &'a [Iovec]) -> impl FnMut(&[u8]) -> usize + 'a {
    let (mut i, mut off) = (0usize, 0u64);
    move |chunk: &[u8]| {
        let mut done = 0;
        while done < chunk.len() && i < iovs.len() {
            let iov = iovs[i];
            let room = iov.iov_len - off;
            if room == 0 {
                i += 1;
                off = 0;
                continue;
            }
            let n = usize::try_from(room)
                .unwrap_or(usize::MAX)
                .min(chunk.len() - done);
            let copied = mm.copy_out_partial(iov.iov_base + off, &chunk[done..done + n]);
            done += copied;
            off += copied as u64;
            if copied < n {
                break;
            }
        }
        done
    }
}

/// A source reading successive chunks across `iovs` in program memory.
fn gather<'a>(mm: &'a MemoryManager, iovs: &'a [Iovec]) -> impl FnMut(&mut [u8]) -> usize + 'a {
    let (mut i, mut off) = (0usize, 0u64);
    move |buf: &mut [u8]| {
        let mut done = 0;
        while done < buf.len() && i < iovs.len() {
            let iov = iovs[i];
            let room = iov.iov_len - off;
            if room == 0 {
                i += 1;
                off = 0;
                continue;
            }
            let n = usize::try_from(room)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            let copied = mm.copy_in_partial(iov.iov_base + off, &mut buf[done..done + n]);
            done += copied;
            off += copied as u64;
            if copied < n {
                break;
            }
        }
        done
    }
}

fn total_len(iovs: &[Iovec]) -> usize {
    let total: u64 = iovs.iter().map(|v| v.iov_len).sum();
    usize::try_from(total.min(MAX_RW_COUNT)).unwrap_or(0)
}

/// The checks `vfs_read` makes before reading.
fn check_read(file: &File) -> Result<(), Errno> {
    if !file.readable() {
        Err(Errno::EBADF)
    } else {
        Ok(())
    }
}

fn check_write(file: &File) -> Result<(), Errno> {
    if !file.writable() {
        Err(Errno::EBADF)
    } else {
        Ok(())
    }
}

fn do_read(task: &mut Task, fd: i32, addr: u64, count: u64, offset: Option<u64>) -> SyscallResult {
    let file = get_file(task, fd)?;
    check_read(&file)?;
    let count = count.min(MAX_RW_COUNT);
    if !access_ok(addr, count) {
        return Err(Errno::EFAULT);
    }
    let count = usize::try_from(count).unwrap_or(0);
    let mm = &task.mm;
    let mut at = addr;
    let n = file.read_with(offset, count, &mut |chunk| {
        let n = mm.copy_out_partial(at, chunk);
        at += n as u64;
        n
    })?;
    Ok(n as u64)
}

fn do_write(task: &mut Task, fd: i32, addr: u64, count: u64, offset: Option<u64>) -> SyscallResult {
    let file = get_file(task, fd)?;
    check_write(&file)?;
    let count = count.min(MAX_RW_COUNT);
    if !access_ok(addr, count) {
        return Err(Errno::EFAULT);
    }
    let count = usize::try_from(count).unwrap_or(0);
    let mm = &task.mm;
    let mut at = addr;
    let n = file.write_with(offset, count, &mut |buf| {
        let n = mm.copy_in_partial(at, buf);
        at += n as u64;
        n
    })?;
    Ok(n as u64)
}

fn do_readv(task: &mut Task, fd: i32, iov: u64, cnt: u64, offset: Option<u64>) -> SyscallResult {
    let file = get_file(task, fd)?;
    let iovs = task.mm.read_iovecs(iov, cnt)?;
    check_read(&file)?;
    let total = total_len(&iovs);
    if total == 0 {
        return Ok(0);
    }
    let n = file.read_with(offset, total, &mut scatter(&task.mm, &iovs))?;
    Ok(n as u64)
}

fn do_writev(task: &mut Task, fd: i32, iov: u64, cnt: u64, offset: Option<u64>) -> SyscallResult {
    let file = get_file(task, fd)?;
    let iovs = task.mm.read_iovecs(iov, cnt)?;
    check_write(&file)?;
    let total = total_len(&iovs);
    if total == 0 {
        return Ok(0);
    }
    let n = file.write_with(offset, total, &mut gather(&task.mm, &iovs))?;
    Ok(n as u64)
}

/// A `pread`-style offset: `EINVAL` if negative.
fn offset_arg(offset: i64) -> Result<u64, Errno> {
    u64::try_from(offset).map_err(|_| Errno::EINVAL)
}

/// Implements Linux `read(2)`.
fn sys_read(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_read(task, args.i32(0), args.addr(1), args.u64(2), None)
}

/// Implements Linux `write(2)`.
fn sys_write(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_write(task, args.i32(0), args.addr(1), args.u64(2), None)
}

/// Implements Linux `pread64(2)`.
fn sys_pread64(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let offset = offset_arg(args.i64(3))?;
    do_read(task, args.i32(0), args.addr(1), args.u64(2), Some(offset))
}

/// Implements Linux `pwrite64(2)`.
fn sys_pwrite64(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let offset = offset_arg(args.i64(3))?;
    do_write(task, args.i32(0), args.addr(1), args.u64(2), Some(offset))
}

/// Implements Linux `readv(2)`.
fn sys_readv(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_readv(task, args.i32(0), args.addr(1), args.u64(2), None)
}

/// Implements Linux `writev(2)`.
fn sys_writev(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_writev(task, args.i32(0), args.addr(1), args.u64(2), None)
}

/// Implements Linux `preadv(2)` (on x86-64 the high half of the offset is unused).
fn sys_preadv(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let offset = offset_arg(args.i64(3))?;
    do_readv(task, args.i32(0), args.addr(1), args.u64(2), Some(offset))
}

/// Implements Linux `pwritev(2)`.
fn sys_pwritev(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let offset = offset_arg(args.i64(3))?;
    do_writev(task, args.i32(0), args.addr(1), args.u64(2), Some(offset))
}

/// The offset of `preadv2`/`pwritev2`: -1 means the file position.
fn offset2(offset: i64, flags: u32) -> Result<Option<u64>, Errno> {
    if flags & !RWF_SUPPORTED != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if offset == -1 {
        Ok(None)
    } else {
        offset_arg(offset).map(Some)
    }
}

/// Implements Linux `preadv2(2)`.
///
/// `RWF_NOWAIT` is refused with `EOPNOTSUPP` (as on a file system without
/// it); the other flags are hints and accepted.
fn sys_preadv2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(5);
    let offset = offset2(args.i64(3), flags)?;
    if flags & RWF_NOWAIT != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    do_readv(task, args.i32(0), args.addr(1), args.u64(2), offset)
}

/// Implements Linux `pwritev2(2)`.
fn sys_pwritev2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(5);
    let offset = offset2(args.i64(3), flags)?;
    if flags & RWF_NOWAIT != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    do_writev(task, args.i32(0), args.addr(1), args.u64(2), offset)
}

/// Implements Linux `lseek(2)`.
fn sys_lseek(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let file = get_file(task, args.i32(0))?;
    let whence = args.u32(2);
    if whence > SEEK_HOLE {
        return Err(Errno::EINVAL);
    }
    file.seek(args.i64(1), whence)
}

/// Implements Linux `fstat(2)`.
fn sys_fstat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let file = task.fds().get(args.i32(0))?;
    let st = file.stat()?;
    task.mm.write_obj(args.addr(1), &st)?;
    Ok(0)
}

/// Implements Linux `fstatfs(2)`.
fn sys_fstatfs(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let file = task.fds().get(args.i32(0))?;
    let st = file.ops().statfs()?;
    task.mm.write_obj(args.addr(1), &st)?;
    Ok(0)
}

/// `ALIGN(x, 8)`.
fn align8(x: usize) -> usize {
    (x + 7) & !7
}

fn do_getdents(task: &mut Task, fd: i32, addr: u64, count: u64, old: bool) -> SyscallResult {
    let file = get_file(task, fd)?;
    if !access_ok(addr, count) {
        return Err(Errno::EFAULT);
    }
    let cap = usize::try_from(count.min(IO_CHUNK as u64)).unwrap_or(0);
    let mut out: Vec<u8> = Vec::new();
    let mut too_small = false;
    file.getdents(&mut |entry, next| {
        let name = &entry.name;
        let reclen = if old {
            align8(DIRENT_NAME_OFFSET + name.len() + 2)
        } else {
            align8(DIRENT64_NAME_OFFSET + name.len() + 1)
        };
        if out.len() + reclen > cap {
            too_small = out.is_empty();
            return false;
        }
        let start = out.len();
        let d_off = i64::try_from(next).unwrap_or(i64::MAX);
        let d_reclen = u16::try_from(reclen).unwrap_or(u16::MAX);
        if old {
            let hdr = LinuxDirentHeader {
                d_ino: entry.ino,
                d_off,
                d_reclen,
                _pad: [0; 6],
            };
            out.extend_from_slice(&hdr.as_bytes()[..DIRENT_NAME_OFFSET]);
        } else {
            let hdr = LinuxDirent64Header {
                d_ino: entry.ino,
                d_off,
                d_reclen,
                d_type: entry.kind,
                _pad: [0; 5],
            };
            out.extend_from_slice(&hdr.as_bytes()[..DIRENT64_NAME_OFFSET]);
        }
        out.extend_from_slice(name);
        out.resize(start + reclen, 0);
        if old {
            out[start + reclen - 1] = entry.kind;
        }
        true
    })?;
    if too_small {
        return Err(Errno::EINVAL);
    }
    task.mm.copy_out(addr, &out)?;
    Ok(out.len() as u64)
}

/// Implements Linux `getdents64(2)`.
///
/// Offsets are entry indices in a listing taken when reading starts at
/// offset 0; `lseek` to any earlier `d_off` resumes there.
fn sys_getdents64(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_getdents(
        task,
        args.i32(0),
        args.addr(1),
        u64::from(args.u32(2)),
        false,
    )
}

/// Implements Linux `getdents(2)`.
fn sys_getdents(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_getdents(
        task,
        args.i32(0),
        args.addr(1),
        u64::from(args.u32(2)),
        true,
    )
}

/// Implements Linux `close(2)`.
fn sys_close(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.fds().remove(args.i32(0))?;
    Ok(0)
}

/// Implements Linux `close_range(2)`.
///
/// `CLOSE_RANGE_UNSHARE` changes nothing: the table is not shared yet.
fn sys_close_range(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (first, last, flags) = (args.u32(0), args.u32(1), args.u32(2));
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    task.fds()
        .close_range(first, last, flags & CLOSE_RANGE_CLOEXEC != 0);
    Ok(0)
}

/// Implements Linux `dup(2)`.
fn sys_dup(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let file = task.fds().get(args.i32(0))?;
    let limit = nofile_limit(task);
    let fd = task.fds().alloc(file, false, 0, limit)?;
    Ok(u64::try_from(fd).unwrap_or(0))
}

fn do_dup3(task: &mut Task, old: i32, new: u32, flags: u32) -> SyscallResult {
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    if u64::from(new) >= nofile_limit(task) {
        return Err(Errno::EBADF);
    }
    let new = i32::try_from(new).map_err(|_| Errno::EBADF)?;
    if old == new {
        return Err(Errno::EINVAL);
    }
    let file = task.fds().get(old)?;
    task.fds().install_at(new, file, flags & O_CLOEXEC != 0)?;
    Ok(u64::from(new.unsigned_abs()))
}

/// Implements Linux `dup2(2)`.
fn sys_dup2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (old, new) = (args.i32(0), args.u32(1));
    if i64::from(old) == i64::from(new) {
        task.fds().get(old)?;
        return Ok(u64::from(new));
    }
    do_dup3(task, old, new, 0)
}

/// Implements Linux `dup3(2)`.
fn sys_dup3(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_dup3(task, args.i32(0), args.u32(1), args.u32(2))
}

/// `F_ALL_SEALS`: the seals `F_ADD_SEALS` knows.
const F_ALL_SEALS: u32 =
    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

/// `F_SETFL`'s changeable bits (`SETFL_MASK`).
const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | FASYNC | O_DIRECT | O_NOATIME;

/// Implements Linux `fcntl(2)`.
///
/// Record locks (`F_SETLK`, OFD locks) are the sentry's own (`vfs::lock`).
/// `F_SETOWN`/`F_SETOWN_EX`/`F_SETSIG` are stored, but no `SIGIO` is ever
/// sent. Leases, notify and pipe sizes are `EINVAL`/`EBADF` as on a
/// file without them. Seals are tmpfs files' (memfds'); `F_SEAL_WRITE`
/// does not wait for or refuse (`EBUSY`) writable shared mappings made
/// before it.
fn sys_fcntl(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (fd, cmd, arg) = (args.i32(0), args.u32(1), args.u64(2));
    let file = task.fds().get(fd)?;
    let path_ok = matches!(cmd, F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL);
    if file.is_path() && !path_ok {
        return Err(Errno::EBADF);
    }
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            // The minimum is an unsigned int: a negative one is past any limit.
            let min = u64::from(args.u32(2));
            let limit = nofile_limit(task);
            if min >= limit {
                return Err(Errno::EINVAL);
            }
            let min = i32::try_from(min).map_err(|_| Errno::EINVAL)?;
            let fd = task.fds().alloc(file, cmd == F_DUPFD_CLOEXEC, min, limit)?;
            Ok(u64::try_from(fd).unwrap_or(0))
        }
        F_GETFD => Ok(u64::from(task.fds().cloexec(fd)?)),
        F_SETFD => {
            task.fds().set_cloexec(fd, args.u32(2) & FD_CLOEXEC != 0)?;
            Ok(0)
        }
        F_GETFL => Ok(u64::from(file.flags())),
        F_GET_SEALS => file.ops().seals().map(u64::from),
        F_ADD_SEALS => {
            // memfd_add_seals: the description must be open for writing.
            if !matches!(file.flags() & O_ACCMODE, O_WRONLY | O_RDWR) {
                return Err(Errno::EPERM);
            }
            let seals = args.u32(2);
            if seals & !F_ALL_SEALS != 0 {
                return Err(Errno::EINVAL);
            }
            file.ops().add_seals(seals)?;
            Ok(0)
        }
        F_SETFL => {
            let flags = args.u32(2);
            if flags & O_NOATIME != 0 && file.flags() & O_NOATIME == 0 {
                let st = file.stat()?;
                if task.creds.fsuid != st.st_uid && !task.creds.has_cap(abi::capability::CAP_FOWNER)
                {
                    return Err(Errno::EPERM);
                }
            }
            file.set_flags(SETFL_MASK, flags);
            Ok(0)
        }
        F_GETLK | F_OFD_GETLK => {
            let mut flock: Flock = task.mm.read_obj(arg)?;
            // Only F_OFD_GETLK asks about F_UNLCK (its own locks), and its
            // type is checked after the range, as fcntl_getlk does.
            if cmd == F_GETLK && !matches!(flock.l_type, F_RDLCK | F_WRLCK) {
                return Err(Errno::EINVAL);
            }
            let (key, req) = lock_request(task, &file, &flock, cmd == F_OFD_GETLK, false)?;
            match lock::test_record(key, &req) {
                Some(found) => {
                    flock.l_type = found.l_type;
                    flock.l_whence = found.l_whence;
                    flock.l_start = found.l_start;
                    flock.l_len = found.l_len;
                    flock.l_pid = found.l_pid;
                }
                None => flock.l_type = F_UNLCK,
            }
            task.mm.write_obj(arg, &flock)?;
            Ok(0)
        }
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => {
            let flock: Flock = task.mm.read_obj(arg)?;
            let ofd = matches!(cmd, F_OFD_SETLK | F_OFD_SETLKW);
            let (key, req) = lock_request(task, &file, &flock, ofd, true)?;
            lock::set_record(key, &req, matches!(cmd, F_SETLKW | F_OFD_SETLKW))?;
            // A close that raced with a wait leaves no lock behind (as
            // fcntl_setlk re-checks the fd).
            if !ofd
                && req.kind.is_some()
                && !task.fds().get(fd).is_ok_and(|f| Arc::ptr_eq(&f, &file))
            {
                lock::release_posix(key, task.fds().lock_owner());
                return Err(Errno::EBADF);
            }
            Ok(0)
        }
        F_GETOWN => {
            let owner = file.owner();
            let pid = live_owner(task, owner);
            let pid = if owner.type_ == F_OWNER_PGRP {
                -pid
            } else {
                pid
            };
            Ok(i64::from(pid).cast_unsigned())
        }
        F_SETOWN => {
            let who = args.i32(2);
            if who == i32::MIN {
                return Err(Errno::EINVAL);
            }
            let owner = FOwnerEx {
                type_: if who < 0 { F_OWNER_PGRP } else { F_OWNER_PID },
                pid: who.abs(),
            };
            set_owner(task, &file, owner)?;
            Ok(0)
        }
        F_GETOWN_EX => {
            let owner = file.owner();
            let pid = live_owner(task, owner);
            task.mm.write_obj(arg, &FOwnerEx { pid, ..owner })?;
            Ok(0)
        }
        F_SETOWN_EX => {
            let owner: FOwnerEx = task.mm.read_obj(arg)?;
            if !matches!(owner.type_, F_OWNER_TID | F_OWNER_PID | F_OWNER_PGRP) {
                return Err(Errno::EINVAL);
            }
            set_owner(task, &file, owner)?;
            Ok(0)
        }
        F_GETSIG => Ok(u64::from(file.owner_signal())),
        F_SETSIG => {
            // The argument is an int; a negative one is no signal either.
            let signo = u32::try_from(args.i32(2)).map_err(|_| Errno::EINVAL)?;
            if signo > abi::signal::SIGRTMAX {
                return Err(Errno::EINVAL);
            }
            file.set_owner_signal(signo);
            Ok(0)
        }
        abi::fcntl::F_SETPIPE_SZ | abi::fcntl::F_GETPIPE_SZ => Err(Errno::EBADF),
        _ => Err(Errno::EINVAL),
    }
}

/// Stores `file`'s owner (`f_setown`): `ESRCH` unless its pid is 0 or
/// names something (a zombie will do).
fn set_owner(task: &Task, file: &File, owner: FOwnerEx) -> Result<(), Errno> {
    if owner.pid != 0 && !task.kernel.tree.pid_users(owner.pid).any() {
        return Err(Errno::ESRCH);
    }
    file.set_owner(owner);
    Ok(())
}

/// The pid of `owner`, or 0 once nothing of its type has it, after the
/// reaping (`f_getown`'s `pid_task`).
fn live_owner(task: &Task, owner: FOwnerEx) -> i32 {
    let users = task.kernel.tree.pid_users(owner.pid);
    let alive = match owner.type_ {
        F_OWNER_TID => users.thread,
        F_OWNER_PID => users.process,
        _ => users.group,
    };
    if alive { owner.pid } else { 0 }
}

/// The inode and the record lock request `flock` makes on `file`, with
/// the checks `fcntl_getlk` and `fcntl_setlk` (`set`: the open mode must
/// allow the lock) make, in their order.
fn lock_request(
    task: &Task,
    file: &File,
    flock: &Flock,
    ofd: bool,
    set: bool,
) -> Result<(InodeKey, Request), Errno> {
    let st = file.stat()?;
    let (start, end) = lock::flock_range(flock, file.pos(), st.st_size)?;
    let kind = lock::flock_kind(flock.l_type)?;
    match kind {
        Some(Kind::Read) if set && !file.readable() => return Err(Errno::EBADF),
        Some(Kind::Write) if set && !file.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    if ofd && flock.l_pid != 0 {
        return Err(Errno::EINVAL);
    }
    let key = (st.st_dev, st.st_ino);
    let owner = if ofd {
        Owner::Ofd(file.lock_owner(key))
    } else {
        Owner::Posix(task.fds().lock_owner())
    };
    let req = Request {
        owner,
        kind,
        start,
        end,
        pid: task.thread_group.pid,
    };
    Ok((key, req))
}

/// Implements Linux `flock(2)`.
fn sys_flock(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (fd, cmd) = (args.i32(0), args.u32(1));
    // Linux ignores LOCK_MAND requests, which never worked, before any check.
    if cmd & LOCK_MAND != 0 {
        return Ok(0);
    }
    let kind = match cmd & !LOCK_NB {
        LOCK_SH => Some(Kind::Read),
        LOCK_EX => Some(Kind::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let file = get_file(task, fd)?;
    if kind.is_some() && !file.readable() && !file.writable() {
        return Err(Errno::EBADF);
    }
    let key = file.lock_key()?;
    let pid = task.thread_group.pid;
    lock::set_flock(key, file.lock_owner(key), kind, cmd & LOCK_NB == 0, pid)?;
    Ok(0)
}

/// Implements Linux `ioctl(2)`.
///
/// `FIOCLEX`, `FIONCLEX`, `FIONBIO` and `FIOASYNC` act on the description;
/// `FIONREAD` on regular files; host streams forward `TCGETS`,
/// `TIOCGWINSZ` and `FIONREAD` to the host. Everything else is `ENOTTY`.
fn sys_ioctl(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (fd, cmd, arg) = (args.i32(0), args.u32(1), args.u64(2));
    let file = get_file(task, fd)?;
    match cmd {
        FIOCLEX | FIONCLEX => {
            task.fds().set_cloexec(fd, cmd == FIOCLEX)?;
            Ok(0)
        }
        FIONBIO | FIOASYNC => {
            let on: i32 = task.mm.read_obj(arg)?;
            let bit = if cmd == FIONBIO { O_NONBLOCK } else { FASYNC };
            file.set_flags(bit, if on != 0 { bit } else { 0 });
            Ok(0)
        }
        _ => match file
            .ops()
            .as_any()
            .and_then(|any| any.downcast_ref::<crate::fs::pty::PtyFile>())
        {
            Some(pty) => pty.ioctl(task, &file, cmd, arg),
            None => file.ops().ioctl(&file, &task.mm, cmd, arg),
        },
    }
}

fn do_fsync(task: &mut Task, fd: i32, data_only: bool) -> SyscallResult {
    let file = get_file(task, fd)?;
    file.ops().fsync(data_only)?;
    Ok(0)
}

/// Implements Linux `fsync(2)`.
fn sys_fsync(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fsync(task, args.i32(0), false)
}

/// Implements Linux `fdatasync(2)`.
fn sys_fdatasync(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_fsync(task, args.i32(0), true)
}

/// Implements Linux `fadvise64(2)`: validated, then ignored (advice only).
fn sys_fadvise64(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let file = get_file(task, args.i32(0))?;
    if args.i64(2) < 0 {
        return Err(Errno::EINVAL);
    }
    if file.stat()?.st_mode & S_IFMT == S_IFIFO {
        return Err(Errno::ESPIPE);
    }
    if args.u32(3) > abi::fcntl::POSIX_FADV_NOREUSE {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// What an fd-based metadata call acts on (`O_PATH` descriptions refused).
fn fd_target(task: &Task, fd: i32) -> Result<Target, Errno> {
    let file = get_file(task, fd)?;
    Ok(match file.dentry() {
        Some(d) => Target::Dentry(Arc::clone(d)),
        None => Target::File(file),
    })
}

/// Implements Linux `fchmod(2)`.
fn sys_fchmod(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let target = fd_target(task, args.i32(0))?;
    let mode = args.u32(1);
    change_attr(task, &target, |a, st, _| chmod_attr(a, st, mode))
}

/// Implements Linux `fchown(2)`.
fn sys_fchown(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let target = fd_target(task, args.i32(0))?;
    let (uid, gid) = (id_arg(args.u32(1)), id_arg(args.u32(2)));
    change_attr(task, &target, |a, st, _| chown_attr(a, st, uid, gid))
}

/// Implements Linux `ftruncate(2)`.
fn sys_ftruncate(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let Ok(len) = u64::try_from(args.i64(1)) else {
        return Err(Errno::EINVAL);
    };
    let file = get_file(task, args.i32(0))?;
    if !file.writable() || file.stat()?.st_mode & S_IFMT != S_IFREG {
        return Err(Errno::EINVAL);
    }
    if file.flags() & O_APPEND != 0 {
        // IS_APPEND is the inode flag, not O_APPEND: allowed.
    }
    file.ops().truncate(len)?;
    Ok(0)
}

/// Implements Linux `fallocate(2)`.
///
/// tmpfs files (and overlay files opened for writing) support modes 0,
/// `FALLOC_FL_KEEP_SIZE` and `FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE`;
/// the other modes give `EOPNOTSUPP`, as on tmpfs.
fn sys_fallocate(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (fd, mode, offset, len) = (args.i32(0), args.u32(1), args.i64(2), args.i64(3));
    let file = get_file(task, fd)?;
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !FALLOC_FL_SUPPORTED_MASK != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)
        == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)
    {
        return Err(Errno::EOPNOTSUPP);
    }
    if mode & FALLOC_FL_PUNCH_HOLE != 0 && mode & FALLOC_FL_KEEP_SIZE == 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    for exclusive in [FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE] {
        if mode & exclusive != 0 && mode & !exclusive != 0 {
            return Err(Errno::EINVAL);
        }
    }
    if mode & FALLOC_FL_UNSHARE_RANGE != 0
        && mode & !(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE) != 0
    {
        return Err(Errno::EINVAL);
    }
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match file.stat()?.st_mode & S_IFMT {
        S_IFIFO => return Err(Errno::ESPIPE),
        S_IFDIR => return Err(Errno::EISDIR),
        S_IFREG => {}
        _ => return Err(Errno::ENODEV),
    }
    let (offset, len) = (offset.cast_unsigned(), len.cast_unsigned());
    if offset
        .checked_add(len)
        .is_none_or(|end| end > MAX_LFS_FILESIZE)
    {
        return Err(Errno::EFBIG);
    }
    if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) != 0 {
        return Err(Errno::EOPNOTSUPP);
    }
    file.ops().fallocate(mode, offset, len)?;
    Ok(0)
}

/// Implements Linux `fsetxattr(2)`.
fn sys_fsetxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = fd_target(task, args.i32(0))?;
    do_setxattr(
        task,
        &t,
        args.addr(1),
        args.addr(2),
        args.u64(3),
        args.u32(4),
    )
}

/// Implements Linux `fgetxattr(2)`.
fn sys_fgetxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = fd_target(task, args.i32(0))?;
    do_getxattr(task, &t, args.addr(1), args.addr(2), args.u64(3))
}

/// Implements Linux `flistxattr(2)`.
fn sys_flistxattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = fd_target(task, args.i32(0))?;
    do_listxattr(task, &t, args.addr(1), args.u64(2))
}

/// Implements Linux `fremovexattr(2)`.
fn sys_fremovexattr(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let t = fd_target(task, args.i32(0))?;
    do_removexattr(task, &t, args.addr(1))
}

/// Implements Linux `sync(2)`: nothing to write back.
fn sys_sync(_: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(0)
}

/// Implements Linux `syncfs(2)`: nothing to write back.
fn sys_syncfs(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.fds().get(args.i32(0))?;
    Ok(0)
}

/// Implements Linux `sendfile(2)`, by reading and writing through the sentry.
fn sys_sendfile(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (out_fd, in_fd, off_addr, count) = (args.i32(0), args.i32(1), args.addr(2), args.u64(3));
    let input = get_file(task, in_fd)?;
    check_read(&input)?;
    let output = get_file(task, out_fd)?;
    check_write(&output)?;
    let mut offset = if off_addr != 0 {
        let off: i64 = task.mm.read_obj(off_addr)?;
        Some(offset_arg(off)?)
    } else {
        None
    };
    let count = usize::try_from(count.min(MAX_RW_COUNT)).unwrap_or(0);
    let mut done = 0usize;
    while done < count {
        let want = (count - done).min(IO_CHUNK);
        let mut chunk = Vec::new();
        let got = match input.read_with(offset, want, &mut |c| {
            chunk.extend_from_slice(c);
            c.len()
        }) {
            Ok(n) => n,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        };
        if got == 0 {
            break;
        }
        let mut src = &chunk[..got];
        let wrote = match output.write_with(None, got, &mut |buf| {
            let n = buf.len().min(src.len());
            buf[..n].copy_from_slice(&src[..n]);
            src = &src[n..];
            n
        }) {
            Ok(n) => n,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        };
        done += wrote;
        if let Some(off) = offset.as_mut() {
            *off += wrote as u64;
        }
        if wrote < got || got < want {
            break;
        }
    }
    if let Some(off) = offset {
        task.mm
            .write_obj(off_addr, &i64::try_from(off).unwrap_or(i64::MAX))?;
    }
    Ok(done as u64)
}

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_READ,
        sys_read,
        &[Arg::Fd, Arg::OutBuf, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_WRITE,
        sys_write,
        &[Arg::Fd, Arg::InBuf(2), Arg::Len],
        Support::Partial,
        "EPIPE without SIGPIPE until signals are delivered",
    ),
    entry(
        SYS_PREAD64,
        sys_pread64,
        &[Arg::Fd, Arg::OutBuf, Arg::Len, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_PWRITE64,
        sys_pwrite64,
        &[Arg::Fd, Arg::InBuf(2), Arg::Len, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_READV,
        sys_readv,
        &[Arg::Fd, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_WRITEV,
        sys_writev,
        &[Arg::Fd, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_PREADV,
        sys_preadv,
        &[Arg::Fd, Arg::Ptr, Arg::Len, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_PWRITEV,
        sys_pwritev,
        &[Arg::Fd, Arg::Ptr, Arg::Len, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_PREADV2,
        sys_preadv2,
        &[Arg::Fd, Arg::Ptr, Arg::Len, Arg::Int, Arg::Int, Arg::Hex],
        Support::Partial,
        "RWF_NOWAIT gives EOPNOTSUPP",
    ),
    entry(
        SYS_PWRITEV2,
        sys_pwritev2,
        &[Arg::Fd, Arg::Ptr, Arg::Len, Arg::Int, Arg::Int, Arg::Hex],
        Support::Partial,
        "RWF_NOWAIT gives EOPNOTSUPP",
    ),
    entry(
        SYS_LSEEK,
        sys_lseek,
        &[Arg::Fd, Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_FSTAT,
        sys_fstat,
        &[Arg::Fd, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_FSTATFS,
        sys_fstatfs,
        &[Arg::Fd, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETDENTS64,
        sys_getdents64,
        &[Arg::Fd, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETDENTS,
        sys_getdents,
        &[Arg::Fd, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(SYS_CLOSE, sys_close, &[Arg::Fd], Support::Full, ""),
    entry(
        SYS_CLOSE_RANGE,
        sys_close_range,
        &[Arg::Fd, Arg::Fd, Arg::Hex],
        Support::Full,
        "",
    ),
    entry(SYS_DUP, sys_dup, &[Arg::Fd], Support::Full, ""),
    entry(SYS_DUP2, sys_dup2, &[Arg::Fd, Arg::Fd], Support::Full, ""),
    entry(
        SYS_DUP3,
        sys_dup3,
        &[Arg::Fd, Arg::Fd, Arg::Hex],
        Support::Full,
        "",
    ),
    entry(
        SYS_FCNTL,
        sys_fcntl,
        &[Arg::Fd, Arg::Int, Arg::Hex],
        Support::Partial,
        "record and OFD locks are the sandbox's own; F_SETOWN(_EX)/F_SETSIG stored but no SIGIO is sent; no leases or notify; seals on tmpfs files and memfds, F_SEAL_WRITE without EBUSY for existing writable shared mappings",
    ),
    entry(
        SYS_FLOCK,
        sys_flock,
        &[Arg::Fd, Arg::Int],
        Support::Full,
        "locks are the sandbox's own, invisible to the host",
    ),
    entry(
        SYS_IOCTL,
        sys_ioctl,
        &[Arg::Fd, Arg::Hex, Arg::Hex],
        Support::Partial,
        "FIO* generic; termios, job control and pty ioctls on sandbox pseudo-terminals; TCGETS/TIOCGWINSZ/FIONREAD forwarded for host streams; else ENOTTY",
    ),
    entry(SYS_FSYNC, sys_fsync, &[Arg::Fd], Support::Full, ""),
    entry(SYS_FDATASYNC, sys_fdatasync, &[Arg::Fd], Support::Full, ""),
    entry(
        SYS_FADVISE64,
        sys_fadvise64,
        &[Arg::Fd, Arg::Int, Arg::Len, Arg::Int],
        Support::Full,
        "advice is ignored",
    ),
    entry(
        SYS_FCHMOD,
        sys_fchmod,
        &[Arg::Fd, Arg::Mode],
        Support::Full,
        "",
    ),
    entry(
        SYS_FCHOWN,
        sys_fchown,
        &[Arg::Fd, Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_FTRUNCATE,
        sys_ftruncate,
        &[Arg::Fd, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_FALLOCATE,
        sys_fallocate,
        &[Arg::Fd, Arg::Hex, Arg::Int, Arg::Len],
        Support::Partial,
        "modes 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE, as tmpfs",
    ),
    entry(
        SYS_FSETXATTR,
        sys_fsetxattr,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::Len, Arg::Hex],
        Support::Partial,
        "user/trusted/security namespaces",
    ),
    entry(
        SYS_FGETXATTR,
        sys_fgetxattr,
        &[Arg::Fd, Arg::Path, Arg::Ptr, Arg::Len],
        Support::Partial,
        "user/trusted/security namespaces",
    ),
    entry(
        SYS_FLISTXATTR,
        sys_flistxattr,
        &[Arg::Fd, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_FREMOVEXATTR,
        sys_fremovexattr,
        &[Arg::Fd, Arg::Path],
        Support::Partial,
        "user/trusted/security namespaces",
    ),
    entry(SYS_SYNC, sys_sync, &[], Support::Full, ""),
    entry(SYS_SYNCFS, sys_syncfs, &[Arg::Fd], Support::Full, ""),
    entry(
        SYS_SENDFILE,
        sys_sendfile,
        &[Arg::Fd, Arg::Fd, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(access_ok(0x1000, 10));
        assert!(!access_ok(u64::MAX, 2));
        assert!(!access_ok(abi::TASK_SIZE, 1));
        assert_eq!(align8(19 + 1 + 1), 24);
        assert_eq!(offset2(-1, 0), Ok(None));
        assert_eq!(offset2(-2, 0), Err(Errno::EINVAL));
        assert_eq!(offset2(0, 0x100), Err(Errno::EOPNOTSUPP));
        let iovs = [
            Iovec {
                iov_base: 0,
                iov_len: u64::MAX / 2,
            },
            Iovec {
                iov_base: 0,
                iov_len: 5,
            },
        ];
        assert_eq!(total_len(&iovs) as u64, MAX_RW_COUNT);
    }
}
