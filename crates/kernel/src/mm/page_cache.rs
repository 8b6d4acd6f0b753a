//! A file's data in MemoryFile pages (Linux's page cache; gVisor's
//! `fsutil.FileRangeSet`), and the memory managers that map a file.
//!
//! A [`PageCache`] maps file page indexes to MemoryFile pages, holding one
//! reference on each. The file system reads and writes through those pages,
//! and a shared mapping maps the very same pages (taking references of its
//! own), so stores through a mapping are what `read(2)` returns and
//! `write(2)` shows through every mapping, across processes and `fork`.
//!
//! A [`MappingSet`] records which memory managers map a file. Truncation
//! cannot unmap another address space on the spot (under ptrace only the
//! host thread tracing a stub may change it), so it queues an
//! [`Invalidation`] with each of them; a memory manager applies its queue
//! before its program runs again and before it resolves a fault. Until then
//! the other address space keeps the pages it holds references on, so no
//! page is reused while still mapped.
//!
//! Lock order: a `MemoryManager`'s state, then the owning file's lock (which
//! guards its `PageCache`), then a [`MappingSet`]'s, then a queue's, then the
//! allocator's. All but the first are leaves of this subsystem.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use abi::Errno;
use platform::MemoryFile;

use super::{MemoryAllocator, PAGE};

/// How many of `left` bytes from file offset `at` lie in `at`'s page.
pub fn chunk_in_page(at: u64, left: usize) -> usize {
    let in_page = PAGE - at % PAGE;
    usize::try_from(in_page).map_or(left, |n| n.min(left))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A file's pages in the MemoryFile, by page index. Pages that were never
/// written (or were dropped) are holes and read as zeros.
///
/// The caller serializes access (the file's own lock) and keeps the file
/// size; the cache knows nothing of it.
#[derive(Debug)]
pub struct PageCache {
    allocator: Arc<MemoryAllocator>,
    /// Page index to the MemoryFile offset of its page.
    pages: BTreeMap<u64, u64>,
}

impl PageCache {
    /// An empty cache drawing pages from `allocator`.
    pub fn new(allocator: Arc<MemoryAllocator>) -> PageCache {
        PageCache {
            allocator,
            pages: BTreeMap::new(),
        }
    }

    /// The MemoryFile the pages live in.
    pub fn memory_file(&self) -> &MemoryFile {
        self.allocator.file()
    }

    /// How many pages are present.
    pub fn len(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Whether no page is present.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Whether page `index` is present.
    pub fn contains(&self, index: u64) -> bool {
        self.pages.contains_key(&index)
    }

    /// The first present page at or after `index`.
    pub fn next_present(&self, index: u64) -> Option<u64> {
        self.pages.range(index..).next().map(|(&i, _)| i)
    }

    /// The MemoryFile offset of page `index`, if present.
    pub fn get(&self, index: u64) -> Option<u64> {
        self.pages.get(&index).copied()
    }

    /// The MemoryFile offset of page `index`, allocating a zeroed page for a
    /// hole. The caller charges a new page to its budget first.
    ///
    /// # Errors
    /// `ENOMEM` when the MemoryFile is full.
    pub fn get_or_insert(&mut self, index: u64) -> Result<u64, Errno> {
        if let Some(offset) = self.get(index) {
            return Ok(offset);
        }
        let offset = self.allocator.allocate(PAGE)?;
        self.pages.insert(index, offset);
        Ok(offset)
    }

    /// The MemoryFile offset of page `index` with a reference for the caller
    /// (a mapping), which gives it back with [`MemoryAllocator`]'s `dec_ref`.
    pub fn share(&self, index: u64) -> Option<u64> {
        let offset = self.get(index)?;
        self.allocator.inc_ref(offset, PAGE);
        Some(offset)
    }

    /// Copies the bytes at `pos` into `buf`; holes read as zeros. The caller
    /// clamps `buf` to the file size.
    pub fn read(&self, pos: u64, buf: &mut [u8]) {
        let mut done = 0;
        while done < buf.len() {
            let at = pos + done as u64;
            let (index, off) = (at / PAGE, at % PAGE);
            let chunk = chunk_in_page(at, buf.len() - done);
            let piece = &mut buf[done..done + chunk];
            match self.get(index) {
                Some(page) => self.memory_file().read(page + off, piece),
                None => piece.fill(0),
            }
            done += chunk;
        }
    }

    /// Copies `buf` to `pos`, page by page; `new_page` is asked before a
    /// hole is filled (to charge a budget) and may refuse. Returns how many
    /// bytes were written: short (or an error if none were) when a page
    /// could not be had.
    ///
    /// # Errors
    /// `new_page`'s error, or `ENOSPC` when the MemoryFile is full, if not
    /// even the first byte could be written.
    pub fn write(
        &mut self,
        pos: u64,
        buf: &[u8],
        mut new_page: impl FnMut() -> Result<(), Errno>,
        mut refund: impl FnMut(),
    ) -> Result<usize, Errno> {
        let mut done = 0;
        while done < buf.len() {
            let at = pos + done as u64;
            let (index, off) = (at / PAGE, at % PAGE);
            let chunk = chunk_in_page(at, buf.len() - done);
            let page = match self.get(index) {
                Some(page) => page,
                None => {
                    let got = new_page()
                        .and_then(|()| self.get_or_insert(index).inspect_err(|_| refund()));
                    match got {
                        Ok(page) => page,
                        Err(_) if done > 0 => break,
                        Err(Errno::ENOMEM) => return Err(Errno::ENOSPC),
                        Err(err) => return Err(err),
                    }
                }
            };
            self.memory_file()
                .write(page + off, &buf[done..done + chunk]);
            done += chunk;
        }
        Ok(done)
    }

    /// Drops the whole pages of `[start, end)` and zeroes the parts of
    /// partial pages at its edges. Returns how many pages were dropped.
    pub fn punch(&mut self, start: u64, end: u64) -> u64 {
        if start >= end {
            return 0;
        }
        let first_full = start.div_ceil(PAGE);
        let last_full = end / PAGE;
        let doomed: Vec<(u64, u64)> = self
            .pages
            .range(first_full..last_full.max(first_full))
            .map(|(&i, &o)| (i, o))
            .collect();
        for &(index, _) in &doomed {
            self.pages.remove(&index);
        }
        release_pages(&self.allocator, doomed.iter().map(|&(_, o)| o));
        // The edges: within one page, or the tail of the first partial page
        // and the head of the last.
        let head_end = end.min(first_full * PAGE);
        self.zero(start, head_end);
        self.zero((last_full * PAGE).max(head_end), end);
        doomed.len() as u64
    }

    /// Zeroes `[from, to)`, which lies within one page.
    fn zero(&self, from: u64, to: u64) {
        if from < to
            && let Some(page) = self.get(from / PAGE)
        {
            self.memory_file().zero(page + from % PAGE, to - from);
        }
    }
}

impl Drop for PageCache {
    fn drop(&mut self) {
        release_pages(&self.allocator, self.pages.values().copied());
    }
}

/// Drops a reference to each of the pages at `offsets`, a run of
/// consecutive ones at a time: a file's pages are mostly consecutive in
/// the MemoryFile, and each run freed costs the host one hole punch.
fn release_pages(allocator: &MemoryAllocator, offsets: impl IntoIterator<Item = u64>) {
    let mut run: Option<(u64, u64)> = None;
    for offset in offsets {
        run = match run {
            Some((start, end)) if end == offset => Some((start, end + PAGE)),
            Some((start, end)) => {
                allocator.dec_ref(start, end - start);
                Some((offset, offset + PAGE))
            }
            None => Some((offset, offset + PAGE)),
        };
    }
    if let Some((start, end)) = run {
        allocator.dec_ref(start, end - start);
    }
}

/// A request to a memory manager to drop what it maps of a file.
#[derive(Debug)]
pub(super) struct Invalidation {
    /// The file, by its mapping set.
    pub(super) set: Weak<MappingSet>,
    /// First file byte (page-aligned) to drop.
    pub(super) start: u64,
    /// One past the last file byte to drop (`u64::MAX`: to the end).
    pub(super) end: u64,
    /// Also drop private copies (truncation: Linux's `even_cows`).
    pub(super) even_private: bool,
}

/// One memory manager's queue of invalidations not yet applied.
#[derive(Debug, Default)]
pub(super) struct InvalidationQueue {
    /// Whether `queue` may be non-empty, so the check before every program
    /// run needs no lock.
    pending: AtomicBool,
    queue: Mutex<Vec<Invalidation>>,
}

impl InvalidationQueue {
    /// Whether something may be queued.
    pub(super) fn is_pending(&self) -> bool {
        self.pending.load(Ordering::SeqCst)
    }

    /// Takes what is queued (nothing, without locking, if nothing is).
    pub(super) fn take(&self) -> Vec<Invalidation> {
        if !self.pending.swap(false, Ordering::SeqCst) {
            return Vec::new();
        }
        std::mem::take(&mut *lock(&self.queue))
    }

    /// Queues `inv`, merged with a queued one for the same file and kind,
    /// so that a program truncating a file in a loop while another one
    /// sleeps cannot grow the queue without bound.
    fn push(&self, inv: Invalidation) {
        let mut queue = lock(&self.queue);
        match queue
            .iter_mut()
            .find(|q| q.even_private == inv.even_private && Weak::ptr_eq(&q.set, &inv.set))
        {
            Some(queued) => {
                queued.start = queued.start.min(inv.start);
                queued.end = queued.end.max(inv.end);
            }
            None => queue.push(inv),
        }
        self.pending.store(true, Ordering::SeqCst);
    }
}

/// The memory managers that may map one file (Linux's `address_space`
/// `i_mmap` tree, by memory manager rather than by VMA).
#[derive(Debug, Default)]
pub struct MappingSet {
    mappers: Mutex<Vec<Weak<InvalidationQueue>>>,
}

impl MappingSet {
    /// An empty set.
    pub fn new() -> Arc<MappingSet> {
        Arc::default()
    }

    /// Adds a memory manager's queue (once).
    pub(super) fn register(&self, queue: &Arc<InvalidationQueue>) {
        let mut mappers = lock(&self.mappers);
        mappers.retain(|w| w.strong_count() > 0);
        if !mappers
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(queue)))
        {
            mappers.push(Arc::downgrade(queue));
        }
    }

    /// Makes every memory manager mapping the file drop its pages for the
    /// whole file pages in `[start, end)` before its program runs on: after
    /// truncation to `start` (`even_private`: private copies too, so a
    /// touch beyond the new end of file raises `SIGBUS`) or a hole punch
    /// (the file's own pages, which shared mappings and the pages private
    /// ones have not written map, so they then see the hole; private
    /// copies stay; the partial pages at its edges were zeroed in place).
    pub fn invalidate(self: &Arc<MappingSet>, start: u64, end: u64, even_private: bool) {
        let start = start.div_ceil(PAGE).saturating_mul(PAGE);
        let end = end & !(PAGE - 1);
        if start >= end {
            return;
        }
        for queue in lock(&self.mappers).iter().filter_map(Weak::upgrade) {
            queue.push(Invalidation {
                set: Arc::downgrade(self),
                start,
                end,
                even_private,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_USIZE: usize = abi::PAGE_SIZE_USIZE;

    fn cache(pages: u64) -> PageCache {
        let file = Arc::new(MemoryFile::new(pages * PAGE).expect("memfd"));
        PageCache::new(MemoryAllocator::new(file))
    }

    #[test]
    fn holes_read_as_zeros_and_writes_land_in_pages() {
        let mut c = cache(8);
        assert_eq!(c.write(PAGE - 2, b"abcd", || Ok(()), || {}), Ok(4));
        assert_eq!(c.len(), 2, "a write across a boundary fills two pages");
        let mut buf = [0xffu8; 8];
        c.read(PAGE - 4, &mut buf);
        assert_eq!(&buf, b"\0\0abcd\0\0");
        let mut hole = [0xffu8; 4];
        c.read(5 * PAGE, &mut hole);
        assert_eq!(hole, [0; 4]);
        assert_eq!(c.next_present(2), None);
        assert_eq!(c.next_present(1), Some(1));
    }

    #[test]
    fn a_shared_page_is_the_same_memory() {
        let mut c = cache(8);
        c.write(0, b"old", || Ok(()), || {}).unwrap();
        let page = c.share(0).expect("present");
        c.memory_file().write(page, b"new");
        let mut buf = [0u8; 3];
        c.read(0, &mut buf);
        assert_eq!(&buf, b"new");
        // The mapping's reference keeps the page after the file drops it.
        assert_eq!(c.punch(0, PAGE), 1);
        assert_eq!(c.allocator.allocated(), PAGE);
        c.allocator.dec_ref(page, PAGE);
        assert_eq!(c.allocator.allocated(), 0);
    }

    #[test]
    fn punch_zeroes_partial_edges() {
        let mut c = cache(8);
        c.write(0, &[7u8; 3 * PAGE_USIZE], || Ok(()), || {})
            .unwrap();
        assert_eq!(c.punch(10, 2 * PAGE + 10), 1);
        let mut buf = vec![0u8; 3 * PAGE_USIZE];
        c.read(0, &mut buf);
        assert!(buf[..10].iter().all(|&b| b == 7));
        assert!(buf[10..2 * PAGE_USIZE + 10].iter().all(|&b| b == 0));
        assert!(buf[2 * PAGE_USIZE + 10..].iter().all(|&b| b == 7));
        // Within one page.
        c.punch(2 * PAGE + 20, 2 * PAGE + 30);
        let mut piece = [1u8; 12];
        c.read(2 * PAGE + 19, &mut piece);
        assert_eq!(piece[0], 7);
        assert!(piece[1..11].iter().all(|&b| b == 0));
        assert_eq!(piece[11], 7);
    }

    #[test]
    fn a_refused_page_gives_a_short_write_or_the_error() {
        let mut c = cache(8);
        let mut budget = 1;
        let mut charge = || {
            if budget == 0 {
                return Err(Errno::ENOSPC);
            }
            budget -= 1;
            Ok(())
        };
        assert_eq!(c.write(PAGE - 1, b"xy", &mut charge, || {}), Ok(1));
        assert_eq!(
            c.write(3 * PAGE, b"z", &mut charge, || {}),
            Err(Errno::ENOSPC)
        );
        // A full MemoryFile is ENOSPC too, and the charge is refunded.
        let mut small = cache(1);
        let mut refunds = 0;
        small.write(0, b"a", || Ok(()), || refunds += 1).unwrap();
        assert_eq!(
            small.write(PAGE, b"b", || Ok(()), || refunds += 1),
            Err(Errno::ENOSPC)
        );
        assert_eq!(refunds, 1);
    }

    #[test]
    fn dropping_the_cache_frees_its_pages() {
        let mut c = cache(8);
        c.write(0, &[1u8; 2 * PAGE_USIZE], || Ok(()), || {})
            .unwrap();
        let allocator = Arc::clone(&c.allocator);
        assert_eq!(allocator.allocated(), 2 * PAGE);
        drop(c);
        assert_eq!(allocator.allocated(), 0);
    }

    #[test]
    fn invalidations_reach_live_mappers_once() {
        let set = MappingSet::new();
        let queue = Arc::new(InvalidationQueue::default());
        set.register(&queue);
        set.register(&queue);
        assert!(queue.take().is_empty(), "nothing queued yet");
        set.invalidate(PAGE + 5, 2 * PAGE + 5, false);
        assert!(!queue.is_pending(), "no whole page in the range");
        set.invalidate(PAGE + 5, u64::MAX, true);
        set.invalidate(5 * PAGE, u64::MAX, true);
        let taken = queue.take();
        assert_eq!(taken.len(), 1, "merged");
        assert_eq!(taken[0].start, 2 * PAGE);
        assert!(
            taken[0]
                .set
                .upgrade()
                .is_some_and(|s| Arc::ptr_eq(&s, &set))
        );
        drop(queue);
        set.invalidate(0, PAGE, false);
        assert!(lock(&set.mappers).iter().all(|w| w.strong_count() == 0));
    }
}
