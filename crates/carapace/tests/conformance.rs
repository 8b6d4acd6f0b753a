//! The conformance suite (ARCHITECTURE.md §11; how-to in tests/README.md).
//!
//! Every `tests/conformance/*.c` is built with the system `cc` three ways
//! (static, static-pie and dynamic), run natively (the oracle), then under
//! `carapace do --platform=P` for every platform in `common::PLATFORMS`. A sandboxed
//! run passes when its exit status and stdout equal the native run's; stderr
//! is shown on failure but not compared.
//!
//! Tests are named `<program>::<static|static-pie|dynamic>::<platform>`, plus
//! `<program>::<linkage>::native`, which checks that the native run exits
//! with the program's expected status (0 unless its header says otherwise),
//! so a broken program is caught before the sandbox is blamed.
//!
//! A program's first line may be a header:
//!
//! ```c
//! // conformance: [static-only] [exit=N] [extra cc flags...]
//! ```
//!
//! `static-only` skips the dynamic build (for `-nostdlib` programs), `exit=N`
//! is the expected native exit status (139 for a SIGSEGV death), and words
//! starting with `-` are appended to the `cc` command line.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use common::{Output, PLATFORMS, Status};
use libtest_mimic::{Arguments, Failed, Trial};

/// The flags every build gets.
const CFLAGS: &[&str] = &["-O1", "-Wall"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Linkage {
    Static,
    /// Static and position-independent: the loader picks its base.
    StaticPie,
    Dynamic,
}

impl Linkage {
    fn name(self) -> &'static str {
        match self {
            Self::Static => "static",
            Self::StaticPie => "static-pie",
            Self::Dynamic => "dynamic",
        }
    }

    fn cc_flag(self) -> Option<&'static str> {
        match self {
            Self::Static => Some("-static"),
            Self::StaticPie => Some("-static-pie"),
            Self::Dynamic => None,
        }
    }
}

/// What a program's header line asks for.
#[derive(Debug, Default)]
struct Header {
    static_only: bool,
    expected_status: i32,
    cflags: Vec<String>,
}

impl Header {
    /// Parse the first line of a program: `// conformance: WORDS...`, or
    /// anything else for the defaults.
    fn parse(first_line: &str) -> Result<Self, String> {
        let mut header = Self::default();
        let Some(rest) = first_line.trim().strip_prefix("//") else {
            return Ok(header);
        };
        let Some(words) = rest.trim().strip_prefix("conformance:") else {
            return Ok(header);
        };
        for word in words.split_whitespace() {
            if word == "static-only" {
                header.static_only = true;
            } else if let Some(status) = word.strip_prefix("exit=") {
                header.expected_status = status
                    .parse()
                    .map_err(|e| format!("header: bad exit status {status:?}: {e}"))?;
            } else if word.starts_with('-') {
                header.cflags.push(word.to_owned());
            } else {
                return Err(format!(
                    "header: unknown word {word:?} (expected static-only, exit=N or -flags)"
                ));
            }
        }
        Ok(header)
    }
}

/// One conformance program.
#[derive(Debug)]
struct Program {
    name: String,
    source: PathBuf,
    /// The header, or why it could not be read (every test of the program
    /// then fails with that message).
    header: Result<Header, String>,
}

/// One (program, linkage) build, shared by its native and platform tests so
/// that it is compiled and run natively once.
#[derive(Debug)]
struct Build {
    program: Arc<Program>,
    linkage: Linkage,
    binary: PathBuf,
    /// Newest mtime among the shared headers: the binary must be newer.
    headers_mtime: Option<SystemTime>,
    built: OnceLock<Result<(), String>>,
    native: OnceLock<Result<Output, String>>,
}

impl Build {
    fn header(&self) -> Result<&Header, Failed> {
        self.program
            .header
            .as_ref()
            .map_err(|e| Failed::from(format!("{}: {e}", self.program.source.display())))
    }

    /// Compile unless the binary is newer than the source and the headers.
    fn ensure_built(&self) -> Result<(), Failed> {
        self.built
            .get_or_init(|| self.compile())
            .clone()
            .map_err(Failed::from)
    }

    fn is_fresh(&self) -> bool {
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        match (mtime(&self.binary), mtime(&self.program.source)) {
            (Some(bin), Some(src)) => bin > src && self.headers_mtime.is_none_or(|h| bin > h),
            _ => false,
        }
    }

    fn compile(&self) -> Result<(), String> {
        let header = self.program.header.as_ref().map_err(Clone::clone)?;
        if self.is_fresh() {
            return Ok(());
        }
        let dir = self
            .binary
            .parent()
            .expect("binaries live in a build directory");
        fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        // Build to a private name and rename, so concurrent test processes
        // never run a half-written binary.
        let tmp = self
            .binary
            .with_extension(format!("tmp{}", std::process::id()));
        let mut cc = Command::new("cc");
        cc.args(CFLAGS);
        cc.args(self.linkage.cc_flag());
        cc.args(&header.cflags)
            .arg("-o")
            .arg(&tmp)
            .arg(&self.program.source);
        let cmdline = common::command_line(&cc);
        let out = cc
            .output()
            .map_err(|e| format!("run `{cmdline}`: {e} (is a C compiler installed?)"))?;
        if !out.status.success() {
            let _ = fs::remove_file(&tmp);
            return Err(format!(
                "build failed ({}): {cmdline}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        fs::rename(&tmp, &self.binary)
            .map_err(|e| format!("rename {} to {}: {e}", tmp.display(), self.binary.display()))
    }

    /// The native run, done once and shared.
    fn native(&self) -> Result<&Output, Failed> {
        self.ensure_built()?;
        self.native
            .get_or_init(|| {
                let mut cmd = common::clean_command(&self.binary);
                common::run(&mut cmd, None, common::timeout())
                    .map_err(|e| format!("run {} natively: {e}", self.binary.display()))
            })
            .as_ref()
            .map_err(|e| Failed::from(e.clone()))
    }

    /// `<program>::<linkage>::native`: the program passes its own checks.
    fn check_native(&self) -> Result<(), Failed> {
        let header = self.header()?;
        let native = self.native()?;
        let want = header.expected_status;
        if native.status.shell_code() != Some(want) {
            return Err(format!(
                "the native run should exit with status {want} (the program's own checks \
                 failed, or the program is wrong)\nnative run: {}",
                native.describe()
            )
            .into());
        }
        if let Some(line) = native.stdout_str().lines().find(|l| is_failure_line(l)) {
            return Err(format!(
                "the native transcript has a failure: {line:?}\nnative run: {}",
                native.describe()
            )
            .into());
        }
        Ok(())
    }

    /// `<program>::<linkage>::<platform>`: the sandboxed run matches the
    /// native one.
    fn check_platform(&self, platform: &str) -> Result<(), Failed> {
        self.header()?;
        let native = self.native()?;
        let mut cmd = common::clean_command(common::carapace_bin());
        cmd.arg("do")
            .arg(format!("--platform={platform}"))
            .arg("--")
            .arg(&self.binary);
        let cmdline = common::command_line(&cmd);
        let sandboxed = common::run(&mut cmd, None, common::timeout())
            .map_err(|e| format!("spawn `{cmdline}`: {e}"))?;

        let mut problems = Vec::new();
        match sandboxed.status {
            // carapace reports a program's signal death as 128+N; carapace
            // itself dying of a signal is a carapace crash, never a match.
            Status::Signaled(sig) => {
                problems.push(format!("carapace itself was killed by signal {sig}"));
            }
            Status::TimedOut(after) => {
                problems.push(format!("carapace hung: killed after {} s", after.as_secs()));
            }
            Status::Exited(code) => {
                let want = native.status.shell_code();
                if Some(code) != want {
                    let want = want.map_or_else(|| native.status.to_string(), |w| w.to_string());
                    problems.push(format!("exit status {code}, native {want}"));
                }
            }
        }
        if sandboxed.stdout != native.stdout {
            problems.push(format!(
                "stdout differs:\n{}",
                common::diff(
                    "native",
                    &native.stdout_str(),
                    platform,
                    &sandboxed.stdout_str()
                )
            ));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{cmdline}\n{}\n--- {platform} stderr ---\n{}\n--- native stderr ---\n{}",
            problems.join("\n"),
            common::tail(&sandboxed.stderr_str(), 4096),
            common::tail(&native.stderr_str(), 1024),
        )
        .into())
    }
}

/// A transcript line reporting a failed expectation: the helpers in
/// `conformance.h` (and the no-libc programs) print the word `FAIL:`.
fn is_failure_line(line: &str) -> bool {
    line.split_whitespace().any(|word| word == "FAIL:")
}

/// Find `tests/conformance/*.c`, sorted by name.
fn discover(dir: &Path) -> Vec<Program> {
    let entries = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read conformance directory {}: {e}", dir.display()));
    let mut programs: Vec<Program> = entries
        .map(|entry| entry.expect("read a conformance directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "c"))
        .map(|source| {
            let name = source
                .file_stem()
                .expect("a .c file has a stem")
                .to_string_lossy()
                .into_owned();
            let header = fs::read_to_string(&source)
                .map_err(|e| format!("read {}: {e}", source.display()))
                .and_then(|text| Header::parse(text.lines().next().unwrap_or("")));
            Program {
                name,
                source,
                header,
            }
        })
        .collect();
    programs.sort_by(|a, b| a.name.cmp(&b.name));
    programs
}

/// The newest mtime of the `*.h` files next to the programs.
fn headers_mtime(dir: &Path) -> Option<SystemTime> {
    fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|ext| ext == "h"))
        .filter_map(|e| e.metadata().and_then(|m| m.modified()).ok())
        .max()
}

fn trials() -> Vec<Trial> {
    let dir = common::workspace_root().join("tests/conformance");
    let build_root = common::target_dir().join("conformance");
    let headers_mtime = headers_mtime(&dir);
    let mut trials = Vec::new();
    for program in discover(&dir) {
        let program = Arc::new(program);
        let static_only = program.header.as_ref().is_ok_and(|h| h.static_only);
        let linkages: &[Linkage] = if static_only {
            &[Linkage::Static]
        } else {
            &[Linkage::Static, Linkage::StaticPie, Linkage::Dynamic]
        };
        for &linkage in linkages {
            let build = Arc::new(Build {
                program: Arc::clone(&program),
                linkage,
                binary: build_root.join(linkage.name()).join(&program.name),
                headers_mtime,
                built: OnceLock::new(),
                native: OnceLock::new(),
            });
            let prefix = format!("{}::{}", program.name, linkage.name());
            let native = Arc::clone(&build);
            trials.push(Trial::test(format!("{prefix}::native"), move || {
                native.check_native()
            }));
            for &platform in PLATFORMS {
                let build = Arc::clone(&build);
                trials.push(Trial::test(format!("{prefix}::{platform}"), move || {
                    build.check_platform(platform)
                }));
            }
        }
    }
    trials
}

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit();
}
