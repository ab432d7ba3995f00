//! Fuzz property: the golden model's request path never panics and keeps its contract on
//! arbitrary input, starting from tables the OS driver built (a few domains and mappings of
//! every page size, pass-through, FPD, an output in the interrupt window, an IR table with
//! remapped and posted entries, queued invalidation, fault events unmasked).
//!
//! Each case is a sequence of operations on a copy of that platform:
//! - an upstream request: raw header DWs (arbitrary, or a decodable Fmt/Type with random
//!   fields), or a well-formed MRd/MWr/atomic/MSI aimed at the mapped IOVAs and known devices
//!   with a random AT; handled by `Model::process` or by `evaluate` + `commit` of an allowed
//!   member (fresh or stale);
//! - a register write or read at any offset and size (including invalid ones);
//! - a memory scribble into a table entry (root, context, SL PTE at each level, IRTE, PID, the
//!   invalidation queue), an injected error range there, or clearing the errors;
//! - a queued invalidation (a global flush or an arbitrary descriptor) at the current tail.
//!
//! Checked on every request (spec A8/B, decisions.md "Malformed TLP", "Caching and the
//! scoreboard", ARCHITECTURE.md "The golden model"):
//! - `evaluate` is pure (same set twice), and `process` returns the set's fresh member;
//! - `commit` accepts every member of the set and rejects an outcome outside it, without side
//!   effects on the counters;
//! - a header that does not decode gives exactly UR (non-posted) or a drop (MWr/Msg) with no
//!   fault and no fault record, and counts as malformed;
//! - a decodable request: completions only for non-posted requests and only UR/CA, drops only
//!   for MWr, interrupts only for an MWr to the interrupt window, a fault code from the DMA
//!   table (1h..Eh, 30h) or the IR table (20h..29h) as the request's class requires, a
//!   fault-less completion only for a read of the interrupt window, and at most one record.
//!
//! The case count comes from `PROPTEST_CASES` (default 2000, under a second in `cargo test`);
//! run e.g. `PROPTEST_CASES=200000 cargo test --release -p iommu-driver --test fuzz_model` for
//! a long campaign.

use iommu_driver::os::IrSetup;
use std::sync::OnceLock;

use iommu_driver::model::{Model, ModelConfig, ModelError, ModelPlatform, Outcome, Request};
use iommu_driver::os::{
    unit, BringUp, DeviceAssignment, InvRequest, Iommu, MsiMessage, OsConfig, PageSize, Perms,
    PostedInterruptDescriptor, PostedIrte, RemappedIrte,
};
use iommu_driver::tlp::{self, CplStatus, RequestKind};
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

const D1: DomainId = DomainId(1);
const D2: DomainId = DomainId(2);
const D3: DomainId = DomainId(3);
const D4: DomainId = DomainId(4);
/// 03:02.0 in D1 (4-level).
const DEV_A: Rid = Rid(0x0310);
/// 03:03.0 in D2 (3-level) with FPD=1.
const DEV_B: Rid = Rid(0x0318);
/// 00:1f.0 in D3 (5-level).
const DEV_C: Rid = Rid(0x00F8);
/// 04:00.0 pass-through.
const DEV_PT: Rid = Rid(0x0400);
/// Requesters the structured requests pick from: the assigned ones, an unassigned function on
/// bus 3, a bus without a root entry.
const RIDS: [Rid; 6] = [DEV_A, DEV_B, DEV_C, DEV_PT, Rid(0x0320), Rid(0x0700)];

/// The platform the OS driver built, and where its tables are.
struct Base {
    plat: ModelPlatform,
    /// Addresses of table entries and other structures the unit reads.
    targets: Vec<u64>,
    /// IOVAs worth aiming at (mapped, next to mapped, beyond the AGAW).
    iovas: Vec<u64>,
}

fn build_base() -> Base {
    let mut os = Iommu::new(
        ModelPlatform::new(ModelConfig::default()),
        OsConfig::default(),
    )
    .expect("attach");
    os.create_domain(D1, 4).unwrap();
    os.create_domain(D2, 3).unwrap();
    os.create_domain(D3, 5).unwrap();
    os.assign_device(DEV_A, D1).unwrap();
    os.assign_device_with(DEV_B, DeviceAssignment::translated(D2).with_fpd(true))
        .unwrap();
    os.assign_device(DEV_C, D3).unwrap();
    os.assign_device_with(DEV_PT, DeviceAssignment::pass_through(D4))
        .unwrap();
    let maps: [(DomainId, u64, u64, PageSize, Perms); 9] = [
        (D1, 0x4000_0000, 0x8000_0000, PageSize::Size4K, Perms::RW),
        (D1, 0x4000_1000, 0x8000_1000, PageSize::Size4K, Perms::RO),
        (D1, 0x4000_2000, 0x8000_2000, PageSize::Size4K, Perms::WO),
        (D1, 0x4000_3000, 0xFEE0_0000, PageSize::Size4K, Perms::RW),
        (D1, 0x8000_0000, 0x1_0000_0000, PageSize::Size2M, Perms::RW),
        (D2, 0x1000, 0x9000_0000, PageSize::Size4K, Perms::RW),
        (D2, 0x4000_0000, 0x2_0000_0000, PageSize::Size1G, Perms::RO),
        (
            D3,
            0x1_0000_0000_0000,
            0xA000_0000,
            PageSize::Size4K,
            Perms::RW,
        ),
        (
            D3,
            0x40_0000_0000,
            0x4_0000_0000,
            PageSize::Size1G,
            Perms::RW,
        ),
    ];
    for (d, iova, hpa, size, perms) in maps {
        os.map(d, Iova(iova), Hpa(hpa), size, perms).unwrap();
    }
    os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: false,
        }),
        te: true,
    })
    .unwrap();
    os.setup_fault_event(0xFEE0_1000, 0x41, false).unwrap();
    os.setup_inv_event(0xFEE0_2000, 0x42, false).unwrap();
    os.set_irte_remapped(0, &RemappedIrte::new(0x30, 1).verify_requester(DEV_A))
        .unwrap();
    os.set_irte_remapped(
        1,
        &RemappedIrte {
            svt: 0,
            ..RemappedIrte::new(0x31, 2).verify_requester(Rid(0))
        },
    )
    .unwrap();
    let pid = os.alloc_pid().unwrap();
    os.write_pid(
        pid,
        &PostedInterruptDescriptor {
            nv: 0xF2,
            ndst: 3,
            ..Default::default()
        },
    )
    .unwrap();
    os.set_irte_posted(
        2,
        &PostedIrte {
            present: true,
            vector: 0x61,
            pda: pid,
            sid: DEV_C,
            svt: 1,
            ..Default::default()
        },
    )
    .unwrap();
    os.set_irte_remapped(
        3,
        &RemappedIrte {
            fpd: true,
            ..RemappedIrte::new(0x32, 4).verify_requester(DEV_B)
        },
    )
    .unwrap();

    let mut targets = vec![pid.0, pid.0 + 32];
    for bus in [0u8, 3, 4, 7] {
        targets.push(os.root_entry_addr(bus).0);
    }
    for rid in RIDS {
        if let Some(a) = os.context_entry_addr(rid) {
            targets.push(a.0);
        }
    }
    for (d, iova, _, size, _) in maps {
        let levels = os.domain(d).unwrap().levels;
        let leaf = match size {
            PageSize::Size4K => 1,
            PageSize::Size2M => 2,
            PageSize::Size1G => 3,
        };
        for level in leaf..=levels {
            if let Ok(a) = os.pte_addr(d, Iova(iova), level) {
                targets.push(a.0);
            }
        }
    }
    for i in 0..6 {
        targets.push(os.irte_addr(i).unwrap().0);
    }
    let (qbase, _, _) = os.qi_state().expect("QI enabled");
    targets.push(qbase.0);
    targets.sort_unstable();
    targets.dedup();

    let mut iovas: Vec<u64> = maps.iter().map(|m| m.1).collect();
    iovas.extend([0x4000_4000, 0x8020_0000, 1 << 39, 1 << 48, 1 << 57, 0]);
    os.platform_mut().model.take_events();
    Base {
        plat: os.into_platform(),
        targets,
        iovas,
    }
}

fn base() -> &'static Base {
    static B: OnceLock<Base> = OnceLock::new();
    B.get_or_init(build_base)
}

/// A request header: raw, or built from (kind, requester, address, AT).
#[derive(Debug, Clone)]
enum Hdr {
    Raw([u32; 4]),
    Built {
        kind: u8,
        rid: usize,
        addr: (usize, u64),
        at: u8,
        len: u64,
    },
}

#[derive(Debug, Clone)]
enum Op {
    /// `commit`: `None` = `process`; `Some(i)` = `evaluate` + commit member i (mod len).
    Req {
        hdr: Hdr,
        data0: u32,
        commit: Option<u8>,
    },
    RegWrite {
        off: u16,
        size: u8,
        value: u64,
    },
    RegRead {
        off: u16,
        size: u8,
    },
    /// Write `value` (4, 8 or 16 bytes) at target[t] + off.
    Scribble {
        t: usize,
        off: u8,
        width: u8,
        value: u128,
    },
    Inject {
        t: usize,
        len: u8,
    },
    ClearErrors,
    /// Queue a descriptor at IQT: a known flush (0..4) or the raw pair.
    Qi {
        which: u8,
        raw: (u64, u64),
    },
}

/// DW0 values: fully random, or a random body under a Fmt/Type byte that decodes.
fn dw0() -> impl Strategy<Value = u32> {
    let bytes = vec![
        0x00u8, 0x20, 0x01, 0x21, 0x40, 0x60, 0x4C, 0x6C, 0x4D, 0x6D, 0x4E, 0x6E, 0x30, 0x70,
    ];
    prop_oneof![
        any::<u32>(),
        (prop::sample::select(bytes), any::<u32>())
            .prop_map(|(b, r)| (b as u32) << 24 | (r & 0x00FF_FFFF)),
    ]
}

fn hdr() -> impl Strategy<Value = Hdr> {
    prop_oneof![
        1 => (dw0(), any::<u32>(), any::<u32>(), any::<u32>())
            .prop_map(|(a, b, c, d)| Hdr::Raw([a, b, c, d])),
        3 => (
            0u8..8,
            prop_oneof![Just(0usize), 0usize..RIDS.len() + 1],
            (0usize..32, any::<u64>()),
            prop_oneof![6 => Just(0u8), 1 => 1u8..4],
            prop_oneof![Just(4u64), 1u64..600],
        )
            .prop_map(|(kind, rid, addr, at, len)| Hdr::Built {
                kind,
                rid,
                addr,
                at,
                len,
            }),
    ]
}

/// Register offsets: the architectural ones, the FRCDs and counters, or anything.
fn reg_off() -> impl Strategy<Value = u16> {
    let known: Vec<u16> = vec![
        0x000, 0x008, 0x010, 0x018, 0x01C, 0x020, 0x024, 0x028, 0x02C, 0x034, 0x038, 0x03C, 0x040,
        0x044, 0x080, 0x088, 0x090, 0x09C, 0x0A0, 0x0A4, 0x0A8, 0x0AC, 0x0B0, 0x0B8, 0x100, 0x108,
        0x10C, 0x200, 0x208, 0x270, 0x278, 0x280, 0x300, 0x348, 0x350,
    ];
    prop_oneof![
        3 => prop::sample::select(known),
        1 => any::<u16>(),
        1 => 0u16..0x400,
    ]
}

fn reg_size() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(4u8), 4 => Just(8u8), 1 => any::<u8>()]
}

/// GCMD values worth sending: the one-shot and enable bits, alone or together, or anything.
fn reg_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => any::<u64>(),
        1 => prop::sample::select(vec![
            1u64 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24, 1 << 23,
            1 << 31 | 1 << 30, 0, 0xFFFF_FFFF,
        ]),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (hdr(), any::<u32>(), prop::option::weighted(0.5, any::<u8>()))
            .prop_map(|(hdr, data0, commit)| Op::Req { hdr, data0, commit }),
        2 => (reg_off(), reg_size(), reg_value())
            .prop_map(|(off, size, value)| Op::RegWrite { off, size, value }),
        1 => (reg_off(), reg_size()).prop_map(|(off, size)| Op::RegRead { off, size }),
        3 => (any::<usize>(), 0u8..24, 0u8..3, any::<u128>())
            .prop_map(|(t, off, width, value)| Op::Scribble { t, off, width, value }),
        1 => (any::<usize>(), 1u8..32).prop_map(|(t, len)| Op::Inject { t, len }),
        1 => Just(Op::ClearErrors),
        2 => (0u8..6, (any::<u64>(), any::<u64>())).prop_map(|(which, raw)| Op::Qi { which, raw }),
    ]
}

/// The request an `Op::Req` header stands for.
fn request(b: &Base, h: &Hdr, data0: u32) -> Request {
    let raw = |hdr| Request { hdr, data0 };
    match *h {
        Hdr::Raw(d) => raw(d),
        Hdr::Built {
            kind,
            rid,
            addr: (ai, any_addr),
            at,
            len,
        } => {
            let rid = RIDS.get(rid).copied().unwrap_or(Rid(any_addr as u16));
            // Aim at a listed IOVA (plus a small offset), the interrupt window, or anywhere.
            let addr = match b.iovas.get(ai) {
                Some(a) => a + (any_addr & 0xFF8),
                None if ai % 2 == 0 => 0xFEE0_0000 | (any_addr & 0xF_FFFC),
                None => any_addr & !3,
            };
            let built = match kind {
                0 => tlp::mem_read(rid, 1, addr, len),
                1 => tlp::mem_write(rid, 2, addr, len),
                2 => tlp::atomic(RequestKind::FetchAdd, rid, 3, addr, 4),
                3 => tlp::atomic(RequestKind::Cas, rid, 4, addr, 16),
                4 => {
                    // Remappable MSI (spec B2): a handle near the programmed IRTEs, a
                    // subhandle or not; the data usually clean (bits 31:16 zero).
                    let sub = (data0 & 1 != 0).then_some((data0 >> 1) as u16 & 7);
                    let h = (any_addr % if data0 & 0x100 != 0 { 24 } else { 6 }) as u16;
                    let m = MsiMessage::remappable(h, sub);
                    // Usually the requester the IRTE names (SVT=01), so remapping and
                    // posting are reached, not only the SID check.
                    let rid = match (data0 & 0x200 == 0, h) {
                        (true, 0) => DEV_A,
                        (true, 2) => DEV_C,
                        (true, 3) => DEV_B,
                        _ => rid,
                    };
                    let data = if data0 & 0xF0 == 0 { data0 } else { m.data };
                    let w = tlp::msi_write(rid, m.addr, data);
                    return Request::msi(&w);
                }
                6 => {
                    let m = MsiMessage::compat(any_addr as u8, data0 as u8);
                    return Request::msi(&tlp::msi_write(rid, m.addr, m.data));
                }
                7 => {
                    let a = 0xFEE0_0000 | (any_addr & 0xF_FFFC);
                    return raw(tlp::msi_write(rid, a, data0).hdr());
                }
                _ => tlp::mem_read(rid, 5, addr, 4).map(|mut r| {
                    r.kind = RequestKind::MemReadLocked;
                    r
                }),
            };
            match built {
                Ok(mut hdr) => {
                    hdr.at = at;
                    raw(hdr.encode())
                }
                // Not buildable (crosses 4 KiB, too long...): send the address as a raw MRd.
                Err(_) => raw([
                    0x2000_0001,
                    (rid.0 as u32) << 16 | 0xF,
                    (addr >> 32) as u32,
                    addr as u32,
                ]),
            }
        }
    }
}

/// The DMA fault codes (spec A9 + 30h) and the IR ones (B7).
fn dma_code(c: u8) -> bool {
    (0x01..=0x0E).contains(&c) || c == 0x30
}
fn ir_code(c: u8) -> bool {
    (0x20..=0x29).contains(&c)
}

/// An outcome no request can be allowed to have here (no mapping targets this address).
const NEVER: Outcome = Outcome::Forward {
    addr: Hpa(0xDEAD_BEEF_F000),
};

fn check_request(p: &mut ModelPlatform, req: &Request, commit: Option<u8>) {
    let decoded = tlp::RequestHeader::decode(&req.hdr);
    let allowed = p.model.evaluate(&p.mem, req);
    assert!(!allowed.is_empty());
    assert_eq!(
        p.model.evaluate(&p.mem, req),
        allowed,
        "evaluate is pure: {req:?}"
    );
    let before = *p.model.counters();
    let fsts_before = p.model.reg_read(&mut p.mem, 0x034, 4).unwrap();

    if !allowed.contains(&NEVER) {
        let e = p.model.commit(&mut p.mem, req, &NEVER);
        assert!(matches!(e, Err(ModelError::NotAllowed { .. })), "{e:?}");
        assert_eq!(
            *p.model.counters(),
            before,
            "a rejected commit changes nothing"
        );
    }

    let got = match commit {
        None => {
            let o = p.model.process(&mut p.mem, req);
            assert_eq!(&o, allowed.fresh(), "process = fresh member: {req:?}");
            o
        }
        Some(i) => {
            let o = *allowed.iter().nth(i as usize % allowed.len()).unwrap();
            match p.model.commit(&mut p.mem, req, &o) {
                Ok(()) | Err(ModelError::Mem(_)) => {}
                Err(e) => panic!("allowed outcome refused: {e} for {req:?}"),
            }
            o
        }
    };
    let after = *p.model.counters();
    assert!(after.faults_recorded <= before.faults_recorded + 1);

    let h = match decoded {
        Err(_) => {
            // decisions.md "Malformed TLP": UR if non-posted, drop if posted (MWr or Msg), no
            // fault, no record, counted.
            let dw0 = req.hdr[0];
            let (fmt, ty) = (dw0 >> 29, (dw0 >> 24) & 0x1F);
            // Posted (PCIe): MWr (Fmt with data, Type 0_0000) and every message, with or
            // without data (Type 1_0rrr); Fmt 1xx is a TLP prefix, not a request.
            let posted = fmt & 0b100 == 0 && ((ty == 0 && fmt & 0b010 != 0) || ty >> 3 == 0b10);
            let want = if posted {
                Outcome::Drop { fault: None }
            } else {
                Outcome::Complete {
                    status: CplStatus::Ur,
                    fault: None,
                }
            };
            assert_eq!(allowed.to_vec(), vec![want], "malformed {req:?}");
            assert_eq!(after.faults_recorded, before.faults_recorded);
            assert_eq!(after.malformed, before.malformed + 1);
            let fsts = p.model.reg_read(&mut p.mem, 0x034, 4).unwrap();
            assert_eq!(fsts, fsts_before, "malformed: FSTS unchanged");
            return;
        }
        Ok(h) => h,
    };
    assert_eq!(after.malformed, before.malformed);
    let posted = h.kind == RequestKind::MemWrite;
    let window = h.at == 0 && (0xFEE0_0000..=0xFEEF_FFFF).contains(&h.address);
    for o in allowed.iter() {
        match *o {
            Outcome::Forward { .. } => assert!(!window, "{o:?} for {req:?}"),
            Outcome::Complete { status, fault } => {
                assert!(!posted, "{o:?} for a posted {req:?}");
                assert!(matches!(status, CplStatus::Ur | CplStatus::Ca), "{o:?}");
                match fault {
                    None => assert!(window, "fault-less completion {o:?} for {req:?}"),
                    Some(f) => assert!(!window && dma_code(f.code()), "{o:?} for {req:?}"),
                }
            }
            Outcome::Drop { fault } => {
                assert!(posted, "{o:?} for a non-posted {req:?}");
                let f = fault.unwrap_or_else(|| panic!("drop without a reason for {req:?}"));
                let ok = if window {
                    ir_code(f.code())
                } else {
                    dma_code(f.code())
                };
                assert!(ok, "{o:?} for {req:?}");
            }
            Outcome::Interrupt { .. } | Outcome::Posted { .. } => {
                assert!(posted && window, "{o:?} for {req:?}")
            }
        }
    }
    let _ = got;
}

/// Queue one descriptor at the current tail (whatever IQA/IQT hold now) and bump IQT.
fn queue(p: &mut ModelPlatform, d: (u64, u64)) {
    let Ok(iqa) = p.model.reg_read(&mut p.mem, 0x090, 8) else {
        return;
    };
    let Ok(iqt) = p.model.reg_read(&mut p.mem, 0x088, 8) else {
        return;
    };
    let bytes = 4096u64 << (iqa & 7);
    let dsz = if iqa & (1 << 11) != 0 { 32 } else { 16 };
    let off = (iqt & 0x7_FFF0) % bytes;
    let base = iqa & !0xFFF;
    let a = base.wrapping_add(off);
    let _ = p.mem.write_u128(Hpa(a), (d.1 as u128) << 64 | d.0 as u128);
    let _ = p.model.reg_write(&mut p.mem, 0x088, 8, (off + dsz) % bytes);
}

fn run(b: &Base, ops: &[Op]) {
    let mut p = b.plat.clone();
    for op in ops {
        match op {
            Op::Req { hdr, data0, commit } => {
                let req = request(b, hdr, *data0);
                check_request(&mut p, &req, *commit);
            }
            &Op::RegWrite { off, size, value } => {
                let r = p.model.reg_write(&mut p.mem, off, size, value);
                if !matches!(size, 4 | 8) || off % size as u16 != 0 {
                    assert!(r.is_err(), "write of size {size} at {off:#x} accepted");
                }
            }
            &Op::RegRead { off, size } => {
                let r = p.model.reg_read(&mut p.mem, off, size);
                if !matches!(size, 4 | 8) || off % size as u16 != 0 {
                    assert!(r.is_err(), "read of size {size} at {off:#x} accepted");
                }
            }
            &Op::Scribble {
                t,
                off,
                width,
                value,
            } => {
                let a = Hpa(b.targets[t % b.targets.len()] + off as u64);
                let _ = match width {
                    0 => p.mem.write_u32(a, value as u32),
                    1 => p.mem.write_u64(a, value as u64),
                    _ => p.mem.write_u128(a, value),
                };
            }
            &Op::Inject { t, len } => {
                p.mem
                    .inject_error(Hpa(b.targets[t % b.targets.len()]), len as u64);
            }
            Op::ClearErrors => p.mem.clear_errors(),
            &Op::Qi { which, raw } => {
                let d = match which {
                    0 => InvRequest::ContextGlobal.descriptor(),
                    1 => InvRequest::IotlbGlobal.descriptor(),
                    2 => InvRequest::IecGlobal.descriptor(),
                    3 => InvRequest::IotlbPage {
                        did: D1,
                        addr: Iova(raw.1 & 0xFFFF_F000),
                        am: (raw.0 & 0x3F) as u8,
                        ih: raw.0 & 0x40 != 0,
                    }
                    .descriptor(),
                    4 => unit::wait_descriptor(
                        raw.0 & 1 != 0,
                        raw.0 & 2 != 0,
                        raw.0 & 4 != 0,
                        raw.0 as u32,
                        Hpa(raw.1 & 0xFFFF_FFFC),
                    ),
                    _ => raw,
                };
                queue(&mut p, d);
            }
        }
        // The unit's own events never disappear or multiply without bound.
        assert!(p.model.take_events().len() <= 64);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn model_request_path_never_panics_and_keeps_its_contract(
        ops in prop::collection::vec(op(), 1..48)
    ) {
        run(base(), &ops);
    }
}

/// The set-up itself translates and remaps as the OS programmed it (so the fuzz starts from a
/// working unit, not one that faults everything).
#[test]
fn base_platform_works() {
    let b = base();
    let mut p = b.plat.clone();
    let rd = |rid, addr| Request {
        hdr: tlp::mem_read(rid, 1, addr, 4).unwrap().encode(),
        data0: 0,
    };
    assert_eq!(
        p.process(&rd(DEV_A, 0x4000_0010)),
        Outcome::Forward {
            addr: Hpa(0x8000_0010)
        }
    );
    assert_eq!(
        p.process(&rd(DEV_A, 0x8012_3450)),
        Outcome::Forward {
            addr: Hpa(0x1_0012_3450)
        }
    );
    assert_eq!(
        p.process(&rd(DEV_B, 0x4567_8900)),
        Outcome::Forward {
            addr: Hpa(0x2_0567_8900)
        }
    );
    assert_eq!(
        p.process(&rd(DEV_C, 0x1_0000_0000_0040)),
        Outcome::Forward {
            addr: Hpa(0xA000_0040)
        }
    );
    assert_eq!(
        p.process(&rd(DEV_PT, 0x1234_5678)),
        Outcome::Forward {
            addr: Hpa(0x1234_5678)
        }
    );
    // IRTE 0: vector 0x30 to APIC 1 (x2APIC mode: address 0xFEE0_0000 | dst<<12... dst 1).
    let m = tlp::msi_write(DEV_A, 0xFEE0_0010, 0);
    let o = p.process(&Request::msi(&m));
    assert!(
        matches!(o, Outcome::Interrupt { msi } if msi.data & 0xFF == 0x30),
        "{o:?}"
    );
    // IRTE 2: posted, vector 0x61.
    let m = tlp::msi_write(DEV_C, 0xFEE0_0050, 0);
    let o = p.process(&Request::msi(&m));
    assert!(matches!(o, Outcome::Posted { vector: 0x61, .. }), "{o:?}");
    assert!(b.targets.len() > 20);
    let _: &Model = &p.model;
}

/// Regression (found by this fuzz): a Message without data (Fmt 001, Type 1_0rrr) is a posted
/// request (PCIe: all messages are posted), so, not being a request the unit decodes, it is
/// dropped, never answered with a UR completion (decisions.md "Malformed TLP"). The model used
/// to require Fmt "with data" for a message to count as posted.
#[test]
fn malformed_message_without_data_is_dropped_regression() {
    let mut p = base().plat.clone();
    let drop = Outcome::Drop { fault: None };
    let ur = Outcome::Complete {
        status: CplStatus::Ur,
        fault: None,
    };
    // DW0 = Fmt[31:29] | Type[28:24] | Length; DW1 = requester 03:02.0, tag 0, message code 0x7E
    // (vendor defined type 0) with routing 000 (to the root complex).
    let dw1 = 0x0310_007E;
    for (dw0, want) in [
        (0x3000_0000u32, drop), // Msg, route to RC
        (0x3400_0000, drop),    // Msg, broadcast from RC (Type 1_0100)
        (0x7000_0001, drop),    // MsgD, 1 DW
        (0x4200_0001, ur),      // IOWr (Fmt 010, Type 0_0010): non-posted
        (0x0200_0001, ur),      // IORd: non-posted
        (0x8000_0000, ur),      // Fmt 100: a TLP prefix, not a request
        (0x3A00_0000, ur),      // Fmt 001, Type 1_1010 (reserved): not a message
    ] {
        let req = Request {
            hdr: [dw0, dw1, 0, 0],
            data0: 0,
        };
        let before = p.model.counters().malformed;
        assert_eq!(p.process(&req), want, "DW0 {dw0:#010x}");
        assert_eq!(p.model.counters().malformed, before + 1);
    }
    assert_eq!(
        p.model.reg_read(&mut p.mem, 0x034, 4).unwrap(),
        0,
        "no fault"
    );
}
