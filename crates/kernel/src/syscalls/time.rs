//! Clocks and sleeping: clock_gettime(2), clock_getres(2), gettimeofday(2),
//! time(2), nanosleep(2), clock_nanosleep(2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abi::Errno;
use abi::sysno::*;
use abi::time::{
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_REALTIME, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, NSEC_PER_SEC, TIMER_ABSTIME, Timespec,
    Timeval, Timezone,
};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::host;
use crate::task::{Task, ThreadGroup, Wakeup};

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_CLOCK_GETTIME,
        sys_clock_gettime,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_CLOCK_GETRES,
        sys_clock_getres,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETTIMEOFDAY,
        sys_gettimeofday,
        &[Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(SYS_TIME, sys_time, &[Arg::Ptr], Support::Full, ""),
    entry(
        SYS_NANOSLEEP,
        sys_nanosleep,
        &[Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_CLOCK_NANOSLEEP,
        sys_clock_nanosleep,
        &[Arg::Int, Arg::Hex, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
];

/// A clock id from the program: one of the fixed clocks (`MAX_CLOCKS` is 16;
/// 10 was CLOCK_SGI_CYCLE and is gone). The CPU-time clocks are served by
/// [`cpu_clock`] first.
fn clock_id(raw: i32) -> Result<u32, Errno> {
    match u32::try_from(raw) {
        Ok(id @ (0..=9 | 11)) => Ok(id),
        _ => Err(Errno::EINVAL),
    }
}

// include/linux/posix-timers_types.h: a CPU clock id is
// `~pid << 3 | perthread << 2 | which`.
pub(super) const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_SCHED: i32 = 2;
pub(super) const CPUCLOCK_WHICH_MASK: i32 = 3;
pub(super) const CPUCLOCK_PERTHREAD_MASK: i32 = 4;
pub(super) const CPUCLOCK_MAX: i32 = 3;
// include/linux/posix-timers.h: negative ids ending in CLOCKFD name a
// dynamic clock by file descriptor (`/dev/ptp*`, which the sandbox has not).
const CLOCKFD: i32 = 3;
const CLOCKFD_MASK: i32 = 7;

/// The process `pid` whose CPU clock a program names: a zombie's clock
/// still reads, until it is reaped.
///
/// # Errors
/// EINVAL if there is no such process.
pub(super) fn clock_process(task: &Task, pid: i32) -> Result<Arc<ThreadGroup>, Errno> {
    let tree = &task.kernel.tree;
    tree.group(pid)
        .or_else(|| tree.zombie(pid).map(|(group, _)| group))
        .ok_or(Errno::EINVAL)
}

/// The value of a CPU-time clock, from the sentry's accounting
/// (`CpuTimes`): CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, and
/// the clocks of a process or a thread of the caller's process named by a
/// negative id (`clock_getcpuclockid(3)`). `None` for the other clocks.
fn cpu_clock(task: &Task, raw: i32) -> Result<Option<Duration>, Errno> {
    let (times, which) = match u32::try_from(raw) {
        Ok(CLOCK_PROCESS_CPUTIME_ID) => (task.process_cpu_times(), 0),
        Ok(CLOCK_THREAD_CPUTIME_ID) => (task.thread_cpu_times(), 0),
        Ok(_) => return Ok(None),
        Err(_) => {
            let which = raw & CPUCLOCK_WHICH_MASK;
            if which == CPUCLOCK_MAX {
                return Err(Errno::EINVAL);
            }
            let pid = !(raw >> 3);
            let times = if raw & CPUCLOCK_PERTHREAD_MASK != 0 {
                if pid == 0 || pid == task.tid {
                    task.thread_cpu_times()
                } else {
                    let thread = task.thread_group.thread(pid).ok_or(Errno::EINVAL)?;
                    task.refresh_system_time();
                    thread.cpu_times()
                }
            } else if pid == 0 || pid == task.thread_group.pid {
                task.process_cpu_times()
            } else {
                clock_process(task, pid)?.cpu_times()
            };
            (times, which)
        }
    };
    Ok(Some(if which == CPUCLOCK_VIRT {
        times.user
    } else {
        times.total()
    }))
}

/// Implements Linux `clock_gettime(2)`.
fn sys_clock_gettime(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let now = match cpu_clock(task, args.i32(0))? {
        Some(time) => timespec_from_duration(time),
        None => host::clock_gettime(clock_id(args.i32(0))?)?,
    };
    task.mm.write_obj(args.addr(1), &now)?;
    Ok(0)
}

/// The resolution Linux gives the PROF and VIRT CPU clocks,
/// `(NSEC_PER_SEC + HZ - 1) / HZ`, with the host's HZ found from the
/// resolution of its coarse clocks (a tick).
fn cpu_tick() -> Result<Duration, Errno> {
    const NSEC: u64 = 1_000_000_000;
    let coarse = host::clock_getres(CLOCK_MONOTONIC_COARSE)?;
    let tick = u64::try_from(coarse.tv_nsec).unwrap_or(0).clamp(1, NSEC);
    let hz = (NSEC + tick / 2) / tick;
    Ok(Duration::from_nanos(NSEC.div_ceil(hz)))
}

/// Implements Linux `clock_getres(2)`; a NULL `res` only checks the clock.
/// The scheduler CPU clocks are exact (1 ns); PROF and VIRT ones tick.
fn sys_clock_getres(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let raw = args.i32(0);
    let res = match cpu_clock(task, raw)? {
        Some(_) if raw < 0 && raw & CPUCLOCK_WHICH_MASK != CPUCLOCK_SCHED => {
            timespec_from_duration(cpu_tick()?)
        }
        Some(_) => timespec_from_duration(Duration::from_nanos(1)),
        None => host::clock_getres(clock_id(raw)?)?,
    };
    if args.addr(1) != 0 {
        task.mm.write_obj(args.addr(1), &res)?;
    }
    Ok(0)
}

/// Implements Linux `gettimeofday(2)`. The time zone is always UTC, as the
/// kernel's `sys_tz` is unless someone sets it.
fn sys_gettimeofday(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(0) != 0 {
        let now = host::clock_gettime(CLOCK_REALTIME)?;
        let tv = Timeval {
            tv_sec: now.tv_sec,
            tv_usec: now.tv_nsec / 1000,
        };
        task.mm.write_obj(args.addr(0), &tv)?;
    }
    if args.addr(1) != 0 {
        task.mm.write_obj(args.addr(1), &Timezone::default())?;
    }
    Ok(0)
}

/// Implements Linux `time(2)`.
fn sys_time(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let now = host::clock_gettime(CLOCK_REALTIME)?.tv_sec;
    if args.addr(0) != 0 {
        task.mm.write_obj(args.addr(0), &now)?;
    }
    Ok(now.cast_unsigned())
}

/// A `timespec` as a duration, checked as `timespec64_valid` does:
/// EINVAL for a negative time or nanoseconds out of range.
pub(super) fn duration_from_timespec(ts: Timespec) -> Result<Duration, Errno> {
    if ts.tv_sec < 0 || !(0..NSEC_PER_SEC).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(
        ts.tv_sec.cast_unsigned(),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    ))
}

/// A duration as a `timespec`.
pub(super) fn timespec_from_duration(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

/// A `timeval` as a duration: EINVAL for a negative time or microseconds
/// out of range.
pub(super) fn duration_from_timeval(tv: Timeval) -> Result<Duration, Errno> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(
        tv.tv_sec.cast_unsigned(),
        u32::try_from(tv.tv_usec * 1000).unwrap_or(0),
    ))
}

/// A duration as a `timeval`.
pub(super) fn timeval_from_duration(d: Duration) -> Timeval {
    Timeval {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_usec: i64::from(d.subsec_micros()),
    }
}

/// Reads a `timespec` the program passed, as a checked duration.
pub(super) fn read_timespec(task: &Task, addr: u64) -> Result<Duration, Errno> {
    duration_from_timespec(task.mm.read_obj(addr)?)
}

/// Where a sleep ends: an instant, or a reading of a CPU-time clock.
#[derive(Clone, Copy, Debug)]
enum SleepEnd {
    At(Instant),
    /// A CPU-time clock's id (see [`cpu_clock`]) and the reading to wait for.
    Cpu(i32, Duration),
}

/// How often a sleep on a CPU-time clock reads the clock again: it
/// advances while other threads run, and nothing wakes the sleeper when it
/// passes a reading.
const CPU_SLEEP_RECHECK: Duration = Duration::from_millis(5);

impl SleepEnd {
    /// The time left; zero once the end has passed, or once the process or
    /// thread whose clock it is has gone.
    fn left(self, task: &Task) -> Duration {
        match self {
            SleepEnd::At(at) => at.saturating_duration_since(Instant::now()),
            SleepEnd::Cpu(clock, at) => match cpu_clock(task, clock) {
                Ok(Some(now)) => at.saturating_sub(now),
                _ => Duration::ZERO,
            },
        }
    }
}

/// Sleeps until `end`; `false` if a signal (or a kill) interrupted first.
fn sleep_to(task: &Task, end: SleepEnd) -> bool {
    task.prepare_to_block();
    loop {
        let left = end.left(task);
        if left.is_zero() {
            return true;
        }
        let wake = match end {
            SleepEnd::At(at) => at,
            SleepEnd::Cpu(..) => Instant::now() + left.min(CPU_SLEEP_RECHECK),
        };
        match task.block(Some(wake)) {
            Wakeup::Killed | Wakeup::Interrupted => return false,
            // Nobody wakes a sleeper on purpose; a stray wake-up changes nothing.
            Wakeup::Woken => task.prepare_to_block(),
            Wakeup::TimedOut => {}
        }
    }
}

/// A relative sleep (nanosleep, clock_nanosleep without TIMER_ABSTIME)
/// until `end`. Interrupted, it writes the time left to `rem_addr` (unless
/// NULL) and leaves the rest to `restart_syscall(2)`, as Linux's
/// `hrtimer_nanosleep_restart` does: a stop or a signal without a handler
/// does not start the sleep over; a handler gets EINTR.
fn sleep_relative(task: &mut Task, end: SleepEnd, rem_addr: u64) -> SyscallResult {
    if sleep_to(task, end) {
        return Ok(0);
    }
    let left = end.left(task);
    if left.is_zero() {
        return Ok(0);
    }
    if rem_addr != 0 {
        task.mm.write_obj(rem_addr, &timespec_from_duration(left))?;
    }
    Err(task.set_restart_block(move |task| sleep_relative(task, end, rem_addr)))
}

/// The instant `duration` from now (far in the future if that overflows).
pub(super) fn instant_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or(now + Duration::from_secs(1 << 40))
}

/// Implements Linux `nanosleep(2)`.
fn sys_nanosleep(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let req = read_timespec(task, args.addr(0))?;
    sleep_relative(task, SleepEnd::At(instant_after(req)), args.addr(1))
}

/// Implements Linux `clock_nanosleep(2)`. A sleep on a CPU-time clock
/// (the process's, or any process's or another thread's from
/// `clock_getcpuclockid(3)`) lasts until that clock reaches the time, read
/// every few milliseconds. An absolute sleep that a signal without a
/// handler interrupts restarts as it was called.
fn sys_clock_nanosleep(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let raw = args.i32(0);
    let cpu = raw < 0 || u32::try_from(raw) == Ok(CLOCK_PROCESS_CPUTIME_ID);
    if raw < 0 && raw & CLOCKFD_MASK == CLOCKFD {
        // A dynamic clock has no nsleep method.
        return Err(Errno::ENOTSUP);
    }
    if !cpu {
        // Clocks without an nsleep method (the thread CPU clock, the raw
        // and coarse ones) give EOPNOTSUPP, as do the alarm clocks without
        // an RTC alarm device, which the sandbox has not.
        let clock = clock_id(raw)?;
        if !matches!(
            clock,
            CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI
        ) {
            return Err(Errno::ENOTSUP);
        }
    }
    let req = read_timespec(task, args.addr(2))?;
    let absolute = args.u32(1) & TIMER_ABSTIME != 0;
    let end = if cpu {
        // A thread cannot sleep on its own clock, which stops while it sleeps.
        let pid = !(raw >> 3);
        if raw < 0 && raw & CPUCLOCK_PERTHREAD_MASK != 0 && (pid == 0 || pid == task.tid) {
            return Err(Errno::EINVAL);
        }
        let now = cpu_clock(task, raw)?.unwrap_or_default();
        SleepEnd::Cpu(
            raw,
            if absolute {
                req
            } else {
                now.saturating_add(req)
            },
        )
    } else if absolute {
        let now = duration_from_timespec(host::clock_gettime(clock_id(raw)?)?)?;
        SleepEnd::At(instant_after(req.saturating_sub(now)))
    } else {
        SleepEnd::At(instant_after(req))
    };
    if !absolute {
        return sleep_relative(task, end, args.addr(3));
    }
    // An absolute sleep leaves rem alone, and restarts as it was called.
    if sleep_to(task, end) {
        Ok(0)
    } else {
        Err(Errno::ERESTARTNOHAND)
    }
}
