//! Scheduling parameters and process accounting: sched_getscheduler(2),
//! sched_setscheduler(2), sched_getparam(2), sched_setparam(2),
//! sched_get_priority_max(2), sched_get_priority_min(2),
//! getpriority(2), setpriority(2), getrusage(2), times(2), prctl(2) and
//! membarrier(2).
//!
//! The sentry schedules nothing itself (host threads run tasks), so
//! scheduling parameters are checked, recorded and reported, as the
//! processes issue asks; they do not change how the host runs the threads.

use abi::Errno;
use abi::resource::Rusage;
use abi::sched::{SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RR};
use abi::sysno::*;
use abi::time::{Timeval, Tms};

use super::table::{Arg, Entry, Support, entry};
use super::time::timeval_from_duration;
use super::{SyscallArgs, SyscallResult};
use crate::host;
use crate::task::Task;

// include/uapi/linux/resource.h
const PRIO_PROCESS: u32 = 0;
const PRIO_PGRP: u32 = 1;
const PRIO_USER: u32 = 2;
// include/uapi/linux/prctl.h
const PR_SET_PDEATHSIG: u32 = 1;
const PR_GET_PDEATHSIG: u32 = 2;
const PR_GET_DUMPABLE: u32 = 3;
const PR_SET_DUMPABLE: u32 = 4;
const PR_SET_NAME: u32 = 15;
const PR_GET_NAME: u32 = 16;
const PR_SET_CHILD_SUBREAPER: u32 = 36;
const PR_GET_CHILD_SUBREAPER: u32 = 37;
const PR_SET_NO_NEW_PRIVS: u32 = 38;
const PR_GET_NO_NEW_PRIVS: u32 = 39;
/// `TASK_COMM_LEN`.
const TASK_COMM_LEN: usize = 16;
// include/uapi/linux/membarrier.h
const MEMBARRIER_CMD_QUERY: u32 = 0;
/// Clock ticks per second for `times(2)` (`USER_HZ`).
const USER_HZ: i64 = 100;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_SCHED_GETSCHEDULER,
        sys_sched_getscheduler,
        &[Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_SCHED_SETSCHEDULER,
        sys_sched_setscheduler,
        &[Arg::Int, Arg::Int, Arg::Ptr],
        Support::Partial,
        "policies and priorities are checked and reported, not applied to host threads",
    ),
    entry(
        SYS_SCHED_GETPARAM,
        sys_sched_getparam,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_SCHED_SETPARAM,
        sys_sched_setparam,
        &[Arg::Int, Arg::Ptr],
        Support::Partial,
        "as sched_setscheduler",
    ),
    entry(
        SYS_SCHED_GET_PRIORITY_MAX,
        sys_sched_get_priority_max,
        &[Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_SCHED_GET_PRIORITY_MIN,
        sys_sched_get_priority_min,
        &[Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETPRIORITY,
        sys_getpriority,
        &[Arg::Int, Arg::Int],
        Support::Partial,
        "as sched_setscheduler",
    ),
    entry(
        SYS_SETPRIORITY,
        sys_setpriority,
        &[Arg::Int, Arg::Int, Arg::Int],
        Support::Partial,
        "as sched_setscheduler",
    ),
    entry(
        SYS_GETRUSAGE,
        sys_getrusage,
        &[Arg::Int, Arg::Ptr],
        Support::Partial,
        "times are the sentry thread's CPU time; fault and context-switch counts are zero",
    ),
    entry(
        SYS_TIMES,
        sys_times,
        &[Arg::Ptr],
        Support::Partial,
        "as getrusage",
    ),
    entry(
        SYS_PRCTL,
        sys_prctl,
        &[Arg::Int, Arg::Hex, Arg::Hex, Arg::Hex, Arg::Hex],
        Support::Partial,
        "PR_SET/GET_NAME, PDEATHSIG, DUMPABLE, CHILD_SUBREAPER and NO_NEW_PRIVS; others EINVAL",
    ),
    entry(
        SYS_MEMBARRIER,
        sys_membarrier,
        &[Arg::Int, Arg::Hex, Arg::Int],
        Support::Partial,
        "only MEMBARRIER_CMD_QUERY, which reports no command: forcing a barrier on every \
         running thread of the process is not implemented yet",
    ),
];

/// Checks that `pid` names the caller (0 or its own tid/pid); ESRCH else,
/// EINVAL if negative.
fn own_pid(task: &Task, pid: i32) -> Result<(), Errno> {
    match pid {
        p if p < 0 => Err(Errno::EINVAL),
        0 => Ok(()),
        p if p == task.tid || p == task.thread_group.pid => Ok(()),
        p if task.kernel.tree.group_of_thread(p).is_some() => Ok(()),
        _ => Err(Errno::ESRCH),
    }
}

fn priority_range(policy: u32) -> Result<(u32, u32), Errno> {
    match policy {
        SCHED_FIFO | SCHED_RR => Ok((1, 99)),
        SCHED_NORMAL | SCHED_BATCH | SCHED_IDLE => Ok((0, 0)),
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `sched_getscheduler(2)`.
fn sys_sched_getscheduler(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    own_pid(task, args.i32(0))?;
    Ok(u64::from(task.sched_policy.0))
}

/// Implements Linux `sched_setscheduler(2)`.
fn sys_sched_setscheduler(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    own_pid(task, args.i32(0))?;
    // SCHED_RESET_ON_FORK may be or'ed in.
    let policy = args.u32(1) & !0x4000_0000;
    if args.addr(2) == 0 {
        return Err(Errno::EINVAL);
    }
    let prio: i32 = task.mm.read_obj(args.addr(2))?;
    let (min, max) = priority_range(policy)?;
    let prio = u32::try_from(prio).map_err(|_| Errno::EINVAL)?;
    if prio < min || prio > max {
        return Err(Errno::EINVAL);
    }
    if max > 0 && task.creds.euid != 0 {
        return Err(Errno::EPERM);
    }
    task.sched_policy = (policy, prio);
    Ok(0)
}

/// Implements Linux `sched_getparam(2)`.
fn sys_sched_getparam(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(1) == 0 {
        return Err(Errno::EINVAL);
    }
    own_pid(task, args.i32(0))?;
    let prio = i32::try_from(task.sched_policy.1).unwrap_or(0);
    task.mm.write_obj(args.addr(1), &prio)?;
    Ok(0)
}

/// Implements Linux `sched_setparam(2)`.
fn sys_sched_setparam(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(1) == 0 {
        return Err(Errno::EINVAL);
    }
    own_pid(task, args.i32(0))?;
    let prio: i32 = task.mm.read_obj(args.addr(1))?;
    let (min, max) = priority_range(task.sched_policy.0)?;
    let prio = u32::try_from(prio).map_err(|_| Errno::EINVAL)?;
    if prio < min || prio > max {
        return Err(Errno::EINVAL);
    }
    task.sched_policy.1 = prio;
    Ok(0)
}

/// Implements Linux `sched_get_priority_max(2)`.
fn sys_sched_get_priority_max(_: &mut Task, args: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(priority_range(args.u32(0))?.1))
}

/// Implements Linux `sched_get_priority_min(2)`.
fn sys_sched_get_priority_min(_: &mut Task, args: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(priority_range(args.u32(0))?.0))
}

/// The target of get/setpriority: only the caller's own process is known
/// by nice value; other existing targets report the default.
fn priority_target(task: &Task, which: u32, who: i32) -> Result<bool, Errno> {
    match which {
        PRIO_PROCESS => {
            own_pid(task, who).map_err(|_| Errno::ESRCH)?;
            Ok(true)
        }
        PRIO_PGRP | PRIO_USER => Ok(false),
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `getpriority(2)`: returns 20 - nice, as the raw
/// syscall does.
fn sys_getpriority(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let own = priority_target(task, args.u32(0), args.i32(1))?;
    let nice = if own { task.nice } else { 0 };
    Ok(u64::try_from(20 - nice).unwrap_or(20))
}

/// Implements Linux `setpriority(2)`: nice values are clamped to -20..=19;
/// lowering them needs root.
fn sys_setpriority(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let own = priority_target(task, args.u32(0), args.i32(1))?;
    let nice = args.i32(2).clamp(-20, 19);
    if own {
        if nice < task.nice && task.creds.euid != 0 {
            return Err(Errno::EACCES);
        }
        task.nice = nice;
    }
    Ok(0)
}

fn timeval(micros: u64) -> Timeval {
    timeval_from_duration(std::time::Duration::from_micros(micros))
}

/// Implements Linux `getrusage(2)`.
fn sys_getrusage(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let who = args.i32(0);
    let usage = match who {
        abi::resource::RUSAGE_SELF | abi::resource::RUSAGE_THREAD => {
            let (user, system) = host::thread_cpu_micros();
            Rusage {
                ru_utime: timeval(user),
                ru_stime: timeval(system),
                ..Rusage::default()
            }
        }
        abi::resource::RUSAGE_CHILDREN => Rusage::default(),
        _ => return Err(Errno::EINVAL),
    };
    task.mm.write_obj(args.addr(1), &usage)?;
    Ok(0)
}

/// Implements Linux `times(2)`: returns clock ticks since an arbitrary
/// point (the sandbox's start).
fn sys_times(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(0) != 0 {
        let (user, system) = host::thread_cpu_micros();
        let ticks = |us: u64| i64::try_from(us).unwrap_or(i64::MAX) * USER_HZ / 1_000_000;
        let tms = Tms {
            tms_utime: ticks(user),
            tms_stime: ticks(system),
            tms_cutime: 0,
            tms_cstime: 0,
        };
        task.mm.write_obj(args.addr(0), &tms)?;
    }
    let elapsed = task.kernel.boot_time.elapsed();
    Ok(u64::try_from(elapsed.as_millis() / 10).unwrap_or(u64::MAX))
}

/// Implements Linux `prctl(2)` for the options listed in the table.
fn sys_prctl(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let arg2 = args.u64(1);
    match args.u32(0) {
        PR_SET_NAME => {
            let mut name = [0u8; TASK_COMM_LEN];
            let got = task
                .mm
                .copy_in_partial(arg2, &mut name[..TASK_COMM_LEN - 1]);
            if got == 0 {
                return Err(Errno::EFAULT);
            }
            let end = name
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(TASK_COMM_LEN - 1);
            task.comm = name[..end].to_vec();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut name = [0u8; TASK_COMM_LEN];
            let comm = task.comm_name();
            let len = comm.len().min(TASK_COMM_LEN - 1);
            name[..len].copy_from_slice(&comm[..len]);
            task.mm.copy_out(arg2, &name)?;
            Ok(0)
        }
        PR_SET_PDEATHSIG => {
            if arg2 > u64::from(abi::signal::SIGRTMAX) {
                return Err(Errno::EINVAL);
            }
            task.pdeath_signal = u32::try_from(arg2).map_err(|_| Errno::EINVAL)?;
            task.kernel
                .tree
                .set_pdeath_signal(task.thread_group.pid, task.pdeath_signal);
            Ok(0)
        }
        PR_GET_PDEATHSIG => {
            task.mm.write_obj(arg2, &task.pdeath_signal.cast_signed())?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(u64::from(task.dumpable)),
        PR_SET_DUMPABLE => match arg2 {
            0 | 1 => {
                task.dumpable = arg2 == 1;
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        },
        PR_SET_CHILD_SUBREAPER => {
            task.kernel
                .tree
                .set_subreaper(task.thread_group.pid, arg2 != 0);
            Ok(0)
        }
        PR_GET_CHILD_SUBREAPER => {
            let value = i32::from(task.kernel.tree.is_subreaper(task.thread_group.pid));
            task.mm.write_obj(arg2, &value)?;
            Ok(0)
        }
        PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || args.u64(2) != 0 || args.u64(3) != 0 || args.u64(4) != 0 {
                return Err(Errno::EINVAL);
            }
            task.no_new_privs = true;
            Ok(0)
        }
        PR_GET_NO_NEW_PRIVS => Ok(u64::from(task.no_new_privs)),
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `membarrier(2)`: the query says no command is served,
/// which callers (RCU libraries, runtimes) check before relying on one.
fn sys_membarrier(_: &mut Task, args: &SyscallArgs) -> SyscallResult {
    match (args.u32(0), args.u32(1)) {
        (MEMBARRIER_CMD_QUERY, 0) => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
