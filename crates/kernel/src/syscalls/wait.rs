//! Waiting for children: wait4(2), waitid(2) (`P_PIDFD` included).

use abi::Errno;
use abi::fcntl::O_NONBLOCK;
use abi::resource::Rusage;
use abi::signal::{SIGCHLD, SigInfo};
use abi::sysno::*;

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::fs::pidfd::PidFd;
use crate::task::{ChildChange, CpuTimes, ProcessState, Reaped, Task, WaitFor, WaitTarget, Wakeup};

// include/uapi/linux/wait.h
const WNOHANG: u32 = 0x0000_0001;
const WUNTRACED: u32 = 0x0000_0002;
const WEXITED: u32 = 0x0000_0004;
const WCONTINUED: u32 = 0x0000_0008;
const WNOWAIT: u32 = 0x0100_0000;
const WNOTHREAD: u32 = 0x2000_0000;
const WALL: u32 = 0x4000_0000;
const WCLONE: u32 = 0x8000_0000;
const P_ALL: u32 = 0;
const P_PID: u32 = 1;
const P_PGID: u32 = 2;
const P_PIDFD: u32 = 3;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_WAIT4,
        sys_wait4,
        &[Arg::Int, Arg::Ptr, Arg::Hex, Arg::Ptr],
        Support::Partial,
        "rusage has the child's CPU time only",
    ),
    entry(
        SYS_WAITID,
        sys_waitid,
        &[Arg::Int, Arg::Int, Arg::Ptr, Arg::Hex, Arg::Ptr],
        Support::Partial,
        "as wait4",
    ),
];

/// The `wait4` status word of a change (`WIFEXITED`, `WIFSIGNALED`,
/// `WIFSTOPPED`, `WIFCONTINUED` encodings).
fn wait_status(change: ChildChange) -> i32 {
    match change {
        ChildChange::Exited(status) => status.wait_status(),
        ChildChange::Stopped(signo) => (signo.cast_signed() << 8) | 0x7f,
        ChildChange::Continued => 0xffff,
    }
}

/// Waits until a child matching `target` can be reaped (or, with `nohang`,
/// checks once). `Ok(None)`: nothing yet and `nohang`.
fn wait_child(
    task: &Task,
    target: WaitTarget,
    events: WaitFor,
    nohang: bool,
    peek: bool,
) -> Result<Option<Reaped>, Errno> {
    let handle = task.handle();
    let pid = task.thread_group.pid;
    let mut interrupted = false;
    loop {
        handle.prepare_to_block();
        match task.kernel.tree.wait(pid, target, events, peek, &handle)? {
            Some(reaped) => {
                task.kernel.tree.stop_waiting(pid, &handle);
                return Ok(Some(reaped));
            }
            None if nohang => {
                task.kernel.tree.stop_waiting(pid, &handle);
                return Ok(None);
            }
            None => {}
        }
        // A signal that arrives with the child's exit (SIGCHLD) must not
        // hide it: look once more before giving up, as do_wait does.
        if interrupted {
            task.kernel.tree.stop_waiting(pid, &handle);
            return Err(Errno::ERESTARTSYS);
        }
        match handle.block(None) {
            Wakeup::Killed => {
                task.kernel.tree.stop_waiting(pid, &handle);
                return Err(Errno::ERESTARTSYS);
            }
            Wakeup::Interrupted => interrupted = true,
            Wakeup::Woken | Wakeup::TimedOut => {}
        }
    }
}

/// Implements Linux `wait4(2)`.
fn sys_wait4(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (pid, options) = (args.i32(0), args.u32(2));
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WCLONE | WALL) != 0 {
        return Err(Errno::EINVAL);
    }
    let target = match pid {
        i32::MIN => return Err(Errno::ESRCH),
        -1 => WaitTarget::Any,
        0 => WaitTarget::Group(0),
        p if p < 0 => WaitTarget::Group(-p),
        p => WaitTarget::Pid(p),
    };
    let events = WaitFor {
        exited: true,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
        all: options & WALL != 0,
        clones: options & WCLONE != 0,
        thread: (options & WNOTHREAD != 0).then_some(task.tid),
    };
    let Some(reaped) = wait_child(task, target, events, options & WNOHANG != 0, false)? else {
        return Ok(0);
    };
    if args.addr(1) != 0 {
        task.mm
            .write_obj(args.addr(1), &wait_status(reaped.change))?;
    }
    if args.addr(3) != 0 {
        task.mm.write_obj(args.addr(3), &child_rusage(reaped.cpu))?;
    }
    Ok(u64::from(reaped.pid.unsigned_abs()))
}

/// The rusage `wait4` and `waitid` report for a child: its CPU time.
fn child_rusage(cpu: CpuTimes) -> Rusage {
    Rusage {
        ru_utime: super::time::timeval_from_duration(cpu.user),
        ru_stime: super::time::timeval_from_duration(cpu.system),
        ..Rusage::default()
    }
}

/// Implements Linux `waitid(2)`. As in Linux, the siginfo is written
/// whatever the wait's outcome (zeros when it reports no child, errors
/// included), and a fault there is the result.
fn sys_waitid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (infop, rusage) = (args.addr(2), args.addr(4));
    let reaped = kernel_waitid(task, args);
    if let Ok(Some(r)) = &reaped
        && rusage != 0
    {
        task.mm.write_obj(rusage, &child_rusage(r.cpu))?;
    }
    if infop != 0 {
        // waitid reports no CPU times in the siginfo.
        let info = match &reaped {
            Ok(Some(r)) => crate::signal::child_info(
                SIGCHLD,
                r.change,
                r.pid,
                r.uid.unwrap_or(task.creds.uid),
                r.cpu,
            ),
            _ => SigInfo::default(),
        };
        task.mm.write_obj(infop, &info)?;
    }
    reaped.map(|_| 0)
}

/// The wait `waitid` asks for (Linux's `kernel_waitid`): the child it
/// reports, if any.
fn kernel_waitid(task: &Task, args: &SyscallArgs) -> Result<Option<Reaped>, Errno> {
    let (idtype, id, options) = (args.u32(0), args.i32(1), args.u32(3));
    if options & !(WNOHANG | WEXITED | WUNTRACED | WCONTINUED | WNOWAIT | WNOTHREAD | WCLONE | WALL)
        != 0
        || options & (WEXITED | WUNTRACED | WCONTINUED) == 0
    {
        return Err(Errno::EINVAL);
    }
    // A PIDFD_NONBLOCK pidfd makes the wait WNOHANG, failing with EAGAIN
    // where WNOHANG would find nothing.
    let mut nonblocking_pidfd = false;
    let target = match idtype {
        P_ALL => WaitTarget::Any,
        P_PID if id > 0 => WaitTarget::Pid(id),
        P_PGID if id >= 0 => WaitTarget::Group(id),
        P_PIDFD if id >= 0 => {
            let file = task.fds().get(id)?;
            let pidfd = PidFd::of(&file)?;
            // Its pid may name a newer process by now; no child is its.
            if pidfd.state(&task.kernel.tree) == ProcessState::Reaped {
                return Err(Errno::ECHILD);
            }
            nonblocking_pidfd = file.flags() & O_NONBLOCK != 0;
            WaitTarget::Pid(pidfd.tid())
        }
        _ => return Err(Errno::EINVAL),
    };
    let events = WaitFor {
        exited: options & WEXITED != 0,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
        all: options & WALL != 0,
        clones: options & WCLONE != 0,
        thread: (options & WNOTHREAD != 0).then_some(task.tid),
    };
    let reaped = wait_child(
        task,
        target,
        events,
        options & WNOHANG != 0 || nonblocking_pidfd,
        options & WNOWAIT != 0,
    )?;
    if reaped.is_none() && nonblocking_pidfd && options & WNOHANG == 0 {
        return Err(Errno::EAGAIN);
    }
    Ok(reaped)
}
