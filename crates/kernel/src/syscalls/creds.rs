//! User and group ids and capabilities: the get/set id calls, setgroups(2),
//! capget(2), capset(2) and the capability prctl(2) options (`kernel/sys.c`,
//! `kernel/capability.c`, `security/commoncap.c`). The rules themselves live
//! in [`crate::task::creds`].

use abi::Errno;
use abi::capability::{
    CAP_LAST_CAP, CAP_SETPCAP, CapUserData, CapUserHeader, LINUX_CAPABILITY_VERSION_1,
    LINUX_CAPABILITY_VERSION_2, LINUX_CAPABILITY_VERSION_3, NGROUPS_MAX, PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL, PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP, PR_CAPBSET_READ, PR_GET_KEEPCAPS, PR_GET_SECUREBITS, PR_SET_KEEPCAPS,
    PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, SECBIT_KEEP_CAPS_LOCKED, SECBIT_NO_CAP_AMBIENT_RAISE,
    SECURE_ALL_BITS,
};
use abi::sysno::*;

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::Task;
use crate::task::creds::{CAP_FULL_SET, Credentials, cap_bit};

/// `SECURE_ALL_LOCKS`: the lock bit of each securebit.
const SECURE_ALL_LOCKS: u32 = SECURE_ALL_BITS & 0xaaa;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(SYS_GETUID, sys_getuid, &[], Support::Full, ""),
    entry(SYS_GETEUID, sys_geteuid, &[], Support::Full, ""),
    entry(SYS_GETGID, sys_getgid, &[], Support::Full, ""),
    entry(SYS_GETEGID, sys_getegid, &[], Support::Full, ""),
    entry(
        SYS_GETGROUPS,
        sys_getgroups,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETRESUID,
        sys_getresuid,
        &[Arg::Ptr, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_GETRESGID,
        sys_getresgid,
        &[Arg::Ptr, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(SYS_SETUID, sys_setuid, &[Arg::Int], Support::Full, ""),
    entry(SYS_SETGID, sys_setgid, &[Arg::Int], Support::Full, ""),
    entry(
        SYS_SETREUID,
        sys_setreuid,
        &[Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_SETREGID,
        sys_setregid,
        &[Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_SETRESUID,
        sys_setresuid,
        &[Arg::Int, Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(
        SYS_SETRESGID,
        sys_setresgid,
        &[Arg::Int, Arg::Int, Arg::Int],
        Support::Full,
        "",
    ),
    entry(SYS_SETFSUID, sys_setfsuid, &[Arg::Int], Support::Full, ""),
    entry(SYS_SETFSGID, sys_setfsgid, &[Arg::Int], Support::Full, ""),
    entry(
        SYS_SETGROUPS,
        sys_setgroups,
        &[Arg::Int, Arg::Ptr],
        Support::Full,
        "",
    ),
    entry(
        SYS_CAPGET,
        sys_capget,
        &[Arg::Ptr, Arg::Ptr],
        Support::Full,
        "the sandbox's own capabilities; none reach the host",
    ),
    entry(
        SYS_CAPSET,
        sys_capset,
        &[Arg::Ptr, Arg::Ptr],
        Support::Full,
        "the sandbox's own capabilities; none reach the host",
    ),
];

/// Implements Linux `getuid(2)`.
fn sys_getuid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.creds.uid))
}

/// Implements Linux `geteuid(2)`.
fn sys_geteuid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.creds.euid))
}

/// Implements Linux `getgid(2)`.
fn sys_getgid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.creds.gid))
}

/// Implements Linux `getegid(2)`.
fn sys_getegid(task: &mut Task, _: &SyscallArgs) -> SyscallResult {
    Ok(u64::from(task.creds.egid))
}

/// Implements Linux `getgroups(2)`.
fn sys_getgroups(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let size = args.i32(0);
    let count = task.creds.groups.len();
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(count as u64);
    }
    if usize::try_from(size).unwrap_or(0) < count {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = task
        .creds
        .groups
        .iter()
        .flat_map(|g| g.to_ne_bytes())
        .collect();
    task.mm.copy_out(args.addr(1), &bytes)?;
    Ok(count as u64)
}

/// Writes three ids to three pointers, as getresuid/getresgid do.
fn put_three_ids(task: &Task, args: &SyscallArgs, ids: [u32; 3]) -> SyscallResult {
    for (i, id) in ids.into_iter().enumerate() {
        task.mm.write_obj(args.addr(i), &id)?;
    }
    Ok(0)
}

/// Implements Linux `getresuid(2)`.
fn sys_getresuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let c = &task.creds;
    let ids = [c.uid, c.euid, c.suid];
    put_three_ids(task, args, ids)
}

/// Implements Linux `getresgid(2)`.
fn sys_getresgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let c = &task.creds;
    let ids = [c.gid, c.egid, c.sgid];
    put_three_ids(task, args, ids)
}

/// Applies `change` to the task's credentials (`commit_creds`): a process
/// whose effective or file-system ids change stops being dumpable, so that
/// what it had as its old self cannot be read through /proc or ptrace;
/// signals queued for it from now on count for its new real user.
fn change_ids(
    task: &mut Task,
    change: impl FnOnce(&mut Credentials) -> Result<(), Errno>,
) -> SyscallResult {
    let before = ids_that_guard_dumping(&task.creds);
    let uid = task.creds.uid;
    change(&mut task.creds)?;
    if ids_that_guard_dumping(&task.creds) != before {
        task.dumpable = false;
    }
    if task.creds.uid != uid {
        let user = task.kernel.signal_users.get(task.creds.uid);
        task.thread_group.set_signal_user(user);
    }
    Ok(0)
}

fn ids_that_guard_dumping(c: &Credentials) -> [u32; 4] {
    [c.euid, c.egid, c.fsuid, c.fsgid]
}

/// Implements Linux `setuid(2)`.
fn sys_setuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    change_ids(task, |c| c.set_uid(args.u32(0)))
}

/// Implements Linux `setgid(2)`.
fn sys_setgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    change_ids(task, |c| c.set_gid(args.u32(0)))
}

/// Implements Linux `setreuid(2)`.
fn sys_setreuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    change_ids(task, |c| c.set_reuid(args.u32(0), args.u32(1)))
}

/// Implements Linux `setregid(2)`.
fn sys_setregid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    change_ids(task, |c| c.set_regid(args.u32(0), args.u32(1)))
}

/// Implements Linux `setresuid(2)`.
fn sys_setresuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    change_ids(task, |c| {
        c.set_resuid(args.u32(0), args.u32(1), args.u32(2))
    })
}

/// Implements Linux `setresgid(2)`.
fn sys_setresgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    change_ids(task, |c| {
        c.set_resgid(args.u32(0), args.u32(1), args.u32(2))
    })
}

/// Implements Linux `setfsuid(2)`: answers the previous fsuid.
fn sys_setfsuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let mut old = 0;
    change_ids(task, |c| {
        old = c.set_fsuid(args.u32(0));
        Ok(())
    })?;
    Ok(u64::from(old))
}

/// Implements Linux `setfsgid(2)`: answers the previous fsgid.
fn sys_setfsgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let mut old = 0;
    change_ids(task, |c| {
        old = c.set_fsgid(args.u32(0));
        Ok(())
    })?;
    Ok(u64::from(old))
}

/// Implements Linux `setgroups(2)`.
fn sys_setgroups(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if !task.creds.has_cap(abi::capability::CAP_SETGID) {
        return Err(Errno::EPERM);
    }
    let count = usize::try_from(args.i32(0))
        .ok()
        .filter(|&n| n <= NGROUPS_MAX)
        .ok_or(Errno::EINVAL)?;
    let mut bytes = vec![0u8; count * 4];
    task.mm.copy_in(args.addr(1), &mut bytes)?;
    let groups = bytes
        .chunks_exact(4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    task.creds.set_groups(groups).map(|()| 0)
}

/// `cap_validate_magic`: how many 32-bit words per set the header's version
/// carries. An unknown version is answered with the preferred one, written
/// back to the header, and `EINVAL`.
fn capability_words(task: &Task, header: u64) -> Result<usize, Errno> {
    let version: u32 = task.mm.read_obj(header)?;
    match version {
        LINUX_CAPABILITY_VERSION_1 => Ok(1),
        LINUX_CAPABILITY_VERSION_2 | LINUX_CAPABILITY_VERSION_3 => Ok(2),
        _ => {
            task.mm.write_obj(header, &LINUX_CAPABILITY_VERSION_3)?;
            Err(Errno::EINVAL)
        }
    }
}

/// Implements Linux `capget(2)`.
fn sys_capget(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (header, data) = (args.addr(0), args.addr(1));
    let words = match capability_words(task, header) {
        // A null data pointer asks only for the preferred version.
        Err(Errno::EINVAL) if data == 0 => return Ok(0),
        Err(e) => return Err(e),
        Ok(_) if data == 0 => return Ok(0),
        Ok(words) => words,
    };
    let head: CapUserHeader = task.mm.read_obj(header)?;
    if head.pid < 0 {
        return Err(Errno::EINVAL);
    }
    let creds = if head.pid == 0 || head.pid == task.tid {
        task.creds.clone()
    } else {
        task.kernel
            .vfs
            .task_views()
            .get(head.pid)
            .map(|view| view.creds.clone())
            .ok_or(Errno::ESRCH)?
    };
    let sets = [
        creds.cap_effective,
        creds.cap_permitted,
        creds.cap_inheritable,
    ];
    for word in 0..words {
        let [effective, permitted, inheritable] =
            sets.map(|set| u32::try_from((set >> (32 * word)) & 0xffff_ffff).unwrap_or(0));
        let out = CapUserData {
            effective,
            permitted,
            inheritable,
        };
        task.mm
            .write_obj(data + (word * size_of::<CapUserData>()) as u64, &out)?;
    }
    Ok(0)
}

/// Implements Linux `capset(2)`: only the caller's own sets change.
fn sys_capset(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (header, data) = (args.addr(0), args.addr(1));
    let words = capability_words(task, header)?;
    let head: CapUserHeader = task.mm.read_obj(header)?;
    if head.pid != 0 && head.pid != task.tid {
        return Err(Errno::EPERM);
    }
    let mut sets = [0u64; 3];
    for word in 0..words {
        let d: CapUserData = task
            .mm
            .read_obj(data + (word * size_of::<CapUserData>()) as u64)?;
        for (set, half) in sets
            .iter_mut()
            .zip([d.effective, d.permitted, d.inheritable])
        {
            *set |= u64::from(half) << (32 * word);
        }
    }
    // Bits above CAP_LAST_CAP are dropped, as Linux's CAP_VALID_MASK does.
    let [effective, permitted, inheritable] = sets.map(|set| set & CAP_FULL_SET);
    let old = &task.creds;
    let subset = |a: u64, b: u64| a & !b == 0;
    if (!old.has_cap(CAP_SETPCAP) && !subset(inheritable, old.cap_inheritable | old.cap_permitted))
        || !subset(inheritable, old.cap_inheritable | old.cap_bounding)
        || !subset(permitted, old.cap_permitted)
        || !subset(effective, permitted)
    {
        return Err(Errno::EPERM);
    }
    let c = &mut task.creds;
    c.cap_effective = effective;
    c.cap_permitted = permitted;
    c.cap_inheritable = inheritable;
    c.cap_ambient &= permitted & inheritable;
    Ok(0)
}

/// The capability options of `prctl(2)`, for `option` (`cap_task_prctl`).
pub(super) fn prctl_capabilities(
    task: &mut Task,
    option: u32,
    args: &SyscallArgs,
) -> SyscallResult {
    let (arg2, arg3, arg4, arg5) = (args.u64(1), args.u64(2), args.u64(3), args.u64(4));
    let valid = |cap: u64| cap <= u64::from(CAP_LAST_CAP);
    let c = &mut task.creds;
    match option {
        PR_CAPBSET_READ => {
            if !valid(arg2) {
                return Err(Errno::EINVAL);
            }
            Ok(u64::from(c.cap_bounding & (1 << arg2) != 0))
        }
        PR_CAPBSET_DROP => {
            if !c.has_cap(CAP_SETPCAP) {
                return Err(Errno::EPERM);
            }
            if !valid(arg2) {
                return Err(Errno::EINVAL);
            }
            c.cap_bounding &= !(1 << arg2);
            Ok(0)
        }
        PR_GET_SECUREBITS => Ok(u64::from(c.securebits)),
        PR_SET_SECUREBITS => {
            let old = u64::from(c.securebits);
            let locks = old & u64::from(SECURE_ALL_LOCKS);
            if (locks >> 1) & (old ^ arg2) != 0
                || locks & !arg2 != 0
                || arg2 & !u64::from(SECURE_ALL_BITS) != 0
                || !c.has_cap(CAP_SETPCAP)
            {
                return Err(Errno::EPERM);
            }
            c.securebits = u32::try_from(arg2).map_err(|_| Errno::EPERM)?;
            Ok(0)
        }
        PR_GET_KEEPCAPS => Ok(u64::from(c.securebits & SECBIT_KEEP_CAPS != 0)),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 {
                return Err(Errno::EINVAL);
            }
            if c.securebits & SECBIT_KEEP_CAPS_LOCKED != 0 {
                return Err(Errno::EPERM);
            }
            if arg2 == 1 {
                c.securebits |= SECBIT_KEEP_CAPS;
            } else {
                c.securebits &= !SECBIT_KEEP_CAPS;
            }
            Ok(0)
        }
        PR_CAP_AMBIENT => prctl_ambient(c, arg2, arg3, arg4 | arg5),
        _ => Err(Errno::EINVAL),
    }
}

/// `PR_CAP_AMBIENT`: `op` on capability `cap`; `rest` is the unused
/// arguments, which must be zero.
fn prctl_ambient(c: &mut Credentials, op: u64, cap: u64, rest: u64) -> SyscallResult {
    if op == PR_CAP_AMBIENT_CLEAR_ALL {
        if cap | rest != 0 {
            return Err(Errno::EINVAL);
        }
        c.cap_ambient = 0;
        return Ok(0);
    }
    let cap = u32::try_from(cap)
        .ok()
        .filter(|&cap| cap <= CAP_LAST_CAP && rest == 0)
        .ok_or(Errno::EINVAL)?;
    let bit = cap_bit(cap);
    match op {
        PR_CAP_AMBIENT_IS_SET => Ok(u64::from(c.cap_ambient & bit != 0)),
        PR_CAP_AMBIENT_RAISE => {
            if c.cap_permitted & bit == 0
                || c.cap_inheritable & bit == 0
                || c.securebits & SECBIT_NO_CAP_AMBIENT_RAISE != 0
            {
                return Err(Errno::EPERM);
            }
            c.cap_ambient |= bit;
            Ok(0)
        }
        PR_CAP_AMBIENT_LOWER => {
            c.cap_ambient &= !bit;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
