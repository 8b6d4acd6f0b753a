//! Interval timers: alarm(2), setitimer(2), getitimer(2), and the POSIX
//! timers timer_create(2), timer_settime(2), timer_gettime(2),
//! timer_getoverrun(2), timer_delete(2).

use std::sync::Arc;
use std::time::Duration;

use abi::Errno;
use abi::signal::{SIGALRM, SIGRTMAX};
use abi::sysno::*;
use abi::time::{
    CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_PROCESS_CPUTIME_ID,
    CLOCK_REALTIME, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, Timespec, Timeval,
};

use super::table::{Arg, Entry, Support, entry};
use super::time::{
    CPUCLOCK_MAX, CPUCLOCK_PERTHREAD_MASK, CPUCLOCK_VIRT, CPUCLOCK_WHICH_MASK, clock_process,
    duration_from_timespec, duration_from_timeval, timespec_from_duration, timeval_from_duration,
};
use super::{SyscallArgs, SyscallResult};
use crate::host;
use crate::signal::Charge;
use crate::task::{CpuTimes, PosixTimer, Task, TaskHandle, ThreadGroup, lock};
use crate::timer::{CpuClock, ITIMER_KEYS, TimerSetting, TimerTarget};

const ITIMER_REAL: u32 = 0;
const ITIMER_VIRTUAL: u32 = 1;
const ITIMER_PROF: u32 = 2;
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD_ID: i32 = 4;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(SYS_ALARM, sys_alarm, &[Arg::Int], Support::Full, ""),
    entry(
        SYS_SETITIMER,
        sys_setitimer,
        &[Arg::Int, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETITIMER,
        sys_getitimer,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_TIMER_CREATE,
        sys_timer_create,
        &[Arg::Int, Arg::Ptr, Arg::Ptr],
        Support::Partial,
        "REALTIME, MONOTONIC, BOOTTIME and the CPU clocks of any process and of the \
         caller's threads; SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD_ID",
    ),
    entry(
        SYS_TIMER_SETTIME,
        sys_timer_settime,
        &[Arg::Int, Arg::Hex, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_TIMER_GETTIME,
        sys_timer_gettime,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_TIMER_GETOVERRUN,
        sys_timer_getoverrun,
        &[Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_TIMER_DELETE,
        sys_timer_delete,
        &[Arg::Int],
        Support::Full,
        "",
    ),
];

/// `struct itimerval`.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
struct Itimerval {
    it_interval: Timeval,
    it_value: Timeval,
}

/// `struct itimerspec`.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
struct Itimerspec {
    it_interval: Timespec,
    it_value: Timespec,
}

/// The process's ITIMER_REAL timer, created on first use.
fn itimer_real(task: &Task) -> u64 {
    let mut slot = lock(&task.thread_group.itimer_real);
    *slot.get_or_insert_with(|| {
        task.kernel.timers.create(
            TimerTarget::Process(Arc::downgrade(&task.thread_group)),
            SIGALRM,
            None,
        )
    })
}

/// Implements Linux `alarm(2)`: returns the seconds left of the previous
/// alarm, rounded to the nearest second (at least 1 if any was left).
fn sys_alarm(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let id = itimer_real(task);
    let old = task
        .kernel
        .timers
        .set(
            id,
            Duration::from_secs(u64::from(args.u32(0))),
            Duration::ZERO,
        )
        .unwrap_or_default();
    let mut secs = old.remaining.as_secs();
    if old.remaining.subsec_micros() >= 500_000 || (secs == 0 && !old.remaining.is_zero()) {
        secs += 1;
    }
    Ok(secs)
}

/// Which interval timer `which` names: ITIMER_REAL, or a CPU-time timer
/// (0: ITIMER_VIRTUAL, 1: ITIMER_PROF).
enum Itimer {
    Real,
    Cpu(usize),
}

fn itimer_which(which: u32) -> Result<Itimer, Errno> {
    match which {
        ITIMER_REAL => Ok(Itimer::Real),
        w => [ITIMER_VIRTUAL, ITIMER_PROF]
            .iter()
            .position(|&c| c == w)
            .map(Itimer::Cpu)
            .ok_or(Errno::EINVAL),
    }
}

fn write_itimerval(task: &Task, addr: u64, setting: TimerSetting) -> Result<(), Errno> {
    let value = Itimerval {
        it_interval: timeval_from_duration(setting.interval),
        it_value: timeval_from_duration(setting.remaining),
    };
    task.mm.write_obj(addr, &value)
}

/// Implements Linux `setitimer(2)`; a NULL new value disarms. The
/// CPU-time timers count the CPU time the sentry accounts (`CpuTimes`).
fn sys_setitimer(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let which = itimer_which(args.u32(0))?;
    let new = match args.addr(1) {
        0 => Itimerval::default(),
        addr => task.mm.read_obj(addr)?,
    };
    let (value, interval) = (
        duration_from_timeval(new.it_value)?,
        duration_from_timeval(new.it_interval)?,
    );
    let old = match which {
        Itimer::Real => {
            let id = itimer_real(task);
            task.kernel
                .timers
                .set(id, value, interval)
                .unwrap_or_default()
        }
        Itimer::Cpu(index) => {
            // Linux's set_cpu_itimer adds a tick to the first expiry; the
            // coarse clock's resolution is the host's tick.
            let tick = duration_from_timespec(host::clock_getres(CLOCK_MONOTONIC_COARSE)?)?;
            let value = if value.is_zero() {
                value
            } else {
                value.saturating_add(tick)
            };
            let now = task.process_cpu_times();
            let group = Arc::downgrade(&task.thread_group);
            let old = lock(&task.thread_group.cpu_timers)
                .set(ITIMER_KEYS[index], &group, now, value, interval)
                .unwrap_or_default();
            task.thread_group.check_cpu_timers(&task.kernel.timers, now);
            old
        }
    };
    if args.addr(2) != 0 {
        write_itimerval(task, args.addr(2), old)?;
    }
    Ok(0)
}

/// Implements Linux `getitimer(2)`.
fn sys_getitimer(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let setting = match itimer_which(args.u32(0))? {
        Itimer::Real => {
            let id = itimer_real(task);
            task.kernel.timers.get(id).unwrap_or_default()
        }
        Itimer::Cpu(index) => {
            let now = task.process_cpu_times();
            let group = Arc::downgrade(&task.thread_group);
            lock(&task.thread_group.cpu_timers)
                .get(ITIMER_KEYS[index], &group, now)
                .unwrap_or_default()
        }
    };
    write_itimerval(task, args.addr(1), setting)?;
    Ok(0)
}

/// `struct sigevent`: value, signo, notify, then the union (a thread id
/// for SIGEV_THREAD_ID) padded to 64 bytes.
#[repr(C)]
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    zerocopy::FromBytes,
    zerocopy::IntoBytes,
    zerocopy::Immutable,
    zerocopy::KnownLayout,
)]
struct SigEvent {
    value: u64,
    signo: i32,
    notify: i32,
    tid: i32,
    _pad: [i32; 11],
}
const _: () = assert!(size_of::<SigEvent>() == 64);

/// Implements Linux `timer_create(2)`. A timer on a CPU clock counts the
/// CPU time the sentry accounts (`CpuTimes`); one on another process's
/// clock lives with that process's CPU timers and signals the caller.
fn sys_timer_create(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let cpu_clock = cpu_timer_clock(task, args.i32(0))?;
    let clock = match &cpu_clock {
        Some((CpuClock::Thread(_), _)) => CLOCK_THREAD_CPUTIME_ID,
        Some(_) => CLOCK_PROCESS_CPUTIME_ID,
        None => match args.u32(0) {
            clock @ (CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_BOOTTIME) => clock,
            _ => return Err(Errno::EINVAL),
        },
    };
    let event = match args.addr(1) {
        0 => SigEvent {
            signo: SIGALRM.cast_signed(),
            notify: SIGEV_SIGNAL,
            ..SigEvent::default()
        },
        addr => task.mm.read_obj(addr)?,
    };
    // The timer's signal has its place in the user's count from now on.
    let limit = task
        .thread_group
        .limit(abi::resource::RLIMIT_SIGPENDING)
        .rlim_cur;
    let reserved = Charge::reserve(&task.thread_group.signal_user(), limit).ok_or(Errno::EAGAIN)?;
    let reserved = Arc::new(reserved);
    let signo = u32::try_from(event.signo).unwrap_or(0);
    let group = Arc::downgrade(&task.thread_group);
    let target = match event.notify {
        SIGEV_NONE => TimerTarget::None,
        SIGEV_SIGNAL if (1..=SIGRTMAX).contains(&signo) => TimerTarget::Process(group),
        SIGEV_THREAD_ID if (1..=SIGRTMAX).contains(&signo) => {
            let thread = task.thread_group.thread(event.tid).ok_or(Errno::EINVAL)?;
            TimerTarget::Thread(group, Arc::downgrade(&thread))
        }
        _ => return Err(Errno::EINVAL),
    };
    let (timer_id, timer) = {
        let mut timers = lock(&task.thread_group.posix_timers);
        let timer_id = (0..).find(|n| !timers.contains_key(n)).unwrap_or(0);
        // Without a sigevent, the value is the timer's id.
        let value = match args.addr(1) {
            0 => u64::from(timer_id.cast_unsigned()),
            _ => event.value,
        };
        let posix = (timer_id, value);
        let timer = match cpu_clock {
            Some((cpu_clock, holder)) => PosixTimer {
                id: lock(&holder.cpu_timers).create(cpu_clock, target, signo, posix),
                clock,
                cpu: Some(Arc::downgrade(&holder)),
                reserved,
            },
            None => PosixTimer {
                id: task.kernel.timers.create(target, signo, Some(posix)),
                clock,
                cpu: None,
                reserved,
            },
        };
        timers.insert(timer_id, timer.clone());
        (timer_id, timer)
    };
    if let Err(errno) = task.mm.write_obj(args.addr(2), &timer_id) {
        lock(&task.thread_group.posix_timers).remove(&timer_id);
        timer.delete(&task.kernel.timers);
        return Err(errno);
    }
    Ok(0)
}

/// The CPU clock a timer on clock id `raw` counts and the process whose
/// CPU timers hold it, or `None` for the other clocks:
/// CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID, or the clocks
/// `clock_getcpuclockid(3)` and `pthread_getcpuclockid(3)` name
/// (`~pid << 3 | perthread << 2 | which`, pid 0 for "mine"): any
/// process's (a zombie's too), or a thread's of the caller's process.
///
/// # Errors
/// EINVAL for a clock of no such process or thread, or a bad `which`.
fn cpu_timer_clock(task: &Task, raw: i32) -> Result<Option<(CpuClock, Arc<ThreadGroup>)>, Errno> {
    let own = Arc::clone(&task.thread_group);
    let thread = |handle: Arc<TaskHandle>| CpuClock::Thread(Arc::downgrade(&handle));
    match u32::try_from(raw) {
        Ok(CLOCK_PROCESS_CPUTIME_ID) => Ok(Some((CpuClock::Process, own))),
        Ok(CLOCK_THREAD_CPUTIME_ID) => Ok(Some((thread(task.handle()), own))),
        Ok(_) => Ok(None),
        Err(_) => {
            let (which, pid) = (raw & CPUCLOCK_WHICH_MASK, !(raw >> 3));
            if which == CPUCLOCK_MAX {
                return Err(Errno::EINVAL);
            }
            if raw & CPUCLOCK_PERTHREAD_MASK != 0 {
                // Thread timers count the thread's whole CPU time.
                let handle = if pid == 0 || pid == task.tid {
                    task.handle()
                } else {
                    own.thread(pid).ok_or(Errno::EINVAL)?
                };
                return Ok(Some((thread(handle), own)));
            }
            let holder = if pid == 0 || pid == own.pid {
                own
            } else {
                clock_process(task, pid)?
            };
            let clock = if which == CPUCLOCK_VIRT {
                CpuClock::ProcessUser
            } else {
                CpuClock::Process
            };
            Ok(Some((clock, holder)))
        }
    }
}

/// The process's POSIX timer `timer_id`.
fn posix_timer(task: &Task, timer_id: i32) -> Result<PosixTimer, Errno> {
    lock(&task.thread_group.posix_timers)
        .get(&timer_id)
        .cloned()
        .ok_or(Errno::EINVAL)
}

/// The process holding the CPU timer `holder` names, and its CPU time
/// now (up to date for the caller's own process).
fn cpu_holder(
    task: &Task,
    holder: &std::sync::Weak<ThreadGroup>,
) -> Result<(Arc<ThreadGroup>, CpuTimes), Errno> {
    let group = holder.upgrade().ok_or(Errno::EINVAL)?;
    let now = if Arc::ptr_eq(&group, &task.thread_group) {
        task.process_cpu_times()
    } else {
        group.cpu_times()
    };
    Ok((group, now))
}

fn write_itimerspec(task: &Task, addr: u64, setting: TimerSetting) -> Result<(), Errno> {
    let value = Itimerspec {
        it_interval: timespec_from_duration(setting.interval),
        it_value: timespec_from_duration(setting.remaining),
    };
    task.mm.write_obj(addr, &value)
}

/// Implements Linux `timer_settime(2)`. A signal of the timer still
/// pending is dropped. Linux (since 6.13) drops it when it would be taken,
/// so until then its bit still shows in `sigpending`; here it goes at once.
fn sys_timer_settime(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timer = posix_timer(task, args.i32(0))?;
    let flags = args.u32(1);
    if flags & !TIMER_ABSTIME != 0 {
        return Err(Errno::EINVAL);
    }
    let new: Itimerspec = task.mm.read_obj(args.addr(2))?;
    let (mut value, interval) = (
        duration_from_timespec(new.it_value)?,
        duration_from_timespec(new.it_interval)?,
    );
    task.thread_group.discard_timer_signal(args.i32(0));
    let id = timer.id;
    let old = if let Some(holder) = &timer.cpu {
        let (holder, now) = cpu_holder(task, holder)?;
        let mut cpu = lock(&holder.cpu_timers);
        if flags & TIMER_ABSTIME != 0 && !value.is_zero() {
            let clock_now = cpu.clock_now(id, now).unwrap_or_default();
            // An absolute time already past fires at once.
            value = value.saturating_sub(clock_now).max(Duration::from_nanos(1));
        }
        let old = cpu.set(id, &Arc::downgrade(&holder), now, value, interval);
        drop(cpu);
        holder.check_cpu_timers(&task.kernel.timers, now);
        old
    } else {
        if flags & TIMER_ABSTIME != 0 && !value.is_zero() {
            let now = duration_from_timespec(host::clock_gettime(timer.clock)?)?;
            // An absolute time already past fires at once.
            value = value.saturating_sub(now).max(Duration::from_nanos(1));
        }
        task.kernel.timers.set(id, value, interval)
    }
    .ok_or(Errno::EINVAL)?;
    if args.addr(3) != 0 {
        write_itimerspec(task, args.addr(3), old)?;
    }
    Ok(0)
}

/// Implements Linux `timer_gettime(2)`.
fn sys_timer_gettime(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timer = posix_timer(task, args.i32(0))?;
    let setting = if let Some(holder) = &timer.cpu {
        let (holder, now) = cpu_holder(task, holder)?;
        lock(&holder.cpu_timers).get(timer.id, &Arc::downgrade(&holder), now)
    } else {
        task.kernel.timers.get(timer.id)
    }
    .ok_or(Errno::EINVAL)?;
    write_itimerspec(task, args.addr(1), setting)?;
    Ok(0)
}

/// Implements Linux `timer_getoverrun(2)`.
fn sys_timer_getoverrun(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timer = posix_timer(task, args.i32(0))?;
    let overrun = if let Some(holder) = &timer.cpu {
        let (holder, _) = cpu_holder(task, holder)?;
        lock(&holder.cpu_timers).overrun(timer.id)
    } else {
        task.kernel.timers.overrun(timer.id)
    }
    .ok_or(Errno::EINVAL)?;
    Ok(overrun.min(i32::MAX as u64))
}

/// Implements Linux `timer_delete(2)`; a signal of the timer still pending
/// is dropped.
fn sys_timer_delete(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let timer = lock(&task.thread_group.posix_timers)
        .remove(&args.i32(0))
        .ok_or(Errno::EINVAL)?;
    task.thread_group.discard_timer_signal(args.i32(0));
    timer.delete(&task.kernel.timers);
    Ok(0)
}
