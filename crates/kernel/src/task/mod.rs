//! Tasks: one host thread per program thread, and the loop that runs it.
//!
//! The loop is: [`platform::Context::switch`] into program code, handle the
//! [`Event`] that comes back (a syscall through the table, a fault through
//! the memory manager), act on pending kills, switch again. A task blocked
//! inside the sentry (`nanosleep`) waits on its [`TaskHandle`], which a kill
//! or a timeout wakes.
//!
//! Lock order: `ThreadGroup::actions` and `ThreadGroup::limits` are leaves;
//! no other lock is taken while one is held.

pub mod creds;
mod exec;
mod fork;
mod proc_view;
mod signals;
mod tree;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use abi::Errno;
use abi::resource::{RLIM_INFINITY, RLIM_NLIMITS, Rlimit};
use abi::signal::StackT;
use platform::{Context, Event, Interrupter, Registers};

pub use creds::Credentials;
pub use exec::Program;
pub(crate) use exec::interpret;
pub use fork::{CloneArgs, VforkDone, run_init};
pub use proc_view::{ProcessView, TaskView, TaskViews, tid_of};
pub use tree::{
    ChildChange, PID_MAX, PidUsers, ProcessState, ProcessTree, Reaped, WaitFor, WaitTarget,
};

use crate::kernel::{ExitStatus, Kernel, KernelError};
use crate::mm::{FaultError, FaultSignal, MemoryManager};
use crate::signal::{self, DefaultAction, PendingSignals, SignalActions};
use crate::syscalls::{SyscallArgs, strace, table};
use crate::timer::{CpuTimers, TimerQueue, TimerTarget};
use crate::vfs::{FdTable, FsContext};

/// `X32_SYSCALL_BIT`: a syscall number with this bit comes from the x32 ABI,
/// which carapace does not serve.
const X32_SYSCALL_BIT: u64 = 0x4000_0000;

/// A thread group (a process): what its threads share. Its place in the
/// process tree (parent, group, session) lives in [`ProcessTree`].
#[derive(Debug)]
pub struct ThreadGroup {
    /// The thread group id, in the sandbox's pid namespace.
    pub pid: i32,
    /// Signal actions. A leaf lock.
    pub actions: Mutex<SignalActions>,
    /// Resource limits, indexed by `RLIMIT_*`. A leaf lock.
    pub limits: Mutex<[Rlimit; RLIM_NLIMITS as usize]>,
    /// The path the program was executed as (for /proc/self/exe). A leaf lock.
    pub exe_path: Mutex<Vec<u8>>,
    /// The program's file as `execve` opened it (Linux's `mm->exe_file`):
    /// while the process lives, it cannot be opened for writing. A leaf
    /// lock.
    pub exe_file: Mutex<Option<Arc<crate::vfs::File>>>,
    /// The live threads, by tid. A leaf lock.
    threads: Mutex<std::collections::BTreeMap<i32, Arc<TaskHandle>>>,
    /// Set once the whole group is ending (`exit_group`, a fatal signal):
    /// the status the process ends with, whichever thread ends last.
    group_exit: Mutex<Option<ExitStatus>>,
    /// Signalled when the last thread has ended.
    all_done: Condvar,
    /// The ITIMER_REAL (and `alarm`) timer, once used. A leaf lock.
    pub itimer_real: Mutex<Option<u64>>,
    /// POSIX timers by the id the program knows. A leaf lock.
    pub posix_timers: Mutex<std::collections::BTreeMap<i32, PosixTimer>>,
    /// The stopping signal while the group is stopped (job control). A
    /// leaf lock.
    stopped: Mutex<Option<u32>>,
    /// Signalled when the group continues.
    continued: Condvar,
    /// The `membarrier(2)` registrations (`MEMBARRIER_CMD_REGISTER_*`
    /// bits). Linux keeps them in the mm: `fork` copies them, `execve`
    /// clears them.
    pub membarrier_registered: AtomicU32,
    /// Process-directed signals not yet taken by a thread.
    pub shared_pending: Arc<PendingSignals>,
    /// The CPU time of the group's threads that have ended.
    ended_threads_cpu: Mutex<CpuTimes>,
    /// The CPU time of the children it reaped, theirs included.
    reaped_children_cpu: Mutex<CpuTimes>,
    /// ITIMER_VIRTUAL, ITIMER_PROF and the POSIX timers on CPU clocks.
    /// Taken before the timer queue's lock.
    pub cpu_timers: Mutex<CpuTimers>,
    /// Whether one of `cpu_timers` is armed, read without the lock.
    cpu_timers_armed: std::sync::atomic::AtomicBool,
    /// Tasks waiting for any signal sent to the process or its threads
    /// (signalfd readers and pollers).
    signal_waiters: Waiters,
    /// A number no other process of this sandbox has had, since pids are
    /// reused: a pidfd's inode number.
    pub serial: u64,
    /// Tasks polling a pidfd of the process or of one of its threads,
    /// woken when a thread ends, the process exits or it is reaped.
    pub exit_waiters: Waiters,
    /// The signal count of the process's real user, which the signals
    /// queued for it are charged to. A leaf lock.
    signal_user: Mutex<Arc<signal::UserSignals>>,
}

/// Tasks to wake when something happens. A leaf lock.
#[derive(Debug, Default)]
pub struct Waiters(Mutex<Vec<Arc<TaskHandle>>>);

impl Waiters {
    /// Queues `waiter`.
    pub fn add(&self, waiter: &Arc<TaskHandle>) {
        lock(&self.0).push(Arc::clone(waiter));
    }

    /// Removes a waiter [`Waiters::add`] queued.
    pub fn remove(&self, waiter: &Arc<TaskHandle>) {
        let mut waiters = lock(&self.0);
        if let Some(at) = waiters.iter().position(|w| Arc::ptr_eq(w, waiter)) {
            waiters.swap_remove(at);
        }
    }

    /// Wakes every queued task (each removes itself once it stops waiting).
    pub fn wake(&self) {
        for waiter in lock(&self.0).iter() {
            waiter.wake();
        }
    }
}

/// The next [`ThreadGroup::serial`].
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

impl ThreadGroup {
    /// The sandbox's first process: pid 1, of the user `signal_user` counts.
    pub fn new_init(
        exe_path: Vec<u8>,
        exe_file: Arc<crate::vfs::File>,
        signal_user: Arc<signal::UserSignals>,
        ignored: u64,
    ) -> Arc<ThreadGroup> {
        ThreadGroup::new(
            1,
            SignalActions::ignoring(ignored),
            default_limits(),
            exe_path,
            Some(exe_file),
            0,
            signal_user,
        )
    }

    /// A forked child of `self` with pid `pid`: it inherits the signal
    /// actions, limits, executable path and membarrier registrations (the
    /// child's mm is a copy of the parent's, registrations included).
    pub fn fork(&self, pid: i32) -> Arc<ThreadGroup> {
        ThreadGroup::new(
            pid,
            lock(&self.actions).clone(),
            *lock(&self.limits),
            lock(&self.exe_path).clone(),
            lock(&self.exe_file).clone(),
            self.membarrier_registered.load(Ordering::SeqCst),
            self.signal_user(),
        )
    }

    /// A process with no threads yet, nothing pending and no timers.
    fn new(
        pid: i32,
        actions: SignalActions,
        limits: [Rlimit; RLIM_NLIMITS as usize],
        exe_path: Vec<u8>,
        exe_file: Option<Arc<crate::vfs::File>>,
        membarrier_registered: u32,
        signal_user: Arc<signal::UserSignals>,
    ) -> Arc<ThreadGroup> {
        Arc::new(ThreadGroup {
            pid,
            actions: Mutex::new(actions),
            limits: Mutex::new(limits),
            exe_path: Mutex::new(exe_path),
            exe_file: Mutex::new(exe_file),
            threads: Mutex::default(),
            group_exit: Mutex::new(None),
            all_done: Condvar::new(),
            itimer_real: Mutex::new(None),
            posix_timers: Mutex::default(),
            stopped: Mutex::new(None),
            continued: Condvar::new(),
            membarrier_registered: AtomicU32::new(membarrier_registered),
            shared_pending: Arc::default(),
            ended_threads_cpu: Mutex::default(),
            reaped_children_cpu: Mutex::default(),
            cpu_timers: Mutex::default(),
            cpu_timers_armed: std::sync::atomic::AtomicBool::new(false),
            signal_waiters: Waiters::default(),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            exit_waiters: Waiters::default(),
            signal_user: Mutex::new(signal_user),
        })
    }

    /// The signal count of the process's real user.
    pub fn signal_user(&self) -> Arc<signal::UserSignals> {
        Arc::clone(&lock(&self.signal_user))
    }

    /// Charges the signals queued for the process from now on to `user`
    /// (its real uid changed).
    pub fn set_signal_user(&self, user: Arc<signal::UserSignals>) {
        *lock(&self.signal_user) = user;
    }

    /// Resets every caught signal to its default action; ignored ones stay
    /// ignored (`execve`, `CLONE_CLEAR_SIGHAND`).
    pub fn reset_caught_actions(&self) {
        let mut actions = lock(&self.actions);
        for signo in 1..=abi::signal::SIGRTMAX {
            let handler = actions.get(signo).handler;
            if handler != abi::signal::SIG_IGN && handler != abi::signal::SIG_DFL {
                actions.set(signo, abi::signal::SigAction::default());
            }
        }
    }

    /// The limit `resource` (`RLIMIT_*`, already validated).
    pub fn limit(&self, resource: u32) -> Rlimit {
        let limits = lock(&self.limits);
        limits[usize::try_from(resource).unwrap_or(0).min(limits.len() - 1)]
    }

    /// The action for `signo` (1..=64).
    pub fn action(&self, signo: u32) -> abi::signal::SigAction {
        lock(&self.actions).get(signo)
    }

    /// Adds a thread.
    pub fn add_thread(&self, tid: i32, handle: Arc<TaskHandle>) {
        lock(&self.threads).insert(tid, handle);
    }

    /// Removes a thread that ended with `status`; returns how many remain.
    /// The last one's status is the process's unless a group exit set it.
    fn remove_thread(&self, tid: i32, status: ExitStatus) -> usize {
        let mut threads = lock(&self.threads);
        if let Some(thread) = threads.remove(&tid) {
            let mut ended = lock(&self.ended_threads_cpu);
            *ended = *ended + thread.cpu_times();
        }
        if threads.is_empty() {
            lock(&self.group_exit).get_or_insert(status);
            self.all_done.notify_all();
        }
        threads.len()
    }

    /// The tid of some live thread of the group.
    pub fn any_thread(&self) -> Option<i32> {
        lock(&self.threads).keys().next().copied()
    }

    /// Gives the thread `from` the tid `to` (a non-leader's `execve` takes
    /// over the leader's).
    fn rename_thread(&self, from: i32, to: i32) {
        let mut threads = lock(&self.threads);
        if let Some(handle) = threads.remove(&from) {
            threads.insert(to, handle);
        }
    }

    /// The thread `tid` of this group.
    pub fn thread(&self, tid: i32) -> Option<Arc<TaskHandle>> {
        lock(&self.threads).get(&tid).cloned()
    }

    /// The thread a process-directed `signo` wakes: the first that does
    /// not block it or waits for it in `rt_sigtimedwait`, else the first
    /// (the signal then waits on the process for a thread to take it).
    pub fn thread_for_signal(&self, signo: u32) -> Option<Arc<TaskHandle>> {
        let threads = lock(&self.threads);
        threads
            .values()
            .find(|t| t.wants_signal(signo))
            .or_else(|| threads.values().next())
            .cloned()
    }

    /// Gives the process's pending signals to threads that can take them,
    /// when the thread they were given to ends (Linux's
    /// `retarget_shared_pending`).
    pub fn retarget_shared_signals(&self) {
        let pending = self.shared_pending.mask();
        for signo in (1..=abi::signal::SIGRTMAX).filter(|&s| pending & abi::signal::sigmask(s) != 0)
        {
            if let Some(thread) = self.thread_for_signal(signo) {
                thread.claim_shared_signals();
                thread.notify_signal(signo);
            }
        }
    }

    /// Drops the pending signal of the POSIX timer `timer_id`, wherever it
    /// waits: Linux discards it when the timer is re-armed or deleted.
    pub fn discard_timer_signal(&self, timer_id: i32) {
        self.shared_pending.discard_timer(timer_id);
        for thread in lock(&self.threads).values() {
            thread.pending.discard_timer(timer_id);
        }
    }

    /// The process was reaped (`release_task`): the signals still pending
    /// for it no longer count against its user, and its pidfds' pollers
    /// wake to see it gone.
    pub fn release(&self) {
        self.discard_pending(u64::MAX);
        self.exit_waiters.wake();
    }

    /// Drops the pending signals of `set` from the process and every thread.
    pub fn discard_pending(&self, set: u64) {
        self.shared_pending.discard(set);
        for thread in lock(&self.threads).values() {
            thread.pending.discard(set);
        }
    }

    /// The status of the process killed by `signo`: it dumps core if the
    /// signal's default action does and `RLIMIT_CORE` allows a core file
    /// (none is written: the flag says one would have been).
    pub fn fatal_status(&self, signo: u32) -> ExitStatus {
        let core = signal::default_action(signo) == DefaultAction::Core
            && self.limit(abi::resource::RLIMIT_CORE).rlim_cur != 0;
        ExitStatus::Signaled { signo, core }
    }

    /// The CPU time of the process: its live and ended threads.
    pub fn cpu_times(&self) -> CpuTimes {
        let live = lock(&self.threads)
            .values()
            .fold(CpuTimes::default(), |sum, t| sum + t.cpu_times());
        live + *lock(&self.ended_threads_cpu)
    }

    /// The CPU time of the children the process reaped (`RUSAGE_CHILDREN`).
    pub fn children_cpu_times(&self) -> CpuTimes {
        *lock(&self.reaped_children_cpu)
    }

    /// Adds a reaped child's CPU time to [`ThreadGroup::children_cpu_times`].
    pub fn add_children_cpu_times(&self, cpu: CpuTimes) {
        let mut sum = lock(&self.reaped_children_cpu);
        *sum = *sum + cpu;
    }

    /// Queues `waiter` to be woken by the next signal sent to the process
    /// or one of its threads.
    pub fn add_signal_waiter(&self, waiter: &Arc<TaskHandle>) {
        self.signal_waiters.add(waiter);
    }

    /// Removes a waiter [`ThreadGroup::add_signal_waiter`] queued.
    pub fn remove_signal_waiter(&self, waiter: &Arc<TaskHandle>) {
        self.signal_waiters.remove(waiter);
    }

    /// Wakes the tasks waiting for a signal (a signal was queued).
    pub fn wake_signal_waiters(&self) {
        self.signal_waiters.wake();
    }

    /// Whether ITIMER_VIRTUAL or ITIMER_PROF is armed.
    pub fn cpu_timers_armed(&self) -> bool {
        self.cpu_timers_armed.load(Ordering::SeqCst)
    }

    /// Sends the signals of the CPU-time timers that expired by `now`, and
    /// sets the queue timer that makes the threads check again.
    pub fn check_cpu_timers(self: &Arc<Self>, timers: &Arc<TimerQueue>, now: CpuTimes) {
        let threads = self.thread_count();
        let (fired, next, check_timer) = {
            let mut cpu = lock(&self.cpu_timers);
            let fired = cpu.expire(now);
            let next = cpu.next_check(now, threads);
            let check_timer = *cpu.check_timer.get_or_insert_with(|| {
                timers.create(TimerTarget::CpuCheck(Arc::downgrade(self)), 0, None)
            });
            self.cpu_timers_armed.store(cpu.armed(), Ordering::SeqCst);
            (fired, next, check_timer)
        };
        timers.set(check_timer, next.unwrap_or_default(), Duration::ZERO);
        for (target, info) in fired {
            crate::timer::fire(&target, info);
        }
    }

    /// Interrupts every thread running program code, so that each accounts
    /// its CPU time and checks the CPU-time timers.
    pub fn interrupt_all(&self) {
        for thread in lock(&self.threads).values() {
            thread.interrupter.interrupt();
        }
    }

    /// Ends the whole group with `status`: every thread is killed (by
    /// `signo`, for the host-side wake-up) and the process ends with
    /// `status` once the last one is gone. The first group exit wins.
    pub fn exit_all(&self, status: ExitStatus, signo: u32) {
        lock(&self.group_exit).get_or_insert(status);
        for thread in lock(&self.threads).values() {
            thread.kill(signo);
        }
    }

    /// Kills every thread but `keep` (execve's de-threading) and waits
    /// until they are gone.
    pub fn kill_other_threads(&self, keep: i32) {
        let mut threads = lock(&self.threads);
        for (&tid, thread) in threads.iter() {
            if tid != keep {
                thread.dethreaded.store(true, Ordering::SeqCst);
                thread.kill(abi::signal::SIGKILL);
            }
        }
        while threads.len() > 1 {
            threads = self.all_done_or_change(threads);
        }
    }

    fn all_done_or_change<'a>(
        &self,
        guard: std::sync::MutexGuard<'a, std::collections::BTreeMap<i32, Arc<TaskHandle>>>,
    ) -> std::sync::MutexGuard<'a, std::collections::BTreeMap<i32, Arc<TaskHandle>>> {
        self.all_done
            .wait_timeout(guard, std::time::Duration::from_millis(5))
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .0
    }

    /// Deletes the process's timers (at exit, and POSIX timers at exec).
    pub fn delete_timers(&self, timers: &crate::timer::TimerQueue) {
        if let Some(id) = lock(&self.itimer_real).take() {
            timers.delete(id);
        }
        if let Some(id) = lock(&self.cpu_timers).check_timer.take() {
            timers.delete(id);
        }
        self.delete_posix_timers(timers);
    }

    /// Deletes the process's POSIX timers (`execve` does).
    pub fn delete_posix_timers(&self, timers: &crate::timer::TimerQueue) {
        for timer in std::mem::take(&mut *lock(&self.posix_timers)).into_values() {
            timer.delete(timers);
        }
    }

    /// Stops every thread of the group (job control's stop signals): each
    /// one stops when it next returns toward the program.
    pub fn stop_all(&self, signo: u32) {
        *lock(&self.stopped) = Some(signo);
        for thread in lock(&self.threads).values() {
            thread.request_stop();
        }
    }

    /// Continues a stopped group (`SIGCONT`); returns whether it was stopped.
    pub fn continue_all(&self) -> bool {
        let was = lock(&self.stopped).take().is_some();
        self.continued.notify_all();
        was
    }

    /// Whether the group is stopped, and by which signal.
    pub fn stopped_by(&self) -> Option<u32> {
        *lock(&self.stopped)
    }

    /// How many threads the group has.
    pub fn thread_count(&self) -> usize {
        lock(&self.threads).len()
    }

    /// Waits until every thread has ended and returns the process's status
    /// (`fallback` if no group exit set one).
    pub fn wait_all_done(&self, fallback: ExitStatus) -> ExitStatus {
        let mut threads = lock(&self.threads);
        while !threads.is_empty() {
            threads = self.all_done_or_change(threads);
        }
        drop(threads);
        lock(&self.group_exit).unwrap_or(fallback)
    }

    /// The status a group exit set, if one did.
    pub fn group_exit_status(&self) -> Option<ExitStatus> {
        *lock(&self.group_exit)
    }
}

/// Locks `mutex`, ignoring poisoning: a panic elsewhere already ended the
/// sandbox (panic = abort), so the data is never seen half-updated.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Linux's defaults for a new init process (`include/asm-generic/resource.h`),
/// with the file limit at what systemd gives services.
fn default_limits() -> [Rlimit; RLIM_NLIMITS as usize] {
    let unlimited = Rlimit {
        rlim_cur: RLIM_INFINITY,
        rlim_max: RLIM_INFINITY,
    };
    let mut limits = [unlimited; RLIM_NLIMITS as usize];
    let mut set = |r: u32, cur: u64, max: u64| {
        limits[r as usize] = Rlimit {
            rlim_cur: cur,
            rlim_max: max,
        };
    };
    set(abi::resource::RLIMIT_STACK, 8 << 20, RLIM_INFINITY);
    set(abi::resource::RLIMIT_CORE, 0, RLIM_INFINITY);
    set(abi::resource::RLIMIT_NPROC, 4096, 4096);
    set(abi::resource::RLIMIT_NOFILE, 1024, 524_288);
    set(abi::resource::RLIMIT_MEMLOCK, 8 << 20, 8 << 20);
    set(abi::resource::RLIMIT_SIGPENDING, 4096, 4096);
    set(abi::resource::RLIMIT_MSGQUEUE, 819_200, 819_200);
    set(abi::resource::RLIMIT_NICE, 0, 0);
    set(abi::resource::RLIMIT_RTPRIO, 0, 0);
    limits
}

/// The part of a task other host threads may touch: to kill it, wake it or
/// queue a signal for it.
#[derive(Debug)]
pub struct TaskHandle {
    kill_signal: AtomicU32,
    /// Whether the thread takes its process's pending signals on its way
    /// back to the program (Linux's TIF_SIGPENDING for the shared queue):
    /// set on the thread a process-directed signal was given to, or that
    /// unblocks one. A sibling that merely sent the signal must not take it
    /// from the thread woken for it.
    claims_shared: std::sync::atomic::AtomicBool,
    /// Set when another thread's `execve` ends this one: it ends quietly,
    /// without taking its thread group with it.
    dethreaded: std::sync::atomic::AtomicBool,
    /// Set when its group stops: a blocked syscall returns so the task can stop.
    stop_requested: std::sync::atomic::AtomicBool,
    /// The signals `rt_sigtimedwait` waits for: blocked, but their arrival
    /// wakes the task (Linux's `real_blocked`).
    awaited: AtomicU64,
    interrupter: Interrupter,
    /// Blocked signals (the task's `rt_sigprocmask`), readable by senders.
    signal_mask: AtomicU64,
    /// Signals sent to this thread and not yet taken.
    pub(crate) pending: PendingSignals,
    /// Its process's pending signals (`ThreadGroup::shared_pending`).
    shared_pending: Arc<PendingSignals>,
    /// CPU time in nanoseconds, see [`CpuTimes`]: the program's runs
    /// (user), and the task thread's own CPU clock when last read (system).
    user_ns: AtomicU64,
    system_ns: AtomicU64,
    /// When the program last started running ([`since_boot`] nanoseconds),
    /// 0 while the sentry has it.
    running_since: AtomicU64,
    /// `set_robust_list(2)`'s head, which `get_robust_list(2)` may read from
    /// other threads.
    robust_list: AtomicU64,
    /// Set by [`TaskHandle::wake`], cleared by [`TaskHandle::prepare_to_block`].
    woken: Mutex<bool>,
    wake: Condvar,
}

thread_local! {
    /// The task this host thread runs (Linux's `current`): file operations
    /// that block (a pipe read) wait on it without a `Task` in hand.
    static CURRENT: std::cell::RefCell<Option<(Arc<ThreadGroup>, Arc<TaskHandle>)>> =
        const { std::cell::RefCell::new(None) };
    /// The kernel of the task this host thread runs: what file operations
    /// that act on processes (a terminal's job control) reach through.
    static CURRENT_KERNEL: std::cell::RefCell<Option<Arc<Kernel>>> =
        const { std::cell::RefCell::new(None) };
}

/// The task the calling host thread runs, if it runs one.
pub fn current() -> Option<Arc<TaskHandle>> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(_, h)| Arc::clone(h)))
}

/// The process and task the calling host thread runs, if it runs one.
pub fn current_process() -> Option<(Arc<ThreadGroup>, Arc<TaskHandle>)> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The kernel of the task the calling host thread runs, if it runs one.
pub fn current_kernel() -> Option<Arc<Kernel>> {
    CURRENT_KERNEL.with(|c| c.borrow().clone())
}

/// Queues `waiter` on a file's poll queue, once.
pub(crate) fn enqueue_waiter(queue: &mut Vec<Arc<TaskHandle>>, waiter: &Arc<TaskHandle>) {
    if !queue.iter().any(|w| Arc::ptr_eq(w, waiter)) {
        queue.push(Arc::clone(waiter));
    }
}

/// Takes `waiter` off a queue.
pub(crate) fn dequeue_waiter(queue: &mut Vec<Arc<TaskHandle>>, waiter: &Arc<TaskHandle>) {
    queue.retain(|w| !Arc::ptr_eq(w, waiter));
}

/// Wakes every task of a queue and empties it; they re-check and queue
/// again if they still wait.
pub(crate) fn wake_all(queue: &mut Vec<Arc<TaskHandle>>) {
    for waiter in queue.drain(..) {
        waiter.wake();
    }
}

/// Blocks the calling task on the wait queue `queue` picks out of the
/// state `guard` holds (locked by `mutex`), until a waker drains the queue,
/// `deadline` passes, or a signal needs handling: how pipes and terminals
/// wait. `ERESTARTSYS` if a signal is already pending or the task is
/// killed; `EAGAIN` off a task thread.
pub(crate) fn wait_on<T>(
    mutex: &Mutex<T>,
    mut guard: std::sync::MutexGuard<'_, T>,
    queue: fn(&mut T) -> &mut Vec<Arc<TaskHandle>>,
    deadline: Option<Instant>,
) -> Result<Wakeup, Errno> {
    let Some(me) = current() else {
        return Err(Errno::EAGAIN);
    };
    if me.signal_pending() {
        return Err(Errno::ERESTARTSYS);
    }
    me.prepare_to_block();
    queue(&mut guard).push(Arc::clone(&me));
    drop(guard);
    let wakeup = me.block(deadline);
    queue(&mut lock(mutex)).retain(|w| !Arc::ptr_eq(w, &me));
    if wakeup == Wakeup::Killed {
        Err(Errno::ERESTARTSYS)
    } else {
        Ok(wakeup)
    }
}

impl TaskHandle {
    /// Kills the task's thread group with `signo` (the first kill wins) and
    /// wakes the task wherever it is: in program code or blocked in the sentry.
    pub fn kill(&self, signo: u32) {
        let _ = self
            .kill_signal
            .compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst);
        let _guard = lock(&self.woken);
        self.wake.notify_all();
        self.interrupter.interrupt();
    }

    /// Wakes the task if it is blocked in [`TaskHandle::block`] (or makes its
    /// next block return at once, if it has prepared to block).
    pub fn wake(&self) {
        *lock(&self.woken) = true;
        self.wake.notify_all();
    }

    /// Readies the task to block: a [`TaskHandle::wake`] from now on makes
    /// the next [`TaskHandle::block`] return. Call it before publishing the
    /// task as a waiter (on a futex queue, say), so no wake-up is lost.
    pub fn prepare_to_block(&self) {
        *lock(&self.woken) = false;
    }

    /// Blocks until woken, `deadline` passes, a signal needs handling, or
    /// the task is killed.
    pub fn block(&self, deadline: Option<Instant>) -> Wakeup {
        self.block_until(deadline, true)
    }

    /// Blocks until woken or killed; signals wait (Linux's `TASK_KILLABLE`).
    pub fn block_killable(&self) -> Wakeup {
        self.block_until(None, false)
    }

    fn block_until(&self, deadline: Option<Instant>, interruptible: bool) -> Wakeup {
        let mut woken = lock(&self.woken);
        loop {
            if self.pending_kill().is_some() {
                return Wakeup::Killed;
            }
            if interruptible
                && (self.pending_signals()
                    & (!self.signal_mask() | self.awaited.load(Ordering::SeqCst))
                    != 0
                    || self.stop_requested.load(Ordering::SeqCst))
            {
                return Wakeup::Interrupted;
            }
            if *woken {
                return Wakeup::Woken;
            }
            let now = Instant::now();
            woken = match deadline {
                Some(deadline) if now >= deadline => return Wakeup::TimedOut,
                Some(deadline) => {
                    self.wake
                        .wait_timeout(woken, deadline - now)
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
                None => self
                    .wake
                    .wait(woken)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            };
        }
    }

    /// Makes the task stop at its next return toward the program.
    fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::SeqCst);
        let _guard = lock(&self.woken);
        self.wake.notify_all();
        self.interrupter.interrupt();
    }

    /// Whether something needs the task's attention before it blocks again:
    /// a deliverable signal, a stop, or a kill (Linux's `signal_pending`).
    pub fn signal_pending(&self) -> bool {
        self.pending_kill().is_some()
            || self.pending_signals() & !self.signal_mask() != 0
            || self.stop_requested.load(Ordering::SeqCst)
    }

    /// The signal that killed the task, if one did.
    pub fn pending_kill(&self) -> Option<u32> {
        match self.kill_signal.load(Ordering::SeqCst) {
            0 => None,
            signo => Some(signo),
        }
    }

    /// The task's blocked signals.
    pub fn signal_mask(&self) -> u64 {
        self.signal_mask.load(Ordering::SeqCst)
    }

    /// Sets the task's blocked signals (SIGKILL and SIGSTOP never are).
    pub fn set_signal_mask(&self, mask: u64) {
        let mask = mask & !abi::signal::UNBLOCKABLE;
        self.signal_mask.store(mask, Ordering::SeqCst);
        // recalc_sigpending: a process signal this mask lets through is
        // this thread's to take.
        if self.shared_pending.mask() & !mask != 0 {
            self.claim_shared_signals();
        }
    }

    /// Makes the thread take its process's pending signals.
    pub(crate) fn claim_shared_signals(&self) {
        self.claims_shared.store(true, Ordering::SeqCst);
    }

    /// Takes the next signal the thread delivers on its way back to the
    /// program: its own first, then its process's if it claims them.
    /// A claim with nothing left to take lapses.
    pub fn dequeue_for_delivery(&self, allowed: u64) -> Option<abi::signal::SigInfo> {
        let shared = if self.claims_shared.load(Ordering::SeqCst) {
            allowed
        } else {
            0
        };
        let info =
            signal::dequeue_from(&[(&self.pending, allowed), (&self.shared_pending, shared)]);
        if info.is_none() && shared != 0 {
            // Cleared, then checked again: a signal queued in between
            // re-claims (its sender sets the flag after queueing).
            self.claims_shared.store(false, Ordering::SeqCst);
            if self.shared_pending.mask() & allowed != 0 {
                self.claim_shared_signals();
            }
        }
        info
    }

    /// Signals pending for the task: its own and its process's.
    pub fn pending_signals(&self) -> u64 {
        self.pending.mask() | self.shared_pending.mask()
    }

    /// Whether the task would take `signo` now: it does not block it, or
    /// waits for it in `rt_sigtimedwait` (Linux's `wants_signal`).
    fn wants_signal(&self, signo: u32) -> bool {
        let bit = abi::signal::sigmask(signo);
        self.signal_mask() & bit == 0 || self.awaited.load(Ordering::SeqCst) & bit != 0
    }

    /// Tells the task a signal was queued for it (or its process): unless
    /// it blocks it, whatever the task is doing is interrupted so that it
    /// takes it.
    pub fn notify_signal(&self, signo: u32) {
        if self.wants_signal(signo) {
            let _guard = lock(&self.woken);
            self.wake.notify_all();
            self.interrupter.interrupt();
        }
    }

    /// Sets the signals `rt_sigtimedwait` waits for (0 when it is done).
    pub fn set_awaited(&self, set: u64) {
        self.awaited.store(set, Ordering::SeqCst);
    }

    /// The robust futex list's head (`set_robust_list(2)`), 0 for none.
    pub fn robust_list(&self) -> u64 {
        self.robust_list.load(Ordering::SeqCst)
    }

    /// Records the robust futex list's head.
    pub fn set_robust_list(&self, head: u64) {
        self.robust_list.store(head, Ordering::SeqCst);
    }

    /// Takes the next pending signal of `allowed`, with its siginfo.
    pub fn dequeue_signal(&self, allowed: u64) -> Option<abi::signal::SigInfo> {
        signal::dequeue(&self.pending, &self.shared_pending, allowed)
    }

    /// The thread's CPU time so far, including the program's current run.
    pub fn cpu_times(&self) -> CpuTimes {
        let since = self.running_since.load(Ordering::SeqCst);
        let running = if since == 0 {
            0
        } else {
            since_boot().saturating_sub(since)
        };
        CpuTimes {
            user: std::time::Duration::from_nanos(
                self.user_ns.load(Ordering::SeqCst).saturating_add(running),
            ),
            system: std::time::Duration::from_nanos(self.system_ns.load(Ordering::SeqCst)),
        }
    }
}

/// A process's or thread's CPU time, split as `getrusage` splits it.
///
/// The sentry accounts it. User time is the time the program ran between
/// two returns to the sentry (each `Context::switch`, on the monotonic
/// clock; time the host gave the CPU to someone else meanwhile counts
/// too). System time is the CPU time of the sentry thread that serves the
/// task (one host thread per task), read when the task next passes a
/// point that needs it (a CPU-time query, a CPU-timer check, its end), so
/// another thread's may lag behind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time in program code.
    pub user: std::time::Duration,
    /// Time in the sentry on the program's behalf.
    pub system: std::time::Duration,
}

impl std::ops::Add for CpuTimes {
    type Output = CpuTimes;

    fn add(self, other: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user.saturating_add(other.user),
            system: self.system.saturating_add(other.system),
        }
    }
}

impl CpuTimes {
    /// User plus system time.
    pub fn total(self) -> std::time::Duration {
        self.user.saturating_add(self.system)
    }
}

/// Nanoseconds since the sentry's first use of this clock (at least 1):
/// the time base of the CPU-time accounting.
///
/// It is read twice on every switch to the program, so once the TSC's rate
/// has been measured against the monotonic clock (over its first 50 ms) it
/// is computed from the TSC alone: ~10 ns a read instead of ~25 ns. The TSC
/// is invariant on every host carapace runs on (x86-64 with
/// `constant_tsc`); the rate's error is far below a tick of CPU accounting.
fn since_boot() -> u64 {
    /// The TSC and the monotonic clock at the first read.
    struct Base {
        tsc: u64,
        at: Instant,
    }
    static BASE: std::sync::OnceLock<Base> = std::sync::OnceLock::new();
    /// Nanoseconds per TSC tick, as a 32.32 fixed-point number; 0 until
    /// measured.
    static NS_PER_TICK: AtomicU64 = AtomicU64::new(0);
    const CALIBRATION_NS: u64 = 50_000_000;
    let base = BASE.get_or_init(|| Base {
        tsc: crate::host::tsc(),
        at: Instant::now(),
    });
    let ticks = crate::host::tsc().wrapping_sub(base.tsc);
    let rate = NS_PER_TICK.load(Ordering::Relaxed);
    let ns = if rate == 0 {
        let ns = u64::try_from(base.at.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if ns >= CALIBRATION_NS && ticks > 0 {
            let rate = (u128::from(ns) << 32) / u128::from(ticks);
            NS_PER_TICK.store(u64::try_from(rate).unwrap_or(u64::MAX), Ordering::Relaxed);
        }
        ns
    } else {
        u64::try_from((u128::from(ticks) * u128::from(rate)) >> 32).unwrap_or(u64::MAX)
    };
    ns.max(1)
}

/// Why [`Task::block`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// [`TaskHandle::wake`] was called.
    Woken,
    /// The deadline passed.
    TimedOut,
    /// The task was killed; the syscall must return at once.
    Killed,
    /// A signal arrived that the task must handle: the syscall returns a
    /// restart code (or EINTR).
    Interrupted,
}

/// A POSIX timer (`timer_create(2)`): where it lives.
#[derive(Clone, Debug)]
pub struct PosixTimer {
    /// Its id in the timer queue, or in `cpu`'s CPU timers.
    pub id: u64,
    /// The clock it was created on (CLOCK_PROCESS_CPUTIME_ID or
    /// CLOCK_THREAD_CPUTIME_ID for every CPU clock).
    pub clock: u32,
    /// For a timer on a CPU clock, the process whose CPU timers hold it:
    /// the owner's, or the process whose clock it counts, whose threads
    /// check it as they run.
    pub cpu: Option<std::sync::Weak<ThreadGroup>>,
    /// The place in its user's signal count that the timer's signal
    /// takes, held as long as the timer lives (Linux's preallocated
    /// sigqueue).
    pub reserved: Arc<signal::Charge>,
}

impl PosixTimer {
    /// Deletes the timer from where it lives.
    pub fn delete(&self, timers: &crate::timer::TimerQueue) {
        match &self.cpu {
            Some(holder) => {
                if let Some(holder) = holder.upgrade() {
                    lock(&holder.cpu_timers).delete(self.id);
                }
            }
            None => timers.delete(self.id),
        }
    }
}

/// The rest of a syscall that a signal interrupted, for
/// `restart_syscall(2)` to finish (Linux's `struct restart_block`): a
/// relative sleep goes on with the time it had left, not its whole timeout.
pub struct RestartBlock(Box<RestartFn>);

/// What a [`RestartBlock`] runs: the syscall's rest, as a handler.
type RestartFn = dyn FnOnce(&mut Task) -> Result<u64, Errno>;

impl std::fmt::Debug for RestartBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RestartBlock")
    }
}

/// A program thread, and the host thread's means of running it.
#[derive(Debug)]
pub struct Task {
    /// The kernel this task runs in.
    pub kernel: Arc<Kernel>,
    /// The thread id, in the sandbox's pid namespace.
    pub tid: i32,
    /// The task's thread group.
    pub thread_group: Arc<ThreadGroup>,
    /// The address space.
    pub mm: Arc<MemoryManager>,
    /// Root, working directory and umask; shared by `CLONE_FS` clones.
    fs: Arc<Mutex<FsContext>>,
    /// Open files; shared by `CLONE_FILES` clones.
    fds: Arc<Mutex<FdTable>>,
    /// Who the task is.
    pub creds: Credentials,
    /// The general registers, while the kernel has the thread.
    pub regs: Registers,
    /// The alternate signal stack.
    pub altstack: StackT,
    /// `set_tid_address(2)`'s pointer.
    pub clear_child_tid: u64,
    /// The CPUs `sched_setaffinity(2)` allowed, within the sandbox's.
    pub cpus: Vec<usize>,
    /// Set by `exit`/`exit_group`: the loop ends after this syscall.
    pub exit_status: Option<ExitStatus>,
    /// The parent blocked in `vfork` until this task execs or exits.
    vfork_parent: Option<Arc<VforkDone>>,
    /// A restart code the last syscall returned, settled when signals are
    /// handled before returning to the program.
    syscall_restart: Option<Errno>,
    /// What `restart_syscall(2)` runs: the rest of the last syscall that
    /// returned ERESTART_RESTARTBLOCK, until a handler returns or exec.
    restart_block: Option<RestartBlock>,
    /// The mask `rt_sigsuspend` replaced, restored by the handler's frame.
    pub saved_mask: Option<u64>,
    /// `sched_setscheduler`'s policy and priority (recorded, not applied).
    pub sched_policy: (u32, u32),
    /// The nice value `setpriority` set (recorded, not applied).
    pub nice: i32,
    /// The thread's name (`PR_SET_NAME`).
    pub comm: Vec<u8>,
    /// `PR_SET_PDEATHSIG`'s signal.
    pub pdeath_signal: u32,
    /// `PR_SET_DUMPABLE`.
    pub dumpable: bool,
    /// `PR_SET_NO_NEW_PRIVS`.
    pub no_new_privs: bool,
    context: Box<dyn Context>,
    handle: Arc<TaskHandle>,
}

impl Task {
    /// A new task, the first thread of `thread_group`, that will start with `regs`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kernel: Arc<Kernel>,
        thread_group: Arc<ThreadGroup>,
        mm: Arc<MemoryManager>,
        fs: Arc<Mutex<FsContext>>,
        fds: Arc<Mutex<FdTable>>,
        creds: Credentials,
        context: Box<dyn Context>,
        regs: Registers,
    ) -> Task {
        let cpus = kernel.cpus.clone();
        let handle = Arc::new(TaskHandle {
            kill_signal: AtomicU32::new(0),
            dethreaded: std::sync::atomic::AtomicBool::new(false),
            stop_requested: std::sync::atomic::AtomicBool::new(false),
            awaited: AtomicU64::new(0),
            interrupter: context.interrupter(),
            signal_mask: AtomicU64::new(0),
            pending: PendingSignals::default(),
            shared_pending: Arc::clone(&thread_group.shared_pending),
            user_ns: AtomicU64::new(0),
            system_ns: AtomicU64::new(0),
            running_since: AtomicU64::new(0),
            claims_shared: std::sync::atomic::AtomicBool::new(false),
            robust_list: AtomicU64::new(0),
            woken: Mutex::new(false),
            wake: Condvar::new(),
        });
        Task {
            kernel,
            tid: thread_group.pid,
            thread_group,
            mm,
            fs,
            fds,
            creds,
            regs,
            altstack: StackT {
                ss_flags: abi::signal::SS_DISABLE.cast_signed(),
                ..StackT::default()
            },
            clear_child_tid: 0,
            cpus,
            exit_status: None,
            vfork_parent: None,
            syscall_restart: None,
            restart_block: None,
            saved_mask: None,
            sched_policy: (abi::sched::SCHED_NORMAL, 0),
            nice: 0,
            comm: Vec::new(),
            pdeath_signal: 0,
            dumpable: true,
            no_new_privs: false,
            context,
            handle,
        }
    }

    /// A snapshot of the task's root, working directory and umask. Path
    /// walks use the snapshot, so no lock is held while they touch the host.
    pub fn fs(&self) -> FsContext {
        self.fs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Changes the task's (possibly shared) file-system context.
    pub fn update_fs<T>(&self, change: impl FnOnce(&mut FsContext) -> T) -> T {
        change(
            &mut self
                .fs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// The task's (possibly shared) fd table, locked. Hold the guard only
    /// for the table operation itself: never across a blocking call or
    /// program memory access.
    pub fn fds(&self) -> std::sync::MutexGuard<'_, FdTable> {
        self.fds
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The handle other threads use to kill or wake this task.
    pub fn handle(&self) -> Arc<TaskHandle> {
        Arc::clone(&self.handle)
    }

    /// Runs the task until its thread group exits.
    ///
    /// # Errors
    /// [`KernelError::Platform`] if the platform fails; the sandbox cannot go on.
    pub fn run(&mut self) -> Result<ExitStatus, KernelError> {
        let me = (Arc::clone(&self.thread_group), Arc::clone(&self.handle));
        CURRENT.with(|c| *c.borrow_mut() = Some(me));
        CURRENT_KERNEL.with(|c| *c.borrow_mut() = Some(Arc::clone(&self.kernel)));
        self.publish_view();
        loop {
            if let Some(status) = self.exit_status {
                return Ok(status);
            }
            if let Some(signo) = self.handle.pending_kill() {
                return Ok(self.thread_group.fatal_status(signo));
            }
            self.handle_signals();
            // A mask a syscall replaced (rt_sigsuspend, ppoll, pselect6)
            // that no handler's frame took comes back now, as Linux's
            // restore_saved_sigmask does.
            if let Some(mask) = self.saved_mask.take() {
                self.handle.set_signal_mask(mask);
            }
            if let Some(status) = self.exit_status {
                return Ok(status);
            }
            if self.mm.address_space().wants_program_memory() {
                // systrap rewrites syscall sites through the memory manager.
                let memory: Arc<dyn platform::ProgramMemory> = self.mm.clone();
                self.mm
                    .address_space()
                    .set_program_memory(Arc::downgrade(&memory));
            }
            // A file this address space maps may have shrunk meanwhile.
            self.mm.apply_invalidations();
            self.handle
                .running_since
                .store(since_boot(), Ordering::Release);
            let event = self
                .context
                .switch(self.mm.address_space().as_ref(), &mut self.regs);
            self.account_run();
            let event = event?;
            let interrupted = matches!(event, Event::Interrupted);
            match event {
                Event::Syscall => {
                    self.syscall();
                    // An mm change whose host unmap failed leaves the address
                    // space out of step with the VMAs: the sandbox cannot go on.
                    if let Some(err) = self.mm.take_platform_error() {
                        return Err(err.into());
                    }
                }
                Event::Fault { addr, access } => match self.mm.fault(addr, access) {
                    Ok(()) => {}
                    Err(FaultError::Signal(fault)) => self.force_signal(fault),
                    Err(FaultError::Platform(err)) => return Err(err.into()),
                },
                Event::Signal(info) => self.force_signal_info(info),
                Event::Interrupted => {}
            }
            if interrupted && self.thread_group.cpu_timers_armed() {
                let now = self.process_cpu_times();
                self.thread_group.check_cpu_timers(&self.kernel.timers, now);
            }
        }
    }

    /// Adds the program's run that just ended to the user time. Only this
    /// task's thread writes either field: plain stores do, where locked
    /// read-modify-writes would cost on every switch.
    fn account_run(&self) {
        let handle = &self.handle;
        let since = handle.running_since.load(Ordering::Relaxed);
        handle.running_since.store(0, Ordering::Release);
        let user = handle.user_ns.load(Ordering::Relaxed);
        handle.user_ns.store(
            user.saturating_add(since_boot().saturating_sub(since)),
            Ordering::Release,
        );
    }

    /// Reads the task thread's CPU clock into the task's system time.
    pub fn refresh_system_time(&self) {
        let (user, system) = crate::host::thread_cpu_micros();
        self.handle.system_ns.store(
            user.saturating_add(system).saturating_mul(1000),
            Ordering::SeqCst,
        );
    }

    /// This thread's CPU time, up to date.
    pub fn thread_cpu_times(&self) -> CpuTimes {
        self.refresh_system_time();
        self.handle.cpu_times()
    }

    /// This process's CPU time, with this thread's up to date.
    pub fn process_cpu_times(&self) -> CpuTimes {
        self.refresh_system_time();
        self.thread_group.cpu_times()
    }

    /// See [`TaskHandle::prepare_to_block`].
    pub fn prepare_to_block(&self) {
        self.handle.prepare_to_block();
    }

    /// See [`TaskHandle::block`].
    pub fn block(&self, deadline: Option<Instant>) -> Wakeup {
        self.handle.block(deadline)
    }

    /// Keeps `rest` for `restart_syscall(2)` and returns the code that
    /// has the syscall restarted through it when no handler runs (with
    /// one, the syscall fails with EINTR).
    pub fn set_restart_block(
        &mut self,
        rest: impl FnOnce(&mut Task) -> Result<u64, Errno> + 'static,
    ) -> Errno {
        self.restart_block = Some(RestartBlock(Box::new(rest)));
        Errno::ERESTART_RESTARTBLOCK
    }

    /// Runs the rest of the interrupted syscall (`restart_syscall(2)`).
    ///
    /// # Errors
    /// EINTR if there is nothing to restart (Linux's
    /// `do_no_restart_syscall`), else the syscall's own.
    pub fn run_restart_block(&mut self) -> Result<u64, Errno> {
        match self.restart_block.take() {
            Some(RestartBlock(rest)) => rest(self),
            None => Err(Errno::EINTR),
        }
    }

    /// Ends the thread group with `status`: this thread once the current
    /// syscall returns, the others at once.
    pub fn exit_group(&mut self, status: ExitStatus) {
        self.exit_status = Some(status);
        self.thread_group.exit_all(status, abi::signal::SIGKILL);
    }

    /// Ends only this thread (`exit(2)`) once the current syscall returns.
    pub fn exit_thread(&mut self, status: ExitStatus) {
        self.exit_status = Some(status);
    }

    /// Runs the task to its end and finishes the thread: its
    /// `clear_child_tid` is cleared and woken (what `pthread_join` waits
    /// on), and the last thread out ends the process. Returns the process's
    /// status if this was its last thread.
    ///
    /// # Errors
    /// [`KernelError::Platform`] if the platform fails.
    pub fn run_to_end(mut self) -> Result<Option<(Task, ExitStatus)>, KernelError> {
        self.thread_group.add_thread(self.tid, self.handle());
        let status = self.run();
        self.refresh_system_time();
        let status = match status {
            Ok(status) => status,
            Err(err) => {
                self.thread_group.remove_thread(
                    self.tid,
                    ExitStatus::Signaled {
                        signo: abi::signal::SIGKILL,
                        core: false,
                    },
                );
                return Err(err);
            }
        };
        // A fatal signal taken by this thread ends the whole group.
        if let ExitStatus::Signaled { signo, .. } = status
            && self.thread_group.group_exit_status().is_none()
            && self.exit_status.is_none()
            && !self.handle.dethreaded.load(Ordering::SeqCst)
        {
            self.thread_group.exit_all(status, signo);
        }
        crate::futex::exit_robust_list(
            &self.kernel.futexes,
            &self.mm,
            self.tid,
            self.handle.robust_list(),
        );
        // The thread leaves its group before its joiners are woken, so a
        // joiner never sees it among the live threads (/proc/self/task).
        let remaining = self.thread_group.remove_thread(self.tid, status);
        self.thread_group.retarget_shared_signals();
        // Its own pending signals go with it (`__exit_signal`), before its
        // joiners wake, so they find the places those signals held free.
        self.handle.pending.discard(u64::MAX);
        self.thread_group.exit_waiters.wake();
        // Its children pass to a live sibling before its joiners wake too,
        // so a joiner's __WNOTHREAD wait finds them.
        if remaining > 0
            && let Some(heir) = self.thread_group.any_thread()
        {
            let pid = self.thread_group.pid;
            for (child, signo) in self.kernel.tree.reassign_children(pid, self.tid, heir) {
                // PDEATHSIG comes from the dying thread (SEND_SIG_NOINFO).
                let info = signal::info_from(signo, abi::signal::SI_USER, pid, self.creds.uid);
                let _ = signal::send(&child, info);
            }
        }
        if self.clear_child_tid != 0 {
            let addr = self.clear_child_tid;
            if self.mm.write_obj(addr, &0u32).is_ok()
                && let Ok(key) = crate::futex::key(&self.mm, addr, false)
            {
                // Waiters that wait for a PI futex here refuse the wake-up.
                let _ = self.kernel.futexes.wake(key, 1, u32::MAX);
            }
        }
        // Only now can no locker find this thread as an owner.
        self.kernel.futexes.owner_died(self.tid);
        if self.tid != self.thread_group.pid {
            self.kernel.tree.free_tid(self.tid);
        }
        if remaining > 0 {
            self.mm.address_space().release_thread();
            return Ok(None);
        }
        let final_status = self.thread_group.group_exit_status().unwrap_or(status);
        Ok(Some((self, final_status)))
    }

    fn syscall(&mut self) {
        let nr = self.regs.syscall_nr();
        let args = SyscallArgs(self.regs.syscall_args());
        let row = if nr & X32_SYSCALL_BIT == 0 {
            table::lookup(nr)
        } else {
            None
        };
        let tracing = self.kernel.log.strace_enabled();
        if tracing {
            strace::enter(self, nr, row, &args);
        }
        let result = match row.and_then(|r| r.handler) {
            Some(handler) => handler(self, &args),
            None => {
                self.note_unsupported(nr, row.map(|r| r.name));
                Err(Errno::ENOSYS)
            }
        };
        if tracing {
            strace::exit(self, nr, row, &args, result);
        }
        if result.is_ok() && proc_view::changes_view(nr) {
            self.publish_view();
        }
        self.regs.rax = match result {
            Ok(value) => value,
            // Settled by `handle_signals`: a restart, or EINTR.
            Err(errno) if errno.is_restart() => {
                self.syscall_restart = Some(errno);
                Errno::EINTR.as_return()
            }
            Err(errno) => errno.as_return(),
        };
    }

    fn note_unsupported(&self, nr: u64, name: Option<&str>) {
        static NOTED: Mutex<Vec<u64>> = Mutex::new(Vec::new());
        let mut noted = NOTED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !noted.contains(&nr) {
            noted.push(nr);
            let name = name.unwrap_or("unknown");
            self.kernel
                .note(&format!("unsupported syscall {nr} ({name}): ENOSYS"));
        }
    }

    /// Acts on a synchronous signal the program caused.
    fn force_signal(&mut self, fault: FaultSignal) {
        let mut info = abi::signal::SigInfo {
            si_signo: fault.signo.cast_signed(),
            si_code: fault.code,
            ..abi::signal::SigInfo::default()
        };
        info.fields[0] = fault.addr;
        self.force_signal_info(info);
    }
}
