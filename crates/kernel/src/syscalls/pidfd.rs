//! Process file descriptors: pidfd_open(2), pidfd_send_signal(2) and
//! pidfd_getfd(2). The file is `fs/pidfd.rs`; `CLONE_PIDFD` is in
//! `task/fork.rs` and `waitid(P_PIDFD)` in `wait.rs`.

use std::sync::Arc;

use abi::Errno;
use abi::capability::CAP_SYS_PTRACE;
use abi::fcntl::O_NONBLOCK;
use abi::signal::{SI_TKILL, SI_USER, SigInfo};
use abi::sysno::*;

use super::signal::{may_kill, sender_info, signal_number};
use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::fs::pidfd::{PIDFD_THREAD, PidFd, new_pidfd};
use crate::signal;
use crate::task::{ProcessState, Task};
use crate::vfs::File;

/// `PIDFD_NONBLOCK`.
const PIDFD_NONBLOCK: u32 = O_NONBLOCK;
/// `pidfd_send_signal` scopes: the thread, its process, its process group.
const PIDFD_SIGNAL_THREAD: u32 = 1 << 0;
const PIDFD_SIGNAL_THREAD_GROUP: u32 = 1 << 1;
const PIDFD_SIGNAL_PROCESS_GROUP: u32 = 1 << 2;
/// The pidfds that name the caller without an fd (Linux 6.15).
const PIDFD_SELF_THREAD: i32 = -10000;
const PIDFD_SELF_THREAD_GROUP: i32 = -10001;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_PIDFD_OPEN,
        sys_pidfd_open,
        &[Arg::Int, Arg::Hex],
        Support::Partial,
        "PIDFD_GET_INFO has no cgroup id or core-dump information; the namespace ioctls \
         are ENOTTY",
    ),
    entry(
        SYS_PIDFD_SEND_SIGNAL,
        sys_pidfd_send_signal,
        &[Arg::Fd, Arg::Signal, Arg::Ptr, Arg::Hex],
        Support::Full,
        "",
    ),
    entry(
        SYS_PIDFD_GETFD,
        sys_pidfd_getfd,
        &[Arg::Fd, Arg::Fd, Arg::Hex],
        Support::Full,
        "",
    ),
];

/// Opens `file` at the lowest free fd, close-on-exec.
fn install_cloexec(task: &Task, file: Arc<File>) -> SyscallResult {
    let limit = task
        .thread_group
        .limit(abi::resource::RLIMIT_NOFILE)
        .rlim_cur;
    let fd = task.fds().alloc(file, true, 0, limit)?;
    Ok(u64::from(fd.unsigned_abs()))
}

/// Implements Linux syscall pidfd_open(2).
fn sys_pidfd_open(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (pid, flags) = (args.i32(0), args.u32(1));
    if flags & !(PIDFD_NONBLOCK | PIDFD_THREAD) != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let thread = flags & PIDFD_THREAD != 0;
    let group = task.kernel.tree.pidfd_target(pid, thread)?;
    install_cloexec(task, new_pidfd(group, pid, thread, flags & PIDFD_NONBLOCK))
}

/// The scope of a `pidfd_send_signal`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Thread,
    Process,
    ProcessGroup,
}

/// Implements Linux syscall pidfd_send_signal(2).
fn sys_pidfd_send_signal(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (fd, raw, info_addr, flags) = (args.i32(0), args.i32(1), args.addr(2), args.u32(3));
    let scope = match flags {
        0 => None,
        PIDFD_SIGNAL_THREAD => Some(Scope::Thread),
        PIDFD_SIGNAL_THREAD_GROUP => Some(Scope::Process),
        PIDFD_SIGNAL_PROCESS_GROUP => Some(Scope::ProcessGroup),
        _ => return Err(Errno::EINVAL),
    };
    let file;
    let self_pidfd;
    let pidfd = match fd {
        PIDFD_SELF_THREAD => {
            self_pidfd = PidFd::new(Arc::clone(&task.thread_group), task.tid, true);
            &self_pidfd
        }
        PIDFD_SELF_THREAD_GROUP => {
            let group = Arc::clone(&task.thread_group);
            self_pidfd = PidFd::new(group, task.thread_group.pid, false);
            &self_pidfd
        }
        fd => {
            file = task.fds().get(fd)?;
            PidFd::of(&file)?
        }
    };
    let scope = scope.unwrap_or(if pidfd.is_thread() {
        Scope::Thread
    } else {
        Scope::Process
    });
    let info = match info_addr {
        0 => None,
        addr => {
            let info: SigInfo = task.mm.read_obj(addr)?;
            if info.si_signo != raw {
                return Err(Errno::EINVAL);
            }
            // Only the caller may forge a kernel or kill siginfo, and only
            // for itself (its own thread's pid).
            let is_caller =
                Arc::ptr_eq(pidfd.group(), &task.thread_group) && pidfd.tid() == task.tid;
            if (!is_caller || scope == Scope::ProcessGroup)
                && (info.si_code >= 0 || info.si_code == SI_TKILL)
            {
                return Err(Errno::EPERM);
            }
            Some(info)
        }
    };
    if scope == Scope::ProcessGroup {
        return signal_process_group(task, pidfd.tid(), raw, info);
    }
    if pidfd.state(&task.kernel.tree) == ProcessState::Reaped {
        return Err(Errno::ESRCH);
    }
    let signo = signal_number(u64::from(raw.cast_unsigned()))?;
    let group = pidfd.group();
    if !may_kill(task, signo, group.pid) {
        return Err(Errno::EPERM);
    }
    if signo == 0 {
        return Ok(0);
    }
    let queued = info.is_some();
    // kill's siginfo, whatever the scope.
    let info = info.unwrap_or_else(|| sender_info(task, signo, SI_USER));
    let result = if scope == Scope::Thread {
        // A leader's thread that ended while its process lives takes the
        // signal as Linux's zombie leader does: nowhere.
        match pidfd.thread_handle() {
            Some(thread) => signal::send_to_thread(group, &thread, info),
            None => Ok(()),
        }
    } else {
        signal::send(group, info)
    };
    // A program's own siginfo is refused at the queue limit; kill's goes
    // without it.
    match result {
        Err(_) if queued => Err(Errno::EAGAIN),
        _ => Ok(0),
    }
}

/// `PIDFD_SIGNAL_PROCESS_GROUP`: signals the live members of process
/// group `pgid` as `kill_pgrp_info` does: success if one took it.
fn signal_process_group(task: &Task, pgid: i32, raw: i32, info: Option<SigInfo>) -> SyscallResult {
    let members = task.kernel.tree.process_group(pgid);
    if members.is_empty() {
        return Err(Errno::ESRCH);
    }
    let signo = signal_number(u64::from(raw.cast_unsigned()))?;
    let mut result = Err(Errno::EPERM);
    for group in members {
        if !may_kill(task, signo, group.pid) {
            continue;
        }
        result = Ok(0);
        if signo != 0 {
            let info = info.unwrap_or_else(|| sender_info(task, signo, SI_USER));
            let _ = signal::send(&group, info);
        }
    }
    result
}

/// Implements Linux syscall pidfd_getfd(2): a copy of another process's
/// fd, close-on-exec, for a caller that may ptrace-attach to it.
fn sys_pidfd_getfd(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (fd, target_fd, flags) = (args.i32(0), args.i32(1), args.u32(2));
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let file = task.fds().get(fd)?;
    let pidfd = PidFd::of(&file)?;
    // A task that ended, reaped or not, has no files left to take from:
    // ESRCH (Linux's __pidfd_fget for a PF_EXITING task).
    let view = match pidfd.state(&task.kernel.tree) {
        ProcessState::Running => task.kernel.vfs.task_views().get(pidfd.tid()),
        ProcessState::Exited | ProcessState::Reaped => None,
    }
    .ok_or(Errno::ESRCH)?;
    if !Arc::ptr_eq(pidfd.group(), &task.thread_group) {
        // ptrace_may_access(PTRACE_MODE_ATTACH_REALCREDS).
        let may_attach = task.creds.may_read_state_of(&view.creds)
            && (view.dumpable || task.creds.has_cap(CAP_SYS_PTRACE));
        if !may_attach {
            return Err(Errno::EPERM);
        }
    }
    let (taken, _) = view.fd(target_fd).ok_or(Errno::EBADF)?;
    install_cloexec(task, taken)
}
