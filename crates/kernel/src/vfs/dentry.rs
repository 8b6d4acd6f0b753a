//! Dentries (`fs/dcache.c`): the nodes of the view's name tree, each
//! with its parent and its name in it, so a dentry follows renames and
//! knows when it was removed.
//!
//! Only dentries something holds (a working directory, an open file, a
//! mapping, the walk in progress, a child of one of those, the view's
//! [`RecentDentries`]) exist: a directory keeps its children weakly and a
//! dentry leaves its parent's table when it is dropped. On the overlay
//! rootfs, which only the sandbox changes, a cached name is the answer; on
//! a host file system a lookup always asks the host and reuses the cached
//! dentry only if it still names the same node (`d_revalidate`).
//!
//! The tree changes only through [`d_move`] and [`d_delete`] (and
//! [`Dentry::add`] of a new name), right after the file system made the
//! change and under the directories' names locks, which lookups hold
//! shared; [`RENAME_SEQ`] counts the moves (Linux's `rename_lock`), so a
//! confined walk can tell that a `..` it took may have left its root.
//!
//! Lock order: the view's rename lock, then directories' names locks (a
//! rename takes its two; nothing else holds more than one), then the file
//! systems' locks; a directory's `children` lock, then a dentry's `link`
//! lock, are leaves, and no `Arc<Dentry>` is dropped while one is held
//! (its `Drop` takes its parent's `children` lock).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockWriteGuard, Weak};

use abi::Errno;
use abi::stat::{S_IFDIR, S_IFLNK, S_IFMT, Stat, Statfs, Statx};

use super::file::statx_from_stat;
use super::mount::MountId;
use crate::fs::devfs::{self, DevKind};
use crate::fs::devpts::{self, PtsNode};
use crate::fs::hostfs::HostNode;
use crate::fs::overlay::OvlInode;
use crate::fs::procfs::ProcNode;
use crate::fs::tmpfs::Inode;

/// What a dentry names.
#[derive(Debug)]
pub(crate) enum Node {
    /// A file or directory of the host rootfs (seen read-only) or of a
    /// `--volume`.
    Host(HostNode),
    /// A tmpfs inode.
    Tmpfs(Arc<Inode>),
    /// A node of the overlay rootfs.
    Ovl(Arc<OvlInode>),
    /// `/dev` itself.
    DevDir,
    /// A device in `/dev`.
    Device(DevKind),
    /// A symlink in `/dev` (its name).
    DevLink(Vec<u8>),
    /// A node of devpts.
    Pts(PtsNode),
    /// A node of procfs or sysfs.
    Proc(ProcNode),
    /// An open file with no place in the view (a pipe), reached through a
    /// `/proc/[pid]/fd/N` magic link: opening it gives that description.
    OpenFile(Arc<super::File>),
}

/// Counts renames (Linux's `rename_lock` sequence): a confined walk that
/// sees it change after a `..` fails with `EAGAIN`.
pub(crate) static RENAME_SEQ: AtomicU64 = AtomicU64::new(0);

/// The most names a path is made of: more give a path longer than
/// `PATH_MAX` anyway (a program can make deeper directories by walking
/// down relative paths; their paths are cut at the top).
const MAX_DEPTH: usize = 4096;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Takes a directory's names lock exclusively, to change its names.
pub(crate) fn lock_names(dir: &Dentry) -> RwLockWriteGuard<'_, ()> {
    dir.names.write().unwrap_or_else(PoisonError::into_inner)
}

/// Where a dentry is in the tree.
#[derive(Debug)]
struct Link {
    /// The directory it is in; `None` for the view's root and for a
    /// dentry outside the tree.
    parent: Option<Arc<Dentry>>,
    /// Its name there (`/` for the root).
    name: Vec<u8>,
    /// Removed, or replaced by a rename, since it was looked up
    /// (`d_unlinked`).
    unlinked: bool,
}

/// A node of the view's name tree: what is there, and where it is now.
pub struct Dentry {
    /// What is there.
    pub(crate) node: Node,
    /// The mount it is on.
    pub(crate) mount: MountId,
    /// Its parent and name, which renames change.
    link: Mutex<Link>,
    /// A directory's names lock (Linux's `i_rwsem`): held shared by a
    /// lookup from asking the file system to caching the answer, and
    /// exclusively by a change to the names (from the file system's change
    /// to the dentries'), so the cache never keeps what a change made
    /// stale.
    names: RwLock<()>,
    /// The cached children of a directory, by name; each entry's parent is
    /// this dentry.
    children: Mutex<HashMap<Vec<u8>, Weak<Dentry>>>,
}

impl std::fmt::Debug for Dentry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dentry")
            .field("path", &String::from_utf8_lossy(&self.path()))
            .field("node", &self.node)
            .field("mount", &self.mount)
            .finish_non_exhaustive()
    }
}

impl Drop for Dentry {
    /// Leaves the parent's table, and drops a chain of parents nothing
    /// else holds one by one rather than recursively, as a program can
    /// make a chain of directories of any depth.
    fn drop(&mut self) {
        let mut me: *const Dentry = self;
        let link = self.link.get_mut().unwrap_or_else(PoisonError::into_inner);
        let mut parent = link.parent.take();
        let mut name = std::mem::take(&mut link.name);
        while let Some(p) = parent {
            {
                let mut children = lock(&p.children);
                if children
                    .get(&name)
                    .is_some_and(|w| std::ptr::eq(w.as_ptr(), me))
                {
                    children.remove(&name);
                }
            }
            me = Arc::as_ptr(&p);
            let Some(mut last) = Arc::into_inner(p) else {
                break;
            };
            let link = last.link.get_mut().unwrap_or_else(PoisonError::into_inner);
            parent = link.parent.take();
            name = std::mem::take(&mut link.name);
            // `last` is dropped here with no parent left to recurse into.
        }
    }
}

impl Node {
    /// Whether the file system's dentries are cached: the ones whose names
    /// change (the others' never do).
    fn cached(&self) -> bool {
        matches!(self, Node::Host(_) | Node::Tmpfs(_) | Node::Ovl(_))
    }

    /// Whether a cached dentry's node is still what a fresh lookup found.
    fn same_as(&self, fresh: &Node) -> bool {
        match (self, fresh) {
            (Node::Host(a), Node::Host(b)) => a.same_as(b),
            (Node::Tmpfs(a), Node::Tmpfs(b)) => Arc::ptr_eq(a, b),
            (Node::Ovl(a), Node::Ovl(b)) => a.key() == b.key(),
            _ => false,
        }
    }

    /// Whether a cached dentry's node is the same file as what a fresh
    /// lookup found, if perhaps through another handle.
    fn same_file(&self, fresh: &Node) -> bool {
        match (self, fresh) {
            (Node::Host(a), Node::Host(b)) => a.key() == b.key(),
            _ => self.same_as(fresh),
        }
    }
}

impl Dentry {
    fn make(
        parent: Option<Arc<Dentry>>,
        name: Vec<u8>,
        node: Node,
        mount: MountId,
        unlinked: bool,
    ) -> Arc<Dentry> {
        Arc::new(Dentry {
            node,
            mount,
            link: Mutex::new(Link {
                parent,
                name,
                unlinked,
            }),
            names: RwLock::default(),
            children: Mutex::default(),
        })
    }

    /// The root of the view.
    pub(crate) fn root(node: Node, mount: MountId) -> Arc<Dentry> {
        Dentry::make(None, b"/".to_vec(), node, mount, false)
    }

    /// A dentry outside the tree, known by `name` (an open file with no
    /// place in the view, reached through a magic link).
    pub(crate) fn detached(name: Vec<u8>, node: Node, mount: MountId) -> Arc<Dentry> {
        Dentry::make(None, name, node, mount, false)
    }

    /// A file that never had a name in the view (a memfd), known by
    /// `name` and unlinked from the start.
    pub(crate) fn anonymous(name: Vec<u8>, node: Node, mount: MountId) -> Arc<Dentry> {
        Dentry::make(None, name, node, mount, true)
    }

    /// The child `name` of `parent`, not cached: a mount's root, a node of
    /// a file system whose names never change.
    pub(crate) fn child_of(
        parent: &Arc<Dentry>,
        name: &[u8],
        node: Node,
        mount: MountId,
    ) -> Arc<Dentry> {
        Dentry::make(Some(Arc::clone(parent)), name.to_vec(), node, mount, false)
    }

    /// An unnamed file made in `dir` (`O_TMPFILE`): unlinked from the
    /// start, known as `dir/name`.
    pub(crate) fn unnamed(dir: &Arc<Dentry>, name: &[u8], node: Node) -> Arc<Dentry> {
        Dentry::make(Some(Arc::clone(dir)), name.to_vec(), node, dir.mount, true)
    }

    /// `d_lookup` and `d_add`: the dentry of the child `name` of this
    /// directory, which the file system finds to be `find()`. The cached
    /// dentry is kept if it names that node; another one there is stale
    /// (changed on the host) and leaves the cache.
    pub(crate) fn child(
        self: &Arc<Dentry>,
        name: &[u8],
        mount: MountId,
        find: impl FnOnce() -> Result<Node, Errno>,
    ) -> Result<Arc<Dentry>, Errno> {
        let _names = self.names.read().unwrap_or_else(PoisonError::into_inner);
        // The overlay rootfs changes only through the sandbox, which
        // changes its dentries with it (under this lock): its cached names
        // are answers, as an overlayfs trusts its layers not to change
        // under it. Only the host is asked again, on a volume.
        if matches!(self.node, Node::Ovl(_))
            && let Some(cached) = lock(&self.children).get(name).and_then(Weak::upgrade)
        {
            return Ok(cached);
        }
        match find() {
            Ok(node) => Ok(self.hash(name, node, mount)),
            Err(e) => {
                if e == Errno::ENOENT {
                    self.forget_host_child(name);
                }
                Err(e)
            }
        }
    }

    /// `d_add` of a node this directory's file system just made as `name`
    /// (the caller holds the names lock).
    pub(crate) fn add(self: &Arc<Dentry>, name: &[u8], node: Node) -> Arc<Dentry> {
        self.hash(name, node, self.mount)
    }

    /// Caches `node` as the child `name`. A cached dentry that names the
    /// same node is kept; another one there is stale (changed on the
    /// host) and leaves the cache, unlinked if it was another file.
    fn hash(self: &Arc<Dentry>, name: &[u8], node: Node, mount: MountId) -> Arc<Dentry> {
        if !node.cached() {
            return Dentry::child_of(self, name, node, mount);
        }
        let mut children = lock(&self.children);
        let old = children.get(name).and_then(Weak::upgrade);
        if let Some(old) = &old {
            if old.node.same_as(&node) {
                return Arc::clone(old);
            }
            // The same file found again through a fresh handle was not
            // removed; another one was.
            lock(&old.link).unlinked = !old.node.same_file(&node);
        }
        let fresh = Dentry::make(Some(Arc::clone(self)), name.to_vec(), node, mount, false);
        children.insert(name.to_vec(), Arc::downgrade(&fresh));
        // `old` is dropped once the table is unlocked: a drop takes the lock.
        drop(children);
        drop(old);
        fresh
    }

    /// A host name found missing: changed on the host behind the sentry,
    /// so its cached dentry is unlinked. (The sentry's own file systems
    /// change only through [`d_delete`] and [`d_move`].)
    fn forget_host_child(&self, name: &[u8]) {
        let gone = {
            let mut children = lock(&self.children);
            match children.get(name).and_then(Weak::upgrade) {
                Some(d) if matches!(d.node, Node::Host(_)) => {
                    children.remove(name);
                    Some(d)
                }
                other => {
                    drop(children);
                    drop(other);
                    return;
                }
            }
        };
        if let Some(d) = &gone {
            lock(&d.link).unlinked = true;
        }
    }

    /// The directory it is in (`None` at the root of its tree).
    pub(crate) fn parent(&self) -> Option<Arc<Dentry>> {
        lock(&self.link).parent.clone()
    }

    /// The host node `h` (this dentry's) as its directory has it under its
    /// name now: a host file reopens by directory and name, which a rename
    /// by the sandbox changes for the dentry but not for the node found
    /// before. `h` itself if it was found there, or is not there any more.
    pub(crate) fn host_node_now(&self, h: &HostNode) -> HostNode {
        let (parent, name) = self.link_parts();
        if let Some(parent) = parent
            && let Node::Host(dir) = &parent.node
            && !h.found_as(dir, &name)
            && let Ok(now) = dir.lookup(&name)
            && now.key() == h.key()
        {
            return now;
        }
        h.clone()
    }

    /// Whether it was removed, or replaced by a rename (`d_unlinked`).
    pub fn unlinked(&self) -> bool {
        lock(&self.link).unlinked
    }

    /// Whether `ancestor` is this dentry or above it (`d_ancestor`). Not
    /// bounded: the answer must be exact for renames to keep the tree
    /// free of cycles, which it is.
    pub(crate) fn is_within(&self, ancestor: &Dentry) -> bool {
        if std::ptr::eq(self, ancestor) {
            return true;
        }
        let mut next = self.parent();
        while let Some(d) = next {
            if std::ptr::eq(Arc::as_ptr(&d), ancestor) {
                return true;
            }
            next = d.parent();
        }
        false
    }

    /// The names from the root of the tree (or of the dentry's mount, if
    /// `in_mount`) down to it; `Err` with its name for a dentry outside
    /// the tree.
    fn names(&self, in_mount: bool) -> Result<Vec<Vec<u8>>, Vec<u8>> {
        let (mut up, mut name) = self.link_parts();
        // Only the view's root has no parent and is called "/"; the others
        // (detached and anonymous dentries) are known by their name alone.
        if up.is_none() && name != b"/" {
            return Err(name);
        }
        let mut names = Vec::new();
        let mut mount = self.mount;
        for _ in 0..MAX_DEPTH {
            let Some(parent) = up else {
                break;
            };
            if in_mount && parent.mount != mount {
                // The last one reached is its mount's root.
                break;
            }
            names.push(name);
            (up, name) = parent.link_parts();
            mount = parent.mount;
        }
        names.reverse();
        Ok(names)
    }

    /// Its parent and name.
    fn link_parts(&self) -> (Option<Arc<Dentry>>, Vec<u8>) {
        let link = lock(&self.link);
        (link.parent.clone(), link.name.clone())
    }

    fn join(names: Result<Vec<Vec<u8>>, Vec<u8>>) -> Vec<u8> {
        match names {
            Ok(names) if names.is_empty() => b"/".to_vec(),
            Ok(names) => {
                let mut path = Vec::new();
                for n in names {
                    path.push(b'/');
                    path.extend_from_slice(&n);
                }
                path
            }
            Err(name) => name,
        }
    }

    /// Its absolute path in the view now (`d_path`, without the
    /// " (deleted)" mark).
    pub fn path(&self) -> Vec<u8> {
        Dentry::join(self.names(false))
    }

    /// Its path below its mount's root (what the overlay copies up along).
    pub(crate) fn mount_path(&self) -> Vec<u8> {
        Dentry::join(self.names(true))
    }

    /// What `/proc/[pid]/fd/N`, `cwd` and `maps` show: the path, marked
    /// " (deleted)" once it was removed.
    pub fn display_path(&self) -> Vec<u8> {
        let mut path = self.path();
        if self.unlinked() {
            path.extend_from_slice(b" (deleted)");
        }
        path
    }

    /// The status as of the lookup (cheap; the type never changes).
    pub(crate) fn cached_stat(&self) -> Stat {
        match &self.node {
            Node::Host(h) => h.stat,
            Node::Tmpfs(i) => i.stat(),
            Node::Ovl(o) => o.cached_stat(),
            Node::DevDir => devfs::dir_stat(),
            Node::Device(kind) => kind.stat(),
            Node::DevLink(name) => devfs::link_stat(name),
            Node::Pts(p) => p.stat(),
            Node::Proc(p) => p.stat(),
            Node::OpenFile(f) => f.stat().unwrap_or_default(),
        }
    }

    /// The current status.
    pub fn stat(&self) -> Result<Stat, Errno> {
        match &self.node {
            Node::Host(h) => h.fresh_stat(),
            Node::Ovl(o) => o.stat(),
            Node::OpenFile(f) => f.stat(),
            _ => Ok(self.cached_stat()),
        }
    }

    /// `statx`.
    pub(crate) fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        match &self.node {
            Node::Host(h) => h.statx(sync, mask),
            _ => Ok(statx_from_stat(&self.stat()?)),
        }
    }

    /// `statfs` of the file system the dentry is on.
    pub(crate) fn statfs(&self) -> Result<Statfs, Errno> {
        match &self.node {
            Node::Host(h) => h.statfs(),
            Node::Tmpfs(i) => Ok(i.fs().statfs()),
            Node::Ovl(o) => Ok(o.statfs()),
            Node::DevDir | Node::Device(_) | Node::DevLink(_) => Ok(devfs::statfs()),
            Node::Pts(_) => Ok(devpts::statfs()),
            Node::Proc(p) => Ok(p.statfs()),
            Node::OpenFile(f) => f.ops().statfs(),
        }
    }

    /// `S_IFMT` bits of the mode.
    pub fn file_type(&self) -> u32 {
        match &self.node {
            Node::Host(h) => h.stat.st_mode & S_IFMT,
            Node::Tmpfs(i) => i.file_type(),
            Node::Ovl(o) => o.file_type(),
            Node::Proc(p) => p.file_type(),
            _ => self.cached_stat().st_mode & S_IFMT,
        }
    }

    /// Whether the dentry is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type() == S_IFDIR
    }

    /// Whether the dentry is a symlink.
    pub fn is_symlink(&self) -> bool {
        self.file_type() == S_IFLNK
    }

    /// The symlink's target; `EINVAL` if it is not a symlink.
    pub fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.node {
            Node::Host(h) if self.is_symlink() => h.readlink(),
            Node::Tmpfs(i) => i.readlink(),
            Node::Ovl(o) => o.readlink(),
            Node::DevLink(name) => devfs::link_target(name)
                .map(<[u8]>::to_vec)
                .ok_or(Errno::EINVAL),
            Node::Proc(p) => p.readlink(),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Whether the file system the dentry is on refuses changes: the
    /// read-only rootfs, `:ro` volumes, devfs, procfs and sysfs do; tmpfs,
    /// the overlay, writable volumes and devpts' slave nodes do not.
    pub(crate) fn read_only(&self) -> bool {
        match &self.node {
            // devpts lets its slave nodes' attributes change.
            Node::Tmpfs(_) | Node::Ovl(_) | Node::Pts(PtsNode::Slave(_)) => false,
            Node::Host(h) => !h.writable(),
            _ => true,
        }
    }
}

/// The name an open file or a mapping goes by in `/proc/[pid]/maps`: its
/// dentry's path when asked, so it follows renames.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileName(Option<Arc<Dentry>>);

impl FileName {
    /// The name of what `dentry` names.
    pub(crate) fn of(dentry: &Arc<Dentry>) -> FileName {
        FileName(Some(Arc::clone(dentry)))
    }

    /// The name now (empty for a file with none).
    pub(crate) fn get(&self) -> String {
        self.0.as_ref().map_or_else(String::new, |d| {
            String::from_utf8_lossy(&d.display_path()).into_owned()
        })
    }
}

/// How many dentries [`RecentDentries`] keeps.
const RECENT_DENTRIES: usize = 256;

/// The overlay rootfs's dentries used last, kept alive so that their names
/// stay cached from one walk to the next (Linux keeps unused dentries until
/// memory runs short): a `stat` of a path under `/usr` then asks the host
/// nothing but the file's status, where each name of it cost an `openat`,
/// an `fstat` and a `close` (about 3 µs under PVM). Each holds an `O_PATH`
/// fd, so there are few: a ring, each use taking the next slot.
#[derive(Debug, Default)]
pub(crate) struct RecentDentries {
    ring: Mutex<(usize, Vec<Arc<Dentry>>)>,
}

impl RecentDentries {
    /// Keeps `dentry` (of the overlay rootfs) among the recent ones.
    pub(crate) fn keep(&self, dentry: &Arc<Dentry>) {
        if !matches!(dentry.node, Node::Ovl(_)) {
            return;
        }
        let evicted = {
            let mut ring = lock(&self.ring);
            let (next, slots) = &mut *ring;
            if slots.len() < RECENT_DENTRIES {
                slots.push(Arc::clone(dentry));
                None
            } else {
                let at = *next % RECENT_DENTRIES;
                *next = at + 1;
                Some(std::mem::replace(&mut slots[at], Arc::clone(dentry)))
            }
        };
        // Dropped unlocked: a dentry's drop takes its parent's table lock.
        drop(evicted);
    }

    /// Stops keeping `dentry`, which was removed.
    pub(crate) fn forget(&self, dentry: &Arc<Dentry>) {
        let mut forgotten = Vec::new();
        {
            let mut ring = lock(&self.ring);
            let (next, slots) = &mut *ring;
            let mut at = 0;
            while at < slots.len() {
                if Arc::ptr_eq(&slots[at], dentry) {
                    forgotten.push(slots.swap_remove(at));
                } else {
                    at += 1;
                }
            }
            if *next >= slots.len() {
                *next = 0;
            }
        }
        drop(forgotten);
    }
}

/// `d_delete`: `name` was removed from `dir`; its dentry, if cached, is
/// unlinked and leaves the cache. The caller holds `dir`'s names lock.
pub(crate) fn d_delete(dir: &Dentry, name: &[u8]) {
    let gone = lock(&dir.children).remove(name).and_then(|w| w.upgrade());
    if let Some(d) = &gone {
        lock(&d.link).unlinked = true;
    }
}

/// `d_move`: `old_dir/old_name` was renamed to `new_dir/new_name` (or the
/// two exchanged); the cached dentries follow, and one the rename replaced
/// is unlinked.
///
/// Precondition: the caller holds the view's rename lock (so no other
/// move runs, and ancestry was checked under it) and both directories'
/// names locks.
pub(crate) fn d_move(
    old_dir: &Arc<Dentry>,
    old_name: &[u8],
    new_dir: &Arc<Dentry>,
    new_name: &[u8],
    exchange: bool,
) {
    RENAME_SEQ.fetch_add(1, Ordering::SeqCst);
    let src = lock(&old_dir.children)
        .remove(old_name)
        .and_then(|w| w.upgrade());
    let dst = lock(&new_dir.children)
        .remove(new_name)
        .and_then(|w| w.upgrade());
    // The parents replaced are dropped last, with no lock held.
    let mut old_parents = Vec::new();
    if let Some(s) = &src {
        let mut link = lock(&s.link);
        old_parents.push(link.parent.replace(Arc::clone(new_dir)));
        link.name = new_name.to_vec();
        drop(link);
        lock(&new_dir.children).insert(new_name.to_vec(), Arc::downgrade(s));
    }
    if let Some(d) = &dst {
        let mut link = lock(&d.link);
        if exchange {
            old_parents.push(link.parent.replace(Arc::clone(old_dir)));
            link.name = old_name.to_vec();
            drop(link);
            lock(&old_dir.children).insert(old_name.to_vec(), Arc::downgrade(d));
        } else {
            link.unlinked = true;
        }
    }
    RENAME_SEQ.fetch_add(1, Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;

    use super::*;
    use crate::vfs::path::lookup_child;
    use crate::vfs::{Vfs, VfsOptions};

    fn overlay() -> Arc<Vfs> {
        let fd: OwnedFd = std::fs::File::open("/").unwrap().into();
        let options = VfsOptions {
            overlay: true,
            memory_limit: 8 << 20,
        };
        Vfs::with_options(fd, options).unwrap()
    }

    fn mkdir(dir: &Arc<Dentry>, name: &[u8]) -> Arc<Dentry> {
        let new = crate::vfs::NewNode {
            mode: S_IFDIR | 0o755,
            uid: 0,
            gid: 0,
            rdev: 0,
            target: None,
        };
        crate::vfs::create(dir, name, new).unwrap()
    }

    #[test]
    fn lookups_share_one_dentry_and_drops_leave_the_cache() {
        let vfs = overlay();
        let tmp = lookup_child(&vfs, vfs.root(), b"tmp").unwrap();
        let dir = mkdir(&tmp, b"carapace-dentry-cache");
        let a = mkdir(&dir, b"a");
        let again = lookup_child(&vfs, &dir, b"a").unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        assert_eq!(lock(&dir.children).len(), 1);
        // Looked up: among the recent dentries, it stays cached.
        drop((a, again));
        assert_eq!(lock(&dir.children).len(), 1);
        let fresh = lookup_child(&vfs, &dir, b"a").unwrap();
        assert_eq!(fresh.path(), b"/tmp/carapace-dentry-cache/a");
        assert_eq!(fresh.mount_path(), fresh.path());
        // Made and never looked up: its drop leaves the cache.
        drop(mkdir(&dir, b"b"));
        assert_eq!(lock(&dir.children).len(), 1);
        // Pushed out of the recent ones, too.
        for _ in 0..RECENT_DENTRIES {
            lookup_child(&vfs, vfs.root(), b"tmp").unwrap();
        }
        drop(fresh);
        assert!(lock(&dir.children).is_empty());
    }

    #[test]
    fn renames_move_dentries_and_removals_unlink_them() {
        let vfs = overlay();
        let tmp = lookup_child(&vfs, vfs.root(), b"tmp").unwrap();
        let dir = mkdir(&tmp, b"carapace-dentry-move");
        let a = mkdir(&dir, b"a");
        let b = mkdir(&a, b"b");
        crate::vfs::rename(&dir, b"a", &dir, b"c", false, false).unwrap();
        assert_eq!(b.path(), b"/tmp/carapace-dentry-move/c/b");
        assert!(Arc::ptr_eq(&lookup_child(&vfs, &dir, b"c").unwrap(), &a));
        assert_eq!(lookup_child(&vfs, &dir, b"a").err(), Some(Errno::ENOENT));
        // Replaced by a rename: unlinked.
        let d = mkdir(&dir, b"d");
        crate::vfs::rename(&a, b"b", &dir, b"d", false, false).unwrap();
        assert!(d.unlinked());
        assert_eq!(d.display_path(), b"/tmp/carapace-dentry-move/d (deleted)");
        assert_eq!(b.path(), b"/tmp/carapace-dentry-move/d");
        assert!(Arc::ptr_eq(&b.parent().unwrap(), &dir));
        crate::vfs::remove(&dir, b"d", true).unwrap();
        assert!(b.unlinked());
        assert_eq!(lookup_child(&vfs, &b, b"x").err(), Some(Errno::ENOENT));
        assert!(b.is_within(&tmp) && !tmp.is_within(&b));
    }

    #[test]
    fn mount_roots_hang_below_their_mount_points() {
        let vfs = overlay();
        let shm = crate::vfs::path::lookup_child(
            &vfs,
            &lookup_child(&vfs, vfs.root(), b"dev").unwrap(),
            b"shm",
        )
        .unwrap();
        assert_eq!(shm.path(), b"/dev/shm");
        assert_eq!(shm.mount_path(), b"/");
        let x = mkdir(&shm, b"carapace-dentry-x");
        assert_eq!(x.mount_path(), b"/carapace-dentry-x");
        assert_eq!(x.path(), b"/dev/shm/carapace-dentry-x");
    }
}
