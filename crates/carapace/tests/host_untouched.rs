//! The host is untouched (ARCHITECTURE.md §7, §11): a program that creates,
//! deletes, modifies, chmods, renames or truncates files in its root succeeds
//! (the writes land in the overlay's upper layer in sandbox memory, and later
//! reads in the same run see them), and the canary tree it ran in is
//! byte-for-byte unchanged afterwards (contents, modes, mtimes, symlink
//! targets), however the writes are aimed: `..` chains, absolute and escaping
//! symlinks, links made at run time, the sentry's own /proc, /sys and /dev.
//!
//! Each test builds its own canary rootfs in a temp dir, with busybox and a
//! few world-writable files and dirs, so that even as `nobody` only the
//! sandbox (not host permissions) stops the writes. Tests run as the caller
//! and, when that is root, as `nobody` too.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use common::users::{Scratch, User};
use common::{Output, Status};
use libtest_mimic::{Arguments, Failed, Trial};

/// What the tests know about one path of the canary tree.
#[derive(Debug, PartialEq, Eq)]
struct Entry {
    mode: u32,
    mtime: (i64, i64),
    uid: u32,
    gid: u32,
    nlink: u64,
    /// File bytes, symlink target, or sorted directory entries (empty for
    /// anything else).
    content: Vec<u8>,
}

impl Entry {
    /// What differs, for humans.
    fn differences(&self, new: &Self) -> String {
        let mut what = Vec::new();
        if self.mode != new.mode {
            what.push(format!("mode {:o} -> {:o}", self.mode, new.mode));
        }
        if (self.uid, self.gid) != (new.uid, new.gid) {
            what.push(format!(
                "owner {}:{} -> {}:{}",
                self.uid, self.gid, new.uid, new.gid
            ));
        }
        if self.nlink != new.nlink {
            what.push(format!("nlink {} -> {}", self.nlink, new.nlink));
        }
        if self.mtime != new.mtime {
            what.push("mtime changed".to_owned());
        }
        if self.content != new.content {
            let show = |b: &[u8]| {
                let text = String::from_utf8_lossy(b);
                if text.len() > 80 {
                    format!("{} bytes", b.len())
                } else {
                    format!("{text:?}")
                }
            };
            what.push(format!(
                "content {} -> {}",
                show(&self.content),
                show(&new.content)
            ));
        }
        what.join(", ")
    }
}

/// Every path under `root` (including itself), keyed by its relative path.
fn snapshot(root: &Path) -> io::Result<BTreeMap<PathBuf, Entry>> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = fs::symlink_metadata(&path)?;
        let content = if meta.file_type().is_symlink() {
            fs::read_link(&path)?.into_os_string().into_encoded_bytes()
        } else if meta.is_dir() {
            let mut names = Vec::new();
            for child in fs::read_dir(&path)? {
                let child = child?;
                names.push(child.file_name().into_encoded_bytes());
                pending.push(child.path());
            }
            names.sort();
            names.join(&b'/')
        } else if meta.is_file() {
            fs::read(&path)?
        } else {
            // A FIFO, socket or device node someone made: never open it (a
            // FIFO would block); its presence and mode are the change.
            Vec::new()
        };
        let rel = path
            .strip_prefix(root)
            .expect("walked from root")
            .to_path_buf();
        entries.insert(
            rel,
            Entry {
                mode: meta.mode(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                uid: meta.uid(),
                gid: meta.gid(),
                nlink: meta.nlink(),
                content,
            },
        );
    }
    Ok(entries)
}

fn compare(before: &BTreeMap<PathBuf, Entry>, after: &BTreeMap<PathBuf, Entry>) -> Vec<String> {
    let mut changes = Vec::new();
    for (path, old) in before {
        match after.get(path) {
            None => changes.push(format!("removed: /{}", path.display())),
            Some(new) if new != old => {
                changes.push(format!(
                    "changed: /{}: {}",
                    path.display(),
                    old.differences(new)
                ));
            }
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        changes.push(format!("created: /{}", path.display()));
    }
    changes
}

/// A canary rootfs: `/bin/busybox`, files and dirs with known content.
#[derive(Debug)]
struct Canary {
    scratch: Scratch,
    root: PathBuf,
}

impl Canary {
    fn new(tag: &str) -> io::Result<Self> {
        let scratch = Scratch::new(&format!("canary-{tag}"))?;
        let root = scratch.path().join("root");
        let mode =
            |path: &Path, mode: u32| fs::set_permissions(path, fs::Permissions::from_mode(mode));
        for dir in ["bin", "etc", "data", "data/sub", "empty", "tree/a/b"] {
            fs::create_dir_all(root.join(dir))?;
        }
        fs::copy("/bin/busybox", root.join("bin/busybox"))?;
        fs::write(root.join("etc/motd"), b"canary motd\n")?;
        fs::write(root.join("data/file.txt"), b"original contents\n")?;
        fs::write(
            root.join("data/sub/nested.bin"),
            (0..=255u8).collect::<Vec<_>>(),
        )?;
        fs::write(root.join("data/private"), b"secret\n")?;
        fs::write(root.join("tree/a/b/leaf"), b"leaf\n")?;
        symlink("/etc/motd", root.join("abs_link"))?;
        symlink(
            "../../../../../../../../../../etc/motd",
            root.join("data/escape_link"),
        )?;
        // World-writable, so host permissions alone would let `nobody` write.
        for dir in [
            "", "bin", "etc", "data", "data/sub", "empty", "tree", "tree/a", "tree/a/b",
        ] {
            mode(&root.join(dir), 0o777)?;
        }
        for file in [
            "etc/motd",
            "data/file.txt",
            "data/sub/nested.bin",
            "tree/a/b/leaf",
        ] {
            mode(&root.join(file), 0o666)?;
        }
        mode(&root.join("data/private"), 0o600)?;
        mode(&root.join("bin/busybox"), 0o755)?;
        Ok(Self { scratch, root })
    }

    /// `carapace do --rootfs CANARY -- /bin/busybox ARGS...` as `user`.
    fn busybox(&self, user: User, args: &[&str]) -> Result<Output, Failed> {
        let mut cmd = user.command(self.scratch.carapace());
        cmd.arg("do")
            .arg("--rootfs")
            .arg(&self.root)
            .args(["--", "/bin/busybox"])
            .args(args);
        let line = common::command_line(&cmd);
        let out = common::run(&mut cmd, None, common::timeout())
            .map_err(|e| format!("spawn `{line}`: {e}"))?;
        if let Status::TimedOut(_) | Status::Signaled(_) = out.status {
            return Err(format!("`{line}`: {}", out.describe()).into());
        }
        Ok(out)
    }
}

/// Run `attempt`, then check the tree is unchanged.
fn unchanged_after(
    tag: &str,
    user: User,
    attempt: impl FnOnce(&Canary) -> Result<(), Failed>,
) -> Result<(), Failed> {
    let canary =
        Canary::new(&format!("{tag}-{}", user.name())).map_err(|e| format!("build canary: {e}"))?;
    let before = snapshot(&canary.root).map_err(|e| format!("snapshot canary: {e}"))?;
    let result = attempt(&canary);
    let after = snapshot(&canary.root).map_err(|e| format!("snapshot canary again: {e}"))?;
    let changes = compare(&before, &after);
    match (changes.is_empty(), result) {
        (true, result) => result,
        (false, result) => {
            let also = result
                .err()
                .map(|e| format!("\nalso: {}", e.message().unwrap_or_default()));
            Err(format!(
                "the canary tree changed:\n{}{}",
                changes.join("\n"),
                also.unwrap_or_default()
            )
            .into())
        }
    }
}

/// Runs `script` with busybox sh in the canary as `user`; every line it
/// prints must be as `want` says.
fn run_script(canary: &Canary, user: User, script: &str, want: &str) -> Result<(), Failed> {
    let out = canary.busybox(user, &["sh", "-c", script])?;
    if out.stdout_str() != want || out.status != Status::Exited(0) {
        return Err(format!(
            "unexpected transcript:\n{}\n{}",
            common::diff("expected", want, "carapace", &out.stdout_str()),
            out.describe()
        )
        .into());
    }
    Ok(())
}

/// Writes of every kind succeed inside the sandbox and are visible to later
/// reads in the same run; the canary does not change.
fn shell_writes(user: User) -> Result<(), Failed> {
    unchanged_after("shell", user, |canary| {
        let attempts = [
            ("create", "echo x > /new-file"),
            ("overwrite", "echo x > /data/file.txt"),
            ("append", "echo y >> /data/file.txt"),
            ("truncate", "printf '' > /data/sub/nested.bin"),
            ("create-in-empty", "echo x > /empty/new"),
            ("through-abs-symlink", "echo motd > /abs_link"),
            (
                "through-dotdot-chain",
                "echo deep > /tree/a/b/../../../../../../tree/a/b/leaf",
            ),
            (
                "mkdir",
                "/bin/busybox mkdir /newdir && /bin/busybox mkdir /data/sub/newdir",
            ),
            (
                "rm",
                "/bin/busybox rm /tree/a/b/leaf && /bin/busybox rmdir /tree/a/b",
            ),
            ("rm-rf", "/bin/busybox rm -rf /tree"),
            ("rename", "/bin/busybox mv /data/file.txt /data/renamed.txt"),
            ("chmod", "/bin/busybox chmod 0700 /data/renamed.txt"),
            ("symlink", "/bin/busybox ln -s /etc/motd /symlink"),
            (
                "hardlink",
                "/bin/busybox ln /data/renamed.txt /data/hardlink",
            ),
            ("mkfifo", "/bin/busybox mkfifo /fifo"),
            (
                "sed-i",
                "/bin/busybox cp /etc/motd /data/copy && /bin/busybox sed -i s/motd/changed/ /data/copy",
            ),
            ("touch", "/bin/busybox touch /etc/motd /touched"),
        ];
        let mut script: String = attempts
            .iter()
            .map(|(name, cmd)| {
                format!("if {cmd}; then echo 'wrote: {name}'; else echo 'refused: {name}'; fi; ")
            })
            .collect();
        script.push_str(
            "/bin/busybox cat /new-file /data/renamed.txt /etc/motd /data/copy /empty/new; \
             /bin/busybox ls /tree 2>&1 | /bin/busybox head -1; /bin/busybox wc -c < /data/sub/nested.bin; \
             [ /data/hardlink -ef /data/renamed.txt ] && echo same-inode",
        );
        let mut want: String = attempts
            .iter()
            .map(|(name, _)| format!("wrote: {name}\n"))
            .collect();
        want.push_str(
            "x\nx\ny\nmotd\nchanged\nx\n\
             ls: /tree: No such file or directory\n0\nsame-inode\n",
        );
        run_script(canary, user, &script, &want)
    })
}

/// Directories of the rootfs rename within the sandbox, their contents
/// following them (across parents and more than once); the canary does not
/// change.
fn dir_renames(user: User) -> Result<(), Failed> {
    unchanged_after("dir-renames", user, |canary| {
        let script = "/bin/busybox mv /tree/a /tree/moved && /bin/busybox cat /tree/moved/b/leaf; \
                      /bin/busybox ls /tree; \
                      /bin/busybox mv /tree/moved/b /data/b && /bin/busybox cat /data/b/leaf; \
                      echo new > /data/b/new && /bin/busybox ls /data/b; \
                      /bin/busybox mv /data/sub /empty/sub && /bin/busybox wc -c < /empty/sub/nested.bin; \
                      /bin/busybox mv /data /data2 && /bin/busybox ls /data2; \
                      /bin/busybox ls /data 2>&1; /bin/busybox cat /data2/b/new";
        let want = "leaf\nmoved\nleaf\nleaf\nnew\n256\nb\nescape_link\nfile.txt\nprivate\n\
                    ls: /data: No such file or directory\nnew\n";
        run_script(canary, user, script, want)
    })
}

/// One applet per run, each in a fresh sandbox: every one succeeds.
const APPLET_ATTEMPTS: &[&[&str]] = &[
    &["rm", "/data/file.txt"],
    &["rm", "-rf", "/tree"],
    &["rmdir", "/empty"],
    &["mkdir", "/newdir"],
    &["mkdir", "/data/sub/newdir"],
    &["chmod", "0700", "/data/file.txt"],
    &["chmod", "0777", "/data/private"],
    &["mv", "/data/file.txt", "/data/renamed.txt"],
    &["mv", "/tree/a/b/leaf", "/data/leaf"],
    &["truncate", "-s", "0", "/data/file.txt"],
    &["touch", "/data/file.txt"],
    &["touch", "/touched"],
    &["ln", "-s", "/data/file.txt", "/symlink"],
    &["ln", "/data/file.txt", "/data/hardlink"],
    &["cp", "/data/file.txt", "/data/copy.txt"],
    &["mkfifo", "/fifo"],
    &["sed", "-i", "s/original/modified/", "/data/file.txt"],
];

fn applet_writes(user: User) -> Result<(), Failed> {
    unchanged_after("applets", user, |canary| {
        let mut problems = Vec::new();
        for args in APPLET_ATTEMPTS {
            if user == User::Nobody && args.contains(&"/data/private") {
                // Not nobody's file: refused, and the canary check still holds.
                continue;
            }
            let out = canary.busybox(user, args)?;
            if out.status != Status::Exited(0) {
                problems.push(format!(
                    "`busybox {}` failed\n{}",
                    args.join(" "),
                    out.describe()
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n\n").into())
        }
    })
}

/// Writes aimed out of the sandbox: `..` chains, absolute and relative
/// escaping symlinks made at run time, /proc/self/root-style paths, the
/// sentry's /proc, /sys and /dev. None reaches the host.
fn escape_attempts(user: User) -> Result<(), Failed> {
    unchanged_after("escape", user, |canary| {
        let script = "\
            /bin/busybox ln -s /etc/motd /data/runtime_abs; echo a > /data/runtime_abs; \
            /bin/busybox ln -s ../../../../../../../../etc/motd /data/sub/runtime_rel; echo b >> /data/sub/runtime_rel; \
            echo c >> /data/escape_link; \
            echo d > /../../../../data/sub/../../etc/motd.new; \
            /bin/busybox mkdir -p /data/x/y && cd /data/x/y && echo e > ../../../../../../../data/file.txt; \
            echo f > /proc/self/root/data/file.txt; \
            echo g > /proc/new 2>/dev/null || echo refused-proc; \
            echo h > /sys/new 2>/dev/null || echo refused-sys; \
            echo i > /dev/new 2>/dev/null || echo refused-dev; \
            /bin/busybox cat /etc/motd /etc/motd.new /data/file.txt";
        // /proc/self/root is the sandbox's root, as on Linux: the write
        // lands in the sandbox's view of /data/file.txt, never the host's.
        let want = "refused-proc\nrefused-sys\nrefused-dev\na\nb\nc\nd\nf\n";
        run_script(canary, user, script, want)
    })
}

/// Reads stay inside the canary: `..` and absolute symlinks resolve within it.
fn reads_stay_inside(user: User) -> Result<(), Failed> {
    unchanged_after("reads", user, |canary| {
        for path in [
            "/etc/motd",
            "/../../../../etc/motd",
            "/abs_link",
            "/data/escape_link",
        ] {
            let out = canary.busybox(user, &["cat", path])?;
            if out.status != Status::Exited(0) || out.stdout_str() != "canary motd\n" {
                return Err(format!(
                    "`cat {path}` should print the canary's /etc/motd\n{}",
                    out.describe()
                )
                .into());
            }
        }
        let out = canary.busybox(user, &["ls", "/"])?;
        let want = "abs_link\nbin\ndata\ndev\nempty\netc\nproc\nrun\nsys\ntree\n";
        let got = out.stdout_str();
        // /dev, /proc, /sys and /run may or may not be listed: they are the
        // sentry's, mounted over the rootfs.
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !["dev", "proc", "run", "sys"].contains(l))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        };
        if out.status != Status::Exited(0) || strip(&got) != strip(want) {
            return Err(format!("`ls /` should list the canary root\n{}", out.describe()).into());
        }
        Ok(())
    })
}

/// The default root (the host's `/`) is overlaid too: writes to a
/// world-writable host directory succeed in the sandbox, and the host
/// directory stays as it was.
fn host_root_writes_stay_in_sandbox(user: User) -> Result<(), Failed> {
    let scratch =
        Scratch::new(&format!("hostroot-{}", user.name())).map_err(|e| format!("scratch: {e}"))?;
    let dir = scratch.path().join("world-writable");
    fs::create_dir(&dir)
        .and_then(|()| fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)))
        .map_err(|e| format!("create {}: {e}", dir.display()))?;
    let file = scratch
        .write("world-writable/file", b"host file\n", 0o666)
        .map_err(|e| format!("write: {e}"))?;
    let before = snapshot(scratch.path()).map_err(|e| format!("snapshot: {e}"))?;

    let dir_s = dir.to_str().expect("scratch paths are UTF-8");
    let file_s = file.to_str().expect("scratch paths are UTF-8");
    let script = format!(
        "echo x > {dir_s}/new && echo y >> {file_s} && /bin/busybox cat {file_s} {dir_s}/new && \
         /bin/busybox mkdir {dir_s}/sub && /bin/busybox chmod 0600 {file_s} && /bin/busybox rm {file_s} && /bin/busybox ls {dir_s}"
    );
    let mut problems = Vec::new();
    let mut cmd = user.command(scratch.carapace());
    cmd.args(["do", "--", "/bin/busybox", "sh", "-c", &script]);
    let line = common::command_line(&cmd);
    let out = common::run(&mut cmd, None, common::timeout())
        .map_err(|e| format!("spawn `{line}`: {e}"))?;
    let want = "host file\ny\nx\nnew\nsub\n";
    if out.status != Status::Exited(0) || out.stdout_str() != want {
        problems.push(format!(
            "`{line}`:\n{}\n{}",
            common::diff("expected", want, "carapace", &out.stdout_str()),
            out.describe()
        ));
    }
    let after = snapshot(scratch.path()).map_err(|e| format!("snapshot again: {e}"))?;
    problems.extend(compare(&before, &after));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

type Case = fn(User) -> Result<(), Failed>;

const CASES: &[(&str, Case)] = &[
    ("shell_writes", shell_writes),
    ("applet_writes", applet_writes),
    ("escape_attempts", escape_attempts),
    ("dir_renames", dir_renames),
    ("reads_stay_inside", reads_stay_inside),
    (
        "host_root_writes_stay_in_sandbox",
        host_root_writes_stay_in_sandbox,
    ),
];

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for &(name, case) in CASES {
        for &user in User::all() {
            trials.push(Trial::test(format!("{name}::{}", user.name()), move || {
                case(user)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
