//! Host stdio streams: the fds 0, 1 and 2 the caller gave carapace (pipes,
//! files, terminals), as file descriptions in the sandbox.
//!
//! The host fd is the caller's own open file description, so the sentry never
//! changes its status flags (no `O_NONBLOCK`: that would change the caller's
//! file too). A read first `poll`s for readability, so the wait can later be
//! made interruptible, and then reads; a description the program set
//! `O_NONBLOCK` on polls without waiting and gives `EAGAIN`. Writes go
//! straight through. The host keeps the offset, so a regular file
//! (`> out.txt`) shares it with the caller as a redirect should, and
//! `lseek`/`pread` work where the host allows them (`ESPIPE` where not).
//! Of the ioctls only `TCGETS`, `TIOCGWINSZ` and `FIONREAD`, which change
//! nothing, are forwarded; the rest are `ENOTTY`.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use abi::Errno;
use abi::fcntl::{O_ACCMODE, O_APPEND, O_LARGEFILE, O_NONBLOCK};
use abi::stat::{S_IFMT, S_IFREG, Stat, Statfs, Statx};
use abi::termios::{FIONREAD, TCGETS, TIOCGWINSZ};

use super::host;
use crate::mm::MemoryManager;
use crate::vfs::{File, FileOps};

/// An open host stream.
#[derive(Debug)]
pub struct HostStream {
    fd: OwnedFd,
    /// Whether the host fd is a regular file (reads fill the buffer).
    regular: bool,
}

/// The description over the host fd `fd`, with the host's access mode and
/// `O_APPEND`/`O_NONBLOCK` as its flags.
pub fn open(fd: OwnedFd) -> Result<Arc<File>, Errno> {
    let st = host::fstat(fd.as_fd())?;
    let host_flags = host::getfl(fd.as_fd())?;
    let flags = (host_flags & (O_ACCMODE | O_APPEND | O_NONBLOCK)) | O_LARGEFILE;
    let regular = st.st_mode & S_IFMT == S_IFREG;
    Ok(File::new(Box::new(HostStream { fd, regular }), flags, None))
}

impl HostStream {
    /// Waits until the host fd is ready for `events`; `EAGAIN` at once for
    /// a non-blocking description that is not.
    fn wait(&self, file: &File, events: i16) -> Result<(), Errno> {
        if self.regular {
            return Ok(());
        }
        let timeout = if file.flags() & O_NONBLOCK != 0 {
            0
        } else {
            -1
        };
        let revents = host::poll(self.fd.as_fd(), events, timeout)?;
        if revents == 0 {
            return Err(Errno::EAGAIN);
        }
        // Readable, hung up or in error: the read or write reports which.
        Ok(())
    }
}

impl FileOps for HostStream {
    fn read(&self, file: &File, buf: &mut [u8], _: u64) -> Result<usize, Errno> {
        self.wait(file, libc::POLLIN)?;
        host::read(self.fd.as_fd(), buf)
    }

    fn write(&self, file: &File, buf: &[u8], _: u64) -> Result<usize, Errno> {
        self.wait(file, libc::POLLOUT)?;
        let written = host::write(self.fd.as_fd(), buf);
        // A caller's pipe with no reader left: SIGPIPE, as a pipe's write does
        // (the sentry itself ignores SIGPIPE, so the host reports EPIPE).
        if written == Err(Errno::EPIPE) {
            crate::signal::raise(abi::signal::SIGPIPE);
        }
        written
    }

    fn positioned(&self) -> bool {
        false
    }

    fn streaming(&self) -> bool {
        !self.regular
    }

    fn pread(&self, _: &File, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
        host::pread(self.fd.as_fd(), buf, offset)
    }

    fn pwrite(&self, _: &File, buf: &[u8], offset: u64) -> Result<usize, Errno> {
        host::pwrite(self.fd.as_fd(), buf, offset)
    }

    fn seek(&self, _: &File, _: u64, offset: i64, whence: u32) -> Result<u64, Errno> {
        host::lseek(self.fd.as_fd(), offset, whence)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        host::fstat(self.fd.as_fd())
    }

    fn statx(&self, sync: u32, mask: u32) -> Result<Statx, Errno> {
        host::statx(self.fd.as_fd(), sync, mask)
    }

    fn statfs(&self) -> Result<Statfs, Errno> {
        host::fstatfs(self.fd.as_fd())
    }

    fn ioctl(&self, _: &File, mm: &MemoryManager, cmd: u32, arg: u64) -> Result<u64, Errno> {
        match cmd {
            TCGETS => {
                let t = host::tcgets(self.fd.as_fd())?;
                mm.write_obj(arg, &t)?;
            }
            TIOCGWINSZ => {
                let w = host::tiocgwinsz(self.fd.as_fd())?;
                mm.write_obj(arg, &w)?;
            }
            FIONREAD => {
                let n = host::fionread(self.fd.as_fd())?;
                mm.write_obj(arg, &n)?;
            }
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }

    fn fsync(&self, data_only: bool) -> Result<(), Errno> {
        host::fsync(self.fd.as_fd(), data_only)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn pipe_stream_reads_what_was_written() {
        let (r, mut w) = std::io::pipe().unwrap();
        w.write_all(b"hello").unwrap();
        drop(w);
        let file = open(OwnedFd::from(r)).unwrap();
        assert_eq!(file.flags() & O_ACCMODE, abi::fcntl::O_RDONLY);
        let mut got = Vec::new();
        let n = file
            .read_with(None, 100, &mut |chunk| {
                got.extend_from_slice(chunk);
                chunk.len()
            })
            .unwrap();
        assert_eq!((n, got.as_slice()), (5, &b"hello"[..]));
        assert_eq!(file.seek(0, abi::fcntl::SEEK_CUR), Err(Errno::ESPIPE));
        assert_eq!(file.read_with(None, 100, &mut |c| c.len()), Ok(0));
        assert_eq!(
            file.write_with(None, 1, &mut |b| b.len()),
            Err(Errno::EBADF)
        );
    }
}
