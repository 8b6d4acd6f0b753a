//! Clocks and sleeping: clock_gettime(2), clock_getres(2), gettimeofday(2),
//! time(2), nanosleep(2), clock_nanosleep(2).

use std::time::{Duration, Instant};

use abi::Errno;
use abi::sysno::*;
use abi::time::{
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_TAI,
    CLOCK_THREAD_CPUTIME_ID, NSEC_PER_SEC, TIMER_ABSTIME, Timespec, Timeval, Timezone,
};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::host;
use crate::task::Task;

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
        Support::Partial,
        "every CPU-time clock reports 1 ns, where Linux gives a tick for PROF and VIRT ones",
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
        Support::Partial,
        "CLOCK_PROCESS_CPUTIME_ID sleeps are measured in wall time",
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
const CPUCLOCK_VIRT: i32 = 1;
const CPUCLOCK_WHICH_MASK: i32 = 3;
const CPUCLOCK_PERTHREAD_MASK: i32 = 4;
const CPUCLOCK_MAX: i32 = 3;

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
                let group = task.kernel.tree.group(pid).ok_or(Errno::EINVAL)?;
                group.cpu_times()
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

/// Implements Linux `clock_getres(2)`; a NULL `res` only checks the clock.
fn sys_clock_getres(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let res = match cpu_clock(task, args.i32(0))? {
        Some(_) => timespec_from_duration(Duration::from_nanos(1)),
        None => host::clock_getres(clock_id(args.i32(0))?)?,
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

/// Sleeps for `duration`; on interruption writes the time left to
/// `rem_addr` (if not NULL) and fails with EINTR.
fn sleep_relative(task: &Task, duration: Duration, rem_addr: u64) -> SyscallResult {
    let start = Instant::now();
    let deadline = start
        .checked_add(duration)
        .unwrap_or(start + Duration::from_secs(1 << 40));
    match task.sleep_until(deadline) {
        Ok(()) => Ok(0),
        Err(errno) => {
            if rem_addr != 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                task.mm.write_obj(rem_addr, &timespec_from_duration(left))?;
            }
            Err(errno)
        }
    }
}

/// Implements Linux `nanosleep(2)`.
fn sys_nanosleep(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let req = read_timespec(task, args.addr(0))?;
    sleep_relative(task, req, args.addr(1))
}

/// Implements Linux `clock_nanosleep(2)`.
fn sys_clock_nanosleep(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let clock = clock_id(args.i32(0))?;
    // Clocks without an nsleep method (the thread CPU clock, the raw and
    // coarse ones) give EOPNOTSUPP, as do the alarm clocks without an RTC
    // alarm device, which the sandbox has not.
    if !matches!(
        clock,
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME | CLOCK_TAI | CLOCK_PROCESS_CPUTIME_ID
    ) {
        return Err(Errno::ENOTSUP);
    }
    let req = read_timespec(task, args.addr(2))?;
    if args.u32(1) & TIMER_ABSTIME != 0 {
        let now = host::clock_gettime(clock)?;
        let left = req.saturating_sub(duration_from_timespec(now)?);
        // An absolute sleep is never shortened into a rem value.
        return sleep_relative(task, left, 0);
    }
    sleep_relative(task, req, args.addr(3))
}
