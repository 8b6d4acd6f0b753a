//! The sandbox's lifecycle: from the CLI's checked configuration to a
//! confined sandbox process running the sentry, and back to an exit status.
//!
//! [`run`] starts the sandbox process in new namespaces and waits for it,
//! forwarding terminal and termination signals. The sandbox process then
//! follows the boot sequence of ARCHITECTURE.md §3.1, in this order:
//! 1. it is PID 1 of new user (when unprivileged), mount, PID, IPC, UTS and
//!    network namespaces, so the kernel kills every stub when it dies;
//! 2. it opens the rootfs (a read-only clone of the host mount tree), each
//!    `--volume` (a clone of the host mount tree there, read-only for `:ro`)
//!    and the stdio fds;
//! 3. it creates the MemoryFile;
//! 4. it clones the stub master while still single-threaded;
//! 5. it `pivot_root`s into an empty directory, sets `no_new_privs` and
//!    drops capabilities;
//! 6. it installs its own seccomp allowlist (turned on by the hardening work);
//! 7. it loads the program and runs the first task.

mod boot;
mod sys;

use std::path::PathBuf;

pub use boot::{RunError, run};

/// Which platform runs program code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlatformKind {
    /// The ptrace platform.
    Ptrace,
    /// The systrap platform: seccomp traps handled in the stub.
    Systrap,
}

/// Everything the sandbox needs, checked by the CLI.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The platform.
    pub platform: PlatformKind,
    /// The host directory that is the sandbox's `/`.
    pub rootfs: PathBuf,
    /// The command line.
    pub argv: Vec<Vec<u8>>,
    /// The environment.
    pub envp: Vec<Vec<u8>>,
    /// The working directory, as a path inside the sandbox.
    pub cwd: Vec<u8>,
    /// Write notes and strace output here.
    pub debug_log: Option<PathBuf>,
    /// Print notes to stderr (when there is no debug log).
    pub debug: bool,
    /// Trace syscalls.
    pub strace: bool,
    /// The most tasks (processes and threads) the sandbox may hold.
    pub pids_limit: usize,
    /// Writes land in an in-memory overlay (true) or get EROFS (false).
    pub overlay: bool,
    /// The most bytes the sandbox's in-memory file systems may hold.
    pub overlay_size: Option<u64>,
    /// Host directories to mount in the sandbox (`--volume`), in order.
    pub volumes: Vec<VolumeSpec>,
}

/// One `--volume HOST:GUEST[:ro]`, checked by the CLI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeSpec {
    /// The host directory (absolute, canonical).
    pub host: PathBuf,
    /// Where it appears in the sandbox: an absolute, normalized path, not `/`.
    pub guest: Vec<u8>,
    /// Writes get `EROFS` instead of reaching the host.
    pub read_only: bool,
}
