//! Tests of the platform contract that every platform must pass: each
//! platform's own test module runs them against a fresh instance.

use crate::{Event, MapChange, MemoryFile, Perms, Platform, Registers};

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

/// `movabs $DATA, %rbx; mov (%rbx), %rax; syscall; mov %rax, (%rbx); int3`
const READ_THEN_WRITE: &[u8] = &[
    0x48, 0xbb, 0, 0, 0x50, 0, 0, 0, 0, 0, 0x48, 0x8b, 0x03, 0x0f, 0x05, 0x48, 0x89, 0x03, 0xcc,
];
/// Where [`READ_THEN_WRITE`] reads and writes.
const DATA: u64 = 0x50_0000;

/// A protected page keeps its mapping for reads and faults on a write.
pub(crate) fn protect_keeps_reads_and_faults_writes(memory: &MemoryFile, platform: &dyn Platform) {
    memory.write(0, READ_THEN_WRITE);
    memory.write(4096, &77u64.to_le_bytes());
    let aspace = platform.new_address_space().unwrap();
    let mut context = platform.new_context().unwrap();
    let mut regs = Registers::new_user(CODE, 0);
    aspace
        .map_file(CODE, 0, 4096, Perms::READ_EXECUTE, false)
        .unwrap();
    aspace
        .map_file(DATA, 4096, 4096, Perms::READ_WRITE, false)
        .unwrap();
    aspace.protect(DATA, 4096, Perms::READ).unwrap();

    let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
    assert!(matches!(event, Event::Syscall), "{event:?}");
    assert_eq!(regs.syscall_nr(), 77);
    regs.rax = 78;
    match context.switch(aspace.as_ref(), &mut regs).unwrap() {
        Event::Fault { addr, .. } => assert_eq!(addr, DATA),
        event => panic!("expected a fault, got {event:?}"),
    }
    let mut word = [0u8; 8];
    memory.read(4096, &mut word);
    assert_eq!(u64::from_le_bytes(word), 77);
}

/// A change that maps one page of the MemoryFile.
fn map_page(addr: u64, offset: u64, perms: Perms) -> MapChange {
    MapChange::Map {
        addr,
        offset,
        len: 4096,
        perms,
        populate: false,
    }
}

/// A prefault changes no byte of the pages it covers, alone in a call or
/// after the mapping that made them.
pub(crate) fn prefault_keeps_contents(memory: &MemoryFile, platform: &dyn Platform) {
    memory.write(0, READ_THEN_WRITE);
    memory.write(8192, &99u64.to_le_bytes());
    let aspace = platform.new_address_space().unwrap();
    let mut context = platform.new_context().unwrap();
    let mut regs = Registers::new_user(CODE, 0);
    let prefault = MapChange::Prefault {
        addr: DATA,
        len: 4096,
    };
    aspace
        .apply(&[
            map_page(CODE, 0, Perms::READ_EXECUTE),
            map_page(DATA, 8192, Perms::READ_WRITE),
            prefault,
        ])
        .unwrap();
    aspace.apply(&[prefault]).unwrap();
    let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
    assert!(matches!(event, Event::Syscall), "{event:?}");
    assert_eq!(regs.syscall_nr(), 99);
    let mut word = [0u8; 8];
    memory.read(8192, &mut word);
    assert_eq!(u64::from_le_bytes(word), 99);
}

/// `apply` makes its changes in order, however many there are: a page
/// mapped over and over maps what the last change says, and a protect at
/// the end keeps reads and faults writes.
pub(crate) fn apply_makes_changes_in_order(memory: &MemoryFile, platform: &dyn Platform) {
    memory.write(0, READ_THEN_WRITE);
    memory.write(4096, &77u64.to_le_bytes());
    memory.write(8192, &99u64.to_le_bytes());
    let aspace = platform.new_address_space().unwrap();
    let mut context = platform.new_context().unwrap();
    let mut regs = Registers::new_user(CODE, 0);
    let mut changes = vec![map_page(CODE, 0, Perms::READ_EXECUTE)];
    // More changes than one request of any platform carries.
    changes.extend((0..300).map(|_| map_page(DATA, 8192, Perms::READ_WRITE)));
    changes.push(MapChange::Unmap {
        addr: DATA,
        len: 4096,
    });
    changes.push(map_page(DATA, 4096, Perms::READ_WRITE));
    changes.push(MapChange::Protect {
        addr: DATA,
        len: 4096,
        perms: Perms::READ,
    });
    aspace.apply(&changes).unwrap();

    let event = context.switch(aspace.as_ref(), &mut regs).unwrap();
    assert!(matches!(event, Event::Syscall), "{event:?}");
    assert_eq!(regs.syscall_nr(), 77);
    match context.switch(aspace.as_ref(), &mut regs).unwrap() {
        Event::Fault { addr, .. } => assert_eq!(addr, DATA),
        event => panic!("expected a fault, got {event:?}"),
    }
}
