//! procfs and sysfs, the static parts: the sentry's own `/proc` and `/sys`,
//! never the host's.
//!
//! Both are small fixed trees of directories and read-only files whose
//! contents are generated when a file is opened (as Linux's seq files are
//! when read): `/proc/cpuinfo` (the host CPU as CPUID describes it, once per
//! sandbox CPU), `meminfo`, `loadavg`, `uptime`, `version`, `filesystems`,
//! `mounts` (the sandbox's mount table), `sys/kernel/*`, and
//! `/sys/devices/system/cpu/{online,possible,present}`. The host's `/proc`
//! is not reachable after `pivot_root`, so every value comes from what the
//! sentry holds or asks the host kernel directly (`sysinfo`, CPUID).
//!
//! What the kernel knows and the file system does not (the sandbox's host
//! name, CPU set and uptime now; processes later) comes through
//! [`ProcSource`], which the kernel implements and registers with
//! `Vfs::set_proc_source`. Until it does, host defaults are used.
//!
//! **Per-process files** (`/proc/self`, `/proc/[pid]/...`) are not here
//! yet. They need the calling task at lookup time (`self` is a link whose
//! target is the caller's pid) and a view of each process: the plan is a
//! `ProcSource::process(pid)` returning a `ProcessView` (exe, cwd, root, fds,
//! maps, status, cmdline, environ) and `ProcSource::caller_pid()`, with the
//! `[pid]` directories generated from them. For now `/proc/self` is a
//! directory holding only `mounts`, which needs nothing per-task.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use abi::Errno;
use abi::fcntl::{DT_DIR, DT_LNK, DT_REG};
use abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, Stat, Statfs};

use super::synthetic_stat;
use crate::vfs::{DirEntry, File, FileOps, dir_seek, generic_seek};

/// What procfs asks the kernel. Every method is cheap and never blocks.
pub trait ProcSource: Send + Sync + std::fmt::Debug {
    /// The sandbox's host name.
    fn hostname(&self) -> String;
    /// The CPUs the sandbox may use.
    fn cpus(&self) -> Vec<usize>;
    /// How long the sandbox has run.
    fn uptime(&self) -> Duration;
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One procfs/sysfs instance pair: what the generated files read.
#[derive(Debug)]
pub struct ProcFs {
    source: Mutex<Option<Weak<dyn ProcSource>>>,
    boot: Instant,
    default_cpus: Vec<usize>,
    /// The `/proc/mounts` text, fixed when the mount table is built.
    mounts: Mutex<String>,
}

impl ProcFs {
    /// procfs with host defaults until a source is set.
    pub fn new() -> Arc<ProcFs> {
        Arc::new(ProcFs {
            source: Mutex::new(None),
            boot: Instant::now(),
            default_cpus: super::host::affinity(),
            mounts: Mutex::new(String::new()),
        })
    }

    /// Registers the kernel as the source of sandbox values.
    pub fn set_source(&self, source: Weak<dyn ProcSource>) {
        *lock(&self.source) = Some(source);
    }

    /// Sets the `/proc/mounts` text.
    pub(crate) fn set_mounts(&self, text: String) {
        *lock(&self.mounts) = text;
    }

    fn source(&self) -> Option<Arc<dyn ProcSource>> {
        lock(&self.source).as_ref().and_then(Weak::upgrade)
    }

    fn hostname(&self) -> String {
        self.source()
            .map_or_else(super::host::hostname, |s| s.hostname())
    }

    fn cpus(&self) -> Vec<usize> {
        let cpus = self
            .source()
            .map_or_else(|| self.default_cpus.clone(), |s| s.cpus());
        if cpus.is_empty() { vec![0] } else { cpus }
    }

    fn uptime(&self) -> Duration {
        self.source()
            .map_or_else(|| self.boot.elapsed(), |s| s.uptime())
    }
}

/// How a file's contents are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gen {
    Cpuinfo,
    Meminfo,
    Loadavg,
    Uptime,
    Version,
    Filesystems,
    Mounts,
    Hostname,
    Ostype,
    Osrelease,
    PidMax,
    Uuid,
    BootId,
    CapLastCap,
    NgroupsMax,
    Overcommit,
    MaxMapCount,
    CpuList,
    Stat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Dir,
    File(Gen),
    Link(&'static str),
}

/// Every node: its path in the view, what it is.
const TABLE: &[(&str, Kind)] = &[
    ("/proc", Kind::Dir),
    ("/proc/cpuinfo", Kind::File(Gen::Cpuinfo)),
    ("/proc/filesystems", Kind::File(Gen::Filesystems)),
    ("/proc/loadavg", Kind::File(Gen::Loadavg)),
    ("/proc/meminfo", Kind::File(Gen::Meminfo)),
    ("/proc/mounts", Kind::File(Gen::Mounts)),
    ("/proc/self", Kind::Dir),
    ("/proc/self/mounts", Kind::File(Gen::Mounts)),
    ("/proc/stat", Kind::File(Gen::Stat)),
    ("/proc/sys", Kind::Dir),
    ("/proc/sys/kernel", Kind::Dir),
    ("/proc/sys/kernel/cap_last_cap", Kind::File(Gen::CapLastCap)),
    ("/proc/sys/kernel/hostname", Kind::File(Gen::Hostname)),
    ("/proc/sys/kernel/ngroups_max", Kind::File(Gen::NgroupsMax)),
    ("/proc/sys/kernel/osrelease", Kind::File(Gen::Osrelease)),
    ("/proc/sys/kernel/ostype", Kind::File(Gen::Ostype)),
    ("/proc/sys/kernel/pid_max", Kind::File(Gen::PidMax)),
    ("/proc/sys/kernel/random", Kind::Dir),
    ("/proc/sys/kernel/random/boot_id", Kind::File(Gen::BootId)),
    ("/proc/sys/kernel/random/uuid", Kind::File(Gen::Uuid)),
    ("/proc/sys/vm", Kind::Dir),
    ("/proc/sys/vm/max_map_count", Kind::File(Gen::MaxMapCount)),
    (
        "/proc/sys/vm/overcommit_memory",
        Kind::File(Gen::Overcommit),
    ),
    ("/proc/uptime", Kind::File(Gen::Uptime)),
    ("/proc/version", Kind::File(Gen::Version)),
    ("/sys", Kind::Dir),
    ("/sys/devices", Kind::Dir),
    ("/sys/devices/system", Kind::Dir),
    ("/sys/devices/system/cpu", Kind::Dir),
    ("/sys/devices/system/cpu/online", Kind::File(Gen::CpuList)),
    ("/sys/devices/system/cpu/possible", Kind::File(Gen::CpuList)),
    ("/sys/devices/system/cpu/present", Kind::File(Gen::CpuList)),
    ("/sys/fs", Kind::Dir),
    ("/sys/kernel", Kind::Dir),
    ("/proc/mtab", Kind::Link("mounts")),
];

/// A node of `/proc` or `/sys`.
#[derive(Clone, Debug)]
pub struct ProcNode {
    fs: Arc<ProcFs>,
    index: usize,
}

fn is_sys(path: &str) -> bool {
    path.starts_with("/sys")
}

impl ProcNode {
    /// The root of the tree mounted at `path` (`/proc` or `/sys`).
    pub fn root(fs: &Arc<ProcFs>, path: &[u8]) -> Option<ProcNode> {
        let index = TABLE.iter().position(|(p, _)| p.as_bytes() == path)?;
        Some(ProcNode {
            fs: Arc::clone(fs),
            index,
        })
    }

    fn path(&self) -> &'static str {
        TABLE[self.index].0
    }

    fn kind(&self) -> Kind {
        TABLE[self.index].1
    }

    /// The status.
    pub fn stat(&self) -> Stat {
        let dev = if is_sys(self.path()) {
            abi::stat::makedev(0, 0x17)
        } else {
            abi::stat::makedev(0, 0x16)
        };
        let ino = self.index as u64 + 1;
        match self.kind() {
            Kind::Dir => {
                let subdirs = self
                    .children()
                    .iter()
                    .filter(|c| c.kind() == Kind::Dir)
                    .count();
                synthetic_stat(dev, ino, S_IFDIR | 0o555, 2 + subdirs as u64, 0)
            }
            Kind::File(_) => synthetic_stat(dev, ino, S_IFREG | 0o444, 1, 0),
            Kind::Link(t) => {
                let mut st = synthetic_stat(dev, ino, S_IFLNK | 0o777, 1, 0);
                st.st_size = i64::try_from(t.len()).unwrap_or(0);
                st
            }
        }
    }

    /// `S_IFMT` bits.
    pub fn file_type(&self) -> u32 {
        match self.kind() {
            Kind::Dir => S_IFDIR,
            Kind::File(_) => S_IFREG,
            Kind::Link(_) => S_IFLNK,
        }
    }

    /// `statfs`.
    pub fn statfs(&self) -> Statfs {
        Statfs {
            f_type: if is_sys(self.path()) {
                abi::stat::SYSFS_MAGIC
            } else {
                abi::stat::PROC_SUPER_MAGIC
            },
            f_bsize: 4096,
            f_namelen: 255,
            f_frsize: 4096,
            f_flags: abi::stat::ST_NOSUID
                | abi::stat::ST_NODEV
                | abi::stat::ST_NOEXEC
                | abi::stat::ST_VALID,
            ..Statfs::default()
        }
    }

    /// The symlink's target.
    pub fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match self.kind() {
            Kind::Link(t) => Ok(t.as_bytes().to_vec()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn children(&self) -> Vec<ProcNode> {
        let prefix = format!("{}/", self.path());
        TABLE
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| {
                p.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            })
            .map(|(index, _)| ProcNode {
                fs: Arc::clone(&self.fs),
                index,
            })
            .collect()
    }

    /// The child `name`.
    pub fn lookup(&self, name: &[u8]) -> Result<ProcNode, Errno> {
        if self.kind() != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        let mut want = self.path().as_bytes().to_vec();
        want.push(b'/');
        want.extend_from_slice(name);
        let index = TABLE
            .iter()
            .position(|(p, _)| p.as_bytes() == want)
            .ok_or(Errno::ENOENT)?;
        Ok(ProcNode {
            fs: Arc::clone(&self.fs),
            index,
        })
    }

    /// Opens the node: a directory listing or a snapshot of the file.
    pub fn open(&self) -> Result<Box<dyn FileOps>, Errno> {
        match self.kind() {
            Kind::Dir => Ok(Box::new(ProcDirOps(self.clone()))),
            Kind::File(g) => Ok(Box::new(ProcFileOps {
                node: self.clone(),
                data: generate(&self.fs, g),
            })),
            Kind::Link(_) => Err(Errno::ELOOP),
        }
    }
}

fn cpu_list(cpus: &[usize]) -> String {
    let mut sorted = cpus.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    format!("{}\n", parts.join(","))
}

fn uuid() -> String {
    let mut b = [0u8; 16];
    let _ = super::host::getrandom(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}\n",
        h[..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..].concat()
    )
}

fn boot_id() -> String {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(uuid).clone()
}

fn generate(fs: &ProcFs, g: Gen) -> Vec<u8> {
    let text = match g {
        Gen::Cpuinfo => super::cpuinfo::cpuinfo(&fs.cpus()),
        Gen::Meminfo => {
            let (total, free, _) = crate::host::host_memory();
            let kb = |b: u64| b / 1024;
            let mut s = String::new();
            for (k, v) in [
                ("MemTotal", kb(total)),
                ("MemFree", kb(free)),
                ("MemAvailable", kb(free)),
                ("Buffers", 0),
                ("Cached", 0),
                ("SwapCached", 0),
                ("Active", 0),
                ("Inactive", 0),
                ("SwapTotal", 0),
                ("SwapFree", 0),
                ("Dirty", 0),
                ("Writeback", 0),
                ("AnonPages", 0),
                ("Mapped", 0),
                ("Shmem", 0),
                ("CommitLimit", kb(total)),
                ("Committed_AS", kb(total.saturating_sub(free))),
                ("VmallocTotal", 34_359_738_367),
                ("VmallocUsed", 0),
                ("VmallocChunk", 0),
                ("HugePages_Total", 0),
                ("HugePages_Free", 0),
                ("HugePages_Rsvd", 0),
                ("HugePages_Surp", 0),
                ("Hugepagesize", 2048),
            ] {
                let unit = if k.starts_with("HugePages_") {
                    ""
                } else {
                    " kB"
                };
                s.push_str(&format!("{:<16}{:>8}{unit}\n", format!("{k}:"), v));
            }
            s
        }
        Gen::Loadavg => {
            let (_, _, loads) = crate::host::host_memory();
            let f = |l: u64| l as f64 / 65536.0;
            format!(
                "{:.2} {:.2} {:.2} 1/1 1\n",
                f(loads[0]),
                f(loads[1]),
                f(loads[2])
            )
        }
        Gen::Uptime => {
            // A sandbox read within its first 10 ms still reports some uptime.
            let up = fs.uptime().as_secs_f64().max(0.01);
            let idle = up * fs.cpus().len() as f64;
            format!("{up:.2} {idle:.2}\n")
        }
        Gen::Version => format!(
            "Linux version {} (carapace@carapace) (carapace) {}\n",
            crate::kernel::LINUX_RELEASE,
            crate::kernel::LINUX_VERSION
        ),
        Gen::Filesystems => {
            "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\n".to_owned()
        }
        Gen::Mounts => lock(&fs.mounts).clone(),
        Gen::Hostname => format!("{}\n", fs.hostname()),
        Gen::Ostype => "Linux\n".to_owned(),
        Gen::Osrelease => format!("{}\n", crate::kernel::LINUX_RELEASE),
        Gen::PidMax => "4194304\n".to_owned(),
        Gen::Uuid => uuid(),
        Gen::BootId => boot_id(),
        Gen::CapLastCap => "40\n".to_owned(),
        Gen::NgroupsMax => "65536\n".to_owned(),
        Gen::Overcommit => "0\n".to_owned(),
        Gen::MaxMapCount => "65530\n".to_owned(),
        Gen::CpuList => cpu_list(&fs.cpus()),
        Gen::Stat => {
            let cpus = fs.cpus();
            let mut s = String::from("cpu  0 0 0 0 0 0 0 0 0 0\n");
            for (i, _) in cpus.iter().enumerate() {
                s.push_str(&format!("cpu{i} 0 0 0 0 0 0 0 0 0 0\n"));
            }
            let btime = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_sub(fs.uptime())
                .as_secs();
            s.push_str(&format!(
                "intr 0\nctxt 0\nbtime {btime}\nprocesses 1\nprocs_running 1\nprocs_blocked 0\n"
            ));
            s
        }
    };
    text.into_bytes()
}

/// An open generated file: a snapshot taken at open.
#[derive(Debug)]
struct ProcFileOps {
    node: ProcNode,
    data: Vec<u8>,
}

impl FileOps for ProcFileOps {
    fn read(&self, _: &File, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        let Ok(pos) = usize::try_from(pos) else {
            return Ok(0);
        };
        let Some(rest) = self.data.get(pos..) else {
            return Ok(0);
        };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }

    fn write(&self, _: &File, _: &[u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EACCES)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        generic_seek(pos, self.data.len() as u64, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.node.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.node.statfs())
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// An open procfs/sysfs directory.
#[derive(Debug)]
struct ProcDirOps(ProcNode);

impl FileOps for ProcDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat())
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.0.statfs())
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        let ino = self.0.stat().st_ino;
        let mut out = vec![
            DirEntry {
                ino,
                kind: DT_DIR,
                name: b".".to_vec(),
            },
            DirEntry {
                ino,
                kind: DT_DIR,
                name: b"..".to_vec(),
            },
        ];
        for child in self.0.children() {
            let name = child.path().rsplit('/').next().unwrap_or_default();
            out.push(DirEntry {
                ino: child.stat().st_ino,
                kind: match child.file_type() & S_IFMT {
                    S_IFDIR => DT_DIR,
                    S_IFLNK => DT_LNK,
                    _ => DT_REG,
                },
                name: name.as_bytes().to_vec(),
            });
        }
        Ok(out)
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed;

    impl ProcSource for Fixed {
        fn hostname(&self) -> String {
            "sandbox".to_owned()
        }
        fn cpus(&self) -> Vec<usize> {
            vec![0, 2, 3]
        }
        fn uptime(&self) -> Duration {
            Duration::from_secs(5)
        }
    }

    fn read(node: &ProcNode) -> String {
        let ops = node.open().unwrap();
        let f = File::new(ops, abi::fcntl::O_RDONLY, None);
        let mut buf = vec![0u8; 1 << 16];
        let n = f.read_at(&mut buf, 0).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn static_files_use_the_source() {
        let fs = ProcFs::new();
        let src: Arc<dyn ProcSource> = Arc::new(Fixed);
        fs.set_source(Arc::downgrade(&src));
        let proc_root = ProcNode::root(&fs, b"/proc").unwrap();
        let kernel = proc_root.lookup(b"sys").unwrap().lookup(b"kernel").unwrap();
        assert_eq!(read(&kernel.lookup(b"hostname").unwrap()), "sandbox\n");
        assert_eq!(read(&kernel.lookup(b"ostype").unwrap()), "Linux\n");
        let uuid = read(&kernel.lookup(b"random").unwrap().lookup(b"uuid").unwrap());
        assert_eq!(uuid.len(), 37);
        let cpuinfo = read(&proc_root.lookup(b"cpuinfo").unwrap());
        assert_eq!(cpuinfo.matches("processor\t:").count(), 3);
        assert!(read(&proc_root.lookup(b"meminfo").unwrap()).starts_with("MemTotal:"));
        assert!(read(&proc_root.lookup(b"uptime").unwrap()).starts_with("5.00 15.00"));
        let sys = ProcNode::root(&fs, b"/sys").unwrap();
        let cpu = sys
            .lookup(b"devices")
            .and_then(|d| d.lookup(b"system"))
            .and_then(|d| d.lookup(b"cpu"))
            .unwrap();
        assert_eq!(read(&cpu.lookup(b"online").unwrap()), "0,2-3\n");
        assert_eq!(proc_root.lookup(b"nope").err(), Some(Errno::ENOENT));
        assert_eq!(cpu_list(&[0, 1, 2, 3]), "0-3\n");
    }
}
