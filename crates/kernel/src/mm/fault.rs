//! Page faults: finding the VMA (growing a stack if needed), backing pages
//! with MemoryFile ranges, and mapping a fault-around window into the
//! platform's address space.

use abi::Errno;
use abi::signal::{BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGKILL, SIGSEGV};
use platform::{Access, MapChange, Perms};

use super::pma::Pma;
use super::vma::{STACK_GUARD_GAP, Vma};
use super::{FaultError, FaultSignal, MemoryManager, MmState, PAGE, page_down, page_up, range};

/// How much a fault maps around the faulting page: an aligned window, since
/// each fault costs a trap and a round trip to the platform.
pub(super) const FAULT_AROUND: u64 = 64 << 10;

/// The most one fault of a sequential run maps. A fault on the page just
/// past the last fault's window maps twice that window from there on, as
/// Linux's readahead ramps up: a program filling a large buffer takes one
/// fault per growing window rather than one per 64 KiB (gVisor maps whole
/// 2 MiB ranges of private anonymous memory on every fault). Pages mapped
/// ahead cost no host memory until the program touches them.
pub(super) const FAULT_AROUND_MAX: u64 = 2 << 20;

/// The smallest window of a sequential run whose second half is faulted
/// in ahead of the program ([`Touch::AheadFrom`]): 64 pages' first touches
/// (about 160 µs here) against a wake-up on another CPU (about 50 µs).
const PREFAULT_MIN_WINDOW: u64 = 512 << 10;

/// The last fault's window, to tell a sequential run of faults.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FaultRun {
    /// One past the last window.
    next: u64,
    /// The last window's length.
    len: u64,
}

impl FaultRun {
    /// The window for a fault at `page`: `(start, len)`, before clipping
    /// to the VMA, and whether the fault continues a sequential run.
    fn window(self, page: u64) -> (u64, u64, bool) {
        if self.len != 0 && page == self.next {
            (page, (self.len * 2).min(FAULT_AROUND_MAX), true)
        } else {
            let (start, len) = aligned_window(page);
            (start, len, false)
        }
    }
}

/// The aligned [`FAULT_AROUND`] window around `page`.
pub(super) fn aligned_window(page: u64) -> (u64, u64) {
    (page & !(FAULT_AROUND - 1), FAULT_AROUND)
}

/// How the pages [`MemoryManager::map_backed`] maps get their first touch.
#[derive(Clone, Copy, Debug)]
pub(super) enum Touch {
    /// By the program's faults on the host.
    OnFault,
    /// Now, before the mapping returns (`MAP_POPULATE`).
    Now,
    /// From this address on, ahead of the program, where the platform can
    /// do so alongside it: a sequential run will write them all.
    AheadFrom(u64),
}

/// Why pages could not be backed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BackError {
    /// The MemoryFile is full.
    OutOfMemory,
    /// The page lies beyond the end of the mapped file, or the file failed.
    Bus,
}

impl MemoryManager {
    /// Resolves a fault at `addr`: maps the page (and a window around it)
    /// if a VMA allows an access there, else returns the signal.
    ///
    /// `access` is approximate under ptrace (write means the host said the
    /// page was mapped but the access forbidden; execute means the fault
    /// address is the instruction pointer): a write or an execute the VMA
    /// does not allow is `SEGV_ACCERR`. A fault on a page that is mapped by
    /// now, for an access the VMA allows, is a race with another thread
    /// that mapped it: the page is mapped again and the access retried.
    ///
    /// # Errors
    /// [`FaultError::Signal`]: `SIGSEGV` with `SEGV_MAPERR` (no VMA) or
    /// `SEGV_ACCERR` (the VMA forbids it), `SIGBUS` with `BUS_ADRERR` (a file
    /// page beyond end of file), or `SIGKILL` (the sandbox's memory is full,
    /// as Linux's OOM killer would). [`FaultError::Platform`] when the
    /// platform failed, now or in an earlier mm operation.
    pub fn fault(&self, addr: u64, access: Access) -> Result<(), FaultError> {
        let mut st = self.lock();
        self.apply_invalidations_locked(&mut st);
        if let Some(err) = st.platform_error.take() {
            return Err(FaultError::Platform(err));
        }
        let signal = |signo, code| FaultError::Signal(FaultSignal { signo, code, addr });
        let page = page_down(addr);
        let Some((vma_start, vma_end, vma)) = self.find_vma(&mut st, page) else {
            return Err(signal(SIGSEGV, SEGV_MAPERR));
        };
        // A write to a page shared copy-on-write since a fork (mapped
        // read-only, so any fault on it that is not a read is a write).
        if vma.perms.write
            && st.pmas.find(page).is_some_and(|(_, _, pma)| pma.cow)
            && (access.write || st.mapped.find(page).is_some())
        {
            return match self.break_cow(&mut st, page, &vma) {
                Ok(()) => Ok(()),
                Err(BackError::OutOfMemory) => Err(signal(SIGKILL, 0)),
                Err(BackError::Bus) => Err(signal(SIGBUS, BUS_ADRERR)),
            }
            .and_then(|()| {
                self.map_backed(&mut st, page, page + PAGE, &vma, Touch::OnFault)
                    .map_err(FaultError::Platform)
            });
        }
        if !vma.accessible()
            || (access.write && !vma.perms.write)
            || (access.execute && !vma.perms.execute)
        {
            return Err(signal(SIGSEGV, SEGV_ACCERR));
        }
        if st.mapped.find(page).is_some() {
            // Mapped, with permissions that allow this access: another
            // thread of the address space mapped it after this thread
            // faulted. Mapping the page again settles any stale host
            // mapping, and the program retries the access.
            return self
                .map_backed(&mut st, page, page + PAGE, &vma, Touch::OnFault)
                .map_err(FaultError::Platform);
        }
        let (base, len, sequential) = st.fault_run.window(page);
        let window = match self.back_around(&mut st, page, (base, len), vma_start, vma_end, &vma) {
            Ok(window) => window,
            Err(BackError::Bus) => return Err(signal(SIGBUS, BUS_ADRERR)),
            Err(BackError::OutOfMemory) => return Err(signal(SIGKILL, 0)),
        };
        st.fault_run = FaultRun {
            next: window.1,
            len,
        };
        // A sequential run's window is written from its start: its second
        // half can be faulted in meanwhile, where that saves more than the
        // platform's hand-off to another CPU costs.
        let touch = if sequential && window.1 - window.0 >= PREFAULT_MIN_WINDOW {
            Touch::AheadFrom(page_down(window.0 + (window.1 - window.0) / 2))
        } else {
            Touch::OnFault
        };
        self.map_backed(&mut st, window.0, window.1, &vma, touch)
            .map_err(FaultError::Platform)
    }

    /// The VMA containing `page`, growing a `MAP_GROWSDOWN` VMA above it
    /// down to `page` if the stack limit and the guard gap allow (Linux's
    /// `expand_stack`).
    pub(super) fn find_vma(&self, st: &mut MmState, page: u64) -> Option<(u64, u64, Vma)> {
        if let Some((s, e, v)) = st.vmas.find(page) {
            return Some((s, e, v.clone()));
        }
        let (s, e, v) = st.vmas.find_next(page)?;
        if !v.growsdown || page < self.layout.min_addr || e - page > st.stack_limit {
            return None;
        }
        if let Some((_, prev_end, prev)) = st.vmas.find_prev(page)
            && !prev.growsdown
            && prev.accessible()
            && page.saturating_sub(prev_end) < STACK_GUARD_GAP
        {
            return None;
        }
        // Growsdown VMAs are anonymous, so the copy merges with the VMA.
        let grown = v.clone();
        st.vmas.insert(page, s, grown);
        let (s, e, v) = st.vmas.find(page)?;
        Some((s, e, v.clone()))
    }

    /// Where the VMA's pages with data end: the VMA's end, or for a file
    /// mapping the end of the page holding the file's last byte.
    pub(super) fn data_end(vma_start: u64, vma_end: u64, vma: &Vma) -> Result<u64, BackError> {
        let Some((file, offset)) = vma.file_at(0) else {
            return Ok(vma_end);
        };
        let size = file.size().map_err(|_| BackError::Bus)?;
        let in_file = page_up(size.saturating_sub(offset)).unwrap_or(u64::MAX);
        Ok(vma_start.saturating_add(in_file).min(vma_end))
    }

    /// Backs the unbacked pages around `page` (in the window `(base, len)`
    /// that holds it, not crossing already-backed pages). Returns the
    /// window, clipped to the VMA and the file's data.
    pub(super) fn back_around(
        &self,
        st: &mut MmState,
        page: u64,
        (base, len): (u64, u64),
        vma_start: u64,
        vma_end: u64,
        vma: &Vma,
    ) -> Result<(u64, u64), BackError> {
        let data_end = Self::data_end(vma_start, vma_end, vma)?;
        if page >= data_end {
            return Err(BackError::Bus);
        }
        let start = base.max(vma_start);
        let end = base.saturating_add(len).min(data_end);
        if st.pmas.find(page).is_none() {
            let run_start = st
                .pmas
                .find_prev(page)
                .map_or(start, |(_, e, _)| e.max(start));
            let run_end = st.pmas.find_next(page).map_or(end, |(s, _, _)| s.min(end));
            // The page the caller needs first, a hole of the file filled;
            // then its neighbours, where a file's holes are left to their
            // own faults (Linux's fault-around maps only the pages a file
            // has). Memory, or a full file system, may run out for the
            // neighbours but not for the page: they then stay unbacked.
            self.back(st, page, page + PAGE, vma_start, vma, true)?;
            let _ = self.back(st, run_start, run_end, vma_start, vma, false);
        }
        Ok((start, end))
    }

    /// Backs every unbacked page of `[start, end)` (inside the VMA that
    /// starts at `vma_start`, and inside its file data) with fresh
    /// MemoryFile pages: zeros, or the file's contents zero-padded; a file
    /// with a page cache lends its own pages, and its holes are filled
    /// (allocated) only if `fill_holes`, else left unbacked.
    pub(super) fn back(
        &self,
        st: &mut MmState,
        start: u64,
        end: u64,
        vma_start: u64,
        vma: &Vma,
        fill_holes: bool,
    ) -> Result<(), BackError> {
        for (gs, ge) in range::gaps(&st.pmas, start, end) {
            if self.back_cached(st, gs, ge, vma_start, vma, fill_holes)? {
                continue;
            }
            let len = ge - gs;
            let offset = self
                .allocator
                .allocate(len)
                .map_err(|_| BackError::OutOfMemory)?;
            if let Some((file, file_offset)) = vma.file_at(gs - vma_start)
                && file
                    .fill(&self.memory_file, offset, file_offset, len)
                    .is_err()
            {
                self.allocator.dec_ref(offset, len);
                return Err(BackError::Bus);
            }
            st.pmas.insert(
                gs,
                ge,
                Pma {
                    offset,
                    cow: false,
                    file: false,
                },
            );
        }
        Ok(())
    }

    /// Backs `[start, end)` of a file mapping with the file's own
    /// MemoryFile pages (its page cache): a shared mapping writes them, a
    /// private one maps them copy-on-write, so that it sees the file's
    /// changes until it writes the page, as on Linux. Holes are skipped
    /// unless `fill_holes`. Returns false for a file without such pages,
    /// whose mappings get copies.
    fn back_cached(
        &self,
        st: &mut MmState,
        start: u64,
        end: u64,
        vma_start: u64,
        vma: &Vma,
        fill_holes: bool,
    ) -> Result<bool, BackError> {
        let writable = vma.shared && vma.max_perms.write;
        let mut at = start;
        while at < end {
            let Some((file, file_offset)) = vma.file_at(at - vma_start) else {
                return Ok(false);
            };
            if !fill_holes && file.is_hole(file_offset) {
                at += PAGE;
                continue;
            }
            let offset = match file.shared_page(&self.allocator, file_offset, writable) {
                Ok(Some(offset)) => offset,
                Ok(None) if at == start => return Ok(false),
                Ok(None) => return Err(BackError::Bus),
                Err(abi::Errno::ENOMEM) => return Err(BackError::OutOfMemory),
                Err(_) => return Err(BackError::Bus),
            };
            st.pmas.insert(
                at,
                at + PAGE,
                Pma {
                    offset,
                    cow: !vma.shared,
                    file: true,
                },
            );
            at += PAGE;
        }
        Ok(true)
    }

    /// Gives `page` (backed, copy-on-write) a MemoryFile page of its own:
    /// a copy, unless no other address space shares it any more. The caller
    /// maps it again.
    pub(super) fn break_cow(
        &self,
        st: &mut MmState,
        page: u64,
        vma: &Vma,
    ) -> Result<(), BackError> {
        let Some((ps, _, pma)) = st.pmas.find(page) else {
            return Ok(());
        };
        let old = pma.offset + (page - ps);
        let offset = if vma.shared || self.allocator.is_exclusive(old) {
            old
        } else {
            let new = self
                .allocator
                .allocate(PAGE)
                .map_err(|_| BackError::OutOfMemory)?;
            let mut data = [0u8; abi::PAGE_SIZE_USIZE];
            self.memory_file.read(old, &mut data);
            self.memory_file.write(new, &data);
            self.allocator.dec_ref(old, PAGE);
            new
        };
        st.pmas.remove(page, page + PAGE);
        st.pmas.insert(
            page,
            page + PAGE,
            Pma {
                offset,
                cow: false,
                file: false,
            },
        );
        Ok(())
    }

    /// Maps the backed pages of `[start, end)` (inside one VMA) into the
    /// platform with the VMA's permissions (without write for pages still
    /// shared copy-on-write), in one [`platform::AddressSpace::apply`].
    pub(super) fn map_backed(
        &self,
        st: &mut MmState,
        start: u64,
        end: u64,
        vma: &Vma,
        touch: Touch,
    ) -> Result<(), platform::PlatformError> {
        if !vma.accessible() {
            return Ok(());
        }
        let populate = matches!(touch, Touch::Now);
        let mut changes: Vec<MapChange> = st
            .pmas
            .overlapping(start, end)
            .into_iter()
            .map(|(ps, pe, pma)| {
                let (s, e) = (ps.max(start), pe.min(end));
                let perms = if pma.cow {
                    Perms {
                        write: false,
                        ..vma.perms
                    }
                } else {
                    vma.perms
                };
                MapChange::Map {
                    addr: s,
                    offset: pma.offset + (s - ps),
                    len: e - s,
                    perms,
                    populate,
                }
            })
            .collect();
        if let Touch::AheadFrom(from) = touch
            && vma.perms.write
            && from < end
        {
            changes.push(MapChange::Prefault {
                addr: from,
                len: end - from,
            });
        }
        self.aspace.apply(&changes)?;
        for change in changes {
            if let MapChange::Map { addr, len, .. } = change {
                st.mapped.remove(addr, addr + len);
                st.mapped.insert(addr, addr + len, ());
            }
        }
        Ok(())
    }

    /// Faults in every page of the VMAs in `[start, end)` (`MAP_POPULATE`,
    /// `mlock`, `MADV_POPULATE_*`), up to the end of file data. With
    /// `write`, every VMA must be writable.
    ///
    /// # Errors
    /// `EFAULT` for a VMA without the access or a page beyond end of file,
    /// `ENOMEM` when memory runs out.
    pub(super) fn populate(
        &self,
        st: &mut MmState,
        start: u64,
        end: u64,
        write: bool,
    ) -> Result<(), Errno> {
        for (vs, ve, vma) in st.vmas.overlapping(start, end) {
            if !vma.accessible() || (write && !vma.perms.write) {
                return Err(Errno::EFAULT);
            }
            let (s, e) = (vs.max(start), ve.min(end));
            let data_end = Self::data_end(vs, ve, &vma).map_err(|_| Errno::EFAULT)?;
            let e2 = e.min(data_end);
            if s < e2 {
                self.back(st, s, e2, vs, &vma, true)
                    .map_err(|err| match err {
                        BackError::OutOfMemory => Errno::ENOMEM,
                        BackError::Bus => Errno::EFAULT,
                    })?;
                if let Err(err) = self.map_backed(st, s, e2, &vma, Touch::Now) {
                    st.platform_error.get_or_insert(err);
                    self.platform_failed
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            if e2 < e {
                return Err(Errno::EFAULT);
            }
        }
        Ok(())
    }
}
