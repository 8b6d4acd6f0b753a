//! Capabilities: `include/uapi/linux/capability.h`,
//! `include/uapi/linux/securebits.h` and the capability `prctl`s of
//! `include/uapi/linux/prctl.h`.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// `_LINUX_CAPABILITY_VERSION_1`: one 32-bit word per set.
pub const LINUX_CAPABILITY_VERSION_1: u32 = 0x1998_0330;
/// `_LINUX_CAPABILITY_VERSION_2` (deprecated; the same layout as version 3).
pub const LINUX_CAPABILITY_VERSION_2: u32 = 0x2007_1026;
/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
pub const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct CapUserHeader {
    /// `_LINUX_CAPABILITY_VERSION_*`.
    pub version: u32,
    /// The thread asked about (0: the caller).
    pub pid: i32,
}
const _: () = assert!(core::mem::size_of::<CapUserHeader>() == 8);

/// `struct __user_cap_data_struct`: one 32-bit word of each set.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct CapUserData {
    /// The effective set's word.
    pub effective: u32,
    /// The permitted set's word.
    pub permitted: u32,
    /// The inheritable set's word.
    pub inheritable: u32,
}
const _: () = assert!(core::mem::size_of::<CapUserData>() == 12);

/// `CAP_CHOWN`.
pub const CAP_CHOWN: u32 = 0;
/// `CAP_DAC_OVERRIDE`.
pub const CAP_DAC_OVERRIDE: u32 = 1;
/// `CAP_DAC_READ_SEARCH`.
pub const CAP_DAC_READ_SEARCH: u32 = 2;
/// `CAP_FOWNER`.
pub const CAP_FOWNER: u32 = 3;
/// `CAP_FSETID`.
pub const CAP_FSETID: u32 = 4;
/// `CAP_KILL`.
pub const CAP_KILL: u32 = 5;
/// `CAP_SETGID`.
pub const CAP_SETGID: u32 = 6;
/// `CAP_SETUID`.
pub const CAP_SETUID: u32 = 7;
/// `CAP_SETPCAP`.
pub const CAP_SETPCAP: u32 = 8;
/// `CAP_LINUX_IMMUTABLE`.
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
/// `CAP_IPC_LOCK`.
pub const CAP_IPC_LOCK: u32 = 14;
/// `CAP_SYS_CHROOT`.
pub const CAP_SYS_CHROOT: u32 = 18;
/// `CAP_SYS_PTRACE`.
pub const CAP_SYS_PTRACE: u32 = 19;
/// `CAP_SYS_ADMIN`.
pub const CAP_SYS_ADMIN: u32 = 21;
/// `CAP_SYS_NICE`.
pub const CAP_SYS_NICE: u32 = 23;
/// `CAP_SYS_RESOURCE`.
pub const CAP_SYS_RESOURCE: u32 = 24;
/// `CAP_MKNOD`.
pub const CAP_MKNOD: u32 = 27;
/// `CAP_MAC_OVERRIDE`.
pub const CAP_MAC_OVERRIDE: u32 = 32;
/// `CAP_CHECKPOINT_RESTORE`.
pub const CAP_CHECKPOINT_RESTORE: u32 = 40;
/// `CAP_LAST_CAP` (`CAP_CHECKPOINT_RESTORE` since Linux 5.9).
pub const CAP_LAST_CAP: u32 = 40;

/// `SECBIT_NOROOT`: uid 0 gets no capabilities by exec.
pub const SECBIT_NOROOT: u32 = 1 << 0;
/// `SECBIT_NOROOT_LOCKED`.
pub const SECBIT_NOROOT_LOCKED: u32 = 1 << 1;
/// `SECBIT_NO_SETUID_FIXUP`: changing uids leaves capabilities alone.
pub const SECBIT_NO_SETUID_FIXUP: u32 = 1 << 2;
/// `SECBIT_NO_SETUID_FIXUP_LOCKED`.
pub const SECBIT_NO_SETUID_FIXUP_LOCKED: u32 = 1 << 3;
/// `SECBIT_KEEP_CAPS`: leaving uid 0 keeps the permitted set.
pub const SECBIT_KEEP_CAPS: u32 = 1 << 4;
/// `SECBIT_KEEP_CAPS_LOCKED`.
pub const SECBIT_KEEP_CAPS_LOCKED: u32 = 1 << 5;
/// `SECBIT_NO_CAP_AMBIENT_RAISE`.
pub const SECBIT_NO_CAP_AMBIENT_RAISE: u32 = 1 << 6;
/// `SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED`.
pub const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: u32 = 1 << 7;
/// Every securebit and its lock (`SECURE_ALL_BITS | SECURE_ALL_LOCKS`):
/// those above, plus `SECBIT_EXEC_RESTRICT_FILE` and
/// `SECBIT_EXEC_DENY_INTERACTIVE` (Linux 6.14), which only
/// `execveat(AT_EXECVE_CHECK)` reads.
pub const SECURE_ALL_BITS: u32 = 0xfff;

/// `PR_CAPBSET_READ`.
pub const PR_CAPBSET_READ: u32 = 23;
/// `PR_CAPBSET_DROP`.
pub const PR_CAPBSET_DROP: u32 = 24;
/// `PR_GET_KEEPCAPS`.
pub const PR_GET_KEEPCAPS: u32 = 7;
/// `PR_SET_KEEPCAPS`.
pub const PR_SET_KEEPCAPS: u32 = 8;
/// `PR_GET_SECUREBITS`.
pub const PR_GET_SECUREBITS: u32 = 27;
/// `PR_SET_SECUREBITS`.
pub const PR_SET_SECUREBITS: u32 = 28;
/// `PR_CAP_AMBIENT`.
pub const PR_CAP_AMBIENT: u32 = 47;
/// `PR_CAP_AMBIENT_IS_SET`.
pub const PR_CAP_AMBIENT_IS_SET: u64 = 1;
/// `PR_CAP_AMBIENT_RAISE`.
pub const PR_CAP_AMBIENT_RAISE: u64 = 2;
/// `PR_CAP_AMBIENT_LOWER`.
pub const PR_CAP_AMBIENT_LOWER: u64 = 3;
/// `PR_CAP_AMBIENT_CLEAR_ALL`.
pub const PR_CAP_AMBIENT_CLEAR_ALL: u64 = 4;

/// `NGROUPS_MAX` (`include/uapi/linux/limits.h`).
pub const NGROUPS_MAX: usize = 65536;
