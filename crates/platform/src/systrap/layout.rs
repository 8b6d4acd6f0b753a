//! Where everything of the stub lives, in the stub's address space and in
//! the stub memory file, and the byte offsets of every shared field. The
//! stub's machine code (`sys.rs`) uses the same numbers.
//!
//! ```text
//! TASK_SIZE   ┬ 0x7fff_ffff_f000
//!             │ code pages (read/execute): handler, restorer, syscall thread
//! CODE_ADDR   ┼ 0x7fff_ffff_d000
//!             │ (unmapped)
//!             ├ slots: one per program thread, SLOT_SIZE each
//!             │   +0x0000 message page (state, CPU, frame pointer, fs/gs base)
//!             │   +0x1000 entry stack of the new thread
//!             │   +0x2000 signal stack: the kernel writes the signal frame here
//! SLOTS_ADDR  ┼ CHUNK_ADDR + 0x10000
//!             │ result page (read/write): the syscall thread's answers
//!             │ batch pages (read-only in the stub): a request's host calls
//!             │ command page (read-only in the stub): requests, filters
//! CHUNK_ADDR  ┴ 0x7fff_f000_0000 = max_user_address
//! ```
//!
//! Everything from `CHUNK_ADDR` up is one `MAP_SHARED` mapping of this
//! address space's chunk of the stub memory file, which the sentry also maps.

/// The top of the user address range (`TASK_SIZE_MAX`, 4-level paging).
pub(super) const TASK_SIZE: u64 = abi::TASK_SIZE;
/// The stub's code pages.
pub(super) const CODE_ADDR: u64 = TASK_SIZE - CODE_SIZE;
/// The code pages' size.
pub(super) const CODE_SIZE: u64 = 0x2000;
/// One past the code pages.
pub(super) const CODE_END: u64 = TASK_SIZE;

/// The base of the shared chunk, and the end of the program's range.
pub(super) const CHUNK_ADDR: u64 = 0x7fff_f000_0000;
/// The command page, read-only in the stub.
pub(super) const CMD_ADDR: u64 = CHUNK_ADDR;
/// The batch pages, after the command page: the host calls of an
/// [`OP_BATCH`] request, [`BATCH_ENTRY`] bytes each.
pub(super) const BATCH_OFF: u64 = 0x1000;
/// One batch entry: the syscall number, its six arguments, and the return
/// value that means success (the address for `mmap`, else 0).
pub(super) const BATCH_ENTRY: u64 = 64;
/// The most entries one request carries.
pub(super) const BATCH_MAX: usize = 128;
/// The bytes from the command page's start that the stub maps read-only.
pub(super) const CMD_READ_ONLY: u64 = BATCH_OFF + BATCH_MAX as u64 * BATCH_ENTRY;
/// The result page.
pub(super) const RESULT_OFF: u64 = CMD_READ_ONLY;
const _: () = assert!(RESULT_OFF.is_multiple_of(0x1000) && RESULT_OFF + 0x1000 <= SLOTS_OFF);
/// The first slot's offset in the chunk.
pub(super) const SLOTS_OFF: u64 = 0x1_0000;
/// One slot: a message page, an entry stack page and the signal stack.
/// The handler finds its message page by rounding its stack pointer down
/// to this size, so slots are aligned to it.
pub(super) const SLOT_SIZE: u64 = 0x1_0000;
/// The entry stack's top (the new thread's `rsp`), from the slot's base.
pub(super) const SLOT_ENTRY_STACK_TOP: u64 = 0x2000;
/// The signal stack, from the slot's base to the slot's end.
pub(super) const SLOT_ALTSTACK_OFF: u64 = 0x2000;
/// Program threads per address space.
pub(super) const MAX_THREADS: u64 = 1024;
/// The chunk's size.
pub(super) const CHUNK_SIZE: u64 = SLOTS_OFF + MAX_THREADS * SLOT_SIZE;
const _: () = assert!(CHUNK_ADDR + CHUNK_SIZE <= CODE_ADDR);
const _: () = assert!(CHUNK_ADDR.is_multiple_of(SLOT_SIZE));

/// Address spaces the stub memory file has room for at once.
pub(super) const MAX_ADDRESS_SPACES: u64 = 4096;

// The trap table (syscall-site patching, `patch.rs`): one region of the stub
// memory file, shared by every stub and mapped read/execute low in each
// one's address space, where a patched site's `jmp *TRAP_ADDR+n` (a 32-bit
// absolute address) reaches it. Its third byte, 0x06, is an invalid opcode
// in 64-bit mode: a thread that executed a site's `mov` just before the
// site was patched traps there (`SIGILL` at the old `syscall`).
/// Where the trap table is mapped in every stub.
pub(super) const TRAP_ADDR: u64 = 0x6_0000;
/// The trap table's size.
pub(super) const TRAP_SIZE: u64 = 0x1_0000;
/// The trap table's offset in the stub memory file, after every chunk.
pub(super) const TRAP_FILE_OFF: u64 = MAX_ADDRESS_SPACES * CHUNK_SIZE;
/// The first trap, from the table's start (the table's first word holds the
/// fast entry's address).
pub(super) const TRAP_FIRST: u64 = 64;
/// One trap's size.
pub(super) const TRAP_SLOT: u64 = 64;
/// Where a trap keeps the patched site's return address.
pub(super) const TRAP_RET: u64 = 32;
/// Where a trap's fallback (`syscall; jmp *ret`) starts.
pub(super) const TRAP_FALLBACK: u64 = 40;
const _: () = assert!(TRAP_ADDR >> 16 == 6 && (TRAP_ADDR + TRAP_SIZE - 1) >> 16 == 6);

/// `clone` flags of a program thread: a thread of the stub, whose tid the
/// kernel writes in its message page before `clone` returns and clears
/// (with a futex wake) when it exits. `CLONE_PARENT_SETTID`, not
/// `CLONE_CHILD_SETTID`: the latter writes the tid only once the new thread
/// first runs, and on a busy host a thread that has not run yet would look
/// as if it had already exited.
pub(super) const THREAD_CLONE_FLAGS: u32 = 0x0001_0000 // CLONE_THREAD
    | 0x0000_0100 // CLONE_VM
    | 0x0000_0200 // CLONE_FS
    | 0x0000_0400 // CLONE_FILES
    | 0x0000_0800 // CLONE_SIGHAND
    | 0x0004_0000 // CLONE_SYSVSEM
    | 0x0010_0000 // CLONE_PARENT_SETTID
    | 0x0020_0000; // CLONE_CHILD_CLEARTID

// The command page (written by the sentry only).
/// Request sequence number (futex word): bumped for each request.
pub(super) const CMD_SEQ: u64 = 0x00;
/// Request: [`OP_BATCH`] or [`OP_CLONE`].
pub(super) const CMD_OP: u64 = 0x08;
/// Request arguments, six u64.
pub(super) const CMD_ARGS: u64 = 0x10;
/// 1 if the handler may use `rdfsbase`/`wrfsbase`.
pub(super) const CMD_FSGSBASE: u64 = 0x80;
/// How long the stub spins before sleeping, in TSC ticks.
pub(super) const CMD_SPIN_TICKS: u64 = 0x88;
/// How often a spinning stub yields its CPU, in TSC ticks.
pub(super) const CMD_YIELD_TICKS: u64 = 0x90;
/// The eventfd's number in the stub (u32): the syscall thread counts each
/// answer there, which the program cannot forge.
pub(super) const CMD_EVENT_FD: u64 = 0x98;
/// The constant 1 (u64) the syscall thread writes to the eventfd.
pub(super) const CMD_ONE: u64 = 0xa0;
/// The CPU the last requester ran on (u32): the syscall thread spins for
/// the next request only if it runs on another one.
pub(super) const CMD_SENTRY_CPU: u64 = 0xa8;
/// `struct sock_fprog` of the syscall thread's filter.
pub(super) const CMD_FPROG_SYS: u64 = 0x100;
/// `struct sock_fprog` of the program threads' filter.
pub(super) const CMD_FPROG_THREAD: u64 = 0x110;
/// The syscall thread's filter instructions.
pub(super) const CMD_FILTER_SYS: u64 = 0x200;
/// The program threads' filter instructions.
pub(super) const CMD_FILTER_THREAD: u64 = 0x800;
/// Room for each filter, in instructions.
pub(super) const CMD_FILTER_MAX: usize = 0x600 / 8;

/// Make the host calls of the first `args[0]` batch entries in order,
/// stopping at the first that fails (the syscall thread's filter allows
/// only `mmap` of the MemoryFile, `munmap`, and `mprotect` without write);
/// once answered, prefault the range in `args[1]` ([`prefault_word`]).
pub(super) const OP_BATCH: u64 = 1;
/// `madvise` advice that faults pages in for writing (Linux 5.14): the
/// only `madvise` the syscall thread may make, a prefault of program pages
/// (which the program could as well touch).
pub(super) const MADV_POPULATE_WRITE: u32 = 23;
/// The most pages one prefault covers: its page count shares a word with
/// its page-aligned address.
pub(super) const PREFAULT_MAX_PAGES: u64 = 0xfff;

/// An [`OP_BATCH`]'s prefault of `len` bytes at `addr` (page-aligned) as
/// the stub reads it: the address, plus the page count in the low bits.
pub(super) fn prefault_word(addr: u64, len: u64) -> u64 {
    addr | (len / 0x1000).min(PREFAULT_MAX_PAGES)
}
/// Clone a program thread into the slot at `args[0]`.
pub(super) const OP_CLONE: u64 = 3;

// The result page (written by the syscall thread; the program can write it
// too, so the sentry only checks answers against what it asked for).
/// The sequence number of the last request done (futex word); `u32::MAX`
/// until the stub is ready.
pub(super) const RES_SEQ: u64 = RESULT_OFF;
/// The last request's return value: for [`OP_BATCH`], 0, or what the
/// failed call returned.
pub(super) const RES_RET: u64 = RESULT_OFF + 0x08;
/// For a failed [`OP_BATCH`], the failed entry's index.
pub(super) const RES_FAILED: u64 = RESULT_OFF + 0x10;
/// Set while the syscall thread sleeps on [`CMD_SEQ`].
pub(super) const RES_SYS_SLEEP: u64 = RESULT_OFF + 0x40;
/// The CPU the syscall thread last reported from (a hint: the program can
/// write it).
pub(super) const RES_SYS_CPU: u64 = RESULT_OFF + 0x44;

// A slot's message page. The first cache line is the stub's, the second the
// sentry's.
/// [`STATE_RUNNING`], [`STATE_EVENT`] or [`STATE_RESUME`] (futex word).
pub(super) const MSG_STATE: u64 = 0x00;
/// Set while the stub sleeps on [`MSG_STATE`].
pub(super) const MSG_STUB_SLEEP: u64 = 0x04;
/// The CPU the stub thread last reported from.
pub(super) const MSG_STUB_CPU: u64 = 0x08;
/// The thread's tid, set by the kernel before `clone` returns and cleared
/// at exit.
pub(super) const MSG_CTID: u64 = 0x0c;
/// The signal number of the event.
pub(super) const MSG_SIGNO: u64 = 0x10;
/// The address of the event's `ucontext`.
pub(super) const MSG_UC: u64 = 0x18;
/// The thread's fs base at the event.
pub(super) const MSG_FS_BASE: u64 = 0x28;
/// The thread's gs base at the event.
pub(super) const MSG_GS_BASE: u64 = 0x30;
/// Set while the sentry sleeps on [`MSG_STATE`].
pub(super) const MSG_SENTRY_SLEEP: u64 = 0x40;
/// The CPU the sentry thread runs on, or `u32::MAX`.
pub(super) const MSG_SENTRY_CPU: u64 = 0x44;
/// What to do on resume: [`RESUME_SET_FS`], [`RESUME_SET_GS`], [`RESUME_EXIT`].
pub(super) const MSG_FLAGS: u64 = 0x48;
/// The fs base to set.
pub(super) const MSG_NEW_FS: u64 = 0x50;
/// The gs base to set.
pub(super) const MSG_NEW_GS: u64 = 0x58;
/// The slot's own address in the stub (u64): with patching, a program
/// thread's gs base points at its message page while the program's is 0,
/// and the fast entry finds its slot through it.
pub(super) const MSG_SELF: u64 = 0x20;
/// [`SLOT_MAGIC`] (u64): the fast entry checks that gs is the slot's.
pub(super) const MSG_MAGIC: u64 = 0x38;
/// The value of [`MSG_MAGIC`].
pub(super) const SLOT_MAGIC: u32 = 0x5ca7_7a9e;
/// A fast event's registers, in sigcontext order (r8..r15, rdi, rsi, rbp,
/// rbx, rdx, rax, rcx, rsp, rip, eflags): written by the fast entry, read
/// and rewritten by the sentry, loaded by the fast return.
pub(super) const MSG_FAST_REGS: u64 = 0x80;
/// The registers of a fast event.
pub(super) const FAST_WORDS: usize = 18;
/// A signal's registers: the handler copies the frame's sigcontext words
/// here (those of a fast event, then cs/gs/fs/ss and the error code), so
/// that the sentry reads these three lines rather than the frame's seven
/// (each line it reads crosses CPUs, and the kernel must take it back to
/// write the next frame). The sentry rewrites the words it changes, and
/// the handler copies them back into the frame on resume. Apart from
/// [`MSG_FAST_REGS`]: the fast return, which reloads those, can fault on
/// the program's stack, and that fault's frame lands here.
pub(super) const MSG_FRAME_REGS: u64 = 0x140;
/// The sigcontext words the handler copies out of a signal frame.
pub(super) const FRAME_WORDS: usize = 20;
/// The sigcontext words the handler copies back: through cs/gs/fs/ss
/// (`rt_sigreturn` ignores the rest).
pub(super) const RESTORE_WORDS: usize = 19;
/// After the frame's registers: the siginfo from byte 8 on (`si_code`,
/// then the union's first two words: the fault address; seccomp's syscall
/// and arch).
pub(super) const MSG_SIGINFO: u64 = MSG_FRAME_REGS + FRAME_WORDS as u64 * 8;
/// The siginfo words at [`MSG_SIGINFO`].
pub(super) const SIGINFO_WORDS: usize = 3;
const _: () = assert!(MSG_FAST_REGS + FAST_WORDS as u64 * 8 <= MSG_FRAME_REGS);
const _: () = assert!(MSG_SIGINFO + SIGINFO_WORDS as u64 * 8 <= MSG_FRAME_REGS + 3 * 64);

/// The thread runs program code.
pub(super) const STATE_RUNNING: u32 = 0;
/// The thread waits in its handler for the sentry.
pub(super) const STATE_EVENT: u32 = 1;
/// The sentry released the thread.
pub(super) const STATE_RESUME: u32 = 2;
/// The thread waits in the fast entry (a patched syscall site) for the sentry.
pub(super) const STATE_FAST: u32 = 3;

/// Resume flag: set the fs base from [`MSG_NEW_FS`].
pub(super) const RESUME_SET_FS: u32 = 1;
/// Resume flag: set the gs base from [`MSG_NEW_GS`].
pub(super) const RESUME_SET_GS: u32 = 2;
/// Resume flag: end the thread.
pub(super) const RESUME_EXIT: u32 = 4;
/// Resume flag (fast events): trap with `int3` at the promote point at
/// once, so that the sentry gets a signal frame holding the program's FPU
/// state (the frame's general registers are the stub's; the sentry writes
/// all of them when it resumes the frame).
pub(super) const RESUME_PROMOTE: u32 = 8;

/// Resume flag (signal events): return through `rt_sigreturn`, which
/// delivers a signal where the handler's own `iretq` would fault.
pub(super) const RESUME_SIGRETURN: u32 = 16;

// The kernel's signal frame (arch/x86/include/uapi/asm/ucontext.h,
// sigcontext.h): `struct rt_sigframe { pretcode; struct ucontext uc; struct
// siginfo info; }`.
/// `sizeof(struct ucontext)`.
pub(super) const UC_SIZE: u64 = 304;
/// `uc_mcontext` (the `struct sigcontext` general registers) within the ucontext.
pub(super) const UC_MCONTEXT: u64 = 40;
/// `uc_sigmask` within the ucontext.
pub(super) const UC_SIGMASK: u64 = 296;
/// `sizeof(siginfo_t)`.
pub(super) const SIGINFO_SIZE: u64 = 128;
