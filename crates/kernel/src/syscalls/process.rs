//! Process identity, exit, resource limits and per-thread registers:
//! getpid(2) and the process-group calls, exit(2), exit_group(2),
//! arch_prctl(2), set_tid_address(2), prlimit64(2) and friends.

use abi::Errno;
use abi::capability::CAP_SYS_RESOURCE;
use abi::resource::{RLIM_NLIMITS, RLIMIT_NOFILE, RLIMIT_STACK, Rlimit};
use abi::sysno::*;

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::kernel::ExitStatus;
use crate::task::Task;

// arch/x86/include/uapi/asm/prctl.h
const ARCH_SET_GS: u32 = 0x1001;
const ARCH_SET_FS: u32 = 0x1002;
const ARCH_GET_FS: u32 = 0x1003;
const ARCH_GET_GS: u32 = 0x1004;
const ARCH_GET_CPUID: u32 = 0x1011;
const ARCH_SET_CPUID: u32 = 0x1012;

/// `sysctl_nr_open`'s default (`fs/file.c`): the most RLIMIT_NOFILE may be raised to.
const NR_OPEN: u64 = 1 << 20;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(SYS_GETPID, sys_getpid, &[], Support::Full, ""),
    entry(SYS_GETPPID, sys_getppid, &[], Support::Full, ""),
    entry(SYS_GETTID, sys_gettid, &[], Support::Full, ""),
    entry(SYS_GETPGID, sys_getpgid, &[Arg::Int], Support::Full, ""),
    entry(SYS_GETPGRP, sys_getpgrp, &[], Support::Full, ""),
    entry(
        SYS_SETPGID,
        sys_setpgid,
        &[Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(SYS_GETSID, sys_getsid, &[Arg::Int], Support::Full, ""),
    entry(SYS_SETSID, sys_setsid, &[], Support::Full, ""),
    entry(SYS_EXIT, sys_exit, &[Arg::Int], Support::Full, ""),
    entry(
        SYS_EXIT_GROUP,
        sys_exit_group,
        &[Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_ARCH_PRCTL,
        sys_arch_prctl,
        &[Arg::Hex, Arg::Hex],
        Support::Partial,
        "ARCH_SET_CPUID gives ENODEV (no CPUID faulting); the XCOMP and VDSO codes give EINVAL",
    ),
    entry(
        SYS_SET_TID_ADDRESS,
        sys_set_tid_address,
        &[Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_PRLIMIT64,
        sys_prlimit64,
        &[Arg::Int, Arg::Int, Arg::Ptr, Arg::Ptr],
        Support::Partial,
        "limits are recorded and reported; RLIMIT_NOFILE and RLIMIT_STACK are enforced",
    ),
    entry(
        SYS_GETRLIMIT,
        sys_getrlimit,
        &[Arg::Int, Arg::Ptr],
        Support::Partial,
        "see prlimit64",
    ),
    entry(
        SYS_SETRLIMIT,
        sys_setrlimit,
        &[Arg::Int, Arg::Ptr],
        Support::Partial,
        "see prlimit64",
    ),
];

/// Implements Linux `getpid(2)`.
fn sys_getpid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.thread_group.pid.unsigned_abs()))
}

/// Implements Linux `getppid(2)`.
fn sys_getppid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(
        task.kernel.tree.ppid(task.thread_group.pid).unsigned_abs(),
    ))
}

/// The pid a process-group call names: its own for 0, ESRCH if negative.
fn target_pid(task: &Task, pid: i32) -> Result<i32, Errno> {
    match pid {
        0 => Ok(task.thread_group.pid),
        p if p > 0 => Ok(p),
        _ => Err(Errno::ESRCH),
    }
}

/// Implements Linux `getpgid(2)`.
fn sys_getpgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let pid = target_pid(task, args.i32(0))?;
    Ok(u64::from(task.kernel.tree.pgid(pid)?.unsigned_abs()))
}

/// Implements Linux `getpgrp(2)`.
fn sys_getpgrp(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(
        task.kernel.tree.pgid(task.thread_group.pid)?.unsigned_abs(),
    ))
}

/// Implements Linux `setpgid(2)`.
fn sys_setpgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (pid, pgid) = (args.i32(0), args.i32(1));
    task.kernel.tree.setpgid(task.thread_group.pid, pid, pgid)?;
    Ok(0)
}

/// Implements Linux `getsid(2)`.
fn sys_getsid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let pid = target_pid(task, args.i32(0))?;
    Ok(u64::from(task.kernel.tree.sid(pid)?.unsigned_abs()))
}

/// Implements Linux `setsid(2)`.
fn sys_setsid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    let sid = task.kernel.tree.setsid(task.thread_group.pid)?;
    // A new session starts without a controlling terminal, whatever an
    // earlier session with this id had.
    task.kernel.vfs.set_controlling_tty(sid, None);
    Ok(u64::from(sid.unsigned_abs()))
}

/// Implements Linux `gettid(2)`.
fn sys_gettid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.tid.unsigned_abs()))
}

/// Implements Linux `exit(2)`: ends the calling thread; the last thread's
/// exit ends the process.
fn sys_exit(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.exit_thread(ExitStatus::Exited(args.u64(0).to_le_bytes()[0]));
    Ok(0)
}

/// Implements Linux `exit_group(2)`: the status is the low 8 bits.
fn sys_exit_group(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.exit_group(ExitStatus::Exited(args.u64(0).to_le_bytes()[0]));
    Ok(0)
}

/// Implements Linux `arch_prctl(2)`.
fn sys_arch_prctl(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let addr = args.u64(1);
    match args.u32(0) {
        ARCH_SET_FS | ARCH_SET_GS if addr >= abi::TASK_SIZE => Err(Errno::EPERM),
        ARCH_SET_FS => {
            task.regs.fs_base = addr;
            Ok(0)
        }
        ARCH_SET_GS => {
            task.regs.gs_base = addr;
            Ok(0)
        }
        ARCH_GET_FS => task.mm.write_obj(addr, &task.regs.fs_base).map(|()| 0),
        ARCH_GET_GS => task.mm.write_obj(addr, &task.regs.gs_base).map(|()| 0),
        // CPUID is not made to fault, so it is always enabled.
        ARCH_GET_CPUID => Ok(1),
        ARCH_SET_CPUID => Err(Errno::ENODEV),
        _ => Err(Errno::EINVAL),
    }
}

/// Implements Linux `set_tid_address(2)`.
fn sys_set_tid_address(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    task.clear_child_tid = args.addr(0);
    Ok(u64::from(task.tid.unsigned_abs()))
}

/// Checks a resource number from the program.
fn resource(raw: u32) -> Result<u32, Errno> {
    if raw < RLIM_NLIMITS {
        Ok(raw)
    } else {
        Err(Errno::EINVAL)
    }
}

/// The worker behind prlimit64, getrlimit and setrlimit (`do_prlimit`).
fn do_prlimit(task: &mut Task, resource: u32, new: Option<Rlimit>, old_addr: u64) -> SyscallResult {
    if let Some(new) = new {
        if new.rlim_cur > new.rlim_max {
            return Err(Errno::EINVAL);
        }
        if resource == RLIMIT_NOFILE && new.rlim_max > NR_OPEN {
            return Err(Errno::EPERM);
        }
    }
    let old = {
        let mut limits = task
            .thread_group
            .limits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = &mut limits[resource as usize];
        let old = *slot;
        if let Some(new) = new {
            // Raising the hard limit needs CAP_SYS_RESOURCE, which only the
            // sandbox's root has.
            if new.rlim_max > old.rlim_max && !task.creds.has_cap(CAP_SYS_RESOURCE) {
                return Err(Errno::EPERM);
            }
            *slot = new;
            if resource == RLIMIT_STACK {
                task.mm.set_stack_limit(new.rlim_cur);
            }
        }
        old
    };
    if old_addr != 0 {
        task.mm.write_obj(old_addr, &old)?;
    }
    Ok(0)
}

/// Implements Linux `prlimit64(2)` for the calling process (pid 0 or its own).
fn sys_prlimit64(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let pid = args.i32(0);
    let resource = resource(args.u32(1))?;
    if pid != 0 && pid != task.thread_group.pid {
        return Err(Errno::ESRCH);
    }
    let new = match args.addr(2) {
        0 => None,
        addr => Some(task.mm.read_obj::<Rlimit>(addr)?),
    };
    do_prlimit(task, resource, new, args.addr(3))
}

/// Implements Linux `getrlimit(2)`.
fn sys_getrlimit(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let resource = resource(args.u32(0))?;
    let limit = task.thread_group.limit(resource);
    task.mm.write_obj(args.addr(1), &limit)?;
    Ok(0)
}

/// Implements Linux `setrlimit(2)`.
fn sys_setrlimit(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let resource = resource(args.u32(0))?;
    let new = task.mm.read_obj::<Rlimit>(args.addr(1))?;
    do_prlimit(task, resource, Some(new), 0)
}
