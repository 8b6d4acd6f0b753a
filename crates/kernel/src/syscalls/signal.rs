//! Signal syscalls: actions, masks and the alternate stack
//! (rt_sigaction(2), rt_sigprocmask(2), rt_sigpending(2), sigaltstack(2)),
//! sending (kill(2), tkill(2), tgkill(2), rt_sigqueueinfo(2)), waiting
//! (rt_sigsuspend(2), pause(2), rt_sigtimedwait(2)), signalfd(2),
//! signalfd4(2), rt_sigreturn(2) and restart_syscall(2).
//! Frames are built and delivered by `task/signals.rs`.

use abi::Errno;
use abi::signal::{
    MINSIGSTKSZ, SA_EXPOSE_TAGBITS, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER, SA_ONSTACK,
    SA_RESETHAND, SA_RESTART, SA_RESTORER, SA_SIGINFO, SFD_CLOEXEC, SFD_NONBLOCK, SI_TKILL,
    SI_USER, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSET_SIZE, SIGSTOP, SS_AUTODISARM,
    SS_DISABLE, SS_ONSTACK, SigAction, SigInfo, StackT, UNBLOCKABLE,
};
use abi::sysno::*;

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::fs::signalfd::{SignalFd, new_signalfd};
use crate::signal;
use crate::task::{Task, Wakeup};

/// `UAPI_SA_FLAGS` on x86-64: the flags the kernel keeps; others read back as 0.
const KNOWN_SA_FLAGS: u64 = SA_NOCLDSTOP
    | SA_NOCLDWAIT
    | SA_SIGINFO
    | SA_ONSTACK
    | SA_RESTART
    | SA_NODEFER
    | SA_RESETHAND
    | SA_EXPOSE_TAGBITS
    | SA_RESTORER;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_RT_SIGACTION,
        sys_rt_sigaction,
        &[Arg::Signal, Arg::Ptr, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_RT_SIGPROCMASK,
        sys_rt_sigprocmask,
        &[Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_RT_SIGPENDING,
        sys_rt_sigpending,
        &[Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_KILL,
        sys_kill,
        &[Arg::Int, Arg::Signal],
        Support::Full,
        "",
    ),
    entry(
        SYS_TKILL,
        sys_tkill,
        &[Arg::Int, Arg::Signal],
        Support::Full,
        "",
    ),
    entry(
        SYS_TGKILL,
        sys_tgkill,
        &[Arg::Int, Arg::Int, Arg::Signal],
        Support::Full,
        "",
    ),
    entry(
        SYS_SIGALTSTACK,
        sys_sigaltstack,
        &[Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(SYS_RT_SIGRETURN, sys_rt_sigreturn, &[], Support::Full, ""),
    entry(
        SYS_RESTART_SYSCALL,
        sys_restart_syscall,
        &[],
        Support::Full,
        "",
    ),
    entry(
        SYS_RT_SIGSUSPEND,
        sys_rt_sigsuspend,
        &[Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_RT_SIGTIMEDWAIT,
        sys_rt_sigtimedwait,
        &[Arg::Ptr, Arg::Ptr, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_RT_SIGQUEUEINFO,
        sys_rt_sigqueueinfo,
        &[Arg::Int, Arg::Signal, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_RT_TGSIGQUEUEINFO,
        sys_rt_tgsigqueueinfo,
        &[Arg::Int, Arg::Int, Arg::Signal, Arg::Ptr],
        Support::Partial,
        "as rt_sigqueueinfo",
    ),
    entry(SYS_PAUSE, sys_pause, &[], Support::Full, ""),
    entry(
        SYS_SIGNALFD,
        sys_signalfd,
        &[Arg::Int, Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_SIGNALFD4,
        sys_signalfd4,
        &[Arg::Int, Arg::Ptr, Arg::Len, Arg::Hex],
        Support::Full,
        "",
    ),
];

/// Implements Linux `rt_sigaction(2)`.
fn sys_rt_sigaction(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let signo = args.u64(0);
    let (act_addr, oldact_addr) = (args.addr(1), args.addr(2));
    if args.u64(3) != SIGSET_SIZE || !signal::is_valid(signo) {
        return Err(Errno::EINVAL);
    }
    let signo = u32::try_from(signo).map_err(|_| Errno::EINVAL)?;
    let new = match act_addr {
        0 => None,
        addr => {
            let mut act: SigAction = task.mm.read_obj(addr)?;
            if signo == SIGKILL || signo == SIGSTOP {
                return Err(Errno::EINVAL);
            }
            act.flags &= KNOWN_SA_FLAGS;
            act.mask &= !UNBLOCKABLE;
            Some(act)
        }
    };
    let old = {
        let mut actions = task
            .thread_group
            .actions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match new {
            Some(act) => actions.set(signo, act),
            None => actions.get(signo),
        }
    };
    if oldact_addr != 0 {
        task.mm.write_obj(oldact_addr, &old)?;
    }
    Ok(0)
}

/// Implements Linux `rt_sigprocmask(2)`.
fn sys_rt_sigprocmask(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.u64(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let handle = task.handle();
    let old = handle.signal_mask();
    if args.addr(1) != 0 {
        let set: u64 = task.mm.read_obj(args.addr(1))?;
        handle.set_signal_mask(match args.u32(0) {
            SIG_BLOCK => old | set,
            SIG_UNBLOCK => old & !set,
            SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        });
        // Signals that were waiting for the mask to open act now.
        crate::signal::act_on_pending(task);
        // Process signals this thread now blocks go to a sibling that
        // does not (Linux's retarget_shared_pending).
        if handle.signal_mask() & !old & task.thread_group.shared_pending.mask() != 0 {
            task.thread_group.retarget_shared_signals();
        }
    }
    if args.addr(2) != 0 {
        task.mm.write_obj(args.addr(2), &old)?;
    }
    Ok(0)
}

/// Implements Linux `rt_sigpending(2)`: the pending signals (the thread's
/// and the process's) that the mask blocks.
fn sys_rt_sigpending(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.u64(1) > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let len = usize::try_from(args.u64(1)).map_err(|_| Errno::EINVAL)?;
    let handle = task.handle();
    let pending = (handle.pending_signals() & handle.signal_mask()).to_ne_bytes();
    task.mm.copy_out(args.addr(0), &pending[..len])?;
    Ok(0)
}

/// Checks a signal number from the program: 0 (a probe) or 1..=64.
pub(super) fn signal_number(raw: u64) -> Result<u32, Errno> {
    if raw == 0 || signal::is_valid(raw) {
        u32::try_from(raw).map_err(|_| Errno::EINVAL)
    } else {
        Err(Errno::EINVAL)
    }
}

/// The siginfo of a signal the calling task sends with `code` (`kill`:
/// SI_USER, `tkill`: SI_TKILL): it names the sender. The sandbox has one
/// pid namespace, so the sender's pid is the same for every receiver.
pub(super) fn sender_info(task: &Task, signo: u32, code: i32) -> SigInfo {
    signal::info_from(signo, code, task.thread_group.pid, task.creds.uid)
}

/// `check_kill_permission`: whether the caller may signal the process
/// `pid` (its credentials as its leader last published them), or, for
/// `SIGCONT`, any process of its own session.
pub(super) fn may_kill(task: &Task, signo: u32, pid: i32) -> bool {
    let Some(target) = task.kernel.vfs.task_views().get(pid) else {
        return true;
    };
    task.creds.may_signal(&target.creds)
        || (signo == abi::signal::SIGCONT
            && task.kernel.tree.sid(pid).ok() == task.kernel.tree.sid(task.thread_group.pid).ok())
}

/// Implements Linux `kill(2)`.
fn sys_kill(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let signo = signal_number(args.u64(1))?;
    let pid = args.i32(0);
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    let targets = task.kernel.tree.kill_targets(task.thread_group.pid, pid)?;
    let allowed: Vec<_> = targets
        .iter()
        .filter(|group| may_kill(task, signo, group.pid))
        .collect();
    // One permitted target is success for a process group; kill(-1)
    // ignores refusals altogether (Linux's kill_something_info).
    if allowed.is_empty() && !targets.is_empty() && pid != -1 {
        return Err(Errno::EPERM);
    }
    if signo != 0 {
        let info = sender_info(task, signo, SI_USER);
        for group in allowed {
            // kill's siginfo may be lost to the queue limit, never refused.
            let _ = signal::send(group, info);
        }
    }
    Ok(0)
}

/// Sends to one thread, named by its tid (and, for tgkill, its process),
/// the signal `raw` with the siginfo `make_info` builds from its number.
fn signal_thread(
    task: &Task,
    tgid: Option<i32>,
    tid: i32,
    raw: u64,
    make_info: impl FnOnce(u32) -> SigInfo,
) -> SyscallResult {
    let signo = signal_number(raw)?;
    if tid <= 0 || tgid.is_some_and(|g| g <= 0) {
        return Err(Errno::EINVAL);
    }
    let group = match tgid {
        Some(tgid) => task.kernel.tree.group(tgid),
        None => task.kernel.tree.group_of_thread(tid),
    }
    .ok_or(Errno::ESRCH)?;
    let thread = group.thread(tid).ok_or(Errno::ESRCH)?;
    if !may_kill(task, signo, group.pid) {
        return Err(Errno::EPERM);
    }
    if signo != 0 {
        signal::send_to_thread(&group, &thread, make_info(signo)).map_err(|_| Errno::EAGAIN)?;
    }
    Ok(0)
}

/// Implements Linux `tkill(2)`.
fn sys_tkill(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    signal_thread(task, None, args.i32(0), args.u64(1), |signo| {
        sender_info(task, signo, SI_TKILL)
    })
}

/// Implements Linux `tgkill(2)`.
fn sys_tgkill(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    signal_thread(task, Some(args.i32(0)), args.i32(1), args.u64(2), |signo| {
        sender_info(task, signo, SI_TKILL)
    })
}

/// Implements Linux `sigaltstack(2)`.
fn sys_sigaltstack(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let on_stack = task.on_altstack(task.regs.rsp);
    let mut old = task.altstack;
    // Linux's sas_ss_flags: the mode is what the stack pointer shows;
    // only SS_AUTODISARM is reported as set.
    old.ss_flags = if old.ss_flags & SS_DISABLE.cast_signed() != 0 {
        SS_DISABLE.cast_signed()
    } else if on_stack {
        SS_ONSTACK.cast_signed()
    } else {
        0
    } | (old.ss_flags & SS_AUTODISARM.cast_signed());
    if args.addr(0) != 0 {
        let new: StackT = task.mm.read_obj(args.addr(0))?;
        if on_stack {
            return Err(Errno::EPERM);
        }
        let flags = new.ss_flags.cast_unsigned();
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::EINVAL);
        }
        task.altstack = if mode == SS_DISABLE {
            StackT {
                ss_sp: 0,
                ss_flags: SS_DISABLE.cast_signed(),
                _pad: 0,
                ss_size: 0,
            }
        } else {
            if new.ss_size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            StackT {
                ss_sp: new.ss_sp,
                ss_flags: flags.cast_signed() & !SS_ONSTACK.cast_signed(),
                _pad: 0,
                ss_size: new.ss_size,
            }
        };
    }
    if args.addr(1) != 0 {
        task.mm.write_obj(args.addr(1), &old)?;
    }
    Ok(0)
}

/// Implements Linux `rt_sigreturn(2)`.
fn sys_rt_sigreturn(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    match task.sigreturn() {
        Ok(rax) => Ok(rax),
        Err(_) => {
            // A frame that cannot be read: the task dies of SIGSEGV.
            task.exit_group(crate::kernel::ExitStatus::Signaled {
                signo: abi::signal::SIGSEGV,
                core: true,
            });
            Ok(0)
        }
    }
}

/// Implements Linux `restart_syscall(2)`: finishes the syscall a signal
/// interrupted with ERESTART_RESTARTBLOCK when no handler ran.
fn sys_restart_syscall(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    task.run_restart_block()
}

/// Blocks until a signal needs handling (or the task is killed).
fn wait_for_signal(task: &Task) -> SyscallResult {
    let handle = task.handle();
    handle.prepare_to_block();
    loop {
        match handle.block(None) {
            Wakeup::Interrupted | Wakeup::Killed => return Err(Errno::ERESTARTNOHAND),
            Wakeup::Woken | Wakeup::TimedOut => handle.prepare_to_block(),
        }
    }
}

/// Implements Linux `rt_sigsuspend(2)`: the mask is replaced until a
/// handler runs, whose frame restores the old one.
fn sys_rt_sigsuspend(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.u64(1) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = task.mm.read_obj(args.addr(0))?;
    let handle = task.handle();
    task.saved_mask = Some(handle.signal_mask());
    handle.set_signal_mask(mask);
    let result = wait_for_signal(task);
    // ERESTARTNOHAND: a handler runs (and its frame restores the saved
    // mask), so the call fails with EINTR; if none runs it restarts, and
    // the saved mask must come back first.
    if task.handle().pending_kill().is_some()
        && let Some(old) = task.saved_mask.take()
    {
        handle.set_signal_mask(old);
    }
    result
}

/// Implements Linux `pause(2)`.
fn sys_pause(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    wait_for_signal(task)
}

/// Implements Linux `rt_sigtimedwait(2)`: takes a queued signal of `set`,
/// waiting until one arrives (the set stays blocked: its arrival only wakes
/// the task, as Linux's `real_blocked` does), the timeout passes (EAGAIN)
/// or another signal must be handled (EINTR).
fn sys_rt_sigtimedwait(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.u64(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set: u64 = task.mm.read_obj(args.addr(0))?;
    let set = set & !UNBLOCKABLE;
    let deadline = match args.addr(2) {
        0 => None,
        addr => Some(super::time::instant_after(super::time::read_timespec(
            task, addr,
        )?)),
    };
    let handle = task.handle();
    handle.set_awaited(set);
    let taken = loop {
        handle.prepare_to_block();
        if let Some(info) = handle.dequeue_signal(set) {
            break Ok(info);
        }
        match handle.block(deadline) {
            Wakeup::TimedOut => break Err(Errno::EAGAIN),
            Wakeup::Killed => break Err(Errno::EINTR),
            // A signal of the set wins over others (dequeued at the top).
            Wakeup::Interrupted if handle.pending_signals() & set == 0 => break Err(Errno::EINTR),
            Wakeup::Interrupted | Wakeup::Woken => {}
        }
    };
    handle.set_awaited(0);
    let info = taken?;
    if args.addr(1) != 0 {
        task.mm.write_obj(args.addr(1), &info)?;
    }
    Ok(u64::from(info.si_signo.cast_unsigned()))
}

/// Reads the siginfo of `rt_sigqueueinfo`/`rt_tgsigqueueinfo` and checks
/// it: a program may not forge a kernel-generated or `kill`/`tkill`
/// siginfo for anyone but itself (`target` is compared with the caller's
/// tid, as Linux does).
fn queued_info(task: &Task, target: i32, info_addr: u64) -> Result<SigInfo, Errno> {
    let info: SigInfo = task.mm.read_obj(info_addr)?;
    if (info.si_code >= 0 || info.si_code == SI_TKILL) && target != task.tid {
        return Err(Errno::EPERM);
    }
    Ok(info)
}

/// Implements Linux `rt_sigqueueinfo(2)`: the program's siginfo (with
/// `si_signo` set to the signal) reaches the receiver as it is.
fn sys_rt_sigqueueinfo(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let signo = signal_number(args.u64(1))?;
    let pid = args.i32(0);
    if pid <= 0 {
        return Err(Errno::ESRCH);
    }
    let info = queued_info(task, pid, args.addr(2))?;
    let group = task.kernel.tree.group(pid).ok_or(Errno::ESRCH)?;
    if signo != 0 {
        let info = SigInfo {
            si_signo: signo.cast_signed(),
            ..info
        };
        signal::send(&group, info).map_err(|_| Errno::EAGAIN)?;
    }
    Ok(0)
}

/// Implements Linux `rt_tgsigqueueinfo(2)`; see `rt_sigqueueinfo`.
fn sys_rt_tgsigqueueinfo(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (tgid, tid) = (args.i32(0), args.i32(1));
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let info = queued_info(task, tgid, args.addr(3))?;
    signal_thread(task, Some(tgid), tid, args.u64(2), |signo| SigInfo {
        si_signo: signo.cast_signed(),
        ..info
    })
}

/// Implements Linux `signalfd(2)`: `signalfd4` without flags.
fn sys_signalfd(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    do_signalfd(task, args.i32(0), args.addr(1), args.u64(2), 0)
}

/// Implements Linux `signalfd4(2)`.
fn sys_signalfd4(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = u32::try_from(args.u64(3)).map_err(|_| Errno::EINVAL)?;
    do_signalfd(task, args.i32(0), args.addr(1), args.u64(2), flags)
}

/// Makes a signalfd for the mask at `mask_addr` (`fd` -1), or changes the
/// mask of the signalfd `fd`; returns its fd.
fn do_signalfd(task: &Task, fd: i32, mask_addr: u64, size: u64, flags: u32) -> SyscallResult {
    if flags & !(SFD_CLOEXEC | SFD_NONBLOCK) != 0 || size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mask: u64 = task.mm.read_obj(mask_addr)?;
    if fd != -1 {
        let file = task.fds().get(fd)?;
        let signalfd = file
            .ops()
            .as_any()
            .and_then(|any| any.downcast_ref::<SignalFd>())
            .ok_or(Errno::EINVAL)?;
        signalfd.set_mask(mask);
        return Ok(u64::from(fd.unsigned_abs()));
    }
    let file = new_signalfd(mask, flags & SFD_NONBLOCK);
    let limit = task
        .thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur;
    let fd = task.fds().alloc(file, flags & SFD_CLOEXEC != 0, 0, limit)?;
    Ok(u64::from(fd.unsigned_abs()))
}
