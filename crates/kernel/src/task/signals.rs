//! Delivering signals to a task: choosing the next one, running its default
//! action or building a signal frame for its handler (Linux's
//! `arch/x86/kernel/signal.c`), `rt_sigreturn`, and the restart of a
//! syscall a signal interrupted.

use abi::Errno;
use abi::signal::{
    FP_XSTATE_MAGIC2, FXSAVE_SIZE, RtSigFrame, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART,
    SA_RESTORER, SA_SIGINFO, SIG_DFL, SIG_IGN, SIGSEGV, SS_DISABLE, SS_ONSTACK, SigAction,
    SigContext, SigInfo, StackT, UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS, UContext,
    UNBLOCKABLE, sigmask,
};
use zerocopy::IntoBytes;

use super::{ChildChange, Task, lock};
use crate::signal::{DefaultAction, default_action};

/// The red zone below `rsp` that a frame must not overwrite (System V ABI).
const RED_ZONE: u64 = 128;
/// The FPU state's alignment in a frame (xsave's).
const FPSTATE_ALIGN: u64 = 64;
/// `FIX_EFLAGS`: the flags `rt_sigreturn` takes from the frame.
const FIX_EFLAGS: u64 = 0x50dd5;
/// `X86_EFLAGS_TF | X86_EFLAGS_DF`: cleared on handler entry (with RF).
const HANDLER_CLEARED_EFLAGS: u64 = 0x100 | 0x400 | 0x1_0000;

impl Task {
    /// Whether `sp` lies on the task's alternate signal stack (never, for
    /// an `SS_AUTODISARM` stack: Linux's `on_sig_stack`).
    pub(crate) fn on_altstack(&self, sp: u64) -> bool {
        let st = &self.altstack;
        st.ss_flags & (SS_DISABLE | abi::signal::SS_AUTODISARM).cast_signed() == 0
            && sp > st.ss_sp
            && sp - st.ss_sp <= st.ss_size
    }

    /// Acts on the signals that can be delivered now, before returning to
    /// program code; and finishes a syscall that a restart code left
    /// pending: restarted, or failed with EINTR if a handler runs.
    pub(super) fn handle_signals(&mut self) {
        // The common case on every return to the program: nothing to do,
        // decided from atomics without taking a lock.
        if self.syscall_restart.is_none()
            && self.handle.pending_signals() == 0
            && !self
                .handle
                .stop_requested
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        self.stop_while_stopped();
        let mut restart = self.syscall_restart.take();
        while let Some(info) = self.handle.dequeue_for_delivery(!self.handle.signal_mask()) {
            let signo = info.si_signo.cast_unsigned();
            let action = self.thread_group.action(signo);
            if action.handler == SIG_IGN {
                continue;
            }
            if action.handler == SIG_DFL {
                match default_action(signo) {
                    DefaultAction::Terminate | DefaultAction::Core => {
                        self.exit_status = Some(self.thread_group.fatal_status(signo));
                        return;
                    }
                    DefaultAction::Stop => {
                        self.thread_group.stop_all(signo);
                        self.stop_while_stopped();
                        continue;
                    }
                    DefaultAction::Ignore | DefaultAction::Continue => continue,
                }
            }
            if let Some(code) = restart.take() {
                self.finish_interrupted_syscall(code, Some(action.flags & SA_RESTART != 0));
            }
            if self.setup_frame(signo, &action, info).is_err() {
                // A stack the frame cannot be written to: Linux's force_sigsegv.
                self.exit_status = Some(self.thread_group.fatal_status(SIGSEGV));
                return;
            }
        }
        if let Some(code) = restart {
            self.finish_interrupted_syscall(code, None);
        }
    }

    /// Job control: if the group is stopped, waits here until `SIGCONT` (or
    /// a kill). The group leader's thread tells the parent of the stop and
    /// of the continue (`wait` with WUNTRACED/WCONTINUED, SIGCHLD unless
    /// `SA_NOCLDSTOP`).
    fn stop_while_stopped(&mut self) {
        self.handle
            .stop_requested
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let Some(signo) = self.thread_group.stopped_by() else {
            return;
        };
        let leader = self.tid == self.thread_group.pid;
        if leader {
            self.tell_parent(Some(signo));
        }
        let mut stopped = lock(&self.thread_group.stopped);
        while stopped.is_some() && self.handle.pending_kill().is_none() {
            stopped = self
                .thread_group
                .continued
                .wait_timeout(stopped, std::time::Duration::from_millis(50))
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        drop(stopped);
        if leader && self.handle.pending_kill().is_none() {
            self.tell_parent(None);
        }
    }

    /// Reports a stop (`Some(signo)`) or continue to the parent, with a
    /// SIGCHLD unless the parent set `SA_NOCLDSTOP`.
    fn tell_parent(&self, stop: Option<u32>) {
        let Some(parent) = self.kernel.tree.report_stop(self.thread_group.pid, stop) else {
            return;
        };
        let action = parent.action(abi::signal::SIGCHLD);
        if action.flags & abi::signal::SA_NOCLDSTOP == 0 {
            let change = stop.map_or(ChildChange::Continued, ChildChange::Stopped);
            let info = crate::signal::child_info(
                abi::signal::SIGCHLD,
                change,
                self.thread_group.pid,
                self.creds.uid,
                self.process_cpu_times(),
            );
            // A standard signal from the kernel always finds queue room.
            let _ = crate::signal::send(&parent, info);
        }
    }

    /// Restarts the interrupted syscall (rewinding to its `syscall`
    /// instruction) or makes it fail with EINTR, by Linux's rules: with no
    /// handler run (`handler` is `None`) every restart code restarts; with
    /// one, ERESTARTSYS restarts only under `SA_RESTART` (the `bool`),
    /// ERESTARTNOINTR always, the others never. ERESTART_RESTARTBLOCK
    /// restarts as `restart_syscall(2)`, which finishes the call from its
    /// restart block.
    fn finish_interrupted_syscall(&mut self, code: Errno, handler: Option<bool>) {
        let restart = match handler {
            None => true,
            Some(_) if code == Errno::ERESTARTNOINTR => true,
            Some(sa_restart) => code == Errno::ERESTARTSYS && sa_restart,
        };
        if restart {
            self.regs.rax = if code == Errno::ERESTART_RESTARTBLOCK {
                abi::sysno::SYS_RESTART_SYSCALL
            } else {
                self.regs.orig_rax
            };
            self.regs.rip -= 2;
        } else {
            self.regs.rax = Errno::EINTR.as_return();
        }
    }

    /// Builds the frame for `signo`'s handler on the right stack and points
    /// the registers at the handler.
    fn setup_frame(&mut self, signo: u32, action: &SigAction, info: SigInfo) -> Result<(), Errno> {
        let regs = self.regs;
        let mut sp = regs.rsp;
        let was_on_altstack = self.on_altstack(sp);
        if action.flags & SA_ONSTACK != 0
            && self.altstack.ss_flags & SS_DISABLE.cast_signed() == 0
            && !was_on_altstack
        {
            sp = self.altstack.ss_sp + self.altstack.ss_size;
        } else {
            sp = sp.wrapping_sub(RED_ZONE);
        }
        let mut fpu = self
            .context
            .fpu_state(self.mm.address_space().as_ref())
            .map_err(|_| Errno::EFAULT)?;
        // An xsave area is followed by FP_XSTATE_MAGIC2, as in Linux's
        // frames; the legacy area alone is all a CPU without xsave has.
        let xsave = platform::xsave::sw_bytes(&fpu)
            .and_then(|sw| usize::try_from(sw.xstate_size).ok())
            .filter(|&size| size <= fpu.len());
        match xsave {
            Some(size) => {
                fpu.truncate(size);
                fpu.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
            }
            None => fpu.truncate(FXSAVE_SIZE),
        }
        let fp_addr = sp.wrapping_sub(fpu.len() as u64) & !(FPSTATE_ALIGN - 1);
        let frame_size = size_of::<RtSigFrame>() as u64;
        // On entry the handler sees rsp as if `call`ed: (rsp + 8) % 16 == 0.
        let frame_addr = ((fp_addr.wrapping_sub(frame_size)) & !15).wrapping_sub(8);
        let old_mask = self
            .saved_mask
            .take()
            .unwrap_or_else(|| self.handle.signal_mask());
        let mut stack = self.altstack;
        if was_on_altstack {
            stack.ss_flags = SS_ONSTACK.cast_signed();
        }
        let frame = RtSigFrame {
            pretcode: action.restorer,
            uc: UContext {
                uc_flags: UC_SIGCONTEXT_SS
                    | UC_STRICT_RESTORE_SS
                    | if xsave.is_some() { UC_FP_XSTATE } else { 0 },
                uc_link: 0,
                uc_stack: stack,
                uc_mcontext: SigContext {
                    r8: regs.r8,
                    r9: regs.r9,
                    r10: regs.r10,
                    r11: regs.r11,
                    r12: regs.r12,
                    r13: regs.r13,
                    r14: regs.r14,
                    r15: regs.r15,
                    rdi: regs.rdi,
                    rsi: regs.rsi,
                    rbp: regs.rbp,
                    rbx: regs.rbx,
                    rdx: regs.rdx,
                    rax: regs.rax,
                    rcx: regs.rcx,
                    rsp: regs.rsp,
                    rip: regs.rip,
                    eflags: regs.eflags,
                    cs: u16::try_from(regs.cs).unwrap_or(0x33),
                    ss: u16::try_from(regs.ss).unwrap_or(0x2b),
                    oldmask: old_mask,
                    cr2: if signo == SIGSEGV { info.fields[0] } else { 0 },
                    fpstate: fp_addr,
                    ..SigContext::default()
                },
                uc_sigmask: old_mask,
            },
            info,
        };
        // x86-64 handlers return through the restorer; without one Linux
        // has nowhere to return and kills the task.
        if action.flags & SA_RESTORER == 0 {
            return Err(Errno::EFAULT);
        }
        self.mm.copy_out(fp_addr, &fpu)?;
        self.mm.copy_out(frame_addr, frame.as_bytes())?;

        self.regs.rsp = frame_addr;
        self.regs.rip = action.handler;
        self.regs.rdi = u64::from(signo);
        self.regs.rsi = frame_addr + std::mem::offset_of!(RtSigFrame, info) as u64;
        self.regs.rdx = frame_addr + std::mem::offset_of!(RtSigFrame, uc) as u64;
        self.regs.rax = 0;
        self.regs.eflags &= !HANDLER_CLEARED_EFLAGS;
        self.regs.cs = platform_user_cs();
        self.regs.ss = platform_user_ss();
        if action.flags & SA_ONSTACK != 0
            && self.altstack.ss_flags & abi::signal::SS_AUTODISARM.cast_signed() != 0
        {
            self.altstack = StackT {
                ss_flags: SS_DISABLE.cast_signed(),
                ..StackT::default()
            };
        }
        // The handler runs with the mask in force now, which is the
        // temporary one of sigsuspend, ppoll or epoll_pwait (Linux's
        // signal_delivered); the frame restores the saved one.
        let mut mask = self.handle.signal_mask() | action.mask;
        if action.flags & SA_NODEFER == 0 {
            mask |= sigmask(signo);
        }
        self.handle.set_signal_mask(mask);
        if action.flags & SA_RESETHAND != 0 {
            let reset = SigAction {
                flags: action.flags & !SA_SIGINFO,
                ..SigAction::default()
            };
            lock(&self.thread_group.actions).set(
                signo,
                SigAction {
                    handler: SIG_DFL,
                    ..reset
                },
            );
        }
        Ok(())
    }

    /// Delivers a synchronous signal the program caused (a fault, a trap):
    /// to its handler if it has one that is neither blocked nor ignored,
    /// else the thread group dies of it, as Linux's `force_sig_info` does.
    pub(super) fn force_signal_info(&mut self, info: SigInfo) {
        let signo = info.si_signo.cast_unsigned();
        let action = self.thread_group.action(signo);
        let blocked = self.handle.signal_mask() & sigmask(signo) != 0;
        if action.handler == SIG_DFL || action.handler == SIG_IGN || blocked {
            self.exit_status = Some(self.thread_group.fatal_status(signo));
            return;
        }
        if self.setup_frame(signo, &action, info).is_err() {
            self.exit_status = Some(self.thread_group.fatal_status(SIGSEGV));
        }
    }

    /// `rt_sigreturn`: restores what the frame at `rsp - 8` saved. Returns
    /// the restored `rax`, which the syscall then "returns".
    ///
    /// # Errors
    /// EFAULT for a frame that cannot be read; the caller kills the task
    /// with SIGSEGV, as Linux does.
    pub fn sigreturn(&mut self) -> Result<u64, Errno> {
        let frame_addr = self.regs.rsp.wrapping_sub(8);
        let frame: RtSigFrame = self.mm.read_obj(frame_addr)?;
        let sc = frame.uc.uc_mcontext;
        let r = &mut self.regs;
        (r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15) =
            (sc.r8, sc.r9, sc.r10, sc.r11, sc.r12, sc.r13, sc.r14, sc.r15);
        (
            r.rdi, r.rsi, r.rbp, r.rbx, r.rdx, r.rax, r.rcx, r.rsp, r.rip,
        ) = (
            sc.rdi, sc.rsi, sc.rbp, sc.rbx, sc.rdx, sc.rax, sc.rcx, sc.rsp, sc.rip,
        );
        r.eflags = (r.eflags & !FIX_EFLAGS) | (sc.eflags & FIX_EFLAGS);
        r.cs = platform_user_cs();
        r.ss = platform_user_ss();
        // No syscall restart on the way back, and a later
        // `restart_syscall` has nothing to finish.
        r.orig_rax = u64::MAX;
        self.restart_block = None;
        let rax = r.rax;
        self.handle
            .set_signal_mask(frame.uc.uc_sigmask & !UNBLOCKABLE);
        // restore_altstack: a bad stack_t is ignored, as Linux does.
        let st = frame.uc.uc_stack;
        if st.ss_flags & SS_DISABLE.cast_signed() != 0 {
            self.altstack = StackT {
                ss_flags: SS_DISABLE.cast_signed(),
                ..StackT::default()
            };
        } else if st.ss_size >= abi::signal::MINSIGSTKSZ {
            self.altstack = StackT {
                ss_flags: st.ss_flags & !SS_ONSTACK.cast_signed(),
                ..st
            };
        }
        let aspace = std::sync::Arc::clone(self.mm.address_space());
        if sc.fpstate == 0 {
            self.context
                .reset_fpu_state(aspace.as_ref())
                .map_err(|_| Errno::EFAULT)?;
        } else {
            let fpu = self.frame_fpu_state(sc.fpstate)?;
            self.context
                .set_fpu_state(aspace.as_ref(), &fpu)
                .map_err(|_| Errno::EFAULT)?;
        }
        // Signals the restored mask lets through are delivered next.
        Ok(rax)
    }
}

impl Task {
    /// The FPU state a frame holds at `addr`: the whole xsave area if the
    /// frame says it has one (the software-reserved bytes' layout, and
    /// FP_XSTATE_MAGIC2 right after it), else the legacy area, as Linux's
    /// `check_xstate_in_sigframe` decides.
    fn frame_fpu_state(&self, addr: u64) -> Result<Vec<u8>, Errno> {
        let mut fpu = vec![0u8; FXSAVE_SIZE];
        self.mm.copy_in(addr, &mut fpu)?;
        let Some(size) =
            platform::xsave::sw_bytes(&fpu).and_then(|sw| usize::try_from(sw.xstate_size).ok())
        else {
            return Ok(fpu);
        };
        let magic2: u32 = self.mm.read_obj(addr.wrapping_add(size as u64))?;
        if magic2 == FP_XSTATE_MAGIC2 {
            fpu.resize(size, 0);
            self.mm.copy_in(addr, &mut fpu)?;
        }
        Ok(fpu)
    }
}

fn platform_user_cs() -> u64 {
    platform::Registers::new_user(0, 0).cs
}

fn platform_user_ss() -> u64 {
    platform::Registers::new_user(0, 0).ss
}
