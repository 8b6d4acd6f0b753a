//! Interval timers: `alarm`, `setitimer(ITIMER_REAL)` and POSIX timers
//! (`timer_create`), all driven by one sentry thread that sleeps until the
//! earliest deadline and sends each expiring timer's signal; and the
//! CPU-time timers ITIMER_VIRTUAL and ITIMER_PROF ([`CpuTimers`]), which
//! the process's threads check against its CPU time when that thread
//! interrupts them.
//!
//! Lock order: the queue's lock, then signal delivery's (thread group) leaf
//! locks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::task::{CpuTimes, TaskHandle, ThreadGroup, lock};

/// Where an expiring timer's signal goes.
#[derive(Clone, Debug)]
pub enum TimerTarget {
    /// The process (`SIGEV_SIGNAL`, ITIMER_REAL).
    Process(Weak<ThreadGroup>),
    /// One thread (`SIGEV_THREAD_ID`).
    Thread(Weak<ThreadGroup>, Weak<TaskHandle>),
    /// No signal: the process's running threads return to the sentry, to
    /// check its CPU-time timers.
    CpuCheck(Weak<ThreadGroup>),
    /// Nobody (`SIGEV_NONE`): the timer only counts.
    None,
}

/// One timer's state.
#[derive(Debug)]
struct Timer {
    target: TimerTarget,
    signo: u32,
    /// The program's id for the timer and its `sigev_value` (POSIX timers:
    /// their siginfo carries them).
    posix: Option<(i32, u64)>,
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
    /// A new, disarmed timer that sends `signo` to `target`; a POSIX
    /// timer's signal carries its id and value (`posix`) with `SI_TIMER`.
    pub fn create(
        self: &Arc<Self>,
        target: TimerTarget,
        signo: u32,
        posix: Option<(i32, u64)>,
    ) -> u64 {
        let mut st = lock(&self.state);
        st.next_id += 1;
        let id = st.next_id;
        st.timers.insert(
            id,
            Timer {
                target,
                signo,
                posix,
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
                due.push((timer.target.clone(), timer_info(timer)));
            }
            if !due.is_empty() {
                drop(guard);
                for (target, info) in due {
                    fire(&target, info);
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

/// The siginfo of `timer`'s signal: `SI_TIMER` with `_timer`'s id,
/// overrun and value for a POSIX timer, `SI_KERNEL` for an itimer.
fn timer_info(timer: &Timer) -> abi::signal::SigInfo {
    match timer.posix {
        Some((id, value)) => {
            let mut info = crate::signal::info(timer.signo, abi::signal::SI_TIMER);
            let overrun = u32::try_from(timer.overrun).unwrap_or(i32::MAX.cast_unsigned());
            info.fields[0] = u64::from(id.cast_unsigned()) | (u64::from(overrun) << 32);
            info.fields[1] = value;
            info
        }
        None => crate::signal::info(timer.signo, abi::signal::SI_KERNEL),
    }
}

fn fire(target: &TimerTarget, info: abi::signal::SigInfo) {
    // A timer's signal never waits for queue room: a standard one always
    // finds it, and a real-time one past the limit is an overrun.
    match target {
        TimerTarget::Process(group) => {
            if let Some(group) = group.upgrade() {
                let _ = crate::signal::send(&group, info);
            }
        }
        TimerTarget::Thread(group, thread) => {
            if let (Some(group), Some(thread)) = (group.upgrade(), thread.upgrade()) {
                let _ = crate::signal::send_to_thread(&group, &thread, info);
            }
        }
        TimerTarget::CpuCheck(group) => {
            if let Some(group) = group.upgrade() {
                group.interrupt_all();
            }
        }
        TimerTarget::None => {}
    }
}

/// A process's CPU-time interval timers: ITIMER_VIRTUAL counts its user
/// time and sends SIGVTALRM, ITIMER_PROF its user and system time and
/// sends SIGPROF. Expiry is checked when one of its threads returns to the
/// sentry after [`CpuTimers::next_check`], which is when the timer could
/// have expired at the earliest had every thread run all the time.
#[derive(Debug, Default)]
pub struct CpuTimers {
    /// Per timer (VIRTUAL, PROF): the expiry on its clock, if armed, and
    /// the period.
    timers: [(Option<Duration>, Duration); 2],
    /// The queue timer that makes the threads check, once made.
    pub check_timer: Option<u64>,
}

impl CpuTimers {
    /// The clock of timer `index` (0: VIRTUAL, 1: PROF) at `now`.
    fn clock(index: usize, now: CpuTimes) -> Duration {
        if index == 0 { now.user } else { now.total() }
    }

    /// Sets timer `index` (0: VIRTUAL, 1: PROF) at process CPU time `now`;
    /// returns the old setting.
    pub fn set(
        &mut self,
        index: usize,
        now: CpuTimes,
        value: Duration,
        interval: Duration,
    ) -> TimerSetting {
        let old = self.get(index, now);
        let clock = Self::clock(index, now);
        self.timers[index] = (
            (!value.is_zero()).then(|| clock.saturating_add(value)),
            interval,
        );
        old
    }

    /// Timer `index`'s setting at process CPU time `now`.
    pub fn get(&self, index: usize, now: CpuTimes) -> TimerSetting {
        let (expiry, interval) = self.timers[index];
        TimerSetting {
            remaining: expiry.map_or(Duration::ZERO, |e| {
                // Due but not yet seen: about to fire.
                e.saturating_sub(Self::clock(index, now))
                    .max(Duration::from_micros(1))
            }),
            interval,
        }
    }

    /// Whether a timer is armed.
    pub fn armed(&self) -> bool {
        self.timers.iter().any(|t| t.0.is_some())
    }

    /// The signals of the timers that expired by `now`; periodic ones are
    /// re-armed (an itimer counts no overruns).
    pub fn expire(&mut self, now: CpuTimes) -> Vec<u32> {
        let mut fired = Vec::new();
        for (index, signo) in [(0, abi::signal::SIGVTALRM), (1, abi::signal::SIGPROF)] {
            let clock = Self::clock(index, now);
            let (expiry, interval) = &mut self.timers[index];
            let Some(at) = *expiry else { continue };
            if at > clock {
                continue;
            }
            fired.push(signo);
            *expiry = (!interval.is_zero()).then(|| {
                let mut next = at.saturating_add(*interval);
                while next <= clock {
                    next = next.saturating_add(*interval);
                }
                next
            });
        }
        fired
    }

    /// The wall time after which a timer may have expired, with `threads`
    /// threads running, or `None` if none is armed.
    pub fn next_check(&self, now: CpuTimes, threads: usize) -> Option<Duration> {
        let threads = u32::try_from(threads.max(1)).unwrap_or(u32::MAX);
        (0..2)
            .filter_map(|index| {
                let expiry = self.timers[index].0?;
                Some(expiry.saturating_sub(Self::clock(index, now)) / threads)
            })
            .min()
            .map(|wait| wait.max(Duration::from_micros(100)))
    }
}
