//! The debug log: carapace's own notes (a first ENOSYS, a platform failure)
//! and `--strace` output.
//!
//! Notes go to the `--debug-log` file, or to stderr with `--debug`, and are
//! dropped otherwise; strace lines go to the debug log if one is set, else to
//! stderr, as strace(1) does.

use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

/// Where notes and strace lines go.
#[derive(Debug)]
pub struct DebugLog {
    file: Option<Mutex<File>>,
    debug_to_stderr: bool,
    strace: bool,
}

impl DebugLog {
    /// A log writing to `file` (if any); `debug` also sends notes to stderr
    /// when there is no file; `strace` enables syscall tracing.
    pub fn new(file: Option<File>, debug: bool, strace: bool) -> DebugLog {
        DebugLog {
            file: file.map(Mutex::new),
            debug_to_stderr: debug,
            strace,
        }
    }

    /// Whether `--strace` is on.
    pub fn strace_enabled(&self) -> bool {
        self.strace
    }

    /// Writes a note (one line, no trailing newline needed).
    pub fn note(&self, line: &str) {
        if let Some(file) = &self.file {
            write_line(file, line);
        } else if self.debug_to_stderr {
            eprintln!("carapace: {line}");
        }
    }

    /// Writes one strace line.
    pub fn strace(&self, line: &str) {
        match &self.file {
            Some(file) => write_line(file, line),
            None => eprintln!("{line}"),
        }
    }
}

fn write_line(file: &Mutex<File>, line: &str) {
    // A poisoned lock only means another thread died mid-write; the file is
    // still usable, and losing a log line must not take the sandbox down.
    let mut file = file
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _ = writeln!(file, "{line}");
}
