//! Pipes: a bounded byte queue between a read end and a write end.
//!
//! Readers and writers that must wait queue their task on the pipe and
//! block on it (so a kill interrupts them); every change of the queue's
//! state wakes all waiters, who re-check. Writes of at most `PIPE_BUF`
//! bytes are atomic, as POSIX requires.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use abi::Errno;
use abi::fcntl::O_NONBLOCK;
use abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use abi::stat::{S_IFIFO, Stat};
use abi::termios::FIONREAD;

use crate::mm::MemoryManager;
use crate::task::{self, TaskHandle, lock};
use crate::vfs::{File, FileOps};

/// `PIPE_BUF`: writes up to this size never interleave with others.
const PIPE_BUF: usize = 4096;
/// The default capacity (`PIPE_DEF_BUFFERS` pages).
const PIPE_CAPACITY: usize = 16 * abi::PAGE_SIZE_USIZE;
/// The device number pipes report (`pipefs` is an anonymous superblock).
const PIPEFS_DEV: u64 = 0xd;

/// The shared state of one pipe.
#[derive(Debug)]
struct Pipe {
    ino: u64,
    state: Mutex<PipeState>,
}

#[derive(Debug)]
struct PipeState {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    waiters: Vec<Arc<TaskHandle>>,
    /// Writes and write-end closes: wake-ups for the read end's pollers.
    written: u64,
    /// Reads and read-end closes: wake-ups for the write end's pollers.
    read: u64,
}

impl PipeState {
    fn wake_all(&mut self) {
        for waiter in self.waiters.drain(..) {
            waiter.wake();
        }
    }
}

impl Pipe {
    /// Blocks the calling task until the pipe changes. ERESTARTSYS if it
    /// was killed meanwhile.
    fn wait(&self, st: std::sync::MutexGuard<'_, PipeState>) -> Result<(), Errno> {
        // As pipe_read does: data that is there wins over a signal; a signal
        // only ends the call when the pipe still cannot make progress.
        task::wait_on(&self.state, st, |s| &mut s.waiters, None).map(|_| ())
    }

    fn add_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        let mut st = lock(&self.state);
        if !st.waiters.iter().any(|w| Arc::ptr_eq(w, waiter)) {
            st.waiters.push(Arc::clone(waiter));
        }
        true
    }

    fn remove_waiter(&self, waiter: &Arc<TaskHandle>) {
        lock(&self.state)
            .waiters
            .retain(|w| !Arc::ptr_eq(w, waiter));
    }

    fn stat(&self) -> Stat {
        let now = crate::fs::synthetic_time();
        Stat {
            st_dev: PIPEFS_DEV,
            st_ino: self.ino,
            st_nlink: 1,
            st_mode: S_IFIFO | 0o600,
            st_blksize: 4096,
            st_atime: now,
            st_mtime: now,
            st_ctime: now,
            ..Stat::default()
        }
    }
}

/// The read end.
#[derive(Debug)]
struct ReadEnd(Arc<Pipe>);

/// The write end.
#[derive(Debug)]
struct WriteEnd(Arc<Pipe>);

impl Drop for ReadEnd {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        st.readers -= 1;
        st.read += 1;
        st.wake_all();
    }
}

impl Drop for WriteEnd {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        st.writers -= 1;
        st.written += 1;
        st.wake_all();
    }
}

fn nonblocking(file: &File) -> bool {
    file.flags() & O_NONBLOCK != 0
}

impl FileOps for ReadEnd {
    fn read(&self, file: &File, buf: &mut [u8], _pos: u64) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let mut st = lock(&self.0.state);
            if !st.buf.is_empty() {
                let n = buf.len().min(st.buf.len());
                for (dst, src) in buf.iter_mut().zip(st.buf.drain(..n)) {
                    *dst = src;
                }
                st.read += 1;
                st.wake_all();
                return Ok(n);
            }
            if st.writers == 0 {
                return Ok(0);
            }
            if nonblocking(file) {
                return Err(Errno::EAGAIN);
            }
            self.0.wait(st)?;
        }
    }

    fn positioned(&self) -> bool {
        false
    }

    fn streaming(&self) -> bool {
        true
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat())
    }

    fn poll_events(&self, _file: &File) -> u32 {
        let st = lock(&self.0.state);
        let mut events = 0;
        if !st.buf.is_empty() {
            events |= POLLIN | POLLRDNORM;
        }
        if st.writers == 0 {
            events |= POLLHUP;
        }
        events
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        self.0.add_waiter(waiter)
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        self.0.remove_waiter(waiter);
    }

    fn poll_generation(&self, _events: u32) -> Option<u64> {
        Some(lock(&self.0.state).written)
    }

    fn ioctl(&self, _file: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        if cmd != FIONREAD {
            return Err(Errno::ENOTTY);
        }
        let available = i32::try_from(lock(&self.0.state).buf.len()).unwrap_or(i32::MAX);
        mm.write_obj(arg, &available)?;
        Ok(0)
    }
}

impl FileOps for WriteEnd {
    fn poll_events(&self, _file: &File) -> u32 {
        let st = lock(&self.0.state);
        let mut events = 0;
        if PIPE_CAPACITY - st.buf.len() >= PIPE_BUF {
            events |= POLLOUT | POLLWRNORM;
        }
        if st.readers == 0 {
            events |= POLLERR;
        }
        events
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        self.0.add_waiter(waiter)
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        self.0.remove_waiter(waiter);
    }

    fn poll_generation(&self, _events: u32) -> Option<u64> {
        Some(lock(&self.0.state).read)
    }

    fn write(&self, file: &File, buf: &[u8], _pos: u64) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let mut st = lock(&self.0.state);
            if st.readers == 0 {
                drop(st);
                crate::signal::raise(abi::signal::SIGPIPE);
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EPIPE)
                };
            }
            let room = PIPE_CAPACITY - st.buf.len();
            let rest = buf.len() - done;
            // A small write goes in whole or not at all.
            let fits = if rest <= PIPE_BUF {
                room >= rest
            } else {
                room > 0
            };
            if fits {
                let n = rest.min(room);
                st.buf.extend(&buf[done..done + n]);
                st.written += 1;
                st.wake_all();
                done += n;
                continue;
            }
            if nonblocking(file) {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            if let Err(errno) = self.0.wait(st) {
                return if done > 0 { Ok(done) } else { Err(errno) };
            }
        }
        Ok(done)
    }

    fn positioned(&self) -> bool {
        false
    }

    fn streaming(&self) -> bool {
        true
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.0.stat())
    }
}

/// A new pipe: its read end and write end, with status flags `flags`
/// (`O_NONBLOCK`; the access modes are set here).
pub fn new_pipe(flags: u32) -> (Arc<File>, Arc<File>) {
    static NEXT_INO: AtomicU64 = AtomicU64::new(1);
    let pipe = Arc::new(Pipe {
        ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        state: Mutex::new(PipeState {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
            waiters: Vec::new(),
            written: 0,
            read: 0,
        }),
    });
    let read = File::new(
        Box::new(ReadEnd(Arc::clone(&pipe))),
        abi::fcntl::O_RDONLY | flags,
        None,
    );
    let write = File::new(Box::new(WriteEnd(pipe)), abi::fcntl::O_WRONLY | flags, None);
    (read, write)
}
