//! The kernel object: what every task shares, and starting the first task.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use abi::Errno;
use platform::{MemoryFile, Platform, PlatformError};

use crate::futex::FutexTable;
use crate::loader;
use crate::log::DebugLog;
use crate::mm::MemoryManager;
use crate::task::{Credentials, ProcessTree, Task, TaskHandle, ThreadGroup};
use crate::vfs::{self, FdTable, File, FsContext, Vfs, VfsOptions};

/// The Linux version the sentry declares in `uname(2)`; the syscall table is
/// written against it.
pub const LINUX_RELEASE: &str = "6.1.0";
/// The `uname -v` string.
pub const LINUX_VERSION: &str = "#1 SMP carapace";

/// The `PATH` used to find a command without a slash when the program's
/// environment has none (glibc's default for `execvp`).
const DEFAULT_PATH: &[u8] = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Everything the sandbox process hands the sentry at start.
#[derive(Debug)]
pub struct KernelConfig {
    /// The platform that runs program code.
    pub platform: Arc<dyn Platform>,
    /// The memfd holding all program memory.
    pub memory_file: Arc<MemoryFile>,
    /// The rootfs directory, opened by the sandbox process before it
    /// confined itself.
    pub rootfs: OwnedFd,
    /// The program's stdin, stdout and stderr (`None` where the caller had
    /// that fd closed).
    pub stdio: [Option<OwnedFd>; 3],
    /// The command line; `argv[0]` is looked up in `PATH` if it has no slash.
    pub argv: Vec<Vec<u8>>,
    /// The environment, as `NAME=value` strings.
    pub envp: Vec<Vec<u8>>,
    /// The working directory inside the sandbox.
    pub cwd: Vec<u8>,
    /// The program's credentials.
    pub creds: Credentials,
    /// The sandbox's host name.
    pub hostname: String,
    /// The CPUs the sandbox may use (the caller's affinity), as `sched_getaffinity` reports them.
    pub cpus: Vec<usize>,
    /// Where notes and strace lines go.
    pub log: DebugLog,
    /// The most tasks (processes and threads) the sandbox may hold.
    pub pids_limit: usize,
    /// How the file-system view is built (overlay or read-only, its size).
    pub vfs_options: VfsOptions,
    /// Host directories mounted in the view (`--volume`), in order.
    pub volumes: Vec<vfs::Volume>,
    /// Whether the program's stdin is a terminal: it becomes the sandbox's
    /// controlling terminal (`/dev/tty`).
    pub stdin_is_tty: bool,
    /// The signals ignored and blocked where carapace was started (bit
    /// `signo - 1`): the program starts with them, as `execve` keeps both
    /// (`nohup`, and a shell's background jobs, rely on it).
    pub inherited_signals: InheritedSignals,
}

/// See [`KernelConfig::inherited_signals`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InheritedSignals {
    /// Signals whose action is `SIG_IGN`.
    pub ignored: u64,
    /// The signal mask.
    pub blocked: u64,
}

/// How the program ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` with this code.
    Exited(u8),
    /// Signal `signo` killed it (`core` if the default action dumps core).
    Signaled {
        /// The signal.
        signo: u32,
        /// Whether a core dump would have been written.
        core: bool,
    },
}

impl ExitStatus {
    /// The `wait` status word (`WIFEXITED` or `WIFSIGNALED` encoding).
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(code) => i32::from(code) << 8,
            ExitStatus::Signaled { signo, core } => {
                signo.cast_signed() | if core { 0x80 } else { 0 }
            }
        }
    }

    /// The shell's view: the code, or 128 + the signal.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Exited(code) => code,
            ExitStatus::Signaled { signo, .. } => {
                128u8.saturating_add(u8::try_from(signo).unwrap_or(0))
            }
        }
    }
}

/// Why the program could not be started or run to its end.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The command was not found.
    #[error("{path}: {errno}")]
    NotFound {
        /// The command as given.
        path: String,
        /// Why the lookup failed.
        errno: Errno,
    },
    /// The command was found but cannot be executed.
    #[error("{path}: cannot execute: {errno}")]
    NotExecutable {
        /// The command as given.
        path: String,
        /// Why it cannot run.
        errno: Errno,
    },
    /// The sandbox's file-system view could not be set up.
    #[error("set up the file system view: {0}")]
    Vfs(Errno),
    /// The platform failed.
    #[error("platform: {0}")]
    Platform(#[from] PlatformError),
}

/// State shared by every task of the sandbox.
#[derive(Debug)]
pub struct Kernel {
    /// The platform that runs program code.
    pub platform: Arc<dyn Platform>,
    /// The memfd holding all program memory.
    pub memory_file: Arc<MemoryFile>,
    /// The allocator over the MemoryFile, shared by every address space;
    /// held here so its accounting (the peak) lives as long as the sandbox.
    pub allocator: Arc<crate::mm::MemoryAllocator>,
    /// The file-system view.
    pub vfs: Arc<Vfs>,
    /// The sandbox's host name.
    pub hostname: String,
    /// The CPUs the sandbox may use.
    pub cpus: Vec<usize>,
    /// When the sandbox started (for `sysinfo`'s uptime).
    pub boot_time: Instant,
    /// Notes and strace output.
    pub log: DebugLog,
    /// Futex wait queues.
    pub futexes: FutexTable,
    /// Interval and POSIX timers.
    pub timers: Arc<crate::timer::TimerQueue>,
    /// Processes: parents, children, groups, zombies.
    pub tree: ProcessTree,
    /// The signals queued for each user, which RLIMIT_SIGPENDING bounds.
    pub signal_users: crate::signal::SignalUsers,
    /// The most processes the sandbox may hold (`--pids-limit`).
    pub pids_limit: usize,
    /// Every live task, so a signal to the sandbox can reach them all.
    tasks: Mutex<Vec<Weak<TaskHandle>>>,
}

impl Kernel {
    /// Sets up the sentry and loads the program, ready to run as the first
    /// task on the calling host thread (the platform binds the program's
    /// first thread to it). The kernel is returned so that the sandbox
    /// process can forward signals to it while the task runs.
    ///
    /// # Errors
    /// A [`KernelError`] if the program cannot be found or loaded.
    pub fn start(config: KernelConfig) -> Result<(Arc<Kernel>, Task), KernelError> {
        let KernelConfig {
            platform,
            memory_file,
            rootfs,
            stdio,
            argv,
            envp,
            cwd,
            creds,
            hostname,
            cpus,
            log,
            pids_limit,
            vfs_options,
            volumes,
            stdin_is_tty,
            inherited_signals,
        } = config;
        let allocator = crate::mm::MemoryAllocator::for_file(&memory_file);
        let vfs = Vfs::with_volumes(rootfs, vfs_options, volumes, Arc::clone(&allocator))
            .map_err(KernelError::Vfs)?;
        let kernel = Arc::new(Kernel {
            platform,
            allocator,
            memory_file,
            vfs,
            hostname,
            cpus,
            boot_time: Instant::now(),
            log,
            futexes: FutexTable::default(),
            timers: Arc::default(),
            tree: ProcessTree::default(),
            signal_users: crate::signal::SignalUsers::default(),
            pids_limit,
            tasks: Mutex::new(Vec::new()),
        });
        let weak: std::sync::Weak<Kernel> = Arc::downgrade(&kernel);
        let source: std::sync::Weak<dyn crate::fs::procfs::ProcSource> = weak;
        kernel.vfs.set_proc_source(source);
        let fs = FsContext::new(&kernel.vfs, &cwd);
        let mut fds = FdTable::new();
        for (fd, host) in (0i32..).zip(stdio) {
            if let Some(host) = host {
                let file = File::host_stdio(host).map_err(KernelError::Vfs)?;
                if fd == 0 && stdin_is_tty {
                    // Init's session (1) has the host terminal.
                    kernel.vfs.set_controlling_tty(
                        1,
                        Some(crate::fs::pty::ControllingTty::Host(Arc::clone(&file))),
                    );
                }
                // The terminal if there is one, else standard error.
                if (fd == 0 && stdin_is_tty) || (fd == 2 && kernel.vfs.console().is_none()) {
                    kernel.vfs.set_console(Arc::clone(&file));
                }
                fds.install_at(fd, file, false).map_err(KernelError::Vfs)?;
            }
        }
        let command = argv.first().cloned().unwrap_or_default();
        let (exe, exe_path) = find_command(&fs, &creds, &command, &envp)?;

        let aspace = kernel.platform.new_address_space()?;
        let context = kernel.platform.new_context()?;
        let mm = Arc::new(MemoryManager::new(
            Arc::clone(&kernel.memory_file),
            aspace,
            kernel.platform.min_user_address(),
            kernel.platform.max_user_address(),
        ));
        // A `#!` script runs its interpreter, as it would through execve.
        let program = crate::task::interpret(&fs, &creds, exe, &exe_path, argv, false)
            .map_err(|errno| exec_error(&command, errno))?;
        let image = loader::load(
            &mm,
            &fs,
            &creds,
            &program.exe,
            &exe_path,
            &program.argv,
            &envp,
        )
        .map_err(|errno| exec_error(&command, errno))?;
        // SIGKILL and SIGSTOP can be neither ignored nor blocked.
        let unstoppable =
            abi::signal::sigmask(abi::signal::SIGKILL) | abi::signal::sigmask(abi::signal::SIGSTOP);
        let thread_group = ThreadGroup::new_init(
            program.exe_path,
            program.exe,
            kernel.signal_users.get(creds.uid),
            inherited_signals.ignored & !unstoppable,
        );
        let task = Task::new(
            Arc::clone(&kernel),
            thread_group,
            mm,
            Arc::new(Mutex::new(fs)),
            Arc::new(Mutex::new(fds)),
            creds,
            context,
            image.regs,
        );
        task.handle()
            .set_signal_mask(inherited_signals.blocked & !unstoppable);
        kernel.register(task.handle());
        kernel.tree.add_init(Arc::clone(&task.thread_group));
        Ok((kernel, task))
    }

    /// Kills every task with `signo`: the sandbox's end after init died of a
    /// signal from outside, even for tasks blocked in host waits.
    pub fn kill_all(&self, signo: u32) {
        for task in self.live_tasks() {
            task.kill(signo);
        }
    }

    /// Delivers a signal from outside the sandbox (the terminal's Ctrl-C,
    /// a `kill` of carapace) as the kernel does for a terminal: to the
    /// foreground process group, init's. Returns whether init will die of
    /// it (its action is the default and the default is fatal), so that the
    /// caller can make sure the sandbox ends even if a task is stuck in a
    /// host wait.
    pub fn signal_from_outside(&self, signo: u32) -> bool {
        let fatal_to_init = self.tree.group(1).is_none_or(|init| {
            init.action(signo).handler == abi::signal::SIG_DFL
                && matches!(
                    crate::signal::default_action(signo),
                    crate::signal::DefaultAction::Terminate | crate::signal::DefaultAction::Core
                )
        });
        let pgid = self.tree.pgid(1).unwrap_or(1);
        for group in &self.tree.process_group(pgid) {
            // A signal from outside comes from the kernel, like a
            // terminal's; standard ones always find queue room.
            let _ = crate::signal::send(group, crate::signal::info(signo, abi::signal::SI_KERNEL));
        }
        fatal_to_init
    }

    /// Ends the sandbox after a failure of the sentry's own machinery (a
    /// platform error on a task thread other than init's): says why on
    /// stderr and exits with carapace's own error status.
    pub fn fatal(&self, why: &str) -> ! {
        self.note(why);
        eprintln!("carapace: {why}");
        #[allow(clippy::exit)]
        std::process::exit(125)
    }

    /// Notes `line` in the debug log.
    pub fn note(&self, line: &str) {
        self.log.note(line);
    }

    /// Records a new task, so a signal to the sandbox reaches it.
    pub fn register(&self, handle: Arc<TaskHandle>) {
        let mut tasks = self
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tasks.retain(|t| t.strong_count() > 0);
        tasks.push(Arc::downgrade(&handle));
    }

    fn live_tasks(&self) -> Vec<Arc<TaskHandle>> {
        let tasks = self
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tasks.iter().filter_map(Weak::upgrade).collect()
    }
}

/// Why `command` cannot start, as a shell tells it: not found (127) for
/// what names no file (the command's, its `#!` interpreter's or its ELF
/// interpreter's), else not executable (126).
fn exec_error(command: &[u8], errno: Errno) -> KernelError {
    match errno {
        Errno::ENOENT | Errno::ENOTDIR | Errno::ENAMETOOLONG | Errno::ELOOP => {
            KernelError::NotFound {
                path: lossy(command),
                errno,
            }
        }
        errno => KernelError::NotExecutable {
            path: lossy(command),
            errno,
        },
    }
}

/// Finds `command` as `execvp(3)` does: as a path if it has a slash, else in
/// each `PATH` entry in turn. EACCES from an entry is remembered and reported
/// if no later entry works.
fn find_command(
    fs: &FsContext,
    creds: &Credentials,
    command: &[u8],
    envp: &[Vec<u8>],
) -> Result<(Arc<File>, Vec<u8>), KernelError> {
    let name = lossy(command);
    if command.is_empty() {
        return Err(KernelError::NotFound {
            path: name,
            errno: Errno::ENOENT,
        });
    }
    let classify = |errno| exec_error(command, errno);
    if command.contains(&b'/') {
        return vfs::open_executable(fs, creds, command)
            .map(|f| (f, command.to_vec()))
            .map_err(classify);
    }
    let path = envp
        .iter()
        .find_map(|e| e.strip_prefix(b"PATH="))
        .unwrap_or(DEFAULT_PATH);
    let mut denied = None;
    for dir in path.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        let mut candidate = dir.to_vec();
        candidate.push(b'/');
        candidate.extend_from_slice(command);
        match vfs::open_executable(fs, creds, &candidate) {
            Ok(file) => return Ok((file, candidate)),
            Err(Errno::EACCES) => denied = Some(Errno::EACCES),
            Err(_) => {}
        }
    }
    Err(match denied {
        Some(errno) => KernelError::NotExecutable { path: name, errno },
        None => KernelError::NotFound {
            path: name,
            errno: Errno::ENOENT,
        },
    })
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl crate::fs::procfs::ProcSource for Kernel {
    fn hostname(&self) -> String {
        self.hostname.clone()
    }

    fn cpus(&self) -> Vec<usize> {
        self.cpus.clone()
    }

    fn uptime(&self) -> std::time::Duration {
        self.boot_time.elapsed()
    }

    fn caller(&self) -> Option<(i32, i32)> {
        let (group, handle) = crate::task::current_process()?;
        let tid = crate::task::tid_of(&group, &handle)?;
        Some((group.pid, tid))
    }

    fn pids(&self) -> Vec<i32> {
        let mut pids = self.vfs.task_views().pids();
        pids.retain(|&pid| self.tree.group(pid).is_some());
        pids
    }

    fn process(&self, pid: i32) -> Option<crate::task::ProcessView> {
        self.tree.process_view(pid, self.vfs.task_views())
    }
}
