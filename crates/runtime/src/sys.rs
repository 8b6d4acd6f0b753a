//! Host calls of the sandbox's set-up: namespaces, mounts, capabilities and
//! signals. All of this crate's `unsafe` is here.

#![allow(unsafe_code)]

use abi::capability::{CapUserData, CapUserHeader, LINUX_CAPABILITY_VERSION_3};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Turns a "-1 and errno" result into a `Result`.
fn cvt(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cstring(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `clone(flags | SIGCHLD)` without a new stack, like `fork`: returns 0 in
/// the child and its pid in the parent.
///
/// # Safety
/// The calling process must be single-threaded, since the child is a copy
/// that continues running arbitrary Rust code.
pub(crate) unsafe fn fork_into_namespaces(flags: u64) -> io::Result<i32> {
    let flags = flags | libc::SIGCHLD as u64;
    // SAFETY: with a null stack, clone behaves like fork; the caller
    // guarantees there are no other threads whose state would be lost.
    let pid = cvt(unsafe { libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0) })?;
    i32::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `pipe2(O_CLOEXEC)`: (read end, write end).
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two fds to `fds`.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }.into())?;
    Ok((owned(fds[0]), owned(fds[1])))
}

/// Takes ownership of a fd a host call just returned.
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: callers pass only fresh fds that nobody else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Waits for `pid` to end; returns the raw wait status.
pub(crate) fn wait_for(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waitpid writes one int to `status`.
        if unsafe { libc::waitpid(pid, &mut status, 0) } >= 0 {
            return Ok(status);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// `kill(pid, signo)`, ignoring failure (the target may be gone).
pub(crate) fn kill(pid: i32, signo: i32) {
    // SAFETY: kill takes no pointers.
    unsafe { libc::kill(pid, signo) };
}

/// The calling process's uid, gid and supplementary groups.
pub(crate) fn identity() -> (u32, u32, Vec<u32>) {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    // SAFETY: getgid cannot fail.
    let gid = unsafe { libc::getgid() };
    // SAFETY: a zero-length query only returns the count.
    let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    let mut groups = vec![0; usize::try_from(count).unwrap_or(0)];
    // SAFETY: getgroups writes at most `count` gids to the buffer of that size.
    let n = unsafe { libc::getgroups(count, groups.as_mut_ptr()) };
    groups.truncate(usize::try_from(n).unwrap_or(0));
    (uid, gid, groups)
}

/// The capability sets this process holds on the host: (effective,
/// permitted, bounding). The sandbox's first task starts with the same, so
/// root in the sandbox can do what the caller could, and no more.
pub(crate) fn capabilities() -> (u64, u64, u64) {
    let mut header = CapUserHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapUserData::default(); 2];
    // SAFETY: capget writes one header and two data structs, both ours.
    let ok = unsafe { libc::syscall(libc::SYS_capget, &raw mut header, data.as_mut_ptr()) } == 0;
    let join = |low: u32, high: u32| u64::from(low) | (u64::from(high) << 32);
    let (effective, permitted) = if ok {
        (
            join(data[0].effective, data[1].effective),
            join(data[0].permitted, data[1].permitted),
        )
    } else {
        (0, 0)
    };
    let mut bounding = 0;
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only.
        match unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } {
            1 => bounding |= 1 << cap,
            0 => {}
            _ => break,
        }
    }
    (effective, permitted, bounding)
}

/// The host's name.
pub(crate) fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return "localhost".to_string();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The CPUs this process may run on.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes one cpu_set_t of the size we pass.
    if unsafe { libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut set) } != 0 {
        return vec![0];
    }
    let count = usize::try_from(libc::CPU_SETSIZE).unwrap_or(0);
    // SAFETY: CPU_ISSET reads the set in bounds (cpu < CPU_SETSIZE).
    (0..count)
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one: each file the program
/// opens, and each name the view keeps cached, is a host fd of the
/// sentry's, and the program's own limit (524 288 at most) is far above the
/// host's usual soft 1024.
pub(crate) fn raise_fd_limit() -> io::Result<()> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `struct rlimit` to the pointer.
    cvt(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) }.into())?;
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: setrlimit reads one `struct rlimit` from the pointer.
    cvt(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) }.into()).map(drop)
}

/// `prctl(PR_SET_PDEATHSIG, SIGKILL)`.
pub(crate) fn die_with_parent() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) }.into()).map(drop)
}

/// `mount(source, target, fstype, flags, data)`.
pub(crate) fn mount(
    source: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let source = source.map(cstring).transpose()?;
    let target = cstring(target)?;
    let fstype = fstype.map(cstring).transpose()?;
    let data = data.map(cstring).transpose()?;
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer is a valid C string or null, as mount accepts.
    cvt(unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    }
    .into())
    .map(drop)
}

/// `open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC)`:
/// a detached copy of the mount tree at `path`, submounts included.
pub(crate) fn clone_mount_tree(path: &CStr) -> io::Result<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;
    let flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as libc::c_uint;
    // SAFETY: `path` is a valid C string.
    let fd =
        cvt(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })?;
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: open_tree returned a fresh fd that nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes every mount of the detached tree `fd` read-only, nosuid and nodev.
pub(crate) fn make_tree_read_only(fd: RawFd) -> io::Result<()> {
    set_tree_attrs(fd, true)
}

/// Makes every mount of the detached tree `fd` nosuid and nodev, and
/// read-only if `read_only`.
pub(crate) fn set_tree_attrs(fd: RawFd, read_only: bool) -> io::Result<()> {
    // struct mount_attr (include/uapi/linux/mount.h)
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const MOUNT_ATTR_NOSUID: u64 = 0x2;
    const MOUNT_ATTR_NODEV: u64 = 0x4;
    let attr = MountAttr {
        attr_set: if read_only { MOUNT_ATTR_RDONLY } else { 0 }
            | MOUNT_ATTR_NOSUID
            | MOUNT_ATTR_NODEV,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint;
    // SAFETY: mount_setattr reads `size_of::<MountAttr>()` bytes of `attr`.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            &attr,
            size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// `open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)`.
pub(crate) fn open_dir_path(path: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `path` is a valid C string.
    let fd = cvt(unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    }
    .into())?;
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Moves the root of this mount namespace to the mount at `new_root` (a
/// directory that is itself a mount point) and detaches the old root.
pub(crate) fn pivot_into(new_root: &str) -> io::Result<()> {
    let dir = cstring(new_root)?;
    chdir(&dir)?;
    // SAFETY: pivot_root takes two valid C strings.
    cvt(unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) })?;
    // SAFETY: umount2 takes a valid C string.
    cvt(unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) }.into())?;
    chdir(c"/")
}

fn chdir(dir: &CStr) -> io::Result<()> {
    // SAFETY: chdir takes a valid C string.
    cvt(unsafe { libc::chdir(dir.as_ptr()) }.into()).map(drop)
}

/// Sets `no_new_privs` and clears every capability of the process but
/// those of `keep` it holds.
pub(crate) fn drop_privileges(keep: u64) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    cvt(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }.into())?;
    let (_, permitted, _) = capabilities();
    let kept = keep & permitted;
    let header = CapUserHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let word = |i: u32| u32::try_from((kept >> (32 * i)) & 0xffff_ffff).unwrap_or(0);
    let data = [0, 1].map(|i| CapUserData {
        effective: word(i),
        permitted: word(i),
        inheritable: 0,
    });
    // SAFETY: capset reads one header and two data structs.
    cvt(unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) }).map(drop)
}

/// Writes `content` to `path` (for /proc/PID/{uid_map,gid_map,setgroups}).
pub(crate) fn write_file(path: &str, content: &str) -> io::Result<()> {
    std::fs::write(path, content)
}

/// Duplicates `fd` (close-on-exec), or `None` if it is not open.
pub(crate) fn dup_if_open(fd: RawFd) -> Option<OwnedFd> {
    // SAFETY: fcntl with integer arguments; a closed fd gives EBADF.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: a fresh fd owned by nobody else.
    (new >= 0).then(|| unsafe { OwnedFd::from_raw_fd(new) })
}

/// A signal set holding `signals`.
fn sigset(signals: &[i32]) -> libc::sigset_t {
    // SAFETY: an all-zero sigset_t is a valid value to start from.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: sigemptyset writes the set we own.
    unsafe { libc::sigemptyset(&mut set) };
    for &signo in signals {
        // SAFETY: sigaddset writes the set we own; a bad number is an error.
        unsafe { libc::sigaddset(&mut set, signo) };
    }
    set
}

/// The signals the calling thread ignores and blocks, bit `signo - 1`,
/// as a program `execve`d from here would start with them. Not SIGPIPE:
/// the Rust runtime ignores it before `main`, so whether the caller did is
/// lost.
pub(crate) fn inherited_signals() -> kernel::InheritedSignals {
    let mut inherited = kernel::InheritedSignals::default();
    // SAFETY: an all-zero sigset_t is a valid value to start from.
    let mut mask: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: pthread_sigmask with no new set only writes the set we own.
    let have_mask =
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask) } == 0;
    for signo in 1..=64 {
        // SAFETY: an all-zero sigaction is a valid value to be written over.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: sigaction with no new action only writes the struct we
        // own; a number libc reserves is an error, and counts as default.
        let ok = unsafe { libc::sigaction(signo, std::ptr::null(), &mut action) } == 0;
        let bit = 1u64 << (signo - 1);
        if ok && action.sa_sigaction == libc::SIG_IGN && signo != libc::SIGPIPE {
            inherited.ignored |= bit;
        }
        // SAFETY: sigismember reads the set we own.
        if have_mask && unsafe { libc::sigismember(&mask, signo) } == 1 {
            inherited.blocked |= bit;
        }
    }
    inherited
}

/// Blocks `signals` in the calling thread (and the threads it creates) and
/// gives them a no-op handler: PID 1 of a namespace only receives signals
/// from its parent namespace that it handles.
pub(crate) fn catch_and_block(signals: &[i32]) -> io::Result<()> {
    extern "C" fn noop(_: libc::c_int) {}
    for &signo in signals {
        // SAFETY: an all-zero sigaction is valid (no flags, empty mask).
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = noop as extern "C" fn(libc::c_int) as usize;
        // SAFETY: sigaction reads the struct we own; the handler is a
        // function that does nothing, so it is async-signal-safe.
        cvt(unsafe { libc::sigaction(signo, &action, std::ptr::null_mut()) }.into())?;
    }
    let set = sigset(signals);
    // SAFETY: pthread_sigmask reads the set we own.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(())
}

/// Waits for one of `signals` (blocked by [`catch_and_block`]) and returns it.
pub(crate) fn wait_for_signal(signals: &[i32]) -> i32 {
    let set = sigset(signals);
    let mut signo = 0;
    // SAFETY: sigwait reads the set and writes one int, both ours.
    while unsafe { libc::sigwait(&set, &mut signo) } != 0 {}
    signo
}

/// Whether `fd` is a terminal.
pub(crate) fn is_terminal(fd: RawFd) -> bool {
    // SAFETY: isatty takes no pointers.
    unsafe { libc::isatty(fd) == 1 }
}
