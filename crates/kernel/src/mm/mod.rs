//! PLACEHOLDER API, to be replaced by the mm implementation (see the helper
//! brief). Signatures here are the contract the rest of the kernel codes to.

use std::fmt::Debug;
use std::sync::Arc;

use abi::Errno;
use abi::uio::Iovec;
use platform::{Access, AddressSpace, MemoryFile};
use zerocopy::{FromBytes, Immutable, IntoBytes};

/// Something whose contents a private file mapping copies in on fault.
pub trait Mappable: Send + Sync + Debug {
    /// The file's current size in bytes.
    fn size(&self) -> Result<u64, Errno>;
    /// Copies up to `len` bytes at `file_offset` into the MemoryFile at
    /// `mf_offset`; returns how many were copied (short at end of file). The
    /// caller zeroes the rest.
    fn fill(&self, memory_file: &MemoryFile, mf_offset: u64, file_offset: u64, len: u64) -> Result<u64, Errno>;
    /// (device, inode, path) for /proc/[pid]/maps.
    fn identity(&self) -> (u64, u64, String);
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
    pub addr: u64,
    pub len: u64,
    pub prot: u32,
    pub flags: u32,
    pub file: Option<(Arc<dyn Mappable>, u64)>,
}

/// The signal a fault turns into when no VMA allows the access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultSignal {
    pub signo: u32,
    pub code: i32,
    pub addr: u64,
}

/// Where the loader places things.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub min_addr: u64,
    pub max_addr: u64,
    pub stack_top: u64,
    pub mmap_base: u64,
    pub pie_base: u64,
}

#[derive(Debug)]
pub struct MemoryManager {}

#[allow(unused_variables, missing_docs)]
impl MemoryManager {
    pub fn new(memory_file: Arc<MemoryFile>, aspace: Arc<dyn AddressSpace>, min_addr: u64, max_addr: u64) -> MemoryManager { unimplemented!() }
    pub fn address_space(&self) -> &Arc<dyn AddressSpace> { unimplemented!() }
    pub fn layout(&self) -> Layout { unimplemented!() }
    pub fn mmap(&self, req: MmapRequest) -> Result<u64, Errno> { Err(Errno::ENOSYS) }
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> { Err(Errno::ENOSYS) }
    pub fn mprotect(&self, addr: u64, len: u64, prot: u32) -> Result<(), Errno> { Err(Errno::ENOSYS) }
    pub fn set_brk_base(&self, addr: u64) {}
    pub fn brk(&self, addr: u64) -> u64 { 0 }
    pub fn handle_fault(&self, addr: u64, access: Access) -> Result<(), FaultSignal> { Err(FaultSignal { signo: 11, code: 1, addr }) }
    pub fn copy_in(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> { Err(Errno::EFAULT) }
    pub fn copy_in_partial(&self, addr: u64, buf: &mut [u8]) -> usize { 0 }
    pub fn copy_out(&self, addr: u64, buf: &[u8]) -> Result<(), Errno> { Err(Errno::EFAULT) }
    pub fn copy_out_partial(&self, addr: u64, buf: &[u8]) -> usize { 0 }
    pub fn force_write(&self, addr: u64, buf: &[u8]) -> Result<(), Errno> { Err(Errno::EFAULT) }
    pub fn read_obj<T: FromBytes + IntoBytes>(&self, addr: u64) -> Result<T, Errno> { Err(Errno::EFAULT) }
    pub fn write_obj<T: IntoBytes + Immutable>(&self, addr: u64, val: &T) -> Result<(), Errno> { Err(Errno::EFAULT) }
    pub fn read_c_string(&self, addr: u64, max_len: usize) -> Result<Vec<u8>, Errno> { Err(Errno::EFAULT) }
    pub fn read_iovecs(&self, addr: u64, count: u64) -> Result<Vec<Iovec>, Errno> { Err(Errno::EFAULT) }
}
