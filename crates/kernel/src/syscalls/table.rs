//! The syscall table: each x86-64 number with its handler, name, argument
//! types, support level and note. `--strace`, `carapace syscalls` and
//! docs/SYSCALLS.md are all generated from it.
//!
//! Areas register their syscalls in their own files (`fs.rs`, `mmap.rs`, ...)
//! as a `SYSCALLS` slice; this module merges them over the full list of
//! names, so every number Linux has appears here, marked `Unsupported` until
//! an area implements it.

use std::sync::OnceLock;

use abi::sysno::{SYSCALL_COUNT, SYSCALL_NAMES};

use super::{
    SyscallArgs, SyscallResult, creds, epoll, file, fork, fs, futex, memfd, mmap, pidfd, pipe,
    poll, process, sched, signal, sys, time, timer, wait,
};
use crate::task::Task;

/// A syscall handler.
pub type Handler = fn(&mut Task, &SyscallArgs) -> SyscallResult;

/// How completely carapace implements a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// As Linux does, for every argument Linux accepts.
    Full,
    /// Some flags or cases are missing; the note says which.
    Partial,
    /// Returns `ENOSYS` (or the errno the note names).
    Unsupported,
}

impl Support {
    /// The level's name, as `carapace syscalls` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Support::Full => "full",
            Support::Partial => "partial",
            Support::Unsupported => "unsupported",
        }
    }
}

/// How `--strace` decodes one argument (or the result).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A signed decimal integer.
    Int,
    /// An unsigned number shown in hex (sizes of mappings, flags without a decoder).
    Hex,
    /// A file descriptor, or `AT_FDCWD` for `dirfd`s.
    Fd,
    /// A NUL-terminated path in program memory.
    Path,
    /// A pointer shown as an address.
    Ptr,
    /// A buffer the syscall reads (shown as a quoted string); its length is argument `n`.
    InBuf(usize),
    /// A buffer the syscall fills (shown on exit); its length is the result.
    OutBuf,
    /// A length or count in decimal.
    Len,
    /// `open(2)` flags.
    OpenFlags,
    /// `PROT_*` bits.
    Prot,
    /// `MAP_*` bits.
    MapFlags,
    /// A signal number.
    Signal,
    /// An octal mode.
    Mode,
    /// An `*at(2)` flags word (`AT_*`).
    AtFlags,
    /// A NULL-terminated array of strings (argv, envp).
    StrArray,
}

/// One row of the table.
#[derive(Clone, Copy, Debug)]
pub struct Syscall {
    /// The x86-64 number.
    pub nr: u64,
    /// The name, as in `syscall_64.tbl`.
    pub name: &'static str,
    /// The handler; `None` returns `ENOSYS`.
    pub handler: Option<Handler>,
    /// How to decode the arguments.
    pub args: &'static [Arg],
    /// How complete the implementation is.
    pub support: Support,
    /// What differs from Linux, or why it is missing.
    pub note: &'static str,
}

/// An area's registration of one syscall.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The x86-64 number (`abi::sysno::SYS_*`).
    pub nr: u64,
    /// The handler.
    pub handler: Handler,
    /// How to decode the arguments.
    pub args: &'static [Arg],
    /// How complete the implementation is.
    pub support: Support,
    /// What differs from Linux.
    pub note: &'static str,
}

/// Shorthand for an area's table row.
pub const fn entry(
    nr: u64,
    handler: Handler,
    args: &'static [Arg],
    support: Support,
    note: &'static str,
) -> Entry {
    Entry {
        nr,
        handler,
        args,
        support,
        note,
    }
}

/// The whole table, indexed by number.
pub fn table() -> &'static [Syscall] {
    static TABLE: OnceLock<Vec<Syscall>> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// The row for `nr`, if Linux has such a syscall.
pub fn lookup(nr: u64) -> Option<&'static Syscall> {
    let row = table().get(usize::try_from(nr).ok()?)?;
    (!row.name.is_empty()).then_some(row)
}

fn build() -> Vec<Syscall> {
    let count = usize::try_from(SYSCALL_COUNT).expect("syscall count fits usize");
    let mut rows: Vec<Syscall> = (0..SYSCALL_COUNT)
        .map(|nr| Syscall {
            nr,
            name: "",
            handler: None,
            args: &[],
            support: Support::Unsupported,
            note: "",
        })
        .collect();
    for &(nr, name) in SYSCALL_NAMES {
        if let Some(row) = usize::try_from(nr).ok().and_then(|i| rows.get_mut(i)) {
            row.name = name;
        }
    }
    let areas: [&[Entry]; 18] = [
        creds::SYSCALLS,
        epoll::SYSCALLS,
        file::SYSCALLS,
        timer::SYSCALLS,
        sched::SYSCALLS,
        pipe::SYSCALLS,
        poll::SYSCALLS,
        fork::SYSCALLS,
        wait::SYSCALLS,
        fs::SYSCALLS,
        futex::SYSCALLS,
        memfd::SYSCALLS,
        mmap::SYSCALLS,
        pidfd::SYSCALLS,
        process::SYSCALLS,
        signal::SYSCALLS,
        sys::SYSCALLS,
        time::SYSCALLS,
    ];
    for entry in areas.into_iter().flatten() {
        let row = &mut rows[usize::try_from(entry.nr).expect("syscall number fits usize")];
        debug_assert!(
            row.handler.is_none(),
            "syscall {} registered twice",
            row.name
        );
        row.handler = Some(entry.handler);
        row.args = entry.args;
        row.support = entry.support;
        row.note = entry.note;
    }
    for &(nr, note) in UNSUPPORTED_NOTES {
        rows[usize::try_from(nr).expect("syscall number fits usize")].note = note;
    }
    debug_assert_eq!(rows.len(), count);
    rows
}

/// Syscalls deliberately left unsupported, with why.
const UNSUPPORTED_NOTES: &[(u64, &str)] = &[(
    abi::sysno::SYS_RSEQ,
    "restartable sequences need the sentry to abort critical sections on preemption; \
     glibc falls back when registration fails",
)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linux_syscall_has_a_row_with_its_name() {
        assert_eq!(lookup(abi::sysno::SYS_READ).map(|s| s.name), Some("read"));
        assert_eq!(
            lookup(abi::sysno::SYS_OPENAT).map(|s| s.name),
            Some("openat")
        );
        // 335..=423 are unassigned on x86-64.
        assert!(lookup(400).is_none());
        assert!(lookup(SYSCALL_COUNT).is_none());
    }
}
