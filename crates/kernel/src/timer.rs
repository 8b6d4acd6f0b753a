//! Interval timers: `alarm`, `setitimer(ITIMER_REAL)` and POSIX timers
//! (`timer_create`), all driven by one sentry thread that sleeps until the
//! earliest deadline and sends each expiring timer's signal; and the
//! CPU-time timers ([`CpuTimers`]: ITIMER_VIRTUAL, ITIMER_PROF and POSIX
//! timers on CPU clocks), which the process's threads check against its
//! CPU time when that thread interrupts them.
//!
//! Lock order: the queue's lock, then signal delivery's (thread group) leaf
//! locks.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::signal::Accounting;
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
                due.push((
                    timer.target.clone(),
                    signal_info(timer.signo, timer.posix, timer.overrun),
                ));
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

/// The siginfo of a timer's signal: `SI_TIMER` with `_timer`'s id,
/// overrun and value for a POSIX timer (`posix`), `SI_KERNEL` for an
/// itimer.
fn signal_info(signo: u32, posix: Option<(i32, u64)>, overrun: u64) -> abi::signal::SigInfo {
    match posix {
        Some((id, value)) => {
            let mut info = crate::signal::info(signo, abi::signal::SI_TIMER);
            let overrun = u32::try_from(overrun).unwrap_or(i32::MAX.cast_unsigned());
            info.fields[0] = u64::from(id.cast_unsigned()) | (u64::from(overrun) << 32);
            info.fields[1] = value;
            info
        }
        None => crate::signal::info(signo, abi::signal::SI_KERNEL),
    }
}

/// Sends a timer's signal described by `info` to `target`.
pub fn fire(target: &TimerTarget, info: abi::signal::SigInfo) {
    // A timer's signal never waits for queue room: a standard one always
    // finds it, and a POSIX timer's has the place its timer reserved.
    let accounting = if info.si_code == abi::signal::SI_TIMER {
        Accounting::Reserved
    } else {
        Accounting::Counted
    };
    match target {
        TimerTarget::Process(group) => {
            if let Some(group) = group.upgrade() {
                let _ = crate::signal::send_accounted(&group, info, accounting);
            }
        }
        TimerTarget::Thread(group, thread) => {
            if let (Some(group), Some(thread)) = (group.upgrade(), thread.upgrade()) {
                let _ = crate::signal::send_to_thread_accounted(&group, &thread, info, accounting);
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

/// The CPU-time clock a CPU timer counts.
#[derive(Clone, Debug)]
pub enum CpuClock {
    /// The process's user time (ITIMER_VIRTUAL).
    ProcessUser,
    /// The process's user and system time (ITIMER_PROF,
    /// CLOCK_PROCESS_CPUTIME_ID).
    Process,
    /// One thread's user and system time (CLOCK_THREAD_CPUTIME_ID).
    Thread(Weak<TaskHandle>),
}

impl CpuClock {
    /// The clock's reading, given the process's CPU time `process`;
    /// `None` for the clock of a thread that has ended.
    fn now(&self, process: CpuTimes) -> Option<Duration> {
        match self {
            CpuClock::ProcessUser => Some(process.user),
            CpuClock::Process => Some(process.total()),
            CpuClock::Thread(thread) => thread.upgrade().map(|t| t.cpu_times().total()),
        }
    }
}

/// One CPU timer.
#[derive(Debug)]
struct CpuTimer {
    clock: CpuClock,
    /// The expiry on its clock, if armed.
    expiry: Option<Duration>,
    interval: Duration,
    /// Where its signal goes; an itimer's goes to the process.
    target: TimerTarget,
    signo: u32,
    /// A POSIX timer's id and value (its signal's siginfo carries them).
    posix: Option<(i32, u64)>,
    /// Expirations its last signal stood for, beyond the first.
    overrun: u64,
}

/// A process's CPU-time timers: ITIMER_VIRTUAL (SIGVTALRM on its user
/// time), ITIMER_PROF (SIGPROF on its user and system time), and POSIX
/// timers on its CPU clocks. Expiry is checked when one of its threads
/// returns to the sentry after [`CpuTimers::next_check`], which is when a
/// timer could have expired at the earliest had every thread run all the
/// time.
#[derive(Debug, Default)]
pub struct CpuTimers {
    /// By key: 0 and 1 are ITIMER_VIRTUAL and ITIMER_PROF once set, POSIX
    /// timers get the keys after.
    timers: std::collections::BTreeMap<u64, CpuTimer>,
    next_key: u64,
    /// The queue timer that makes the threads check, once made.
    pub check_timer: Option<u64>,
}

/// The keys of ITIMER_VIRTUAL and ITIMER_PROF in [`CpuTimers`].
pub const ITIMER_KEYS: [u64; 2] = [0, 1];

impl CpuTimers {
    /// A new, disarmed POSIX timer on `clock`; returns its key.
    pub fn create(
        &mut self,
        clock: CpuClock,
        target: TimerTarget,
        signo: u32,
        posix: (i32, u64),
    ) -> u64 {
        let key = self.next_key.max(2);
        self.next_key = key + 1;
        self.timers.insert(
            key,
            CpuTimer {
                clock,
                expiry: None,
                interval: Duration::ZERO,
                target,
                signo,
                posix: Some(posix),
                overrun: 0,
            },
        );
        key
    }

    /// Deletes a POSIX timer.
    pub fn delete(&mut self, key: u64) {
        self.timers.remove(&key);
    }

    /// The clock of timer `key`, made on first use for an itimer.
    fn timer(&mut self, key: u64, group: &Weak<ThreadGroup>) -> Option<&mut CpuTimer> {
        if let Some(index) = ITIMER_KEYS.iter().position(|&k| k == key) {
            let (clock, signo) = [
                (CpuClock::ProcessUser, abi::signal::SIGVTALRM),
                (CpuClock::Process, abi::signal::SIGPROF),
            ][index]
                .clone();
            self.timers.entry(key).or_insert_with(|| CpuTimer {
                clock,
                expiry: None,
                interval: Duration::ZERO,
                target: TimerTarget::Process(Weak::clone(group)),
                signo,
                posix: None,
                overrun: 0,
            });
        }
        self.timers.get_mut(&key)
    }

    /// Arms (`value` non-zero, relative to its clock's reading) or disarms
    /// timer `key` at process CPU time `now`; returns the old setting, or
    /// `None` if there is no such timer.
    pub fn set(
        &mut self,
        key: u64,
        group: &Weak<ThreadGroup>,
        now: CpuTimes,
        value: Duration,
        interval: Duration,
    ) -> Option<TimerSetting> {
        let timer = self.timer(key, group)?;
        let clock = timer.clock.now(now).unwrap_or_default();
        let old = cpu_setting(timer, clock);
        timer.expiry = (!value.is_zero()).then(|| clock.saturating_add(value));
        timer.interval = interval;
        timer.overrun = 0;
        Some(old)
    }

    /// Timer `key`'s setting at process CPU time `now`.
    pub fn get(
        &mut self,
        key: u64,
        group: &Weak<ThreadGroup>,
        now: CpuTimes,
    ) -> Option<TimerSetting> {
        let timer = self.timer(key, group)?;
        let clock = timer.clock.now(now).unwrap_or_default();
        Some(cpu_setting(timer, clock))
    }

    /// The reading of timer `key`'s clock at process CPU time `now`.
    pub fn clock_now(&self, key: u64, now: CpuTimes) -> Option<Duration> {
        self.timers.get(&key).and_then(|t| t.clock.now(now))
    }

    /// Timer `key`'s overrun count of its last expiry.
    pub fn overrun(&self, key: u64) -> Option<u64> {
        self.timers.get(&key).map(|t| t.overrun)
    }

    /// Whether a timer is armed.
    pub fn armed(&self) -> bool {
        self.timers.values().any(|t| t.expiry.is_some())
    }

    /// The signals of the timers that expired by `now`, with where they
    /// go; periodic ones are re-armed, counting the periods missed.
    pub fn expire(&mut self, now: CpuTimes) -> Vec<(TimerTarget, abi::signal::SigInfo)> {
        let mut fired = Vec::new();
        for timer in self.timers.values_mut() {
            let Some(at) = timer.expiry else { continue };
            let Some(clock) = timer.clock.now(now) else {
                // Its thread has ended: it never fires again.
                timer.expiry = None;
                continue;
            };
            if at > clock {
                continue;
            }
            let mut missed = 0u64;
            timer.expiry = (!timer.interval.is_zero()).then(|| {
                let mut next = at.saturating_add(timer.interval);
                while next <= clock {
                    next = next.saturating_add(timer.interval);
                    missed += 1;
                }
                next
            });
            timer.overrun = missed;
            fired.push((
                timer.target.clone(),
                signal_info(timer.signo, timer.posix, missed),
            ));
        }
        fired
    }

    /// The wall time after which a timer may have expired, with `threads`
    /// threads running, or `None` if none is armed.
    pub fn next_check(&self, now: CpuTimes, threads: usize) -> Option<Duration> {
        let threads = u32::try_from(threads.max(1)).unwrap_or(u32::MAX);
        self.timers
            .values()
            .filter_map(|t| {
                let left = t.expiry?.saturating_sub(t.clock.now(now)?);
                // A process clock may advance on every thread at once.
                Some(match t.clock {
                    CpuClock::Thread(_) => left,
                    _ => left / threads,
                })
            })
            .min()
            .map(|wait| wait.max(Duration::from_micros(100)))
    }
}

fn cpu_setting(timer: &CpuTimer, clock: Duration) -> TimerSetting {
    TimerSetting {
        remaining: timer.expiry.map_or(Duration::ZERO, |e| {
            // Due but not yet seen: about to fire.
            e.saturating_sub(clock).max(Duration::from_micros(1))
        }),
        interval: timer.interval,
    }
}
