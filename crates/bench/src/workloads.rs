//! The workloads, the C programs behind the micro ones, and the files they
//! read (prepared natively in a scratch directory the sandbox sees read-only).
//!
//! A micro workload is one mode of a small C program from
//! `crates/bench/workloads/`, built here with `cc -O2`; it times itself and
//! prints nanoseconds per operation, so start-up is not counted. A program
//! workload is a real command timed from outside, start-up included.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::runner::Stdout;

/// How a workload's time is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timing {
    /// The program prints ns per operation on stdout.
    Inside,
    /// Wall clock of the whole command, start-up included.
    Outside,
}

/// One workload as listed in the report.
#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) name: &'static str,
    /// syscall, file, memory, process, ipc or program (`--workloads` accepts it).
    pub(crate) group: &'static str,
    /// What one operation is: the report prints time "per call", "per page"...
    pub(crate) unit: &'static str,
    /// One line for the report and docs.
    pub(crate) what: &'static str,
    spec: Spec,
}

#[derive(Debug)]
enum Spec {
    Micro {
        program: &'static str,
        mode: &'static str,
        full: u64,
        quick: u64,
        arg: Arg,
    },
    Command {
        build: fn(&Workdir) -> Result<Vec<OsString>, String>,
        stdout: Stdout,
        expect: Expect,
    },
}

/// What a program workload must print (its stdout, trimmed) to count as a
/// correct run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Anything.
    Any,
    /// Exactly this.
    Exactly(&'static str),
    /// What the native run printed: a figure that depends on the host (a
    /// file count), the same in every column.
    SameAsNative,
}

/// The path argument a micro workload gets.
#[derive(Debug, Clone, Copy)]
enum Arg {
    None,
    /// A 1 MiB file of random bytes.
    DataFile,
    /// A directory of 1000 empty files.
    Dir1000,
    /// The harness's directory on the host's disk ([`Workdir::disk`]),
    /// which the sandbox sees in its overlay root.
    Disk,
    /// A path that must exist on the host (else the workload is skipped);
    /// the sandbox resolves it in its own file system.
    Host(&'static str),
}

/// A workload ready to run: its command line and how to read its result.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) argv: Vec<OsString>,
    pub(crate) timing: Timing,
    pub(crate) stdout: Stdout,
    /// For program workloads: what a correct run prints.
    pub(crate) expect: Expect,
    /// Iterations passed to a micro workload.
    pub(crate) iterations: Option<u64>,
}

const fn micro(
    name: &'static str,
    group: &'static str,
    unit: &'static str,
    what: &'static str,
    (program, mode): (&'static str, &'static str),
    (full, quick): (u64, u64),
    arg: Arg,
) -> Workload {
    Workload {
        name,
        group,
        unit,
        what,
        spec: Spec::Micro {
            program,
            mode,
            full,
            quick,
            arg,
        },
    }
}

const fn command(
    name: &'static str,
    what: &'static str,
    build: fn(&Workdir) -> Result<Vec<OsString>, String>,
    stdout: Stdout,
    expect: Expect,
) -> Workload {
    Workload {
        name,
        group: "program",
        unit: "run",
        what,
        spec: Spec::Command {
            build,
            stdout,
            expect,
        },
    }
}

/// Every workload, in report order.
pub(crate) static ALL: &[Workload] = &[
    micro(
        "getppid-syscall",
        "syscall",
        "call",
        "`syscall(SYS_getppid)` in a loop: one raw syscall round trip",
        ("syscall", "syscall"),
        (200_000, 20_000),
        Arg::None,
    ),
    micro(
        "getppid-libc",
        "syscall",
        "call",
        "libc `getppid()` in a loop (differs from the raw one once syscall sites are patched)",
        ("syscall", "libc"),
        (200_000, 20_000),
        Arg::None,
    ),
    micro(
        "open-close",
        "file",
        "op",
        "`open` + `close` of a host file",
        ("file", "open-close"),
        (20_000, 2_000),
        Arg::DataFile,
    ),
    micro(
        "stat",
        "file",
        "call",
        "`stat` of a host file",
        ("file", "stat"),
        (50_000, 5_000),
        Arg::DataFile,
    ),
    micro(
        "pread-4k",
        "file",
        "call",
        "4 KiB `pread` at successive offsets of a 1 MiB host file",
        ("file", "pread"),
        (100_000, 10_000),
        Arg::DataFile,
    ),
    micro(
        "write-1m-tmpfs",
        "file",
        "MiB",
        "create a file in /dev/shm (a tmpfs), write 1 MiB in 64 KiB `write`s, close, `unlink`",
        ("file", "write"),
        (300, 30),
        Arg::Host("/dev/shm"),
    ),
    micro(
        "write-1m-overlay",
        "file",
        "MiB",
        "the same in a directory of the host's disk, which the sandbox sees in its overlay root",
        ("file", "write"),
        (300, 30),
        Arg::Disk,
    ),
    micro(
        "readdir-1000",
        "file",
        "listing",
        "`opendir` + `readdir` of a 1000-entry host directory + `closedir`",
        ("file", "readdir"),
        (500, 50),
        Arg::Dir1000,
    ),
    micro(
        "touch-anon",
        "memory",
        "page",
        "map 256 MiB (64 MiB with --quick) of fresh anonymous memory and write one byte per page: page faults",
        ("memory", "touch"),
        (256, 64),
        Arg::None,
    ),
    micro(
        "mmap-churn",
        "memory",
        "cycle",
        "`mmap` 64 KiB anonymous, touch one page, `munmap`",
        ("memory", "churn"),
        (20_000, 2_000),
        Arg::None,
    ),
    micro(
        "fork-exit-wait",
        "process",
        "op",
        "`fork`, the child `_exit`s, the parent `waitpid`s",
        ("process", "fork"),
        (2_000, 200),
        Arg::None,
    ),
    micro(
        "exec-true",
        "process",
        "op",
        "`fork` + `execve(\"/bin/true\")` + `waitpid`",
        ("process", "exec"),
        (500, 50),
        Arg::Host("/bin/true"),
    ),
    micro(
        "thread-create",
        "process",
        "op",
        "`pthread_create` + `pthread_join` of a thread that returns at once",
        ("process", "thread"),
        (5_000, 500),
        Arg::None,
    ),
    micro(
        "pipe-pingpong",
        "ipc",
        "round trip",
        "one byte each way through two pipes between two processes",
        ("ipc", "pingpong"),
        (20_000, 2_000),
        Arg::None,
    ),
    micro(
        "pipe-throughput",
        "ipc",
        "MiB",
        "1 GiB (128 MiB with --quick) through a pipe in 64 KiB writes, child to parent",
        ("ipc", "throughput"),
        (1024, 128),
        Arg::None,
    ),
    command(
        "startup",
        "`/bin/true`: starting and stopping the sandbox itself",
        |_| Ok(argv(&["/bin/true"])),
        Stdout::Capture,
        Expect::Any,
    ),
    command(
        "startup-static",
        "a static no-op program built by the harness: start-up without the dynamic loader",
        |w| Ok(vec![w.bin("noop").into_os_string()]),
        Stdout::Capture,
        Expect::Any,
    ),
    command(
        "python-pass",
        "`/usr/bin/python3 -c pass`",
        |_| needs("/usr/bin/python3").map(|p| vec![p, "-c".into(), "pass".into()]),
        Stdout::Capture,
        Expect::Any,
    ),
    command(
        "python-imports",
        "`/usr/bin/python3 -c 'import json, email, http.client, asyncio'`",
        |_| {
            needs("/usr/bin/python3").map(|p| {
                vec![
                    p,
                    "-c".into(),
                    "import json, email, http.client, asyncio".into(),
                ]
            })
        },
        Stdout::Capture,
        Expect::Any,
    ),
    command(
        "sh-200-true",
        "`sh -c` running `/bin/true` 200 times in a `while` loop",
        |_| {
            needs("/bin/sh").map(|p| {
                vec![
                    p,
                    "-c".into(),
                    "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo $i".into(),
                ]
            })
        },
        Stdout::Capture,
        Expect::Exactly("200"),
    ),
    command(
        "gcc-compile",
        "`gcc -O1 -c` of a generated 2000-line C file, output to /dev/null",
        |w| {
            in_path("gcc").map(|p| {
                vec![
                    p,
                    "-O1".into(),
                    "-c".into(),
                    w.root.join("gen.c").into(),
                    "-o".into(),
                    "/dev/null".into(),
                ]
            })
        },
        Stdout::Capture,
        Expect::Any,
    ),
    command(
        "sqlite-insert",
        "`sqlite3 :memory:` running 10 000 `INSERT`s in one transaction",
        |w| {
            in_path("sqlite3").map(|p| {
                vec![
                    p,
                    ":memory:".into(),
                    format!(".read {}", w.root.join("insert.sql").display()).into(),
                ]
            })
        },
        Stdout::Capture,
        Expect::Exactly("10000"),
    ),
    command(
        "tar-doc",
        "`tar czf - -C /usr/share doc`, archive to /dev/null",
        |_| {
            needs("/usr/share/doc")?;
            in_path("tar").map(|p| {
                vec![
                    p,
                    "czf".into(),
                    "-".into(),
                    "-C".into(),
                    "/usr/share".into(),
                    "doc".into(),
                ]
            })
        },
        Stdout::Discard,
        Expect::Any,
    ),
    command(
        "find-usr",
        "`find /usr -xdev -type f | wc -l`: a tree walk with a `stat` per entry",
        |_| {
            needs("/usr")?;
            in_path("find")?;
            needs("/bin/sh").map(|p| vec![p, "-c".into(), "find /usr -xdev -type f | wc -l".into()])
        },
        Stdout::Capture,
        Expect::SameAsNative,
    ),
    command(
        "git-status",
        "`git status --porcelain` in a checkout of 300 files with a few changes",
        |w| {
            let git = in_path("git")?;
            let checkout = w.git_checkout(&git)?;
            Ok(vec![
                git,
                "--no-optional-locks".into(),
                "-C".into(),
                checkout.into(),
                "status".into(),
                "--porcelain".into(),
            ])
        },
        Stdout::Capture,
        Expect::Exactly(GIT_STATUS),
    ),
];

fn argv(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// `path` if it exists, else the reason to skip.
fn needs(path: &str) -> Result<OsString, String> {
    if Path::new(path).exists() {
        Ok(path.into())
    } else {
        Err(format!("{path} is missing"))
    }
}

/// `name` looked up in `PATH`, else the reason to skip.
fn in_path(name: &str) -> Result<OsString, String> {
    find_in_path(name)
        .map(PathBuf::into_os_string)
        .ok_or_else(|| format!("{name} not found in PATH"))
}

/// Looks `name` up in `PATH` as a shell would (a name with a slash is taken as it is).
pub(crate) fn find_in_path(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).is_file().then(|| PathBuf::from(name));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

impl Workload {
    /// Whether `--workloads` item `sel` picks this one: its name, its group, or
    /// the part of its name before a dash (`getppid`, `pipe`, `python`).
    pub(crate) fn matches(&self, sel: &str) -> bool {
        self.name == sel
            || self.group == sel
            || self
                .name
                .strip_prefix(sel)
                .is_some_and(|r| r.starts_with('-'))
    }

    pub(crate) fn timing(&self) -> Timing {
        match self.spec {
            Spec::Micro { .. } => Timing::Inside,
            Spec::Command { .. } => Timing::Outside,
        }
    }

    /// The command line, or why this workload cannot run on this host.
    pub(crate) fn prepare(&self, workdir: &Workdir, quick: bool) -> Result<Prepared, String> {
        match self.spec {
            Spec::Micro {
                program,
                mode,
                full,
                quick: q,
                arg,
            } => {
                let iterations = if quick { q } else { full };
                let mut argv = vec![
                    workdir.bin(program).into_os_string(),
                    mode.into(),
                    iterations.to_string().into(),
                ];
                match arg {
                    Arg::None => {}
                    Arg::DataFile => argv.push(workdir.root.join("data").into()),
                    Arg::Dir1000 => argv.push(workdir.root.join("dir1000").into()),
                    Arg::Disk => argv.push(workdir.disk.clone()?.into()),
                    Arg::Host(path) => argv.push(needs(path)?),
                }
                Ok(Prepared {
                    argv,
                    timing: Timing::Inside,
                    stdout: Stdout::Capture,
                    expect: Expect::Any,
                    iterations: Some(iterations),
                })
            }
            Spec::Command {
                build,
                stdout,
                expect,
            } => Ok(Prepared {
                argv: build(workdir)?,
                timing: Timing::Outside,
                stdout,
                expect,
                iterations: None,
            }),
        }
    }

    fn program(&self) -> Option<&'static str> {
        match self.spec {
            Spec::Micro { program, .. } => Some(program),
            Spec::Command { .. } => (self.name == "startup-static").then_some("noop"),
        }
    }
}

/// C sources, embedded so the harness runs from anywhere.
const SOURCES: &[(&str, &str)] = &[
    ("common.h", include_str!("../workloads/common.h")),
    ("syscall.c", include_str!("../workloads/syscall.c")),
    ("file.c", include_str!("../workloads/file.c")),
    ("memory.c", include_str!("../workloads/memory.c")),
    ("process.c", include_str!("../workloads/process.c")),
    ("ipc.c", include_str!("../workloads/ipc.c")),
    ("noop.c", include_str!("../workloads/noop.c")),
    ("launch.c", include_str!("../workloads/launch.c")),
];

/// The scratch directory: built programs, fixtures, and each run's output
/// files. Removed when dropped, with [`Workdir::disk`].
#[derive(Debug)]
pub(crate) struct Workdir {
    pub(crate) root: PathBuf,
    /// An empty directory in /var/tmp, or why there is none. $TMPDIR may be
    /// a tmpfs; /var/tmp survives reboots, so it is on the host's disk, and
    /// the sandbox has no mount there, so it sees it in its overlay root.
    pub(crate) disk: Result<PathBuf, String>,
    /// "static" or "dynamic": how the C programs were linked (the launcher
    /// too: static keeps its address space, and so the children's
    /// ru_maxrss floor, small).
    pub(crate) linkage: &'static str,
}

impl Workdir {
    /// Creates the directory, builds the programs `workloads` need and writes
    /// the files they read.
    pub(crate) fn create(workloads: &[&Workload]) -> anyhow::Result<Self> {
        let name = format!("carapace-bench.{}", std::process::id());
        let root = std::env::temp_dir().join(&name);
        let _ = std::fs::remove_dir_all(&root);
        for sub in ["src", "bin", "runs", "dir1000"] {
            std::fs::create_dir_all(root.join(sub))
                .with_context(|| format!("create {}", root.join(sub).display()))?;
        }
        let disk = Path::new("/var/tmp").join(name);
        let _ = std::fs::remove_dir_all(&disk);
        let disk = std::fs::create_dir(&disk)
            .map(|()| disk.clone())
            .map_err(|e| format!("cannot create {}: {e}", disk.display()));
        let mut workdir = Self {
            root,
            disk,
            linkage: "static",
        };
        workdir.fixtures()?;
        let mut programs: Vec<&str> = workloads.iter().filter_map(|w| w.program()).collect();
        programs.push("launch");
        programs.sort_unstable();
        programs.dedup();
        for program in programs {
            workdir.build(program)?;
        }
        Ok(workdir)
    }

    pub(crate) fn bin(&self, program: &str) -> PathBuf {
        self.root.join("bin").join(program)
    }

    /// Builds `program` with `cc -O2`, statically if the host's libc allows it
    /// (no dynamic loader in the measurement), dynamically otherwise.
    fn build(&mut self, program: &str) -> anyhow::Result<()> {
        let src = self.root.join("src");
        for (name, text) in SOURCES {
            let path = src.join(name);
            if !path.exists() {
                std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
            }
        }
        let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
        let bin = self.bin(program);
        let attempt = |linkage: &[&str]| -> anyhow::Result<std::process::Output> {
            Command::new(&cc)
                .args(["-O2", "-pthread"])
                .args(linkage)
                .arg("-o")
                .arg(&bin)
                .arg(src.join(format!("{program}.c")))
                .output()
                .with_context(|| {
                    format!(
                        "run {} (a C compiler is needed to build the workloads)",
                        cc.to_string_lossy()
                    )
                })
        };
        if self.linkage == "static" {
            let out = attempt(&["-static"])?;
            if out.status.success() {
                return Ok(());
            }
            self.linkage = "dynamic";
        }
        let out = attempt(&[])?;
        if !out.status.success() {
            bail!(
                "cc -O2 {program}.c failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn fixtures(&self) -> anyhow::Result<()> {
        let write = |name: &str, data: &[u8]| {
            let path = self.root.join(name);
            std::fs::write(&path, data).with_context(|| format!("write {}", path.display()))
        };
        // 1 MiB of xorshift noise: nothing compresses or dedups it.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let data: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect();
        write("data", &data)?;
        for i in 0..1000 {
            write(&format!("dir1000/entry-{i:04}"), b"")?;
        }
        write("gen.c", generated_c(2000).as_bytes())?;
        write("insert.sql", insert_sql(10_000).as_bytes())?;
        Ok(())
    }

    /// A git checkout of [`GIT_FILES`] generated files with the changes
    /// [`GIT_STATUS`] lists, made on first use; its path, or why there is none.
    fn git_checkout(&self, git: &OsString) -> Result<PathBuf, String> {
        let dir = self.root.join("git");
        if dir.exists() {
            return Ok(dir);
        }
        // Neither the user's nor the system's git configuration applies
        // while the checkout is made: no hooks, no signing, no prompts.
        let run = |args: &[&str]| -> Result<(), String> {
            let out = Command::new(git)
                .args(["-c", "user.name=carapace-bench", "-c"])
                .arg("user.email=carapace-bench@localhost")
                .args(["-c", "init.defaultBranch=main", "-C"])
                .arg(&dir)
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .map_err(|e| format!("run git: {e}"))?;
            if out.status.success() {
                return Ok(());
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(format!(
                "git {} failed: {}",
                args.join(" "),
                stderr.lines().next().unwrap_or("")
            ))
        };
        let write = |name: String, text: String| {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap_or(&dir))
                .and_then(|()| std::fs::write(&path, text))
                .map_err(|e| format!("write {}: {e}", path.display()))
        };
        for i in 0..GIT_FILES {
            write(git_file(i), git_text(i, 0))?;
        }
        run(&["init", "-q"])?;
        run(&["add", "."])?;
        run(&["commit", "-q", "-m", "generated by carapace-bench"])?;
        // The checkout's own configuration beats the user's, which could
        // hide untracked files or hand the work to a file-system monitor.
        run(&["config", "status.showUntrackedFiles", "normal"])?;
        run(&["config", "core.fsmonitor", "false"])?;
        write(git_file(0), git_text(0, 1))?;
        run(&["add", &git_file(0)])?;
        write(git_file(123), git_text(123, 1))?;
        std::fs::remove_file(dir.join(git_file(GIT_FILES - 1)))
            .map_err(|e| format!("remove from the checkout: {e}"))?;
        write("dir-2/new.txt".into(), git_text(GIT_FILES, 0))?;
        write("notes.txt".into(), git_text(GIT_FILES + 1, 0))?;
        // Refreshes the index's file times now, so no run pays for it.
        run(&["status", "--porcelain"])?;
        Ok(dir)
    }

    /// Files for one run's stdout, stderr, launcher result and carapace
    /// debug log.
    pub(crate) fn run_files(&self) -> [PathBuf; 4] {
        ["stdout", "stderr", "result", "debug.log"].map(|name| self.root.join("runs").join(name))
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
        if let Ok(disk) = &self.disk {
            let _ = std::fs::remove_dir_all(disk);
        }
    }
}

/// How many files the git-status checkout commits.
const GIT_FILES: usize = 300;

/// `git status --porcelain` in that checkout, trimmed as the harness trims
/// stdout: file 0 modified and staged, 123 modified, the last one deleted,
/// two untracked files.
const GIT_STATUS: &str = "M  dir-0/file-000.txt
 M dir-4/file-123.txt
 D dir-9/file-299.txt
?? dir-2/new.txt
?? notes.txt";

/// The path of file `i` of the checkout: ten directories of 30.
fn git_file(i: usize) -> String {
    format!("dir-{}/file-{i:03}.txt", i / 30)
}

/// Some lines of text for file `i`, in version `version`.
fn git_text(i: usize, version: usize) -> String {
    (0..20).fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "file {i} version {version} line {line}");
        out
    })
}

/// A C file of about `lines` lines: many small functions with loops,
/// branches, structs and calls, so the compiler has real work at -O1.
pub(crate) fn generated_c(lines: usize) -> String {
    let mut out = String::from(
        "/* Generated by carapace-bench. */\n#include <stddef.h>\n\nstruct point { long x, y, z; };\n\n",
    );
    let mut i = 0;
    while out.lines().count() < lines {
        let prev = if i == 0 {
            String::from("0")
        } else {
            format!("f{}(p, n / 2 + 1)", i - 1)
        };
        let _ = write!(
            out,
            "static long f{i}(const struct point *p, size_t n)\n{{\n\tlong acc = {i};\n\tfor (size_t j = 0; j < n; j++) {{\n\t\tswitch ((p[j].x + j) % 4) {{\n\t\tcase 0:\n\t\t\tacc += p[j].y * {m};\n\t\t\tbreak;\n\t\tcase 1:\n\t\t\tacc ^= p[j].z << {s};\n\t\t\tbreak;\n\t\tcase 2:\n\t\t\tacc -= p[j].x / (p[j].y | 1);\n\t\t\tbreak;\n\t\tdefault:\n\t\t\tacc = acc * 31 + (long)j;\n\t\t}}\n\t}}\n\tif (n > 8 && acc % 7 == {r})\n\t\tacc += {prev};\n\treturn acc;\n}}\n\n",
            m = i % 13 + 3,
            s = i % 5 + 1,
            r = i % 7,
        );
        i += 1;
    }
    let _ = write!(
        out,
        "long entry(const struct point *p, size_t n)\n{{\n\treturn f{}(p, n);\n}}\n",
        i - 1
    );
    out
}

/// SQL that creates a table and inserts `rows` rows in one transaction, then
/// prints the row count.
pub(crate) fn insert_sql(rows: usize) -> String {
    let mut out =
        String::from("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL);\nBEGIN;\n");
    for i in 1..=rows {
        let _ = writeln!(
            out,
            "INSERT INTO t VALUES ({i}, 'name-{i}', {}.5);",
            i * 7 % 1000
        );
    }
    out.push_str("COMMIT;\nSELECT count(*) FROM t;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_selectable() {
        let mut names: Vec<_> = ALL.iter().map(|w| w.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        let getppid: Vec<_> = ALL
            .iter()
            .filter(|w| w.matches("getppid"))
            .map(|w| w.name)
            .collect();
        assert_eq!(getppid, ["getppid-syscall", "getppid-libc"]);
        assert_eq!(ALL.iter().filter(|w| w.matches("file")).count(), 6);
        let write: Vec<_> = ALL
            .iter()
            .filter(|w| w.matches("write-1m"))
            .map(|w| w.name)
            .collect();
        assert_eq!(write, ["write-1m-tmpfs", "write-1m-overlay"]);
        assert_eq!(ALL.iter().filter(|w| w.matches("stat")).count(), 1);
        assert_eq!(ALL.iter().filter(|w| w.matches("startup")).count(), 2);
    }

    #[test]
    fn docs_list_every_workload() {
        let docs = include_str!("../../../docs/benchmarks.md");
        for w in ALL {
            let row = format!("| `{}` | {} |", w.name, w.group);
            assert!(docs.contains(&row), "docs/benchmarks.md has no row {row}");
        }
    }

    #[test]
    fn git_checkout_shows_the_expected_status() {
        let Some(git) = find_in_path("git") else {
            return;
        };
        let git = git.into_os_string();
        let root = std::env::temp_dir().join(format!("carapace-bench-git-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let workdir = Workdir {
            root,
            disk: Err("not needed".into()),
            linkage: "static",
        };
        let checkout = workdir.git_checkout(&git).unwrap();
        let out = Command::new(&git)
            .arg("-C")
            .arg(&checkout)
            .args(["status", "--porcelain"])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), GIT_STATUS);
    }

    #[test]
    fn generated_sources_have_the_promised_size() {
        let c = generated_c(2000);
        assert!((2000..2100).contains(&c.lines().count()));
        let sql = insert_sql(10_000);
        assert_eq!(sql.matches("INSERT INTO").count(), 10_000);
    }
}
