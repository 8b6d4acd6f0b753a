//! Copy-in and copy-out: program memory through the sentry's own mapping of
//! the MemoryFile, page by page, never through the host's view of the
//! program.
//!
//! No Rust reference into program memory is ever formed: the MemoryFile's
//! `read`/`write` are raw copies. Pages a copy touches that are not backed
//! yet are backed on the spot, as a fault would, without being mapped into
//! the platform. A copy stops at the first page the VMA does not allow
//! (Linux's partial-copy semantics).
//!
//! This is one of the modules allowed `unsafe` (STYLE.md §3); it needs it
//! only for `getrandom`.

#![allow(unsafe_code)]

use abi::Errno;
use abi::uio::{Iovec, MAX_RW_COUNT, UIO_MAXIOV};

use super::{MemoryManager, MmState, PAGE, fault, page_down};

impl MemoryManager {
    /// The MemoryFile offset backing `addr`, and how many bytes from there
    /// are contiguous (same pma, same VMA). Backs the page if needed.
    ///
    /// With `force` (ptrace's `FOLL_FORCE`) the VMA's permissions are
    /// ignored, but a VMA is still needed.
    fn translate(
        &self,
        st: &mut MmState,
        addr: u64,
        write: bool,
        force: bool,
    ) -> Result<(u64, u64), Errno> {
        let page = page_down(addr);
        let (vma_start, vma_end, vma) = self.find_vma(st, page).ok_or(Errno::EFAULT)?;
        if !force
            && (if write {
                !vma.perms.write
            } else {
                !vma.accessible()
            })
        {
            return Err(Errno::EFAULT);
        }
        if st.pmas.find(page).is_none() {
            self.back_around(
                st,
                page,
                fault::aligned_window(page),
                vma_start,
                vma_end,
                &vma,
            )
            .map_err(|_| Errno::EFAULT)?;
        }
        if write && st.pmas.find(page).is_some_and(|(_, _, pma)| pma.cow) {
            self.break_cow(st, page, &vma).map_err(|_| Errno::EFAULT)?;
            // The platform may map the old page: map the new one instead.
            if st.mapped.find(page).is_some()
                && let Err(err) =
                    self.map_backed(st, page, page + PAGE, &vma, fault::Touch::OnFault)
            {
                st.platform_error.get_or_insert(err);
                self.platform_failed
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                return Err(Errno::EFAULT);
            }
        }
        let (ps, pe, pma) = st.pmas.find(page).ok_or(Errno::EFAULT)?;
        Ok((pma.offset + (addr - ps), pe.min(vma_end) - addr))
    }

    /// Copies as much of program memory at `addr` into `buf` as is readable
    /// before the first bad page; returns the count.
    pub fn copy_in_partial(&self, addr: u64, buf: &mut [u8]) -> usize {
        let mut st = self.lock();
        let mut done = 0;
        while done < buf.len() {
            let Some(at) = addr.checked_add(done as u64) else {
                break;
            };
            let Ok((offset, avail)) = self.translate(&mut st, at, false, false) else {
                break;
            };
            let n = usize::try_from(avail)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            self.memory_file.read(offset, &mut buf[done..done + n]);
            done += n;
        }
        done
    }

    /// Copies as much of `buf` to program memory at `addr` as is writable
    /// before the first bad page; returns the count.
    pub fn copy_out_partial(&self, addr: u64, buf: &[u8]) -> usize {
        self.write_partial(addr, buf, false)
    }

    /// Writes `buf` at `addr` whatever the VMA's permissions (ptrace's
    /// `FOLL_FORCE`; the ELF loader zeroes the bss tail of a read-only page
    /// with it). Every page still needs a VMA.
    ///
    /// # Errors
    /// `EFAULT` if a page has no VMA or lies beyond the end of a mapped file.
    pub fn force_write(&self, addr: u64, buf: &[u8]) -> Result<(), Errno> {
        if self.write_partial(addr, buf, true) == buf.len() {
            Ok(())
        } else {
            Err(Errno::EFAULT)
        }
    }

    fn write_partial(&self, addr: u64, buf: &[u8], force: bool) -> usize {
        let mut st = self.lock();
        let mut done = 0;
        while done < buf.len() {
            let Some(at) = addr.checked_add(done as u64) else {
                break;
            };
            let Ok((offset, avail)) = self.translate(&mut st, at, true, force) else {
                break;
            };
            let n = usize::try_from(avail)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            self.memory_file.write(offset, &buf[done..done + n]);
            done += n;
        }
        done
    }

    /// Atomically replaces the 4-aligned u32 at `addr` with `update(old)`
    /// while `update` gives `Some` (see `MemoryFile::fetch_update_u32`):
    /// `Ok(old)` if replaced, `Err(old)` if `update` declined. The word must
    /// be writable, as for Linux's futex atomics; a copy-on-write page is
    /// broken first so the update lands in this address space's copy.
    ///
    /// # Errors
    /// `EFAULT` if `addr` is not mapped writable, `EINVAL` if unaligned.
    pub fn futex_update(
        &self,
        addr: u64,
        update: impl FnMut(u32) -> Option<u32>,
    ) -> Result<Result<u32, u32>, Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        let mut st = self.lock();
        let (offset, _) = self.translate(&mut st, addr, true, false)?;
        Ok(self.memory_file.fetch_update_u32(offset, update))
    }

    /// What names the futex word at `addr` across address spaces (Linux's
    /// inode-based key): its MemoryFile offset when a shared mapping holds
    /// it, else `None`, when the address space and address name it.
    ///
    /// # Errors
    /// `EFAULT` if `addr` is not mapped readable.
    pub fn shared_futex_offset(&self, addr: u64) -> Result<Option<u64>, Errno> {
        let mut st = self.lock();
        let page = page_down(addr);
        let (_, _, vma) = self.find_vma(&mut st, page).ok_or(Errno::EFAULT)?;
        if !vma.shared {
            return Ok(None);
        }
        let (offset, _) = self.translate(&mut st, addr, false, false)?;
        Ok(Some(offset))
    }

    /// Reads a NUL-terminated string of at most `max_len` bytes, NUL
    /// included; returns it without the NUL.
    ///
    /// # Errors
    /// `EFAULT` if a page before the NUL is unreadable, `ENAMETOOLONG` if
    /// the first `max_len` bytes hold no NUL.
    pub fn read_c_string(&self, addr: u64, max_len: usize) -> Result<Vec<u8>, Errno> {
        let mut st = self.lock();
        let mut out = Vec::new();
        let mut chunk = [0u8; abi::PAGE_SIZE_USIZE];
        while out.len() < max_len {
            let at = addr.checked_add(out.len() as u64).ok_or(Errno::EFAULT)?;
            let (offset, avail) = self.translate(&mut st, at, false, false)?;
            let to_page_end = PAGE - (at % PAGE);
            let n = usize::try_from(avail.min(to_page_end))
                .unwrap_or(usize::MAX)
                .min(max_len - out.len());
            let piece = &mut chunk[..n];
            self.memory_file.read(offset, piece);
            if let Some(nul) = piece.iter().position(|&b| b == 0) {
                out.extend_from_slice(&piece[..nul]);
                return Ok(out);
            }
            out.extend_from_slice(piece);
        }
        Err(Errno::ENAMETOOLONG)
    }

    /// Reads `count` `struct iovec`s as Linux's `import_iovec` does: the
    /// lengths are clamped so their total stays within `MAX_RW_COUNT`.
    ///
    /// # Errors
    /// `EINVAL` if `count` exceeds `UIO_MAXIOV` or a length is negative as
    /// an `ssize_t`; `EFAULT` if the array is unreadable or a buffer lies
    /// beyond the user address range.
    pub fn read_iovecs(&self, addr: u64, count: u64) -> Result<Vec<Iovec>, Errno> {
        if count == 0 {
            return Ok(Vec::new());
        }
        if count > UIO_MAXIOV {
            return Err(Errno::EINVAL);
        }
        let n = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
        let mut iovs = vec![Iovec::default(); n];
        self.copy_in(addr, zerocopy::IntoBytes::as_mut_bytes(iovs.as_mut_slice()))?;
        if iovs.iter().any(|iov| i64::try_from(iov.iov_len).is_err()) {
            return Err(Errno::EINVAL);
        }
        let mut total = 0u64;
        for iov in &mut iovs {
            if iov
                .iov_base
                .checked_add(iov.iov_len)
                .is_none_or(|end| end > abi::TASK_SIZE)
            {
                return Err(Errno::EFAULT);
            }
            iov.iov_len = iov.iov_len.min(MAX_RW_COUNT - total);
            total += iov.iov_len;
        }
        Ok(iovs)
    }
}

/// Eight random bytes from the host's `getrandom`, for address-space layout
/// randomization. Falls back to std's randomly keyed hasher should the
/// host refuse.
pub(super) fn random_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom writes at most `buf.len()` bytes to `buf`, a live
    // local array.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if usize::try_from(n).ok() == Some(buf.len()) {
        return u64::from_ne_bytes(buf);
    }
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// Program code for a platform that rewrites syscall sites (systrap).
impl platform::ProgramMemory for MemoryManager {
    fn read_code(&self, addr: u64, buf: &mut [u8]) -> bool {
        let mut st = self.lock();
        let mut done = 0;
        while done < buf.len() {
            let Some(at) = addr.checked_add(done as u64) else {
                return false;
            };
            let page = page_down(at);
            match self.find_vma(&mut st, page) {
                Some((start, _, vma)) if start <= page && vma.perms.execute => {}
                _ => return false,
            }
            let Ok((offset, avail)) = self.translate(&mut st, at, false, true) else {
                return false;
            };
            let n = usize::try_from(avail)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            self.memory_file.read(offset, &mut buf[done..done + n]);
            done += n;
        }
        true
    }

    fn patch_code(&self, addr: u64, old: u64, new: u64) -> bool {
        if !addr.is_multiple_of(8) {
            return false;
        }
        let mut st = self.lock();
        let page = page_down(addr);
        match self.find_vma(&mut st, page) {
            Some((start, _, vma)) if start <= page && vma.perms.execute && !vma.shared => {}
            _ => return false,
        }
        // A forced write: backs the page and breaks copy-on-write, so the
        // patch lands in this address space's own copy.
        let Ok((offset, _)) = self.translate(&mut st, addr, true, true) else {
            return false;
        };
        self.memory_file.compare_exchange_u64(offset, old, new)
    }
}
