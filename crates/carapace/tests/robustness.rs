//! The sandbox stays in charge of hostile workloads (the processes issue's
//! robustness points): a fork bomb hits the task limit and the sandbox still
//! answers; a program blocked forever can be killed; Ctrl-C reaches the
//! foreground process group; killing carapace leaves
//! no sandbox process behind. Every test runs under every platform.

// An integration-test crate is a test module as a whole.
#![allow(clippy::tests_outside_test_module)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{PLATFORMS, Status, carapace_bin, clean_command, run, timeout};

#[test]
fn a_fork_bomb_hits_the_task_limit() {
    // Each shell forks until fork fails (EAGAIN at the limit), then reports.
    let script = "i=0; while [ $i -lt 300 ]; do (sleep 1 &) 2>/dev/null || { echo limited; break; }; \
                  i=$((i+1)); done; echo alive";
    for platform in PLATFORMS {
        let mut cmd = clean_command(carapace_bin());
        cmd.args([
            "--pids-limit",
            "40",
            "--platform",
            platform,
            "do",
            "--",
            "/bin/sh",
            "-c",
            script,
        ]);
        let out = run(&mut cmd, None, timeout()).expect("run carapace");
        let text = out.stdout_str();
        assert!(
            matches!(out.status, Status::Exited(_))
                && text.contains("limited")
                && text.contains("alive"),
            "{platform}: the sandbox must survive a fork storm\n{}",
            out.describe()
        );
    }
}

#[test]
fn a_program_blocked_forever_can_be_killed() {
    for platform in PLATFORMS {
        let mut child = spawn_sh(platform, "exec sleep 1000", Stdio::null());
        std::thread::sleep(Duration::from_millis(500));
        let pid = i32::try_from(child.id()).expect("pid fits");
        // SAFETY: kill takes no pointers.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = wait_for_end(&mut child, &format!("{platform}: SIGTERM"));
        assert_eq!(
            status.code(),
            Some(128 + libc::SIGTERM),
            "{platform}: status {status:?}"
        );
    }
}

/// Starts `sh -c script` in a sandbox under `platform`, in the background.
fn spawn_sh(platform: &str, script: &str, stdout: Stdio) -> std::process::Child {
    let mut cmd = clean_command(carapace_bin());
    cmd.args(["--platform", platform, "do", "--", "/bin/sh", "-c", script]);
    cmd.stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("start carapace")
}

/// Waits for carapace to end after `what` was sent to it, failing the test
/// if it is still running after ten seconds.
fn wait_for_end(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for carapace") {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} did not end the sandbox"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_reaches_the_foreground_process_group() {
    // SIGINT to carapace is the terminal's Ctrl-C: it goes to the
    // sandbox's foreground process group, so both the shell (which traps
    // it and goes on) and the sleep it waits for (which dies of it) get it.
    // The shell forks the subshell before "ready" is printed, so the signal
    // always finds it waiting.
    let script = "trap 'echo sh got INT' INT; (echo ready; exec sleep 1000); echo after $?";
    for platform in PLATFORMS {
        let mut child = spawn_sh(platform, script, Stdio::piped());
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).expect("read the ready line");
        assert_eq!(line, "ready\n", "{platform}: the script did not start");
        let pid = i32::try_from(child.id()).expect("pid fits");
        // SAFETY: kill takes no pointers.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        let status = wait_for_end(&mut child, &format!("{platform}: SIGINT"));
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read the output");
        assert_eq!(
            rest,
            format!("sh got INT\nafter {}\n", 128 + libc::SIGINT),
            "{platform}: both the shell and its foreground child must get SIGINT"
        );
        assert_eq!(status.code(), Some(0), "{platform}: status {status:?}");
    }
}

/// The pids of `root`'s descendants (by parent links in the host's /proc).
fn descendants(root: i32) -> Vec<i32> {
    let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn sigkill_of_carapace_leaves_no_process_behind() {
    for platform in PLATFORMS {
        let mut child = spawn_sh(platform, "sleep 1000 & sleep 1000", Stdio::null());
        std::thread::sleep(Duration::from_millis(700));
        let cli = i32::try_from(child.id()).expect("pid fits");
        // The sandbox process, its stub master and the stubs of sh and sleep.
        let started = descendants(cli);
        assert!(
            started.len() >= 4,
            "{platform}: expected the sandbox's processes, found {started:?}"
        );
        child.kill().expect("SIGKILL carapace");
        let _ = child.wait();
        let start = Instant::now();
        loop {
            let survivors: Vec<i32> = started.iter().copied().filter(|&p| alive(p)).collect();
            if survivors.is_empty() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{platform}: processes left behind after SIGKILL: {survivors:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn writing_to_a_closed_stdout_pipe_dies_of_sigpipe() {
    for platform in PLATFORMS {
        let carapace = carapace_bin();
        let script = format!(
            "'{}' --platform={platform} do -- /bin/sh -c 'while :; do echo y; done' | head -1 >/dev/null; \
             echo ${{PIPESTATUS[0]}}",
            carapace.display()
        );
        let mut cmd = clean_command("/bin/bash");
        cmd.args(["-c", &script]);
        let out = run(&mut cmd, None, timeout()).expect("run bash");
        assert_eq!(
            out.stdout_str().trim(),
            "141",
            "{platform}: a writer to a pipe without readers dies of SIGPIPE (128 + 13)\n{}",
            out.describe()
        );
    }
}

/// Makes `cmd`'s process start with SIGHUP, SIGINT and SIGUSR1 ignored and
/// SIGUSR2 blocked, as `nohup` or a shell's background job would.
fn with_signals_ignored_and_blocked(cmd: &mut std::process::Command) {
    let hook = || {
        for signo in [libc::SIGHUP, libc::SIGINT, libc::SIGUSR1] {
            // SAFETY: signal takes no pointers; SIG_IGN is a valid action.
            unsafe { libc::signal(signo, libc::SIG_IGN) };
        }
        // SAFETY: an all-zero sigset_t is a valid value to start from.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: sigemptyset and sigaddset write the set we own.
        unsafe { libc::sigemptyset(&mut set) };
        // SAFETY: as above.
        unsafe { libc::sigaddset(&mut set, libc::SIGUSR2) };
        // SAFETY: sigprocmask reads the set we own.
        unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
        Ok(())
    };
    // SAFETY: the hook runs in the child between fork and exec and calls
    // only async-signal-safe functions (signal, sigprocmask).
    unsafe { std::os::unix::process::CommandExt::pre_exec(cmd, hook) };
}

#[test]
fn the_program_inherits_ignored_and_blocked_signals() {
    // execve keeps SIG_IGN and the mask: what a program started by carapace
    // sees is what it would see started directly. Only the standard
    // signals but SIGPIPE are compared (the Rust runtime ignores SIGPIPE
    // before main, and libc may use the first real-time ones).
    let status = ["/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"];
    let sets = |text: &str| -> (u64, u64) {
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or(u64::MAX)
        };
        let standard = 0x7fff_ffff & !(1 << (libc::SIGPIPE - 1));
        (field("SigIgn:") & standard, field("SigBlk:") & standard)
    };
    let bit = |signo: i32| 1u64 << (signo - 1);
    let want = (
        bit(libc::SIGHUP) | bit(libc::SIGINT) | bit(libc::SIGUSR1),
        bit(libc::SIGUSR2),
    );
    let mut native = clean_command(status[0]);
    native.args(&status[1..]);
    with_signals_ignored_and_blocked(&mut native);
    let out = run(&mut native, None, timeout()).expect("run natively");
    assert_eq!(
        sets(&out.stdout_str()),
        want,
        "natively: {}",
        out.describe()
    );
    for platform in PLATFORMS {
        let mut cmd = clean_command(carapace_bin());
        cmd.args(["--platform", platform, "do", "--"]).args(status);
        with_signals_ignored_and_blocked(&mut cmd);
        let out = run(&mut cmd, None, timeout()).expect("run carapace");
        assert_eq!(
            sets(&out.stdout_str()),
            want,
            "{platform}: {}",
            out.describe()
        );
    }
}

#[test]
fn a_program_may_open_more_files_than_the_callers_soft_limit() {
    // Each file the program opens is a host fd of the sentry's. Started
    // with the usual soft limit of 1024, the sentry raises its own to the
    // hard one, so the program's own limit (raised to 4096 here) is what
    // counts, up to what the host allows at all.
    let mut host = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `struct rlimit` to the pointer.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut host) };
    assert_eq!(got, 0, "getrlimit");
    let files = host.rlim_max.saturating_sub(200).min(3000);
    let script = format!(
        "import os, resource\n\
         resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))\n\
         fds = [os.open('/etc/passwd', os.O_RDONLY) for _ in range({files})]\n\
         print(len(fds))\n"
    );
    for platform in PLATFORMS {
        let mut cmd = clean_command(carapace_bin());
        cmd.args([
            "--platform",
            platform,
            "do",
            "--",
            "/usr/bin/python3",
            "-c",
            &script,
        ]);
        let soft_1024 = move || {
            let limit = libc::rlimit {
                rlim_cur: host.rlim_max.min(1024),
                rlim_max: host.rlim_max,
            };
            // SAFETY: setrlimit reads one `struct rlimit` we own.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) };
            Ok(())
        };
        // SAFETY: the hook runs in the child between fork and exec and
        // calls only setrlimit, which is async-signal-safe.
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut cmd, soft_1024) };
        let out = run(&mut cmd, None, timeout()).expect("run carapace");
        assert_eq!(
            out.stdout_str().trim(),
            files.to_string(),
            "{platform}: {}",
            out.describe()
        );
    }
}
