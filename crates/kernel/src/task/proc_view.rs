//! Read-only views of tasks and processes, for procfs (`/proc/[pid]`).
//!
//! A [`Task`] is owned by its host thread, so other threads cannot look
//! into it. Instead each task publishes a small [`TaskView`] when it starts
//! and again after a syscall that may change what the view holds
//! ([`changes_view`]: `execve`, the id setters, `prctl`, `unshare`). A view
//! holds only weak references to what the task shares through `Arc`s (the
//! address space, the fd table, the file-system context), so a view never
//! keeps a dead process's memory, files or pipes alive; values the task
//! keeps inline (credentials, name) are copied.
//!
//! [`TaskViews`] is the registry, by tid; it lives in the view's procfs.
//! [`ProcessView`] is what procfs gets for one process: its thread group,
//! its threads' views and its place in the process tree.
//!
//! Lock order: the registry lock is a leaf; it is never held while a view's
//! referents (fd table, fs context, mm) are locked.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use super::{Credentials, Task, TaskHandle, ThreadGroup, lock};
use crate::mm::MemoryManager;
use crate::vfs::{Dentry, FdTable, File, FsContext};

/// What one task shows other threads.
#[derive(Debug)]
pub struct TaskView {
    /// The thread id.
    pub tid: i32,
    group: Weak<ThreadGroup>,
    handle: Weak<TaskHandle>,
    mm: Weak<MemoryManager>,
    fs: Weak<Mutex<FsContext>>,
    fds: Weak<Mutex<FdTable>>,
    /// The credentials as of the last publication.
    pub creds: Credentials,
    /// Whether the task is dumpable (`PR_GET_DUMPABLE`), as of the last
    /// publication.
    pub dumpable: bool,
    /// `PR_SET_NAME`'s name, empty if never set.
    comm: Vec<u8>,
    /// The executable as resolved when the task published after loading it.
    exe: Option<Arc<Dentry>>,
    /// The exe path `exe` was resolved from.
    exe_path: Vec<u8>,
}

impl TaskView {
    /// Whether the task still runs.
    fn alive(&self) -> bool {
        self.handle.strong_count() > 0
    }

    /// The task's handle (signal masks), while it runs.
    pub fn handle(&self) -> Option<Arc<TaskHandle>> {
        self.handle.upgrade()
    }

    /// The address space, while the task runs.
    pub fn mm(&self) -> Option<Arc<MemoryManager>> {
        self.mm.upgrade()
    }

    /// A snapshot of the root, cwd and umask, while the task runs.
    pub fn fs(&self) -> Option<FsContext> {
        self.fs.upgrade().map(|fs| lock(&fs).clone())
    }

    /// The open fds with their files and close-on-exec flags.
    pub fn fds(&self) -> Vec<(i32, Arc<File>, bool)> {
        let Some(table) = self.fds.upgrade() else {
            return Vec::new();
        };
        let table = lock(&table);
        table
            .fds()
            .into_iter()
            .filter_map(|fd| {
                let file = table.get(fd).ok()?;
                Some((fd, file, table.cloexec(fd).unwrap_or(false)))
            })
            .collect()
    }

    /// The file at `fd`, if open.
    pub fn fd(&self, fd: i32) -> Option<(Arc<File>, bool)> {
        let table = self.fds.upgrade()?;
        let table = lock(&table);
        Some((table.get(fd).ok()?, table.cloexec(fd).unwrap_or(false)))
    }

    /// How many slots the fd table has (`FDSize`).
    pub fn fd_count(&self) -> usize {
        self.fds.upgrade().map_or(0, |t| {
            lock(&t)
                .fds()
                .last()
                .map_or(0, |&fd| usize::try_from(fd).unwrap_or(0) + 1)
        })
    }

    /// The thread's name: `PR_SET_NAME`'s, else the executable's base name,
    /// at most 15 bytes (`TASK_COMM_LEN`).
    pub fn comm(&self) -> Vec<u8> {
        comm_or_exe(&self.comm, &self.exe_path)
    }

    /// The executable, resolved in the sandbox's view.
    pub fn exe(&self) -> Option<Arc<Dentry>> {
        self.exe.clone()
    }
}

/// The registry of published task views, by tid.
#[derive(Debug, Default)]
pub struct TaskViews {
    views: Mutex<BTreeMap<i32, Arc<TaskView>>>,
}

impl TaskViews {
    /// Publishes `view`, replacing the task's old one (under its old tid
    /// too, which `execve` from a non-leader thread changes); views of
    /// tasks that ended are dropped.
    fn publish(&self, view: TaskView) {
        let mut views = lock(&self.views);
        views.retain(|_, v| v.alive() && !Weak::ptr_eq(&v.handle, &view.handle));
        views.insert(view.tid, Arc::new(view));
    }

    /// The live view of `tid`.
    pub fn get(&self, tid: i32) -> Option<Arc<TaskView>> {
        lock(&self.views).get(&tid).filter(|v| v.alive()).cloned()
    }

    /// The live views whose thread group is `group`.
    fn of_group(&self, group: &Arc<ThreadGroup>) -> Vec<Arc<TaskView>> {
        lock(&self.views)
            .values()
            .filter(|v| v.alive() && Weak::ptr_eq(&v.group, &Arc::downgrade(group)))
            .cloned()
            .collect()
    }

    /// The pids of the processes with a live published task, in order.
    pub fn pids(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = lock(&self.views)
            .values()
            .filter(|v| v.alive())
            .filter_map(|v| v.group.upgrade().map(|g| g.pid))
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }
}

/// One process as procfs sees it.
#[derive(Debug, Clone)]
pub struct ProcessView {
    /// The thread group.
    pub group: Arc<ThreadGroup>,
    /// Its live threads' views, by tid.
    pub threads: Vec<Arc<TaskView>>,
    /// Parent pid, process group and session.
    pub ppid: i32,
    /// The process group.
    pub pgid: i32,
    /// The session.
    pub sid: i32,
    /// Whether the process has exited and waits to be reaped: its one
    /// thread view is its last thread's, as published when it was alive.
    pub zombie: bool,
}

impl ProcessView {
    /// Assembles the view of `group` from the registry; `None` if none of
    /// its threads has published yet.
    pub fn new(
        group: Arc<ThreadGroup>,
        views: &TaskViews,
        tree: &super::ProcessTree,
    ) -> Option<ProcessView> {
        let live: Vec<i32> = lock(&group.threads).keys().copied().collect();
        let mut threads = views.of_group(&group);
        threads.retain(|v| live.contains(&v.tid));
        threads.sort_by_key(|v| v.tid);
        if threads.is_empty() {
            return None;
        }
        let (ppid, pgid, sid) = tree.ids(group.pid)?;
        Some(ProcessView {
            ppid,
            pgid,
            sid,
            group,
            threads,
            zombie: false,
        })
    }

    /// The pid.
    pub fn pid(&self) -> i32 {
        self.group.pid
    }

    /// The leader's view (or the first live thread's if the leader ended).
    pub fn leader(&self) -> &Arc<TaskView> {
        self.threads
            .iter()
            .find(|v| v.tid == self.group.pid)
            .unwrap_or(&self.threads[0])
    }

    /// The view of thread `tid` of this process.
    pub fn thread(&self, tid: i32) -> Option<&Arc<TaskView>> {
        self.threads.iter().find(|v| v.tid == tid)
    }

    /// The path the program was executed as.
    pub fn exe_path(&self) -> Vec<u8> {
        lock(&self.group.exe_path).clone()
    }

    /// The signals the process ignores and catches (`SigIgn`, `SigCgt`).
    pub fn ignored_and_caught(&self) -> (u64, u64) {
        let actions = lock(&self.group.actions);
        let (mut ign, mut cgt) = (0u64, 0u64);
        for signo in 1..=abi::signal::SIGRTMAX {
            let handler = actions.get(signo).handler;
            if handler == abi::signal::SIG_IGN {
                ign |= abi::signal::sigmask(signo);
            } else if handler != abi::signal::SIG_DFL {
                cgt |= abi::signal::sigmask(signo);
            }
        }
        (ign, cgt)
    }

    /// The limit `resource` (`RLIMIT_*`).
    pub fn limit(&self, resource: u32) -> abi::resource::Rlimit {
        self.group.limit(resource)
    }

    /// The signals queued for the process's real user (`SigQ`'s count).
    pub fn user_signals_queued(&self) -> u64 {
        self.group.signal_user().queued()
    }
}

/// A task's name: `comm` as `PR_SET_NAME` or `execve` set it, else the
/// executable's base name; at most 15 bytes (`TASK_COMM_LEN` - 1).
fn comm_or_exe(comm: &[u8], exe_path: &[u8]) -> Vec<u8> {
    let mut name = if comm.is_empty() {
        exe_path
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or(exe_path)
            .to_vec()
    } else {
        comm.to_vec()
    };
    if let Some(nul) = name.iter().position(|&b| b == 0) {
        name.truncate(nul);
    }
    name.truncate(15);
    name
}

/// Whether the syscall `nr` may change what a task's view holds, so the
/// task publishes again after it.
pub(crate) fn changes_view(nr: u64) -> bool {
    use abi::sysno::*;
    matches!(
        nr,
        SYS_EXECVE
            | SYS_EXECVEAT
            | SYS_SETUID
            | SYS_SETGID
            | SYS_SETREUID
            | SYS_SETREGID
            | SYS_SETRESUID
            | SYS_SETRESGID
            | SYS_SETFSUID
            | SYS_SETFSGID
            | SYS_SETGROUPS
            | SYS_CAPSET
            | SYS_PRCTL
            | SYS_UNSHARE
    )
}

impl Task {
    /// The task's name, as `PR_GET_NAME` and `/proc/[pid]/comm` give it.
    pub fn comm_name(&self) -> Vec<u8> {
        comm_or_exe(&self.comm, &lock(&self.thread_group.exe_path))
    }

    /// This task's published view, if it has one.
    pub(crate) fn view(&self) -> Option<Arc<TaskView>> {
        self.kernel.vfs.task_views().get(self.tid)
    }

    /// Publishes this task's view for procfs (see the module docs).
    pub(crate) fn publish_view(&self) {
        let views = self.kernel.vfs.task_views();
        let exe_path = lock(&self.thread_group.exe_path).clone();
        let exe = match views.get(self.tid) {
            Some(old)
                if old.exe_path == exe_path
                    && old.mm.upgrade().is_some_and(|m| Arc::ptr_eq(&m, &self.mm)) =>
            {
                old.exe.clone()
            }
            _ => self.resolve_exe(&exe_path),
        };
        views.publish(TaskView {
            tid: self.tid,
            group: Arc::downgrade(&self.thread_group),
            handle: Arc::downgrade(&self.handle),
            mm: Arc::downgrade(&self.mm),
            fs: Arc::downgrade(&self.fs),
            fds: Arc::downgrade(&self.fds),
            creds: self.creds.clone(),
            dumpable: self.dumpable,
            comm: self.comm.clone(),
            exe,
            exe_path,
        });
    }

    /// The executable's dentry: the file `execve` opened (whose path may
    /// name no place, as `/dev/fd/N` of an fd since closed does); else a
    /// new thread's is its leader's and a forked child's its parent's (the
    /// path may be relative to a cwd since left); otherwise the path
    /// resolved now.
    fn resolve_exe(&self, exe_path: &[u8]) -> Option<Arc<Dentry>> {
        if let Some(dentry) = lock(&self.thread_group.exe_file)
            .as_ref()
            .and_then(|file| file.dentry().map(Arc::clone))
        {
            return Some(dentry);
        }
        let views = self.kernel.vfs.task_views();
        let pid = self.thread_group.pid;
        let from = if self.tid == pid {
            self.kernel.tree.ppid(pid)
        } else {
            pid
        };
        if let Some(other) = views.get(from)
            && other.exe_path == exe_path
            && other.exe.is_some()
        {
            return other.exe.clone();
        }
        let access = crate::vfs::Access::kernel();
        self.fs().resolve(&access, None, exe_path, true).ok()
    }
}

impl super::ProcessTree {
    /// The view of process `pid` for procfs, `None` if there is no such
    /// live process. A process forked a moment ago may not have published
    /// yet: it is waited for, briefly.
    pub fn process_view(&self, pid: i32, views: &TaskViews) -> Option<ProcessView> {
        let Some(group) = self.group(pid) else {
            let (group, last) = self.zombie(pid)?;
            let (ppid, pgid, sid) = self.ids(pid)?;
            return Some(ProcessView {
                group,
                threads: vec![last],
                ppid,
                pgid,
                sid,
                zombie: true,
            });
        };
        for _ in 0..200 {
            if let Some(view) = ProcessView::new(Arc::clone(&group), views, self) {
                return Some(view);
            }
            self.group(pid)?;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        None
    }
}

/// The tid of `handle` in `group`, if it is one of its threads.
pub fn tid_of(group: &ThreadGroup, handle: &Arc<TaskHandle>) -> Option<i32> {
    lock(&group.threads)
        .iter()
        .find(|(_, h)| Arc::ptr_eq(h, handle))
        .map(|(&tid, _)| tid)
}
