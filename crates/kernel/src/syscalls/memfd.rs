//! Anonymous memory files: memfd_create(2). A memfd is a tmpfs file in no
//! directory (`vfs::FsContext::open_memfd`); its seals are the tmpfs
//! inode's, set with fcntl(2)'s `F_ADD_SEALS` (in `file.rs`).

use abi::Errno;
use abi::fcntl::{
    F_SEAL_EXEC, F_SEAL_SEAL, MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_EXEC, MFD_HUGETLB,
    MFD_NOEXEC_SEAL,
};
use abi::sysno::SYS_MEMFD_CREATE;

use super::fs::install;
use super::table::{Arg, Entry, Support, entry};
use super::{SyscallArgs, SyscallResult};
use crate::task::Task;

/// `MFD_ALL_FLAGS` (mm/memfd.c).
const MFD_ALL_FLAGS: u32 =
    MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
// include/uapi/linux/memfd.h: the huge page size, with MFD_HUGETLB.
const MFD_HUGE_SHIFT: u32 = 26;
const MFD_HUGE_MASK: u32 = 0x3f;
/// `MFD_NAME_MAX_LEN` plus the NUL: `NAME_MAX` less the `memfd:` prefix.
const MFD_NAME_SIZE: usize = 255 - b"memfd:".len() + 1;

/// This area's rows of the syscall table.
pub(super) const SYSCALLS: &[Entry] = &[entry(
    SYS_MEMFD_CREATE,
    sys_memfd_create,
    &[Arg::Path, Arg::Hex],
    Support::Partial,
    "MFD_HUGETLB is EINVAL (no hugetlbfs); F_SEAL_WRITE does not refuse (EBUSY) writable \
     shared mappings made before it",
)];

/// Implements Linux `memfd_create(2)`, as with `vm.memfd_noexec` 0: a file
/// made with neither `MFD_EXEC` nor `MFD_NOEXEC_SEAL` is executable.
///
/// Differences: `MFD_HUGETLB` is `EINVAL`, as on a kernel without
/// hugetlbfs.
fn sys_memfd_create(task: &mut Task, args: &SyscallArgs) -> SyscallResult {
    let flags = args.u32(1);
    let known = if flags & MFD_HUGETLB == 0 {
        MFD_ALL_FLAGS
    } else {
        MFD_ALL_FLAGS | (MFD_HUGE_MASK << MFD_HUGE_SHIFT)
    };
    if flags & !known != 0 || flags & (MFD_EXEC | MFD_NOEXEC_SEAL) == MFD_EXEC | MFD_NOEXEC_SEAL {
        return Err(Errno::EINVAL);
    }
    let name = task
        .mm
        .read_c_string(args.addr(0), MFD_NAME_SIZE)
        .map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::EINVAL
            } else {
                e
            }
        })?;
    if flags & MFD_HUGETLB != 0 {
        return Err(Errno::EINVAL);
    }
    let (mode, seals) = if flags & MFD_NOEXEC_SEAL != 0 {
        (0o666, F_SEAL_EXEC)
    } else if flags & MFD_ALLOW_SEALING != 0 {
        (0o777, 0)
    } else {
        (0o777, F_SEAL_SEAL)
    };
    let file = task.fs().open_memfd(&task.creds, &name, mode, seals)?;
    install(task, file, flags & MFD_CLOEXEC != 0)
}
