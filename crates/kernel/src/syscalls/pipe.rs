//! pipe(2) and pipe2(2).

use abi::Errno;
use abi::fcntl::{O_CLOEXEC, O_DIRECT, O_NONBLOCK};
use abi::sysno::{SYS_PIPE, SYS_PIPE2};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::fs::pipe::new_pipe;
use crate::task::Task;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(SYS_PIPE, sys_pipe, &[Arg::Ptr], Support::Full, ""),
    entry(
        SYS_PIPE2,
        sys_pipe2,
        &[Arg::Ptr, Arg::OpenFlags],
        Support::Partial,
        "O_DIRECT (packet mode) is accepted but the pipe stays a byte stream",
    ),
];

/// Implements Linux `pipe(2)`.
fn sys_pipe(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_pipe(task, args.addr(0), 0)
}

/// Implements Linux `pipe2(2)`.
fn sys_pipe2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(1);
    if args.u64(1) & !u64::from(O_CLOEXEC | O_NONBLOCK | O_DIRECT) != 0 {
        return Err(Errno::EINVAL);
    }
    do_pipe(task, args.addr(0), flags)
}

/// The worker behind both: the fds are only installed once the program's
/// array has been written, as Linux's `do_pipe2` does.
fn do_pipe(task: &mut Task, fds_addr: u64, flags: u32) -> SyscallResult {
    let (read, write) = new_pipe(flags & O_NONBLOCK);
    let cloexec = flags & O_CLOEXEC != 0;
    let limit = task
        .thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur;
    let rfd = task.fds().alloc(read, cloexec, 0, limit)?;
    let wfd = match task.fds().alloc(write, cloexec, 0, limit) {
        Ok(fd) => fd,
        Err(errno) => {
            let _ = task.fds().remove(rfd);
            return Err(errno);
        }
    };
    if let Err(errno) = task.mm.write_obj(fds_addr, &[rfd, wfd]) {
        let _ = task.fds().remove(rfd);
        let _ = task.fds().remove(wfd);
        return Err(errno);
    }
    Ok(0)
}
