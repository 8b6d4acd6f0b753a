//! System identity and scheduling: uname(2), sysinfo(2), getrandom(2),
//! sched_getaffinity(2), sched_yield(2), getcpu(2).

use abi::Errno;
use abi::sysno::*;
use abi::uio::MAX_RW_COUNT;
use abi::utsname::{Sysinfo, UTS_LEN, Utsname};

use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::host;
use crate::kernel::{LINUX_RELEASE, LINUX_VERSION};
use crate::task::Task;

// include/uapi/linux/random.h
const GRND_NONBLOCK: u32 = 0x0001;
const GRND_RANDOM: u32 = 0x0002;
const GRND_INSECURE: u32 = 0x0004;

/// Bytes `getrandom` produces between checks, so a huge request neither
/// allocates its length nor holds the task for long.
const RANDOM_CHUNK: usize = 64 * 1024;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_UNAME,
        sys_uname,
        &[Arg::Ptr],
        Support::Full,
        "reports the version the sentry declares",
    ),
    entry(
        SYS_SYSINFO,
        sys_sysinfo,
        &[Arg::Ptr],
        Support::Partial,
        "memory and load figures are the host's; swap is reported as none",
    ),
    entry(
        SYS_GETRANDOM,
        sys_getrandom,
        &[Arg::OutBuf, Arg::Len, Arg::Hex],
        Support::Full,
        "",
    ),
    entry(
        SYS_SCHED_GETAFFINITY,
        sys_sched_getaffinity,
        &[Arg::Int, Arg::Len, Arg::Ptr],
        Support::Partial,
        "reports the sandbox's CPU set; only the calling thread's pid is known",
    ),
    entry(
        SYS_SCHED_SETAFFINITY,
        sys_sched_setaffinity,
        &[Arg::Int, Arg::Len, Arg::Ptr],
        Support::Partial,
        "the set is checked and reported back; the platform decides where host threads run",
    ),
    entry(SYS_SCHED_YIELD, sys_sched_yield, &[], Support::Full, ""),
    entry(
        SYS_GETCPU,
        sys_getcpu,
        &[Arg::Ptr, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "the CPU is the one the task's host thread runs on, within its affinity; node 0",
    ),
];

/// Copies `s` into a NUL-padded utsname field.
fn uts_field(s: &str) -> [u8; UTS_LEN] {
    let mut field = [0u8; UTS_LEN];
    let len = s.len().min(UTS_LEN - 1);
    field[..len].copy_from_slice(&s.as_bytes()[..len]);
    field
}

/// Implements Linux `uname(2)`: the release is the one the sentry declares,
/// the node name the sandbox's host name.
fn sys_uname(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let uts = Utsname {
        sysname: uts_field("Linux"),
        nodename: uts_field(&task.kernel.hostname),
        release: uts_field(LINUX_RELEASE),
        version: uts_field(LINUX_VERSION),
        machine: uts_field("x86_64"),
        domainname: uts_field("(none)"),
    };
    task.mm.write_obj(args.addr(0), &uts)?;
    Ok(0)
}

/// Implements Linux `sysinfo(2)`.
fn sys_sysinfo(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (total, free, loads) = host::host_memory();
    let info = Sysinfo {
        uptime: i64::try_from(task.kernel.boot_time.elapsed().as_secs()).unwrap_or(i64::MAX),
        loads,
        totalram: total,
        freeram: free,
        procs: 1,
        mem_unit: 1,
        ..Sysinfo::default()
    };
    task.mm.write_obj(args.addr(0), &info)?;
    Ok(0)
}

/// Implements Linux `getrandom(2)` from the host's random source.
fn sys_getrandom(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (addr, flags) = (args.addr(0), args.u32(2));
    if args.u64(2) & !u64::from(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE) != 0
        || flags & (GRND_INSECURE | GRND_RANDOM) == GRND_INSECURE | GRND_RANDOM
    {
        return Err(Errno::EINVAL);
    }
    let len = usize::try_from(args.u64(1).min(MAX_RW_COUNT)).map_err(|_| Errno::EINVAL)?;
    let mut chunk = vec![0u8; len.min(RANDOM_CHUNK)];
    let mut done = 0;
    while done < len {
        let want = (len - done).min(chunk.len());
        let got = host::getrandom(&mut chunk[..want], flags & (GRND_NONBLOCK | GRND_INSECURE))?;
        let copied = task.mm.copy_out_partial(addr + done as u64, &chunk[..got]);
        done += copied;
        if copied < got {
            if done == 0 {
                return Err(Errno::EFAULT);
            }
            break;
        }
    }
    Ok(done as u64)
}

/// `nr_cpu_ids`: one more than the highest CPU the sandbox has.
fn nr_cpu_ids(task: &Task) -> u64 {
    task.kernel
        .cpus
        .iter()
        .max()
        .map_or(1, |&max| max as u64 + 1)
}

/// Checks the pid of a sched_*affinity call: only the caller is known.
fn affinity_target(task: &Task, pid: i32) -> Result<(), Errno> {
    if pid < 0 {
        return Err(Errno::EINVAL);
    }
    if pid != 0 && pid != task.tid {
        return Err(Errno::ESRCH);
    }
    Ok(())
}

/// Implements Linux `sched_getaffinity(2)`: the task's CPU set within the
/// sandbox's CPUs (the caller's affinity when it started), never the CPU a
/// platform pins a host thread to.
fn sys_sched_getaffinity(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    affinity_target(task, args.i32(0))?;
    let len = args.u64(1);
    let nr_cpu_ids = nr_cpu_ids(task);
    if len.saturating_mul(8) < nr_cpu_ids || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    // cpumask_size(): whole longs covering nr_cpu_ids.
    let mask_size = nr_cpu_ids.div_ceil(64) * 8;
    let mut mask = vec![0u8; usize::try_from(mask_size).map_err(|_| Errno::EINVAL)?];
    for &cpu in &task.cpus {
        mask[cpu / 8] |= 1 << (cpu % 8);
    }
    let size = len.min(mask_size);
    task.mm.copy_out(
        args.addr(2),
        &mask[..usize::try_from(size).map_err(|_| Errno::EINVAL)?],
    )?;
    Ok(size)
}

/// Implements Linux `sched_setaffinity(2)`: the new set, limited to the
/// sandbox's CPUs, is what `sched_getaffinity` reports from then on.
fn sys_sched_setaffinity(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    affinity_target(task, args.i32(0))?;
    // get_user_cpu_mask: a shorter mask is zero-extended, a longer one cut.
    let mask_size =
        usize::try_from(nr_cpu_ids(task).div_ceil(64) * 8).map_err(|_| Errno::EINVAL)?;
    let len = usize::try_from(args.u64(1))
        .unwrap_or(usize::MAX)
        .min(mask_size);
    let mut mask = vec![0u8; mask_size];
    task.mm.copy_in(args.addr(2), &mut mask[..len])?;
    let cpus: Vec<usize> = task
        .kernel
        .cpus
        .iter()
        .copied()
        .filter(|&cpu| mask[cpu / 8] & (1 << (cpu % 8)) != 0)
        .collect();
    if cpus.is_empty() {
        return Err(Errno::EINVAL);
    }
    task.cpus = cpus;
    Ok(0)
}

/// Implements Linux `getcpu(2)`: the CPU the task's host thread runs on
/// (the first CPU of its affinity if the platform runs it elsewhere, so
/// the answer agrees with `sched_getaffinity`), on node 0. The third
/// argument (the old `getcpu_cache`) is ignored, as Linux ignores it.
fn sys_getcpu(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let host_cpu = host::current_cpu();
    let cpu = if task.cpus.contains(&host_cpu) {
        host_cpu
    } else {
        task.cpus.first().copied().unwrap_or(0)
    };
    if args.addr(0) != 0 {
        let cpu = u32::try_from(cpu).map_err(|_| Errno::EINVAL)?;
        task.mm.write_obj(args.addr(0), &cpu)?;
    }
    if args.addr(1) != 0 {
        task.mm.write_obj(args.addr(1), &0u32)?;
    }
    Ok(0)
}

/// Implements Linux `sched_yield(2)`: the task's host thread yields.
fn sys_sched_yield(_: &mut Task, _: &SyscallArgs) -> SyscallResult {
    std::thread::yield_now();
    Ok(0)
}
