//! Futexes: queues of tasks waiting on a 32-bit word of program memory.
//!
//! A waiter is queued under its key while the table lock is held and the
//! word has been checked, so a waker that changes the word and then takes the
//! lock always finds it: no wake-up is lost (Linux's futex ordering).
//!
//! Keys are (address space, address). That is right for private futexes and
//! for shared ones while each address space is its own process; shared
//! mappings between processes will key by MemoryFile offset once fork exists.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use crate::task::TaskHandle;

/// What identifies a futex word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FutexKey {
    /// The address space, by identity.
    pub mm: usize,
    /// The word's address.
    pub addr: u64,
}

/// One queued task.
#[derive(Debug)]
pub struct Waiter {
    /// The task to wake.
    pub task: Arc<TaskHandle>,
    /// `FUTEX_WAIT_BITSET`'s mask (all ones for `FUTEX_WAIT`).
    pub bitset: u32,
}

/// Every futex queue of the sandbox.
#[derive(Debug, Default)]
pub struct FutexTable {
    queues: Mutex<HashMap<FutexKey, VecDeque<Arc<Waiter>>>>,
}

impl FutexTable {
    /// Runs `check` under the table lock and, if it passes, queues `waiter`
    /// on `key`. `check` reads the futex word; its error is returned as is.
    pub fn enqueue_if<E>(
        &self,
        key: FutexKey,
        waiter: &Arc<Waiter>,
        check: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        check()?;
        queues.entry(key).or_default().push_back(Arc::clone(waiter));
        Ok(())
    }

    /// Removes `waiter` from whatever queue it is on (after a timeout or a
    /// kill). Returns whether it was still queued; if not, a waker took it.
    pub fn dequeue(&self, waiter: &Arc<Waiter>) -> bool {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let mut found = None;
        for (key, queue) in queues.iter_mut() {
            if let Some(pos) = queue.iter().position(|w| Arc::ptr_eq(w, waiter)) {
                queue.remove(pos);
                found = Some(*key);
                break;
            }
        }
        if let Some(key) = found
            && queues.get(&key).is_some_and(VecDeque::is_empty)
        {
            queues.remove(&key);
        }
        found.is_some()
    }

    /// Wakes up to `count` waiters on `key` whose bitset meets `bitset`
    /// (at least one if any matches, as Linux does for a count of 0).
    /// Returns how many were woken.
    pub fn wake(&self, key: FutexKey, count: u32, bitset: u32) -> u32 {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        let woken = take_matching(&mut queues, key, count, bitset);
        for waiter in &woken {
            waiter.task.wake();
        }
        u32::try_from(woken.len()).unwrap_or(u32::MAX)
    }

    /// Wakes up to `wake` waiters on `from` and moves up to `requeue` of the
    /// rest to `to`, after `check` passes under the lock (`FUTEX_CMP_REQUEUE`'s
    /// comparison). Returns woken + requeued.
    pub fn requeue<E>(
        &self,
        from: FutexKey,
        to: FutexKey,
        wake: u32,
        requeue: u32,
        check: impl FnOnce() -> Result<(), E>,
    ) -> Result<u32, E> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        check()?;
        let woken = take_matching(&mut queues, from, wake, u32::MAX);
        for waiter in &woken {
            waiter.task.wake();
        }
        let mut moved = Vec::new();
        if let Some(queue) = queues.get_mut(&from) {
            let n = usize::try_from(requeue)
                .unwrap_or(usize::MAX)
                .min(queue.len());
            moved.extend(queue.drain(..n));
            if queue.is_empty() {
                queues.remove(&from);
            }
        }
        let requeued = moved.len();
        if !moved.is_empty() {
            queues.entry(to).or_default().extend(moved);
        }
        Ok(u32::try_from(woken.len() + requeued).unwrap_or(u32::MAX))
    }
}

fn take_matching(
    queues: &mut HashMap<FutexKey, VecDeque<Arc<Waiter>>>,
    key: FutexKey,
    count: u32,
    bitset: u32,
) -> Vec<Arc<Waiter>> {
    let Some(queue) = queues.get_mut(&key) else {
        return Vec::new();
    };
    let limit = usize::try_from(count.max(1)).unwrap_or(usize::MAX);
    let mut taken = Vec::new();
    queue.retain(|w| {
        if taken.len() < limit && w.bitset & bitset != 0 {
            taken.push(Arc::clone(w));
            false
        } else {
            true
        }
    });
    if queue.is_empty() {
        queues.remove(&key);
    }
    taken
}
