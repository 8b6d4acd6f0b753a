//! Runs the harness binary on the getppid workloads and checks the table's
//! shape (header, native column, one row per workload), never its timings.

// Inside a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The carapace binary cargo built next to this test's harness, if any.
    fn carapace_binary(bench: &Path) -> Option<PathBuf> {
        let dir = bench.parent()?;
        [dir.join("carapace"), dir.join("../release/carapace")]
            .into_iter()
            .find(|p| p.is_file())
    }

    #[test]
    fn quick_getppid_prints_a_table_with_a_native_column() {
        let bench = Path::new(env!("CARGO_BIN_EXE_carapace-bench"));
        let svg =
            std::env::temp_dir().join(format!("carapace-bench-e2e-{}.svg", std::process::id()));
        let json = svg.with_extension("json");
        let mut cmd = Command::new(bench);
        cmd.args([
            "--quick",
            "--workloads",
            "getppid",
            "--repeat",
            "2",
            "--svg",
        ])
        .arg(&svg)
        .arg("--json")
        .arg(&json);
        let carapace = carapace_binary(bench);
        match &carapace {
            Some(path) => cmd.arg("--carapace").arg(path),
            None => cmd.args(["--platforms", "none"]),
        };
        let out = cmd.output().expect("run carapace-bench");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "carapace-bench failed:\n{stderr}");

        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[0].starts_with("carapace-bench, "), "{stdout}");
        assert!(
            stdout.contains("host ")
                && stdout.contains("kernel ")
                && stdout.contains("load average at start: ")
        );
        let header = lines
            .iter()
            .find(|l| l.starts_with("workload"))
            .expect("a table header");
        let columns: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(&columns[..3], ["workload", "per", "native"], "{header}");
        if carapace.is_some() {
            assert!(stdout.contains("carapace: "), "{stdout}");
        }
        for workload in ["getppid-syscall", "getppid-libc"] {
            let row = lines
                .iter()
                .find(|l| l.starts_with(workload))
                .unwrap_or_else(|| panic!("no row for {workload}:\n{stdout}"));
            // The native cell is a time: a number and a unit.
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[1], "call", "{row}");
            assert!(
                cells[2].parse::<f64>().is_ok() && ["ns", "µs", "ms", "s"].contains(&cells[3]),
                "{row}"
            );
        }
        assert!(
            stderr.contains("getppid-syscall") && stderr.contains("rep 2/2"),
            "progress goes to stderr:\n{stderr}"
        );

        let svg_text = std::fs::read_to_string(&svg).expect("the SVG was written");
        assert!(svg_text.starts_with("<svg") && svg_text.contains("getppid-libc"));
        let json_text = std::fs::read_to_string(&json).expect("the JSON was written");
        assert!(json_text.contains("\"samples_ns\"") && json_text.contains("\"getppid-syscall\""));
        let _ = std::fs::remove_file(svg);
        let _ = std::fs::remove_file(json);
    }
}
