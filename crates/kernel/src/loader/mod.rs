//! Loading an ELF program into a fresh address space.

use std::sync::Arc;

use abi::Errno;
use platform::Registers;

use crate::mm::MemoryManager;
use crate::task::Credentials;
use crate::vfs::{File, FsContext};

/// A loaded program, ready to run.
#[derive(Debug)]
pub struct Image {
    /// The registers of its first instruction.
    pub regs: Registers,
    /// The path it was executed as.
    pub exe_path: Vec<u8>,
}

/// Loads `exe` into `mm`.
#[allow(clippy::too_many_arguments, unused_variables)]
pub fn load(
    mm: &MemoryManager,
    fs: &FsContext,
    creds: &Credentials,
    exe: &Arc<File>,
    exe_path: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, Errno> {
    Err(Errno::ENOEXEC)
}
