//! Process creation and replacement: clone(2), clone3(2), fork(2),
//! vfork(2), execve(2).

use abi::Errno;
use abi::sched::{
    CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_DETACHED, CLONE_FILES, CLONE_FS, CLONE_IO,
    CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER,
    CLONE_NEWUTS, CLONE_PARENT, CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_PTRACE, CLONE_SETTLS,
    CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_UNTRACED, CLONE_VFORK, CLONE_VM, CSIGNAL,
};
use abi::signal::SIGCHLD;
use abi::sysno::*;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::{CloneArgs, Task};

/// The flags this kernel knows; others are EINVAL.
const KNOWN_CLONE_FLAGS: u64 = CSIGNAL
    | CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_PIDFD
    | CLONE_PTRACE
    | CLONE_VFORK
    | CLONE_PARENT
    | CLONE_THREAD
    | CLONE_NEWNS
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_DETACHED
    | CLONE_UNTRACED
    | CLONE_CHILD_SETTID
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
    | CLONE_IO;

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
        "namespace flags, CLONE_PIDFD and CLONE_SIGHAND without CLONE_THREAD are EINVAL; \
         CLONE_VM without CLONE_THREAD gives the child a copy-on-write copy",
    ),
    entry(
        SYS_CLONE3,
        sys_clone3,
        &[Arg::Ptr, Arg::Len],
        Support::Partial,
        "as clone",
    ),
    entry(SYS_FORK, sys_fork, &[], Support::Full, ""),
    entry(
        SYS_VFORK,
        sys_vfork,
        &[],
        Support::Partial,
        "the child gets a copy-on-write copy of the memory; the parent waits for its exec or exit",
    ),
    entry(
        SYS_EXECVE,
        sys_execve,
        &[Arg::Path, Arg::StrArray, Arg::StrArray],
        Support::Partial,
        "ELF and #! scripts; a multi-threaded caller is not de-threaded yet",
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
    )
}

/// Implements Linux `clone(2)` (x86-64 argument order: flags, stack,
/// parent_tid, child_tid, tls).
fn sys_clone(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let raw = args.u64(0);
    let signal = raw & CSIGNAL;
    do_clone(
        task,
        CloneArgs {
            flags: raw & !CSIGNAL,
            exit_signal: u32::try_from(signal).map_err(|_| Errno::EINVAL)?,
            stack: args.u64(1),
            parent_tid: args.addr(2),
            child_tid: args.addr(3),
            tls: args.u64(4),
        },
    )
}

/// `struct clone_args` (`include/uapi/linux/sched.h`), version 0 (64 bytes)
/// and later (set_tid and cgroup fields, which must be zero here).
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

/// Implements Linux `clone3(2)`.
fn sys_clone3(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let size = args.u64(1);
    if !(CLONE_ARGS_SIZE_VER0..=abi::PAGE_SIZE).contains(&size) {
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
    if raw.flags & CSIGNAL != 0 || raw.exit_signal > u64::from(abi::signal::SIGRTMAX) {
        return Err(Errno::EINVAL);
    }
    if raw.set_tid_size != 0 || raw.cgroup != 0 {
        return Err(Errno::EINVAL);
    }
    let stack = if raw.stack != 0 {
        raw.stack.checked_add(raw.stack_size).ok_or(Errno::EINVAL)?
    } else {
        0
    };
    do_clone(
        task,
        CloneArgs {
            flags: raw.flags,
            exit_signal: u32::try_from(raw.exit_signal).map_err(|_| Errno::EINVAL)?,
            stack,
            parent_tid: raw.parent_tid,
            child_tid: raw.child_tid,
            tls: raw.tls,
        },
    )
}

/// The checks of Linux's `copy_process`, then the clone itself.
fn do_clone(task: &mut Task, args: CloneArgs) -> SyscallResult {
    let flags = args.flags;
    if flags & !KNOWN_CLONE_FLAGS != 0 || args.exit_signal > abi::signal::SIGRTMAX {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_NEWNS | CLONE_NEWUSER) == (CLONE_NEWNS | CLONE_NEWUSER)
        || (flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS)
    {
        return Err(Errno::EINVAL);
    }
    let namespaces = CLONE_NEWNS
        | CLONE_NEWCGROUP
        | CLONE_NEWUTS
        | CLONE_NEWIPC
        | CLONE_NEWUSER
        | CLONE_NEWPID
        | CLONE_NEWNET;
    if flags & CLONE_PIDFD != 0 || flags & namespaces != 0 {
        task.kernel.note(&format!(
            "clone: flags {flags:#x} need pidfds or namespaces: EINVAL"
        ));
        return Err(Errno::EINVAL);
    }
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
    task.execve(&path, argv, &envp)?;
    // The new program starts with every general register zero.
    Ok(0)
}
