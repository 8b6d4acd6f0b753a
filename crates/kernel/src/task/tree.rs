//! The process tree: pids, parents and children, process groups and
//! sessions, zombies and their reaping.
//!
//! One lock guards the whole tree (Linux's `tasklist_lock`): fork, exit,
//! wait, setpgid and kill all take it, briefly, and never block under it.
//! Lock order: the tree lock, then a [`ThreadGroup`]'s leaf locks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi::Errno;

use super::{CpuTimes, TaskHandle, TaskView, ThreadGroup};
use crate::kernel::ExitStatus;

/// The highest pid (`/proc/sys/kernel/pid_max`'s default on 64-bit).
pub const PID_MAX: i32 = 4_194_304;

/// What `wait4`'s pid argument selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// Any child (`-1`).
    Any,
    /// The child with this pid (`> 0`).
    Pid(i32),
    /// Any child in this process group (`0`: the caller's; `< -1`: `-pid`).
    Group(i32),
}

/// A child `wait4` reaped or reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reaped {
    /// Its pid.
    pub pid: i32,
    /// What happened to it.
    pub change: ChildChange,
    /// Its real uid, as it last published it.
    pub uid: Option<u32>,
    /// Its CPU time, with that of the children it reaped.
    pub cpu: CpuTimes,
}

/// What `wait4` reports about a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildChange {
    /// It ended (and was reaped unless `WNOWAIT`).
    Exited(ExitStatus),
    /// A signal stopped it (`WUNTRACED`).
    Stopped(u32),
    /// `SIGCONT` continued it (`WCONTINUED`).
    Continued,
}

/// Which changes a `wait` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitFor {
    /// Exits (`WEXITED`; always for wait4).
    pub exited: bool,
    /// Stops (`WUNTRACED`/`WSTOPPED`).
    pub stopped: bool,
    /// Continues (`WCONTINUED`).
    pub continued: bool,
    /// Children of any exit signal (`__WALL`).
    pub all: bool,
    /// Only children whose exit signal is not SIGCHLD (`__WCLONE`), unless `all`.
    pub clones: bool,
    /// Only children of this thread (`__WNOTHREAD`), not of its siblings.
    pub thread: Option<i32>,
}

/// Where a process is in its life, as a pidfd sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessState {
    /// It has live threads.
    Running,
    /// A zombie: it exited and waits to be reaped.
    Exited,
    /// Reaped: nothing of it is left but the pidfds.
    Reaped,
}

/// One process's place in the tree.
#[derive(Debug)]
struct Entry {
    group: Arc<ThreadGroup>,
    ppid: i32,
    /// The thread of the parent that is the child's parent (Linux's
    /// `real_parent` is a thread): its exit sends the death signal.
    parent_thread: i32,
    pgid: i32,
    sid: i32,
    children: BTreeSet<i32>,

    /// Set when the process has exited but not been reaped.
    zombie: Option<ExitStatus>,
    /// A zombie's last thread as procfs last saw it.
    last_view: Option<Arc<TaskView>>,
    /// Tasks of this process blocked in `wait4`, woken when a child changes.
    waiters: Vec<Arc<TaskHandle>>,
    /// Whether the process has called `execve` (setpgid on a child that has
    /// is EACCES).
    execed: bool,
    /// The signal its parent gets when it exits.
    exit_signal: u32,
    /// `PR_SET_CHILD_SUBREAPER`: orphaned descendants are reparented here.
    subreaper: bool,
    /// `PR_SET_PDEATHSIG`: the signal it gets when its parent exits.
    pdeath_signal: u32,
    /// A stop not yet reported to `wait` (the stopping signal).
    stop_report: Option<u32>,
    /// A continue not yet reported to `wait`.
    cont_report: bool,
}

/// What one id names, zombies included: what a `struct pid` is attached
/// to until the reaping (see [`ProcessTree::pid_users`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PidUsers {
    /// A thread with that tid (a process's leader included).
    pub thread: bool,
    /// A process with that pid.
    pub process: bool,
    /// A process group with that id.
    pub group: bool,
    /// A session with that id.
    pub session: bool,
}

impl PidUsers {
    /// Whether anything has the id (Linux's `find_vpid` finds it).
    pub fn any(self) -> bool {
        self.thread || self.process || self.group || self.session
    }
}

/// The process tree. See the module docs.
#[derive(Debug, Default)]
pub struct ProcessTree {
    state: Mutex<TreeState>,
}

#[derive(Debug, Default)]
struct TreeState {
    procs: BTreeMap<i32, Entry>,
    /// Tids of threads that are not their process's leader.
    thread_ids: BTreeSet<i32>,
    /// Pids given to processes being created, until they join the tree.
    reserved: BTreeSet<i32>,
    last_pid: i32,
}

impl TreeState {
    /// Whether a task has `id` (or is being made with it).
    fn task_has(&self, id: i32) -> bool {
        self.procs.contains_key(&id) || self.thread_ids.contains(&id) || self.reserved.contains(&id)
    }

    /// What `id` names, zombies included.
    fn users(&self, id: i32) -> PidUsers {
        PidUsers {
            thread: self.task_has(id),
            process: self.procs.contains_key(&id),
            group: self.procs.values().any(|e| e.pgid == id),
            session: self.procs.values().any(|e| e.sid == id),
        }
    }
}

impl ProcessTree {
    fn lock(&self) -> MutexGuard<'_, TreeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds the sandbox's init: pid 1, its own session and group.
    pub fn add_init(&self, group: Arc<ThreadGroup>) {
        let mut st = self.lock();
        st.last_pid = st.last_pid.max(group.pid);
        st.procs.insert(group.pid, Entry::new(group, 0, 1, 1));
    }

    /// A free pid for a new process, or EAGAIN when `limit` tasks exist;
    /// reserved until [`ProcessTree::add_child`] or
    /// [`ProcessTree::discard`]. `wanted` is `clone3`'s `set_tid`, already
    /// checked to be in range: that pid, or EEXIST while anything still
    /// has it (Linux's `alloc_pid` asks the pid allocator for exactly it,
    /// leaving its cursor alone).
    pub fn alloc_pid(&self, limit: usize, wanted: Option<i32>) -> Result<i32, Errno> {
        let mut st = self.lock();
        if st.procs.len() + st.thread_ids.len() + st.reserved.len() >= limit {
            return Err(Errno::EAGAIN);
        }
        let pid = match wanted {
            Some(pid) if st.users(pid).any() => return Err(Errno::EEXIST),
            Some(pid) => pid,
            None => {
                let mut pid = st.last_pid;
                loop {
                    pid = if pid >= PID_MAX { 2 } else { pid + 1 };
                    if !st.task_has(pid) {
                        break;
                    }
                }
                st.last_pid = pid;
                pid
            }
        };
        st.reserved.insert(pid);
        Ok(pid)
    }

    /// A free tid for a new thread (`wanted`: as for
    /// [`ProcessTree::alloc_pid`]), reserved until [`ProcessTree::free_tid`].
    pub fn alloc_tid(&self, limit: usize, wanted: Option<i32>) -> Result<i32, Errno> {
        let tid = self.alloc_pid(limit, wanted)?;
        let mut st = self.lock();
        st.reserved.remove(&tid);
        st.thread_ids.insert(tid);
        Ok(tid)
    }

    /// Releases a thread's tid.
    pub fn free_tid(&self, tid: i32) {
        self.lock().thread_ids.remove(&tid);
    }

    /// The process with pid `tgid`.
    pub fn group(&self, tgid: i32) -> Option<Arc<ThreadGroup>> {
        self.lock()
            .procs
            .get(&tgid)
            .filter(|e| e.zombie.is_none())
            .map(|e| Arc::clone(&e.group))
    }

    /// What `id` names, zombies included.
    pub fn pid_users(&self, id: i32) -> PidUsers {
        self.lock().users(id)
    }

    /// Where `group` is in its life: the tree holds it until it is reaped
    /// (a later process with its pid is another group).
    pub fn process_state(&self, group: &Arc<ThreadGroup>) -> ProcessState {
        match self.lock().procs.get(&group.pid) {
            Some(e) if Arc::ptr_eq(&e.group, group) => {
                if e.zombie.is_some() {
                    ProcessState::Exited
                } else {
                    ProcessState::Running
                }
            }
            _ => ProcessState::Reaped,
        }
    }

    /// The process `pidfd_open(tid)` names: the one `tid` leads, zombie or
    /// not, or (`thread`, `PIDFD_THREAD`) the one with a thread `tid`.
    /// ENOENT for a thread that leads no process without `thread`, ESRCH
    /// when no task has the id (Linux 6.15's `pidfd_prepare`).
    pub fn pidfd_target(&self, tid: i32, thread: bool) -> Result<Arc<ThreadGroup>, Errno> {
        let st = self.lock();
        if let Some(e) = st.procs.get(&tid) {
            return Ok(Arc::clone(&e.group));
        }
        if !st.thread_ids.contains(&tid) {
            return Err(Errno::ESRCH);
        }
        if !thread {
            return Err(Errno::ENOENT);
        }
        st.procs
            .values()
            .find(|e| e.zombie.is_none() && e.group.thread(tid).is_some())
            .map(|e| Arc::clone(&e.group))
            .ok_or(Errno::ESRCH)
    }

    /// The process that has a thread `tid`.
    pub fn group_of_thread(&self, tid: i32) -> Option<Arc<ThreadGroup>> {
        let st = self.lock();
        if let Some(e) = st.procs.get(&tid).filter(|e| e.zombie.is_none()) {
            return Some(Arc::clone(&e.group));
        }
        st.procs
            .values()
            .find(|e| e.zombie.is_none() && e.group.thread(tid).is_some())
            .map(|e| Arc::clone(&e.group))
    }

    /// Adds a forked child of thread `parent_thread` of `parent`, in the
    /// parent's group and session.
    pub fn add_child(
        &self,
        parent: i32,
        parent_thread: i32,
        group: Arc<ThreadGroup>,
        exit_signal: u32,
    ) {
        let mut st = self.lock();
        let (pgid, sid) = st.procs.get(&parent).map_or((1, 1), |p| (p.pgid, p.sid));
        let pid = group.pid;
        st.reserved.remove(&pid);
        st.procs.insert(
            pid,
            Entry {
                exit_signal,
                parent_thread,
                ..Entry::new(group, parent, pgid, sid)
            },
        );
        if let Some(p) = st.procs.get_mut(&parent) {
            p.children.insert(pid);
        }
    }

    /// Removes a child that never ran (its creation failed), or releases
    /// its reserved pid.
    pub fn discard(&self, pid: i32) {
        let mut st = self.lock();
        st.reserved.remove(&pid);
        if let Some(e) = st.procs.remove(&pid)
            && let Some(p) = st.procs.get_mut(&e.ppid)
        {
            p.children.remove(&pid);
        }
    }

    /// The signal process `pid`'s parent gets when it exits.
    pub fn exit_signal(&self, pid: i32) -> u32 {
        self.lock().procs.get(&pid).map_or(0, |e| e.exit_signal)
    }

    /// `getppid`.
    pub fn ppid(&self, pid: i32) -> i32 {
        self.lock().procs.get(&pid).map_or(0, |e| e.ppid)
    }

    /// The parent, process group and session of `pid`, zombie or not.
    pub fn ids(&self, pid: i32) -> Option<(i32, i32, i32)> {
        self.lock().procs.get(&pid).map(|e| (e.ppid, e.pgid, e.sid))
    }

    /// The zombie `pid` and its last thread's view, if it is one.
    pub fn zombie(&self, pid: i32) -> Option<(Arc<ThreadGroup>, Arc<TaskView>)> {
        let st = self.lock();
        let e = st.procs.get(&pid).filter(|e| e.zombie.is_some())?;
        Some((Arc::clone(&e.group), Arc::clone(e.last_view.as_ref()?)))
    }

    /// `getpgid(pid)`; ESRCH if there is no such process.
    pub fn pgid(&self, pid: i32) -> Result<i32, Errno> {
        self.lock()
            .procs
            .get(&pid)
            .filter(|e| e.zombie.is_none())
            .map(|e| e.pgid)
            .ok_or(Errno::ESRCH)
    }

    /// `getsid(pid)`; ESRCH if there is no such process.
    pub fn sid(&self, pid: i32) -> Result<i32, Errno> {
        self.lock()
            .procs
            .get(&pid)
            .filter(|e| e.zombie.is_none())
            .map(|e| e.sid)
            .ok_or(Errno::ESRCH)
    }

    /// `setsid` for `pid`: EPERM if it already leads a process group.
    pub fn setsid(&self, pid: i32) -> Result<i32, Errno> {
        let mut st = self.lock();
        if st.procs.values().any(|e| e.pgid == pid) {
            return Err(Errno::EPERM);
        }
        let e = st.procs.get_mut(&pid).ok_or(Errno::ESRCH)?;
        e.sid = pid;
        e.pgid = pid;
        Ok(pid)
    }

    /// `setpgid(target, pgid)` called by `caller`, with Linux's checks
    /// (`kernel/sys.c`): the target is the caller or a child of it in the
    /// same session that has not exec'd; session leaders cannot move; the
    /// group must exist in the caller's session unless it is the target's own pid.
    pub fn setpgid(&self, caller: i32, target: i32, pgid: i32) -> Result<(), Errno> {
        let target = if target == 0 { caller } else { target };
        let pgid = if pgid == 0 { target } else { pgid };
        if pgid < 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        let caller_sid = st.procs.get(&caller).map(|e| e.sid).ok_or(Errno::ESRCH)?;
        let t = st
            .procs
            .get(&target)
            .filter(|e| e.zombie.is_none())
            .ok_or(Errno::ESRCH)?;
        if target != caller {
            if t.ppid != caller {
                return Err(Errno::ESRCH);
            }
            if t.sid != caller_sid {
                return Err(Errno::EPERM);
            }
            if t.execed {
                return Err(Errno::EACCES);
            }
        }
        if t.sid == target {
            return Err(Errno::EPERM);
        }
        if pgid != target
            && !st
                .procs
                .values()
                .any(|e| e.pgid == pgid && e.sid == caller_sid)
        {
            return Err(Errno::EPERM);
        }
        if let Some(t) = st.procs.get_mut(&target) {
            t.pgid = pgid;
        }
        Ok(())
    }

    /// The live processes of process group `pgid`.
    pub fn process_group(&self, pgid: i32) -> Vec<Arc<ThreadGroup>> {
        let st = self.lock();
        st.procs
            .values()
            .filter(|e| e.zombie.is_none() && e.pgid == pgid)
            .map(|e| Arc::clone(&e.group))
            .collect()
    }

    /// The session of process group `pgid`, or failing that of the process
    /// `pgid` (`session_of_pgrp`); `None` if neither exists.
    pub fn session_of_pgrp(&self, pgid: i32) -> Option<i32> {
        let st = self.lock();
        let live = || st.procs.iter().filter(|(_, e)| e.zombie.is_none());
        live()
            .find(|(_, e)| e.pgid == pgid)
            .or_else(|| live().find(|(p, _)| **p == pgid))
            .map(|(_, e)| e.sid)
    }

    /// Whether process group `pgid` is orphaned (`is_current_pgrp_orphaned`):
    /// no member has a parent in another group of the same session.
    pub fn is_orphaned_pgrp(&self, pgid: i32) -> bool {
        let st = self.lock();
        !st.procs.values().any(|e| {
            e.zombie.is_none()
                && e.pgid == pgid
                && st
                    .procs
                    .get(&e.ppid)
                    .is_some_and(|p| p.pgid != pgid && p.sid == e.sid)
        })
    }

    /// Marks or unmarks `pid` as a child subreaper.
    pub fn set_subreaper(&self, pid: i32, on: bool) {
        if let Some(e) = self.lock().procs.get_mut(&pid) {
            e.subreaper = on;
        }
    }

    /// Sets the signal `pid` gets when its parent exits.
    pub fn set_pdeath_signal(&self, pid: i32, signo: u32) {
        if let Some(e) = self.lock().procs.get_mut(&pid) {
            e.pdeath_signal = signo;
        }
    }

    /// The live children of `pid` that asked for a signal on its death.
    pub fn pdeath_targets(&self, pid: i32) -> Vec<(Arc<ThreadGroup>, u32)> {
        let st = self.lock();
        let Some(e) = st.procs.get(&pid) else {
            return Vec::new();
        };
        e.children
            .iter()
            .filter_map(|c| st.procs.get(c))
            .filter(|c| c.zombie.is_none() && c.pdeath_signal != 0)
            .map(|c| (Arc::clone(&c.group), c.pdeath_signal))
            .collect()
    }

    /// Thread `from` of process `pid` ended or changed its tid: its
    /// children become children of thread `to`. Returns those of them that
    /// asked for a signal on their parent's death (a thread's exit sends
    /// it, as Linux's forget_original_parent does).
    pub fn reassign_children(&self, pid: i32, from: i32, to: i32) -> Vec<(Arc<ThreadGroup>, u32)> {
        let mut st = self.lock();
        let Some(e) = st.procs.get(&pid) else {
            return Vec::new();
        };
        let children: Vec<i32> = e.children.iter().copied().collect();
        let mut targets = Vec::new();
        for child in children {
            if let Some(c) = st.procs.get_mut(&child)
                && c.parent_thread == from
            {
                c.parent_thread = to;
                if c.zombie.is_none() && c.pdeath_signal != 0 {
                    targets.push((Arc::clone(&c.group), c.pdeath_signal));
                }
            }
        }
        targets
    }

    /// Whether `pid` is a child subreaper.
    pub fn is_subreaper(&self, pid: i32) -> bool {
        self.lock().procs.get(&pid).is_some_and(|e| e.subreaper)
    }

    /// Records that process `pid` stopped (`Some(signo)`) or continued
    /// (`None`), for its parent's `wait`; wakes the parent's waiters and
    /// returns the parent's thread group (to send it SIGCHLD).
    pub fn report_stop(&self, pid: i32, stop: Option<u32>) -> Option<Arc<ThreadGroup>> {
        let mut st = self.lock();
        let e = st.procs.get_mut(&pid)?;
        match stop {
            Some(signo) => {
                e.stop_report = Some(signo);
                e.cont_report = false;
            }
            None => {
                e.stop_report = None;
                e.cont_report = true;
            }
        }
        let ppid = e.ppid;
        let parent = st.procs.get_mut(&ppid)?;
        wake_all(&mut parent.waiters);
        Some(Arc::clone(&parent.group))
    }

    /// Records that `pid` called `execve`.
    pub fn mark_execed(&self, pid: i32) {
        if let Some(e) = self.lock().procs.get_mut(&pid) {
            e.execed = true;
        }
    }

    /// The processes a `kill(pid, ...)` from `caller` reaches (Linux's
    /// `kill_something_info`); ESRCH if none.
    pub fn kill_targets(&self, caller: i32, pid: i32) -> Result<Vec<Arc<ThreadGroup>>, Errno> {
        let st = self.lock();
        let caller_pgid = st.procs.get(&caller).map_or(0, |e| e.pgid);
        let chosen = |p: i32, e: &Entry| match pid {
            p2 if p2 > 0 => p == p2,
            0 => e.pgid == caller_pgid,
            -1 => p != 1 && p != caller,
            p2 => e.pgid == -p2,
        };
        // A zombie still exists for kill(2), as on Linux (no ESRCH), but a
        // signal to it has nothing left to act on.
        let mut found = false;
        let mut targets = Vec::new();
        for (&p, e) in &st.procs {
            if !chosen(p, e) {
                continue;
            }
            found = true;
            if e.zombie.is_none() {
                targets.push(Arc::clone(&e.group));
            }
        }
        if found {
            Ok(targets)
        } else {
            Err(Errno::ESRCH)
        }
    }

    /// Process `pid` exited with `status`: its children go to init, it
    /// becomes a zombie for its parent to reap (or is reaped at once if the
    /// parent ignores SIGCHLD, `auto_reap`), and the parent's waiters wake.
    /// Returns the parent's thread group, to send it SIGCHLD.
    pub fn exit(
        &self,
        pid: i32,
        status: ExitStatus,
        last_view: Option<Arc<TaskView>>,
        auto_reap: impl FnOnce(&ThreadGroup) -> bool,
        notify_parent: impl FnOnce(&Arc<ThreadGroup>),
    ) -> Option<Arc<ThreadGroup>> {
        let mut st = self.lock();
        let (ppid, children) = {
            let e = st.procs.get_mut(&pid)?;
            e.zombie = Some(status);
            e.last_view = last_view;
            // Its pidfds poll readable from now on.
            e.group.exit_waiters.wake();
            (e.ppid, std::mem::take(&mut e.children))
        };
        // Orphans go to the nearest live subreaper ancestor, else init.
        let mut reaper = ppid;
        while reaper > 1
            && !st
                .procs
                .get(&reaper)
                .is_some_and(|e| e.subreaper && e.zombie.is_none())
        {
            reaper = st.procs.get(&reaper).map_or(1, |e| e.ppid);
        }
        let reaper = reaper.max(1);
        let mut reaper_has_zombies = false;
        for child in children {
            if let Some(c) = st.procs.get_mut(&child) {
                c.ppid = reaper;
                c.parent_thread = reaper;
                // reparent_leader: the new parent gets a plain SIGCHLD.
                c.exit_signal = abi::signal::SIGCHLD;
                reaper_has_zombies |= c.zombie.is_some();
            }
            if let Some(r) = st.procs.get_mut(&reaper) {
                r.children.insert(child);
            }
        }
        if reaper_has_zombies && let Some(r) = st.procs.get_mut(&reaper) {
            wake_all(&mut r.waiters);
        }
        let parent = st.procs.get_mut(&ppid)?;
        let notify = Arc::clone(&parent.group);
        // The exit signal is queued under the lock that makes the zombie
        // visible (Linux's exit_notify under tasklist_lock): a wait that
        // returns the child finds its SIGCHLD already pending, and a wait
        // the signal interrupts finds the child.
        notify_parent(&notify);
        // Waiters wake either way: an auto-reaped child may have been the
        // last one, and a blocked wait then fails with ECHILD.
        wake_all(&mut parent.waiters);
        if auto_reap(&parent.group) {
            parent.children.remove(&pid);
            if let Some(e) = st.procs.remove(&pid) {
                e.group.release();
            }
        }
        Some(notify)
    }

    /// One step of `wait4` for `caller`: reaps (unless `peek`) a zombie
    /// child matching `target`, or reports that there is none yet
    /// (`Ok(None)`; the caller is queued as a waiter first, so a child that
    /// exits afterwards wakes it), or ECHILD when no child matches at all.
    pub fn wait(
        &self,
        caller: i32,
        target: WaitTarget,
        events: WaitFor,
        peek: bool,
        waiter: &Arc<TaskHandle>,
    ) -> Result<Option<Reaped>, Errno> {
        let mut st = self.lock();
        let caller_pgid = st.procs.get(&caller).map_or(0, |e| e.pgid);
        let children: Vec<i32> = st
            .procs
            .get(&caller)
            .map(|e| e.children.iter().copied().collect())
            .unwrap_or_default();
        // Linux's eligible_child: a "clone" child (its exit signal is not
        // SIGCHLD) is waited for only with __WCLONE, the others only
        // without it, and all with __WALL.
        let matches = |pid: i32, e: &Entry| {
            (events.all || (e.exit_signal != abi::signal::SIGCHLD) == events.clones)
                && events.thread.is_none_or(|tid| e.parent_thread == tid)
                && match target {
                    WaitTarget::Any => true,
                    WaitTarget::Pid(p) => p == pid,
                    WaitTarget::Group(0) => e.pgid == caller_pgid,
                    WaitTarget::Group(g) => e.pgid == g,
                }
        };
        let mut any = false;
        for pid in children {
            let Some(e) = st.procs.get(&pid) else {
                continue;
            };
            // A zombie counts only for WEXITED (wait_task_zombie).
            if !matches(pid, e) || (e.zombie.is_some() && !events.exited) {
                continue;
            }
            any = true;
            let uid = e.last_view.as_ref().map(|v| v.creds.uid);
            let cpu = e.group.cpu_times() + e.group.children_cpu_times();
            if let Some(status) = e.zombie {
                if !peek {
                    if let Some(e) = st.procs.remove(&pid) {
                        e.group.release();
                    }
                    if let Some(p) = st.procs.get_mut(&caller) {
                        p.children.remove(&pid);
                        // wait_task_zombie: the parent inherits what its
                        // child used (RUSAGE_CHILDREN, times' cutime).
                        p.group.add_children_cpu_times(cpu);
                    }
                }
                return Ok(Some(Reaped {
                    pid,
                    change: ChildChange::Exited(status),
                    uid,
                    cpu,
                }));
            }
            if events.stopped
                && let Some(signo) = e.stop_report
            {
                if !peek && let Some(e) = st.procs.get_mut(&pid) {
                    e.stop_report = None;
                }
                return Ok(Some(Reaped {
                    pid,
                    change: ChildChange::Stopped(signo),
                    uid,
                    cpu,
                }));
            }
            if events.continued && e.cont_report {
                if !peek && let Some(e) = st.procs.get_mut(&pid) {
                    e.cont_report = false;
                }
                return Ok(Some(Reaped {
                    pid,
                    change: ChildChange::Continued,
                    uid,
                    cpu,
                }));
            }
        }
        if !any {
            return Err(Errno::ECHILD);
        }
        if let Some(p) = st.procs.get_mut(&caller)
            && !p.waiters.iter().any(|w| Arc::ptr_eq(w, waiter))
        {
            p.waiters.push(Arc::clone(waiter));
        }
        Ok(None)
    }

    /// Removes `waiter` from `caller`'s waiters (it stopped waiting).
    pub fn stop_waiting(&self, caller: i32, waiter: &Arc<TaskHandle>) {
        if let Some(p) = self.lock().procs.get_mut(&caller) {
            p.waiters.retain(|w| !Arc::ptr_eq(w, waiter));
        }
    }

    /// How many processes exist (zombies included), for `sysinfo`.
    pub fn count(&self) -> usize {
        self.lock().procs.len()
    }
}

fn wake_all(waiters: &mut Vec<Arc<TaskHandle>>) {
    for w in waiters.drain(..) {
        w.wake();
    }
}

impl Entry {
    fn new(group: Arc<ThreadGroup>, ppid: i32, pgid: i32, sid: i32) -> Entry {
        Entry {
            group,
            ppid,
            parent_thread: ppid,
            pgid,
            sid,
            children: BTreeSet::new(),
            zombie: None,
            last_view: None,
            waiters: Vec::new(),
            execed: false,
            exit_signal: abi::signal::SIGCHLD,
            subreaper: false,
            pdeath_signal: 0,
            stop_report: None,
            cont_report: false,
        }
    }
}
