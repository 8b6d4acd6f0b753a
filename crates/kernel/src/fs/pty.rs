//! Pseudo-terminals (`drivers/tty/pty.c`, `drivers/tty/tty_io.c`,
//! `drivers/tty/tty_jobctrl.c`), entirely in the sentry: no host terminal
//! is ever opened.
//!
//! Opening `/dev/ptmx` makes a [`Pty`]: a master end (the returned file)
//! and a slave end named `/dev/pts/N` by [`super::devpts`], locked until
//! `TIOCSPTLCK` 0. Bytes written to the master are input to the slave's
//! line discipline ([`super::n_tty`]); what the slave writes, after output
//! processing, and the echoes are what the master reads. Both ends share
//! one termios and window size, as Linux's `tty_mode_ioctl` and `tiocgwinsz`
//! act on the slave for either end.
//!
//! The slave is a terminal in the job-control sense: a session leader
//! opening it (without `O_NOCTTY`) or calling `TIOCSCTTY` makes it the
//! session's controlling terminal ([`crate::vfs::Vfs::set_controlling_tty`]),
//! with a foreground process group that signal characters and `SIGWINCH`
//! go to; background readers get `SIGTTIN`, background writers `SIGTTOU`
//! under `TOSTOP`. Closing the master hangs the slave up: its reads return
//! end of file, writes and ioctls `EIO`, and the session leader gets
//! `SIGHUP` and `SIGCONT`. Closing the last slave makes master reads fail
//! with `EIO` once drained.
//!
//! When the session leader exits, the foreground group gets `SIGHUP` and
//! the terminal is free again.
//!
//! Not modelled: packet mode (`TIOCPKT`), exclusive mode, `TIOCSTI` and
//! `TIOCVHANGUP`.
//!
//! Lock order: the view's table of controlling terminals
//! ([`crate::vfs::Vfs::set_controlling_tty`]) before a [`Pty`]'s state lock,
//! which is otherwise a leaf: signals are sent and the process tree is read
//! only after it is released.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use abi::Errno;
use abi::fcntl::{O_ACCMODE, O_CLOEXEC, O_LARGEFILE, O_NOCTTY, O_NONBLOCK, O_RDWR};
use abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use abi::signal::{SIGCONT, SIGHUP, SIGTTIN, SIGTTOU, SIGWINCH};
use abi::stat::{S_IFMT, Stat};
use abi::termios::{
    FIONREAD, TCFLSH, TCGETS, TCGETS2, TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON,
    TCSBRK, TCSBRKP, TCSETS, TCSETS2, TCSETSF, TCSETSF2, TCSETSW, TCSETSW2, TCXONC, TIOCCBRK,
    TIOCGETD, TIOCGPGRP, TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER, TIOCGSID, TIOCGWINSZ, TIOCNOTTY,
    TIOCOUTQ, TIOCSBRK, TIOCSCTTY, TIOCSETD, TIOCSPGRP, TIOCSPTLCK, TIOCSWINSZ, TOSTOP, Termios,
    Termios2, VSTART, VSTOP, Winsize,
};

use super::devpts::{DevPts, slave_stat};
use super::n_tty::{LineDiscipline, std_termios};
use super::tmpfs::{SetAttr, SetTime};
use crate::kernel::Kernel;
use crate::task::{self, Task, TaskHandle, ThreadGroup, Wakeup, lock};
use crate::vfs::{Dentry, File, FileOps};

/// How much master input may wait for room in the slave's input buffer
/// (Linux's flip buffers between the two).
const PENDING_CAP: usize = 16384;

/// The speed `TCGETS2` reports (`B38400`).
const SPEED: u32 = 38400;

/// A session's controlling terminal.
#[derive(Clone, Debug)]
pub enum ControllingTty {
    /// The host terminal the sandbox was started on (init's session).
    Host(Arc<File>),
    /// A pseudo-terminal of the sandbox.
    Pty(Weak<Pty>),
}

/// One pseudo-terminal: the shared state of its master and slave ends.
#[derive(Debug)]
pub struct Pty {
    index: u32,
    /// The slave node's status: owned by whoever opened the master, then
    /// as `chmod`, `chown` and `utimensat` change it. A leaf lock.
    node: Mutex<Stat>,
    devpts: Arc<DevPts>,
    state: Mutex<PtyState>,
}

#[derive(Debug)]
struct PtyState {
    ld: LineDiscipline,
    /// Master input the line discipline had no room for yet.
    pending: VecDeque<u8>,
    winsize: Winsize,
    /// `TIOCSPTLCK`: the slave cannot be opened.
    locked: bool,
    master_open: bool,
    slaves: usize,
    /// The slave's last description closed (`TTY_OTHER_CLOSED` on the master).
    slave_closed: bool,
    /// Master output stopped (`TCOOFF` on the master).
    master_stopped: bool,
    /// The session this is the controlling terminal of.
    session: Option<i32>,
    /// The foreground process group.
    pgrp: Option<i32>,
    waiters: Vec<Arc<TaskHandle>>,
}

impl PtyState {
    fn wake_all(&mut self) {
        for waiter in self.waiters.drain(..) {
            waiter.wake();
        }
    }

    /// The slave is hung up: the master has closed.
    fn hung_up(&self) -> bool {
        !self.master_open
    }

    /// Moves pending master input into the line discipline as far as it
    /// has room; returns the signals it asks for, with the foreground
    /// group to send them to. Input waits while no slave is open, as
    /// Linux's flip buffers wait for a tty on the port.
    fn process_input(&mut self) -> Vec<(i32, u32)> {
        if self.pending.is_empty() || self.slaves == 0 {
            return Vec::new();
        }
        let got = self.ld.receive(self.pending.make_contiguous());
        self.pending.drain(..got.taken);
        if got.taken > 0 {
            self.wake_all();
        }
        match self.pgrp {
            Some(pgrp) => got.signals.iter().map(|&s| (pgrp, s)).collect(),
            None => Vec::new(),
        }
    }

    /// How much the master may write now (`pty_write_room`).
    fn master_room(&self) -> usize {
        if self.master_stopped {
            0
        } else {
            PENDING_CAP - self.pending.len()
        }
    }
}

/// Sends the signals input characters asked for (after the terminal's
/// lock is released).
fn send_signals(signals: Vec<(i32, u32)>) {
    if signals.is_empty() {
        return;
    }
    if let Some(kernel) = task::current_kernel() {
        for (pgrp, signo) in signals {
            kill_pgrp(&kernel, pgrp, signo);
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        self.devpts.release(self.index);
    }
}

/// The process calling into a terminal, as job control sees it.
struct Caller {
    kernel: Arc<Kernel>,
    group: Arc<ThreadGroup>,
    handle: Arc<TaskHandle>,
    sid: i32,
    pgid: i32,
}

impl Caller {
    fn current() -> Option<Caller> {
        let kernel = task::current_kernel()?;
        let (group, handle) = task::current_process()?;
        let sid = kernel.tree.sid(group.pid).ok()?;
        let pgid = kernel.tree.pgid(group.pid).ok()?;
        Some(Caller {
            kernel,
            group,
            handle,
            sid,
            pgid,
        })
    }

    /// Whether `signo` is blocked or ignored (`is_ignored`).
    fn ignores(&self, signo: u32) -> bool {
        self.handle.signal_mask() & abi::signal::sigmask(signo) != 0
            || self.group.action(signo).handler == abi::signal::SIG_IGN
    }
}

/// Sends `signo` to every process of group `pgid` (`kill_pgrp` with
/// `priv`: from the kernel, `SI_KERNEL`).
fn kill_pgrp(kernel: &Kernel, pgid: i32, signo: u32) {
    for group in kernel.tree.process_group(pgid) {
        send_from_tty(&group, signo);
    }
}

/// Sends `signo` from the terminal to the process `group`. A kernel signal
/// is a standard one, which a full queue never refuses.
fn send_from_tty(group: &crate::task::ThreadGroup, signo: u32) {
    let _ = crate::signal::send(group, crate::signal::info(signo, abi::signal::SI_KERNEL));
}

impl Pty {
    /// Terminal `index` of `devpts`, its slave node owned by `uid`/`gid`,
    /// locked, with no master yet.
    pub(crate) fn new(index: u32, uid: u32, gid: u32, devpts: Arc<DevPts>) -> Arc<Pty> {
        Arc::new(Pty {
            index,
            node: Mutex::new(slave_stat(index, uid, gid)),
            devpts,
            state: Mutex::new(PtyState {
                ld: LineDiscipline::new(std_termios()),
                pending: VecDeque::new(),
                winsize: Winsize::default(),
                locked: true,
                master_open: false,
                slaves: 0,
                slave_closed: false,
                master_stopped: false,
                session: None,
                pgrp: None,
                waiters: Vec::new(),
            }),
        })
    }

    /// The terminal's index (`N` in `/dev/pts/N`).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Whether `/dev/pts/N` exists: from the master's open to its close.
    pub(crate) fn node_visible(&self) -> bool {
        lock(&self.state).master_open
    }

    /// The slave node's status.
    pub fn stat(&self) -> Stat {
        *lock(&self.node)
    }

    /// Changes the slave node's attributes (permission checks done by the
    /// caller); a size is `EINVAL`, as for any device.
    pub(crate) fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        if attr.size.is_some() {
            return Err(Errno::EINVAL);
        }
        let mut st = lock(&self.node);
        let now = crate::fs::tmpfs::now();
        if let Some(mode) = attr.mode {
            st.st_mode = (st.st_mode & S_IFMT) | (mode & !S_IFMT);
        }
        if let Some(uid) = attr.uid {
            st.st_uid = uid;
        }
        if let Some(gid) = attr.gid {
            st.st_gid = gid;
        }
        if attr.kill_suid {
            crate::fs::tmpfs::kill_suid(&mut st.st_mode);
        }
        let time = |t: SetTime| match t {
            SetTime::Now => now,
            SetTime::At(at) => at,
        };
        if let Some(t) = attr.atime {
            st.st_atime = time(t);
        }
        if let Some(t) = attr.mtime {
            st.st_mtime = time(t);
        }
        st.st_ctime = now;
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, PtyState> {
        lock(&self.state)
    }

    /// Blocks the calling task until the terminal changes or `deadline`
    /// passes; `ERESTARTSYS` if a signal needs handling first.
    fn wait(
        &self,
        st: MutexGuard<'_, PtyState>,
        deadline: Option<Instant>,
    ) -> Result<Wakeup, Errno> {
        task::wait_on(&self.state, st, |s| &mut s.waiters, deadline)
    }

    /// `__tty_check_change`: a caller in a background group of the session
    /// this terminal controls is stopped with `signo` (`ERESTARTSYS`), or
    /// gets `EIO` when that signal is ignored (reads only) or its group is
    /// orphaned.
    fn check_change(&self, signo: u32) -> Result<(), Errno> {
        let (session, pgrp) = {
            let st = self.state();
            (st.session, st.pgrp)
        };
        let Some(caller) = Caller::current() else {
            return Ok(());
        };
        if session != Some(caller.sid) {
            return Ok(());
        }
        let Some(fg) = pgrp else {
            return Ok(());
        };
        if fg == caller.pgid {
            return Ok(());
        }
        if caller.ignores(signo) {
            return if signo == SIGTTIN {
                Err(Errno::EIO)
            } else {
                Ok(())
            };
        }
        if caller.kernel.tree.is_orphaned_pgrp(caller.pgid) {
            return Err(Errno::EIO);
        }
        kill_pgrp(&caller.kernel, caller.pgid, signo);
        Err(Errno::ERESTARTSYS)
    }

    fn master_read(&self, file: &File, buf: &mut [u8]) -> Result<usize, Errno> {
        loop {
            let mut st = self.state();
            if !st.ld.output.is_empty() {
                let n = buf.len().min(st.ld.output.len());
                for (dst, src) in buf.iter_mut().zip(st.ld.output.drain(..n)) {
                    *dst = src;
                }
                st.wake_all();
                return Ok(n);
            }
            if st.slave_closed {
                return Err(Errno::EIO);
            }
            if nonblocking(file) {
                return Err(Errno::EAGAIN);
            }
            self.wait(st, None)?;
        }
    }

    /// A write that could not finish: with `O_NONBLOCK` it ends with what
    /// it wrote (`EAGAIN` if nothing); otherwise it waits for the terminal
    /// to change and goes on (`None`), unless a signal ends it.
    fn write_wait(
        &self,
        file: &File,
        st: MutexGuard<'_, PtyState>,
        done: usize,
    ) -> Option<Result<usize, Errno>> {
        let errno = if nonblocking(file) {
            Errno::EAGAIN
        } else {
            match self.wait(st, None) {
                Ok(_) => return None,
                Err(errno) => errno,
            }
        };
        Some(if done > 0 { Ok(done) } else { Err(errno) })
    }

    fn master_write(&self, file: &File, buf: &[u8]) -> Result<usize, Errno> {
        let mut done = 0;
        loop {
            let mut st = self.state();
            let n = st.master_room().min(buf.len() - done);
            st.pending.extend(&buf[done..done + n]);
            done += n;
            let signals = st.process_input();
            if n > 0 || !signals.is_empty() {
                drop(st);
                send_signals(signals);
                continue;
            }
            if done == buf.len() {
                return Ok(done);
            }
            if let Some(result) = self.write_wait(file, st, done) {
                return result;
            }
        }
    }

    /// `n_tty_read` with `VMIN`/`VTIME` in non-canonical mode.
    fn slave_read(&self, file: &File, buf: &mut [u8]) -> Result<usize, Errno> {
        self.check_change(SIGTTIN)?;
        let (icanon, (min, time)) = {
            let st = self.state();
            (
                st.ld.termios.c_lflag & abi::termios::ICANON != 0,
                st.ld.min_time(),
            )
        };
        let tenths = |t: u8| Duration::from_millis(100 * u64::from(t));
        // As n_tty_read: with VMIN, VTIME is an inter-byte timer started by
        // the first byte; without, it bounds the whole wait.
        let (minimum, inter_byte, mut deadline) = if icanon {
            (0, None, None)
        } else if min > 0 {
            (usize::from(min), (time > 0).then(|| tenths(time)), None)
        } else {
            (1, None, Some(Instant::now() + tenths(time)))
        };
        let mut n = 0;
        loop {
            let mut st = self.state();
            if st.hung_up() {
                return Ok(n);
            }
            if st.ld.input_available(false) {
                n += st.ld.read(&mut buf[n..]);
                st.wake_all();
                let signals = st.process_input();
                drop(st);
                send_signals(signals);
                if icanon || n >= minimum || n == buf.len() {
                    return Ok(n);
                }
                if let Some(t) = inter_byte {
                    deadline = Some(Instant::now() + t);
                }
                continue;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(n);
            }
            if nonblocking(file) {
                return if n > 0 { Ok(n) } else { Err(Errno::EAGAIN) };
            }
            match self.wait(st, deadline) {
                Ok(_) => {}
                Err(_) if n > 0 => return Ok(n),
                Err(errno) => return Err(errno),
            }
        }
    }

    fn slave_write(&self, file: &File, buf: &[u8]) -> Result<usize, Errno> {
        if self.state().ld.termios.c_lflag & TOSTOP != 0 {
            self.check_change(SIGTTOU)?;
        }
        let mut done = 0;
        loop {
            let mut st = self.state();
            if st.hung_up() {
                return if done > 0 { Ok(done) } else { Err(Errno::EIO) };
            }
            if !st.ld.stopped {
                let n = st.ld.write(&buf[done..]);
                if n > 0 {
                    done += n;
                    st.wake_all();
                }
            }
            if done == buf.len() {
                return Ok(done);
            }
            if let Some(result) = self.write_wait(file, st, done) {
                return result;
            }
        }
    }

    /// A new slave description (`pty_open` and `tty_open_proc_set_tty`):
    /// `EIO` while locked or once the master is gone. Without `O_NOCTTY`, a
    /// session leader without a controlling terminal that opens it for
    /// reading gets it as one.
    pub(crate) fn open_slave(
        self: &Arc<Pty>,
        flags: u32,
        dentry: Option<Arc<Dentry>>,
    ) -> Result<Arc<File>, Errno> {
        {
            let mut st = self.state();
            if st.locked || !st.master_open {
                return Err(Errno::EIO);
            }
            st.slaves += 1;
            st.slave_closed = false;
            let signals = st.process_input();
            drop(st);
            send_signals(signals);
        }
        let file = File::new(
            Box::new(PtyFile {
                pty: Arc::clone(self),
                master: false,
            }),
            status_flags(flags),
            dentry,
        );
        let readable = matches!(flags & O_ACCMODE, abi::fcntl::O_RDONLY | O_RDWR);
        if flags & O_NOCTTY == 0
            && readable
            && let Some(caller) = Caller::current()
            && caller.sid == caller.group.pid
            && caller.kernel.vfs.controlling_tty(caller.sid).is_none()
        {
            let mut st = self.state();
            if st.session.is_none() {
                st.session = Some(caller.sid);
                st.pgrp = Some(caller.pgid);
                drop(st);
                caller.kernel.vfs.set_controlling_tty(
                    caller.sid,
                    Some(ControllingTty::Pty(Arc::downgrade(self))),
                );
            }
        }
        Ok(file)
    }

    /// Whether this terminal is the controlling terminal of `sid`.
    pub(crate) fn controls(&self, sid: i32) -> bool {
        self.state().session == Some(sid)
    }

    /// The master closed: the slave hangs up, its node goes, and the
    /// session leader gets `SIGHUP` and `SIGCONT` (`tty_vhangup`).
    fn master_closed(&self) {
        let session = {
            let mut st = self.state();
            st.master_open = false;
            st.pgrp = None;
            st.wake_all();
            st.session.take()
        };
        if let (Some(sid), Some(kernel)) = (session, task::current_kernel()) {
            kernel.vfs.set_controlling_tty(sid, None);
            if let Some(leader) = kernel.tree.group(sid) {
                send_from_tty(&leader, SIGHUP);
                send_from_tty(&leader, SIGCONT);
            }
        }
    }

    fn slave_closed(&self) {
        let mut st = self.state();
        st.slaves -= 1;
        if st.slaves == 0 {
            st.slave_closed = true;
            st.wake_all();
        }
    }

    fn termios(&self) -> Termios {
        self.state().ld.termios
    }

    /// `TCSETS*`: `drain` waits for output (there is never any pending to
    /// a device here), `flush` discards unread input first.
    fn set_termios(&self, termios: Termios, flush: bool) {
        let mut st = self.state();
        if flush {
            st.pending.clear();
            st.ld.flush_input();
        }
        st.ld.set_termios(termios);
        st.wake_all();
        let signals = st.process_input();
        drop(st);
        send_signals(signals);
    }
}

/// The access mode and status flags a terminal description keeps.
fn status_flags(flags: u32) -> u32 {
    (flags & (O_ACCMODE | O_NONBLOCK | abi::fcntl::O_APPEND | abi::fcntl::O_SYNC)) | O_LARGEFILE
}

fn nonblocking(file: &File) -> bool {
    file.flags() & O_NONBLOCK != 0
}

/// Opens `/dev/ptmx`: a new terminal whose master is the returned file,
/// owned by `uid`/`gid`.
pub(crate) fn open_master(
    devpts: &Arc<DevPts>,
    uid: u32,
    gid: u32,
    flags: u32,
    dentry: Option<Arc<Dentry>>,
) -> Result<Arc<File>, Errno> {
    let pty = devpts.alloc(uid, gid)?;
    pty.state().master_open = true;
    Ok(File::new(
        Box::new(PtyFile { pty, master: true }),
        status_flags(flags),
        dentry,
    ))
}

/// Opens `/dev/tty`: the caller's controlling terminal, `ENXIO` without one.
pub(crate) fn open_controlling_tty(
    vfs: &crate::vfs::Vfs,
    flags: u32,
    dentry: Arc<Dentry>,
) -> Result<Arc<File>, Errno> {
    let sid = Caller::current().map_or(1, |c| c.sid);
    match vfs.controlling_tty(sid).ok_or(Errno::ENXIO)? {
        ControllingTty::Host(file) => Ok(file),
        ControllingTty::Pty(pty) => pty
            .upgrade()
            .ok_or(Errno::ENXIO)?
            .open_slave(flags | O_NOCTTY, Some(dentry)),
    }
}

/// The leader of session `sid` exited (`disassociate_ctty(1)`): its
/// pseudo-terminal's foreground group gets `SIGHUP`, and the terminal no
/// longer controls the session.
pub(crate) fn session_leader_exited(kernel: &Kernel, sid: i32) {
    let Some(ControllingTty::Pty(pty)) = kernel.vfs.controlling_tty(sid) else {
        return;
    };
    kernel.vfs.set_controlling_tty(sid, None);
    let Some(pty) = pty.upgrade() else {
        return;
    };
    let pgrp = {
        let mut st = pty.state();
        st.session = None;
        st.pgrp.take()
    };
    if let Some(pgrp) = pgrp {
        kill_pgrp(kernel, pgrp, SIGHUP);
    }
}

/// An open end of a pseudo-terminal.
#[derive(Debug)]
pub struct PtyFile {
    pty: Arc<Pty>,
    master: bool,
}

impl Drop for PtyFile {
    fn drop(&mut self) {
        if self.master {
            self.pty.master_closed();
        } else {
            self.pty.slave_closed();
        }
    }
}

impl PtyFile {
    /// The terminal ioctls (`tty_ioctl`, `tty_mode_ioctl`,
    /// `tty_jobctrl_ioctl`, `pty_unix98_ioctl`, `n_tty_ioctl`); the caller
    /// is `task`.
    pub fn ioctl(&self, task: &mut Task, file: &File, cmd: u32, arg: u64) -> Result<u64, Errno> {
        let pty = &self.pty;
        if !self.master && pty.state().hung_up() {
            return Err(if cmd == TIOCSPGRP {
                Errno::ENOTTY
            } else {
                Errno::EIO
            });
        }
        let mm = &task.mm;
        match cmd {
            TIOCGPTN | TIOCSPTLCK | TIOCGPTLCK if !self.master => Err(Errno::ENOTTY),
            TIOCGPTN => {
                mm.write_obj(arg, &pty.index)?;
                Ok(0)
            }
            TIOCSPTLCK => {
                let lock: i32 = mm.read_obj(arg)?;
                pty.state().locked = lock != 0;
                Ok(0)
            }
            TIOCGPTLCK => {
                mm.write_obj(arg, &i32::from(pty.state().locked))?;
                Ok(0)
            }
            TIOCGPTPEER => self.open_peer(task, arg),
            TCGETS => {
                mm.write_obj(arg, &pty.termios())?;
                Ok(0)
            }
            TCGETS2 => {
                let t = Termios2 {
                    termios: pty.termios(),
                    c_ispeed: SPEED,
                    c_ospeed: SPEED,
                };
                mm.write_obj(arg, &t)?;
                Ok(0)
            }
            TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 => {
                self.check_change_ioctl()?;
                let termios: Termios = mm.read_obj(arg)?;
                pty.set_termios(termios, matches!(cmd, TCSETSF | TCSETSF2));
                Ok(0)
            }
            TIOCGWINSZ => {
                mm.write_obj(arg, &pty.state().winsize)?;
                Ok(0)
            }
            TIOCSWINSZ => {
                let ws: Winsize = mm.read_obj(arg)?;
                let pgrp = {
                    let mut st = pty.state();
                    if ws == st.winsize {
                        return Ok(0);
                    }
                    st.winsize = ws;
                    st.pgrp
                };
                if let Some(pgrp) = pgrp {
                    kill_pgrp(&task.kernel, pgrp, SIGWINCH);
                }
                Ok(0)
            }
            FIONREAD => {
                let st = pty.state();
                let n = if self.master {
                    st.ld.output.len()
                } else {
                    st.ld.readable_bytes()
                };
                drop(st);
                mm.write_obj(arg, &i32::try_from(n).unwrap_or(i32::MAX))?;
                Ok(0)
            }
            TIOCOUTQ => {
                mm.write_obj(arg, &0i32)?;
                Ok(0)
            }
            TCFLSH => {
                self.check_change_ioctl()?;
                let (input, output) = match arg {
                    TCIFLUSH => (true, false),
                    TCOFLUSH => (false, true),
                    TCIOFLUSH => (true, true),
                    _ => return Err(Errno::EINVAL),
                };
                // Flushing output drops only what the other end has not
                // taken in yet: the slave's pending input for the master,
                // nothing for the slave (its output is the master's input
                // at once).
                let mut st = pty.state();
                if self.master {
                    if input {
                        st.ld.output.clear();
                    }
                    if output {
                        st.pending.clear();
                    }
                } else if input {
                    st.pending.clear();
                    st.ld.flush_input();
                }
                st.wake_all();
                Ok(0)
            }
            TCXONC => {
                self.check_change_ioctl()?;
                self.xonc(arg)
            }
            TCSBRK | TCSBRKP | TIOCSBRK | TIOCCBRK => Ok(0),
            TIOCGETD => {
                mm.write_obj(arg, &0i32)?;
                Ok(0)
            }
            TIOCSETD => {
                let ldisc: i32 = mm.read_obj(arg)?;
                if ldisc == 0 {
                    Ok(0)
                } else {
                    Err(Errno::EINVAL)
                }
            }
            TIOCSCTTY => self.set_ctty(task, file, arg),
            TIOCNOTTY => self.notty(task),
            TIOCGPGRP => {
                self.require_ctty(task)?;
                let pgrp = pty.state().pgrp.unwrap_or(0);
                mm.write_obj(arg, &pgrp)?;
                Ok(0)
            }
            TIOCGSID => {
                self.require_ctty(task)?;
                let sid = pty.state().session.ok_or(Errno::ENOTTY)?;
                mm.write_obj(arg, &sid)?;
                Ok(0)
            }
            TIOCSPGRP => self.set_pgrp(task, arg),
            _ => Err(Errno::ENOTTY),
        }
    }

    /// The caller's session id.
    fn sid(task: &Task) -> Result<i32, Errno> {
        task.kernel.tree.sid(task.thread_group.pid)
    }

    /// For the slave, `ENOTTY` unless it is the caller's controlling
    /// terminal (the master answers anyone).
    fn require_ctty(&self, task: &Task) -> Result<(), Errno> {
        if !self.master && !self.pty.controls(Self::sid(task)?) {
            return Err(Errno::ENOTTY);
        }
        Ok(())
    }

    /// `tty_check_change` for the ioctls that change the terminal.
    fn check_change_ioctl(&self) -> Result<(), Errno> {
        self.pty.check_change(SIGTTOU)
    }

    /// `TIOCGPTPEER`: opens the slave (with `arg`'s access mode and flags)
    /// on a new fd.
    fn open_peer(&self, task: &mut Task, arg: u64) -> Result<u64, Errno> {
        if !self.master {
            return Err(Errno::EIO);
        }
        let flags = u32::try_from(arg & u64::from(O_ACCMODE | O_NONBLOCK | O_NOCTTY | O_CLOEXEC))
            .map_err(|_| Errno::EINVAL)?;
        let dentry = task.kernel.vfs.pts_dentry(Arc::clone(&self.pty));
        let file = self.pty.open_slave(flags, Some(dentry))?;
        let limit = task
            .thread_group
            .limit(abi::resource::RLIMIT_NOFILE)
            .rlim_cur;
        let fd = task.fds().alloc(file, flags & O_CLOEXEC != 0, 0, limit)?;
        Ok(u64::from(fd.unsigned_abs()))
    }

    /// `TCXONC`: suspend or restart this end's output, or send the STOP or
    /// START character as if typed at this end.
    fn xonc(&self, arg: u64) -> Result<u64, Errno> {
        let mut st = self.pty.state();
        match arg {
            TCOOFF | TCOON => {
                let stop = arg == TCOOFF;
                if self.master {
                    st.master_stopped = stop;
                } else {
                    st.ld.stopped = stop;
                }
            }
            TCIOFF | TCION => {
                let c = st.ld.termios.c_cc[if arg == TCIOFF { VSTOP } else { VSTART }];
                if c != 0 {
                    if self.master {
                        st.pending.push_back(c);
                        let signals = st.process_input();
                        drop(st);
                        send_signals(signals);
                        return Ok(0);
                    } else {
                        st.ld.output.push_back(c);
                    }
                }
            }
            _ => return Err(Errno::EINVAL),
        }
        st.wake_all();
        Ok(0)
    }

    /// `TIOCSCTTY` (`tiocsctty`): makes this the controlling terminal of
    /// the calling session leader; `arg` 1 lets a privileged caller steal
    /// it from another session.
    fn set_ctty(&self, task: &Task, file: &File, arg: u64) -> Result<u64, Errno> {
        let pid = task.thread_group.pid;
        let tree = &task.kernel.tree;
        let (sid, pgid) = (tree.sid(pid)?, tree.pgid(pid)?);
        let leader = sid == pid;
        if leader && self.pty.controls(sid) {
            return Ok(0);
        }
        if !leader || task.kernel.vfs.controlling_tty(sid).is_some() {
            return Err(Errno::EPERM);
        }
        let admin = task.creds.euid == 0;
        let owner = self.pty.state().session;
        if let Some(owner) = owner {
            // The argument is an int: only its low half counts.
            if arg & 0xffff_ffff != 1 || !admin {
                return Err(Errno::EPERM);
            }
            task.kernel.vfs.set_controlling_tty(owner, None);
        }
        if !file.readable() && !admin {
            return Err(Errno::EPERM);
        }
        {
            let mut st = self.pty.state();
            st.session = Some(sid);
            st.pgrp = Some(pgid);
        }
        task.kernel
            .vfs
            .set_controlling_tty(sid, Some(ControllingTty::Pty(Arc::downgrade(&self.pty))));
        Ok(0)
    }

    /// `TIOCNOTTY`: the caller gives up its controlling terminal; a session
    /// leader's giving up sends its foreground group `SIGHUP` and `SIGCONT`
    /// and frees the terminal (`disassociate_ctty`).
    fn notty(&self, task: &Task) -> Result<u64, Errno> {
        let pid = task.thread_group.pid;
        let sid = Self::sid(task)?;
        if self.master || !self.pty.controls(sid) {
            return Err(Errno::ENOTTY);
        }
        if sid != pid {
            // Linux clears only the caller's own link; sessions here share
            // one, so a member keeps it.
            return Ok(0);
        }
        let pgrp = {
            let mut st = self.pty.state();
            st.session = None;
            st.pgrp.take()
        };
        task.kernel.vfs.set_controlling_tty(sid, None);
        if let Some(pgrp) = pgrp {
            kill_pgrp(&task.kernel, pgrp, SIGHUP);
            kill_pgrp(&task.kernel, pgrp, SIGCONT);
        }
        Ok(0)
    }

    /// `TIOCSPGRP` (`tiocspgrp`): sets the foreground group, which must be
    /// in the caller's session.
    fn set_pgrp(&self, task: &Task, arg: u64) -> Result<u64, Errno> {
        match self.check_change_ioctl() {
            Err(Errno::EIO) => return Err(Errno::ENOTTY),
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        let pgrp: i32 = task.mm.read_obj(arg)?;
        if pgrp < 0 {
            return Err(Errno::EINVAL);
        }
        let sid = Self::sid(task)?;
        if !self.pty.controls(sid) {
            return Err(Errno::ENOTTY);
        }
        match task.kernel.tree.session_of_pgrp(pgrp) {
            None => Err(Errno::ESRCH),
            Some(s) if s != sid => Err(Errno::EPERM),
            Some(_) => {
                self.pty.state().pgrp = Some(pgrp);
                Ok(0)
            }
        }
    }
}

impl FileOps for PtyFile {
    fn read(&self, file: &File, buf: &mut [u8], _pos: u64) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.master {
            self.pty.master_read(file, buf)
        } else {
            self.pty.slave_read(file, buf)
        }
    }

    fn write(&self, file: &File, buf: &[u8], _pos: u64) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.master {
            self.pty.master_write(file, buf)
        } else {
            self.pty.slave_write(file, buf)
        }
    }

    fn positioned(&self) -> bool {
        false
    }

    fn streaming(&self) -> bool {
        true
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(if self.master {
            crate::fs::devfs::DevKind::Ptmx.stat()
        } else {
            self.pty.stat()
        })
    }

    fn statfs(&self) -> Result<abi::stat::Statfs, Errno> {
        Ok(if self.master {
            crate::fs::devfs::statfs()
        } else {
            super::devpts::statfs()
        })
    }

    fn poll_events(&self, _file: &File) -> u32 {
        let st = self.pty.state();
        if self.master {
            let mut events = 0;
            if !st.ld.output.is_empty() {
                events |= POLLIN | POLLRDNORM;
            }
            if st.slave_closed {
                events |= POLLHUP;
            }
            if st.master_room() > 0 {
                events |= POLLOUT | POLLWRNORM;
            }
            return events;
        }
        if st.hung_up() {
            return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
        }
        let mut events = 0;
        if st.ld.input_available(true) {
            events |= POLLIN | POLLRDNORM;
        }
        if !st.ld.stopped && st.ld.output.len() < super::n_tty::OUTPUT_CAP {
            events |= POLLOUT | POLLWRNORM;
        }
        events
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        let mut st = self.pty.state();
        if !st.waiters.iter().any(|w| Arc::ptr_eq(w, waiter)) {
            st.waiters.push(Arc::clone(waiter));
        }
        true
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        self.pty.state().waiters.retain(|w| !Arc::ptr_eq(w, waiter));
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
