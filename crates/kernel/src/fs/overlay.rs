//! The overlay rootfs (`fs/overlayfs`): the host rootfs is the read-only
//! lower layer, a tmpfs in sandbox memory the upper layer.
//!
//! A name resolves in the upper directory first. A whiteout there (a 0:0
//! character device) hides the lower name; an opaque upper directory hides
//! every lower name under it. A directory present in both layers is merged:
//! its listing is the upper entries (whiteouts removed) plus the lower ones
//! not shadowed or whited out.
//!
//! Changing anything that exists only in the lower layer first **copies it
//! up**: the directories along its path are created in the upper layer
//! (lazily, with their lower mode, owner and times), then the node itself
//! (data, mode, owner, times, symlink target). Removing a lower name leaves a
//! whiteout; a directory made where a whiteout was is opaque. Renaming a
//! directory that has lower contents works as overlayfs's `redirect_dir`
//! makes it: the directory alone is copied up and moved, it records a
//! **redirect** to the lower directory it stands for (whose entries then
//! show through it under its new name, and under any later one), and its
//! old name gets a whiteout. Nothing here writes to the host: the lower
//! layer is reached only through `HostNode` lookups, reads and listings.
//!
//! **Inode numbers**: a node from the lower layer reports the lower file's
//! `st_dev`/`st_ino`, before and after copy-up (the upper inode records it as
//! its origin), so `find`, `tar` and `cp -a` see stable identities. A node
//! made in the upper layer reports the lower root's `st_dev` and its tmpfs
//! inode number plus [`UPPER_INO_BASE`], above any inode number the common
//! host file systems hand out.
//!
//! Lower-only nodes are shared through a cache keyed by the lower (device,
//! inode) while anything holds them, so a description opened read-only
//! before another one copies the file up reads the new data.
//!
//! Locking: every change takes the upper tmpfs's tree lock first (copy-up
//! included), then an `OvlInode::upper` lock, then tmpfs inode locks.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use abi::Errno;
use abi::fcntl::DT_DIR;
use abi::stat::{S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, Stat, Statfs};

use super::hostfs::{HostFile, HostNode};
use super::tmpfs::{
    self, FsShared, Inode, SetAttr, SpaceLimit, TmpfsMapping, TreeGuard, XattrMode,
};
use crate::mm::{Mappable, MemoryManager, MmapBacking};
use crate::vfs::{DirEntry, File, FileName, FileOps, dir_seek, generic_seek};

/// Added to upper-only inode numbers so they do not meet lower ones.
pub const UPPER_INO_BASE: u64 = 1 << 40;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One overlay mount.
#[derive(Debug)]
pub struct Overlay {
    upper: Arc<FsShared>,
    upper_root: Arc<Inode>,
    lower_root: HostNode,
    lower_dev: u64,
    cache: Mutex<HashMap<(u64, u64), Weak<OvlInode>>>,
    /// Renamed directories' redirects: by upper inode number, the upper
    /// directory and the lower one whose entries show through it
    /// (overlayfs keeps this in the `trusted.overlay.redirect` xattr).
    redirects: Mutex<HashMap<u64, (Weak<Inode>, HostNode)>>,
}

/// A node of the overlay: its lower node, its upper inode, or both.
#[derive(Debug)]
pub struct OvlInode {
    ovl: Arc<Overlay>,
    lower: Option<HostNode>,
    upper: Mutex<Option<Arc<Inode>>>,
    /// `S_IFMT` bits (a node never changes type).
    kind: u32,
}

impl Overlay {
    /// An overlay of `lower` (the host rootfs) under a fresh tmpfs drawing
    /// on `space`; returns its root.
    pub fn mount(lower: HostNode, space: Arc<SpaceLimit>) -> Result<Arc<OvlInode>, Errno> {
        let st = lower.stat;
        let upper = FsShared::new(
            abi::stat::makedev(0, 0x20),
            abi::stat::OVERLAYFS_SUPER_MAGIC,
            0,
            space,
        );
        let upper_root = upper.new_inode(st.st_mode, st.st_uid, st.st_gid, 0, None)?;
        upper_root.copy_meta(&st);
        upper_root.set_origin(st.st_dev, st.st_ino);
        let ovl = Arc::new(Overlay {
            upper,
            upper_root: Arc::clone(&upper_root),
            lower_dev: st.st_dev,
            lower_root: lower.clone(),
            cache: Mutex::new(HashMap::new()),
            redirects: Mutex::new(HashMap::new()),
        });
        Ok(Arc::new(OvlInode {
            ovl,
            lower: Some(lower),
            upper: Mutex::new(Some(upper_root)),
            kind: S_IFDIR,
        }))
    }

    fn root(self: &Arc<Overlay>) -> Arc<OvlInode> {
        Arc::new(OvlInode {
            ovl: Arc::clone(self),
            lower: Some(self.lower_root.clone()),
            upper: Mutex::new(Some(Arc::clone(&self.upper_root))),
            kind: S_IFDIR,
        })
    }

    /// A new upper inode with an overlay inode number.
    fn new_upper(
        &self,
        mode: u32,
        uid: u32,
        gid: u32,
        rdev: u64,
        target: Option<&[u8]>,
    ) -> Result<Arc<Inode>, Errno> {
        let inode = self.upper.new_inode(mode, uid, gid, rdev, target)?;
        inode.set_origin(self.lower_dev, UPPER_INO_BASE + inode.ino());
        Ok(inode)
    }

    fn whiteout(&self) -> Result<Arc<Inode>, Errno> {
        self.upper.new_inode(S_IFCHR, 0, 0, 0, None)
    }

    /// The lower directory the renamed upper directory `upper` stands for.
    fn redirect(&self, upper: &Arc<Inode>) -> Option<HostNode> {
        let redirects = lock(&self.redirects);
        let (dir, lower) = redirects.get(&upper.ino())?;
        // The weak reference keeps the allocation, so an equal pointer is
        // this very inode, not a later one with its number.
        std::ptr::eq(dir.as_ptr(), Arc::as_ptr(upper)).then(|| lower.clone())
    }

    /// What a directory `moved` to a new name needs there: a redirect to
    /// the lower directory it had (`lower`), else, if the lower layer has
    /// the new name (`over_lower`), to be opaque. Not a directory: nothing.
    fn moved_dir(&self, moved: &Arc<Inode>, lower: Option<&HostNode>, over_lower: bool) {
        if !moved.is_dir() {
            return;
        }
        match lower {
            Some(lower) => self.set_redirect(moved, lower),
            None if over_lower => moved.set_opaque(),
            None => {}
        }
    }

    /// Records that the upper directory `upper` stands for `lower`.
    fn set_redirect(&self, upper: &Arc<Inode>, lower: &HostNode) {
        let mut redirects = lock(&self.redirects);
        if redirects.len() > 4096 {
            redirects.retain(|_, (dir, _)| dir.strong_count() > 0);
        }
        redirects.insert(upper.ino(), (Arc::downgrade(upper), lower.clone()));
    }
}

/// The path's components.
fn components(path: &[u8]) -> Vec<&[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect()
}

/// What a new node is.
#[derive(Clone, Copy, Debug)]
pub struct NewNode<'a> {
    /// Type and permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number (device nodes).
    pub rdev: u64,
    /// Symlink target.
    pub target: Option<&'a [u8]>,
}

impl OvlInode {
    fn wrap(ovl: &Arc<Overlay>, lower: Option<HostNode>, upper: Option<Arc<Inode>>) -> Arc<Self> {
        let kind = match (&upper, &lower) {
            (Some(u), _) => u.file_type(),
            (None, Some(l)) => l.stat.st_mode & S_IFMT,
            (None, None) => S_IFREG,
        };
        Arc::new(OvlInode {
            ovl: Arc::clone(ovl),
            lower,
            upper: Mutex::new(upper),
            kind,
        })
    }

    /// The identity the node reports, stable across copy-up: the upper
    /// inode's (which records its lower origin), else the lower node's.
    pub fn key(&self) -> (u64, u64) {
        match self.upper() {
            Some(u) => {
                let st = u.stat();
                (st.st_dev, st.st_ino)
            }
            None => self.lower.as_ref().map_or((0, 0), HostNode::key),
        }
    }

    /// The lower (host) node, if the node has one.
    pub fn lower(&self) -> Option<&HostNode> {
        self.lower.as_ref()
    }

    /// The upper inode, if the node has one.
    pub fn upper(&self) -> Option<Arc<Inode>> {
        lock(&self.upper).clone()
    }

    /// The upper file system (for statfs and the tree lock).
    pub fn upper_fs(&self) -> &Arc<FsShared> {
        &self.ovl.upper
    }

    /// `S_IFMT` bits.
    pub fn file_type(&self) -> u32 {
        self.kind
    }

    /// The status without asking the host: the upper inode's, else the
    /// lower node's as of its lookup (the sandbox never changes the lower
    /// layer). What a path walk checks the permissions of, one fstat per
    /// directory less.
    pub fn cached_stat(&self) -> Stat {
        match (self.upper(), &self.lower) {
            (Some(u), _) => u.stat(),
            (None, Some(l)) => l.stat,
            (None, None) => Stat::default(),
        }
    }

    /// The current status.
    pub fn stat(&self) -> Result<Stat, Errno> {
        if let Some(u) = self.upper() {
            let mut st = u.stat();
            if self.kind == S_IFDIR
                && let (Some(l), false) = (&self.lower, u.opaque())
            {
                st.st_nlink = self.merged_nlink(&u, l)?;
            }
            return Ok(st);
        }
        match &self.lower {
            Some(l) => l.fresh_stat(),
            None => Err(Errno::ENOENT),
        }
    }

    /// A merged directory's link count: the lower one's, plus upper-only
    /// subdirectories, less whited-out lower ones.
    fn merged_nlink(&self, upper: &Inode, lower: &HostNode) -> Result<u64, Errno> {
        let mut nlink = lower.fresh_stat()?.st_nlink;
        for (name, child) in upper.children() {
            let lower_dir = || {
                lower
                    .lookup(&name)
                    .is_ok_and(|l| l.stat.st_mode & S_IFMT == S_IFDIR)
            };
            if child.is_whiteout() {
                if lower_dir() {
                    nlink = nlink.saturating_sub(1);
                }
            } else if child.is_dir() && !lower_dir() {
                nlink += 1;
            }
        }
        Ok(nlink.max(2))
    }

    /// `statfs`: the upper layer's space.
    pub fn statfs(&self) -> Statfs {
        self.ovl.upper.statfs()
    }

    /// The symlink's target.
    pub fn readlink(&self) -> Result<Vec<u8>, Errno> {
        if self.kind != S_IFLNK {
            return Err(Errno::EINVAL);
        }
        if let Some(u) = self.upper() {
            return u.readlink();
        }
        self.lower.as_ref().ok_or(Errno::EINVAL)?.readlink()
    }

    /// Whether lower entries show through this directory.
    fn lower_visible(&self) -> bool {
        self.lower.is_some() && !self.upper().is_some_and(|u| u.opaque())
    }

    fn lower_child(&self, name: &[u8]) -> Result<HostNode, Errno> {
        match &self.lower {
            Some(l) if l.stat.st_mode & S_IFMT == S_IFDIR => l.lookup(name),
            _ => Err(Errno::ENOENT),
        }
    }

    /// Whether the lower layer has `name` in this directory, visible.
    fn lower_has(&self, name: &[u8]) -> bool {
        self.lower_visible() && self.lower_child(name).is_ok()
    }

    /// The child `name` of this directory.
    pub fn lookup(&self, name: &[u8]) -> Result<Arc<OvlInode>, Errno> {
        if self.kind != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let upper = self.upper();
        if let Some(u) = &upper {
            match u.lookup(name) {
                Ok(c) if c.is_whiteout() => return Err(Errno::ENOENT),
                Ok(c) => {
                    let lower = if c.is_dir() && !c.opaque() {
                        self.ovl.redirect(&c).or_else(|| {
                            self.lower_child(name)
                                .ok()
                                .filter(|l| l.stat.st_mode & S_IFMT == S_IFDIR)
                        })
                    } else {
                        None
                    };
                    return Ok(Self::wrap(&self.ovl, lower, Some(c)));
                }
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
            if u.opaque() {
                return Err(Errno::ENOENT);
            }
        }
        let lower = self.lower_child(name)?;
        let key = (lower.stat.st_dev, lower.stat.st_ino);
        let mut cache = lock(&self.ovl.cache);
        if let Some(node) = cache.get(&key).and_then(Weak::upgrade) {
            return Ok(node);
        }
        let node = Self::wrap(&self.ovl, Some(lower), None);
        if cache.len() > 4096 {
            cache.retain(|_, w| w.strong_count() > 0);
        }
        cache.insert(key, Arc::downgrade(&node));
        Ok(node)
    }

    /// The merged listing, with `mounts` (mount points in it) added.
    pub fn dirents(&self, mounts: &[(Vec<u8>, u64)]) -> Result<Vec<DirEntry>, Errno> {
        if self.kind != S_IFDIR {
            return Err(Errno::ENOTDIR);
        }
        let ino = self.stat()?.st_ino;
        let mut out = vec![DirEntry {
            ino,
            kind: DT_DIR,
            name: b".".to_vec(),
        }];
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut upper_entries = Vec::new();
        if let Some(u) = self.upper() {
            for (name, child) in u.children() {
                seen.insert(name.clone());
                if !child.is_whiteout() {
                    let st = child.stat();
                    upper_entries.push(DirEntry {
                        ino: st.st_ino,
                        kind: tmpfs::dtype(st.st_mode),
                        name,
                    });
                }
            }
        }
        let mut dotdot = DirEntry {
            ino,
            kind: DT_DIR,
            name: b"..".to_vec(),
        };
        let mut lower_entries = Vec::new();
        if self.lower_visible()
            && let Some(l) = &self.lower
        {
            let ops = l.open_dir(Vec::new())?;
            for e in ops.dirents()? {
                if e.name == b".." {
                    dotdot.ino = e.ino;
                } else if e.name != b"." && !seen.contains(&e.name) {
                    lower_entries.push(e);
                }
            }
        }
        out.push(dotdot);
        out.extend(upper_entries);
        out.extend(lower_entries);
        tmpfs::merge_mounts(&mut out, mounts);
        Ok(out)
    }

    /// Whether the merged directory has no entries.
    fn is_empty_dir(&self) -> Result<bool, Errno> {
        Ok(self.dirents(&[])?.len() <= 2)
    }

    /// Copies this node (found at `path`) and the directories above it up;
    /// returns its upper inode. `data`: copy a regular file's contents too
    /// (not needed when it is about to be truncated to 0).
    pub fn copy_up(
        &self,
        tree: &TreeGuard<'_>,
        path: &[u8],
        data: bool,
    ) -> Result<Arc<Inode>, Errno> {
        if let Some(u) = self.upper() {
            return Ok(u);
        }
        let comps = components(path);
        let Some((last, parents)) = comps.split_last() else {
            return Ok(Arc::clone(&self.ovl.upper_root));
        };
        let mut dir = self.ovl.root();
        let mut dir_upper = Arc::clone(&self.ovl.upper_root);
        for name in parents {
            let child = dir.lookup(name)?;
            if child.kind != S_IFDIR {
                return Err(Errno::ENOENT);
            }
            dir_upper = child.copy_up_one(tree, &dir_upper, name, false)?;
            dir = child;
        }
        // The node must still be at its path (not renamed away or replaced).
        let found = dir.lookup(last)?;
        if let (Some(up), Some(l)) = (found.upper(), &self.lower) {
            let st = up.stat();
            if (st.st_dev, st.st_ino) == (l.stat.st_dev, l.stat.st_ino) {
                *lock(&self.upper) = Some(Arc::clone(&up));
                return Ok(up);
            }
            return Err(Errno::ENOENT);
        }
        let same = match (&found.lower, &self.lower) {
            (Some(a), Some(b)) => (a.stat.st_dev, a.stat.st_ino) == (b.stat.st_dev, b.stat.st_ino),
            _ => false,
        };
        if !same {
            return Err(Errno::ENOENT);
        }
        self.copy_up_one(tree, &dir_upper, last, data)
    }

    fn copy_up_one(
        &self,
        tree: &TreeGuard<'_>,
        parent_upper: &Arc<Inode>,
        name: &[u8],
        data: bool,
    ) -> Result<Arc<Inode>, Errno> {
        let mut slot = lock(&self.upper);
        if let Some(u) = slot.as_ref() {
            return Ok(Arc::clone(u));
        }
        let lower = self.lower.as_ref().ok_or(Errno::ENOENT)?;
        let st = lower.fresh_stat()?;
        let target = if st.st_mode & S_IFMT == S_IFLNK {
            Some(lower.readlink()?)
        } else {
            None
        };
        let inode = self.ovl.upper.new_inode(
            st.st_mode,
            st.st_uid,
            st.st_gid,
            st.st_rdev,
            target.as_deref(),
        )?;
        if st.st_mode & S_IFMT == S_IFREG && data {
            copy_data(lower, &inode)?;
        }
        inode.copy_meta(&st);
        // The attributes come up with the file, as overlayfs copies them.
        for (name, value) in lower.user_xattrs().unwrap_or_default() {
            inode.setxattr(&name, &value, XattrMode::Any)?;
        }
        inode.set_origin(st.st_dev, st.st_ino);
        parent_upper.add_new(tree, name, &inode)?;
        *slot = Some(Arc::clone(&inode));
        Ok(inode)
    }
}

/// Copies a lower file's bytes into `inode`, leaving all-zero blocks as
/// holes.
fn copy_data(lower: &HostNode, inode: &Arc<Inode>) -> Result<(), Errno> {
    let file = lower.open_regular(FileName::default())?;
    let size = file.size()?;
    let mut buf = vec![0u8; 1 << 16];
    let mut off = 0u64;
    while off < size {
        let n = super::host::pread(file.fd(), &mut buf, off)?;
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n {
            let end = (at + 4096).min(n);
            let chunk = &buf[at..end];
            if chunk.iter().any(|&b| b != 0) {
                inode.write(chunk, Some(off + at as u64), true)?;
            }
            at = end;
        }
        off += n as u64;
    }
    inode.setattr(&SetAttr {
        size: Some(off),
        ..SetAttr::default()
    })
}

/// Checks that `node` is still what `lookup` finds at `name` in `dir`, and
/// returns the fresh node.
fn relookup(dir: &OvlInode, name: &[u8]) -> Result<Arc<OvlInode>, Errno> {
    dir.lookup(name)
}

/// Creates `name` in the directory `dir` (at `dir_path`): `EEXIST` if the
/// name is visible.
pub fn create(
    dir: &Arc<OvlInode>,
    dir_path: &[u8],
    name: &[u8],
    new: NewNode<'_>,
) -> Result<Arc<OvlInode>, Errno> {
    let tree = dir.ovl.upper.lock_tree();
    match relookup(dir, name) {
        Ok(_) => return Err(Errno::EEXIST),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let parent = dir.copy_up(&tree, dir_path, false)?;
    let inode = dir
        .ovl
        .new_upper(new.mode, new.uid, new.gid, new.rdev, new.target)?;
    let over_whiteout = parent.lookup(name).is_ok();
    if new.mode & S_IFMT == S_IFDIR && (over_whiteout || dir.lower_has(name)) {
        inode.set_opaque();
    }
    parent.replace(&tree, name, &inode)?;
    Ok(OvlInode::wrap(&dir.ovl, None, Some(inode)))
}

/// An unnamed file in `dir` (`O_TMPFILE`).
pub fn tmpfile(
    dir: &Arc<OvlInode>,
    dir_path: &[u8],
    new: NewNode<'_>,
) -> Result<Arc<OvlInode>, Errno> {
    let tree = dir.ovl.upper.lock_tree();
    dir.copy_up(&tree, dir_path, false)?;
    let inode = dir.ovl.new_upper(new.mode, new.uid, new.gid, 0, None)?;
    inode.make_tmpfile();
    Ok(OvlInode::wrap(&dir.ovl, None, Some(inode)))
}

/// Links `node` (at `path`) as `name` in `dir`.
pub fn link(
    node: &Arc<OvlInode>,
    path: &[u8],
    dir: &Arc<OvlInode>,
    dir_path: &[u8],
    name: &[u8],
) -> Result<(), Errno> {
    let tree = dir.ovl.upper.lock_tree();
    match relookup(dir, name) {
        Ok(_) => return Err(Errno::EEXIST),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let up = node.copy_up(&tree, path, true)?;
    if up.nlink() == 0 && !up.linkable() {
        return Err(Errno::ENOENT);
    }
    let parent = dir.copy_up(&tree, dir_path, false)?;
    if parent.lookup(name).is_ok() {
        parent.unlink(&tree, name, true)?;
    }
    parent.link(&tree, name, &up)
}

/// Removes `name` from `dir` (a directory if `is_dir`).
pub fn remove(
    dir: &Arc<OvlInode>,
    dir_path: &[u8],
    name: &[u8],
    is_dir: bool,
) -> Result<(), Errno> {
    let tree = dir.ovl.upper.lock_tree();
    let child = relookup(dir, name)?;
    match (is_dir, child.kind == S_IFDIR) {
        (true, false) => return Err(Errno::ENOTDIR),
        (false, true) => return Err(Errno::EISDIR),
        (true, true) if !child.is_empty_dir()? => return Err(Errno::ENOTEMPTY),
        _ => {}
    }
    let lower_has = dir.lower_has(name);
    let parent = dir.copy_up(&tree, dir_path, false)?;
    if parent.lookup(name).is_ok() {
        parent.unlink(&tree, name, true)?;
    }
    if lower_has {
        let wh = dir.ovl.whiteout()?;
        parent.add_new(&tree, name, &wh)?;
    }
    Ok(())
}

/// The checks `vfs_rename` makes once both names are looked up.
pub fn check_rename(
    src: &Stat,
    dst: Option<(&Stat, bool)>,
    exchange: bool,
    noreplace: bool,
) -> Result<(), Errno> {
    let Some((dst, dst_empty)) = dst else {
        return if exchange { Err(Errno::ENOENT) } else { Ok(()) };
    };
    if noreplace {
        return Err(Errno::EEXIST);
    }
    if exchange {
        return Ok(());
    }
    let src_dir = src.st_mode & S_IFMT == S_IFDIR;
    let dst_dir = dst.st_mode & S_IFMT == S_IFDIR;
    match (src_dir, dst_dir) {
        (true, false) => Err(Errno::ENOTDIR),
        (false, true) => Err(Errno::EISDIR),
        (true, true) if !dst_empty => Err(Errno::ENOTEMPTY),
        _ => Ok(()),
    }
}

/// Renames (or exchanges) `old_dir/old_name` to `new_dir/new_name`.
#[allow(clippy::too_many_arguments)]
pub fn rename(
    old_dir: &Arc<OvlInode>,
    old_dir_path: &[u8],
    old_name: &[u8],
    new_dir: &Arc<OvlInode>,
    new_dir_path: &[u8],
    new_name: &[u8],
    exchange: bool,
    noreplace: bool,
) -> Result<(), Errno> {
    let tree = old_dir.ovl.upper.lock_tree();
    let src = relookup(old_dir, old_name)?;
    let dst = match relookup(new_dir, new_name) {
        Ok(d) => Some(d),
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(e),
    };
    let src_st = src.stat()?;
    let dst_info = match &dst {
        Some(d) => Some((d.stat()?, d.kind == S_IFDIR && d.is_empty_dir()?)),
        None => None,
    };
    check_rename(
        &src_st,
        dst_info.as_ref().map(|(s, e)| (s, *e)),
        exchange,
        noreplace,
    )?;
    if let Some((dst_st, _)) = &dst_info
        && (dst_st.st_dev, dst_st.st_ino) == (src_st.st_dev, src_st.st_ino)
    {
        // Two names of one file: nothing to do.
        return Ok(());
    }
    let old_path = child_path(old_dir_path, old_name);
    let new_path = child_path(new_dir_path, new_name);
    let src_up = src.copy_up(&tree, &old_path, true)?;
    let dst_up = match (&dst, exchange) {
        (Some(d), true) => Some(d.copy_up(&tree, &new_path, true)?),
        _ => None,
    };
    let src_lower_has = old_dir.lower_has(old_name);
    let dst_lower_has = new_dir.lower_has(new_name);
    let old_parent = old_dir.copy_up(&tree, old_dir_path, false)?;
    let new_parent = new_dir.copy_up(&tree, new_dir_path, false)?;
    if let Some(dst_up) = dst_up {
        let a = old_parent.detach(&tree, old_name)?;
        let b = new_parent.detach(&tree, new_name)?;
        old_parent.attach(&tree, old_name, &b)?;
        new_parent.attach(&tree, new_name, &a)?;
        let dst_lower = dst.as_ref().and_then(|d| d.lower.as_ref());
        old_dir.ovl.moved_dir(&a, src.lower.as_ref(), dst_lower_has);
        old_dir.ovl.moved_dir(&dst_up, dst_lower, src_lower_has);
        return Ok(());
    }
    if new_parent.lookup(new_name).is_ok() {
        new_parent.unlink(&tree, new_name, true)?;
    }
    let moved = old_parent.detach(&tree, old_name)?;
    new_parent.attach(&tree, new_name, &moved)?;
    if src_lower_has {
        let wh = old_dir.ovl.whiteout()?;
        old_parent.add_new(&tree, old_name, &wh)?;
    }
    old_dir
        .ovl
        .moved_dir(&moved, src.lower.as_ref(), dst_lower_has);
    let _ = src_up;
    Ok(())
}

fn child_path(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if p != b"/" {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// Copies `node` (at `path`) up and applies `attr`.
pub fn setattr(node: &Arc<OvlInode>, path: &[u8], attr: &SetAttr) -> Result<(), Errno> {
    let up = {
        let tree = node.ovl.upper.lock_tree();
        node.copy_up(&tree, path, attr.size != Some(0))?
    };
    up.setattr(attr)
}

/// Copies `node` (at `path`) up (for writing), with its data unless `truncating`.
pub fn copy_up_for_write(
    node: &Arc<OvlInode>,
    path: &[u8],
    truncating: bool,
) -> Result<Arc<Inode>, Errno> {
    let tree = node.ovl.upper.lock_tree();
    node.copy_up(&tree, path, !truncating)
}

/// The `FileOps` of an overlay regular file opened read-only: reads come
/// from the upper inode once there is one, else from the lower file.
#[derive(Debug)]
pub struct OvlFileOps {
    node: Arc<OvlInode>,
    name: FileName,
    lower: OnceLock<Arc<HostFile>>,
}

impl OvlFileOps {
    /// Opens `node` (called `name`) for reading.
    pub(crate) fn open(node: Arc<OvlInode>, name: FileName) -> Result<OvlFileOps, Errno> {
        let ops = OvlFileOps {
            node,
            name,
            lower: OnceLock::new(),
        };
        if ops.node.upper().is_none() {
            ops.lower_file()?;
        }
        Ok(ops)
    }

    fn lower_file(&self) -> Result<&Arc<HostFile>, Errno> {
        if let Some(f) = self.lower.get() {
            return Ok(f);
        }
        let lower = self.node.lower.as_ref().ok_or(Errno::ENOENT)?;
        let f = lower.open_regular(self.name.clone())?;
        Ok(self.lower.get_or_init(|| f))
    }

    fn size(&self) -> Result<u64, Errno> {
        match self.node.upper() {
            Some(u) => Ok(u.size()),
            None => self.lower_file()?.size(),
        }
    }
}

impl FileOps for OvlFileOps {
    fn read(&self, file: &File, buf: &mut [u8], pos: u64) -> Result<usize, Errno> {
        match self.node.upper() {
            Some(u) => u.read(buf, pos),
            None => super::hostfs::HostFileOps(Arc::clone(self.lower_file()?)).read(file, buf, pos),
        }
    }

    fn seek(&self, file: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        match (self.node.upper(), whence) {
            (Some(u), abi::fcntl::SEEK_DATA) => u.seek_data(offset, true),
            (Some(u), abi::fcntl::SEEK_HOLE) => u.seek_data(offset, false),
            (None, abi::fcntl::SEEK_DATA | abi::fcntl::SEEK_HOLE) => {
                super::hostfs::HostFileOps(Arc::clone(self.lower_file()?))
                    .seek(file, pos, offset, whence)
            }
            _ => generic_seek(pos, self.size()?, offset, whence),
        }
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.node.stat()
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.node.statfs())
    }

    fn ioctl(&self, file: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        if cmd == abi::termios::FIONREAD {
            let left = self.size()?.saturating_sub(file.pos());
            mm.write_obj(arg, &i32::try_from(left).unwrap_or(i32::MAX))?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn mmap_backing(&self) -> Result<MmapBacking, Errno> {
        let m: Arc<dyn Mappable> = match self.node.upper() {
            Some(u) => TmpfsMapping::new(u, self.name.clone()),
            None => Arc::clone(self.lower_file()?) as Arc<dyn Mappable>,
        };
        Ok(MmapBacking::File(m))
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// The `FileOps` of an open overlay directory.
#[derive(Debug)]
pub struct OvlDirOps {
    node: Arc<OvlInode>,
    mounts: Vec<(Vec<u8>, u64)>,
}

impl OvlDirOps {
    /// Opens the directory `node`; `mounts` are the mount points in it.
    pub fn new(node: Arc<OvlInode>, mounts: Vec<(Vec<u8>, u64)>) -> OvlDirOps {
        OvlDirOps { node, mounts }
    }
}

impl FileOps for OvlDirOps {
    fn read(&self, _: &File, _: &mut [u8], _: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, _: &File, pos: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        dir_seek(pos, offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.node.stat()
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        Ok(self.node.statfs())
    }

    fn dirents(&self) -> Result<Vec<DirEntry>, Errno> {
        self.node.dirents(&self.mounts)
    }

    fn fsync(&self, _: bool) -> Result<(), Errno> {
        Ok(())
    }
}
