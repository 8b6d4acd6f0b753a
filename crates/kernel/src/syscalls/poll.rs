//! Waiting for files to become ready: poll(2), ppoll(2), select(2),
//! pselect6(2).
//!
//! The task queues itself on every file that can notify, checks readiness,
//! and blocks until one wakes it, the timeout passes, or it is killed. Files
//! that cannot notify (host streams) are re-checked every few milliseconds.
//!
//! A signal ends the wait; when no handler runs the call restarts with the
//! time it had left, not its whole timeout: poll through its restart block
//! (Linux's `do_restart_poll`), select, pselect6 and ppoll because they
//! write the time left back to their timeout (`poll_select_finish`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abi::Errno;
use abi::poll::{
    POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND,
    POLLWRNORM, PollFd,
};
use abi::sysno::*;
use abi::time::Timeval;
use zerocopy::{Immutable, IntoBytes};

use super::table::{Arg, Entry, Support, entry};
use super::time::{
    duration_from_timespec, instant_after, read_timespec, timespec_from_duration,
    timeval_from_duration,
};
use super::{SyscallArgs, SyscallResult};
use crate::task::{Task, Wakeup};
use crate::vfs::File;

/// How often files that cannot notify are re-checked while blocked.
const RECHECK: Duration = Duration::from_millis(10);

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_POLL,
        sys_poll,
        &[Arg::Ptr, Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_PPOLL,
        sys_ppoll,
        &[Arg::Ptr, Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_SELECT,
        sys_select,
        &[Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_PSELECT6,
        sys_pselect6,
        &[Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Ptr, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
];

/// One file being waited on.
struct Watched {
    file: Option<Arc<File>>,
    /// The events asked for (POLLERR and POLLHUP are always reported).
    events: u32,
}

/// Readiness of every watched file, blocking until at least one is ready,
/// `deadline` passes (`None`: forever) or the task is killed.
fn wait_ready(
    task: &Task,
    watched: &[Watched],
    deadline: Option<Instant>,
) -> Result<Vec<u32>, Errno> {
    let files: Vec<&File> = watched.iter().filter_map(|w| w.file.as_deref()).collect();
    wait_on_files(task, &files, deadline, || {
        let ready: Vec<u32> = watched
            .iter()
            .map(|w| match &w.file {
                None => 0,
                Some(file) => file.ops().poll_events(file) & (w.events | POLLERR | POLLHUP),
            })
            .collect();
        let done = ready.iter().any(|&r| r != 0);
        (ready, done)
    })
}

/// Runs `check` until it says it is done or `deadline` passes (`None`:
/// never), and returns its last answer; between checks, blocks on `files`
/// until one may have changed. Files that cannot notify are re-checked
/// every [`RECHECK`]. ERESTARTNOHAND if a signal or a kill interrupts.
pub(super) fn wait_on_files<T>(
    task: &Task,
    files: &[&File],
    deadline: Option<Instant>,
    mut check: impl FnMut() -> (T, bool),
) -> Result<T, Errno> {
    let handle = task.handle();
    loop {
        handle.prepare_to_block();
        let mut all_notify = true;
        for file in files {
            all_notify &= file.ops().add_poll_waiter(&handle);
        }
        let (value, ready) = check();
        let done = ready || deadline.is_some_and(|d| Instant::now() >= d);
        let wakeup = if done {
            Wakeup::Woken
        } else {
            let recheck = (!all_notify).then(|| Instant::now() + RECHECK);
            let until = match (deadline, recheck) {
                (Some(d), Some(r)) => Some(d.min(r)),
                (d, r) => d.or(r),
            };
            handle.block(until)
        };
        for file in files {
            file.ops().remove_poll_waiter(&handle);
        }
        if done {
            return Ok(value);
        }
        if matches!(wakeup, Wakeup::Killed | Wakeup::Interrupted) {
            return Err(Errno::ERESTARTNOHAND);
        }
    }
}

/// The worker of poll and ppoll: waits until `deadline` (`None`: forever).
fn do_poll(task: &Task, fds_addr: u64, nfds: u64, deadline: Option<Instant>) -> SyscallResult {
    let limit = task
        .thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur;
    if nfds > limit.min(1 << 20) {
        return Err(Errno::EINVAL);
    }
    let count = usize::try_from(nfds).map_err(|_| Errno::EINVAL)?;
    let mut pollfds = vec![PollFd::default(); count];
    task.mm.copy_in(
        fds_addr,
        zerocopy::IntoBytes::as_mut_bytes(pollfds.as_mut_slice()),
    )?;
    let mut watched = Vec::with_capacity(count);
    let mut invalid = vec![false; count];
    for (i, p) in pollfds.iter().enumerate() {
        let file = if p.fd < 0 {
            None
        } else {
            match task.fds().get(p.fd) {
                Ok(file) => Some(file),
                Err(_) => {
                    invalid[i] = true;
                    None
                }
            }
        };
        watched.push(Watched {
            file,
            events: u32::from(p.events.cast_unsigned()),
        });
    }
    let deadline = if invalid.iter().any(|&b| b) {
        Some(Instant::now())
    } else {
        deadline
    };
    let ready = wait_ready(task, &watched, deadline)?;
    let mut n = 0u64;
    for (i, p) in pollfds.iter_mut().enumerate() {
        let revents = if invalid[i] { POLLNVAL } else { ready[i] };
        p.revents = i16::try_from(revents).unwrap_or(0);
        n += u64::from(revents != 0);
    }
    task.mm
        .copy_out(fds_addr, zerocopy::IntoBytes::as_bytes(pollfds.as_slice()))?;
    Ok(n)
}

/// Implements Linux `poll(2)`.
fn sys_poll(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let deadline = u64::try_from(args.i32(2))
        .ok()
        .map(|ms| instant_after(Duration::from_millis(ms)));
    poll_restartable(task, args.addr(0), args.u64(1), deadline)
}

/// poll until `deadline`, which a signal without a handler does not move:
/// the call goes on through `restart_syscall(2)` (a handler gets EINTR).
fn poll_restartable(
    task: &mut Task,
    fds_addr: u64,
    nfds: u64,
    deadline: Option<Instant>,
) -> SyscallResult {
    match do_poll(task, fds_addr, nfds, deadline) {
        Err(Errno::ERESTARTNOHAND) => {
            Err(task
                .set_restart_block(move |task| poll_restartable(task, fds_addr, nfds, deadline)))
        }
        result => result,
    }
}

/// Runs `wait` until the deadline `timeout` (`None`: forever) sets, then
/// writes the time left back to the timeout at `addr` of select, pselect6
/// or ppoll (as `user`'s type), whatever the call returns, unless there is
/// no timeout or it was zero. If that fails, a call that would restart
/// fails with EINTR instead, since it would start its whole timeout over
/// (Linux's `poll_select_finish`).
fn with_timeout_written_back<T: IntoBytes + Immutable>(
    task: &mut Task,
    addr: u64,
    timeout: Option<Duration>,
    user: fn(Duration) -> T,
    wait: impl FnOnce(&mut Task, Option<Instant>) -> SyscallResult,
) -> SyscallResult {
    let deadline = timeout.map(instant_after);
    let result = wait(task, deadline);
    let (Some(timeout), Some(deadline)) = (timeout, deadline) else {
        return result;
    };
    if timeout.is_zero() {
        return result;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    match task.mm.write_obj(addr, &user(left)) {
        Err(_) if result == Err(Errno::ERESTARTNOHAND) => Err(Errno::EINTR),
        _ => result,
    }
}

/// Reads a relative `timespec` timeout (NULL: forever).
pub(super) fn read_timeout(task: &Task, addr: u64) -> Result<Option<Duration>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    read_timespec(task, addr).map(Some)
}

/// Reads ppoll's and pselect's signal mask argument (`None`: no mask).
pub(super) fn read_sigmask(task: &Task, mask_addr: u64, size: u64) -> Result<Option<u64>, Errno> {
    if mask_addr == 0 {
        return Ok(None);
    }
    if size != abi::signal::SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    task.mm.read_obj::<u64>(mask_addr).map(Some)
}

/// Runs `wait` with the signal mask replaced by `mask`, as ppoll and
/// pselect6 do. If a signal interrupts it, the old mask stays saved for
/// the handler's frame to restore (or for the return to the program, when
/// no handler runs), so a signal the temporary mask let in is handled
/// before the old mask blocks it again.
pub(super) fn with_sigmask(
    task: &mut Task,
    mask: Option<u64>,
    wait: impl FnOnce(&Task) -> SyscallResult,
) -> SyscallResult {
    let Some(mask) = mask else {
        return wait(task);
    };
    let handle = task.handle();
    let old = handle.signal_mask();
    handle.set_signal_mask(mask);
    let result = wait(task);
    match result {
        Err(errno) if errno.is_restart() || errno == Errno::EINTR => task.saved_mask = Some(old),
        _ => handle.set_signal_mask(old),
    }
    result
}

/// Implements Linux `ppoll(2)`.
fn sys_ppoll(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timeout = read_timeout(task, args.addr(2))?;
    let mask = read_sigmask(task, args.addr(3), args.u64(4))?;
    let (fds, nfds) = (args.addr(0), args.u64(1));
    with_timeout_written_back(
        task,
        args.addr(2),
        timeout,
        timespec_from_duration,
        |task, deadline| with_sigmask(task, mask, |task| do_poll(task, fds, nfds, deadline)),
    )
}

/// The worker of select and pselect6: `fd_set`s of `nfds` bits, waited
/// on until `deadline` (`None`: forever).
fn do_select(task: &Task, nfds: i32, sets: [u64; 3], deadline: Option<Instant>) -> SyscallResult {
    let limit = task
        .thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur;
    let nfds = usize::try_from(nfds).map_err(|_| Errno::EINVAL)?;
    if nfds as u64 > limit.max(abi::poll::FD_SETSIZE as u64) {
        return Err(Errno::EINVAL);
    }
    let bytes = nfds.div_ceil(64) * 8;
    let mut bits = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    for (set, addr) in bits.iter_mut().zip(sets) {
        if addr != 0 {
            task.mm.copy_in(addr, set)?;
        }
    }
    let is_set = |set: &[u8], fd: usize| set[fd / 8] & (1 << (fd % 8)) != 0;
    let mut watched = Vec::new();
    let mut fds = Vec::new();
    for fd in 0..nfds {
        let mut events = 0;
        if is_set(&bits[0], fd) {
            events |= POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
        }
        if is_set(&bits[1], fd) {
            events |= POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
        }
        if is_set(&bits[2], fd) {
            events |= POLLPRI;
        }
        if events == 0 {
            continue;
        }
        let file = task
            .fds()
            .get(i32::try_from(fd).map_err(|_| Errno::EBADF)?)?;
        watched.push(Watched {
            file: Some(file),
            events,
        });
        fds.push(fd);
    }
    let ready = wait_ready(task, &watched, deadline)?;
    let mut out = [vec![0u8; bytes], vec![0u8; bytes], vec![0u8; bytes]];
    let mut n = 0u64;
    for (&fd, &r) in fds.iter().zip(&ready) {
        let hits = [
            is_set(&bits[0], fd) && r & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR) != 0,
            is_set(&bits[1], fd) && r & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR) != 0,
            is_set(&bits[2], fd) && r & POLLPRI != 0,
        ];
        for (set, hit) in out.iter_mut().zip(hits) {
            if hit {
                set[fd / 8] |= 1 << (fd % 8);
                n += 1;
            }
        }
    }
    for (set, addr) in out.iter().zip(sets) {
        if addr != 0 {
            task.mm.copy_out(addr, set)?;
        }
    }
    Ok(n)
}

/// Implements Linux `select(2)`. Microseconds past a second carry into
/// the seconds, as Linux's `kern_select` takes them.
fn sys_select(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timeout = match args.addr(4) {
        0 => None,
        addr => {
            let tv: Timeval = task.mm.read_obj(addr)?;
            Some(duration_from_timespec(abi::time::Timespec {
                tv_sec: tv.tv_sec.saturating_add(tv.tv_usec / 1_000_000),
                tv_nsec: (tv.tv_usec % 1_000_000) * 1000,
            })?)
        }
    };
    let (nfds, sets) = (args.i32(0), [args.addr(1), args.addr(2), args.addr(3)]);
    with_timeout_written_back(
        task,
        args.addr(4),
        timeout,
        timeval_from_duration,
        |task, deadline| do_select(task, nfds, sets, deadline),
    )
}

/// Implements Linux `pselect6(2)`; its sixth argument points to
/// `{ const sigset_t *ss; size_t ss_len; }`.
fn sys_pselect6(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timeout = read_timeout(task, args.addr(4))?;
    let mask = match args.addr(5) {
        0 => None,
        addr => {
            let [mask, size]: [u64; 2] = task.mm.read_obj(addr)?;
            read_sigmask(task, mask, size)?
        }
    };
    let (nfds, sets) = (args.i32(0), [args.addr(1), args.addr(2), args.addr(3)]);
    with_timeout_written_back(
        task,
        args.addr(4),
        timeout,
        timespec_from_duration,
        |task, deadline| with_sigmask(task, mask, |task| do_select(task, nfds, sets, deadline)),
    )
}
