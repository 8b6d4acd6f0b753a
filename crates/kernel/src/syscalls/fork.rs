//! Process creation and replacement: clone(2), clone3(2), fork(2),
//! vfork(2), execve(2), execveat(2).

use std::sync::Arc;

use abi::Errno;
use abi::capability::{CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN};
use abi::fcntl::{AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use abi::sched::{
    CLONE_CLEAR_SIGHAND, CLONE_DETACHED, CLONE_FS, CLONE_INTO_CGROUP, CLONE_NEWCGROUP,
    CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER,
    CLONE_NEWUTS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SIGHAND, CLONE_THREAD,
    CLONE_VFORK, CLONE_VM, CSIGNAL,
};
use abi::signal::SIGCHLD;
use abi::sysno::*;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::fs::{dirfd_start, read_path};
use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::{CloneArgs, PID_MAX, Program, Task};
use crate::vfs;

/// The namespace flags that need `CAP_SYS_ADMIN` (in the new user
/// namespace, with `CLONE_NEWUSER`). No namespaces are made: once
/// permitted they are EINVAL.
const ADMIN_NAMESPACE_FLAGS: u64 = CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_NEWTIME;

/// `CLONE_LEGACY_FLAGS`: what `clone` can say, and all `clone3` knows
/// besides [`CLONE_CLEAR_SIGHAND`] and [`CLONE_INTO_CGROUP`].
const CLONE_LEGACY_FLAGS: u64 = 0xffff_ffff;

/// `MAX_ARG_STRLEN` (`include/uapi/linux/binfmts.h`).
const MAX_ARG_STRLEN: usize = 32 * abi::PAGE_SIZE_USIZE;
/// The most argument and environment bytes read before E2BIG: a quarter of
/// the default 8 MiB stack, Linux's limit.
const MAX_ARG_BYTES: usize = 2 << 20;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_CLONE,
        sys_clone,
        &[Arg::Hex, Arg::Ptr, Arg::Ptr, Arg::Ptr, Arg::Hex],
        Support::Partial,
        "namespace flags are EPERM without CAP_SYS_ADMIN, else EINVAL (no namespaces); \
         CLONE_SIGHAND without CLONE_THREAD is EINVAL",
    ),
    entry(
        SYS_CLONE3,
        sys_clone3,
        &[Arg::Ptr, Arg::Len],
        Support::Partial,
        "as clone; set_tid in the sandbox's one pid namespace; CLONE_INTO_CGROUP is \
         EINVAL (no cgroupfs)",
    ),
    entry(SYS_FORK, sys_fork, &[], Support::Full, ""),
    entry(SYS_VFORK, sys_vfork, &[], Support::Full, ""),
    entry(
        SYS_EXECVE,
        sys_execve,
        &[Arg::Path, Arg::StrArray, Arg::StrArray],
        Support::Partial,
        "ELF and #! scripts",
    ),
    entry(
        SYS_EXECVEAT,
        sys_execveat,
        &[
            Arg::Fd,
            Arg::Path,
            Arg::StrArray,
            Arg::StrArray,
            Arg::AtFlags,
        ],
        Support::Partial,
        "as execve",
    ),
];

/// Implements Linux `fork(2)`.
fn sys_fork(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    task.fork_process(CloneArgs {
        exit_signal: SIGCHLD,
        ..CloneArgs::default()
    })
}

/// Implements Linux `vfork(2)`.
fn sys_vfork(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    do_clone(
        task,
        CloneArgs {
            flags: CLONE_VM | CLONE_VFORK,
            exit_signal: SIGCHLD,
            ..CloneArgs::default()
        },
        &[],
    )
}

/// Implements Linux `clone(2)` (x86-64 argument order: flags, stack,
/// parent_tid, child_tid, tls). Only the low 32 bits of the flags count,
/// and `CLONE_DETACHED` is ignored, as in Linux; an exit signal above 64 is
/// accepted and never sent.
fn sys_clone(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let raw = args.u64(0) & CLONE_LEGACY_FLAGS;
    let flags = raw & !CSIGNAL;
    if flags & CLONE_PIDFD != 0 && flags & CLONE_DETACHED != 0 {
        return Err(Errno::EINVAL);
    }
    do_clone(
        task,
        CloneArgs {
            flags: flags & !CLONE_DETACHED,
            exit_signal: u32::try_from(raw & CSIGNAL).map_err(|_| Errno::EINVAL)?,
            stack: args.u64(1),
            parent_tid: args.addr(2),
            child_tid: args.addr(3),
            tls: args.u64(4),
            // clone's CLONE_PIDFD writes where CLONE_PARENT_SETTID would.
            pidfd: args.addr(2),
            set_tid: None,
        },
        &[],
    )
}

/// `struct clone_args` (`include/uapi/linux/sched.h`), version 2 (88
/// bytes); earlier versions are its prefixes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
struct CloneArgsRaw {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `CLONE_ARGS_SIZE_VER0`.
const CLONE_ARGS_SIZE_VER0: u64 = 64;
/// `MAX_PID_NS_LEVEL`: the most entries `set_tid` may hold.
const MAX_PID_NS_LEVEL: u64 = 32;

/// Implements Linux `clone3(2)`.
fn sys_clone3(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let size = args.u64(1);
    if size > abi::PAGE_SIZE {
        return Err(Errno::E2BIG);
    }
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    let full = size_of::<CloneArgsRaw>() as u64;
    let mut raw = CloneArgsRaw::default();
    let known = usize::try_from(size.min(full)).map_err(|_| Errno::EINVAL)?;
    task.mm
        .copy_in(args.addr(0), &mut raw.as_mut_bytes()[..known])?;
    if size > full {
        // Fields this kernel does not know must be zero (E2BIG otherwise).
        let mut rest = vec![0u8; usize::try_from(size - full).map_err(|_| Errno::EINVAL)?];
        task.mm.copy_in(args.addr(0) + full, &mut rest)?;
        if rest.iter().any(|&b| b != 0) {
            return Err(Errno::E2BIG);
        }
    }
    // copy_clone_args_from_user, then clone3_args_valid.
    if raw.set_tid_size > MAX_PID_NS_LEVEL
        || (raw.set_tid == 0) != (raw.set_tid_size == 0)
        || raw.exit_signal > u64::from(abi::signal::SIGRTMAX)
    {
        return Err(Errno::EINVAL);
    }
    let mut set_tid = vec![0i32; usize::try_from(raw.set_tid_size).map_err(|_| Errno::EINVAL)?];
    task.mm.copy_in(raw.set_tid, set_tid.as_mut_bytes())?;
    let flags = raw.flags;
    if flags & !(CLONE_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0
        || flags & (CLONE_DETACHED | (CSIGNAL & !CLONE_NEWTIME)) != 0
        || (flags & CLONE_SIGHAND != 0 && flags & CLONE_CLEAR_SIGHAND != 0)
        || (flags & (CLONE_THREAD | CLONE_PARENT) != 0 && raw.exit_signal != 0)
        || (raw.stack == 0) != (raw.stack_size == 0)
    {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_INTO_CGROUP != 0 {
        task.kernel
            .note("clone3: CLONE_INTO_CGROUP is not supported (no cgroupfs): EINVAL");
        return Err(Errno::EINVAL);
    }
    let stack = match raw.stack {
        0 => 0,
        base => base
            .checked_add(raw.stack_size)
            .filter(|&top| top <= abi::TASK_SIZE)
            .ok_or(Errno::EINVAL)?,
    };
    do_clone(
        task,
        CloneArgs {
            flags,
            exit_signal: u32::try_from(raw.exit_signal).map_err(|_| Errno::EINVAL)?,
            stack,
            parent_tid: raw.parent_tid,
            child_tid: raw.child_tid,
            tls: raw.tls,
            pidfd: raw.pidfd,
            set_tid: None,
        },
        &set_tid,
    )
}

/// The checks of Linux's `kernel_clone` and `copy_process`, then the clone
/// itself. `set_tid` is `clone3`'s, one pid per namespace level, the
/// innermost first.
fn do_clone(task: &mut Task, mut args: CloneArgs, set_tid: &[i32]) -> SyscallResult {
    let flags = args.flags;
    // The two share clone's pointer; clone3 must not point them together.
    if flags & CLONE_PIDFD != 0 && flags & CLONE_PARENT_SETTID != 0 && args.pidfd == args.parent_tid
    {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_NEWNS | CLONE_FS) == CLONE_NEWNS | CLONE_FS
        || flags & (CLONE_NEWUSER | CLONE_FS) == CLONE_NEWUSER | CLONE_FS
        || (flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0)
        || (flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0)
        || (flags & CLONE_THREAD != 0 && flags & (CLONE_NEWUSER | CLONE_NEWPID) != 0)
    {
        return Err(Errno::EINVAL);
    }
    // Init has no parent whose child another process could become.
    if flags & CLONE_PARENT != 0 && task.thread_group.pid == 1 {
        return Err(Errno::EINVAL);
    }
    if flags & ADMIN_NAMESPACE_FLAGS != 0
        && flags & CLONE_NEWUSER == 0
        && !task.creds.has_cap(CAP_SYS_ADMIN)
    {
        return Err(Errno::EPERM);
    }
    if flags & (ADMIN_NAMESPACE_FLAGS | CLONE_NEWUSER) != 0 {
        task.kernel.note(&format!(
            "clone: flags {flags:#x} ask for namespaces, which are not supported: EINVAL"
        ));
        return Err(Errno::EINVAL);
    }
    args.set_tid = set_tid_pid(task, set_tid)?;
    if flags & CLONE_THREAD != 0 {
        return task.clone_thread(args);
    }
    if flags & CLONE_SIGHAND != 0 {
        // A process sharing its parent's signal actions without sharing
        // its thread group is not supported.
        task.kernel
            .note("clone: CLONE_SIGHAND without CLONE_THREAD: EINVAL");
        return Err(Errno::EINVAL);
    }
    task.fork_process(args)
}

/// The pid `set_tid` asks for in the sandbox's one pid namespace (level
/// 0), with the checks of Linux's `alloc_pid`: one entry at most, in
/// range, and `CAP_SYS_ADMIN` or `CAP_CHECKPOINT_RESTORE`.
fn set_tid_pid(task: &Task, set_tid: &[i32]) -> Result<Option<i32>, Errno> {
    let pid = match set_tid {
        [] => return Ok(None),
        [pid] => *pid,
        _ => return Err(Errno::EINVAL),
    };
    if !(1..PID_MAX).contains(&pid) {
        return Err(Errno::EINVAL);
    }
    if !task.creds.has_cap(CAP_SYS_ADMIN) && !task.creds.has_cap(CAP_CHECKPOINT_RESTORE) {
        return Err(Errno::EPERM);
    }
    Ok(Some(pid))
}

/// Reads a NULL-terminated array of C strings (argv, envp) from program
/// memory; E2BIG past Linux's limits, EFAULT on bad memory.
fn read_string_array(task: &Task, addr: u64) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    let mut total = 0usize;
    for i in 0u64.. {
        let ptr: u64 = task
            .mm
            .read_obj(addr.checked_add(i * 8).ok_or(Errno::EFAULT)?)?;
        if ptr == 0 {
            break;
        }
        let s = task.mm.read_c_string(ptr, MAX_ARG_STRLEN).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        total += s.len() + 1 + 8;
        if total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        out.push(s);
    }
    Ok(out)
}

/// Implements Linux `execve(2)`.
fn sys_execve(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let path = task.mm.read_c_string(args.addr(0), abi::fcntl::PATH_MAX)?;
    let argv = read_string_array(task, args.addr(1))?;
    let envp = read_string_array(task, args.addr(2))?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let program = Program::open(task, &path)?;
    task.execve(program, argv, &envp)?;
    // The new program starts with every general register zero.
    Ok(0)
}

/// Implements Linux `execveat(2)`: the program is `path` from the
/// directory `dirfd`, or with `AT_EMPTY_PATH` and an empty path the file
/// `dirfd` itself (`fexecve(3)`).
fn sys_execveat(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let dirfd = args.i32(0);
    let path = read_path(task, args.addr(1))?;
    let flags = args.u64(4);
    if flags & !u64::from(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let follow = flags & u64::from(AT_SYMLINK_NOFOLLOW) == 0;
    let empty = path.is_empty();
    let file = if empty {
        if flags & u64::from(AT_EMPTY_PATH) == 0 {
            return Err(Errno::ENOENT);
        }
        let dentry = if dirfd == AT_FDCWD {
            Arc::clone(task.fs().cwd())
        } else {
            let file = task.fds().get(dirfd)?;
            // A pipe or socket has no place to open again.
            file.dentry().map(Arc::clone).ok_or(Errno::EACCES)?
        };
        vfs::open_executable_dentry(&task.creds, dentry)?
    } else {
        let start = dirfd_start(task, dirfd, &path)?;
        vfs::open_executable_at(&task.fs(), &task.creds, start.as_ref(), &path, follow)?
    };
    // alloc_bprm: a file found through a directory fd is named by that fd.
    let by_fd = dirfd != AT_FDCWD && path.first() != Some(&b'/');
    let name = match (by_fd, empty) {
        (false, _) => path,
        (true, true) => format!("/dev/fd/{dirfd}").into_bytes(),
        (true, false) => {
            let mut name = format!("/dev/fd/{dirfd}/").into_bytes();
            name.extend_from_slice(&path);
            name
        }
    };
    let program = Program {
        file,
        name,
        name_inaccessible: by_fd && task.fds().cloexec(dirfd)?,
        comm_from_file: by_fd && empty,
    };
    let argv = read_string_array(task, args.addr(2))?;
    let envp = read_string_array(task, args.addr(3))?;
    task.execve(program, argv, &envp)?;
    Ok(0)
}
