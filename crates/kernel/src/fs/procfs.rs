//! procfs and sysfs, the static parts: the sentry's own `/proc` and `/sys`,
//! never the host's.
//!
//! Both are small fixed trees of directories and read-only files whose
//! contents are generated when a file is opened (as Linux's seq files are
//! when read): `/proc/cpuinfo` (the host CPU as CPUID describes it, once per
//! sandbox CPU), `meminfo`, `loadavg`, `uptime`, `version`, `filesystems`,
//! `mounts` (the sandbox's mount table), `locks` (the sandbox's file locks),
//! `sys/kernel/*`, and
//! `/sys/devices/system/cpu/{online,possible,present}`. The host's `/proc`
//! is not reachable after `pivot_root`, so every value comes from what the
//! sentry holds or asks the host kernel directly (`sysinfo`, CPUID).
//!
//! What the kernel knows and the file system does not (the sandbox's host
//! name, CPU set and uptime, the calling process, the live processes) comes
//! through [`ProcSource`], which the kernel implements and registers with
//! `Vfs::set_proc_source`. Until it does, host defaults are used and there
//! are no processes.
//!
//! **Per-process files**: `/proc/self` is a link to the caller's pid
//! directory, `/proc/thread-self` to its `task/[tid]`. Each live process
//! has `/proc/[pid]` with `exe`, `cwd`, `root` and `fd/N` (magic links:
//! the walk jumps to what they name, as Linux's `proc_get_link` does, so
//! `/proc/self/fd/N` reopens a pipe and `/proc/self/root/..` stays at the
//! root), `fdinfo/N`, `maps`, `smaps`, `stat`, `statm`, `status`,
//! `cmdline`, `environ`, `limits`, `comm`, `mounts`, `mountinfo` and
//! `task/[tid]/` with the same files per thread. Their contents come from
//! a [`ProcessView`] (see `task/proc_view.rs`) and are made at open
//! (`proc_pid.rs`). Directories of other users' processes that Linux guards
//! with `ptrace_may_access` (`fd/`, `environ`) are mode 0500/0400, owned by
//! the process's euid.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use abi::Errno;
use abi::fcntl::{DT_DIR, DT_LNK, DT_REG};
use abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, Stat, Statfs};

use super::{proc_pid, synthetic_stat};
use crate::task::{ProcessView, TaskView, TaskViews};
use crate::vfs::{Dentry, DirEntry, File, FileOps, dir_seek, generic_seek};

/// What procfs asks the kernel. Every method is cheap and never blocks
/// (except [`ProcSource::process`], which may wait a moment for a process
/// forked an instant ago).
pub trait ProcSource: Send + Sync + std::fmt::Debug {
    /// The sandbox's host name.
    fn hostname(&self) -> String;
    /// The CPUs the sandbox may use.
    fn cpus(&self) -> Vec<usize>;
    /// How long the sandbox has run.
    fn uptime(&self) -> Duration;
    /// The calling task's (pid, tid), if the caller is a task.
    fn caller(&self) -> Option<(i32, i32)> {
        None
    }
    /// The live processes' pids, in order.
    fn pids(&self) -> Vec<i32> {
        Vec::new()
    }
    /// The live process `pid`.
    fn process(&self, pid: i32) -> Option<ProcessView> {
        let _ = pid;
        None
    }
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
    /// The `/proc/[pid]/mountinfo` text.
    mountinfo: Mutex<String>,
    /// The tasks' published views.
    views: TaskViews,
}

impl ProcFs {
    /// procfs with host defaults until a source is set.
    pub fn new() -> Arc<ProcFs> {
        Arc::new(ProcFs {
            source: Mutex::new(None),
            boot: Instant::now(),
            default_cpus: super::host::affinity(),
            mounts: Mutex::new(String::new()),
            mountinfo: Mutex::new(String::new()),
            views: TaskViews::default(),
        })
    }

    /// The registry tasks publish their views in.
    pub(crate) fn views(&self) -> &TaskViews {
        &self.views
    }

    /// Registers the kernel as the source of sandbox values.
    pub fn set_source(&self, source: Weak<dyn ProcSource>) {
        *lock(&self.source) = Some(source);
    }

    /// Sets the `/proc/mounts` and `mountinfo` texts.
    pub(crate) fn set_mounts(&self, text: String, info: String) {
        *lock(&self.mounts) = text;
        *lock(&self.mountinfo) = info;
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

    fn caller(&self) -> Option<(i32, i32)> {
        self.source().and_then(|s| s.caller())
    }

    fn pids(&self) -> Vec<i32> {
        self.source().map(|s| s.pids()).unwrap_or_default()
    }

    fn process(&self, pid: i32) -> Option<ProcessView> {
        self.source().and_then(|s| s.process(pid))
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
    Locks,
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
    ("/proc/locks", Kind::File(Gen::Locks)),
    ("/proc/meminfo", Kind::File(Gen::Meminfo)),
    ("/proc/mounts", Kind::File(Gen::Mounts)),
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

/// Which process (and thread) a per-process node belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Owner {
    pid: i32,
    /// Set under `/proc/[pid]/task/[tid]`.
    tid: Option<i32>,
}

/// The files of a `/proc/[pid]` (or `task/[tid]`) directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PidEntry {
    Cmdline,
    Comm,
    Cwd,
    Environ,
    Exe,
    Fd,
    FdInfo,
    Limits,
    Maps,
    Mountinfo,
    Mounts,
    Root,
    Smaps,
    Stat,
    Statm,
    Status,
    Task,
}

/// Name, entry, in listing order.
const PID_ENTRIES: &[(&str, PidEntry)] = &[
    ("cmdline", PidEntry::Cmdline),
    ("comm", PidEntry::Comm),
    ("cwd", PidEntry::Cwd),
    ("environ", PidEntry::Environ),
    ("exe", PidEntry::Exe),
    ("fd", PidEntry::Fd),
    ("fdinfo", PidEntry::FdInfo),
    ("limits", PidEntry::Limits),
    ("maps", PidEntry::Maps),
    ("mountinfo", PidEntry::Mountinfo),
    ("mounts", PidEntry::Mounts),
    ("root", PidEntry::Root),
    ("smaps", PidEntry::Smaps),
    ("stat", PidEntry::Stat),
    ("statm", PidEntry::Statm),
    ("status", PidEntry::Status),
    ("task", PidEntry::Task),
];

impl PidEntry {
    fn file_type(self) -> u32 {
        match self {
            PidEntry::Fd | PidEntry::FdInfo | PidEntry::Task => S_IFDIR,
            PidEntry::Cwd | PidEntry::Exe | PidEntry::Root => S_IFLNK,
            _ => S_IFREG,
        }
    }

    fn mode(self) -> u32 {
        match self {
            PidEntry::Fd | PidEntry::FdInfo => S_IFDIR | 0o500,
            PidEntry::Task => S_IFDIR | 0o555,
            PidEntry::Cwd | PidEntry::Exe | PidEntry::Root => S_IFLNK | 0o777,
            PidEntry::Environ => S_IFREG | 0o400,
            _ => S_IFREG | 0o444,
        }
    }
}

/// Where a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    /// A row of [`TABLE`].
    Static(usize),
    /// `/proc/self`.
    SelfLink,
    /// `/proc/thread-self`.
    ThreadSelf,
    /// `/proc/[pid]`, or `/proc/[pid]/task/[tid]` when the owner has a tid.
    PidDir(Owner),
    /// A file, link or directory in a pid directory.
    Entry(Owner, PidEntry),
    /// `fd/N` (a link) or `fdinfo/N` (a file, when `info`).
    Fd(Owner, i32, bool),
}

/// What a magic link (`exe`, `cwd`, `root`, `fd/N`) leads to.
#[derive(Debug)]
pub(crate) enum MagicTarget {
    /// A place in the view.
    Dentry(Arc<Dentry>),
    /// An open file with no place in the view (a pipe): reopening the link
    /// gives this description; the name is what `readlink` shows.
    File(Arc<File>, Vec<u8>),
}

/// A node of `/proc` or `/sys`.
#[derive(Clone, Debug)]
pub struct ProcNode {
    fs: Arc<ProcFs>,
    place: Place,
}

fn is_sys(path: &str) -> bool {
    path.starts_with("/sys")
}

/// A pid or fd number as a directory name: decimal, no sign or leading zeros.
fn parse_number(name: &[u8]) -> Option<i32> {
    if name.is_empty() || (name.len() > 1 && name[0] == b'0') {
        return None;
    }
    if !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// The mount id `fdinfo` reports for `file`.
fn mnt_id(file: &File) -> u32 {
    file.dentry().map_or(0, |d| d.mount + 1)
}

impl ProcNode {
    /// The root of the tree mounted at `path` (`/proc` or `/sys`).
    pub fn root(fs: &Arc<ProcFs>, path: &[u8]) -> Option<ProcNode> {
        let index = TABLE.iter().position(|(p, _)| p.as_bytes() == path)?;
        Some(ProcNode {
            fs: Arc::clone(fs),
            place: Place::Static(index),
        })
    }

    fn with(&self, place: Place) -> ProcNode {
        ProcNode {
            fs: Arc::clone(&self.fs),
            place,
        }
    }

    fn static_index(&self) -> Option<usize> {
        match self.place {
            Place::Static(i) => Some(i),
            _ => None,
        }
    }

    /// The static row's path (`/proc` for per-process nodes).
    fn path(&self) -> &'static str {
        self.static_index().map_or("/proc", |i| TABLE[i].0)
    }

    fn kind(&self) -> Kind {
        match &self.place {
            Place::Static(i) => TABLE[*i].1,
            Place::SelfLink | Place::ThreadSelf => Kind::Link(""),
            Place::PidDir(_) => Kind::Dir,
            Place::Entry(_, e) => match e.file_type() {
                S_IFDIR => Kind::Dir,
                S_IFLNK => Kind::Link(""),
                _ => Kind::File(Gen::Stat),
            },
            Place::Fd(_, _, true) => Kind::File(Gen::Stat),
            Place::Fd(_, _, false) => Kind::Link(""),
        }
    }

    fn owner(&self) -> Option<Owner> {
        match &self.place {
            Place::PidDir(o) | Place::Entry(o, _) | Place::Fd(o, _, _) => Some(*o),
            _ => None,
        }
    }

    /// The process and the task a per-process node shows: the thread for
    /// `task/[tid]` nodes, else the leader. `ENOENT` once it is gone.
    fn task(&self, owner: Owner) -> Result<(ProcessView, Arc<TaskView>), Errno> {
        let proc = self.fs.process(owner.pid).ok_or(Errno::ENOENT)?;
        let task = match owner.tid {
            Some(tid) => Arc::clone(proc.thread(tid).ok_or(Errno::ENOENT)?),
            None => Arc::clone(proc.leader()),
        };
        Ok((proc, task))
    }

    fn ino(&self) -> u64 {
        const BASE: u64 = 1 << 32;
        let owner_bits = |o: &Owner| {
            (u64::from(o.pid.unsigned_abs()) << 24)
                ^ (u64::from(o.tid.unwrap_or(0).unsigned_abs()) << 2)
        };
        match &self.place {
            Place::Static(i) => *i as u64 + 1,
            Place::SelfLink => BASE - 2,
            Place::ThreadSelf => BASE - 3,
            Place::PidDir(o) => BASE + owner_bits(o),
            Place::Entry(o, e) => BASE + owner_bits(o) + 0x1000 + *e as u64,
            Place::Fd(o, fd, info) => {
                BASE + owner_bits(o) + 0x2000 + u64::from(fd.unsigned_abs()) * 2 + u64::from(*info)
            }
        }
    }

    /// The status.
    pub fn stat(&self) -> Stat {
        let dev = if is_sys(self.path()) {
            abi::stat::makedev(0, 0x17)
        } else {
            abi::stat::makedev(0, 0x16)
        };
        let ino = self.ino();
        let mut st = match (&self.place, self.kind()) {
            (Place::PidDir(_), _) => synthetic_stat(dev, ino, S_IFDIR | 0o555, 2, 0),
            (Place::Entry(_, e), _) => synthetic_stat(dev, ino, e.mode(), 1, 0),
            (Place::Fd(_, _, true), _) => synthetic_stat(dev, ino, S_IFREG | 0o400, 1, 0),
            (Place::Fd(_, _, false), _) => synthetic_stat(dev, ino, S_IFLNK | 0o700, 1, 0),
            (_, Kind::Dir) => {
                let mut subdirs = self
                    .static_children()
                    .iter()
                    .filter(|c| c.kind() == Kind::Dir)
                    .count();
                if self.path() == "/proc" {
                    // proc_root_getattr: one link per process.
                    subdirs += self.fs.pids().len();
                }
                synthetic_stat(dev, ino, S_IFDIR | 0o555, 2 + subdirs as u64, 0)
            }
            (_, Kind::File(_)) => synthetic_stat(dev, ino, S_IFREG | 0o444, 1, 0),
            (_, Kind::Link(t)) => {
                let mut st = synthetic_stat(dev, ino, S_IFLNK | 0o777, 1, 0);
                st.st_size = i64::try_from(t.len()).unwrap_or(0);
                st
            }
        };
        // Per-process nodes belong to the process's effective ids.
        if let Some(owner) = self.owner()
            && let Ok((_, task)) = self.task(owner)
        {
            st.st_uid = task.creds.euid;
            st.st_gid = task.creds.egid;
        }
        st
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
        match &self.place {
            Place::Static(i) => match TABLE[*i].1 {
                Kind::Link(t) => Ok(t.as_bytes().to_vec()),
                _ => Err(Errno::EINVAL),
            },
            Place::SelfLink => {
                let (pid, _) = self.fs.caller().ok_or(Errno::ENOENT)?;
                Ok(pid.to_string().into_bytes())
            }
            Place::ThreadSelf => {
                let (pid, tid) = self.fs.caller().ok_or(Errno::ENOENT)?;
                Ok(format!("{pid}/task/{tid}").into_bytes())
            }
            Place::Entry(_, PidEntry::Exe | PidEntry::Cwd | PidEntry::Root)
            | Place::Fd(_, _, false) => match self.magic_target()? {
                MagicTarget::Dentry(d) => {
                    // `do_proc_readlink` builds the path in a PATH_MAX buffer.
                    let path = d.display_path();
                    if path.len() >= abi::fcntl::PATH_MAX {
                        return Err(Errno::ENAMETOOLONG);
                    }
                    Ok(path)
                }
                MagicTarget::File(_, name) => Ok(name),
            },
            _ => Err(Errno::EINVAL),
        }
    }

    /// Where a magic link leads, or `None` for every other node.
    pub(crate) fn magic(&self) -> Option<Result<MagicTarget, Errno>> {
        match &self.place {
            Place::Entry(_, PidEntry::Exe | PidEntry::Cwd | PidEntry::Root)
            | Place::Fd(_, _, false) => Some(self.magic_target()),
            _ => None,
        }
    }

    fn magic_target(&self) -> Result<MagicTarget, Errno> {
        let owner = self.owner().ok_or(Errno::EINVAL)?;
        let (_, task) = self.task(owner)?;
        match &self.place {
            Place::Entry(_, PidEntry::Exe) => {
                task.exe().map(MagicTarget::Dentry).ok_or(Errno::ENOENT)
            }
            Place::Entry(_, PidEntry::Cwd) => {
                let fs = task.fs().ok_or(Errno::ENOENT)?;
                Ok(MagicTarget::Dentry(Arc::clone(fs.cwd())))
            }
            Place::Entry(_, PidEntry::Root) => {
                let fs = task.fs().ok_or(Errno::ENOENT)?;
                Ok(MagicTarget::Dentry(Arc::clone(fs.root())))
            }
            Place::Fd(_, fd, false) => {
                let (file, _) = task.fd(*fd).ok_or(Errno::ENOENT)?;
                match file.dentry() {
                    Some(d) => Ok(MagicTarget::Dentry(Arc::clone(d))),
                    None => {
                        let name = proc_pid::fd_link_name(&file);
                        Ok(MagicTarget::File(file, name))
                    }
                }
            }
            _ => Err(Errno::EINVAL),
        }
    }

    fn static_children(&self) -> Vec<ProcNode> {
        let Some(_) = self.static_index() else {
            return Vec::new();
        };
        let prefix = format!("{}/", self.path());
        TABLE
            .iter()
            .enumerate()
            .filter(|(_, (p, _))| {
                p.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            })
            .map(|(index, _)| self.with(Place::Static(index)))
            .collect()
    }

    /// The entries of a directory: (name, node).
    fn children(&self) -> Result<Vec<(Vec<u8>, ProcNode)>, Errno> {
        let mut out: Vec<(Vec<u8>, ProcNode)> = self
            .static_children()
            .into_iter()
            .map(|c| {
                let name = c.path().rsplit('/').next().unwrap_or_default();
                (name.as_bytes().to_vec(), c)
            })
            .collect();
        match &self.place {
            Place::Static(_) if self.path() == "/proc" => {
                out.push((b"self".to_vec(), self.with(Place::SelfLink)));
                out.push((b"thread-self".to_vec(), self.with(Place::ThreadSelf)));
                for pid in self.fs.pids() {
                    let owner = Owner { pid, tid: None };
                    out.push((
                        pid.to_string().into_bytes(),
                        self.with(Place::PidDir(owner)),
                    ));
                }
            }
            Place::PidDir(owner) => {
                self.task(*owner)?;
                for (name, e) in PID_ENTRIES {
                    if *e == PidEntry::Task && owner.tid.is_some() {
                        continue;
                    }
                    out.push((
                        name.as_bytes().to_vec(),
                        self.with(Place::Entry(*owner, *e)),
                    ));
                }
            }
            Place::Entry(owner, PidEntry::Task) => {
                let (proc, _) = self.task(*owner)?;
                for t in &proc.threads {
                    let o = Owner {
                        pid: owner.pid,
                        tid: Some(t.tid),
                    };
                    out.push((t.tid.to_string().into_bytes(), self.with(Place::PidDir(o))));
                }
            }
            Place::Entry(owner, e @ (PidEntry::Fd | PidEntry::FdInfo)) => {
                let (_, task) = self.task(*owner)?;
                let info = *e == PidEntry::FdInfo;
                for (fd, _, _) in task.fds() {
                    out.push((
                        fd.to_string().into_bytes(),
                        self.with(Place::Fd(*owner, fd, info)),
                    ));
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// The child `name`.
    pub fn lookup(&self, name: &[u8]) -> Result<ProcNode, Errno> {
        if self.kind() != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        match &self.place {
            Place::Static(index) => {
                let mut want = TABLE[*index].0.as_bytes().to_vec();
                want.push(b'/');
                want.extend_from_slice(name);
                if let Some(index) = TABLE.iter().position(|(p, _)| p.as_bytes() == want) {
                    return Ok(self.with(Place::Static(index)));
                }
                if self.path() != "/proc" {
                    return Err(Errno::ENOENT);
                }
                match name {
                    b"self" => Ok(self.with(Place::SelfLink)),
                    b"thread-self" => Ok(self.with(Place::ThreadSelf)),
                    _ => {
                        let pid = parse_number(name).ok_or(Errno::ENOENT)?;
                        let owner = Owner { pid, tid: None };
                        self.task(owner)?;
                        Ok(self.with(Place::PidDir(owner)))
                    }
                }
            }
            Place::PidDir(owner) => {
                let (_, e) = PID_ENTRIES
                    .iter()
                    .find(|(n, _)| n.as_bytes() == name)
                    .ok_or(Errno::ENOENT)?;
                if *e == PidEntry::Task && owner.tid.is_some() {
                    return Err(Errno::ENOENT);
                }
                self.task(*owner)?;
                Ok(self.with(Place::Entry(*owner, *e)))
            }
            Place::Entry(owner, PidEntry::Task) => {
                let tid = parse_number(name).ok_or(Errno::ENOENT)?;
                let o = Owner {
                    pid: owner.pid,
                    tid: Some(tid),
                };
                self.task(o)?;
                Ok(self.with(Place::PidDir(o)))
            }
            Place::Entry(owner, e @ (PidEntry::Fd | PidEntry::FdInfo)) => {
                let fd = parse_number(name).ok_or(Errno::ENOENT)?;
                let (_, task) = self.task(*owner)?;
                task.fd(fd).ok_or(Errno::ENOENT)?;
                Ok(self.with(Place::Fd(*owner, fd, *e == PidEntry::FdInfo)))
            }
            _ => Err(Errno::ENOENT),
        }
    }

    /// Opens the node: a directory listing or a snapshot of the file.
    pub fn open(&self) -> Result<Box<dyn FileOps>, Errno> {
        let data = match (&self.place, self.kind()) {
            (_, Kind::Dir) => return Ok(Box::new(ProcDirOps(self.clone()))),
            (_, Kind::Link(_)) => return Err(Errno::ELOOP),
            (Place::Static(_), Kind::File(g)) => generate(&self.fs, g),
            (Place::Entry(owner, e), _) => self.generate_entry(*owner, *e)?,
            (Place::Fd(owner, fd, true), _) => {
                let (_, task) = self.task(*owner).map_err(|_| Errno::ESRCH)?;
                let (file, cloexec) = task.fd(*fd).ok_or(Errno::ENOENT)?;
                proc_pid::fdinfo(&file, cloexec, mnt_id(&file))
            }
            _ => return Err(Errno::ENOENT),
        };
        Ok(Box::new(ProcFileOps {
            node: self.clone(),
            data,
        }))
    }

    fn generate_entry(&self, owner: Owner, entry: PidEntry) -> Result<Vec<u8>, Errno> {
        let (proc, task) = self.task(owner).map_err(|_| Errno::ESRCH)?;
        let running = self.fs.caller().is_some_and(|(_, tid)| tid == task.tid);
        let whole = owner.tid.is_none();
        let mm = task.mm();
        Ok(match entry {
            PidEntry::Cmdline => mm.as_deref().map(proc_pid::cmdline).unwrap_or_default(),
            PidEntry::Environ => mm.as_deref().map(proc_pid::environ).unwrap_or_default(),
            PidEntry::Comm => {
                let mut c = task.comm();
                c.push(b'\n');
                c
            }
            PidEntry::Limits => proc_pid::limits(&proc),
            PidEntry::Maps => mm.as_deref().map(proc_pid::maps).unwrap_or_default(),
            PidEntry::Smaps => mm.as_deref().map(proc_pid::smaps).unwrap_or_default(),
            PidEntry::Mounts => lock(&self.fs.mounts).clone().into_bytes(),
            PidEntry::Mountinfo => lock(&self.fs.mountinfo).clone().into_bytes(),
            PidEntry::Stat => proc_pid::stat(&proc, &task, whole, running),
            PidEntry::Statm => proc_pid::statm(mm.as_deref()),
            PidEntry::Status => {
                let umask = task.fs().map(|f| f.umask());
                proc_pid::status(&proc, &task, whole, running, umask, &self.fs.cpus())
            }
            PidEntry::Cwd | PidEntry::Exe | PidEntry::Root => return Err(Errno::ELOOP),
            PidEntry::Fd | PidEntry::FdInfo | PidEntry::Task => return Err(Errno::EISDIR),
        })
    }
}

pub(crate) fn cpu_list(cpus: &[usize]) -> String {
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
            "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\nnodev\toverlay\n".to_owned()
        }
        Gen::Locks => crate::vfs::lock::proc_locks(),
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
        for (name, child) in self.0.children()? {
            out.push(DirEntry {
                ino: child.ino(),
                kind: match child.file_type() & S_IFMT {
                    S_IFDIR => DT_DIR,
                    S_IFLNK => DT_LNK,
                    _ => DT_REG,
                },
                name,
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
