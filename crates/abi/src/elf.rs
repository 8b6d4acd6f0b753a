//! ELF64 file format, from `include/uapi/linux/elf.h`.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `\x7fELF`: the first four bytes of `e_ident`.
pub const ELFMAG: [u8; 4] = *b"\x7fELF";
/// `e_ident[EI_CLASS]` for 64-bit objects.
pub const ELFCLASS64: u8 = 2;
/// `e_ident[EI_DATA]` for little-endian objects.
pub const ELFDATA2LSB: u8 = 1;
/// Index of the class byte in `e_ident`.
pub const EI_CLASS: usize = 4;
/// Index of the data-encoding byte in `e_ident`.
pub const EI_DATA: usize = 5;
/// Index of the version byte in `e_ident`.
pub const EI_VERSION: usize = 6;
/// The only ELF version.
pub const EV_CURRENT: u8 = 1;

/// `e_type`: an executable at a fixed address.
pub const ET_EXEC: u16 = 2;
/// `e_type`: a shared object (or a position-independent executable).
pub const ET_DYN: u16 = 3;
/// `e_machine` for x86-64.
pub const EM_X86_64: u16 = 62;

/// `p_type`: a loadable segment.
pub const PT_LOAD: u32 = 1;
/// `p_type`: the path of the program interpreter.
pub const PT_INTERP: u32 = 3;
/// `p_type`: the program header table itself.
pub const PT_PHDR: u32 = 6;
/// `p_type`: stack executability (`p_flags & PF_X`).
pub const PT_GNU_STACK: u32 = 0x6474_e551;

/// `p_flags`: executable.
pub const PF_X: u32 = 1;
/// `p_flags`: writable.
pub const PF_W: u32 = 2;
/// `p_flags`: readable.
pub const PF_R: u32 = 4;

/// `struct elf64_hdr`: the ELF file header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[allow(missing_docs)]
pub struct Elf64Ehdr {
    pub e_ident: [u8; 16],
    pub e_type: u16,
    pub e_machine: u16,
    pub e_version: u32,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub e_shoff: u64,
    pub e_flags: u32,
    pub e_ehsize: u16,
    pub e_phentsize: u16,
    pub e_phnum: u16,
    pub e_shentsize: u16,
    pub e_shnum: u16,
    pub e_shstrndx: u16,
}
const _: () = assert!(core::mem::size_of::<Elf64Ehdr>() == 64);

/// `struct elf64_phdr`: one program header.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[allow(missing_docs)]
pub struct Elf64Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_paddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}
const _: () = assert!(core::mem::size_of::<Elf64Phdr>() == 56);
