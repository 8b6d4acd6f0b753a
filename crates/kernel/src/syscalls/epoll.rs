//! eventfd(2), eventfd2(2), and epoll: epoll_create(2), epoll_create1(2),
//! epoll_ctl(2), epoll_wait(2), epoll_pwait(2), epoll_pwait2(2). The files
//! themselves live in [`crate::fs::eventfd`] and [`crate::fs::eventpoll`].

use std::sync::Arc;
use std::time::Duration;

use abi::Errno;
use abi::epoll::{
    EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
    EPOLL_CTL_MOD, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLLWAKEUP,
    EpollEvent,
};
use abi::stat::{S_IFDIR, S_IFMT, S_IFREG};
use abi::sysno::*;

use super::file::get_file;
use super::fs::install;
use super::poll::{read_sigmask, read_timeout, wait_on_files, with_sigmask};
use super::table::{Arg, Entry, Support, entry};
use super::time::instant_after;
use super::{SyscallArgs, SyscallResult};
use crate::fs::eventfd::new_eventfd;
use crate::fs::eventpoll::{as_epoll, new_epoll};
use crate::task::Task;
use crate::vfs::File;

/// The most events one wait may ask for (`EP_MAX_EVENTS`).
const MAX_EVENTS: usize = 0x7fff_ffff / size_of::<EpollEvent>();

/// The events an `EPOLLEXCLUSIVE` registration may ask for.
const EXCLUSIVE_OK_BITS: u32 =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

/// Where the epoll_wait family differs from Linux.
const ET_NOTE: &str = "edge-triggered registrations of files that do not count their wake-ups \
     (terminals, host streams, signalfds) report like level-triggered ones";

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(SYS_EVENTFD, sys_eventfd, &[Arg::Int], Support::Full, ""),
    entry(
        SYS_EVENTFD2,
        sys_eventfd2,
        &[Arg::Int, Arg::Hex],
        Support::Full,
        "",
    ),
    entry(
        SYS_EPOLL_CREATE,
        sys_epoll_create,
        &[Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_EPOLL_CREATE1,
        sys_epoll_create1,
        &[Arg::Hex],
        Support::Full,
        "",
    ),
    entry(
        SYS_EPOLL_CTL,
        sys_epoll_ctl,
        &[Arg::Fd, Arg::Int, Arg::Fd, Arg::Ptr],
        Support::Partial,
        "EPERM only for regular files and directories; Linux also refuses other files \
         without a poll operation, such as /dev/null",
    ),
    entry(
        SYS_EPOLL_WAIT,
        sys_epoll_wait,
        &[Arg::Fd, Arg::Ptr, Arg::Int, Arg::Int],
        Support::Partial,
        ET_NOTE,
    ),
    entry(
        SYS_EPOLL_PWAIT,
        sys_epoll_pwait,
        &[Arg::Fd, Arg::Ptr, Arg::Int, Arg::Int, Arg::Ptr, Arg::Len],
        Support::Partial,
        ET_NOTE,
    ),
    entry(
        SYS_EPOLL_PWAIT2,
        sys_epoll_pwait2,
        &[Arg::Fd, Arg::Ptr, Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Len],
        Support::Partial,
        ET_NOTE,
    ),
];

/// Implements Linux `eventfd(2)`: `eventfd2` without flags.
fn sys_eventfd(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    install(task, new_eventfd(args.u32(0), 0), false)
}

/// Implements Linux `eventfd2(2)`.
fn sys_eventfd2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(1);
    if flags & !(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL);
    }
    install(
        task,
        new_eventfd(args.u32(0), flags),
        flags & EFD_CLOEXEC != 0,
    )
}

/// Implements Linux `epoll_create(2)`: the size only has to be positive.
fn sys_epoll_create(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.i32(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    install(task, new_epoll(0), false)
}

/// Implements Linux `epoll_create1(2)`.
fn sys_epoll_create1(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(0);
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    install(task, new_epoll(0), flags & EPOLL_CLOEXEC != 0)
}

/// Whether epoll can watch `file`. Linux refuses files without a poll
/// operation; here those are regular files and directories.
fn can_poll(file: &File) -> bool {
    file.stat()
        .is_ok_and(|st| !matches!(st.st_mode & S_IFMT, S_IFREG | S_IFDIR))
}

/// Implements Linux `epoll_ctl(2)`. `EPOLLWAKEUP` is dropped: nothing
/// suspends in the sandbox (Linux drops it without `CAP_BLOCK_SUSPEND`).
fn sys_epoll_ctl(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (epfd, op, fd) = (args.i32(0), args.i32(1), args.i32(2));
    let event = if op == EPOLL_CTL_DEL {
        EpollEvent::default()
    } else {
        task.mm.read_obj::<EpollEvent>(args.addr(3))?
    };
    let ep_file = get_file(task, epfd)?;
    let target = get_file(task, fd)?;
    if !can_poll(&target) {
        return Err(Errno::EPERM);
    }
    let events = event.events & !EPOLLWAKEUP;
    let data = event.data;
    if Arc::ptr_eq(&ep_file, &target) {
        return Err(Errno::EINVAL);
    }
    let ep = as_epoll(&ep_file).ok_or(Errno::EINVAL)?;
    if op != EPOLL_CTL_DEL
        && events & EPOLLEXCLUSIVE != 0
        && (op == EPOLL_CTL_MOD
            || (op == EPOLL_CTL_ADD
                && (as_epoll(&target).is_some() || events & !EXCLUSIVE_OK_BITS != 0)))
    {
        return Err(Errno::EINVAL);
    }
    match op {
        EPOLL_CTL_ADD => ep.insert(&target, fd, events, data)?,
        EPOLL_CTL_MOD => ep.modify(&target, fd, events, data)?,
        EPOLL_CTL_DEL => ep.remove(&target, fd)?,
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// The worker of the epoll_wait family: waits up to `timeout` (`None`:
/// forever) for events and copies them out. A signal ends the wait with
/// EINTR; epoll waits are never restarted.
fn do_epoll_wait(
    task: &Task,
    epfd: i32,
    events_addr: u64,
    maxevents: i32,
    timeout: Option<Duration>,
) -> SyscallResult {
    let max = usize::try_from(maxevents)
        .ok()
        .filter(|max| (1..=MAX_EVENTS).contains(max))
        .ok_or(Errno::EINVAL)?;
    let file = get_file(task, epfd)?;
    let ep = as_epoll(&file).ok_or(Errno::EINVAL)?;
    let events = wait_on_files(task, &[&file], timeout.map(instant_after), || {
        let events = ep.take_events(max);
        let done = !events.is_empty();
        (events, done)
    })
    .map_err(|errno| {
        if errno == Errno::ERESTARTNOHAND {
            Errno::EINTR
        } else {
            errno
        }
    })?;
    task.mm.copy_out(
        events_addr,
        zerocopy::IntoBytes::as_bytes(events.as_slice()),
    )?;
    Ok(events.len() as u64)
}

/// epoll_wait's timeout in milliseconds (negative: forever).
fn ms_timeout(ms: i32) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// Implements Linux `epoll_wait(2)`.
fn sys_epoll_wait(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timeout = ms_timeout(args.i32(3));
    do_epoll_wait(task, args.i32(0), args.addr(1), args.i32(2), timeout)
}

/// Implements Linux `epoll_pwait(2)`.
fn sys_epoll_pwait(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let mask = read_sigmask(task, args.addr(4), args.u64(5))?;
    let (epfd, events, max) = (args.i32(0), args.addr(1), args.i32(2));
    let timeout = ms_timeout(args.i32(3));
    with_sigmask(task, mask, |task| {
        do_epoll_wait(task, epfd, events, max, timeout)
    })
}

/// Implements Linux `epoll_pwait2(2)`.
fn sys_epoll_pwait2(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timeout = read_timeout(task, args.addr(3))?;
    let mask = read_sigmask(task, args.addr(4), args.u64(5))?;
    let (epfd, events, max) = (args.i32(0), args.addr(1), args.i32(2));
    with_sigmask(task, mask, |task| {
        do_epoll_wait(task, epfd, events, max, timeout)
    })
}
