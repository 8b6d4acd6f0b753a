//! The host calls std does not offer: waiting for a child without reaping
//! it, and killing its process group.
//!
//! This is the only module with `unsafe`; each call is a plain libc call on
//! integers and a stack buffer the call fills.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;

/// Blocks until child `pid` has exited, leaving it a zombie (`WNOWAIT`), so
/// its pid cannot be reused while a watchdog may still signal it.
pub(crate) fn wait_exited(pid: libc::pid_t) -> io::Result<()> {
    let id = libc::id_t::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    loop {
        let mut info = MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: `info` is a writable siginfo_t on our stack that outlives the
        // call; waitid writes at most one siginfo_t there.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                id,
                info.as_mut_ptr(),
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Sends SIGKILL to the process group `pgid` (the harness starts each run in
/// a group of its own). Errors are ignored: the group may be gone already.
pub(crate) fn kill_group(pgid: libc::pid_t) {
    // SAFETY: kill takes two integers and touches no memory of ours; a
    // negative pid names the group, which is one our child leads and which
    // cannot be reused while that child is an unreaped zombie.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}
