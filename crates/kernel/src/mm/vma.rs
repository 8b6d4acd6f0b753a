//! VMAs: what the program asked to have mapped where, and the search for
//! free address ranges.
//!
//! A [`Vma`] is the value of one segment of the VMA tree (a
//! [`RangeMap`]); its range is the key. Splitting a file-backed VMA moves
//! the right part's file offset; compatible neighbours merge, as Linux's
//! `vma_merge` does.

use std::sync::Arc;

use platform::Perms;

use super::Mappable;
use super::range::{RangeMap, Segment};

/// Linux's default `stack_guard_gap` (256 pages): placement keeps this much
/// room below a `MAP_GROWSDOWN` VMA, and a stack never grows closer than
/// this to the VMA below it.
pub(super) const STACK_GUARD_GAP: u64 = 256 * abi::PAGE_SIZE;

/// What a VMA maps.
#[derive(Clone, Debug)]
pub enum VmaBacking {
    /// Zero-filled memory.
    Anonymous,
    /// A file's contents from `offset` (the file offset of the VMA's start).
    File {
        /// The file.
        file: Arc<dyn Mappable>,
        /// File offset of the VMA's first byte.
        offset: u64,
    },
}

/// One mapping's properties (its range is the tree key).
#[derive(Clone, Debug)]
pub struct Vma {
    /// The access the program asked for (`PROT_*`).
    pub perms: Perms,
    /// The most `mprotect` may grant (Linux's `VM_MAY*`): a shared mapping
    /// of a file not open for writing can never become writable.
    pub max_perms: Perms,
    /// `MAP_SHARED`. Shared anonymous memory is never copied nor
    /// copied-on-write across fork; shared file mappings map the file's
    /// page cache (files with one) or a copy (the read-only rootfs).
    pub shared: bool,
    /// What backs it.
    pub backing: VmaBacking,
    /// `MAP_GROWSDOWN`: a fault just below extends it (a stack).
    pub growsdown: bool,
    /// `mlock`ed (`VM_LOCKED`); memory is never swapped, so this is bookkeeping.
    pub locked: bool,
    /// `MADV_DONTFORK`: a child does not inherit it.
    pub dontfork: bool,
    /// `MADV_WIPEONFORK`: a child sees it zeroed.
    pub wipeonfork: bool,
}

impl Vma {
    /// The file and file offset backing the address `at` bytes into the VMA.
    pub(super) fn file_at(&self, at: u64) -> Option<(&Arc<dyn Mappable>, u64)> {
        match &self.backing {
            VmaBacking::Anonymous => None,
            VmaBacking::File { file, offset } => Some((file, offset.saturating_add(at))),
        }
    }

    /// Whether the program may read it at all (on x86, write and execute imply read).
    pub(super) fn accessible(&self) -> bool {
        self.perms.read || self.perms.write || self.perms.execute
    }
}

fn same_file(a: &Arc<dyn Mappable>, b: &Arc<dyn Mappable>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

impl Segment for Vma {
    fn split(&mut self, offset: u64) -> Self {
        let mut right = self.clone();
        if let VmaBacking::File {
            offset: file_offset,
            ..
        } = &mut right.backing
        {
            *file_offset = file_offset.saturating_add(offset);
        }
        right
    }

    fn can_merge(&self, len: u64, right: &Self) -> bool {
        let backing = match (&self.backing, &right.backing) {
            (VmaBacking::Anonymous, VmaBacking::Anonymous) => true,
            (VmaBacking::File { file: a, offset: x }, VmaBacking::File { file: b, offset: y }) => {
                same_file(a, b) && x.checked_add(len) == Some(*y)
            }
            _ => false,
        };
        backing
            && self.perms == right.perms
            && self.max_perms == right.max_perms
            && self.shared == right.shared
            && self.growsdown == right.growsdown
            && self.locked == right.locked
            && self.dontfork == right.dontfork
            && self.wipeonfork == right.wipeonfork
    }
}

/// Where a gap above a VMA may begin (Linux's `vm_end_gap`; no VMA grows up on x86).
fn end_gap(_vma: &Vma, end: u64) -> u64 {
    end
}

/// Where a gap below a VMA must end (Linux's `vm_start_gap`).
fn start_gap(vma: &Vma, start: u64) -> u64 {
    if vma.growsdown {
        start.saturating_sub(STACK_GUARD_GAP)
    } else {
        start
    }
}

/// Whether `[start, end)` is free, guard gaps included (the check Linux
/// makes before honouring an `mmap` hint).
pub(super) fn range_is_free(vmas: &RangeMap<Vma>, start: u64, end: u64) -> bool {
    if vmas.overlaps(start, end) {
        return false;
    }
    let above_ok = vmas
        .find_next(end)
        .is_none_or(|(s, _, v)| end <= start_gap(v, s));
    let below_ok = vmas
        .find_prev(start)
        .is_none_or(|(_, e, v)| start >= end_gap(v, e));
    above_ok && below_ok
}

/// The highest `len`-byte free range in `[lo, hi)`: Linux's
/// `unmapped_area_topdown`.
pub(super) fn find_topdown(vmas: &RangeMap<Vma>, len: u64, lo: u64, hi: u64) -> Option<u64> {
    if hi <= lo || hi - lo < len {
        return None;
    }
    // The gap's top, lowered past each VMA from the top down.
    // The VMA straddling `hi`, or the first above it, bounds the top gap.
    let mut top = vmas
        .find_next(hi)
        .map_or(hi, |(s, _, v)| hi.min(start_gap(v, s)));
    let mut cursor = hi;
    while let Some((s, e, v)) = vmas.find_prev(cursor) {
        let bottom = end_gap(v, e).max(lo);
        if top > bottom && top - bottom >= len {
            return Some(top - len);
        }
        top = top.min(start_gap(v, s));
        cursor = s;
        if top <= lo {
            return None;
        }
    }
    (top > lo && top - lo >= len).then(|| top - len)
}

/// The lowest `len`-byte free range in `[lo, hi)`: Linux's `unmapped_area`.
pub(super) fn find_bottomup(vmas: &RangeMap<Vma>, len: u64, lo: u64, hi: u64) -> Option<u64> {
    if hi <= lo || hi - lo < len {
        return None;
    }
    let mut bottom = lo;
    if let Some((_, e, v)) = vmas.find_prev(lo) {
        bottom = bottom.max(end_gap(v, e));
    }
    let mut cursor = bottom;
    loop {
        let top = match vmas.find_next(cursor) {
            Some((s, _, v)) => start_gap(v, s).min(hi),
            None => hi,
        };
        if top > bottom && top - bottom >= len {
            return Some(bottom);
        }
        let (_, e, v) = vmas.find_next(cursor)?;
        bottom = bottom.max(end_gap(v, e));
        cursor = e;
        if bottom >= hi || hi - bottom < len {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: u64 = abi::PAGE_SIZE;

    fn anon(perms: Perms) -> Vma {
        Vma {
            perms,
            max_perms: Perms {
                read: true,
                write: true,
                execute: true,
            },
            shared: false,
            backing: VmaBacking::Anonymous,
            growsdown: false,
            locked: false,
            dontfork: false,
            wipeonfork: false,
        }
    }

    #[test]
    fn compatible_neighbours_merge_and_others_do_not() {
        let mut t = RangeMap::default();
        t.insert(0x1000, 0x3000, anon(Perms::READ));
        t.insert(0x3000, 0x5000, anon(Perms::READ));
        assert_eq!(t.len(), 1);
        t.insert(0x5000, 0x6000, anon(Perms::READ_WRITE));
        assert_eq!(t.len(), 2);
        // mprotect-like split of the middle, then restoring it re-merges.
        t.update(0x2000, 0x3000, |v| v.perms = Perms::NONE);
        assert_eq!(t.len(), 4);
        t.update(0x2000, 0x3000, |v| v.perms = Perms::READ);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn splitting_a_file_vma_moves_the_offset() {
        #[derive(Debug)]
        struct F;
        impl Mappable for F {
            fn size(&self) -> Result<u64, abi::Errno> {
                Ok(1 << 20)
            }
            fn fill(
                &self,
                _: &platform::MemoryFile,
                _: u64,
                _: u64,
                _: u64,
            ) -> Result<u64, abi::Errno> {
                Ok(0)
            }
            fn identity(&self) -> (u64, u64, String) {
                (0, 0, String::new())
            }
        }
        let file: Arc<dyn Mappable> = Arc::new(F);
        let mut v = anon(Perms::READ);
        v.backing = VmaBacking::File {
            file: Arc::clone(&file),
            offset: 0x10000,
        };
        let mut t = RangeMap::default();
        t.insert(0x40000, 0x50000, v);
        let removed = t.remove(0x42000, 0x43000);
        assert_eq!(removed.len(), 1);
        let (_, _, right) = t.find(0x43000).unwrap();
        assert_eq!(right.file_at(0).map(|(_, o)| o), Some(0x13000));
        // Putting the hole back with the right offset merges all three.
        let (s, e, mid) = removed.into_iter().next().unwrap();
        t.insert(s, e, mid);
        assert_eq!(t.len(), 1);
        // The wrong offset does not merge.
        t.remove(0x42000, 0x43000);
        let mut wrong = anon(Perms::READ);
        wrong.backing = VmaBacking::File { file, offset: 0 };
        t.insert(0x42000, 0x43000, wrong);
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn topdown_placement_fills_from_the_top() {
        let mut t = RangeMap::default();
        let (lo, hi) = (0x10000, 0x100000);
        let a = find_topdown(&t, 2 * PAGE, lo, hi).unwrap();
        assert_eq!(a, hi - 2 * PAGE);
        t.insert(a, a + 2 * PAGE, anon(Perms::READ));
        let b = find_topdown(&t, PAGE, lo, hi).unwrap();
        assert_eq!(b, a - PAGE);
        t.insert(b, b + PAGE, anon(Perms::READ_WRITE));
        // A hole that fits is found below the top.
        t.insert(0x20000, 0x30000, anon(Perms::NONE));
        t.remove(a, a + 2 * PAGE);
        assert_eq!(find_topdown(&t, PAGE, lo, hi), Some(hi - PAGE));
        assert_eq!(find_topdown(&t, hi, lo, hi), None);
        assert_eq!(find_topdown(&t, 0x10000, lo, 0x30000), Some(0x10000));
        assert_eq!(find_topdown(&t, 0x10001, lo, 0x30000), None);
    }

    #[test]
    fn placement_keeps_the_stack_guard_gap() {
        let mut t = RangeMap::default();
        let hi = 0x1000_0000;
        let mut stack = anon(Perms::READ_WRITE);
        stack.growsdown = true;
        t.insert(hi - 0x10000, hi, stack);
        let a = find_topdown(&t, PAGE, 0x10000, hi).unwrap();
        assert_eq!(a, hi - 0x10000 - STACK_GUARD_GAP - PAGE);
        assert!(!range_is_free(&t, hi - 0x10000 - PAGE, hi - 0x10000));
        assert!(range_is_free(&t, a, a + PAGE));
    }

    #[test]
    fn bottomup_placement_fills_from_the_bottom() {
        let mut t = RangeMap::default();
        t.insert(0x4000_0000, 0x4000_2000, anon(Perms::READ));
        assert_eq!(
            find_bottomup(&t, PAGE, 0x4000_0000, 0x8000_0000),
            Some(0x4000_2000)
        );
        t.insert(0x4000_3000, 0x8000_0000, anon(Perms::READ));
        assert_eq!(
            find_bottomup(&t, PAGE, 0x4000_0000, 0x8000_0000),
            Some(0x4000_2000)
        );
        assert_eq!(find_bottomup(&t, 2 * PAGE, 0x4000_0000, 0x8000_0000), None);
    }
}
