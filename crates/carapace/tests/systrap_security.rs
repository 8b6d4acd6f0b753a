//! Security tests of the systrap platform (issue 4): a hostile program can
//! only end its own sandbox, and its syscalls never reach the host.
//!
//! The C programs beside this file know the stub's layout
//! (`crates/platform/src/systrap/layout.rs`): these are white-box attacks.

// An integration-test crate is a test module as a whole: its helpers may
// unwrap, and its #[test]s need no inner module.
#![allow(clippy::tests_outside_test_module, clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Output, Status};

/// Builds `tests/systrap_security/<name>.c` statically; returns the binary.
fn build(name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/systrap_security")
        .join(format!("{name}.c"));
    let dir = common::target_dir().join("systrap-security");
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(["-O1", "-static", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc {}", src.display());
    out
}

fn carapace(args: &[&str]) -> Output {
    let mut cmd = common::clean_command(common::carapace_bin());
    cmd.arg("--platform=systrap").arg("do").arg("--").args(args);
    common::run(&mut cmd, None, Duration::from_secs(60)).expect("run carapace")
}

/// The sandbox ended the way a hostile program may end it: on its own
/// terms (`ok`), or with carapace's error status naming the stub; never a
/// hang or a sentry panic.
fn ended_cleanly(out: &Output, ok: &[i32]) {
    let stderr = out.stderr_str();
    assert!(!stderr.contains("panicked"), "{}", out.describe());
    match out.status {
        Status::TimedOut(_) => panic!("the sandbox hung\n{}", out.describe()),
        status => {
            let code = status.shell_code().expect("not a timeout");
            assert!(
                ok.contains(&code) || (code == 125 && stderr.contains("stub")),
                "unexpected end\n{}",
                out.describe()
            );
        }
    }
}

fn still_works() {
    let out = carapace(&["/bin/echo", "still works"]);
    assert_eq!(out.status, Status::Exited(0), "{}", out.describe());
    assert_eq!(out.stdout_str(), "still works\n");
}

#[test]
fn scribbling_over_shared_memory_ends_only_that_sandbox() {
    let prog = build("scribble");
    let out = carapace(&[prog.to_str().unwrap()]);
    assert!(
        out.stdout_str().starts_with("start\n"),
        "{}",
        out.describe()
    );
    assert!(
        !out.stdout_str().contains("wrote the command page"),
        "{}",
        out.describe()
    );
    // 139: it survived and the command-page write killed it with SIGSEGV.
    ended_cleanly(&out, &[139]);
    still_works();
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

#[test]
fn host_syscalls_never_reach_the_host() {
    let prog = build("hostcalls");
    let canary = tempdir("carapace-systrap-canary");
    fs::write(canary.join("canary"), "untouched").unwrap();
    let mut target = Command::new("sleep")
        .arg("120")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep");
    let cad = read_trimmed("/proc/sys/kernel/ctrl-alt-del");
    let kexec = read_trimmed("/sys/kernel/kexec_loaded");
    let mounts = read_trimmed("/proc/self/mountinfo");

    let pid = target.id().to_string();
    let out = carapace(&[prog.to_str().unwrap(), &pid, canary.to_str().unwrap()]);

    // From the host: nothing changed.
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("target still alive");
    assert!(status.contains("TracerPid:\t0\n"), "{status}");
    assert!(
        target.try_wait().unwrap().is_none(),
        "the ptrace target died"
    );
    assert_eq!(
        fs::read_to_string(canary.join("canary")).unwrap(),
        "untouched"
    );
    assert_eq!(read_trimmed("/proc/sys/kernel/ctrl-alt-del"), cad);
    assert_eq!(read_trimmed("/sys/kernel/kexec_loaded"), kexec);
    assert_eq!(read_trimmed("/proc/self/mountinfo"), mounts);
    let _ = target.kill();
    let _ = target.wait();
    let _ = fs::remove_dir_all(&canary);

    // From the program: the sentry answered (pid 1 is the sandbox's init;
    // the stub is another pid), and refused.
    let stdout = out.stdout_str();
    assert!(stdout.contains("getpid=1\n"), "{}", out.describe());
    for call in ["ptrace", "mount", "reboot", "kexec_load"] {
        let value = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{call}=")))
            .unwrap_or_else(|| panic!("no {call} line\n{}", out.describe()));
        let value: i64 = value.parse().unwrap();
        assert!(value < 0, "{call} returned {value}\n{}", out.describe());
    }
    // Every `syscall` site of the stub page was tried from a child.
    assert!(stdout.contains("stub sites="), "{}", out.describe());
    ended_cleanly(&out, &[0]);
    still_works();
}

fn tempdir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn jumping_into_the_trap_table_ends_only_that_program() {
    let prog = build("trampoline");
    let out = carapace(&[prog.to_str().unwrap()]);
    assert!(
        out.stdout_str().starts_with("start\n"),
        "{}",
        out.describe()
    );
    // Each child jumps with garbage registers; all of them end, and the
    // parent (or, at worst, the sandbox) ends cleanly.
    ended_cleanly(&out, &[0]);
    still_works();
}
