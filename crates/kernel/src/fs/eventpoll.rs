//! epoll instances (`fs/eventpoll.c`): an interest list of (file, fd)
//! registrations and the readiness they report.
//!
//! A registration holds its file weakly, as Linux's does: closing an fd
//! whose description lives on (a `dup`, a child's copy) keeps it
//! registered, and it goes away when the description's last reference does.
//!
//! Readiness is computed when asked, by polling each file. Edge-triggered
//! registrations report a file again only after a new event: its readiness
//! gained a bit, or its [`FileOps::poll_generation`] moved. Files that do
//! not count wake-ups are reported edge-triggered as if level-triggered
//! (never fewer events than Linux, possibly more).
//!
//! Lock order: an instance's lock, then the locks of the files it polls
//! (other instances nested in it included; loops are refused).

use std::sync::{Arc, Mutex, Weak};

use abi::Errno;
use abi::epoll::{
    EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP, EPOLLIN, EPOLLONESHOT, EPOLLRDNORM, EPOLLWAKEUP,
    EpollEvent,
};
use abi::fcntl::O_RDWR;

use crate::task::{self, TaskHandle, lock};
use crate::vfs::{File, FileOps};

/// Flags that change how a registration reports, never reported themselves.
const PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

/// How deep epoll instances may nest (`EP_MAX_NESTS`).
const MAX_NESTS: usize = 4;

/// An epoll instance.
#[derive(Debug, Default)]
pub struct EventPoll {
    state: Mutex<Interest>,
}

#[derive(Debug, Default)]
struct Interest {
    /// In reporting order: a reported registration moves to the back, so
    /// a small `maxevents` still sees every ready file in turn.
    items: Vec<Item>,
    /// Tasks waiting on the instance, woken when registrations change.
    waiters: Vec<Arc<TaskHandle>>,
}

#[derive(Debug)]
struct Item {
    fd: i32,
    file: Weak<File>,
    /// What was asked, with `EPOLLERR | EPOLLHUP`; only the private bits
    /// once a one-shot registration has reported.
    events: u32,
    data: u64,
    /// Edge-triggered: the file's generation and readiness when last
    /// looked at (`None`: not since registered or modified).
    seen: Option<(Option<u64>, u32)>,
}

impl Item {
    fn is(&self, file: &Arc<File>, fd: i32) -> bool {
        self.fd == fd && std::ptr::eq(self.file.as_ptr(), Arc::as_ptr(file))
    }

    /// The events to report now for `file` (0: none); with `consume`, the
    /// report is taken: an edge is used up, a one-shot disarmed.
    fn check(&mut self, file: &File, consume: bool) -> u32 {
        let interest = self.events & !PRIVATE_BITS;
        if interest == 0 {
            return 0;
        }
        let ready = file.ops().poll_events(file) & interest;
        let mut report = ready;
        if self.events & EPOLLET != 0 {
            let generation = file.ops().poll_generation(interest);
            let new = match (self.seen, generation) {
                (None, _) | (_, None) => true,
                (Some((seen_gen, seen_ready)), Some(_)) => {
                    seen_gen != generation || ready & !seen_ready != 0
                }
            };
            if !new {
                report = 0;
            }
            if consume {
                self.seen = Some((generation, ready));
            }
        }
        if consume && report != 0 && self.events & EPOLLONESHOT != 0 {
            self.events &= PRIVATE_BITS;
        }
        report
    }
}

/// A new epoll instance with status flags `flags` (the caller checked them).
pub fn new_epoll(flags: u32) -> Arc<File> {
    File::new(Box::new(EventPoll::default()), O_RDWR | flags, None)
}

/// The epoll instance `file` is, if it is one.
pub fn as_epoll(file: &File) -> Option<&EventPoll> {
    file.ops().as_any()?.downcast_ref::<EventPoll>()
}

impl Interest {
    /// Drops the registrations whose file is gone.
    fn prune(&mut self) {
        self.items.retain(|item| item.file.strong_count() > 0);
    }

    fn find(&mut self, file: &Arc<File>, fd: i32) -> Option<usize> {
        self.prune();
        self.items.iter().position(|item| item.is(file, fd))
    }
}

impl EventPoll {
    /// `EPOLL_CTL_ADD` of `file` open as `fd`: ELOOP if `file` is an
    /// instance that would make a loop or nest too deep, EEXIST if it is
    /// there.
    pub fn insert(&self, file: &Arc<File>, fd: i32, events: u32, data: u64) -> Result<(), Errno> {
        // Two adds of instances into each other at once must not both pass
        // the loop check (Linux's epnested_mutex).
        static NESTING: Mutex<()> = Mutex::new(());
        let _nesting = as_epoll(file).map(|_| lock(&NESTING));
        if as_epoll(file).is_some_and(|target| target.reaches(self, 0)) {
            return Err(Errno::ELOOP);
        }
        let mut st = lock(&self.state);
        if st.find(file, fd).is_some() {
            return Err(Errno::EEXIST);
        }
        st.items.push(Item {
            fd,
            file: Arc::downgrade(file),
            events: events | EPOLLERR | EPOLLHUP,
            data,
            seen: None,
        });
        task::wake_all(&mut st.waiters);
        Ok(())
    }

    /// `EPOLL_CTL_MOD`: ENOENT if not registered, EINVAL if it was
    /// registered `EPOLLEXCLUSIVE`.
    pub fn modify(&self, file: &Arc<File>, fd: i32, events: u32, data: u64) -> Result<(), Errno> {
        let mut st = lock(&self.state);
        let i = st.find(file, fd).ok_or(Errno::ENOENT)?;
        let item = &mut st.items[i];
        if item.events & EPOLLEXCLUSIVE != 0 {
            return Err(Errno::EINVAL);
        }
        item.events = events | EPOLLERR | EPOLLHUP;
        item.data = data;
        item.seen = None;
        task::wake_all(&mut st.waiters);
        Ok(())
    }

    /// `EPOLL_CTL_DEL`: ENOENT if not registered.
    pub fn remove(&self, file: &Arc<File>, fd: i32) -> Result<(), Errno> {
        let mut st = lock(&self.state);
        let i = st.find(file, fd).ok_or(Errno::ENOENT)?;
        st.items.remove(i);
        // Tasks waiting on the instance stop waiting on the file too,
        // unless it is still registered under another fd.
        let still_watched = st
            .items
            .iter()
            .any(|item| std::ptr::eq(item.file.as_ptr(), Arc::as_ptr(file)));
        if !still_watched {
            for waiter in &st.waiters {
                file.ops().remove_poll_waiter(waiter);
            }
        }
        Ok(())
    }

    /// Whether `other` is this instance or nested in it, or nesting goes
    /// deeper than [`MAX_NESTS`] below `depth`.
    fn reaches(&self, other: &EventPoll, depth: usize) -> bool {
        if std::ptr::eq(self, other) || depth >= MAX_NESTS {
            return true;
        }
        let files: Vec<Arc<File>> = {
            let st = lock(&self.state);
            st.items
                .iter()
                .filter_map(|item| item.file.upgrade())
                .collect()
        };
        files
            .iter()
            .any(|file| as_epoll(file).is_some_and(|nested| nested.reaches(other, depth + 1)))
    }

    /// Takes up to `max` events to report (`max` > 0).
    pub fn take_events(&self, max: usize) -> Vec<EpollEvent> {
        let mut st = lock(&self.state);
        st.prune();
        let mut events = Vec::new();
        let mut reported = Vec::new();
        for (i, item) in st.items.iter_mut().enumerate() {
            if events.len() == max {
                break;
            }
            let Some(file) = item.file.upgrade() else {
                continue;
            };
            let ready = item.check(&file, true);
            if ready != 0 {
                events.push(EpollEvent {
                    events: ready,
                    data: item.data,
                });
                reported.push(i);
            }
        }
        for i in reported.into_iter().rev() {
            let item = st.items.remove(i);
            st.items.push(item);
        }
        events
    }
}

impl FileOps for EventPoll {
    super::anon_inode_ops!();

    fn poll_events(&self, _file: &File) -> u32 {
        let mut st = lock(&self.state);
        st.prune();
        let ready = st.items.iter_mut().any(|item| {
            item.file
                .upgrade()
                .is_some_and(|file| item.check(&file, false) != 0)
        });
        if ready { EPOLLIN | EPOLLRDNORM } else { 0 }
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        let mut st = lock(&self.state);
        task::enqueue_waiter(&mut st.waiters, waiter);
        let mut all_notify = true;
        for item in &st.items {
            if let Some(file) = item.file.upgrade() {
                all_notify &= file.ops().add_poll_waiter(waiter);
            }
        }
        all_notify
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        let mut st = lock(&self.state);
        task::dequeue_waiter(&mut st.waiters, waiter);
        for item in &st.items {
            if let Some(file) = item.file.upgrade() {
                file.ops().remove_poll_waiter(waiter);
            }
        }
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("eventpoll")
    }

    fn show_fdinfo(&self) -> String {
        let st = lock(&self.state);
        st.items
            .iter()
            .filter(|item| item.file.strong_count() > 0)
            .map(|item| {
                format!(
                    "tfd: {:8} events: {:8x} data: {:16x}\n",
                    item.fd, item.events, item.data
                )
            })
            .collect()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use abi::epoll::EPOLLOUT;
    use abi::fcntl::O_NONBLOCK;

    use super::*;
    use crate::fs::pipe::new_pipe;

    fn reported(ep: &EventPoll) -> Vec<(u32, u64)> {
        ep.take_events(8)
            .into_iter()
            .map(|e| (e.events, e.data))
            .collect()
    }

    #[test]
    fn level_edge_and_oneshot() {
        let (r, w) = new_pipe(O_NONBLOCK);
        let ep = EventPoll::default();
        ep.insert(&r, 3, EPOLLIN | EPOLLET, 1).unwrap();
        assert_eq!(ep.insert(&r, 3, EPOLLIN, 1), Err(Errno::EEXIST));
        assert!(reported(&ep).is_empty());
        w.ops().write(&w, b"a", 0).unwrap();
        assert_eq!(reported(&ep), [(EPOLLIN, 1)]);
        assert!(reported(&ep).is_empty());
        w.ops().write(&w, b"b", 0).unwrap();
        assert_eq!(reported(&ep), [(EPOLLIN, 1)]);
        ep.modify(&r, 3, EPOLLIN | EPOLLONESHOT, 2).unwrap();
        assert_eq!(reported(&ep), [(EPOLLIN, 2)]);
        assert!(reported(&ep).is_empty());
        ep.modify(&r, 3, EPOLLIN, 3).unwrap();
        assert_eq!(reported(&ep), [(EPOLLIN, 3)]);
        assert_eq!(reported(&ep), [(EPOLLIN, 3)]);
        ep.remove(&r, 3).unwrap();
        assert_eq!(ep.remove(&r, 3), Err(Errno::ENOENT));
        ep.insert(&w, 4, EPOLLOUT, 4).unwrap();
        drop(w);
        assert!(reported(&ep).is_empty(), "gone with its last reference");
    }

    #[test]
    fn nesting_loops_are_refused() {
        let outer = new_epoll(0);
        let inner = new_epoll(0);
        let outer_ep = as_epoll(&outer).unwrap();
        let inner_ep = as_epoll(&inner).unwrap();
        outer_ep.insert(&inner, 4, EPOLLIN, 0).unwrap();
        assert_eq!(inner_ep.insert(&outer, 3, EPOLLIN, 0), Err(Errno::ELOOP));
    }
}
