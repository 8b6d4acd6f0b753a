//! Signal state: actions, masks and the default action of each signal.
//!
//! This holds the bookkeeping `rt_sigaction`, `rt_sigprocmask` and
//! `sigaltstack` read and write. Delivery with signal frames comes with the
//! processes work; until then a signal whose default action is fatal ends the
//! thread group with the right status.

use abi::signal::{self as sig, SigAction};

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
