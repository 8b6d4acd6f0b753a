//! Futexes: queues of tasks waiting on a 32-bit word of program memory, and
//! the ownership hand-off of priority-inheritance (PI) futexes.
//!
//! A waiter is queued under its key while the table lock is held and the
//! word has been checked, so a waker that changes the word and then takes the
//! lock always finds it: no wake-up is lost (Linux's futex ordering).
//!
//! Keys follow Linux's `get_futex_key`: a private futex, or any futex in a
//! private mapping, is named by its address space and address; a shared
//! futex in a shared mapping by the MemoryFile offset behind it, so that
//! processes mapping the same memory at different addresses meet.
//!
//! PI futexes keep Linux's user-space protocol (the owner's TID in the word,
//! `FUTEX_WAITERS`, `FUTEX_OWNER_DIED`) and its hand-offs: an unlock with
//! waiters passes ownership straight to the first one, and a dead owner's
//! futexes pass to their first waiters. Priority inheritance itself is not
//! done: the host schedules the program's threads, not the sentry, so there
//! is no priority to lend. What a program can observe (ownership, the word,
//! the order waiters get the lock) is Linux's.
//!
//! Lock order: the table lock, then a memory manager's (words are read and
//! changed under the table lock), then the process tree's (owner lookups).
//! A [`Waiter`]'s state lock is a leaf.

mod robust;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi::Errno;

use crate::mm::MemoryManager;
use crate::task::TaskHandle;

pub use robust::exit_robust_list;

// include/uapi/linux/futex.h
/// A PI or robust futex word: waiters are queued in the kernel.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
/// A PI or robust futex word: the owner died holding it.
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// A PI or robust futex word: the owner's TID.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// What identifies a futex word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FutexKey {
    /// A word of one address space.
    Private {
        /// The address space, by identity.
        mm: usize,
        /// The word's address.
        addr: u64,
        /// Whether the futex is a shared one (no `FUTEX_PRIVATE_FLAG`) in
        /// private memory: Linux keys these apart from private ones
        /// (`FUT_OFF_MMSHARED`), so the two never wake each other.
        shared: bool,
    },
    /// A word of shared memory, by the MemoryFile offset that holds it.
    Shared {
        /// The word's MemoryFile offset.
        offset: u64,
    },
}

/// The key of the futex word at `addr` of `mm` (Linux's `get_futex_key`).
///
/// # Errors
/// `EINVAL` if `addr` is not 4-aligned; `EFAULT` if a shared futex's word
/// is not mapped.
pub fn key(mm: &Arc<MemoryManager>, addr: u64, private: bool) -> Result<FutexKey, Errno> {
    if !addr.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    if !private && let Some(offset) = mm.shared_futex_offset(addr)? {
        return Ok(FutexKey::Shared { offset });
    }
    Ok(FutexKey::Private {
        mm: Arc::as_ptr(mm) as usize,
        addr,
        shared: !private,
    })
}

/// One task waiting on a futex.
#[derive(Debug)]
pub struct Waiter {
    /// The task to wake.
    pub task: Arc<TaskHandle>,
    /// Its TID, which a PI futex's word holds once it owns it.
    pub tid: i32,
    /// The address space its words live in.
    pub mm: Arc<MemoryManager>,
    /// `FUTEX_WAIT_BITSET`'s mask (all ones for the other waits).
    pub bitset: u32,
    /// `FUTEX_WAIT_REQUEUE_PI`'s PI futex: its key and address.
    pub requeue_pi: Option<(FutexKey, u64)>,
    state: Mutex<WaiterState>,
}

#[derive(Debug, Default)]
struct WaiterState {
    /// The PI word a hand-off to this waiter writes.
    pi_addr: u64,
    /// Set when `FUTEX_CMP_REQUEUE_PI` moved it to its PI futex.
    requeued: bool,
    /// Set when a PI futex was handed to it: `Ok` if it owns it, `EFAULT`
    /// if the word could not be written.
    outcome: Option<Result<(), Errno>>,
}

impl Waiter {
    /// A waiter for `task` (`tid`, in `mm`) that matches `bitset`; `pi_addr`
    /// is the word of the PI futex it may come to own (0 for none).
    pub fn new(
        task: Arc<TaskHandle>,
        tid: i32,
        mm: Arc<MemoryManager>,
        bitset: u32,
        requeue_pi: Option<(FutexKey, u64)>,
        pi_addr: u64,
    ) -> Arc<Waiter> {
        Arc::new(Waiter {
            task,
            tid,
            mm,
            bitset,
            requeue_pi,
            state: Mutex::new(WaiterState {
                pi_addr,
                ..WaiterState::default()
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, WaiterState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How a PI hand-off to this waiter went, once one happened.
    pub fn outcome(&self) -> Option<Result<(), Errno>> {
        self.state().outcome
    }

    /// Whether `FUTEX_CMP_REQUEUE_PI` moved it to its PI futex.
    pub fn requeued(&self) -> bool {
        self.state().requeued
    }
}

/// A queued waiter; `pi` when it waits for a PI futex's ownership.
#[derive(Debug)]
struct Queued {
    waiter: Arc<Waiter>,
    pi: bool,
}

#[derive(Debug, Default)]
struct Queues {
    waiting: HashMap<FutexKey, VecDeque<Queued>>,
    /// The TID each PI futex with queued waiters is owned by.
    pi_owners: HashMap<FutexKey, i32>,
}

impl Queues {
    fn has_pi_waiters(&self, key: FutexKey) -> bool {
        self.waiting
            .get(&key)
            .is_some_and(|q| q.iter().any(|e| e.pi))
    }

    /// The TID the PI waiters queued on `key` wait on, if any are.
    fn pi_owner(&self, key: FutexKey) -> Option<i32> {
        self.pi_owners
            .get(&key)
            .copied()
            .filter(|_| self.has_pi_waiters(key))
    }

    /// Drops `key`'s empty queue and, without PI waiters, its owner.
    fn tidy(&mut self, key: FutexKey) {
        if self.waiting.get(&key).is_some_and(VecDeque::is_empty) {
            self.waiting.remove(&key);
        }
        if !self.has_pi_waiters(key) {
            self.pi_owners.remove(&key);
        }
    }

    /// Takes the first PI waiter on `key`.
    fn take_first_pi(&mut self, key: FutexKey) -> Option<Arc<Waiter>> {
        let queue = self.waiting.get_mut(&key)?;
        let pos = queue.iter().position(|e| e.pi)?;
        queue.remove(pos).map(|e| e.waiter)
    }

    /// Gives `key`'s PI futex to `waiter`, just taken off its queue.
    fn grant(&mut self, key: FutexKey, waiter: &Arc<Waiter>, outcome: Result<(), Errno>) {
        waiter.state().outcome = Some(outcome);
        self.pi_owners.insert(key, waiter.tid);
        self.tidy(key);
        waiter.task.wake();
    }
}

/// What a `FUTEX_LOCK_PI` attempt found, under the table lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PiAttempt {
    /// The caller now owns the futex.
    Acquired,
    /// The futex is owned by this TID, `FUTEX_WAITERS` is set: queue and wait.
    Wait(i32),
}

/// Every futex queue of the sandbox.
#[derive(Debug, Default)]
pub struct FutexTable {
    queues: Mutex<Queues>,
}

impl FutexTable {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `check` under the table lock and, if it passes, queues `waiter`
    /// on `key`. `check` reads the futex word; its error is returned as is.
    pub fn enqueue_if<E>(
        &self,
        key: FutexKey,
        waiter: &Arc<Waiter>,
        check: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let mut queues = self.lock();
        check()?;
        queues.waiting.entry(key).or_default().push_back(Queued {
            waiter: Arc::clone(waiter),
            pi: false,
        });
        Ok(())
    }

    /// Removes `waiter` from whatever queue it is on (after a timeout or a
    /// kill). Returns whether it was still queued; if not, a waker took it.
    pub fn dequeue(&self, waiter: &Arc<Waiter>) -> bool {
        let mut queues = self.lock();
        let mut found = None;
        for (key, queue) in &mut queues.waiting {
            if let Some(pos) = queue.iter().position(|e| Arc::ptr_eq(&e.waiter, waiter)) {
                queue.remove(pos);
                found = Some(*key);
                break;
            }
        }
        if let Some(key) = found {
            queues.tidy(key);
        }
        found.is_some()
    }

    /// Wakes up to `count` waiters on `key` whose bitset meets `bitset`
    /// (at least one if any matches, as Linux does for a count of 0).
    /// Returns how many were woken.
    ///
    /// # Errors
    /// `EINVAL` if a matching waiter waits for PI ownership, which only an
    /// unlock may give (those before it are still woken, as in Linux).
    pub fn wake(&self, key: FutexKey, count: u32, bitset: u32) -> Result<u32, Errno> {
        let mut queues = self.lock();
        let limit = usize::try_from(count.max(1)).unwrap_or(usize::MAX);
        let (woken, result) = take_matching(&mut queues, key, limit, bitset);
        for waiter in &woken {
            waiter.task.wake();
        }
        result?;
        Ok(u32::try_from(woken.len()).unwrap_or(u32::MAX))
    }

    /// Wakes up to `wake` waiters on `from` and moves up to `requeue` of the
    /// rest to `to`, after `check` passes under the lock (`FUTEX_CMP_REQUEUE`'s
    /// comparison). Returns woken + requeued.
    ///
    /// # Errors
    /// What `check` gives; `EINVAL` if a waiter it reaches waits for
    /// `FUTEX_CMP_REQUEUE_PI`.
    pub fn requeue(
        &self,
        from: FutexKey,
        to: FutexKey,
        wake: u32,
        requeue: u32,
        check: impl FnOnce() -> Result<(), Errno>,
    ) -> Result<u32, Errno> {
        let mut queues = self.lock();
        check()?;
        // Unlike FUTEX_WAKE, a requeue may wake none.
        let limit = usize::try_from(wake).unwrap_or(usize::MAX);
        let (woken, result) = take_matching(&mut queues, from, limit, u32::MAX);
        for waiter in &woken {
            waiter.task.wake();
        }
        result?;
        let mut moved = Vec::new();
        if let Some(queue) = queues.waiting.get_mut(&from) {
            let n = usize::try_from(requeue)
                .unwrap_or(usize::MAX)
                .min(queue.len());
            if queue
                .iter()
                .take(n)
                .any(|e| e.pi || e.waiter.requeue_pi.is_some())
            {
                return Err(Errno::EINVAL);
            }
            moved.extend(queue.drain(..n));
        }
        queues.tidy(from);
        let requeued = moved.len();
        if !moved.is_empty() {
            queues.waiting.entry(to).or_default().extend(moved);
        }
        Ok(u32::try_from(woken.len() + requeued).unwrap_or(u32::MAX))
    }

    /// One `FUTEX_LOCK_PI` attempt: `attempt` runs under the table lock
    /// with the TID the PI waiters queued on `key` wait on (if any), and
    /// changes the word. If it says to wait, `waiter` is queued for
    /// ownership from the TID it names.
    ///
    /// # Errors
    /// What `attempt` gives.
    pub fn lock_pi(
        &self,
        key: FutexKey,
        waiter: &Arc<Waiter>,
        attempt: impl FnOnce(Option<i32>) -> Result<PiAttempt, Errno>,
    ) -> Result<PiAttempt, Errno> {
        let mut queues = self.lock();
        let result = attempt(queues.pi_owner(key))?;
        if let PiAttempt::Wait(owner) = result {
            queues.waiting.entry(key).or_default().push_back(Queued {
                waiter: Arc::clone(waiter),
                pi: true,
            });
            queues.pi_owners.insert(key, owner);
        }
        Ok(result)
    }

    /// `FUTEX_UNLOCK_PI`: `release` runs under the table lock with the TID of
    /// the first PI waiter on `key` (if any) and writes the word: that TID
    /// with `FUTEX_WAITERS`, or 0. If it succeeds, the waiter owns the futex
    /// and is woken.
    ///
    /// # Errors
    /// What `release` gives.
    pub fn unlock_pi(
        &self,
        key: FutexKey,
        release: impl FnOnce(Option<i32>) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let mut queues = self.lock();
        let next = queues
            .waiting
            .get(&key)
            .and_then(|q| q.iter().find(|e| e.pi))
            .map(|e| e.waiter.tid);
        release(next)?;
        if let Some(waiter) = queues.take_first_pi(key) {
            queues.grant(key, &waiter, Ok(()));
        }
        Ok(())
    }

    /// The thread `tid` is gone (exit, or `execve`): each PI futex it owned
    /// with waiters passes to its first waiter, whose TID is written to the
    /// word with `FUTEX_WAITERS`, keeping `FUTEX_OWNER_DIED` (Linux's
    /// `exit_pi_state_list` and the new owner's fix-up of the word).
    pub fn owner_died(&self, tid: i32) {
        let mut queues = self.lock();
        let owned: Vec<FutexKey> = queues
            .pi_owners
            .iter()
            .filter(|&(_, &owner)| owner == tid)
            .map(|(&key, _)| key)
            .collect();
        for key in owned {
            let Some(waiter) = queues.take_first_pi(key) else {
                queues.tidy(key);
                continue;
            };
            let addr = waiter.state().pi_addr;
            let new_owner = waiter.tid.unsigned_abs() & FUTEX_TID_MASK;
            let written = waiter.mm.futex_update(addr, |old| {
                Some(new_owner | FUTEX_WAITERS | (old & FUTEX_OWNER_DIED))
            });
            let outcome = written.map(drop).map_err(|_| Errno::EFAULT);
            queues.grant(key, &waiter, outcome);
        }
    }

    /// `FUTEX_CMP_REQUEUE_PI`, after `check` passes under the lock: the
    /// first waiter on `from` (which must wait for `to`) is offered the PI
    /// futex `to` by `take_for`, which runs a `FUTEX_LOCK_PI` attempt on
    /// its behalf with the TID `to`'s queued waiters wait on (if any). If it
    /// got the futex it is woken; up to `requeue` of the rest then wait for
    /// `to`'s ownership. Returns woken + requeued.
    ///
    /// # Errors
    /// What `check` and `take_for` give; `EINVAL` if a waiter reached does
    /// not wait for `to`.
    pub fn requeue_pi(
        &self,
        from: FutexKey,
        to: FutexKey,
        requeue: u32,
        check: impl FnOnce() -> Result<(), Errno>,
        take_for: impl FnOnce(i32, Option<i32>) -> Result<PiAttempt, Errno>,
    ) -> Result<u32, Errno> {
        let mut queues = self.lock();
        check()?;
        let targets_to = |e: &Queued| !e.pi && e.waiter.requeue_pi.is_some_and(|(k, _)| k == to);
        let Some(top) = queues.waiting.get(&from).and_then(|q| q.front()) else {
            return Ok(0);
        };
        if !targets_to(top) {
            return Err(Errno::EINVAL);
        }
        let top = Arc::clone(&top.waiter);
        let mut count = 0u32;
        let owner = match take_for(top.tid, queues.pi_owner(to))? {
            PiAttempt::Acquired => {
                if let Some(queue) = queues.waiting.get_mut(&from) {
                    queue.pop_front();
                }
                queues.grant(to, &top, Ok(()));
                count += 1;
                top.tid
            }
            PiAttempt::Wait(owner) => owner,
        };
        let mut moved = 0u32;
        while moved < requeue {
            let Some(next) = queues.waiting.get(&from).and_then(|q| q.front()) else {
                break;
            };
            if !targets_to(next) {
                queues.tidy(from);
                return Err(Errno::EINVAL);
            }
            let Some(entry) = queues.waiting.get_mut(&from).and_then(VecDeque::pop_front) else {
                break;
            };
            {
                let mut state = entry.waiter.state();
                state.requeued = true;
                state.pi_addr = entry.waiter.requeue_pi.map_or(0, |(_, addr)| addr);
            }
            queues.waiting.entry(to).or_default().push_back(Queued {
                waiter: entry.waiter,
                pi: true,
            });
            queues.pi_owners.insert(to, owner);
            moved += 1;
        }
        queues.tidy(from);
        Ok(count + moved)
    }
}

/// Takes up to `limit` waiters on `key` whose bitset meets `bitset`,
/// stopping with `EINVAL` at one that waits for PI ownership.
fn take_matching(
    queues: &mut Queues,
    key: FutexKey,
    limit: usize,
    bitset: u32,
) -> (Vec<Arc<Waiter>>, Result<(), Errno>) {
    let Some(queue) = queues.waiting.get_mut(&key) else {
        return (Vec::new(), Ok(()));
    };
    let mut taken = Vec::new();
    let mut result = Ok(());
    let mut i = 0;
    while i < queue.len() && taken.len() < limit {
        let entry = &queue[i];
        if entry.waiter.bitset & bitset == 0 {
            i += 1;
            continue;
        }
        if entry.pi || entry.waiter.requeue_pi.is_some() {
            result = Err(Errno::EINVAL);
            break;
        }
        if let Some(entry) = queue.remove(i) {
            taken.push(entry.waiter);
        }
    }
    queues.tidy(key);
    (taken, result)
}
