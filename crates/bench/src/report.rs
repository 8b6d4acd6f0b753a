//! The results and their three views: the text table on stdout, the JSON
//! with every sample, and the SVG chart.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::columns::{Column, Kind, PlatformStatus};
use crate::host::Host;
use crate::stats::{self, Summary};
use crate::workloads::{Prepared, Timing, Workload};
use crate::{Sample, SandboxMemory, svg};

/// One workload in one column: its samples, or why it did not run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cell {
    pub(crate) samples: Vec<Sample>,
    pub(crate) failure: Option<String>,
}

impl Cell {
    pub(crate) fn push(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    fn ns(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.ns).collect()
    }

    fn summary(&self) -> Option<Summary> {
        Summary::of(&self.ns())
    }

    /// Median peak RSS in KiB as `wait4` saw it.
    fn maxrss_kib(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss, reason = "KiB counts are far below 2^52")]
        let kib: Vec<f64> = self.samples.iter().map(|s| s.maxrss_kib as f64).collect();
        stats::median(&kib)
    }

    /// Median of the outside lower bound on a sandbox's memory, in KiB: per
    /// run, the larger of `wait4`'s ru_maxrss and the sampled tree PSS.
    fn lower_bound_kib(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss, reason = "KiB counts are far below 2^52")]
        let kib: Vec<f64> = self
            .samples
            .iter()
            .map(|s| s.maxrss_kib.max(s.peak_pss_kib) as f64)
            .collect();
        stats::median(&kib)
    }

    /// Median of the sandbox's own memory figure, when every sample has one.
    fn sandbox_memory(&self) -> Option<(f64, f64)> {
        let mem: Option<Vec<SandboxMemory>> =
            self.samples.iter().map(|s| s.sandbox_memory).collect();
        let mem = mem.filter(|m| !m.is_empty())?;
        #[allow(clippy::cast_precision_loss, reason = "byte counts are far below 2^52")]
        let (file, sentry): (Vec<f64>, Vec<f64>) =
            mem.iter().map(|m| (m.file as f64, m.sentry as f64)).unzip();
        Some((stats::median(&file)?, stats::median(&sentry)?))
    }
}

/// One workload across all columns.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) workload: &'static Workload,
    pub(crate) skipped: Option<String>,
    pub(crate) iterations: Option<u64>,
    pub(crate) argv: Vec<OsString>,
    pub(crate) prepared: Option<Prepared>,
    /// One per column, in column order; the first is native.
    pub(crate) cells: Vec<Cell>,
}

impl Row {
    /// The ratio of column `i`'s median to native's.
    fn ratio(&self, i: usize) -> Option<f64> {
        stats::ratio(
            self.cells[i].summary()?.median,
            self.cells[0].summary()?.median,
        )
    }
}

/// Everything one run of the harness measured.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) host: Host,
    pub(crate) quick: bool,
    pub(crate) repeat: u32,
    pub(crate) linkage: &'static str,
    pub(crate) carapace: Option<PathBuf>,
    pub(crate) platforms: Vec<PlatformStatus>,
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: Vec<Row>,
}

/// `ns` with three significant digits in a unit that suits it.
pub(crate) fn format_ns(ns: f64) -> String {
    let (scale, unit) = unit_for(ns);
    format!("{} {unit}", sig3(ns / scale))
}

fn unit_for(ns: f64) -> (f64, &'static str) {
    match ns.abs() {
        x if x >= 1e9 => (1e9, "s"),
        x if x >= 1e6 => (1e6, "ms"),
        x if x >= 1e3 => (1e3, "µs"),
        _ => (1.0, "ns"),
    }
}

fn sig3(x: f64) -> String {
    match x.abs() {
        a if a >= 100.0 => format!("{x:.0}"),
        a if a >= 10.0 => format!("{x:.1}"),
        _ => format!("{x:.2}"),
    }
}

/// `×78`, `×3.4`, `×1.02`.
pub(crate) fn format_ratio(r: f64) -> String {
    format!("×{}", sig3(r))
}

/// `median [min–max]` with min and max in the median's unit.
fn format_summary(s: &Summary) -> String {
    let (scale, _) = unit_for(s.median);
    format!(
        "{} [{}–{}]",
        format_ns(s.median),
        sig3(s.min / scale),
        sig3(s.max / scale)
    )
}

fn format_mib(kib: f64) -> String {
    format!("{} MiB", sig3(kib / 1024.0))
}

/// Footnotes: identical reasons share one number.
#[derive(Debug, Default)]
struct Notes(Vec<String>);

impl Notes {
    fn cite(&mut self, text: &str) -> usize {
        if let Some(i) = self.0.iter().position(|t| t == text) {
            return i + 1;
        }
        self.0.push(text.to_owned());
        self.0.len()
    }
}

/// The short label a failure shows in its cell (the rest goes to a note).
fn short_label(failure: &str) -> &str {
    failure.split(':').next().unwrap_or(failure)
}

fn render(rows: &[Vec<String>]) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..ncols).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            let _ = write!(line, "{cell:<w$}   ");
        }
        out += line.trim_end();
        out.push('\n');
    }
    out
}

impl Report {
    fn header(&self) -> String {
        let h = &self.host;
        let mut out = format!("carapace-bench, {} UTC\n", h.date);
        let _ = writeln!(
            out,
            "host {}, kernel {}, {} × {}",
            h.hostname, h.kernel, h.cpus, h.cpu_model
        );
        let _ = writeln!(out, "load average at start: {}", h.loadavg);
        if let Some(bin) = &self.carapace {
            let platforms: Vec<String> = self
                .platforms
                .iter()
                .map(|p| match &p.unavailable {
                    None => format!("{} works", p.name),
                    Some(why) => format!("{} unavailable ({why})", p.name),
                })
                .collect();
            let _ = writeln!(
                out,
                "carapace: {} [{}]",
                bin.display(),
                platforms.join("; ")
            );
        }
        let _ = writeln!(
            out,
            "{} repetitions per column after a warm-up, interleaved{}; C workloads linked {}",
            self.repeat,
            if self.quick { " (--quick)" } else { "" },
            self.linkage
        );
        out
    }

    /// The report printed on stdout.
    pub(crate) fn table(&self) -> String {
        let mut notes = Notes::default();
        let mut out = self.header();
        out += "\nTime per operation: median [min–max over the repetitions], ×ratio of the median to native.\n";
        out += "Micro workloads time themselves (start-up excluded); `program` workloads are wall clock of the whole command.\n\n";
        let mut rows = vec![{
            let mut h = vec!["workload".to_owned(), "per".to_owned()];
            h.extend(self.columns.iter().map(|c| c.name.clone()));
            h
        }];
        for row in &self.rows {
            let mut line = vec![row.workload.name.to_owned(), row.workload.unit.to_owned()];
            for (i, (cell, column)) in row.cells.iter().zip(&self.columns).enumerate() {
                line.push(if let Some(why) = &row.skipped {
                    format!("skipped [{}]", notes.cite(why))
                } else if let Some(why) = &column.unusable {
                    if why.chars().count() <= 40 {
                        why.clone()
                    } else {
                        format!(
                            "{} [{}]",
                            short_label(why),
                            notes.cite(&format!("{}: {why}", column.name))
                        )
                    }
                } else if let Some(why) = &cell.failure {
                    format!(
                        "{} [{}]",
                        short_label(why),
                        notes.cite(&format!("{}, {}: {why}", row.workload.name, column.name))
                    )
                } else if let Some(s) = cell.summary() {
                    match row.ratio(i).filter(|_| i > 0) {
                        Some(r) => format!("{} {}", format_ratio(r), format_summary(&s)),
                        None => format_summary(&s),
                    }
                } else if row.cells[0].failure.is_some() {
                    "–".to_owned()
                } else {
                    "no samples".to_owned()
                });
            }
            rows.push(line);
        }
        out += &render(&rows);

        out += "\nPeak memory: median over the repetitions.\n";
        out += "  native: the workload's ru_maxrss (wait4).\n";
        if self.columns.len() > 1 {
            out += "  other columns: `file + sentry` where carapace reports it (MemoryFile blocks + sentry RSS\n";
            out += "  without its MemoryFile mapping, ARCHITECTURE.md §4). Otherwise `≥N`, a lower bound seen from\n";
            out += "  outside: the larger of ru_maxrss (the largest single process the sandbox's top process waited\n";
            out += "  for) and the peak of PSS summed over the sandbox's process tree, sampled every 20 ms.\n";
        }
        out.push('\n');
        let mut rows = vec![{
            let mut h = vec!["workload".to_owned()];
            h.extend(self.columns.iter().map(|c| c.name.clone()));
            h
        }];
        for row in self.rows.iter().filter(|r| r.skipped.is_none()) {
            let mut line = vec![row.workload.name.to_owned()];
            for (cell, column) in row.cells.iter().zip(&self.columns) {
                line.push(match (cell.sandbox_memory(), cell.maxrss_kib()) {
                    (Some((file, sentry)), _) => format!(
                        "{} (file {} + sentry {})",
                        format_mib((file + sentry) / 1024.0),
                        format_mib(file / 1024.0),
                        format_mib(sentry / 1024.0)
                    ),
                    (None, Some(kib)) if matches!(column.kind, Kind::Native) => format_mib(kib),
                    (None, Some(_)) => {
                        format!("≥{}", format_mib(cell.lower_bound_kib().unwrap_or(0.0)))
                    }
                    (None, None) => "–".to_owned(),
                });
            }
            rows.push(line);
        }
        out += &render(&rows);

        if !notes.0.is_empty() {
            out += "\nNotes:\n";
            for (i, note) in notes.0.iter().enumerate() {
                let _ = writeln!(out, "  [{}] {note}", i + 1);
            }
        }
        out
    }

    /// Every sample, the host and the set-up, as JSON.
    pub(crate) fn json(&self) -> Value {
        let h = &self.host;
        let columns: Vec<Value> = self
            .columns
            .iter()
            .map(|c| {
                let (kind, command) = match &c.kind {
                    Kind::Native => ("native", Value::Null),
                    Kind::Carapace { binary, platform } => (
                        "carapace",
                        json!([
                            binary.display().to_string(),
                            format!("--platform={platform}"),
                            "--debug-log",
                            "LOG",
                            "do",
                            "--",
                            "{}"
                        ]),
                    ),
                    Kind::Compare { words } => ("compare", json!(words)),
                };
                json!({ "name": c.name, "kind": kind, "command": command, "unusable": c.unusable })
            })
            .collect();
        let workloads: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let cells: serde_json::Map<String, Value> = row
                    .cells
                    .iter()
                    .zip(&self.columns)
                    .enumerate()
                    .map(|(i, (cell, column))| {
                        let s = cell.summary();
                        let value = json!({
                            "samples_ns": cell.ns(),
                            "maxrss_kib": cell.samples.iter().map(|s| s.maxrss_kib).collect::<Vec<_>>(),
                            "peak_tree_pss_kib": cell.samples.iter().map(|s| s.peak_pss_kib).collect::<Vec<_>>(),
                            "sandbox_memory": cell.samples.iter().map(|s| s.sandbox_memory.map(|m| json!({"file": m.file, "sentry": m.sentry}))).collect::<Vec<_>>(),
                            "median_ns": s.map(|s| s.median),
                            "min_ns": s.map(|s| s.min),
                            "max_ns": s.map(|s| s.max),
                            "ratio": row.ratio(i),
                            "failure": cell.failure.as_ref().or(column.unusable.as_ref()),
                        });
                        (column.name.clone(), value)
                    })
                    .collect();
                json!({
                    "name": row.workload.name,
                    "group": row.workload.group,
                    "per": row.workload.unit,
                    "what": row.workload.what,
                    "timing": match row.workload.timing() { Timing::Inside => "inside", Timing::Outside => "outside" },
                    "iterations": row.iterations,
                    "argv": row.argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>(),
                    "skipped": row.skipped,
                    "cells": cells,
                })
            })
            .collect();
        json!({
            "tool": "carapace-bench",
            "date_utc": h.date,
            "host": {
                "hostname": h.hostname,
                "kernel": h.kernel,
                "cpu_model": h.cpu_model,
                "cpus": h.cpus,
                "loadavg_at_start": h.loadavg,
            },
            "quick": self.quick,
            "repeat": self.repeat,
            "linkage": self.linkage,
            "carapace": self.carapace.as_ref().map(|p| p.display().to_string()),
            "platforms": self.platforms.iter().map(|p| json!({"name": p.name, "works": p.unavailable.is_none(), "reason": p.unavailable})).collect::<Vec<_>>(),
            "columns": columns,
            "workloads": workloads,
        })
    }

    /// The bar chart of ratios to native.
    pub(crate) fn svg(&self) -> String {
        let h = &self.host;
        // Columns that cannot run at all get no bars, only a line below.
        let drawn: Vec<usize> = (1..self.columns.len())
            .filter(|&i| self.columns[i].unusable.is_none())
            .collect();
        let series: Vec<String> = drawn
            .iter()
            .map(|&i| self.columns[i].name.clone())
            .collect();
        let groups: Vec<svg::Group> = self
            .rows
            .iter()
            .filter(|r| r.skipped.is_none())
            .map(|row| svg::Group {
                label: row.workload.name.to_owned(),
                bars: drawn
                    .iter()
                    .map(|&i| match row.ratio(i) {
                        Some(r) => svg::Bar::Ratio(r),
                        None => svg::Bar::Missing(
                            row.cells[i]
                                .failure
                                .as_deref()
                                .map_or("no figure", short_label)
                                .to_owned(),
                        ),
                    })
                    .collect(),
            })
            .collect();
        let mut footnote = String::from(
            "Micro workloads are timed inside the program; `program` workloads include start-up. \
             Grey text: no figure for that column (the text table says why).",
        );
        for column in self.columns.iter().filter(|c| c.unusable.is_some()) {
            let _ = write!(
                footnote,
                " Not drawn: {} ({}).",
                column.name,
                column.unusable.as_deref().unwrap_or("")
            );
        }
        let subtitle = format!(
            "{} UTC · host {} · kernel {} · {} × {} · load at start {} · {} reps{}",
            h.date,
            h.hostname,
            h.kernel,
            h.cpus,
            h.cpu_model,
            h.loadavg,
            self.repeat,
            if self.quick { " (--quick)" } else { "" }
        );
        svg::chart(
            "carapace-bench: time relative to native (median; lower is better)",
            &subtitle,
            &series,
            &groups,
            &footnote,
        )
    }
}

/// One line after a workload's rounds, for a terminal watching the run.
pub(crate) fn progress_summary(row: &Row, columns: &[Column]) -> String {
    let mut out = format!("        {:<16}", row.workload.name);
    for (i, (cell, column)) in row.cells.iter().zip(columns).enumerate() {
        let text = match (cell.summary(), &cell.failure, &column.unusable) {
            (_, _, Some(why)) | (_, Some(why), _) => short_label(why).to_owned(),
            (Some(s), _, _) => match row.ratio(i).filter(|_| i > 0) {
                Some(r) => format!("{} {}", format_ns(s.median), format_ratio(r)),
                None => format_ns(s.median),
            },
            (None, None, None) => "–".to_owned(),
        };
        let _ = write!(out, "  {}: {text}", column.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_ns(117.4), "117 ns");
        assert_eq!(format_ns(9123.0), "9.12 µs");
        assert_eq!(format_ns(12_345_678.0), "12.3 ms");
        assert_eq!(format_ns(3.7e9), "3.70 s");
        assert_eq!(format_ratio(78.04), "×78.0");
        assert_eq!(format_ratio(1.0), "×1.00");
        assert_eq!(format_ratio(370.0), "×370");
        let s = Summary {
            median: 9120.0,
            min: 8800.0,
            max: 12_000.0,
        };
        assert_eq!(format_summary(&s), "9.12 µs [8.80–12.0]");
    }

    #[test]
    fn notes_are_shared() {
        let mut notes = Notes::default();
        assert_eq!(notes.cite("a"), 1);
        assert_eq!(notes.cite("b"), 2);
        assert_eq!(notes.cite("a"), 1);
        assert_eq!(
            short_label("not supported yet: exit 139"),
            "not supported yet"
        );
    }

    #[test]
    fn table_columns_line_up() {
        let t = render(&[
            vec!["a".into(), "bb".into()],
            vec!["ccc".into(), "d".into()],
        ]);
        assert_eq!(t, "a     bb\nccc   d\n");
    }
}
