//! The line discipline of a terminal, a subset of Linux's `n_tty`
//! (`drivers/tty/n_tty.c`): what happens to the bytes typed into a terminal
//! before a reader sees them, and to the bytes a writer sends to the screen.
//!
//! Input is processed as it arrives, under the termios in force then:
//! `ISTRIP`, `IGNCR`/`ICRNL`/`INLCR`, `IXON` flow control, `ISIG` signal
//! characters, and in canonical mode the line editing characters (`ERASE`,
//! `WERASE`, `KILL`, `EOF`, `EOL`, `EOL2`, `REPRINT`, `LNEXT`), with their
//! echoes (`ECHO`, `ECHOE`, `ECHOK`, `ECHOKE`, `ECHONL`, `ECHOCTL`). Output
//! goes through `OPOST` processing (`ONLCR`, `OCRNL`, `ONOCR`, `ONLRET`,
//! `OLCUC`, `XTABS`) with Linux's column tracking, which the tab erase uses.
//!
//! This module is plain data: no locks, no blocking and no signals. The
//! terminal that owns it ([`super::pty`]) serializes access, blocks readers
//! and writers, and sends the signals [`LineDiscipline::receive`] reports.
//! Not modelled: parity and break handling (`PARMRK`, `INPCK`, `BRKINT`),
//! `ECHOPRT`, `IUCLC`/`XCASE`, `FLUSHO`, `PENDIN`, `EXTPROC` and packet mode.

use std::collections::VecDeque;

use abi::termios::{
    B38400, CREAD, CS8, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, ECHONL, HUPCL, ICANON, ICRNL, IEXTEN,
    IGNCR, INIT_C_CC, INLCR, ISIG, ISTRIP, IUTF8, IXANY, IXON, NOFLSH, OCRNL, OLCUC, ONLCR, ONLRET,
    ONOCR, OPOST, TABDLY, Termios, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT,
    VREPRINT, VSTART, VSTOP, VSUSP, VTIME, VWERASE, XTABS,
};

/// `N_TTY_BUF_SIZE`: the input buffer (so the longest canonical line).
pub const N_TTY_BUF_SIZE: usize = 4096;

/// How much output (the writer's, then echoes) may wait for the other
/// side: echoes past it are dropped, so a peer that never reads cannot
/// make the queue grow without bound.
pub const OUTPUT_CAP: usize = 8192;

/// `__DISABLED_CHAR`: a control character set to this is off.
const DISABLED_CHAR: u8 = 0;

/// `tty_std_termios` (`drivers/tty/tty_io.c`): what a new terminal starts with.
pub fn std_termios() -> Termios {
    Termios {
        c_iflag: ICRNL | IXON,
        c_oflag: OPOST | ONLCR,
        c_cflag: B38400 | CS8 | CREAD | HUPCL,
        c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
        c_line: 0,
        c_cc: INIT_C_CC,
    }
}

/// One byte of processed input.
#[derive(Clone, Copy, Debug)]
struct Slot {
    byte: u8,
    /// Ends a canonical line (a newline, `EOL`, `EOL2`, or `EOF` stored as
    /// the disabled character, which readers do not see).
    eol: bool,
}

/// What receiving input asks the terminal to do besides queueing it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// How many of the bytes offered were taken; the rest wait for room.
    pub taken: usize,
    /// Signals for the foreground process group (`ISIG`), in order.
    pub signals: Vec<u32>,
}

/// The line discipline state of one terminal.
#[derive(Debug)]
pub struct LineDiscipline {
    /// The terminal's settings.
    pub termios: Termios,
    /// Processed input, for the reader.
    input: VecDeque<Slot>,
    /// How many slots at the front of `input` form complete lines.
    canon_len: usize,
    /// Output for the other side (the pty master): written data after
    /// `OPOST` processing, and echoes.
    pub output: VecDeque<u8>,
    /// The output column, for tabs and their erasure.
    column: usize,
    /// The column the current canonical line started at.
    canon_column: usize,
    /// The next input byte is literal (after `LNEXT`).
    lnext: bool,
    /// Output stopped by `IXON`'s STOP character or `TCOOFF`.
    pub stopped: bool,
}

fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

impl LineDiscipline {
    /// A line discipline with `termios`.
    pub fn new(termios: Termios) -> LineDiscipline {
        LineDiscipline {
            termios,
            input: VecDeque::new(),
            canon_len: 0,
            output: VecDeque::new(),
            column: 0,
            canon_column: 0,
            lnext: false,
            stopped: false,
        }
    }

    fn lflag(&self, flag: u32) -> bool {
        self.termios.c_lflag & flag != 0
    }

    fn iflag(&self, flag: u32) -> bool {
        self.termios.c_iflag & flag != 0
    }

    fn oflag(&self, flag: u32) -> bool {
        self.termios.c_oflag & flag != 0
    }

    /// Whether `c` is the (enabled) control character `index`.
    fn is_char(&self, c: u8, index: usize) -> bool {
        c != DISABLED_CHAR && self.termios.c_cc[index] == c
    }

    fn icanon(&self) -> bool {
        self.lflag(ICANON)
    }

    /// `VMIN` and `VTIME` (in tenths of a second).
    pub fn min_time(&self) -> (u8, u8) {
        (self.termios.c_cc[VMIN], self.termios.c_cc[VTIME])
    }

    /// Replaces the termios (`n_tty_set_termios`): switching `ICANON`
    /// either way forgets line boundaries, and pending input becomes one
    /// line when canonical mode starts.
    pub fn set_termios(&mut self, termios: Termios) {
        let canon_changed = (self.termios.c_lflag ^ termios.c_lflag) & ICANON != 0;
        self.termios = termios;
        if canon_changed {
            for slot in &mut self.input {
                slot.eol = false;
            }
            self.canon_len = 0;
            if self.icanon()
                && let Some(last) = self.input.back_mut()
            {
                last.eol = true;
                self.canon_len = self.input.len();
            }
            self.lnext = false;
        }
        if !self.iflag(IXON) {
            self.stopped = false;
        }
    }

    /// Whether a read would find data (`input_available_p`); for `poll`,
    /// a non-canonical terminal with `VMIN` and no `VTIME` wants `VMIN` bytes.
    pub fn input_available(&self, poll: bool) -> bool {
        if self.icanon() {
            return self.canon_len > 0;
        }
        let (min, time) = self.min_time();
        let want = if poll && time == 0 && min > 0 {
            usize::from(min)
        } else {
            1
        };
        self.input.len() >= want
    }

    /// The bytes `FIONREAD` reports: complete lines (without their `EOF`
    /// markers) in canonical mode, everything otherwise.
    pub fn readable_bytes(&self) -> usize {
        if !self.icanon() {
            return self.input.len();
        }
        self.input
            .iter()
            .take(self.canon_len)
            .filter(|s| !(s.eol && s.byte == DISABLED_CHAR))
            .count()
    }

    /// Room for more input: the buffer is not full, or it is full with a
    /// canonical line that has no end yet (whose last byte new input
    /// overwrites, so a newline can still finish it).
    pub fn input_room(&self) -> bool {
        self.input.len() < N_TTY_BUF_SIZE - 1 || (self.icanon() && self.canon_len == 0)
    }

    /// Moves processed input into `buf`: in canonical mode at most one
    /// line, whose `EOF` marker is taken but not copied
    /// (`canon_copy_from_read_buf`); otherwise what is there. Returns the
    /// count copied.
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let limit = if self.icanon() {
            let limit = buf.len().min(self.canon_len);
            let eol = self.input.iter().take(limit).position(|s| s.eol);
            eol.map_or(limit, |i| i + 1)
        } else {
            buf.len().min(self.input.len())
        };
        let mut n = 0;
        for slot in self.input.drain(..limit) {
            if !(slot.eol && slot.byte == DISABLED_CHAR) {
                buf[n] = slot.byte;
                n += 1;
            }
        }
        self.canon_len = self.canon_len.saturating_sub(limit);
        n
    }

    /// Discards the input (`TCIFLUSH`, a signal character).
    pub fn flush_input(&mut self) {
        self.input.clear();
        self.canon_len = 0;
        self.lnext = false;
    }

    /// Processes input bytes as `n_tty_receive_buf` does, as many as there
    /// is room for. The echoes of one call are one batch, as Linux commits
    /// them at the end of a buffer: a signal character discards the
    /// batch's earlier echoes with the input.
    pub fn receive(&mut self, bytes: &[u8]) -> Received {
        let mut got = Received::default();
        let mut batch = self.output.len();
        for &c in bytes {
            if !self.input_room() {
                break;
            }
            got.taken += 1;
            self.receive_char(c, &mut got, &mut batch);
        }
        self.output.truncate(OUTPUT_CAP.max(batch));
        got
    }

    fn receive_char(&mut self, mut c: u8, got: &mut Received, batch: &mut usize) {
        if self.iflag(ISTRIP) {
            c &= 0x7f;
        }
        if self.lnext {
            self.lnext = false;
            self.store_echoed(c);
            return;
        }
        if self.iflag(IXON) {
            if self.is_char(c, VSTART) {
                self.stopped = false;
                return;
            }
            if self.is_char(c, VSTOP) {
                self.stopped = true;
                return;
            }
        }
        if self.lflag(ISIG) {
            let signo = if self.is_char(c, VINTR) {
                Some(abi::signal::SIGINT)
            } else if self.is_char(c, VQUIT) {
                Some(abi::signal::SIGQUIT)
            } else if self.is_char(c, VSUSP) {
                Some(abi::signal::SIGTSTP)
            } else {
                None
            };
            if let Some(signo) = signo {
                got.signals.push(signo);
                if !self.lflag(NOFLSH) {
                    self.flush_input();
                    self.output.truncate(*batch);
                }
                if self.iflag(IXON) {
                    self.stopped = false;
                }
                if self.lflag(ECHO) {
                    self.echo_char(c);
                }
                return;
            }
        }
        if self.stopped && self.iflag(IXON) && self.iflag(IXANY) {
            self.stopped = false;
        }
        if c == b'\r' {
            if self.iflag(IGNCR) {
                return;
            }
            if self.iflag(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && self.iflag(INLCR) {
            c = b'\r';
        }
        if self.icanon() && self.canon_char(c) {
            return;
        }
        self.store_echoed(c);
    }

    /// The canonical-mode special characters; true if `c` was one.
    fn canon_char(&mut self, c: u8) -> bool {
        let iexten = self.lflag(IEXTEN);
        if self.is_char(c, VERASE) || self.is_char(c, VKILL) || (iexten && self.is_char(c, VWERASE))
        {
            self.erase(c);
            return true;
        }
        if iexten && self.is_char(c, VLNEXT) {
            self.lnext = true;
            if self.lflag(ECHO) && self.lflag(ECHOCTL) {
                self.output_raw(b"^\x08");
            }
            return true;
        }
        if iexten && self.lflag(ECHO) && self.is_char(c, VREPRINT) {
            self.echo_char(c);
            self.output_char(b'\n');
            let line: Vec<u8> = self
                .input
                .iter()
                .skip(self.canon_len)
                .map(|s| s.byte)
                .collect();
            for b in line {
                self.echo_char(b);
            }
            return true;
        }
        if c == b'\n' {
            if self.lflag(ECHO) || self.lflag(ECHONL) {
                self.output_char(b'\n');
            }
            self.end_line(c);
            return true;
        }
        if self.is_char(c, VEOF) {
            self.end_line(DISABLED_CHAR);
            return true;
        }
        if self.is_char(c, VEOL) || (iexten && self.is_char(c, VEOL2)) {
            if self.lflag(ECHO) {
                if self.input.len() == self.canon_len {
                    self.canon_column = self.column;
                }
                self.echo_char(c);
            }
            self.end_line(c);
            return true;
        }
        false
    }

    /// Stores `c` as the end of a canonical line.
    fn end_line(&mut self, c: u8) {
        self.store(c, true);
        self.canon_len = self.input.len();
    }

    /// Stores an ordinary character, echoing it first.
    fn store_echoed(&mut self, c: u8) {
        if self.lflag(ECHO) {
            if self.input.len() == self.canon_len {
                self.canon_column = self.column;
            }
            self.echo_char(c);
        }
        self.store(c, false);
    }

    fn store(&mut self, byte: u8, eol: bool) {
        // A full buffer in canonical mode keeps its last slot for the
        // newline that ends the line.
        if self.input.len() >= N_TTY_BUF_SIZE {
            self.input.pop_back();
        }
        self.input.push_back(Slot { byte, eol });
    }

    /// `eraser`: `ERASE`, `WERASE` or `KILL` on the line being typed.
    fn erase(&mut self, c: u8) {
        if self.input.len() == self.canon_len {
            return;
        }
        #[derive(PartialEq)]
        enum Kind {
            Erase,
            Werase,
            Kill,
        }
        let kind = if self.is_char(c, VERASE) {
            Kind::Erase
        } else if self.is_char(c, VWERASE) {
            Kind::Werase
        } else {
            if !self.lflag(ECHO) {
                self.input.truncate(self.canon_len);
                return;
            }
            if !self.lflag(ECHOK) || !self.lflag(ECHOKE) || !self.lflag(ECHOE) {
                self.input.truncate(self.canon_len);
                self.echo_char(c);
                if self.lflag(ECHOK) {
                    self.output_char(b'\n');
                }
                return;
            }
            Kind::Kill
        };
        let utf8 = self.iflag(IUTF8);
        let mut seen_alnums = 0;
        while self.input.len() > self.canon_len {
            // A multibyte character goes whole.
            let mut start = self.input.len() - 1;
            while utf8 && start > self.canon_len && self.input[start].byte & 0xc0 == 0x80 {
                start -= 1;
            }
            let ch = self.input[start].byte;
            if kind == Kind::Werase {
                if ch.is_ascii_alphanumeric() || ch == b'_' {
                    seen_alnums += 1;
                } else if seen_alnums > 0 {
                    break;
                }
            }
            self.input.truncate(start);
            if self.lflag(ECHO) {
                if kind == Kind::Erase && !self.lflag(ECHOE) {
                    self.echo_char(self.termios.c_cc[VERASE]);
                } else if ch == b'\t' {
                    self.erase_tab();
                } else {
                    if is_cntrl(ch) && self.lflag(ECHOCTL) {
                        self.output_raw(b"\x08 \x08");
                    }
                    if !is_cntrl(ch) || self.lflag(ECHOCTL) {
                        self.output_raw(b"\x08 \x08");
                    }
                }
            }
            if kind == Kind::Erase {
                break;
            }
        }
    }

    /// Echoes the backspaces that take the cursor back over an erased tab,
    /// from the columns the rest of the line takes (`echo_erase_tab`).
    fn erase_tab(&mut self) {
        let mut cols = 0;
        let mut after_tab = false;
        for slot in self.input.iter().skip(self.canon_len).rev() {
            let ch = slot.byte;
            if ch == b'\t' {
                after_tab = true;
                break;
            } else if is_cntrl(ch) {
                if self.lflag(ECHOCTL) {
                    cols += 2;
                }
            } else if !(self.iflag(IUTF8) && ch & 0xc0 == 0x80) {
                cols += 1;
            }
        }
        let mut cols = cols & 7;
        if !after_tab {
            cols += self.canon_column;
        }
        let backspaces = (8 - (cols & 7)).min(self.column);
        for _ in 0..backspaces {
            self.output.push_back(b'\x08');
            self.column = self.column.saturating_sub(1);
        }
    }

    /// Echoes `c`: a control character other than tab and newline as `^X`
    /// under `ECHOCTL`, anything else through output processing.
    fn echo_char(&mut self, c: u8) {
        if self.lflag(ECHOCTL) && is_cntrl(c) && c != b'\t' {
            self.output.push_back(b'^');
            self.output.push_back(c ^ 0o100);
            self.column += 2;
        } else {
            self.output_char(c);
        }
    }

    fn output_raw(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.output_char(b);
        }
    }

    /// How many output bytes `c` becomes (`do_output_char`'s space check).
    fn output_len(&self, c: u8) -> usize {
        if !self.oflag(OPOST) {
            return 1;
        }
        match c {
            b'\n' if self.oflag(ONLCR) => 2,
            b'\t' if self.termios.c_oflag & TABDLY == XTABS => 8 - (self.column & 7),
            _ => 1,
        }
    }

    /// Appends `c` to the output after `OPOST` processing
    /// (`do_output_char`), keeping the column.
    pub fn output_char(&mut self, mut c: u8) {
        if !self.oflag(OPOST) {
            self.output.push_back(c);
            return;
        }
        match c {
            b'\n' => {
                if self.oflag(ONLRET) {
                    self.column = 0;
                }
                if self.oflag(ONLCR) {
                    self.column = 0;
                    self.canon_column = 0;
                    self.output.extend(b"\r\n");
                    return;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if self.oflag(ONOCR) && self.column == 0 {
                    return;
                }
                if self.oflag(OCRNL) {
                    c = b'\n';
                    if self.oflag(ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                self.column += spaces;
                if self.termios.c_oflag & TABDLY == XTABS {
                    self.output.extend(std::iter::repeat_n(b' ', spaces));
                    return;
                }
            }
            0x08 => self.column = self.column.saturating_sub(1),
            _ if !is_cntrl(c) => {
                if self.oflag(OLCUC) {
                    c = c.to_ascii_uppercase();
                }
                if !(self.iflag(IUTF8) && c & 0xc0 == 0x80) {
                    self.column += 1;
                }
            }
            _ => {}
        }
        self.output.push_back(c);
    }

    /// Writes `bytes` to the output as far as [`OUTPUT_CAP`] allows;
    /// returns how many were taken. A byte that expands (`ONLCR`) goes
    /// whole or waits.
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        let mut n = 0;
        for &c in bytes {
            if self.output.len() + self.output_len(c) > OUTPUT_CAP {
                break;
            }
            self.output_char(c);
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(ld: &mut LineDiscipline, bytes: &[u8]) -> Received {
        ld.receive(bytes)
    }

    fn read_all(ld: &mut LineDiscipline) -> Vec<u8> {
        let mut buf = [0u8; 8192];
        let n = ld.read(&mut buf);
        buf[..n].to_vec()
    }

    #[test]
    fn canonical_editing_and_echo() {
        let mut t = std_termios();
        t.c_cc[VERASE] = 8;
        let mut ld = LineDiscipline::new(t);
        typed(&mut ld, b"abc\x08\x08d");
        assert!(!ld.input_available(false));
        typed(&mut ld, b"\n");
        assert_eq!(read_all(&mut ld), b"ad\n");
        let echo: Vec<u8> = ld.output.drain(..).collect();
        assert_eq!(echo, b"abc\x08 \x08\x08 \x08d\r\n");
    }

    #[test]
    fn eof_and_kill() {
        let mut ld = LineDiscipline::new(std_termios());
        typed(&mut ld, b"xy\x15z\x04");
        assert_eq!(ld.readable_bytes(), 1);
        assert_eq!(read_all(&mut ld), b"z");
        typed(&mut ld, b"\x04");
        assert!(ld.input_available(false));
        assert_eq!(read_all(&mut ld), b"");
        assert!(!ld.input_available(false));
    }

    #[test]
    fn signals_flush_and_echo() {
        let mut ld = LineDiscipline::new(std_termios());
        typed(&mut ld, b"ab");
        let got = typed(&mut ld, b"c\x03");
        assert_eq!(got.signals, [abi::signal::SIGINT]);
        let echo: Vec<u8> = ld.output.drain(..).collect();
        assert_eq!(echo, b"ab^C");
        assert_eq!(ld.readable_bytes(), 0);
    }

    #[test]
    fn raw_mode_and_canonical_overflow() {
        let mut t = std_termios();
        t.c_lflag &= !(ICANON | ECHO);
        let mut ld = LineDiscipline::new(t);
        let got = typed(&mut ld, &[b'x'; 5000]);
        assert_eq!(got.taken, N_TTY_BUF_SIZE - 1);
        assert!(!ld.input_room());
        let mut ld = LineDiscipline::new(std_termios());
        ld.termios.c_lflag &= !ECHO;
        typed(&mut ld, &[b'x'; 5000]);
        typed(&mut ld, b"\n");
        let line = read_all(&mut ld);
        assert_eq!(line.len(), N_TTY_BUF_SIZE);
        assert_eq!(line.last(), Some(&b'\n'));
    }

    #[test]
    fn output_processing() {
        let mut ld = LineDiscipline::new(std_termios());
        ld.output.extend(std::iter::repeat_n(b'.', OUTPUT_CAP - 2));
        assert_eq!(ld.write(b"a\nb"), 1);
        ld.output.drain(..OUTPUT_CAP - 2);
        assert_eq!(ld.write(b"\nb"), 2);
        let out: Vec<u8> = ld.output.drain(..).collect();
        assert_eq!(out, b"a\r\nb");
        // Echoes beyond the cap are dropped.
        let mut t = std_termios();
        t.c_lflag &= !ICANON;
        let mut ld = LineDiscipline::new(t);
        for _ in 0..10 {
            ld.receive(&[b'e'; 2000]);
            let mut buf = [0u8; 2000];
            ld.read(&mut buf);
        }
        assert_eq!(ld.output.len(), OUTPUT_CAP);
    }
}
