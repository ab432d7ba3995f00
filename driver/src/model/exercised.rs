//! What one request exercises in the unit, as the golden model's fresh path sees it, for
//! functional coverage: which walk depths, page sizes, warm caches, MSI formats and IRTE kinds a
//! stimulus reached ([`Model::exercised`]). Pure: nothing in the model changes.
//!
//! "Warm" means that an earlier committed request observed the very entry the fresh path reads
//! (same key, same value): a cache in the unit *may* hit there. Whether the DUT did hit is
//! micro-architectural and not the model's business; the DUT's counters tell that.

use super::dma::{Class, Path};
use super::{gsts, Model};
use crate::mem::HostMemory;
use crate::model::Request;
use crate::vtd::irte::{Irte, Sq, Svt};
use crate::vtd::msi::{interrupt_index, remappable_request_reserved, MsiAddress};

/// The second-level walk of a DMA request's fresh path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkShape {
    /// Levels of the context's second-level table (3, 4 or 5).
    pub levels: u8,
    /// Level of the leaf (1: 4 KiB page, 2: 2 MiB, 3: 1 GiB), when the walk reached one.
    pub leaf_level: Option<u8>,
    /// Bit L set: the non-leaf entry at level L is warm (a paging-structure cache may hit there).
    pub warm_nonleaf: u8,
    /// The leaf is warm (an IOTLB may hit).
    pub warm_leaf: bool,
}

/// The IRTE an interrupt request's fresh path fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrteShape {
    /// IM=1: posted format.
    pub posted: bool,
    /// IRTE SVT (bits 83:82): which source-ID check applies to the requester.
    pub svt: Svt,
    /// IRTE SQ (bits 81:80): the source-ID qualifier, which RID bits the SVT=01 check ignores.
    pub sq: Sq,
    /// The entry is warm (an interrupt-entry cache may hit).
    pub warm: bool,
}

/// The format of an interrupt-window write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsiFormat {
    /// addr\[4\] = 0.
    Compatibility,
    /// addr\[4\] = 1, with the subhandle-valid bit.
    Remappable {
        /// addr\[3\] SHV: the MSI data's low 16 bits are a subhandle added to the handle.
        shv: bool,
    },
}

/// What [`Model::exercised`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exercised {
    /// A malformed TLP or a read of the interrupt window: nothing to translate.
    Other,
    /// A DMA request. `context_warm` is `None` when no context entry was reached (TE=0, a root
    /// or context fault); `walk` is `None` when no second-level walk took place.
    Dma {
        /// Whether the context entry read is warm (a context cache may hit); `None` when no
        /// context entry was reached.
        context_warm: Option<bool>,
        /// Shape of the second-level walk; `None` when no walk took place (pass-through, TE=0, or a
        /// fault before the walk).
        walk: Option<WalkShape>,
    },
    /// An interrupt-window write.
    Interrupt {
        /// GSTS.IRES was set.
        remapping: bool,
        /// Compatibility (addr\[4\] = 0) or remappable (addr\[4\] = 1) interrupt format.
        format: MsiFormat,
        /// The latched IRTA.EIME (x2APIC destinations).
        x2apic: bool,
        /// The IRTE the request fetched, when it got that far and the entry is present.
        irte: Option<IrteShape>,
    },
}

impl Model {
    /// What request `req` exercises on its fresh path through current memory `mem`, given what
    /// earlier commits observed (module doc).
    pub fn exercised(&self, mem: &HostMemory, req: &Request) -> Exercised {
        match self.classify(req) {
            Class::Malformed { .. } | Class::WindowRead => Exercised::Other,
            Class::Dma(r) => {
                let p = self.fresh_dma_path(mem, &r);
                self.dma_exercised(&p)
            }
            Class::Interrupt(hdr) => {
                let addr = hdr.address;
                let format = match MsiAddress::decode(addr) {
                    MsiAddress::Compatibility { .. } => MsiFormat::Compatibility,
                    MsiAddress::Remappable { shv, .. } => MsiFormat::Remappable { shv },
                };
                let remapping = self.cfg.ecap.ir && self.gsts & gsts::IRES != 0;
                let irte = match MsiAddress::decode(addr) {
                    MsiAddress::Remappable { handle, shv }
                        if remapping && !remappable_request_reserved(addr, req.data0) =>
                    {
                        let index = interrupt_index(handle, shv, req.data0);
                        (u32::from(index) < self.ir.latched.entries())
                            .then(|| mem.read_u128(self.ir.latched.entry_addr(index)).ok())
                            .flatten()
                            .filter(|raw| raw & 1 != 0)
                            .map(|raw| {
                                let warm =
                                    self.ir.iec.get(&index).is_some_and(|v| v.contains(&raw));
                                match Irte::decode(raw) {
                                    Irte::Remapped(e) => IrteShape {
                                        posted: false,
                                        svt: e.svt,
                                        sq: e.sq,
                                        warm,
                                    },
                                    Irte::Posted(e) => IrteShape {
                                        posted: true,
                                        svt: e.svt,
                                        sq: e.sq,
                                        warm,
                                    },
                                }
                            })
                    }
                    _ => None,
                };
                Exercised::Interrupt {
                    remapping,
                    format,
                    x2apic: self.ir.latched.eime,
                    irte,
                }
            }
        }
    }

    fn dma_exercised(&self, p: &Path) -> Exercised {
        let context_warm = p.ctx.map(|(sid, raw)| self.cache.ctxs(sid).contains(&raw));
        let walk = p.walked.then(|| {
            let mut warm_nonleaf = 0u8;
            for (k, v) in p.nonleaf.iter().flatten() {
                if self.cache.nonleaf.get(*k).any(|x| x == *v) {
                    warm_nonleaf |= 1 << k.level();
                }
            }
            WalkShape {
                levels: p.levels,
                leaf_level: p.leaf.map(|(k, _)| k.level()),
                warm_nonleaf,
                warm_leaf: p
                    .leaf
                    .is_some_and(|(k, v)| self.cache.leaf.get(k).any(|x| x == v)),
            }
        });
        Exercised::Dma { context_warm, walk }
    }
}
