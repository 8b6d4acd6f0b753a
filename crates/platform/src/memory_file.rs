//! The MemoryFile: one memfd that holds every byte of program memory.
//!
//! The sentry maps it once (`MAP_SHARED | MAP_NORESERVE`) and reads and writes
//! program memory through that mapping; platforms map ranges of the same memfd
//! into address spaces. Allocation policy is the kernel's (`mm/`); this module
//! only owns the file, the mapping and the raw copies.
//!
//! Program memory can change at any moment (another program thread writes
//! it), so no Rust reference into the mapping is ever formed: every access is
//! a raw copy between the mapping and a sentry buffer.

#![allow(unsafe_code)]

use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// Why the MemoryFile could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryFileError {
    /// `memfd_create` failed.
    #[error("memfd_create: {0}")]
    Create(std::io::Error),
    /// Sizing the memfd failed.
    #[error("ftruncate memory file to {size} bytes: {source}")]
    Truncate {
        /// The requested size.
        size: u64,
        /// The host's error.
        source: std::io::Error,
    },
    /// Mapping the memfd into the sentry failed.
    #[error("map memory file: {0}")]
    Map(std::io::Error),
    /// Punching a hole to free a range failed.
    #[error("free memory file range {offset:#x}+{len:#x}: {source}")]
    Punch {
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
        /// The host's error.
        source: std::io::Error,
    },
}

/// The memfd holding all program memory, and the sentry's mapping of it.
#[derive(Debug)]
pub struct MemoryFile {
    fd: OwnedFd,
    base: NonNull<u8>,
    size: u64,
}

// SAFETY: the mapping lives as long as the MemoryFile and is only touched
// through raw copies, which are safe from any thread (the memory is shared
// with the program anyway and never read through references).
unsafe impl Send for MemoryFile {}
// SAFETY: as for Send: no interior state besides the immutable fd and base.
unsafe impl Sync for MemoryFile {}

impl MemoryFile {
    /// Creates a MemoryFile with room for `size` bytes (sparse: nothing is
    /// allocated until written).
    ///
    /// # Errors
    /// A [`MemoryFileError`] if the host refuses the memfd or the mapping.
    pub fn new(size: u64) -> Result<MemoryFile, MemoryFileError> {
        let name: &CStr = c"carapace-memory";
        // Program text lives here, so where vm.memfd_noexec exists the file
        // must be created executable explicitly.
        let mut raw = memfd_create(name, libc::MFD_CLOEXEC | libc::MFD_EXEC);
        if raw < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
            raw = memfd_create(name, libc::MFD_CLOEXEC);
        }
        if raw < 0 {
            return Err(MemoryFileError::Create(std::io::Error::last_os_error()));
        }
        // SAFETY: memfd_create just returned this fd and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let len = libc::off_t::try_from(size).map_err(|_| MemoryFileError::Truncate {
            size,
            source: std::io::Error::from_raw_os_error(libc::EFBIG),
        })?;
        // SAFETY: ftruncate on an fd we own; no memory is involved.
        if unsafe { libc::ftruncate(fd.as_raw_fd(), len) } != 0 {
            return Err(MemoryFileError::Truncate {
                size,
                source: std::io::Error::last_os_error(),
            });
        }
        let map_len = usize::try_from(size)
            .map_err(|_| MemoryFileError::Map(std::io::Error::from_raw_os_error(libc::ENOMEM)))?;
        // SAFETY: a fresh shared mapping of our own memfd at an address the
        // host chooses; it overlaps nothing Rust owns.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_NORESERVE,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(MemoryFileError::Map(std::io::Error::last_os_error()));
        }
        let base = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| MemoryFileError::Map(std::io::Error::from_raw_os_error(libc::EFAULT)))?;
        Ok(MemoryFile { fd, base, size })
    }

    /// The memfd, for platforms to map ranges of it.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The file's size: offsets are in `0..size()`.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`.
    ///
    /// # Panics
    /// If the range is outside the file: callers index with offsets they
    /// allocated, never with program values.
    pub fn read(&self, offset: u64, buf: &mut [u8]) {
        let src = self.ptr(offset, buf.len());
        // SAFETY: `ptr` checked the range lies in our mapping, which stays
        // mapped for our lifetime; `buf` is a distinct Rust allocation.
        unsafe { std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) }
    }

    /// Copies `buf` to `offset`.
    ///
    /// # Panics
    /// If the range is outside the file (see [`MemoryFile::read`]).
    pub fn write(&self, offset: u64, buf: &[u8]) {
        let dst = self.ptr(offset, buf.len());
        // SAFETY: as in `read`; the mapping is writable.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, buf.len()) }
    }

    /// Atomically replaces the u64 at the 8-aligned `offset` with `new` if
    /// it holds `old` (one locked compare-and-swap, so a program thread
    /// executing or reading that word sees either value, never a mix).
    /// Returns whether the word now holds `new`.
    ///
    /// # Panics
    /// If the range is outside the file or `offset` is not 8-aligned.
    pub fn compare_exchange_u64(&self, offset: u64, old: u64, new: u64) -> bool {
        assert!(offset.is_multiple_of(8), "unaligned word {offset:#x}");
        let ptr = self.ptr(offset, 8).cast::<u64>();
        // SAFETY: the word is 8-aligned and inside our mapping, which
        // outlives `self`; every access the sentry makes to program memory
        // is a raw copy or this atomic, and the program's own accesses are
        // hardware ones, so no Rust reference to it exists.
        let word = unsafe { std::sync::atomic::AtomicU64::from_ptr(ptr) };
        word.compare_exchange(
            old,
            new,
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
        )
        .is_ok()
    }

    /// Atomically replaces the u32 at the 4-aligned `offset` with
    /// `update(old)` while `update` gives `Some`, retrying if the word
    /// changed meanwhile (`AtomicU32::fetch_update`). Program threads change
    /// the word concurrently on other CPUs, so a futex operation's
    /// read-modify-write must be this one atomic instruction sequence, never
    /// a read then a write. Returns `Ok(old)` if the word was replaced,
    /// `Err(old)` if `update` declined.
    ///
    /// # Panics
    /// If `offset` is unaligned or outside the file.
    pub fn fetch_update_u32(
        &self,
        offset: u64,
        update: impl FnMut(u32) -> Option<u32>,
    ) -> Result<u32, u32> {
        assert!(offset.is_multiple_of(4), "unaligned word {offset:#x}");
        let ptr = self.ptr(offset, 4).cast::<u32>();
        // SAFETY: as in `compare_exchange_u64`: the word is 4-aligned, inside
        // our mapping, and only ever accessed by raw copies, atomics and the
        // program's hardware accesses.
        let word = unsafe { std::sync::atomic::AtomicU32::from_ptr(ptr) };
        word.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            update,
        )
    }

    /// Sets `len` bytes at `offset` to zero.
    ///
    /// # Panics
    /// If the range is outside the file (see [`MemoryFile::read`]).
    pub fn zero(&self, offset: u64, len: u64) {
        let len = usize::try_from(len).expect("zeroed range fits the mapping");
        let dst = self.ptr(offset, len);
        // SAFETY: as in `write`.
        unsafe { std::ptr::write_bytes(dst, 0, len) }
    }

    /// Reads from the host fd `fd` at `file_offset` straight into
    /// `[offset, offset + len)` of the MemoryFile, as `pread(2)` does.
    /// Returns the number of bytes read (short at end of file).
    ///
    /// # Errors
    /// The host's error from `pread`.
    ///
    /// # Panics
    /// If the range is outside the file (see [`MemoryFile::read`]).
    pub fn read_from_fd(
        &self,
        fd: BorrowedFd<'_>,
        file_offset: u64,
        offset: u64,
        len: u64,
    ) -> std::io::Result<u64> {
        let len = usize::try_from(len).expect("read range fits the mapping");
        let dst = self.ptr(offset, len);
        let mut done = 0usize;
        while done < len {
            let pos = libc::off_t::try_from(file_offset + done as u64)
                .map_err(|_| std::io::Error::from_raw_os_error(libc::EOVERFLOW))?;
            let at = dst.wrapping_add(done);
            // SAFETY: `at..dst + len` lies in our mapping (checked by `ptr`)
            // and the kernel writes at most `len - done` bytes there.
            let n = unsafe { libc::pread(fd.as_raw_fd(), at.cast(), len - done, pos) };
            match n {
                0 => break,
                n if n > 0 => done += n.unsigned_abs(),
                _ => {
                    let err = std::io::Error::last_os_error();
                    if err.kind() != std::io::ErrorKind::Interrupted {
                        return Err(err);
                    }
                }
            }
        }
        Ok(done as u64)
    }

    /// Writes `[offset, offset + len)` of the MemoryFile to the host fd `fd`,
    /// as one `write(2)`. Returns what the host wrote.
    ///
    /// # Errors
    /// The host's error from `write`.
    ///
    /// # Panics
    /// If the range is outside the file (see [`MemoryFile::read`]).
    pub fn write_to_fd(&self, fd: BorrowedFd<'_>, offset: u64, len: u64) -> std::io::Result<u64> {
        let len = usize::try_from(len).expect("write range fits the mapping");
        let src = self.ptr(offset, len);
        // SAFETY: the source lies in our mapping (checked by `ptr`); the
        // kernel only reads it.
        let n = unsafe { libc::write(fd.as_raw_fd(), src.cast(), len) };
        if n < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(n.unsigned_abs() as u64)
        }
    }

    /// Releases the pages of `[offset, offset + len)` back to the host, so
    /// that the range reads as zeros when it is reused.
    ///
    /// # Errors
    /// A [`MemoryFileError::Punch`] if the host refused.
    pub fn free(&self, offset: u64, len: u64) -> Result<(), MemoryFileError> {
        let punch = |source| MemoryFileError::Punch {
            offset,
            len,
            source,
        };
        let (off, n) = (
            libc::off_t::try_from(offset)
                .map_err(|_| punch(std::io::Error::from_raw_os_error(libc::EINVAL)))?,
            libc::off_t::try_from(len)
                .map_err(|_| punch(std::io::Error::from_raw_os_error(libc::EINVAL)))?,
        );
        // SAFETY: fallocate on our own fd; it changes file contents, never
        // Rust-visible memory.
        let rc = unsafe {
            libc::fallocate(
                self.fd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                off,
                n,
            )
        };
        if rc != 0 {
            return Err(punch(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Bytes of the file that hold pages: what the sandbox's memory costs.
    ///
    /// # Errors
    /// The host's error from `fstat`.
    pub fn allocated_bytes(&self) -> std::io::Result<u64> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
        // SAFETY: fstat writes one `struct stat` to the pointer we give it.
        if unsafe { libc::fstat(self.fd.as_raw_fd(), st.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fstat succeeded, so the struct is initialized.
        let st = unsafe { st.assume_init() };
        Ok(u64::try_from(st.st_blocks).unwrap_or(0) * 512)
    }

    fn ptr(&self, offset: u64, len: usize) -> *mut u8 {
        let end = offset
            .checked_add(len as u64)
            .expect("memory file range overflows");
        assert!(
            end <= self.size,
            "memory file range {offset:#x}+{len:#x} out of bounds"
        );
        let offset = usize::try_from(offset).expect("offset below size fits usize");
        // SAFETY: offset + len <= size, the length of our mapping.
        unsafe { self.base.as_ptr().add(offset) }
    }
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        let len = usize::try_from(self.size).expect("mapped size fits usize");
        // SAFETY: unmapping exactly the mapping `new` made; no copy can be in
        // flight because we have `&mut self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), len) };
    }
}

fn memfd_create(name: &CStr, flags: libc::c_uint) -> libc::c_int {
    // SAFETY: `name` is a valid NUL-terminated string.
    unsafe { libc::memfd_create(name.as_ptr(), flags) }
}
