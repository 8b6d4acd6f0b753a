//! The few host calls the sentry makes for its own answers (clocks,
//! randomness, the host's auxv and memory size). File-system host calls live
//! in `fs/host.rs`.

#![allow(unsafe_code)]

use abi::Errno;
use abi::time::Timespec;

/// The host CPU the calling thread runs on (`sched_getcpu`), or 0 if
/// the host cannot tell.
pub(crate) fn current_cpu() -> usize {
    // SAFETY: sched_getcpu takes no arguments (glibc reads rseq or the vDSO).
    let cpu = unsafe { libc::sched_getcpu() };
    usize::try_from(cpu).unwrap_or(0)
}

/// The host's `clock_gettime(clock)`; EINVAL for a clock the host rejects.
pub(crate) fn clock_gettime(clock: u32) -> Result<Timespec, Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let id = libc::clockid_t::try_from(clock).map_err(|_| Errno::EINVAL)?;
    // SAFETY: clock_gettime writes one timespec to the pointer we give it.
    if unsafe { libc::clock_gettime(id, &mut ts) } != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

/// The host's `clock_getres(clock)`, asked of the kernel itself (the vDSO
/// answers some invalid ids without checking them).
pub(crate) fn clock_getres(clock: u32) -> Result<Timespec, Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let id = libc::clockid_t::try_from(clock).map_err(|_| Errno::EINVAL)?;
    // SAFETY: clock_getres writes one timespec to the pointer we give it.
    if unsafe { libc::syscall(libc::SYS_clock_getres, id, &mut ts) } != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Timespec {
        tv_sec: ts.tv_sec,
        tv_nsec: ts.tv_nsec,
    })
}

/// Fills `buf` from the host's random source (`getrandom(2)` with `flags`).
/// Returns how many bytes were filled.
pub(crate) fn getrandom(buf: &mut [u8], flags: u32) -> Result<usize, Errno> {
    loop {
        // SAFETY: getrandom writes at most `buf.len()` bytes to `buf`.
        let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), flags) };
        if let Ok(n) = usize::try_from(n) {
            return Ok(n);
        }
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        if errno != libc::EINTR {
            return Err(Errno(u16::try_from(errno).unwrap_or(5)));
        }
    }
}

/// The host's auxv value for `tag` (AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ), or 0.
pub(crate) fn host_auxv(tag: u64) -> u64 {
    // SAFETY: getauxval only reads the process's auxv.
    unsafe { libc::getauxval(tag) }
}

/// The host's `sysinfo(2)`: total and free RAM in bytes, and load averages.
pub(crate) fn host_memory() -> (u64, u64, [u64; 3]) {
    // SAFETY: an all-zero sysinfo is valid, and sysinfo fills it.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: sysinfo writes one struct to the pointer we give it.
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        return (0, 0, [0; 3]);
    }
    let unit = u64::from(info.mem_unit.max(1));
    (info.totalram * unit, info.freeram * unit, info.loads)
}

/// The CPU's time-stamp counter.
pub(crate) fn tsc() -> u64 {
    // SAFETY: RDTSC reads a counter; it touches no memory and every x86-64
    // CPU has it.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The calling host thread's user and system CPU time, in microseconds.
pub(crate) fn thread_cpu_micros() -> (u64, u64) {
    // SAFETY: an all-zero rusage is valid, and getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one struct to the pointer we give it.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } != 0 {
        return (0, 0);
    }
    let micros = |tv: libc::timeval| {
        u64::try_from(tv.tv_sec).unwrap_or(0) * 1_000_000 + u64::try_from(tv.tv_usec).unwrap_or(0)
    };
    (micros(usage.ru_utime), micros(usage.ru_stime))
}

/// The host's `membarrier(cmd, 0, 0)`, for the sentry's own barriers on
/// the program's behalf (see `sys_membarrier`); its result, or EINVAL if
/// the host refuses.
pub(crate) fn membarrier(cmd: u32) -> Result<u64, Errno> {
    let cmd = libc::c_int::try_from(cmd).map_err(|_| Errno::EINVAL)?;
    // SAFETY: membarrier takes no pointers; its commands read and write no
    // memory of ours.
    let ret = unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0, 0) };
    u64::try_from(ret).map_err(|_| Errno::EINVAL)
}
