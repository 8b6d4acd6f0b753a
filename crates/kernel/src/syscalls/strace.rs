//! `--strace`: each syscall with its arguments decoded from the table and
//! its result, one line per call, as strace(1) prints them.
//!
//! The line is printed when the call returns, so buffers the call fills can
//! be shown; a call that does not return (`exit_group`) is printed on entry.

use std::fmt::Write;

use abi::Errno;
use abi::fcntl::{AT_FDCWD, O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY};
use abi::sysno::{SYS_EXIT, SYS_EXIT_GROUP};

use super::SyscallArgs;
use super::table::{Arg, Syscall};
use crate::task::Task;

/// Bytes of a buffer shown before `...`, as strace's default `-s 32`.
const SHOWN_BYTES: usize = 32;
/// Elements of argv/envp shown.
const SHOWN_STRINGS: usize = 32;
/// Syscalls whose result is an address, shown in hex.
const ADDRESS_RESULTS: &[&str] = &["mmap", "mremap", "brk", "shmat"];

/// Prints the line of a call that will not return.
pub fn enter(task: &Task, nr: u64, row: Option<&Syscall>, args: &SyscallArgs) {
    if nr == SYS_EXIT || nr == SYS_EXIT_GROUP {
        let line = format!("{} = ?", call(task, nr, row, args, None));
        task.kernel.log.strace(&line);
    }
}

/// Prints the line of a call that returned `result`.
pub fn exit(
    task: &Task,
    nr: u64,
    row: Option<&Syscall>,
    args: &SyscallArgs,
    result: Result<u64, Errno>,
) {
    if nr == SYS_EXIT || nr == SYS_EXIT_GROUP {
        return;
    }
    let mut line = call(task, nr, row, args, result.ok());
    let hex = row.is_some_and(|r| ADDRESS_RESULTS.contains(&r.name));
    match result {
        Ok(value) if hex => {
            let _ = write!(line, " = {value:#x}");
        }
        Ok(value) => {
            let _ = write!(line, " = {}", value.cast_signed());
        }
        Err(errno) => {
            let _ = write!(line, " = -1 {errno}");
        }
    }
    task.kernel.log.strace(&line);
}

/// `name(arg, arg, ...)`.
fn call(
    task: &Task,
    nr: u64,
    row: Option<&Syscall>,
    args: &SyscallArgs,
    ret: Option<u64>,
) -> String {
    let raw = || args.0.map(|a| format!("{a:#x}")).join(", ");
    let Some(row) = row else {
        return format!("syscall_{nr:#x}({})", raw());
    };
    if row.handler.is_none() {
        // Unsupported: the table has no decoding for it, so show the registers.
        return format!("{}({})", row.name, raw());
    }
    let decoded: Vec<String> = row
        .args
        .iter()
        .enumerate()
        .map(|(i, kind)| decode(task, *kind, args, i, ret))
        .collect();
    format!("{}({})", row.name, decoded.join(", "))
}

fn decode(task: &Task, kind: Arg, args: &SyscallArgs, i: usize, ret: Option<u64>) -> String {
    let raw = args.u64(i);
    match kind {
        Arg::Int | Arg::Len => args.i64(i).to_string(),
        Arg::Hex => format!("{raw:#x}"),
        Arg::Ptr => pointer(raw),
        Arg::Fd if args.i32(i) == AT_FDCWD => "AT_FDCWD".to_string(),
        Arg::Fd => args.i32(i).to_string(),
        Arg::Path => match task.mm.read_c_string(raw, abi::fcntl::PATH_MAX) {
            Ok(path) => quote(&path, usize::MAX),
            Err(_) => pointer(raw),
        },
        Arg::InBuf(len_arg) => buffer(task, raw, args.u64(len_arg)),
        Arg::OutBuf => match ret {
            Some(len) => buffer(task, raw, len),
            None => pointer(raw),
        },
        Arg::OpenFlags => open_flags(args.u32(i)),
        Arg::Prot => flags(args.u64(i), PROT_NAMES, "PROT_NONE"),
        Arg::MapFlags => flags(args.u64(i), MAP_NAMES, "0"),
        Arg::AtFlags => flags(args.u64(i), AT_NAMES, "0"),
        Arg::Mode => format!("0{:o}", args.u32(i)),
        Arg::Signal => signal_name(args.u64(i)),
        Arg::StrArray => string_array(task, raw),
    }
}

fn pointer(addr: u64) -> String {
    if addr == 0 {
        "NULL".to_string()
    } else {
        format!("{addr:#x}")
    }
}

/// A C-style quoted string of at most `max` bytes, `...` after if cut.
fn quote(bytes: &[u8], max: usize) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(max) {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:o}");
            }
        }
    }
    out.push('"');
    if bytes.len() > max {
        out.push_str("...");
    }
    out
}

fn buffer(task: &Task, addr: u64, len: u64) -> String {
    let shown = usize::try_from(len)
        .unwrap_or(usize::MAX)
        .min(SHOWN_BYTES + 1);
    let mut bytes = vec![0u8; shown];
    let got = task.mm.copy_in_partial(addr, &mut bytes);
    if got == 0 && shown > 0 {
        return pointer(addr);
    }
    bytes.truncate(got);
    quote(&bytes, SHOWN_BYTES)
}

fn string_array(task: &Task, addr: u64) -> String {
    if addr == 0 {
        return "NULL".to_string();
    }
    let mut items = Vec::new();
    for i in 0..=SHOWN_STRINGS as u64 {
        let Ok(ptr) = task.mm.read_obj::<u64>(addr + 8 * i) else {
            return pointer(addr);
        };
        if ptr == 0 {
            return format!("[{}]", items.join(", "));
        }
        if items.len() == SHOWN_STRINGS {
            items.push("...".to_string());
            break;
        }
        match task.mm.read_c_string(ptr, abi::fcntl::PATH_MAX) {
            Ok(s) => items.push(quote(&s, SHOWN_BYTES)),
            Err(_) => items.push(pointer(ptr)),
        }
    }
    format!("[{}]", items.join(", "))
}

const OPEN_NAMES: &[(u64, &str)] = &[
    (abi::fcntl::O_CREAT as u64, "O_CREAT"),
    (abi::fcntl::O_EXCL as u64, "O_EXCL"),
    (abi::fcntl::O_NOCTTY as u64, "O_NOCTTY"),
    (abi::fcntl::O_TRUNC as u64, "O_TRUNC"),
    (abi::fcntl::O_APPEND as u64, "O_APPEND"),
    (abi::fcntl::O_NONBLOCK as u64, "O_NONBLOCK"),
    (abi::fcntl::O_SYNC as u64, "O_SYNC"),
    (abi::fcntl::O_DSYNC as u64, "O_DSYNC"),
    (abi::fcntl::FASYNC as u64, "O_ASYNC"),
    (abi::fcntl::O_DIRECT as u64, "O_DIRECT"),
    (abi::fcntl::O_LARGEFILE as u64, "O_LARGEFILE"),
    (abi::fcntl::O_DIRECTORY as u64, "O_DIRECTORY"),
    (abi::fcntl::O_NOFOLLOW as u64, "O_NOFOLLOW"),
    (abi::fcntl::O_NOATIME as u64, "O_NOATIME"),
    (abi::fcntl::O_CLOEXEC as u64, "O_CLOEXEC"),
    (abi::fcntl::O_PATH as u64, "O_PATH"),
    (abi::fcntl::O_TMPFILE as u64, "O_TMPFILE"),
];

const PROT_NAMES: &[(u64, &str)] = &[
    (abi::mman::PROT_READ as u64, "PROT_READ"),
    (abi::mman::PROT_WRITE as u64, "PROT_WRITE"),
    (abi::mman::PROT_EXEC as u64, "PROT_EXEC"),
    (abi::mman::PROT_GROWSDOWN as u64, "PROT_GROWSDOWN"),
    (abi::mman::PROT_GROWSUP as u64, "PROT_GROWSUP"),
];

const MAP_NAMES: &[(u64, &str)] = &[
    (abi::mman::MAP_SHARED_VALIDATE as u64, "MAP_SHARED_VALIDATE"),
    (abi::mman::MAP_SHARED as u64, "MAP_SHARED"),
    (abi::mman::MAP_PRIVATE as u64, "MAP_PRIVATE"),
    (abi::mman::MAP_FIXED as u64, "MAP_FIXED"),
    (abi::mman::MAP_ANONYMOUS as u64, "MAP_ANONYMOUS"),
    (abi::mman::MAP_32BIT as u64, "MAP_32BIT"),
    (abi::mman::MAP_GROWSDOWN as u64, "MAP_GROWSDOWN"),
    (abi::mman::MAP_DENYWRITE as u64, "MAP_DENYWRITE"),
    (abi::mman::MAP_EXECUTABLE as u64, "MAP_EXECUTABLE"),
    (abi::mman::MAP_LOCKED as u64, "MAP_LOCKED"),
    (abi::mman::MAP_NORESERVE as u64, "MAP_NORESERVE"),
    (abi::mman::MAP_POPULATE as u64, "MAP_POPULATE"),
    (abi::mman::MAP_NONBLOCK as u64, "MAP_NONBLOCK"),
    (abi::mman::MAP_STACK as u64, "MAP_STACK"),
    (abi::mman::MAP_HUGETLB as u64, "MAP_HUGETLB"),
    (abi::mman::MAP_FIXED_NOREPLACE as u64, "MAP_FIXED_NOREPLACE"),
];

const AT_NAMES: &[(u64, &str)] = &[
    (
        abi::fcntl::AT_SYMLINK_NOFOLLOW as u64,
        "AT_SYMLINK_NOFOLLOW",
    ),
    (abi::fcntl::AT_REMOVEDIR as u64, "AT_REMOVEDIR|AT_EACCESS"),
    (abi::fcntl::AT_SYMLINK_FOLLOW as u64, "AT_SYMLINK_FOLLOW"),
    (abi::fcntl::AT_NO_AUTOMOUNT as u64, "AT_NO_AUTOMOUNT"),
    (abi::fcntl::AT_EMPTY_PATH as u64, "AT_EMPTY_PATH"),
    (
        abi::fcntl::AT_STATX_FORCE_SYNC as u64,
        "AT_STATX_FORCE_SYNC",
    ),
    (abi::fcntl::AT_STATX_DONT_SYNC as u64, "AT_STATX_DONT_SYNC"),
];

/// `A|B|0x40` for the named bits of `value`; `zero` when none are set.
fn flags(value: u64, names: &[(u64, &str)], zero: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = value;
    for &(bits, name) in names {
        if bits != 0 && rest & bits == bits {
            parts.push(name.to_string());
            rest &= !bits;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        zero.to_string()
    } else {
        parts.join("|")
    }
}

fn open_flags(value: u32) -> String {
    let mode = match value & O_ACCMODE {
        O_RDONLY => "O_RDONLY",
        O_WRONLY => "O_WRONLY",
        O_RDWR => "O_RDWR",
        _ => "O_ACCMODE",
    };
    let rest = u64::from(value & !O_ACCMODE);
    if rest == 0 {
        mode.to_string()
    } else {
        format!("{mode}|{}", flags(rest, OPEN_NAMES, "0"))
    }
}

fn signal_name(signo: u64) -> String {
    match (abi::signal::name(signo), signo) {
        (Some(name), _) => name.to_string(),
        (None, 32..=64) => format!("SIGRT_{}", signo - 32),
        _ => signo.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_flag_words() {
        assert_eq!(
            open_flags(abi::fcntl::O_RDONLY | abi::fcntl::O_CLOEXEC),
            "O_RDONLY|O_CLOEXEC"
        );
        assert_eq!(
            open_flags(abi::fcntl::O_WRONLY | 0x4000_0000),
            "O_WRONLY|0x40000000"
        );
        assert_eq!(flags(3, PROT_NAMES, "PROT_NONE"), "PROT_READ|PROT_WRITE");
        assert_eq!(flags(0, PROT_NAMES, "PROT_NONE"), "PROT_NONE");
        assert_eq!(flags(0x22, MAP_NAMES, "0"), "MAP_PRIVATE|MAP_ANONYMOUS");
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(34), "SIGRT_2");
        assert_eq!(signal_name(0), "0");
    }

    #[test]
    fn quotes_like_strace() {
        assert_eq!(quote(b"ab\n\"\x01", usize::MAX), "\"ab\\n\\\"\\1\"");
        assert_eq!(quote(b"abcdef", 3), "\"abc\"...");
    }
}
