//! Creating processes: the task half of `clone(2)`, `fork(2)` and `vfork(2)`.
//!
//! The parent's thread copies what the child inherits (the memory, shared
//! copy-on-write, or the memory manager itself under `CLONE_VM`; the fd
//! table; the fs context; signal actions and limits) and starts a host
//! thread for the child. That thread creates the child's address space (or
//! adopts a thread of the shared one) and execution context itself, since
//! under ptrace the host thread that creates a stub is the one that traces
//! it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use abi::Errno;
use abi::sched::{
    CLONE_CLEAR_SIGHAND, CLONE_FILES, CLONE_FS, CLONE_PARENT, CLONE_PIDFD, CLONE_SETTLS,
    CLONE_THREAD, CLONE_VFORK, CLONE_VM,
};
use platform::{PlatformError, ThreadTicket};

use super::{ChildChange, Task, TaskHandle, ThreadGroup, lock};
use crate::kernel::{ExitStatus, Kernel};
use crate::mm::{ForkedMemory, MemoryManager};
use crate::vfs::{FdTable, FsContext};

/// What a `clone` asks for, already validated by the syscall.
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneArgs {
    /// `CLONE_*` flags, without the exit signal.
    pub flags: u64,
    /// The signal the parent gets when the child exits (`SIGCHLD`; 0 or a
    /// number above 64 for none).
    pub exit_signal: u32,
    /// The child's stack pointer (0: the parent's).
    pub stack: u64,
    /// Where `CLONE_PARENT_SETTID` writes the child's tid (parent memory).
    pub parent_tid: u64,
    /// Where `CLONE_CHILD_SETTID` writes (child memory) and
    /// `CLONE_CHILD_CLEARTID` clears the child's tid.
    pub child_tid: u64,
    /// `CLONE_SETTLS`'s new `fs_base`.
    pub tls: u64,
    /// Where `CLONE_PIDFD` writes the child's pidfd (parent memory).
    pub pidfd: u64,
    /// `clone3`'s `set_tid`: the pid the child must get, already checked.
    pub set_tid: Option<i32>,
}

/// Lets a `vfork` parent go on once the child execs or exits.
#[derive(Debug)]
pub struct VforkDone {
    done: Mutex<bool>,
    parent: Arc<TaskHandle>,
}

impl VforkDone {
    /// Releases the parent.
    pub fn release(&self) {
        *lock(&self.done) = true;
        self.parent.wake();
    }
}

/// The memory a new process starts with.
enum ChildMemory {
    /// A copy-on-write copy, in an address space of its own (`fork`).
    Forked(ForkedMemory),
    /// The parent's own memory manager, and the platform thread the child
    /// runs in it (`CLONE_VM`).
    Shared(Arc<MemoryManager>, ThreadTicket),
}

impl Task {
    /// Creates a child process as `clone` without `CLONE_THREAD` does
    /// (also `fork` and `vfork`). Under `CLONE_VM` the child shares the
    /// parent's memory, as a thread would; otherwise it gets a
    /// copy-on-write copy. Returns the child's pid.
    ///
    /// # Errors
    /// EAGAIN when the sandbox's process limit is reached or the platform
    /// cannot make another address space or thread; ENOMEM when memory
    /// runs out.
    pub fn fork_process(&mut self, args: CloneArgs) -> Result<u64, Errno> {
        let kernel = Arc::clone(&self.kernel);
        let pid = kernel.tree.alloc_pid(kernel.pids_limit, args.set_tid)?;
        let group = self.thread_group.fork(pid);
        if args.flags & CLONE_CLEAR_SIGHAND != 0 {
            group.reset_caught_actions();
        }
        let (fs, fds) = self.clone_fs_files(args.flags);
        // The pidfd is written after the memory is copied, so the child's
        // copy does not hold it, and before a platform thread is made, so
        // a fault leaves nothing behind.
        let forked = if args.flags & CLONE_VM == 0 {
            match self.mm.fork() {
                Ok(forked) => Some(forked),
                Err(err) => {
                    kernel.tree.discard(pid);
                    return Err(err);
                }
            }
        } else {
            None
        };
        let pidfd = match self.install_clone_pidfd(&args, &group, pid) {
            Ok(pidfd) => pidfd,
            Err(err) => {
                kernel.tree.discard(pid);
                return Err(err);
            }
        };
        let memory = match forked {
            Some(forked) => ChildMemory::Forked(forked),
            None => match self.mm.address_space().new_thread() {
                Ok(ticket) => ChildMemory::Shared(Arc::clone(&self.mm), ticket),
                Err(err) => {
                    kernel.note(&format!("clone: cannot make a thread: {err}"));
                    kernel.tree.discard(pid);
                    self.remove_clone_pidfd(pidfd);
                    return Err(Errno::EAGAIN);
                }
            },
        };
        // A CLONE_PARENT child is its parent's sibling, and its parent
        // gets the signal it gets for the caller (copy_process).
        let (parent, parent_thread, exit_signal) = if args.flags & CLONE_PARENT != 0 {
            let pid = self.thread_group.pid;
            let ppid = kernel.tree.ppid(pid);
            (ppid, ppid, kernel.tree.exit_signal(pid))
        } else {
            (self.thread_group.pid, self.tid, args.exit_signal)
        };
        kernel
            .tree
            .add_child(parent, parent_thread, Arc::clone(&group), exit_signal);

        let regs = self.clone_regs(&args);
        let vfork = (args.flags & CLONE_VFORK != 0).then(|| {
            Arc::new(VforkDone {
                done: Mutex::new(false),
                parent: self.handle(),
            })
        });
        let child = ChildSpec {
            kernel: Arc::clone(&kernel),
            group,
            creds: self.creds.clone(),
            fs,
            fds,
            regs,
            altstack: self.altstack,
            comm: self.comm.clone(),
            dumpable: self.dumpable,
            mask: self.handle.signal_mask(),
            cpus: self.cpus.clone(),
            args,
            vfork: vfork.clone(),
            fpu: self.fpu_state_for_child(),
        };
        let started = start_task_thread(pid, move |ready| run_child(child, memory, ready));
        if let Err(err) = started {
            kernel.note(&format!("fork: cannot start pid {pid}: {err}"));
            kernel.tree.discard(pid);
            self.remove_clone_pidfd(pidfd);
            return Err(Errno::EAGAIN);
        }
        if args.flags & abi::sched::CLONE_PARENT_SETTID != 0 {
            // Linux ignores a fault here: the child exists either way.
            let _ = self.mm.write_obj(args.parent_tid, &pid);
        }
        if let Some(vfork) = vfork {
            self.wait_for_vfork_child(&vfork);
        }
        Ok(u64::from(pid.unsigned_abs()))
    }

    fn wait_for_vfork_child(&self, vfork: &VforkDone) {
        loop {
            self.prepare_to_block();
            if *lock(&vfork.done) {
                return;
            }
            if self.handle.block_killable() == super::Wakeup::Killed {
                return;
            }
        }
    }

    /// Releases a `vfork` parent (the task execs or exits).
    pub(crate) fn release_vfork_parent(&mut self) {
        if let Some(vfork) = self.vfork_parent.take() {
            vfork.release();
        }
    }
}

/// Everything a child's host thread needs to become the child.
struct ChildSpec {
    kernel: Arc<Kernel>,
    group: Arc<ThreadGroup>,
    creds: super::Credentials,
    fs: Arc<Mutex<crate::vfs::FsContext>>,
    fds: Arc<Mutex<crate::vfs::FdTable>>,
    regs: platform::Registers,
    altstack: abi::signal::StackT,
    /// The parent's name and dumpable flag, which a child inherits.
    comm: Vec<u8>,
    dumpable: bool,
    mask: u64,
    cpus: Vec<usize>,
    args: CloneArgs,
    vfork: Option<Arc<VforkDone>>,
    /// The parent's FPU/SSE/AVX state, which the child starts with.
    fpu: Option<Vec<u8>>,
}

/// The child's host thread: build the task, tell the parent, run it, and
/// end the process when it is done.
fn run_child(
    spec: ChildSpec,
    memory: ChildMemory,
    ready: &mpsc::Sender<Result<(), PlatformError>>,
) {
    let kernel = Arc::clone(&spec.kernel);
    let setup = || -> Result<Task, PlatformError> {
        let (mm, mut context) = match memory {
            ChildMemory::Forked(forked) => {
                let aspace = kernel.platform.new_address_space()?;
                let context = kernel.platform.new_context()?;
                (Arc::new(MemoryManager::from_fork(forked, aspace)), context)
            }
            ChildMemory::Shared(mm, ticket) => {
                let mut context = kernel.platform.new_context()?;
                context.adopt_thread(mm.address_space().as_ref(), ticket)?;
                (mm, context)
            }
        };
        if let Some(fpu) = &spec.fpu {
            context.set_fpu_state(mm.address_space().as_ref(), fpu)?;
        }
        let mut task = Task::new(
            Arc::clone(&kernel),
            spec.group,
            mm,
            spec.fs,
            spec.fds,
            spec.creds,
            context,
            spec.regs,
        );
        task.altstack = spec.altstack;
        task.comm = spec.comm;
        task.dumpable = spec.dumpable;
        task.cpus = spec.cpus;
        task.handle.set_signal_mask(spec.mask);
        task.vfork_parent = spec.vfork;
        if spec.args.flags & abi::sched::CLONE_CHILD_SETTID != 0 {
            let _ = task.mm.write_obj(spec.args.child_tid, &task.tid);
        }
        if spec.args.flags & abi::sched::CLONE_CHILD_CLEARTID != 0 {
            task.clear_child_tid = spec.args.child_tid;
        }
        Ok(task)
    };
    let task = match setup() {
        Ok(task) => task,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    announce(&kernel, &task);
    let _ = ready.send(Ok(()));
    finish(&kernel, task);
}

/// Makes a new task known before its creator returns from `clone`, as
/// Linux's `copy_process` does: it joins its thread group (so a signal or
/// an `exit_group` right away reaches it), and its view is published (so
/// `kill`, `capget`, pidfds and `/proc` find its pid at once).
fn announce(kernel: &Kernel, task: &Task) {
    kernel.register(task.handle());
    task.thread_group.add_thread(task.tid, task.handle());
    task.publish_view();
}

/// Runs `task` on this host thread to its end; the last thread of a
/// process ends the process.
fn finish(kernel: &Kernel, task: Task) {
    let tid = task.tid;
    match task.run_to_end() {
        Ok(Some((task, status))) => exit_process(task, status),
        Ok(None) => {}
        Err(err) => kernel.fatal(&format!("task {tid}: {err}")),
    }
}

/// Runs the sandbox's init on the calling host thread and returns how it
/// ended, once all its threads have.
///
/// # Errors
/// [`crate::KernelError::Platform`] if the platform fails.
pub fn run_init(task: Task) -> Result<ExitStatus, crate::KernelError> {
    let group = Arc::clone(&task.thread_group);
    match task.run_to_end()? {
        Some((_task, status)) => Ok(status),
        None => Ok(group.wait_all_done(ExitStatus::Exited(0))),
    }
}

impl Task {
    /// Creates a thread in this task's process, as `clone(CLONE_THREAD)`
    /// does. Returns its tid.
    ///
    /// # Errors
    /// EAGAIN when the task limit is reached or the platform cannot make
    /// another thread.
    pub fn clone_thread(&mut self, args: CloneArgs) -> Result<u64, Errno> {
        let kernel = Arc::clone(&self.kernel);
        let tid = kernel.tree.alloc_tid(kernel.pids_limit, args.set_tid)?;
        let regs = self.clone_regs(&args);
        let (fs, fds) = self.clone_fs_files(args.flags);
        let pidfd = match self.install_clone_pidfd(&args, &self.thread_group, tid) {
            Ok(pidfd) => pidfd,
            Err(err) => {
                kernel.tree.free_tid(tid);
                return Err(err);
            }
        };
        let ticket = match self.mm.address_space().new_thread() {
            Ok(ticket) => ticket,
            Err(err) => {
                kernel.note(&format!("clone: cannot make a thread: {err}"));
                kernel.tree.free_tid(tid);
                self.remove_clone_pidfd(pidfd);
                return Err(Errno::EAGAIN);
            }
        };
        if args.flags & abi::sched::CLONE_PARENT_SETTID != 0 {
            let _ = self.mm.write_obj(args.parent_tid, &tid);
        }
        let group = Arc::clone(&self.thread_group);
        let mm = Arc::clone(&self.mm);
        let creds = self.creds.clone();
        let mask = self.handle.signal_mask();
        let cpus = self.cpus.clone();
        let (comm, dumpable) = (self.comm.clone(), self.dumpable);
        let fpu = self.fpu_state_for_child();
        let thread_kernel = Arc::clone(&kernel);
        let started = start_task_thread(tid, move |ready_tx| {
            let kernel = thread_kernel;
            let setup = || -> Result<Task, PlatformError> {
                let mut context = kernel.platform.new_context()?;
                context.adopt_thread(mm.address_space().as_ref(), ticket)?;
                if let Some(fpu) = &fpu {
                    context.set_fpu_state(mm.address_space().as_ref(), fpu)?;
                }
                let mut task = Task::new(
                    Arc::clone(&kernel),
                    group,
                    mm,
                    fs,
                    fds,
                    creds,
                    context,
                    regs,
                );
                task.tid = tid;
                task.cpus = cpus;
                task.comm = comm;
                task.dumpable = dumpable;
                task.handle.set_signal_mask(mask);
                if args.flags & abi::sched::CLONE_CHILD_SETTID != 0 {
                    let _ = task.mm.write_obj(args.child_tid, &tid);
                }
                if args.flags & abi::sched::CLONE_CHILD_CLEARTID != 0 {
                    task.clear_child_tid = args.child_tid;
                }
                Ok(task)
            };
            match setup() {
                Ok(task) => {
                    announce(&kernel, &task);
                    let _ = ready_tx.send(Ok(()));
                    finish(&kernel, task);
                }
                Err(err) => {
                    let _ = ready_tx.send(Err(err));
                }
            }
        });
        if let Err(err) = started {
            kernel.note(&format!("clone: cannot start thread {tid}: {err}"));
            kernel.tree.free_tid(tid);
            self.remove_clone_pidfd(pidfd);
            return Err(Errno::EAGAIN);
        }
        Ok(u64::from(tid.unsigned_abs()))
    }
}

/// Ends the process `task` runs: its resources go first (so a pipe's
/// reader sees end of file before the parent hears of the exit), then it
/// becomes a zombie and its parent is told.
pub(crate) fn exit_process(mut task: Task, status: ExitStatus) {
    task.release_vfork_parent();
    let kernel = Arc::clone(&task.kernel);
    let pid = task.thread_group.pid;
    let uid = task.creds.uid;
    let cpu = task.thread_group.cpu_times();
    task.thread_group.delete_timers(&kernel.timers);
    let mm = Arc::clone(&task.mm);
    let last_view = task.view();
    // The program may be written again once it no longer runs (Linux
    // drops `mm->exe_file` in exit_mm, before the parent hears).
    drop(lock(&task.thread_group.exe_file).take());
    drop(task);
    // Memory shared with another process (`CLONE_VM`) outlives this one,
    // but its platform thread here must not.
    if Arc::strong_count(&mm) > 1 {
        mm.address_space().release_thread();
    }
    drop(mm);
    if kernel.tree.sid(pid) == Ok(pid) {
        crate::fs::pty::session_leader_exited(&kernel, pid);
    }
    let exit_signal = kernel.tree.exit_signal(pid);
    let orphans = kernel.tree.pdeath_targets(pid);
    kernel.tree.exit(
        pid,
        status,
        last_view,
        |parent| {
            let action = parent.action(abi::signal::SIGCHLD);
            action.handler == abi::signal::SIG_IGN || action.flags & abi::signal::SA_NOCLDWAIT != 0
        },
        |parent| {
            // Signals from the kernel about a process: Linux queues them
            // whatever the limit (a real-time exit signal past it loses its
            // siginfo). An exit signal that is no signal (legacy clone takes
            // up to 255) is not sent, as in Linux's do_notify_parent.
            if (1..=abi::signal::SIGRTMAX).contains(&exit_signal) {
                let info = crate::signal::child_info(
                    exit_signal,
                    ChildChange::Exited(status),
                    pid,
                    uid,
                    cpu,
                );
                let _ = crate::signal::send(parent, info);
            }
        },
    );
    for (child, signo) in orphans {
        let info = crate::signal::info_from(signo, abi::signal::SI_USER, pid, uid);
        let _ = crate::signal::send(&child, info);
    }
}

impl Task {
    /// `CLONE_PIDFD`: opens a pidfd for the new task `tid` of `group` (a
    /// thread pidfd under `CLONE_THREAD`) in the caller's fd table, after
    /// the child's copy of it was taken, and writes its number to
    /// `args.pidfd`. Returns the fd. A fault fails the clone with EFAULT
    /// before the child runs, as in Linux's `copy_process`.
    fn install_clone_pidfd(
        &self,
        args: &CloneArgs,
        group: &Arc<ThreadGroup>,
        tid: i32,
    ) -> Result<Option<i32>, Errno> {
        if args.flags & CLONE_PIDFD == 0 {
            return Ok(None);
        }
        let thread = args.flags & CLONE_THREAD != 0;
        let file = crate::fs::pidfd::new_pidfd(Arc::clone(group), tid, thread, 0);
        let limit = self
            .thread_group
            .limit(abi::resource::RLIMIT_NOFILE)
            .rlim_cur;
        let fd = self.fds().alloc(file, true, 0, limit)?;
        if let Err(err) = self.mm.write_obj(args.pidfd, &fd) {
            self.remove_clone_pidfd(Some(fd));
            return Err(err);
        }
        Ok(Some(fd))
    }

    /// Closes the `CLONE_PIDFD` pidfd of a clone that failed.
    fn remove_clone_pidfd(&self, fd: Option<i32>) {
        if let Some(fd) = fd {
            let _ = self.fds().remove(fd);
        }
    }

    /// The FPU/SSE/AVX state a new thread or process starts with: this
    /// task's (Linux's fpu_clone copies it). `None` if the platform cannot
    /// read it; the child then starts from the initial state.
    fn fpu_state_for_child(&mut self) -> Option<Vec<u8>> {
        match self.context.fpu_state(self.mm.address_space().as_ref()) {
            Ok(state) => Some(state),
            Err(err) => {
                self.kernel
                    .note(&format!("clone: cannot read the FPU state: {err}"));
                None
            }
        }
    }

    /// The registers a `clone` child starts with: the parent's, returning
    /// 0, on the new stack and TLS if given.
    fn clone_regs(&self, args: &CloneArgs) -> platform::Registers {
        let mut regs = self.regs;
        regs.rax = 0;
        if args.stack != 0 {
            regs.rsp = args.stack;
        }
        if args.flags & CLONE_SETTLS != 0 {
            regs.fs_base = args.tls;
        }
        regs
    }

    /// The fs context and fd table of a `clone` child: shared with the
    /// parent under `CLONE_FS`/`CLONE_FILES`, else copies.
    fn clone_fs_files(&self, flags: u64) -> (Arc<Mutex<FsContext>>, Arc<Mutex<FdTable>>) {
        let fs = if flags & CLONE_FS != 0 {
            Arc::clone(&self.fs)
        } else {
            Arc::new(Mutex::new(self.fs()))
        };
        let fds = if flags & CLONE_FILES != 0 {
            Arc::clone(&self.fds)
        } else {
            Arc::new(Mutex::new(self.fds().clone()))
        };
        (fs, fds)
    }
}

/// Starts the host thread of task `tid`, running `body`, and waits until
/// `body` reports through its sender that the task is set up (or why not).
fn start_task_thread(
    tid: i32,
    body: impl FnOnce(&mpsc::Sender<Result<(), PlatformError>>) + Send + 'static,
) -> Result<(), PlatformError> {
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("task-{tid}"))
        .spawn(move || body(&ready_tx))
        .map_err(|source| PlatformError::Host {
            op: "spawn task thread",
            source,
        })?;
    ready_rx.recv().unwrap_or(Err(PlatformError::WrongThread(
        "task thread ended before starting",
    )))
}
