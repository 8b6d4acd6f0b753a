//! Signal state: actions, pending queues with their siginfo, and the
//! default action of each signal.
//!
//! What sending a signal does (`send`, `send_to_thread`): end the thread
//! group, stop or continue it, queue the signal (with the siginfo that
//! names its sender) for a handler or a waiter, or discard it. Handlers run when the task next returns to the program
//! (`task/signals.rs` builds the frames).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use abi::signal::{self as sig, SigAction, SigInfo};

use crate::kernel::ExitStatus;
use crate::task::{ChildChange, CpuTimes, Task, TaskHandle, ThreadGroup, lock};

/// What a signal does when its action is `SIG_DFL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// End the thread group.
    Terminate,
    /// End the thread group and dump core.
    Core,
    /// Nothing.
    Ignore,
    /// Stop the thread group.
    Stop,
    /// Continue a stopped thread group.
    Continue,
}

/// The default action of `signo` (`kernel/signal.c`, `sig_kernel_*`).
pub fn default_action(signo: u32) -> DefaultAction {
    match signo {
        sig::SIGQUIT
        | sig::SIGILL
        | sig::SIGTRAP
        | sig::SIGABRT
        | sig::SIGBUS
        | sig::SIGFPE
        | sig::SIGSEGV
        | sig::SIGXCPU
        | sig::SIGXFSZ
        | sig::SIGSYS => DefaultAction::Core,
        sig::SIGCHLD | sig::SIGURG | sig::SIGWINCH => DefaultAction::Ignore,
        sig::SIGSTOP | sig::SIGTSTP | sig::SIGTTIN | sig::SIGTTOU => DefaultAction::Stop,
        sig::SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// Whether `signo` names a signal (1..=64).
pub fn is_valid(signo: u64) -> bool {
    (1..=u64::from(sig::SIGRTMAX)).contains(&signo)
}

/// The actions of all 64 signals, shared by the threads of a thread group.
#[derive(Clone, Debug)]
pub struct SignalActions {
    actions: [SigAction; 64],
}

impl Default for SignalActions {
    fn default() -> Self {
        SignalActions {
            actions: [SigAction::default(); 64],
        }
    }
}

impl SignalActions {
    /// The default actions, but `SIG_IGN` for the signals in `ignored` (bit
    /// `signo - 1`): what a program starts with after `execve` from a
    /// process that ignored them.
    pub fn ignoring(ignored: u64) -> SignalActions {
        let mut actions = SignalActions::default();
        for (bit, action) in actions.actions.iter_mut().enumerate() {
            if ignored & (1 << bit) != 0 {
                action.handler = sig::SIG_IGN;
            }
        }
        actions
    }

    /// The action of `signo` (1..=64).
    pub fn get(&self, signo: u32) -> SigAction {
        self.actions[index(signo)]
    }

    /// Replaces the action of `signo` (1..=64), returning the old one.
    pub fn set(&mut self, signo: u32, action: SigAction) -> SigAction {
        std::mem::replace(&mut self.actions[index(signo)], action)
    }
}

fn index(signo: u32) -> usize {
    debug_assert!(is_valid(u64::from(signo)));
    usize::try_from(signo.saturating_sub(1))
        .unwrap_or(0)
        .min(63)
}

/// Synchronous signals, which Linux dequeues before the others
/// (`SYNCHRONOUS_MASK`).
const SYNCHRONOUS: u64 = sig::sigmask(sig::SIGSEGV)
    | sig::sigmask(sig::SIGBUS)
    | sig::sigmask(sig::SIGILL)
    | sig::sigmask(sig::SIGTRAP)
    | sig::sigmask(sig::SIGFPE)
    | sig::sigmask(sig::SIGSYS);

/// Which of `ready` is taken first: a synchronous signal, else the lowest
/// number (Linux's `next_signal`).
pub fn next_signal(ready: u64) -> Option<u32> {
    let pick = if ready & SYNCHRONOUS != 0 {
        ready & SYNCHRONOUS
    } else {
        ready
    };
    (pick != 0).then(|| pick.trailing_zeros() + 1)
}

/// The number of signals queued for one real user across the sandbox,
/// which its receivers' RLIMIT_SIGPENDING bounds (the `sigpending` count
/// of Linux's per-user `ucounts`). Each queued signal holds a [`Charge`].
#[derive(Debug, Default)]
pub struct UserSignals {
    queued: AtomicU64,
}

impl UserSignals {
    /// How many signals are queued for the user now.
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::SeqCst)
    }
}

/// One place in a user's count, given back when dropped: a queued
/// signal's, or a POSIX timer's, which Linux reserves for the timer's
/// signal when it makes the timer.
#[derive(Debug)]
pub struct Charge(Arc<UserSignals>);

impl Charge {
    /// Counts one more signal for `user`: the charge and whether the
    /// count stays within `limit`.
    fn take(user: &Arc<UserSignals>, limit: u64) -> (Charge, bool) {
        let count = user.queued.fetch_add(1, Ordering::SeqCst).saturating_add(1);
        (Charge(Arc::clone(user)), count <= limit)
    }

    /// A place in `user`'s count for a POSIX timer's signal, if the count
    /// stays within `limit`.
    pub fn reserve(user: &Arc<UserSignals>, limit: u64) -> Option<Charge> {
        let (charge, within) = Charge::take(user, limit);
        within.then_some(charge)
    }
}

/// Whether a signal takes a place in its user's count when queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accounting {
    /// It does (and may find none, past RLIMIT_SIGPENDING).
    Counted,
    /// A POSIX timer's signal: its timer holds its place.
    Reserved,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.0.queued.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Every user's [`UserSignals`], by real uid. A user's count lives as long
/// as a process of that user or a signal charged to it.
#[derive(Debug, Default)]
pub struct SignalUsers {
    users: Mutex<HashMap<u32, Weak<UserSignals>>>,
}

impl SignalUsers {
    /// The count of the user `uid`.
    pub fn get(&self, uid: u32) -> Arc<UserSignals> {
        let mut users = lock(&self.users);
        if let Some(user) = users.get(&uid).and_then(Weak::upgrade) {
            return user;
        }
        // Users nobody counts any more go, so that a program changing its
        // uid again and again cannot grow the map.
        users.retain(|_, user| user.strong_count() > 0);
        let user = Arc::new(UserSignals::default());
        users.insert(uid, Arc::downgrade(&user));
        user
    }
}

/// A queued signal: its siginfo and its place in its user's count (none
/// for a POSIX timer's, whose timer holds it).
#[derive(Debug)]
struct Queued {
    info: SigInfo,
    _charge: Option<Charge>,
}

/// Signals sent and not yet taken (Linux's `struct sigpending`): one per
/// thread, and one per process for process-directed signals. The bitmask
/// can be read without the lock; the queue holds each signal's siginfo, in
/// the order they came.
#[derive(Debug, Default)]
pub struct PendingSignals {
    /// The signals with at least one queued entry, or whose siginfo was
    /// lost to the queue limit.
    mask: AtomicU64,
    queue: Mutex<VecDeque<Queued>>,
}

/// Why [`PendingSignals::enqueue`] did not queue a real-time signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull;

impl PendingSignals {
    /// The pending signals.
    pub fn mask(&self) -> u64 {
        self.mask.load(Ordering::SeqCst)
    }

    /// Queues `info`, charged to the receiver's user `user` unless it is
    /// a POSIX timer's (`None`). A standard
    /// signal already pending is not queued again (they coalesce);
    /// real-time signals queue, each with its siginfo, while the user has
    /// at most `limit` signals queued (the receiver's RLIMIT_SIGPENDING).
    /// Past it, a real-time signal a program queued with its own siginfo is
    /// refused, and any other signal stays pending without its siginfo, as
    /// in Linux's `__send_signal_locked`.
    ///
    /// # Errors
    /// [`QueueFull`] when the signal was refused.
    pub fn enqueue(
        &self,
        info: SigInfo,
        user: Option<&Arc<UserSignals>>,
        limit: u64,
    ) -> Result<(), QueueFull> {
        let signo = info.si_signo.cast_unsigned();
        let bit = sig::sigmask(signo);
        let mut queue = lock(&self.queue);
        if signo < sig::SIGRTMIN && self.mask() & bit != 0 {
            return Ok(());
        }
        // Standard signals from kill and the kernel always find room, and
        // count all the same.
        let overrides = signo < sig::SIGRTMIN && info.si_code >= 0;
        let (charge, within) = match user {
            Some(user) => {
                let (charge, within) = Charge::take(user, limit);
                (Some(charge), within)
            }
            None => (None, true),
        };
        if overrides || within {
            queue.push_back(Queued {
                info,
                _charge: charge,
            });
        } else if signo >= sig::SIGRTMIN && info.si_code != sig::SI_USER {
            return Err(QueueFull);
        }
        self.mask.fetch_or(bit, Ordering::SeqCst);
        Ok(())
    }

    /// Folds the expiry of a POSIX timer whose signal is still pending
    /// into that signal's overrun count, as Linux queues a timer's signal
    /// only once; returns whether it was pending. `info` is the new
    /// expiry's `SI_TIMER` siginfo.
    fn merge_timer(&self, info: &SigInfo) -> bool {
        let id = info.fields[0] & 0xffff_ffff;
        let mut queue = lock(&self.queue);
        let Some(pending) = queue.iter_mut().map(|q| &mut q.info).find(|i| {
            i.si_signo == info.si_signo
                && i.si_code == sig::SI_TIMER
                && i.fields[0] & 0xffff_ffff == id
        }) else {
            return false;
        };
        let overrun = (pending.fields[0] >> 32)
            .saturating_add(1)
            .saturating_add(info.fields[0] >> 32)
            .min(u64::from(i32::MAX.cast_unsigned()));
        pending.fields[0] = id | (overrun << 32);
        true
    }

    /// Takes the first pending `signo`. Its siginfo is the queued one, or,
    /// if that was lost to the queue limit, a bare `SI_USER` one.
    fn dequeue(&self, signo: u32) -> Option<SigInfo> {
        let bit = sig::sigmask(signo);
        let mut queue = lock(&self.queue);
        if self.mask() & bit == 0 {
            return None;
        }
        let at = queue
            .iter()
            .position(|q| q.info.si_signo.cast_unsigned() == signo);
        let info = at.and_then(|at| queue.remove(at)).map_or(
            SigInfo {
                si_signo: signo.cast_signed(),
                si_code: sig::SI_USER,
                ..SigInfo::default()
            },
            |q| q.info,
        );
        if !queue
            .iter()
            .any(|q| q.info.si_signo.cast_unsigned() == signo)
        {
            self.mask.fetch_and(!bit, Ordering::SeqCst);
        }
        Some(info)
    }

    /// Drops the pending signal of the POSIX timer `timer_id`, if any.
    pub fn discard_timer(&self, timer_id: i32) {
        let id = u64::from(timer_id.cast_unsigned());
        let mut queue = lock(&self.queue);
        let Some(at) = queue
            .iter()
            .position(|q| q.info.si_code == sig::SI_TIMER && q.info.fields[0] & 0xffff_ffff == id)
        else {
            return;
        };
        let signo = queue[at].info.si_signo.cast_unsigned();
        queue.remove(at);
        if !queue
            .iter()
            .any(|q| q.info.si_signo.cast_unsigned() == signo)
        {
            self.mask.fetch_and(!sig::sigmask(signo), Ordering::SeqCst);
        }
    }

    /// Drops every pending signal of `set`.
    pub fn discard(&self, set: u64) {
        let mut queue = lock(&self.queue);
        queue.retain(|q| sig::sigmask(q.info.si_signo.cast_unsigned()) & set == 0);
        self.mask.fetch_and(!set, Ordering::SeqCst);
    }
}

/// Takes the next signal of `allowed` pending for a thread: its own
/// before its process's, each in [`next_signal`] order (Linux's
/// `dequeue_signal`).
pub fn dequeue(own: &PendingSignals, shared: &PendingSignals, allowed: u64) -> Option<SigInfo> {
    dequeue_from(&[(own, allowed), (shared, allowed)])
}

/// Takes the next signal of the first queue that has one its mask allows.
pub fn dequeue_from(queues: &[(&PendingSignals, u64)]) -> Option<SigInfo> {
    queues.iter().find_map(|&(pending, allowed)| {
        next_signal(pending.mask() & allowed).and_then(|signo| pending.dequeue(signo))
    })
}

/// A siginfo with only the signal number and code (`si_errno` 0).
pub fn info(signo: u32, code: i32) -> SigInfo {
    SigInfo {
        si_signo: signo.cast_signed(),
        si_code: code,
        ..SigInfo::default()
    }
}

/// The siginfo of a signal a process sent (`kill`, `tkill`, or the kernel
/// on its behalf): `_kill`'s `si_pid` and `si_uid`.
pub fn info_from(signo: u32, code: i32, pid: i32, uid: u32) -> SigInfo {
    let mut info = info(signo, code);
    info.fields[0] = u64::from(pid.cast_unsigned()) | (u64::from(uid) << 32);
    info
}

/// The siginfo of a SIGCHLD-style report about child `pid`: `_sigchld`'s
/// `si_pid`, `si_uid`, `si_status`, `si_utime` and `si_stime` (in clock
/// ticks).
pub fn child_info(signo: u32, change: ChildChange, pid: i32, uid: u32, cpu: CpuTimes) -> SigInfo {
    let (code, status) = match change {
        ChildChange::Exited(ExitStatus::Exited(code)) => (CLD_EXITED, i32::from(code)),
        ChildChange::Exited(ExitStatus::Signaled { signo, core: false }) => {
            (CLD_KILLED, signo.cast_signed())
        }
        ChildChange::Exited(ExitStatus::Signaled { signo, core: true }) => {
            (CLD_DUMPED, signo.cast_signed())
        }
        ChildChange::Stopped(signo) => (CLD_STOPPED, signo.cast_signed()),
        ChildChange::Continued => (CLD_CONTINUED, sig::SIGCONT.cast_signed()),
    };
    let mut info = info_from(signo, code, pid, uid);
    info.fields[1] = u64::from(status.cast_unsigned());
    info.fields[2] = clock_ticks(cpu.user);
    info.fields[3] = clock_ticks(cpu.system);
    info
}

/// `time` in clock ticks (`USER_HZ`, 100 a second), as `clock_t` counts.
fn clock_ticks(time: std::time::Duration) -> u64 {
    u64::try_from(time.as_millis() / 10).unwrap_or(u64::MAX)
}

// include/uapi/asm-generic/siginfo.h: SIGCHLD si_codes
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const CLD_DUMPED: i32 = 3;
const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;

/// What sending `signo` to a task does now, given its action and mask.
fn disposition(handler: u64, signo: u32, blocked: bool) -> Disposition {
    use abi::signal::{SIG_DFL, SIG_IGN, SIGKILL};
    if signo == SIGKILL {
        return Disposition::Kill;
    }
    if signo == abi::signal::SIGSTOP {
        return Disposition::Stop;
    }
    // A blocked signal is queued even if ignored: the action may change
    // before it is unblocked.
    if blocked {
        return Disposition::Queue;
    }
    if handler == SIG_IGN {
        return Disposition::Discard;
    }
    if handler != SIG_DFL {
        // The task runs the handler when it next returns to the program.
        return Disposition::Queue;
    }
    match default_action(signo) {
        DefaultAction::Terminate | DefaultAction::Core => Disposition::Kill,
        DefaultAction::Stop => Disposition::Stop,
        // SIGCONT's continuing happens when it is sent, whatever its action.
        DefaultAction::Ignore | DefaultAction::Continue => Disposition::Discard,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Disposition {
    Kill,
    Stop,
    Queue,
    Discard,
}

/// The stop signals a SIGCONT cancels.
const STOP_SIGNALS: u64 = sig::sigmask(sig::SIGSTOP)
    | sig::sigmask(sig::SIGTSTP)
    | sig::sigmask(sig::SIGTTIN)
    | sig::sigmask(sig::SIGTTOU);

/// Sends the signal `info` describes to the process `group` (Linux's
/// `group_send_sig_info`): it is queued on the process and a thread that
/// does not block it is woken to take it. A fatal default action ends the
/// whole group at once.
///
/// # Errors
/// [`QueueFull`] for a program-queued real-time signal past the limit.
pub fn send(group: &ThreadGroup, info: SigInfo) -> Result<(), QueueFull> {
    send_accounted(group, info, Accounting::Counted)
}

/// [`send`], with the signal counted for its user as `accounting` says.
///
/// # Errors
/// As [`send`].
pub fn send_accounted(
    group: &ThreadGroup,
    info: SigInfo,
    accounting: Accounting,
) -> Result<(), QueueFull> {
    let Some(thread) = group.thread_for_signal(info.si_signo.cast_unsigned()) else {
        return Ok(());
    };
    deliver(group, &thread, info, true, accounting)
}

/// Sends the signal `info` describes to one thread of `group` (`tgkill`).
///
/// # Errors
/// As [`send`].
pub fn send_to_thread(
    group: &ThreadGroup,
    thread: &Arc<TaskHandle>,
    info: SigInfo,
) -> Result<(), QueueFull> {
    deliver(group, thread, info, false, Accounting::Counted)
}

/// [`send_to_thread`], with the signal counted for its user as
/// `accounting` says.
///
/// # Errors
/// As [`send`].
pub fn send_to_thread_accounted(
    group: &ThreadGroup,
    thread: &Arc<TaskHandle>,
    info: SigInfo,
    accounting: Accounting,
) -> Result<(), QueueFull> {
    deliver(group, thread, info, false, accounting)
}

fn deliver(
    group: &ThreadGroup,
    thread: &Arc<TaskHandle>,
    info: SigInfo,
    shared: bool,
    accounting: Accounting,
) -> Result<(), QueueFull> {
    let signo = info.si_signo.cast_unsigned();
    if signo == sig::SIGCONT {
        group.continue_all();
        group.discard_pending(STOP_SIGNALS);
    }
    let queue = || {
        let limit = group.limit(abi::resource::RLIMIT_SIGPENDING).rlim_cur;
        let pending = if shared {
            &group.shared_pending
        } else {
            &thread.pending
        };
        if info.si_code == sig::SI_TIMER && pending.merge_timer(&info) {
            return Ok(());
        }
        let user = group.signal_user();
        let user = (accounting == Accounting::Counted).then_some(&user);
        pending.enqueue(info, user, limit)?;
        if shared {
            // The thread chosen for it takes it (complete_signal).
            thread.claim_shared_signals();
        }
        Ok(())
    };
    let blocked = thread.signal_mask() & sig::sigmask(signo) != 0;
    match disposition(group.action(signo).handler, signo, blocked) {
        // A stopped process takes a fatal signal only once continued
        // (Linux's `wants_signal` skips stopped threads); SIGKILL alone
        // ends it at once.
        Disposition::Kill if signo != sig::SIGKILL && group.stopped_by().is_some() => queue()?,
        Disposition::Kill => group.exit_all(group.fatal_status(signo), signo),
        Disposition::Stop => {
            group.discard_pending(sig::sigmask(sig::SIGCONT));
            group.stop_all(signo);
        }
        Disposition::Queue => {
            queue()?;
            thread.notify_signal(signo);
            group.wake_signal_waiters();
        }
        Disposition::Discard => {}
    }
    Ok(())
}

/// Acts on the signals queued for `task` that its mask no longer blocks
/// and whose action needs no handler: a kill, a stop, or nothing.
pub fn act_on_pending(task: &Task) {
    let handle = task.handle();
    let group = &task.thread_group;
    loop {
        let ready = handle.pending_signals() & !handle.signal_mask();
        let actionable = (1..=sig::SIGRTMAX)
            .filter(|&s| ready & sig::sigmask(s) != 0)
            .find(|&s| disposition(group.action(s).handler, s, false) != Disposition::Queue);
        let Some(signo) = actionable else {
            return;
        };
        let set = sig::sigmask(signo);
        handle.pending.discard(set);
        group.shared_pending.discard(set);
        match disposition(group.action(signo).handler, signo, false) {
            Disposition::Kill => {
                group.exit_all(group.fatal_status(signo), signo);
                return;
            }
            Disposition::Stop => group.stop_all(signo),
            Disposition::Discard | Disposition::Queue => {}
        }
    }
}

/// Sends `signo` to the calling task's own process, as a file operation
/// does (a write to a pipe without readers raises SIGPIPE): to the
/// calling thread, as from itself.
pub fn raise(signo: u32) {
    if let Some((group, handle)) = crate::task::current_process() {
        let info = info_from(signo, sig::SI_USER, group.pid, 0);
        // A standard signal from the kernel is never refused.
        let _ = send_to_thread(&group, &handle, info);
    }
}
