//! Credentials: who a task is, for permission checks and the id syscalls.

/// A task's user and group ids (`struct cred`).
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
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Credentials with every id `uid`/`gid` and the given supplementary groups.
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
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
        }
    }

    /// Whether `gid` is the file-system group or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }

    /// Whether a task with these credentials may read the state of one
    /// with `target`'s (Linux's `ptrace_may_access` with
    /// `PTRACE_MODE_READ_REALCREDS`): its real ids match all of the
    /// target's, or it is the sandbox's root (`CAP_SYS_PTRACE`).
    pub fn may_read_state_of(&self, target: &Credentials) -> bool {
        self.euid == 0
            || ([target.uid, target.euid, target.suid]
                .iter()
                .all(|&id| id == self.uid)
                && [target.gid, target.egid, target.sgid]
                    .iter()
                    .all(|&id| id == self.gid))
    }
}
