//! What backs program memory: pmas and the allocator over the MemoryFile.
//!
//! A pma ("physical memory area", gVisor's name) says that a range of program
//! addresses is backed by a contiguous range of the MemoryFile. The allocator
//! hands out MemoryFile ranges and counts references to every page, so that
//! copy-on-write across `fork` can later share a range between two address
//! spaces; a range whose count drops to zero is freed for reuse.
//!
//! Freed ranges first stay resident, up to [`WARM_MAX`] bytes (the warm
//! pool): handing one out again costs a `memset` in the sentry, where a
//! range given back to the host costs a hole punch now and a host page
//! fault (with the host clearing the page) at its next use. That is what a
//! file rewritten or a short process replaced would otherwise pay for
//! every page. Past the bound, and before the allocator would run out,
//! freed ranges are hole-punched, so the host gets memory back.
//!
//! Invariant: every range the allocator hands out reads as zeros (it was
//! never written, it was hole-punched when freed, or it was zeroed when
//! taken from the warm pool), so anonymous memory needs no explicit
//! zeroing and nothing leaks from one owner to the next.
//!
//! Lock order: a `MemoryManager`'s state lock, then [`MemoryAllocator`]'s
//! (a leaf lock).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use abi::Errno;
use platform::MemoryFile;

use super::range::{RangeMap, Segment};

/// One pma: the MemoryFile offset that backs the start of its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pma {
    /// MemoryFile offset of the range's first byte.
    pub(super) offset: u64,
    /// Copy-on-write: the pages may be shared with another address space
    /// (after `fork`), so a write must copy them first. Such pages are
    /// mapped read-only whatever the VMA allows.
    pub(super) cow: bool,
    /// The pages are the mapped file's own (its page cache's), which a
    /// private mapping maps copy-on-write until it writes them: a hole
    /// punched in the file takes them away from private mappings too.
    pub(super) file: bool,
}

impl Segment for Pma {
    fn split(&mut self, offset: u64) -> Self {
        Pma {
            offset: self.offset + offset,
            cow: self.cow,
            file: self.file,
        }
    }

    fn can_merge(&self, len: u64, right: &Self) -> bool {
        self.cow == right.cow
            && self.file == right.file
            && self.offset.checked_add(len) == Some(right.offset)
    }
}

/// The most freed bytes kept resident for reuse (see the module docs):
/// enough for a few MiB of churn, small next to what a sandbox uses.
const WARM_MAX: u64 = 8 << 20;

/// A reference count over a MemoryFile range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Refs(u32);

impl Segment for Refs {
    fn split(&mut self, _offset: u64) -> Self {
        *self
    }

    fn can_merge(&self, _len: u64, right: &Self) -> bool {
        self == right
    }
}

/// Allocates page ranges of one MemoryFile, with reference counts.
///
/// Every `MemoryManager` over the same MemoryFile shares one allocator (see
/// [`MemoryAllocator::for_file`]), since the file holds every process's memory.
#[derive(Debug)]
pub struct MemoryAllocator {
    file: Arc<MemoryFile>,
    /// Guards the free list and the counts. A leaf lock.
    state: Mutex<AllocState>,
}

#[derive(Debug, Default)]
struct AllocState {
    /// Freed (hole-punched) ranges below `bump`.
    free: RangeMap<()>,
    /// Freed ranges still resident, holding their last owner's data until
    /// they are handed out again (zeroed then).
    warm: RangeMap<()>,
    /// The bytes in `warm`.
    warm_bytes: u64,
    /// Allocated ranges and their reference counts.
    refs: RangeMap<Refs>,
    /// Everything at or above this offset has never been handed out.
    bump: u64,
    /// Bytes with a reference count above zero.
    allocated: u64,
    /// The most bytes ever allocated at once.
    peak: u64,
}

impl MemoryAllocator {
    /// A new allocator over all of `file`. Use [`MemoryAllocator::for_file`]
    /// unless `file` is private to the caller.
    pub fn new(file: Arc<MemoryFile>) -> Arc<MemoryAllocator> {
        Arc::new(MemoryAllocator {
            file,
            state: Mutex::new(AllocState::default()),
        })
    }

    /// The allocator every `MemoryManager` over `file` shares: created on
    /// first use, dropped with the last user.
    pub fn for_file(file: &Arc<MemoryFile>) -> Arc<MemoryAllocator> {
        static REGISTRY: Mutex<Vec<Weak<MemoryAllocator>>> = Mutex::new(Vec::new());
        let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
        registry.retain(|w| w.strong_count() > 0);
        if let Some(found) = registry
            .iter()
            .filter_map(Weak::upgrade)
            .find(|a| Arc::ptr_eq(&a.file, file))
        {
            return found;
        }
        let allocator = MemoryAllocator::new(Arc::clone(file));
        registry.push(Arc::downgrade(&allocator));
        allocator
    }

    /// The MemoryFile the ranges are in.
    pub fn file(&self) -> &Arc<MemoryFile> {
        &self.file
    }

    /// Bytes currently allocated (reference count above zero).
    pub fn allocated(&self) -> u64 {
        self.lock().allocated
    }

    /// The most bytes ever allocated at once: the sandbox's peak memory in
    /// the MemoryFile.
    pub fn peak(&self) -> u64 {
        self.lock().peak
    }

    fn lock(&self) -> MutexGuard<'_, AllocState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Allocates `len` bytes (a positive multiple of the page size) that read
    /// as zeros, with a reference count of one; returns their offset.
    ///
    /// # Errors
    /// `ENOMEM` when the MemoryFile has no contiguous free range that large.
    pub(super) fn allocate(&self, len: u64) -> Result<u64, Errno> {
        debug_assert!(len > 0 && len.is_multiple_of(abi::PAGE_SIZE));
        let mut st = self.lock();
        let warm = first_fit(&st.warm, len);
        let offset = match warm {
            Some(start) => {
                st.warm.remove(start, start + len);
                st.warm_bytes -= len;
                start
            }
            None => match self.allocate_cold(&mut st, len) {
                Ok(start) => start,
                // The warm pool may hold what is missing, in pieces.
                Err(_) if st.warm_bytes > 0 => {
                    self.cool(&mut st);
                    self.allocate_cold(&mut st, len)?
                }
                Err(err) => return Err(err),
            },
        };
        st.refs.insert(offset, offset + len, Refs(1));
        st.allocated += len;
        st.peak = st.peak.max(st.allocated);
        drop(st);
        if warm.is_some() {
            // Ours alone now: zeroed outside the lock.
            self.file.zero(offset, len);
        }
        Ok(offset)
    }

    /// A range of `len` bytes that reads as zeros: from the free list, else
    /// from the bump region.
    fn allocate_cold(&self, st: &mut AllocState, len: u64) -> Result<u64, Errno> {
        if let Some(start) = first_fit(&st.free, len) {
            st.free.remove(start, start + len);
            return Ok(start);
        }
        let start = st.bump;
        let end = start.checked_add(len).ok_or(Errno::ENOMEM)?;
        if end > self.file.size() {
            return Err(Errno::ENOMEM);
        }
        st.bump = end;
        Ok(start)
    }

    /// Gives every warm range back to the host.
    fn cool(&self, st: &mut AllocState) {
        for (start, end, ()) in std::mem::take(&mut st.warm).iter() {
            self.punch(st, start, end);
        }
        st.warm_bytes = 0;
        Self::lower_bump(st);
    }

    /// Hole-punches the freed range `[start, end)` into the free list.
    fn punch(&self, st: &mut AllocState, start: u64, end: u64) {
        // Punching releases the pages and makes the range read as zeros.
        // Should the host refuse, zeroing by hand keeps the invariant that
        // free ranges hold nothing of their last owner's.
        if self.file.free(start, end - start).is_err() {
            self.file.zero(start, end - start);
        }
        st.free.insert(start, end, ());
    }

    /// Gives the top of the free list back to the bump region.
    fn lower_bump(st: &mut AllocState) {
        if let Some((start, end, _)) = st.free.find_prev(st.bump)
            && end == st.bump
        {
            st.free.remove(start, end);
            st.bump = start;
        }
    }

    /// Adds a reference to every page of `[offset, offset + len)`, which must
    /// be allocated.
    #[allow(dead_code)] // For copy-on-write across fork.
    pub(super) fn inc_ref(&self, offset: u64, len: u64) {
        let mut st = self.lock();
        st.refs
            .update(offset, offset + len, |r| r.0 = r.0.saturating_add(1));
    }

    /// Whether the page at `offset` has exactly one reference: a
    /// copy-on-write page nobody else shares any more can simply be written.
    pub(super) fn is_exclusive(&self, offset: u64) -> bool {
        self.lock()
            .refs
            .find(offset)
            .is_some_and(|(_, _, r)| r.0 == 1)
    }

    /// Drops a reference to every page of `[offset, offset + len)`; pages
    /// left with none are freed (into the warm pool while it has room).
    pub(super) fn dec_ref(&self, offset: u64, len: u64) {
        let mut st = self.lock();
        st.refs
            .update(offset, offset + len, |r| r.0 = r.0.saturating_sub(1));
        let dead: Vec<(u64, u64)> = st
            .refs
            .overlapping(offset, offset + len)
            .into_iter()
            .filter(|(_, _, r)| r.0 == 0)
            .map(|(s, e, _)| (s, e))
            .collect();
        for (start, end) in dead {
            st.refs.remove(start, end);
            st.allocated -= end - start;
            if st.warm_bytes + (end - start) <= WARM_MAX {
                st.warm.insert(start, end, ());
                st.warm_bytes += end - start;
            } else {
                self.punch(&mut st, start, end);
            }
        }
        Self::lower_bump(&mut st);
    }
}

/// The start of the first range of `map` at least `len` bytes long.
fn first_fit(map: &RangeMap<()>, len: u64) -> Option<u64> {
    map.iter().find(|(s, e, _)| e - s >= len).map(|(s, _, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: u64 = abi::PAGE_SIZE;

    fn allocator(size: u64) -> Arc<MemoryAllocator> {
        MemoryAllocator::new(Arc::new(MemoryFile::new(size).expect("memfd")))
    }

    #[test]
    fn allocates_zeroed_ranges_and_reuses_freed_ones() {
        let a = allocator(16 * PAGE);
        let x = a.allocate(4 * PAGE).unwrap();
        let y = a.allocate(4 * PAGE).unwrap();
        assert_ne!(x, y);
        assert_eq!(a.allocated(), 8 * PAGE);
        a.file().write(x, b"secret");
        a.dec_ref(x, 4 * PAGE);
        assert_eq!(a.allocated(), 4 * PAGE);
        let z = a.allocate(2 * PAGE).unwrap();
        assert_eq!(z, x, "first fit reuses the freed range");
        let mut buf = [0xffu8; 6];
        a.file().read(z, &mut buf);
        assert_eq!(buf, [0; 6], "a reused range reads as zeros");
    }

    #[test]
    fn the_warm_pool_is_zeroed_on_reuse_and_cooled_before_running_out() {
        let a = allocator(8 * PAGE);
        let x = a.allocate(2 * PAGE).unwrap();
        a.file().write(x + PAGE, b"secret");
        a.dec_ref(x, 2 * PAGE);
        assert_eq!(a.lock().warm_bytes, 2 * PAGE, "kept resident");
        let y = a.allocate(PAGE).unwrap();
        let z = a.allocate(PAGE).unwrap();
        let mut buf = [0xffu8; 6];
        a.file().read(x + PAGE, &mut buf);
        assert_eq!((y, z, buf), (x, x + PAGE, [0; 6]), "reused, zeroed");
        // Warm pages too few for a range, below a bump region too small
        // for it: cooling them (back to the host and the bump region)
        // makes room.
        let w = a.allocate(2 * PAGE).unwrap();
        a.dec_ref(x, 2 * PAGE);
        a.dec_ref(w, 2 * PAGE);
        assert_eq!(a.lock().warm_bytes, 4 * PAGE);
        assert_eq!(a.allocate(6 * PAGE), Ok(0));
        assert_eq!(a.lock().warm_bytes, 0);
    }

    #[test]
    fn runs_out_with_enomem() {
        let a = allocator(4 * PAGE);
        assert_eq!(a.allocate(8 * PAGE), Err(Errno::ENOMEM));
        let x = a.allocate(4 * PAGE).unwrap();
        assert_eq!(a.allocate(PAGE), Err(Errno::ENOMEM));
        a.dec_ref(x + PAGE, PAGE);
        assert_eq!(a.allocate(PAGE), Ok(x + PAGE));
    }

    #[test]
    fn shared_pages_live_until_the_last_reference() {
        let a = allocator(8 * PAGE);
        let x = a.allocate(2 * PAGE).unwrap();
        a.inc_ref(x, PAGE);
        a.dec_ref(x, 2 * PAGE);
        assert_eq!(a.allocated(), PAGE);
        a.dec_ref(x, PAGE);
        assert_eq!(a.allocated(), 0);
        // Everything went back to the bump region.
        assert_eq!(a.allocate(8 * PAGE), Ok(0));
    }

    #[test]
    fn one_allocator_per_file() {
        let file = Arc::new(MemoryFile::new(4 * PAGE).expect("memfd"));
        let a = MemoryAllocator::for_file(&file);
        let b = MemoryAllocator::for_file(&file);
        assert!(Arc::ptr_eq(&a, &b));
        let other = Arc::new(MemoryFile::new(4 * PAGE).expect("memfd"));
        assert!(!Arc::ptr_eq(&a, &MemoryAllocator::for_file(&other)));
    }
}
