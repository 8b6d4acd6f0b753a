//! Tests of the platform contract that every platform must pass: each
//! platform's own test module runs them against a fresh instance.

use crate::{Event, MemoryFile, Perms, Platform, Registers};

/// `mov eax, 39; syscall; mov rdi, rax; mov eax, 60; syscall; int3`
const PROGRAM: &[u8] = &[
    0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05, 0xcc,
];
/// Where the tests map their code.
pub(crate) const CODE: u64 = 0x40_0000;

/// Program code runs until its first fault, its syscalls come to the
/// sentry (the host never runs them) and its int3 is a SIGTRAP.
pub(crate) fn runs_code_reports_syscalls_and_faults(memory: &MemoryFile, platform: &dyn Platform) {
    memory.write(0, PROGRAM);
    let aspace = platform.new_address_space().unwrap();
    let mut context = platform.new_context().unwrap();
    let mut regs = Registers::new_user(CODE, 0);

    // Nothing is mapped yet: the first instruction fetch faults.
    match context.switch(aspace.as_ref(), &mut regs).unwrap() {
        Event::Fault { addr, .. } => assert_eq!(addr, CODE),
        event => panic!("expected a fault, got {event:?}"),
    }
    aspace
        .map_file(CODE, 0, 4096, Perms::READ_EXECUTE, false)
        .unwrap();

    let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
    assert!(matches!(event, Event::Syscall), "{event:?}");
    assert_eq!(regs.syscall_nr(), 39);
    assert_eq!(regs.rip, CODE + 7);
    regs.rax = 1234;

    let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
    assert!(matches!(event, Event::Syscall), "{event:?}");
    assert_eq!((regs.syscall_nr(), regs.rdi), (60, 1234));

    // The host never ran the exit: the stub is still there, at the int3.
    match context.switch(aspace.as_ref(), &mut regs).unwrap() {
        Event::Signal(info) => assert_eq!(info.si_signo, libc::SIGTRAP),
        event => panic!("expected SIGTRAP, got {event:?}"),
    }
}

/// An interrupt posted before a switch makes it return at once.
pub(crate) fn interrupt_before_switch_returns_at_once(platform: &dyn Platform) {
    let aspace = platform.new_address_space().unwrap();
    let mut context = platform.new_context().unwrap();
    context.interrupter().interrupt();
    let mut regs = Registers::new_user(CODE, 0);
    let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
    assert!(matches!(event, Event::Interrupted), "{event:?}");
}
