//! Helpers shared by the `carapace` integration tests: running a process with
//! a timeout and a clean environment, normalising exit statuses, and a
//! line diff for failure messages.
//!
//! Each test target includes this with `mod common;` and uses a subset, hence
//! the `dead_code` allowance.

#![allow(dead_code)]

pub(crate) mod users;

use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Every platform carapace implements. Each conformance program runs under
/// each of them, and a platform that cannot run here fails its tests: it is
/// never skipped. Add `kvm` here when it lands.
pub(crate) const PLATFORMS: &[&str] = &["ptrace", "systrap"];

/// The environment every program under test gets, natively and in the
/// sandbox, so both runs see the same thing.
pub(crate) const CLEAN_ENV: &[(&str, &str)] = &[("PATH", "/usr/bin:/bin"), ("LC_ALL", "C")];

/// How long one run may take before it is killed and its test fails.
/// `CARAPACE_TEST_TIMEOUT` (seconds) overrides it.
pub(crate) fn timeout() -> Duration {
    std::env::var("CARAPACE_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(30), Duration::from_secs)
}

/// The workspace root: `crates/carapace/../..`.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `carapace` binary Cargo built for this test run.
pub(crate) fn carapace_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_carapace"))
}

/// Cargo's target directory (`target/` or `$CARGO_TARGET_DIR`), found from
/// this test binary's own path: `<target>/<profile>/deps/<test>`.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| workspace_root().join("target"), Path::to_path_buf)
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// It called `exit` with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past the timeout and was killed.
    TimedOut(Duration),
}

impl Status {
    /// The status a shell would report: the exit status, or 128+N for signal
    /// N. `None` for a timeout.
    pub(crate) fn shell_code(self) -> Option<i32> {
        match self {
            Self::Exited(code) => Some(code),
            Self::Signaled(sig) => Some(128 + sig),
            Self::TimedOut(_) => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exit status {code}"),
            Self::Signaled(sig) => write!(f, "killed by signal {sig} (status {})", 128 + sig),
            Self::TimedOut(after) => write!(f, "timed out after {} s (killed)", after.as_secs()),
        }
    }
}

/// What a finished run produced.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) status: Status,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl Output {
    pub(crate) fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub(crate) fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// A description for failure messages: the status and both streams
    /// (trimmed to their last few KiB).
    pub(crate) fn describe(&self) -> String {
        format!(
            "{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            tail(&self.stdout_str(), 4096),
            tail(&self.stderr_str(), 4096)
        )
    }
}

/// The last `max` bytes of `s` (on a char boundary), marked when cut.
pub(crate) fn tail(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("[... {start} bytes cut ...]\n{}", &s[start..])
}

/// Render a command line for messages.
pub(crate) fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A command with the clean, fixed environment and `/` as its cwd.
pub(crate) fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(CLEAN_ENV.iter().copied())
        .current_dir("/");
    cmd
}

/// Run `cmd` to completion with `stdin` as its input (or `/dev/null`),
/// capturing stdout and stderr. After `timeout` the whole process group is
/// killed and the status is [`Status::TimedOut`].
///
/// The child leads its own process group, so a hung sandbox and anything it
/// spawned die together, and nothing is left behind after a normal exit
/// either.
pub(crate) fn run(
    cmd: &mut Command,
    stdin: Option<&[u8]>,
    timeout: Duration,
) -> io::Result<Output> {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .process_group(0);
    let mut child = cmd.spawn()?;
    let pgid = i32::try_from(child.id()).expect("pids fit in pid_t");

    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let input = input.to_vec();
        // A program that never reads its stdin must not block us: write from
        // a thread, and ignore EPIPE.
        thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let stdout = spawn_reader(child.stdout.take().expect("stdout is piped"));
    let stderr = spawn_reader(child.stderr.take().expect("stderr is piped"));

    let status = wait_with_deadline(&mut child, pgid, timeout)?;
    // Anything the child left in its group (a stray sandbox process) goes now.
    kill_group(pgid);

    // The pipes close when the last holder exits; a process that escaped the
    // group could hold them open, so bound the wait.
    let grace = Duration::from_secs(5);
    let stdout = stdout.recv_timeout(grace).unwrap_or_default();
    let stderr = stderr.recv_timeout(grace).unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

fn spawn_reader(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx
}

fn wait_with_deadline(child: &mut Child, pgid: i32, timeout: Duration) -> io::Result<Status> {
    let start = Instant::now();
    let mut poll = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(match (status.code(), status.signal()) {
                (Some(code), _) => Status::Exited(code),
                (None, Some(sig)) => Status::Signaled(sig),
                (None, None) => unreachable!("a reaped child either exited or was signalled"),
            });
        }
        if start.elapsed() >= timeout {
            kill_group(pgid);
            child.wait()?;
            return Ok(Status::TimedOut(timeout));
        }
        thread::sleep(poll);
        poll = (poll * 2).min(Duration::from_millis(20));
    }
}

fn kill_group(pgid: i32) {
    // SAFETY: kill(2) takes no pointers; a negative pid names the process
    // group this helper created for its own child, and ESRCH (group gone) is
    // the expected, harmless outcome after a clean exit.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// A unified-style line diff of `expected` against `actual`, with three lines
/// of context around each change.
pub(crate) fn diff(
    expected_label: &str,
    expected: &str,
    actual_label: &str,
    actual: &str,
) -> String {
    let old: Vec<&str> = expected.lines().collect();
    let new: Vec<&str> = actual.lines().collect();
    let mut out = format!("--- {expected_label}\n+++ {actual_label}\n");
    // O(n*m) LCS: transcripts are short. Past that, show the first mismatch.
    if old.len().saturating_mul(new.len()) > 4_000_000 {
        let first = old.iter().zip(&new).position(|(a, b)| a != b);
        let at = first.unwrap_or(old.len().min(new.len()));
        out.push_str(&format!(
            "(too long to diff: {} vs {} lines; first difference at line {})\n-{}\n+{}\n",
            old.len(),
            new.len(),
            at + 1,
            old.get(at).unwrap_or(&"<end of output>"),
            new.get(at).unwrap_or(&"<end of output>")
        ));
        return out;
    }

    let ops = line_ops(&old, &new);
    const CONTEXT: usize = 3;
    let mut i = 0;
    while i < ops.len() {
        if matches!(ops[i], Op::Same(_)) {
            i += 1;
            continue;
        }
        // A hunk: back up for context, then run until CONTEXT*2 unchanged lines.
        let start = i.saturating_sub(CONTEXT);
        let mut end = i;
        let mut same_run = 0;
        while end < ops.len() && same_run <= CONTEXT * 2 {
            same_run = if matches!(ops[end], Op::Same(_)) {
                same_run + 1
            } else {
                0
            };
            end += 1;
        }
        let end = end - same_run.saturating_sub(CONTEXT);
        let first_old_line = ops[..start]
            .iter()
            .filter(|op| !matches!(op, Op::Add(_)))
            .count()
            + 1;
        out.push_str(&format!("@@ line {first_old_line} @@\n"));
        for op in &ops[start..end] {
            match op {
                Op::Same(l) => out.push_str(&format!(" {l}\n")),
                Op::Del(l) => out.push_str(&format!("-{l}\n")),
                Op::Add(l) => out.push_str(&format!("+{l}\n")),
            }
        }
        i = end;
    }
    if old == new {
        out.push_str("(the outputs differ in their final newline)\n");
    }
    out
}

enum Op<'a> {
    Same(&'a str),
    Del(&'a str),
    Add(&'a str),
}

fn line_ops<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Op<'a>> {
    // lcs[i][j]: LCS length of old[i..] and new[j..].
    let mut lcs = vec![vec![0u32; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(old.len() + new.len());
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            ops.push(Op::Same(old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(Op::Del(old[i]));
            i += 1;
        } else {
            ops.push(Op::Add(new[j]));
            j += 1;
        }
    }
    ops
}
