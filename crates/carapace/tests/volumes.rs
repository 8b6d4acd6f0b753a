//! `--volume HOST:GUEST[:ro]` (ARCHITECTURE.md §7): changes made through a
//! read-write volume land on the host; a `:ro` volume refuses them with
//! `EROFS`; and nothing else on the host changes, even when the program
//! aims writes outside the volume through symlinks it makes inside it.
//!
//! Every test runs under every platform.

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

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
