//! `carapace-bench`: runs each workload natively, under each carapace
//! platform that works on this host and under any `--compare` sandbox,
//! interleaved, and reports the median time per operation, the ratio to
//! native and the spread, plus peak memory. See docs/benchmarks.md.
//!
//! It only measures from the outside: it never links the sandbox, and it
//! changes nothing on the host beyond its own scratch directories in $TMPDIR
//! and /var/tmp.
#![deny(unsafe_code)]

mod columns;
mod host;
mod report;
mod runner;
mod stats;
mod svg;
mod sys;
mod template;
mod workloads;

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use crate::columns::{Column, PlatformStatus};
use crate::report::{Cell, Report, Row};
use crate::runner::Stdout;
use crate::template::Compare;
use crate::workloads::{Expect, Prepared, Timing, Workdir, Workload};

/// Measure what carapace costs on this machine: every workload natively and
/// under each sandbox, interleaved, with ratios to native.
#[derive(Debug, Parser)]
#[command(name = "carapace-bench", version, about)]
struct Cli {
    /// Fewer iterations and repetitions: a first look in under two minutes.
    #[arg(long)]
    quick: bool,

    /// Repetitions of every column (default 5, or 3 with --quick), after one
    /// warm-up round that is not counted.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    repeat: Option<u32>,

    /// carapace platforms to measure, comma-separated, or `none`. Default:
    /// every platform `carapace platforms` says works here.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    platforms: Option<Vec<String>>,

    /// Workloads to run, comma-separated: names, groups (syscall, file,
    /// memory, process, ipc, program) or name prefixes (getppid, pipe).
    /// Default: all; `--list` shows them.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    workloads: Option<Vec<String>>,

    /// Another sandbox as a column: NAME='COMMAND ... {} ...', where {} is
    /// the workload's command. Repeatable.
    #[arg(long, value_name = "NAME=TEMPLATE", value_parser = template::parse_compare)]
    compare: Vec<Compare>,

    /// The carapace binary. Default: the one next to this executable (built
    /// first when run through cargo).
    #[arg(long, value_name = "PATH")]
    carapace: Option<PathBuf>,

    /// Write every sample and the host description as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,

    /// Draw the ratios to native as an SVG bar chart.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,

    /// Kill a run after this many seconds (default 60, or 20 with --quick).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,

    /// List the workloads and exit.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("carapace-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    if cli.list {
        for w in workloads::ALL {
            println!(
                "{:<16} {:<8} per {:<11} {}",
                w.name, w.group, w.unit, w.what
            );
        }
        return Ok(());
    }
    let host = host::Host::read();
    let selected = select_workloads(cli.workloads.as_deref())?;
    let repeat = cli.repeat.unwrap_or(if cli.quick { 3 } else { 5 });
    let timeout = Duration::from_secs(cli.timeout.unwrap_or(if cli.quick { 20 } else { 60 }));

    let (carapace, platforms, mut columns) = carapace_columns(cli)?;
    columns.insert(0, Column::native());
    columns.extend(cli.compare.iter().map(columns::compare_column));

    let workdir = Workdir::create(&selected).context("prepare the workloads")?;
    let rows = selected
        .iter()
        .map(|w| {
            let prepared = w.prepare(&workdir, cli.quick);
            Row {
                workload: w,
                skipped: prepared.as_ref().err().map(|why| format!("skipped: {why}")),
                iterations: prepared.as_ref().ok().and_then(|p| p.iterations),
                argv: prepared
                    .as_ref()
                    .map(|p| p.argv.clone())
                    .unwrap_or_default(),
                cells: columns.iter().map(|_| Cell::default()).collect(),
                prepared: prepared.ok(),
            }
        })
        .collect();
    let mut report = Report {
        host,
        quick: cli.quick,
        repeat,
        linkage: workdir.linkage,
        carapace,
        platforms,
        columns,
        rows,
    };
    measure(&mut report, &workdir, timeout);

    print!("{}", report.table());
    if let Some(path) = &cli.json {
        let text =
            serde_json::to_string_pretty(&report.json()).context("encode the JSON report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("write {}", path.display()))?;
        eprintln!("carapace-bench: wrote {}", path.display());
    }
    if let Some(path) = &cli.svg {
        std::fs::write(path, report.svg()).with_context(|| format!("write {}", path.display()))?;
        eprintln!("carapace-bench: wrote {}", path.display());
    }
    Ok(())
}

/// The workloads `--workloads` names, in report order.
fn select_workloads(wanted: Option<&[String]>) -> anyhow::Result<Vec<&'static Workload>> {
    let Some(wanted) = wanted else {
        return Ok(workloads::ALL.iter().collect());
    };
    for sel in wanted {
        if !workloads::ALL.iter().any(|w| w.matches(sel)) {
            bail!("--workloads: no workload called {sel:?}; `carapace-bench --list` shows them");
        }
    }
    Ok(workloads::ALL
        .iter()
        .filter(|w| wanted.iter().any(|sel| w.matches(sel)))
        .collect())
}

/// The carapace binary, what `carapace platforms` says, and the columns to run.
fn carapace_columns(
    cli: &Cli,
) -> anyhow::Result<(Option<PathBuf>, Vec<PlatformStatus>, Vec<Column>)> {
    let wanted = cli.platforms.as_deref();
    if wanted.is_some_and(|w| w.iter().all(|p| p == "none" || p.is_empty())) {
        return Ok((None, Vec::new(), Vec::new()));
    }
    let binary = columns::find_carapace(cli.carapace.as_deref())?;
    let statuses = columns::query_platforms(&binary)?;
    let columns = columns::carapace_columns(&binary, &statuses, wanted);
    Ok((Some(binary), statuses, columns))
}

/// Runs every repetition: for each workload, a warm-up round and then
/// `repeat` rounds, each round running every column in turn.
fn measure(report: &mut Report, workdir: &Workdir, timeout: Duration) {
    let total = report.rows.len();
    let tty = std::io::stderr().is_terminal();
    let columns = report.columns.clone();
    for (index, row) in report.rows.iter_mut().enumerate() {
        let Some(prepared) = row.prepared.clone() else {
            eprintln!(
                "[{:>2}/{total}] {:<16} {}",
                index + 1,
                row.workload.name,
                row.skipped.as_deref().unwrap_or("")
            );
            continue;
        };
        // The stdout every run must print, once known.
        let mut expected = match prepared.expect {
            Expect::Exactly(text) => Some(text.to_owned()),
            Expect::Any | Expect::SameAsNative => None,
        };
        for round in 0..=report.repeat {
            let label = if round == 0 {
                "warm-up".to_owned()
            } else {
                format!("rep {round}/{}", report.repeat)
            };
            eprint!(
                "[{:>2}/{total}] {:<16} {label:<9}",
                index + 1,
                row.workload.name
            );
            for (i, column) in columns.iter().enumerate() {
                // Without a native figure there is nothing to compare with.
                if i > 0 && row.cells[0].failure.is_some() {
                    break;
                }
                let cell = &mut row.cells[i];
                if column.unusable.is_some() || cell.failure.is_some() {
                    continue;
                }
                eprint!(" {}", column.name);
                let _ = std::io::stderr().flush();
                match run_once(&prepared, column, workdir, timeout, expected.as_deref()) {
                    Ok((sample, stdout)) => {
                        if prepared.expect == Expect::SameAsNative && expected.is_none() {
                            expected = Some(stdout);
                        }
                        if round > 0 {
                            cell.push(sample);
                        }
                    }
                    Err(why) => {
                        eprint!("(failed)");
                        cell.failure = Some(why);
                    }
                }
            }
            eprintln!();
            if row.cells[0].failure.is_some() {
                break;
            }
        }
        if tty {
            eprintln!("{}", report::progress_summary(row, &columns));
        }
    }
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Nanoseconds per operation (inside) or per run (outside).
    pub(crate) ns: f64,
    /// `wait4` peak RSS of the run's process (or the largest one it waited for).
    pub(crate) maxrss_kib: u64,
    /// Peak PSS summed over the run's process tree, sampled (0: not sampled).
    pub(crate) peak_pss_kib: u64,
    /// The sandbox's own figure, when it reports one (see `parse_memory_line`).
    pub(crate) sandbox_memory: Option<SandboxMemory>,
}

/// MemoryFile blocks and sentry RSS, in bytes, as carapace reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SandboxMemory {
    pub(crate) file: u64,
    pub(crate) sentry: u64,
}

/// Runs `prepared` once in `column`; the sample and the trimmed stdout, or
/// why it failed. A program workload must print `expected` when it is given.
fn run_once(
    prepared: &Prepared,
    column: &Column,
    workdir: &Workdir,
    timeout: Duration,
    expected: Option<&str>,
) -> Result<(Sample, String), String> {
    let [out, err, result, log] = workdir.run_files();
    let _ = std::fs::remove_file(&log);
    let cmd = column.command(&prepared.argv, &log);
    let files = runner::Files {
        stdout: &out,
        stderr: &err,
        result: &result,
    };
    let outcome = runner::run(
        &workdir.bin("launch"),
        &cmd,
        prepared.stdout,
        files,
        timeout,
        // Native runs report ru_maxrss and carapace its own figure: only
        // other sandboxes need their tree's memory sampled.
        column.is_compare(),
    )
    .map_err(|e| format!("{e:#}"))?;
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let debug_log = if column.is_carapace() {
        std::fs::read_to_string(&log).unwrap_or_default()
    } else {
        String::new()
    };
    let why = |what: String| {
        let mut why = format!("{}: {what}", column.failure_label());
        if let Some(line) = first_line(&stderr) {
            why += &format!("; stderr: {line}");
        }
        if let Some(notes) = debug_log_summary(&debug_log) {
            why += &format!("; debug log: {notes}");
        }
        why
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(runner::Failure::TimedOut) => {
            return Err(why(format!("timed out after {} s", timeout.as_secs())));
        }
        Err(runner::Failure::CannotStart(msg)) if column.is_compare() => {
            return Err(format!("missing: {msg}"));
        }
        Err(runner::Failure::CannotStart(msg)) => return Err(why(format!("cannot start {msg}"))),
    };
    if !outcome.status.success() {
        return Err(why(runner::describe_status(outcome.status)));
    }
    let stdout = if prepared.stdout == Stdout::Capture {
        std::fs::read_to_string(&out).unwrap_or_default()
    } else {
        String::new()
    };
    let ns = match prepared.timing {
        Timing::Inside => match stdout.trim().parse::<f64>() {
            Ok(ns) if ns.is_finite() && ns >= 0.0 => ns,
            _ => {
                return Err(why(format!(
                    "exit 0 but no result on stdout (got {:?})",
                    truncate(stdout.trim(), 40)
                )));
            }
        },
        Timing::Outside => {
            if let Some(expect) = expected
                && stdout.trim() != expect
            {
                return Err(why(format!(
                    "exit 0 but printed {:?}, not {expect:?}",
                    truncate(stdout.trim(), 40)
                )));
            }
            outcome.wall.as_secs_f64() * 1e9
        }
    };
    let sample = Sample {
        ns,
        maxrss_kib: outcome.maxrss_kib,
        peak_pss_kib: outcome.peak_pss_kib,
        sandbox_memory: debug_log.lines().find_map(parse_memory_line),
    };
    Ok((sample, stdout.trim().to_owned()))
}

/// The syscalls carapace noted as unsupported (`unsupported syscall N (name)`),
/// or else the log's first line.
fn debug_log_summary(log: &str) -> Option<String> {
    let mut names: Vec<&str> = log
        .lines()
        .filter_map(|l| {
            l.split_once("unsupported syscall ")?
                .1
                .split_once('(')?
                .1
                .split_once(')')
        })
        .map(|(name, _)| name)
        .collect();
    names.dedup();
    if names.is_empty() {
        first_line(log).map(str::to_owned)
    } else {
        Some(format!("ENOSYS from {}", names.join(", ")))
    }
}

fn first_line(text: &str) -> Option<&str> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| truncate(l, 160))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// The hook this harness asks of carapace: a debug-log line written at exit,
/// `memory: file=BYTES sentry=BYTES`, with the peak MemoryFile allocation
/// and the peak sentry RSS not counting its MemoryFile mapping.
pub(crate) fn parse_memory_line(line: &str) -> Option<SandboxMemory> {
    let rest = &line[line.find("memory:")? + "memory:".len()..];
    let mut file = None;
    let mut sentry = None;
    for field in rest.split_whitespace() {
        match field.split_once('=') {
            Some(("file", v)) => file = v.parse().ok(),
            Some(("sentry", v)) => sentry = v.parse().ok(),
            _ => {}
        }
    }
    Some(SandboxMemory {
        file: file?,
        sentry: sentry?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_hook_line() {
        assert_eq!(
            parse_memory_line("memory: file=1048576 sentry=2097152"),
            Some(SandboxMemory {
                file: 1 << 20,
                sentry: 2 << 20
            })
        );
        assert_eq!(
            parse_memory_line("[0.123] memory: sentry=5 file=7"),
            Some(SandboxMemory { file: 7, sentry: 5 })
        );
        assert_eq!(parse_memory_line("memory: file=1"), None);
        let log = "unsupported syscall 334 (rseq): ENOSYS\nunsupported syscall 1 (write): ENOSYS\n";
        assert_eq!(
            debug_log_summary(log).as_deref(),
            Some("ENOSYS from rseq, write")
        );
        assert_eq!(debug_log_summary("boom\n").as_deref(), Some("boom"));
        assert_eq!(debug_log_summary(""), None);
        assert_eq!(
            parse_memory_line("unsupported syscall 56 (clone): ENOSYS"),
            None
        );
    }

    #[test]
    fn selection_by_name_group_and_prefix() {
        let names = |sel: &[&str]| {
            let sel: Vec<String> = sel.iter().map(|s| (*s).to_owned()).collect();
            select_workloads(Some(&sel))
                .unwrap()
                .iter()
                .map(|w| w.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&["getppid"]), ["getppid-syscall", "getppid-libc"]);
        assert_eq!(
            names(&["ipc", "stat"]),
            ["stat", "pipe-pingpong", "pipe-throughput"]
        );
        select_workloads(Some(&["nope".to_owned()])).unwrap_err();
    }
}
