//! Tests of [`MemoryManager`] against a fake address space that records
//! what the platform was asked to map.

#![allow(clippy::cast_possible_truncation)]

use std::any::Any;
use std::sync::{Arc, Mutex};

use abi::mman::*;
use abi::signal::{BUS_ADRERR, SEGV_ACCERR, SEGV_MAPERR, SIGBUS, SIGSEGV};
use platform::{Access, AddressSpace, MapChange, MemoryFile, Perms, PlatformError};

use super::*;

const MIN: u64 = 0x10000;
const MAX: u64 = 0x10_0000_0000;

/// Records map/unmap calls; `pages` is what the platform currently maps.
#[derive(Debug, Default)]
struct FakeAspace {
    calls: Mutex<Vec<String>>,
    pages: Mutex<std::collections::BTreeMap<u64, (u64, Perms)>>,
    /// The prefaults asked for, as (address, length).
    prefaults: Mutex<Vec<(u64, u64)>>,
}

impl AddressSpace for FakeAspace {
    fn apply(&self, changes: &[MapChange]) -> Result<(), PlatformError> {
        for change in changes {
            if let MapChange::Prefault { addr, len } = *change {
                self.prefaults.lock().unwrap().push((addr, len));
            }
        }
        platform::apply_each(self, changes)
    }

    fn map_file(
        &self,
        addr: u64,
        offset: u64,
        len: u64,
        perms: Perms,
        _populate: bool,
    ) -> Result<(), PlatformError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("map {addr:#x}+{len:#x}"));
        let mut pages = self.pages.lock().unwrap();
        for i in 0..len / PAGE {
            pages.insert(addr + i * PAGE, (offset + i * PAGE, perms));
        }
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("unmap {addr:#x}+{len:#x}"));
        let mut pages = self.pages.lock().unwrap();
        pages.retain(|&p, _| p < addr || p >= addr + len);
        Ok(())
    }

    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<(), PlatformError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("protect {addr:#x}+{len:#x}"));
        let mut pages = self.pages.lock().unwrap();
        for i in 0..len / PAGE {
            let page = pages
                .get_mut(&(addr + i * PAGE))
                .expect("protect of an unmapped page");
            page.1 = perms;
        }
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A file of `data`, mappable.
#[derive(Debug)]
struct Bytes(Vec<u8>);

impl Mappable for Bytes {
    fn size(&self) -> Result<u64, Errno> {
        Ok(self.0.len() as u64)
    }
    fn fill(
        &self,
        mf: &MemoryFile,
        mf_offset: u64,
        file_offset: u64,
        len: u64,
    ) -> Result<u64, Errno> {
        let start = usize::try_from(file_offset).unwrap().min(self.0.len());
        let end = (start + usize::try_from(len).unwrap()).min(self.0.len());
        mf.write(mf_offset, &self.0[start..end]);
        Ok((end - start) as u64)
    }
    fn identity(&self) -> (u64, u64, String) {
        (1, 2, "/bytes".into())
    }
}

/// A MemoryFile per test, so allocation counts are the test's own.
fn memory_file() -> Arc<MemoryFile> {
    Arc::new(MemoryFile::new(1 << 30).expect("memfd"))
}

fn mm() -> (MemoryManager, Arc<FakeAspace>) {
    let aspace = Arc::new(FakeAspace::default());
    let mm = MemoryManager::new(memory_file(), Arc::clone(&aspace) as _, MIN, MAX);
    (mm, aspace)
}

fn anon(addr: u64, len: u64, prot: u32, flags: u32) -> MmapRequest {
    MmapRequest {
        addr,
        len,
        prot,
        flags: flags | MAP_ANONYMOUS,
        file: None,
    }
}

const RW: u32 = PROT_READ | PROT_WRITE;
const READ: Access = Access {
    read: true,
    write: false,
    execute: false,
};
const WRITE: Access = Access {
    read: false,
    write: true,
    execute: false,
};

#[test]
fn layout_is_inside_the_range_and_ordered() {
    for _ in 0..20 {
        let (mm, _) = mm();
        let l = mm.layout();
        assert!(
            l.min_addr <= l.pie_base && l.pie_base < l.mmap_base,
            "{l:?}"
        );
        assert!(
            l.mmap_base < l.stack_top && l.stack_top <= l.max_addr,
            "{l:?}"
        );
        for a in [l.pie_base, l.mmap_base, l.stack_top] {
            assert_eq!(a % PAGE, 0);
        }
    }
    let aspace = Arc::new(FakeAspace::default());
    let real = MemoryManager::new(memory_file(), aspace, 0x10000, 0x7fff_ffff_f000);
    let l = real.layout();
    assert!(l.stack_top > 0x7ffb_0000_0000, "{l:?}");
    assert!(
        l.pie_base >= 0x5555_5555_4000 && l.pie_base < 0x5656_0000_0000,
        "{l:?}"
    );
}

#[test]
fn mmap_places_top_down_and_honours_free_hints() {
    let (mm, _) = mm();
    let a = mm.mmap(anon(0, 3 * PAGE, RW, MAP_PRIVATE)).unwrap();
    let b = mm.mmap(anon(0, PAGE, RW, MAP_PRIVATE)).unwrap();
    assert!(a + 3 * PAGE <= mm.layout().mmap_base);
    assert_eq!(b + PAGE, a, "the next mapping goes right below");
    assert_eq!(mm.vmas().len(), 1, "same properties merge");
    let hint = 0x4000_0000;
    assert_eq!(mm.mmap(anon(hint + 5, PAGE, RW, MAP_PRIVATE)), Ok(hint));
    // A taken hint is ignored.
    let c = mm.mmap(anon(hint, PAGE, RW, MAP_PRIVATE)).unwrap();
    assert_ne!(c, hint);
    let low = mm.mmap(anon(0, PAGE, RW, MAP_PRIVATE | MAP_32BIT)).unwrap();
    assert!((0x4000_0000..0x8000_0000).contains(&low));
}

#[test]
fn mmap_rejects_hostile_numbers() {
    let (mm, _) = mm();
    assert_eq!(mm.mmap(anon(0, 0, RW, MAP_PRIVATE)), Err(Errno::EINVAL));
    assert_eq!(
        mm.mmap(anon(0, u64::MAX, RW, MAP_PRIVATE)),
        Err(Errno::ENOMEM)
    );
    assert_eq!(mm.mmap(anon(0, MAX, RW, MAP_PRIVATE)), Err(Errno::ENOMEM));
    assert_eq!(
        mm.mmap(anon(0x20001, PAGE, RW, MAP_PRIVATE | MAP_FIXED)),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mm.mmap(anon(MAX - PAGE, 2 * PAGE, RW, MAP_FIXED)),
        Err(Errno::ENOMEM)
    );
    assert_eq!(
        mm.mmap(anon(u64::MAX - PAGE + 1, PAGE, RW, MAP_FIXED)),
        Err(Errno::ENOMEM)
    );
    assert_eq!(
        mm.mmap(anon(PAGE, PAGE, RW, MAP_PRIVATE | MAP_FIXED)),
        Err(Errno::EPERM)
    );
    assert_eq!(
        mm.mmap(anon(0, PAGE, RW, MAP_SHARED | MAP_GROWSDOWN)),
        Err(Errno::EINVAL)
    );
    let file: Arc<dyn Mappable> = Arc::new(Bytes(vec![1; 10]));
    let req = MmapRequest {
        addr: 0,
        len: 2 * PAGE,
        prot: PROT_READ,
        flags: MAP_PRIVATE,
        file: Some((file, !(PAGE - 1))),
    };
    assert_eq!(mm.mmap(req), Err(Errno::EOVERFLOW));
    assert!(mm.vmas().is_empty());
}

#[test]
fn fixed_replaces_and_noreplace_refuses() {
    let (mm, aspace) = mm();
    let a = mm
        .mmap(anon(0x100000, 4 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    mm.copy_out(a, b"old").unwrap();
    assert_eq!(
        mm.mmap(anon(a + PAGE, PAGE, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE)),
        Err(Errno::EEXIST)
    );
    mm.fault(a, READ).unwrap();
    assert!(aspace.pages.lock().unwrap().contains_key(&a));
    assert_eq!(
        mm.mmap(anon(a, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED)),
        Ok(a)
    );
    assert!(
        !aspace.pages.lock().unwrap().contains_key(&a),
        "the old page is unmapped"
    );
    let mut buf = [9u8; 3];
    mm.copy_in(a, &mut buf).unwrap();
    assert_eq!(buf, [0; 3], "the new mapping is fresh memory");
    assert_eq!(mm.vmas().len(), 2);
}

#[test]
fn faults_map_a_window_and_signal_correctly() {
    let (mm, aspace) = mm();
    let a = mm
        .mmap(anon(0x200000, 32 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    mm.fault(a + 5 * PAGE + 8, WRITE).unwrap();
    let mapped = aspace.pages.lock().unwrap().len() as u64;
    assert_eq!(
        mapped, FAULT_AROUND_PAGES,
        "a whole aligned window is mapped"
    );
    let sig = |r: Result<(), FaultError>| match r {
        Err(FaultError::Signal(s)) => Some((s.signo, s.code)),
        _ => None,
    };
    // A read fault on a page mapped meanwhile (by another thread) is
    // retried; an execute the VMA forbids is not.
    mm.fault(a + 5 * PAGE, READ).unwrap();
    let exec = platform::Access {
        read: false,
        write: false,
        execute: true,
    };
    assert_eq!(
        sig(mm.fault(a + 5 * PAGE, exec)),
        Some((SIGSEGV, SEGV_ACCERR))
    );
    assert_eq!(sig(mm.fault(0x100000, READ)), Some((SIGSEGV, SEGV_MAPERR)));
    mm.mprotect(a, PAGE, PROT_READ).unwrap();
    assert_eq!(sig(mm.fault(a, WRITE)), Some((SIGSEGV, SEGV_ACCERR)));
    mm.fault(a, READ).unwrap();
    mm.mprotect(a + PAGE, PAGE, PROT_NONE).unwrap();
    assert_eq!(sig(mm.fault(a + PAGE, READ)), Some((SIGSEGV, SEGV_ACCERR)));
    assert_eq!(
        aspace.pages.lock().unwrap().get(&a).map(|p| p.1),
        Some(Perms::READ)
    );
}

const FAULT_AROUND_PAGES: u64 = fault::FAULT_AROUND / PAGE;

#[test]
fn sequential_faults_map_growing_windows() {
    let (mm, aspace) = mm();
    // The buffer's end is not window-aligned, and a read-only mapping
    // follows it.
    let len = 4 * fault::FAULT_AROUND_MAX + 3 * PAGE;
    let a = mm
        .mmap(anon(0x4000_0000, len, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    let next = mm
        .mmap(anon(
            a + len,
            FAULT_AROUND_MAX_PAGES * PAGE,
            PROT_READ,
            MAP_PRIVATE | MAP_FIXED,
        ))
        .unwrap();
    let mapped = || aspace.pages.lock().unwrap().len() as u64;
    // Each fault just past the last window maps twice as much, up to the
    // cap and the VMA's end; the windows tile the buffer without gaps.
    let (mut at, mut window, mut total, mut faults) = (a, FAULT_AROUND_PAGES, 0, 0);
    while at < a + len {
        mm.fault(at + 8, WRITE).unwrap();
        let pages = window.min((a + len - at) / PAGE);
        total += pages;
        faults += 1;
        assert_eq!(mapped(), total, "fault at {:#x}", at - a);
        at += pages * PAGE;
        window = (window * 2).min(FAULT_AROUND_MAX_PAGES);
    }
    assert_eq!(total, len / PAGE);
    assert_eq!(faults, 9, "16, 32, ... 512 pages, then 512, 512, 512, 3");
    // The second half of each window of 128 pages or more is faulted in
    // ahead of the program.
    let prefaults = aspace.prefaults.lock().unwrap().clone();
    let halves: Vec<u64> = prefaults.iter().map(|&(_, len)| len / PAGE).collect();
    assert_eq!(halves, [64, 128, 256, 256, 256]);
    assert!(
        prefaults
            .iter()
            .all(|&(at, n)| at >= a && at + n <= a + len)
    );
    assert!(aspace.pages.lock().unwrap().keys().all(|&p| p < next));
    // A fault elsewhere starts over with one aligned window.
    mm.fault(next + 20 * PAGE, READ).unwrap();
    assert_eq!(mapped(), total + FAULT_AROUND_PAGES);
}

const FAULT_AROUND_MAX_PAGES: u64 = fault::FAULT_AROUND_MAX / PAGE;

#[test]
fn private_file_mappings_copy_and_pad_and_sigbus_past_eof() {
    let (mm, _) = mm();
    let data: Vec<u8> = (0..PAGE as usize + 100).map(|i| (i % 251) as u8).collect();
    let file: Arc<dyn Mappable> = Arc::new(Bytes(data.clone()));
    let req = MmapRequest {
        addr: 0,
        len: 4 * PAGE,
        prot: RW,
        flags: MAP_PRIVATE,
        file: Some((Arc::clone(&file), 0)),
    };
    let a = mm.mmap(req).unwrap();
    let mut buf = vec![0u8; 2 * PAGE as usize];
    mm.copy_in(a, &mut buf).unwrap();
    assert_eq!(&buf[..data.len()], &data[..]);
    assert!(
        buf[data.len()..].iter().all(|&b| b == 0),
        "zero-padded to the page end"
    );
    // Writes are private.
    mm.copy_out(a, b"XY").unwrap();
    let mut two = [0u8; 2];
    mm.copy_in(a, &mut two).unwrap();
    assert_eq!(&two, b"XY");
    // Past end of file: SIGBUS on fault, EFAULT on copy.
    match mm.fault(a + 2 * PAGE, READ) {
        Err(FaultError::Signal(s)) => assert_eq!((s.signo, s.code), (SIGBUS, BUS_ADRERR)),
        other => panic!("{other:?}"),
    }
    assert_eq!(mm.copy_in(a + 2 * PAGE, &mut two), Err(Errno::EFAULT));
    assert_eq!(mm.copy_in_partial(a + 2 * PAGE - 1, &mut two), 1);
    // An offset into the file.
    let req = MmapRequest {
        addr: 0,
        len: PAGE,
        prot: PROT_READ,
        flags: MAP_PRIVATE,
        file: Some((file, PAGE)),
    };
    let b = mm.mmap(req).unwrap();
    let mut first = [0u8; 4];
    mm.copy_in(b, &mut first).unwrap();
    assert_eq!(&first[..], &data[PAGE as usize..PAGE as usize + 4]);
    assert_eq!(mm.copy_out(b, b"no"), Err(Errno::EFAULT), "read-only");
    mm.force_write(b, b"ok").unwrap();
    mm.copy_in(b, &mut first).unwrap();
    assert_eq!(&first[..2], b"ok");
}

#[test]
fn munmap_partial_ranges_and_errors() {
    let (mm, aspace) = mm();
    let a = mm
        .mmap(anon(0x300000, 8 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    mm.copy_out(a, &vec![7u8; 8 * PAGE as usize]).unwrap();
    mm.fault(a, WRITE).unwrap();
    let used = mm.allocator.allocated();
    mm.munmap(a + 2 * PAGE, 2 * PAGE + 1).unwrap();
    assert_eq!(mm.allocator.allocated(), used - 3 * PAGE, "pages are freed");
    assert!(!aspace.pages.lock().unwrap().contains_key(&(a + 2 * PAGE)));
    assert_eq!(mm.vmas().len(), 2);
    let mut b = [0u8; 1];
    assert_eq!(mm.copy_in(a + 3 * PAGE, &mut b), Err(Errno::EFAULT));
    mm.copy_in(a + 5 * PAGE, &mut b).unwrap();
    assert_eq!(b, [7]);
    assert_eq!(mm.munmap(a + 1, PAGE), Err(Errno::EINVAL));
    assert_eq!(mm.munmap(a, 0), Err(Errno::EINVAL));
    assert_eq!(mm.munmap(a, u64::MAX), Err(Errno::EINVAL));
    assert_eq!(mm.munmap(MAX, PAGE), Err(Errno::EINVAL));
    mm.munmap(0x10000, MAX - 0x10000).unwrap();
    assert!(mm.vmas().is_empty());
    assert_eq!(mm.allocator.allocated(), used - 8 * PAGE);
}

#[test]
fn mprotect_splits_merges_and_checks() {
    let (mm, _) = mm();
    let a = mm
        .mmap(anon(0x400000, 4 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    mm.mprotect(a + PAGE, PAGE, PROT_READ).unwrap();
    assert_eq!(mm.vmas().len(), 3);
    assert_eq!(mm.copy_out(a + PAGE, b"x"), Err(Errno::EFAULT));
    assert_eq!(mm.copy_out_partial(a + PAGE - 2, b"abcd"), 2);
    mm.mprotect(a + PAGE, PAGE, RW).unwrap();
    assert_eq!(mm.vmas().len(), 1);
    assert_eq!(mm.mprotect(a + 1, PAGE, RW), Err(Errno::EINVAL));
    assert_eq!(mm.mprotect(a + 1, 0, RW), Err(Errno::EINVAL));
    assert_eq!(mm.mprotect(a, 0, RW), Ok(()));
    assert_eq!(mm.mprotect(a, PAGE, 0x10), Err(Errno::EINVAL));
    assert_eq!(mm.mprotect(a, u64::MAX - PAGE, RW), Err(Errno::ENOMEM));
    assert_eq!(
        mm.mprotect(a, PAGE, RW | PROT_GROWSDOWN),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mm.mprotect(a, PAGE, RW | PROT_GROWSDOWN | PROT_GROWSUP),
        Err(Errno::EINVAL)
    );
    // A hole: the part before it changes, as in Linux.
    assert_eq!(mm.mprotect(a, 8 * PAGE, PROT_READ), Err(Errno::ENOMEM));
    assert_eq!(mm.copy_out(a, b"x"), Err(Errno::EFAULT));
    assert_eq!(mm.mprotect(a - PAGE, PAGE, PROT_READ), Err(Errno::ENOMEM));
}

#[test]
fn mprotect_respects_max_perms() {
    let (mm, _) = mm();
    let file: Arc<dyn Mappable> = Arc::new(Bytes(vec![1; 100]));
    let req = MmapRequest {
        addr: 0,
        len: PAGE,
        prot: PROT_READ,
        flags: MAP_SHARED,
        file: Some((file, 0)),
    };
    let a = mm.mmap_with_max_prot(req, PROT_READ | PROT_EXEC).unwrap();
    assert_eq!(mm.mprotect(a, PAGE, RW), Err(Errno::EACCES));
    assert_eq!(mm.mprotect(a, PAGE, PROT_EXEC), Ok(()));
}

#[test]
fn mremap_grows_shrinks_and_moves_pages() {
    let (mm, aspace) = mm();
    let a = mm
        .mmap(anon(0x500000, 2 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    mm.copy_out(a, b"hello").unwrap();
    // Grow in place.
    assert_eq!(mm.mremap(a, 2 * PAGE, 4 * PAGE, 0, 0), Ok(a));
    assert_eq!(mm.vmas().len(), 1);
    // Shrink.
    assert_eq!(mm.mremap(a, 4 * PAGE, PAGE, 0, 0), Ok(a));
    // Blocked: ENOMEM without MAYMOVE, a move with it.
    mm.mmap(anon(a + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    assert_eq!(mm.mremap(a, PAGE, 2 * PAGE, 0, 0), Err(Errno::ENOMEM));
    mm.fault(a, READ).unwrap();
    let used = mm.allocator.allocated();
    let b = mm.mremap(a, PAGE, 3 * PAGE, MREMAP_MAYMOVE, 0).unwrap();
    assert_ne!(b, a);
    assert_eq!(
        mm.allocator.allocated(),
        used,
        "pages move, nothing is copied"
    );
    assert!(!aspace.pages.lock().unwrap().contains_key(&a));
    let mut buf = [0u8; 5];
    mm.copy_in(b, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    assert_eq!(mm.copy_in(a, &mut buf), Err(Errno::EFAULT));
    // Fixed target.
    let c = 0x900000;
    assert_eq!(
        mm.mremap(b, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, c),
        Ok(c)
    );
    mm.copy_in(c, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    // DONTUNMAP leaves an empty mapping behind.
    let d = mm
        .mremap(c, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0)
        .unwrap();
    mm.copy_in(d, &mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    mm.copy_in(c, &mut buf).unwrap();
    assert_eq!(buf, [0; 5]);
    // Hostile inputs.
    assert_eq!(mm.mremap(c + 1, PAGE, PAGE, 0, 0), Err(Errno::EINVAL));
    assert_eq!(mm.mremap(c, PAGE, 0, 0, 0), Err(Errno::EINVAL));
    assert_eq!(
        mm.mremap(c, PAGE, u64::MAX, MREMAP_MAYMOVE, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(mm.mremap(c, PAGE, PAGE, 8, 0), Err(Errno::EINVAL));
    assert_eq!(
        mm.mremap(c, PAGE, PAGE, MREMAP_FIXED, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mm.mremap(c, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE, 0),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        mm.mremap(0x100000, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0),
        Err(Errno::EFAULT)
    );
    assert_eq!(
        mm.mremap(c, 16 * PAGE, 32 * PAGE, MREMAP_MAYMOVE, 0),
        Err(Errno::EFAULT)
    );
    assert_eq!(mm.mremap(c, 0, PAGE, MREMAP_MAYMOVE, 0), Err(Errno::EINVAL));
    assert_eq!(
        mm.mremap(
            c,
            2 * PAGE,
            2 * PAGE,
            MREMAP_MAYMOVE | MREMAP_FIXED,
            c + PAGE
        ),
        Err(Errno::EINVAL),
        "overlapping target"
    );
    assert_eq!(
        mm.mremap(c, u64::MAX - PAGE, PAGE, 0, 0),
        Err(Errno::EINVAL)
    );
}

#[test]
fn brk_grows_shrinks_and_refuses() {
    let (mm, _) = mm();
    mm.set_brk_base(0x600000 + 123);
    let base = mm.brk(0);
    assert_eq!(base % PAGE, 0);
    assert!(base >= 0x601000);
    assert_eq!(mm.brk(base - 1), base, "below the start is refused");
    assert_eq!(mm.brk(base + 10), base + 10);
    mm.copy_out(base, b"heap").unwrap();
    assert_eq!(mm.brk(base + 3 * PAGE), base + 3 * PAGE);
    assert_eq!(mm.vmas().len(), 1);
    assert!(mm.vmas()[0].heap);
    mm.copy_out(base + 2 * PAGE, b"x").unwrap();
    assert_eq!(mm.brk(base + 1), base + 1);
    assert_eq!(mm.copy_out(base + PAGE, b"x"), Err(Errno::EFAULT));
    assert_eq!(mm.brk(u64::MAX), base + 1);
    // A mapping in the way.
    mm.mmap(anon(base + 4 * PAGE, PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    assert_eq!(mm.brk(base + 3 * PAGE + 1), base + 1);
    assert_eq!(mm.brk(base + 3 * PAGE), base + 3 * PAGE);
    let mut b = [0u8; 4];
    mm.copy_in(base, &mut b).unwrap();
    assert_eq!(&b, b"heap");
}

#[test]
fn madvise_dontneed_zeroes_private_and_keeps_shared() {
    let (mm, _) = mm();
    let a = mm
        .mmap(anon(0x700000, 2 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    let s = mm
        .mmap(anon(0x800000, PAGE, RW, MAP_SHARED | MAP_FIXED))
        .unwrap();
    mm.copy_out(a, b"private").unwrap();
    mm.copy_out(s, b"shared").unwrap();
    mm.madvise(a, 2 * PAGE, MADV_DONTNEED).unwrap();
    mm.madvise(s, PAGE, MADV_DONTNEED).unwrap();
    let mut b = [0u8; 6];
    mm.copy_in(a, &mut b).unwrap();
    assert_eq!(b, [0; 6]);
    mm.copy_in(s, &mut b).unwrap();
    assert_eq!(&b, b"shared");
    assert_eq!(mm.madvise(a, PAGE, 999), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(a + 1, PAGE, MADV_NORMAL), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(a, u64::MAX, MADV_NORMAL), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(a, 0, MADV_NORMAL), Ok(()));
    assert_eq!(mm.madvise(a, 4 * PAGE, MADV_NORMAL), Err(Errno::ENOMEM));
    assert_eq!(mm.madvise(a, PAGE, MADV_REMOVE), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(s, PAGE, MADV_WIPEONFORK), Err(Errno::EINVAL));
    assert_eq!(mm.madvise(a, PAGE, MADV_WIPEONFORK), Ok(()));
    assert_eq!(mm.madvise(a, PAGE, MADV_POPULATE_WRITE), Ok(()));
    assert_eq!(
        mm.madvise(a, 4 * PAGE, MADV_POPULATE_READ),
        Err(Errno::ENOMEM)
    );
}

#[test]
fn growsdown_stacks_grow_within_the_limit() {
    let (mm, _) = mm();
    let top = 0x4000_0000;
    let s = mm.mmap(anon(
        top - 4 * PAGE,
        4 * PAGE,
        RW,
        MAP_PRIVATE | MAP_FIXED | MAP_GROWSDOWN,
    ));
    let s = s.unwrap();
    mm.fault(s - 10 * PAGE, WRITE).unwrap();
    assert_eq!(mm.vmas()[0].start, s - 10 * PAGE);
    mm.copy_out(s - 11 * PAGE, b"deeper").unwrap();
    assert_eq!(mm.vmas().len(), 1);
    assert!(matches!(
        mm.fault(top - (16 << 20), WRITE),
        Err(FaultError::Signal(_))
    ));
}

#[test]
fn strings_and_iovecs() {
    let (mm, _) = mm();
    let a = mm
        .mmap(anon(0xa00000, 2 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    let end = a + 2 * PAGE;
    mm.copy_out(end - 4, b"abc\0").unwrap();
    assert_eq!(mm.read_c_string(end - 4, 100).unwrap(), b"abc");
    assert_eq!(mm.read_c_string(end - 4, 3), Err(Errno::ENAMETOOLONG));
    assert_eq!(mm.read_c_string(end - 4, 4).unwrap(), b"abc");
    mm.copy_out(end - 2, b"xy").unwrap();
    assert_eq!(mm.read_c_string(end - 2, 100), Err(Errno::EFAULT));
    mm.copy_out(a + PAGE - 2, b"ab").unwrap();
    mm.copy_out(a + PAGE, b"cd\0").unwrap();
    assert_eq!(
        mm.read_c_string(a + PAGE - 2, 100).unwrap(),
        b"abcd",
        "across pages"
    );

    let iovs = [
        abi::uio::Iovec {
            iov_base: a,
            iov_len: 10,
        },
        abi::uio::Iovec {
            iov_base: a,
            iov_len: abi::uio::MAX_RW_COUNT,
        },
    ];
    mm.write_obj(a, &iovs).unwrap();
    let got = mm.read_iovecs(a, 2).unwrap();
    assert_eq!(
        got[1].iov_len,
        abi::uio::MAX_RW_COUNT - 10,
        "clamped to MAX_RW_COUNT"
    );
    assert_eq!(mm.read_iovecs(a, 0).unwrap().len(), 0);
    assert_eq!(mm.read_iovecs(a, 1025).err(), Some(Errno::EINVAL));
    assert_eq!(mm.read_iovecs(end - 16, 2).err(), Some(Errno::EFAULT));
    mm.write_obj(
        a,
        &abi::uio::Iovec {
            iov_base: a,
            iov_len: 1 << 63,
        },
    )
    .unwrap();
    assert_eq!(mm.read_iovecs(a, 1).err(), Some(Errno::EINVAL));
    mm.write_obj(
        a,
        &abi::uio::Iovec {
            iov_base: abi::TASK_SIZE,
            iov_len: 1,
        },
    )
    .unwrap();
    assert_eq!(mm.read_iovecs(a, 1).err(), Some(Errno::EFAULT));
    let v: u64 = mm.read_obj(a + 8).unwrap();
    assert_eq!(v, 1);
    assert_eq!(mm.read_obj::<u64>(end - 4), Err(Errno::EFAULT));
    assert_eq!(mm.copy_in(u64::MAX - 1, &mut [0u8; 4]), Err(Errno::EFAULT));
    assert_eq!(mm.copy_in(0, &mut []), Ok(()));
}

#[test]
fn mlock_msync_mincore() {
    let (mm, _) = mm();
    let a = mm
        .mmap(anon(0xb00000, 4 * PAGE, RW, MAP_PRIVATE | MAP_FIXED))
        .unwrap();
    assert_eq!(mm.mincore(a, 4).unwrap(), vec![0, 0, 0, 0]);
    mm.copy_out(a + PAGE, b"x").unwrap();
    assert_eq!(
        mm.mincore(a, 4)
            .unwrap()
            .iter()
            .filter(|&&r| r == 1)
            .count(),
        4,
        "fault-around"
    );
    assert_eq!(mm.mincore(a, 5), Err(Errno::ENOMEM));
    assert_eq!(mm.mlock(a + 1, PAGE, true, u64::MAX), Ok(()));
    assert_eq!(mm.vmas().len(), 2);
    assert_eq!(mm.msync(a, PAGE, true, false), Err(Errno::EBUSY));
    assert_eq!(mm.madvise(a, PAGE, MADV_DONTNEED), Err(Errno::EINVAL));
    assert_eq!(mm.mlock(a, 4 * PAGE, true, 3 * PAGE), Err(Errno::ENOMEM));
    assert_eq!(mm.mlock(a, 8 * PAGE, true, u64::MAX), Err(Errno::ENOMEM));
    mm.mlock(a, 4 * PAGE, false, u64::MAX).unwrap();
    mm.mlockall(false, false, u64::MAX).unwrap();
    assert_eq!(mm.vmas().len(), 1);
    assert_eq!(
        mm.msync(a, u64::MAX, false, false),
        Ok(()),
        "the length wraps to zero, as in Linux"
    );
    assert_eq!(mm.msync(a, 8 * PAGE, false, false), Err(Errno::ENOMEM));
    assert_eq!(mm.msync(a, 4 * PAGE, true, false), Ok(()));
}

#[test]
fn dropping_the_manager_frees_its_pages() {
    let file = Arc::new(MemoryFile::new(1 << 24).expect("memfd"));
    let aspace = Arc::new(FakeAspace::default());
    let mm = MemoryManager::new(Arc::clone(&file), aspace, MIN, MAX);
    let a = mm
        .mmap(anon(0, 16 * PAGE, RW, MAP_PRIVATE | MAP_POPULATE))
        .unwrap();
    let allocator = Arc::clone(&mm.allocator);
    assert_eq!(allocator.allocated(), 16 * PAGE);
    let _ = a;
    drop(mm);
    assert_eq!(allocator.allocated(), 0);
    // A tiny MemoryFile runs out: the fault becomes SIGKILL (the OOM killer).
    let aspace = Arc::new(FakeAspace::default());
    let small = Arc::new(MemoryFile::new(2 * PAGE).expect("memfd"));
    let mm = MemoryManager::new(small, aspace, MIN, MAX);
    let a = mm.mmap(anon(0, 8 * PAGE, RW, MAP_PRIVATE)).unwrap();
    mm.fault(a, WRITE).unwrap();
    mm.copy_out(a + PAGE, b"x").unwrap();
    match mm.fault(a + 4 * PAGE, WRITE) {
        Err(FaultError::Signal(s)) => assert_eq!(s.signo, abi::signal::SIGKILL),
        other => panic!("{other:?}"),
    }
}

/// A file whose data lives in a page cache, as tmpfs keeps it.
#[derive(Debug)]
struct Cached {
    data: Mutex<(u64, PageCache)>,
    mappings: Arc<MappingSet>,
}

impl Cached {
    fn new(mf: &Arc<MemoryFile>, bytes: &[u8]) -> Arc<Cached> {
        let mut cache = PageCache::new(MemoryAllocator::for_file(mf));
        cache.write(0, bytes, || Ok(()), || {}).unwrap();
        Arc::new(Cached {
            data: Mutex::new((bytes.len() as u64, cache)),
            mappings: MappingSet::new(),
        })
    }

    fn read(&self, pos: u64, buf: &mut [u8]) {
        self.data.lock().unwrap().1.read(pos, buf);
    }

    fn truncate(&self, size: u64) {
        let mut d = self.data.lock().unwrap();
        d.1.punch(size, u64::MAX);
        d.0 = size;
        self.mappings.invalidate(size, u64::MAX, true);
    }
}

impl Mappable for Cached {
    fn size(&self) -> Result<u64, Errno> {
        Ok(self.data.lock().unwrap().0)
    }
    fn identity(&self) -> (u64, u64, String) {
        (1, 3, "/cached".into())
    }
    fn shared_page(
        &self,
        _: &Arc<MemoryAllocator>,
        file_offset: u64,
        _: bool,
    ) -> Result<Option<u64>, Errno> {
        let mut d = self.data.lock().unwrap();
        if file_offset >= d.0 {
            return Err(Errno::EFAULT);
        }
        d.1.get_or_insert(file_offset / PAGE)?;
        Ok(d.1.share(file_offset / PAGE))
    }
    fn mapping_set(&self) -> Option<Arc<MappingSet>> {
        Some(Arc::clone(&self.mappings))
    }
}

/// A memory manager and a two-page cached file of `f`s in its MemoryFile.
fn with_cached_file() -> (Arc<MemoryFile>, Arc<FakeAspace>, MemoryManager, Arc<Cached>) {
    let mf = memory_file();
    let aspace = Arc::new(FakeAspace::default());
    let mm = MemoryManager::new(Arc::clone(&mf), Arc::clone(&aspace) as _, MIN, MAX);
    let file = Cached::new(&mf, &[b'f'; 2 * PAGE as usize]);
    (mf, aspace, mm, file)
}

fn map_cached(mm: &MemoryManager, file: &Arc<Cached>, flags: u32) -> u64 {
    let file: Arc<dyn Mappable> = Arc::clone(file) as _;
    mm.mmap(MmapRequest {
        addr: 0,
        len: 2 * PAGE,
        prot: RW,
        flags,
        file: Some((file, 0)),
    })
    .unwrap()
}

#[test]
fn shared_file_mappings_write_the_file_pages() {
    let (_mf, _aspace, mm, file) = with_cached_file();
    let shared = map_cached(&mm, &file, MAP_SHARED);
    let private = map_cached(&mm, &file, MAP_PRIVATE);
    mm.copy_out(shared + 1, b"S").unwrap();
    let mut buf = [0u8; 2];
    file.read(0, &mut buf);
    assert_eq!(&buf, b"fS", "the store is in the file");
    // The private mapping sees it until it writes the page itself.
    mm.copy_in(private, &mut buf).unwrap();
    assert_eq!(&buf, b"fS");
    mm.copy_out(private, b"P").unwrap();
    mm.copy_out(shared + 1, b"T").unwrap();
    mm.copy_in(private, &mut buf).unwrap();
    assert_eq!(&buf, b"PS", "a written private page is a copy");
    file.read(0, &mut buf);
    assert_eq!(&buf, b"fT");
    // A fork shares the file pages, not a copy.
    let forked = mm.fork().unwrap();
    let child = MemoryManager::from_fork(forked, Arc::new(FakeAspace::default()));
    child.copy_out(shared, b"C").unwrap();
    file.read(0, &mut buf);
    assert_eq!(&buf, b"CT");
}

#[test]
fn truncation_zaps_mapped_pages_everywhere() {
    let (mf, aspace, mm, file) = with_cached_file();
    let shared = map_cached(&mm, &file, MAP_SHARED);
    let private = map_cached(&mm, &file, MAP_PRIVATE);
    mm.fault(shared + PAGE, READ).unwrap();
    mm.fault(private + PAGE, WRITE).unwrap();
    mm.copy_out(private + PAGE, b"p").unwrap();
    let forked = mm.fork().unwrap();
    let child = MemoryManager::from_fork(forked, Arc::new(FakeAspace::default()));
    file.truncate(10);
    // Each address space drops the pages when it next runs or faults.
    assert!(aspace.pages.lock().unwrap().contains_key(&(shared + PAGE)));
    mm.apply_invalidations();
    assert!(!aspace.pages.lock().unwrap().contains_key(&(shared + PAGE)));
    for (mm, at) in [
        (&mm, shared + PAGE),
        (&mm, private + PAGE),
        (&child, shared + PAGE),
    ] {
        match mm.fault(at, READ) {
            Err(FaultError::Signal(sig)) => {
                assert_eq!((sig.signo, sig.code, sig.addr), (SIGBUS, BUS_ADRERR, at));
            }
            other => panic!("fault at {at:#x}: {other:?}"),
        }
    }
    // The page holding the end stays, zeroed beyond it.
    let mut buf = [1u8; 2];
    mm.copy_in(shared + 9, &mut buf).unwrap();
    assert_eq!(buf, [b'f', 0]);
    drop((mm, child, file));
    assert_eq!(
        MemoryAllocator::for_file(&mf).allocated(),
        0,
        "nothing leaks"
    );
}

#[test]
fn futex_updates_are_atomic_across_threads() {
    let (mm, _) = mm();
    let addr = mm.mmap(anon(0, PAGE, RW, MAP_PRIVATE)).unwrap();
    let mm = Arc::new(mm);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let mm = Arc::clone(&mm);
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    mm.futex_update(addr, |v| Some(v + 1)).unwrap().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(mm.read_obj::<u32>(addr).unwrap(), 40_000);
    assert_eq!(mm.futex_update(addr, |_| None).unwrap(), Err(40_000));
    assert_eq!(mm.futex_update(addr + 2, |_| None), Err(Errno::EINVAL));
    mm.mprotect(addr, PAGE, PROT_READ).unwrap();
    assert_eq!(mm.futex_update(addr, |_| None), Err(Errno::EFAULT));
}

#[test]
fn shared_futex_words_are_named_by_their_memory() {
    let (mm, _) = mm();
    let private = mm.mmap(anon(0, PAGE, RW, MAP_PRIVATE)).unwrap();
    // Larger than the fault-around window, so backing one page leaves
    // others unbacked.
    let shared = mm.mmap(anon(0, 64 * PAGE, RW, MAP_SHARED)).unwrap();
    assert_eq!(mm.shared_futex_offset(private), Ok(None));
    let offset = mm.shared_futex_offset(shared + 8).unwrap().unwrap();
    // A fork shares the page even though nobody touched it before.
    let child = MemoryManager::from_fork(mm.fork().unwrap(), Arc::new(FakeAspace::default()));
    assert_eq!(child.shared_futex_offset(shared + 8), Ok(Some(offset)));
    let far = shared + 48 * PAGE;
    assert_eq!(
        child.shared_futex_offset(far).unwrap(),
        mm.shared_futex_offset(far).unwrap()
    );
    mm.munmap(shared, 64 * PAGE).unwrap();
    assert_eq!(mm.shared_futex_offset(shared), Err(Errno::EFAULT));
}
