//! The initial stack: strings, the auxv, envp, argv and argc, laid out as
//! binfmt_elf's `create_elf_tables` does.
//!
//! From the top: the executable's file name (AT_EXECFN), the environment
//! strings, the argument strings, the platform string and the 16 AT_RANDOM
//! bytes; then, 16-byte aligned, argc, argv[], NULL, envp[], NULL and the
//! auxv pairs ending in AT_NULL.

use abi::Errno;
use abi::auxv::*;
use abi::{PAGE_SIZE, auxv};

use crate::host;
use crate::mm::MemoryManager;
use crate::task::Credentials;

/// `MAX_ARG_STRLEN` (`include/uapi/linux/binfmts.h`): the longest single
/// argument or environment string, NUL included.
const MAX_ARG_STRLEN: usize = 32 * abi::PAGE_SIZE_USIZE;
/// `AT_CLKTCK`: `USER_HZ` on x86-64.
const USER_HZ: u64 = 100;
/// What AT_MINSIGSTKSZ reports if the host's auxv lacks it.
const DEFAULT_MINSIGSTKSZ: u64 = 2048;

/// What goes on a new program's stack.
#[derive(Debug)]
pub(super) struct StackImage<'a> {
    pub(super) argv: &'a [Vec<u8>],
    pub(super) envp: &'a [Vec<u8>],
    pub(super) execfn: &'a [u8],
    pub(super) phdr: u64,
    pub(super) phnum: u64,
    pub(super) base: u64,
    pub(super) entry: u64,
    pub(super) creds: &'a Credentials,
}

/// A downward-growing cursor over the stack mapping.
struct Cursor<'m> {
    mm: &'m MemoryManager,
    sp: u64,
    floor: u64,
}

impl Cursor<'_> {
    fn push(&mut self, bytes: &[u8]) -> Result<u64, Errno> {
        let len = bytes.len() as u64;
        self.sp = self
            .sp
            .checked_sub(len)
            .filter(|&sp| sp >= self.floor)
            .ok_or(Errno::E2BIG)?;
        self.mm.copy_out(self.sp, bytes)?;
        Ok(self.sp)
    }

    fn push_c_string(&mut self, s: &[u8]) -> Result<u64, Errno> {
        if s.len() + 1 > MAX_ARG_STRLEN {
            return Err(Errno::E2BIG);
        }
        let mut bytes = Vec::with_capacity(s.len() + 1);
        bytes.extend_from_slice(s);
        bytes.push(0);
        self.push(&bytes)
    }
}

impl StackImage<'_> {
    /// Writes the stack below `top` and returns the initial stack pointer.
    ///
    /// # Errors
    /// E2BIG if the strings take more than a quarter of the stack (Linux's
    /// limit) or one is longer than `MAX_ARG_STRLEN`; EFAULT if the stack is
    /// not mapped.
    pub(super) fn build(&self, mm: &MemoryManager, top: u64, size: u64) -> Result<u64, Errno> {
        let mut cursor = Cursor {
            mm,
            sp: top,
            floor: top - size / 4,
        };
        let execfn = cursor.push_c_string(self.execfn)?;
        let mut env_ptrs = Vec::with_capacity(self.envp.len());
        for s in self.envp.iter().rev() {
            env_ptrs.push(cursor.push_c_string(s)?);
        }
        env_ptrs.reverse();
        let mut arg_ptrs = Vec::with_capacity(self.argv.len());
        for s in self.argv.iter().rev() {
            arg_ptrs.push(cursor.push_c_string(s)?);
        }
        arg_ptrs.reverse();
        // mm->arg_start..env_end: the strings are contiguous, argv first.
        let arg_start = arg_ptrs.first().copied().unwrap_or(cursor.sp);
        let env_start = env_ptrs.first().copied().unwrap_or(execfn);
        mm.set_arg_bounds([arg_start, env_start, env_start, execfn]);
        let platform = cursor.push_c_string(b"x86_64")?;
        let mut random = [0u8; 16];
        host::getrandom(&mut random, 0)?;
        let random = cursor.push(&random)?;

        let auxv: [(u64, u64); 19] = [
            (AT_HWCAP, host::host_auxv(AT_HWCAP)),
            (AT_PAGESZ, PAGE_SIZE),
            (AT_CLKTCK, USER_HZ),
            (AT_PHDR, self.phdr),
            (AT_PHENT, size_of::<abi::elf::Elf64Phdr>() as u64),
            (AT_PHNUM, self.phnum),
            (AT_BASE, self.base),
            (AT_FLAGS, 0),
            (AT_ENTRY, self.entry),
            (AT_UID, u64::from(self.creds.uid)),
            (AT_EUID, u64::from(self.creds.euid)),
            (AT_GID, u64::from(self.creds.gid)),
            (AT_EGID, u64::from(self.creds.egid)),
            (AT_SECURE, u64::from(self.creds.secure_exec())),
            (AT_RANDOM, random),
            (AT_HWCAP2, host::host_auxv(AT_HWCAP2)),
            (AT_EXECFN, execfn),
            (AT_PLATFORM, platform),
            (
                AT_MINSIGSTKSZ,
                match host::host_auxv(auxv::AT_MINSIGSTKSZ) {
                    0 => DEFAULT_MINSIGSTKSZ,
                    v => v,
                },
            ),
        ];
        // argc, argv..., NULL, envp..., NULL, auxv pairs, AT_NULL pair.
        let words = 1 + arg_ptrs.len() + 1 + env_ptrs.len() + 1 + 2 * (auxv.len() + 1);
        let mut table: Vec<u64> = Vec::with_capacity(words);
        table.push(self.argv.len() as u64);
        table.extend(&arg_ptrs);
        table.push(0);
        table.extend(&env_ptrs);
        table.push(0);
        for (tag, value) in auxv {
            table.extend([tag, value]);
        }
        table.extend([AT_NULL, 0]);
        let bytes: Vec<u8> = table.iter().flat_map(|w| w.to_ne_bytes()).collect();
        // The ABI wants %rsp 16-byte aligned at the entry point, pointing at argc.
        let sp = (cursor.sp - bytes.len() as u64) & !15;
        if sp < cursor.floor {
            return Err(Errno::E2BIG);
        }
        mm.copy_out(sp, &bytes)?;
        Ok(sp)
    }
}
