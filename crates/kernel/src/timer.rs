//! Interval timers: `alarm`, `setitimer(ITIMER_REAL)` and POSIX timers
//! (`timer_create`), all driven by one sentry thread that sleeps until the
//! earliest deadline and sends each expiring timer's signal.
//!
//! Lock order: the queue's lock, then signal delivery's (thread group) leaf
//! locks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::task::{TaskHandle, ThreadGroup, lock};

/// Where an expiring timer's signal goes.
#[derive(Clone, Debug)]
pub enum TimerTarget {
    /// The process (`SIGEV_SIGNAL`, ITIMER_REAL).
    Process(Weak<ThreadGroup>),
    /// One thread (`SIGEV_THREAD_ID`).
    Thread(Weak<ThreadGroup>, Weak<TaskHandle>),
    /// Nobody (`SIGEV_NONE`): the timer only counts.
    None,
}

/// One timer's state.
#[derive(Debug)]
struct Timer {
    target: TimerTarget,
    signo: u32,
    /// When it next expires, if armed.
    deadline: Option<Instant>,
    /// Its period (zero: one-shot).
    interval: Duration,
    /// Expirations that found the previous signal still pending.
    overrun: u64,
    /// Bumped on every re-arm, so stale heap entries are skipped.
    generation: u64,
}

/// Every timer of the sandbox.
#[derive(Debug, Default)]
pub struct TimerQueue {
    state: Mutex<QueueState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct QueueState {
    timers: HashMap<u64, Timer>,
    heap: BinaryHeap<Reverse<(Instant, u64, u64)>>,
    next_id: u64,
    thread_started: bool,
}

/// A timer's current setting: time to the next expiry (zero: disarmed)
/// and period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerSetting {
    /// Time left until the next expiry, or zero when disarmed.
    pub remaining: Duration,
    /// The period.
    pub interval: Duration,
}

impl TimerQueue {
    /// A new, disarmed timer that sends `signo` to `target`.
    pub fn create(self: &Arc<Self>, target: TimerTarget, signo: u32) -> u64 {
        let mut st = lock(&self.state);
        st.next_id += 1;
        let id = st.next_id;
        st.timers.insert(
            id,
            Timer {
                target,
                signo,
                deadline: None,
                interval: Duration::ZERO,
                overrun: 0,
                generation: 0,
            },
        );
        id
    }

    /// Deletes a timer (a later expiry of it does nothing).
    pub fn delete(&self, id: u64) {
        lock(&self.state).timers.remove(&id);
    }

    /// Arms (`value` non-zero) or disarms timer `id`; returns the old
    /// setting, or `None` if there is no such timer.
    pub fn set(
        self: &Arc<Self>,
        id: u64,
        value: Duration,
        interval: Duration,
    ) -> Option<TimerSetting> {
        let mut st = lock(&self.state);
        let now = Instant::now();
        let timer = st.timers.get_mut(&id)?;
        let old = setting(timer, now);
        timer.generation += 1;
        timer.interval = interval;
        timer.overrun = 0;
        timer.deadline = (!value.is_zero()).then(|| {
            now.checked_add(value)
                .unwrap_or(now + Duration::from_secs(1 << 40))
        });
        if let Some(deadline) = timer.deadline {
            let generation = timer.generation;
            st.heap.push(Reverse((deadline, id, generation)));
            if !st.thread_started {
                st.thread_started = true;
                let queue = Arc::clone(self);
                std::thread::Builder::new()
                    .name("timers".into())
                    .spawn(move || queue.run())
                    .ok()?;
            }
            self.changed.notify_all();
        }
        Some(old)
    }

    /// Timer `id`'s setting, or `None` if there is no such timer.
    pub fn get(&self, id: u64) -> Option<TimerSetting> {
        let st = lock(&self.state);
        st.timers.get(&id).map(|t| setting(t, Instant::now()))
    }

    /// Timer `id`'s overrun count of its last expiry.
    pub fn overrun(&self, id: u64) -> Option<u64> {
        lock(&self.state).timers.get(&id).map(|t| t.overrun)
    }

    /// The timer thread: sleep until the earliest deadline, fire what is due.
    fn run(&self) {
        let mut guard = lock(&self.state);
        loop {
            let st = &mut *guard;
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(&Reverse((deadline, id, generation))) = st.heap.peek() {
                if deadline > now {
                    break;
                }
                st.heap.pop();
                let Some(timer) = st.timers.get_mut(&id) else {
                    continue;
                };
                if timer.generation != generation || timer.deadline != Some(deadline) {
                    continue;
                }
                if timer.interval.is_zero() {
                    timer.deadline = None;
                } else {
                    // Catch up, counting the periods that were missed.
                    let mut next = deadline + timer.interval;
                    let mut missed = 0u64;
                    while next <= now {
                        next += timer.interval;
                        missed += 1;
                    }
                    timer.overrun = missed;
                    timer.deadline = Some(next);
                    st.heap.push(Reverse((next, id, generation)));
                }
                due.push((timer.target.clone(), timer.signo));
            }
            if !due.is_empty() {
                drop(guard);
                for (target, signo) in due {
                    fire(&target, signo);
                }
                guard = lock(&self.state);
                continue;
            }
            let next = st.heap.peek().map(|&Reverse((deadline, _, _))| deadline);
            guard = match next {
                Some(deadline) => {
                    self.changed
                        .wait_timeout(guard, deadline.saturating_duration_since(now))
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .0
                }
                None => self
                    .changed
                    .wait(guard)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            };
        }
    }
}

fn setting(timer: &Timer, now: Instant) -> TimerSetting {
    TimerSetting {
        remaining: timer.deadline.map_or(Duration::ZERO, |d| {
            d.saturating_duration_since(now)
                .max(Duration::from_nanos(1))
        }),
        interval: timer.interval,
    }
}

fn fire(target: &TimerTarget, signo: u32) {
    match target {
        TimerTarget::Process(group) => {
            if let Some(group) = group.upgrade() {
                crate::signal::send(&group, signo);
            }
        }
        TimerTarget::Thread(group, thread) => {
            if let (Some(group), Some(thread)) = (group.upgrade(), thread.upgrade()) {
                crate::signal::send_to_thread(&group, &thread, signo);
            }
        }
        TimerTarget::None => {}
    }
}
