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
use abi::capability::{
    CAP_SYS_NICE, PR_CAP_AMBIENT, PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_GET_KEEPCAPS,
    PR_GET_SECUREBITS, PR_SET_KEEPCAPS, PR_SET_SECUREBITS,
};
use abi::resource::Rusage;
use abi::sched::{SCHED_BATCH, SCHED_FIFO, SCHED_IDLE, SCHED_NORMAL, SCHED_RR};
use abi::sysno::*;
use abi::time::Tms;

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
const MEMBARRIER_CMD_GLOBAL: u32 = 1 << 0;
const MEMBARRIER_CMD_GLOBAL_EXPEDITED: u32 = 1 << 1;
const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u32 = 1 << 2;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: u32 = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: u32 = 1 << 4;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 1 << 5;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 1 << 6;
/// The commands served: all but the rseq ones (no rseq(2) here) and
/// `MEMBARRIER_CMD_GET_REGISTRATIONS` (newer than the declared Linux).
const MEMBARRIER_SUPPORTED: u32 = MEMBARRIER_CMD_GLOBAL
    | MEMBARRIER_CMD_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
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
        "times are the sentry's accounting (`CpuTimes`); children's times, fault and context-switch counts are zero",
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
        "every command but the rseq ones, each a host MEMBARRIER_CMD_GLOBAL; none on hosts \
         without it",
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
    if max > 0 && !task.creds.has_cap(CAP_SYS_NICE) {
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
        if nice < task.nice && !task.creds.has_cap(CAP_SYS_NICE) {
            return Err(Errno::EACCES);
        }
        task.nice = nice;
    }
    Ok(0)
}

/// Implements Linux `getrusage(2)`.
fn sys_getrusage(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let who = args.i32(0);
    let usage = match who {
        abi::resource::RUSAGE_SELF | abi::resource::RUSAGE_THREAD => {
            let cpu = if who == abi::resource::RUSAGE_SELF {
                task.process_cpu_times()
            } else {
                task.thread_cpu_times()
            };
            Rusage {
                ru_utime: timeval_from_duration(cpu.user),
                ru_stime: timeval_from_duration(cpu.system),
                ..Rusage::default()
            }
        }
        abi::resource::RUSAGE_CHILDREN => {
            let cpu = task.thread_group.children_cpu_times();
            Rusage {
                ru_utime: timeval_from_duration(cpu.user),
                ru_stime: timeval_from_duration(cpu.system),
                ..Rusage::default()
            }
        }
        _ => return Err(Errno::EINVAL),
    };
    task.mm.write_obj(args.addr(1), &usage)?;
    Ok(0)
}

/// Implements Linux `times(2)`: returns clock ticks since an arbitrary
/// point (the sandbox's start).
fn sys_times(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.addr(0) != 0 {
        let cpu = task.process_cpu_times();
        let ticks = |t: std::time::Duration| {
            i64::try_from(t.as_millis()).unwrap_or(i64::MAX) * USER_HZ / 1000
        };
        let children = task.thread_group.children_cpu_times();
        let tms = Tms {
            tms_utime: ticks(cpu.user),
            tms_stime: ticks(cpu.system),
            tms_cutime: ticks(children.user),
            tms_cstime: ticks(children.system),
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
        option @ (PR_CAPBSET_READ | PR_CAPBSET_DROP | PR_GET_KEEPCAPS | PR_SET_KEEPCAPS
        | PR_GET_SECUREBITS | PR_SET_SECUREBITS | PR_CAP_AMBIENT) => {
            super::creds::prctl_capabilities(task, option, args)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `membarrier(2)`.
///
/// Program threads run on host threads of stub processes, on any CPU, so a
/// fence in the sentry orders nothing for them. Every barrier command is
/// the host's `MEMBARRIER_CMD_GLOBAL` instead, which the sentry asks for
/// itself (the program's syscall is never replayed): it returns once every
/// CPU has passed through the host kernel, a full barrier, and core-serializing
/// for a thread in program code, which comes back to it by an interrupt
/// return (the SYNC_CORE guarantee). It costs a host RCU grace period
/// where Linux's expedited commands send IPIs, but it is what a sandbox
/// can honour truthfully. Without it on the host, no command is offered.
fn sys_membarrier(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (cmd, flags) = (args.u32(0), args.u32(1));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    // Asked of the host once: not on `nohz_full` hosts, for one.
    static HOST_HAS_GLOBAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let host_has_global = *HOST_HAS_GLOBAL.get_or_init(|| {
        host::membarrier(MEMBARRIER_CMD_QUERY)
            .is_ok_and(|mask| mask & u64::from(MEMBARRIER_CMD_GLOBAL) != 0)
    });
    let supported = if host_has_global {
        MEMBARRIER_SUPPORTED
    } else {
        0
    };
    // The host's expedited commands do not fit: the private ones reach
    // only the sentry's own threads, the global one only processes
    // registered with the host, which stubs are not.
    let barrier = || host::membarrier(MEMBARRIER_CMD_GLOBAL).map(drop);
    if cmd == MEMBARRIER_CMD_QUERY {
        return Ok(u64::from(supported));
    }
    if cmd & supported == 0 || !cmd.is_power_of_two() {
        return Err(Errno::EINVAL);
    }
    let registered = &task.thread_group.membarrier_registered;
    match cmd {
        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE => {
            registered.fetch_or(cmd, std::sync::atomic::Ordering::SeqCst);
            Ok(0)
        }
        MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE => {
            // The registration bit sits one above its command's.
            if registered.load(std::sync::atomic::Ordering::SeqCst) & (cmd << 1) == 0 {
                return Err(Errno::EPERM);
            }
            // A lone thread has no one to order itself against (Linux skips
            // single-user mms too).
            if task.thread_group.thread_count() > 1 {
                barrier()?;
            }
            Ok(0)
        }
        _ => {
            barrier()?;
            Ok(0)
        }
    }
}
