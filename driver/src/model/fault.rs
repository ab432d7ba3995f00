//! Primary fault logging and the fault event (spec A10 with decisions.md "Fault compression").

use super::{fsts, Model, Msi, PendingFault};

/// FRCD field positions (spec A10, 128-bit register).
pub(crate) mod frcd {
    pub const FI_MASK: u128 = 0xFFFF_FFFF_FFFF_F000;
    pub const SID_SHIFT: u32 = 64;
    pub const FR_SHIFT: u32 = 96;
    pub const AT_SHIFT: u32 = 124;
    pub const T_BIT: u128 = 1 << 126;
    pub const T2_BIT: u128 = 1 << 92;
    pub const F_BIT: u128 = 1 << 127;
}

impl Model {
    /// PPF: OR of every FRCD.F (read-only, derived).
    pub(crate) fn ppf(&self) -> bool {
        self.frcd.iter().any(|r| r & frcd::F_BIT != 0)
    }

    /// FSTS_REG as read: the stored bits plus the derived PPF.
    pub(crate) fn fsts_value(&self) -> u32 {
        self.fsts | if self.ppf() { fsts::PPF } else { 0 }
    }

    /// Do PPF, PFO or IQE hold (the statuses that keep a fault event pending)?
    pub(crate) fn fault_status_pending(&self) -> bool {
        self.fsts_value() & (fsts::PPF | fsts::PFO | fsts::IQE) != 0
    }

    /// A10 step 6: a new fault status was set; `old_pending` is whether PPF/PFO/IQE held before.
    /// If none did, set FECTL.IP; if IM=0 send the fault event at once and clear IP.
    fn fault_event(&mut self, old_pending: bool) {
        if old_pending {
            return;
        }
        self.fectl_ip = true;
        if !self.fectl_im {
            self.send_fault_event();
        }
    }

    /// Send MSI(FEUADDR:FEADDR, FEDATA) and clear FECTL.IP.
    pub(crate) fn send_fault_event(&mut self) {
        self.fectl_ip = false;
        let msi = Msi {
            addr: ((self.feuaddr as u64) << 32) | self.feaddr as u64,
            data: self.fedata,
        };
        self.send_event(msi);
    }

    /// After software cleared a status (FSTS RW1C, FRCD.F): if none of PPF/PFO/IQE remains,
    /// the pending fault event is withdrawn (IP clears).
    pub(crate) fn fault_status_cleared(&mut self) {
        if !self.fault_status_pending() {
            self.fectl_ip = false;
        }
    }

    /// Log a primary fault (spec A10 steps 1-6, decisions.md compression):
    /// 1. qualified and FPD=1: suppressed;
    /// 2. PFO=1: dropped;
    /// 3. a pending record (F=1) with the same SID *and* the same reason: dropped (compressed);
    /// 4. FRCD\[next\].F=1: set PFO, dropped;
    /// 5. write FRCD\[next\] (FI, SID, FR, AT, T, T2, F=1; PRIV/EXE/PP/PV = 0; {T,T2} = 00 write,
    ///    10 read, 11 atomic, as EDK2's `Vtd.h` and VirtualBox record them), and if PPF was 0
    ///    set FRI = next; next = (next+1) mod (NFR+1);
    /// 6. fault event rule.
    pub(crate) fn record_fault(&mut self, f: &PendingFault) {
        self.record_fault_raw(f.reason.code(), f.reason.is_qualified(), f);
    }

    /// [`Model::record_fault`] with the FR code and its qualification given explicitly (for
    /// codes `vtd::fault::FaultReason` does not define, e.g. 30h); `f.reason` is ignored.
    pub(crate) fn record_fault_raw(&mut self, code: u8, qualified: bool, f: &PendingFault) {
        if f.fpd && qualified {
            return;
        }
        if self.fsts & fsts::PFO != 0 {
            return;
        }
        let code = code as u128;
        let dup = self.frcd.iter().any(|r| {
            r & frcd::F_BIT != 0
                && (r >> frcd::SID_SHIFT) as u16 == f.sid.0
                && (r >> frcd::FR_SHIFT) as u8 as u128 == code
        });
        if dup {
            return;
        }
        let old_pending = self.fault_status_pending();
        let old_ppf = self.ppf();
        let n = self.next_frcd;
        if self.frcd[n] & frcd::F_BIT != 0 {
            self.fsts |= fsts::PFO;
            self.fault_event(old_pending);
            return;
        }
        self.frcd[n] = (f.fi as u128 & frcd::FI_MASK)
            | ((f.sid.0 as u128) << frcd::SID_SHIFT)
            | (code << frcd::FR_SHIFT)
            | (((f.at & 3) as u128) << frcd::AT_SHIFT)
            | if f.t_read { frcd::T_BIT } else { 0 }
            | if f.t2 { frcd::T2_BIT } else { 0 }
            | frcd::F_BIT;
        if !old_ppf {
            self.fsts = (self.fsts & !fsts::FRI_MASK) | ((n as u32) << fsts::FRI_SHIFT);
        }
        self.next_frcd = (n + 1) % self.frcd.len();
        self.counters.faults_recorded += 1;
        self.fault_event(old_pending);
    }

    /// Invalidation-queue error: set FSTS.IQE and apply the fault-event rule (A10 step 6).
    /// (The IQERCD contents are set by the caller.)
    pub(crate) fn raise_iqe(&mut self) {
        let old_pending = self.fault_status_pending();
        self.fsts |= fsts::IQE;
        self.fault_event(old_pending);
    }

    /// Is FSTS.IQE set (queued invalidation is stopped)?
    pub(crate) fn iqe(&self) -> bool {
        self.fsts & fsts::IQE != 0
    }
}
