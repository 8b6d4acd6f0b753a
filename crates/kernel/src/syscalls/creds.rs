//! Changing who a task is: setuid(2), setgid(2), setreuid(2), setregid(2),
//! setresuid(2), setresgid(2), setfsuid(2), setfsgid(2), setgroups(2).
//!
//! Credentials are per thread, as in Linux (glibc makes a process-wide
//! change by having every thread make it). The sandbox has no capability
//! sets: a task holds `CAP_SETUID` and `CAP_SETGID` exactly while its
//! effective uid is 0, which is what Linux's rules give a root process
//! that does not use `PR_SET_KEEPCAPS` or file capabilities.

use abi::Errno;
use abi::sysno::*;

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::{Credentials, Task};

/// `NGROUPS_MAX` (`include/uapi/linux/limits.h`).
const NGROUPS_MAX: usize = 65_536;

/// The id that means "leave unchanged" (and is never a valid id).
const UNCHANGED: u32 = u32::MAX;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
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
];

/// One id family (user or group) of a task's credentials, so the uid and
/// gid calls share their rules.
#[derive(Clone, Copy)]
enum Ids {
    User,
    Group,
}

impl Ids {
    /// (real, effective, saved, file-system) ids of `creds`.
    fn get(self, creds: &Credentials) -> [u32; 4] {
        match self {
            Ids::User => [creds.uid, creds.euid, creds.suid, creds.fsuid],
            Ids::Group => [creds.gid, creds.egid, creds.sgid, creds.fsgid],
        }
    }

    fn set(self, creds: &mut Credentials, [real, effective, saved, fs]: [u32; 4]) {
        match self {
            Ids::User => {
                (creds.uid, creds.euid, creds.suid, creds.fsuid) = (real, effective, saved, fs);
            }
            Ids::Group => {
                (creds.gid, creds.egid, creds.sgid, creds.fsgid) = (real, effective, saved, fs);
            }
        }
    }
}

/// Whether `task` may set ids freely (`CAP_SETUID`/`CAP_SETGID`).
fn privileged(task: &Task) -> bool {
    task.creds.euid == 0
}

/// Installs `new` as the task's credentials (Linux's `commit_creds`): a
/// change of effective or file-system ids makes the process non-dumpable
/// and clears its parent-death signal.
fn commit(task: &mut Task, new: Credentials) {
    let old = &task.creds;
    if old.euid != new.euid
        || old.egid != new.egid
        || old.fsuid != new.fsuid
        || old.fsgid != new.fsgid
    {
        task.dumpable = false;
        task.pdeath_signal = 0;
        task.kernel.tree.set_pdeath_signal(task.thread_group.pid, 0);
    }
    task.creds = new;
}

/// The worker behind setuid and setgid (`__sys_setuid`).
fn set_id(task: &mut Task, ids: Ids, id: u32) -> SyscallResult {
    if id == UNCHANGED {
        return Err(Errno::EINVAL);
    }
    let [real, _, saved, _] = ids.get(&task.creds);
    let mut new = task.creds.clone();
    if privileged(task) {
        ids.set(&mut new, [id; 4]);
    } else if id == real || id == saved {
        ids.set(&mut new, [real, id, saved, id]);
    } else {
        return Err(Errno::EPERM);
    }
    commit(task, new);
    Ok(0)
}

/// The worker behind setreuid and setregid (`__sys_setreuid`).
fn set_re_id(task: &mut Task, ids: Ids, real: u32, effective: u32) -> SyscallResult {
    let [old_real, old_effective, old_saved, _] = ids.get(&task.creds);
    let privileged = privileged(task);
    if real != UNCHANGED && !privileged && real != old_real && real != old_effective {
        return Err(Errno::EPERM);
    }
    if effective != UNCHANGED
        && !privileged
        && effective != old_real
        && effective != old_effective
        && effective != old_saved
    {
        return Err(Errno::EPERM);
    }
    let new_real = if real == UNCHANGED { old_real } else { real };
    let new_effective = if effective == UNCHANGED {
        old_effective
    } else {
        effective
    };
    // The saved id follows the effective one when the real id is set, or
    // the effective one is set to something other than the old real id.
    let new_saved = if real != UNCHANGED || (effective != UNCHANGED && effective != old_real) {
        new_effective
    } else {
        old_saved
    };
    let mut new = task.creds.clone();
    ids.set(
        &mut new,
        [new_real, new_effective, new_saved, new_effective],
    );
    commit(task, new);
    Ok(0)
}

/// The worker behind setresuid and setresgid (`__sys_setresuid`).
fn set_res_id(task: &mut Task, ids: Ids, wanted: [u32; 3]) -> SyscallResult {
    let [real, effective, saved, _] = ids.get(&task.creds);
    let current = [real, effective, saved];
    if !privileged(task)
        && wanted
            .iter()
            .any(|&id| id != UNCHANGED && !current.contains(&id))
    {
        return Err(Errno::EPERM);
    }
    let [r, e, s] = [0, 1, 2].map(|i| {
        if wanted[i] == UNCHANGED {
            current[i]
        } else {
            wanted[i]
        }
    });
    let mut new = task.creds.clone();
    ids.set(&mut new, [r, e, s, e]);
    commit(task, new);
    Ok(0)
}

/// The worker behind setfsuid and setfsgid: returns the old file-system
/// id whether or not the change is allowed, as Linux does.
fn set_fs_id(task: &mut Task, ids: Ids, id: u32) -> SyscallResult {
    let [real, effective, saved, fs] = ids.get(&task.creds);
    if id != UNCHANGED && (privileged(task) || [real, effective, saved, fs].contains(&id)) {
        let mut new = task.creds.clone();
        ids.set(&mut new, [real, effective, saved, id]);
        commit(task, new);
    }
    Ok(u64::from(fs))
}

/// Implements Linux `setuid(2)`.
fn sys_setuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_id(task, Ids::User, args.u32(0))
}

/// Implements Linux `setgid(2)`.
fn sys_setgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_id(task, Ids::Group, args.u32(0))
}

/// Implements Linux `setreuid(2)`.
fn sys_setreuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_re_id(task, Ids::User, args.u32(0), args.u32(1))
}

/// Implements Linux `setregid(2)`.
fn sys_setregid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_re_id(task, Ids::Group, args.u32(0), args.u32(1))
}

/// Implements Linux `setresuid(2)`.
fn sys_setresuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_res_id(task, Ids::User, [args.u32(0), args.u32(1), args.u32(2)])
}

/// Implements Linux `setresgid(2)`.
fn sys_setresgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_res_id(task, Ids::Group, [args.u32(0), args.u32(1), args.u32(2)])
}

/// Implements Linux `setfsuid(2)`.
fn sys_setfsuid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_fs_id(task, Ids::User, args.u32(0))
}

/// Implements Linux `setfsgid(2)`.
fn sys_setfsgid(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    set_fs_id(task, Ids::Group, args.u32(0))
}

/// Implements Linux `setgroups(2)`.
fn sys_setgroups(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if !privileged(task) {
        return Err(Errno::EPERM);
    }
    let size = usize::try_from(args.i32(0))
        .ok()
        .filter(|&n| n <= NGROUPS_MAX)
        .ok_or(Errno::EINVAL)?;
    let mut bytes = vec![0u8; size * 4];
    task.mm.copy_in(args.addr(1), &mut bytes)?;
    let mut groups: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    // Linux keeps the list sorted (groups_sort), which getgroups shows.
    groups.sort_unstable();
    let mut new = task.creds.clone();
    new.groups = groups;
    task.creds = new;
    Ok(0)
}
