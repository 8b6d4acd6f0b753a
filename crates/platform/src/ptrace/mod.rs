//! The ptrace platform: each address space is a stub process, each program
//! thread a stub thread that its task thread traces.
//!
//! - Stubs are forked by a stub master, itself forked while the sandbox
//!   process was still single-threaded and unconfined. A stub keeps only the
//!   MemoryFile fd and one page of code at [`STUB_BASE`], the top of the user
//!   range; it calls `setsid` so terminal signals never reach it.
//! - The task thread `PTRACE_SEIZE`s the stub with `PTRACE_O_EXITKILL |
//!   PTRACE_O_TRACESYSGOOD` and runs program code with `PTRACE_SYSEMU`, so a
//!   program syscall stops before the host runs it and is never run by the
//!   host.
//! - `mmap`/`munmap` of MemoryFile ranges are syscalls injected at the
//!   stub's own `syscall; int3` pair.
//! - Every wait is `waitpid(tid, __WALL | __WNOTHREAD)`; the sentry never
//!   waits on -1, which would steal another thread's tracee stops.
//! - A tracer and its tracee are pinned to one CPU: a cross-CPU wake-up costs
//!   about ten times a same-CPU one on the VMs we run on. Each pair (a new
//!   address space's first thread, or a thread adopted into one) takes the
//!   next CPU in turn, so the threads of one process spread over the CPUs.
//! - Only 64-bit syscalls are served: a stop whose `PTRACE_GET_SYSCALL_INFO`
//!   arch is not x86-64 (`int $0x80`, `sysenter`, 32-bit code) gets `ENOSYS`
//!   without reaching the kernel.

mod sys;

use std::any::Any;
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use abi::Errno;
use abi::signal::{SEGV_ACCERR, SEGV_MAPERR, SIGSEGV, SIGSTOP, SIGTRAP, SIGURG, SigInfo};

use crate::{
    Access, AddressSpace, Context, Event, Interrupter, Kick, MemoryFile, Perms, Platform,
    PlatformError, Registers, SyscallAllowlist, ThreadTicket,
};
use sys::WaitStatus;

/// Where each stub's code page lives: the last page of the user range.
pub const STUB_BASE: u64 = abi::TASK_SIZE - abi::PAGE_SIZE;

/// The signal an [`Interrupter`] sends a running stub thread. Its default
/// action is to ignore, so a kick that arrives after the stub has stopped
/// running program code does no harm.
const INTERRUPT_SIGNAL: i32 = SIGURG.cast_signed();

/// `si_code` values above zero come from the kernel (a fault), not `kill`.
fn is_kernel_generated(info: &SigInfo) -> bool {
    info.si_code > 0
}

/// Whether ptrace works on this host.
///
/// # Errors
/// [`PlatformError::Unavailable`] naming what is missing.
pub fn probe() -> Result<(), PlatformError> {
    // A process may always trace its own children unless a security module
    // forbids ptrace entirely; that is what Yama's level 3 does.
    match std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope") {
        Ok(level) if level.trim() == "3" => Err(PlatformError::Unavailable {
            platform: "ptrace",
            reason: "kernel.yama.ptrace_scope is 3 (ptrace disabled); use another platform".into(),
        }),
        _ => Ok(()),
    }
}

/// The ptrace platform.
#[derive(Debug)]
pub struct PtracePlatform {
    master: Mutex<OwnedFd>,
    memory_fd: u64,
    cpus: Arc<CpuRotation>,
}

/// Hands out the sandbox's CPUs in turn, one per tracer/tracee pair.
#[derive(Debug)]
struct CpuRotation {
    cpus: Vec<usize>,
    next: AtomicUsize,
}

impl CpuRotation {
    /// Pins the calling host thread and stub thread `tid` to the next CPU
    /// in turn. Pinning is a performance measure: failing to pin is not
    /// fatal.
    fn pin_pair(&self, tid: i32) {
        if self.cpus.is_empty() {
            return;
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        let cpu = self.cpus[turn % self.cpus.len()];
        let _ = sys::pin_to_cpu(0, cpu);
        let _ = sys::pin_to_cpu(tid, cpu);
    }
}

impl PtracePlatform {
    /// Forks the stub master. Must be called while the process is still
    /// single-threaded, before it confines itself (boot step 4).
    ///
    /// # Errors
    /// A [`PlatformError`] if the master could not be forked.
    pub fn new(memory_file: &MemoryFile) -> Result<PtracePlatform, PlatformError> {
        probe()?;
        let cpus = sys::allowed_cpus().map_err(|source| PlatformError::Host {
            op: "sched_getaffinity",
            source,
        })?;
        let memory_fd = memory_file.fd().as_raw_fd();
        let master =
            sys::fork_stub_master(memory_fd, STUB_BASE).map_err(|source| PlatformError::Host {
                op: "fork stub master",
                source,
            })?;
        Ok(PtracePlatform {
            master: Mutex::new(master),
            memory_fd: u64::from(memory_fd.unsigned_abs()),
            cpus: Arc::new(CpuRotation {
                cpus,
                next: AtomicUsize::new(0),
            }),
        })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError> {
        let pid = {
            let master = self
                .master
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sys::request_stub(master.as_fd()).map_err(|source| PlatformError::Host {
                op: "request stub",
                source,
            })?
        };
        let stub = StubThread::seize(pid, pid)?;
        self.cpus.pin_pair(pid);
        let mut threads = HashMap::new();
        threads.insert(sys::gettid(), Arc::new(stub));
        Ok(Arc::new(PtraceAddressSpace {
            pid,
            memory_fd: self.memory_fd,
            threads: Mutex::new(threads),
        }))
    }

    fn new_context(&self) -> Result<Box<dyn Context>, PlatformError> {
        let pending = Arc::new(AtomicBool::new(false));
        let kick = Arc::new(StubKick {
            running: AtomicI32::new(0),
            tgid: AtomicI32::new(0),
        });
        Ok(Box::new(PtraceContext {
            tracer: sys::gettid(),
            cpus: Arc::clone(&self.cpus),
            pending: Arc::clone(&pending),
            kick: Arc::clone(&kick),
            interrupter: Interrupter::new(pending, kick),
        }))
    }

    fn min_user_address(&self) -> u64 {
        // vm.mmap_min_addr's usual value: the first 64 KiB stay unmapped so
        // NULL dereferences fault.
        0x1_0000
    }

    fn max_user_address(&self) -> u64 {
        STUB_BASE
    }

    fn host_syscalls(&self) -> SyscallAllowlist {
        SyscallAllowlist {
            syscalls: [
                libc::SYS_ptrace,
                libc::SYS_wait4,
                libc::SYS_tgkill,
                libc::SYS_kill,
                libc::SYS_sched_setaffinity,
                libc::SYS_sched_getaffinity,
                libc::SYS_sendto,
                libc::SYS_recvfrom,
                libc::SYS_gettid,
            ]
            .into_iter()
            .filter_map(|nr| u64::try_from(nr).ok())
            .collect(),
        }
    }
}

/// A stub thread, stopped and traced by one host thread.
#[derive(Debug)]
struct StubThread {
    pid: i32,
    tid: i32,
}

impl StubThread {
    /// Seizes `tid` of stub `pid` and waits for its initial stop.
    fn seize(pid: i32, tid: i32) -> Result<StubThread, PlatformError> {
        sys::seize(tid, sys::PTRACE_O_EXITKILL | sys::PTRACE_O_TRACESYSGOOD).map_err(|source| {
            PlatformError::Host {
                op: "PTRACE_SEIZE stub",
                source,
            }
        })?;
        let thread = StubThread { pid, tid };
        // The stub stops itself with SIGSTOP once it has shed the sentry's
        // memory. Seen as a signal-delivery stop if we seized first, or as a
        // group-stop event if it stopped first; both leave it stopped at the
        // injection point.
        loop {
            match thread.wait()? {
                WaitStatus::Stopped { signo, event }
                    if signo == SIGSTOP.cast_signed() || event == sys::PTRACE_EVENT_STOP =>
                {
                    return Ok(thread);
                }
                WaitStatus::Stopped { .. } => thread.resume(sys::PTRACE_CONT)?,
                status => return Err(thread.died(status)),
            }
        }
    }

    /// Seizes a stub thread that is running (waiting in pause(2)) and stops
    /// it with `PTRACE_INTERRUPT`.
    fn seize_running(pid: i32, tid: i32) -> Result<StubThread, PlatformError> {
        sys::seize(tid, sys::PTRACE_O_EXITKILL | sys::PTRACE_O_TRACESYSGOOD).map_err(|source| {
            PlatformError::Host {
                op: "PTRACE_SEIZE stub thread",
                source,
            }
        })?;
        sys::resume(sys::PTRACE_INTERRUPT, tid).map_err(|source| PlatformError::Host {
            op: "PTRACE_INTERRUPT stub thread",
            source,
        })?;
        let thread = StubThread { pid, tid };
        loop {
            match thread.wait()? {
                WaitStatus::Stopped { event, .. } if event == sys::PTRACE_EVENT_STOP => {
                    return Ok(thread);
                }
                WaitStatus::Stopped { .. } => thread.resume(sys::PTRACE_CONT)?,
                status => return Err(thread.died(status)),
            }
        }
    }

    fn wait(&self) -> Result<WaitStatus, PlatformError> {
        sys::wait(self.tid).map_err(|source| PlatformError::Host {
            op: "waitpid stub",
            source,
        })
    }

    fn resume(&self, request: u64) -> Result<(), PlatformError> {
        sys::resume(request, self.tid).map_err(|source| PlatformError::Host {
            op: "resume stub",
            source,
        })
    }

    fn get_regs(&self, regs: &mut Registers) -> Result<(), PlatformError> {
        sys::get_regs(self.tid, regs).map_err(|source| PlatformError::Host {
            op: "PTRACE_GETREGS",
            source,
        })
    }

    fn set_regs(&self, regs: &Registers) -> Result<(), PlatformError> {
        sys::set_regs(self.tid, regs).map_err(|source| PlatformError::Host {
            op: "PTRACE_SETREGS",
            source,
        })
    }

    fn died(&self, status: WaitStatus) -> PlatformError {
        PlatformError::Stub {
            pid: self.tid,
            what: format!("died unexpectedly: {status:?}"),
        }
    }

    /// Runs syscall `nr` with `args` in the stub and returns its result.
    /// The thread's registers are clobbered: the next switch sets them anew.
    fn inject(&self, nr: i64, args: [u64; 6]) -> Result<u64, PlatformError> {
        self.inject_at(sys::stub_syscall_offset(), nr, args)
    }

    /// As [`StubThread::inject`], entering the stub code at `offset`.
    fn inject_at(&self, offset: u64, nr: i64, args: [u64; 6]) -> Result<u64, PlatformError> {
        let mut regs = Registers::new_user(STUB_BASE + offset, 0);
        regs.rax = nr.cast_unsigned();
        [regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9] = args;
        self.set_regs(&regs)?;
        loop {
            self.resume(sys::PTRACE_CONT)?;
            match self.wait()? {
                WaitStatus::Stopped { signo, .. } if signo == SIGTRAP.cast_signed() => break,
                // A kick or a stray signal: it is suppressed by resuming.
                WaitStatus::Stopped { .. } => {}
                status => return Err(self.died(status)),
            }
        }
        self.get_regs(&mut regs)?;
        Ok(regs.rax)
    }
}

/// An address space: one stub process.
#[derive(Debug)]
pub struct PtraceAddressSpace {
    pid: i32,
    /// The MemoryFile's fd number in the stub (forked from the sentry, so
    /// the same as the sentry's).
    memory_fd: u64,
    /// The stub thread each tracer (host tid) drives.
    threads: Mutex<HashMap<i32, Arc<StubThread>>>,
}

impl PtraceAddressSpace {
    /// The stub thread host thread `tracer` traces. The map's lock is held
    /// only for the lookup: other threads of the address space switch and
    /// inject concurrently, each into its own stub thread.
    fn thread_of(&self, tracer: i32) -> Result<Arc<StubThread>, PlatformError> {
        let threads = self
            .threads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        threads
            .get(&tracer)
            .cloned()
            .ok_or(PlatformError::WrongThread(
                "no stub thread is traced by this host thread",
            ))
    }

    /// Runs `f` with the stub thread the calling host thread traces.
    fn with_thread<T>(
        &self,
        f: impl FnOnce(&StubThread) -> Result<T, PlatformError>,
    ) -> Result<T, PlatformError> {
        let thread = self.thread_of(sys::gettid())?;
        f(&thread)
    }

    fn check_injected(&self, op: &'static str, ret: u64) -> Result<u64, PlatformError> {
        match Errno::from_return(ret) {
            Some(errno) => Err(PlatformError::Stub {
                pid: self.pid,
                what: format!("{op}: {errno}"),
            }),
            None => Ok(ret),
        }
    }
}

impl AddressSpace for PtraceAddressSpace {
    fn map_file(
        &self,
        addr: u64,
        offset: u64,
        len: u64,
        perms: Perms,
        populate: bool,
    ) -> Result<(), PlatformError> {
        let mut flags = libc::MAP_SHARED | libc::MAP_FIXED;
        if populate {
            flags |= libc::MAP_POPULATE;
        }
        let ret = self.with_thread(|t| {
            t.inject(
                libc::SYS_mmap,
                [
                    addr,
                    len,
                    u64::from(perms.to_prot()),
                    u64::from(flags.cast_unsigned()),
                    self.memory_fd,
                    offset,
                ],
            )
        })?;
        let ret = self.check_injected("mmap", ret)?;
        if ret != addr {
            return Err(PlatformError::Stub {
                pid: self.pid,
                what: format!("mmap at {addr:#x} landed at {ret:#x}"),
            });
        }
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        let ret = self.with_thread(|t| t.inject(libc::SYS_munmap, [addr, len, 0, 0, 0, 0]))?;
        self.check_injected("munmap", ret).map(drop)
    }

    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<(), PlatformError> {
        let prot = u64::from(perms.to_prot());
        let ret = self.with_thread(|t| t.inject(libc::SYS_mprotect, [addr, len, prot, 0, 0, 0]))?;
        self.check_injected("mprotect", ret).map(drop)
    }

    fn new_thread(&self) -> Result<ThreadTicket, PlatformError> {
        // The calling host thread's stub thread clones a sibling, which
        // waits in pause(2) until its own tracer seizes it.
        let flags = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM) as u64;
        let tid = self.with_thread(|t| {
            t.inject_at(
                sys::stub_clone_offset(),
                libc::SYS_clone,
                [flags, 0, 0, 0, 0, 0],
            )
        })?;
        let tid = self.check_injected("clone", tid)?;
        Ok(ThreadTicket(tid))
    }

    fn release_thread(&self) {
        let thread = {
            let mut threads = self
                .threads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            threads.remove(&sys::gettid())
        };
        // The thread is detached on its way to `exit`: its tracer may then
        // end without PTRACE_O_EXITKILL killing the whole stub process. It
        // is not waited for: a thread group leader's exit is not reported
        // while other threads of the stub live (a process sharing this
        // address space may outlive the one that made it).
        if let Some(thread) = thread {
            let mut regs = Registers::new_user(STUB_BASE + sys::stub_syscall_offset(), 0);
            regs.rax = libc::SYS_exit.cast_unsigned();
            if thread.set_regs(&regs).is_ok() {
                let _ = thread.resume(sys::PTRACE_DETACH);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        sys::kill_process(self.pid);
        let threads = self
            .threads
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(thread) = threads.get(&sys::gettid()) {
            // Reap the tracee so it does not linger as a zombie of ours.
            while let Ok(WaitStatus::Stopped { .. }) = thread.wait() {}
        }
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

/// A host thread's context: it traces the stub threads it runs.
#[derive(Debug)]
pub struct PtraceContext {
    tracer: i32,
    cpus: Arc<CpuRotation>,
    pending: Arc<AtomicBool>,
    kick: Arc<StubKick>,
    interrupter: Interrupter,
}

impl PtraceContext {
    fn take_interrupt(&self) -> bool {
        self.pending.swap(false, Ordering::SeqCst)
    }

    /// Runs `thread` from `regs` until an event.
    fn run(&self, thread: &StubThread, regs: &mut Registers) -> Result<Event, PlatformError> {
        thread.set_regs(regs)?;
        loop {
            thread.resume(sys::PTRACE_SYSEMU)?;
            let status = thread.wait()?;
            let WaitStatus::Stopped { signo, event } = status else {
                return Err(thread.died(status));
            };
            if signo == (SIGTRAP | 0x80).cast_signed() {
                thread.get_regs(regs)?;
                let (op, arch) =
                    sys::syscall_op_arch(thread.tid).map_err(|source| PlatformError::Host {
                        op: "PTRACE_GET_SYSCALL_INFO",
                        source,
                    })?;
                if op == sys::PTRACE_SYSCALL_INFO_ENTRY && arch != sys::AUDIT_ARCH_X86_64 {
                    // Never read a 32-bit syscall as an x86-64 number.
                    regs.rax = Errno::ENOSYS.as_return();
                    thread.set_regs(regs)?;
                    continue;
                }
                return Ok(Event::Syscall);
            }
            if event != 0 {
                // A group-stop or PTRACE_INTERRUPT event: nothing to report.
                continue;
            }
            let info = sys::get_siginfo(thread.tid).map_err(|source| PlatformError::Host {
                op: "PTRACE_GETSIGINFO",
                source,
            })?;
            if signo == INTERRUPT_SIGNAL && !is_kernel_generated(&info) {
                if self.take_interrupt() {
                    thread.get_regs(regs)?;
                    return Ok(Event::Interrupted);
                }
                continue;
            }
            if !is_kernel_generated(&info) {
                // Sent from the host by someone else: never the program's
                // business (it cannot make host syscalls), so drop it.
                continue;
            }
            thread.get_regs(regs)?;
            if signo == SIGSEGV.cast_signed() && matches!(info.si_code, SEGV_MAPERR | SEGV_ACCERR) {
                // ptrace does not expose the fault's error code: an access
                // error on a mapped page is most likely a write.
                let write = info.si_code == SEGV_ACCERR;
                let access = Access {
                    read: !write,
                    write,
                    execute: info.fields[0] == regs.rip,
                };
                return Ok(Event::Fault {
                    addr: info.fields[0],
                    access,
                });
            }
            return Ok(Event::Signal(info));
        }
    }
}

impl Context for PtraceContext {
    fn switch(
        &mut self,
        aspace: &dyn AddressSpace,
        regs: &mut Registers,
    ) -> Result<Event, PlatformError> {
        if self.take_interrupt() {
            return Ok(Event::Interrupted);
        }
        let aspace = aspace
            .as_any()
            .downcast_ref::<PtraceAddressSpace>()
            .ok_or(PlatformError::WrongThread("not a ptrace address space"))?;
        let thread = aspace.thread_of(self.tracer)?;
        self.kick.tgid.store(thread.pid, Ordering::SeqCst);
        self.kick.running.store(thread.tid, Ordering::SeqCst);
        // An interrupt that raced with publishing `running` sent no kick.
        let event = if self.pending.load(Ordering::SeqCst) {
            Ok(Event::Interrupted)
        } else {
            self.run(&thread, regs)
        };
        self.kick.running.store(0, Ordering::SeqCst);
        if matches!(event, Ok(Event::Interrupted)) {
            self.pending.store(false, Ordering::SeqCst);
        }
        event
    }

    fn adopt_thread(
        &mut self,
        aspace: &dyn AddressSpace,
        ticket: ThreadTicket,
    ) -> Result<(), PlatformError> {
        let aspace = aspace
            .as_any()
            .downcast_ref::<PtraceAddressSpace>()
            .ok_or(PlatformError::WrongThread("not a ptrace address space"))?;
        let tid = i32::try_from(ticket.0).map_err(|_| PlatformError::Stub {
            pid: aspace.pid,
            what: format!("bad thread ticket {ticket:?}"),
        })?;
        let thread = StubThread::seize_running(aspace.pid, tid)?;
        // The new pair need not share the CPU of the thread that cloned it.
        self.cpus.pin_pair(tid);
        let mut threads = aspace
            .threads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        threads.insert(self.tracer, Arc::new(thread));
        Ok(())
    }

    fn fpu_state(&mut self, aspace: &dyn AddressSpace) -> Result<Vec<u8>, PlatformError> {
        let aspace = ptrace_aspace(aspace)?;
        aspace.with_thread(|t| xstate(t.tid))
    }

    fn set_fpu_state(
        &mut self,
        aspace: &dyn AddressSpace,
        state: &[u8],
    ) -> Result<(), PlatformError> {
        let aspace = ptrace_aspace(aspace)?;
        aspace.with_thread(|t| {
            let mut area = xstate(t.tid)?;
            crate::xsave::merge(&mut area, state);
            store_xstate(t.tid, &area)
        })
    }

    fn reset_fpu_state(&mut self, aspace: &dyn AddressSpace) -> Result<(), PlatformError> {
        let aspace = ptrace_aspace(aspace)?;
        aspace.with_thread(|t| {
            let mut area = xstate(t.tid)?;
            crate::xsave::reset(&mut area);
            store_xstate(t.tid, &area)
        })
    }

    fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }
}

use abi::signal::{FX_SW_BYTES_OFFSET, XFEATURE_MASK_FPSSE};

fn ptrace_aspace(aspace: &dyn AddressSpace) -> Result<&PtraceAddressSpace, PlatformError> {
    aspace
        .as_any()
        .downcast_ref::<PtraceAddressSpace>()
        .ok_or(PlatformError::WrongThread("not a ptrace address space"))
}

/// The stopped thread `tid`'s FPU state: its whole xsave area, or the
/// `fxsave` area on a CPU without xsave (where the regset does not exist).
fn xstate(tid: i32) -> Result<Vec<u8>, PlatformError> {
    match sys::get_xstate(tid, crate::xsave::MAX_XSTATE_SIZE) {
        Ok(mut area) => {
            // ptrace puts XCR0 (the enabled components) where a signal
            // frame has its layout description: write the description.
            let xcr0 = area
                .get(FX_SW_BYTES_OFFSET..FX_SW_BYTES_OFFSET + 8)
                .and_then(|word| <[u8; 8]>::try_from(word).ok())
                .map_or(XFEATURE_MASK_FPSSE, u64::from_le_bytes);
            crate::xsave::describe(&mut area, xcr0);
            Ok(area)
        }
        Err(err) if err.raw_os_error() == Some(libc::ENODEV) => {
            sys::get_fpregs(tid).map_err(|source| PlatformError::Host {
                op: "PTRACE_GETFPREGS",
                source,
            })
        }
        Err(source) => Err(PlatformError::Host {
            op: "PTRACE_GETREGSET",
            source,
        }),
    }
}

/// Loads an area [`xstate`] returned (and [`crate::xsave`] edited) into
/// the stopped thread `tid`.
fn store_xstate(tid: i32, area: &[u8]) -> Result<(), PlatformError> {
    if let Ok(legacy) = <&[u8; sys::FXSAVE_SIZE]>::try_from(area) {
        return sys::set_fpregs(tid, legacy).map_err(|source| PlatformError::Host {
            op: "PTRACE_SETFPREGS",
            source,
        });
    }
    sys::set_xstate(tid, area).map_err(|source| PlatformError::Host {
        op: "PTRACE_SETREGSET",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract_tests;

    #[test]
    fn runs_code_reports_syscalls_and_faults() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = PtracePlatform::new(&memory).unwrap();
        contract_tests::runs_code_reports_syscalls_and_faults(&memory, &platform);
    }

    #[test]
    fn protect_keeps_reads_and_faults_writes() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = PtracePlatform::new(&memory).unwrap();
        contract_tests::protect_keeps_reads_and_faults_writes(&memory, &platform);
    }

    #[test]
    fn apply_makes_changes_in_order() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = PtracePlatform::new(&memory).unwrap();
        contract_tests::apply_makes_changes_in_order(&memory, &platform);
    }

    #[test]
    fn prefault_keeps_contents() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = PtracePlatform::new(&memory).unwrap();
        contract_tests::prefault_keeps_contents(&memory, &platform);
    }

    #[test]
    fn interrupt_before_switch_returns_at_once() {
        let memory = MemoryFile::new(1 << 24).unwrap();
        let platform = PtracePlatform::new(&memory).unwrap();
        contract_tests::interrupt_before_switch_returns_at_once(&platform);
    }
}
