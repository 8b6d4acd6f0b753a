//! The columns of the report: native, each carapace platform, and each
//! `--compare` sandbox, with the command line each runs a workload as.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::template::{self, Compare};
use crate::workloads::find_in_path;

/// How a column runs a workload.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Native,
    /// `carapace --platform=P --debug-log LOG do -- CMD...`
    Carapace {
        binary: PathBuf,
        platform: String,
    },
    /// A `--compare` template.
    Compare {
        words: Vec<String>,
    },
}

/// One column of the report.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Set when the column cannot run at all ("missing: ..." or
    /// "unavailable: ..."); its cells show this instead of figures.
    pub(crate) unusable: Option<String>,
}

impl Column {
    pub(crate) fn native() -> Self {
        Self {
            name: "native".to_owned(),
            kind: Kind::Native,
            unusable: None,
        }
    }

    /// The command line that runs `argv` in this column; `debug_log` is where
    /// carapace writes its notes.
    pub(crate) fn command(&self, argv: &[OsString], debug_log: &Path) -> Vec<OsString> {
        match &self.kind {
            Kind::Native => argv.to_vec(),
            Kind::Carapace { binary, platform } => {
                let mut cmd: Vec<OsString> =
                    vec![binary.into(), format!("--platform={platform}").into()];
                cmd.push("--debug-log".into());
                cmd.push(debug_log.into());
                cmd.extend(["do".into(), "--".into()]);
                cmd.extend(argv.iter().cloned());
                cmd
            }
            Kind::Compare { words } => template::substitute(words, argv),
        }
    }

    /// What a failed run in this column is called in the report.
    pub(crate) fn failure_label(&self) -> &'static str {
        match self.kind {
            Kind::Native => "fails natively",
            Kind::Carapace { .. } => "not supported yet",
            Kind::Compare { .. } => "fails",
        }
    }

    pub(crate) fn is_compare(&self) -> bool {
        matches!(self.kind, Kind::Compare { .. })
    }

    pub(crate) fn is_carapace(&self) -> bool {
        matches!(self.kind, Kind::Carapace { .. })
    }
}

/// A column for `--compare`; "missing: ..." when its command is not on this host.
pub(crate) fn compare_column(compare: &Compare) -> Column {
    let program = &compare.words[0];
    let unusable = if program.contains("{}") {
        None
    } else {
        let how = if program.contains('/') {
            "no such file"
        } else {
            "not found in PATH"
        };
        find_in_path(program)
            .is_none()
            .then(|| format!("missing: {program} {how}"))
    };
    Column {
        name: compare.name.clone(),
        kind: Kind::Compare {
            words: compare.words.clone(),
        },
        unusable,
    }
}

/// One line of `carapace platforms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlatformStatus {
    pub(crate) name: String,
    /// `None` when it works, else the reason it does not.
    pub(crate) unavailable: Option<String>,
}

/// Parses `carapace platforms`: `ptrace   works`, `kvm  unavailable: why`.
pub(crate) fn parse_platforms(text: &str) -> Vec<PlatformStatus> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once(char::is_whitespace)?;
            let rest = rest.trim();
            let unavailable = if rest == "works" {
                None
            } else {
                Some(
                    rest.strip_prefix("unavailable:")
                        .unwrap_or(rest)
                        .trim()
                        .to_owned(),
                )
            };
            Some(PlatformStatus {
                name: name.to_owned(),
                unavailable,
            })
        })
        .collect()
}

/// Asks `carapace platforms` which platforms work here.
pub(crate) fn query_platforms(binary: &Path) -> anyhow::Result<Vec<PlatformStatus>> {
    let out = Command::new(binary)
        .arg("platforms")
        .output()
        .with_context(|| format!("run {} platforms", binary.display()))?;
    if !out.status.success() {
        bail!(
            "{} platforms failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(parse_platforms(&String::from_utf8_lossy(&out.stdout)))
}

/// The carapace columns: the platforms named in `wanted`, or every one that
/// works when `wanted` is `None`.
pub(crate) fn carapace_columns(
    binary: &Path,
    statuses: &[PlatformStatus],
    wanted: Option<&[String]>,
) -> Vec<Column> {
    let column = |name: &str, unusable: Option<String>| Column {
        name: name.to_owned(),
        kind: Kind::Carapace {
            binary: binary.to_owned(),
            platform: name.to_owned(),
        },
        unusable,
    };
    match wanted {
        None => statuses
            .iter()
            .filter(|s| s.unavailable.is_none())
            .map(|s| column(&s.name, None))
            .collect(),
        Some(names) => names
            .iter()
            .map(|name| match statuses.iter().find(|s| &s.name == name) {
                Some(s) => column(
                    name,
                    s.unavailable
                        .as_ref()
                        .map(|why| format!("unavailable: {why}")),
                ),
                None => column(
                    name,
                    Some("unavailable: carapace does not know this platform".to_owned()),
                ),
            })
            .collect(),
    }
}

/// Finds the carapace binary: `--carapace PATH`, else the `carapace` next to
/// this executable (or in the same target dir's `release/`); when there is
/// none and we run under cargo (`CARGO` is set), builds it first with
/// `cargo build --release -p carapace`.
pub(crate) fn find_carapace(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!("--carapace {}: no such file", path.display());
        }
        return Ok(path.to_owned());
    }
    let exe = std::env::current_exe().context("find the harness's own executable")?;
    let dir = exe
        .parent()
        .context("the harness's executable has no directory")?;
    // Next to us, or in the release directory of the same target dir.
    let candidates = [dir.join("carapace"), dir.join("../release/carapace")];
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return Ok(found.clone());
    }
    if let Some(cargo) = std::env::var_os("CARGO") {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        eprintln!("carapace-bench: building carapace: cargo build --release -p carapace");
        let status = Command::new(&cargo)
            .args(["build", "--release", "-p", "carapace", "--manifest-path"])
            .arg(&manifest)
            .status()
            .context("run cargo build --release -p carapace")?;
        if !status.success() {
            bail!("cargo build --release -p carapace failed ({status})");
        }
        // cargo put it in the release directory, whatever profile we are.
        if candidates[1].is_file() {
            return Ok(candidates[1].clone());
        }
    }
    bail!(
        "no carapace binary next to {}: run `cargo build --release -p carapace`, \
         pass --carapace PATH, or measure natively only with --platforms none",
        exe.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "ptrace   works\nsystrap  unavailable: not implemented yet in this build\nkvm      unavailable: /dev/kvm: ENOENT\n";

    #[test]
    fn parses_carapace_platforms() {
        let statuses = parse_platforms(LISTING);
        assert_eq!(statuses.len(), 3);
        assert_eq!(
            statuses[0],
            PlatformStatus {
                name: "ptrace".into(),
                unavailable: None
            }
        );
        assert_eq!(
            statuses[1].unavailable.as_deref(),
            Some("not implemented yet in this build")
        );
        assert_eq!(statuses[2].unavailable.as_deref(), Some("/dev/kvm: ENOENT"));
    }

    #[test]
    fn default_columns_are_the_working_platforms() {
        let statuses = parse_platforms(LISTING);
        let cols = carapace_columns(Path::new("/c"), &statuses, None);
        assert_eq!(
            cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["ptrace"]
        );
        let wanted = ["kvm".to_owned(), "nope".to_owned()];
        let cols = carapace_columns(Path::new("/c"), &statuses, Some(&wanted));
        assert_eq!(
            cols[0].unusable.as_deref(),
            Some("unavailable: /dev/kvm: ENOENT")
        );
        assert!(
            cols[1]
                .unusable
                .as_deref()
                .unwrap()
                .contains("does not know")
        );
    }

    #[test]
    fn column_command_lines() {
        let argv: Vec<OsString> = ["/bin/true", "x"].map(OsString::from).to_vec();
        let log = Path::new("/tmp/log");
        assert_eq!(Column::native().command(&argv, log), argv);
        let c = Column {
            name: "ptrace".into(),
            kind: Kind::Carapace {
                binary: "/c".into(),
                platform: "ptrace".into(),
            },
            unusable: None,
        };
        let want: Vec<OsString> = [
            "/c",
            "--platform=ptrace",
            "--debug-log",
            "/tmp/log",
            "do",
            "--",
            "/bin/true",
            "x",
        ]
        .map(OsString::from)
        .to_vec();
        assert_eq!(c.command(&argv, log), want);
        let cmp = compare_column(
            &template::parse_compare("bw=definitely-not-a-tool-xyz --ro-bind / / {}").unwrap(),
        );
        assert_eq!(
            cmp.unusable.as_deref(),
            Some("missing: definitely-not-a-tool-xyz not found in PATH")
        );
        let cmp = compare_column(&template::parse_compare("env=env {}").unwrap());
        assert!(cmp.unusable.is_none());
        assert_eq!(
            cmp.command(&argv, log),
            ["env", "/bin/true", "x"].map(OsString::from).to_vec()
        );
    }
}
