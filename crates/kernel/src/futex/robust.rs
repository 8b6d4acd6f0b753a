//! Robust futex lists: what happens to the futexes a thread holds when it
//! dies (Linux's `exit_robust_list` and `handle_futex_death`).
//!
//! The list lives in program memory and is hostile: any read may fault and
//! the list may loop or change under the walk. The walk stops at the first
//! fault and after `ROBUST_LIST_LIMIT` entries, as Linux's does.

use std::sync::Arc;

use super::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, FutexTable, key};
use crate::mm::MemoryManager;

/// `ROBUST_LIST_LIMIT`: the most entries a walk visits.
const ROBUST_LIST_LIMIT: u32 = 2048;

/// Walks the robust list at `head` (a `struct robust_list_head`) of the
/// dying thread `tid`: each futex it still owns gets `FUTEX_OWNER_DIED`
/// and one waiter woken; `list_op_pending`'s futex is handled last.
pub fn exit_robust_list(futexes: &FutexTable, mm: &Arc<MemoryManager>, tid: i32, head: u64) {
    if head == 0 {
        return;
    }
    // A list pointer's bit 0 says the futex it leads to is a PI one.
    let read = |addr: u64| mm.read_obj::<u64>(addr).ok().map(|v| (v & !1, v & 1 != 0));
    let Some((mut entry, mut pi)) = read(head) else {
        return;
    };
    let Ok(offset) = mm.read_obj::<u64>(head.wrapping_add(8)) else {
        return;
    };
    let Some((pending, pending_pi)) = read(head.wrapping_add(16)) else {
        return;
    };
    let mut limit = ROBUST_LIST_LIMIT;
    while entry != head {
        let next = read(entry);
        if entry != pending
            && !handle_futex_death(futexes, mm, entry.wrapping_add(offset), tid, pi, false)
        {
            return;
        }
        let Some((next, next_pi)) = next else {
            return;
        };
        (entry, pi) = (next, next_pi);
        limit -= 1;
        if limit == 0 {
            break;
        }
    }
    if pending != 0 {
        handle_futex_death(
            futexes,
            mm,
            pending.wrapping_add(offset),
            tid,
            pending_pi,
            true,
        );
    }
}

/// Marks the futex at `addr` dead if `tid` owns it, and wakes a waiter of
/// a non-PI one (a PI one's waiters get it from `FutexTable::owner_died`).
/// Returns false if the word is unaligned or faults: the walk stops.
fn handle_futex_death(
    futexes: &FutexTable,
    mm: &Arc<MemoryManager>,
    addr: u64,
    tid: i32,
    pi: bool,
    pending_op: bool,
) -> bool {
    if !addr.is_multiple_of(4) {
        return false;
    }
    let Ok(uval) = mm.read_obj::<u32>(addr) else {
        return false;
    };
    let wake = || {
        if let Ok(key) = key(mm, addr, false) {
            // A PI waiter found here refuses the wake-up; nothing to do.
            let _ = futexes.wake(key, 1, u32::MAX);
        }
    };
    // The thread died between releasing the word and waking a waiter (or
    // a woken waiter died before taking it): wake another, leave the word.
    if pending_op && !pi && uval & FUTEX_TID_MASK == 0 {
        wake();
        return true;
    }
    let me = tid.unsigned_abs() & FUTEX_TID_MASK;
    let marked = mm.futex_update(addr, |v| {
        (v & FUTEX_TID_MASK == me).then_some((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED)
    });
    match marked {
        Err(_) => false,
        Ok(Ok(old)) => {
            if !pi && old & FUTEX_WAITERS != 0 {
                wake();
            }
            true
        }
        // Not (or no longer) ours.
        Ok(Err(_)) => true,
    }
}
