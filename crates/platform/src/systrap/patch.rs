//! Syscall-site patching (gVisor's usertrap, on x86-64): the sentry
//! rewrites a program's `mov $nr, %eax; syscall` (7 bytes) into
//! `jmp *TRAP` (`ff 24 25` and a 32-bit absolute address), where `TRAP`
//! holds the address of a trap in the trap table. The trap loads the
//! number and jumps to the stub's fast entry, which publishes the
//! registers in the slot's message page and waits for the sentry, as the
//! signal handler does but without a signal.
//!
//! - A site is patched on its first trap, only in a private executable
//!   mapping (the memory manager checks that, and breaks copy-on-write
//!   first). Other threads of the address space may be executing the site
//!   as it changes, so the rewrite must be atomic for them: a site whose 7
//!   bytes lie in one aligned 8-byte word is rewritten with one
//!   compare-and-swap. A site that straddles two words would need two
//!   writes, and a thread fetching the site between them would execute
//!   half of each sequence (the old `mov` opcode with the new address
//!   bytes as its immediate, then garbage): it is patched only while the
//!   trapping thread is the address space's only one, which is stopped in
//!   the sentry (single-threaded programs, and multi-threaded ones before
//!   their second thread). Six of eight alignments straddle, so without
//!   this most sites of common binaries would stay on the trapped path.
//! - A thread that had executed the `mov` when the site was patched then
//!   fetches the jump's third address byte (0x06, invalid in 64-bit mode)
//!   where the `syscall` was: the sentry turns that `SIGILL` into the
//!   syscall the thread was making.
//! - The trap table is one region of the stub memory file that every stub
//!   maps read/execute at [`TRAP_ADDR`]: a trap holds only its syscall number
//!   and return address, so it is valid in every address space, forks
//!   included, and the program can never write it.
//! - A trap whose fast entry finds that gs is not the thread's slot (the
//!   program set its own gs base) takes its own `syscall`, the ordinary
//!   trapped path.
//!
//! Nothing here is `unsafe`: the table is written through the stub memory
//! file, program code through the kernel's [`ProgramMemory`].

use abi::sysno;
use std::collections::HashMap;

use super::layout::{
    TRAP_ADDR, TRAP_FALLBACK, TRAP_FILE_OFF, TRAP_FIRST, TRAP_RET, TRAP_SIZE, TRAP_SLOT,
};
use super::sys::StubMemory;
use crate::ProgramMemory;

/// `mov $imm32, %eax`'s opcode.
const MOV_EAX: u8 = 0xb8;
/// `syscall`.
const SYSCALL: [u8; 2] = [0x0f, 0x05];
/// `jmp *disp32` (ModRM 0x24, SIB 0x25: absolute, no base or index).
const JMP_ABS: [u8; 3] = [0xff, 0x24, 0x25];
/// The patched sequence's length.
const SITE_LEN: u64 = 7;

/// The traps handed out so far, shared by every address space.
#[derive(Debug, Default)]
pub(super) struct TrapTable {
    next: u64,
    /// By (return address, syscall number): the trap's address.
    traps: HashMap<(u64, u32), u64>,
}

impl TrapTable {
    /// The trap for the site returning to `ret` with number `nr`, written
    /// into the table on first use; `None` once the table is full.
    fn trap_for(&mut self, memory: &StubMemory, ret: u64, nr: u32) -> Option<u64> {
        if let Some(&trap) = self.traps.get(&(ret, nr)) {
            return Some(trap);
        }
        let off = TRAP_FIRST + self.next * TRAP_SLOT;
        if off + TRAP_SLOT > TRAP_SIZE {
            return None;
        }
        self.next += 1;
        let trap = TRAP_ADDR + off;
        memory.write(TRAP_FILE_OFF + off, &trap_code(trap, nr, ret));
        self.traps.insert((ret, nr), trap);
        Some(trap)
    }
}

/// One trap's size, as an array length.
const TRAP_LEN: usize = 64;
const _: () = assert!(TRAP_LEN as u64 == TRAP_SLOT);
/// Where a trap keeps its return address, and where its fallback starts.
const RET_AT: usize = 32;
const FALLBACK_AT: usize = 40;
const _: () = assert!(RET_AT as u64 == TRAP_RET && FALLBACK_AT as u64 == TRAP_FALLBACK);

/// One trap's code, at address `trap`.
fn trap_code(trap: u64, nr: u32, ret: u64) -> [u8; TRAP_LEN] {
    let mut c = [0xccu8; TRAP_LEN];
    // +0: the address the patched `jmp *` reads: the code just after it.
    c[0..8].copy_from_slice(&(trap + 8).to_le_bytes());
    // +8: lea -15(%rip), %rcx (the trap's own address)
    c[8..15].copy_from_slice(&[0x48, 0x8d, 0x0d, 0xf1, 0xff, 0xff, 0xff]);
    // +15: mov $nr, %eax
    c[15] = MOV_EAX;
    c[16..20].copy_from_slice(&nr.to_le_bytes());
    // +20: jmp *TRAP_ADDR (the table's first word: the fast entry)
    c[20..23].copy_from_slice(&JMP_ABS);
    let table = u32::try_from(TRAP_ADDR).expect("the table is below 4 GiB");
    c[23..27].copy_from_slice(&table.to_le_bytes());
    // +32: the return address.
    let at = RET_AT;
    c[at..at + 8].copy_from_slice(&ret.to_le_bytes());
    // +40: the fallback: syscall; jmp *-16(%rip) (the return address).
    let at = FALLBACK_AT;
    c[at..at + 2].copy_from_slice(&SYSCALL);
    c[at + 2..at + 8].copy_from_slice(&[0xff, 0x25, 0xf0, 0xff, 0xff, 0xff]);
    c
}

/// Whether `addr` is in the trap table.
pub(super) fn in_table(addr: u64) -> bool {
    (TRAP_ADDR..TRAP_ADDR + TRAP_SIZE).contains(&addr)
}

/// Syscalls whose handling reads or replaces the caller's FPU state (a new
/// task inherits it; exec resets it; `rt_sigreturn` loads it from the
/// program's frame). Their sites stay on the trapped path: a fast event has
/// no FPU state in a frame and would have to be promoted first, one more
/// round trip than the trap it saved.
const USES_FPU_STATE: [u64; 7] = [
    sysno::SYS_RT_SIGRETURN,
    sysno::SYS_CLONE,
    sysno::SYS_FORK,
    sysno::SYS_VFORK,
    sysno::SYS_EXECVE,
    sysno::SYS_EXECVEAT,
    sysno::SYS_CLONE3,
];

/// Tries to patch the site of the syscall `nr` that trapped with its
/// return address at `ret`; `alone` says that no other thread can execute
/// program code of this address space until the patch is done (which a
/// site straddling two words needs). Returns whether the site is (now)
/// patched; the caller takes a `false` as final for this site.
pub(super) fn patch_site(
    table: &std::sync::Mutex<TrapTable>,
    memory: &StubMemory,
    program: &dyn ProgramMemory,
    ret: u64,
    nr: u64,
    alone: bool,
) -> bool {
    if USES_FPU_STATE.contains(&nr) {
        return false;
    }
    let Ok(nr) = u32::try_from(nr) else {
        return false;
    };
    let Some(site) = ret.checked_sub(SITE_LEN) else {
        return false;
    };
    let word_at = site & !7;
    let at = usize::try_from(site - word_at).expect("below 8");
    let straddles = at + 7 > 8;
    if in_table(ret) || (straddles && !alone) {
        return false;
    }
    let mut words = [0u8; 16];
    let words = &mut words[..if straddles { 16 } else { 8 }];
    if !program.read_code(word_at, words) {
        return false;
    }
    let mut expected = [0u8; 7];
    expected[0] = MOV_EAX;
    expected[1..5].copy_from_slice(&nr.to_le_bytes());
    expected[5..7].copy_from_slice(&SYSCALL);
    if words[at..at + 7] != expected {
        return false;
    }
    let trap = {
        let mut table = table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match table.trap_for(memory, ret, nr) {
            Some(trap) => trap,
            None => return false,
        }
    };
    let mut new = [0u8; 16];
    let new = &mut new[..words.len()];
    new.copy_from_slice(words);
    new[at..at + 3].copy_from_slice(&JMP_ABS);
    let trap32 = u32::try_from(trap).expect("the table is below 4 GiB");
    new[at + 3..at + 7].copy_from_slice(&trap32.to_le_bytes());
    let word = |bytes: &[u8], i: usize| {
        u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"))
    };
    for i in 0..words.len() / 8 {
        let addr = word_at + 8 * i as u64;
        if !program.patch_code(addr, word(words, i), word(new, i)) {
            // The code changed under us (another writer): put back what
            // was patched, so that no half-written site stays.
            for j in 0..i {
                program.patch_code(word_at + 8 * j as u64, word(new, j), word(words, j));
            }
            return false;
        }
    }
    true
}

/// Whether the `SIGILL` at `rip` is a thread that ran into a site patched
/// after it executed the site's `mov`: the 7 bytes ending 2 past `rip` are
/// a jump into the trap table, and `rip` is its 0x06 byte.
pub(super) fn raced_site(program: &dyn ProgramMemory, rip: u64) -> bool {
    let Some(site) = rip.checked_sub(5) else {
        return false;
    };
    let mut code = [0u8; 7];
    if !program.read_code(site, &mut code) {
        return false;
    }
    let target = u64::from(u32::from_le_bytes([code[3], code[4], code[5], code[6]]));
    code[0..3] == JMP_ABS && in_table(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_code_layout() {
        let trap = TRAP_ADDR + TRAP_FIRST;
        let c = trap_code(trap, 110, 0x7f00_1234_5678);
        assert_eq!(u64::from_le_bytes(c[0..8].try_into().unwrap()), trap + 8);
        assert_eq!(&c[15..20], &[0xb8, 110, 0, 0, 0]);
        assert_eq!(&c[20..27], &[0xff, 0x24, 0x25, 0x00, 0x00, 0x06, 0x00]);
        assert_eq!(
            u64::from_le_bytes(c[32..40].try_into().unwrap()),
            0x7f00_1234_5678
        );
        assert_eq!(&c[40..42], &[0x0f, 0x05]);
        // The jump in a patched site has the invalid opcode 0x06 where the
        // `syscall` was.
        assert_eq!((trap >> 16) & 0xff, 0x06);
    }
}
