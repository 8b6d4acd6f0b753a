//! Signal state: actions, masks and the default action of each signal.
//!
//! What sending a signal does (`send`, `send_to_thread`): end the thread
//! group, stop or continue it, queue the signal for a handler, or discard
//! it. Handlers run when the task next returns to the program
//! (`task/signals.rs` builds the frames).

use std::sync::Arc;

use abi::signal::{self as sig, SigAction};

use crate::task::{Task, TaskHandle, ThreadGroup};

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

/// What sending `signo` to a task does now, given its action and mask.
fn disposition(handler: u64, signo: u32, blocked: bool) -> Disposition {
    use abi::signal::{SIG_DFL, SIG_IGN, SIGKILL};
    if signo == SIGKILL {
        return Disposition::Kill;
    }
    if signo == abi::signal::SIGSTOP {
        return Disposition::Stop;
    }
    if handler == SIG_IGN {
        return Disposition::Discard;
    }
    if blocked {
        return Disposition::Queue;
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

/// Sends `signo` (1..=64) to the process `group`: to a thread that does
/// not block it. A fatal default action ends the whole group.
pub fn send(group: &ThreadGroup, signo: u32) {
    if let Some(thread) = group.thread_for_signal(signo) {
        send_to_thread(group, &thread, signo);
    }
}

/// Sends `signo` (1..=64) to one thread of `group` (`tgkill`).
pub fn send_to_thread(group: &ThreadGroup, thread: &Arc<TaskHandle>, signo: u32) {
    if signo == abi::signal::SIGCONT {
        group.continue_all();
        // A continue cancels pending stops, and a stop pending continues.
        for stop in [
            abi::signal::SIGTSTP,
            abi::signal::SIGTTIN,
            abi::signal::SIGTTOU,
        ] {
            thread.take_pending(abi::signal::sigmask(stop));
        }
    }
    let blocked = thread.signal_mask() & abi::signal::sigmask(signo) != 0;
    match disposition(group.action(signo).handler, signo, blocked) {
        Disposition::Kill => {
            let core = default_action(signo) == DefaultAction::Core;
            group.exit_all(crate::kernel::ExitStatus::Signaled { signo, core }, signo);
        }
        Disposition::Stop => {
            thread.take_pending(abi::signal::sigmask(abi::signal::SIGCONT));
            group.stop_all(signo);
        }
        Disposition::Queue => thread.queue_signal(signo),
        Disposition::Discard => {}
    }
}

/// Acts on the signals queued for `task` that its mask no longer blocks.
pub fn act_on_pending(task: &Task) {
    let handle = task.handle();
    let ready = handle.pending_signals() & !handle.signal_mask();
    for signo in (1..=abi::signal::SIGRTMAX).filter(|&s| ready & abi::signal::sigmask(s) != 0) {
        match disposition(task.thread_group.action(signo).handler, signo, false) {
            Disposition::Kill => {
                handle.take_pending(abi::signal::sigmask(signo));
                let core = default_action(signo) == DefaultAction::Core;
                task.thread_group
                    .exit_all(crate::kernel::ExitStatus::Signaled { signo, core }, signo);
            }
            Disposition::Discard => {
                handle.take_pending(abi::signal::sigmask(signo));
            }
            Disposition::Stop => {
                handle.take_pending(abi::signal::sigmask(signo));
                task.thread_group.stop_all(signo);
            }
            Disposition::Queue => {}
        }
    }
}

/// Sends `signo` to the calling task's own process, as a file operation
/// does (a write to a pipe without readers raises SIGPIPE).
pub fn raise(signo: u32) {
    if let Some((group, handle)) = crate::task::current_process() {
        send_to_thread(&group, &handle, signo);
    }
}
