//! The x86 `xsave` area as the kernel hands it out (`PTRACE_GETREGSET`
//! `NT_X86_XSTATE`, the FPU state of a signal frame): the legacy `fxsave`
//! part, whose software-reserved bytes describe the layout, the xsave
//! header, then the extended components (AVX's upper halves, ...).
//!
//! Every platform reads a thread's FPU state as such an area and restores
//! one a program handed back (`rt_sigreturn`); the checks that keep a
//! program's area loadable live here, once.

use abi::signal::{
    FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2_SIZE, FX_SW_BYTES_OFFSET, FXSAVE_SIZE, FpxSwBytes,
    XFEATURE_MASK_FPSSE, XSAVE_HEADER_SIZE,
};
use zerocopy::{FromBytes, IntoBytes};

/// The largest xsave area accepted (AMX's tile data makes it about 11 KiB).
pub const MAX_XSTATE_SIZE: usize = 16 << 10;

/// The offset of MXCSR in the legacy area.
const MXCSR: usize = 24;
/// The offset of `xstate_bv` (the header's first word).
const XSTATE_BV: usize = FXSAVE_SIZE;

/// The xsave layout `area`'s software-reserved bytes describe, if they
/// hold a sane one (`FP_XSTATE_MAGIC1`, a size that covers the header and
/// the sizes agreeing, as the kernel's `check_xstate_in_sigframe` wants).
pub fn sw_bytes(area: &[u8]) -> Option<FpxSwBytes> {
    let raw = area.get(FX_SW_BYTES_OFFSET..FXSAVE_SIZE)?;
    let sw = FpxSwBytes::read_from_bytes(raw).ok()?;
    let size = usize::try_from(sw.xstate_size).ok()?;
    (sw.magic1 == FP_XSTATE_MAGIC1
        && (FXSAVE_SIZE + XSAVE_HEADER_SIZE..=MAX_XSTATE_SIZE).contains(&size)
        && sw.xstate_size <= sw.extended_size)
        .then_some(sw)
}

/// Writes into `area`'s software-reserved bytes the description a signal
/// frame has: the area is all xsave state (its whole length) and may hold
/// the components of `xfeatures`.
pub fn describe(area: &mut [u8], xfeatures: u64) {
    let (Ok(size), Ok(extended)) = (
        u32::try_from(area.len()),
        u32::try_from(area.len() + FP_XSTATE_MAGIC2_SIZE),
    ) else {
        return;
    };
    let sw = FpxSwBytes {
        magic1: FP_XSTATE_MAGIC1,
        extended_size: extended,
        xfeatures,
        xstate_size: size,
        padding: [0; 7],
    };
    if let Some(raw) = area.get_mut(FX_SW_BYTES_OFFSET..FXSAVE_SIZE) {
        raw.copy_from_slice(sw.as_bytes());
    }
}

/// Writes `state` into `current`, the thread's area as the host gave it
/// (its software-reserved bytes describe the host's layout and are kept).
/// `state` is an area as [`crate::Context::fpu_state`] returns it, or only
/// a legacy `fxsave` area: then the other components return to their
/// initial state, as Linux's `rt_sigreturn` of a non-xsave frame does.
///
/// What the hardware would refuse is made loadable: MXCSR's reserved
/// bits, components the host does not have, the compacted format and the
/// header's reserved bytes.
pub fn merge(current: &mut [u8], state: &[u8]) {
    let legacy = FX_SW_BYTES_OFFSET.min(current.len()).min(state.len());
    current[..legacy].copy_from_slice(&state[..legacy]);
    let mxcsr_at = MXCSR..MXCSR + 4;
    if let Some(bytes) = current.get_mut(mxcsr_at) {
        let mxcsr = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) & 0xffff;
        bytes.copy_from_slice(&mxcsr.to_le_bytes());
    }
    let Some(host) = sw_bytes(current) else {
        return;
    };
    let end = current.len().min(state.len());
    let bv = if end > FXSAVE_SIZE + XSAVE_HEADER_SIZE {
        current[FXSAVE_SIZE..end].copy_from_slice(&state[FXSAVE_SIZE..end]);
        read_u64(current, XSTATE_BV)
    } else {
        XFEATURE_MASK_FPSSE
    };
    write_u64(current, XSTATE_BV, bv & host.xfeatures);
    current[XSTATE_BV + 8..FXSAVE_SIZE + XSAVE_HEADER_SIZE].fill(0);
}

/// Resets `area` to the initial FPU state (as `execve` does): the legacy
/// area as after FNINIT with MXCSR at its reset value, and every other
/// component in its initial state. The host's layout description stays.
pub fn reset(area: &mut [u8]) {
    let legacy = FX_SW_BYTES_OFFSET.min(area.len());
    area[..legacy].fill(0);
    if area.len() >= MXCSR + 4 {
        area[0..2].copy_from_slice(&0x037fu16.to_le_bytes());
        area[MXCSR..MXCSR + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
    }
    if sw_bytes(area).is_some() {
        area[FXSAVE_SIZE..].fill(0);
        // x87 and SSE come from the legacy area just written.
        write_u64(area, XSTATE_BV, XFEATURE_MASK_FPSSE);
    }
}

fn read_u64(area: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&area[at..at + 8]);
    u64::from_le_bytes(word)
}

fn write_u64(area: &mut [u8], at: usize, value: u64) {
    area[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_area(size: usize, xfeatures: u64) -> Vec<u8> {
        let mut area = vec![0u8; size];
        describe(&mut area, xfeatures);
        area
    }

    #[test]
    fn merge_keeps_host_layout_and_masks_features() {
        let mut current = host_area(832, 0x7);
        let mut state = vec![0xffu8; 832];
        state[FX_SW_BYTES_OFFSET..FXSAVE_SIZE].fill(0);
        merge(&mut current, &state);
        assert!(sw_bytes(&current).is_some());
        assert_eq!(read_u64(&current, XSTATE_BV), 0x7);
        assert_eq!(read_u64(&current, XSTATE_BV + 8), 0);
        assert_eq!(&current[MXCSR..MXCSR + 4], &0xffffu32.to_le_bytes());
        assert_eq!(current[700], 0xff);
    }

    #[test]
    fn legacy_only_state_resets_other_components() {
        let mut current = host_area(832, 0x7);
        write_u64(&mut current, XSTATE_BV, 0x7);
        merge(&mut current, &[0u8; FXSAVE_SIZE]);
        assert_eq!(read_u64(&current, XSTATE_BV), XFEATURE_MASK_FPSSE);
    }

    #[test]
    fn insane_sw_bytes_are_refused() {
        let mut area = host_area(832, 0x7);
        // xstate_size, past the largest area accepted.
        area[FX_SW_BYTES_OFFSET + 16..FX_SW_BYTES_OFFSET + 20]
            .copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(sw_bytes(&area).is_none());
        assert!(sw_bytes(&[0u8; 100]).is_none());
    }
}
