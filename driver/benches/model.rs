//! Golden-model throughput: random DMA (reads and writes) through `Model::process` and
//! `Model::evaluate` over 4-level second-level tables with 8192 4-KiB mappings in 4 domains
//! (16 devices, 4 per domain), translation enabled, default hardware identity. Two IOVA layouts:
//! `dense` (contiguous ranges, as an IOVA allocator hands them out) and `sparse` (random pages
//! of a 1 GiB window, about 2000 level-1 tables: cache-missing walks).
//!
//! Tables are built here with plain memory writes of `vtd`-encoded entries (no OS driver).
//! Run: `cargo bench -p iommu-driver --bench model` (add `-- --quick` for a short run).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::{Model, ModelConfig, Outcome, Request};
use iommu_driver::tlp;
use iommu_driver::types::{DomainId, Hpa, Rid};
use iommu_driver::vtd::context::{ContextEntry, TranslationType};
use iommu_driver::vtd::root::RootEntry;
use iommu_driver::vtd::slpte::SlPte;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const RTA: u64 = 0x0010_0000;
const CTP: u64 = 0x0011_0000;
const TABLE_POOL: u64 = 0x0100_0000;
const DOMAINS: u16 = 4;
const DEVS_PER_DOMAIN: u16 = 4;
const PAGES_PER_DOMAIN: u64 = 2048;
const REQUESTS: usize = 1 << 16;

struct Tables {
    mem: HostMemory,
    next: u64,
}

impl Tables {
    fn alloc(&mut self) -> u64 {
        let t = self.next;
        self.next += 0x1000;
        t
    }

    /// Map one 4 KiB page in the 4-level table rooted at `pml4`.
    fn map(&mut self, pml4: u64, iova: u64, hpa: u64) {
        let mut table = pml4;
        for level in (2..=4u32).rev() {
            let a = table + 8 * ((iova >> (12 + 9 * (level - 1))) & 0x1FF);
            let e = SlPte::decode(self.mem.read_u64(Hpa(a)).unwrap());
            table = if e.is_present() {
                e.addr.0
            } else {
                let t = self.alloc();
                let pte = SlPte {
                    r: true,
                    w: true,
                    addr: Hpa(t),
                    ..Default::default()
                };
                self.mem.write_u64(Hpa(a), pte.encode()).unwrap();
                t
            };
        }
        let a = table + 8 * ((iova >> 12) & 0x1FF);
        let pte = SlPte {
            r: true,
            w: true,
            addr: Hpa(hpa),
            ..Default::default()
        };
        self.mem.write_u64(Hpa(a), pte.encode()).unwrap();
    }
}

/// How each domain's IOVAs are laid out.
#[derive(Clone, Copy)]
enum Layout {
    /// Contiguous IOVA ranges, as an IOVA allocator hands them out (Linux packs allocations):
    /// 2048 pages = 4 level-1 tables per domain.
    Dense,
    /// Random pages of a 1 GiB window: about 500 level-1 tables per domain, so nearly every
    /// walk misses the CPU caches.
    Sparse,
}

/// Memory with the tables, the enabled model, and a random request stream.
fn setup(layout: Layout) -> (Model, HostMemory, Vec<Request>) {
    let mut t = Tables {
        mem: HostMemory::new(),
        next: TABLE_POOL,
    };
    let root = RootEntry {
        present: true,
        ctp: Hpa(CTP),
    };
    t.mem.write_u128(Hpa(RTA), root.encode()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0x5EED);
    // Each domain maps PAGES_PER_DOMAIN pages to distinct host pages.
    let mut iovas: Vec<Vec<u64>> = Vec::new();
    for d in 0..DOMAINS {
        let pml4 = t.alloc();
        for i in 0..DEVS_PER_DOMAIN {
            let rid = Rid::from_bdf(0, (d * DEVS_PER_DOMAIN + i) as u8, 0);
            let ce = ContextEntry {
                present: true,
                fpd: false,
                tt: TranslationType::Untranslated,
                slptptr: Hpa(pml4),
                aw: 2,
                avail: 0,
                did: DomainId(d + 1),
            };
            t.mem
                .write_u128(ContextEntry::entry_addr(Hpa(CTP), rid), ce.encode())
                .unwrap();
        }
        let mut v = Vec::new();
        for p in 0..PAGES_PER_DOMAIN {
            let iova = match layout {
                Layout::Dense => 0x1_0000_0000 + (p << 12),
                Layout::Sparse => rng.gen_range(0..1u64 << 18) << 12,
            };
            let hpa = 0x10_0000_0000 + ((d as u64 * PAGES_PER_DOMAIN + p) << 12);
            t.map(pml4, iova, hpa);
            v.push(iova);
        }
        iovas.push(v);
    }
    let mut m = Model::new(ModelConfig::default());
    let mut mem = t.mem;
    m.reg_write(&mut mem, 0x020, 8, RTA).unwrap();
    m.reg_write(&mut mem, 0x018, 4, 1 << 30).unwrap();
    m.reg_write(&mut mem, 0x018, 4, 1 << 31).unwrap();
    let reqs = (0..REQUESTS)
        .map(|i| {
            let d = rng.gen_range(0..DOMAINS);
            let rid = Rid::from_bdf(
                0,
                (d * DEVS_PER_DOMAIN + rng.gen_range(0..DEVS_PER_DOMAIN)) as u8,
                0,
            );
            let page = iovas[d as usize][rng.gen_range(0..PAGES_PER_DOMAIN as usize)];
            let addr = page + 64 * rng.gen_range(0..64u64);
            let tag = (i & 0xFF) as u16;
            let h = if rng.gen_bool(0.5) {
                tlp::mem_read(rid, tag, addr, 64)
            } else {
                tlp::mem_write(rid, tag, addr, 64)
            }
            .unwrap();
            Request {
                hdr: h.encode(),
                data0: 0,
            }
        })
        .collect();
    (m, mem, reqs)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("model");
    g.throughput(Throughput::Elements(REQUESTS as u64));
    for (name, layout) in [("dense", Layout::Dense), ("sparse", Layout::Sparse)] {
        let (mut m, mut mem, reqs) = setup(layout);
        // Sanity: every request translates, and the outcome is in the evaluated set.
        for r in &reqs[..1024] {
            let a = m.evaluate(&mem, r);
            let o = m.process(&mut mem, r);
            assert!(matches!(o, Outcome::Forward { .. }), "{o:?}");
            assert!(a.contains(&o));
        }
        g.bench_function(format!("process_random_dma_{name}"), |b| {
            b.iter(|| {
                for r in &reqs {
                    black_box(m.process(&mut mem, black_box(r)));
                }
            })
        });
        g.bench_function(format!("evaluate_random_dma_{name}"), |b| {
            b.iter(|| {
                for r in &reqs {
                    black_box(m.evaluate(&mem, black_box(r)));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
