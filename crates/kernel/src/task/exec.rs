//! Replacing a process's program: the task half of `execve(2)`.
//!
//! Everything that can fail happens first, into a fresh address space (a new
//! stub under ptrace); only then is the old image dropped, so a failed exec
//! returns to the old program intact, as Linux's point of no return
//! ensures.

use std::sync::Arc;

use abi::Errno;
use abi::signal::{SS_DISABLE, StackT};

use super::{Task, lock};
use crate::loader;
use crate::mm::MemoryManager;
use crate::vfs::{self, File};

/// `BINPRM_BUF_SIZE`: how much of a file's start `#!` parsing sees.
const BINPRM_BUF_SIZE: usize = 256;
/// `BINPRM_MAX_RECURSION`: interpreters of interpreters allowed.
const MAX_INTERPRETER_DEPTH: usize = 4;

/// The program `execve` runs, opened, and the name it was given (what
/// Linux keeps in `struct linux_binprm`).
#[derive(Debug)]
pub struct Program {
    /// The file, opened for execution.
    pub file: Arc<File>,
    /// `bprm->filename`: the path as given, or `/dev/fd/N[/path]` when a
    /// directory fd names the file (`execveat`).
    pub name: Vec<u8>,
    /// The new program cannot open `name` (the fd it goes through closes
    /// on exec), so a `#!` script, whose interpreter would open it, fails.
    pub name_inaccessible: bool,
    /// The task is named after the file itself rather than `name`'s base
    /// name (`execveat` of an open file, whose name is only `/dev/fd/N`).
    pub comm_from_file: bool,
}

impl Program {
    /// The program at `path`, as `execve(2)` opens it.
    ///
    /// # Errors
    /// What the lookup gives (ENOENT, EACCES, ENOTDIR, ELOOP, ...).
    pub fn open(task: &Task, path: &[u8]) -> Result<Program, Errno> {
        Ok(Program {
            file: vfs::open_executable(&task.fs(), &task.creds, path)?,
            name: path.to_vec(),
            name_inaccessible: false,
            comm_from_file: false,
        })
    }
}

/// The binary that runs a program, after its `#!` lines: see [`interpret`].
#[derive(Debug)]
pub(crate) struct Interpreted {
    /// The binary, opened for execution.
    pub(crate) exe: Arc<File>,
    /// Its path.
    pub(crate) exe_path: Vec<u8>,
    /// The argv it gets.
    pub(crate) argv: Vec<Vec<u8>>,
}

/// Follows `#!` lines from `exe`, named `name` and run as `argv`, to the
/// binary that runs it, as Linux's binfmt_script does: each interpreter
/// gets [interpreter, its optional argument, the script's path, argv[1..]]
/// (the script's own argv[0] is dropped). `name_inaccessible`: the
/// interpreter could not open `name` (see [`Program`]).
///
/// # Errors
/// ENOENT for a script whose name is inaccessible, ELOOP past
/// `BINPRM_MAX_RECURSION` interpreters, ENOEXEC for a malformed `#!` line,
/// and what opening an interpreter gives (ENOENT, EACCES, ...).
pub(crate) fn interpret(
    fs: &vfs::FsContext,
    creds: &super::Credentials,
    exe: Arc<File>,
    name: &[u8],
    argv: Vec<Vec<u8>>,
    name_inaccessible: bool,
) -> Result<Interpreted, Errno> {
    let mut found = Interpreted {
        exe,
        exe_path: name.to_vec(),
        argv,
    };
    for depth in 0..=MAX_INTERPRETER_DEPTH {
        let Some((interp, arg)) = shebang(&found.exe)? else {
            break;
        };
        // binfmt_script: the interpreter could not open the script.
        if name_inaccessible {
            return Err(Errno::ENOENT);
        }
        if depth == MAX_INTERPRETER_DEPTH {
            return Err(Errno::ELOOP);
        }
        let mut argv = vec![interp.clone()];
        argv.extend(arg);
        argv.push(found.exe_path);
        argv.extend(std::mem::take(&mut found.argv).into_iter().skip(1));
        found = Interpreted {
            exe: vfs::open_executable(fs, creds, &interp)?,
            exe_path: interp,
            argv,
        };
    }
    Ok(found)
}

impl Task {
    /// Replaces the process's program with `program` run as `argv`/`envp`.
    /// `#!` scripts run their interpreter.
    ///
    /// # Errors
    /// What opening an interpreter gives (ENOENT, EACCES, ENOTDIR, ELOOP,
    /// ...), ENOENT for a script `program` names inaccessibly, ENOEXEC for
    /// an unknown format, E2BIG for oversized arguments, ENOMEM when no
    /// address space can be made. The old program is untouched on error.
    pub fn execve(
        &mut self,
        program: Program,
        argv: Vec<Vec<u8>>,
        envp: &[Vec<u8>],
    ) -> Result<(), Errno> {
        let fs = self.fs();
        let path = program.name.as_slice();
        let Interpreted {
            exe,
            exe_path,
            argv,
        } = interpret(
            &fs,
            &self.creds,
            Arc::clone(&program.file),
            path,
            argv,
            program.name_inaccessible,
        )?;

        let kernel = Arc::clone(&self.kernel);
        let aspace = kernel.platform.new_address_space().map_err(|err| {
            kernel.note(&format!("execve: cannot make an address space: {err}"));
            Errno::ENOMEM
        })?;
        let mm = Arc::new(MemoryManager::new(
            Arc::clone(&kernel.memory_file),
            aspace,
            kernel.platform.min_user_address(),
            kernel.platform.max_user_address(),
        ));
        mm.set_stack_limit(
            self.thread_group
                .limit(abi::resource::RLIMIT_STACK)
                .rlim_cur,
        );
        let st = exe.stat()?;
        let nosuid = exe.dentry().is_some_and(|d| kernel.vfs.nosuid(d.mount));
        let mut creds = self.creds.clone();
        creds.exec(
            st.st_mode,
            st.st_uid,
            st.st_gid,
            !self.no_new_privs && !nosuid,
        );
        let image = loader::load(&mm, &fs, &creds, &exe, path, &argv, envp)?;

        // The point of no return. The other threads of the process go first
        // (Linux's de_thread).
        if self.thread_group.thread_count() > 1 {
            self.thread_group.kill_other_threads(self.tid);
        }
        self.become_leader();
        // The old image's robust and PI futexes are released as at exit
        // (after the tid exchange, as Linux's exec_mm_release comes after
        // de_thread).
        crate::futex::exit_robust_list(
            &kernel.futexes,
            &self.mm,
            self.tid,
            self.handle.robust_list(),
        );
        kernel.futexes.owner_died(self.tid);
        let old = std::mem::replace(&mut self.mm, mm);
        // Memory shared with another process (a `vfork` parent) stays with
        // it, without this task's platform thread.
        if Arc::strong_count(&old) > 1 {
            old.address_space().release_thread();
        }
        drop(old);
        // The new image may be dumped again, unless it was started with
        // raised ids: then its unprivileged caller may not read it (through
        // /proc or ptrace).
        self.dumpable = !creds.secure_exec();
        self.creds = creds;
        self.regs = image.regs;
        if let Err(err) = self
            .context
            .reset_fpu_state(self.mm.address_space().as_ref())
        {
            kernel.fatal(&format!("execve: reset the FPU state: {err}"));
        }
        // Before close-on-exec fds go: a parent that sees one of them close
        // must find its child exec'd (setpgid's EACCES), as Linux bumps
        // self_exec_id before do_close_on_exec.
        kernel.tree.mark_execed(self.thread_group.pid);
        drop(self.fds().remove_cloexec());
        self.thread_group.reset_caught_actions();
        self.altstack = StackT {
            ss_flags: SS_DISABLE.cast_signed(),
            ..StackT::default()
        };
        self.clear_child_tid = 0;
        self.restart_block = None;
        // The name is the file's (a script's, not its interpreter's).
        self.comm = if program.comm_from_file {
            let dentry_path = program.file.dentry().map(|d| d.path());
            base_name(dentry_path.as_deref().unwrap_or(path)).to_vec()
        } else {
            base_name(path).to_vec()
        };
        self.thread_group.delete_posix_timers(&kernel.timers);
        self.handle.set_robust_list(0);
        self.thread_group
            .membarrier_registered
            .store(0, std::sync::atomic::Ordering::SeqCst);
        *lock(&self.thread_group.exe_path) = exe_path;
        *lock(&self.thread_group.exe_file) = Some(exe);
        self.release_vfork_parent();
        Ok(())
    }
}

impl Task {
    /// The only thread left after `execve`'s de-threading takes over the
    /// leader's tid, as Linux's de_thread does: the process keeps its pid
    /// and the thread that exec'd has it as its tid.
    fn become_leader(&mut self) {
        let pid = self.thread_group.pid;
        if self.tid == pid {
            return;
        }
        let old = self.tid;
        self.thread_group.rename_thread(old, pid);
        // Its children's parent thread is now the leader.
        let _ = self.kernel.tree.reassign_children(pid, old, pid);
        self.kernel.tree.free_tid(old);
        self.tid = pid;
    }
}

/// A `#!` line: the interpreter's path and its optional single argument.
type Interpreter = (Vec<u8>, Option<Vec<u8>>);

/// The interpreter and optional argument of a `#!` script, or `None` if
/// `file` does not start with `#!`.
fn shebang(file: &Arc<File>) -> Result<Option<Interpreter>, Errno> {
    let mut head = [0u8; BINPRM_BUF_SIZE];
    let mut len = 0;
    while len < head.len() {
        let n = file.read_at(&mut head[len..], len as u64)?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let head = &head[..len];
    let Some(rest) = head.strip_prefix(b"#!") else {
        return Ok(None);
    };
    // The line ends at a newline, or at the buffer's end (a long line is
    // cut, as Linux does when the interpreter's name still fits).
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
    let line = trim(line);
    let name_end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    let (interp, arg) = line.split_at(name_end);
    if interp.is_empty() {
        return Err(Errno::ENOEXEC);
    }
    let arg = trim(arg);
    Ok(Some((
        interp.to_vec(),
        (!arg.is_empty()).then(|| arg.to_vec()),
    )))
}

/// The last component of `path`.
fn base_name(path: &[u8]) -> &[u8] {
    path.rsplit(|&b| b == b'/').next().unwrap_or(path)
}

fn trim(bytes: &[u8]) -> &[u8] {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_blank(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_blank(b))
        .map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::trim;

    #[test]
    fn trims_blanks_only() {
        assert_eq!(trim(b"  /bin/sh -e \t"), b"/bin/sh -e");
        assert_eq!(trim(b" \t "), b"");
        assert_eq!(trim(b"x"), b"x");
    }
}
