//! `--volume HOST:GUEST[:ro]` (ARCHITECTURE.md §7): changes made through a
//! read-write volume land on the host; a `:ro` volume refuses them with
//! `EROFS`; and nothing else on the host changes, even when the program
//! aims writes outside the volume through symlinks it makes inside it.
//!
//! Every test runs under every platform.

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Output, PLATFORMS, Status, carapace_bin, clean_command, run, timeout};

/// A host directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("carapace-volumes-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a temp dir");
        // World-accessible, so the test means the same as any user.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod temp dir");
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Runs `script` with `/bin/sh` in the sandbox with `args` before `do`.
fn sandbox_sh(platform: &str, args: &[String], script: &str) -> Output {
    let mut cmd = clean_command(carapace_bin());
    cmd.arg(format!("--platform={platform}"))
        .args(args)
        .args(["do", "--", "/bin/sh", "-c", script]);
    run(&mut cmd, None, timeout()).expect("run carapace")
}

/// A sorted listing of `dir` (recursive): path, mode, size, content or
/// link target, for before/after comparisons.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let mut entries: Vec<_> = fs::read_dir(&d)
            .expect("list")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let md = fs::symlink_metadata(&p).expect("lstat");
            let content = if md.file_type().is_symlink() {
                fs::read_link(&p)
                    .expect("readlink")
                    .into_os_string()
                    .into_encoded_bytes()
            } else if md.is_dir() {
                todo.push(p.clone());
                Vec::new()
            } else {
                fs::read(&p).expect("read")
            };
            out.push((p, md.mode(), content));
        }
    }
    out
}

/// A program that writes a file on a volume through a `MAP_SHARED`
/// mapping. At each point where the host file must hold the bytes (after
/// `msync`, after `munmap`) it prints a line and waits for one on stdin,
/// so that the test can look at the host file while the sandbox still
/// runs; the last mapping it leaves to exit.
const SHARED_MAPPING_PROGRAM: &str = r#"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int pause_for_check(const char *what)
{
	char line[16];
	printf("%s\n", what);
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) != NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 1;
	int fd = open(argv[1], O_RDWR);
	if (fd < 0)
		return 2;
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 3;
	memcpy(m, "msync", 5);
	if (msync(m, 8192, MS_SYNC) != 0 || !pause_for_check("synced"))
		return 4;
	memcpy(m + 4096, "munmap", 6);
	char buf[6];
	if (pread(fd, buf, 6, 4096) != 6 || memcmp(buf, "munmap", 6) != 0)
		return 5;
	if (pwrite(fd, "W", 1, 100) != 1 || m[100] != 'W')
		return 6;
	if (munmap(m, 8192) != 0 || !pause_for_check("unmapped"))
		return 7;
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED || memcmp(m + 4096, "munmap", 6) != 0)
		return 8;
	/* Shrinking the file zeroes the mapped page beyond the new end. */
	if (ftruncate(fd, 4106) != 0 || m[4116] != 0 || ftruncate(fd, 8192) != 0 || m[4116] != 0)
		return 9;
	memcpy(m + 200, "exit", 4);
	printf("exiting\n");
	return 0;
}
"#;

/// A program that makes `O_TMPFILE` files in the directory `argv[1]` and
/// names some of them (`linkat` with `AT_EMPTY_PATH` and through
/// `/proc/self/fd`); `argv[2]` is a read-only directory. Prints what it saw.
const TMPFILE_PROGRAM: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void result(const char *what, int r)
{
	printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : "ok");
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 1;
	umask(022);
	int dir = open(argv[1], O_PATH | O_DIRECTORY);
	int fd = openat(dir, ".", O_TMPFILE | O_RDWR, 0640);
	result("O_TMPFILE", fd);
	result("write", write(fd, "unnamed", 7) == 7 ? 0 : -1);
	struct stat st;
	fstat(fd, &st);
	printf("nlink %lu size %ld mode %o\n", (unsigned long)st.st_nlink, (long)st.st_size,
	       st.st_mode & 07777);
	char proc[64], buf[16] = {0};
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	int again = open(proc, O_RDONLY);
	result("reopen through /proc", again);
	result("read the reopened", pread(again, buf, sizeof buf - 1, 0) == 7 ? 0 : -1);
	printf("read %s\n", buf);
	result("write to the read-only reopen", write(again, "x", 1));
	close(again);
	result("linkat AT_EMPTY_PATH", linkat(fd, "", dir, "named", AT_EMPTY_PATH));
	result("linkat again", linkat(fd, "", dir, "named2", AT_EMPTY_PATH));
	result("linkat onto a name", linkat(fd, "", dir, "named", AT_EMPTY_PATH));
	fstat(fd, &st);
	printf("nlink %lu\n", (unsigned long)st.st_nlink);
	result("unlink named2", unlinkat(dir, "named2", 0));
	close(fd);

	fd = openat(dir, ".", O_TMPFILE | O_WRONLY, 0600);
	result("O_TMPFILE O_WRONLY", fd);
	result("write", write(fd, "proc", 4) == 4 ? 0 : -1);
	result("read a write-only one", read(fd, buf, 1));
	result("ftruncate", ftruncate(fd, 2));
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	result("linkat through /proc", linkat(AT_FDCWD, proc, dir, "viaproc", AT_SYMLINK_FOLLOW));
	close(fd);

	fd = openat(dir, ".", O_TMPFILE | O_RDWR | O_EXCL, 0600);
	result("O_TMPFILE|O_EXCL", fd);
	result("linkat of O_EXCL", linkat(fd, "", dir, "excl", AT_EMPTY_PATH));
	close(fd);
	fd = openat(dir, ".", O_TMPFILE | O_RDWR, 0600);
	result("an unlinked one", fd);
	close(fd);
	result("O_TMPFILE read-only", openat(dir, ".", O_TMPFILE | O_RDONLY, 0600));
	result("O_TMPFILE on a read-only volume", open(argv[2], O_TMPFILE | O_RDWR, 0600));
	return 0;
}
"#;

/// Builds `source` (C) into a static binary at `out`.
fn build_c(source: &str, out: &Path) {
    let src = out.with_extension("c");
    fs::write(&src, source).expect("write the C source");
    let status = std::process::Command::new("cc")
        .args(["-O1", "-Wall", "-static", "-o"])
        .arg(out)
        .arg(&src)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc failed for {}", src.display());
}

/// Runs `cmd` (in its own process group, killed after the timeout),
/// calling `check` with each line it prints and answering each with a line
/// on its stdin. Returns the exit status and everything it printed.
fn run_interactive(
    cmd: &mut std::process::Command,
    mut check: impl FnMut(&str),
) -> (Option<i32>, String) {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn().expect("spawn carapace");
    let pgid = i32::try_from(child.id()).expect("pids fit in pid_t");
    let finished = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let finished = Arc::clone(&finished);
        let deadline = Instant::now() + timeout();
        std::thread::spawn(move || {
            while !finished.load(Ordering::SeqCst) {
                if Instant::now() > deadline {
                    // SAFETY: kill(2) on the child's own process group.
                    unsafe { libc::kill(-pgid, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut printed = String::new();
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        check(&line);
        printed.push_str(&line);
        printed.push('\n');
        let _ = stdin.write_all(b"go\n");
    }
    let status = child.wait().expect("wait for carapace");
    finished.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    printed.push_str(&stderr.join().unwrap_or_default());
    (status.code(), printed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_a_read_write_volume_reach_the_host() {
        for platform in PLATFORMS {
            let top = TempDir::new(&format!("rw-{platform}"));
            let vol = top.path().join("vol");
            let outside = top.path().join("outside");
            fs::create_dir(&vol).unwrap();
            fs::create_dir(&outside).unwrap();
            fs::write(vol.join("old"), b"old\n").unwrap();
            fs::write(vol.join("edit"), b"0123456789").unwrap();
            fs::create_dir(vol.join("gone")).unwrap();
            fs::write(outside.join("canary"), b"canary\n").unwrap();
            let before_outside = snapshot(&outside);
            let canary = outside.join("canary");
            let script = format!(
                r#"set -e
    cd /mnt/vol
    echo hello > new
    mkdir -p dir/sub
    echo inner > dir/sub/file
    mv dir/sub/file moved
    ln -s moved link
    chmod 640 moved
    touch -d '2001-02-03 04:05:06 UTC' moved
    truncate -s 4 edit
    echo tail >> edit
    rm old
    rmdir gone
    # Aimed outside the volume: the walk stays in the sandbox's view, so these
    # land in the overlay, never on the host.
    ln -s {canary} escape
    echo pwned > escape
    ln -s ../../.. up
    echo pwned > up{canary} || true
    cat {canary}
    echo done
    "#,
                canary = canary.display()
            );
            let args = vec![format!("--volume={}:/mnt/vol", vol.display())];
            let out = sandbox_sh(platform, &args, &script);
            assert_eq!(
                out.status,
                Status::Exited(0),
                "{platform}: {}",
                out.describe()
            );
            assert!(
                out.stdout_str().ends_with("done\n"),
                "{platform}: {}",
                out.describe()
            );
            assert_eq!(fs::read(vol.join("new")).unwrap(), b"hello\n", "{platform}");
            assert_eq!(
                fs::read(vol.join("moved")).unwrap(),
                b"inner\n",
                "{platform}"
            );
            let md = fs::metadata(vol.join("moved")).unwrap();
            assert_eq!(md.mode() & 0o7777, 0o640, "{platform}");
            assert_eq!(md.mtime(), 981_173_106, "{platform}");
            assert_eq!(
                fs::read_link(vol.join("link")).unwrap(),
                Path::new("moved"),
                "{platform}"
            );
            assert!(vol.join("dir/sub").is_dir(), "{platform}");
            assert!(!vol.join("dir/sub/file").exists(), "{platform}");
            assert_eq!(
                fs::read(vol.join("edit")).unwrap(),
                b"0123tail\n",
                "{platform}"
            );
            assert!(!vol.join("old").exists(), "{platform}");
            assert!(!vol.join("gone").exists(), "{platform}");
            // The symlink itself is on the host, but what was written through it
            // is not.
            assert_eq!(fs::read_link(vol.join("escape")).unwrap(), canary);
            assert_eq!(
                snapshot(&outside),
                before_outside,
                "{platform}: host changed"
            );
        }
    }

    #[test]
    fn shared_mappings_write_back_to_a_read_write_volume() {
        for platform in PLATFORMS {
            let top = TempDir::new(&format!("mmap-{platform}"));
            let vol = top.path().join("vol");
            let bin = top.path().join("bin");
            fs::create_dir(&vol).unwrap();
            fs::create_dir(&bin).unwrap();
            build_c(SHARED_MAPPING_PROGRAM, &bin.join("shared-mapping"));
            let file = vol.join("data");
            fs::write(&file, vec![b'a'; 8192]).unwrap();
            let mut cmd = clean_command(carapace_bin());
            cmd.arg(format!("--platform={platform}"))
                .arg(format!("--volume={}:/mnt/vol", vol.display()))
                .arg(format!("--volume={}:/mnt/bin:ro", bin.display()))
                .args(["do", "--", "/mnt/bin/shared-mapping", "/mnt/vol/data"]);
            let mut seen = Vec::new();
            let (code, printed) = run_interactive(&mut cmd, |line| {
                let host = fs::read(&file).expect("read the host file");
                assert_eq!(host.len(), 8192, "{platform} at {line}: size");
                match line {
                    "synced" => {
                        assert_eq!(&host[..5], b"msync", "{platform}: after msync");
                    }
                    "unmapped" => {
                        assert_eq!(&host[4096..4102], b"munmap", "{platform}: after munmap");
                        assert_eq!(host[100], b'W', "{platform}: write(2)");
                    }
                    _ => {}
                }
                seen.push(line.to_string());
            });
            assert_eq!(code, Some(0), "{platform}: {printed}");
            assert_eq!(seen, ["synced", "unmapped", "exiting"], "{platform}");
            let host = fs::read(&file).unwrap();
            assert_eq!(host.len(), 8192, "{platform}");
            assert_eq!(&host[..5], b"msync", "{platform}");
            assert_eq!(&host[200..204], b"exit", "{platform}: after exit");
            assert_eq!(&host[4096..4102], b"munmap", "{platform}");
            assert!(host[5..100].iter().all(|&b| b == b'a'), "{platform}");
            assert!(
                host[4106..].iter().all(|&b| b == 0),
                "{platform}: truncated"
            );
        }
    }

    /// `user.*` attributes of host files: read and written through a
    /// read-write volume; read through the overlay, where changes stay in
    /// the sandbox.
    #[test]
    fn user_xattrs_pass_through_volumes_and_the_overlay() {
        fn set_host_xattr(path: &Path, name: &str, value: &[u8]) {
            let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
            let name = std::ffi::CString::new(name).unwrap();
            // SAFETY: both strings are NUL-terminated and `value` is readable
            // for its length.
            let r = unsafe {
                libc::setxattr(
                    path.as_ptr(),
                    name.as_ptr(),
                    value.as_ptr().cast(),
                    value.len(),
                    0,
                )
            };
            assert_eq!(r, 0, "setxattr: {}", std::io::Error::last_os_error());
        }
        fn host_xattrs(path: &Path) -> Vec<String> {
            let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
            let mut buf = vec![0u8; 4096];
            // SAFETY: `buf` is writable for its length.
            let n = unsafe { libc::listxattr(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
            assert!(n >= 0, "listxattr: {}", std::io::Error::last_os_error());
            let mut names: Vec<String> = buf[..usize::try_from(n).unwrap()]
                .split(|&b| b == 0)
                .filter(|n| !n.is_empty())
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            names.sort();
            names
        }
        for platform in PLATFORMS {
            let top = TempDir::new(&format!("xattr-{platform}"));
            let vol = top.path().join("vol");
            fs::create_dir(&vol).unwrap();
            fs::write(vol.join("f"), b"f").unwrap();
            set_host_xattr(&vol.join("f"), "user.old", b"1");
            let lower = top.path().join("lower");
            fs::write(&lower, b"l").unwrap();
            set_host_xattr(&lower, "user.low", b"2");
            let script = format!(
                r#"/usr/bin/python3 -c '
import os
print(os.getxattr("/mnt/vol/f", "user.old"))
os.setxattr("/mnt/vol/f", "user.new", b"3")
os.removexattr("/mnt/vol/f", "user.old")
print(sorted(os.listxattr("/mnt/vol/f")))
print(os.getxattr("{lower}", "user.low"))
os.setxattr("{lower}", "user.mine", b"4")
print(sorted(os.listxattr("{lower}")))
'"#,
                lower = lower.display()
            );
            let args = vec![format!("--volume={}:/mnt/vol", vol.display())];
            let out = sandbox_sh(platform, &args, &script);
            assert_eq!(
                out.stdout_str(),
                "b'1'\n['user.new']\nb'2'\n['user.low', 'user.mine']\n",
                "{platform}: {}",
                out.describe()
            );
            assert_eq!(host_xattrs(&vol.join("f")), ["user.new"], "{platform}");
            assert_eq!(host_xattrs(&lower), ["user.low"], "{platform}");
        }
    }

    /// `O_TMPFILE` in a read-write volume is the host's own: unnamed until
    /// linked, and only what is linked appears on the host. The program's
    /// native run on a host directory is the oracle for what it prints.
    #[test]
    fn tmpfiles_in_a_read_write_volume() {
        let top = TempDir::new("tmpfile");
        let bin = top.path().join("bin");
        let native = top.path().join("native");
        let ro = top.path().join("ro");
        for d in [&bin, &native, &ro] {
            fs::create_dir(d).unwrap();
        }
        build_c(TMPFILE_PROGRAM, &bin.join("tmpfile"));
        // Natively there is no read-only mount to aim at (`/proc/self`
        // refuses otherwise), so that line is checked apart.
        let expected = {
            let mut cmd = clean_command(bin.join("tmpfile"));
            cmd.arg(&native).arg("/proc/self");
            run(&mut cmd, None, timeout()).expect("run natively")
        };
        assert_eq!(
            expected.status,
            Status::Exited(0),
            "{}",
            expected.describe()
        );
        let names = |dir: &Path| {
            let mut names: Vec<_> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(&native), ["named", "viaproc"]);
        let strip_ro = |s: &str| -> String {
            s.lines()
                .filter(|l| !l.starts_with("O_TMPFILE on a read-only volume"))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        for platform in PLATFORMS {
            let vol = top.path().join(format!("vol-{platform}"));
            fs::create_dir(&vol).unwrap();
            let mut cmd = clean_command(carapace_bin());
            cmd.arg(format!("--platform={platform}"))
                .arg(format!("--volume={}:/mnt/vol", vol.display()))
                .arg(format!("--volume={}:/mnt/bin:ro", bin.display()))
                .arg(format!("--volume={}:/mnt/ro:ro", ro.display()))
                .args(["do", "--", "/mnt/bin/tmpfile", "/mnt/vol", "/mnt/ro"]);
            let out = run(&mut cmd, None, timeout()).expect("run carapace");
            assert_eq!(
                out.status,
                Status::Exited(0),
                "{platform}: {}",
                out.describe()
            );
            assert_eq!(
                strip_ro(&out.stdout_str()),
                strip_ro(&expected.stdout_str()),
                "{platform}: {}",
                out.describe()
            );
            assert!(
                out.stdout_str()
                    .contains("O_TMPFILE on a read-only volume: EROFS\n"),
                "{platform}: {}",
                out.describe()
            );
            assert_eq!(names(&vol), ["named", "viaproc"], "{platform}");
            assert_eq!(
                fs::read(vol.join("named")).unwrap(),
                b"unnamed",
                "{platform}"
            );
            assert_eq!(fs::read(vol.join("viaproc")).unwrap(), b"pr", "{platform}");
            let md = fs::metadata(vol.join("named")).unwrap();
            assert_eq!(md.mode() & 0o7777, 0o640, "{platform}");
            assert_eq!(md.nlink(), 1, "{platform}");
            assert!(names(&ro).is_empty(), "{platform}");
        }
    }

    #[test]
    fn a_read_only_volume_refuses_writes() {
        for platform in PLATFORMS {
            let top = TempDir::new(&format!("ro-{platform}"));
            let vol = top.path().join("vol");
            fs::create_dir_all(vol.join("dir")).unwrap();
            fs::write(vol.join("file"), b"data\n").unwrap();
            symlink("file", vol.join("link")).unwrap();
            let before = snapshot(top.path());
            let script = r#"
    cat /data/file
    for cmd in 'echo x > /data/new' 'echo x >> /data/file' 'rm /data/file' \
        'mkdir /data/d' 'rmdir /data/dir' 'mv /data/file /data/f2' \
        'ln -s x /data/l' 'chmod 600 /data/file' 'touch /data/file' \
        'truncate -s 0 /data/file'; do
        if sh -c "$cmd" 2>/dev/null; then echo "ALLOWED: $cmd"; fi
    done
    touch /data/new 2>&1
    grep ' /data ' /proc/mounts
    echo done
    "#;
            let args = vec![format!("--volume={}:/data:ro", vol.display())];
            let out = sandbox_sh(platform, &args, script);
            let stdout = out.stdout_str();
            assert_eq!(
                out.status,
                Status::Exited(0),
                "{platform}: {}",
                out.describe()
            );
            assert!(
                stdout.starts_with("data\n"),
                "{platform}: {}",
                out.describe()
            );
            assert!(
                !stdout.contains("ALLOWED"),
                "{platform}: {}",
                out.describe()
            );
            assert!(
                stdout.contains("Read-only file system"),
                "{platform}: {}",
                out.describe()
            );
            assert!(stdout.contains(" ro,"), "{platform}: {}", out.describe());
            assert!(stdout.ends_with("done\n"), "{platform}: {}", out.describe());
            assert_eq!(snapshot(top.path()), before, "{platform}: host changed");
        }
    }

    #[test]
    fn bad_volume_flags_are_clear_errors() {
        let top = TempDir::new("bad");
        let file = top.path().join("file");
        fs::write(&file, b"").unwrap();
        let dir = top.path().display().to_string();
        for (arg, expect) in [
            (format!("{dir}/missing:/x"), "missing"),
            (format!("{}:/x", file.display()), "not a directory"),
            (format!("{dir}:relative"), "must be absolute"),
            (format!("{dir}:/"), "`/`"),
            (format!("{dir}:/a/../b"), ".."),
            (format!("{dir}:/x:rx"), "unknown option"),
        ] {
            let mut cmd = clean_command(carapace_bin());
            cmd.args(["--volume", &arg, "do", "--", "/bin/true"]);
            let out = run(&mut cmd, None, timeout()).expect("run carapace");
            assert_eq!(out.status, Status::Exited(125), "{arg}: {}", out.describe());
            assert!(
                out.stderr_str().contains(expect),
                "{arg}: {}",
                out.describe()
            );
        }
    }
}
