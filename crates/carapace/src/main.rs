//! The `carapace` command: runs programs in the sandbox, and reports what the
//! sandbox supports on this host.
//!
//! Global flags may come before or after the subcommand. Exit status: the
//! program's, 128 + N if signal N killed it; 125 for carapace's own errors,
//! 126 when the command cannot be executed, 127 when it is not found.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use runtime::{PlatformKind, SandboxConfig, VolumeSpec};

/// carapace: an application kernel for untrusted Linux programs.
#[derive(Debug, Parser)]
#[command(name = "carapace", version, about)]
struct Cli {
    /// The platform that runs program code: systrap or ptrace (kvm is not
    /// built yet). Default: the fastest that works on this host (systrap,
    /// then ptrace).
    #[arg(long, global = true, value_name = "NAME")]
    platform: Option<String>,

    /// The host directory to use as the sandbox's root (read-only).
    #[arg(long, global = true, value_name = "DIR", default_value = "/")]
    rootfs: PathBuf,

    /// Print each syscall with its arguments and result (to stderr, or the debug log).
    #[arg(long, global = true)]
    strace: bool,

    /// Print carapace's own notes (such as unsupported syscalls) to stderr.
    #[arg(long, global = true)]
    debug: bool,

    /// Write notes and strace output to this file instead of stderr.
    #[arg(long, global = true, value_name = "FILE")]
    debug_log: Option<PathBuf>,

    /// The most tasks (processes and threads) the sandbox may hold; a fork
    /// beyond it fails with EAGAIN.
    #[arg(long, global = true, value_name = "N", default_value_t = 4096)]
    pids_limit: usize,

    /// `overlay` (the default): writes land in sandbox memory and the host
    /// never changes; `none`: the root file system is read-only (EROFS).
    #[arg(long, global = true, value_name = "MODE", default_value = "overlay")]
    overlay2: String,

    /// The most bytes the sandbox's in-memory file systems (the overlay's
    /// upper layer, /dev/shm, /run) may hold; ENOSPC beyond. Suffixes K, M, G.
    #[arg(long, global = true, value_name = "SIZE")]
    overlay_size: Option<String>,

    /// Mount the host directory HOST at GUEST (an absolute path) in the
    /// sandbox: read-write, so changes land on the host, or read-only with
    /// `:ro`. Repeatable.
    #[arg(long, global = true, value_name = "HOST:GUEST[:ro]")]
    volume: Vec<String>,

    /// Networking: only `none` (loopback inside the sandbox) exists so far.
    #[arg(long, global = true, value_name = "MODE", default_value = "none")]
    network: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command in the sandbox, with the host's root file system read-only.
    Do {
        /// The command and its arguments; a command without a slash is looked up in PATH.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
    /// List the platforms and whether each works on this host.
    Platforms,
    /// Print the syscall table: number, name, support level, note.
    Syscalls {
        /// Print it as the Markdown of docs/SYSCALLS.md.
        #[arg(long)]
        markdown: bool,
    },
}

/// carapace's own failure (the program's statuses pass through as they are).
const EXIT_CARAPACE_ERROR: u8 = 125;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("carapace: {err:#}");
            ExitCode::from(EXIT_CARAPACE_ERROR)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Platforms => {
            print_platforms();
            Ok(0)
        }
        Command::Syscalls { markdown } => {
            print!(
                "{}",
                if markdown {
                    syscalls_markdown()
                } else {
                    syscalls_table()
                }
            );
            Ok(0)
        }
        Command::Do { ref command } => {
            let config = sandbox_config(&cli, command)?;
            Ok(runtime::run(config)?)
        }
    }
}

/// Checks everything the CLI can check before the sandbox starts.
fn sandbox_config(cli: &Cli, command: &[OsString]) -> anyhow::Result<SandboxConfig> {
    let platform = choose_platform(cli.platform.as_deref())?;
    let overlay = match cli.overlay2.as_str() {
        "overlay" | "root:memory" => true,
        "none" => false,
        other => bail!(
            "--overlay2={other}: choose `overlay` (writes in memory) or `none` (read-only root)"
        ),
    };
    let overlay_size = cli.overlay_size.as_deref().map(parse_size).transpose()?;
    if cli.network != "none" {
        bail!(
            "--network={}: only --network=none is supported so far",
            cli.network
        );
    }
    let rootfs = std::fs::canonicalize(&cli.rootfs)
        .with_context(|| format!("--rootfs {}", cli.rootfs.display()))?;
    if !rootfs.is_dir() {
        bail!("--rootfs {}: not a directory", rootfs.display());
    }
    let volumes = cli
        .volume
        .iter()
        .map(|v| parse_volume(v))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cwd = std::env::current_dir()
        .map(|d| d.into_os_string().into_vec())
        .unwrap_or_else(|_| b"/".to_vec());
    let envp = std::env::vars_os()
        .map(|(k, v)| {
            let mut entry = k.into_vec();
            entry.push(b'=');
            entry.extend_from_slice(v.as_bytes());
            entry
        })
        .collect();
    Ok(SandboxConfig {
        platform,
        rootfs,
        argv: command.iter().map(|a| a.as_bytes().to_vec()).collect(),
        envp,
        cwd,
        debug_log: cli.debug_log.clone(),
        debug: cli.debug,
        strace: cli.strace,
        pids_limit: cli.pids_limit.max(1),
        overlay,
        overlay_size,
        volumes,
    })
}

/// `HOST:GUEST` or `HOST:GUEST:ro` (or `:rw`): HOST must be an existing
/// directory, GUEST an absolute path other than `/` without `..`.
fn parse_volume(text: &str) -> anyhow::Result<VolumeSpec> {
    let mut parts = text.split(':');
    let (Some(host), Some(guest)) = (parts.next(), parts.next()) else {
        bail!("--volume {text}: expected HOST:GUEST or HOST:GUEST:ro");
    };
    let read_only = match parts.next() {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => bail!("--volume {text}: unknown option `{other}`; use `ro` or `rw`"),
    };
    if parts.next().is_some() || host.is_empty() {
        bail!("--volume {text}: expected HOST:GUEST or HOST:GUEST:ro");
    }
    let host_path = std::fs::canonicalize(host)
        .with_context(|| format!("--volume {text}: host directory {host}"))?;
    if !host_path.is_dir() {
        bail!("--volume {text}: {host} is not a directory");
    }
    if !guest.starts_with('/') {
        bail!("--volume {text}: the sandbox path {guest:?} must be absolute");
    }
    let mut normal = Vec::new();
    for part in guest.split('/') {
        match part {
            "" | "." => {}
            ".." => bail!("--volume {text}: the sandbox path {guest:?} may not contain `..`"),
            part => {
                normal.push(b'/');
                normal.extend_from_slice(part.as_bytes());
            }
        }
    }
    if normal.is_empty() {
        bail!("--volume {text}: cannot mount over the sandbox's `/`");
    }
    Ok(VolumeSpec {
        host: host_path,
        guest: normal,
        read_only,
    })
}

/// A size such as `512M`: bytes, or K, M, G (powers of 1024).
fn parse_size(text: &str) -> anyhow::Result<u64> {
    let (digits, shift) = match text.chars().last() {
        Some('k' | 'K') => (&text[..text.len() - 1], 10),
        Some('m' | 'M') => (&text[..text.len() - 1], 20),
        Some('g' | 'G') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let value: u64 = digits.parse().with_context(|| {
        format!("--overlay-size {text}: expected a number of bytes, or with K, M or G")
    })?;
    value
        .checked_mul(1 << shift)
        .with_context(|| format!("--overlay-size {text}: too large"))
}

/// The platform named by `--platform`, or the fastest one that works here.
fn choose_platform(name: Option<&str>) -> anyhow::Result<PlatformKind> {
    let probes = platform::probe_all();
    let Some(name) = name else {
        // Fastest first.
        for (preferred, kind) in [
            ("systrap", PlatformKind::Systrap),
            ("ptrace", PlatformKind::Ptrace),
        ] {
            if probes.iter().any(|(n, r)| *n == preferred && r.is_ok()) {
                return Ok(kind);
            }
        }
        bail!("no platform works on this host; `carapace platforms` says why");
    };
    match probes.iter().find(|(n, _)| *n == name) {
        None => {
            let known: Vec<&str> = probes.iter().map(|(n, _)| *n).collect();
            bail!(
                "--platform={name}: unknown platform; choose one of {}",
                known.join(", ")
            )
        }
        Some((_, Err(err))) => bail!("--platform={name}: {err}"),
        Some((_, Ok(()))) => match name {
            "ptrace" => Ok(PlatformKind::Ptrace),
            "systrap" => Ok(PlatformKind::Systrap),
            _ => bail!(
                "--platform={name}: not available in this build; use --platform=systrap or ptrace"
            ),
        },
    }
}

fn print_platforms() {
    for (name, result) in platform::probe_all() {
        match result {
            Ok(()) => println!("{name:<8} works"),
            Err(platform::PlatformError::Unavailable { reason, .. }) => {
                println!("{name:<8} unavailable: {reason}");
            }
            Err(err) => println!("{name:<8} unavailable: {err}"),
        }
    }
}

fn syscalls_table() -> String {
    let mut out = format!("{:>4}  {:<24} {:<12} NOTE\n", "NR", "NAME", "SUPPORT");
    for row in kernel::syscalls::table::table()
        .iter()
        .filter(|r| !r.name.is_empty())
    {
        out += &format!(
            "{:>4}  {:<24} {:<12} {}\n",
            row.nr,
            row.name,
            row.support.name(),
            row.note
        );
    }
    out
}

/// docs/SYSCALLS.md, generated from the table.
fn syscalls_markdown() -> String {
    let rows: Vec<_> = kernel::syscalls::table::table()
        .iter()
        .filter(|r| !r.name.is_empty())
        .collect();
    let count = |level| rows.iter().filter(|r| r.support == level).count();
    use kernel::syscalls::table::Support;
    let mut out = String::from(
        "# Syscalls\n\nGenerated by `carapace syscalls --markdown` from the syscall table \
         (`crates/kernel/src/syscalls/table.rs`); a test keeps it in step.\n\n",
    );
    out += &format!(
        "{} syscalls: {} full, {} partial, {} unsupported (they return `ENOSYS`).\n\n",
        rows.len(),
        count(Support::Full),
        count(Support::Partial),
        count(Support::Unsupported)
    );
    out += "| nr | name | support | note |\n|---:|---|---|---|\n";
    for row in rows {
        out += &format!(
            "| {} | `{}` | {} | {} |\n",
            row.nr,
            row.name,
            row.support.name(),
            row.note.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_syscalls_md_matches_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/SYSCALLS.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == syscalls_markdown(),
            "docs/SYSCALLS.md is stale: run `cargo run -- syscalls --markdown > docs/SYSCALLS.md`"
        );
    }

    #[test]
    fn global_flags_parse_before_and_after_the_subcommand() {
        let before =
            Cli::try_parse_from(["carapace", "--strace", "do", "--", "/bin/true"]).unwrap();
        let after = Cli::try_parse_from(["carapace", "do", "--strace", "--", "/bin/true"]).unwrap();
        assert!(before.strace && after.strace);
        Cli::try_parse_from(["carapace", "do"]).unwrap_err();
    }

    #[test]
    fn volumes_parse_and_are_checked() {
        let v = parse_volume("/tmp:/data//x/./:ro").unwrap();
        assert_eq!(v.guest, b"/data/x");
        assert!(v.read_only);
        assert!(!parse_volume("/tmp:/data").unwrap().read_only);
        for bad in [
            "/tmp",
            "/tmp:data",
            "/tmp:/",
            "/tmp:/a/../b",
            "/tmp:/a:rx",
            "/no/such/dir/here:/a",
            "/etc/passwd:/a",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad}");
        }
        for args in [
            [
                "carapace",
                "--volume",
                "/tmp:/a",
                "--volume",
                "/tmp:/b:ro",
                "do",
                "/bin/true",
            ],
            [
                "carapace",
                "do",
                "--volume",
                "/tmp:/a",
                "--volume",
                "/tmp:/b:ro",
                "/bin/true",
            ],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.volume, ["/tmp:/a", "/tmp:/b:ro"]);
        }
    }

    #[test]
    fn unknown_platform_is_a_clear_error() {
        let err = choose_platform(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("unknown platform"), "{err}");
    }
}
