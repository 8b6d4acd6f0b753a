#![doc = include_str!("README.md")]
//!
//! # Lock order
//!
//! [`MemoryManager`]'s state lock, then a mapped file's own lock (taken by
//! `Mappable` methods, which guards its [`PageCache`]), then a
//! [`MappingSet`]'s and an invalidation queue's, then the
//! [`MemoryAllocator`]'s lock (a leaf). Platform calls (`map_file`,
//! `unmap`) and `Mappable` methods run under the state lock; neither may
//! call back into the memory manager.

mod fault;
mod io;
mod page_cache;
mod pma;
mod range;
mod vma;

use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use abi::Errno;
use abi::mman::{
    MADV_COLD, MADV_COLLAPSE, MADV_DODUMP, MADV_DOFORK, MADV_DONTDUMP, MADV_DONTFORK,
    MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_HUGEPAGE, MADV_HWPOISON, MADV_KEEPONFORK,
    MADV_MERGEABLE, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_PAGEOUT, MADV_POPULATE_READ,
    MADV_POPULATE_WRITE, MADV_RANDOM, MADV_REMOVE, MADV_SEQUENTIAL, MADV_SOFT_OFFLINE,
    MADV_UNMERGEABLE, MADV_WILLNEED, MADV_WIPEONFORK, MAP_32BIT, MAP_FIXED, MAP_FIXED_NOREPLACE,
    MAP_GROWSDOWN, MAP_LOCKED, MAP_NONBLOCK, MAP_POPULATE, MAP_SHARED, MAP_SHARED_VALIDATE,
    MAP_TYPE, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_GROWSDOWN,
    PROT_GROWSUP, PROT_READ, PROT_SEM, PROT_WRITE,
};
use platform::{AddressSpace, MapChange, MemoryFile, Perms, PlatformError};
use zerocopy::{FromBytes, Immutable, IntoBytes};

pub use page_cache::{MappingSet, PageCache, chunk_in_page};
pub use pma::MemoryAllocator;
pub use vma::{Vma, VmaBacking};

use page_cache::InvalidationQueue;
use pma::Pma;
use range::RangeMap;

/// Something whose contents a private file mapping copies in on fault.
pub trait Mappable: Send + Sync + Debug {
    /// The file's current size in bytes.
    fn size(&self) -> Result<u64, Errno>;
    /// Copies up to `len` bytes at `file_offset` into the MemoryFile at
    /// `mf_offset`; returns how many were copied (short at end of file). The
    /// caller zeroes the rest. Only asked of files without a page cache
    /// (see [`Mappable::shared_page`]); the default refuses with `EIO`.
    ///
    /// # Errors
    /// The file's read error.
    fn fill(
        &self,
        _memory_file: &MemoryFile,
        _mf_offset: u64,
        _file_offset: u64,
        _len: u64,
    ) -> Result<u64, Errno> {
        Err(Errno::EIO)
    }
    /// (device, inode, path) for `/proc/[pid]/maps`.
    fn identity(&self) -> (u64, u64, String);
    /// For a file whose data lives in MemoryFile pages (a page cache): the
    /// page holding `file_offset` (page-aligned), allocated (from
    /// `allocator`, if the file has no pages of its own yet) and filled if
    /// missing, with a reference for the caller. `writable`: a shared
    /// mapping that may store to it maps it (so it may need writing back).
    /// `Ok(None)` for a file without a page cache, whose mappings get copies.
    ///
    /// # Errors
    /// `EFAULT` beyond the end of file, `ENOSPC` when the file system is
    /// full, `ENOMEM` when the MemoryFile is, or the host's error.
    fn shared_page(
        &self,
        _allocator: &Arc<MemoryAllocator>,
        _file_offset: u64,
        _writable: bool,
    ) -> Result<Option<u64>, Errno> {
        Ok(None)
    }
    /// Whether the page holding `file_offset` is a hole of the file's page
    /// cache (see [`Mappable::shared_page`]): a fault maps such a page only
    /// when it is the one touched, which fills it, as on Linux, whose
    /// fault-around maps only the pages a file has.
    fn is_hole(&self, _file_offset: u64) -> bool {
        false
    }
    /// The memory managers mapping the file, for a file that can shrink
    /// under its mappings.
    fn mapping_set(&self) -> Option<Arc<MappingSet>> {
        None
    }
    /// Punches a hole in file bytes `[offset, offset + len)` (page-aligned),
    /// as `fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)` does, for
    /// `madvise(MADV_REMOVE)`.
    ///
    /// # Errors
    /// `EOPNOTSUPP` for a file that cannot (the default), or the file's error.
    fn punch_hole(&self, _offset: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }
    /// Writes what shared mappings stored in file bytes `[offset, offset +
    /// len)` back to where the file lives (a host file), for `msync` and
    /// `munmap`; `sync` also flushes it to the host's disk (`MS_SYNC`).
    ///
    /// # Errors
    /// The host's error.
    fn writeback(&self, _offset: u64, _len: u64, _sync: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// What a file's `mmap` maps.
#[derive(Clone, Debug)]
pub enum MmapBacking {
    /// Fresh zeroed memory, as for `/dev/zero`.
    Anonymous,
    /// The file's contents.
    File(Arc<dyn Mappable>),
}

/// An `mmap(2)` request, already checked for flags the caller rejects.
#[derive(Clone, Debug)]
pub struct MmapRequest {
    /// The hint, or the address for `MAP_FIXED`.
    pub addr: u64,
    /// The length in bytes (rounded up to pages here).
    pub len: u64,
    /// `PROT_*`.
    pub prot: u32,
    /// `MAP_*`.
    pub flags: u32,
    /// The file and the (page-aligned) file offset; `None` for anonymous memory.
    pub file: Option<(Arc<dyn Mappable>, u64)>,
}

/// The signal a fault turns into when no VMA allows the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultSignal {
    /// `SIGSEGV`, `SIGBUS`, or `SIGKILL` when the sandbox is out of memory.
    pub signo: u32,
    /// `si_code` (`SEGV_MAPERR`, `SEGV_ACCERR`, `BUS_ADRERR`).
    pub code: i32,
    /// The faulting address (`si_addr`).
    pub addr: u64,
}

/// Why [`MemoryManager::fault`] could not resolve a fault.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// The program did something wrong: deliver this signal.
    #[error("fault at {:#x}: signal {} code {}", .0.addr, .0.signo, .0.code)]
    Signal(FaultSignal),
    /// The platform failed to change the address space: the sandbox cannot go on.
    #[error("address space update failed")]
    Platform(#[source] PlatformError),
}

/// Where the loader places things.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// The lowest address the program may map.
    pub min_addr: u64,
    /// One past the highest address the program may map.
    pub max_addr: u64,
    /// The top of the initial stack (randomized).
    pub stack_top: u64,
    /// Where top-down `mmap` placement starts (randomized).
    pub mmap_base: u64,
    /// The load bias of a position-independent executable (randomized).
    pub pie_base: u64,
}

/// A snapshot of one VMA, for `/proc/[pid]/maps`.
#[derive(Clone, Debug)]
pub struct VmaInfo {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// The VMA's properties.
    pub vma: Vma,
    /// Whether it is (part of) the heap that `brk` manages.
    pub heap: bool,
}

const PAGE: u64 = abi::PAGE_SIZE;
/// Linux's `sysctl_max_map_count` default.
const MAX_MAP_COUNT: usize = 65_530;
/// The default `RLIMIT_STACK`, which bounds stack growth until the task sets it.
const DEFAULT_STACK_LIMIT: u64 = 8 << 20;

/// `x` rounded up to a page, or `None` on overflow.
fn page_up(x: u64) -> Option<u64> {
    x.checked_add(PAGE - 1).map(|v| v & !(PAGE - 1))
}

/// `x` rounded down to a page.
fn page_down(x: u64) -> u64 {
    x & !(PAGE - 1)
}

/// `x` rounded up to a page as Linux's `PAGE_ALIGN` does: wrapping to 0 on overflow.
fn page_align_wrapping(x: u64) -> u64 {
    x.wrapping_add(PAGE - 1) & !(PAGE - 1)
}

/// One address space's memory: VMAs, what backs them, and the platform's view.
#[derive(Debug)]
pub struct MemoryManager {
    memory_file: Arc<MemoryFile>,
    allocator: Arc<MemoryAllocator>,
    aspace: Arc<dyn AddressSpace>,
    layout: Layout,
    /// Everything that changes. The outermost mm lock.
    state: Mutex<MmState>,
    /// Set with `MmState::platform_error`, so the check after every
    /// syscall needs no lock.
    platform_failed: std::sync::atomic::AtomicBool,
    /// What files this address space maps asked it to drop.
    invalidations: Arc<InvalidationQueue>,
}

/// The state guarded by `MemoryManager::state`.
#[derive(Debug)]
struct MmState {
    /// What the program mapped.
    vmas: RangeMap<Vma>,
    /// Which program pages have MemoryFile pages (always inside VMAs).
    pmas: RangeMap<Pma>,
    /// Which ranges the platform maps, with the VMA's permissions of the
    /// time (always inside pmas). A fault on one of these is an access the
    /// VMA does not allow.
    mapped: RangeMap<()>,
    /// The heap's start (`mm->start_brk`).
    brk_start: u64,
    /// The program break (`mm->brk`), not page-aligned.
    brk: u64,
    /// How far a `MAP_GROWSDOWN` VMA may grow (RLIMIT_STACK).
    stack_limit: u64,
    /// `mlockall(MCL_FUTURE)`: new mappings start locked.
    lock_future: bool,
    /// A platform failure not yet reported through [`MemoryManager::fault`].
    platform_error: Option<PlatformError>,
    /// `mm->arg_start`, `arg_end`, `env_start`, `env_end`: where the loader
    /// put the argument and environment strings (for `/proc/[pid]/cmdline`
    /// and `environ`).
    arg_bounds: [u64; 4],
    /// The last fault's window (sequential faults map more).
    fault_run: fault::FaultRun,
}

impl MemoryManager {
    /// A memory manager for an empty address space, where the program may
    /// use `[min_addr, max_addr)`, with a freshly randomized [`Layout`].
    pub fn new(
        memory_file: Arc<MemoryFile>,
        aspace: Arc<dyn AddressSpace>,
        min_addr: u64,
        max_addr: u64,
    ) -> MemoryManager {
        let min_addr = page_up(min_addr.max(PAGE)).unwrap_or(PAGE);
        let max_addr = page_down(max_addr).max(min_addr);
        let layout = randomized_layout(min_addr, max_addr);
        MemoryManager {
            platform_failed: std::sync::atomic::AtomicBool::new(false),
            invalidations: Arc::default(),
            allocator: MemoryAllocator::for_file(&memory_file),
            memory_file,
            aspace,
            layout,
            state: Mutex::new(MmState {
                vmas: RangeMap::default(),
                pmas: RangeMap::default(),
                mapped: RangeMap::default(),
                brk_start: 0,
                brk: 0,
                stack_limit: DEFAULT_STACK_LIMIT,
                lock_future: false,
                platform_error: None,
                arg_bounds: [0; 4],
                fault_run: fault::FaultRun::default(),
            }),
        }
    }

    /// The platform's address space this manager fills.
    pub fn address_space(&self) -> &Arc<dyn AddressSpace> {
        &self.aspace
    }

    /// Where the loader places the stack, mmap area and PIE.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    fn lock(&self) -> MutexGuard<'_, MmState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a platform failure that happened during an mm operation (an
    /// `unmap` the host refused in `munmap`, say). The task loop should end
    /// the sandbox when this returns one; [`MemoryManager::fault`] also
    /// reports it.
    pub fn take_platform_error(&self) -> Option<PlatformError> {
        // Asked after every syscall: the lock only when something failed.
        if !self
            .platform_failed
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return None;
        }
        self.lock().platform_error.take()
    }

    /// Drops the pages this address space maps of files that shrank (or
    /// had holes punched) since: see [`MappingSet::invalidate`]. Must run
    /// on a host thread that may change this address space; the task loop
    /// calls it before the program runs on. Cheap when nothing is queued.
    pub fn apply_invalidations(&self) {
        if self.invalidations.is_pending() {
            let mut st = self.lock();
            self.apply_invalidations_locked(&mut st);
        }
    }

    fn apply_invalidations_locked(&self, st: &mut MmState) {
        for inv in self.invalidations.take() {
            let Some(set) = inv.set.upgrade() else {
                continue;
            };
            let hits: Vec<(u64, u64, bool)> = st
                .vmas
                .iter()
                .filter_map(|(s, e, v)| {
                    let (file, offset) = v.file_at(0)?;
                    if !file.mapping_set().is_some_and(|vs| Arc::ptr_eq(&vs, &set)) {
                        return None;
                    }
                    let lo = inv.start.max(offset);
                    let hi = inv.end.min(offset.saturating_add(e - s));
                    let everything = v.shared || inv.even_private;
                    (lo < hi).then(|| (s + (lo - offset), s + (hi - offset), everything))
                })
                .collect();
            for (start, end, everything) in hits {
                if everything {
                    self.release(st, start, end);
                    continue;
                }
                // A hole punched under a private mapping takes the file's
                // pages it maps; its own copies stay (Linux's zap without
                // `even_cows`).
                let file_pages: Vec<(u64, u64)> = st
                    .pmas
                    .overlapping(start, end)
                    .into_iter()
                    .filter(|(_, _, pma)| pma.file)
                    .map(|(s, e, _)| (s.max(start), e.min(end)))
                    .collect();
                for (s, e) in file_pages {
                    self.release(st, s, e);
                }
            }
        }
    }

    /// Sets how far a `MAP_GROWSDOWN` stack may grow (`RLIMIT_STACK`).
    pub fn set_stack_limit(&self, bytes: u64) {
        self.lock().stack_limit = bytes;
    }

    /// Records where the argument and environment strings are
    /// (`[arg_start, arg_end, env_start, env_end]`), as the loader built them.
    pub fn set_arg_bounds(&self, bounds: [u64; 4]) {
        self.lock().arg_bounds = bounds;
    }

    /// `[arg_start, arg_end, env_start, env_end]` (zeros before a program is loaded).
    pub fn arg_bounds(&self) -> [u64; 4] {
        self.lock().arg_bounds
    }

    /// How many bytes of the address space have memory behind them (RSS).
    pub fn resident_bytes(&self) -> u64 {
        self.lock().pmas.iter().map(|(s, e, _)| e - s).sum()
    }

    /// A snapshot of the VMAs, in address order.
    pub fn vmas(&self) -> Vec<VmaInfo> {
        let st = self.lock();
        let heap_end = page_up(st.brk).unwrap_or(st.brk);
        st.vmas
            .iter()
            .map(|(start, end, vma)| VmaInfo {
                start,
                end,
                vma: vma.clone(),
                heap: st.brk_start < heap_end && start < heap_end && end > st.brk_start,
            })
            .collect()
    }

    /// Implements Linux's `do_mmap` for a request whose flags the caller
    /// validated; every mapping may become readable, writable and executable.
    ///
    /// # Errors
    /// As [`MemoryManager::mmap_with_max_prot`].
    pub fn mmap(&self, req: MmapRequest) -> Result<u64, Errno> {
        self.mmap_with_max_prot(req, PROT_READ | PROT_WRITE | PROT_EXEC)
    }

    /// Implements Linux's `do_mmap`: places (or, with `MAP_FIXED`, replaces)
    /// a mapping and returns its address. `max_prot` is what `mprotect` may
    /// later grant (a `MAP_SHARED` mapping of a file not open for writing
    /// never becomes writable).
    ///
    /// # Errors
    /// `EINVAL` (zero length, unaligned `MAP_FIXED` address, growsdown shared
    /// or file mapping), `ENOMEM` (no room, length overflow, too many maps),
    /// `EPERM` (fixed below the lowest address), `EEXIST`
    /// (`MAP_FIXED_NOREPLACE` over a mapping), `EOVERFLOW` (file offset).
    pub fn mmap_with_max_prot(&self, req: MmapRequest, max_prot: u32) -> Result<u64, Errno> {
        let mut st = self.lock();
        self.mmap_locked(&mut st, req, max_prot)
    }

    fn mmap_locked(&self, st: &mut MmState, req: MmapRequest, max_prot: u32) -> Result<u64, Errno> {
        let Layout {
            min_addr, max_addr, ..
        } = self.layout;
        if req.len == 0 {
            return Err(Errno::EINVAL);
        }
        let mut flags = req.flags;
        if flags & MAP_FIXED_NOREPLACE != 0 {
            flags |= MAP_FIXED;
        }
        let fixed = flags & MAP_FIXED != 0;
        let mut addr = req.addr;
        if !fixed {
            // round_hint_to_min
            addr = page_down(addr);
            if addr != 0 && addr < min_addr {
                addr = min_addr;
            }
        }
        let len = page_up(req.len).ok_or(Errno::ENOMEM)?;
        if let Some((_, offset)) = &req.file
            && offset
                .checked_add(len)
                .is_none_or(|end| end > i64::MAX.unsigned_abs())
        {
            return Err(Errno::EOVERFLOW);
        }
        if st.vmas.len() >= MAX_MAP_COUNT {
            return Err(Errno::ENOMEM);
        }
        let shared = matches!(flags & MAP_TYPE, MAP_SHARED | MAP_SHARED_VALIDATE);
        let growsdown = flags & MAP_GROWSDOWN != 0;
        if growsdown && (shared || req.file.is_some()) {
            return Err(Errno::EINVAL);
        }
        if len > max_addr - min_addr {
            return Err(Errno::ENOMEM);
        }
        let start = if fixed {
            if addr > max_addr - len {
                return Err(Errno::ENOMEM);
            }
            if !addr.is_multiple_of(PAGE) {
                return Err(Errno::EINVAL);
            }
            if addr < min_addr {
                return Err(Errno::EPERM);
            }
            if flags & MAP_FIXED_NOREPLACE != 0 && st.vmas.overlaps(addr, addr + len) {
                return Err(Errno::EEXIST);
            }
            addr
        } else {
            self.unmapped_area(st, addr, len, flags & MAP_32BIT != 0)
                .ok_or(Errno::ENOMEM)?
        };
        let vma = Vma {
            perms: Perms::from_prot(req.prot),
            max_perms: Perms::from_prot(max_prot),
            shared,
            backing: match req.file {
                Some((file, offset)) => VmaBacking::File { file, offset },
                None => VmaBacking::Anonymous,
            },
            growsdown,
            locked: flags & MAP_LOCKED != 0 || st.lock_future,
            dontfork: false,
            wipeonfork: false,
        };
        let end = start + len;
        if fixed {
            self.unmap_locked(st, start, end);
        }
        if let Some(set) = vma.file_at(0).and_then(|(f, _)| f.mapping_set()) {
            set.register(&self.invalidations);
        }
        let populate = vma.locked || flags & (MAP_POPULATE | MAP_NONBLOCK) == MAP_POPULATE;
        st.vmas.insert(start, end, vma);
        if populate {
            // Linux ignores population failures (mm_populate's result).
            let _ = self.populate(st, start, end, false);
        }
        Ok(start)
    }

    /// Linux's `get_unmapped_area` for a non-fixed mapping: the hint if it
    /// is free, else top-down from `mmap_base`, else anywhere.
    fn unmapped_area(&self, st: &MmState, hint: u64, len: u64, low32: bool) -> Option<u64> {
        let Layout {
            min_addr,
            max_addr,
            mmap_base,
            ..
        } = self.layout;
        if hint != 0
            && hint >= min_addr
            && hint <= max_addr - len
            && vma::range_is_free(&st.vmas, hint, hint + len)
        {
            return Some(hint);
        }
        if low32 {
            let lo = min_addr.max(0x4000_0000);
            let hi = max_addr.min(0x8000_0000);
            return vma::find_bottomup(&st.vmas, len, lo, hi);
        }
        vma::find_topdown(&st.vmas, len, min_addr, mmap_base.min(max_addr))
            .or_else(|| vma::find_topdown(&st.vmas, len, min_addr, max_addr))
    }

    /// Removes the platform's mappings in `[start, end)`. Returns false (and
    /// records the error) if the platform refused: the caller must then not
    /// reuse the MemoryFile pages that might still be mapped.
    fn unmap_platform(&self, st: &mut MmState, start: u64, end: u64) -> bool {
        if start >= end {
            return true;
        }
        if !self.apply_to_runs(st, start, end, |addr, len| MapChange::Unmap { addr, len }) {
            return false;
        }
        st.mapped.remove(start, end);
        true
    }

    /// Gives the pages mapped in `[start, end)` the permissions `perms`,
    /// which have no write access, keeping them mapped. Returns false if
    /// the platform failed (recorded for the next fault or switch).
    fn protect_platform(&self, st: &mut MmState, start: u64, end: u64, perms: Perms) -> bool {
        self.apply_to_runs(st, start, end, |addr, len| MapChange::Protect {
            addr,
            len,
            perms,
        })
    }

    /// Makes `change(addr, len)` of every run of mapped pages in `[start,
    /// end)`, in one platform call. Returns false if the platform failed
    /// (recorded).
    fn apply_to_runs(
        &self,
        st: &mut MmState,
        start: u64,
        end: u64,
        change: impl Fn(u64, u64) -> MapChange,
    ) -> bool {
        let changes: Vec<MapChange> = mapped_runs(&st.mapped, start, end)
            .into_iter()
            .map(|(s, e)| change(s, e - s))
            .collect();
        if let Err(err) = self.aspace.apply(&changes) {
            self.platform_failure(st, err);
            return false;
        }
        true
    }

    /// Records a platform failure: the address space no longer matches the
    /// VMAs, and the sandbox cannot go on.
    fn platform_failure(&self, st: &mut MmState, err: PlatformError) {
        st.platform_error.get_or_insert(err);
        self.platform_failed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Drops the backing of `[start, end)` (the VMAs stay): the pages read
    /// as zeros or file contents again.
    fn release(&self, st: &mut MmState, start: u64, end: u64) {
        let ok = self.unmap_platform(st, start, end);
        for (s, e, pma) in st.pmas.remove(start, end) {
            if ok {
                self.allocator.dec_ref(pma.offset, e - s);
            }
            // Else leaked on purpose: the platform may still map the pages.
        }
    }

    /// Removes every mapping in `[start, end)`. What shared mappings stored
    /// in host files is written back (Linux leaves that to its writeback,
    /// which the sentry does not have).
    fn unmap_locked(&self, st: &mut MmState, start: u64, end: u64) {
        for (s, e, vma) in st.vmas.remove(start, end) {
            if vma.shared
                && let Some((file, offset)) = vma.file_at(0)
            {
                // munmap cannot fail for this; msync and fsync report it.
                let _ = file.writeback(offset, e - s, false);
            }
        }
        self.release(st, start, end);
    }

    /// Implements Linux's `munmap`.
    ///
    /// # Errors
    /// `EINVAL` if `addr` is unaligned, the range leaves the address space,
    /// or `len` is zero.
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        let max = self.layout.max_addr;
        if !addr.is_multiple_of(PAGE) || addr > max || len > max - addr {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        self.unmap_locked(&mut st, addr, addr + len);
        Ok(())
    }

    /// Implements Linux's `mprotect`, including `PROT_GROWSDOWN`. As in
    /// Linux, VMAs before a hole or a refused VMA keep their new protection.
    ///
    /// # Errors
    /// `EINVAL` (unaligned, unknown bits, both grow bits, `PROT_GROWSDOWN`
    /// on a VMA that does not grow down, `PROT_GROWSUP`), `ENOMEM` (overflow,
    /// unmapped pages), `EACCES` (more than the mapping's maximum).
    pub fn mprotect(&self, addr: u64, len: u64, prot: u32) -> Result<(), Errno> {
        let grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
        let prot = prot & !grows;
        if grows == PROT_GROWSDOWN | PROT_GROWSUP {
            return Err(Errno::EINVAL);
        }
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(());
        }
        let end = page_up(len)
            .and_then(|l| addr.checked_add(l))
            .ok_or(Errno::ENOMEM)?;
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM) != 0 {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        let Some((first_start, _, first)) = st.vmas.find_next(addr) else {
            return Err(Errno::ENOMEM);
        };
        let mut start = addr;
        if grows & PROT_GROWSDOWN != 0 {
            if first_start >= end {
                return Err(Errno::ENOMEM);
            }
            if !first.growsdown {
                return Err(Errno::EINVAL);
            }
            start = first_start;
        } else {
            if first_start > start {
                return Err(Errno::ENOMEM);
            }
            if grows & PROT_GROWSUP != 0 {
                // No VMA grows up on x86.
                return Err(Errno::EINVAL);
            }
        }
        let perms = Perms::from_prot(prot);
        let mut at = start;
        let mut result = Ok(());
        while at < end {
            let Some((_, e, v)) = st.vmas.find(at) else {
                result = Err(Errno::ENOMEM);
                break;
            };
            if !v.max_perms.contains(perms) {
                result = Err(Errno::EACCES);
                break;
            }
            let e = e.min(end);
            if v.perms != perms {
                st.vmas.update(at, e, |v| v.perms = perms);
                // Access taken away stays mapped (ld.so's RELRO pages are
                // not read again through faults); write access comes back
                // only through a fault, which knows whether the page is
                // still shared copy-on-write.
                if perms.write {
                    self.unmap_platform(&mut st, at, e);
                } else {
                    self.protect_platform(&mut st, at, e, perms);
                }
            }
            at = e;
        }
        result
    }

    /// Implements Linux's `mremap`: shrinks, grows in place, moves
    /// (`MREMAP_MAYMOVE`, `MREMAP_FIXED`), or moves leaving the old range
    /// mapped but empty (`MREMAP_DONTUNMAP`). Moving moves the backing pages;
    /// nothing is copied.
    ///
    /// # Errors
    /// `EINVAL` (flags, alignment, zero new length, overlapping fixed target,
    /// zero old length: duplicating a shared mapping is not supported),
    /// `EFAULT` (no mapping at `addr`, or the old range crosses its end),
    /// `ENOMEM` (cannot grow and may not move, or no room).
    pub fn mremap(
        &self,
        addr: u64,
        old_len: u64,
        new_len: u64,
        flags: u32,
        new_addr: u64,
    ) -> Result<u64, Errno> {
        let max = self.layout.max_addr;
        if flags & !(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP) != 0 {
            return Err(Errno::EINVAL);
        }
        if flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::EINVAL);
        }
        let dontunmap = flags & MREMAP_DONTUNMAP != 0;
        if dontunmap && (flags & MREMAP_MAYMOVE == 0 || old_len != new_len) {
            return Err(Errno::EINVAL);
        }
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        let mut old_len = page_align_wrapping(old_len);
        let new_len = page_align_wrapping(new_len);
        if new_len == 0 || new_len > max {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        if st.vmas.find(addr).is_none() {
            return Err(Errno::EFAULT);
        }
        if flags & (MREMAP_FIXED | MREMAP_DONTUNMAP) != 0 {
            // mremap_to
            let fixed = flags & MREMAP_FIXED != 0;
            if fixed {
                if !new_addr.is_multiple_of(PAGE) {
                    return Err(Errno::EINVAL);
                }
                if new_len > max || new_addr > max - new_len {
                    return Err(Errno::EINVAL);
                }
                if addr.saturating_add(old_len) > new_addr && new_addr + new_len > addr {
                    return Err(Errno::EINVAL);
                }
                if new_addr < self.layout.min_addr {
                    return Err(Errno::EPERM);
                }
                self.unmap_locked(&mut st, new_addr, new_addr + new_len);
            }
            if old_len > new_len {
                let end = addr
                    .checked_add(old_len)
                    .filter(|&e| e <= max)
                    .ok_or(Errno::EINVAL)?;
                self.unmap_locked(&mut st, addr + new_len, end);
                old_len = new_len;
            }
            self.vma_to_resize(&st, addr, old_len, new_len)?;
            let target = if fixed {
                new_addr
            } else {
                self.unmapped_area(&st, page_down(new_addr), new_len, false)
                    .ok_or(Errno::ENOMEM)?
            };
            self.move_locked(&mut st, addr, old_len, new_len, target, dontunmap);
            return Ok(target);
        }
        if old_len >= new_len {
            if old_len != new_len {
                let end = addr
                    .checked_add(old_len)
                    .filter(|&e| e <= max)
                    .ok_or(Errno::EINVAL)?;
                self.unmap_locked(&mut st, addr + new_len, end);
            }
            return Ok(addr);
        }
        let (_, vma_end) = self.vma_to_resize(&st, addr, old_len, new_len)?;
        let delta = new_len - old_len;
        if addr + old_len == vma_end
            && vma_end.checked_add(delta).is_some_and(|e| e <= max)
            && !st.vmas.overlaps(vma_end, vma_end + delta)
        {
            // Grow in place: a copy of the last VMA piece, which merges.
            if let Some((s, _, v)) = st.vmas.find(vma_end - 1) {
                let mut left = v.clone();
                let right = range::Segment::split(&mut left, vma_end - s);
                st.vmas.insert(vma_end, vma_end + delta, right);
            }
            return Ok(addr);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(Errno::ENOMEM);
        }
        let target = self
            .unmapped_area(&st, 0, new_len, false)
            .ok_or(Errno::ENOMEM)?;
        self.move_locked(&mut st, addr, old_len, new_len, target, false);
        Ok(target)
    }

    /// Linux's `vma_to_resize`: the old range must lie in one VMA. Returns
    /// that VMA's bounds.
    fn vma_to_resize(
        &self,
        st: &MmState,
        addr: u64,
        old_len: u64,
        new_len: u64,
    ) -> Result<(u64, u64), Errno> {
        let (s, e, v) = st.vmas.find(addr).ok_or(Errno::EFAULT)?;
        if old_len == 0 {
            // Linux refuses this for private mappings and duplicates shared
            // ones; duplication is not supported here.
            return Err(Errno::EINVAL);
        }
        if old_len > e - addr {
            return Err(Errno::EFAULT);
        }
        if new_len != old_len
            && let Some((_, offset)) = v.file_at(addr - s)
            && offset.checked_add(new_len).is_none()
        {
            return Err(Errno::EINVAL);
        }
        Ok((s, e))
    }

    /// Moves `[addr, addr + old_len)` (inside one VMA) to `new_addr` (free),
    /// resized to `new_len`, with its backing pages.
    fn move_locked(
        &self,
        st: &mut MmState,
        addr: u64,
        old_len: u64,
        new_len: u64,
        new_addr: u64,
        dontunmap: bool,
    ) {
        let Some((s, _, v)) = st.vmas.find(addr) else {
            return;
        };
        let mut left = v.clone();
        let mut moved = range::Segment::split(&mut left, addr - s);
        if dontunmap {
            moved.locked = false;
        }
        let old_end = addr + old_len;
        self.unmap_platform(st, addr, old_end);
        let pmas = st.pmas.remove(addr, old_end);
        if !dontunmap {
            st.vmas.remove(addr, old_end);
        }
        st.vmas.insert(new_addr, new_addr + new_len, moved);
        for (ps, pe, pma) in pmas {
            st.pmas
                .insert(ps - addr + new_addr, pe - addr + new_addr, pma);
        }
    }

    /// Sets where the heap starts: the page-aligned end of the program's bss.
    /// Adds a random offset of up to 1 GiB, as Linux's `arch_randomize_brk`.
    pub fn set_brk_base(&self, addr: u64) {
        let max = self.layout.max_addr;
        let base = page_up(addr).unwrap_or(max).min(max);
        let room = (max - base).min(1 << 30);
        let base = base + page_down(io::random_u64() % room.max(1));
        let mut st = self.lock();
        st.brk_start = base;
        st.brk = base;
    }

    /// Implements Linux's `brk`: returns the new break, or the current one
    /// if the request is refused (below the heap's start, no room).
    pub fn brk(&self, addr: u64) -> u64 {
        let mut st = self.lock();
        let orig = st.brk;
        if addr < st.brk_start {
            return orig;
        }
        let (Some(new_end), Some(old_end)) = (page_up(addr), page_up(st.brk)) else {
            return orig;
        };
        if new_end == old_end {
            st.brk = addr;
            return addr;
        }
        if addr <= st.brk {
            st.brk = addr;
            self.unmap_locked(&mut st, new_end, old_end);
            return addr;
        }
        if new_end > self.layout.max_addr {
            return orig;
        }
        let guard = new_end.saturating_add(PAGE);
        if st.vmas.overlaps(old_end, new_end)
            || st.vmas.find_next(old_end).is_some_and(|(s, _, v)| {
                let gap = if v.growsdown {
                    s.saturating_sub(vma::STACK_GUARD_GAP)
                } else {
                    s
                };
                guard > gap
            })
        {
            return orig;
        }
        let locked = st.lock_future;
        st.vmas.insert(
            old_end,
            new_end,
            Vma {
                perms: Perms::READ_WRITE,
                max_perms: Perms {
                    read: true,
                    write: true,
                    execute: true,
                },
                shared: false,
                backing: VmaBacking::Anonymous,
                growsdown: false,
                locked,
                dontfork: false,
                wipeonfork: false,
            },
        );
        st.brk = addr;
        addr
    }

    /// Implements Linux's `madvise`. `MADV_DONTNEED` drops the pages of
    /// private mappings (they read back as zeros or file contents); the
    /// hints are accepted where Linux accepts them; `MADV_FREE` keeps the
    /// data (Linux may do either); `MADV_POPULATE_*` fault pages in.
    ///
    /// # Errors
    /// `EINVAL` (unknown advice, unaligned, overflow, advice the VMA does not
    /// take), `ENOMEM` (unmapped pages), `EACCES` (`MADV_REMOVE` on a
    /// mapping that is not shared and writable), `EPERM` (`MADV_HWPOISON`),
    /// `EFAULT` (`MADV_POPULATE_*` without the access).
    pub fn madvise(&self, addr: u64, len: u64, advice: u32) -> Result<(), Errno> {
        let known = matches!(
            advice,
            MADV_NORMAL
                | MADV_RANDOM
                | MADV_SEQUENTIAL
                | MADV_WILLNEED
                | MADV_DONTNEED
                | MADV_FREE
                | MADV_REMOVE
                | MADV_DONTFORK
                | MADV_DOFORK
                | MADV_MERGEABLE
                | MADV_UNMERGEABLE
                | MADV_HUGEPAGE
                | MADV_NOHUGEPAGE
                | MADV_DONTDUMP
                | MADV_DODUMP
                | MADV_WIPEONFORK
                | MADV_KEEPONFORK
                | MADV_COLD
                | MADV_PAGEOUT
                | MADV_POPULATE_READ
                | MADV_POPULATE_WRITE
                | MADV_DONTNEED_LOCKED
                | MADV_COLLAPSE
                | MADV_HWPOISON
                | MADV_SOFT_OFFLINE
        );
        if !known || !addr.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        let aligned = page_align_wrapping(len);
        if len != 0 && aligned == 0 {
            return Err(Errno::EINVAL);
        }
        let end = addr.checked_add(aligned).ok_or(Errno::EINVAL)?;
        if end == addr {
            return Ok(());
        }
        if matches!(advice, MADV_HWPOISON | MADV_SOFT_OFFLINE) {
            return Err(Errno::EPERM);
        }
        let mut st = self.lock();
        if matches!(advice, MADV_POPULATE_READ | MADV_POPULATE_WRITE) {
            if !st.vmas.covers(addr, end) {
                return Err(Errno::ENOMEM);
            }
            return self.populate(&mut st, addr, end, advice == MADV_POPULATE_WRITE);
        }
        let mut unmapped = false;
        let mut at = addr;
        while at < end {
            let Some((s, e, v)) = st.vmas.find_next(at) else {
                return Err(Errno::ENOMEM);
            };
            if s >= end {
                unmapped = true;
                break;
            }
            if s > at {
                unmapped = true;
                at = s;
            }
            let piece_end = e.min(end);
            let anon_private = !v.shared && matches!(v.backing, VmaBacking::Anonymous);
            match advice {
                MADV_DONTNEED | MADV_DONTNEED_LOCKED => {
                    if advice == MADV_DONTNEED && v.locked {
                        return Err(Errno::EINVAL);
                    }
                    if v.shared {
                        // Shared memory keeps its contents; only the
                        // platform's mapping goes.
                        self.unmap_platform(&mut st, at, piece_end);
                    } else {
                        self.release(&mut st, at, piece_end);
                    }
                }
                MADV_FREE if (v.locked || !anon_private) => {
                    return Err(Errno::EINVAL);
                }
                MADV_REMOVE => {
                    if v.locked {
                        return Err(Errno::EINVAL);
                    }
                    match (&v.backing, v.shared) {
                        (VmaBacking::Anonymous, false) => return Err(Errno::EINVAL),
                        (VmaBacking::Anonymous, true) => self.release(&mut st, at, piece_end),
                        (VmaBacking::File { file, offset }, true) if v.max_perms.write => {
                            // The file drops the pages; the mappings drop
                            // theirs before the program runs on.
                            file.punch_hole(offset + (at - s), piece_end - at)?;
                        }
                        (VmaBacking::File { .. }, _) => return Err(Errno::EACCES),
                    }
                }
                MADV_COLD | MADV_PAGEOUT if v.locked => return Err(Errno::EINVAL),
                MADV_DONTFORK => st.vmas.update(at, piece_end, |v| v.dontfork = true),
                MADV_DOFORK => st.vmas.update(at, piece_end, |v| v.dontfork = false),
                MADV_WIPEONFORK => {
                    if !anon_private {
                        return Err(Errno::EINVAL);
                    }
                    st.vmas.update(at, piece_end, |v| v.wipeonfork = true);
                }
                MADV_KEEPONFORK => st.vmas.update(at, piece_end, |v| v.wipeonfork = false),
                _ => {}
            }
            at = piece_end;
        }
        if unmapped { Err(Errno::ENOMEM) } else { Ok(()) }
    }

    /// Implements Linux's `msync`: writes what shared mappings in the range
    /// stored back to their files (host files; the others hold the data in
    /// the MemoryFile already), flushing them to disk with `sync`
    /// (`MS_SYNC`).
    ///
    /// # Errors
    /// `EINVAL` if unaligned, `ENOMEM` for unmapped pages, `EBUSY` for
    /// `MS_INVALIDATE` on locked memory, the host's error on writeback.
    pub fn msync(&self, addr: u64, len: u64, invalidate: bool, sync: bool) -> Result<(), Errno> {
        if !addr.is_multiple_of(PAGE) {
            return Err(Errno::EINVAL);
        }
        let end = addr
            .checked_add(page_align_wrapping(len))
            .ok_or(Errno::ENOMEM)?;
        let st = self.lock();
        let mut at = addr;
        let mut unmapped = false;
        while at < end {
            let Some((s, e, v)) = st.vmas.find_next(at) else {
                return Err(Errno::ENOMEM);
            };
            if s >= end {
                return Err(Errno::ENOMEM);
            }
            if s > at {
                unmapped = true;
            }
            if invalidate && v.locked {
                return Err(Errno::EBUSY);
            }
            let (from, to) = (s.max(at), e.min(end));
            if v.shared
                && let Some((file, offset)) = v.file_at(from - s)
            {
                file.writeback(offset, to - from, sync)?;
            }
            at = e;
        }
        if unmapped { Err(Errno::ENOMEM) } else { Ok(()) }
    }

    /// Implements Linux's `mlock`/`munlock` on `[addr, addr + len)` (widened
    /// to pages). Locking faults the pages in. `limit` is `RLIMIT_MEMLOCK` in
    /// bytes (`u64::MAX` for a task that may ignore it). Memory is never
    /// swapped, so the lock itself is bookkeeping.
    ///
    /// # Errors
    /// `EINVAL` on overflow, `ENOMEM` for unmapped pages or over the limit.
    pub fn mlock(&self, addr: u64, len: u64, lock: bool, limit: u64) -> Result<(), Errno> {
        let start = page_down(addr);
        let len = page_align_wrapping(len.wrapping_add(addr - start));
        let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
        if end == start {
            return Ok(());
        }
        let mut st = self.lock();
        if lock {
            let already: u64 = st
                .vmas
                .iter()
                .filter(|(_, _, v)| v.locked)
                .map(|(s, e, _)| e.min(end).saturating_sub(s.max(start)))
                .sum();
            let total = locked_bytes(&st)
                .saturating_add(len)
                .saturating_sub(already);
            if total > limit {
                return Err(Errno::ENOMEM);
            }
        }
        let mut at = start;
        while at < end {
            let Some((_, e, _)) = st.vmas.find(at) else {
                return Err(Errno::ENOMEM);
            };
            let e = e.min(end);
            st.vmas.update(at, e, |v| v.locked = lock);
            if lock {
                let _ = self.populate(&mut st, at, e, false);
            }
            at = e;
        }
        Ok(())
    }

    /// Implements Linux's `mlockall` (`current`: lock what is mapped;
    /// `future`: lock what gets mapped) and, with both false, `munlockall`.
    ///
    /// # Errors
    /// `ENOMEM` if locking everything would pass `limit` bytes.
    pub fn mlockall(&self, current: bool, future: bool, limit: u64) -> Result<(), Errno> {
        let mut st = self.lock();
        if !current && !future {
            st.lock_future = false;
            let all: Vec<(u64, u64)> = st.vmas.iter().map(|(s, e, _)| (s, e)).collect();
            for (s, e) in all {
                st.vmas.update(s, e, |v| v.locked = false);
            }
            return Ok(());
        }
        st.lock_future = future;
        if current {
            let total: u64 = st.vmas.iter().map(|(s, e, _)| e - s).sum();
            if total > limit {
                return Err(Errno::ENOMEM);
            }
            let all: Vec<(u64, u64)> = st.vmas.iter().map(|(s, e, _)| (s, e)).collect();
            for (s, e) in all {
                st.vmas.update(s, e, |v| v.locked = true);
                let _ = self.populate(&mut st, s, e, false);
            }
        }
        Ok(())
    }

    /// Linux's `mincore` for `pages` pages from `addr` (page-aligned; the
    /// caller bounds `pages`): 1 for a page in memory. Pages of a file
    /// mapping within the file count as in memory (as if page-cached).
    ///
    /// # Errors
    /// `ENOMEM` if a page is unmapped or the range leaves the address space.
    pub fn mincore(&self, addr: u64, pages: u64) -> Result<Vec<u8>, Errno> {
        let st = self.lock();
        let mut out = Vec::new();
        for i in 0..pages {
            let page = addr.checked_add(i * PAGE).ok_or(Errno::ENOMEM)?;
            let (s, _, v) = st.vmas.find(page).ok_or(Errno::ENOMEM)?;
            let backed = st.pmas.find(page).is_some();
            let cached = match v.file_at(page - s) {
                Some((file, offset)) => file.size().is_ok_and(|size| offset < size),
                None => false,
            };
            out.push(u8::from(backed || cached));
        }
        Ok(out)
    }

    /// Copies `buf.len()` bytes from program memory at `addr`.
    ///
    /// # Errors
    /// `EFAULT` if any byte is not readable.
    pub fn copy_in(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
        if self.copy_in_partial(addr, buf) == buf.len() {
            Ok(())
        } else {
            Err(Errno::EFAULT)
        }
    }

    /// Copies `buf` to program memory at `addr`.
    ///
    /// # Errors
    /// `EFAULT` if any byte is not writable.
    pub fn copy_out(&self, addr: u64, buf: &[u8]) -> Result<(), Errno> {
        if self.copy_out_partial(addr, buf) == buf.len() {
            Ok(())
        } else {
            Err(Errno::EFAULT)
        }
    }

    /// Reads a `T` from program memory.
    ///
    /// # Errors
    /// `EFAULT` if any byte is not readable.
    pub fn read_obj<T: FromBytes + IntoBytes>(&self, addr: u64) -> Result<T, Errno> {
        let mut val = T::new_zeroed();
        self.copy_in(addr, val.as_mut_bytes())?;
        Ok(val)
    }

    /// Writes `val` to program memory.
    ///
    /// # Errors
    /// `EFAULT` if any byte is not writable.
    pub fn write_obj<T: IntoBytes + Immutable>(&self, addr: u64, val: &T) -> Result<(), Errno> {
        self.copy_out(addr, val.as_bytes())
    }
}

/// The memory a `fork` child starts with: the parent's VMAs, and the parent's
/// pages shared copy-on-write (shared mappings stay shared). It holds page
/// references until the child's memory manager takes them over, or frees
/// them when dropped.
#[derive(Debug)]
pub struct ForkedMemory {
    memory_file: Arc<MemoryFile>,
    allocator: Arc<MemoryAllocator>,
    layout: Layout,
    vmas: RangeMap<Vma>,
    pmas: RangeMap<Pma>,
    brk_start: u64,
    brk: u64,
    stack_limit: u64,
    arg_bounds: [u64; 4],
    /// The child's queue, already in the mapping sets of its files.
    invalidations: Arc<InvalidationQueue>,
}

impl Drop for ForkedMemory {
    fn drop(&mut self) {
        for (s, e, pma) in self.pmas.iter() {
            self.allocator.dec_ref(pma.offset, e - s);
        }
    }
}

impl MemoryManager {
    /// The memory half of `fork` (Linux's `dup_mmap`): a copy of the VMAs
    /// (without `MADV_DONTFORK` ones; `MADV_WIPEONFORK` ones empty) whose
    /// private pages are shared copy-on-write with this address space.
    /// Shared VMAs are backed in full first (a file mapping up to the end
    /// of its data): their pages exist apart from any one address space,
    /// so a page either process touches later is the one the other sees.
    ///
    /// Must run on a host thread that may change this address space (under
    /// ptrace, the parent's tracer), since the parent's writable mappings of
    /// now-shared pages are withdrawn so that its next write faults.
    ///
    /// # Errors
    /// `ENOMEM` when memory runs out, or when the parent's mappings could
    /// not be withdrawn (a platform failure, recorded for
    /// [`MemoryManager::take_platform_error`]).
    pub fn fork(&self) -> Result<ForkedMemory, Errno> {
        let mut st = self.lock();
        // Pages a truncation took away must not reach the child; later
        // truncations reach it through its own queue, registered here,
        // under the lock, before any page is shared with it.
        self.apply_invalidations_locked(&mut st);
        // Built up in place, so that an error part-way frees what it holds.
        let mut forked = ForkedMemory {
            memory_file: Arc::clone(&self.memory_file),
            allocator: Arc::clone(&self.allocator),
            layout: self.layout,
            vmas: RangeMap::default(),
            pmas: RangeMap::default(),
            brk_start: st.brk_start,
            brk: st.brk,
            stack_limit: st.stack_limit,
            arg_bounds: st.arg_bounds,
            invalidations: Arc::default(),
        };
        let parent_vmas: Vec<(u64, u64, Vma)> =
            st.vmas.iter().map(|(s, e, v)| (s, e, v.clone())).collect();
        for (vs, ve, vma) in parent_vmas {
            if vma.dontfork {
                continue;
            }
            if let Some(set) = vma.file_at(0).and_then(|(f, _)| f.mapping_set()) {
                set.register(&forked.invalidations);
            }
            let wipe = vma.wipeonfork;
            let shared = vma.shared;
            let writable = vma.perms.write;
            let read_only = Perms {
                write: false,
                ..vma.perms
            };
            if shared && !wipe {
                let data_end = Self::data_end(vs, ve, &vma).unwrap_or(vs);
                if vs < data_end {
                    self.back(&mut st, vs, data_end, vs, &vma, false)
                        .map_err(|_| Errno::ENOMEM)?;
                }
            }
            forked.vmas.insert(vs, ve, vma);
            if wipe {
                continue;
            }
            for (ps, pe, pma) in st.pmas.overlapping(vs, ve) {
                let (s, e) = (ps.max(vs), pe.min(ve));
                let offset = pma.offset + (s - ps);
                self.allocator.inc_ref(offset, e - s);
                forked.pmas.insert(
                    s,
                    e,
                    Pma {
                        offset,
                        cow: !shared,
                        file: pma.file,
                    },
                );
            }
            if !shared {
                st.pmas.update(vs, ve, |pma| pma.cow = true);
                // Write access goes, the mappings stay: neither side of the
                // fork faults to read these pages again.
                if writable && !self.protect_platform(&mut st, vs, ve, read_only) {
                    return Err(Errno::ENOMEM);
                }
            }
        }
        Ok(forked)
    }

    /// The child's memory manager over `forked`, filling `aspace` (a fresh
    /// address space) on faults.
    pub fn from_fork(mut forked: ForkedMemory, aspace: Arc<dyn AddressSpace>) -> MemoryManager {
        MemoryManager {
            platform_failed: std::sync::atomic::AtomicBool::new(false),
            invalidations: Arc::clone(&forked.invalidations),
            memory_file: Arc::clone(&forked.memory_file),
            allocator: Arc::clone(&forked.allocator),
            aspace,
            layout: forked.layout,
            state: Mutex::new(MmState {
                vmas: std::mem::take(&mut forked.vmas),
                pmas: std::mem::take(&mut forked.pmas),
                mapped: RangeMap::default(),
                brk_start: forked.brk_start,
                brk: forked.brk,
                stack_limit: forked.stack_limit,
                lock_future: false,
                platform_error: None,
                arg_bounds: forked.arg_bounds,
                fault_run: fault::FaultRun::default(),
            }),
        }
    }
}

impl Drop for MemoryManager {
    /// Unmaps the whole address space and frees its pages. If the platform
    /// refuses, the pages are leaked rather than risk another process
    /// getting pages this one still maps.
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let Layout {
            min_addr, max_addr, ..
        } = self.layout;
        // An address space nobody else holds dies with us: its mappings go
        // with it, and it may not even be reachable from this thread.
        let ok = st.mapped.len() == 0
            || Arc::strong_count(&self.aspace) == 1
            || self.aspace.unmap(min_addr, max_addr - min_addr).is_ok();
        if ok {
            for (s, e, pma) in st.pmas.iter() {
                self.allocator.dec_ref(pma.offset, e - s);
            }
        }
    }
}

/// The maximal runs of `mapped` pages within `[start, end)`.
fn mapped_runs(mapped: &RangeMap<()>, start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for (s, e, ()) in mapped.overlapping(start, end) {
        let (s, e) = (s.max(start), e.min(end));
        match runs.last_mut() {
            Some(last) if last.1 == s => last.1 = e,
            _ => runs.push((s, e)),
        }
    }
    runs
}

/// Bytes in locked VMAs.
fn locked_bytes(st: &MmState) -> u64 {
    st.vmas
        .iter()
        .filter(|(_, _, v)| v.locked)
        .map(|(s, e, _)| e - s)
        .sum()
}

/// A random multiple of the page size below `max` (0 if `max` is below a page).
fn random_pages(max: u64) -> u64 {
    if max < PAGE {
        0
    } else {
        page_down(io::random_u64() % max)
    }
}

/// Linux's layout for a 64-bit task, scaled down when the usable range is
/// small (tests): `randomize_stack_top`, `mmap_base` and `ELF_ET_DYN_BASE`
/// plus `arch_mmap_rnd`.
fn randomized_layout(min_addr: u64, max_addr: u64) -> Layout {
    let span = max_addr - min_addr;
    // STACK_RND_MASK: 16 GiB of stack randomization.
    let stack_rnd_max = (16u64 << 30).min(span / 64);
    let stack_top = max_addr - random_pages(stack_rnd_max);
    // mmap_base(): the stack's room (RLIMIT_STACK plus the guard gap plus the
    // stack's randomization), clamped to [128 MiB, 5/6 of the task size].
    let gap = (DEFAULT_STACK_LIMIT + vma::STACK_GUARD_GAP + stack_rnd_max)
        .clamp((128u64 << 20).min(span / 8), max_addr / 6 * 5);
    // mmap_rnd_bits = 28: up to 2^28 pages (1 TiB).
    let mmap_rnd_max = (PAGE << 28).min(span / 16);
    let mmap_base = page_down(
        max_addr
            .saturating_sub(gap)
            .saturating_sub(random_pages(mmap_rnd_max)),
    )
    .max(min_addr + span / 2);
    // ELF_ET_DYN_BASE is 2/3 of the task size, plus the same randomization.
    let pie_base = (page_down(max_addr / 3 * 2) + random_pages(mmap_rnd_max))
        .clamp(min_addr, mmap_base.saturating_sub(span / 8).max(min_addr));
    Layout {
        min_addr,
        max_addr,
        stack_top,
        mmap_base,
        pie_base: page_down(pie_base),
    }
}

#[cfg(test)]
mod tests;
