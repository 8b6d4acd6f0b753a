//! Host calls of the systrap platform: the stub memory file and raw access to
//! it, futexes, the stub master, and the stub's machine code. All of this
//! platform's `unsafe` is here.
//!
//! Shared memory is hostile (the program can write every byte the stub maps
//! read/write), so nothing here forms a Rust reference into it: every access
//! is a bounds-checked raw copy or a raw atomic on a 4-byte word.

#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::host::{self, cvt};
pub(super) use crate::host::{allowed_cpus, kill_process, pin_to_cpu, stub_reply, tgkill};

use super::layout::{
    BATCH_ENTRY, BATCH_OFF, CHUNK_ADDR, CHUNK_SIZE, CMD_ADDR, CMD_ARGS, CMD_FPROG_SYS,
    CMD_FPROG_THREAD, CMD_FSGSBASE, CMD_ONE, CMD_OP, CMD_READ_ONLY, CMD_SPIN_TICKS,
    CMD_YIELD_TICKS, CODE_ADDR, CODE_SIZE, MSG_CTID, MSG_FLAGS, MSG_FS_BASE, MSG_GS_BASE,
    MSG_NEW_FS, MSG_NEW_GS, MSG_SENTRY_CPU, MSG_SENTRY_SLEEP, MSG_SIGNO, MSG_STATE, MSG_STUB_CPU,
    MSG_STUB_SLEEP, MSG_UC, OP_BATCH, OP_CLONE, RES_FAILED, RES_RET, RES_SEQ, RES_SYS_SLEEP,
    RESULT_OFF, RESUME_EXIT, RESUME_SET_FS, RESUME_SET_GS, SLOT_ALTSTACK_OFF, SLOT_ENTRY_STACK_TOP,
    SLOT_SIZE, STATE_EVENT, STATE_RESUME, STATE_RUNNING, THREAD_CLONE_FLAGS,
};

/// The stub memory file: a sparse memfd whose chunks are the stubs' shared
/// pages, and the sentry's one mapping of it.
#[derive(Debug)]
pub(super) struct StubMemory {
    fd: OwnedFd,
    base: NonNull<u8>,
    size: u64,
}

// SAFETY: the mapping lives as long as the StubMemory and is only touched
// through raw copies and raw atomics, which are sound from any thread.
unsafe impl Send for StubMemory {}
// SAFETY: as for Send.
unsafe impl Sync for StubMemory {}

impl StubMemory {
    /// Creates the file with room for `chunks` chunks and maps it.
    pub(super) fn new(chunks: u64) -> io::Result<StubMemory> {
        // Every chunk, then the trap table.
        let size = chunks * CHUNK_SIZE + super::layout::TRAP_SIZE;
        // SAFETY: the name is a NUL-terminated C string.
        let raw = unsafe { libc::memfd_create(c"carapace-systrap".as_ptr(), libc::MFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: memfd_create just returned this fd and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let len =
            libc::off_t::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        // SAFETY: ftruncate on an fd we own.
        cvt(unsafe { libc::ftruncate(fd.as_raw_fd(), len) }.into())?;
        let map_len =
            usize::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: a fresh shared mapping at an address the host chooses; it
        // overlaps nothing Rust owns.
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
            return Err(io::Error::last_os_error());
        }
        let base = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::EFAULT))?;
        Ok(StubMemory { fd, base, size })
    }

    /// The memfd's number (the same in every stub).
    pub(super) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// A pointer to `len` bytes at file offset `off`.
    ///
    /// # Panics
    /// If the range is outside the file: offsets come from the sentry's own
    /// arithmetic on validated values, so that is a sentry bug.
    fn at(&self, off: u64, len: u64) -> *mut u8 {
        assert!(
            off.checked_add(len).is_some_and(|end| end <= self.size),
            "stub memory access {off:#x}+{len:#x} out of bounds"
        );
        let off = usize::try_from(off).expect("checked against the mapping's size");
        // SAFETY: `off + len <= size`, so the result stays inside the mapping.
        unsafe { self.base.as_ptr().add(off) }
    }

    fn word(&self, off: u64) -> &AtomicU32 {
        assert!(off.is_multiple_of(4), "unaligned shared word {off:#x}");
        let ptr = self.at(off, 4).cast::<u32>();
        // SAFETY: the word is 4-aligned, inside the mapping (which outlives
        // `self`), and only ever accessed atomically by the sentry; the
        // stub's concurrent plain accesses are single aligned 4-byte moves,
        // which the hardware makes atomic too.
        unsafe { AtomicU32::from_ptr(ptr) }
    }

    /// Atomically loads the u32 at `off`.
    pub(super) fn load(&self, off: u64) -> u32 {
        self.word(off).load(Ordering::SeqCst)
    }

    /// Atomically stores the u32 at `off` (a full barrier on x86).
    pub(super) fn store(&self, off: u64, value: u32) {
        self.word(off).store(value, Ordering::SeqCst);
    }

    /// Stores the u32 at `off` without a barrier: for fields a later
    /// [`StubMemory::store`] publishes. A barrier here would wait for the
    /// line to come over from the stub's CPU.
    pub(super) fn store_relaxed(&self, off: u64, value: u32) {
        self.word(off).store(value, Ordering::Relaxed);
    }

    /// Reads the u64 at `off` (it may be torn if the program races us).
    pub(super) fn read_u64(&self, off: u64) -> u64 {
        let mut b = [0u8; 8];
        self.read(off, &mut b);
        u64::from_le_bytes(b)
    }

    /// Writes the u64 at `off`.
    pub(super) fn write_u64(&self, off: u64, value: u64) {
        self.write(off, &value.to_le_bytes());
    }

    /// Copies `buf.len()` bytes from `off`.
    pub(super) fn read(&self, off: u64, buf: &mut [u8]) {
        let src = self.at(off, buf.len() as u64);
        // SAFETY: `src` is inside the mapping for buf.len() bytes and cannot
        // overlap `buf`, which is sentry memory.
        unsafe { std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
    }

    /// Copies `buf` to `off`.
    pub(super) fn write(&self, off: u64, buf: &[u8]) {
        let dst = self.at(off, buf.len() as u64);
        // SAFETY: as for `read`.
        unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, buf.len()) };
    }

    /// Waits while the u32 at `off` is `expected`, for at most `timeout`.
    /// Returns early on wake-ups, signals, and spuriously.
    pub(super) fn futex_wait(&self, off: u64, expected: u32, timeout: Duration) {
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(1),
            tv_nsec: libc::c_long::from(timeout.subsec_nanos().cast_signed()),
        };
        let addr = self.at(off, 4);
        // SAFETY: a shared FUTEX_WAIT on a word inside our mapping, with a
        // timespec on our stack; the kernel only reads both.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                addr,
                libc::FUTEX_WAIT,
                expected,
                &raw const ts,
                0,
                0,
            )
        };
    }

    /// Wakes one waiter on the u32 at `off` (in any process).
    pub(super) fn futex_wake(&self, off: u64) {
        let addr = self.at(off, 4);
        // SAFETY: a shared FUTEX_WAKE takes the address as a key only.
        unsafe { libc::syscall(libc::SYS_futex, addr, libc::FUTEX_WAKE, 1, 0, 0, 0) };
    }

    /// Zeroes `[off, off + len)` and gives its pages back to the host.
    pub(super) fn punch(&self, off: u64, len: u64) -> io::Result<()> {
        let _ = self.at(off, len);
        let (o, l) = (
            libc::off_t::try_from(off).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
            libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?,
        );
        // SAFETY: fallocate on an fd we own; no memory is passed.
        cvt(unsafe {
            libc::fallocate(
                self.fd.as_raw_fd(),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                o,
                l,
            )
        }
        .into())
        .map(drop)
    }
}

impl Drop for StubMemory {
    fn drop(&mut self) {
        let len = usize::try_from(self.size).expect("mapped, so it fits");
        // SAFETY: the mapping is ours and nothing refers to it any more.
        unsafe { libc::munmap(self.base.as_ptr().cast(), len) };
    }
}

/// An `eventfd` (non-blocking, close-on-exec) that counts the stub's answers.
pub(super) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) }.into())?;
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: eventfd just returned this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Takes the eventfd's count without blocking (0 if none).
pub(super) fn eventfd_take(fd: BorrowedFd<'_>) -> u64 {
    let mut count = 0u64;
    // SAFETY: read writes at most 8 bytes into `count`.
    let n = unsafe { libc::read(fd.as_raw_fd(), (&raw mut count).cast(), 8) };
    if n == 8 { count } else { 0 }
}

/// Waits until `fd` is readable or `pidfd`'s process has exited, at most
/// `timeout`. Returns whether the process has exited.
pub(super) fn poll_or_exit(fd: BorrowedFd<'_>, pidfd: BorrowedFd<'_>, timeout: Duration) -> bool {
    let mut fds = [
        libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(1000);
    // SAFETY: poll reads and writes the two pollfds we own.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    n > 0 && fds[1].revents != 0
}

/// Whether `pidfd`'s process has exited.
pub(super) fn exited(pidfd: BorrowedFd<'_>) -> bool {
    let mut fds = [libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: poll reads and writes the one pollfd we own.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
    n > 0 && fds[0].revents != 0
}

/// Waits up to `timeout` for `pidfd`'s process to exit; returns whether it did.
pub(super) fn wait_exit(pidfd: BorrowedFd<'_>, timeout: Duration) -> bool {
    let mut fds = [libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    }];
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(100);
    // SAFETY: poll reads and writes the one pollfd we own.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    n > 0 && fds[0].revents != 0
}

/// `pidfd_open(pid, 0)`.
pub(super) fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes no pointers.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: pidfd_open just returned this fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The CPU the calling thread runs on (`u32::MAX` if unknown).
pub(super) fn current_cpu() -> u32 {
    // SAFETY: sched_getcpu takes no arguments (glibc reads rseq or the vDSO).
    let cpu = unsafe { libc::sched_getcpu() };
    u32::try_from(cpu).unwrap_or(u32::MAX)
}

/// Gives the CPU to other runnable threads, if any.
pub(super) fn yield_now() {
    // SAFETY: sched_yield takes no arguments.
    unsafe { libc::sched_yield() };
}

/// The time-stamp counter.
pub(super) fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no preconditions on x86-64 user mode.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_rdtsc()
    }
}

/// Whether user code may use `rdfsbase`/`wrfsbase` (`HWCAP2_FSGSBASE`).
pub(super) fn has_fsgsbase() -> bool {
    // SAFETY: getauxval takes no pointers.
    let hwcap2 = unsafe { libc::getauxval(libc::AT_HWCAP2) };
    hwcap2 & 2 != 0
}

/// The seccomp actions the host supports, or why we cannot tell.
pub(super) fn seccomp_trap_available() -> bool {
    // SAFETY: prctl(PR_GET_SECCOMP) takes no pointers.
    let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    mode >= 0
}

// The stub's machine code: position-independent, no libc, no stack of its
// own. `carapace_systrap_start` is entered from a temporary copy (in the
// child of the stub master) with %rdi = the stub memory fd, %rsi = this
// address space's chunk offset. It copies itself to CODE_ADDR, unmaps
// everything else, maps the chunk, installs the syscall thread's seccomp
// filter and becomes the syscall thread: it executes the sentry's requests
// from the read-only command page and counts each answer on the eventfd.
// Program threads are cloned by it into a slot; their signal handler
// publishes each signal frame in the slot's message page and waits for the
// sentry, spinning only while the sentry runs on another CPU.
std::arch::global_asm!(
    ".pushsection .text.carapace_systrap, \"ax\"",
    ".balign 64",
    ".globl carapace_systrap_start",
    ".globl carapace_systrap_handler",
    ".globl carapace_systrap_restorer",
    ".globl carapace_systrap_end",
    ".globl carapace_systrap_fast",
    ".globl carapace_systrap_fast_check",
    ".globl carapace_systrap_fast_fallback",
    ".globl carapace_systrap_promote",
    "carapace_systrap_start:",
    "mov %rdi, %r12",
    "mov %rsi, %r13",
    // mmap(CODE_ADDR, CODE_SIZE, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)
    "mov $9, %eax",
    "movabs ${code_addr}, %rdi",
    "mov ${code_size}, %esi",
    "mov $3, %edx",
    "mov $0x32, %r10d",
    "mov $-1, %r8",
    "xor %r9d, %r9d",
    "syscall",
    "movabs ${code_addr}, %rdi",
    "cmp %rdi, %rax",
    "jne carapace_systrap_die",
    "lea carapace_systrap_start(%rip), %rsi",
    "mov $(carapace_systrap_end - carapace_systrap_start), %ecx",
    "rep movsb",
    // mprotect(CODE_ADDR, CODE_SIZE, PROT_READ|PROT_EXEC)
    "mov $10, %eax",
    "movabs ${code_addr}, %rdi",
    "mov ${code_size}, %esi",
    "mov $5, %edx",
    "syscall",
    "movabs ${code_addr}, %rax",
    "lea (carapace_systrap_relocated - carapace_systrap_start)(%rax), %rax",
    "jmp *%rax",
    "carapace_systrap_relocated:",
    // munmap(0, CODE_ADDR): the sentry's copy, vDSO, stack, everything.
    "mov $11, %eax",
    "xor %edi, %edi",
    "movabs ${code_addr}, %rsi",
    "syscall",
    // mmap(CHUNK_ADDR, CHUNK_SIZE, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, stubfd, chunk)
    "mov $9, %eax",
    "movabs ${chunk_addr}, %rdi",
    "mov ${chunk_size}, %esi",
    "mov $3, %edx",
    "mov $0x11, %r10d",
    "mov %r12, %r8",
    "mov %r13, %r9",
    "syscall",
    "movabs ${chunk_addr}, %rdi",
    "cmp %rdi, %rax",
    "jne carapace_systrap_die",
    // mprotect(CMD_ADDR, CMD_READ_ONLY, PROT_READ): the program cannot
    // forge requests.
    "mov $10, %eax",
    "mov ${cmd_read_only}, %esi",
    "mov $1, %edx",
    "syscall",
    "test %rax, %rax",
    "jnz carapace_systrap_die",
    // mmap(TRAP_ADDR, TRAP_SIZE, PROT_READ|PROT_EXEC, MAP_SHARED|MAP_FIXED, stubfd, TRAP_FILE_OFF):
    // the trap table, written only by the sentry.
    "mov $9, %eax",
    "mov ${trap_addr}, %edi",
    "mov ${trap_size}, %esi",
    "mov $5, %edx",
    "mov $0x11, %r10d",
    "mov %r12, %r8",
    "movabs ${trap_file_off}, %r9",
    "syscall",
    "cmp ${trap_addr}, %rax",
    "jne carapace_systrap_die",
    // close(stubfd)
    "mov $3, %eax",
    "mov %r12, %rdi",
    "syscall",
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog_sys)
    "mov $317, %eax",
    "mov $1, %edi",
    "xor %esi, %esi",
    "movabs ${fprog_sys}, %rdx",
    "syscall",
    "test %rax, %rax",
    "jnz carapace_systrap_die",
    // The first program thread, cloned into slot 0 now, while this stub
    // waits as a spare: the context that takes the stub finds it parked.
    // Before the ready answer below, so its tid is in place by then.
    "movabs ${slot0_addr}, %r13",
    "lea carapace_systrap_first_cloned(%rip), %r14",
    "jmp carapace_systrap_clone_slot",
    "carapace_systrap_first_cloned:",
    "test %rax, %rax",
    "js carapace_systrap_die",
    "movabs ${cmd_addr}, %rbx",
    "lea {result_off}(%rbx), %rbp",
    "xor %r12d, %r12d",
    "xor %r15d, %r15d",
    "movl $0, {res_seq_rel}(%rbp)",
    "jmp carapace_systrap_answered",
    // The syscall thread's loop: %rbx = command page, %rbp = result page,
    // %r12d = the last request's sequence number, %r15d = this CPU.
    "carapace_systrap_sys_loop:",
    // Publish this CPU; spin only if the last requester ran on another one.
    "mov $0x7b, %eax",
    "lsl %eax, %eax",
    "and $0xfff, %eax",
    "mov %eax, {res_sys_cpu_rel}(%rbp)",
    "xor %r14d, %r14d",
    "cmp {cmd_sentry_cpu}(%rbx), %eax",
    "je carapace_systrap_sys_spin",
    "rdtsc",
    "shl $32, %rdx",
    "or %rdx, %rax",
    "mov %rax, %r14",
    "add {cmd_spin}(%rbx), %r14",
    "carapace_systrap_sys_spin:",
    "mov {cmd_seq}(%rbx), %eax",
    "cmp %r12d, %eax",
    "jne carapace_systrap_sys_request",
    "pause",
    "rdtsc",
    "shl $32, %rdx",
    "or %rdx, %rax",
    "cmp %r14, %rax",
    "jb carapace_systrap_sys_spin",
    "movl $1, {res_sys_sleep_rel}(%rbp)",
    "mfence",
    "mov {cmd_seq}(%rbx), %eax",
    "cmp %r12d, %eax",
    "jne carapace_systrap_sys_woke",
    // futex(&cmd.seq, FUTEX_WAIT, last, NULL)
    "mov $202, %eax",
    "lea {cmd_seq}(%rbx), %rdi",
    "xor %esi, %esi",
    "mov %r12d, %edx",
    "xor %r10d, %r10d",
    "syscall",
    "carapace_systrap_sys_woke:",
    "movl $0, {res_sys_sleep_rel}(%rbp)",
    "jmp carapace_systrap_sys_spin",
    "carapace_systrap_sys_request:",
    "mov %eax, %r12d",
    "xor %r15d, %r15d",
    "mov {cmd_op}(%rbx), %rax",
    "cmp ${op_batch}, %rax",
    "je carapace_systrap_sys_batch",
    "cmp ${op_clone}, %rax",
    "je carapace_systrap_sys_clone",
    "mov $-22, %rax",
    "jmp carapace_systrap_sys_done",
    // The batch: entry %r13 at %r14 holds the syscall number, its six
    // arguments and the return value that means success.
    "carapace_systrap_sys_batch:",
    // A prefault to make once answered (the range and its pages in one
    // word, layout.rs): taken now, as the sentry may write the command
    // page again as soon as it has the answer.
    "mov {cmd_args}+8(%rbx), %r15",
    "xor %r13d, %r13d",
    "carapace_systrap_batch_next:",
    "xor %eax, %eax",
    "cmp {cmd_args}(%rbx), %r13",
    "jae carapace_systrap_sys_done",
    "mov %r13, %r14",
    "shl ${batch_entry_shift}, %r14",
    "lea {batch_off}(%rbx,%r14), %r14",
    "mov 8(%r14), %rdi",
    "mov 16(%r14), %rsi",
    "mov 24(%r14), %rdx",
    "mov 32(%r14), %r10",
    "mov 40(%r14), %r8",
    "mov 48(%r14), %r9",
    "mov (%r14), %rax",
    "syscall",
    "cmp 56(%r14), %rax",
    "jne carapace_systrap_batch_failed",
    "inc %r13",
    "jmp carapace_systrap_batch_next",
    "carapace_systrap_batch_failed:",
    "mov %r13, {res_failed_rel}(%rbp)",
    "jmp carapace_systrap_sys_done",
    "carapace_systrap_sys_clone:",
    "mov {cmd_args}(%rbx), %r13",
    "lea carapace_systrap_sys_done(%rip), %r14",
    // Clones a program thread into the slot at %r13 (the new thread goes
    // to its entry), then jumps to %r14 with the result in %rax: there is
    // no stack to call on.
    "carapace_systrap_clone_slot:",
    "mov $56, %eax",
    "mov ${clone_flags}, %edi",
    "lea {entry_top}(%r13), %rsi",
    "lea {msg_ctid}(%r13), %rdx",
    "lea {msg_ctid}(%r13), %r10",
    "xor %r8d, %r8d",
    "syscall",
    "test %rax, %rax",
    "jz carapace_systrap_thread_entry",
    "jmp *%r14",
    "carapace_systrap_sys_done:",
    "mov %rax, {res_ret_rel}(%rbp)",
    "mov %r12d, {res_seq_rel}(%rbp)",
    "carapace_systrap_answered:",
    // write(eventfd, &one, 8): the answer the program cannot forge.
    "mov $1, %eax",
    "mov {event_fd}(%rbx), %edi",
    "lea {cmd_one}(%rbx), %rsi",
    "mov $8, %edx",
    "syscall",
    // madvise(addr, len, MADV_POPULATE_WRITE) of the prefault, while the
    // program runs: its failure only leaves the pages to their faults.
    "test %r15, %r15",
    "jz carapace_systrap_sys_loop",
    "mov %r15, %rdi",
    "and $-4096, %rdi",
    "mov %r15, %rsi",
    "and $0xfff, %esi",
    "shl $12, %rsi",
    "mov ${madv_populate_write}, %edx",
    "mov $28, %eax",
    "xor %r15d, %r15d",
    "syscall",
    "jmp carapace_systrap_sys_loop",
    // A new program thread: %r13 = its slot, %rsp = its entry stack.
    "carapace_systrap_thread_entry:",
    "sub $32, %rsp",
    "lea {altstack_off}(%r13), %rax",
    "mov %rax, (%rsp)",
    "movq $0, 8(%rsp)",
    "movq ${altstack_size}, 16(%rsp)",
    // sigaltstack(&ss, NULL)
    "mov $131, %eax",
    "mov %rsp, %rdi",
    "xor %esi, %esi",
    "syscall",
    "test %rax, %rax",
    "jnz carapace_systrap_thread_die",
    // rt_sigprocmask(SIG_SETMASK, &0, NULL, 8)
    "movq $0, (%rsp)",
    "mov $14, %eax",
    "mov $2, %edi",
    "mov %rsp, %rsi",
    "xor %edx, %edx",
    "mov $8, %r10d",
    "syscall",
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog_thread)
    "mov $317, %eax",
    "mov $1, %edi",
    "xor %esi, %esi",
    "movabs ${fprog_thread}, %rdx",
    "syscall",
    "test %rax, %rax",
    "jnz carapace_systrap_thread_die",
    // Enter the handler once: the sentry's first resume starts the program.
    "int3",
    "carapace_systrap_thread_die:",
    "mov $60, %eax",
    "mov $1, %edi",
    "syscall",
    "ud2",
    // The signal handler: %rdi = signo, %rsi = siginfo, %rdx = ucontext, on
    // the slot's signal stack. Every general register is restored from the
    // frame by rt_sigreturn, so all are free.
    ".balign 16",
    "carapace_systrap_handler:",
    // Signals are not blocked in the handler (`SA_NODEFER`, an empty mask:
    // changing the mask costs two locked trips through the kernel's signal
    // code per event). An interrupt (or a signal sent from the host) that
    // lands in this handler or in the fast path, which share the message
    // page, is dropped: the thread is at or on its way to the sentry, and
    // the sentry re-sends a pending interrupt while it waits. A fault in
    // the handler itself means the stub is broken: it dies. A fault in the
    // fast path is the program's (its stack), and an event.
    "mov {uc_rip}(%rdx), %rax",
    "lea carapace_systrap_handler(%rip), %rcx",
    "sub %rcx, %rax",
    "cmp $(carapace_systrap_fast_end - carapace_systrap_handler), %rax",
    "jae carapace_systrap_h_publish",
    "cmp ${interrupt}, %edi",
    "je carapace_systrap_h_absorb",
    "cmpl $0, 8(%rsi)",
    "jle carapace_systrap_h_absorb",
    "cmp $(carapace_systrap_fast - carapace_systrap_handler), %rax",
    "jb carapace_systrap_die",
    "carapace_systrap_h_publish:",
    "xor %r8d, %r8d",
    "mov %rsp, %rbx",
    "and $-{slot_size}, %rbx",
    "mov %rdi, {msg_signo}(%rbx)",
    "mov %rdx, {msg_uc}(%rbx)",
    // The frame's registers and the siginfo words the sentry reads, into
    // the message page (layout.rs, MSG_FRAME_REGS).
    ".irp i, 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144, 152",
    "mov {uc_mcontext}+\\i(%rdx), %rax",
    "mov %rax, {msg_frame_regs}+\\i(%rbx)",
    ".endr",
    ".irp i, 0, 8, 16",
    "mov 8+\\i(%rsi), %rax",
    "mov %rax, {msg_siginfo}+\\i(%rbx)",
    ".endr",
    "movabs ${cmd_addr}, %rbp",
    "cmpl $0, {cmd_fsgsbase}(%rbp)",
    "je carapace_systrap_h_prctl_get",
    ".byte 0xf3, 0x48, 0x0f, 0xae, 0xc0", // rdfsbase %rax
    "mov %rax, {msg_fs}(%rbx)",
    ".byte 0xf3, 0x48, 0x0f, 0xae, 0xc8", // rdgsbase %rax
    "mov %rax, {msg_gs}(%rbx)",
    "jmp carapace_systrap_h_cpu",
    "carapace_systrap_h_prctl_get:",
    "mov $158, %eax",
    "mov $0x1003, %edi",
    "lea {msg_fs}(%rbx), %rsi",
    "syscall",
    "mov $158, %eax",
    "mov $0x1004, %edi",
    "lea {msg_gs}(%rbx), %rsi",
    "syscall",
    "carapace_systrap_h_cpu:",
    // The CPU number, as the vDSO reads it: the limit of the per-CPU segment.
    "mov $0x7b, %eax",
    "lsl %eax, %eax",
    "and $0xfff, %eax",
    "mov %eax, %r15d",
    "mov %eax, {msg_stub_cpu}(%rbx)",
    "mov ${state_event}, %eax",
    "xchg %eax, {msg_state}(%rbx)",
    "cmpl $0, {msg_sentry_sleep}(%rbx)",
    "je carapace_systrap_h_wait",
    // futex(&msg.state, FUTEX_WAKE, 1)
    "mov $202, %eax",
    "lea {msg_state}(%rbx), %rdi",
    "mov $1, %esi",
    "mov $1, %edx",
    "syscall",
    "carapace_systrap_h_wait:",
    "rdtsc",
    "shl $32, %rdx",
    "or %rdx, %rax",
    "mov %rax, %r14",
    "add {cmd_spin}(%rbp), %r14",
    "mov %rax, %r13",
    "add {cmd_yield}(%rbp), %r13",
    "carapace_systrap_h_spin:",
    "cmpl ${state_resume}, {msg_state}(%rbx)",
    "je carapace_systrap_h_resumed",
    // Spin only while the sentry runs, on another CPU.
    "cmpl $0, {msg_sentry_sleep}(%rbx)",
    "jne carapace_systrap_h_sleep",
    "cmp {msg_sentry_cpu}(%rbx), %r15d",
    "je carapace_systrap_h_sleep",
    "pause",
    "rdtsc",
    "shl $32, %rdx",
    "or %rdx, %rax",
    "cmp %r14, %rax",
    "jae carapace_systrap_h_sleep",
    "cmp %r13, %rax",
    "jb carapace_systrap_h_spin",
    // Give way to other work now and then.
    "mov %rax, %r13",
    "add {cmd_yield}(%rbp), %r13",
    "mov $24, %eax",
    "syscall",
    "jmp carapace_systrap_h_spin",
    "carapace_systrap_h_sleep:",
    "movl $1, {msg_stub_sleep}(%rbx)",
    "mfence",
    "mov {msg_state}(%rbx), %edx",
    "cmp ${state_resume}, %edx",
    "je carapace_systrap_h_woke",
    // futex(&msg.state, FUTEX_WAIT, seen, NULL)
    "mov $202, %eax",
    "lea {msg_state}(%rbx), %rdi",
    "xor %esi, %esi",
    "xor %r10d, %r10d",
    "syscall",
    "carapace_systrap_h_woke:",
    "movl $0, {msg_stub_sleep}(%rbx)",
    "cmpl ${state_resume}, {msg_state}(%rbx)",
    "jne carapace_systrap_h_sleep",
    "carapace_systrap_h_resumed:",
    "mov {msg_flags}(%rbx), %r12d",
    "test ${resume_exit}, %r12d",
    "jnz carapace_systrap_h_exit",
    "test %r8d, %r8d",
    "jz carapace_systrap_h_fs",
    "test ${resume_promote}, %r12d",
    "jnz carapace_systrap_fast_promote",
    "carapace_systrap_h_fs:",
    "test ${resume_set_fs}, %r12d",
    "jz carapace_systrap_h_gs",
    "mov {msg_new_fs}(%rbx), %rsi",
    "cmpl $0, {cmd_fsgsbase}(%rbp)",
    "je carapace_systrap_h_prctl_fs",
    ".byte 0xf3, 0x48, 0x0f, 0xae, 0xd6", // wrfsbase %rsi
    "jmp carapace_systrap_h_gs",
    "carapace_systrap_h_prctl_fs:",
    "mov $158, %eax",
    "mov $0x1002, %edi",
    "syscall",
    "carapace_systrap_h_gs:",
    "test ${resume_set_gs}, %r12d",
    "jz carapace_systrap_h_return",
    "mov {msg_new_gs}(%rbx), %rsi",
    "cmpl $0, {cmd_fsgsbase}(%rbp)",
    "je carapace_systrap_h_prctl_gs",
    ".byte 0xf3, 0x48, 0x0f, 0xae, 0xde", // wrgsbase %rsi
    "jmp carapace_systrap_h_return",
    "carapace_systrap_h_prctl_gs:",
    "mov $158, %eax",
    "mov $0x1001, %edi",
    "syscall",
    "carapace_systrap_h_return:",
    "test %r8d, %r8d",
    "jnz carapace_systrap_fast_return",
    // Back from a signal without rt_sigreturn, which costs about 0.7 µs
    // here, a third of a round trip: the handler loads the frame's FPU
    // state itself (the kernel reset it for the handler), and `iretq`
    // restores rip, rsp and the flags at once from the handler's stack,
    // as the kernel's own return would, without touching the program's
    // stack. The mask needs no restoring: the handler blocks nothing. The
    // sentry asks for rt_sigreturn when `iretq` would fault where the
    // kernel delivers a signal (rip or rsp outside the user range, the
    // NT flag set in the handler's flags), and an FPU area the kernel did
    // not write in the xsave format takes it too.
    "test ${resume_sigreturn}, %r12d",
    "jnz carapace_systrap_h_sigreturn",
    "mov {uc_fpstate}+8(%rsp), %rsi",
    "cmpl ${fp_xstate_magic1}, {fx_sw_bytes}(%rsi)",
    "jne carapace_systrap_h_sigreturn",
    "mov {fx_sw_bytes}+8(%rsi), %eax",
    "mov {fx_sw_bytes}+12(%rsi), %edx",
    "xrstor64 (%rsi)",
    "movl ${state_running}, {msg_state}(%rbx)",
    "pushq ${user_ss}",
    "pushq {msg_frame_regs}+120(%rbx)",
    "pushq {msg_frame_regs}+136(%rbx)",
    "pushq ${user_cs}",
    "pushq {msg_frame_regs}+128(%rbx)",
    "mov {msg_frame_regs}+0(%rbx), %r8",
    "mov {msg_frame_regs}+8(%rbx), %r9",
    "mov {msg_frame_regs}+16(%rbx), %r10",
    "mov {msg_frame_regs}+24(%rbx), %r11",
    "mov {msg_frame_regs}+32(%rbx), %r12",
    "mov {msg_frame_regs}+40(%rbx), %r13",
    "mov {msg_frame_regs}+48(%rbx), %r14",
    "mov {msg_frame_regs}+56(%rbx), %r15",
    "mov {msg_frame_regs}+64(%rbx), %rdi",
    "mov {msg_frame_regs}+72(%rbx), %rsi",
    "mov {msg_frame_regs}+80(%rbx), %rbp",
    "mov {msg_frame_regs}+96(%rbx), %rdx",
    "mov {msg_frame_regs}+104(%rbx), %rax",
    "mov {msg_frame_regs}+112(%rbx), %rcx",
    "mov {msg_frame_regs}+88(%rbx), %rbx",
    "iretq",
    // The registers back into the frame (above the return address), and
    // the stub's own signal mask, whatever the program wrote there.
    "carapace_systrap_h_sigreturn:",
    "lea 8(%rsp), %rdx",
    ".irp i, 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144",
    "mov {msg_frame_regs}+\\i(%rbx), %rax",
    "mov %rax, {uc_mcontext}+\\i(%rdx)",
    ".endr",
    "movq $0, {uc_sigmask}(%rdx)",
    "movl ${state_running}, {msg_state}(%rbx)",
    // %rsp back to the frame (past pretcode), as rt_sigreturn expects.
    "add $8, %rsp",
    "carapace_systrap_restorer:",
    "mov $15, %eax",
    "syscall",
    "ud2",
    "carapace_systrap_h_exit:",
    "mov $60, %eax",
    "xor %edi, %edi",
    "syscall",
    "ud2",
    "carapace_systrap_h_absorb:",
    "add $8, %rsp",
    "jmp carapace_systrap_restorer",
    // The fast entry: a patched syscall site jumped to its trap, which
    // jumped here with %eax = the syscall number, %rcx = the trap, and the
    // program's flags (a syscall clobbers rcx and r11 anyway). The 128
    // bytes below the program's rsp (the red zone) are left alone; the
    // words just below it may be clobbered, as a signal would.
    "carapace_systrap_fast:",
    "lea -128(%rsp), %rsp",
    "pushfq",
    "pop %r11",
    "lea 128(%rsp), %rsp",
    // Is gs this thread's slot? Not if the program set its own gs base
    // (then this load may even fault: the sentry sends a fault here to the
    // fallback).
    "carapace_systrap_fast_check:",
    "cmpl ${magic}, %gs:{msg_magic}",
    "jne carapace_systrap_fast_fallback",
    "mov %r8, %gs:{msg_fast_regs}+0",
    "mov %r9, %gs:{msg_fast_regs}+8",
    "mov %r10, %gs:{msg_fast_regs}+16",
    "mov %r11, %gs:{msg_fast_regs}+24",
    "mov %r12, %gs:{msg_fast_regs}+32",
    "mov %r13, %gs:{msg_fast_regs}+40",
    "mov %r14, %gs:{msg_fast_regs}+48",
    "mov %r15, %gs:{msg_fast_regs}+56",
    "mov %rdi, %gs:{msg_fast_regs}+64",
    "mov %rsi, %gs:{msg_fast_regs}+72",
    "mov %rbp, %gs:{msg_fast_regs}+80",
    "mov %rbx, %gs:{msg_fast_regs}+88",
    "mov %rdx, %gs:{msg_fast_regs}+96",
    "mov %rax, %gs:{msg_fast_regs}+104",
    "mov %rsp, %gs:{msg_fast_regs}+120",
    "mov %r11, %gs:{msg_fast_regs}+136",
    // rcx and rip: the site's return address, as after a syscall.
    "mov {trap_ret}(%rcx), %rcx",
    "mov %rcx, %gs:{msg_fast_regs}+112",
    "mov %rcx, %gs:{msg_fast_regs}+128",
    "mov %gs:{msg_self}, %rbx",
    "movabs ${cmd_addr}, %rbp",
    "mov $0x7b, %eax",
    "lsl %eax, %eax",
    "and $0xfff, %eax",
    "mov %eax, %r15d",
    "mov %eax, {msg_stub_cpu}(%rbx)",
    "mov $1, %r8d",
    "mov ${state_fast}, %eax",
    "xchg %eax, {msg_state}(%rbx)",
    "cmpl $0, {msg_sentry_sleep}(%rbx)",
    "je carapace_systrap_h_wait",
    "mov $202, %eax",
    "lea {msg_state}(%rbx), %rdi",
    "mov $1, %esi",
    "mov $1, %edx",
    "syscall",
    "jmp carapace_systrap_h_wait",
    // Not our gs: restore the flags and take the trap's own `syscall`.
    "carapace_systrap_fast_fallback:",
    "lea -128(%rsp), %rsp",
    "push %r11",
    "popfq",
    "lea 128(%rsp), %rsp",
    "add ${trap_fallback}, %rcx",
    "jmp *%rcx",
    // Back to the program from a fast event: %rbx = the message page,
    // %r12d = the resume flags. The return address and flags go just below
    // the red zone; `ret $128` then leaves rsp as the program had it.
    "carapace_systrap_fast_return:",
    "movl ${state_running}, {msg_state}(%rbx)",
    "mov {msg_fast_regs}+120(%rbx), %rax",
    "mov {msg_fast_regs}+128(%rbx), %rcx",
    "mov %rcx, -136(%rax)",
    "mov {msg_fast_regs}+136(%rbx), %rcx",
    "mov %rcx, -144(%rax)",
    "lea -144(%rax), %rsp",
    "mov {msg_fast_regs}+0(%rbx), %r8",
    "mov {msg_fast_regs}+8(%rbx), %r9",
    "mov {msg_fast_regs}+16(%rbx), %r10",
    "mov {msg_fast_regs}+24(%rbx), %r11",
    "mov {msg_fast_regs}+32(%rbx), %r12",
    "mov {msg_fast_regs}+40(%rbx), %r13",
    "mov {msg_fast_regs}+48(%rbx), %r14",
    "mov {msg_fast_regs}+56(%rbx), %r15",
    "mov {msg_fast_regs}+64(%rbx), %rdi",
    "mov {msg_fast_regs}+72(%rbx), %rsi",
    "mov {msg_fast_regs}+80(%rbx), %rbp",
    "mov {msg_fast_regs}+96(%rbx), %rdx",
    "mov {msg_fast_regs}+112(%rbx), %rcx",
    "mov {msg_fast_regs}+104(%rbx), %rax",
    "mov {msg_fast_regs}+88(%rbx), %rbx",
    "popfq",
    "ret $128",
    // Promotion: a fast event becomes a signal frame, for the FPU state
    // that only a frame holds (the fast path never touches it). The thread
    // traps right here, before it restores anything or touches the
    // program's stack (which may be unmapped or copy-on-write there): the
    // frame's general registers are the stub's, and the sentry writes every
    // one of them when it resumes the frame.
    "carapace_systrap_fast_promote:",
    "movl ${state_running}, {msg_state}(%rbx)",
    "carapace_systrap_promote:",
    "int3",
    "ud2",
    "carapace_systrap_fast_end:",
    "carapace_systrap_die:",
    "mov $231, %eax",
    "mov $127, %edi",
    "syscall",
    "ud2",
    "carapace_systrap_end:",
    ".popsection",
    code_addr = const CODE_ADDR,
    code_size = const CODE_SIZE,
    chunk_addr = const CHUNK_ADDR,
    chunk_size = const CHUNK_SIZE,
    cmd_addr = const CMD_ADDR,
    fprog_sys = const CMD_ADDR + CMD_FPROG_SYS,
    fprog_thread = const CMD_ADDR + CMD_FPROG_THREAD,
    result_off = const RESULT_OFF,
    res_seq_rel = const RES_SEQ - RESULT_OFF,
    res_ret_rel = const RES_RET - RESULT_OFF,
    res_sys_sleep_rel = const RES_SYS_SLEEP - RESULT_OFF,
    res_sys_cpu_rel = const super::layout::RES_SYS_CPU - RESULT_OFF,
    cmd_sentry_cpu = const super::layout::CMD_SENTRY_CPU,
    cmd_seq = const super::layout::CMD_SEQ,
    cmd_op = const CMD_OP,
    cmd_args = const CMD_ARGS,
    cmd_spin = const CMD_SPIN_TICKS,
    cmd_yield = const CMD_YIELD_TICKS,
    cmd_fsgsbase = const CMD_FSGSBASE,
    cmd_one = const CMD_ONE,
    event_fd = const super::layout::CMD_EVENT_FD,
    op_batch = const OP_BATCH,
    op_clone = const OP_CLONE,
    batch_off = const BATCH_OFF,
    batch_entry_shift = const BATCH_ENTRY.trailing_zeros(),
    cmd_read_only = const CMD_READ_ONLY,
    res_failed_rel = const RES_FAILED - RESULT_OFF,
    clone_flags = const THREAD_CLONE_FLAGS,
    entry_top = const SLOT_ENTRY_STACK_TOP,
    slot0_addr = const super::layout::CHUNK_ADDR + super::layout::SLOTS_OFF,
    msg_ctid = const MSG_CTID,
    altstack_off = const SLOT_ALTSTACK_OFF,
    altstack_size = const SLOT_SIZE - SLOT_ALTSTACK_OFF,
    slot_size = const SLOT_SIZE,
    msg_signo = const MSG_SIGNO,
    msg_uc = const MSG_UC,
    msg_fs = const MSG_FS_BASE,
    msg_gs = const MSG_GS_BASE,
    msg_stub_cpu = const MSG_STUB_CPU,
    msg_state = const MSG_STATE,
    msg_sentry_sleep = const MSG_SENTRY_SLEEP,
    msg_sentry_cpu = const MSG_SENTRY_CPU,
    msg_stub_sleep = const MSG_STUB_SLEEP,
    msg_flags = const MSG_FLAGS,
    msg_new_fs = const MSG_NEW_FS,
    msg_new_gs = const MSG_NEW_GS,
    state_event = const STATE_EVENT,
    state_resume = const STATE_RESUME,
    state_running = const STATE_RUNNING,
    resume_exit = const RESUME_EXIT,
    resume_set_fs = const RESUME_SET_FS,
    resume_set_gs = const RESUME_SET_GS,
    resume_promote = const super::layout::RESUME_PROMOTE,
    state_fast = const super::layout::STATE_FAST,
    magic = const super::layout::SLOT_MAGIC,
    msg_magic = const super::layout::MSG_MAGIC,
    msg_self = const super::layout::MSG_SELF,
    msg_fast_regs = const super::layout::MSG_FAST_REGS,
    msg_frame_regs = const super::layout::MSG_FRAME_REGS,
    msg_siginfo = const super::layout::MSG_SIGINFO,
    uc_mcontext = const super::layout::UC_MCONTEXT,
    uc_sigmask = const super::layout::UC_SIGMASK,
    trap_ret = const super::layout::TRAP_RET,
    trap_fallback = const super::layout::TRAP_FALLBACK,
    trap_addr = const super::layout::TRAP_ADDR,
    trap_size = const super::layout::TRAP_SIZE,
    trap_file_off = const super::layout::TRAP_FILE_OFF,
    uc_rip = const super::layout::UC_MCONTEXT + 16 * 8,
    uc_fpstate = const super::layout::UC_MCONTEXT + 23 * 8,
    madv_populate_write = const super::layout::MADV_POPULATE_WRITE,
    fx_sw_bytes = const abi::signal::FX_SW_BYTES_OFFSET,
    fp_xstate_magic1 = const abi::signal::FP_XSTATE_MAGIC1,
    resume_sigreturn = const super::layout::RESUME_SIGRETURN,
    user_cs = const super::USER_CS,
    user_ss = const super::USER_SS,
    interrupt = const super::INTERRUPT_SIGNAL,
    options(att_syntax),
);

unsafe extern "C" {
    static carapace_systrap_start: u8;
    static carapace_systrap_handler: u8;
    static carapace_systrap_restorer: u8;
    static carapace_systrap_end: u8;
    static carapace_systrap_fast: u8;
    static carapace_systrap_fast_check: u8;
    static carapace_systrap_fast_fallback: u8;
    static carapace_systrap_promote: u8;
}

/// The offset of `sym` within the stub code.
fn code_offset(sym: *const u8) -> u64 {
    let start = &raw const carapace_systrap_start;
    sym as u64 - start as u64
}

/// Where the stub's fast-path points are, as offsets in the code pages.
#[derive(Clone, Copy, Debug)]
pub(super) struct FastPoints {
    /// The fast entry, where every trap jumps.
    pub(super) entry: u64,
    /// The gs check, which may fault.
    pub(super) check: u64,
    /// The fallback that takes the trap's own `syscall`.
    pub(super) fallback: u64,
    /// The `int3` of a promotion.
    pub(super) promote: u64,
}

/// The fast path's offsets in the stub code.
pub(super) fn fast_points() -> FastPoints {
    FastPoints {
        entry: code_offset(&raw const carapace_systrap_fast),
        check: code_offset(&raw const carapace_systrap_fast_check),
        fallback: code_offset(&raw const carapace_systrap_fast_fallback),
        promote: code_offset(&raw const carapace_systrap_promote),
    }
}

/// The stub code's length.
pub(super) fn code_len() -> u64 {
    code_offset(&raw const carapace_systrap_end)
}

/// Forks the stub master (see [`crate::host`]): each stub it forks keeps
/// the fds in `keep` (the MemoryFile's and the stub memory file's, which
/// is `keep[1]`), gets its request's eventfd as `event_fd`, and runs the
/// stub code on the chunk at the request's offset.
///
/// Must be called while the calling process is single-threaded (a forked
/// child of a multi-threaded process may only make async-signal-safe calls).
pub(super) fn fork_stub_master(keep: [RawFd; 2], event_fd: RawFd) -> io::Result<OwnedFd> {
    assert!(code_len() <= CODE_SIZE, "stub code outgrew its pages");
    host::fork_stub_master(&keep, move |chunk, events| {
        // SAFETY: dup2 and close_all_but on fds of this freshly forked,
        // single-threaded stub, which owns no Rust objects holding fds.
        #[allow(clippy::multiple_unsafe_ops_per_block)]
        unsafe {
            if events.is_none_or(|events| libc::dup2(events, event_fd) < 0) {
                libc::_exit(126);
            }
            host::close_all_but(&[keep[0], keep[1], event_fd]);
        }
        stub_main(keep[1], chunk);
    })
}

/// Asks the stub master for a stub on chunk offset `chunk`, handing it
/// `events` (its answer counter), without waiting: the master answers each
/// request in order, and [`stub_reply`] reads the answer.
pub(super) fn send_stub_request(
    master: BorrowedFd<'_>,
    chunk: u64,
    events: BorrowedFd<'_>,
) -> io::Result<()> {
    host::send_stub_request(master, chunk, Some(events))
}

/// `SA_RESTORER` (`arch/x86/include/uapi/asm/signal.h`): x86-64 requires it.
const SA_RESTORER: libc::c_int = 0x0400_0000;

/// The kernel's `struct sigaction` (`rt_sigaction` takes this, not libc's).
#[repr(C)]
struct KernelSigaction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

/// The signals whose handler is the stub's: the synchronous ones, and the
/// interrupt signal.
pub(super) const HANDLED_SIGNALS: [i32; 7] = [
    libc::SIGSYS,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGTRAP,
    super::INTERRUPT_SIGNAL,
];

/// A new stub, in the child of the master: install the handlers (which
/// point into the code pages the stub code is about to map), block every
/// signal in what becomes the syscall thread, and run the stub code.
fn stub_main(stub_fd: RawFd, chunk: u64) -> ! {
    // SAFETY: a freshly forked, single-threaded stub.
    unsafe { host::stub_prelude() };
    let action = KernelSigaction {
        handler: CODE_ADDR + code_offset(&raw const carapace_systrap_handler),
        flags: (libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER | SA_RESTORER) as u64,
        restorer: CODE_ADDR + code_offset(&raw const carapace_systrap_restorer),
        mask: 0,
    };
    for signo in HANDLED_SIGNALS {
        // SAFETY: rt_sigaction reads the kernel sigaction above; the handler
        // points into the code pages the stub code is about to map.
        if unsafe { libc::syscall(libc::SYS_rt_sigaction, signo, &raw const action, 0, 8) } != 0 {
            // SAFETY: _exit ends this child only.
            unsafe { libc::_exit(125) };
        }
    }
    let mut all = MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: sigfillset and sigprocmask read and write the set we own.
    #[allow(clippy::multiple_unsafe_ops_per_block)]
    unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, all.as_ptr(), std::ptr::null_mut());
    }
    // SAFETY: the stub code is position-independent and never returns; its
    // set-up is done.
    unsafe {
        host::run_stub_code(
            &raw const carapace_systrap_start,
            code_len(),
            CODE_SIZE,
            u64::from(stub_fd.unsigned_abs()),
            chunk,
        )
    }
}
