//! Memory mapping: mmap(2), munmap(2), mprotect(2), mremap(2), brk(2),
//! madvise(2), msync(2), mincore(2) and the mlock(2) family.
//!
//! The handlers decode and validate what belongs to the syscall (the fd,
//! its access mode, the flag words); the address-space rules live in
//! [`crate::mm::MemoryManager`].

use abi::Errno;
use abi::fcntl::{
    F_SEAL_FUTURE_WRITE, F_SEAL_WRITE, O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY,
};
use abi::mman::{
    LEGACY_MAP_MASK, MAP_ANONYMOUS, MAP_DROPPABLE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED,
    MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT,
    MLOCK_ONFAULT, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use abi::resource::RLIMIT_MEMLOCK;
use abi::sysno::*;
use abi::{PAGE_SIZE, TASK_SIZE};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::mm::{MmapBacking, MmapRequest};
use crate::task::Task;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_MMAP,
        sys_mmap,
        &[
            Arg::Ptr,
            Arg::Hex,
            Arg::Prot,
            Arg::MapFlags,
            Arg::Fd,
            Arg::Hex,
        ],
        Support::Partial,
        "shared file mappings see changes host processes make to a mapped volume \
         file only at writeback; MAP_HUGETLB gives ENOMEM (no huge pages)",
    ),
    entry(
        SYS_MUNMAP,
        sys_munmap,
        &[Arg::Ptr, Arg::Hex],
        Support::Full,
        "",
    ),
    entry(
        SYS_MPROTECT,
        sys_mprotect,
        &[Arg::Ptr, Arg::Hex, Arg::Prot],
        Support::Full,
        "",
    ),
    entry(
        SYS_MREMAP,
        sys_mremap,
        &[Arg::Ptr, Arg::Hex, Arg::Hex, Arg::Hex, Arg::Ptr],
        Support::Partial,
        "old_size 0 (duplicating a shared mapping) gives EINVAL",
    ),
    entry(SYS_BRK, sys_brk, &[Arg::Ptr], Support::Full, ""),
    entry(
        SYS_MADVISE,
        sys_madvise,
        &[Arg::Ptr, Arg::Hex, Arg::Int],
        Support::Partial,
        "MADV_FREE keeps the data; MADV_GUARD_INSTALL/REMOVE give EINVAL; \
         MADV_HWPOISON/SOFT_OFFLINE give EPERM",
    ),
    entry(
        SYS_MSYNC,
        sys_msync,
        &[Arg::Ptr, Arg::Hex, Arg::Hex],
        Support::Full,
        "writes volume files back to the host; MS_INVALIDATE has nothing to do (one page cache)",
    ),
    entry(
        SYS_MINCORE,
        sys_mincore,
        &[Arg::Ptr, Arg::Hex, Arg::Ptr],
        Support::Partial,
        "file pages within the file always count as resident",
    ),
    entry(
        SYS_MLOCK,
        sys_mlock,
        &[Arg::Ptr, Arg::Hex],
        Support::Partial,
        MLOCK_NOTE,
    ),
    entry(
        SYS_MUNLOCK,
        sys_munlock,
        &[Arg::Ptr, Arg::Hex],
        Support::Partial,
        MLOCK_NOTE,
    ),
    entry(
        SYS_MLOCK2,
        sys_mlock2,
        &[Arg::Ptr, Arg::Hex, Arg::Hex],
        Support::Partial,
        MLOCK_NOTE,
    ),
    entry(
        SYS_MLOCKALL,
        sys_mlockall,
        &[Arg::Hex],
        Support::Partial,
        MLOCK_NOTE,
    ),
    entry(
        SYS_MUNLOCKALL,
        sys_munlockall,
        &[],
        Support::Partial,
        MLOCK_NOTE,
    ),
];

const MLOCK_NOTE: &str = "the sentry never swaps program memory, so locking is bookkeeping \
                          (RLIMIT_MEMLOCK is enforced; euid 0 stands for CAP_IPC_LOCK)";

/// A flags word passed as `unsigned long`: the low 32 bits, with an
/// unknown bit set if any of the high 32 bits are, so validation rejects it.
fn ulong_flags(args: &SyscallArgs, i: usize) -> u32 {
    const UNKNOWN_HIGH: u32 = 0x8000_0000;
    if args.u64(i) >> 32 != 0 {
        args.u32(i) | UNKNOWN_HIGH
    } else {
        args.u32(i)
    }
}

/// Implements Linux `mmap(2)`.
///
/// Shared mappings of in-memory files (the overlay's upper layer, tmpfs)
/// map the file's own pages; those of files on writable volumes map a page
/// cache written back to the host on `msync`, `munmap`, `fsync` and when
/// the last mapping goes. Files of the read-only rootfs are copied, which
/// is the same since nothing can change them (a copy-up makes a new file,
/// as in Linux's overlayfs).
///
/// Differences: host processes writing a mapped volume file are not seen
/// in cached pages, and see stores only at writeback. `MAP_HUGETLB` gives
/// `ENOMEM`, as on a host without reserved huge pages. The map type and the
/// fd's access mode are checked before the address is chosen, so a request
/// wrong in several ways may get a different errno than Linux would give.
fn sys_mmap(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (addr, len, prot, fd, offset) = (
        args.addr(0),
        args.u64(1),
        args.u32(2),
        args.i32(4),
        args.u64(5),
    );
    let flags = ulong_flags(args, 3);
    if offset % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    let file = if flags & MAP_ANONYMOUS == 0 {
        let file = task.fds().get(fd)?;
        if file.flags() & O_PATH != 0 {
            return Err(Errno::EBADF);
        }
        if flags & MAP_HUGETLB != 0 {
            return Err(Errno::EINVAL);
        }
        Some(file)
    } else {
        if flags & MAP_HUGETLB != 0 {
            return Err(Errno::ENOMEM);
        }
        None
    };
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let mut max_prot = PROT_READ | PROT_WRITE | PROT_EXEC;
    let map_type = flags & MAP_TYPE;
    let mapping = match file {
        Some(file) => {
            let mode = file.flags() & O_ACCMODE;
            let readable = mode == O_RDONLY || mode == O_RDWR;
            let writable = mode == O_WRONLY || mode == O_RDWR;
            match map_type {
                MAP_SHARED | MAP_SHARED_VALIDATE => {
                    if map_type == MAP_SHARED_VALIDATE && flags & !LEGACY_MAP_MASK != 0 {
                        return Err(Errno::EOPNOTSUPP);
                    }
                    if prot & PROT_WRITE != 0 && !writable {
                        return Err(Errno::EACCES);
                    }
                    if !writable {
                        max_prot &= !PROT_WRITE;
                    }
                }
                MAP_PRIVATE => {}
                _ => return Err(Errno::EINVAL),
            }
            if !readable {
                return Err(Errno::EACCES);
            }
            // memfd_check_seals_mmap: a write-sealed file is never mapped
            // shared and writable, not even by a later mprotect.
            if matches!(map_type, MAP_SHARED | MAP_SHARED_VALIDATE)
                && file
                    .ops()
                    .seals()
                    .is_ok_and(|s| s & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0)
            {
                if prot & PROT_WRITE != 0 {
                    return Err(Errno::EPERM);
                }
                max_prot &= !PROT_WRITE;
            }
            match file.mmap_backing()? {
                MmapBacking::Anonymous => None,
                MmapBacking::File(mappable) => {
                    if flags & MAP_GROWSDOWN != 0 {
                        return Err(Errno::EINVAL);
                    }
                    Some((mappable, offset))
                }
            }
        }
        None => {
            match map_type {
                MAP_SHARED | MAP_PRIVATE => {}
                MAP_DROPPABLE if flags & (MAP_LOCKED | MAP_GROWSDOWN) == 0 => {}
                _ => return Err(Errno::EINVAL),
            }
            None
        }
    };
    let req = MmapRequest {
        addr,
        len,
        prot,
        flags,
        file: mapping,
    };
    task.mm.mmap_with_max_prot(req, max_prot)
}

/// Implements Linux `munmap(2)`.
fn sys_munmap(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.mm.munmap(args.addr(0), args.u64(1)).map(|()| 0)
}

/// Implements Linux `mprotect(2)`.
fn sys_mprotect(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.mm
        .mprotect(args.addr(0), args.u64(1), ulong_flags(args, 2))
        .map(|()| 0)
}

/// Implements Linux `mremap(2)`.
///
/// Differences: an `old_size` of zero, which duplicates a shared mapping in
/// Linux, gives `EINVAL`.
fn sys_mremap(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (addr, old_len, new_len, new_addr) = (args.addr(0), args.u64(1), args.u64(2), args.addr(4));
    task.mm
        .mremap(addr, old_len, new_len, ulong_flags(args, 3), new_addr)
}

/// Implements Linux `brk(2)`: returns the new break, or the old one on failure.
fn sys_brk(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    Ok(task.mm.brk(args.addr(0)))
}

/// Implements Linux `madvise(2)`.
///
/// Differences: `MADV_FREE` keeps the data (Linux may too); guard regions
/// (`MADV_GUARD_INSTALL`/`REMOVE`, Linux 6.13) give `EINVAL`, as on older
/// kernels; `MADV_HWPOISON` and `MADV_SOFT_OFFLINE` give `EPERM`, as for a
/// task without `CAP_SYS_ADMIN`.
fn sys_madvise(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.mm
        .madvise(args.addr(0), args.u64(1), args.u32(2))
        .map(|()| 0)
}

/// Implements Linux `msync(2)`: shared mappings of volume files are
/// written back to the host (and flushed with `MS_SYNC`); other mappings'
/// data is already where `read(2)` finds it.
fn sys_msync(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (addr, len, flags) = (args.addr(0), args.u64(1), args.u32(2));
    if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0 || addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MS_ASYNC != 0 && flags & MS_SYNC != 0 {
        return Err(Errno::EINVAL);
    }
    task.mm
        .msync(addr, len, flags & MS_INVALIDATE != 0, flags & MS_SYNC != 0)
        .map(|()| 0)
}

/// Implements Linux `mincore(2)`.
///
/// Differences: a page of a file mapping within the file counts as
/// resident even if never touched (as if the file were fully page-cached).
fn sys_mincore(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    const CHUNK: u64 = 4096;
    let (addr, len, vec) = (args.addr(0), args.u64(1), args.addr(2));
    if addr % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL);
    }
    if addr.checked_add(len).is_none_or(|end| end > TASK_SIZE) {
        return Err(Errno::ENOMEM);
    }
    let pages = len.div_ceil(PAGE_SIZE);
    if vec.checked_add(pages).is_none_or(|end| end > TASK_SIZE) {
        return Err(Errno::EFAULT);
    }
    let mut done = 0;
    while done < pages {
        let n = (pages - done).min(CHUNK);
        let resident = task.mm.mincore(addr + done * PAGE_SIZE, n)?;
        task.mm.copy_out(vec + done, &resident)?;
        done += n;
    }
    Ok(0)
}

/// `RLIMIT_MEMLOCK` in bytes, or no limit for a task that stands for
/// `CAP_IPC_LOCK`. `EPERM` if the task may lock nothing.
fn memlock_limit(task: &Task) -> Result<u64, Errno> {
    if task.creds.has_cap(abi::capability::CAP_IPC_LOCK) {
        return Ok(u64::MAX);
    }
    let limit = task.thread_group.limit(RLIMIT_MEMLOCK).rlim_cur;
    if limit == 0 {
        Err(Errno::EPERM)
    } else {
        Ok(limit)
    }
}

/// Implements Linux `mlock(2)`. Memory is never swapped by the sentry, so
/// locking only faults the pages in and counts them against the limit.
fn sys_mlock(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let limit = memlock_limit(task)?;
    task.mm
        .mlock(args.addr(0), args.u64(1), true, limit)
        .map(|()| 0)
}

/// Implements Linux `mlock2(2)`; `MLOCK_ONFAULT` still faults the pages in.
fn sys_mlock2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if ulong_flags(args, 2) & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    let limit = memlock_limit(task)?;
    task.mm
        .mlock(args.addr(0), args.u64(1), true, limit)
        .map(|()| 0)
}

/// Implements Linux `munlock(2)`.
fn sys_munlock(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.mm
        .mlock(args.addr(0), args.u64(1), false, u64::MAX)
        .map(|()| 0)
}

/// Implements Linux `mlockall(2)`; `MCL_ONFAULT` still faults the pages in.
fn sys_mlockall(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.i32(0);
    let known = (MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT).cast_signed();
    if flags == 0 || flags & !known != 0 || flags == MCL_ONFAULT.cast_signed() {
        return Err(Errno::EINVAL);
    }
    let limit = memlock_limit(task)?;
    let (current, future) = (
        flags & MCL_CURRENT.cast_signed() != 0,
        flags & MCL_FUTURE.cast_signed() != 0,
    );
    task.mm.mlockall(current, future, limit).map(|()| 0)
}

/// Implements Linux `munlockall(2)`.
fn sys_munlockall(task: &mut Task, _args: &SyscallArgs) -> SyscallResult {
    task.mm.mlockall(false, false, u64::MAX).map(|()| 0)
}
