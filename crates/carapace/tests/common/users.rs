//! Running `carapace` as the caller and as an unprivileged user.
//!
//! When the tests run as root, every case also runs as `nobody` (uid and gid
//! 65534, no supplementary groups) through `setpriv`. `nobody` cannot read
//! Cargo's target directory on every machine, so the `carapace` binary is
//! copied into a scratch directory (mode 0755 all the way down) that also
//! holds the test's fixture files.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Who runs the command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum User {
    /// Whoever runs the tests.
    Caller,
    /// uid/gid 65534 with no groups, via `setpriv` (only when the caller is root).
    Nobody,
}

impl User {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Caller => "as_caller",
            Self::Nobody => "as_nobody",
        }
    }

    /// The users each case runs as: the caller, plus `nobody` when the
    /// caller is root (otherwise the caller already is unprivileged).
    pub(crate) fn all() -> &'static [User] {
        // SAFETY: geteuid(2) has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            &[User::Caller, User::Nobody]
        } else {
            &[User::Caller]
        }
    }

    /// `program args...` as this user, with the clean environment and cwd `/`.
    pub(crate) fn command(self, program: impl AsRef<OsStr>) -> Command {
        match self {
            Self::Caller => super::clean_command(program),
            Self::Nobody => {
                let mut cmd = super::clean_command("setpriv");
                cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                    .arg(program);
                cmd
            }
        }
    }
}

/// A scratch directory every user can read, removed on drop.
#[derive(Debug)]
pub(crate) struct Scratch {
    dir: PathBuf,
    carapace: PathBuf,
}

impl Scratch {
    /// Create `/tmp/carapace-<tag>-<pid>` (0755) with a copy of the
    /// `carapace` binary in it.
    pub(crate) fn new(tag: &str) -> io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("carapace-{tag}-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(dir.join("bin"))?;
        for d in [&dir, &dir.join("bin")] {
            fs::set_permissions(d, fs::Permissions::from_mode(0o755))?;
        }
        let carapace = dir.join("bin/carapace");
        fs::copy(super::carapace_bin(), &carapace)?;
        fs::set_permissions(&carapace, fs::Permissions::from_mode(0o755))?;
        Ok(Self { dir, carapace })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// The readable copy of the `carapace` binary.
    pub(crate) fn carapace(&self) -> &Path {
        &self.carapace
    }

    /// Write a fixture file with the given mode.
    pub(crate) fn write(&self, name: &str, contents: &[u8], mode: u32) -> io::Result<PathBuf> {
        let path = self.dir.join(name);
        fs::write(&path, contents)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
