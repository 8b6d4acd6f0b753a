//! Starting the sandbox process and its boot sequence.

use std::ffi::CString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use kernel::{DebugLog, ExitStatus, Kernel, KernelConfig, KernelError};
use platform::ptrace::PtracePlatform;
use platform::systrap::SystrapPlatform;
use platform::{MemoryFile, Platform, PlatformError};

use crate::sys;
use crate::{PlatformKind, SandboxConfig};

/// The MemoryFile's size: the most program memory a sandbox can hold. Sparse,
/// so only what programs touch costs anything.
const MEMORY_FILE_SIZE: u64 = 1 << 40;

/// Signals carapace passes on to the sandbox, and the sandbox to its program.
const FORWARDED_SIGNALS: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

/// How long a killed sandbox's tasks get to notice before the sandbox
/// process ends on their behalf.
const KILL_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Where the empty new root is mounted before `pivot_root`; the first that
/// exists is used. It is only ever seen inside the sandbox's mount namespace.
const PIVOT_DIRS: [&str; 3] = ["/tmp", "/mnt", "/dev"];

/// Exit status for carapace's own failures (`env`'s and runc's convention).
const EXIT_CARAPACE_ERROR: u8 = 125;
/// Exit status when the command was found but cannot run.
const EXIT_NOT_EXECUTABLE: u8 = 126;
/// Exit status when the command was not found.
const EXIT_NOT_FOUND: u8 = 127;

/// Why the sandbox could not be started or waited for.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The sandbox process could not be created in its namespaces.
    #[error(
        "create the sandbox's namespaces: {0}; user namespaces may be disabled on this host \
         (check sysctl user.max_user_namespaces), or run carapace as root"
    )]
    Namespaces(std::io::Error),
    /// Setting up the sandbox's user namespace failed.
    #[error("map uid and gid into the sandbox's user namespace: {0}")]
    IdMap(std::io::Error),
    /// Waiting for the sandbox failed.
    #[error("wait for the sandbox process: {0}")]
    Wait(std::io::Error),
}

/// Why the sandbox process failed before the program ended.
#[derive(Debug, thiserror::Error)]
enum BootError {
    #[error("make the mount namespace private: {0}")]
    PrivateMounts(std::io::Error),
    #[error("open rootfs {path}: {source}")]
    Rootfs {
        path: String,
        source: std::io::Error,
    },
    #[error("open volume {path}: {source}")]
    Volume {
        path: String,
        source: std::io::Error,
    },
    #[error("create the memory file: {0}")]
    MemoryFile(#[from] platform::MemoryFileError),
    #[error("{0}")]
    Platform(#[from] PlatformError),
    #[error("confine the sandbox process: {0}")]
    Confine(std::io::Error),
    #[error("open debug log {path}: {source}")]
    DebugLog {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Kernel(#[from] KernelError),
}

impl BootError {
    fn exit_code(&self) -> u8 {
        match self {
            BootError::Kernel(KernelError::NotFound { .. }) => EXIT_NOT_FOUND,
            BootError::Kernel(KernelError::NotExecutable { .. }) => EXIT_NOT_EXECUTABLE,
            _ => EXIT_CARAPACE_ERROR,
        }
    }
}

/// Runs the sandbox to its end and returns carapace's exit status: the
/// program's, 128 + N if signal N killed it, or 125–127 for carapace's own
/// failures (already reported on stderr by the sandbox process).
///
/// Must be called while the process is single-threaded.
///
/// # Errors
/// A [`RunError`] if the sandbox process could not be started or waited for.
pub fn run(config: SandboxConfig) -> Result<u8, RunError> {
    let inherited_signals = sys::inherited_signals();
    let (uid, gid, groups) = sys::identity();
    let capabilities = sys::capabilities();
    let rootless = uid != 0;
    let hostname = sys::hostname();
    let cpus = sys::allowed_cpus();
    let (sync_read, sync_write) = sys::pipe().map_err(RunError::Namespaces)?;
    let mut flags = abi::sched::CLONE_NEWNS
        | abi::sched::CLONE_NEWPID
        | abi::sched::CLONE_NEWIPC
        | abi::sched::CLONE_NEWUTS
        | abi::sched::CLONE_NEWNET;
    if rootless {
        flags |= abi::sched::CLONE_NEWUSER;
    }
    // SAFETY: the CLI calls `run` before it starts any thread.
    let pid = unsafe { sys::fork_into_namespaces(flags) }.map_err(RunError::Namespaces)?;
    if pid == 0 {
        drop(sync_write);
        let identity = Identity {
            uid,
            gid,
            groups,
            capabilities,
            hostname,
            cpus,
            inherited_signals,
        };
        let code = sandbox_main(&config, sync_read, identity);
        // The sandbox process is a copy of the CLI: it must never return
        // into the CLI's code.
        #[allow(clippy::exit)]
        std::process::exit(i32::from(code));
    }
    drop(sync_read);
    if rootless {
        let maps = [
            (format!("/proc/{pid}/setgroups"), "deny".to_string()),
            (format!("/proc/{pid}/uid_map"), format!("{uid} {uid} 1")),
            (format!("/proc/{pid}/gid_map"), format!("{gid} {gid} 1")),
        ];
        for (path, content) in maps {
            if let Err(err) = sys::write_file(&path, &content) {
                sys::kill(pid, libc::SIGKILL);
                let _ = sys::wait_for(pid);
                return Err(RunError::IdMap(err));
            }
        }
    }
    // One byte lets the sandbox process go on.
    if let Err(err) = File::from(sync_write).write_all(&[1]) {
        sys::kill(pid, libc::SIGKILL);
        let _ = sys::wait_for(pid);
        return Err(RunError::IdMap(err));
    }
    forward_signals(pid);
    let status = sys::wait_for(pid).map_err(RunError::Wait)?;
    Ok(if libc::WIFEXITED(status) {
        u8::try_from(libc::WEXITSTATUS(status)).unwrap_or(EXIT_CARAPACE_ERROR)
    } else {
        128u8.saturating_add(u8::try_from(libc::WTERMSIG(status)).unwrap_or(0))
    })
}

/// Passes SIGINT, SIGTERM, SIGHUP and SIGQUIT that carapace gets on to the
/// sandbox process.
fn forward_signals(pid: i32) {
    if sys::catch_and_block(&FORWARDED_SIGNALS).is_err() {
        return;
    }
    std::thread::spawn(move || {
        loop {
            let signo = sys::wait_for_signal(&FORWARDED_SIGNALS);
            sys::kill(pid, signo);
        }
    });
}

/// Who the program runs as, and what it sees of the host.
struct Identity {
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
    /// The caller's (effective, permitted, bounding) capability sets.
    capabilities: (u64, u64, u64),
    hostname: String,
    cpus: Vec<usize>,
    /// The signals ignored and blocked where carapace was started.
    inherited_signals: kernel::InheritedSignals,
}

/// The sandbox process: boots, runs the program and returns the exit status.
fn sandbox_main(config: &SandboxConfig, sync: OwnedFd, identity: Identity) -> u8 {
    if let Err(err) = sys::die_with_parent() {
        eprintln!("carapace: set the sandbox's parent-death signal: {err}");
        return EXIT_CARAPACE_ERROR;
    }
    // Wait until the parent has written our uid/gid maps. It sends one byte
    // when done; end of file without it means it died, and we must not run
    // unsupervised.
    let mut go = [0u8; 1];
    if !matches!(File::from(sync).read(&mut go), Ok(1)) {
        return EXIT_CARAPACE_ERROR;
    }
    match boot(config, identity) {
        Ok(status) => status.code(),
        Err(err) => {
            eprintln!("carapace: {err}");
            err.exit_code()
        }
    }
}

fn boot(config: &SandboxConfig, identity: Identity) -> Result<ExitStatus, BootError> {
    // Step 1 is done: we are PID 1 of fresh namespaces. Nothing we mount may
    // propagate back to the host.
    sys::mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE, None)
        .map_err(BootError::PrivateMounts)?;

    // Step 2: what the sandbox needs from the host. Every host fd counts
    // against the sentry's own fd limit: raise it as far as the host lets
    // us (a failure leaves the limit as it was, which still works).
    let _ = sys::raise_fd_limit();
    let rootfs = open_rootfs(config)?;
    let volumes = open_volumes(config)?;
    let stdio = [0, 1, 2].map(sys::dup_if_open);
    let log = open_log(config)?;
    // Only read at exit, for the memory report; the host's /proc is
    // unreachable after pivot_root.
    let own_status = File::open("/proc/self/status").ok();

    // Step 3: the MemoryFile.
    let memory_file = Arc::new(MemoryFile::new(MEMORY_FILE_SIZE)?);

    // Step 4: the platform, whose stub master is forked now, while this
    // process is single-threaded and still unconfined.
    let platform: Arc<dyn Platform> = match config.platform {
        PlatformKind::Ptrace => Arc::new(PtracePlatform::new(&memory_file)?),
        PlatformKind::Systrap => Arc::new(SystrapPlatform::new(&memory_file)?),
    };

    // Step 5: confine ourselves.
    let pivot_dir = PIVOT_DIRS
        .iter()
        .find(|dir| std::path::Path::new(dir).is_dir())
        .ok_or_else(|| BootError::Confine(std::io::Error::from_raw_os_error(libc::ENOENT)))?;
    sys::mount(
        Some("carapace"),
        pivot_dir,
        Some("tmpfs"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        Some("size=4k,mode=0555"),
    )
    .map_err(BootError::Confine)?;
    sys::pivot_into(pivot_dir).map_err(BootError::Confine)?;
    // The sentry checks every access against the sandbox's own credentials;
    // CAP_DAC_OVERRIDE (when the caller has it) only lets it serve its root
    // the rootfs as the caller's root sees it, directories private to other
    // users included. It cannot write to the read-only rootfs, and it does
    // not open file handles (that is CAP_DAC_READ_SEARCH, dropped).
    sys::drop_privileges(1 << abi::capability::CAP_DAC_OVERRIDE).map_err(BootError::Confine)?;

    // Step 6: the sentry's own seccomp allowlist is switched on by the
    // hardening work; this is its place in the sequence.

    // Step 7: load the program and run it on this thread.
    sys::catch_and_block(&FORWARDED_SIGNALS).map_err(BootError::Confine)?;
    let (kernel, task) = Kernel::start(KernelConfig {
        platform,
        memory_file,
        rootfs,
        stdio,
        argv: config.argv.clone(),
        envp: config.envp.clone(),
        cwd: config.cwd.clone(),
        creds: kernel::task::Credentials::new(identity.uid, identity.gid, identity.groups)
            .with_capabilities(identity.capabilities),
        hostname: identity.hostname,
        cpus: identity.cpus,
        log,
        pids_limit: config.pids_limit,
        vfs_options: vfs_options(config),
        volumes,
        stdin_is_tty: sys::is_terminal(0),
        inherited_signals: identity.inherited_signals,
    })?;
    let signalled = Arc::clone(&kernel);
    std::thread::spawn(move || {
        loop {
            let signo = sys::wait_for_signal(&FORWARDED_SIGNALS);
            if !signalled.signal_from_outside(signo.unsigned_abs()) {
                // The program handles it (Python's KeyboardInterrupt, say).
                continue;
            }
            // Init dies of it. A task blocked in a host wait that cannot be
            // interrupted yet would keep the sandbox alive; init's death
            // ends the whole sandbox, as it ends a PID namespace.
            std::thread::sleep(KILL_GRACE);
            signalled.kill_all(signo.unsigned_abs());
            std::thread::sleep(KILL_GRACE);
            #[allow(clippy::exit)]
            std::process::exit(i32::from(
                128u8.saturating_add(u8::try_from(signo).unwrap_or(0)),
            ));
        }
    });
    let status = kernel::task::run_init(task)?;
    if let Some(status_file) = &own_status {
        kernel.note(&memory_line(&kernel, status_file));
    }
    Ok(status)
}

/// The sandbox's memory, for the benchmark harness: the most bytes the
/// MemoryFile ever held at once, and the sentry's own resident memory at exit
/// without its mapping of the MemoryFile (RssAnon + RssFile; the mapping is
/// RssShmem). Summing RSS over processes would count the MemoryFile twice.
fn memory_line(kernel: &Kernel, own_status: &File) -> String {
    let file = kernel.allocator.peak();
    let mut status = vec![0u8; 8192];
    let len = own_status.read_at(&mut status, 0).unwrap_or(0);
    let kib = |field: &str| -> u64 {
        String::from_utf8_lossy(&status[..len])
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    let sentry = (kib("RssAnon:") + kib("RssFile:")) * 1024;
    format!("memory: file={file} sentry={sentry}")
}

/// Opens the rootfs as a read-only, detached copy of the host's mount tree
/// at that path, so that submounts stay visible after `pivot_root` and even
/// a compromised sentry cannot write through it.
fn open_rootfs(config: &SandboxConfig) -> Result<OwnedFd, BootError> {
    let path = config.rootfs.display().to_string();
    let c_path =
        CString::new(config.rootfs.as_os_str().as_bytes()).map_err(|_| BootError::Rootfs {
            path: path.clone(),
            source: std::io::Error::from_raw_os_error(libc::EINVAL),
        })?;
    // Check it is a directory we can reach before cloning anything.
    drop(
        sys::open_dir_path(&c_path).map_err(|source| BootError::Rootfs {
            path: path.clone(),
            source,
        })?,
    );
    let tree =
        sys::clone_mount_tree(&c_path).map_err(|source| BootError::Rootfs { path, source })?;
    // Defense in depth only: the sentry refuses writes itself.
    let _ = sys::make_tree_read_only(tree.as_raw_fd());
    Ok(tree)
}

/// Opens each `--volume` host directory as a detached copy of the host's
/// mount tree there (so the sentry reaches it only through this fd after
/// `pivot_root`), `nosuid` and `nodev`, and read-only for `:ro` ones.
fn open_volumes(config: &SandboxConfig) -> Result<Vec<kernel::vfs::Volume>, BootError> {
    config
        .volumes
        .iter()
        .map(|v| {
            let path = v.host.display().to_string();
            let error = |source| BootError::Volume {
                path: path.clone(),
                source,
            };
            let c_path = CString::new(v.host.as_os_str().as_bytes())
                .map_err(|_| error(std::io::Error::from_raw_os_error(libc::EINVAL)))?;
            drop(sys::open_dir_path(&c_path).map_err(error)?);
            let tree = sys::clone_mount_tree(&c_path).map_err(error)?;
            // Defense in depth only: the sentry refuses writes to `:ro`
            // volumes and never opens device nodes itself.
            let _ = sys::set_tree_attrs(tree.as_raw_fd(), v.read_only);
            Ok(kernel::vfs::Volume {
                fd: tree,
                guest: v.guest.clone(),
                read_only: v.read_only,
            })
        })
        .collect()
}

fn open_log(config: &SandboxConfig) -> Result<DebugLog, BootError> {
    let file = match &config.debug_log {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| BootError::DebugLog {
                    path: path.display().to_string(),
                    source,
                })?,
        ),
        None => None,
    };
    Ok(DebugLog::new(file, config.debug, config.strace))
}

fn vfs_options(config: &SandboxConfig) -> kernel::vfs::VfsOptions {
    let defaults = kernel::vfs::VfsOptions::default();
    kernel::vfs::VfsOptions {
        overlay: config.overlay,
        memory_limit: config.overlay_size.unwrap_or(defaults.memory_limit),
    }
}
