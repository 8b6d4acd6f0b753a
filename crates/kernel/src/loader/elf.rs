//! Parsing and checking ELF64 headers, with binfmt_elf's rules.

use abi::Errno;
use abi::elf::{
    EI_CLASS, EI_DATA, EI_VERSION, ELFCLASS64, ELFDATA2LSB, ELFMAG, EM_X86_64, ET_DYN, ET_EXEC,
    EV_CURRENT, Elf64Ehdr, Elf64Phdr, PF_R, PF_W, PF_X, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_PHDR,
};
use abi::fcntl::PATH_MAX;
use abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
use abi::{PAGE_SIZE, TASK_SIZE};
use zerocopy::FromBytes;

use crate::vfs::File;

/// binfmt_elf refuses program header tables larger than this (`ELF_MIN_ALIGN`
/// is irrelevant on x86-64; the cap is 64 KiB).
const MAX_PHDRS_BYTES: usize = 65536;

/// Something an ELF file can be read from.
pub trait ReadAt {
    /// Reads up to `buf.len()` bytes at `offset`; returns how many.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno>;
}

impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        File::read_at(self, buf, offset)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for std::sync::Arc<T> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        (**self).read_at(buf, offset)
    }
}

/// Reads exactly `buf.len()` bytes at `offset`; a short file is ENOEXEC.
fn read_exact(file: &(impl ReadAt + ?Sized), buf: &mut [u8], offset: u64) -> Result<(), Errno> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.read_at(&mut buf[done..], offset + done as u64)?;
        if n == 0 {
            return Err(Errno::ENOEXEC);
        }
        done += n;
    }
    Ok(())
}

/// A checked ELF file header and its program headers.
#[derive(Clone, Debug)]
pub struct ElfFile {
    /// The file header.
    pub header: Elf64Ehdr,
    /// The program headers.
    pub phdrs: Vec<Elf64Phdr>,
}

/// One PT_LOAD segment, relocated and split into its file-backed part, the
/// zeroed tail of its last file page, and its anonymous bss pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Page-aligned start of the mapping.
    pub page_start: u64,
    /// Length of the file-backed mapping (page-aligned; 0 if none).
    pub file_len: u64,
    /// File offset of `page_start`.
    pub file_offset: u64,
    /// Where the zeroed tail of the last file page starts.
    pub zero_start: u64,
    /// Its length (0 if the file part ends on a page boundary or there is no bss).
    pub zero_len: u64,
    /// Start of the anonymous pages.
    pub anon_start: u64,
    /// Their length (page-aligned; 0 if none).
    pub anon_len: u64,
    /// One past the segment's last byte in memory.
    pub mem_end: u64,
    /// `PROT_*` of the segment.
    pub prot: u32,
}

/// A PT_LOAD header, unrelocated.
#[derive(Clone, Copy, Debug)]
pub struct LoadHeader(Elf64Phdr);

fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

fn page_up(v: u64) -> Option<u64> {
    v.checked_add(PAGE_SIZE - 1).map(page_down)
}

impl LoadHeader {
    /// The segment at `bias`, with every address checked against the user range.
    pub fn relocate(&self, bias: u64) -> Result<Segment, Errno> {
        let ph = &self.0;
        let start = ph.p_vaddr.checked_add(bias).ok_or(Errno::ENOEXEC)?;
        let file_end = start.checked_add(ph.p_filesz).ok_or(Errno::ENOEXEC)?;
        let mem_end = start.checked_add(ph.p_memsz).ok_or(Errno::ENOEXEC)?;
        if mem_end > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let page_start = page_down(start);
        let file_page_end = page_up(file_end).ok_or(Errno::ENOEXEC)?;
        let mem_page_end = page_up(mem_end).ok_or(Errno::ENOEXEC)?;
        let file_offset = ph.p_offset - (start - page_start);
        let (file_len, zero_start, zero_len) = if ph.p_filesz == 0 {
            (0, file_end, 0)
        } else {
            // binfmt_elf's padzero clears to the end of the page, past
            // p_memsz too: ld.so's early allocator uses that space.
            let zero_len = if ph.p_memsz > ph.p_filesz {
                file_page_end - file_end
            } else {
                0
            };
            (file_page_end - page_start, file_end, zero_len)
        };
        let anon_start = if ph.p_filesz == 0 {
            page_start
        } else {
            file_page_end
        };
        let anon_len = mem_page_end.saturating_sub(anon_start);
        let mut prot = 0;
        if ph.p_flags & PF_R != 0 {
            prot |= PROT_READ;
        }
        if ph.p_flags & PF_W != 0 {
            prot |= PROT_WRITE;
        }
        if ph.p_flags & PF_X != 0 {
            prot |= PROT_EXEC;
        }
        Ok(Segment {
            page_start,
            file_len,
            file_offset,
            zero_start,
            zero_len,
            anon_start,
            anon_len,
            mem_end,
            prot,
        })
    }
}

impl ElfFile {
    /// Reads and checks the headers of `file`.
    ///
    /// # Errors
    /// ENOEXEC for anything but a well-formed little-endian x86-64 ELF64
    /// executable or shared object; the file's read errors.
    pub fn parse(file: &(impl ReadAt + ?Sized)) -> Result<ElfFile, Errno> {
        let mut raw = [0u8; size_of::<Elf64Ehdr>()];
        read_exact(file, &mut raw, 0)?;
        let header = Elf64Ehdr::read_from_bytes(&raw).map_err(|_| Errno::ENOEXEC)?;
        let ident = &header.e_ident;
        if ident[..4] != ELFMAG
            || ident[EI_CLASS] != ELFCLASS64
            || ident[EI_DATA] != ELFDATA2LSB
            || ident[EI_VERSION] != EV_CURRENT
            || !matches!(header.e_type, ET_EXEC | ET_DYN)
            || header.e_machine != EM_X86_64
            || usize::from(header.e_phentsize) != size_of::<Elf64Phdr>()
        {
            return Err(Errno::ENOEXEC);
        }
        let table_len = usize::from(header.e_phnum) * size_of::<Elf64Phdr>();
        if table_len == 0 || table_len > MAX_PHDRS_BYTES {
            return Err(Errno::ENOEXEC);
        }
        let mut table = vec![0u8; table_len];
        read_exact(file, &mut table, header.e_phoff)?;
        let phdrs = <[Elf64Phdr]>::ref_from_bytes(&table)
            .map_err(|_| Errno::ENOEXEC)?
            .to_vec();
        let elf = ElfFile { header, phdrs };
        elf.check_loads()?;
        Ok(elf)
    }

    /// binfmt_elf's checks on PT_LOAD headers: at least one, file offset and
    /// address congruent modulo the page size, filesz within memsz.
    fn check_loads(&self) -> Result<(), Errno> {
        let mut any = false;
        for ph in self.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
            any = true;
            if ph.p_filesz > ph.p_memsz
                || (ph.p_vaddr.wrapping_sub(ph.p_offset)) % PAGE_SIZE != 0
                || ph.p_offset < ph.p_vaddr % PAGE_SIZE
            {
                return Err(Errno::ENOEXEC);
            }
        }
        if any { Ok(()) } else { Err(Errno::ENOEXEC) }
    }

    /// Whether this is ET_DYN (position-independent).
    pub fn is_dyn(&self) -> bool {
        self.header.e_type == ET_DYN
    }

    /// The PT_INTERP path, if any.
    ///
    /// # Errors
    /// ENOEXEC for a malformed interpreter path or a second PT_INTERP.
    pub fn interpreter(&self, file: &(impl ReadAt + ?Sized)) -> Result<Option<Vec<u8>>, Errno> {
        let mut interps = self.phdrs.iter().filter(|p| p.p_type == PT_INTERP);
        let Some(ph) = interps.next() else {
            return Ok(None);
        };
        if interps.next().is_some() {
            return Err(Errno::ENOEXEC);
        }
        let len = usize::try_from(ph.p_filesz).map_err(|_| Errno::ENOEXEC)?;
        if !(2..=PATH_MAX).contains(&len) {
            return Err(Errno::ENOEXEC);
        }
        let mut path = vec![0u8; len];
        read_exact(file, &mut path, ph.p_offset)?;
        // binfmt_elf only requires the last byte to be NUL; the path is the
        // C string up to the first one.
        if path.last() != Some(&0) {
            return Err(Errno::ENOEXEC);
        }
        let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
        path.truncate(end);
        Ok(Some(path))
    }

    /// Whether the stack must be executable: PT_GNU_STACK with PF_X, or no
    /// PT_GNU_STACK at all (x86-64's `elf_read_implies_exec` default).
    pub fn executable_stack(&self) -> bool {
        self.phdrs
            .iter()
            .find(|p| p.p_type == PT_GNU_STACK)
            .is_none_or(|p| p.p_flags & PF_X != 0)
    }

    /// The page-aligned span `[low, high)` of all PT_LOAD segments, unrelocated.
    ///
    /// # Errors
    /// ENOEXEC if the span overflows.
    pub fn load_span(&self) -> Result<(u64, u64), Errno> {
        let mut low = u64::MAX;
        let mut high = 0;
        for ph in self.phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
            low = low.min(page_down(ph.p_vaddr));
            let end = ph
                .p_vaddr
                .checked_add(ph.p_memsz)
                .and_then(page_up)
                .ok_or(Errno::ENOEXEC)?;
            high = high.max(end);
        }
        if low >= high {
            return Err(Errno::ENOEXEC);
        }
        Ok((low, high))
    }

    /// The PT_LOAD segments in file order.
    pub fn segments(&self) -> impl Iterator<Item = LoadHeader> + '_ {
        self.phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD)
            .map(|p| LoadHeader(*p))
    }

    /// Where the program headers are in memory, unrelocated: PT_PHDR's
    /// address, else the address of the PT_LOAD that contains `e_phoff`.
    pub fn phdr_vaddr(&self) -> Option<u64> {
        if let Some(ph) = self.phdrs.iter().find(|p| p.p_type == PT_PHDR) {
            return Some(ph.p_vaddr);
        }
        let phoff = self.header.e_phoff;
        self.phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD)
            .find(|p| p.p_offset <= phoff && phoff < p.p_offset + p.p_filesz)
            .map(|p| p.p_vaddr + (phoff - p.p_offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::IntoBytes;

    impl ReadAt for Vec<u8> {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
            let start = usize::try_from(offset).unwrap().min(self.len());
            let n = buf.len().min(self.len() - start);
            buf[..n].copy_from_slice(&self[start..start + n]);
            Ok(n)
        }
    }

    fn header(e_type: u16, phnum: u16) -> Elf64Ehdr {
        let mut e_ident = [0u8; 16];
        e_ident[..4].copy_from_slice(&ELFMAG);
        e_ident[EI_CLASS] = ELFCLASS64;
        e_ident[EI_DATA] = ELFDATA2LSB;
        e_ident[EI_VERSION] = EV_CURRENT;
        Elf64Ehdr {
            e_ident,
            e_type,
            e_machine: EM_X86_64,
            e_version: 1,
            e_entry: 0x401000,
            e_phoff: 64,
            e_ehsize: 64,
            e_phentsize: 56,
            e_phnum: phnum,
            ..Elf64Ehdr::default()
        }
    }

    fn image(h: &Elf64Ehdr, phdrs: &[Elf64Phdr]) -> Vec<u8> {
        let mut bytes = h.as_bytes().to_vec();
        for ph in phdrs {
            bytes.extend_from_slice(ph.as_bytes());
        }
        bytes.resize(0x3000, 0);
        bytes
    }

    fn load(vaddr: u64, offset: u64, filesz: u64, memsz: u64, flags: u32) -> Elf64Phdr {
        Elf64Phdr {
            p_type: PT_LOAD,
            p_flags: flags,
            p_offset: offset,
            p_vaddr: vaddr,
            p_filesz: filesz,
            p_memsz: memsz,
            p_align: 4096,
            ..Elf64Phdr::default()
        }
    }

    #[test]
    fn parses_the_host_true_binary() {
        let bytes = std::fs::read("/bin/true").unwrap();
        let elf = ElfFile::parse(&bytes).unwrap();
        assert!(elf.is_dyn());
        assert_eq!(
            elf.interpreter(&bytes).unwrap().as_deref(),
            Some(&b"/lib64/ld-linux-x86-64.so.2"[..])
        );
        assert!(!elf.executable_stack());
        assert!(elf.phdr_vaddr().is_some());
    }

    #[test]
    fn rejects_foreign_and_malformed_files() {
        let ok = header(ET_EXEC, 1);
        let seg = load(0x400000, 0, 0x100, 0x100, PF_R | PF_X);
        ElfFile::parse(&image(&ok, &[seg])).unwrap();

        let mut bad = ok;
        bad.e_machine = 3; // i386
        assert_eq!(
            ElfFile::parse(&image(&bad, &[seg])).unwrap_err(),
            Errno::ENOEXEC
        );
        let mut bad = ok;
        bad.e_ident[EI_CLASS] = 1; // ELFCLASS32
        assert_eq!(
            ElfFile::parse(&image(&bad, &[seg])).unwrap_err(),
            Errno::ENOEXEC
        );
        let mut bad = ok;
        bad.e_type = 4; // ET_CORE
        assert_eq!(
            ElfFile::parse(&image(&bad, &[seg])).unwrap_err(),
            Errno::ENOEXEC
        );
        assert_eq!(
            ElfFile::parse(&image(&header(ET_EXEC, 0), &[])).unwrap_err(),
            Errno::ENOEXEC
        );
        // filesz > memsz, and offset/vaddr not congruent.
        let seg_bad = load(0x400000, 0, 0x200, 0x100, PF_R);
        assert_eq!(
            ElfFile::parse(&image(&ok, &[seg_bad])).unwrap_err(),
            Errno::ENOEXEC
        );
        let seg_bad = load(0x400010, 0x20, 0x100, 0x100, PF_R);
        assert_eq!(
            ElfFile::parse(&image(&ok, &[seg_bad])).unwrap_err(),
            Errno::ENOEXEC
        );
        // Truncated file.
        assert_eq!(
            ElfFile::parse(&vec![0x7f, b'E', b'L', b'F']).unwrap_err(),
            Errno::ENOEXEC
        );
        // A huge phnum is refused before anything is allocated.
        assert_eq!(
            ElfFile::parse(&image(&header(ET_EXEC, 0xffff), &[seg])).unwrap_err(),
            Errno::ENOEXEC
        );
    }

    #[test]
    fn splits_segments_into_file_zero_and_anonymous_parts() {
        // .data+.bss: file part ends mid-page, memory goes two pages further.
        let seg = LoadHeader(load(0x403e10, 0x2e10, 0x200, 0x2300, PF_R | PF_W));
        let s = seg.relocate(0).unwrap();
        assert_eq!(s.page_start, 0x403000);
        assert_eq!(s.file_offset, 0x2000);
        assert_eq!(s.file_len, 0x2000);
        assert_eq!((s.zero_start, s.zero_len), (0x404010, 0xff0));
        assert_eq!((s.anon_start, s.anon_len), (0x405000, 0x2000));
        assert_eq!(s.mem_end, 0x406110);
        assert_eq!(s.prot, PROT_READ | PROT_WRITE);
        // A bias that overflows, or a segment that ends beyond the user range, is refused.
        assert_eq!(seg.relocate(u64::MAX - 0x1000).unwrap_err(), Errno::ENOEXEC);
        assert_eq!(
            seg.relocate(TASK_SIZE - 0x403000).unwrap_err(),
            Errno::ENOMEM
        );
    }

    #[test]
    fn interpreter_path_must_be_nul_terminated() {
        let h = header(ET_DYN, 2);
        let interp = Elf64Phdr {
            p_type: PT_INTERP,
            p_offset: 0x1000,
            p_filesz: 5,
            ..Default::default()
        };
        let seg = load(0, 0, 0x100, 0x100, PF_R);
        let mut bytes = image(&h, &[interp, seg]);
        bytes[0x1000..0x1005].copy_from_slice(b"/ldxy");
        let elf = ElfFile::parse(&bytes).unwrap();
        assert_eq!(elf.interpreter(&bytes).unwrap_err(), Errno::ENOEXEC);
        bytes[0x1000..0x1005].copy_from_slice(b"/ld\0\0");
        assert_eq!(
            elf.interpreter(&bytes).unwrap().as_deref(),
            Some(&b"/ld"[..])
        );
        bytes[0x1000..0x1005].copy_from_slice(b"/ldx\0");
        assert_eq!(
            elf.interpreter(&bytes).unwrap().as_deref(),
            Some(&b"/ldx"[..])
        );
    }
}
