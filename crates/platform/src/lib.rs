//! How program code runs: the platform contract and its implementations.
//!
//! A [`Platform`] makes [`AddressSpace`]s (the program's view of memory) and
//! [`Context`]s (a host thread's means of running program code). The sentry
//! runs a program thread with [`Context::switch`], which returns an [`Event`]
//! when the thread needs the kernel: a syscall, a fault, a signal, or an
//! interruption requested through an [`Interrupter`]. Every byte of program
//! memory lives in the [`MemoryFile`]; an address space is only a cache of the
//! sentry's VMA tree, filled with [`AddressSpace::map_file`] (or many changes
//! at once with [`AddressSpace::apply`]) on faults.
//!
//! This crate knows registers, traps and mappings, nothing about files or
//! processes. It is the contract gVisor's platforms implement: address spaces,
//! execution contexts, and returning control on syscalls and faults.

#![warn(missing_docs)]
#![deny(unsafe_code)]

#[cfg(test)]
mod contract_tests;
mod host;
mod memory_file;
pub mod ptrace;
mod registers;
pub mod systrap;
pub mod xsave;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use memory_file::{MemoryFile, MemoryFileError};
pub use registers::Registers;

use abi::signal::SigInfo;

/// Memory access permissions of a mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Perms {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

impl Perms {
    /// No access.
    pub const NONE: Perms = Perms {
        read: false,
        write: false,
        execute: false,
    };
    /// Read only.
    pub const READ: Perms = Perms {
        read: true,
        write: false,
        execute: false,
    };
    /// Read and write.
    pub const READ_WRITE: Perms = Perms {
        read: true,
        write: true,
        execute: false,
    };
    /// Read and execute.
    pub const READ_EXECUTE: Perms = Perms {
        read: true,
        write: false,
        execute: true,
    };

    /// The permissions of `PROT_*` bits; unknown bits are ignored.
    pub const fn from_prot(prot: u32) -> Perms {
        Perms {
            read: prot & abi::mman::PROT_READ != 0,
            write: prot & abi::mman::PROT_WRITE != 0,
            execute: prot & abi::mman::PROT_EXEC != 0,
        }
    }

    /// These permissions as `PROT_*` bits.
    pub const fn to_prot(self) -> u32 {
        let mut prot = 0;
        if self.read {
            prot |= abi::mman::PROT_READ;
        }
        if self.write {
            prot |= abi::mman::PROT_WRITE;
        }
        if self.execute {
            prot |= abi::mman::PROT_EXEC;
        }
        prot
    }

    /// Whether every permission in `other` is also in `self`.
    pub const fn contains(self, other: Perms) -> bool {
        (self.read || !other.read)
            && (self.write || !other.write)
            && (self.execute || !other.execute)
    }
}

/// The kind of access that faulted, as far as the platform knows it.
///
/// Under ptrace this is approximate: the host does not tell a tracer the
/// fault's error code, so the memory manager must not rely on it being exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// The access read memory (or the platform cannot tell).
    pub read: bool,
    /// The access wrote memory.
    pub write: bool,
    /// The access fetched an instruction.
    pub execute: bool,
}

/// Why [`Context::switch`] returned.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    /// The thread made a 64-bit syscall. The number is in `orig_rax`, the
    /// arguments in `rdi, rsi, rdx, r10, r8, r9`; `rip` is past the
    /// instruction. The kernel writes the result to `rax` before the next
    /// switch.
    Syscall,
    /// The thread touched memory that is not mapped with the needed access.
    Fault {
        /// The faulting address.
        addr: u64,
        /// What the access was, as far as the platform knows.
        access: Access,
    },
    /// The thread got a synchronous signal other than a page fault (an
    /// `int3`, a `ud2`, a division by zero, a general-protection fault).
    Signal(SigInfo),
    /// An [`Interrupter`] asked the thread to return to the kernel.
    Interrupted,
}

/// A failure of the platform's own machinery, never of the program.
///
/// The sentry treats these as fatal for the sandbox (or, for
/// [`PlatformError::Unavailable`], reports them before the program starts).
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The platform cannot run on this host.
    #[error("{platform}: {reason}")]
    Unavailable {
        /// The platform's name.
        platform: &'static str,
        /// What is missing and what to do about it.
        reason: String,
    },
    /// A host call the platform needed failed.
    #[error("{op}: {source}")]
    Host {
        /// What the platform was doing.
        op: &'static str,
        /// The host's error.
        source: std::io::Error,
    },
    /// A stub process or thread died or misbehaved.
    #[error("stub {pid}: {what}")]
    Stub {
        /// The stub's host thread id.
        pid: i32,
        /// What happened.
        what: String,
    },
    /// The address space has no stub thread the calling host thread can drive.
    #[error("address space not usable from this thread: {0}")]
    WrongThread(&'static str),
}

impl PlatformError {
    /// A [`PlatformError::Host`] from the calling thread's `errno`.
    pub fn last_os_error(op: &'static str) -> PlatformError {
        PlatformError::Host {
            op,
            source: std::io::Error::last_os_error(),
        }
    }
}

/// The host syscalls a platform needs the sentry's own seccomp filter to allow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyscallAllowlist {
    /// Syscall numbers, allowed with any arguments.
    pub syscalls: Vec<u64>,
}

/// A way to run program code on this host.
pub trait Platform: Send + Sync + std::fmt::Debug {
    /// The platform's name, as `--platform` spells it.
    fn name(&self) -> &'static str;

    /// Creates an empty address space. Under ptrace the calling host thread
    /// becomes the tracer of the new stub, so the first [`Context`] to run in
    /// it should be created on the same thread.
    ///
    /// # Errors
    /// A [`PlatformError`] if a stub could not be created.
    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError>;

    /// Creates an execution context bound to the calling host thread.
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refuses what the context needs.
    fn new_context(&self) -> Result<Box<dyn Context>, PlatformError>;

    /// The lowest address a program may map.
    fn min_user_address(&self) -> u64;

    /// One past the highest address a program may map. The platform's own
    /// pages (the stub) sit at or above it.
    fn max_user_address(&self) -> u64;

    /// What the sentry's own seccomp filter must allow for this platform.
    fn host_syscalls(&self) -> SyscallAllowlist;
}

/// Makes `changes` one call at a time: [`AddressSpace::apply`] for a
/// platform that has no cheaper way, ignoring prefaults.
///
/// # Errors
/// The first change's [`PlatformError`]; the ones before it were made.
pub fn apply_each<A: AddressSpace + ?Sized>(
    aspace: &A,
    changes: &[MapChange],
) -> Result<(), PlatformError> {
    for change in changes {
        match *change {
            MapChange::Map {
                addr,
                offset,
                len,
                perms,
                populate,
            } => aspace.map_file(addr, offset, len, perms, populate)?,
            MapChange::Unmap { addr, len } => aspace.unmap(addr, len)?,
            MapChange::Protect { addr, len, perms } => aspace.protect(addr, len, perms)?,
            MapChange::Prefault { .. } => {}
        }
    }
    Ok(())
}

/// One change to an address space's host mappings, for
/// [`AddressSpace::apply`]: the arguments of the call it stands for, or a
/// hint ([`MapChange::Prefault`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapChange {
    /// [`AddressSpace::map_file`].
    Map {
        /// Where in the address space.
        addr: u64,
        /// Where in the MemoryFile.
        offset: u64,
        /// How many bytes.
        len: u64,
        /// The mapping's permissions.
        perms: Perms,
        /// Pre-fault the range.
        populate: bool,
    },
    /// [`AddressSpace::unmap`].
    Unmap {
        /// Where in the address space.
        addr: u64,
        /// How many bytes.
        len: u64,
    },
    /// [`AddressSpace::protect`].
    Protect {
        /// Where in the address space.
        addr: u64,
        /// How many bytes.
        len: u64,
        /// The new permissions, without write.
        perms: Perms,
    },
    /// A hint: the program is about to write the pages of this range,
    /// mapped writable by the changes before it. A platform may fault them
    /// in meanwhile, alongside the program (a page's first touch is the
    /// host's costliest work on a fresh MemoryFile page); one that cannot
    /// ignores it.
    Prefault {
        /// Where in the address space.
        addr: u64,
        /// How many bytes.
        len: u64,
    },
}

/// A program's address space as the host sees it: a cache of the sentry's
/// VMA tree, filled on faults.
pub trait AddressSpace: Send + Sync + std::fmt::Debug {
    /// Maps `len` bytes of the MemoryFile at `offset` to `addr` with `perms`,
    /// replacing whatever was mapped there. `addr`, `offset` and `len` are
    /// page-aligned. With `populate`, the host pre-faults the range.
    ///
    /// Blocks until the mapping is in place. Under ptrace, must be called on
    /// a host thread that traces one of the address space's stub threads.
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused; the sandbox cannot go on.
    fn map_file(
        &self,
        addr: u64,
        offset: u64,
        len: u64,
        perms: Perms,
        populate: bool,
    ) -> Result<(), PlatformError>;

    /// Removes any mapping in `[addr, addr + len)`. Page-aligned; unmapping
    /// what is not mapped is not an error.
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused; the sandbox cannot go on.
    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError>;

    /// Gives the pages mapped in `[addr, addr + len)` the permissions
    /// `perms` (never write: this takes write access away, as for pages
    /// that become copy-on-write), keeping what they map, so that reads
    /// do not fault. Page-aligned; the whole range must be mapped.
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused; the sandbox cannot go on.
    fn protect(&self, addr: u64, len: u64, perms: Perms) -> Result<(), PlatformError>;

    /// Makes `changes` in order, as the calls to [`AddressSpace::map_file`],
    /// [`AddressSpace::unmap`] and [`AddressSpace::protect`] they stand
    /// for would, with the same preconditions. A platform whose every
    /// change is a round trip to the stub sends many at once. A
    /// [`MapChange::Prefault`] is a hint the default ignores.
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused one; the changes before it
    /// may have been made, and the sandbox cannot go on.
    fn apply(&self, changes: &[MapChange]) -> Result<(), PlatformError> {
        apply_each(self, changes)
    }

    /// Prepares a new thread of this address space for a context that
    /// another host thread will create (the `clone` of a program thread).
    /// Called on the host thread of a context that runs in this address
    /// space; the returned ticket goes to [`Context::adopt_thread`].
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused, or the platform has no
    /// threads yet.
    fn new_thread(&self) -> Result<ThreadTicket, PlatformError> {
        Err(PlatformError::Unavailable {
            platform: "this platform",
            reason: "program threads are not supported yet".into(),
        })
    }

    /// Ends the calling host thread's thread of this address space: its
    /// context will not run in it again (the program thread exited or
    /// exec'd while others sharing the address space go on). The thread
    /// never runs program code again; it may still be on its way out when
    /// this returns.
    fn release_thread(&self) {}

    /// Whether the platform wants [`AddressSpace::set_program_memory`]
    /// called (it rewrites program code, and has no memory yet). Cheap:
    /// the kernel asks before each switch.
    fn wants_program_memory(&self) -> bool {
        false
    }

    /// Gives the platform access to the program memory this address space
    /// caches, for rewriting syscall sites (systrap). Held weakly: the
    /// memory manager owns the address space.
    fn set_program_memory(&self, memory: std::sync::Weak<dyn ProgramMemory>) {
        let _ = memory;
    }

    /// For a platform's context to downcast to its own address space type.
    fn as_any(&self) -> &dyn Any;
}

/// Program memory as the kernel's memory manager sees it, for a platform
/// that rewrites program code. May block on the memory manager's lock, so
/// it is only called while the caller holds no lock of its own.
pub trait ProgramMemory: Send + Sync {
    /// Reads `buf.len()` bytes at `addr` from an executable mapping,
    /// ignoring read permission. Returns false if any byte is not in one.
    fn read_code(&self, addr: u64, buf: &mut [u8]) -> bool;

    /// Atomically replaces the 8-aligned word at `addr` with `new` if it
    /// holds `old`, ignoring write permission and breaking copy-on-write
    /// first; only in a private, executable mapping (anonymous or of a
    /// file). Returns whether the word now holds `new`.
    fn patch_code(&self, addr: u64, old: u64, new: u64) -> bool;
}

/// A thread of an address space prepared by [`AddressSpace::new_thread`],
/// waiting for a context to adopt it. Platform-defined contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadTicket(pub u64);

/// A host thread's means of running program threads.
///
/// Bound to the host thread that created it, so it is not `Send`.
pub trait Context: std::fmt::Debug {
    /// Runs the thread whose state is `regs` in `aspace` until it needs the
    /// kernel, and returns why. `regs` holds the thread's state on return.
    ///
    /// Blocks while program code runs. Returns [`Event::Interrupted`] at once
    /// if an interrupt is pending.
    ///
    /// # Errors
    /// A [`PlatformError`] if the platform's machinery failed; the thread
    /// cannot go on.
    fn switch(
        &mut self,
        aspace: &dyn AddressSpace,
        regs: &mut Registers,
    ) -> Result<Event, PlatformError>;

    /// Reads the thread's FPU/SSE/AVX state after the last
    /// [`Context::switch`]: the whole `xsave` area in standard format, its
    /// software-reserved bytes describing it as in a signal frame (see
    /// [`xsave`]), or only the legacy `fxsave` area on a CPU without xsave.
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused.
    fn fpu_state(&mut self, aspace: &dyn AddressSpace) -> Result<Vec<u8>, PlatformError>;

    /// Replaces the thread's FPU/SSE/AVX state with `state`, an area as
    /// [`Context::fpu_state`] returns it or a legacy `fxsave` area alone
    /// (`rt_sigreturn` restores the state a signal frame saved). The
    /// platform makes loadable what the hardware would refuse
    /// ([`xsave::merge`]).
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused.
    fn set_fpu_state(
        &mut self,
        aspace: &dyn AddressSpace,
        state: &[u8],
    ) -> Result<(), PlatformError> {
        let _ = (aspace, state);
        Err(PlatformError::WrongThread(
            "this platform cannot restore FPU state yet",
        ))
    }

    /// Resets the thread's FPU state to its initial values (as `execve` does).
    ///
    /// # Errors
    /// A [`PlatformError`] if the host refused.
    fn reset_fpu_state(&mut self, aspace: &dyn AddressSpace) -> Result<(), PlatformError>;

    /// Makes the thread `ticket` (from [`AddressSpace::new_thread`]) the
    /// one this context runs in `aspace`. Called on the context's host
    /// thread before its first switch into `aspace`.
    ///
    /// # Errors
    /// A [`PlatformError`] if the thread cannot be taken over.
    fn adopt_thread(
        &mut self,
        aspace: &dyn AddressSpace,
        ticket: ThreadTicket,
    ) -> Result<(), PlatformError> {
        let _ = (aspace, ticket);
        Err(PlatformError::Unavailable {
            platform: "this platform",
            reason: "program threads are not supported yet".into(),
        })
    }

    /// A handle other host threads use to interrupt this context.
    fn interrupter(&self) -> Interrupter;
}

/// What an [`Interrupter`] does to wake a running context; each platform
/// provides its own.
pub trait Kick: Send + Sync + std::fmt::Debug {
    /// Makes a running [`Context::switch`] return soon. Called after the
    /// pending flag is set.
    fn kick(&self);
}

/// Makes a context's running or next [`Context::switch`] return
/// [`Event::Interrupted`]. Cheap to clone, usable from any host thread.
#[derive(Clone, Debug)]
pub struct Interrupter {
    pending: Arc<AtomicBool>,
    kick: Arc<dyn Kick>,
}

impl Interrupter {
    /// An interrupter that sets `pending` and then calls `kick`.
    pub fn new(pending: Arc<AtomicBool>, kick: Arc<dyn Kick>) -> Interrupter {
        Interrupter { pending, kick }
    }

    /// Requests an interruption. Never blocks.
    pub fn interrupt(&self) {
        self.pending.store(true, Ordering::SeqCst);
        self.kick.kick();
    }
}

/// Each platform this build has, with whether it works on this host.
pub fn probe_all() -> Vec<(&'static str, Result<(), PlatformError>)> {
    vec![
        ("ptrace", ptrace::probe()),
        ("systrap", systrap::probe()),
        (
            "kvm",
            Err(PlatformError::Unavailable {
                platform: "kvm",
                reason: "not implemented yet in this build; use --platform=ptrace".into(),
            }),
        ),
    ]
}
