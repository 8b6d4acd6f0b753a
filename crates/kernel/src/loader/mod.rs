//! Loading an ELF program into a fresh address space, as Linux's
//! `fs/binfmt_elf.c` does: the executable's PT_LOAD segments (ET_EXEC at
//! their addresses, ET_DYN at a randomized base), the PT_INTERP dynamic
//! loader if there is one, the brk start, and the initial stack with argv,
//! envp and the auxv.

mod elf;
mod stack;

use std::sync::Arc;

use abi::Errno;
use abi::mman::{
    MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use platform::Registers;

use crate::mm::{MemoryManager, MmapRequest};
use crate::task::Credentials;
use crate::vfs::{self, File, FsContext};

pub use elf::ElfFile;
use stack::StackImage;

/// The size of the stack mapping the loader creates (RLIMIT_STACK's default).
const STACK_SIZE: u64 = 8 << 20;

/// A loaded program, ready to run.
#[derive(Debug)]
pub struct Image {
    /// The registers of its first instruction.
    pub regs: Registers,
    /// The path it was executed as.
    pub exe_path: Vec<u8>,
}

/// Where one ELF object ended up.
#[derive(Clone, Copy, Debug)]
struct Loaded {
    /// What was added to every `p_vaddr`.
    bias: u64,
    /// The entry point, relocated.
    entry: u64,
    /// The program headers' address in memory (AT_PHDR), if mapped.
    phdr: u64,
    /// The end of the highest segment (the brk start, for the executable).
    end: u64,
}

/// Loads `exe` into `mm`, which must be empty, and builds the initial stack.
///
/// # Errors
/// ENOEXEC for a malformed or foreign ELF, E2BIG for oversized argv/envp,
/// the errors of opening the interpreter, and ENOMEM/EFAULT from the memory
/// manager.
#[allow(clippy::too_many_arguments)]
pub fn load(
    mm: &MemoryManager,
    fs: &FsContext,
    creds: &Credentials,
    exe: &Arc<File>,
    exe_path: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, Errno> {
    let main = ElfFile::parse(exe)?;
    let interp = match main.interpreter(exe)? {
        Some(path) => {
            let file = vfs::open_executable(fs, creds, &path)?;
            let elf = ElfFile::parse(&file)?;
            Some((file, elf))
        }
        None => None,
    };

    let layout = mm.layout();
    // ET_DYN with an interpreter is a PIE: Linux puts it at ELF_ET_DYN_BASE
    // plus randomization. Without one (static-pie, or ld.so run directly) it
    // is placed like a library, top-down from the mmap base.
    let main_base = match (main.is_dyn(), interp.is_some()) {
        (false, _) => None,
        (true, true) => Some(layout.pie_base),
        (true, false) => Some(0),
    };
    let main_loaded = map_object(mm, exe, &main, main_base)?;
    mm.set_brk_base(main_loaded.end);
    let interp_loaded = match &interp {
        Some((file, elf)) => Some(map_object(mm, file, elf, elf.is_dyn().then_some(0))?),
        None => None,
    };

    let stack_prot = PROT_READ
        | PROT_WRITE
        | if main.executable_stack() {
            PROT_EXEC
        } else {
            0
        };
    let stack_bottom = layout.stack_top - STACK_SIZE;
    mm.mmap(MmapRequest {
        addr: stack_bottom,
        len: STACK_SIZE,
        prot: stack_prot,
        flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN,
        file: None,
    })?;
    let entry = interp_loaded.map_or(main_loaded.entry, |l| l.entry);
    let stack = StackImage {
        argv,
        envp,
        execfn: exe_path,
        phdr: main_loaded.phdr,
        phnum: u64::from(main.header.e_phnum),
        base: interp_loaded.map_or(0, |l| l.bias),
        entry: main_loaded.entry,
        creds,
    };
    let sp = stack.build(mm, layout.stack_top, STACK_SIZE)?;
    Ok(Image {
        regs: Registers::new_user(entry, sp),
        exe_path: exe_path.to_vec(),
    })
}

/// Maps every PT_LOAD segment of `elf`. `base` is `None` for ET_EXEC (no
/// bias), else the address to place the object at (0: let the memory manager
/// choose, top-down).
fn map_object(
    mm: &MemoryManager,
    file: &Arc<File>,
    elf: &ElfFile,
    base: Option<u64>,
) -> Result<Loaded, Errno> {
    let (low, high) = elf.load_span()?;
    let bias = match base {
        None => 0,
        Some(hint) => {
            // Reserve the whole span so the segments keep their relative
            // layout, then release it: the segments are mapped over it with
            // MAP_FIXED and the gaps between them stay unmapped, as Linux
            // leaves them.
            let span = high - low;
            let flags = MAP_PRIVATE | MAP_ANONYMOUS;
            let addr = mm.mmap(MmapRequest {
                addr: hint,
                len: span,
                prot: 0,
                flags,
                file: None,
            })?;
            mm.munmap(addr, span)?;
            addr.wrapping_sub(low)
        }
    };
    let backing = match file.mmap_backing()? {
        crate::mm::MmapBacking::File(mappable) => mappable,
        crate::mm::MmapBacking::Anonymous => return Err(Errno::ENOEXEC),
    };
    let mut end = 0;
    for seg in elf.segments() {
        let seg = seg.relocate(bias)?;
        if seg.file_len > 0 {
            mm.mmap(MmapRequest {
                addr: seg.page_start,
                len: seg.file_len,
                prot: seg.prot,
                flags: MAP_PRIVATE | MAP_FIXED,
                file: Some((Arc::clone(&backing), seg.file_offset)),
            })?;
        }
        if seg.zero_len > 0 {
            // The part of the last file page past p_filesz is bss: zero it,
            // even if the segment is read-only (binfmt_elf's padzero).
            mm.force_write(
                seg.zero_start,
                &vec![0; usize::try_from(seg.zero_len).map_err(|_| Errno::ENOEXEC)?],
            )?;
        }
        if seg.anon_len > 0 {
            mm.mmap(MmapRequest {
                addr: seg.anon_start,
                len: seg.anon_len,
                prot: seg.prot,
                flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                file: None,
            })?;
        }
        end = end.max(seg.mem_end);
    }
    Ok(Loaded {
        bias,
        entry: elf.header.e_entry.wrapping_add(bias),
        phdr: elf.phdr_vaddr().map_or(0, |v| v.wrapping_add(bias)),
        end,
    })
}
