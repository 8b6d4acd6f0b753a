//! `/proc/cpuinfo`, built from CPUID (the host's `/proc` is out of reach
//! after `pivot_root`), one block per sandbox CPU.

use core::arch::x86_64::{__cpuid, __cpuid_count};

/// CPUID bit → flag name, for leaf 1 EDX, leaf 1 ECX, leaf 7 EBX, leaf 7
/// ECX, leaf 0x8000_0001 EDX and ECX (`arch/x86/include/asm/cpufeatures.h`).
const LEAF1_EDX: &[(u32, &str)] = &[
    (0, "fpu"),
    (1, "vme"),
    (2, "de"),
    (3, "pse"),
    (4, "tsc"),
    (5, "msr"),
    (6, "pae"),
    (7, "mce"),
    (8, "cx8"),
    (9, "apic"),
    (11, "sep"),
    (12, "mtrr"),
    (13, "pge"),
    (14, "mca"),
    (15, "cmov"),
    (16, "pat"),
    (17, "pse36"),
    (19, "clflush"),
    (23, "mmx"),
    (24, "fxsr"),
    (25, "sse"),
    (26, "sse2"),
    (27, "ss"),
    (28, "ht"),
];
const EXT1_EDX: &[(u32, &str)] = &[
    (11, "syscall"),
    (20, "nx"),
    (22, "mmxext"),
    (26, "pdpe1gb"),
    (27, "rdtscp"),
    (29, "lm"),
];
const LEAF1_ECX: &[(u32, &str)] = &[
    (0, "pni"),
    (1, "pclmulqdq"),
    (3, "monitor"),
    (9, "ssse3"),
    (12, "fma"),
    (13, "cx16"),
    (17, "pcid"),
    (19, "sse4_1"),
    (20, "sse4_2"),
    (21, "x2apic"),
    (22, "movbe"),
    (23, "popcnt"),
    (24, "tsc_deadline_timer"),
    (25, "aes"),
    (26, "xsave"),
    (28, "avx"),
    (29, "f16c"),
    (30, "rdrand"),
    (31, "hypervisor"),
];
const EXT1_ECX: &[(u32, &str)] = &[
    (0, "lahf_lm"),
    (1, "cmp_legacy"),
    (5, "abm"),
    (6, "sse4a"),
    (8, "3dnowprefetch"),
];
const LEAF7_EBX: &[(u32, &str)] = &[
    (0, "fsgsbase"),
    (3, "bmi1"),
    (4, "hle"),
    (5, "avx2"),
    (7, "smep"),
    (8, "bmi2"),
    (9, "erms"),
    (10, "invpcid"),
    (11, "rtm"),
    (16, "avx512f"),
    (17, "avx512dq"),
    (18, "rdseed"),
    (19, "adx"),
    (20, "smap"),
    (21, "avx512ifma"),
    (23, "clflushopt"),
    (24, "clwb"),
    (28, "avx512cd"),
    (29, "sha_ni"),
    (30, "avx512bw"),
    (31, "avx512vl"),
];
const LEAF7_ECX: &[(u32, &str)] = &[
    (1, "avx512vbmi"),
    (2, "umip"),
    (3, "pku"),
    (5, "waitpkg"),
    (6, "avx512_vbmi2"),
    (8, "gfni"),
    (9, "vaes"),
    (10, "vpclmulqdq"),
    (11, "avx512_vnni"),
    (12, "avx512_bitalg"),
    (14, "avx512_vpopcntdq"),
    (22, "rdpid"),
];

fn flags(reg: u32, table: &[(u32, &'static str)], out: &mut Vec<&'static str>) {
    for &(bit, name) in table {
        if reg & (1 << bit) != 0 {
            out.push(name);
        }
    }
}

fn regs_bytes(regs: &[u32]) -> String {
    let bytes: Vec<u8> = regs.iter().flat_map(|r| r.to_le_bytes()).collect();
    String::from_utf8_lossy(&bytes)
        .trim_matches(char::from(0))
        .trim()
        .to_owned()
}

/// The text of `/proc/cpuinfo` for `cpus` (their count; numbered from 0).
pub(crate) fn cpuinfo(cpus: &[usize]) -> String {
    let l0 = __cpuid(0);
    let vendor = regs_bytes(&[l0.ebx, l0.edx, l0.ecx]);
    let l1 = __cpuid(1);
    let stepping = l1.eax & 0xf;
    let base_model = (l1.eax >> 4) & 0xf;
    let base_family = (l1.eax >> 8) & 0xf;
    let family = if base_family == 0xf {
        base_family + ((l1.eax >> 20) & 0xff)
    } else {
        base_family
    };
    let model = if base_family == 0x6 || base_family == 0xf {
        base_model | (((l1.eax >> 16) & 0xf) << 4)
    } else {
        base_model
    };
    let max_ext = __cpuid(0x8000_0000).eax;
    let name = if max_ext >= 0x8000_0004 {
        let mut regs = Vec::new();
        for leaf in 0x8000_0002u32..=0x8000_0004 {
            let r = __cpuid(leaf);
            regs.extend([r.eax, r.ebx, r.ecx, r.edx]);
        }
        regs_bytes(&regs)
    } else {
        String::from("unknown")
    };
    let mut names = Vec::new();
    flags(l1.edx, LEAF1_EDX, &mut names);
    if max_ext >= 0x8000_0001 {
        flags(__cpuid(0x8000_0001).edx, EXT1_EDX, &mut names);
    }
    flags(l1.ecx, LEAF1_ECX, &mut names);
    if max_ext >= 0x8000_0001 {
        flags(__cpuid(0x8000_0001).ecx, EXT1_ECX, &mut names);
    }
    if l0.eax >= 7 {
        let l7 = __cpuid_count(7, 0);
        flags(l7.ebx, LEAF7_EBX, &mut names);
        flags(l7.ecx, LEAF7_ECX, &mut names);
    }
    let flags = names.join(" ");
    let addr = if max_ext >= 0x8000_0008 {
        let a = __cpuid(0x8000_0008).eax;
        format!(
            "{} bits physical, {} bits virtual",
            a & 0xff,
            (a >> 8) & 0xff
        )
    } else {
        String::from("46 bits physical, 48 bits virtual")
    };
    let clflush = ((l1.ebx >> 8) & 0xff) * 8;
    let n = cpus.len().max(1);
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            "processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\n\
             model name\t: {name}\nstepping\t: {stepping}\nphysical id\t: 0\nsiblings\t: {n}\n\
             core id\t\t: {i}\ncpu cores\t: {n}\napicid\t\t: {i}\ninitial apicid\t: {i}\n\
             fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: {}\nwp\t\t: yes\n\
             flags\t\t: {flags}\nclflush size\t: {clflush}\ncache_alignment\t: {clflush}\n\
             address sizes\t: {addr}\npower management:\n\n",
            l0.eax
        ));
    }
    out
}
