#![doc = include_str!("README.md")]

mod filter;
mod layout;
mod patch;
mod sys;

use std::any::Any;
use std::cell::Cell;
use std::collections::HashSet;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use abi::Errno;
use abi::signal::{SEGV_ACCERR, SEGV_MAPERR, SigInfo};
use zerocopy::FromBytes;

use crate::{
    Access, AddressSpace, Context, Event, Interrupter, Kick, MapChange, MemoryFile, Perms,
    Platform, PlatformError, ProgramMemory, Registers, SyscallAllowlist,
};
use layout::{
    BATCH_ENTRY, BATCH_MAX, BATCH_OFF, CHUNK_ADDR, CHUNK_SIZE, CMD_ARGS, CMD_EVENT_FD,
    CMD_FILTER_MAX, CMD_FILTER_SYS, CMD_FILTER_THREAD, CMD_FPROG_SYS, CMD_FPROG_THREAD,
    CMD_FSGSBASE, CMD_ONE, CMD_OP, CMD_SENTRY_CPU, CMD_SEQ, CMD_SPIN_TICKS, CMD_YIELD_TICKS,
    MAX_THREADS, MSG_CTID, MSG_FLAGS, MSG_FS_BASE, MSG_GS_BASE, MSG_NEW_FS, MSG_NEW_GS,
    MSG_SENTRY_CPU, MSG_SENTRY_SLEEP, MSG_SIGNO, MSG_STATE, MSG_STUB_CPU, MSG_STUB_SLEEP, MSG_UC,
    OP_BATCH, OP_CLONE, RES_FAILED, RES_RET, RES_SEQ, RES_SYS_CPU, RES_SYS_SLEEP, RESUME_EXIT,
    RESUME_SET_FS, RESUME_SET_GS, RESUME_SIGRETURN, SIGINFO_SIZE, SLOT_ALTSTACK_OFF, SLOT_SIZE,
    SLOTS_OFF, STATE_EVENT, STATE_RESUME, UC_MCONTEXT, UC_SIZE,
};
use layout::{
    CODE_ADDR, FAST_WORDS, FRAME_WORDS, MAX_ADDRESS_SPACES, MSG_FAST_REGS, MSG_FRAME_REGS,
    MSG_MAGIC, MSG_SELF, RESTORE_WORDS, RESUME_PROMOTE, SIGINFO_WORDS, SLOT_MAGIC, STATE_FAST,
    TRAP_ADDR, TRAP_FILE_OFF, TRAP_SIZE, prefault_word,
};

/// The signal an [`Interrupter`] sends a running stub thread; its handler
/// hands the thread to the sentry like any other event.
const INTERRUPT_SIGNAL: i32 = libc::SIGURG;

/// The environment variable that turns syscall-site patching off (`0`)
/// or on (`1`); see `patch.rs`.
pub const PATCH_ENV: &str = "CARAPACE_SYSTRAP_PATCH";
/// Whether syscall-site patching is on when [`PATCH_ENV`] is not set.
const PATCH_DEFAULT: bool = true;
/// Sites per address space remembered as not patchable.
const NOT_PATCHABLE_MAX: usize = 4096;
/// How long either side spins for the other before sleeping (when they run
/// on different CPUs).
const SPIN: Duration = Duration::from_micros(20);
/// How often a spinning side yields its CPU to other runnable work.
const SPIN_YIELD: Duration = Duration::from_micros(5);
/// Round trips in a row, both sides under [`SPIN`], before a context first
/// tries running its stub thread on the other CPU.
const APART_AFTER: u32 = 16;
/// The most round trips a context waits before trying again, after tries
/// that did not pay.
const APART_AFTER_MAX: u32 = 4096;
/// Round trips apart are judged in windows of this many: a window whose
/// mean time from release to event is worse than together's ends the
/// stay, and a stay that ends within its first window counts as a failed
/// try (the next one waits twice as long).
const WINDOW: u32 = 256;
/// A stay apart ends at this many round trips in one window where a side
/// had to sleep (each costs a cross-CPU wake-up, about 50 µs here).
const WINDOW_MISSES: u32 = 4;
/// How many spins long the sentry waits for a thread it has just moved to
/// another CPU (waking an idle CPU costs about 50 µs here).
const MOVE_SPINS: u64 = 10;
/// How long a task thread runs where its creator ran before it settles on
/// a home of its own.
const SETTLE_AFTER: Duration = Duration::from_millis(2);
/// Threads of ended contexts an address space keeps parked for new ones.
const PARKED_MAX: usize = 8;
/// How often a sleeping sentry checks that its stub is still alive.
const LIVENESS_POLL: Duration = Duration::from_millis(100);
/// How long a stub may ignore an interrupt before the sandbox gives up on it.
const INTERRUPT_PATIENCE: Duration = Duration::from_secs(2);
/// How long a new stub may take to get ready.
const STARTUP_PATIENCE: Duration = Duration::from_secs(10);

/// Words of one batch entry.
const BATCH_WORDS: usize = (BATCH_ENTRY / 8) as usize;
// The host calls a batch makes (arch/x86/entry/syscalls/syscall_64.tbl).
const NR_MMAP: u64 = 9;
const NR_MPROTECT: u64 = 10;
const NR_MUNMAP: u64 = 11;

/// What a failed batch call returned, in words.
fn batch_failure(ret: u64) -> String {
    match Errno::from_return(ret) {
        Some(errno) => errno.to_string(),
        None => format!("returned {ret:#x}"),
    }
}

/// `SYS_SECCOMP`: the `si_code` of a seccomp `SIGSYS`.
const SYS_SECCOMP: i32 = 1;

/// Whether systrap works on this host.
///
/// # Errors
/// [`PlatformError::Unavailable`] naming what is missing.
pub fn probe() -> Result<(), PlatformError> {
    let unavailable = |reason: &str| PlatformError::Unavailable {
        platform: "systrap",
        reason: reason.into(),
    };
    if !sys::seccomp_trap_available() {
        return Err(unavailable(
            "seccomp is not available in this kernel; use --platform=ptrace",
        ));
    }
    if let Ok(actions) = std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail")
        && !actions.split_whitespace().any(|a| a == "trap")
    {
        return Err(unavailable(
            "seccomp has no SECCOMP_RET_TRAP here; use --platform=ptrace",
        ));
    }
    Ok(())
}

/// Spin times the stub and the sentry share.
#[derive(Clone, Copy, Debug)]
struct Tuning {
    spin_ticks: u64,
    yield_ticks: u64,
}

impl Tuning {
    /// Measures the TSC's rate since `(t0, c0)`, a clock reading and a TSC
    /// reading taken together, waiting if less than [`CALIBRATION`] has
    /// passed (it has, by the first address space of a sandbox's boot).
    fn measure(t0: Instant, c0: u64) -> Tuning {
        while t0.elapsed() < CALIBRATION {
            std::hint::spin_loop();
        }
        let (us, ticks) = (
            t0.elapsed().as_nanos().max(1),
            sys::rdtsc().wrapping_sub(c0),
        );
        let per_us = u64::try_from(u128::from(ticks) * 1000 / us)
            .unwrap_or(1000)
            .max(1);
        let ticks = |d: Duration| per_us * u64::try_from(d.as_micros()).unwrap_or(0);
        Tuning {
            spin_ticks: ticks(SPIN),
            yield_ticks: ticks(SPIN_YIELD),
        }
    }
}

/// The shortest time the TSC's rate is measured over.
const CALIBRATION: Duration = Duration::from_micros(50);

/// A stub requested from the master ahead of need, whose pid the master has
/// not told us yet.
#[derive(Debug)]
struct Spare {
    chunk: u64,
    events: OwnedFd,
}

/// The stub master's socket, and the request it is working on ahead.
#[derive(Debug)]
struct Master {
    sock: OwnedFd,
    spare: Option<Spare>,
    /// Whether a sandbox has asked for more than its first address space:
    /// from then on a spare is kept ready.
    keep_spare: bool,
}

/// Free chunks of the stub memory file.
#[derive(Debug, Default)]
struct ChunkPool {
    next: u64,
    free: Vec<u64>,
}

/// The systrap platform.
#[derive(Debug)]
pub struct SystrapPlatform {
    master: Mutex<Master>,
    memory: Arc<sys::StubMemory>,
    chunks: Arc<Mutex<ChunkPool>>,
    memory_fd: u32,
    event_fd: u32,
    filter_sys: Vec<u8>,
    filter_thread: Vec<u8>,
    /// Measured on first use, from `epoch` (a clock and a TSC reading).
    tuning: std::sync::OnceLock<Tuning>,
    epoch: (Instant, u64),
    fsgsbase: bool,
    homes: Arc<Homes>,
    /// Syscall-site patching is on, and its shared trap table.
    patch: bool,
    traps: Arc<Mutex<patch::TrapTable>>,
}

/// Whether syscall-site patching is on: [`PATCH_ENV`], else the default.
fn patching_enabled() -> bool {
    match std::env::var(PATCH_ENV).as_deref() {
        Ok("0" | "off" | "false" | "no") => false,
        Ok(_) => true,
        Err(_) => PATCH_DEFAULT,
    }
}

thread_local! {
    /// The calling host thread's home CPU (index into the platform's CPUs)
    /// once it has one, and whether it is settled: it and the stub threads
    /// it sleeps on run there.
    static HOME: Cell<Option<(usize, bool)>> = const { Cell::new(None) };
}

/// The CPUs the sandbox may use, and which one the next thread to settle
/// gets as its home.
///
/// A new task thread first stays on the CPU of the task that created it
/// (it inherits that thread's affinity): a short-lived thread or process
/// then never wakes or migrates across CPUs (each such wake-up costs about
/// 50 µs here). One still running after [`SETTLE_AFTER`] settles on
/// a home handed out in turn, so long-lived tasks spread over the CPUs.
#[derive(Debug)]
struct Homes {
    cpus: Vec<usize>,
    next: AtomicUsize,
}

impl Homes {
    /// The calling thread's placement, and whether it is settled. A thread
    /// without a home is pinned where it runs, provisionally.
    fn current(&self) -> (Placement, bool) {
        let n = self.cpus.len();
        if n < 2 {
            return (Placement::default(), true);
        }
        let (index, settled) = HOME.with(|home| {
            if let Some(found) = home.get().filter(|&(i, _)| i < n) {
                return found;
            }
            let cpu = usize::try_from(sys::current_cpu()).unwrap_or(usize::MAX);
            let index = self.cpus.iter().position(|&c| c == cpu).unwrap_or(0);
            let _ = sys::pin_to_cpu(0, self.cpus[index]);
            home.set(Some((index, false)));
            (index, false)
        });
        (self.at(index), settled)
    }

    /// Gives the calling thread its home, in turn, and pins it there.
    /// Pinning only makes hand-offs cheaper, so a host that refuses it
    /// costs speed, not correctness.
    fn settle(&self) -> Placement {
        let n = self.cpus.len();
        if n < 2 {
            return Placement::default();
        }
        let index = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let _ = sys::pin_to_cpu(0, self.cpus[index]);
        HOME.with(|home| home.set(Some((index, true))));
        self.at(index)
    }

    fn at(&self, index: usize) -> Placement {
        Placement {
            home: Some(self.cpus[index]),
            away: Some(self.cpus[(index + 1) % self.cpus.len()]),
        }
    }
}

/// Where a context's stub thread runs, relative to the context's own thread.
#[derive(Clone, Copy, Debug, Default)]
struct Placement {
    /// The context's thread is pinned here; a stub thread it sleeps on too.
    home: Option<usize>,
    /// Another CPU, for a stub thread both sides spin on.
    away: Option<usize>,
}

fn host(op: &'static str) -> impl FnOnce(std::io::Error) -> PlatformError {
    move |source| PlatformError::Host { op, source }
}

fn filter_bytes(insns: &[filter::Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

impl SystrapPlatform {
    /// Creates the stub memory file and forks the stub master. Must be called
    /// while the process is still single-threaded, before it confines
    /// itself (boot step 4).
    ///
    /// # Errors
    /// A [`PlatformError`] if systrap cannot run here or the master could
    /// not be forked.
    pub fn new(memory_file: &MemoryFile) -> Result<SystrapPlatform, PlatformError> {
        probe()?;
        let memory =
            sys::StubMemory::new(MAX_ADDRESS_SPACES).map_err(host("create stub memory"))?;
        let memory_fd = memory_file.fd().as_raw_fd();
        let stub_fd = memory.raw_fd();
        // The eventfd's number in every stub: free there, since a stub keeps
        // only the two memory fds.
        let event_fd = memory_fd.max(stub_fd) + 1;
        let epoch = (Instant::now(), sys::rdtsc());
        let filter_sys =
            filter::syscall_thread_filter(memory_fd.unsigned_abs(), event_fd.unsigned_abs());
        let filter_thread = filter::program_thread_filter();
        assert!(filter_sys.len() <= CMD_FILTER_MAX && filter_thread.len() <= CMD_FILTER_MAX);
        let master = sys::fork_stub_master([memory_fd, stub_fd], event_fd)
            .map_err(host("fork stub master"))?;
        // The trap table's first word: where every trap jumps.
        memory.write_u64(TRAP_FILE_OFF, CODE_ADDR + sys::fast_points().entry);
        let platform = SystrapPlatform {
            master: Mutex::new(Master {
                sock: master,
                spare: None,
                keep_spare: false,
            }),
            memory: Arc::new(memory),
            chunks: Arc::new(Mutex::new(ChunkPool::default())),
            memory_fd: memory_fd.unsigned_abs(),
            event_fd: event_fd.unsigned_abs(),
            filter_sys: filter_bytes(&filter_sys),
            filter_thread: filter_bytes(&filter_thread),
            tuning: std::sync::OnceLock::new(),
            epoch,
            fsgsbase: sys::has_fsgsbase(),
            homes: Arc::new(Homes {
                cpus: sys::allowed_cpus().unwrap_or_default(),
                next: AtomicUsize::new(0),
            }),
            patch: patching_enabled(),
            traps: Arc::new(Mutex::new(patch::TrapTable::default())),
        };
        // The first address space's stub starts now, while the sandbox
        // boots (a stub takes about 1.5 ms to get ready here).
        {
            let mut master = platform
                .master
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            platform.request_spare(&mut master);
        }
        Ok(platform)
    }

    fn tuning(&self) -> Tuning {
        *self
            .tuning
            .get_or_init(|| Tuning::measure(self.epoch.0, self.epoch.1))
    }

    fn free_chunk(&self, chunk: u64) {
        self.chunks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .free
            .push(chunk);
    }

    /// Asks the master for a stub ahead of need; failure only means the
    /// next address space asks again, synchronously.
    fn request_spare(&self, master: &mut Master) {
        if master.spare.is_some() {
            return;
        }
        let Ok(chunk) = self.alloc_chunk() else {
            return;
        };
        let base = chunk * CHUNK_SIZE;
        self.init_chunk(base);
        let Ok(events) = sys::eventfd() else {
            self.free_chunk(chunk);
            return;
        };
        if sys::send_stub_request(master.sock.as_fd(), base, events.as_fd()).is_err() {
            self.free_chunk(chunk);
            return;
        }
        master.spare = Some(Spare { chunk, events });
    }

    /// A new stub: the spare if there is one, else one asked for now.
    /// Returns its chunk, answer counter and pid.
    fn take_stub(&self) -> Result<(u64, OwnedFd, i32), PlatformError> {
        let mut master = self.master.lock().unwrap_or_else(PoisonError::into_inner);
        if master.spare.is_none() {
            // A second address space (fork, exec): keep one ready from now on.
            master.keep_spare = true;
            self.request_spare(&mut master);
        }
        let Some(Spare { chunk, events }) = master.spare.take() else {
            return Err(PlatformError::Host {
                op: "request stub",
                source: std::io::Error::from_raw_os_error(libc::ENOMEM),
            });
        };
        let pid = match sys::stub_reply(master.sock.as_fd()) {
            Ok(pid) => pid,
            Err(err) => {
                self.free_chunk(chunk);
                return Err(host("request stub")(err));
            }
        };
        if master.keep_spare {
            self.request_spare(&mut master);
        }
        Ok((chunk, events, pid))
    }

    fn alloc_chunk(&self) -> Result<u64, PlatformError> {
        let mut pool = self.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(chunk) = pool.free.pop() {
            return Ok(chunk);
        }
        if pool.next >= MAX_ADDRESS_SPACES {
            return Err(PlatformError::Host {
                op: "allocate stub memory",
                source: std::io::Error::from_raw_os_error(libc::ENOMEM),
            });
        }
        pool.next += 1;
        Ok(pool.next - 1)
    }

    /// Writes the command page of a new chunk: eventfd, filters. The spin
    /// times come when the stub is taken (until then the stub does not
    /// spin).
    fn init_chunk(&self, base: u64) {
        let m = &self.memory;
        m.write_u64(base + CMD_FSGSBASE, u64::from(self.fsgsbase));
        m.write_u64(base + CMD_SPIN_TICKS, 0);
        m.write_u64(base + CMD_YIELD_TICKS, 0);
        m.write_u64(base + CMD_EVENT_FD, u64::from(self.event_fd));
        m.write_u64(base + CMD_ONE, 1);
        m.store(base + CMD_SENTRY_CPU, u32::MAX);
        for (fprog, at, code) in [
            (CMD_FPROG_SYS, CMD_FILTER_SYS, &self.filter_sys),
            (CMD_FPROG_THREAD, CMD_FILTER_THREAD, &self.filter_thread),
        ] {
            m.write(base + at, code);
            m.write_u64(base + fprog, (code.len() / 8) as u64);
            m.write_u64(base + fprog + 8, CHUNK_ADDR + at);
        }
        m.store(base + RES_SEQ, u32::MAX);
        // The stub starts its first program thread in slot 0 at once.
        init_slot(m, base + SLOTS_OFF, 0);
    }
}

/// Readies the message page at file offset `msg` of slot `slot` for a new
/// thread.
fn init_slot(m: &sys::StubMemory, msg: u64, slot: u64) {
    m.write(msg, &[0u8; 0x80]);
    m.store(msg + MSG_SENTRY_CPU, u32::MAX);
    m.write_u64(msg + MSG_SELF, AsInner::slot_addr(slot));
    m.write_u64(msg + MSG_MAGIC, u64::from(SLOT_MAGIC));
}

impl Platform for SystrapPlatform {
    fn name(&self) -> &'static str {
        "systrap"
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError> {
        let (chunk, events, pid) = self.take_stub()?;
        let base = chunk * CHUNK_SIZE;
        let tuning = self.tuning();
        self.memory
            .write_u64(base + CMD_SPIN_TICKS, tuning.spin_ticks);
        self.memory
            .write_u64(base + CMD_YIELD_TICKS, tuning.yield_ticks);
        let (place, _) = self.homes.current();
        if let Some(home) = place.home {
            // The syscall thread starts at the creator's home: requests are
            // then same-CPU wake-ups (and it follows other requesters).
            let _ = sys::pin_to_cpu(pid, home);
        }
        let pidfd = match sys::pidfd_open(pid) {
            Ok(fd) => fd,
            Err(err) => {
                sys::kill_process(pid);
                // The stub may still map the chunk: never reuse it.
                return Err(host("pidfd_open stub")(err));
            }
        };
        let inner = AsInner {
            pid,
            pidfd,
            events,
            memory: Arc::clone(&self.memory),
            base,
            chunk,
            chunks: Arc::clone(&self.chunks),
            tuning,
            memory_fd: u64::from(self.memory_fd),
            requests: Mutex::new(Requests {
                seq: 0,
                cpu: place.home,
            }),
            slots: Mutex::new(SlotPool {
                next: 1,
                first: true,
                ..SlotPool::default()
            }),
            patch: self.patch,
            traps: Arc::clone(&self.traps),
            program: OnceLock::new(),
            not_patchable: Mutex::new(HashSet::new()),
            cpus: self.homes.cpus.clone(),
        };
        inner.wait_answer(0, Some(STARTUP_PATIENCE))?;
        Ok(Arc::new(SystrapAddressSpace {
            inner: Arc::new(inner),
        }))
    }

    fn new_context(&self) -> Result<Box<dyn Context>, PlatformError> {
        let pending = Arc::new(AtomicBool::new(false));
        let kick = Arc::new(StubKick {
            running: AtomicI32::new(0),
            tgid: AtomicI32::new(0),
        });
        let (place, settled) = self.homes.current();
        Ok(Box::new(SystrapContext {
            place,
            homes: Arc::clone(&self.homes),
            settle_at: (!settled).then(|| Instant::now() + SETTLE_AFTER),
            shared: Shared {
                pending: Arc::clone(&pending),
                kick: Arc::clone(&kick),
            },
            interrupter: Interrupter::new(pending, kick),
            threads: Vec::new(),
        }))
    }

    fn min_user_address(&self) -> u64 {
        if self.patch {
            // The trap table sits below the program's range.
            TRAP_ADDR + TRAP_SIZE
        } else {
            // vm.mmap_min_addr's usual value: the first 64 KiB stay unmapped.
            0x1_0000
        }
    }

    fn max_user_address(&self) -> u64 {
        CHUNK_ADDR
    }

    fn host_syscalls(&self) -> SyscallAllowlist {
        SyscallAllowlist {
            syscalls: [
                libc::SYS_futex,
                libc::SYS_tgkill,
                libc::SYS_kill,
                libc::SYS_sched_yield,
                libc::SYS_getcpu,
                libc::SYS_sched_setaffinity,
                libc::SYS_sched_getaffinity,
                libc::SYS_pidfd_open,
                libc::SYS_poll,
                libc::SYS_ppoll,
                libc::SYS_read,
                libc::SYS_eventfd2,
                libc::SYS_sendmsg,
                libc::SYS_recvfrom,
                libc::SYS_fallocate,
                libc::SYS_close,
            ]
            .into_iter()
            .filter_map(|nr| u64::try_from(nr).ok())
            .collect(),
        }
    }
}

/// Slots of an address space's chunk.
#[derive(Debug, Default)]
struct SlotPool {
    next: u64,
    /// Slots whose thread was told to exit; reusable once the kernel has
    /// cleared the thread's tid in the message page.
    retiring: Vec<u64>,
    /// Threads of ended contexts, parked in their handler, for the next
    /// context: a new program thread then costs no `clone` of the stub, no
    /// filter and no first wake-up of a new host thread.
    parked: Vec<StubThread>,
    /// The stub cloned its first program thread into slot 0 as it started
    /// (ahead of need, while it was a spare), and no context has taken it.
    first: bool,
}

impl SlotPool {
    /// Slots whose thread may run program code.
    fn in_use(&self) -> u64 {
        self.next - (self.retiring.len() + self.parked.len()) as u64
    }
}

/// The syscall thread's requests.
#[derive(Debug)]
struct Requests {
    /// The last request's sequence number.
    seq: u32,
    /// The CPU the syscall thread is pinned to, if it is.
    cpu: Option<usize>,
}

/// An address space's shared state: its stub process and chunk.
#[derive(Debug)]
struct AsInner {
    pid: i32,
    pidfd: OwnedFd,
    /// Counts the syscall thread's answers; only the stub can write it.
    events: OwnedFd,
    memory: Arc<sys::StubMemory>,
    /// The chunk's offset in the stub memory file.
    base: u64,
    chunk: u64,
    chunks: Arc<Mutex<ChunkPool>>,
    tuning: Tuning,
    memory_fd: u64,
    /// Held across a request.
    requests: Mutex<Requests>,
    slots: Mutex<SlotPool>,
    /// Syscall-site patching is on; the shared trap table.
    patch: bool,
    traps: Arc<Mutex<patch::TrapTable>>,
    /// The program memory this address space caches, once the kernel gave it.
    program: OnceLock<Weak<dyn ProgramMemory>>,
    /// Return addresses of syscalls whose sites could not be patched.
    not_patchable: Mutex<HashSet<u64>>,
    /// The CPUs the sandbox runs on: a prefault goes to another one than
    /// the requester's.
    cpus: Vec<usize>,
}

impl AsInner {
    fn stub_error(&self, what: String) -> PlatformError {
        PlatformError::Stub {
            pid: self.pid,
            what,
        }
    }

    fn died(&self) -> PlatformError {
        self.stub_error("died unexpectedly".into())
    }

    /// Waits for the syscall thread's next answer (`seq` is only a hint in
    /// program-writable memory; the eventfd count is the proof).
    fn wait_answer(&self, seq: u32, patience: Option<Duration>) -> Result<(), PlatformError> {
        // Spin only while the syscall thread runs on another CPU: on this
        // one, spinning would only keep it from running.
        let m = &self.memory;
        let cpu = sys::current_cpu();
        let deadline = sys::rdtsc() + self.tuning.spin_ticks;
        while m.load(self.base + RES_SEQ) != seq
            && m.load(self.base + RES_SYS_CPU) != cpu
            && m.load(self.base + RES_SYS_SLEEP) == 0
            && sys::rdtsc() < deadline
        {
            std::hint::spin_loop();
        }
        let start = Instant::now();
        loop {
            if sys::eventfd_take(self.events.as_fd()) > 0 {
                return Ok(());
            }
            if sys::poll_or_exit(self.events.as_fd(), self.pidfd.as_fd(), LIVENESS_POLL) {
                return Err(self.died());
            }
            if patience.is_some_and(|p| start.elapsed() > p) {
                sys::kill_process(self.pid);
                return Err(self.stub_error("did not get ready".into()));
            }
        }
    }

    /// Has the syscall thread run request `op` with `args`, after writing
    /// `batch` to the batch pages; returns its result.
    fn request(
        &self,
        op: u64,
        args: [u64; 6],
        batch: &[[u64; BATCH_WORDS]],
    ) -> Result<u64, PlatformError> {
        if batch.len() > BATCH_MAX {
            return Err(self.stub_error(format!("a batch of {} calls", batch.len())));
        }
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        let m = &self.memory;
        for (i, word) in (0u64..).zip(batch.iter().flatten()) {
            m.write_u64(self.base + BATCH_OFF + 8 * i, *word);
        }
        for (i, arg) in (0u64..).zip(args) {
            m.write_u64(self.base + CMD_ARGS + 8 * i, arg);
        }
        m.write_u64(self.base + CMD_OP, op);
        let cpu = sys::current_cpu();
        m.store(self.base + CMD_SENTRY_CPU, cpu);
        requests.seq = requests.seq.wrapping_add(1);
        let seq = requests.seq;
        let away = (op == OP_BATCH && args[1] != 0)
            .then(|| {
                let here = usize::try_from(cpu).ok();
                self.cpus.iter().copied().find(|&c| Some(c) != here)
            })
            .flatten();
        if let Some(away) = away {
            // A prefault follows the answer: the syscall thread makes it on
            // another CPU, alongside the program. The next request from
            // here finds it asleep there and brings it back.
            if requests.cpu != Some(away) && sys::pin_to_cpu(self.pid, away).is_ok() {
                requests.cpu = Some(away);
            }
        } else if m.load(self.base + RES_SYS_SLEEP) != 0
            && let Ok(cpu) = usize::try_from(cpu)
        {
            // A sleeping syscall thread pinned to another CPU would cost two
            // cross-CPU wake-ups (it, then us), ten times a same-CPU one
            // here: it comes to this CPU. A new thread's task asks from its
            // own home, and the thread the syscall thread clones for it then
            // starts there too instead of migrating (its first event came
            // in 2 µs rather than 32-36 µs, median, on a busy host).
            if requests.cpu.is_some_and(|pinned| pinned != cpu)
                && sys::pin_to_cpu(self.pid, cpu).is_ok()
            {
                requests.cpu = Some(cpu);
            }
        }
        m.store(self.base + CMD_SEQ, seq);
        if m.load(self.base + RES_SYS_SLEEP) != 0 {
            m.futex_wake(self.base + CMD_SEQ);
        }
        self.wait_answer(seq, None)?;
        Ok(m.read_u64(self.base + RES_RET))
    }

    /// The program memory, if the kernel gave it and it still exists.
    fn program(&self) -> Option<Arc<dyn ProgramMemory>> {
        self.program.get().and_then(Weak::upgrade)
    }

    /// After a trapped syscall returning to `ret`: patches its site if it
    /// can, once per site. Returns false if the site stays on the trapped
    /// path.
    fn maybe_patch(&self, ret: u64, nr: u64) -> bool {
        if !self.patch {
            return false;
        }
        let mut skip = self
            .not_patchable
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if skip.contains(&ret) {
            return false;
        }
        let Some(program) = self.program() else {
            return true;
        };
        // Holding the slots keeps a new thread from starting meanwhile; the
        // calling thread (stopped in the sentry) is the only one when only
        // one slot is in use (a retiring or parked slot's thread runs no
        // program code until a context takes it, under this lock).
        let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let alone = slots.in_use() <= 1;
        if !patch::patch_site(&self.traps, &self.memory, program.as_ref(), ret, nr, alone) {
            if skip.len() >= NOT_PATCHABLE_MAX {
                skip.clear();
            }
            skip.insert(ret);
            return false;
        }
        true
    }

    /// The gs base the stub thread in `slot` runs with for a program gs
    /// base of `gs`: with patching, its own message page in place of 0.
    fn host_gs(&self, slot: u64, gs: u64) -> u64 {
        if self.patch && gs == 0 {
            Self::slot_addr(slot)
        } else {
            gs
        }
    }

    /// The program's gs base for the stub thread's `host` one.
    fn program_gs(&self, slot: u64, host: u64) -> u64 {
        if self.patch && host == Self::slot_addr(slot) {
            0
        } else {
            host
        }
    }

    /// The stub address of slot `slot`.
    fn slot_addr(slot: u64) -> u64 {
        CHUNK_ADDR + SLOTS_OFF + slot * SLOT_SIZE
    }

    /// The file offset of slot `slot`'s message page.
    fn msg(&self, slot: u64) -> u64 {
        self.base + SLOTS_OFF + slot * SLOT_SIZE
    }

    fn alloc_slot(&self) -> Result<u64, PlatformError> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = slots
            .retiring
            .iter()
            .position(|&s| self.memory.load(self.msg(s) + MSG_CTID) == 0)
        {
            return Ok(slots.retiring.swap_remove(i));
        }
        if slots.next >= MAX_THREADS {
            return Err(self.stub_error(format!("more than {MAX_THREADS} threads")));
        }
        slots.next += 1;
        Ok(slots.next - 1)
    }

    /// A program thread for a new context: a parked one if there is one,
    /// else a new one (see [`AsInner::spawn_thread`]).
    fn take_thread(&self, shared: &Shared, place: Placement) -> Result<StubThread, PlatformError> {
        let first = std::mem::take(
            &mut self
                .slots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .first,
        );
        if first {
            // Its tid is in place: the stub reported ready after the clone.
            let msg = self.msg(0);
            return match i32::try_from(self.memory.load(msg + MSG_CTID)) {
                Ok(tid) if tid > 0 => self.adopt_thread(0, tid, shared, place),
                _ => Err(self.stub_error("its first thread is missing".into())),
            };
        }
        let parked = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let mut found = None;
            while let Some(thread) = slots.parked.pop() {
                // The program can end a parked thread (a forged resume).
                if self.memory.load(thread.msg + MSG_CTID) != 0 {
                    found = Some(thread);
                    break;
                }
                slots.retiring.push(thread.slot);
            }
            found
        };
        let Some(mut thread) = parked else {
            return self.spawn_thread(shared, place);
        };
        if let Some(home) = place.home {
            let _ = sys::pin_to_cpu(thread.tid, home);
        }
        thread.fresh = true;
        thread.trapped_site = 0;
        thread.handoff = Handoff::default();
        Ok(thread)
    }

    /// Parks the thread of an ended context for the next one, or tells it
    /// to exit.
    fn put_thread(&self, mut thread: StubThread) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if !thread.gone && slots.parked.len() < PARKED_MAX {
            slots.parked.push(thread);
            return;
        }
        self.memory.store(thread.msg + MSG_FLAGS, RESUME_EXIT);
        thread.release(self);
        slots.retiring.push(thread.slot);
    }

    /// Clones a new program thread into a fresh slot and waits until its
    /// handler has entered the sentry's hands.
    fn spawn_thread(&self, shared: &Shared, place: Placement) -> Result<StubThread, PlatformError> {
        let slot = self.alloc_slot()?;
        init_slot(&self.memory, self.msg(slot), slot);
        let ret = self.request(OP_CLONE, [Self::slot_addr(slot), 0, 0, 0, 0, 0], &[])?;
        let tid = match i32::try_from(ret.cast_signed()) {
            Ok(tid) if tid > 0 => tid,
            _ => {
                self.slots
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retiring
                    .push(slot);
                return Err(self.stub_error(format!("clone a thread: {:#x}", ret)));
            }
        };
        self.adopt_thread(slot, tid, shared, place)
    }

    /// Takes the new thread `tid` in `slot` into the sentry's hands, once
    /// its handler has parked it.
    fn adopt_thread(
        &self,
        slot: u64,
        tid: i32,
        shared: &Shared,
        place: Placement,
    ) -> Result<StubThread, PlatformError> {
        if let Some(home) = place.home {
            let _ = sys::pin_to_cpu(tid, home);
        }
        let mut thread = StubThread {
            slot,
            msg: self.msg(slot),
            tid,
            frame: 0,
            fs_base: 0,
            gs_base: 0,
            fresh: true,
            gone: false,
            fast: false,
            trapped_site: 0,
            words: [0; FRAME_WORDS],
            sentry_cpu: u32::MAX,
            handoff: Handoff::default(),
        };
        // The first event is the thread's own `int3`: it only parks it.
        let mut scratch = Registers::default();
        if !matches!(thread.wait_event(self, shared, place, None)?, Waited::Event) {
            return Err(self.stub_error(format!("new thread {tid} exited")));
        }
        thread.load_event(self, &mut scratch)?;
        Ok(thread)
    }
}

impl Drop for AsInner {
    fn drop(&mut self) {
        sys::kill_process(self.pid);
        // Reuse the chunk only once the stub is gone: a dying stub could
        // still write to it.
        if sys::wait_exit(self.pidfd.as_fd(), Duration::from_millis(200))
            && self.memory.punch(self.base, CHUNK_SIZE).is_ok()
        {
            self.chunks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .free
                .push(self.chunk);
        }
    }
}

/// An address space: one stub process and its chunk of shared memory.
#[derive(Debug)]
pub struct SystrapAddressSpace {
    inner: Arc<AsInner>,
}

impl SystrapAddressSpace {
    /// The batch entry of `change`: its host call and the return value
    /// that means success.
    fn batch_entry(&self, change: &MapChange) -> Result<[u64; BATCH_WORDS], PlatformError> {
        Ok(match *change {
            MapChange::Map {
                addr,
                offset,
                len,
                perms,
                populate,
            } => {
                self.check_range(addr, len)?;
                let mut flags = libc::MAP_SHARED | libc::MAP_FIXED;
                if populate {
                    flags |= libc::MAP_POPULATE;
                }
                let flags = u64::from(flags.cast_unsigned());
                let prot = u64::from(perms.to_prot());
                let fd = self.inner.memory_fd;
                [NR_MMAP, addr, len, prot, flags, fd, offset, addr]
            }
            MapChange::Unmap { addr, len } => {
                self.check_range(addr, len)?;
                [NR_MUNMAP, addr, len, 0, 0, 0, 0, 0]
            }
            MapChange::Prefault { .. } => {
                return Err(self.inner.stub_error("a prefault is no batch entry".into()));
            }
            MapChange::Protect { addr, len, perms } => {
                self.check_range(addr, len)?;
                [
                    NR_MPROTECT,
                    addr,
                    len,
                    u64::from(perms.to_prot()),
                    0,
                    0,
                    0,
                    0,
                ]
            }
        })
    }

    fn check_range(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        if self.inner.patch && addr < TRAP_ADDR + TRAP_SIZE && addr + len > TRAP_ADDR {
            return Err(self.inner.stub_error(format!(
                "mapping {addr:#x}+{len:#x} would reach the trap table"
            )));
        }
        if addr.checked_add(len).is_none_or(|end| end > CHUNK_ADDR) {
            return Err(self.inner.stub_error(format!(
                "mapping {addr:#x}+{len:#x} would reach the stub's own pages"
            )));
        }
        Ok(())
    }
}

impl AddressSpace for SystrapAddressSpace {
    fn map_file(
        &self,
        addr: u64,
        offset: u64,
        len: u64,
        perms: Perms,
        populate: bool,
    ) -> Result<(), PlatformError> {
        self.apply(&[MapChange::Map {
            addr,
            offset,
            len,
            perms,
            populate,
        }])
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.apply(&[MapChange::Unmap { addr, len }])
    }

    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<(), PlatformError> {
        self.apply(&[MapChange::Protect { addr, len, perms }])
    }

    /// One request per [`BATCH_MAX`] changes: the syscall thread makes them
    /// in order and stops at the first the host refuses.
    fn apply(&self, changes: &[MapChange]) -> Result<(), PlatformError> {
        // The host calls go in batches; a prefault rides with the last one,
        // made by the syscall thread once it has answered, on another CPU
        // than the program's (the pages' first touches then take two CPUs'
        // time instead of one's). With one CPU it would only compete.
        let mut prefault = 0;
        let mut calls = Vec::with_capacity(changes.len());
        for change in changes {
            match *change {
                MapChange::Prefault { addr, len } => {
                    self.check_range(addr, len)?;
                    if self.inner.cpus.len() > 1 {
                        prefault = prefault_word(addr, len);
                    }
                }
                _ => calls.push(change),
            }
        }
        let mut parts: Vec<&[&MapChange]> = calls.chunks(BATCH_MAX).collect();
        if parts.is_empty() && prefault != 0 {
            // A prefault alone: a request with no host call before it.
            parts.push(&[]);
        }
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.into_iter().enumerate() {
            let prefault = if i == last { prefault } else { 0 };
            let batch = part
                .iter()
                .map(|change| self.batch_entry(change))
                .collect::<Result<Vec<_>, _>>()?;
            let n = part.len();
            let ret = self
                .inner
                .request(OP_BATCH, [n as u64, prefault, 0, 0, 0, 0], &batch)?;
            if ret != 0 {
                let failed = self.inner.memory.read_u64(self.inner.base + RES_FAILED);
                let what = match usize::try_from(failed).ok().and_then(|i| part.get(i)) {
                    Some(change) => format!("{change:?}: {}", batch_failure(ret)),
                    None => format!("a batch of {n} changes: {}", batch_failure(ret)),
                };
                return Err(self.inner.stub_error(what));
            }
        }
        Ok(())
    }

    fn wants_program_memory(&self) -> bool {
        self.inner.patch && self.inner.program.get().is_none()
    }

    fn set_program_memory(&self, memory: Weak<dyn ProgramMemory>) {
        let _ = self.inner.program.set(memory);
    }

    fn new_thread(&self) -> Result<crate::ThreadTicket, PlatformError> {
        // A context's stub thread is cloned by the syscall thread when the
        // context first uses this address space (its first switch, or the
        // FPU state a new task inherits): nothing to prepare here.
        Ok(crate::ThreadTicket(0))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Kicks a running stub thread with [`INTERRUPT_SIGNAL`].
#[derive(Debug)]
struct StubKick {
    /// The stub thread running program code for this context, or 0.
    running: AtomicI32,
    tgid: AtomicI32,
}

impl Kick for StubKick {
    fn kick(&self) {
        let tid = self.running.load(Ordering::SeqCst);
        if tid != 0 {
            let _ = sys::tgkill(self.tgid.load(Ordering::SeqCst), tid, INTERRUPT_SIGNAL);
        }
    }
}

/// What a context shares with its interrupter.
#[derive(Debug)]
struct Shared {
    pending: Arc<AtomicBool>,
    kick: Arc<StubKick>,
}

impl Shared {
    fn take_interrupt(&self) -> bool {
        // A load first: the common case needs no locked instruction.
        self.pending.load(Ordering::SeqCst) && self.pending.swap(false, Ordering::SeqCst)
    }
}

/// How a wait for an event ended.
enum Waited {
    /// The handler published an event.
    Event,
    /// The thread no longer exists: the program made it call the stub's
    /// `exit` (or forged its tid word).
    Gone,
    /// The context's provisional placement is due to settle.
    Settle,
}

/// What one event was, before the sentry acts on it.
enum Raw {
    Event(Event),
    /// A syscall of another ABI: answered `ENOSYS` here.
    ForeignSyscall,
    /// The interrupt signal.
    Kick,
    /// A signal someone sent the stub from the host: dropped.
    Stray,
}

/// A context's program thread in one address space.
#[derive(Debug)]
struct StubThread {
    slot: u64,
    /// The file offset of the slot's message page.
    msg: u64,
    tid: i32,
    /// The file offset of the current signal frame's ucontext (validated).
    frame: u64,
    /// The fs and gs bases at the last event.
    fs_base: u64,
    gs_base: u64,
    /// No resume yet: the bases must be set.
    fresh: bool,
    /// The host thread exited; a new one is needed.
    gone: bool,
    /// The current event came through the fast entry: its registers are in
    /// the message page and there is no signal frame.
    fast: bool,
    /// The return address of the last syscall site found not patchable.
    trapped_site: u64,
    /// The register words in the message page, as read at the event.
    words: [u64; FRAME_WORDS],
    /// The sentry CPU last written in the message page.
    sentry_cpu: u32,
    handoff: Handoff,
}

/// A stub thread's hand-off policy. It sleeps on the context's home CPU
/// ("together": every hand-off is a same-CPU futex wake-up, a cross-CPU one
/// costs ten times more on the VMs we run on) until round trips come fast
/// enough that both sides can spin instead; then it moves to another CPU
/// ("apart") and both spin, until one side has to sleep, which brings it
/// home again. Tries that do not pay make the next one wait longer.
#[derive(Debug)]
struct Handoff {
    apart: bool,
    /// The stay apart has just begun: the thread sleeps at home and its
    /// first wake-up on the other CPU is slow.
    moving: bool,
    /// Fast round trips in a row, while together.
    fast: u32,
    /// How many fast round trips start the next try.
    needed: u32,
    /// Round trips in the current stay apart.
    trips: u32,
    /// The current window apart: its round trips, their summed time from
    /// release to event (TSC ticks), and how many times a side slept.
    window_trips: u32,
    window_sum: u64,
    window_misses: u32,
    /// Moving average (1/16 weight, TSC ticks) of the time from release to
    /// event of fast round trips together.
    together_avg: u64,
    /// When the thread was last released, and when its event arrived (TSC).
    released: u64,
    arrived: u64,
}

impl Default for Handoff {
    fn default() -> Handoff {
        Handoff {
            apart: false,
            moving: false,
            fast: 0,
            needed: APART_AFTER,
            trips: 0,
            window_trips: 0,
            window_sum: 0,
            window_misses: 0,
            together_avg: 0,
            released: 0,
            arrived: 0,
        }
    }
}

impl StubThread {
    /// Waits until the thread's handler publishes an event, or until
    /// `settle_at` if it sleeps. Spins only while the thread last ran on
    /// another CPU, and only briefly; re-sends a pending interrupt and
    /// checks that the stub lives while it sleeps.
    fn wait_event(
        &mut self,
        aspace: &AsInner,
        shared: &Shared,
        place: Placement,
        settle_at: Option<Instant>,
    ) -> Result<Waited, PlatformError> {
        let m = &aspace.memory;
        let state = self.msg + MSG_STATE;
        let cpu = sys::current_cpu();
        let start = sys::rdtsc();
        // The first wake-up on another CPU costs a few cross-CPU wake-ups.
        let moving = std::mem::take(&mut self.handoff.moving);
        let spin = aspace.tuning.spin_ticks * if moving { MOVE_SPINS } else { 1 };
        let (deadline, mut next_yield) = (start + spin, start + aspace.tuning.yield_ticks);
        loop {
            if matches!(m.load(state), STATE_EVENT | STATE_FAST) {
                break;
            }
            let now = sys::rdtsc();
            if !moving && m.load(self.msg + MSG_STUB_CPU) == cpu {
                break;
            }
            if now >= deadline {
                // The program runs longer than a spin: sleep, and have the
                // thread wake us from this CPU rather than from another.
                self.missed(place);
                break;
            }
            if now >= next_yield {
                sys::yield_now();
                next_yield = now + aspace.tuning.yield_ticks;
            }
            std::hint::spin_loop();
        }
        let mut last_check = Instant::now();
        let mut interrupted_at: Option<Instant> = None;
        loop {
            let seen = m.load(state);
            if matches!(seen, STATE_EVENT | STATE_FAST) {
                self.publish_cpu(aspace);
                self.arrived(aspace, place);
                return Ok(Waited::Event);
            }
            m.store(self.msg + MSG_SENTRY_SLEEP, 1);
            let seen = m.load(state);
            if !matches!(seen, STATE_EVENT | STATE_FAST) {
                let now = Instant::now();
                let timeout = settle_at.map_or(LIVENESS_POLL, |at| {
                    at.saturating_duration_since(now).min(LIVENESS_POLL)
                });
                m.futex_wait(state, seen, timeout);
            }
            m.store_relaxed(self.msg + MSG_SENTRY_SLEEP, 0);
            if settle_at.is_some_and(|at| Instant::now() >= at) {
                return Ok(Waited::Settle);
            }
            if last_check.elapsed() >= LIVENESS_POLL {
                last_check = Instant::now();
                if sys::exited(aspace.pidfd.as_fd()) {
                    return Err(aspace.died());
                }
                // The kernel clears the tid when the thread exits (a program
                // that jumped to the stub's `exit`, or forged this word).
                if m.load(self.msg + MSG_CTID) == 0 {
                    return Ok(Waited::Gone);
                }
                if shared.pending.load(Ordering::SeqCst) {
                    let since = *interrupted_at.get_or_insert_with(Instant::now);
                    if since.elapsed() > INTERRUPT_PATIENCE {
                        sys::kill_process(aspace.pid);
                        return Err(aspace.stub_error("ignored an interrupt".into()));
                    }
                    // The kick may have raced with the thread's start.
                    let _ = sys::tgkill(aspace.pid, self.tid, INTERRUPT_SIGNAL);
                }
            }
        }
    }

    /// Turns a fast event into a signal frame, for the program's FPU state:
    /// the fast entry traps at its promote point without restoring
    /// anything, and [`StubThread::resume`] then writes every general
    /// register into that frame.
    fn ensure_frame(
        &mut self,
        aspace: &AsInner,
        shared: &Shared,
        place: Placement,
    ) -> Result<(), PlatformError> {
        if !self.fast {
            return Ok(());
        }
        aspace.memory.store(self.msg + MSG_FLAGS, RESUME_PROMOTE);
        self.release(aspace);
        if !matches!(self.wait_event(aspace, shared, place, None)?, Waited::Event) {
            self.gone = true;
            return Err(aspace.stub_error("thread exited while promoted".into()));
        }
        let mut scratch = Registers::default();
        let promoted = CODE_ADDR + sys::fast_points().promote + 1;
        match self.load_event(aspace, &mut scratch)? {
            Raw::Event(Event::Signal(info))
                if info.si_signo == libc::SIGTRAP && scratch.rip == promoted =>
            {
                Ok(())
            }
            _ => Err(aspace.stub_error("a promoted fast event did not trap".into())),
        }
    }

    /// Reads the published event: validates the frame pointer, copies the
    /// registers and siginfo out of shared memory, then classifies.
    fn load_event(&mut self, aspace: &AsInner, regs: &mut Registers) -> Result<Raw, PlatformError> {
        let m = &aspace.memory;
        if m.load(self.msg + MSG_STATE) == STATE_FAST {
            // A patched site: fs and gs are as the sentry last knew them.
            self.fast = true;
            self.read_words(aspace);
            self.words[18] = USER_CS | (USER_SS << 48);
            *regs = regs_from_words(&self.words, *regs);
            regs.fs_base = self.fs_base;
            regs.gs_base = aspace.program_gs(self.slot, self.gs_base);
            regs.orig_rax = regs.rax;
            regs.rax = Errno::ENOSYS.as_return();
            return Ok(Raw::Event(Event::Syscall));
        }
        self.fast = false;
        let signo = m.read_u64(self.msg + MSG_SIGNO);
        let uc = m.read_u64(self.msg + MSG_UC);
        let slot = AsInner::slot_addr(self.slot);
        let valid = uc.is_multiple_of(8)
            && uc >= slot + SLOT_ALTSTACK_OFF
            && uc + UC_SIZE + SIGINFO_SIZE <= slot + SLOT_SIZE;
        if !valid {
            return Err(aspace.stub_error(format!("corrupted signal frame pointer {uc:#x}")));
        }
        self.frame = aspace.base + (uc - CHUNK_ADDR);
        // The handler copied the frame's registers and the siginfo's words
        // to the message page: the sentry never reads the frame's lines.
        let siginfo = self.read_words(aspace);
        let mut info_bytes = [0u8; 128];
        for (b, w) in info_bytes[8..].chunks_exact_mut(8).zip(siginfo) {
            b.copy_from_slice(&w.to_le_bytes());
        }
        let mut info = SigInfo::read_from_bytes(&info_bytes).expect("128 bytes");
        *regs = regs_from_words(&self.words, *regs);
        self.fs_base = m.read_u64(self.msg + MSG_FS_BASE);
        self.gs_base = m.read_u64(self.msg + MSG_GS_BASE);
        regs.fs_base = self.fs_base;
        regs.gs_base = aspace.program_gs(self.slot, self.gs_base);
        let Ok(signo) = i32::try_from(signo) else {
            return Err(aspace.stub_error(format!("corrupted signal number {signo:#x}")));
        };
        if !sys::HANDLED_SIGNALS.contains(&signo) {
            return Err(aspace.stub_error(format!("corrupted signal number {signo}")));
        }
        info.si_signo = signo;
        if signo == INTERRUPT_SIGNAL {
            return Ok(Raw::Kick);
        }
        // si_code > 0: generated by the kernel (a fault or seccomp), not sent.
        if info.si_code <= 0 {
            return Ok(Raw::Stray);
        }
        if signo == libc::SIGSYS {
            if info.si_code != SYS_SECCOMP {
                return Ok(Raw::Stray);
            }
            // siginfo's seccomp fields: si_syscall (int) and si_arch (u32).
            let arch = u32::try_from(info.fields[1] >> 32).expect("shifted");
            // The kernel rolled rax back to the syscall number.
            regs.orig_rax = regs.rax;
            regs.rax = Errno::ENOSYS.as_return();
            if arch != filter::AUDIT_ARCH_X86_64 {
                return Ok(Raw::ForeignSyscall);
            }
            return Ok(Raw::Event(Event::Syscall));
        }
        if signo == libc::SIGSEGV && matches!(info.si_code, SEGV_MAPERR | SEGV_ACCERR) {
            // The page-fault error code: bit 1 write, bit 4 instruction fetch.
            let err = self.words[19];
            let write = err & 2 != 0;
            let access = Access {
                read: !write,
                write,
                execute: err & 0x10 != 0,
            };
            return Ok(Raw::Event(Event::Fault {
                addr: info.fields[0],
                access,
            }));
        }
        Ok(Raw::Event(Event::Signal(info)))
    }

    /// Books that one side had to sleep while apart. Rare misses cost one
    /// cross-CPU wake-up each, no more than a move home and back would;
    /// [`WINDOW_MISSES`] in one window move the thread back to the
    /// context's home CPU and end the stay apart.
    fn missed(&mut self, place: Placement) {
        let h = &mut self.handoff;
        if !h.apart {
            return;
        }
        h.window_misses += 1;
        if h.window_misses >= WINDOW_MISSES {
            self.come_home(place);
        }
    }

    /// Moves the thread back to the context's home CPU: the stay apart is over.
    fn come_home(&mut self, place: Placement) {
        let h = &mut self.handoff;
        h.apart = false;
        h.fast = 0;
        h.needed = if h.trips < WINDOW {
            h.needed.saturating_mul(2).min(APART_AFTER_MAX)
        } else {
            APART_AFTER
        };
        if let Some(home) = place.home {
            let _ = sys::pin_to_cpu(self.tid, home);
        }
    }

    /// Books an event's arrival: counts fast round trips while together,
    /// and moves the thread away (while it is parked) once there are enough.
    fn arrived(&mut self, aspace: &AsInner, place: Placement) {
        let now = sys::rdtsc();
        let spin = aspace.tuning.spin_ticks;
        let h = &mut self.handoff;
        let ran = now.wrapping_sub(h.released);
        let handled = h.released.wrapping_sub(h.arrived);
        h.arrived = now;
        if h.apart {
            h.trips = h.trips.saturating_add(1);
            if h.trips == 1 {
                // The first trip includes the move.
                return;
            }
            h.window_trips += 1;
            h.window_sum = h.window_sum.saturating_add(ran);
            if h.window_trips >= WINDOW {
                // On a busy host, spinning vCPUs lose to the CPUs' other
                // work and a stay apart can be slower than sleeping together.
                let worse = h.window_sum / u64::from(h.window_trips) > h.together_avg;
                (h.window_trips, h.window_sum, h.window_misses) = (0, 0, 0);
                if worse {
                    self.come_home(place);
                }
            }
            return;
        }
        let Some(away) = place.away else { return };
        if ran < spin && handled < spin {
            h.fast += 1;
            h.together_avg = if h.fast == 1 && h.together_avg == 0 {
                ran
            } else {
                average(h.together_avg, ran)
            };
        } else {
            h.fast = 0;
        }
        if h.fast >= h.needed && sys::pin_to_cpu(self.tid, away).is_ok() {
            h.apart = true;
            h.moving = true;
            h.trips = 0;
            (h.window_trips, h.window_sum, h.window_misses) = (0, 0, 0);
        }
    }

    /// Where the current event's registers are in the message page.
    fn regs_at(&self) -> u64 {
        self.msg
            + if self.fast {
                MSG_FAST_REGS
            } else {
                MSG_FRAME_REGS
            }
    }

    /// Reads the current event's register words into `self.words`, and
    /// returns the siginfo words after them (meaningless for a fast event).
    fn read_words(&mut self, aspace: &AsInner) -> [u64; SIGINFO_WORDS] {
        let mut raw = [0u8; (FRAME_WORDS + SIGINFO_WORDS) * 8];
        aspace.memory.read(self.regs_at(), &mut raw);
        let mut words = raw
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()));
        for w in &mut self.words {
            *w = words.next().unwrap_or(0);
        }
        std::array::from_fn(|_| words.next().unwrap_or(0))
    }

    /// Writes `regs` into the message page (the handler copies them into
    /// its frame) and releases the thread.
    fn resume(&mut self, aspace: &AsInner, regs: &Registers, place: Placement) {
        let m = &aspace.memory;
        // Only the words that changed (usually rax): each line written here
        // is one the stub must fetch back from this CPU.
        let event_flags = self.words[17];
        let mut words = self.words;
        words_from_regs(regs, &mut words);
        let restored = if self.fast { FAST_WORDS } else { RESTORE_WORDS };
        let at = self.regs_at();
        for (i, (new, old)) in (0u64..).zip(words.iter().zip(self.words).take(restored)) {
            if *new != old {
                m.write_u64(at + 8 * i, *new);
            }
        }
        self.words = words;
        let mut flags = 0;
        // A base the kernel would refuse (arch_prctl's EPERM) is not set.
        if (self.fresh || regs.fs_base != self.fs_base) && regs.fs_base < abi::TASK_SIZE {
            flags |= RESUME_SET_FS;
            m.write_u64(self.msg + MSG_NEW_FS, regs.fs_base);
            self.fs_base = regs.fs_base;
        }
        let gs = aspace.host_gs(self.slot, regs.gs_base);
        if (self.fresh || gs != self.gs_base) && gs < abi::TASK_SIZE {
            flags |= RESUME_SET_GS;
            m.write_u64(self.msg + MSG_NEW_GS, gs);
            self.gs_base = gs;
        }
        self.fresh = false;
        if !self.fast && needs_sigreturn(regs, event_flags) {
            flags |= RESUME_SIGRETURN;
        }
        m.store_relaxed(self.msg + MSG_FLAGS, flags);
        if self.handoff.apart && !self.handoff.moving && m.load(self.msg + MSG_STUB_SLEEP) != 0 {
            // It gave up spinning: wake it here rather than on the other CPU.
            self.missed(place);
        }
        self.release(aspace);
        self.handoff.released = sys::rdtsc();
    }

    fn release(&mut self, aspace: &AsInner) {
        let m = &aspace.memory;
        self.publish_cpu(aspace);
        m.store(self.msg + MSG_STATE, STATE_RESUME);
        if m.load(self.msg + MSG_STUB_SLEEP) != 0 {
            m.futex_wake(self.msg + MSG_STATE);
        }
    }

    /// Tells the thread which CPU the sentry runs on (it spins only while
    /// that is another one); written only when it changed, as the thread
    /// reads the line while it spins.
    fn publish_cpu(&mut self, aspace: &AsInner) {
        let cpu = sys::current_cpu();
        if cpu != self.sentry_cpu {
            aspace.memory.store_relaxed(self.msg + MSG_SENTRY_CPU, cpu);
            self.sentry_cpu = cpu;
        }
    }

    /// The file offset of the frame's FPU state, validated to hold `len`
    /// bytes inside the slot's signal stack.
    fn fpstate(&self, aspace: &AsInner, len: u64) -> Result<u64, PlatformError> {
        let ptr = aspace.memory.read_u64(self.frame + UC_MCONTEXT + 23 * 8);
        let slot = AsInner::slot_addr(self.slot);
        if ptr < slot + SLOT_ALTSTACK_OFF || ptr.saturating_add(len) > slot + SLOT_SIZE {
            return Err(aspace.stub_error(format!("corrupted FPU state pointer {ptr:#x}")));
        }
        Ok(aspace.base + (ptr - CHUNK_ADDR))
    }
}

/// The user code and stack selectors of x86-64 Linux (`__USER_CS`, `__USER_DS`).
const USER_CS: u64 = 0x33;
const USER_SS: u64 = 0x2b;

/// Whether a signal event must return through `rt_sigreturn` rather than
/// the handler's `iretq`: `iretq` faults in the handler on a rip or rsp
/// outside the user range, where the kernel's return delivers the program
/// a signal, and on the NT flag (the handler runs with the flags of the
/// event, which a program may set with `popf`).
fn needs_sigreturn(regs: &Registers, event_flags: u64) -> bool {
    const NT: u64 = 1 << 14;
    regs.rip >= abi::TASK_SIZE || regs.rsp >= abi::TASK_SIZE || event_flags & NT != 0
}

/// The registers of the message page's words; `old` supplies what they do
/// not hold.
fn regs_from_words(w: &[u64; FRAME_WORDS], old: Registers) -> Registers {
    Registers {
        r8: w[0],
        r9: w[1],
        r10: w[2],
        r11: w[3],
        r12: w[4],
        r13: w[5],
        r14: w[6],
        r15: w[7],
        rdi: w[8],
        rsi: w[9],
        rbp: w[10],
        rbx: w[11],
        rdx: w[12],
        rax: w[13],
        rcx: w[14],
        rsp: w[15],
        rip: w[16],
        eflags: w[17],
        cs: w[18] & 0xffff,
        ss: (w[18] >> 48) & 0xffff,
        ..old
    }
}

/// A moving average with weight 1/16 for the new sample.
fn average(avg: u64, sample: u64) -> u64 {
    avg - avg / 16 + sample / 16
}

/// Writes `regs` into the message page's words, keeping the rest.
fn words_from_regs(r: &Registers, w: &mut [u64; FRAME_WORDS]) {
    let gp = [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.eflags,
    ];
    w[..gp.len()].copy_from_slice(&gp);
    w[18] = (w[18] & 0x0000_ffff_ffff_0000) | (r.cs & 0xffff) | ((r.ss & 0xffff) << 48);
}

/// A host thread's context: one stub thread per address space it runs in.
#[derive(Debug)]
pub struct SystrapContext {
    place: Placement,
    homes: Arc<Homes>,
    /// While the placement is provisional: when it settles.
    settle_at: Option<Instant>,
    shared: Shared,
    interrupter: Interrupter,
    /// One per address space the context ran in, the last one used first:
    /// a task rarely has more than two (across an exec), and a list scan
    /// costs less than hashing on every switch.
    threads: Vec<(Weak<AsInner>, StubThread)>,
}

impl SystrapContext {
    fn aspace(aspace: &dyn AddressSpace) -> Result<&Arc<AsInner>, PlatformError> {
        aspace
            .as_any()
            .downcast_ref::<SystrapAddressSpace>()
            .map(|a| &a.inner)
            .ok_or(PlatformError::WrongThread("not a systrap address space"))
    }

    /// Moves this context's thread, and the stub threads it sleeps on, to
    /// the home it settles on.
    fn settle(&mut self) {
        self.settle_at = None;
        self.place = self.homes.settle();
        for (_, thread) in &mut self.threads {
            if let Some(home) = self.place.home {
                let _ = sys::pin_to_cpu(thread.tid, home);
            }
            thread.handoff = Handoff::default();
        }
    }

    /// Makes this context's thread in `inner` (created on first use) the
    /// first of `threads`.
    fn select_thread(&mut self, inner: &Arc<AsInner>) -> Result<(), PlatformError> {
        let found = self.threads.iter().position(|(aspace, thread)| {
            !thread.gone && std::ptr::eq(aspace.as_ptr(), Arc::as_ptr(inner))
        });
        let at = match found {
            Some(at) => at,
            None => {
                // Forget threads that are gone, and those of address
                // spaces that are gone.
                self.threads
                    .retain(|(aspace, thread)| !thread.gone && aspace.strong_count() > 0);
                let thread = inner.take_thread(&self.shared, self.place)?;
                self.threads.push((Arc::downgrade(inner), thread));
                self.threads.len() - 1
            }
        };
        self.threads.swap(0, at);
        Ok(())
    }

    /// This context's thread in `inner`, with a signal frame: a fast event
    /// is promoted first (the FPU state lives only in a frame).
    fn framed_thread(&mut self, inner: &Arc<AsInner>) -> Result<&mut StubThread, PlatformError> {
        self.select_thread(inner)?;
        let thread = &mut self.threads[0].1;
        thread.ensure_frame(inner, &self.shared, self.place)?;
        Ok(thread)
    }

    /// Runs the first of `threads` until an event the kernel must see.
    fn run(&mut self, inner: &AsInner, regs: &mut Registers) -> Result<Event, PlatformError> {
        loop {
            self.threads[0].1.resume(inner, regs, self.place);
            loop {
                let thread = &mut self.threads[0].1;
                match thread.wait_event(inner, &self.shared, self.place, self.settle_at)? {
                    Waited::Event => break,
                    // The program runs on: move it where it will stay.
                    Waited::Settle => self.settle(),
                    Waited::Gone => {
                        thread.gone = true;
                        // The program destroyed its own thread: to the
                        // kernel, that thread was killed.
                        let info = SigInfo {
                            si_signo: libc::SIGKILL,
                            si_code: 0x80, // SI_KERNEL
                            ..SigInfo::default()
                        };
                        return Ok(Event::Signal(info));
                    }
                }
            }
            let (thread, shared) = (&mut self.threads[0].1, &self.shared);
            match thread.load_event(inner, regs)? {
                Raw::Event(Event::Syscall) => {
                    // A raw syscall(2) loop traps at one site that stays
                    // trapped: skip the shared lookup for it.
                    if !thread.fast
                        && regs.rip != thread.trapped_site
                        && !inner.maybe_patch(regs.rip, regs.orig_rax)
                    {
                        thread.trapped_site = regs.rip;
                    }
                    return Ok(Event::Syscall);
                }
                Raw::Event(event) => {
                    if let Some(event) = fast_fixup(inner, regs, event) {
                        return Ok(event);
                    }
                }
                Raw::ForeignSyscall => regs.rax = Errno::ENOSYS.as_return(),
                Raw::Kick if shared.take_interrupt() => return Ok(Event::Interrupted),
                Raw::Kick | Raw::Stray => {}
            }
        }
    }
}

/// Events of the patching machinery that the kernel must not see: a fault
/// of the fast entry's gs check (the program's own gs base) goes to the
/// trap's fallback (`None`: resume); a `SIGILL` of a thread that ran into
/// a site as it was patched becomes the syscall it was making.
fn fast_fixup(inner: &AsInner, regs: &mut Registers, event: Event) -> Option<Event> {
    if !inner.patch {
        return Some(event);
    }
    let points = sys::fast_points();
    match event {
        Event::Fault { .. } if regs.rip == CODE_ADDR + points.check => {
            regs.rip = CODE_ADDR + points.fallback;
            None
        }
        Event::Signal(info)
            if matches!(info.si_signo, libc::SIGSEGV | libc::SIGBUS)
                && regs.rip == CODE_ADDR + points.check =>
        {
            regs.rip = CODE_ADDR + points.fallback;
            None
        }
        Event::Signal(info)
            if info.si_signo == libc::SIGILL
                && inner
                    .program()
                    .is_some_and(|p| patch::raced_site(p.as_ref(), regs.rip)) =>
        {
            // The `syscall` that was at rip, with the number in rax.
            regs.orig_rax = regs.rax;
            regs.rax = Errno::ENOSYS.as_return();
            regs.rip += 2;
            regs.rcx = regs.rip;
            regs.r11 = regs.eflags;
            Some(Event::Syscall)
        }
        event => Some(event),
    }
}

impl Context for SystrapContext {
    fn switch(
        &mut self,
        aspace: &dyn AddressSpace,
        regs: &mut Registers,
    ) -> Result<Event, PlatformError> {
        if self.shared.take_interrupt() {
            return Ok(Event::Interrupted);
        }
        let inner = Self::aspace(aspace)?;
        if self.settle_at.is_some_and(|at| Instant::now() >= at) {
            self.settle();
        }
        self.select_thread(inner)?;
        // Locked instructions cost here on every round trip: only the
        // store of `running` must be ordered before the load of `pending`
        // (the interrupter sets one and reads the other).
        let kick = &self.shared.kick;
        if kick.tgid.load(Ordering::Relaxed) != inner.pid {
            kick.tgid.store(inner.pid, Ordering::Relaxed);
        }
        kick.running.store(self.threads[0].1.tid, Ordering::SeqCst);
        let event = if self.shared.pending.load(Ordering::SeqCst) {
            Ok(Event::Interrupted)
        } else {
            self.run(inner, regs)
        };
        self.shared.kick.running.store(0, Ordering::Release);
        if matches!(event, Ok(Event::Interrupted)) {
            self.shared.pending.store(false, Ordering::SeqCst);
        }
        event
    }

    fn fpu_state(&mut self, aspace: &dyn AddressSpace) -> Result<Vec<u8>, PlatformError> {
        let inner = Arc::clone(Self::aspace(aspace)?);
        let thread = self.framed_thread(&inner)?;
        Ok(frame_fpu(&inner, thread)?.1)
    }

    fn set_fpu_state(
        &mut self,
        aspace: &dyn AddressSpace,
        state: &[u8],
    ) -> Result<(), PlatformError> {
        let inner = Arc::clone(Self::aspace(aspace)?);
        let thread = self.framed_thread(&inner)?;
        // The host frame's own xsave layout stays; rt_sigreturn loads it.
        let (at, mut area) = frame_fpu(&inner, thread)?;
        crate::xsave::merge(&mut area, state);
        inner.memory.write(at, &area);
        Ok(())
    }

    fn reset_fpu_state(&mut self, aspace: &dyn AddressSpace) -> Result<(), PlatformError> {
        let inner = Arc::clone(Self::aspace(aspace)?);
        let thread = self.framed_thread(&inner)?;
        let (at, mut area) = frame_fpu(&inner, thread)?;
        crate::xsave::reset(&mut area);
        inner.memory.write(at, &area);
        Ok(())
    }

    fn adopt_thread(
        &mut self,
        _aspace: &dyn AddressSpace,
        _ticket: crate::ThreadTicket,
    ) -> Result<(), PlatformError> {
        // The stub thread is made on first use (see `new_thread`).
        Ok(())
    }
    fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }
}

impl Drop for SystrapContext {
    fn drop(&mut self) {
        for (aspace, thread) in self.threads.drain(..) {
            if let Some(inner) = aspace.upgrade() {
                inner.put_thread(thread);
            }
        }
    }
}

/// The FPU state in `thread`'s host signal frame: its file offset, and the
/// area (the whole xsave area when the kernel wrote one, which it says in
/// the legacy area's software-reserved bytes).
fn frame_fpu(inner: &AsInner, thread: &StubThread) -> Result<(u64, Vec<u8>), PlatformError> {
    let legacy_size = abi::signal::FXSAVE_SIZE;
    let at = thread.fpstate(inner, legacy_size as u64)?;
    let mut area = vec![0u8; legacy_size];
    inner.memory.read(at, &mut area);
    if let Some(sw) = crate::xsave::sw_bytes(&area) {
        let size = usize::try_from(sw.xstate_size).unwrap_or(legacy_size);
        let at = thread.fpstate(inner, size as u64)?;
        area.resize(size, 0);
        inner.memory.read(at, &mut area);
    }
    Ok((at, area))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract_tests::{self, CODE};

    #[test]
    fn runs_code_reports_syscalls_and_faults() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = SystrapPlatform::new(&memory).unwrap();
        contract_tests::runs_code_reports_syscalls_and_faults(&memory, &platform);
        // The first fault was an instruction fetch, and systrap says so.
        let aspace = platform.new_address_space().unwrap();
        let mut context = platform.new_context().unwrap();
        let mut regs = Registers::new_user(CODE, 0);
        match context.switch(aspace.as_ref(), &mut regs).unwrap() {
            Event::Fault { access, .. } => assert!(access.execute, "{access:?}"),
            event => panic!("expected a fault, got {event:?}"),
        }
    }

    #[test]
    fn write_faults_are_exact_and_fs_base_round_trips() {
        // mov [0x500000], eax ; int3
        let code = [0x89, 0x04, 0x25, 0x00, 0x00, 0x50, 0x00, 0xcc];
        let memory = MemoryFile::new(1 << 24).unwrap();
        memory.write(0, &code);
        let platform = SystrapPlatform::new(&memory).unwrap();
        let aspace = platform.new_address_space().unwrap();
        let mut context = platform.new_context().unwrap();
        aspace
            .map_file(CODE, 0, 4096, Perms::READ_EXECUTE, false)
            .unwrap();
        aspace
            .map_file(0x50_0000, 4096, 4096, Perms::READ, false)
            .unwrap();
        let mut regs = Registers::new_user(CODE, 0);
        regs.fs_base = 0x1234_5000;
        match context.switch(aspace.as_ref(), &mut regs).unwrap() {
            Event::Fault { addr, access } => {
                assert_eq!(addr, 0x50_0000);
                assert!(access.write && !access.execute, "{access:?}");
            }
            event => panic!("expected a fault, got {event:?}"),
        }
        assert_eq!(regs.fs_base, 0x1234_5000);
        aspace
            .map_file(0x50_0000, 4096, 4096, Perms::READ_WRITE, false)
            .unwrap();
        regs.rax = 0xabcd;
        let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
        assert!(matches!(event, Event::Signal(_)), "{event:?}");
        let mut word = [0u8; 4];
        memory.read(4096, &mut word);
        assert_eq!(u32::from_le_bytes(word), 0xabcd);
        let fpu = context.fpu_state(aspace.as_ref()).unwrap();
        assert!(fpu.len() >= 512);
        context.reset_fpu_state(aspace.as_ref()).unwrap();
        let fpu = context.fpu_state(aspace.as_ref()).unwrap();
        assert_eq!(u16::from_le_bytes([fpu[0], fpu[1]]), 0x037f);
    }

    #[test]
    fn protect_keeps_reads_and_faults_writes() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = SystrapPlatform::new(&memory).unwrap();
        contract_tests::protect_keeps_reads_and_faults_writes(&memory, &platform);
    }

    #[test]
    fn apply_makes_changes_in_order() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = SystrapPlatform::new(&memory).unwrap();
        contract_tests::apply_makes_changes_in_order(&memory, &platform);
    }

    #[test]
    fn prefault_keeps_contents() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = SystrapPlatform::new(&memory).unwrap();
        contract_tests::prefault_keeps_contents(&memory, &platform);
    }

    #[test]
    fn interrupt_before_switch_returns_at_once() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = SystrapPlatform::new(&memory).unwrap();
        contract_tests::interrupt_before_switch_returns_at_once(&platform);
    }

    #[test]
    fn interrupt_stops_a_running_loop() {
        // jmp .
        let memory = MemoryFile::new(1 << 24).unwrap();
        memory.write(0, &[0xeb, 0xfe]);
        let platform = SystrapPlatform::new(&memory).unwrap();
        let aspace = platform.new_address_space().unwrap();
        aspace
            .map_file(CODE, 0, 4096, Perms::READ_EXECUTE, false)
            .unwrap();
        let mut context = platform.new_context().unwrap();
        let interrupter = context.interrupter();
        let kicker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            interrupter.interrupt();
        });
        let mut regs = Registers::new_user(CODE, 0);
        let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
        assert!(matches!(event, Event::Interrupted), "{event:?}");
        assert_eq!(regs.rip, CODE);
        kicker.join().unwrap();
    }

    #[test]
    fn int80_gets_enosys_without_reaching_the_sentry() {
        // mov eax, 1 (i386 exit); int 0x80; mov rdi, rax; mov eax, 39; syscall
        let code = [
            0xb8, 1, 0, 0, 0, 0xcd, 0x80, 0x48, 0x89, 0xc7, 0xb8, 39, 0, 0, 0, 0x0f, 0x05,
        ];
        let memory = MemoryFile::new(1 << 24).unwrap();
        memory.write(0, &code);
        let platform = SystrapPlatform::new(&memory).unwrap();
        let aspace = platform.new_address_space().unwrap();
        aspace
            .map_file(CODE, 0, 4096, Perms::READ_EXECUTE, false)
            .unwrap();
        let mut context = platform.new_context().unwrap();
        let mut regs = Registers::new_user(CODE, 0);
        let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
        assert!(matches!(event, Event::Syscall), "{event:?}");
        assert_eq!(regs.syscall_nr(), 39);
        assert_eq!(regs.rdi, Errno::ENOSYS.as_return());
    }

    #[test]
    fn mapping_over_the_stub_is_refused() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = SystrapPlatform::new(&memory).unwrap();
        let aspace = platform.new_address_space().unwrap();
        let top = platform.max_user_address();
        assert!(
            aspace
                .map_file(top - 4096, 0, 8192, Perms::READ, false)
                .is_err()
        );
        assert!(aspace.unmap(top, 4096).is_err());
        aspace
            .map_file(top - 4096, 0, 4096, Perms::READ, false)
            .unwrap();
    }
}
