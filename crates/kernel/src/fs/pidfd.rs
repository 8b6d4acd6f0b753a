//! pidfd: a file that names one process, or with `PIDFD_THREAD` one
//! thread (`kernel/pid.c`, `fs/pidfs.c`). `pidfd_open(2)` and
//! `CLONE_PIDFD` make them; `pidfd_send_signal(2)`, `pidfd_getfd(2)` and
//! `waitid(P_PIDFD)` act through them; `poll` reports the exit, and the
//! `PIDFD_GET_INFO` ioctl the ids, credentials and exit status.
//!
//! Like Linux's `struct pid`, a pidfd names the process it was made for,
//! never a later one that gets its pid: it holds the [`ThreadGroup`] and
//! asks the process tree whether that group is still there. A thread
//! pidfd names its thread by tid within that group. Pollers queue on the
//! group, which wakes them when a thread ends, the process exits and when
//! it is reaped.

use std::sync::Arc;

use abi::Errno;
use abi::fcntl::{O_EXCL, O_RDWR};
use abi::poll::{POLLHUP, POLLIN, POLLRDNORM};
use abi::stat::Stat;
use zerocopy::{Immutable, IntoBytes};

use crate::kernel::Kernel;
use crate::mm::MemoryManager;
use crate::task::{ProcessState, ProcessTree, TaskHandle, ThreadGroup};
use crate::vfs::{File, FileOps};

/// `_IOC_NR`, `_IOC_TYPE` and `_IOC_SIZE` of an ioctl command.
fn ioc_nr(cmd: u32) -> u32 {
    cmd & 0xff
}

fn ioc_type(cmd: u32) -> u32 {
    (cmd >> 8) & 0xff
}

fn ioc_size(cmd: u32) -> usize {
    ((cmd >> 16) & 0x3fff) as usize
}

/// `PIDFD_THREAD` (`O_EXCL`): the pidfd names a thread, not its process.
pub const PIDFD_THREAD: u32 = O_EXCL;

/// `PIDFD_GET_INFO` is `_IOWR(PIDFS_IOCTL_MAGIC, 11, struct pidfd_info)`;
/// the size in the command is the caller's version of the struct.
const PIDFS_IOCTL_MAGIC: u32 = 0xff;
const PIDFD_GET_INFO_NR: u32 = 11;
/// `PIDFD_INFO_SIZE_VER0`: smaller is no `PIDFD_GET_INFO` (ENOTTY).
const PIDFD_INFO_SIZE_VER0: usize = 64;
/// `pidfd_info.mask` bits: ids and credentials (always given), and the
/// exit status (on request, once the task is reaped).
const PIDFD_INFO_PID: u64 = 1 << 0;
const PIDFD_INFO_CREDS: u64 = 1 << 1;
const PIDFD_INFO_EXIT: u64 = 1 << 3;

/// `struct pidfd_info` (`include/uapi/linux/pidfd.h`, Linux 6.16).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, IntoBytes, Immutable)]
struct PidfdInfo {
    mask: u64,
    cgroupid: u64,
    pid: u32,
    tgid: u32,
    ppid: u32,
    ruid: u32,
    rgid: u32,
    euid: u32,
    egid: u32,
    suid: u32,
    sgid: u32,
    fsuid: u32,
    fsgid: u32,
    exit_code: i32,
    coredump_mask: u32,
    spare: u32,
    supported_mask: u64,
}

/// An open pidfd.
#[derive(Debug)]
pub struct PidFd {
    group: Arc<ThreadGroup>,
    /// The tid it names: the group's pid, or a thread's with `PIDFD_THREAD`.
    tid: i32,
    /// `PIDFD_THREAD`: it names the thread `tid`, whose end it reports.
    thread: bool,
}

/// A new pidfd for thread `tid` of `group` (`thread`) or for `group`
/// itself (`tid` is then its pid), with status flags `flags`
/// (`O_NONBLOCK`).
pub fn new_pidfd(group: Arc<ThreadGroup>, tid: i32, thread: bool, flags: u32) -> Arc<File> {
    let thread_flag = if thread { PIDFD_THREAD } else { 0 };
    File::new(
        Box::new(PidFd::new(group, tid, thread)),
        O_RDWR | flags | thread_flag,
        None,
    )
}

impl PidFd {
    /// What a pidfd for thread `tid` of `group` (`thread`) or for `group`
    /// (`tid` its pid) holds, without a file: `PIDFD_SELF_*`.
    pub fn new(group: Arc<ThreadGroup>, tid: i32, thread: bool) -> PidFd {
        PidFd { group, tid, thread }
    }

    /// The pidfd `file` is, or EBADF (`pidfd_get_pid`).
    pub fn of(file: &File) -> Result<&PidFd, Errno> {
        file.ops()
            .as_any()
            .and_then(|any| any.downcast_ref::<PidFd>())
            .ok_or(Errno::EBADF)
    }

    /// The process it names (a thread pidfd's thread's process).
    pub fn group(&self) -> &Arc<ThreadGroup> {
        &self.group
    }

    /// The id it was made for: a process's pid or a thread's tid.
    pub fn tid(&self) -> i32 {
        self.tid
    }

    /// Whether it names a thread (`PIDFD_THREAD`).
    pub fn is_thread(&self) -> bool {
        self.thread
    }

    /// The live thread with its id (a process's leader for a process pidfd).
    pub fn thread_handle(&self) -> Option<Arc<TaskHandle>> {
        self.group.thread(self.tid)
    }

    /// Where the task it names is in its life. A process exits when its
    /// last thread does; a thread that leads no process is gone as soon as
    /// it ends, while a leader's thread stays a zombie with its process.
    pub fn state(&self, tree: &ProcessTree) -> ProcessState {
        let process = tree.process_state(&self.group);
        if !self.thread || process == ProcessState::Reaped || self.thread_handle().is_some() {
            return process;
        }
        if self.tid == self.group.pid {
            ProcessState::Exited
        } else {
            ProcessState::Reaped
        }
    }

    fn current_state(&self) -> ProcessState {
        crate::task::current_kernel().map_or(ProcessState::Running, |k| self.state(&k.tree))
    }

    /// `PIDFD_GET_INFO` (`pidfd_info`): the ids and credentials of a task
    /// that has not been reaped, and on request the exit status of a
    /// process that has. No cgroup ids (the sandbox has no cgroups) and
    /// no core-dump information.
    fn info(&self, kernel: &Kernel, asked: u64) -> Result<PidfdInfo, Errno> {
        let mut info = PidfdInfo::default();
        let state = self.state(&kernel.tree);
        if state == ProcessState::Reaped {
            // A process's status stays with it; a thread's is not kept.
            return match self.group.group_exit_status() {
                Some(status) if asked & PIDFD_INFO_EXIT != 0 && self.tid == self.group.pid => {
                    info.mask = PIDFD_INFO_EXIT;
                    info.exit_code = status.wait_status();
                    Ok(info)
                }
                _ => Err(Errno::ESRCH),
            };
        }
        let pid = self.group.pid;
        let creds = match kernel.vfs.task_views().get(self.tid) {
            Some(view) => view.creds.clone(),
            None => kernel.tree.zombie(pid).ok_or(Errno::ESRCH)?.1.creds.clone(),
        };
        let id = |n: i32| n.unsigned_abs();
        info.mask = PIDFD_INFO_PID | PIDFD_INFO_CREDS;
        (info.pid, info.tgid, info.ppid) = (id(self.tid), id(pid), id(kernel.tree.ppid(pid)));
        (info.ruid, info.euid, info.suid, info.fsuid) =
            (creds.uid, creds.euid, creds.suid, creds.fsuid);
        (info.rgid, info.egid, info.sgid, info.fsgid) =
            (creds.gid, creds.egid, creds.sgid, creds.fsgid);
        Ok(info)
    }
}

impl FileOps for PidFd {
    fn positioned(&self) -> bool {
        false
    }

    fn stat(&self) -> Result<Stat, Errno> {
        // pidfs gives every struct pid an inode of its own: two pidfds of
        // one process compare equal, a thread's differs from its process's.
        let ino = (self.group.serial << 23) | u64::from(self.tid.unsigned_abs());
        Ok(Stat {
            st_dev: super::ANON_INODE_DEV,
            st_ino: ino,
            st_nlink: 1,
            st_mode: 0o700,
            st_blksize: 4096,
            ..Stat::default()
        })
    }

    /// Readable once the process (or thread) has exited; hung up too once
    /// it is reaped (`pidfd_poll`).
    fn poll_events(&self, _file: &File) -> u32 {
        match self.current_state() {
            ProcessState::Running => 0,
            ProcessState::Exited => POLLIN | POLLRDNORM,
            ProcessState::Reaped => POLLIN | POLLRDNORM | POLLHUP,
        }
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        self.group.exit_waiters.add(waiter);
        true
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        self.group.exit_waiters.remove(waiter);
    }

    fn ioctl(&self, _file: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        let size = ioc_size(cmd);
        if ioc_type(cmd) != PIDFS_IOCTL_MAGIC
            || ioc_nr(cmd) != PIDFD_GET_INFO_NR
            || size < PIDFD_INFO_SIZE_VER0
        {
            return Err(Errno::ENOTTY);
        }
        if arg == 0 {
            return Err(Errno::EINVAL);
        }
        let asked: u64 = mm.read_obj(arg)?;
        let kernel = crate::task::current_kernel().ok_or(Errno::ESRCH)?;
        let info = self.info(&kernel, asked)?;
        // The caller's version of the struct: a shorter one gets what
        // fits, a longer one zeros after (copy_struct_to_user).
        let mut out = vec![0u8; size];
        let known = size.min(size_of::<PidfdInfo>());
        out[..known].copy_from_slice(&info.as_bytes()[..known]);
        mm.copy_out(arg, &out)?;
        Ok(0)
    }

    fn anon_name(&self) -> Option<&'static str> {
        Some("pidfd")
    }

    /// `Pid:` and `NSpid:` (the sandbox has one pid namespace), -1 once
    /// the task is reaped (`pidfd_show_fdinfo`).
    fn show_fdinfo(&self) -> String {
        let pid = match self.current_state() {
            ProcessState::Reaped => -1,
            _ => self.tid,
        };
        format!("Pid:\t{pid}\nNSpid:\t{pid}\n")
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
