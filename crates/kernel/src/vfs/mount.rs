//! The mount table: the rootfs at `/` (by default an overlay of the host
//! rootfs under a tmpfs in sandbox memory), the sentry's devfs over `/dev`
//! with devpts at `/dev/pts` and a tmpfs at `/dev/shm`, procfs at `/proc`, sysfs at `/sys` and a
//! tmpfs at `/run`. The host's `/dev`, `/proc`, `/sys` and `/run` are never
//! visible.
//!
//! `--volume` bind mounts (host directories the runtime opened) go above
//! those, at their guest paths; a later mount hides an earlier one at the
//! same path, as on Linux.
//!
//! The table is fixed when the view is built; `mount(2)` will make it a
//! real tree.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use abi::Errno;
use abi::stat::{S_IFDIR, S_ISVTX};
use platform::MemoryFile;

use super::File;
use super::dentry::{Dentry, Node, RecentDentries};
use crate::fs::devpts::{DevPts, PtsNode};
use crate::fs::hostfs::HostNode;
use crate::fs::overlay::Overlay;
use crate::fs::procfs::{ProcFs, ProcNode, ProcSource};
use crate::fs::pty::{ControllingTty, Pty};
use crate::fs::tmpfs::{self, FsShared, Inode, SpaceLimit};
use crate::mm::MemoryAllocator;

/// Identifies a mount (`st_mnt_id`-like; used for `EXDEV` and `RESOLVE_NO_XDEV`).
pub(crate) type MountId = u32;

/// The rootfs's mount.
pub(crate) const ROOT_MOUNT: MountId = 0;

/// devpts' mount.
const DEVPTS_MOUNT: MountId = 6;

/// The internal tmpfs holding memfds (Linux's `shm_mnt`): mounted nowhere
/// in the view, its id is past any volume's.
pub(crate) const MEMFD_MOUNT: MountId = 1 << 20;

/// A mount: its root dentry, whose parent is the directory the mount point
/// is in, so `..` and paths cross it as Linux's `follow_dotdot` and
/// `d_path` do.
#[derive(Debug)]
struct MountPoint {
    /// The path it was mounted at (for `/proc/mounts`).
    path: Vec<u8>,
    id: MountId,
    /// The directory the mount point is in, and the mount point's name.
    parent: Arc<Dentry>,
    name: Vec<u8>,
    root: Arc<Dentry>,
    /// `/proc/mounts` fields: source, type, options.
    source: &'static str,
    fstype: &'static str,
    options: &'static str,
}

/// A mount to attach.
struct NewMount {
    path: &'static [u8],
    id: MountId,
    node: Node,
    source: &'static str,
    fstype: &'static str,
    options: &'static str,
}

/// A host directory to mount in the view (`--volume HOST:GUEST[:ro]`).
#[derive(Debug)]
pub struct Volume {
    /// The host directory: a detached mount (`open_tree` clone) or any
    /// directory fd the sandbox process opened before confining itself.
    pub fd: OwnedFd,
    /// Where it appears: an absolute path in the view, without `.`, `..`
    /// or empty components, and not `/`.
    pub guest: Vec<u8>,
    /// Writes get `EROFS` (otherwise they land on the host).
    pub read_only: bool,
}

/// The components of a volume's guest path; `EINVAL` unless it is an
/// absolute path other than `/` with only normal components.
fn guest_components(guest: &[u8]) -> Result<Vec<&[u8]>, Errno> {
    let rest = guest.strip_prefix(b"/").ok_or(Errno::EINVAL)?;
    let parts: Vec<&[u8]> = rest.split(|&b| b == b'/').collect();
    let bad = |p: &&[u8]| {
        p.is_empty()
            || *p == b"."
            || *p == b".."
            || p.len() > abi::fcntl::NAME_MAX
            || p.contains(&0)
    };
    if parts.iter().any(bad) {
        return Err(Errno::EINVAL);
    }
    Ok(parts)
}

/// How to build the view.
#[derive(Clone, Copy, Debug)]
pub struct VfsOptions {
    /// Overlay the rootfs with a tmpfs (writes land in sandbox memory); when
    /// false the rootfs is read-only.
    pub overlay: bool,
    /// The bytes the sentry's in-memory file systems (the overlay's upper
    /// layer, /dev/shm, /run) may hold together.
    pub memory_limit: u64,
}

impl Default for VfsOptions {
    fn default() -> VfsOptions {
        VfsOptions {
            overlay: true,
            memory_limit: tmpfs::default_space_limit(),
        }
    }
}

/// The sandbox's file-system view: the mount tree.
#[derive(Debug)]
pub struct Vfs {
    root: Arc<Dentry>,
    mounts: Vec<MountPoint>,
    proc: Arc<ProcFs>,
    space: Arc<SpaceLimit>,
    devpts: Arc<DevPts>,
    /// The tmpfs of `memfd_create`'s files, in the same budget as the
    /// others.
    memfd: Arc<FsShared>,
    /// The controlling terminal of each session that has one, by session id.
    ttys: Mutex<BTreeMap<i32, ControllingTty>>,
    /// The sandbox's console: what opening `/dev/console` gives.
    console: Mutex<Option<Arc<File>>>,
    /// Serializes renames (`s_vfs_rename_mutex`), so the check that a
    /// directory does not move below itself still holds when it moves.
    rename_lock: Mutex<()>,
    /// The rootfs's dentries used last, kept cached.
    pub(crate) recent: RecentDentries,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Vfs {
    /// The default view over the host directory `rootfs`: an overlay with
    /// its upper layer in sandbox memory, and the sentry's own /dev, /proc,
    /// /sys and /run.
    ///
    /// # Errors
    /// `ENOTDIR` if `rootfs` is not a directory; the host's errno if it
    /// cannot be examined.
    pub fn new(rootfs: OwnedFd) -> Result<Arc<Vfs>, Errno> {
        Vfs::with_options(rootfs, VfsOptions::default())
    }

    /// The view over `rootfs` built as `options` say, its in-memory files
    /// in a MemoryFile of their own (a sandbox passes its own to
    /// [`Vfs::with_volumes`]).
    ///
    /// # Errors
    /// As [`Vfs::new`]; `ENOMEM` if the host refuses the MemoryFile.
    pub fn with_options(rootfs: OwnedFd, options: VfsOptions) -> Result<Arc<Vfs>, Errno> {
        let file = MemoryFile::new(options.memory_limit).map_err(|_| Errno::ENOMEM)?;
        let pages = MemoryAllocator::new(Arc::new(file));
        Vfs::with_volumes(rootfs, options, Vec::new(), pages)
    }

    /// The view over `rootfs` built as `options` say, with `volumes` mounted
    /// above it in order. A volume's missing mount point is made in the
    /// overlay (with its missing parents, `drwxr-xr-x`); without the overlay
    /// its parent must exist, and the mount point shows in its listing.
    ///
    /// # Errors
    /// As [`Vfs::new`]; `EINVAL` for a bad guest path, `ENOTDIR` if it
    /// passes through something that is not a directory (symlinks are not
    /// followed), `ENOENT` if a parent is missing and cannot be made.
    pub fn with_volumes(
        rootfs: OwnedFd,
        options: VfsOptions,
        volumes: Vec<Volume>,
        pages: Arc<MemoryAllocator>,
    ) -> Result<Arc<Vfs>, Errno> {
        let host = HostNode::root(rootfs)?;
        let space = SpaceLimit::new(options.memory_limit, pages);
        let node = if options.overlay {
            Node::Ovl(Overlay::mount(host, Arc::clone(&space))?)
        } else {
            Node::Host(host)
        };
        let root = Dentry::root(node, ROOT_MOUNT);
        let proc = ProcFs::new();
        let tmpfs_root = |minor: u32, flags: i64| -> Result<Arc<Inode>, Errno> {
            let fs = FsShared::new(
                abi::stat::makedev(0, minor),
                abi::stat::TMPFS_MAGIC,
                flags,
                Arc::clone(&space),
            );
            fs.new_inode(S_IFDIR | S_ISVTX | 0o777, 0, 0, 0, None)
        };
        let nosuid_nodev = abi::stat::ST_NOSUID | abi::stat::ST_NODEV;
        let run = tmpfs_root(0x18, nosuid_nodev)?;
        // /run is drwxr-xr-x like a distribution's.
        run.setattr(&tmpfs::SetAttr {
            mode: Some(0o755),
            ..tmpfs::SetAttr::default()
        })?;
        let shm = tmpfs_root(0x19, nosuid_nodev)?;
        let memfd = FsShared::new(
            abi::stat::makedev(0, 0x1),
            abi::stat::TMPFS_MAGIC,
            0,
            Arc::clone(&space),
        );
        let proc_root = |path: &[u8]| ProcNode::root(&proc, path).ok_or(Errno::ENOENT);
        let fixed = [
            NewMount {
                path: b"/dev",
                id: 1,
                node: Node::DevDir,
                source: "devtmpfs",
                fstype: "devtmpfs",
                options: "rw,nosuid,mode=755",
            },
            NewMount {
                path: b"/dev/pts",
                id: DEVPTS_MOUNT,
                node: Node::Pts(PtsNode::Root),
                source: "devpts",
                fstype: "devpts",
                options: "rw,nosuid,noexec,relatime,mode=600,ptmxmode=000",
            },
            NewMount {
                path: b"/dev/shm",
                id: 5,
                node: Node::Tmpfs(shm),
                source: "tmpfs",
                fstype: "tmpfs",
                options: "rw,nosuid,nodev",
            },
            NewMount {
                path: b"/proc",
                id: 2,
                node: Node::Proc(proc_root(b"/proc")?),
                source: "proc",
                fstype: "proc",
                options: "rw,nosuid,nodev,noexec,relatime",
            },
            NewMount {
                path: b"/sys",
                id: 3,
                node: Node::Proc(proc_root(b"/sys")?),
                source: "sysfs",
                fstype: "sysfs",
                options: "ro,nosuid,nodev,noexec,relatime",
            },
            NewMount {
                path: b"/run",
                id: 4,
                node: Node::Tmpfs(run),
                source: "tmpfs",
                fstype: "tmpfs",
                options: "rw,nosuid,nodev,mode=755",
            },
        ];
        let mut vfs = Vfs {
            root,
            mounts: Vec::new(),
            proc,
            space,
            devpts: DevPts::new(),
            memfd,
            ttys: Mutex::default(),
            console: Mutex::default(),
            rename_lock: Mutex::default(),
            recent: RecentDentries::default(),
        };
        for m in fixed {
            // Their parents are the root and /dev, which are there.
            let (parent_path, name) = split_last(m.path);
            let parent = vfs.walk_mounted(parent_path)?;
            vfs.attach(
                &parent,
                name,
                m.path.to_vec(),
                m.id,
                m.node,
                (m.source, m.fstype, m.options),
            );
        }
        for (i, volume) in volumes.into_iter().enumerate() {
            let id = DEVPTS_MOUNT + 1 + MountId::try_from(i).map_err(|_| Errno::EINVAL)?;
            vfs.add_volume(volume, id)?;
        }
        let Vfs {
            root,
            mounts,
            proc,
            space,
            devpts,
            memfd,
            ttys,
            console,
            rename_lock,
            recent,
        } = vfs;
        let (root_source, root_type, root_options) = if options.overlay {
            (
                "overlay",
                "overlay",
                "rw,relatime,lowerdir=/,upperdir=memory",
            )
        } else {
            ("rootfs", "rootfs", "ro,relatime")
        };
        let mut text = format!("{root_source} / {root_type} {root_options} 0 0\n");
        let root_dev = root.cached_stat().st_dev;
        let mut info = format!(
            "{} {} {}:{} / / {} - {root_type} {root_source} {}\n",
            ROOT_MOUNT + 1,
            ROOT_MOUNT,
            abi::stat::major(root_dev),
            abi::stat::minor(root_dev),
            mount_options(root_options),
            super_options(root_options),
        );
        for m in &mounts {
            let path = String::from_utf8_lossy(&m.path);
            text.push_str(&format!(
                "{} {} {} {} 0 0\n",
                m.source, path, m.fstype, m.options
            ));
            let parent = mounts
                .iter()
                .filter(|p| m.path.starts_with(&p.path) && m.path.get(p.path.len()) == Some(&b'/'))
                .map(|p| p.id)
                .next_back()
                .unwrap_or(ROOT_MOUNT);
            let dev = m.root.cached_stat().st_dev;
            info.push_str(&format!(
                "{} {} {}:{} / {path} {} - {} {} {}\n",
                m.id + 1,
                parent + 1,
                abi::stat::major(dev),
                abi::stat::minor(dev),
                mount_options(m.options),
                m.fstype,
                m.source,
                super_options(m.options),
            ));
        }
        proc.set_mounts(text, info);
        Ok(Arc::new(Vfs {
            root,
            mounts,
            proc,
            space,
            devpts,
            memfd,
            ttys,
            console,
            rename_lock,
            recent,
        }))
    }

    /// Mounts `volume` as mount `id`, making its mount point in the overlay
    /// if it is missing there.
    fn add_volume(&mut self, volume: Volume, id: MountId) -> Result<(), Errno> {
        let parts = guest_components(&volume.guest)?;
        let root = HostNode::volume(volume.fd, volume.read_only)?;
        let (name, parents) = parts.split_last().ok_or(Errno::EINVAL)?;
        let mut dir = Arc::clone(&self.root);
        for part in parents {
            dir = self.make_dir(&dir, part)?.ok_or(Errno::ENOENT)?;
        }
        // The mount point itself may be missing: it shows in its parent's
        // listing all the same.
        self.make_dir(&dir, name)?;
        let options = if volume.read_only {
            "ro,nosuid,nodev,relatime"
        } else {
            "rw,nosuid,nodev,relatime"
        };
        self.attach(
            &dir,
            name,
            volume.guest.clone(),
            id,
            Node::Host(root),
            ("volume", "bind", options),
        );
        Ok(())
    }

    /// The directory `name` in `dir`, made (`drwxr-xr-x`, owned as `dir`)
    /// if it is missing and `dir` is in memory; `None` if it is missing
    /// and cannot be made.
    fn make_dir(&self, dir: &Arc<Dentry>, name: &[u8]) -> Result<Option<Arc<Dentry>>, Errno> {
        let found = match super::path::lookup_child(self, dir, name) {
            Ok(d) => d,
            Err(Errno::ENOENT) if matches!(dir.node, Node::Ovl(_) | Node::Tmpfs(_)) => {
                let st = dir.stat()?;
                let new = super::ops::NewNode {
                    mode: S_IFDIR | 0o755,
                    uid: st.st_uid,
                    gid: st.st_gid,
                    rdev: 0,
                    target: None,
                };
                super::ops::create(dir, name, new)?
            }
            Err(Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        if !found.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(Some(found))
    }

    /// The directory at `path` (absolute, canonical, made of mount roots
    /// and directories that exist), for attaching a mount to.
    fn walk_mounted(&self, path: &[u8]) -> Result<Arc<Dentry>, Errno> {
        let mut cur = Arc::clone(&self.root);
        for name in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            cur = super::path::lookup_child(self, &cur, name)?;
        }
        Ok(cur)
    }

    /// Attaches a mount of `node` as mount `id` at `name` in `parent` (its
    /// mount point's path is `path`).
    fn attach(
        &mut self,
        parent: &Arc<Dentry>,
        name: &[u8],
        path: Vec<u8>,
        id: MountId,
        node: Node,
        (source, fstype, options): (&'static str, &'static str, &'static str),
    ) {
        let root = Dentry::child_of(parent, name, node, id);
        self.mounts.push(MountPoint {
            path,
            id,
            parent: Arc::clone(parent),
            name: name.to_vec(),
            root,
            source,
            fstype,
            options,
        });
    }

    /// Takes the rename lock: held from the checks of a rename to the move
    /// of its dentries.
    pub(crate) fn lock_rename(&self) -> MutexGuard<'_, ()> {
        lock(&self.rename_lock)
    }

    /// The root of the view.
    pub fn root(&self) -> &Arc<Dentry> {
        &self.root
    }

    /// The budget of the sentry's in-memory file systems.
    pub fn space(&self) -> &Arc<SpaceLimit> {
        &self.space
    }

    /// The registry of task views procfs shows (see `task/proc_view.rs`).
    pub fn task_views(&self) -> &crate::task::TaskViews {
        self.proc.views()
    }

    /// Registers what procfs asks the kernel (host name, CPUs, uptime).
    pub fn set_proc_source(&self, source: Weak<dyn ProcSource>) {
        self.proc.set_source(source);
    }

    /// Registers (or with `None` forgets) the controlling terminal of
    /// session `sid`: what opening `/dev/tty` gives its members (`ENXIO`
    /// while there is none).
    pub fn set_controlling_tty(&self, sid: i32, tty: Option<ControllingTty>) {
        let mut ttys = lock(&self.ttys);
        match tty {
            Some(tty) => ttys.insert(sid, tty),
            None => ttys.remove(&sid),
        };
    }

    /// The controlling terminal of session `sid`, if it has one.
    pub(crate) fn controlling_tty(&self, sid: i32) -> Option<ControllingTty> {
        let tty = lock(&self.ttys).get(&sid).cloned()?;
        match &tty {
            // A terminal that hung up or went away no longer controls it.
            ControllingTty::Pty(pty) if !pty.upgrade()?.controls(sid) => None,
            _ => Some(tty),
        }
    }

    /// Makes `file` the sandbox's console, which `/dev/console` opens.
    pub fn set_console(&self, file: Arc<File>) {
        *lock(&self.console) = Some(file);
    }

    /// The sandbox's console, if it has one.
    pub(crate) fn console(&self) -> Option<Arc<File>> {
        lock(&self.console).clone()
    }

    /// The sandbox's devpts.
    pub(crate) fn devpts(&self) -> &Arc<DevPts> {
        &self.devpts
    }

    /// The dentry of the slave node of `pty`, `/dev/pts/N`.
    pub(crate) fn pts_dentry(&self, pty: Arc<Pty>) -> Arc<Dentry> {
        let name = pty.index().to_string().into_bytes();
        let node = Node::Pts(PtsNode::Slave(pty));
        match self.mounts.iter().find(|m| m.id == DEVPTS_MOUNT) {
            Some(m) => Dentry::child_of(&m.root, &name, node, DEVPTS_MOUNT),
            None => Dentry::detached(name, node, DEVPTS_MOUNT),
        }
    }

    /// The tmpfs memfds live on.
    pub(crate) fn memfd_fs(&self) -> &Arc<FsShared> {
        &self.memfd
    }

    /// Whether the mount `id` ignores set-user-ID and set-group-ID bits
    /// (`MNT_NOSUID`).
    pub(crate) fn nosuid(&self, id: MountId) -> bool {
        self.mounts
            .iter()
            .find(|m| m.id == id)
            .is_some_and(|m| m.options.split(',').any(|o| o == "nosuid"))
    }

    /// The root of the mount at `name` in `dir`, if that is a mount point.
    pub(crate) fn mount_root(&self, dir: &Arc<Dentry>, name: &[u8]) -> Option<Arc<Dentry>> {
        // The last mount at a place hides the ones before it.
        self.mounts
            .iter()
            .rev()
            .find(|m| Arc::ptr_eq(&m.parent, dir) && m.name == name)
            .map(|m| Arc::clone(&m.root))
    }

    /// The mount points directly inside the directory `dir`: (name, inode of
    /// the mounted root), to merge into its listing.
    pub(crate) fn mounts_in(&self, dir: &Arc<Dentry>) -> Vec<(Vec<u8>, u64)> {
        let mut names: Vec<(Vec<u8>, u64)> = Vec::new();
        for m in &self.mounts {
            if Arc::ptr_eq(&m.parent, dir) && !names.iter().any(|(n, _)| *n == m.name) {
                names.push((m.name.clone(), 1));
            }
        }
        names
    }
}

/// The directory part and the last name of an absolute path.
fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (b"", path),
    }
}

/// The per-mount options of a `/proc/mounts` option string (`mountinfo`'s
/// field 6): access and the `*atime`/`nosuid`/`nodev`/`noexec` flags.
fn mount_options(options: &str) -> String {
    let per_mount = [
        "rw", "ro", "nosuid", "nodev", "noexec", "relatime", "noatime",
    ];
    options
        .split(',')
        .filter(|o| per_mount.contains(o))
        .collect::<Vec<_>>()
        .join(",")
}

/// The file system's own options (`mountinfo`'s last field).
fn super_options(options: &str) -> String {
    let per_mount = ["nosuid", "nodev", "noexec", "relatime", "noatime"];
    options
        .split(',')
        .filter(|o| !per_mount.contains(o))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points() {
        let fd: OwnedFd = std::fs::File::open("/").unwrap().into();
        let vfs = Vfs::new(fd).unwrap();
        let dev = vfs.mount_root(vfs.root(), b"dev").unwrap();
        assert_eq!(dev.path(), b"/dev");
        assert!(vfs.mount_root(&dev, b"null").is_none());
        let pts = vfs.mount_root(&dev, b"pts").unwrap();
        assert_eq!(pts.path(), b"/dev/pts");
        assert!(Arc::ptr_eq(&pts.parent().unwrap(), &dev));
        let names: Vec<Vec<u8>> = vfs.mounts_in(vfs.root()).into_iter().map(|m| m.0).collect();
        assert_eq!(
            names,
            [
                b"dev".to_vec(),
                b"proc".to_vec(),
                b"sys".to_vec(),
                b"run".to_vec()
            ]
        );
        assert_eq!(
            vfs.mounts_in(&dev),
            [(b"pts".to_vec(), 1), (b"shm".to_vec(), 1)]
        );
        let etc = crate::vfs::path::lookup_child(&vfs, vfs.root(), b"etc").unwrap();
        assert!(vfs.mounts_in(&etc).is_empty());
    }
}
