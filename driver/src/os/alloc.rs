//! Physical page allocator for the OS driver's table memory.
//!
//! Hands out zeroed 4 KiB pages (or naturally aligned runs of pages) from one host-physical
//! region. Tables (root, context, second-level, IRT, invalidation queue, PIDs) all come from here,
//! so a test knows exactly where the IOMMU's own memory traffic goes.

use super::OsError;
use crate::mem::HostMemory;
use crate::types::Hpa;

/// 4 KiB: the VT-d table page size (spec A5-A7).
pub const PAGE_SIZE: u64 = 4096;

/// Bump allocator with a free list over `[base, base + len)`.
#[derive(Debug, Clone)]
pub struct PageAllocator {
    base: u64,
    end: u64,
    next: u64,
    free: Vec<u64>,
}

impl PageAllocator {
    /// A region starting at `base` (rounded up to 4 KiB) of `len` bytes.
    pub fn new(base: Hpa, len: u64) -> Self {
        let b = base.0.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let end = base.0.saturating_add(len) & !(PAGE_SIZE - 1);
        PageAllocator {
            base: b,
            end: end.max(b),
            next: b,
            free: Vec::new(),
        }
    }

    /// The region `[base, end)` this allocator manages.
    pub fn region(&self) -> (Hpa, Hpa) {
        (Hpa(self.base), Hpa(self.end))
    }

    /// Bytes never handed out yet (free-list pages not counted).
    pub fn remaining(&self) -> u64 {
        self.end - self.next
    }

    /// One zeroed 4 KiB page.
    pub fn alloc_page(&mut self, mem: &mut HostMemory) -> Result<Hpa, OsError> {
        let pa = match self.free.pop() {
            Some(p) => p,
            None => {
                if self.next + PAGE_SIZE > self.end {
                    return Err(OsError::OutOfTableMemory);
                }
                let p = self.next;
                self.next += PAGE_SIZE;
                p
            }
        };
        zero(mem, pa, PAGE_SIZE)?;
        Ok(Hpa(pa))
    }

    /// `pages` contiguous zeroed pages, the run aligned to `align` bytes (a power of two >= 4 KiB).
    pub fn alloc_contiguous(
        &mut self,
        mem: &mut HostMemory,
        pages: u64,
        align: u64,
    ) -> Result<Hpa, OsError> {
        let align = align.max(PAGE_SIZE);
        if !align.is_power_of_two() || pages == 0 {
            return Err(OsError::InvalidArgument(
                "contiguous allocation size/alignment",
            ));
        }
        let start = self.next.div_ceil(align) * align;
        let len = pages
            .checked_mul(PAGE_SIZE)
            .ok_or(OsError::OutOfTableMemory)?;
        let stop = start.checked_add(len).ok_or(OsError::OutOfTableMemory)?;
        if stop > self.end {
            return Err(OsError::OutOfTableMemory);
        }
        // Pages skipped for alignment go to the free list.
        let mut p = self.next;
        while p < start {
            self.free.push(p);
            p += PAGE_SIZE;
        }
        self.next = stop;
        zero(mem, start, len)?;
        Ok(Hpa(start))
    }

    /// Return a page to the allocator (it is zeroed again when handed out).
    pub fn free_page(&mut self, page: Hpa) {
        if page.0 >= self.base && page.0 < self.end && page.0 % PAGE_SIZE == 0 {
            self.free.push(page.0);
        }
    }
}

fn zero(mem: &mut HostMemory, addr: u64, len: u64) -> Result<(), OsError> {
    let z = [0u8; PAGE_SIZE as usize];
    let mut off = 0;
    while off < len {
        mem.write(Hpa(addr + off), &z)?;
        off += PAGE_SIZE;
    }
    Ok(())
}
