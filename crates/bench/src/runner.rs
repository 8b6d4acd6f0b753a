//! Runs one command once, through the launcher (`workloads/launch.c`): its
//! own process group, stdin from /dev/null, stdout and stderr into files, a
//! wall-clock timeout, and the wall time, peak RSS and status the launcher
//! measured.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::sys;

/// Where a run's stdout goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stdout {
    /// Into a file the caller reads afterwards.
    Capture,
    /// To /dev/null (the command's output is large and not needed).
    Discard,
}

/// One finished run.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: ExitStatus,
    /// From just before the spawn to just after the wait, taken by the launcher.
    pub(crate) wall: Duration,
    /// `ru_maxrss` from `wait4`: the peak RSS of the command's process, or of
    /// the largest descendant it waited for, in KiB.
    pub(crate) maxrss_kib: u64,
    /// The largest PSS summed over the command's whole process tree, sampled
    /// every 20 ms while it ran (0 when it ended before the first sample).
    pub(crate) peak_pss_kib: u64,
}

/// Files one run writes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Files<'a> {
    pub(crate) stdout: &'a Path,
    pub(crate) stderr: &'a Path,
    /// The launcher's `WALL_NS MAXRSS_KIB STATUS` line.
    pub(crate) result: &'a Path,
}

/// Why a run has no outcome.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Killed after the timeout.
    TimedOut,
    /// The command could not be started (the launcher's message).
    CannotStart(String),
}

/// Runs `argv` via `launcher`, killing its process group after `timeout`.
/// The outer error is the harness's own failure (cannot start the launcher,
/// cannot create files).
pub(crate) fn run(
    launcher: &Path,
    argv: &[OsString],
    stdout: Stdout,
    files: Files<'_>,
    timeout: Duration,
    sample_memory: bool,
) -> anyhow::Result<Result<Outcome, Failure>> {
    if argv.is_empty() {
        bail!("empty command");
    }
    let _ = std::fs::remove_file(files.result);
    let stdout = match stdout {
        Stdout::Capture => Stdio::from(
            File::create(files.stdout)
                .with_context(|| format!("create {}", files.stdout.display()))?,
        ),
        Stdout::Discard => Stdio::null(),
    };
    let stderr =
        File::create(files.stderr).with_context(|| format!("create {}", files.stderr.display()))?;
    let mut child = Command::new(launcher)
        .arg(files.result)
        .args(argv)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .with_context(|| format!("start {}", launcher.display()))?;
    let pid = libc::pid_t::try_from(child.id()).expect("pids fit in pid_t");

    // The watchdog enforces the timeout and, if asked, samples the tree's
    // memory. A sample reads every process's smaps_rollup, which walks its
    // page tables under its mmap lock: a cost the command shares (a mapping
    // change waits for it), so only commands that report no memory of
    // their own are sampled.
    let (done, wait_done) = mpsc::channel::<()>();
    let every = if sample_memory { SAMPLE_EVERY } else { timeout };
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + timeout;
        let mut peak_pss_kib = 0;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match wait_done.recv_timeout(left.min(every)) {
                Err(mpsc::RecvTimeoutError::Timeout) if left <= every => {
                    sys::kill_group(pid);
                    return (true, peak_pss_kib);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    peak_pss_kib = peak_pss_kib.max(tree_pss_kib(pid));
                }
                _ => return (false, peak_pss_kib),
            }
        }
    });
    let waited = sys::wait_exited(pid);
    // Stop the watchdog before reaping, so it never signals a reused pid.
    let _ = done.send(());
    let (timed_out, peak_pss_kib) = watchdog.join().unwrap_or((false, 0));
    waited.context("wait for the launcher")?;
    // Whatever the command left behind in its group (stubs, a daemonised
    // child) goes too; the launcher is still a zombie, so the group is ours.
    sys::kill_group(pid);
    child.wait().context("reap the launcher")?;
    if timed_out {
        return Ok(Err(Failure::TimedOut));
    }
    let text = std::fs::read_to_string(files.result)
        .with_context(|| format!("read the launcher's result {}", files.result.display()))?;
    let mut result = parse_result(&text).with_context(|| format!("the launcher wrote {text:?}"))?;
    if let Ok(outcome) = &mut result {
        outcome.peak_pss_kib = peak_pss_kib;
    }
    Ok(result)
}

/// How often the watchdog samples the tree's memory: rarely enough to cost
/// well under 1 % of a CPU, often enough to see programs that run a while.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// The PSS of every process below `launcher` (not the launcher itself),
/// summed, in KiB. PSS splits each shared page among the processes that map
/// it, so a MemoryFile page mapped by the sentry and a stub counts once.
/// Processes that vanish while we look are skipped.
fn tree_pss_kib(launcher: libc::pid_t) -> u64 {
    let mut total = 0;
    let mut queue = children(launcher);
    while let Some(pid) = queue.pop() {
        queue.extend(children(pid));
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        total += rollup
            .lines()
            .find_map(|l| l.strip_prefix("Pss:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

/// The children of every thread of `pid` (`/proc/PID/task/TID/children`).
fn children(pid: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Parses the launcher's `WALL_NS MAXRSS_KIB STATUS` or `error MESSAGE`.
fn parse_result(text: &str) -> anyhow::Result<Result<Outcome, Failure>> {
    if let Some(msg) = text.strip_prefix("error ") {
        return Ok(Err(Failure::CannotStart(msg.trim().to_owned())));
    }
    let mut fields = text.split_whitespace();
    let mut next = |what: &str| fields.next().with_context(|| format!("no {what}"));
    let wall: u64 = next("wall time")?.parse()?;
    let maxrss_kib: u64 = next("maxrss")?.parse()?;
    let status: i32 = next("status")?.parse()?;
    Ok(Ok(Outcome {
        status: ExitStatus::from_raw(status),
        wall: Duration::from_nanos(wall),
        maxrss_kib,
        peak_pss_kib: 0,
    }))
}

/// "exit 1", "exit 139 (128+SIGSEGV)", "killed by SIGKILL".
pub(crate) fn describe_status(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        return format!("killed by {}", signal_name(sig));
    }
    match status.code() {
        Some(code) if code > 128 && code < 128 + 32 => {
            format!("exit {code} (128+{})", signal_name(code - 128))
        }
        Some(code) => format!("exit {code}"),
        None => format!("{status}"),
    }
}

fn signal_name(sig: i32) -> String {
    u64::try_from(sig)
        .ok()
        .and_then(abi::signal::name)
        .map_or_else(|| format!("signal {sig}"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_like_a_shell_would_say_them() {
        assert_eq!(describe_status(ExitStatus::from_raw(1 << 8)), "exit 1");
        assert_eq!(
            describe_status(ExitStatus::from_raw(139 << 8)),
            "exit 139 (128+SIGSEGV)"
        );
        assert_eq!(
            describe_status(ExitStatus::from_raw(9)),
            "killed by SIGKILL"
        );
    }

    #[test]
    fn launcher_results() {
        let o = parse_result("1500 648 768\n").unwrap().unwrap();
        assert_eq!(
            (o.wall, o.maxrss_kib, o.status.code()),
            (Duration::from_nanos(1500), 648, Some(3))
        );
        match parse_result("error runsc: No such file or directory\n").unwrap() {
            Err(Failure::CannotStart(msg)) => assert_eq!(msg, "runsc: No such file or directory"),
            other => panic!("{other:?}"),
        }
        parse_result("12 x 0").unwrap_err();
    }

    #[test]
    fn runs_a_command_through_the_launcher() {
        let dir =
            std::env::temp_dir().join(format!("carapace-bench-runner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let launcher = dir.join("launch");
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/workloads/launch.c");
        let built = Command::new("cc")
            .args(["-O2", "-o"])
            .arg(&launcher)
            .arg(src)
            .status()
            .unwrap();
        assert!(built.success());
        let (out, err, result) = (dir.join("out"), dir.join("err"), dir.join("result"));
        let files = Files {
            stdout: &out,
            stderr: &err,
            result: &result,
        };

        let argv = ["sh", "-c", "echo hi; exit 3"].map(OsString::from);
        let o = run(
            &launcher,
            &argv,
            Stdout::Capture,
            files,
            Duration::from_secs(30),
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(o.status.code(), Some(3));
        assert!(o.maxrss_kib > 0 && o.wall > Duration::ZERO);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "hi\n");

        // 64 MiB held for half a second shows in the sampled tree PSS, and
        // nothing is sampled when not asked for.
        let argv = [
            "python3",
            "-c",
            "import time; b = bytearray(64 << 20); time.sleep(0.5)",
        ]
        .map(OsString::from);
        for sample in [true, false] {
            let o = run(
                &launcher,
                &argv,
                Stdout::Capture,
                files,
                Duration::from_secs(30),
                sample,
            )
            .unwrap()
            .unwrap();
            assert_eq!(o.peak_pss_kib > 60 << 10, sample, "{o:?}");
        }

        let argv = ["sleep", "10"].map(OsString::from);
        let r = run(
            &launcher,
            &argv,
            Stdout::Discard,
            files,
            Duration::from_millis(100),
            false,
        )
        .unwrap();
        assert!(matches!(r, Err(Failure::TimedOut)));

        let argv = ["/nonexistent/tool"].map(OsString::from);
        let r = run(
            &launcher,
            &argv,
            Stdout::Discard,
            files,
            Duration::from_secs(30),
            true,
        )
        .unwrap();
        assert!(matches!(r, Err(Failure::CannotStart(_))));
        let _ = std::fs::remove_dir_all(dir);
    }
}
