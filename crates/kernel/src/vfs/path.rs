//! The path walk (`fs/namei.c`'s `link_path_walk`, `path_lookupat` and
//! `path_parentat`), done by the sentry over the nodes it holds.
//!
//! Each component is looked up in the directory reached so far: the
//! directory must be searchable by the caller, the name at most `NAME_MAX`
//! bytes, and a mount point yields the mounted file system's root. A symlink
//! met before the last component (or as the last, when following) is read
//! and its target spliced in front of the rest of the path: absolute targets
//! restart at the walk's root, relative ones at the link's directory. At most
//! `MAXSYMLINKS` are followed per walk. `..` goes to the directory's parent
//! dentry (`follow_dotdot`: a mount's root goes up to the directory its
//! mount point is in) and stays put at the walk's root and at the view's,
//! so no path, link or `..` chain leaves the view.
//!
//! `openat2(2)`'s `RESOLVE_*` flags narrow the walk: `IN_ROOT` makes the
//! starting directory the root; `BENEATH` refuses (`EXDEV`) absolute paths,
//! absolute links and `..` above the start; `NO_SYMLINKS` refuses every link
//! (`ELOOP`); `NO_XDEV` refuses crossing a mount (`EXDEV`). A confined walk
//! (`IN_ROOT`, `BENEATH`) that takes a `..` while a rename happened since it
//! began fails with `EAGAIN`, as the rename may have moved it above its
//! root, and what it resolves must lie under its root (`EXDEV`), as Linux's
//! `handle_dots` and `complete_walk` check.
//!
//! procfs's magic links (`/proc/[pid]/{exe,cwd,root,fd/N}`) are not read
//! and spliced: the walk jumps to what they name, as Linux's
//! `nd_jump_link` does. `RESOLVE_NO_MAGICLINKS` refuses them (`ELOOP`), and
//! a confined walk (`IN_ROOT`, `BENEATH`) refuses them with `EXDEV`.

use std::sync::Arc;

use abi::Errno;
use abi::fcntl::{
    MAXSYMLINKS, NAME_MAX, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
    RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
};

use std::sync::atomic::Ordering;

use super::dentry::{Dentry, Node, RENAME_SEQ};
use super::mount::Vfs;
use super::perm::{Access, MAY_EXEC};
use crate::fs::devfs;
use crate::fs::devpts::PtsNode;
use crate::fs::procfs::MagicTarget;

/// The last component of a path walked to its parent (`LAST_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Last {
    /// A name.
    Norm(Vec<u8>),
    /// `.`.
    Dot,
    /// `..`.
    DotDot,
    /// The path was `/` (or only slashes).
    Root,
}

/// A path walked to the directory holding its last component.
#[derive(Debug)]
pub struct Parent {
    /// The directory.
    pub dir: Arc<Dentry>,
    /// The last component, not looked up.
    pub last: Last,
    /// Whether the path ended in a slash.
    pub trailing_slash: bool,
}

/// How a walk ended.
enum End {
    Resolved(Arc<Dentry>),
    Parent(Parent),
}

/// One path walk.
pub(crate) struct Lookup<'a> {
    /// The view, for mount points.
    vfs: &'a Vfs,
    /// Where absolute paths start and `..` stops.
    root: Arc<Dentry>,
    access: &'a Access<'a>,
    resolve: u64,
    links: u32,
    /// [`RENAME_SEQ`] when the walk began.
    rename_seq: u64,
}

impl<'a> Lookup<'a> {
    /// A walk within `root` (the task's root, or the start for
    /// `RESOLVE_IN_ROOT`/`RESOLVE_BENEATH`).
    pub(crate) fn new(
        vfs: &'a Vfs,
        root: Arc<Dentry>,
        access: &'a Access<'a>,
        resolve: u64,
    ) -> Lookup<'a> {
        Lookup {
            vfs,
            root,
            access,
            resolve,
            links: 0,
            rename_seq: RENAME_SEQ.load(Ordering::SeqCst),
        }
    }

    /// Resolves `path` (non-empty) from `start`, following a final symlink
    /// if `follow`.
    pub(crate) fn walk(
        &mut self,
        start: &Arc<Dentry>,
        path: &[u8],
        follow: bool,
    ) -> Result<Arc<Dentry>, Errno> {
        match self.walk_inner(start, path, follow, false)? {
            End::Resolved(d) => self.complete(d),
            End::Parent(_) => Err(Errno::ENOENT),
        }
    }

    /// Walks `path` (non-empty) from `start` to the directory holding its
    /// last component, which is not looked up.
    pub(crate) fn walk_parent(
        &mut self,
        start: &Arc<Dentry>,
        path: &[u8],
    ) -> Result<Parent, Errno> {
        match self.walk_inner(start, path, false, true)? {
            End::Parent(p) => {
                self.complete(Arc::clone(&p.dir))?;
                Ok(p)
            }
            End::Resolved(_) => Err(Errno::ENOENT),
        }
    }

    /// `complete_walk`'s last check of a confined walk: what it reached is
    /// under its root.
    fn complete(&self, d: Arc<Dentry>) -> Result<Arc<Dentry>, Errno> {
        if Lookup::confined(self.resolve) && !d.is_within(&self.root) {
            return Err(Errno::EXDEV);
        }
        Ok(d)
    }

    /// Counts one symlink followed: `ELOOP` past `MAXSYMLINKS` or under
    /// `RESOLVE_NO_SYMLINKS`.
    pub(crate) fn count_link(&mut self) -> Result<(), Errno> {
        self.links += 1;
        if self.links > MAXSYMLINKS || self.resolve & RESOLVE_NO_SYMLINKS != 0 {
            return Err(Errno::ELOOP);
        }
        Ok(())
    }

    fn beneath(&self) -> bool {
        self.resolve & RESOLVE_BENEATH != 0
    }

    fn walk_inner(
        &mut self,
        start: &Arc<Dentry>,
        path: &[u8],
        follow: bool,
        stop_at_last: bool,
    ) -> Result<End, Errno> {
        let mut rest: Vec<u8> = path.to_vec();
        let mut cur = if rest.first() == Some(&b'/') {
            if self.beneath() {
                return Err(Errno::EXDEV);
            }
            Arc::clone(&self.root)
        } else {
            Arc::clone(start)
        };
        let mut i = 0;
        loop {
            while rest.get(i) == Some(&b'/') {
                i += 1;
            }
            if i >= rest.len() {
                // Only slashes were left: the path named `cur` itself.
                return Ok(if stop_at_last {
                    End::Parent(Parent {
                        dir: cur,
                        last: Last::Root,
                        trailing_slash: false,
                    })
                } else {
                    End::Resolved(cur)
                });
            }
            let end = rest[i..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(rest.len(), |p| i + p);
            let mut next_i = end;
            while rest.get(next_i) == Some(&b'/') {
                next_i += 1;
            }
            let is_last = next_i >= rest.len();
            let trailing_slash = is_last && end < rest.len();
            let name = rest[i..end].to_vec();

            if !cur.is_dir() {
                return Err(Errno::ENOTDIR);
            }
            self.access.check(&cur.cached_stat(), MAY_EXEC)?;

            if stop_at_last && is_last {
                let last = match name.as_slice() {
                    b"." => Last::Dot,
                    b".." => Last::DotDot,
                    _ => Last::Norm(name),
                };
                return Ok(End::Parent(Parent {
                    dir: cur,
                    last,
                    trailing_slash,
                }));
            }

            let next = match name.as_slice() {
                b"." => Arc::clone(&cur),
                b".." => self.dotdot(&cur)?,
                _ => self.child(&cur, &name)?,
            };

            if next.is_symlink() && (!is_last || follow || trailing_slash) {
                if let Some(target) = self.magic_jump(&next) {
                    let target = target?;
                    if is_last {
                        if trailing_slash && !target.is_dir() {
                            return Err(Errno::ENOTDIR);
                        }
                        return Ok(End::Resolved(target));
                    }
                    cur = target;
                    i = next_i;
                    continue;
                }
                self.count_link()?;
                let target = next.readlink()?;
                if target.is_empty() {
                    return Err(Errno::ENOENT);
                }
                let mut spliced = target;
                if !is_last || trailing_slash {
                    spliced.push(b'/');
                    spliced.extend_from_slice(&rest[next_i..]);
                }
                if spliced.first() == Some(&b'/') {
                    if self.beneath() {
                        return Err(Errno::EXDEV);
                    }
                    cur = Arc::clone(&self.root);
                }
                rest = spliced;
                i = 0;
                continue;
            }

            if is_last {
                if trailing_slash && !next.is_dir() {
                    return Err(Errno::ENOTDIR);
                }
                return Ok(End::Resolved(next));
            }
            cur = next;
            i = next_i;
        }
    }

    /// If `link` is a magic link, where the walk jumps (counted as a link
    /// followed); `None` for an ordinary symlink.
    pub(crate) fn magic_jump(&mut self, link: &Dentry) -> Option<Result<Arc<Dentry>, Errno>> {
        let Node::Proc(p) = &link.node else {
            return None;
        };
        let target = p.magic()?;
        Some((|| {
            if self.resolve & RESOLVE_NO_MAGICLINKS != 0 {
                return Err(Errno::ELOOP);
            }
            if Lookup::confined(self.resolve) {
                return Err(Errno::EXDEV);
            }
            self.count_link()?;
            Ok(match target? {
                MagicTarget::Dentry(d) => d,
                MagicTarget::File(file, name) => {
                    Dentry::detached(name, Node::OpenFile(file), link.mount)
                }
            })
        })())
    }

    /// `..` from `cur` (`follow_dotdot`): its parent, or `cur` itself at
    /// the walk's root and at the view's.
    fn dotdot(&self, cur: &Arc<Dentry>) -> Result<Arc<Dentry>, Errno> {
        if Arc::ptr_eq(cur, &self.root) {
            if self.beneath() {
                return Err(Errno::EXDEV);
            }
            return Ok(Arc::clone(cur));
        }
        let Some(parent) = cur.parent() else {
            return Ok(Arc::clone(cur));
        };
        if self.resolve & RESOLVE_NO_XDEV != 0 && parent.mount != cur.mount {
            return Err(Errno::EXDEV);
        }
        if Lookup::confined(self.resolve) && RENAME_SEQ.load(Ordering::SeqCst) != self.rename_seq {
            return Err(Errno::EAGAIN);
        }
        Ok(parent)
    }

    /// The child `name` of the directory `dir`.
    pub(crate) fn child(&self, dir: &Arc<Dentry>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        let child = lookup_child(self.vfs, dir, name)?;
        if self.resolve & RESOLVE_NO_XDEV != 0 && child.mount != dir.mount {
            return Err(Errno::EXDEV);
        }
        Ok(child)
    }

    /// Whether the walk is confined under a start directory
    /// (`RESOLVE_IN_ROOT`/`RESOLVE_BENEATH`).
    pub(crate) fn confined(resolve: u64) -> bool {
        resolve & (RESOLVE_IN_ROOT | RESOLVE_BENEATH) != 0
    }
}

/// Looks up the child `name` (not `.` or `..`) of the directory `dir`: a
/// mount point's root, or what `dir`'s file system has there. A removed
/// directory has no children (`IS_DEADDIR`).
pub(crate) fn lookup_child(
    vfs: &Vfs,
    dir: &Arc<Dentry>,
    name: &[u8],
) -> Result<Arc<Dentry>, Errno> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if let Some(root) = vfs.mount_root(dir, name) {
        return Ok(root);
    }
    if dir.is_dir() && dir.unlinked() {
        return Err(Errno::ENOENT);
    }
    let child = dir.child(name, dir.mount, || {
        Ok(match &dir.node {
            Node::Host(h) => Node::Host(h.lookup(name)?),
            Node::Tmpfs(i) => Node::Tmpfs(i.lookup(name)?),
            Node::Ovl(o) => Node::Ovl(o.lookup(name)?),
            Node::DevDir => match devfs::link_target(name) {
                Some(_) => Node::DevLink(name.to_vec()),
                None => Node::Device(devfs::lookup(name)?),
            },
            Node::Pts(PtsNode::Root) => Node::Pts(vfs.devpts().lookup(name)?),
            Node::Proc(p) => Node::Proc(p.lookup(name)?),
            Node::Device(_) | Node::DevLink(_) | Node::Pts(_) | Node::OpenFile(_) => {
                return Err(Errno::ENOTDIR);
            }
        })
    })?;
    vfs.recent.keep(&child);
    Ok(child)
}

#[cfg(test)]
mod tests {
    use std::os::fd::OwnedFd;
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::vfs::Vfs;

    struct Tree {
        dir: TempDir,
        vfs: Arc<crate::vfs::Vfs>,
    }

    /// A directory removed on drop.
    struct TempDir(std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// a/b/file, links: loop1 <-> loop2, self -> self, up -> ../../../..,
    /// abs -> /a/b, escape -> /../../etc, procself -> /proc/self, dangling -> nope.
    fn tree() -> Tree {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "carapace-vfs-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/file"), b"data").unwrap();
        symlink("loop2", dir.join("loop1")).unwrap();
        symlink("loop1", dir.join("loop2")).unwrap();
        symlink("self", dir.join("self")).unwrap();
        symlink("../../../..", dir.join("a/b/up")).unwrap();
        symlink("/a/b", dir.join("abs")).unwrap();
        symlink("/../../etc", dir.join("escape")).unwrap();
        symlink("/proc/self", dir.join("procself")).unwrap();
        symlink("nope", dir.join("dangling")).unwrap();
        symlink("b/file", dir.join("a/filelink")).unwrap();
        let fd: OwnedFd = std::fs::File::open(&dir).unwrap().into();
        // The same directory, writable, at /vol.
        let volume = crate::vfs::Volume {
            fd: std::fs::File::open(&dir).unwrap().into(),
            guest: b"/vol".to_vec(),
            read_only: false,
        };
        let options = crate::vfs::VfsOptions {
            overlay: false,
            ..Default::default()
        };
        let file = platform::MemoryFile::new(options.memory_limit).unwrap();
        let pages = crate::mm::MemoryAllocator::new(Arc::new(file));
        let vfs = Vfs::with_volumes(fd, options, vec![volume], pages).unwrap();
        Tree {
            dir: TempDir(dir),
            vfs,
        }
    }

    fn walk(t: &Tree, path: &str, follow: bool) -> Result<Vec<u8>, Errno> {
        let access = Access::kernel();
        let root = Arc::clone(t.vfs.root());
        let mut l = Lookup::new(&t.vfs, Arc::clone(&root), &access, 0);
        l.walk(&root, path.as_bytes(), follow).map(|d| d.path())
    }

    #[test]
    fn plain_and_dot_paths() {
        let t = tree();
        assert_eq!(walk(&t, "/a/b/file", true), Ok(b"/a/b/file".to_vec()));
        assert_eq!(walk(&t, "a/./b//file", true), Ok(b"/a/b/file".to_vec()));
        assert_eq!(walk(&t, "/", true), Ok(b"/".to_vec()));
        assert_eq!(walk(&t, "/a/b/..", true), Ok(b"/a".to_vec()));
        assert_eq!(walk(&t, "/a/b/file/", true), Err(Errno::ENOTDIR));
        assert_eq!(walk(&t, "/a/b/file/x", true), Err(Errno::ENOTDIR));
        assert_eq!(walk(&t, "/a/missing/x", true), Err(Errno::ENOENT));
        let long = format!("/a/{}", "x".repeat(256));
        assert_eq!(walk(&t, &long, true), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn dotdot_never_leaves_the_root() {
        let t = tree();
        assert_eq!(walk(&t, "/../../..", true), Ok(b"/".to_vec()));
        assert_eq!(walk(&t, "../../a/../../a/b", true), Ok(b"/a/b".to_vec()));
        assert_eq!(walk(&t, "/a/b/up", true), Ok(b"/".to_vec()));
        assert_eq!(
            walk(&t, "/a/b/up/a/b/file", true),
            Ok(b"/a/b/file".to_vec())
        );
    }

    #[test]
    fn symlinks_stay_in_the_view() {
        let t = tree();
        assert_eq!(walk(&t, "/abs/file", true), Ok(b"/a/b/file".to_vec()));
        assert_eq!(walk(&t, "/abs", false), Ok(b"/abs".to_vec()));
        assert_eq!(walk(&t, "/abs/", false), Ok(b"/a/b".to_vec()));
        assert_eq!(walk(&t, "/a/filelink", true), Ok(b"/a/b/file".to_vec()));
        // The temp dir has no etc: an escape finds nothing rather than the host's.
        assert_eq!(walk(&t, "/escape/passwd", true), Err(Errno::ENOENT));
        assert_eq!(walk(&t, "/loop1", true), Err(Errno::ELOOP));
        assert_eq!(walk(&t, "/self/x", true), Err(Errno::ELOOP));
        assert_eq!(walk(&t, "/loop1", false), Ok(b"/loop1".to_vec()));
        assert_eq!(walk(&t, "/dangling", true), Err(Errno::ENOENT));
    }

    #[test]
    fn overlay_mounts_hide_the_host() {
        let t = tree();
        // /proc is the sentry's, even through a link.
        assert_eq!(walk(&t, "/procself/x", true), Err(Errno::ENOENT));
        assert_eq!(walk(&t, "/proc/", true), Ok(b"/proc".to_vec()));
        assert_eq!(walk(&t, "/dev/null", true), Ok(b"/dev/null".to_vec()));
        assert_eq!(walk(&t, "/dev/null/", true), Err(Errno::ENOTDIR));
        assert_eq!(walk(&t, "/dev/sda", true), Err(Errno::ENOENT));
        assert_eq!(walk(&t, "/dev/../a", true), Ok(b"/a".to_vec()));
    }

    #[test]
    fn parent_walk() {
        let t = tree();
        let access = Access::kernel();
        let root = Arc::clone(t.vfs.root());
        let mut l = Lookup::new(&t.vfs, Arc::clone(&root), &access, 0);
        let p = l.walk_parent(&root, b"/abs/new/").unwrap();
        assert_eq!(
            (p.dir.path(), p.last, p.trailing_slash),
            (b"/a/b".to_vec(), Last::Norm(b"new".to_vec()), true)
        );
        assert_eq!(l.walk_parent(&root, b"/").unwrap().last, Last::Root);
        assert_eq!(l.walk_parent(&root, b"a/..").unwrap().last, Last::DotDot);
        assert_eq!(
            l.walk_parent(&root, b"/missing/x").err(),
            Some(Errno::ENOENT)
        );
    }

    #[test]
    fn resolve_flags() {
        let t = tree();
        let access = Access::kernel();
        let a = walk(&t, "/a", true).unwrap();
        assert_eq!(a, b"/a".to_vec());
        let start = lookup_child(&t.vfs, t.vfs.root(), b"a").unwrap();
        let mut l = Lookup::new(&t.vfs, Arc::clone(&start), &access, RESOLVE_BENEATH);
        assert_eq!(
            l.walk(&start, b"b/file", true).map(|d| d.path()),
            Ok(b"/a/b/file".to_vec())
        );
        assert_eq!(l.walk(&start, b"../a", true).err(), Some(Errno::EXDEV));
        assert_eq!(l.walk(&start, b"/a", true).err(), Some(Errno::EXDEV));
        let mut l = Lookup::new(&t.vfs, Arc::clone(&start), &access, RESOLVE_IN_ROOT);
        assert_eq!(
            l.walk(&start, b"../../b", true).map(|d| d.path()),
            Ok(b"/a/b".to_vec())
        );
        let root = Arc::clone(t.vfs.root());
        let mut l = Lookup::new(&t.vfs, Arc::clone(&root), &access, RESOLVE_NO_SYMLINKS);
        assert_eq!(l.walk(&root, b"abs", true).err(), Some(Errno::ELOOP));
        let mut l = Lookup::new(&t.vfs, Arc::clone(&root), &access, RESOLVE_NO_XDEV);
        assert_eq!(l.walk(&root, b"dev/null", true).err(), Some(Errno::EXDEV));
    }

    #[test]
    fn confined_dotdot_after_a_rename_is_eagain() {
        let t = tree();
        let access = Access::kernel();
        let vol = lookup_child(&t.vfs, t.vfs.root(), b"vol").unwrap();
        let a = lookup_child(&t.vfs, &vol, b"a").unwrap();
        let rename = |from: &[u8], to: &[u8]| {
            crate::vfs::rename(&vol, from, &vol, to, false, false).unwrap();
        };
        for resolve in [RESOLVE_BENEATH, RESOLVE_IN_ROOT] {
            let mut l = Lookup::new(&t.vfs, Arc::clone(&a), &access, resolve);
            assert_eq!(
                l.walk(&a, b"b/..", true).map(|d| d.path()),
                Ok(b"/vol/a".to_vec())
            );
            let mut l = Lookup::new(&t.vfs, Arc::clone(&a), &access, resolve);
            rename(b"loop1", b"loop3");
            assert_eq!(
                l.walk(&a, b"b/file", true).map(|d| d.path()),
                Ok(b"/vol/a/b/file".to_vec())
            );
            assert_eq!(l.walk(&a, b"b/..", true).err(), Some(Errno::EAGAIN));
            rename(b"loop3", b"loop1");
        }
        // An unconfined walk does not care.
        let mut l = Lookup::new(&t.vfs, Arc::clone(t.vfs.root()), &access, 0);
        rename(b"loop1", b"loop3");
        assert_eq!(
            l.walk(&a, b"b/..", true).map(|d| d.path()),
            Ok(b"/vol/a".to_vec())
        );
    }

    #[test]
    fn changes_on_the_host_show_at_the_next_lookup() {
        let t = tree();
        let vol = lookup_child(&t.vfs, t.vfs.root(), b"vol").unwrap();
        let b = lookup_child(&t.vfs, &lookup_child(&t.vfs, &vol, b"a").unwrap(), b"b").unwrap();
        let held = lookup_child(&t.vfs, &b, b"file").unwrap();
        let host = t.dir.0.join("a/b");
        std::fs::rename(host.join("file"), host.join("moved")).unwrap();
        // Not seen until looked up again, as on a network file system.
        assert!(!held.unlinked());
        assert_eq!(lookup_child(&t.vfs, &b, b"file").err(), Some(Errno::ENOENT));
        assert!(held.unlinked());
        std::fs::write(host.join("file"), b"new").unwrap();
        let fresh = lookup_child(&t.vfs, &b, b"file").unwrap();
        assert!(!Arc::ptr_eq(&fresh, &held) && !fresh.unlinked());
        // The same file found again is the same dentry.
        let again = lookup_child(&t.vfs, &b, b"file").unwrap();
        assert!(Arc::ptr_eq(&fresh, &again));
    }

    #[test]
    fn a_cwd_follows_a_rename_on_a_volume() {
        let t = tree();
        let access = Access::kernel();
        let root = Arc::clone(t.vfs.root());
        let vol = lookup_child(&t.vfs, &root, b"vol").unwrap();
        let a = lookup_child(&t.vfs, &vol, b"a").unwrap();
        let b = lookup_child(&t.vfs, &a, b"b").unwrap();
        drop(a);
        crate::vfs::rename(&vol, b"a", &vol, b"z", false, false).unwrap();
        assert_eq!(b.path(), b"/vol/z/b");
        let mut l = Lookup::new(&t.vfs, Arc::clone(&root), &access, 0);
        let up = l.walk(&b, b"../..", true).unwrap();
        assert!(Arc::ptr_eq(&up, &vol));
        assert_eq!(
            l.walk(&b, b"file", true).map(|d| d.path()),
            Ok(b"/vol/z/b/file".to_vec())
        );
        let again = l.walk(&root, b"/vol/z/b", true).unwrap();
        assert!(Arc::ptr_eq(&again, &b));
        // A file renamed on the volume while a dentry holds it is opened
        // by its new name, and the old dentry follows.
        let held = l.walk(&b, b"file", true).unwrap();
        crate::vfs::rename(&b, b"file", &b, b"file2", false, false).unwrap();
        assert_eq!(held.path(), b"/vol/z/b/file2");
        let f = l.walk(&b, b"file2", true).unwrap();
        assert!(!held.unlinked());
        // The held one opens too (an O_PATH fd reopened through /proc).
        let creds = crate::task::Credentials::new(0, 0, vec![]);
        super::super::open::open_dentry(
            &Access::fs(&creds),
            &t.vfs,
            held,
            abi::fcntl::O_RDONLY,
            false,
        )
        .unwrap();
        let file = super::super::open::open_dentry(
            &Access::fs(&creds),
            &t.vfs,
            f,
            abi::fcntl::O_RDONLY,
            false,
        )
        .unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(file.read_at(&mut buf, 0), Ok(4));
    }
}
