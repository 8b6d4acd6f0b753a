//! Permission checks: `generic_permission` and `inode_permission` of
//! `fs/namei.c`, against the sandbox's credentials.

use abi::Errno;
use abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_IXUGO, Stat};

use abi::capability::{
    CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_LAST_CAP, SECBIT_NO_SETUID_FIXUP,
};

use crate::task::Credentials;
use crate::task::creds::{CAP_FULL_SET, cap_bit};

/// `MAY_EXEC`.
pub(crate) const MAY_EXEC: u32 = 1;
/// `MAY_WRITE`.
pub(crate) const MAY_WRITE: u32 = 2;
/// `MAY_READ`.
pub(crate) const MAY_READ: u32 = 4;

/// The ids a permission check uses: the file-system ids normally, the real
/// ids for `access(2)` without `AT_EACCESS`; and the effective
/// capabilities that override the mode bits and ownership rules.
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    uid: u32,
    gid: u32,
    groups: &'a [u32],
    caps: u64,
}

impl<'a> Access<'a> {
    /// The file-system ids of `creds`, as every call but `access(2)` uses.
    pub fn fs(creds: &'a Credentials) -> Access<'a> {
        Access {
            uid: creds.fsuid,
            gid: creds.fsgid,
            groups: &creds.groups,
            caps: creds.cap_effective,
        }
    }

    /// The real ids of `creds`, as `access(2)` uses without `AT_EACCESS`:
    /// a real uid 0 checks with its permitted capabilities, anyone else
    /// with none (`do_faccessat`'s override credentials).
    pub fn real(creds: &'a Credentials) -> Access<'a> {
        let caps = if creds.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
            creds.cap_effective
        } else if creds.uid == 0 {
            creds.cap_permitted
        } else {
            0
        };
        Access {
            uid: creds.uid,
            gid: creds.gid,
            groups: &creds.groups,
            caps,
        }
    }

    /// An all-powerful checker, for the sentry's own lookups (the initial cwd).
    pub(crate) fn kernel() -> Access<'static> {
        Access {
            uid: 0,
            gid: 0,
            groups: &[],
            caps: CAP_FULL_SET,
        }
    }

    /// Whether `gid` is the checker's group or one of its supplementary groups.
    pub(crate) fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }

    /// The user id checks use.
    pub(crate) fn uid(&self) -> u32 {
        self.uid
    }

    /// The group id new files get.
    pub(crate) fn gid(&self) -> u32 {
        self.gid
    }

    /// Whether the checker holds capability `cap` (`capable_wrt_inode_uidgid`:
    /// every id is mapped in the sandbox's one user namespace).
    pub(crate) fn capable(&self, cap: u32) -> bool {
        cap <= CAP_LAST_CAP && self.caps & cap_bit(cap) != 0
    }

    /// `inode_owner_or_capable`: the file's owner, or `CAP_FOWNER`.
    pub(crate) fn owns(&self, st: &Stat) -> bool {
        self.uid == st.st_uid || self.capable(CAP_FOWNER)
    }

    /// `generic_permission`: whether the mode bits of `st` allow `mask`
    /// (`MAY_*`), with root's overrides.
    pub(crate) fn check(&self, st: &Stat, mask: u32) -> Result<(), Errno> {
        let mode = st.st_mode;
        let bits = if self.uid == st.st_uid {
            (mode >> 6) & 7
        } else if self.in_group(st.st_gid) {
            (mode >> 3) & 7
        } else {
            mode & 7
        };
        if mask & !bits & 7 == 0 {
            return Ok(());
        }
        let is_dir = mode & S_IFMT == S_IFDIR;
        if self.capable(CAP_DAC_OVERRIDE) {
            // Everything on directories; on other files everything but
            // execute, which needs one x bit.
            if is_dir || mask & MAY_EXEC == 0 || mode & S_IXUGO != 0 {
                return Ok(());
            }
        }
        // CAP_DAC_READ_SEARCH: reading anything, searching directories.
        let read_search = if is_dir {
            MAY_READ | MAY_EXEC
        } else {
            MAY_READ
        };
        if mask & !read_search & 7 == 0 && self.capable(CAP_DAC_READ_SEARCH) {
            return Ok(());
        }
        Err(Errno::EACCES)
    }
}

/// The mode check, then, for a node on a read-only mount, `EROFS` for
/// writing a regular file, directory or symlink: the order Linux gives a
/// read-only bind mount (`may_open` then `mnt_want_write`; `do_faccessat`).
pub(crate) fn inode_permission(
    access: &Access<'_>,
    st: &Stat,
    read_only: bool,
    mask: u32,
) -> Result<(), Errno> {
    access.check(st, mask)?;
    let kind = st.st_mode & S_IFMT;
    if mask & MAY_WRITE != 0 && read_only && matches!(kind, S_IFREG | S_IFDIR | S_IFLNK) {
        return Err(Errno::EROFS);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(mode: u32, uid: u32, gid: u32) -> Stat {
        Stat {
            st_mode: mode,
            st_uid: uid,
            st_gid: gid,
            ..Stat::default()
        }
    }

    #[test]
    fn owner_group_other_bits() {
        let creds = Credentials::new(1000, 1000, vec![27]);
        let a = Access::fs(&creds);
        assert_eq!(
            a.check(&st(S_IFREG | 0o600, 1000, 0), MAY_READ | MAY_WRITE),
            Ok(())
        );
        assert_eq!(
            a.check(&st(S_IFREG | 0o066, 1000, 1000), MAY_READ),
            Err(Errno::EACCES)
        );
        assert_eq!(a.check(&st(S_IFREG | 0o040, 0, 27), MAY_READ), Ok(()));
        assert_eq!(a.check(&st(S_IFREG | 0o004, 0, 0), MAY_READ), Ok(()));
        assert_eq!(
            a.check(&st(S_IFREG | 0o004, 0, 0), MAY_EXEC),
            Err(Errno::EACCES)
        );
    }

    #[test]
    fn root_overrides_but_needs_an_x_bit() {
        let creds = Credentials::new(0, 0, vec![]);
        let a = Access::fs(&creds);
        assert_eq!(a.check(&st(S_IFREG, 5, 5), MAY_READ | MAY_WRITE), Ok(()));
        assert_eq!(
            a.check(&st(S_IFREG | 0o644, 5, 5), MAY_EXEC),
            Err(Errno::EACCES)
        );
        assert_eq!(a.check(&st(S_IFREG | 0o010, 5, 5), MAY_EXEC), Ok(()));
        assert_eq!(a.check(&st(S_IFDIR, 5, 5), MAY_EXEC), Ok(()));
        let ro = inode_permission(&a, &st(S_IFREG | 0o777, 0, 0), true, MAY_WRITE);
        assert_eq!(ro, Err(Errno::EROFS));
    }
}
