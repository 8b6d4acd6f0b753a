//! The stub's seccomp filters, as classic BPF built here and handed to the
//! stub through its read-only command page.
//!
//! Two filters stack in every program thread (the most restrictive verdict
//! wins):
//! - [`syscall_thread_filter`], installed by the stub's syscall thread and
//!   inherited by every thread it clones: a syscall whose instruction pointer
//!   is outside the stub's code pages, or whose ABI is not x86-64, traps
//!   (`SECCOMP_RET_TRAP`, so the sentry answers it); from the code pages only
//!   the few calls the stub makes are allowed, with their arguments checked.
//! - [`program_thread_filter`], added by each program thread before it runs
//!   program code: from the code pages it allows only what the signal
//!   handler needs (`rt_sigreturn`, `futex`, `sched_yield`, `arch_prctl`,
//!   `exit`), so a program that jumps into the stub page can neither map the
//!   MemoryFile nor clone.
//!
//! Nothing here is `unsafe`: a filter is only bytes until the stub installs it.

use super::layout::{CODE_ADDR, CODE_END, MADV_POPULATE_WRITE, THREAD_CLONE_FLAGS};

// include/uapi/linux/bpf_common.h
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JEQ_K: u16 = 0x15;
const BPF_JGE_K: u16 = 0x35;
const BPF_RET_K: u16 = 0x06;

// include/uapi/linux/seccomp.h
const SECCOMP_RET_TRAP: u32 = 0x0003_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_SET_MODE_FILTER`.
pub(super) const SECCOMP_SET_MODE_FILTER: u32 = 1;

/// `AUDIT_ARCH_X86_64` (`include/uapi/linux/audit.h`).
pub(super) const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

// struct seccomp_data offsets.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
const OFF_IP_LO: u32 = 8;
const OFF_IP_HI: u32 = 12;
const fn off_arg_lo(i: u32) -> u32 {
    16 + 8 * i
}
const fn off_arg_hi(i: u32) -> u32 {
    off_arg_lo(i) + 4
}

// Syscall numbers the stub makes (arch/x86/entry/syscalls/syscall_64.tbl).
const NR_WRITE: u32 = 1;
const NR_MMAP: u32 = 9;
const NR_MPROTECT: u32 = 10;
const NR_MUNMAP: u32 = 11;
const NR_MADVISE: u32 = 28;
const NR_RT_SIGPROCMASK: u32 = 14;
const NR_RT_SIGRETURN: u32 = 15;
const NR_SCHED_YIELD: u32 = 24;
const NR_CLONE: u32 = 56;
const NR_EXIT: u32 = 60;
const NR_SIGALTSTACK: u32 = 131;
const NR_ARCH_PRCTL: u32 = 158;
const NR_FUTEX: u32 = 202;
const NR_SECCOMP: u32 = 317;

// The only futex ops the stub uses: shared FUTEX_WAIT and FUTEX_WAKE.
const FUTEX_WAIT: u32 = 0;
const PROT_WRITE: u32 = 2;
const PROT_EXEC: u32 = 4;
const PROT_READ_EXEC: u32 = 5;
const FUTEX_WAKE: u32 = 1;
// arch/x86/include/uapi/asm/prctl.h
const ARCH_SET_GS: u32 = 0x1001;
const ARCH_GET_FS: u32 = 0x1003;
// MAP_SHARED | MAP_FIXED, with and without MAP_POPULATE.
const MAP_SHARED_FIXED: u32 = 0x11;
const MAP_SHARED_FIXED_POPULATE: u32 = 0x8011;

/// One `struct sock_filter`, in the kernel's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

impl Insn {
    /// The instruction as the kernel reads it.
    pub(super) fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&self.code.to_le_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..8].copy_from_slice(&self.k.to_le_bytes());
        b
    }
}

/// Where a conditional jump goes: the next instruction or a label.
#[derive(Clone, Copy, Debug)]
enum Target {
    Next,
    Label(&'static str),
}
use Target::{Label, Next};

#[derive(Clone, Copy, Debug)]
enum Op {
    Load(u32),
    Jump {
        code: u16,
        k: u32,
        jt: Target,
        jf: Target,
    },
    Ret(u32),
    Label(&'static str),
}

/// A filter under construction, with labels resolved at the end.
#[derive(Debug, Default)]
struct Builder {
    ops: Vec<Op>,
}

impl Builder {
    fn load(&mut self, off: u32) -> &mut Self {
        self.ops.push(Op::Load(off));
        self
    }
    fn jeq(&mut self, k: u32, jt: Target, jf: Target) -> &mut Self {
        self.ops.push(Op::Jump {
            code: BPF_JEQ_K,
            k,
            jt,
            jf,
        });
        self
    }
    fn jge(&mut self, k: u32, jt: Target, jf: Target) -> &mut Self {
        self.ops.push(Op::Jump {
            code: BPF_JGE_K,
            k,
            jt,
            jf,
        });
        self
    }
    fn ret(&mut self, k: u32) -> &mut Self {
        self.ops.push(Op::Ret(k));
        self
    }
    fn label(&mut self, name: &'static str) -> &mut Self {
        self.ops.push(Op::Label(name));
        self
    }

    fn finish(&self) -> Vec<Insn> {
        let mut at = std::collections::HashMap::new();
        let mut pc = 0usize;
        for op in &self.ops {
            match op {
                Op::Label(name) => {
                    at.insert(*name, pc);
                }
                _ => pc += 1,
            }
        }
        let mut out = Vec::with_capacity(pc);
        for op in &self.ops {
            let here = out.len();
            let rel = |t: Target| -> u8 {
                match t {
                    Next => 0,
                    Label(name) => {
                        let dest = *at.get(name).expect("every label used is defined");
                        u8::try_from(dest - here - 1).expect("filter jumps fit in a byte")
                    }
                }
            };
            match *op {
                Op::Load(k) => out.push(Insn {
                    code: BPF_LD_W_ABS,
                    jt: 0,
                    jf: 0,
                    k,
                }),
                Op::Jump { code, k, jt, jf } => out.push(Insn {
                    code,
                    jt: rel(jt),
                    jf: rel(jf),
                    k,
                }),
                Op::Ret(k) => out.push(Insn {
                    code: BPF_RET_K,
                    jt: 0,
                    jf: 0,
                    k,
                }),
                Op::Label(_) => {}
            }
        }
        out
    }

    /// Jumps to `outside` unless the syscall is x86-64 and was made from the
    /// stub's code pages.
    fn unless_stub_code(&mut self, outside: &'static str) -> &mut Self {
        let lo = u32::try_from(CODE_ADDR & 0xffff_ffff).expect("masked");
        let end_lo = u32::try_from(CODE_END & 0xffff_ffff).expect("masked");
        let hi = u32::try_from(CODE_ADDR >> 32).expect("user addresses fit in 47 bits");
        debug_assert_eq!(CODE_ADDR >> 32, (CODE_END - 1) >> 32);
        self.load(OFF_ARCH)
            .jeq(AUDIT_ARCH_X86_64, Next, Label(outside))
            .load(OFF_IP_HI)
            .jeq(hi, Next, Label(outside))
            .load(OFF_IP_LO)
            .jge(lo, Next, Label(outside))
            .jge(end_lo, Label(outside), Next)
    }
}

/// The filter of the stub's syscall thread, inherited by every program
/// thread: see the module docs. `memory_fd` is the only fd `mmap` may map,
/// `event_fd` the only one `write` may write.
pub(super) fn syscall_thread_filter(memory_fd: u32, event_fd: u32) -> Vec<Insn> {
    let mut b = Builder::default();
    b.unless_stub_code("trap")
        .load(OFF_NR)
        .jeq(NR_RT_SIGRETURN, Label("allow"), Next)
        .jeq(NR_EXIT, Label("allow"), Next)
        .jeq(NR_SCHED_YIELD, Label("allow"), Next)
        .jeq(NR_FUTEX, Label("futex"), Next)
        .jeq(NR_ARCH_PRCTL, Label("arch_prctl"), Next)
        .jeq(NR_MMAP, Label("mmap"), Next)
        .jeq(NR_MUNMAP, Label("allow"), Next)
        .jeq(NR_MPROTECT, Label("mprotect"), Next)
        .jeq(NR_CLONE, Label("clone"), Next)
        .jeq(NR_SIGALTSTACK, Label("allow"), Next)
        .jeq(NR_RT_SIGPROCMASK, Label("allow"), Next)
        .jeq(NR_SECCOMP, Label("seccomp"), Next)
        .jeq(NR_WRITE, Label("write"), Next)
        .jeq(NR_MADVISE, Label("madvise"), Next)
        .ret(SECCOMP_RET_TRAP)
        .label("madvise")
        .load(off_arg_hi(2))
        .jeq(0, Next, Label("trap"))
        .load(off_arg_lo(2))
        .jeq(MADV_POPULATE_WRITE, Label("allow"), Label("trap"))
        .label("write")
        .load(off_arg_lo(0))
        .jeq(event_fd, Label("allow"), Label("trap"))
        .label("futex")
        .load(off_arg_lo(1))
        .jeq(FUTEX_WAIT, Label("allow"), Next)
        .jeq(FUTEX_WAKE, Label("allow"), Label("trap"))
        .label("arch_prctl")
        .load(off_arg_lo(0))
        .jge(ARCH_SET_GS, Next, Label("trap"))
        .jge(ARCH_GET_FS + 2, Label("trap"), Label("allow"))
        .label("mmap")
        .load(off_arg_lo(4))
        .jeq(memory_fd, Next, Label("trap"))
        .load(off_arg_lo(3))
        .jeq(MAP_SHARED_FIXED, Label("allow"), Next)
        .jeq(MAP_SHARED_FIXED_POPULATE, Label("allow"), Label("trap"))
        .label("mprotect")
        .load(off_arg_hi(2))
        .jeq(0, Next, Label("trap"))
        .load(off_arg_lo(2))
        .jge(PROT_WRITE, Next, Label("allow"))
        .jeq(PROT_EXEC, Label("allow"), Next)
        .jeq(PROT_READ_EXEC, Label("allow"), Label("trap"))
        .label("clone")
        .load(off_arg_lo(0))
        .jeq(THREAD_CLONE_FLAGS, Label("allow"), Label("trap"))
        .label("seccomp")
        .load(off_arg_lo(0))
        .jeq(SECCOMP_SET_MODE_FILTER, Next, Label("trap"))
        .load(off_arg_lo(1))
        .jeq(0, Label("allow"), Label("trap"))
        .label("allow")
        .ret(SECCOMP_RET_ALLOW)
        .label("trap")
        .ret(SECCOMP_RET_TRAP);
    b.finish()
}

/// The filter each program thread adds: from the stub's code pages, only
/// what the signal handler needs; everything else is left to the
/// inherited filter (which traps it).
pub(super) fn program_thread_filter() -> Vec<Insn> {
    let mut b = Builder::default();
    b.unless_stub_code("defer")
        .load(OFF_NR)
        .jeq(NR_RT_SIGRETURN, Label("defer"), Next)
        .jeq(NR_EXIT, Label("defer"), Next)
        .jeq(NR_SCHED_YIELD, Label("defer"), Next)
        .jeq(NR_FUTEX, Label("defer"), Next)
        .jeq(NR_ARCH_PRCTL, Label("defer"), Next)
        .ret(SECCOMP_RET_TRAP)
        .label("defer")
        .ret(SECCOMP_RET_ALLOW);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic-BPF interpreter for the subset the builder emits.
    fn run(filter: &[Insn], nr: u32, arch: u32, ip: u64, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_le_bytes());
        data[4..8].copy_from_slice(&arch.to_le_bytes());
        data[8..16].copy_from_slice(&ip.to_le_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let insn = filter[pc];
            pc += 1;
            match insn.code {
                BPF_LD_W_ABS => {
                    let k = insn.k as usize;
                    acc = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
                }
                BPF_JEQ_K | BPF_JGE_K => {
                    let taken = if insn.code == BPF_JEQ_K {
                        acc == insn.k
                    } else {
                        acc >= insn.k
                    };
                    pc += usize::from(if taken { insn.jt } else { insn.jf });
                }
                BPF_RET_K => return insn.k,
                code => panic!("unexpected opcode {code:#x}"),
            }
        }
    }

    /// The verdict of both filters stacked: the most restrictive wins (TRAP
    /// is more restrictive than ALLOW).
    fn stacked(nr: u32, arch: u32, ip: u64, args: [u64; 6]) -> u32 {
        let a = run(&syscall_thread_filter(3, 5), nr, arch, ip, args);
        let b = run(&program_thread_filter(), nr, arch, ip, args);
        a.min(b)
    }

    #[test]
    fn program_code_always_traps() {
        let ip = 0x40_1000;
        for nr in [
            0,
            NR_MMAP,
            NR_RT_SIGRETURN,
            NR_FUTEX,
            NR_EXIT,
            169,
            165,
            246,
            101,
        ] {
            assert_eq!(stacked(nr, AUDIT_ARCH_X86_64, ip, [0; 6]), SECCOMP_RET_TRAP);
        }
    }

    #[test]
    fn other_abis_trap_even_from_stub_code() {
        assert_eq!(
            stacked(NR_EXIT, 0x4000_0003, CODE_ADDR, [0; 6]),
            SECCOMP_RET_TRAP
        );
        assert_eq!(
            stacked(NR_FUTEX | 0x4000_0000, AUDIT_ARCH_X86_64, CODE_ADDR, [0; 6]),
            SECCOMP_RET_TRAP
        );
    }

    #[test]
    fn stub_code_gets_only_its_calls() {
        let ip = CODE_ADDR + 0x40;
        let x = AUDIT_ARCH_X86_64;
        assert_eq!(stacked(NR_RT_SIGRETURN, x, ip, [0; 6]), SECCOMP_RET_ALLOW);
        assert_eq!(
            stacked(NR_FUTEX, x, ip, [0, 1, 1, 0, 0, 0]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            stacked(NR_FUTEX, x, ip, [0, 6, 1, 0, 0, 0]),
            SECCOMP_RET_TRAP
        );
        // A program thread may not map, unmap or clone from the stub page.
        let mmap = [0x1000, 0x1000, 7, u64::from(MAP_SHARED_FIXED), 3, 0];
        assert_eq!(stacked(NR_MMAP, x, ip, mmap), SECCOMP_RET_TRAP);
        assert_eq!(
            stacked(
                NR_CLONE,
                x,
                ip,
                [u64::from(THREAD_CLONE_FLAGS), 0, 0, 0, 0, 0]
            ),
            SECCOMP_RET_TRAP
        );
        assert_eq!(stacked(101, x, ip, [0; 6]), SECCOMP_RET_TRAP);
        // The syscall thread may map the MemoryFile, and only it.
        let sys = syscall_thread_filter(3, 5);
        assert_eq!(run(&sys, NR_MMAP, x, ip, mmap), SECCOMP_RET_ALLOW);
        let other_fd = [0x1000, 0x1000, 7, u64::from(MAP_SHARED_FIXED), 4, 0];
        assert_eq!(run(&sys, NR_MMAP, x, ip, other_fd), SECCOMP_RET_TRAP);
        let private = [0x1000, 0x1000, 7, 0x32, 3, 0];
        assert_eq!(run(&sys, NR_MMAP, x, ip, private), SECCOMP_RET_TRAP);
        assert_eq!(
            run(&sys, NR_ARCH_PRCTL, x, ip, [0x1002, 0, 0, 0, 0, 0]),
            SECCOMP_RET_ALLOW
        );
        assert_eq!(
            run(&sys, NR_ARCH_PRCTL, x, ip, [0x1005, 0, 0, 0, 0, 0]),
            SECCOMP_RET_TRAP
        );
        assert_eq!(
            run(&sys, NR_CLONE, x, ip, [0x11, 0, 0, 0, 0, 0]),
            SECCOMP_RET_TRAP
        );
        // mprotect may only take write access away, and only the syscall
        // thread may call it.
        for prot in [0, 1, 4, 5] {
            let args = [0x1000, 0x1000, prot, 0, 0, 0];
            assert_eq!(run(&sys, NR_MPROTECT, x, ip, args), SECCOMP_RET_ALLOW);
            assert_eq!(stacked(NR_MPROTECT, x, ip, args), SECCOMP_RET_TRAP);
        }
        for prot in [2, 3, 6, 7, 8, 1 << 32 | 1] {
            let args = [0x1000, 0x1000, prot, 0, 0, 0];
            assert_eq!(run(&sys, NR_MPROTECT, x, ip, args), SECCOMP_RET_TRAP);
        }
        // madvise only to prefault, and only by the syscall thread.
        let populate = [0x1000, 0x1000, u64::from(MADV_POPULATE_WRITE), 0, 0, 0];
        assert_eq!(run(&sys, NR_MADVISE, x, ip, populate), SECCOMP_RET_ALLOW);
        assert_eq!(stacked(NR_MADVISE, x, ip, populate), SECCOMP_RET_TRAP);
        for advice in [4, 8, 9, 22, 1 << 32 | 23] {
            let args = [0x1000, 0x1000, advice, 0, 0, 0];
            assert_eq!(run(&sys, NR_MADVISE, x, ip, args), SECCOMP_RET_TRAP);
        }
        // Just past the code pages is program code again.
        assert_eq!(
            run(&sys, NR_RT_SIGRETURN, x, CODE_END, [0; 6]),
            SECCOMP_RET_TRAP
        );
        assert_eq!(
            run(&sys, NR_RT_SIGRETURN, x, CODE_ADDR - 1, [0; 6]),
            SECCOMP_RET_TRAP
        );
    }
}
