//! Real programs under `carapace do`, run as a user would (ARCHITECTURE.md
//! §10, §11): busybox applets, the host's dynamic coreutils, python3, exit
//! statuses, and the CLI's own commands and flags.
//!
//! Each case runs under every platform, as the caller and, when the caller
//! is root, again as `nobody` (see `common::users`); tests are named
//! `<case>::<platform>::as_caller` and `<case>::<platform>::as_nobody`
//! (the CLI's own commands, which run no program: `<case>::as_caller`).
//! Where the output is meaningful, it is compared with the same command run
//! natively as the same user.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::users::{Scratch, User};
use common::{Output, PLATFORMS, Status};
use libtest_mimic::{Arguments, Failed, Trial};

const BUSYBOX: &str = "/bin/busybox";

/// Top-level entries whose `ls -l` line legitimately differs in the sandbox:
/// /dev, /proc, /sys and /run are the sentry's own (empty or minimal)
/// filesystems, and /tmp changes while the tests run.
const VOLATILE_ROOT_ENTRIES: &[&str] = &["dev", "proc", "sys", "run", "tmp"];

/// How one trial runs its case: as which user, under which platform (`None`
/// for the CLI's own commands, which run no program).
#[derive(Clone, Copy, Debug)]
struct Run {
    user: User,
    platform: Option<&'static str>,
}

/// Fixtures shared by every case.
#[derive(Debug)]
struct Fixtures {
    scratch: Scratch,
    /// A program that dereferences NULL, or why it could not be built.
    segv: Result<PathBuf, String>,
    /// A mode-0644 shell script.
    not_executable: PathBuf,
    /// An executable `#!/bin/sh` script printing `$0` and its arguments,
    /// one run through `/usr/bin/env sh`, and one whose interpreter is
    /// missing.
    scripts: [PathBuf; 3],
    /// Lines for `sort`.
    sort_input: PathBuf,
}

impl Fixtures {
    fn new() -> std::io::Result<Self> {
        let scratch = Scratch::new("programs")?;
        let not_executable = scratch.write(
            "not-executable.sh",
            b"#!/bin/sh\necho should not run\n",
            0o644,
        )?;
        let body = b"echo \"$0 $#: $*\"\n";
        let scripts = [
            scratch.write(
                "script.sh",
                &[b"#!/bin/sh\n".as_slice(), body].concat(),
                0o755,
            )?,
            scratch.write(
                "env-script.sh",
                &[b"#!/usr/bin/env sh\n".as_slice(), body].concat(),
                0o755,
            )?,
            scratch.write("orphan-script.sh", b"#!/nonexistent/sh\n", 0o755)?,
        ];
        let sort_input = scratch.write(
            "sort-input.txt",
            b"pear\napple\nfig\nbanana\napple\n",
            0o644,
        )?;
        let source = scratch.write(
            "segv.c",
            b"#include <sys/resource.h>\n\
              int main(void) {\n\
              \tstruct rlimit none = {0, 0};\n\
              \tsetrlimit(RLIMIT_CORE, &none); /* no core file in the cwd */\n\
              \treturn *(volatile int *)0;\n\
              }\n",
            0o644,
        )?;
        let segv_bin = scratch.path().join("segv");
        let segv = Command::new("cc")
            .args(["-O1", "-o"])
            .arg(&segv_bin)
            .arg(&source)
            .output()
            .map_err(|e| format!("run cc: {e}"))
            .and_then(|out| {
                if out.status.success() {
                    Ok(segv_bin)
                } else {
                    Err(format!(
                        "cc segv.c: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ))
                }
            });
        Ok(Self {
            scratch,
            segv,
            not_executable,
            scripts,
            sort_input,
        })
    }

    /// `carapace [--platform=P] ARGS...` as `ctx.user`.
    fn carapace(&self, ctx: Run, args: &[&str]) -> Command {
        let mut cmd = ctx.user.command(self.scratch.carapace());
        if let Some(platform) = ctx.platform {
            cmd.arg(format!("--platform={platform}"));
        }
        cmd.args(args);
        cmd
    }

    /// `carapace do -- ARGV...` as `ctx` says.
    fn sandboxed(&self, ctx: Run, argv: &[&str], stdin: Option<&[u8]>) -> Result<Output, Failed> {
        let mut cmd = self.carapace(ctx, &["do", "--"]);
        cmd.args(argv);
        run(&mut cmd, stdin)
    }

    /// `ARGV...` natively as `user`: the oracle.
    fn native(&self, user: User, argv: &[&str], stdin: Option<&[u8]>) -> Result<Output, Failed> {
        let mut cmd = user.command(argv[0]);
        cmd.args(&argv[1..]);
        run(&mut cmd, stdin)
    }

    /// Run `argv` natively and sandboxed; both must exit 0 with the same
    /// stdout, after `normalize`.
    fn same_as_native(
        &self,
        ctx: Run,
        argv: &[&str],
        stdin: Option<&[u8]>,
        normalize: fn(&str) -> String,
    ) -> Result<Output, Failed> {
        let native = self.native(ctx.user, argv, stdin)?;
        expect_status(&native, 0, "the native run")?;
        let sandboxed = self.sandboxed(ctx, argv, stdin)?;
        expect_status(&sandboxed, 0, "carapace do")?;
        let (want, got) = (
            normalize(&native.stdout_str()),
            normalize(&sandboxed.stdout_str()),
        );
        if want != got {
            return Err(format!(
                "{}: stdout differs from the native run:\n{}\nstderr:\n{}",
                argv.join(" "),
                common::diff("native", &want, "carapace", &got),
                common::tail(&sandboxed.stderr_str(), 4096)
            )
            .into());
        }
        Ok(sandboxed)
    }
}

fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Result<Output, Failed> {
    run_within(cmd, stdin, common::timeout())
}

fn run_within(cmd: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Result<Output, Failed> {
    let line = common::command_line(cmd);
    let out = common::run(cmd, stdin, limit).map_err(|e| format!("spawn `{line}`: {e}"))?;
    if let Status::TimedOut(after) = out.status {
        return Err(format!(
            "`{line}` hung: killed after {} s\n{}",
            after.as_secs(),
            out.describe()
        )
        .into());
    }
    Ok(out)
}

fn expect_status(out: &Output, want: i32, what: &str) -> Result<(), Failed> {
    if out.status == Status::Exited(want) {
        return Ok(());
    }
    Err(format!("{what}: want exit status {want}, got {}", out.describe()).into())
}

fn expect_stdout(out: &Output, want: &str) -> Result<(), Failed> {
    let got = out.stdout_str();
    if got == want {
        return Ok(());
    }
    Err(format!(
        "stdout differs:\n{}\nstderr:\n{}",
        common::diff("expected", want, "carapace", &got),
        common::tail(&out.stderr_str(), 4096)
    )
    .into())
}

fn expect_stderr_contains(out: &Output, needle: &str) -> Result<(), Failed> {
    if out.stderr_str().contains(needle) {
        return Ok(());
    }
    Err(format!("stderr should contain {needle:?}\n{}", out.describe()).into())
}

/// Drop `ls -l` lines (and the `total` line) for [`VOLATILE_ROOT_ENTRIES`].
fn without_volatile_entries(listing: &str) -> String {
    listing
        .lines()
        .filter(|line| {
            let name = line.split_whitespace().nth(8).unwrap_or("");
            !line.starts_with("total ") && !VOLATILE_ROOT_ENTRIES.contains(&name)
        })
        // Column widths follow the widest entry, volatile ones included.
        .map(|line| format!("{}\n", line.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect()
}

/// An unprivileged sandbox runs in a user namespace that maps only the
/// caller's ids, so files owned by anyone else show the overflow ids
/// (nobody/nogroup), as in every rootless container. Its listings are
/// compared without the owner and group columns; root's are compared whole.
fn listing_normalizer(user: User) -> fn(&str) -> String {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    match user {
        User::Caller if root => without_volatile_entries,
        _ => |listing| without_owners(&without_volatile_entries(listing)),
    }
}

fn without_owners(listing: &str) -> String {
    listing
        .lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() > 4 {
                fields[2] = "-";
                fields[3] = "-";
            }
            format!("{}\n", fields.join(" "))
        })
        .collect()
}

fn sorted_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn identity(text: &str) -> String {
    text.to_owned()
}

// ---- processes, threads and signals ----

fn sh_pipelines_and_status(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "echo hello | tr a-z A-Z; x=$(echo sub); echo \"got $x\"; \
                  (exit 3); echo \"rc=$?\"; seq 1 5 | wc -l; \
                  sleep 0.1 & wait $!; echo \"bg=$?\"; \
                  trap 'echo got INT' INT; kill -INT $$; exit 4";
    let out = f.sandboxed(ctx, &["/bin/sh", "-c", script], None)?;
    expect_status(&out, 4, "sh -c")?;
    expect_stdout(&out, "HELLO\ngot sub\nrc=3\n5\nbg=0\ngot INT\n")
}

fn python3_threads_subprocess_signals(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let program = "import threading, subprocess, signal, os\n\
lock = threading.Lock(); cv = threading.Condition(lock); n = [0]\n\
def work():\n    for _ in range(1000):\n        with lock: n[0] += 1\n\
ts = [threading.Thread(target=work) for _ in range(10)]\n\
[t.start() for t in ts]; [t.join() for t in ts]\n\
print('threads', n[0])\n\
print('subprocess', subprocess.run(['/bin/echo', 'hi'], capture_output=True).stdout.decode().strip())\n\
got = []\n\
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))\n\
os.kill(os.getpid(), signal.SIGUSR1)\n\
print('signal', got == [signal.SIGUSR1])\n";
    let out = f.sandboxed(ctx, &["/usr/bin/python3", "-c", program], None)?;
    expect_status(&out, 0, "python3")?;
    expect_stdout(&out, "threads 10000\nsubprocess hi\nsignal True\n")
}

fn python3_pty_fork(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    // The child runs on the slave of a sandbox pseudo-terminal as its
    // controlling terminal; the parent reads its output from the master
    // until the hang-up (EIO).
    let program = "import os, pty, sys\n\
pid, fd = pty.fork()\n\
if pid == 0:\n    os.execv('/bin/sh', ['sh', '-c', 'echo hello from $(tty | cut -c1-9); stty size; test -t 0 && echo stdin-tty; (: </dev/tty) && echo ctty'])\n\
out = b''\n\
while True:\n    try:\n        chunk = os.read(fd, 1024)\n    except OSError:\n        break\n    if not chunk:\n        break\n    out += chunk\n\
_, status = os.waitpid(pid, 0)\n\
sys.stdout.write(out.decode().replace('\\r\\n', '\\n'))\n\
print('status', os.waitstatus_to_exitcode(status))\n";
    let out = f.sandboxed(ctx, &["/usr/bin/python3", "-c", program], None)?;
    expect_status(&out, 0, "python3 pty.fork")?;
    expect_stdout(
        &out,
        "hello from /dev/pts/\n0 0\nstdin-tty\nctty\nstatus 0\n",
    )
}

/// Runs `argv` in the sandbox; it must exit 0 and print `want`.
fn sandboxed_program(f: &Fixtures, ctx: Run, argv: &[&str], want: &str) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, argv, None)?;
    expect_status(&out, 0, argv[0])?;
    expect_stdout(&out, want)
}

/// A process pool: fork, pipes, threads, and semaphores in /dev/shm
/// shared by the workers.
fn python3_multiprocessing_pool(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let program = "import multiprocessing
def square(x):
    return x * x
if __name__ == '__main__':
    with multiprocessing.Pool(2) as pool:
        print(pool.map(square, range(20)))
        print(sum(pool.imap_unordered(square, range(100), chunksize=3)))
";
    sandboxed_program(
        f,
        ctx,
        &["/usr/bin/python3", "-c", program],
        "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225, 256, 289, 324, 361]\n\
         328350\n",
    )
}

/// `time.sleep` cut short by a signal whose handler raises: from an
/// interval timer, and from another thread's `os.kill`.
fn python3_sleep_interrupted(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let program = "import os, signal, threading, time\n\
class Woken(Exception): pass\n\
def raise_it(signo, frame): raise Woken(signo)\n\
signal.signal(signal.SIGALRM, raise_it)\n\
signal.signal(signal.SIGUSR1, raise_it)\n\
start = time.monotonic()\n\
signal.setitimer(signal.ITIMER_REAL, 0.05)\n\
try:\n    time.sleep(10); print('itimer: slept')\n\
except Woken as e: print('itimer: woken by', signal.Signals(e.args[0]).name)\n\
threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGUSR1)).start()\n\
try:\n    time.sleep(10); print('kill: slept')\n\
except Woken as e: print('kill: woken by', signal.Signals(e.args[0]).name)\n\
print('quick', time.monotonic() - start < 5)\n";
    sandboxed_program(
        f,
        ctx,
        &["/usr/bin/python3", "-c", program],
        "itimer: woken by SIGALRM\nkill: woken by SIGUSR1\nquick True\n",
    )
}

/// pidfds as Python uses them: `os.pidfd_open` polled with `select.poll`
/// until a subprocess exits, `os.waitid(os.P_PIDFD, ...)`, and
/// `signal.pidfd_send_signal`.
fn python3_pidfd(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let program = "import os, select, signal, subprocess\n\
p = subprocess.Popen(['/bin/sh', '-c', 'read x; exit 3'], stdin=subprocess.PIPE)\n\
fd = os.pidfd_open(p.pid)\n\
po = select.poll(); po.register(fd, select.POLLIN)\n\
print('running', po.poll(0))\n\
p.stdin.close()\n\
print('exited', [(f == fd, ev) for f, ev in po.poll(5000)])\n\
info = os.waitid(os.P_PIDFD, fd, os.WEXITED)\n\
print('waitid', info.si_pid == p.pid, info.si_code == os.CLD_EXITED, info.si_status)\n\
p.returncode = info.si_status\n\
q = subprocess.Popen(['/bin/sleep', '10'])\n\
signal.pidfd_send_signal(os.pidfd_open(q.pid), signal.SIGTERM)\n\
print('killed', q.wait() == -signal.SIGTERM)\n";
    sandboxed_program(
        f,
        ctx,
        &["/usr/bin/python3", "-c", program],
        "running []\nexited [(True, 1)]\nwaitid True True 3\nkilled True\n",
    )
}

/// `select.epoll` as Python uses it: a pipe level-triggered and an
/// eventfd edge-triggered, a wait woken by another thread, and a
/// subprocess's output read as it becomes ready. (asyncio's event loop
/// needs `socketpair(2)`, which carapace lacks so far.)
fn python3_epoll_eventfd(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let program = "import os, select, subprocess, threading\n\
ep = select.epoll()\n\
r, w = os.pipe()\n\
efd = os.eventfd(0, os.EFD_NONBLOCK)\n\
ep.register(r, select.EPOLLIN)\n\
ep.register(efd, select.EPOLLIN | select.EPOLLET)\n\
print('idle', ep.poll(0))\n\
os.write(w, b'x')\n\
os.eventfd_write(efd, 3)\n\
print('both', sorted((fd == r, fd == efd, ev) for fd, ev in ep.poll(1)))\n\
print('level only', ep.poll(0) == [(r, select.EPOLLIN)])\n\
print('count', os.eventfd_read(efd))\n\
os.read(r, 1)\n\
threading.Timer(0.05, lambda: os.eventfd_write(efd, 1)).start()\n\
print('woken', ep.poll(5) == [(efd, select.EPOLLIN)])\n\
p = subprocess.Popen(['/bin/echo', 'hi'], stdout=subprocess.PIPE)\n\
ep.register(p.stdout.fileno(), select.EPOLLIN)\n\
read = lambda: (ep.poll(5), os.read(p.stdout.fileno(), 100))[1]\n\
out = b''.join(iter(read, b''))\n\
print('child', out, p.wait())\n\
";
    sandboxed_program(
        f,
        ctx,
        &["/usr/bin/python3", "-c", program],
        "idle []\nboth [(False, True, 1), (True, False, 1)]\nlevel only True\ncount 3\n\
         woken True\nchild b'hi\\n' 0\n",
    )
}

/// `make -j2`: three C files compiled in parallel in the sandbox's /tmp,
/// linked, and the result run.
fn make_parallel_build(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "set -e; d=$(mktemp -d); cd \"$d\"\n\
printf '#include <stdio.h>\\nint a(void);\\nint b(void);\\n\
int main(void){printf(\"sum %%d\\\\n\", a() + b()); return 0;}\\n' > main.c\n\
printf 'int a(void){return 40;}\\n' > a.c\n\
printf 'int b(void){return 2;}\\n' > b.c\n\
printf 'prog: main.o a.o b.o\\n\\tcc -o $@ $^\\n%%.o: %%.c\\n\\tcc -O1 -c -o $@ $<\\n' > Makefile\n\
/usr/bin/make -s -j2\n\
./prog\n\
ls *.o\n";
    sandboxed_program(
        f,
        ctx,
        &["/bin/sh", "-c", script],
        "sum 42\na.o\nb.o\nmain.o\n",
    )
}

fn gcc_compiles_and_runs(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "cd /tmp && printf '#include <stdio.h>\\nint main(void){puts(\"built\");return 0;}\\n' > h.c \
                  && /usr/bin/gcc -O2 -o h h.c && ./h";
    let out = f.sandboxed(ctx, &["/bin/sh", "-c", script], None)?;
    expect_status(&out, 0, "gcc in the sandbox")?;
    expect_stdout(&out, "built\n")
}

// ---- file systems ----

/// `sh -c SCRIPT` in the sandbox must exit 0 and print `want`.
fn sandboxed_script(f: &Fixtures, ctx: Run, script: &str, want: &str) -> Result<(), Failed> {
    sandboxed_program(f, ctx, &["/bin/sh", "-c", script], want)
}

fn git_init_add_commit(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "cd \"$(mktemp -d)\" && mkdir repo && cd repo && echo one > a && mkdir d && echo two > d/b \
                  && git init -q && git add . \
                  && git -c user.name=t -c user.email=t@example.com commit -qm first \
                  && echo three >> a && git status --porcelain \
                  && git -c user.name=t -c user.email=t@example.com commit -qam second \
                  && git log --format=%s && git ls-files && git fsck --no-progress 2>&1";
    sandboxed_script(f, ctx, script, " M a\nsecond\nfirst\na\nd/b\n")
}

/// A removed file's memory goes back to the overlay's budget, even right
/// after its name was looked up (the view keeps recently used names cached):
/// 6 MB files made, looked up and removed (by `rm`, and by a rename over
/// them) again and again fit an 8 MB overlay.
fn removed_files_free_overlay_space(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "cd /tmp && for i in 1 2 3 4; do \
                    head -c 6000000 /dev/zero > big && test -s big && rm big || exit 1; \
                    head -c 6000000 /dev/zero > big && test -s big && echo $i > small \
                    && mv small big && test -s big && rm big || exit 2; \
                  done && echo freed";
    let mut cmd = f.carapace(
        ctx,
        &["do", "--overlay-size=8M", "--", "/bin/sh", "-c", script],
    );
    let out = run(&mut cmd, None)?;
    expect_status(&out, 0, "files made and removed in an 8 MB overlay")?;
    expect_stdout(&out, "freed\n")
}

fn tar_create_extract(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "cd \"$(mktemp -d)\" && tar czf inc.tgz -C /usr/include linux && mkdir x \
                  && tar xzf inc.tgz -C x && diff -r --no-dereference /usr/include/linux x/linux \
                  && tar tzf inc.tgz | wc -l | tr -d ' ' > n && test \"$(cat n)\" -gt 100 && echo same";
    sandboxed_script(f, ctx, script, "same\n")
}

fn sqlite3_database(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "cd \"$(mktemp -d)\" && sqlite3 db 'create table t(k integer primary key, v text);' \
                  && sqlite3 db \"insert into t(v) values ('a'),('b'),('c'); \
                  create index tv on t(v);\" \
                  && sqlite3 db 'pragma journal_mode=wal;' \
                  && sqlite3 db \"update t set v = v || v where k > 1; \
                  select group_concat(v, ',') from t; pragma integrity_check;\"";
    sandboxed_script(f, ctx, script, "wal\na,bb,cc\nok\n")
}

fn python3_venv(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "d=$(mktemp -d) && python3 -m venv $d/v && $d/v/bin/python -c 'import sys; print(sys.prefix)' | sed \"s|^$d|D|\"";
    sandboxed_script(f, ctx, script, "D/v\n")
}

fn cp_a_and_diff(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    // --no-dereference: the tree has relative symlinks that dangle once
    // copied elsewhere, natively too.
    let script = "d=$(mktemp -d) && cp -a /usr/share/doc $d/d \
                  && diff -r --no-dereference /usr/share/doc $d/d && echo same";
    sandboxed_script(f, ctx, script, "same\n")
}

/// Directories of the host rootfs (the overlay's lower layer) rename like
/// any directory: their contents follow them to the new name (overlayfs's
/// `redirect_dir`), the old name is gone, and `renameat2`'s flags work;
/// the host never changes (only the sandbox sees it).
fn rename_lower_directories(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = r#"set -e
cd /usr/share/doc
p=$(for d in *; do if [ -n "$(find "$d" -mindepth 2 -type f | head -1)" ]; then echo "$d"; break; fi; done)
q=$(ls | grep -v -x "$p" | head -1)
tree() { (cd "$1" && find . | sort && find . -type f -exec md5sum {} + | sort) | md5sum; }
before=$(tree "$p")
mv "$p" renamed-dir
test ! -e "$p" && echo "old name gone"
test "$(tree renamed-dir)" = "$before" && echo "tree follows"
ls | grep -c -x renamed-dir
ls | grep -c -x "$p" || true
sub=$(cd renamed-dir && find . -mindepth 1 -maxdepth 1 -type d | head -1)
echo below > "renamed-dir/$sub/added"
cat "renamed-dir/$sub/added"
mkdir "$p" && test -z "$(ls -A "$p")" && echo "a new directory at the old name is empty"
rmdir "$p"
rmdir renamed-dir 2>&1 | sed 's/.*: //'
mv renamed-dir /tmp/moved-away
mv "/tmp/moved-away/$sub" /tmp/moved-away/sub-renamed
cat /tmp/moved-away/sub-renamed/added
mv /tmp/moved-away/sub-renamed "/tmp/moved-away/$sub"
mv /tmp/moved-away "$p"
rm "$p/$sub/added"
test "$(tree "$p")" = "$before" && echo "back in place"
python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
p, q = sys.argv[1], sys.argv[2]
lp, lq = sorted(os.listdir(p)), sorted(os.listdir(q))
def rename(a, b, flags):
    r = libc.renameat2(-100, a.encode(), -100, b.encode(), flags)
    return "ok" if r == 0 else os.strerror(ctypes.get_errno())
print("RENAME_NOREPLACE:", rename(p, q, 1))
print("RENAME_EXCHANGE:", rename(p, q, 2))
print("swapped:", sorted(os.listdir(p)) == lq and sorted(os.listdir(q)) == lp)
print("RENAME_EXCHANGE back:", rename(p, q, 2))
print("restored:", sorted(os.listdir(p)) == lp and sorted(os.listdir(q)) == lq)
print("onto a non-empty one:", rename(p, q, 0))
' "$p" "$q"
"#;
    let want = "old name gone\ntree follows\n1\n0\nbelow\n\
                a new directory at the old name is empty\nDirectory not empty\nbelow\n\
                back in place\nRENAME_NOREPLACE: File exists\nRENAME_EXCHANGE: ok\n\
                swapped: True\nRENAME_EXCHANGE back: ok\nrestored: True\n\
                onto a non-empty one: Directory not empty\n";
    sandboxed_script(f, ctx, script, want)
}

fn find_counts_files(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    // Directory order is the filesystem's business: compare counts.
    // /usr/share/polkit-1 holds a directory private to its user, which root
    // reads and nobody does not.
    let subset = f.same_as_native(
        ctx,
        &[
            "/bin/sh",
            "-c",
            "find /usr/bin /usr/include /usr/share/doc /usr/share/polkit-1 -xdev -type f 2>/dev/null | wc -l",
        ],
        None,
        identity,
    )?;
    let count = |out: &Output| out.stdout_str().trim().parse::<u64>().unwrap_or(0);
    // A walk of the whole rootfs (the CI machine's holds the build tree):
    // more time than one program usually gets before it counts as hung.
    let mut walk = f.carapace(
        ctx,
        &[
            "do",
            "--",
            "/bin/sh",
            "-c",
            "find / -xdev -type f 2>/dev/null | wc -l",
        ],
    );
    let everything = run_within(&mut walk, None, common::timeout() * 4)?;
    if count(&everything) <= count(&subset) || count(&subset) < 1000 {
        return Err(format!(
            "find / -xdev found {} files, /usr/{{bin,include,share/doc}} {}",
            count(&everything),
            count(&subset)
        )
        .into());
    }
    Ok(())
}

fn ls_proc_fd_and_dev(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, &["/bin/ls", "-la", "/proc/self/fd", "/dev"], None)?;
    expect_status(&out, 0, "ls -la /proc/self/fd /dev")?;
    let text = out.stdout_str();
    let has = |name: &str, mode_start: &str| {
        text.lines()
            .any(|l| l.starts_with(mode_start) && l.split_whitespace().any(|w| w == name))
    };
    for (name, mode) in [
        ("null", "crw-rw-rw-"),
        ("zero", "crw-rw-rw-"),
        ("urandom", "crw-rw-rw-"),
        ("full", "crw-rw-rw-"),
        ("random", "crw-rw-rw-"),
        ("tty", "crw-rw-rw-"),
        ("ptmx", "crw-rw-rw-"),
        ("console", "crw-------"),
        ("pts", "d"),
        ("shm", "drwxrwxrwt"),
        ("stdin", "lrwxrwxrwx"),
        ("0", "l"),
        ("1", "l"),
        ("2", "l"),
    ] {
        if !has(name, mode) {
            return Err(format!("no `{mode}... {name}` line\n{}", out.describe()).into());
        }
    }
    Ok(())
}

/// `/dev/console` is the sandbox's console: without a terminal, the
/// stream carapace got as standard error. Like the host's, it is root's only.
fn dev_console_is_stderr(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(
        ctx,
        &[
            "/bin/sh",
            "-c",
            "echo to-console >/dev/console && echo written",
        ],
        None,
    )?;
    // SAFETY: geteuid cannot fail.
    if matches!(ctx.user, User::Caller) && unsafe { libc::geteuid() } == 0 {
        expect_status(&out, 0, "echo >/dev/console")?;
        expect_stdout(&out, "written\n")?;
        if out.stderr_str() != "to-console\n" {
            return Err(format!("console output not on stderr\n{}", out.describe()).into());
        }
    } else if !out.stderr_str().contains("Permission denied") {
        return Err(format!(
            "a user other than root opened /dev/console\n{}",
            out.describe()
        )
        .into());
    }
    Ok(())
}

// ---- busybox (static) ----

fn busybox_echo(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, &[BUSYBOX, "echo", "hello", "from", "busybox"], None)?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(&out, "hello from busybox\n")
}

fn busybox_ls_root(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    f.same_as_native(
        ctx,
        &[BUSYBOX, "ls", "-l", "/"],
        None,
        listing_normalizer(ctx.user),
    )
    .map(drop)
}

fn busybox_cat_os_release(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.same_as_native(ctx, &[BUSYBOX, "cat", "/etc/os-release"], None, identity)?;
    let host =
        std::fs::read("/etc/os-release").map_err(|e| format!("read /etc/os-release: {e}"))?;
    if out.stdout != host {
        return Err("cat /etc/os-release does not print the file's bytes".into());
    }
    Ok(())
}

fn busybox_wc_stdin(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let input = b"one two three\nfour five\n\nsix\n";
    let out = f.same_as_native(ctx, &[BUSYBOX, "wc"], Some(input), identity)?;
    let text = out.stdout_str();
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields != ["4", "6", "29"] {
        return Err(format!("wc: want lines/words/bytes 4 6 29, got {fields:?}").into());
    }
    Ok(())
}

fn busybox_sort(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let input = f.sort_input.to_str().expect("scratch paths are UTF-8");
    let out = f.same_as_native(ctx, &[BUSYBOX, "sort", input], None, identity)?;
    expect_stdout(&out, "apple\napple\nbanana\nfig\npear\n")
}

fn busybox_sha256sum(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    f.same_as_native(
        ctx,
        &[BUSYBOX, "sha256sum", BUSYBOX, "/etc/os-release", "/bin/ls"],
        None,
        identity,
    )
    .map(drop)
}

fn busybox_find(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    // Directory order is the filesystem's business: compare as sets.
    let out = f.same_as_native(
        ctx,
        &[BUSYBOX, "find", "/usr/share/doc", "-name", "copyright"],
        None,
        sorted_lines,
    )?;
    if !out
        .stdout_str()
        .lines()
        .any(|l| l == "/usr/share/doc/busybox-static/copyright")
    {
        return Err("find did not list /usr/share/doc/busybox-static/copyright".into());
    }
    Ok(())
}

fn busybox_sandbox_view(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, &[BUSYBOX, "ls", "-1", "/dev"], None)?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(
        &out,
        "console\nfd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n",
    )?;
    let out = f.sandboxed(ctx, &[BUSYBOX, "ls", "-A", "/proc", "/sys", "/run"], None)?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(
        &out,
        "/proc:\n1\ncpuinfo\nfilesystems\nloadavg\nlocks\nmeminfo\nmounts\nmtab\nself\nstat\nsys\n\
         thread-self\nuptime\nversion\n\n/run:\n\n/sys:\ndevices\nfs\nkernel\n",
    )
}

fn busybox_stdio_streams(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(
        ctx,
        &[
            BUSYBOX,
            "sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2; exit 7",
        ],
        None,
    )?;
    expect_status(&out, 7, "carapace do")?;
    expect_stdout(&out, "to-stdout\n")?;
    if out.stderr_str() != "to-stderr\n" {
        return Err(format!("stderr should be exactly the program's\n{}", out.describe()).into());
    }
    Ok(())
}

fn busybox_identity(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    f.same_as_native(ctx, &[BUSYBOX, "id"], None, identity)?;
    f.same_as_native(ctx, &[BUSYBOX, "hostname"], None, identity)?;
    let out = f.sandboxed(ctx, &[BUSYBOX, "pwd"], None)?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(&out, "/\n")
}

fn cwd_is_inherited(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let mut cmd = f.carapace(ctx, &["do", "--", BUSYBOX, "pwd"]);
    cmd.current_dir("/usr/share");
    let out = run(&mut cmd, None)?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(&out, "/usr/share\n")
}

// ---- the host's dynamic programs ----

fn host_ls_la(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    f.same_as_native(
        ctx,
        &["/bin/ls", "-la", "/"],
        None,
        listing_normalizer(ctx.user),
    )
    .map(drop)
}

fn host_env(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.same_as_native(ctx, &["/usr/bin/env"], None, identity)?;
    let want: String = common::CLEAN_ENV
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    if sorted_lines(&out.stdout_str()) != sorted_lines(&want) {
        return Err(format!(
            "env should print exactly the caller's environment\n{}",
            out.describe()
        )
        .into());
    }
    Ok(())
}

fn host_cat_stdin_pipe(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, &["/bin/cat"], Some(b"abc\n"))?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(&out, "abc\n")?;
    // A larger input than one pipe buffer.
    let big: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    let out = f.sandboxed(ctx, &["/bin/cat"], Some(&big))?;
    expect_status(&out, 0, "carapace do")?;
    if out.stdout != big {
        return Err(format!(
            "cat of a {} byte pipe returned {} bytes",
            big.len(),
            out.stdout.len()
        )
        .into());
    }
    Ok(())
}

fn python3_hashlib(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let script = "import sys, json, hashlib; print(hashlib.sha256(b\"x\").hexdigest())";
    let out = f.same_as_native(ctx, &["/usr/bin/python3", "-c", script], None, identity)?;
    expect_stdout(
        &out,
        "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n",
    )
}

fn path_lookup(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, &["echo", "hello"], None)?;
    expect_status(&out, 0, "carapace do")?;
    expect_stdout(&out, "hello\n")
}

// ---- exit statuses ----

fn exit_status_from_shell(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = f.sandboxed(ctx, &["/bin/sh", "-c", "exit 3"], None)?;
    expect_status(&out, 3, "carapace do")?;
    let out = f.sandboxed(ctx, &["/bin/true"], None)?;
    expect_status(&out, 0, "carapace do")?;
    let out = f.sandboxed(ctx, &["/bin/false"], None)?;
    expect_status(&out, 1, "carapace do")
}

fn exit_status_sigsegv(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let segv = f.segv.as_ref().map_err(|e| Failed::from(e.clone()))?;
    let segv = segv.to_str().expect("scratch paths are UTF-8");
    let native = f.native(ctx.user, &[segv], None)?;
    if native.status != Status::Signaled(libc::SIGSEGV) {
        return Err(format!(
            "natively, segv should die of SIGSEGV: {}",
            native.describe()
        )
        .into());
    }
    let out = f.sandboxed(ctx, &[segv], None)?;
    expect_status(&out, 139, "carapace do")
}

fn missing_command(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    for cmd in [
        "/nonexistent/carapace-test-command",
        "carapace-test-no-such-command",
    ] {
        let out = f.sandboxed(ctx, &[cmd], None)?;
        expect_status(&out, 127, "carapace do")?;
        expect_stderr_contains(&out, cmd)?;
        if !out.stdout.is_empty() {
            return Err(format!("nothing should reach stdout\n{}", out.describe()).into());
        }
    }
    Ok(())
}

fn not_executable(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let path = f.not_executable.to_str().expect("scratch paths are UTF-8");
    let out = f.sandboxed(ctx, &[path], None)?;
    expect_status(&out, 126, "carapace do")?;
    expect_stderr_contains(&out, path)?;
    // A directory is found but not executable either.
    let out = f.sandboxed(ctx, &["/usr"], None)?;
    expect_status(&out, 126, "carapace do")
}

fn scripts_run_their_interpreter(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    // The command itself may be a `#!` script, as with execve.
    for script in &f.scripts[..2] {
        let path = script.to_str().expect("scratch paths are UTF-8");
        f.same_as_native(ctx, &[path, "a", "b c"], None, identity)?;
    }
    // A missing interpreter is "not found", as a shell reports it.
    let path = f.scripts[2].to_str().expect("scratch paths are UTF-8");
    let out = f.sandboxed(ctx, &[path], None)?;
    expect_status(&out, 127, "carapace do")?;
    expect_stderr_contains(&out, path)
}

// ---- the CLI ----

fn platforms_command(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = run(&mut f.carapace(ctx, &["platforms"]), None)?;
    expect_status(&out, 0, "carapace platforms")?;
    let text = out.stdout_str();
    for platform in PLATFORMS {
        if !text.lines().any(|l| {
            l.split_whitespace()
                .any(|w| w.trim_matches(':') == *platform)
        }) {
            return Err(format!(
                "`carapace platforms` should list {platform}\n{}",
                out.describe()
            )
            .into());
        }
    }
    Ok(())
}

fn syscalls_command(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = run(&mut f.carapace(ctx, &["syscalls"]), None)?;
    expect_status(&out, 0, "carapace syscalls")?;
    let text = out.stdout_str();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| {
            l.split(|c: char| c.is_whitespace() || c == '|' || c == ',')
                .filter(|w| !w.is_empty())
                .collect()
        })
        .collect();
    for (number, name) in [
        ("0", "read"),
        ("1", "write"),
        ("39", "getpid"),
        ("60", "exit"),
        ("231", "exit_group"),
    ] {
        if !rows
            .iter()
            .any(|r| r.contains(&number) && r.contains(&name))
        {
            return Err(format!(
                "`carapace syscalls` has no row for {number} {name}\n{}",
                out.describe()
            )
            .into());
        }
    }
    let levels = ["full", "partial", "unsupported"];
    let with_level = rows
        .iter()
        .filter(|r| {
            r.iter()
                .any(|w| levels.contains(&w.to_ascii_lowercase().as_str()))
        })
        .count();
    if with_level < 5 {
        return Err(format!(
            "`carapace syscalls` rows should name a support level\n{}",
            out.describe()
        )
        .into());
    }
    Ok(())
}

fn strace_flag(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let native = f.native(ctx.user, &["/bin/ls", "/"], None)?;
    for args in [
        &["--strace", "do", "--", "/bin/ls", "/"][..],
        &["do", "--strace", "--", "/bin/ls", "/"],
    ] {
        let out = run(&mut f.carapace(ctx, args), None)?;
        expect_status(&out, 0, "carapace --strace do")?;
        if out.stdout != native.stdout {
            return Err(format!(
                "--strace must not change the program's stdout:\n{}",
                common::diff(
                    "native",
                    &native.stdout_str(),
                    "carapace",
                    &out.stdout_str()
                )
            )
            .into());
        }
        let stderr = out.stderr_str();
        if !stderr.lines().any(|l| l.contains("openat("))
            || !stderr.lines().any(|l| l.contains(") = "))
        {
            return Err(format!(
                "`carapace {}`: stderr should trace openat(...) = N lines\n{}",
                args.join(" "),
                out.describe()
            )
            .into());
        }
    }
    Ok(())
}

fn unknown_platform(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let out = run(
        &mut f.carapace(ctx, &["do", "--platform=nope", "--", "/bin/true"]),
        None,
    )?;
    expect_status(&out, 125, "carapace do --platform=nope")?;
    expect_stderr_contains(&out, "nope")
}

fn global_flags_anywhere(f: &Fixtures, ctx: Run) -> Result<(), Failed> {
    let platform = format!("--platform={}", PLATFORMS[0]);
    let cases: [&[&str]; 4] = [
        &[&platform, "do", "--", BUSYBOX, "echo", "ok"],
        &["do", &platform, "--", BUSYBOX, "echo", "ok"],
        &["--debug", "do", &platform, "--", BUSYBOX, "echo", "ok"],
        &[&platform, "do", "--debug", "--", BUSYBOX, "echo", "ok"],
    ];
    for args in cases {
        let out = run(&mut f.carapace(ctx, args), None)?;
        expect_status(&out, 0, &format!("carapace {}", args.join(" ")))?;
        expect_stdout(&out, "ok\n")?;
    }
    Ok(())
}

type Case = fn(&Fixtures, Run) -> Result<(), Failed>;

const CASES: &[(&str, Case)] = &[
    ("busybox_echo", busybox_echo),
    ("busybox_ls_root", busybox_ls_root),
    ("busybox_cat_os_release", busybox_cat_os_release),
    ("busybox_wc_stdin", busybox_wc_stdin),
    ("busybox_sort", busybox_sort),
    ("busybox_sha256sum", busybox_sha256sum),
    ("busybox_find", busybox_find),
    ("busybox_sandbox_view", busybox_sandbox_view),
    ("busybox_stdio_streams", busybox_stdio_streams),
    ("busybox_identity", busybox_identity),
    ("cwd_is_inherited", cwd_is_inherited),
    ("host_ls_la", host_ls_la),
    ("sh_pipelines_and_status", sh_pipelines_and_status),
    (
        "python3_threads_subprocess_signals",
        python3_threads_subprocess_signals,
    ),
    ("python3_pty_fork", python3_pty_fork),
    ("gcc_compiles_and_runs", gcc_compiles_and_runs),
    ("git_init_add_commit", git_init_add_commit),
    ("tar_create_extract", tar_create_extract),
    (
        "removed_files_free_overlay_space",
        removed_files_free_overlay_space,
    ),
    ("sqlite3_database", sqlite3_database),
    ("python3_venv", python3_venv),
    ("cp_a_and_diff", cp_a_and_diff),
    ("rename_lower_directories", rename_lower_directories),
    ("find_counts_files", find_counts_files),
    ("ls_proc_fd_and_dev", ls_proc_fd_and_dev),
    ("dev_console_is_stderr", dev_console_is_stderr),
    ("python3_multiprocessing_pool", python3_multiprocessing_pool),
    ("python3_sleep_interrupted", python3_sleep_interrupted),
    ("python3_pidfd", python3_pidfd),
    ("python3_epoll_eventfd", python3_epoll_eventfd),
    ("make_parallel_build", make_parallel_build),
    ("host_env", host_env),
    ("host_cat_stdin_pipe", host_cat_stdin_pipe),
    ("python3_hashlib", python3_hashlib),
    ("path_lookup", path_lookup),
    ("exit_status_from_shell", exit_status_from_shell),
    ("exit_status_sigsegv", exit_status_sigsegv),
    ("missing_command", missing_command),
    ("not_executable", not_executable),
    (
        "scripts_run_their_interpreter",
        scripts_run_their_interpreter,
    ),
    ("strace_flag", strace_flag),
];

/// The CLI's own commands and flags: they run once, with no `--platform`
/// added (they choose their own).
const CLI_CASES: &[(&str, Case)] = &[
    ("platforms_command", platforms_command),
    ("syscalls_command", syscalls_command),
    ("unknown_platform", unknown_platform),
    ("global_flags_anywhere", global_flags_anywhere),
];

fn main() {
    let args = Arguments::from_args();
    let fixtures = Arc::new(Fixtures::new().expect("create the programs test fixtures"));
    let mut trials = Vec::new();
    let mut add = |name: String, case: Case, ctx: Run| {
        let fixtures = Arc::clone(&fixtures);
        trials.push(Trial::test(name, move || case(&fixtures, ctx)));
    };
    for &user in User::all() {
        for &(name, case) in CASES {
            for &platform in PLATFORMS {
                let ctx = Run {
                    user,
                    platform: Some(platform),
                };
                add(format!("{name}::{platform}::{}", user.name()), case, ctx);
            }
        }
        for &(name, case) in CLI_CASES {
            let ctx = Run {
                user,
                platform: None,
            };
            add(format!("{name}::{}", user.name()), case, ctx);
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // The trials are gone: this drop removes the scratch directory.
    drop(fixtures);
    conclusion.exit();
}
