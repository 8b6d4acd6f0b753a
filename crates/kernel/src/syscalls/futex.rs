//! futex(2).

use std::sync::Arc;
use std::time::{Duration, Instant};

use abi::Errno;
use abi::sysno::SYS_FUTEX;
use abi::time::{CLOCK_MONOTONIC, CLOCK_REALTIME};

use super::table::{Arg, Entry, Support, entry};
use super::time::{duration_from_timespec, read_timespec};
use super::{SyscallArgs, SyscallResult};
use crate::futex::{FutexKey, Waiter};
use crate::host;
use crate::task::{Task, Wakeup};

// include/uapi/linux/futex.h
const FUTEX_WAIT: u32 = 0;
const FUTEX_WAKE: u32 = 1;
const FUTEX_REQUEUE: u32 = 3;
const FUTEX_CMP_REQUEUE: u32 = 4;
const FUTEX_WAIT_BITSET: u32 = 9;
const FUTEX_WAKE_BITSET: u32 = 10;
const FUTEX_PRIVATE_FLAG: u32 = 128;
const FUTEX_CLOCK_REALTIME: u32 = 256;
const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[entry(
    SYS_FUTEX,
    sys_futex,
    &[Arg::Ptr, Arg::Hex, Arg::Int, Arg::Ptr, Arg::Ptr, Arg::Hex],
    Support::Partial,
    "WAIT, WAKE, REQUEUE, CMP_REQUEUE and the BITSET forms; WAKE_OP and the PI operations give ENOSYS",
)];

/// Implements Linux `futex(2)`.
fn sys_futex(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let (addr, op, val) = (args.addr(0), args.u32(1), args.u32(2));
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if op & FUTEX_CLOCK_REALTIME != 0 && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
        return Err(Errno::ENOSYS);
    }
    let key = |addr: u64| -> Result<FutexKey, Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        Ok(FutexKey {
            mm: Arc::as_ptr(&task.mm) as usize,
            addr,
        })
    };
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
            let key = key(addr)?;
            let deadline = match args.addr(3) {
                0 => None,
                ts_addr => {
                    let ts = read_timespec(task, ts_addr)?;
                    let clock = if op & FUTEX_CLOCK_REALTIME != 0 {
                        CLOCK_REALTIME
                    } else {
                        CLOCK_MONOTONIC
                    };
                    Some(deadline_of(ts, cmd == FUTEX_WAIT_BITSET, clock)?)
                }
            };
            futex_wait(task, key, val, bitset, deadline)
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
            Ok(u64::from(task.kernel.futexes.wake(key(addr)?, val, bitset)))
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            // val2 travels in the timeout argument's register.
            let (wake, requeue) = (args.i32(2), args.i32(3));
            let (Ok(wake), Ok(requeue)) = (u32::try_from(wake), u32::try_from(requeue)) else {
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
            Ok(u64::from(
                task.kernel
                    .futexes
                    .requeue(from, to, wake, requeue, check)?,
            ))
        }
        _ => Err(Errno::ENOSYS),
    }
}

/// The instant a futex timeout ends: relative for `FUTEX_WAIT`, absolute on
/// `clock` for `FUTEX_WAIT_BITSET`.
fn deadline_of(wait: Duration, absolute: bool, clock: u32) -> Result<Instant, Errno> {
    let mut wait = wait;
    if absolute {
        wait = wait.saturating_sub(duration_from_timespec(host::clock_gettime(clock)?)?);
    }
    let now = Instant::now();
    Ok(now
        .checked_add(wait)
        .unwrap_or(now + Duration::from_secs(1 << 40)))
}

/// Queues the task on `key` if the word still holds `val`, then blocks.
fn futex_wait(
    task: &Task,
    key: FutexKey,
    val: u32,
    bitset: u32,
    deadline: Option<Instant>,
) -> SyscallResult {
    let waiter = Arc::new(Waiter {
        task: task.handle(),
        bitset,
    });
    task.prepare_to_block();
    task.kernel.futexes.enqueue_if(key, &waiter, || {
        if task.mm.read_obj::<u32>(key.addr)? != val {
            Err(Errno::EAGAIN)
        } else {
            Ok(())
        }
    })?;
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
