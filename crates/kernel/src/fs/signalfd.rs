//! signalfd: a file that reads the signals of a mask as
//! `signalfd_siginfo` records instead of having them delivered
//! (`fs/signalfd.c`).
//!
//! Like Linux, a signalfd reads the signals pending for the thread that
//! reads it (its own and its process's), not for the one that made it, and
//! polls ready for that thread; the mask is the file's. A reader or poller
//! that waits queues its task on its process, whose signal sends wake it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use abi::Errno;
use abi::fcntl::{O_NONBLOCK, O_RDWR};
use abi::poll::{POLLIN, POLLRDNORM};
use abi::signal::{self as sig, SigInfo, SignalfdSiginfo};
use zerocopy::IntoBytes;

use crate::task::{TaskHandle, Wakeup};
use crate::vfs::{File, FileOps};

/// An open signalfd.
#[derive(Debug)]
pub struct SignalFd {
    /// The signals it reads (never SIGKILL or SIGSTOP).
    mask: AtomicU64,
}

impl SignalFd {
    /// Replaces the mask (`signalfd4` on an existing signalfd).
    pub fn set_mask(&self, mask: u64) {
        self.mask.store(mask & !sig::UNBLOCKABLE, Ordering::SeqCst);
    }

    fn mask(&self) -> u64 {
        self.mask.load(Ordering::SeqCst)
    }
}

/// A new signalfd reading `mask`, with status flags `flags` (`O_NONBLOCK`).
pub fn new_signalfd(mask: u64, flags: u32) -> Arc<File> {
    let fd = SignalFd {
        mask: AtomicU64::new(0),
    };
    fd.set_mask(mask);
    File::new(Box::new(fd), O_RDWR | flags, None)
}

impl FileOps for SignalFd {
    fn anon_name(&self) -> Option<&'static str> {
        Some("signalfd")
    }

    /// Reads as many pending signals of the mask as whole records fit,
    /// waiting for the first unless the file is non-blocking.
    fn read(&self, file: &File, buf: &mut [u8], _pos: u64) -> Result<usize, Errno> {
        let record = size_of::<SignalfdSiginfo>();
        if buf.len() < record {
            return Err(Errno::EINVAL);
        }
        let (group, handle) = crate::task::current_process().ok_or(Errno::EINVAL)?;
        let mut done = 0;
        while done + record <= buf.len() {
            let info = match handle.dequeue_signal(self.mask()) {
                Some(info) => info,
                None if done > 0 => break,
                None if file.flags() & O_NONBLOCK != 0 => return Err(Errno::EAGAIN),
                None => {
                    wait_for_signal(&group, &handle, self.mask());
                    match handle.dequeue_signal(self.mask()) {
                        Some(info) => info,
                        None if handle.signal_pending() => return Err(Errno::ERESTARTSYS),
                        None => continue,
                    }
                }
            };
            buf[done..done + record].copy_from_slice(signalfd_siginfo(&info).as_bytes());
            done += record;
        }
        Ok(done)
    }

    super::anon_inode_ops!();

    fn poll_events(&self, _file: &File) -> u32 {
        let ready = crate::task::current()
            .is_some_and(|handle| handle.pending_signals() & self.mask() != 0);
        if ready { POLLIN | POLLRDNORM } else { 0 }
    }

    fn add_poll_waiter(&self, waiter: &Arc<TaskHandle>) -> bool {
        match crate::task::current_process() {
            Some((group, _)) => {
                group.add_signal_waiter(waiter);
                true
            }
            None => false,
        }
    }

    fn remove_poll_waiter(&self, waiter: &Arc<TaskHandle>) {
        if let Some((group, _)) = crate::task::current_process() {
            group.remove_signal_waiter(waiter);
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Blocks the reading task until a signal is sent to its process or to
/// it, it must handle one, or it is killed.
fn wait_for_signal(group: &crate::task::ThreadGroup, handle: &Arc<TaskHandle>, mask: u64) {
    handle.prepare_to_block();
    group.add_signal_waiter(handle);
    // One of the mask sent before the waiter was queued is seen here.
    if handle.pending_signals() & mask == 0 {
        let _: Wakeup = handle.block(None);
    }
    group.remove_signal_waiter(handle);
}

/// The record of `info`, its union read the way Linux's `siginfo_layout`
/// decides (`signalfd_copyinfo`).
fn signalfd_siginfo(info: &SigInfo) -> SignalfdSiginfo {
    let [w0, w1, w2, w3, ..] = info.fields;
    let low = |w: u64| (w & 0xffff_ffff) as u32;
    let high = |w: u64| (w >> 32) as u32;
    let mut out = SignalfdSiginfo {
        ssi_signo: info.si_signo.cast_unsigned(),
        ssi_errno: info.si_errno,
        ssi_code: info.si_code,
        ..SignalfdSiginfo::default()
    };
    let signo = info.si_signo.cast_unsigned();
    let code = info.si_code;
    // NSIGPOLL: the largest SIGPOLL-style si_code.
    const NSIGPOLL: i32 = 6;
    if code > sig::SI_USER && code < sig::SI_KERNEL {
        match signo {
            sig::SIGCHLD => {
                (out.ssi_pid, out.ssi_uid) = (low(w0), high(w0));
                out.ssi_status = low(w1).cast_signed();
                (out.ssi_utime, out.ssi_stime) = (w2, w3);
            }
            sig::SIGILL | sig::SIGFPE | sig::SIGSEGV | sig::SIGBUS | sig::SIGTRAP => {
                out.ssi_addr = w0;
            }
            sig::SIGSYS => {
                out.ssi_call_addr = w0;
                out.ssi_syscall = low(w1).cast_signed();
                out.ssi_arch = high(w1);
            }
            _ if code <= NSIGPOLL => {
                out.ssi_band = low(w0);
                out.ssi_fd = low(w1).cast_signed();
            }
            _ => (out.ssi_pid, out.ssi_uid) = (low(w0), high(w0)),
        }
    } else if code == sig::SI_TIMER {
        (out.ssi_tid, out.ssi_overrun) = (low(w0), high(w0));
        out.ssi_ptr = w1;
        out.ssi_int = low(w1).cast_signed();
    } else if code < 0 {
        (out.ssi_pid, out.ssi_uid) = (low(w0), high(w0));
        out.ssi_ptr = w1;
        out.ssi_int = low(w1).cast_signed();
    } else {
        (out.ssi_pid, out.ssi_uid) = (low(w0), high(w0));
    }
    out
}
