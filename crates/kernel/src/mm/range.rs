//! A map from disjoint address ranges to values, with splitting and merging.
//!
//! The VMA tree, the pma tree, the set of ranges the platform has mapped and
//! the allocator's reference counts are all one of these: Linux's maple tree
//! and gVisor's segment sets play the same part. Ranges are half-open
//! `[start, end)` with `start < end`; nothing here knows about pages.

use std::collections::BTreeMap;
use std::ops::Bound;

/// A value that can be cut in two and glued back together.
pub(super) trait Segment: Clone {
    /// Cuts `self` (covering `len` bytes) at `offset` bytes from its start:
    /// `self` keeps the left part, and the right part's value is returned.
    fn split(&mut self, offset: u64) -> Self;

    /// Whether `self`, covering `len` bytes, and `right`, starting where
    /// `self` ends, may be one segment.
    fn can_merge(&self, len: u64, right: &Self) -> bool;
}

impl Segment for () {
    fn split(&mut self, _offset: u64) -> Self {}

    fn can_merge(&self, _len: u64, _right: &Self) -> bool {
        true
    }
}

/// Disjoint ranges, each with a value.
#[derive(Clone, Debug)]
pub(super) struct RangeMap<V> {
    /// start -> (end, value).
    map: BTreeMap<u64, (u64, V)>,
}

impl<V> Default for RangeMap<V> {
    fn default() -> Self {
        RangeMap {
            map: BTreeMap::new(),
        }
    }
}

impl<V: Segment> RangeMap<V> {
    /// The segment containing `addr`.
    pub(super) fn find(&self, addr: u64) -> Option<(u64, u64, &V)> {
        let (&start, (end, v)) = self.map.range(..=addr).next_back()?;
        (addr < *end).then_some((start, *end, v))
    }

    /// The first segment that ends after `addr` (it contains `addr` or lies above it).
    pub(super) fn find_next(&self, addr: u64) -> Option<(u64, u64, &V)> {
        if let Some(found) = self.find(addr) {
            return Some(found);
        }
        let (&start, (end, v)) = self
            .map
            .range((Bound::Excluded(addr), Bound::Unbounded))
            .next()?;
        Some((start, *end, v))
    }

    /// The last segment that starts before `addr`.
    pub(super) fn find_prev(&self, addr: u64) -> Option<(u64, u64, &V)> {
        let (&start, (end, v)) = self.map.range(..addr).next_back()?;
        Some((start, *end, v))
    }

    /// Whether any segment overlaps `[start, end)`.
    pub(super) fn overlaps(&self, start: u64, end: u64) -> bool {
        self.find_next(start).is_some_and(|(s, _, _)| s < end)
    }

    /// Whether `[start, end)` is covered without holes.
    pub(super) fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.find(at) {
                Some((_, e, _)) => at = e,
                None => return false,
            }
        }
        true
    }

    /// The segments overlapping `[start, end)`, unclipped, in address order.
    pub(super) fn overlapping(&self, start: u64, end: u64) -> Vec<(u64, u64, V)> {
        let mut out = Vec::new();
        if let Some((s, e, v)) = self.find(start) {
            out.push((s, e, v.clone()));
        }
        if end > start {
            for (&s, (e, v)) in self
                .map
                .range((Bound::Excluded(start), Bound::Excluded(end)))
            {
                out.push((s, *e, v.clone()));
            }
        }
        out
    }

    /// Every segment, in address order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, u64, &V)> {
        self.map.iter().map(|(&s, (e, v))| (s, *e, v))
    }

    /// How many segments there are.
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }

    /// Makes `addr` a segment boundary if a segment strictly contains it.
    pub(super) fn split_at(&mut self, addr: u64) {
        let Some((start, end, _)) = self.find(addr) else {
            return;
        };
        if start == addr {
            return;
        }
        let right = match self.map.get_mut(&start) {
            Some(entry) => {
                entry.0 = addr;
                entry.1.split(addr - start)
            }
            None => return,
        };
        self.map.insert(addr, (end, right));
    }

    /// Removes `[start, end)` and returns the removed pieces, clipped.
    pub(super) fn remove(&mut self, start: u64, end: u64) -> Vec<(u64, u64, V)> {
        if start >= end {
            return Vec::new();
        }
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.map.range(start..end).map(|(&s, _)| s).collect();
        keys.into_iter()
            .filter_map(|s| self.map.remove(&s).map(|(e, v)| (s, e, v)))
            .collect()
    }

    /// Inserts `[start, end)` (which must be free) and merges it with
    /// compatible neighbours.
    pub(super) fn insert(&mut self, start: u64, end: u64, value: V) {
        debug_assert!(
            start < end && !self.overlaps(start, end),
            "insert over a used range"
        );
        self.map.insert(start, (end, value));
        self.merge_around(start, end);
    }

    /// Applies `f` to the values in `[start, end)`, splitting at the edges,
    /// then merges what became compatible.
    pub(super) fn update(&mut self, start: u64, end: u64, mut f: impl FnMut(&mut V)) {
        if start >= end {
            return;
        }
        self.split_at(start);
        self.split_at(end);
        for (_, (_, v)) in self.map.range_mut(start..end) {
            f(v);
        }
        self.merge_around(start, end);
    }

    /// Merges compatible neighbours among the segments touching `[start, end]`.
    pub(super) fn merge_around(&mut self, start: u64, end: u64) {
        let mut at = match self.find_prev(start) {
            Some((s, _, _)) => s,
            None => start,
        };
        loop {
            let Some((s, e, _)) = self.find_next(at) else {
                return;
            };
            if s > end {
                return;
            }
            let merged = match (self.map.get(&s), self.map.get(&e)) {
                (Some((_, left)), Some((right_end, right))) if left.can_merge(e - s, right) => {
                    Some(*right_end)
                }
                _ => None,
            };
            match merged {
                Some(new_end) => {
                    self.map.remove(&e);
                    if let Some(entry) = self.map.get_mut(&s) {
                        entry.0 = new_end;
                    }
                }
                None => at = e,
            }
        }
    }
}

/// The gaps of `[start, end)` that no segment covers, in address order.
pub(super) fn gaps<V: Segment>(map: &RangeMap<V>, start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = start;
    for (s, e, _) in map.overlapping(start, end) {
        if s > at {
            out.push((at, s));
        }
        at = at.max(e);
    }
    if at < end {
        out.push((at, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value that merges only when contiguous, like a file offset.
    #[derive(Clone, Debug, PartialEq, Eq)]
    struct Off(u64);

    impl Segment for Off {
        fn split(&mut self, offset: u64) -> Self {
            Off(self.0 + offset)
        }
        fn can_merge(&self, len: u64, right: &Self) -> bool {
            self.0 + len == right.0
        }
    }

    fn dump(m: &RangeMap<Off>) -> Vec<(u64, u64, u64)> {
        m.iter().map(|(s, e, v)| (s, e, v.0)).collect()
    }

    #[test]
    fn insert_merges_contiguous_neighbours() {
        let mut m = RangeMap::default();
        m.insert(0, 10, Off(100));
        m.insert(20, 30, Off(120));
        m.insert(10, 20, Off(110));
        assert_eq!(dump(&m), vec![(0, 30, 100)]);
        m.insert(30, 40, Off(0));
        assert_eq!(dump(&m), vec![(0, 30, 100), (30, 40, 0)]);
    }

    #[test]
    fn remove_splits_and_clips() {
        let mut m = RangeMap::default();
        m.insert(0, 100, Off(1000));
        let removed = m.remove(10, 20);
        assert_eq!(removed, vec![(10, 20, Off(1010))]);
        assert_eq!(dump(&m), vec![(0, 10, 1000), (20, 100, 1020)]);
        assert!(m.remove(5, 5).is_empty());
        let removed = m.remove(0, 1000);
        assert_eq!(removed.len(), 2);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn update_splits_then_remerges() {
        let mut m: RangeMap<()> = RangeMap::default();
        m.insert(0, 100, ());
        m.update(10, 20, |_| {});
        assert_eq!(m.len(), 1);
        let mut o = RangeMap::default();
        o.insert(0, 100, Off(0));
        o.update(10, 20, |v| v.0 += 1000);
        assert_eq!(dump(&o), vec![(0, 10, 0), (10, 20, 1010), (20, 100, 20)]);
        o.update(10, 20, |v| v.0 -= 1000);
        assert_eq!(dump(&o), vec![(0, 100, 0)]);
    }

    #[test]
    fn lookups_and_gaps() {
        let mut m = RangeMap::default();
        m.insert(10, 20, Off(0));
        m.insert(30, 40, Off(100));
        assert!(m.find(9).is_none());
        assert_eq!(m.find(19).map(|(s, _, _)| s), Some(10));
        assert!(m.find(20).is_none());
        assert_eq!(m.find_next(20).map(|(s, _, _)| s), Some(30));
        assert_eq!(m.find_prev(30).map(|(s, _, _)| s), Some(10));
        assert!(m.overlaps(15, 35));
        assert!(!m.overlaps(20, 30));
        assert!(m.covers(12, 18));
        assert!(!m.covers(12, 32));
        assert_eq!(gaps(&m, 0, 50), vec![(0, 10), (20, 30), (40, 50)]);
        assert_eq!(gaps(&m, 12, 18), vec![]);
        assert_eq!(m.overlapping(15, 35).len(), 2);
    }
}
