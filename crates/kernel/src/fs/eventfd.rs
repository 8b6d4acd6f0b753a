//! eventfd: a 64-bit counter as a file (`fs/eventfd.c`). A write adds to
//! the counter, a read takes it all (or 1, with `EFD_SEMAPHORE`); each
//! waits while it cannot proceed: a read at 0, a write that would reach
//! `u64::MAX`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use abi::Errno;
use abi::epoll::{EFD_NONBLOCK, EFD_SEMAPHORE};
use abi::fcntl::{O_NONBLOCK, O_RDWR};
use abi::poll::{POLLERR, POLLIN, POLLOUT};

use crate::task::{self, TaskHandle, lock};
use crate::vfs::{File, FileOps};

/// An open eventfd.
#[derive(Debug)]
pub struct EventFd {
    id: u32,
    semaphore: bool,
    state: Mutex<Counter>,
}

#[derive(Debug)]
struct Counter {
    value: u64,
    waiters: Vec<Arc<TaskHandle>>,
    /// Writes: wake-ups for readers' pollers.
    writes: u64,
    /// Reads: wake-ups for writers' pollers.
    reads: u64,
}

/// A new eventfd with counter `initval` and `EFD_*` flags `flags`
/// (the caller checked them).
pub fn new_eventfd(initval: u32, flags: u32) -> Arc<File> {
    static NEXT_ID: AtomicU32 = AtomicU32::new(0);
    let fd = EventFd {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        semaphore: flags & EFD_SEMAPHORE != 0,
        state: Mutex::new(Counter {
            value: u64::from(initval),
            waiters: Vec::new(),
            writes: 0,
            reads: 0,
        }),
    };
    File::new(Box::new(fd), O_RDWR | (flags & EFD_NONBLOCK), None)
}

impl EventFd {
    /// Runs `step` on the counter until it returns a result, waiting for
    /// the counter to change in between (unless the file is non-blocking).
    fn transact(
        &self,
        file: &File,
        mut step: impl FnMut(&mut Counter) -> Option<()>,
    ) -> Result<usize, Errno> {
        loop {
            let mut st = lock(&self.state);
            if step(&mut st).is_some() {
                task::wake_all(&mut st.waiters);
                return Ok(size_of::<u64>());
            }
            if file.flags() & O_NONBLOCK != 0 {
                return Err(Errno::EAGAIN);
            }
            // A signal ends the wait only while the counter still blocks.
            task::wait_on(&self.state, st, |s| &mut s.waiters, None)?;
        }
    }
}

impl FileOps for EventFd {
    fn read(&self, file: &File, buf: &mut [u8], _pos: u64) -> Result<usize, Errno> {
        let out = buf.get_mut(..size_of::<u64>()).ok_or(Errno::EINVAL)?;
        let mut taken = 0;
        let n = self.transact(file, |st| {
            if st.value == 0 {
                return None;
            }
            taken = if self.semaphore { 1 } else { st.value };
            st.value -= taken;
            st.reads += 1;
            Some(())
        })?;
        out.copy_from_slice(&taken.to_ne_bytes());
        Ok(n)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: u64) -> Result<usize, Errno> {
        let bytes: [u8; 8] = buf
            .get(..size_of::<u64>())
            .and_then(|b| b.try_into().ok())
            .ok_or(Errno::EINVAL)?;
        let add = u64::from_ne_bytes(bytes);
        if add == u64::MAX {
            return Err(Errno::EINVAL);
        }
        self.transact(file, |st| {
            if u64::MAX - st.value <= add {
                return None;
            }
            st.value += add;
            st.writes += 1;
            Some(())
        })
    }

    super::anon_inode_ops!();

    fn poll_events(&self, _file: &File) -> u32 {
        let value = lock(&self.state).value;
        let mut events = 0;
        if value > 0 {
            events |= POLLIN;
        }
        if value == u64::MAX {
            events |= POLLERR;
        }
        if u64::MAX - 1 > value {
            events |= POLLOUT;
        }
        events
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        task::enqueue_waiter(&mut lock(&self.state).waiters, waiter);
        true
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        task::dequeue_waiter(&mut lock(&self.state).waiters, waiter);
    }

    fn poll_generation(&self, events: u32) -> Option<u64> {
        let st = lock(&self.state);
        let mut generation = 0;
        if events & POLLIN != 0 {
            generation += st.writes;
        }
        if events & POLLOUT != 0 {
            generation += st.reads;
        }
        Some(generation)
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("eventfd")
    }

    fn show_fdinfo(&self) -> String {
        let value = lock(&self.state).value;
        format!(
            "eventfd-count: {value:16x}\neventfd-id: {}\neventfd-semaphore: {}\n",
            self.id,
            u8::from(self.semaphore)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(file: &File) -> Result<u64, Errno> {
        let mut buf = [0u8; 8];
        file.ops().read(file, &mut buf, 0)?;
        Ok(u64::from_ne_bytes(buf))
    }

    fn write(file: &File, value: u64) -> Result<usize, Errno> {
        file.ops().write(file, &value.to_ne_bytes(), 0)
    }

    #[test]
    fn counter_and_semaphore() {
        let file = new_eventfd(2, EFD_NONBLOCK);
        assert_eq!(write(&file, 3), Ok(8));
        assert_eq!(read(&file), Ok(5));
        assert_eq!(read(&file), Err(Errno::EAGAIN));
        let sem = new_eventfd(2, EFD_NONBLOCK | EFD_SEMAPHORE);
        assert_eq!(read(&sem), Ok(1));
        assert_eq!(read(&sem), Ok(1));
        assert_eq!(read(&sem), Err(Errno::EAGAIN));
    }

    #[test]
    fn limits_and_readiness() {
        let file = new_eventfd(0, EFD_NONBLOCK);
        assert_eq!(file.ops().poll_events(&file), POLLOUT);
        assert_eq!(write(&file, u64::MAX), Err(Errno::EINVAL));
        assert_eq!(write(&file, u64::MAX - 1), Ok(8));
        assert_eq!(file.ops().poll_events(&file), POLLIN);
        assert_eq!(write(&file, 1), Err(Errno::EAGAIN));
        assert_eq!(file.ops().read(&file, &mut [0u8; 7], 0), Err(Errno::EINVAL));
        assert_eq!(file.ops().poll_generation(POLLIN), Some(1));
    }
}
