//! Credentials: who a task is, for permission checks and the id syscalls,
//! and what it may do: the capability sets and securebits of
//! `include/linux/cred.h`, with the transitions of `kernel/sys.c` and
//! `security/commoncap.c` (uid changes, `execve`).
//!
//! Capabilities here are the sandbox's own: they decide what the sentry
//! lets a task do inside the sandbox and never reach the host.

use abi::Errno;
use abi::capability::{
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_LAST_CAP,
    CAP_LINUX_IMMUTABLE, CAP_MAC_OVERRIDE, CAP_MKNOD, CAP_SETGID, CAP_SETUID, SECBIT_KEEP_CAPS,
    SECBIT_NO_SETUID_FIXUP, SECBIT_NOROOT,
};

/// Every capability up to `CAP_LAST_CAP`.
pub const CAP_FULL_SET: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;

/// The capabilities that follow the file-system uid (`CAP_FS_SET`): leaving
/// fsuid 0 drops them from the effective set, returning to it restores them.
const CAP_FS_SET: u64 = cap_bit(CAP_CHOWN)
    | cap_bit(CAP_DAC_OVERRIDE)
    | cap_bit(CAP_DAC_READ_SEARCH)
    | cap_bit(CAP_FOWNER)
    | cap_bit(CAP_FSETID)
    | cap_bit(CAP_LINUX_IMMUTABLE)
    | cap_bit(CAP_MKNOD)
    | cap_bit(CAP_MAC_OVERRIDE);

/// `(uid_t)-1`: "leave this id alone" in the set*id calls, and never a valid id.
pub const NO_ID: u32 = u32::MAX;

/// The bit of capability `cap` in a set.
pub const fn cap_bit(cap: u32) -> u64 {
    1 << cap
}

/// A task's user and group ids and capabilities (`struct cred`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Real user id.
    pub uid: u32,
    /// Effective user id.
    pub euid: u32,
    /// Saved set-user-id.
    pub suid: u32,
    /// File-system user id.
    pub fsuid: u32,
    /// Real group id.
    pub gid: u32,
    /// Effective group id.
    pub egid: u32,
    /// Saved set-group-id.
    pub sgid: u32,
    /// File-system group id.
    pub fsgid: u32,
    /// Supplementary groups, sorted (as `set_groups` keeps them).
    pub groups: Vec<u32>,
    /// The capabilities checks use.
    pub cap_effective: u64,
    /// The capabilities the task may make effective.
    pub cap_permitted: u64,
    /// The capabilities kept across `execve` of a program that asks for them.
    pub cap_inheritable: u64,
    /// The limit on capabilities `execve` may grant.
    pub cap_bounding: u64,
    /// The capabilities kept across `execve` of any program.
    pub cap_ambient: u64,
    /// `SECBIT_*` flags, `PR_SET_KEEPCAPS` included (as `SECBIT_KEEP_CAPS`).
    pub securebits: u32,
}

/// Which id call changed the uids, for the capability fix-up
/// (`LSM_SETID_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetId {
    /// setuid, setreuid or setresuid.
    Uids,
    /// setfsuid.
    FsUid,
}

impl Credentials {
    /// Credentials with every id `uid`/`gid` and the given supplementary
    /// groups; uid 0 holds every capability, as a container's root does.
    pub fn new(uid: u32, gid: u32, mut groups: Vec<u32>) -> Credentials {
        groups.sort_unstable();
        let root_caps = if uid == 0 { CAP_FULL_SET } else { 0 };
        Credentials {
            uid,
            euid: uid,
            suid: uid,
            fsuid: uid,
            gid,
            egid: gid,
            sgid: gid,
            fsgid: gid,
            groups,
            cap_effective: root_caps,
            cap_permitted: root_caps,
            cap_inheritable: 0,
            cap_bounding: CAP_FULL_SET,
            cap_ambient: 0,
            securebits: 0,
        }
    }

    /// These credentials with the (effective, permitted, bounding)
    /// capability sets a caller holds, clipped to the capabilities known
    /// here.
    #[must_use]
    pub fn with_capabilities(mut self, (effective, permitted, bounding): (u64, u64, u64)) -> Self {
        self.cap_permitted = permitted & CAP_FULL_SET;
        self.cap_effective = effective & self.cap_permitted;
        self.cap_bounding = bounding & CAP_FULL_SET;
        self
    }

    /// Whether `gid` is the file-system group or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// Whether `cap` is in the effective set (`capable`).
    pub fn has_cap(&self, cap: u32) -> bool {
        cap <= CAP_LAST_CAP && self.cap_effective & cap_bit(cap) != 0
    }

    /// Whether a task with these credentials may read the state of one
    /// with `target`'s (Linux's `ptrace_may_access` with
    /// `PTRACE_MODE_READ_REALCREDS`): its real ids match all of the
    /// target's, or it holds `CAP_SYS_PTRACE`.
    pub fn may_read_state_of(&self, target: &Credentials) -> bool {
        let same_user = [target.uid, target.euid, target.suid]
            .iter()
            .all(|&id| id == self.uid);
        let same_group = [target.gid, target.egid, target.sgid]
            .iter()
            .all(|&id| id == self.gid);
        (same_user && same_group) || self.has_cap(abi::capability::CAP_SYS_PTRACE)
    }

    /// Whether a task with these credentials may send a signal to one with
    /// `target`'s (`kill_ok_by_cred`): a real or effective uid matching the
    /// target's real or saved uid, or `CAP_KILL`.
    pub fn may_signal(&self, target: &Credentials) -> bool {
        let mine = [self.euid, self.uid];
        let theirs = [target.suid, target.uid];
        mine.iter().any(|id| theirs.contains(id)) || self.has_cap(abi::capability::CAP_KILL)
    }

    /// `cap_task_fix_setuid`: the capabilities that follow a change of uids
    /// from `old` to `self`.
    pub fn fix_capabilities_after_setuid(&mut self, old: &Credentials, how: SetId) {
        if self.securebits & SECBIT_NO_SETUID_FIXUP != 0 {
            return;
        }
        match how {
            SetId::Uids => {
                let was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
                let is_root = self.uid == 0 || self.euid == 0 || self.suid == 0;
                if was_root && !is_root {
                    if self.securebits & SECBIT_KEEP_CAPS == 0 {
                        self.cap_permitted = 0;
                        self.cap_effective = 0;
                    }
                    self.cap_ambient = 0;
                }
                if old.euid == 0 && self.euid != 0 {
                    self.cap_effective = 0;
                }
                if old.euid != 0 && self.euid == 0 {
                    self.cap_effective = self.cap_permitted;
                }
            }
            SetId::FsUid => {
                if old.fsuid == 0 && self.fsuid != 0 {
                    self.cap_effective &= !CAP_FS_SET;
                }
                if old.fsuid != 0 && self.fsuid == 0 {
                    self.cap_effective |= self.cap_permitted & CAP_FS_SET;
                }
            }
        }
    }

    /// `setuid(2)`.
    ///
    /// # Errors
    /// `EINVAL` for `(uid_t)-1`, `EPERM` without `CAP_SETUID` for an id other
    /// than the real or saved one.
    pub fn set_uid(&mut self, uid: u32) -> Result<(), Errno> {
        if uid == NO_ID {
            return Err(Errno::EINVAL);
        }
        let old = self.clone();
        if self.has_cap(CAP_SETUID) {
            (self.uid, self.suid) = (uid, uid);
        } else if uid != self.uid && uid != self.suid {
            return Err(Errno::EPERM);
        }
        (self.euid, self.fsuid) = (uid, uid);
        self.fix_capabilities_after_setuid(&old, SetId::Uids);
        Ok(())
    }

    /// `setreuid(2)`.
    ///
    /// # Errors
    /// `EPERM` without `CAP_SETUID` for a new real id other than the real or
    /// effective one, or a new effective id outside real, effective, saved.
    pub fn set_reuid(&mut self, ruid: u32, euid: u32) -> Result<(), Errno> {
        let old = self.clone();
        let capable = self.has_cap(CAP_SETUID);
        if ruid != NO_ID {
            if !capable && ruid != old.uid && ruid != old.euid {
                return Err(Errno::EPERM);
            }
            self.uid = ruid;
        }
        if euid != NO_ID {
            if !capable && euid != old.uid && euid != old.euid && euid != old.suid {
                return Err(Errno::EPERM);
            }
            self.euid = euid;
        }
        if ruid != NO_ID || (euid != NO_ID && euid != old.uid) {
            self.suid = self.euid;
        }
        self.fsuid = self.euid;
        self.fix_capabilities_after_setuid(&old, SetId::Uids);
        Ok(())
    }

    /// `setresuid(2)`.
    ///
    /// # Errors
    /// `EPERM` without `CAP_SETUID` for an id outside the current three.
    pub fn set_resuid(&mut self, ruid: u32, euid: u32, suid: u32) -> Result<(), Errno> {
        let old = self.clone();
        let allowed = |id: u32| id == NO_ID || id == old.uid || id == old.euid || id == old.suid;
        let permitted = allowed(ruid) && allowed(euid) && allowed(suid);
        if !permitted && !self.has_cap(CAP_SETUID) {
            return Err(Errno::EPERM);
        }
        for (slot, id) in [
            (&mut self.uid, ruid),
            (&mut self.euid, euid),
            (&mut self.suid, suid),
        ] {
            if id != NO_ID {
                *slot = id;
            }
        }
        self.fsuid = self.euid;
        self.fix_capabilities_after_setuid(&old, SetId::Uids);
        Ok(())
    }

    /// `setfsuid(2)`: always answers the old fsuid; changes it only when
    /// allowed (no error is ever reported).
    pub fn set_fsuid(&mut self, uid: u32) -> u32 {
        let old = self.clone();
        let own = [old.uid, old.euid, old.suid].contains(&uid);
        if uid != NO_ID && uid != old.fsuid && (own || self.has_cap(CAP_SETUID)) {
            self.fsuid = uid;
            self.fix_capabilities_after_setuid(&old, SetId::FsUid);
        }
        old.fsuid
    }

    /// `setgid(2)`.
    ///
    /// # Errors
    /// As [`Credentials::set_uid`], with `CAP_SETGID`.
    pub fn set_gid(&mut self, gid: u32) -> Result<(), Errno> {
        if gid == NO_ID {
            return Err(Errno::EINVAL);
        }
        if self.has_cap(CAP_SETGID) {
            (self.gid, self.sgid) = (gid, gid);
        } else if gid != self.gid && gid != self.sgid {
            return Err(Errno::EPERM);
        }
        (self.egid, self.fsgid) = (gid, gid);
        Ok(())
    }

    /// `setregid(2)`.
    ///
    /// # Errors
    /// As [`Credentials::set_reuid`], with `CAP_SETGID`.
    pub fn set_regid(&mut self, rgid: u32, egid: u32) -> Result<(), Errno> {
        let capable = self.has_cap(CAP_SETGID);
        let (old_gid, old_egid, old_sgid) = (self.gid, self.egid, self.sgid);
        if rgid != NO_ID && !capable && rgid != old_gid && rgid != old_egid {
            return Err(Errno::EPERM);
        }
        if egid != NO_ID && !capable && egid != old_gid && egid != old_egid && egid != old_sgid {
            return Err(Errno::EPERM);
        }
        if rgid != NO_ID {
            self.gid = rgid;
        }
        if egid != NO_ID {
            self.egid = egid;
        }
        if rgid != NO_ID || (egid != NO_ID && egid != old_gid) {
            self.sgid = self.egid;
        }
        self.fsgid = self.egid;
        Ok(())
    }

    /// `setresgid(2)`.
    ///
    /// # Errors
    /// As [`Credentials::set_resuid`], with `CAP_SETGID`.
    pub fn set_resgid(&mut self, rgid: u32, egid: u32, sgid: u32) -> Result<(), Errno> {
        let (g, e, s) = (self.gid, self.egid, self.sgid);
        let allowed = |id: u32| id == NO_ID || id == g || id == e || id == s;
        let permitted = allowed(rgid) && allowed(egid) && allowed(sgid);
        if !permitted && !self.has_cap(CAP_SETGID) {
            return Err(Errno::EPERM);
        }
        for (slot, id) in [
            (&mut self.gid, rgid),
            (&mut self.egid, egid),
            (&mut self.sgid, sgid),
        ] {
            if id != NO_ID {
                *slot = id;
            }
        }
        self.fsgid = self.egid;
        Ok(())
    }

    /// `setfsgid(2)`: answers the old fsgid, as [`Credentials::set_fsuid`].
    pub fn set_fsgid(&mut self, gid: u32) -> u32 {
        let old = self.fsgid;
        if gid != NO_ID
            && (gid == self.gid
                || gid == self.egid
                || gid == self.sgid
                || gid == self.fsgid
                || self.has_cap(CAP_SETGID))
        {
            self.fsgid = gid;
        }
        old
    }

    /// `setgroups(2)` once the list is read.
    ///
    /// # Errors
    /// `EPERM` without `CAP_SETGID`.
    pub fn set_groups(&mut self, mut groups: Vec<u32>) -> Result<(), Errno> {
        if !self.has_cap(CAP_SETGID) {
            return Err(Errno::EPERM);
        }
        groups.sort_unstable();
        self.groups = groups;
        Ok(())
    }

    /// The credentials after `execve` of a file with `mode`, `owner` and
    /// `group` (`begin_new_exec` + `cap_bprm_creds_from_file`): set-user-ID
    /// and set-group-ID bits take effect unless `no_new_privs` or a
    /// `nosuid` mount forbids them; uid 0 gains the bounding set; everyone
    /// else keeps only the ambient set.
    pub fn exec(&mut self, mode: u32, owner: u32, group: u32, may_set_id: bool) {
        use abi::stat::{S_ISGID, S_ISUID, S_IXGRP};
        let mut id_changed = false;
        if may_set_id {
            if mode & S_ISUID != 0 && owner != self.euid {
                self.euid = owner;
                id_changed = true;
            }
            if mode & S_ISGID != 0 && mode & S_IXGRP != 0 && group != self.egid {
                self.egid = group;
                id_changed = true;
            }
        }
        if id_changed {
            self.cap_ambient = 0;
        }
        let root = self.securebits & SECBIT_NOROOT == 0 && (self.euid == 0 || self.uid == 0);
        if root {
            self.cap_permitted = self.cap_bounding | self.cap_inheritable;
            self.cap_effective = if self.euid == 0 {
                self.cap_permitted
            } else {
                self.cap_ambient
            };
        } else {
            self.cap_permitted = self.cap_ambient;
            self.cap_effective = self.cap_ambient;
        }
        (self.suid, self.fsuid) = (self.euid, self.euid);
        (self.sgid, self.fsgid) = (self.egid, self.egid);
        self.securebits &= !SECBIT_KEEP_CAPS;
    }

    /// Whether a program now starting runs with raised ids (`AT_SECURE`):
    /// the dynamic loader and libc then trust less of its environment.
    pub fn secure_exec(&self) -> bool {
        self.uid != self.euid || self.gid != self.egid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_leaving_uid_zero_loses_capabilities() {
        let mut c = Credentials::new(0, 0, vec![]);
        c.set_resuid(1000, 1000, 1000).unwrap();
        assert_eq!((c.cap_permitted, c.cap_effective), (0, 0));
        assert_eq!(c.set_uid(0), Err(Errno::EPERM));
    }

    #[test]
    fn keep_caps_keeps_permitted_but_not_effective() {
        let mut c = Credentials::new(0, 0, vec![]);
        c.securebits |= SECBIT_KEEP_CAPS;
        c.set_resuid(1000, 1000, 1000).unwrap();
        assert_eq!((c.cap_permitted, c.cap_effective), (CAP_FULL_SET, 0));
    }

    #[test]
    fn seteuid_round_trip_restores_effective() {
        let mut c = Credentials::new(0, 0, vec![]);
        c.set_reuid(NO_ID, 1000).unwrap();
        assert_eq!((c.euid, c.suid, c.cap_effective), (1000, 1000, 0));
        c.set_reuid(NO_ID, 0).unwrap();
        assert_eq!(c.cap_effective, CAP_FULL_SET);
    }

    #[test]
    fn fsuid_drops_only_file_capabilities() {
        let mut c = Credentials::new(0, 0, vec![]);
        assert_eq!(c.set_fsuid(1000), 0);
        assert!(!c.has_cap(CAP_DAC_OVERRIDE));
        assert!(c.has_cap(CAP_SETUID));
        assert_eq!(c.set_fsuid(0), 1000);
        assert!(c.has_cap(CAP_DAC_OVERRIDE));
    }

    #[test]
    fn unprivileged_ids_move_only_among_their_own() {
        let mut c = Credentials::new(1000, 1000, vec![]);
        c.suid = 1001;
        assert_eq!(c.set_resuid(NO_ID, 1001, NO_ID), Ok(()));
        assert_eq!(c.set_resuid(NO_ID, 1002, NO_ID), Err(Errno::EPERM));
        assert_eq!(c.set_fsuid(5), 1001);
        assert_eq!(c.fsuid, 1001);
        assert_eq!(c.set_groups(vec![1]), Err(Errno::EPERM));
    }

    #[test]
    fn exec_of_set_user_id_file() {
        let mut c = Credentials::new(1000, 1000, vec![]);
        c.exec(abi::stat::S_ISUID | 0o755, 0, 0, true);
        assert!(c.secure_exec());
        assert_eq!((c.uid, c.euid, c.suid), (1000, 0, 0));
        assert_eq!(c.cap_effective, CAP_FULL_SET);
        let mut c = Credentials::new(1000, 1000, vec![]);
        c.exec(abi::stat::S_ISUID | 0o755, 0, 0, false);
        assert_eq!((c.euid, c.cap_effective), (1000, 0));
        assert!(!c.secure_exec());
    }
}
