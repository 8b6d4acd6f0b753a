//! The contents of procfs's per-process files (`/proc/[pid]/...` and
//! `/proc/[pid]/task/[tid]/...`), in Linux's formats (`fs/proc/array.c`,
//! `fs/proc/task_mmu.c`, `fs/proc/base.c`, `fs/proc/fd.c`), generated from
//! a [`ProcessView`] when the file is opened.

use std::fmt::Write as _;

use abi::stat::{S_IFMT, S_IFSOCK};

use crate::mm::{MemoryManager, VmaBacking};
use crate::task::{ProcessView, TaskView};
use crate::vfs::File;

const PAGE: u64 = abi::PAGE_SIZE;
/// The most `cmdline` or `environ` returns (Linux reads the whole range;
/// the loader keeps it under a quarter of the stack).
const MAX_ARGS: u64 = 4 << 20;

/// The name `/proc/[pid]/fd/N` links to for `file`: its path, or
/// `pipe:[ino]`, `socket:[ino]` and `anon_inode:[...]` for files with no
/// place in the view.
pub(crate) fn fd_link_name(file: &File) -> Vec<u8> {
    if let Some(d) = file.dentry() {
        return d.display_path();
    }
    if let Some(name) = file.ops().anon_name() {
        return format!("anon_inode:[{name}]").into_bytes();
    }
    match file.stat() {
        Ok(st) => match st.st_mode & S_IFMT {
            abi::stat::S_IFIFO => format!("pipe:[{}]", st.st_ino).into_bytes(),
            S_IFSOCK => format!("socket:[{}]", st.st_ino).into_bytes(),
            abi::stat::S_IFCHR => device_name(st.st_rdev).into_bytes(),
            _ => b"anon_inode:[carapace]".to_vec(),
        },
        Err(_) => b"anon_inode:[carapace]".to_vec(),
    }
}

/// A best guess at a character device's `/dev` name from its number.
fn device_name(rdev: u64) -> String {
    match (abi::stat::major(rdev), abi::stat::minor(rdev)) {
        (1, 3) => "/dev/null".to_owned(),
        (1, 5) => "/dev/zero".to_owned(),
        (1, 7) => "/dev/full".to_owned(),
        (1, 8) => "/dev/random".to_owned(),
        (1, 9) => "/dev/urandom".to_owned(),
        (5, 0) => "/dev/tty".to_owned(),
        (5, 1) => "/dev/console".to_owned(),
        (5, 2) => "/dev/ptmx".to_owned(),
        (136..=143, n) => format!("/dev/pts/{n}"),
        (4, n) => format!("/dev/tty{n}"),
        (ma, mi) => format!("/dev/char/{ma}:{mi}"),
    }
}

/// `fdinfo/N`.
pub(crate) fn fdinfo(file: &File, cloexec: bool, mnt_id: u32) -> Vec<u8> {
    let mut flags = file.flags();
    if cloexec {
        flags |= abi::fcntl::O_CLOEXEC;
    }
    let ino = file.stat().map(|st| st.st_ino).unwrap_or(0);
    format!(
        "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n{}",
        file.pos(),
        flags,
        mnt_id,
        ino,
        file.ops().show_fdinfo()
    )
    .into_bytes()
}

/// Reads `[start, end)` of `mm`, stopping at the first unmapped page.
fn read_range(mm: &MemoryManager, start: u64, end: u64) -> Vec<u8> {
    if end <= start {
        return Vec::new();
    }
    let len = (end - start).min(MAX_ARGS);
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(0)];
    let n = mm.copy_in_partial(start, &mut buf);
    buf.truncate(n);
    buf
}

/// `cmdline`: the argument strings as they are in memory now. If the
/// program overwrote the final NUL (setproctitle), Linux reads on into
/// the environment up to the first NUL; so does this.
pub(crate) fn cmdline(mm: &MemoryManager) -> Vec<u8> {
    let [arg_start, arg_end, env_start, env_end] = mm.arg_bounds();
    let mut args = read_range(mm, arg_start, arg_end);
    if args.last().is_some_and(|&b| b != 0) {
        let env = read_range(mm, env_start, env_end);
        let upto = env.iter().position(|&b| b == 0).unwrap_or(env.len());
        args.extend_from_slice(&env[..upto]);
    } else if let Some(end) = args.iter().position(|&b| b == 0)
        && args[end + 1..].iter().all(|&b| b == 0)
    {
        // Trailing NULs beyond the last string (argv shortened in place).
        args.truncate(end + 1);
    }
    args
}

/// `environ`.
pub(crate) fn environ(mm: &MemoryManager) -> Vec<u8> {
    let [_, _, env_start, env_end] = mm.arg_bounds();
    read_range(mm, env_start, env_end)
}

/// What a VMA is called in `maps`.
fn vma_name(info: &crate::mm::VmaInfo, stack_addr: u64) -> (u64, u64, u64, String) {
    match &info.vma.backing {
        VmaBacking::File { file, offset } => {
            let (dev, ino, path) = file.identity();
            (*offset, dev, ino, path)
        }
        VmaBacking::Anonymous => {
            let name = if info.heap {
                "[heap]".to_owned()
            } else if (info.start..info.end).contains(&stack_addr) || info.vma.growsdown {
                "[stack]".to_owned()
            } else if info.vma.shared {
                "/dev/zero (deleted)".to_owned()
            } else {
                String::new()
            };
            (0, 0, 0, name)
        }
    }
}

/// One `maps` line's header, padded as `show_vma_header_prefix` and
/// `seq_pad` do, with the name.
fn maps_line(out: &mut String, info: &crate::mm::VmaInfo, stack_addr: u64) {
    let (offset, dev, ino, name) = vma_name(info, stack_addr);
    let p = &info.vma.perms;
    let start = out.len();
    let _ = write!(
        out,
        "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {} ",
        info.start,
        info.end,
        if p.read { 'r' } else { '-' },
        if p.write { 'w' } else { '-' },
        if p.execute { 'x' } else { '-' },
        if info.vma.shared { 's' } else { 'p' },
        offset,
        abi::stat::major(dev),
        abi::stat::minor(dev),
        ino
    );
    if !name.is_empty() {
        // The header is padded to 72 columns (`25 + sizeof(void *) * 6 - 1`),
        // then one space, then the name.
        for _ in out.len() - start..72 {
            out.push(' ');
        }
        out.push(' ');
        out.push_str(&name);
    }
    out.push('\n');
}

/// `maps`.
pub(crate) fn maps(mm: &MemoryManager) -> Vec<u8> {
    let stack = mm.arg_bounds()[0];
    let mut out = String::new();
    for info in mm.vmas() {
        maps_line(&mut out, &info, stack);
    }
    out.into_bytes()
}

/// `smaps`: each `maps` line followed by its sizes. Resident sizes are not
/// tracked per VMA; they are reported as the VMA's size for touched
/// memory the sentry cannot tell apart, so only `Size` is exact.
pub(crate) fn smaps(mm: &MemoryManager) -> Vec<u8> {
    let stack = mm.arg_bounds()[0];
    let mut out = String::new();
    for info in mm.vmas() {
        maps_line(&mut out, &info, stack);
        let kb = (info.end - info.start) / 1024;
        let anon = matches!(info.vma.backing, VmaBacking::Anonymous);
        for (k, v) in [
            ("Size", kb),
            ("KernelPageSize", PAGE / 1024),
            ("MMUPageSize", PAGE / 1024),
            ("Rss", 0),
            ("Pss", 0),
            ("Shared_Clean", 0),
            ("Shared_Dirty", 0),
            ("Private_Clean", 0),
            ("Private_Dirty", 0),
            ("Referenced", 0),
            ("Anonymous", 0),
            ("LazyFree", 0),
            ("AnonHugePages", 0),
            ("ShmemPmdMapped", 0),
            ("FilePmdMapped", 0),
            ("Shared_Hugetlb", 0),
            ("Private_Hugetlb", 0),
            ("Swap", 0),
            ("SwapPss", 0),
            ("Locked", if info.vma.locked { kb } else { 0 }),
        ] {
            let _ = writeln!(out, "{:<16}{:>8} kB", format!("{k}:"), v);
        }
        let _ = writeln!(out, "THPeligible:    0");
        let p = &info.vma.perms;
        let mut flags = Vec::new();
        for (on, f) in [
            (p.read, "rd"),
            (p.write, "wr"),
            (p.execute, "ex"),
            (info.vma.shared, "sh"),
            (info.vma.max_perms.read, "mr"),
            (info.vma.max_perms.write, "mw"),
            (info.vma.max_perms.execute, "me"),
            (info.vma.shared, "ms"),
            (info.vma.growsdown, "gd"),
            (info.vma.locked, "lo"),
            (info.vma.dontfork, "dc"),
            (info.vma.wipeonfork, "wf"),
            (anon, "ac"),
        ] {
            if on {
                flags.push(f);
            }
        }
        let _ = writeln!(out, "VmFlags: {} ", flags.join(" "));
    }
    out.into_bytes()
}

/// Sizes in pages: (total, resident, text, data+stack).
fn mem_pages(mm: &MemoryManager) -> (u64, u64, u64, u64, u64) {
    let mut total = 0;
    let mut text = 0;
    let mut data = 0;
    let mut stack = 0;
    let stack_addr = mm.arg_bounds()[0];
    for info in mm.vmas() {
        let len = info.end - info.start;
        total += len;
        let file = matches!(info.vma.backing, VmaBacking::File { .. });
        if file && info.vma.perms.execute {
            text += len;
        } else if (info.start..info.end).contains(&stack_addr) || info.vma.growsdown {
            stack += len;
        } else if info.vma.perms.write && !info.vma.shared {
            data += len;
        }
    }
    (
        total / PAGE,
        mm.resident_bytes() / PAGE,
        text / PAGE,
        data / PAGE,
        stack / PAGE,
    )
}

/// `statm`: size resident shared text lib data dt, in pages.
pub(crate) fn statm(mm: Option<&MemoryManager>) -> Vec<u8> {
    let (total, rss, text, data, stack) = mm.map_or((0, 0, 0, 0, 0), mem_pages);
    format!("{total} {rss} 0 {text} 0 {} 0\n", data + stack).into_bytes()
}

/// The one-letter state and its name.
fn state(proc: &ProcessView, running: bool) -> (char, &'static str) {
    if proc.zombie {
        ('Z', "zombie")
    } else if proc.group.stopped_by().is_some() {
        ('T', "stopped")
    } else if running {
        ('R', "running")
    } else {
        ('S', "sleeping")
    }
}

/// `stat` of the process (`tid` None) or one thread.
pub(crate) fn stat(proc: &ProcessView, task: &TaskView, whole: bool, running: bool) -> Vec<u8> {
    let mm = task.mm();
    let (vsize, rss) = mm.as_deref().map_or((0, 0), |mm| {
        let (total, rss, ..) = mem_pages(mm);
        (total * PAGE, rss)
    });
    let [arg_start, arg_end, env_start, env_end] =
        mm.as_deref().map_or([0; 4], MemoryManager::arg_bounds);
    let (sig_ign, sig_cgt) = proc.ignored_and_caught();
    let (blocked, pending) = task
        .handle()
        .map_or((0, 0), |h| (h.signal_mask(), h.pending_signals()));
    let rsslim = proc.limit(abi::resource::RLIMIT_RSS).rlim_cur;
    let threads = proc.threads.len();
    let id = if whole { proc.pid() } else { task.tid };
    let comm = String::from_utf8_lossy(&task.comm()).into_owned();
    let (st, _) = state(proc, running);
    // Fields 1..=52 of proc_pid_stat(5).
    format!(
        "{id} ({comm}) {st} {} {} {} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 {threads} 0 0 {vsize} {rss} {rsslim} 0 0 {arg_start} 0 0 {pending} {blocked} {sig_ign} {sig_cgt} 0 0 0 17 0 0 0 0 0 0 0 0 0 {arg_start} {arg_end} {env_start} {env_end} 0\n",
        proc.ppid, proc.pgid, proc.sid,
    )
    .into_bytes()
}

/// `status`.
pub(crate) fn status(
    proc: &ProcessView,
    task: &TaskView,
    whole: bool,
    running: bool,
    umask: Option<u32>,
    cpus: &[usize],
) -> Vec<u8> {
    let c = &task.creds;
    let mut s = String::new();
    let (st, st_name) = state(proc, running);
    let pid = if whole { proc.pid() } else { task.tid };
    let _ = writeln!(s, "Name:\t{}", String::from_utf8_lossy(&task.comm()));
    if let Some(umask) = umask {
        let _ = writeln!(s, "Umask:\t{umask:04o}");
    }
    let _ = writeln!(s, "State:\t{st} ({st_name})");
    let _ = writeln!(s, "Tgid:\t{}", proc.pid());
    let _ = writeln!(s, "Ngid:\t0");
    let _ = writeln!(s, "Pid:\t{pid}");
    let _ = writeln!(s, "PPid:\t{}", proc.ppid);
    let _ = writeln!(s, "TracerPid:\t0");
    let _ = writeln!(s, "Uid:\t{}\t{}\t{}\t{}", c.uid, c.euid, c.suid, c.fsuid);
    let _ = writeln!(s, "Gid:\t{}\t{}\t{}\t{}", c.gid, c.egid, c.sgid, c.fsgid);
    let fd_size = task.fd_count().next_power_of_two().max(64);
    let _ = writeln!(s, "FDSize:\t{fd_size}");
    let groups: String = c.groups.iter().map(|g| format!("{g} ")).collect();
    let _ = writeln!(s, "Groups:\t{groups}");
    let _ = writeln!(s, "NStgid:\t{}", proc.pid());
    let _ = writeln!(s, "NSpid:\t{pid}");
    let _ = writeln!(s, "NSpgid:\t{}", proc.pgid);
    let _ = writeln!(s, "NSsid:\t{}", proc.sid);
    if let Some(mm) = task.mm() {
        let (total, rss, text, data, stack) = mem_pages(&mm);
        let kb = |pages: u64| pages * PAGE / 1024;
        let locked: u64 = mm
            .vmas()
            .iter()
            .filter(|v| v.vma.locked)
            .map(|v| v.end - v.start)
            .sum();
        for (k, v) in [
            ("VmPeak", kb(total)),
            ("VmSize", kb(total)),
            ("VmLck", locked / 1024),
            ("VmPin", 0),
            ("VmHWM", kb(rss)),
            ("VmRSS", kb(rss)),
            ("RssAnon", kb(rss)),
            ("RssFile", 0),
            ("RssShmem", 0),
            ("VmData", kb(data)),
            ("VmStk", kb(stack)),
            ("VmExe", kb(text)),
            ("VmLib", 0),
            ("VmPTE", 0),
            ("VmSwap", 0),
            ("HugetlbPages", 0),
        ] {
            let _ = writeln!(s, "{k}:\t{v:>8} kB");
        }
    }
    let _ = writeln!(s, "CoreDumping:\t0");
    let _ = writeln!(s, "THP_enabled:\t1");
    let _ = writeln!(s, "Threads:\t{}", proc.threads.len());
    let sigq_max = proc.limit(abi::resource::RLIMIT_SIGPENDING).rlim_cur;
    let _ = writeln!(s, "SigQ:\t{}/{sigq_max}", proc.user_signals_queued());
    let (blocked, pending) = task
        .handle()
        .map_or((0, 0), |h| (h.signal_mask(), h.pending_signals()));
    let (ign, cgt) = proc.ignored_and_caught();
    let _ = writeln!(s, "SigPnd:\t{pending:016x}");
    let _ = writeln!(s, "ShdPnd:\t{:016x}", 0);
    let _ = writeln!(s, "SigBlk:\t{blocked:016x}");
    let _ = writeln!(s, "SigIgn:\t{ign:016x}");
    let _ = writeln!(s, "SigCgt:\t{cgt:016x}");
    let _ = writeln!(s, "CapInh:\t{:016x}", c.cap_inheritable);
    let _ = writeln!(s, "CapPrm:\t{:016x}", c.cap_permitted);
    let _ = writeln!(s, "CapEff:\t{:016x}", c.cap_effective);
    let _ = writeln!(s, "CapBnd:\t{:016x}", c.cap_bounding);
    let _ = writeln!(s, "CapAmb:\t{:016x}", c.cap_ambient);
    let _ = writeln!(s, "NoNewPrivs:\t0");
    let _ = writeln!(s, "Seccomp:\t0");
    let _ = writeln!(s, "Seccomp_filters:\t0");
    let _ = writeln!(s, "Speculation_Store_Bypass:\tthread vulnerable");
    let _ = writeln!(s, "SpeculationIndirectBranch:\tconditional enabled");
    let mut mask = vec![0u32; cpus.iter().max().map_or(1, |m| m / 32 + 1)];
    for &cpu in cpus {
        mask[cpu / 32] |= 1 << (cpu % 32);
    }
    let words: Vec<String> = mask.iter().rev().map(|w| format!("{w:08x}")).collect();
    let mut allowed = words.join(",");
    if mask.len() == 1 {
        allowed = format!("{:x}", mask[0]);
    }
    let _ = writeln!(s, "Cpus_allowed:\t{allowed}");
    let _ = write!(s, "Cpus_allowed_list:\t{}", super::procfs::cpu_list(cpus));
    let _ = writeln!(s, "Mems_allowed:\t1");
    let _ = writeln!(s, "Mems_allowed_list:\t0");
    let _ = writeln!(s, "voluntary_ctxt_switches:\t0");
    let _ = writeln!(s, "nonvoluntary_ctxt_switches:\t0");
    s.into_bytes()
}

/// `limits`.
pub(crate) fn limits(proc: &ProcessView) -> Vec<u8> {
    use abi::resource::*;
    let rows: [(&str, u32, &str); 16] = [
        ("Max cpu time", RLIMIT_CPU, "seconds"),
        ("Max file size", RLIMIT_FSIZE, "bytes"),
        ("Max data size", RLIMIT_DATA, "bytes"),
        ("Max stack size", RLIMIT_STACK, "bytes"),
        ("Max core file size", RLIMIT_CORE, "bytes"),
        ("Max resident set", RLIMIT_RSS, "bytes"),
        ("Max processes", RLIMIT_NPROC, "processes"),
        ("Max open files", RLIMIT_NOFILE, "files"),
        ("Max locked memory", RLIMIT_MEMLOCK, "bytes"),
        ("Max address space", RLIMIT_AS, "bytes"),
        ("Max file locks", RLIMIT_LOCKS, "locks"),
        ("Max pending signals", RLIMIT_SIGPENDING, "signals"),
        ("Max msgqueue size", RLIMIT_MSGQUEUE, "bytes"),
        ("Max nice priority", RLIMIT_NICE, ""),
        ("Max realtime priority", RLIMIT_RTPRIO, ""),
        ("Max realtime timeout", RLIMIT_RTTIME, "us"),
    ];
    let mut s = format!(
        "{:<25} {:<20} {:<20} {:<10}\n",
        "Limit", "Soft Limit", "Hard Limit", "Units"
    );
    let show = |v: u64| {
        if v == RLIM_INFINITY {
            "unlimited".to_owned()
        } else {
            v.to_string()
        }
    };
    for (name, r, unit) in rows {
        let l = proc.limit(r);
        let _ = writeln!(
            s,
            "{name:<25} {:<20} {:<20} {unit:<10}",
            show(l.rlim_cur),
            show(l.rlim_max)
        );
    }
    s.into_bytes()
}
