//! Advisory file locks, as Linux's `fs/locks.c` keeps them: POSIX record
//! locks (`F_SETLK`), open file description locks (`F_OFD_SETLK`) and
//! `flock(2)` locks.
//!
//! Locks live only in the sentry: the host never sees them, so a program
//! cannot lock a host file against anyone outside the sandbox, and nothing
//! outside can block the program. They are keyed by the inode identity every
//! file system of the sentry reports, (`st_dev`, `st_ino`), which the overlay
//! keeps stable across copy-up, so tmpfs, overlay and host volume files all
//! lock alike.
//!
//! Owners, as in Linux:
//! - a POSIX lock belongs to the fd table it was taken through (Linux's
//!   `files_struct`), so a forked child does not inherit it, and closing
//!   *any* fd of that table on the inode drops all of them;
//! - an OFD lock belongs to the open file description, and so does a
//!   `flock` lock; both go when the description's last reference does.
//!
//! POSIX and OFD locks share one list per inode and conflict with each
//! other; `flock` locks are a separate list and never meet them.
//!
//! A request that conflicts either fails (`EAGAIN`) or waits on the inode's
//! wait queue: every change to an inode's locks wakes its waiters, who try
//! again. Waiting is interruptible (`ERESTARTSYS`) and killable. A waiting
//! POSIX owner is recorded with the owner that blocks it, so a request that
//! would close a cycle of such waits gets `EDEADLK` (`posix_locks_deadlock`).
//!
//! Lock order: [`LOCKS`] is a leaf. It holds no [`File`](super::File) (only
//! ids), so no description is ever dropped under it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi::Errno;
use abi::fcntl::{F_RDLCK, F_UNLCK, F_WRLCK, Flock, SEEK_CUR, SEEK_END, SEEK_SET};

use crate::task::{self, TaskHandle, Wakeup};

/// Identifies an inode across every file system of the sentry: (`st_dev`, `st_ino`).
pub(crate) type InodeKey = (u64, u64);

/// The largest lock offset (`OFFSET_MAX`): a lock ending there runs to
/// the end of any file.
const OFFSET_MAX: i64 = i64::MAX;

/// How many waits `posix_locks_deadlock` follows before giving up
/// (`MAX_DEADLK_ITERATIONS`).
const MAX_DEADLK_ITERATIONS: usize = 10;

/// The most record locks one inode holds. Linux's limit is memory; ours
/// bounds the time a change takes under the one lock table (`ENOLCK`
/// past it), far above what programs use.
const MAX_RECORDS: usize = 1 << 14;

/// A new owner id: fd tables and open file descriptions draw from one counter.
pub(crate) fn new_owner_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Who holds a record lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A POSIX lock: the id of the fd table it was taken through.
    Posix(u64),
    /// An OFD lock: the id of the open file description.
    Ofd(u64),
}

/// A lock's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Shared (`F_RDLCK`, `LOCK_SH`).
    Read,
    /// Exclusive (`F_WRLCK`, `LOCK_EX`).
    Write,
}

impl Kind {
    fn conflicts(self, other: Kind) -> bool {
        self == Kind::Write || other == Kind::Write
    }

    fn l_type(self) -> i16 {
        match self {
            Kind::Read => F_RDLCK,
            Kind::Write => F_WRLCK,
        }
    }
}

/// A record lock request: bytes `start..=end` of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    /// Who asks.
    pub owner: Owner,
    /// `None` unlocks.
    pub kind: Option<Kind>,
    /// The first byte.
    pub start: i64,
    /// The last byte, [`OFFSET_MAX`] for "to the end of the file".
    pub end: i64,
    /// The thread group id of the asking process (`fl_pid`).
    pub pid: i32,
}

/// A granted record lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RecordLock {
    owner: Owner,
    kind: Kind,
    start: i64,
    end: i64,
    pid: i32,
}

impl RecordLock {
    fn overlaps(&self, start: i64, end: i64) -> bool {
        self.start <= end && start <= self.end
    }

    /// `struct flock` describing this lock, as `F_GETLK` reports a
    /// conflict (`posix_lock_to_flock`): OFD locks have no pid.
    fn to_flock(self) -> Flock {
        Flock {
            l_type: self.kind.l_type(),
            l_whence: 0,
            l_start: self.start,
            l_len: if self.end == OFFSET_MAX {
                0
            } else {
                self.end - self.start + 1
            },
            l_pid: match self.owner {
                Owner::Posix(_) => self.pid,
                Owner::Ofd(_) => -1,
            },
            ..Flock::default()
        }
    }
}

/// A `flock(2)` lock: held by an open file description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FlockLock {
    file: u64,
    kind: Kind,
    /// The thread group id of the process that took it.
    pid: i32,
}

/// One inode's locks and waiters (Linux's `file_lock_context`).
#[derive(Debug, Default)]
struct InodeLocks {
    /// POSIX and OFD locks. One owner's locks are adjacent, sorted by
    /// start, and never overlap one another; owners keep the order in
    /// which they first locked, so `F_GETLK` finds what Linux finds first.
    records: Vec<RecordLock>,
    flocks: Vec<FlockLock>,
    /// Tasks waiting for a change.
    waiters: Vec<Arc<TaskHandle>>,
}

impl InodeLocks {
    fn wake_all(&mut self) {
        for waiter in self.waiters.drain(..) {
            waiter.wake();
        }
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty() && self.flocks.is_empty() && self.waiters.is_empty()
    }

    /// The first record lock `req` conflicts with.
    fn record_conflict(&self, req: &Request) -> Option<RecordLock> {
        let kind = req.kind?;
        self.records
            .iter()
            .find(|l| {
                l.owner != req.owner && l.overlaps(req.start, req.end) && l.kind.conflicts(kind)
            })
            .copied()
    }

    /// Applies `req`, which conflicts with no one: the owner's locks lose
    /// the requested range, gain it with the new kind, and touching locks
    /// of one kind merge (`posix_lock_inode`). Only the owner's locks that
    /// overlap or touch the range change. Returns whether anything
    /// changed, or `ENOLCK` if the inode would hold too many locks.
    fn apply(&mut self, req: &Request) -> Result<bool, Errno> {
        let first = self
            .records
            .iter()
            .position(|l| l.owner == req.owner)
            .unwrap_or(self.records.len());
        let mine = self.records[first..]
            .iter()
            .take_while(|l| l.owner == req.owner)
            .count();
        // An owner's locks are sorted and disjoint, so their ends are
        // sorted too: those touching start-1..=end+1 are one run.
        let block = &self.records[first..first + mine];
        let lo = block.partition_point(|l| l.end < req.start - 1);
        let hi = block.partition_point(|l| l.start <= req.end.saturating_add(1));
        let touched = &block[lo..hi.max(lo)];
        let mut pieces: Vec<RecordLock> = Vec::with_capacity(touched.len() + 2);
        for l in touched {
            if !l.overlaps(req.start, req.end) {
                pieces.push(*l);
                continue;
            }
            if l.start < req.start {
                pieces.push(RecordLock {
                    end: req.start - 1,
                    ..*l
                });
            }
            if l.end > req.end {
                pieces.push(RecordLock {
                    start: req.end + 1,
                    ..*l
                });
            }
        }
        if let Some(kind) = req.kind {
            pieces.push(RecordLock {
                owner: req.owner,
                kind,
                start: req.start,
                end: req.end,
                pid: req.pid,
            });
        }
        pieces.sort_by_key(|l| l.start);
        let mut merged: Vec<RecordLock> = Vec::with_capacity(pieces.len());
        for l in pieces {
            match merged.last_mut() {
                Some(last) if last.kind == l.kind && last.end.saturating_add(1) >= l.start => {
                    last.end = last.end.max(l.end);
                    last.pid = req.pid;
                }
                _ => merged.push(l),
            }
        }
        if merged == touched {
            return Ok(false);
        }
        if self.records.len() - touched.len() + merged.len() > MAX_RECORDS {
            return Err(Errno::ENOLCK);
        }
        let at = first + lo;
        self.records.splice(at..at + touched.len(), merged);
        Ok(true)
    }

    /// Drops every record lock `owner` holds; returns how many there were.
    fn remove_owner(&mut self, owner: Owner) -> usize {
        let before = self.records.len();
        self.records.retain(|l| l.owner != owner);
        before - self.records.len()
    }

    fn count_owner(&self, owner: Owner) -> usize {
        self.records.iter().filter(|l| l.owner == owner).count()
    }
}

/// Every inode's locks, and who waits for whom.
#[derive(Debug)]
struct LockTable {
    inodes: BTreeMap<InodeKey, InodeLocks>,
    /// POSIX owners waiting, each with the owner that blocked it
    /// (Linux's `blocked_hash`): what deadlock detection follows.
    blocked: Vec<(Owner, Owner)>,
    /// How many record locks each POSIX owner holds over all inodes, so
    /// that closing an fd of a table that holds none costs nothing.
    posix_counts: BTreeMap<u64, usize>,
}

/// The sandbox's lock table. One sandbox runs per sentry process.
static LOCKS: Mutex<LockTable> = Mutex::new(LockTable {
    inodes: BTreeMap::new(),
    blocked: Vec::new(),
    posix_counts: BTreeMap::new(),
});

fn table() -> MutexGuard<'static, LockTable> {
    LOCKS.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LockTable {
    fn inode(&mut self, key: InodeKey) -> &mut InodeLocks {
        self.inodes.entry(key).or_default()
    }

    fn forget_if_empty(&mut self, key: InodeKey) {
        if self.inodes.get(&key).is_some_and(InodeLocks::is_empty) {
            self.inodes.remove(&key);
        }
    }

    /// Records that `owner` now holds `after` locks on an inode where it
    /// held `before`.
    fn recount(&mut self, owner: Owner, before: usize, after: usize) {
        let Owner::Posix(id) = owner else {
            return;
        };
        let count = self.posix_counts.entry(id).or_insert(0);
        *count = (*count + after).saturating_sub(before);
        if *count == 0 {
            self.posix_counts.remove(&id);
        }
    }

    /// Whether `me`, about to wait for `blocker`, would wait for itself
    /// (`posix_locks_deadlock`). OFD owners never wait in this graph.
    fn deadlock(&self, me: Owner, mut blocker: Owner) -> bool {
        if matches!(me, Owner::Ofd(_)) {
            return false;
        }
        for _ in 0..=MAX_DEADLK_ITERATIONS {
            let Some(&(_, next)) = self.blocked.iter().find(|(w, _)| *w == blocker) else {
                return false;
            };
            if next == me {
                return true;
            }
            blocker = next;
        }
        false
    }

    /// One attempt at `req`: granted (`Ok(None)`), or the lock in the way.
    ///
    /// # Errors
    /// `ENOLCK` if the inode would hold too many locks.
    fn try_record(&mut self, key: InodeKey, req: &Request) -> Result<Option<RecordLock>, Errno> {
        let inode = self.inode(key);
        if let Some(conflict) = inode.record_conflict(req) {
            return Ok(Some(conflict));
        }
        let before = inode.count_owner(req.owner);
        let changed = inode.apply(req);
        if changed == Ok(true) {
            inode.wake_all();
        }
        let after = inode.count_owner(req.owner);
        self.recount(req.owner, before, after);
        self.forget_if_empty(key);
        changed.map(|_| None)
    }
}

/// Parks the calling task on `key`'s wait queue and releases the table
/// until something changes. `blocked` is the (waiter, blocker) pair to
/// publish for deadlock detection while waiting.
///
/// # Errors
/// `ERESTARTSYS` if a signal or a kill arrived; `EAGAIN` off a task thread.
fn wait(
    mut locks: MutexGuard<'static, LockTable>,
    key: InodeKey,
    blocked: Option<(Owner, Owner)>,
) -> Result<MutexGuard<'static, LockTable>, Errno> {
    let me = task::current().ok_or(Errno::EAGAIN)?;
    if me.signal_pending() {
        return Err(Errno::ERESTARTSYS);
    }
    me.prepare_to_block();
    locks.inode(key).waiters.push(Arc::clone(&me));
    locks.blocked.extend(blocked);
    drop(locks);
    let wakeup = me.block(None);
    let mut locks = table();
    if let Some(pair) = blocked
        && let Some(i) = locks.blocked.iter().position(|p| *p == pair)
    {
        locks.blocked.remove(i);
    }
    if let Some(inode) = locks.inodes.get_mut(&key) {
        inode.waiters.retain(|w| !Arc::ptr_eq(w, &me));
    }
    locks.forget_if_empty(key);
    match wakeup {
        Wakeup::Woken | Wakeup::TimedOut => Ok(locks),
        Wakeup::Interrupted | Wakeup::Killed => Err(Errno::ERESTARTSYS),
    }
}

/// The byte range `l` names on a description at offset `pos` of a file
/// of `size` bytes, as `flock64_to_posix_lock` computes it: (start, end).
///
/// # Errors
/// `EINVAL` for a bad `l_whence` or a range before offset 0, `EOVERFLOW`
/// for one past [`OFFSET_MAX`].
pub(crate) fn flock_range(l: &Flock, pos: u64, size: i64) -> Result<(i64, i64), Errno> {
    let base = match u32::try_from(l.l_whence) {
        Ok(SEEK_SET) => 0,
        Ok(SEEK_CUR) => i64::try_from(pos).map_err(|_| Errno::EOVERFLOW)?,
        Ok(SEEK_END) => size,
        _ => return Err(Errno::EINVAL),
    };
    if l.l_start > OFFSET_MAX - base {
        return Err(Errno::EOVERFLOW);
    }
    let start = base + l.l_start;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    match l.l_len {
        0 => Ok((start, OFFSET_MAX)),
        len if len > 0 => {
            if len - 1 > OFFSET_MAX - start {
                return Err(Errno::EOVERFLOW);
            }
            Ok((start, start + (len - 1)))
        }
        len => {
            if start + len < 0 {
                return Err(Errno::EINVAL);
            }
            Ok((start + len, start - 1))
        }
    }
}

/// `l_type` as a lock kind: `None` for `F_UNLCK`.
///
/// # Errors
/// `EINVAL` for anything else.
pub(crate) fn flock_kind(l_type: i16) -> Result<Option<Kind>, Errno> {
    match l_type {
        F_RDLCK => Ok(Some(Kind::Read)),
        F_WRLCK => Ok(Some(Kind::Write)),
        F_UNLCK => Ok(None),
        _ => Err(Errno::EINVAL),
    }
}

/// `F_GETLK`/`F_OFD_GETLK` (`posix_test_lock`): the first lock on `key`
/// that `req` conflicts with, as `struct flock`. An unlock request (only
/// `F_OFD_GETLK` allows one) asks for the caller's own overlapping locks.
pub(crate) fn test_record(key: InodeKey, req: &Request) -> Option<Flock> {
    let locks = table();
    let inode = locks.inodes.get(&key)?;
    let found = match req.kind {
        Some(_) => inode.record_conflict(req),
        None => inode
            .records
            .iter()
            .find(|l| l.owner == req.owner && l.overlaps(req.start, req.end))
            .copied(),
    };
    found.map(RecordLock::to_flock)
}

/// `F_SETLK` and friends: sets or clears the record lock `req` on `key`,
/// waiting for conflicting locks to go if `wait`.
///
/// # Errors
/// `EAGAIN` on a conflict without `wait`, `EDEADLK` if waiting would close
/// a cycle of POSIX waits, `ERESTARTSYS` if a signal ends the wait.
pub(crate) fn set_record(key: InodeKey, req: &Request, wait_for_it: bool) -> Result<(), Errno> {
    let mut locks = table();
    loop {
        let Some(conflict) = locks.try_record(key, req)? else {
            return Ok(());
        };
        if !wait_for_it {
            return Err(Errno::EAGAIN);
        }
        if locks.deadlock(req.owner, conflict.owner) {
            return Err(Errno::EDEADLK);
        }
        let blocked = matches!(req.owner, Owner::Posix(_)).then_some((req.owner, conflict.owner));
        locks = wait(locks, key, blocked)?;
    }
}

/// `flock(2)` on `key` for the description `file`: `kind` `None` unlocks.
/// A held lock of another kind is dropped first, so a conversion that
/// fails (or is interrupted) leaves none, as in Linux (`flock_lock_inode`).
///
/// # Errors
/// `EAGAIN` on a conflict without `wait`, `ERESTARTSYS` if a signal ends
/// the wait.
pub(crate) fn set_flock(
    key: InodeKey,
    file: u64,
    kind: Option<Kind>,
    wait_for_it: bool,
    pid: i32,
) -> Result<(), Errno> {
    let mut locks = table();
    let inode = locks.inode(key);
    if let Some(i) = inode.flocks.iter().position(|l| l.file == file) {
        if Some(inode.flocks[i].kind) == kind {
            return Ok(());
        }
        inode.flocks.remove(i);
        inode.wake_all();
    }
    let Some(kind) = kind else {
        locks.forget_if_empty(key);
        return Ok(());
    };
    loop {
        let inode = locks.inode(key);
        let conflict = inode
            .flocks
            .iter()
            .any(|l| l.file != file && l.kind.conflicts(kind));
        if !conflict {
            inode.flocks.push(FlockLock { file, kind, pid });
            return Ok(());
        }
        if !wait_for_it {
            locks.forget_if_empty(key);
            return Err(Errno::EAGAIN);
        }
        locks = wait(locks, key, None)?;
    }
}

/// Whether the fd table `table_id` holds any POSIX lock.
pub(crate) fn holds_posix_locks(table_id: u64) -> bool {
    table().posix_counts.contains_key(&table_id)
}

/// Drops the POSIX locks the fd table `table_id` holds on `key` (a close
/// of any of its fds for that inode: `locks_remove_posix`).
pub(crate) fn release_posix(key: InodeKey, table_id: u64) {
    let mut locks = table();
    let owner = Owner::Posix(table_id);
    let Some(inode) = locks.inodes.get_mut(&key) else {
        return;
    };
    let removed = inode.remove_owner(owner);
    if removed > 0 {
        inode.wake_all();
        locks.recount(owner, removed, 0);
        locks.forget_if_empty(key);
    }
}

/// Drops every POSIX lock of the fd table `table_id` (the table is gone).
pub(crate) fn release_posix_owner(table_id: u64) {
    let mut locks = table();
    if !locks.posix_counts.contains_key(&table_id) {
        return;
    }
    let owner = Owner::Posix(table_id);
    for inode in locks.inodes.values_mut() {
        if inode.remove_owner(owner) > 0 {
            inode.wake_all();
        }
    }
    locks.posix_counts.remove(&table_id);
    locks.inodes.retain(|_, inode| !inode.is_empty());
}

/// Drops the OFD and `flock` locks of the description `file` on `key`
/// (its last reference is gone: `locks_remove_file`).
pub(crate) fn release_file(key: InodeKey, file: u64) {
    let mut locks = table();
    let Some(inode) = locks.inodes.get_mut(&key) else {
        return;
    };
    let before = inode.flocks.len();
    inode.flocks.retain(|l| l.file != file);
    if inode.remove_owner(Owner::Ofd(file)) > 0 || inode.flocks.len() != before {
        inode.wake_all();
    }
    locks.forget_if_empty(key);
}

/// `/proc/locks`: every lock held, one line each, as `lock_get_status`
/// prints them (waiters, which Linux lists too, are left out).
pub(crate) fn proc_locks() -> String {
    use std::fmt::Write;
    let locks = table();
    let mut out = String::new();
    let mut id = 0;
    let name = |kind: Kind| match kind {
        Kind::Read => "READ",
        Kind::Write => "WRITE",
    };
    for (&(dev, ino), inode) in &locks.inodes {
        let inode_id = format!(
            "{:02x}:{:02x}:{ino}",
            abi::stat::major(dev),
            abi::stat::minor(dev)
        );
        for l in &inode.records {
            id += 1;
            let (class, pid) = match l.owner {
                Owner::Posix(_) => ("POSIX ", l.pid),
                Owner::Ofd(_) => ("OFDLCK", -1),
            };
            let range = if l.end == OFFSET_MAX {
                format!("{} EOF", l.start)
            } else {
                format!("{} {}", l.start, l.end)
            };
            let _ = writeln!(
                out,
                "{id}: {class} ADVISORY  {} {pid} {inode_id} {range}",
                name(l.kind)
            );
        }
        for l in &inode.flocks {
            id += 1;
            let _ = writeln!(
                out,
                "{id}: FLOCK  ADVISORY  {} {} {inode_id} 0 EOF",
                name(l.kind),
                l.pid
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(owner: Owner, kind: Option<Kind>, start: i64, end: i64) -> Request {
        Request {
            owner,
            kind,
            start,
            end,
            pid: 1,
        }
    }

    fn ranges(inode: &InodeLocks) -> Vec<(i64, i64, Kind)> {
        inode
            .records
            .iter()
            .map(|l| (l.start, l.end, l.kind))
            .collect()
    }

    #[test]
    fn split_merge_and_conflicts() {
        let a = Owner::Posix(1);
        let b = Owner::Ofd(2);
        let mut inode = InodeLocks::default();
        assert_eq!(inode.apply(&req(a, Some(Kind::Write), 0, 9)), Ok(true));
        assert_eq!(inode.apply(&req(a, Some(Kind::Write), 10, 19)), Ok(true));
        assert_eq!(ranges(&inode), [(0, 19, Kind::Write)]);
        assert_eq!(inode.apply(&req(a, Some(Kind::Write), 5, 6)), Ok(false));
        assert_eq!(inode.apply(&req(a, Some(Kind::Read), 5, 6)), Ok(true));
        assert_eq!(
            ranges(&inode),
            [
                (0, 4, Kind::Write),
                (5, 6, Kind::Read),
                (7, 19, Kind::Write)
            ]
        );
        assert_eq!(inode.apply(&req(a, None, 3, 8)), Ok(true));
        assert_eq!(ranges(&inode), [(0, 2, Kind::Write), (9, 19, Kind::Write)]);
        assert_eq!(inode.record_conflict(&req(b, Some(Kind::Read), 3, 8)), None);
        let hit = inode.record_conflict(&req(b, Some(Kind::Read), 3, OFFSET_MAX));
        assert_eq!(hit.map(|l| (l.start, l.end)), Some((9, 19)));
        assert_eq!(
            inode.record_conflict(&req(a, Some(Kind::Read), 0, 99)),
            None
        );
        assert_eq!(
            inode.apply(&req(a, Some(Kind::Read), 0, OFFSET_MAX)),
            Ok(true)
        );
        assert_eq!(ranges(&inode), [(0, OFFSET_MAX, Kind::Read)]);
        assert_eq!(inode.remove_owner(a), 1);
        assert!(inode.is_empty());
    }

    /// Random requests against a byte-by-byte model: every owner's locks
    /// cover exactly what the model says, sorted, disjoint and merged.
    #[test]
    fn matches_a_byte_model() {
        const BYTES: usize = 48;
        let owners = [Owner::Posix(1), Owner::Ofd(2), Owner::Posix(3)];
        let mut model = [[None::<Kind>; BYTES]; 3];
        let mut inode = InodeLocks::default();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..20_000 {
            let who = usize::try_from(next(3)).unwrap();
            let start = next(BYTES as u64 - 1);
            let end = start + next(BYTES as u64 - start);
            let kind =
                [None, Some(Kind::Read), Some(Kind::Write)][usize::try_from(next(3)).unwrap()];
            let r = Request {
                owner: owners[who],
                kind,
                start: i64::try_from(start).unwrap(),
                end: i64::try_from(end).unwrap(),
                pid: 1,
            };
            let conflict = inode.record_conflict(&r);
            let model_conflict = kind.is_some_and(|k| {
                (0..3).any(|o| {
                    o != who
                        && (start..=end).any(|b| {
                            model[o][usize::try_from(b).unwrap()].is_some_and(|m| m.conflicts(k))
                        })
                })
            });
            assert_eq!(conflict.is_some(), model_conflict);
            if conflict.is_some() {
                continue;
            }
            inode.apply(&r).unwrap();
            for b in start..=end {
                model[who][usize::try_from(b).unwrap()] = kind;
            }
            for (o, owner) in owners.iter().enumerate() {
                let at: Vec<usize> = (0..inode.records.len())
                    .filter(|&i| inode.records[i].owner == *owner)
                    .collect();
                assert!(at.windows(2).all(|w| w[1] == w[0] + 1));
                let mine: Vec<&RecordLock> =
                    inode.records.iter().filter(|l| l.owner == *owner).collect();
                let mut covered = [None::<Kind>; BYTES];
                for pair in mine.windows(2) {
                    let touching = pair[0].end + 1 >= pair[1].start;
                    assert!(pair[0].end < pair[1].start);
                    assert!(!(touching && pair[0].kind == pair[1].kind));
                }
                for l in &mine {
                    for b in l.start..=l.end {
                        covered[usize::try_from(b).unwrap()] = Some(l.kind);
                    }
                }
                assert_eq!(covered, model[o]);
            }
        }
    }

    #[test]
    fn too_many_locks() {
        let a = Owner::Ofd(1);
        let mut inode = InodeLocks::default();
        for i in 0..MAX_RECORDS {
            let at = i64::try_from(i).unwrap() * 2;
            assert_eq!(inode.apply(&req(a, Some(Kind::Read), at, at)), Ok(true));
        }
        let past = i64::try_from(MAX_RECORDS).unwrap() * 2;
        assert_eq!(
            inode.apply(&req(a, Some(Kind::Read), past, past)),
            Err(Errno::ENOLCK)
        );
        assert_eq!(inode.records.len(), MAX_RECORDS);
        // Filling a gap merges two locks into one: allowed.
        assert_eq!(inode.apply(&req(a, Some(Kind::Read), 1, 1)), Ok(true));
        assert_eq!(inode.records.len(), MAX_RECORDS - 1);
    }

    #[test]
    fn ranges_from_flock() {
        let l = |whence: i16, start: i64, len: i64| Flock {
            l_whence: whence,
            l_start: start,
            l_len: len,
            ..Flock::default()
        };
        assert_eq!(flock_range(&l(0, 10, 5), 0, 0), Ok((10, 14)));
        assert_eq!(flock_range(&l(0, 10, -5), 0, 0), Ok((5, 9)));
        assert_eq!(flock_range(&l(0, 10, -11), 0, 0), Err(Errno::EINVAL));
        assert_eq!(flock_range(&l(1, -1, 0), 4, 0), Ok((3, OFFSET_MAX)));
        assert_eq!(flock_range(&l(2, -200, 1), 0, 100), Err(Errno::EINVAL));
        assert_eq!(
            flock_range(&l(2, i64::MAX, 1), 0, 100),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(flock_range(&l(0, 1, i64::MAX), 0, 0), Ok((1, OFFSET_MAX)));
        assert_eq!(flock_range(&l(0, 2, i64::MAX), 0, 0), Err(Errno::EOVERFLOW));
        assert_eq!(flock_range(&l(0, i64::MIN, 1), 0, 0), Err(Errno::EINVAL));
        assert_eq!(flock_range(&l(3, 0, 0), 0, 0), Err(Errno::EINVAL));
    }

    #[test]
    fn deadlock_follows_waits() {
        let mut locks = LockTable {
            inodes: BTreeMap::new(),
            blocked: vec![(Owner::Posix(1), Owner::Posix(2))],
            posix_counts: BTreeMap::new(),
        };
        assert!(locks.deadlock(Owner::Posix(2), Owner::Posix(1)));
        assert!(!locks.deadlock(Owner::Posix(3), Owner::Posix(1)));
        assert!(!locks.deadlock(Owner::Ofd(2), Owner::Posix(1)));
        locks.blocked.push((Owner::Posix(2), Owner::Posix(1)));
        assert!(!locks.deadlock(Owner::Posix(4), Owner::Posix(1)));
    }
}
