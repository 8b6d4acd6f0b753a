//! futex(2), get_robust_list(2) and set_robust_list(2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abi::Errno;
use abi::sysno::{SYS_FUTEX, SYS_GET_ROBUST_LIST, SYS_SET_ROBUST_LIST};
use abi::time::{CLOCK_MONOTONIC, CLOCK_REALTIME};

use super::table::{Arg, Entry, Support, entry};
use super::time::{duration_from_timespec, instant_after, read_timespec};
use super::{SyscallArgs, SyscallResult};
use crate::futex::{
    self, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, FutexKey, PiAttempt, Waiter,
};
use crate::host;
use crate::task::{Task, Wakeup};

// include/uapi/linux/futex.h
const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAKE_OP: u32 = 5;
const FUTEX_LOCK_PI: u32 = 6;
const FUTEX_UNLOCK_PI: u32 = 7;
const FUTEX_TRYLOCK_PI: u32 = 8;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
const FUTEX_CMP_REQUEUE_PI: u32 = 12;
const FUTEX_LOCK_PI2: u32 = 13;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

// FUTEX_WAKE_OP's encoded operation.
const FUTEX_OP_SET: u32 = 0;
const FUTEX_OP_ADD: u32 = 1;
const FUTEX_OP_OR: u32 = 2;
const FUTEX_OP_ANDN: u32 = 3;
const FUTEX_OP_XOR: u32 = 4;
const FUTEX_OP_OPARG_SHIFT: u32 = 8;
const FUTEX_OP_CMP_EQ: u32 = 0;
const FUTEX_OP_CMP_NE: u32 = 1;
const FUTEX_OP_CMP_LT: u32 = 2;
const FUTEX_OP_CMP_LE: u32 = 3;
const FUTEX_OP_CMP_GT: u32 = 4;
const FUTEX_OP_CMP_GE: u32 = 5;

/// `sizeof(struct robust_list_head)`.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[
    entry(
        SYS_FUTEX,
        sys_futex,
        &[Arg::Ptr, Arg::Hex, Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Hex],
        Support::Full,
        "PI futexes keep Linux's ownership protocol; priority inheritance itself is a no-op (the host schedules)",
    ),
    entry(
        SYS_SET_ROBUST_LIST,
        sys_set_robust_list,
        &[Arg::Ptr, Arg::Len],
        Support::Full,
        "",
    ),
    entry(
        SYS_GET_ROBUST_LIST,
        sys_get_robust_list,
        &[Arg::Int, Arg::Ptr, Arg::Ptr],
        Support::Full,
        "",
    ),
];

/// Whether `cmd` takes a timeout (Linux's `futex_cmd_has_timeout`).
fn has_timeout(cmd: u32) -> bool {
    matches!(
        cmd,
        FUTEX_WAIT | FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI
    )
}

/// Implements Linux `futex(2)`.
fn sys_futex(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (addr, op, val) = (args.addr(0), args.u32(1), args.u32(2));
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    // The timeout is read before anything else, as Linux does.
    let deadline = match args.addr(3) {
        ts_addr if ts_addr != 0 && has_timeout(cmd) => {
            let ts = read_timespec(task, ts_addr)?;
            // LOCK_PI's deadline is on CLOCK_REALTIME whatever the flag says.
            let clock = if realtime || cmd == FUTEX_LOCK_PI {
                CLOCK_REALTIME
            } else {
                CLOCK_MONOTONIC
            };
            Some(deadline_of(ts, cmd != FUTEX_WAIT, clock)?)
        }
        _ => None,
    };
    if realtime
        && !matches!(
            cmd,
            FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2
        )
    {
        return Err(Errno::ENOSYS);
    }
    let key = |addr: u64| futex::key(&task.mm, addr, private);
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT {
                FUTEX_BITSET_MATCH_ANY
            } else {
                args.u32(5)
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            futex_wait_restartable(task, private, addr, val, bitset, deadline)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                args.u32(5)
            };
            if bitset == 0 {
                return Err(Errno::EINVAL);
            }
            let woken = task
                .kernel
                .futexes
                .wake(key(addr)?, wake_count(args.i32(2)), bitset)?;
            Ok(u64::from(woken))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // val2 travels in the timeout argument's register.
            let (Ok(wake), Ok(requeue)) = (u32::try_from(args.i32(2)), u32::try_from(args.i32(3)))
            else {
                return Err(Errno::EINVAL);
            };
            let (from, to) = (key(addr)?, key(args.addr(4))?);
            let expected = args.u32(5);
            let mm = Arc::clone(&task.mm);
            let check = || -> Result<(), Errno> {
                if cmd == FUTEX_CMP_REQUEUE && mm.read_obj::<u32>(addr)? != expected {
                    return Err(Errno::EAGAIN);
                }
                Ok(())
            };
            let count = task
                .kernel
                .futexes
                .requeue(from, to, wake, requeue, check)?;
            Ok(u64::from(count))
        }
        FUTEX_WAKE_OP => {
            let addr2 = args.addr(4);
            let (key1, key2) = (key(addr)?, key(addr2)?);
            futex_wake_op(task, key1, key2, addr2, args)
        }
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 | FUTEX_TRYLOCK_PI => {
            futex_lock_pi(task, key(addr)?, addr, deadline, cmd == FUTEX_TRYLOCK_PI)
        }
        FUTEX_UNLOCK_PI => {
            // Linux checks ownership before it looks at the address.
            if task.mm.read_obj::<u32>(addr)? & FUTEX_TID_MASK != tid_bits(task.tid) {
                return Err(Errno::EPERM);
            }
            futex_unlock_pi(task, key(addr)?, addr)
        }
        FUTEX_WAIT_REQUEUE_PI => {
            let addr2 = args.addr(4);
            if addr == addr2 {
                return Err(Errno::EINVAL);
            }
            let (key1, key2) = (key(addr)?, key(addr2)?);
            futex_wait_requeue_pi(task, key1, addr, val, (key2, addr2), deadline)
        }
        FUTEX_CMP_REQUEUE_PI => {
            let (Ok(wake), Ok(requeue)) = (u32::try_from(args.i32(2)), u32::try_from(args.i32(3)))
            else {
                return Err(Errno::EINVAL);
            };
            let addr2 = args.addr(4);
            if addr == addr2 || wake != 1 {
                return Err(Errno::EINVAL);
            }
            let (from, to) = (key(addr)?, key(addr2)?);
            if from == to {
                return Err(Errno::EINVAL);
            }
            let expected = args.u32(5);
            let check = || -> Result<(), Errno> {
                if task.mm.read_obj::<u32>(addr)? != expected {
                    return Err(Errno::EAGAIN);
                }
                Ok(())
            };
            let take_for =
                |tid: i32, queued_owner| pi_attempt(task, addr2, tid, queued_owner, true, false);
            let count = task
                .kernel
                .futexes
                .requeue_pi(from, to, requeue, check, take_for)?;
            Ok(u64::from(count))
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// A wake count from the program: Linux compares it as an int, so zero and
/// negative counts wake one waiter.
fn wake_count(count: i32) -> u32 {
    u32::try_from(count).unwrap_or(0)
}

/// The instant a futex timeout ends: relative for `FUTEX_WAIT`, absolute on
/// `clock` for the others.
fn deadline_of(wait: Duration, absolute: bool, clock: u32) -> Result<Instant, Errno> {
    let mut wait = wait;
    if absolute {
        wait = wait.saturating_sub(duration_from_timespec(host::clock_gettime(clock)?)?);
    }
    Ok(instant_after(wait))
}

/// A waiter for the calling task (see [`Waiter::new`]).
fn waiter_for(
    task: &Task,
    bitset: u32,
    requeue_pi: Option<(FutexKey, u64)>,
    pi_addr: u64,
) -> Arc<Waiter> {
    Waiter::new(
        task.handle(),
        task.tid,
        Arc::clone(&task.mm),
        bitset,
        requeue_pi,
        pi_addr,
    )
}

/// Readies the task to block and queues `waiter` on `key` if the word at
/// `addr` still holds `val` (`EAGAIN` if not).
fn queue_if_word_is(
    task: &Task,
    key: FutexKey,
    waiter: &Arc<Waiter>,
    addr: u64,
    val: u32,
) -> Result<(), Errno> {
    task.prepare_to_block();
    task.kernel.futexes.enqueue_if(key, waiter, || {
        if task.mm.read_obj::<u32>(addr)? != val {
            Err(Errno::EAGAIN)
        } else {
            Ok(())
        }
    })
}

/// The word at `addr`, read atomically; like Linux's futex atomics it must
/// be writable.
fn load_word(task: &Task, addr: u64) -> Result<u32, Errno> {
    match task.mm.futex_update(addr, |_| None)? {
        Ok(v) | Err(v) => Ok(v),
    }
}

/// Queues the task on `key` if the word at `addr` still holds `val`, then
/// blocks.
fn futex_wait(
    task: &Task,
    key: FutexKey,
    addr: u64,
    val: u32,
    bitset: u32,
    deadline: Option<Instant>,
) -> SyscallResult {
    let waiter = waiter_for(task, bitset, None, 0);
    queue_if_word_is(task, key, &waiter, addr, val)?;
    let wakeup = task.block(deadline);
    // Still queued means nobody woke us: leave the queue before returning.
    if task.kernel.futexes.dequeue(&waiter) {
        return match wakeup {
            Wakeup::Killed | Wakeup::Interrupted => Err(Errno::ERESTARTSYS),
            Wakeup::TimedOut => Err(Errno::ETIMEDOUT),
            Wakeup::Woken => Ok(0),
        };
    }
    Ok(0)
}

/// FUTEX_WAIT and FUTEX_WAIT_BITSET. A wait with a timeout that a signal
/// interrupts goes on through `restart_syscall(2)` until the same deadline
/// when no handler runs, and fails with EINTR when one does, even under
/// SA_RESTART (Linux's `futex_wait_restart`); one without a timeout
/// restarts whole under SA_RESTART.
fn futex_wait_restartable(
    task: &mut Task,
    private: bool,
    addr: u64,
    val: u32,
    bitset: u32,
    deadline: Option<Instant>,
) -> SyscallResult {
    let key = futex::key(&task.mm, addr, private)?;
    match (futex_wait(task, key, addr, val, bitset, deadline), deadline) {
        (Err(Errno::ERESTARTSYS), Some(deadline)) => Err(task.set_restart_block(move |task| {
            futex_wait_restartable(task, private, addr, val, bitset, Some(deadline))
        })),
        (result, _) => result,
    }
}

/// `FUTEX_WAKE_OP`: applies the encoded operation to the word at `addr2` in
/// one atomic read-modify-write, wakes up to `val` waiters on `key1` and,
/// if the old value passes the encoded comparison, up to `val2` on `key2`.
fn futex_wake_op(
    task: &Task,
    key1: FutexKey,
    key2: FutexKey,
    addr2: u64,
    args: &SyscallArgs,
) -> SyscallResult {
    let encoded = args.u32(5);
    let op = (encoded >> 28) & 0xf;
    let cmp = (encoded >> 24) & 0xf;
    let mut oparg = sign_extend_12(encoded >> 12);
    let cmparg = sign_extend_12(encoded);
    if op & FUTEX_OP_OPARG_SHIFT != 0 {
        // Linux masks an out-of-range shift (and logs it) rather than failing.
        oparg = 1i32 << (oparg & 31);
    }
    let oparg = oparg.cast_unsigned();
    let apply = |old: u32| -> Option<u32> {
        match op & !FUTEX_OP_OPARG_SHIFT {
            FUTEX_OP_SET => Some(oparg),
            FUTEX_OP_ADD => Some(old.wrapping_add(oparg)),
            FUTEX_OP_OR => Some(old | oparg),
            FUTEX_OP_ANDN => Some(old & !oparg),
            FUTEX_OP_XOR => Some(old ^ oparg),
            _ => None,
        }
    };
    let old = match task.mm.futex_update(addr2, apply)? {
        Ok(old) => old.cast_signed(),
        // Only an unknown operation declines.
        Err(_) => return Err(Errno::ENOSYS),
    };
    // The word has changed by now even if the comparison is unknown, as in Linux.
    let wake2 = match cmp {
        FUTEX_OP_CMP_EQ => old == cmparg,
        FUTEX_OP_CMP_NE => old != cmparg,
        FUTEX_OP_CMP_LT => old < cmparg,
        FUTEX_OP_CMP_LE => old <= cmparg,
        FUTEX_OP_CMP_GT => old > cmparg,
        FUTEX_OP_CMP_GE => old >= cmparg,
        _ => return Err(Errno::ENOSYS),
    };
    let futexes = &task.kernel.futexes;
    let mut woken = futexes.wake(key1, wake_count(args.i32(2)), FUTEX_BITSET_MATCH_ANY)?;
    if wake2 {
        woken += futexes.wake(key2, wake_count(args.i32(3)), FUTEX_BITSET_MATCH_ANY)?;
    }
    Ok(u64::from(woken))
}

/// The low 12 bits of `bits` as a signed number.
fn sign_extend_12(bits: u32) -> i32 {
    ((bits << 20).cast_signed()) >> 20
}

/// A TID as a PI futex word holds it.
fn tid_bits(tid: i32) -> u32 {
    tid.unsigned_abs() & FUTEX_TID_MASK
}

/// Replaces the word at `addr` with `new` if it still holds `old`.
fn cmpxchg(task: &Task, addr: u64, old: u32, new: u32) -> Result<bool, Errno> {
    Ok(task
        .mm
        .futex_update(addr, |v| (v == old).then_some(new))?
        .is_ok())
}

/// Whether the thread `tid` (a word's owner field) is alive.
fn thread_exists(task: &Task, tid: u32) -> bool {
    let Ok(tid) = i32::try_from(tid) else {
        return false;
    };
    task.kernel
        .tree
        .group_of_thread(tid)
        .is_some_and(|group| group.thread(tid).is_some())
}

/// One attempt to take the PI futex at `addr` for the thread `tid`, under
/// the futex table lock (Linux's `futex_lock_pi_atomic`). `queued_owner` is
/// the TID the futex's queued waiters wait on, if any; `set_waiters` forces
/// `FUTEX_WAITERS` into a taken word (requeue-PI); `trylock` fails with
/// `EAGAIN` where the caller would wait.
fn pi_attempt(
    task: &Task,
    addr: u64,
    tid: i32,
    queued_owner: Option<i32>,
    set_waiters: bool,
    trylock: bool,
) -> Result<PiAttempt, Errno> {
    let me = tid_bits(tid);
    loop {
        let uval = load_word(task, addr)?;
        let owner = uval & FUTEX_TID_MASK;
        if owner == me {
            return Err(Errno::EDEADLK);
        }
        if let Some(queued_owner) = queued_owner {
            // Others already wait: queue behind them, even if the word is
            // free because their dead owner's futex is being handed on.
            if uval & FUTEX_WAITERS == 0 && !cmpxchg(task, addr, uval, uval | FUTEX_WAITERS)? {
                continue;
            }
            return if trylock {
                Err(Errno::EAGAIN)
            } else {
                Ok(PiAttempt::Wait(queued_owner))
            };
        }
        if owner == 0 {
            let waiters = if set_waiters { FUTEX_WAITERS } else { 0 };
            let new = me | (uval & FUTEX_OWNER_DIED) | waiters;
            if cmpxchg(task, addr, uval, new)? {
                return Ok(PiAttempt::Acquired);
            }
            continue;
        }
        // Linux sets the waiters bit before it looks the owner up.
        let new = uval | FUTEX_WAITERS;
        if !cmpxchg(task, addr, uval, new)? {
            continue;
        }
        if !thread_exists(task, owner) {
            if load_word(task, addr)? == new {
                return Err(Errno::ESRCH);
            }
            continue;
        }
        if trylock {
            return Err(Errno::EAGAIN);
        }
        return Ok(PiAttempt::Wait(i32::try_from(owner).unwrap_or(0)));
    }
}

/// Blocks until a PI futex is handed to `waiter`, the deadline passes, or a
/// signal or kill needs the task.
fn block_for_handoff(task: &Task, waiter: &Waiter, deadline: Option<Instant>) -> Wakeup {
    loop {
        let wakeup = task.block(deadline);
        if wakeup != Wakeup::Woken || waiter.outcome().is_some() {
            return wakeup;
        }
        // A stray wake-up: block again, without missing a hand-off made
        // from now on.
        task.prepare_to_block();
        if waiter.outcome().is_some() {
            return Wakeup::Woken;
        }
    }
}

/// `FUTEX_LOCK_PI`, `FUTEX_LOCK_PI2` and `FUTEX_TRYLOCK_PI`.
fn futex_lock_pi(
    task: &Task,
    key: FutexKey,
    addr: u64,
    deadline: Option<Instant>,
    trylock: bool,
) -> SyscallResult {
    let waiter = waiter_for(task, FUTEX_BITSET_MATCH_ANY, None, addr);
    loop {
        task.prepare_to_block();
        let attempt = task.kernel.futexes.lock_pi(key, &waiter, |queued_owner| {
            pi_attempt(task, addr, task.tid, queued_owner, false, trylock)
        })?;
        if attempt == PiAttempt::Acquired {
            return Ok(0);
        }
        let wakeup = block_for_handoff(task, &waiter, deadline);
        if !task.kernel.futexes.dequeue(&waiter) {
            // Dequeued by a hand-off: the futex is ours.
            if let Some(outcome) = waiter.outcome() {
                return outcome.map(|()| 0);
            }
            continue;
        }
        match wakeup {
            Wakeup::TimedOut => return Err(Errno::ETIMEDOUT),
            Wakeup::Killed | Wakeup::Interrupted => return Err(Errno::ERESTARTNOINTR),
            Wakeup::Woken => {}
        }
    }
}

/// `FUTEX_UNLOCK_PI`: the first waiter, if any, gets the futex.
fn futex_unlock_pi(task: &Task, key: FutexKey, addr: u64) -> SyscallResult {
    let me = tid_bits(task.tid);
    task.kernel.futexes.unlock_pi(key, |next| {
        let uval = load_word(task, addr)?;
        if uval & FUTEX_TID_MASK != me {
            return Err(Errno::EPERM);
        }
        let new = next.map_or(0, |tid| tid_bits(tid) | FUTEX_WAITERS);
        if cmpxchg(task, addr, uval, new)? {
            Ok(())
        } else {
            // The program changed the word meanwhile: let it retry.
            Err(Errno::EAGAIN)
        }
    })?;
    Ok(0)
}

/// `FUTEX_WAIT_REQUEUE_PI`: waits on `key` like `FUTEX_WAIT`, and returns
/// once `FUTEX_CMP_REQUEUE_PI` made it the owner of the PI futex `pi`.
fn futex_wait_requeue_pi(
    task: &Task,
    key: FutexKey,
    addr: u64,
    val: u32,
    pi: (FutexKey, u64),
    deadline: Option<Instant>,
) -> SyscallResult {
    if key == pi.0 {
        return Err(Errno::EINVAL);
    }
    let waiter = waiter_for(task, FUTEX_BITSET_MATCH_ANY, Some(pi), pi.1);
    queue_if_word_is(task, key, &waiter, addr, val)?;
    let wakeup = block_for_handoff(task, &waiter, deadline);
    if !task.kernel.futexes.dequeue(&waiter)
        && let Some(outcome) = waiter.outcome()
    {
        return outcome.map(|()| 0);
    }
    match wakeup {
        Wakeup::TimedOut => Err(Errno::ETIMEDOUT),
        // Once requeued, a restart would find the word changed: Linux
        // answers EAGAIN at once.
        _ if waiter.requeued() => Err(Errno::EAGAIN),
        Wakeup::Killed | Wakeup::Interrupted => Err(Errno::ERESTARTNOINTR),
        Wakeup::Woken => Err(Errno::EAGAIN),
    }
}

/// Implements Linux `set_robust_list(2)`.
fn sys_set_robust_list(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    if args.u64(1) != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL);
    }
    task.handle().set_robust_list(args.addr(0));
    Ok(0)
}

/// Implements Linux `get_robust_list(2)`: any thread's list, for a caller
/// allowed to read its state (Linux's `PTRACE_MODE_READ_REALCREDS`).
fn sys_get_robust_list(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let pid = args.i32(0);
    let head = if pid == 0 {
        task.handle().robust_list()
    } else {
        let group = task.kernel.tree.group_of_thread(pid).ok_or(Errno::ESRCH)?;
        let target = group.thread(pid).ok_or(Errno::ESRCH)?;
        // A thread too new to have published its view has its creator's
        // credentials, which its group leader's view shows.
        let views = task.kernel.vfs.task_views();
        let view = views
            .get(pid)
            .or_else(|| views.get(group.pid))
            .ok_or(Errno::ESRCH)?;
        if !task.creds.may_read_state_of(&view.creds) {
            return Err(Errno::EPERM);
        }
        target.robust_list()
    };
    task.mm.write_obj(args.addr(2), &ROBUST_LIST_HEAD_SIZE)?;
    task.mm.write_obj(args.addr(1), &head)?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_op_arguments_are_signed_twelve_bits() {
        assert_eq!(sign_extend_12(0x7ff), 2047);
        assert_eq!(sign_extend_12(0x800), -2048);
        assert_eq!(sign_extend_12(0xfff), -1);
        assert_eq!(sign_extend_12(0xf_f001), 1);
    }

    #[test]
    fn zero_and_negative_wake_counts_wake_one() {
        assert_eq!(wake_count(-1), 0);
        assert_eq!(wake_count(i32::MIN), 0);
        assert_eq!(wake_count(3), 3);
    }

    #[test]
    fn tids_fit_the_word() {
        assert_eq!(tid_bits(42), 42);
        assert_eq!(tid_bits(i32::MAX), FUTEX_TID_MASK);
    }
}
