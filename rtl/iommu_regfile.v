// iommu_regfile: VT-d register file, fault recorder and fault-event generator.
// Spec: vtd-pcie.md A1 (register map), A2 (CAP/ECAP), A3 (GCMD/GSTS), A4 (RTADDR), A10 (fault
// recording, FSTS/FECTL), A11 (register-based invalidation); decisions.md "Hardware identity",
// "Fault compression"; model_shared.md "Register-interface decisions".
//
// Register-interface decisions implemented here (shared with the golden model):
// - Accesses are 4 or 8 bytes, naturally aligned; anything else is ignored and reads 0. An 8-byte
//   access is carried out as two dword steps (low dword first). Unimplemented offsets read 0.
// - GCMD is write-only (reads 0). Level bits TE, QIE (ECAP.QI), IRE and CFI (ECAP.IR) follow the
//   written value (GSTS = the level); SRTP latches RTADDR and sets RTPS, SIRTP latches IRTA and
//   sets IRTPS (both stay set). SFL/EAFL/WBF are ignored (CAP.AFL = CAP.RWBF = 0).
// - IRTA (0xB8) keeps base (bits HAW-1:12), EIME (only with ECAP.EIM) and S; reserved bits read 0.
//   It acts only at the next SIRTP (decisions.md), even while IRE=1.
// - 0x80..0xB7 (IQH, IQT, IQA, ICS, IECTL, IEDATA/IEADDR/IEUADDR, IQERCD) belong to the
//   queued-invalidation engine: every dword step there is forwarded to iommu_qi (reads 0 and writes
//   are ignored with ECAP.QI=0).
// - CCMD.ICC / IOTLB.IVT act when the dword holding bit 63 is written; CAIG/IAIG = the requested
//   granularity, or 00 when the request is not performed (granularity 00, PSI with AM > MAMV, or any
//   request while GSTS.QIES=1). A performed command keeps ICC/IVT = 1 until the invalidation has
//   drained (every request inside the unit when it took effect has left: CAP.DRD/DWD); with nothing
//   in flight that is 2 cycles, before the access answers. CCMD keeps DID, SID, FM and CIRG as
//   written and IOTLB_REG keeps DID, IIRG, DR and DW as written (they read back; QEMU reads 0 for
//   the write-only fields, this project reads them back, like the golden model).
// - FSTS: PFO and IQE RW1C, PPF = OR of FRCD.F, FRI RO. FRCD: only F is writable (RW1C, bit 31 of
//   the top dword). FECTL: IM RW (reset 1), IP RO; writing IM=0 while IP=1 sends the pending event.
//   Clearing the last of PPF/PFO/IQE clears IP. A queue error (iqe_set_i) sets IQE and raises the
//   fault event when none of PPF/PFO/IQE was set before.
// - Events on the irq channel: the fault event has priority over the queued-invalidation
//   engine's invalidation-completion event.
// - Fault logging (A10 with decisions.md): drop if PFO; drop if a pending record has the same SID
//   and the same FR; set PFO if FRCD[next] is still pending; else write FRCD[next]; if PPF was 0
//   set FRI = next; if none of PPF/PFO/IQE was set raise the fault event (IP=1 when masked, else
//   MSI FEUADDR:FEADDR / FEDATA). T/T2 = 00 write, 10 read, 11 atomic.
//   FPD qualification is done by the caller (only unsuppressed faults arrive here).
//
// Latency: a 4-byte access answers (csr_rvalid) 2 cycles after it is accepted, an 8-byte access 3
// cycles. Throughput: one access per 2 (4-byte) or 3 (8-byte) cycles. A fault record is taken in
// one cycle when no register access is in progress (csr_ready is low during that cycle).
// While a fault-event MSI waits on the irq channel no new fault is recorded, and a FECTL write
// that would send another event waits; other register accesses proceed.
`default_nettype none

module iommu_regfile #(
  parameter integer HAW    = 48,   // host address width
  parameter integer NFR    = 8,    // fault recording registers
  parameter integer NCNT   = 12,   // performance counters at 0x300 + 8*i
  parameter integer CAP_PI = 0,    // CAP.PI advertised
  parameter integer ECAP_QI  = 0,  // ECAP.QI advertised
  parameter integer ECAP_IR  = 0,  // ECAP.IR advertised
  parameter integer ECAP_EIM = 0,  // ECAP.EIM advertised
  parameter integer CAP_DRAIN = 1  // CAP.DRD / CAP.DWD advertised
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  /* register port */
  input  wire                 csr_valid_i,
  output reg                  csr_ready_o,
  input  wire                 csr_write_i,
  input  wire [11:0]          csr_addr_i,
  input  wire [3:0]           csr_size_i,
  input  wire [63:0]          csr_wdata_i,
  output wire                 csr_rvalid_o,
  output wire [63:0]          csr_rdata_o,
  /* state to the translation core */
  output wire                 te_o,          // GSTS.TES
  output wire [63:0]          rta_o,         // latched RTADDR (RTA in 63:12, TTM in 11:10)
  output wire                 qie_o,         // GSTS.QIES
  output wire                 ires_o,        // GSTS.IRES
  output wire                 cfis_o,        // GSTS.CFIS
  output wire [63:0]          irta_o,        // IRTA latched at SIRTP
  /* queued-invalidation register window 0x80..0xB7 (one dword step per cycle) */
  output wire                 qr_wr_o,
  output wire [11:0]          qr_addr_o,
  output wire [31:0]          qr_wdata_o,
  input  wire [31:0]          qr_rdata_i,
  input  wire                 iqe_set_i,     // queue error: set FSTS.IQE
  output wire                 iqe_o,         // FSTS.IQE
  /* invalidation-completion event of the QI engine */
  input  wire                 qev_valid_i,
  output wire                 qev_ready_o,
  input  wire [63:0]          qev_addr_i,
  input  wire [31:0]          qev_data_i,
  /* drain of register-based invalidation */
  input  wire                 bar_busy_i,
  /* invalidation commands (one-cycle pulses) */
  output wire                 cc_inv_o,
  output wire [1:0]           cc_inv_g_o,    // 01 global, 10 domain, 11 device
  output wire [15:0]          cc_inv_did_o,
  output wire [15:0]          cc_inv_sid_o,
  output wire [1:0]           cc_inv_fm_o,
  output wire                 tlb_inv_o,
  output wire [1:0]           tlb_inv_g_o,   // 01 global, 10 domain, 11 page
  output wire [15:0]          tlb_inv_did_o,
  output wire [63:12]         tlb_inv_addr_o,
  output wire [5:0]           tlb_inv_am_o,
  output wire                 tlb_inv_ih_o,
  /* fault record requests (already FPD-qualified) */
  input  wire                 fr_valid_i,
  output reg                  fr_ready_o,
  input  wire [7:0]           fr_reason_i,
  input  wire [15:0]          fr_sid_i,
  input  wire [63:12]         fr_fi_i,
  input  wire                 fr_t_i,        // 1 read/atomic, 0 write
  input  wire                 fr_t2_i,       // 1 atomic
  input  wire [1:0]           fr_at_i,
  /* fault-event MSI */
  output wire                 ev_valid_o,
  input  wire                 ev_ready_i,
  output wire [63:0]          ev_addr_o,
  output wire [31:0]          ev_data_o,
  /* performance counter increments (0x300 + 8*i) */
  input  wire [NCNT-1:0]      cnt_inc_i
);
  // ---------------------------------------------------------------- parameter checks
  generate
    if (NFR < 1 || NFR > 16) begin : g_bad_nfr
      iommu_param_check_failed u_nfr_out_of_range ();
    end
    if (NCNT < 12 || NCNT > 20) begin : g_bad_ncnt
      iommu_param_check_failed u_ncnt_out_of_range ();
    end
    if (HAW < 32 || HAW > 52) begin : g_bad_haw
      iommu_param_check_failed u_haw_out_of_range ();
    end
  endgenerate

  localparam integer NFR_W = (NFR <= 1) ? 1 : $clog2(NFR);
  localparam integer FAULT_CNT = 8;   // counter 0x340: faults recorded (counted here)
  localparam integer NFR_M1 = NFR - 1;
  localparam [7:0]   NFR8  = NFR_M1[7:0];
  localparam [63:0]  IRTA_BASE    = ((64'd1 << HAW) - 64'd1) & ~64'hFFF;
  localparam [19:0]  IRTA_BASE_LO = IRTA_BASE[31:12];
  localparam [31:0]  IRTA_BASE_HI = IRTA_BASE[63:32];

  // ---------------------------------------------------------------- identity
  wire [63:0] cap_w;
  assign cap_w[2:0]   = 3'd6;          // ND
  assign cap_w[7:3]   = 5'd0;          // AFL RWBF PLMR PHMR CM
  assign cap_w[12:8]  = 5'b01110;      // SAGAW: 3/4/5-level
  assign cap_w[15:13] = 3'd0;
  assign cap_w[21:16] = 6'd56;         // MGAW
  assign cap_w[22]    = 1'b0;          // ZLR
  assign cap_w[23]    = 1'b0;
  assign cap_w[33:24] = 10'h020;       // FRO (x16 = 0x200)
  assign cap_w[37:34] = 4'b0011;       // SLLPS: 2 MiB + 1 GiB
  assign cap_w[38]    = 1'b0;
  assign cap_w[39]    = 1'b1;          // PSI
  assign cap_w[47:40] = NFR8;          // NFR
  assign cap_w[53:48] = 6'd18;         // MAMV
  assign cap_w[54]    = (CAP_DRAIN != 0);   // DWD
  assign cap_w[55]    = (CAP_DRAIN != 0);   // DRD
  assign cap_w[58:56] = 3'd0;
  assign cap_w[59]    = (CAP_PI != 0);
  assign cap_w[63:60] = 4'd0;

  wire [63:0] ecap_w;
  assign ecap_w[0]     = 1'b1;               // C
  assign ecap_w[1]     = (ECAP_QI != 0);     // QI
  assign ecap_w[2]     = 1'b0;               // DT
  assign ecap_w[3]     = (ECAP_IR != 0);     // IR
  assign ecap_w[4]     = (ECAP_EIM != 0);    // EIM
  assign ecap_w[5]     = 1'b0;
  assign ecap_w[6]     = 1'b1;               // PT
  assign ecap_w[7]     = 1'b0;               // SC
  assign ecap_w[17:8]  = 10'h010;            // IRO (x16 = 0x100)
  assign ecap_w[19:18] = 2'd0;
  assign ecap_w[23:20] = 4'd15;              // MHMV
  assign ecap_w[63:24] = 40'd0;

  // ---------------------------------------------------------------- state
  localparam [1:0] S_IDLE = 2'd0, S_DW0 = 2'd1, S_DW1 = 2'd2;

  reg [1:0]        state_q, state_d;
  reg              acc_write_q, acc_write_d;
  reg [11:0]       acc_addr_q, acc_addr_d;   // dword-aligned address of the current step
  reg              acc_two_q, acc_two_d;     // 8-byte access
  reg              acc_bad_q, acc_bad_d;     // ignored access
  reg [63:0]       acc_wdata_q, acc_wdata_d;
  reg [63:0]       rdata_q, rdata_d;
  reg              rvalid_q, rvalid_d;

  reg              tes_q, tes_d;
  reg              rtps_q, rtps_d;
  reg [63:0]       rtaddr_q, rtaddr_d;
  reg [63:0]       rta_lat_q, rta_lat_d;
  reg              qies_q, qies_d;
  reg              ires_q, ires_d;
  reg              irtps_q, irtps_d;
  reg              cfis_q, cfis_d;
  reg [63:0]       irta_q, irta_d;
  reg [63:0]       irta_lat_q, irta_lat_d;
  reg              iqe_q, iqe_d;
  reg              iqe_pend_q, iqe_pend_d;   // queue error waiting to be logged
  reg              cc_wait_q, cc_wait_d;     // CCMD.ICC held until the drain
  reg              tlb_wait_q, tlb_wait_d;   // IOTLB.IVT held until the drain
  reg [63:0]       ccmd_q, ccmd_d;
  reg [63:0]       iva_q, iva_d;
  reg [63:0]       iotlb_q, iotlb_d;
  reg              pfo_q, pfo_d;
  reg [NFR_W-1:0]  fri_q, fri_d;
  reg [NFR_W-1:0]  next_q, next_d;
  reg              im_q, im_d;
  reg              ip_q, ip_d;
  reg [31:0]       fedata_q, fedata_d;
  reg [31:0]       feaddr_q, feaddr_d;
  reg [31:0]       feuaddr_q, feuaddr_d;
  reg              ev_q, ev_d;
  reg [63:0]       ev_addr_q, ev_addr_d;
  reg [31:0]       ev_data_q, ev_data_d;

  reg [NFR-1:0]    f_q, f_d;
  reg [NFR*52-1:0] fi_q, fi_d;
  reg [NFR*16-1:0] sid_q, sid_d;
  reg [NFR*8-1:0]  fr_q, fr_d;
  reg [NFR*2-1:0]  at_q, at_d;
  reg [NFR-1:0]    t_q, t_d;
  reg [NFR-1:0]    t2_q, t2_d;

  reg [NCNT*64-1:0] cnt_q, cnt_d;

  reg              cc_inv_q, cc_inv_d;
  reg              tlb_inv_q, tlb_inv_d;

  // ---------------------------------------------------------------- dword read mux
  function automatic [31:0] frcd_dword(input integer n, input [1:0] part,
                                       input [NFR*52-1:0] fi, input [NFR*16-1:0] sid,
                                       input [NFR*8-1:0] fr, input [NFR*2-1:0] at,
                                       input [NFR-1:0] t, input [NFR-1:0] t2,
                                       input [NFR-1:0] f);
    reg [127:0] rec;
    begin
      rec = 128'd0;
      rec[63:12]   = fi[n*52 +: 52];
      rec[79:64]   = sid[n*16 +: 16];
      rec[92]      = t2[n];
      rec[103:96]  = fr[n*8 +: 8];
      rec[125:124] = at[n*2 +: 2];
      rec[126]     = t[n];
      rec[127]     = f[n];
      frcd_dword = rec[part*32 +: 32];
    end
  endfunction

  wire ppf_q = |f_q;

  reg [31:0] rd_dw;
  integer    ri;
  always @* begin
    rd_dw = 32'd0;
    ri    = 0;
    case (acc_addr_q)
      12'h000: rd_dw = 32'h0000_0010;
      12'h008: rd_dw = cap_w[31:0];
      12'h00C: rd_dw = cap_w[63:32];
      12'h010: rd_dw = ecap_w[31:0];
      12'h014: rd_dw = ecap_w[63:32];
      12'h01C: rd_dw = {tes_q, rtps_q, 3'd0, qies_q, ires_q, irtps_q, cfis_q, 23'd0};
      12'h020: rd_dw = rtaddr_q[31:0];
      12'h024: rd_dw = rtaddr_q[63:32];
      12'h028: rd_dw = ccmd_q[31:0];
      12'h02C: rd_dw = ccmd_q[63:32];
      12'h034: rd_dw = {16'd0, {(8-NFR_W){1'b0}}, fri_q, 3'd0, iqe_q, 2'd0, ppf_q, pfo_q};
      12'h038: rd_dw = {im_q, ip_q, 30'd0};
      12'h03C: rd_dw = fedata_q;
      12'h040: rd_dw = feaddr_q;
      12'h044: rd_dw = feuaddr_q;
      12'h100: rd_dw = iva_q[31:0];
      12'h104: rd_dw = iva_q[63:32];
      12'h108: rd_dw = iotlb_q[31:0];
      12'h10C: rd_dw = iotlb_q[63:32];
      12'h0B8: rd_dw = irta_q[31:0];
      12'h0BC: rd_dw = irta_q[63:32];
      default: begin
        if (ECAP_QI != 0 && acc_addr_q >= 12'h080 && acc_addr_q < 12'h0B8) rd_dw = qr_rdata_i;
        for (ri = 0; ri < NFR; ri = ri + 1) begin
          if (acc_addr_q[11:4] == (8'h20 + ri[7:0])) begin
            rd_dw = frcd_dword(ri, acc_addr_q[3:2], fi_q, sid_q, fr_q, at_q, t_q, t2_q, f_q);
          end
        end
        for (ri = 0; ri < NCNT; ri = ri + 1) begin
          if (acc_addr_q[11:3] == (9'h060 + ri[8:0])) begin
            rd_dw = acc_addr_q[2] ? cnt_q[ri*64+32 +: 32] : cnt_q[ri*64 +: 32];
          end
        end
      end
    endcase
  end

  // ---------------------------------------------------------------- next state
  reg [31:0] wv;
  reg        send_ev;
  reg        cmp_hit;
  reg        stall_ev;
  reg        old_pend;
  integer    i;
  always @* begin
    state_d     = state_q;
    acc_write_d = acc_write_q;
    acc_addr_d  = acc_addr_q;
    acc_two_d   = acc_two_q;
    acc_bad_d   = acc_bad_q;
    acc_wdata_d = acc_wdata_q;
    rdata_d     = rdata_q;
    rvalid_d    = 1'b0;
    tes_d       = tes_q;
    rtps_d      = rtps_q;
    rtaddr_d    = rtaddr_q;
    rta_lat_d   = rta_lat_q;
    qies_d      = qies_q;
    ires_d      = ires_q;
    irtps_d     = irtps_q;
    cfis_d      = cfis_q;
    irta_d      = irta_q;
    irta_lat_d  = irta_lat_q;
    iqe_d       = iqe_q;
    iqe_pend_d  = iqe_pend_q | iqe_set_i;
    cc_wait_d   = cc_wait_q;
    tlb_wait_d  = tlb_wait_q;
    old_pend    = ppf_q || pfo_q || iqe_q;
    ccmd_d      = ccmd_q;
    iva_d       = iva_q;
    iotlb_d     = iotlb_q;
    pfo_d       = pfo_q;
    fri_d       = fri_q;
    next_d      = next_q;
    im_d        = im_q;
    ip_d        = ip_q;
    fedata_d    = fedata_q;
    feaddr_d    = feaddr_q;
    feuaddr_d   = feuaddr_q;
    ev_d        = ev_q;
    ev_addr_d   = ev_addr_q;
    ev_data_d   = ev_data_q;
    f_d         = f_q;
    fi_d        = fi_q;
    sid_d       = sid_q;
    fr_d        = fr_q;
    at_d        = at_q;
    t_d         = t_q;
    t2_d        = t2_q;
    cc_inv_d    = 1'b0;
    tlb_inv_d   = 1'b0;
    csr_ready_o = 1'b0;
    fr_ready_o  = 1'b0;
    send_ev     = 1'b0;
    cmp_hit     = 1'b0;
    stall_ev    = 1'b0;
    wv          = 32'd0;

    for (i = 0; i < NCNT; i = i + 1) begin
      cnt_d[i*64 +: 64] = cnt_q[i*64 +: 64] + {63'd0, cnt_inc_i[i]};
    end

    if (ev_q && ev_ready_i) begin
      ev_d = 1'b0;
    end

    // ---- drain of a performed register-based invalidation: ICC / IVT read 1 until every request
    // inside the unit at the invalidation has left (the barrier is raised in the pulse cycle)
    if (cc_inv_q)  cc_wait_d  = 1'b1;
    if (tlb_inv_q) tlb_wait_d = 1'b1;
    if (cc_wait_q && !bar_busy_i && !cc_inv_q) begin
      cc_wait_d     = 1'b0;
      ccmd_d[63]    = 1'b0;
    end
    if (tlb_wait_q && !bar_busy_i && !tlb_inv_q) begin
      tlb_wait_d    = 1'b0;
      iotlb_d[63]   = 1'b0;
    end

    // ---- queue error: FSTS.IQE and the fault-event rule (A10 step 6)
    if ((iqe_pend_q || iqe_set_i) && !ev_q) begin
      iqe_pend_d = 1'b0;
      iqe_d      = 1'b1;
      if (!old_pend) begin
        if (im_q) ip_d = 1'b1;
        else      send_ev = 1'b1;
      end
    end

    case (state_q)
      S_IDLE: begin
        if (fr_valid_i && !ev_q) begin
          begin
            // ---- primary fault logging (A10 steps 2-6)
            fr_ready_o = 1'b1;
            for (i = 0; i < NFR; i = i + 1) begin
              if (f_q[i] && sid_q[i*16 +: 16] == fr_sid_i && fr_q[i*8 +: 8] == fr_reason_i) begin
                cmp_hit = 1'b1;
              end
            end
            if (pfo_q || cmp_hit) begin
              // dropped
            end else if (f_q[next_q]) begin
              pfo_d = 1'b1;
            end else begin
              for (i = 0; i < NFR; i = i + 1) begin
                if (next_q == i[NFR_W-1:0]) begin
                  f_d[i]            = 1'b1;
                  fi_d[i*52 +: 52]  = fr_fi_i;
                  sid_d[i*16 +: 16] = fr_sid_i;
                  fr_d[i*8 +: 8]    = fr_reason_i;
                  at_d[i*2 +: 2]    = fr_at_i;
                  t_d[i]            = fr_t_i;
                  t2_d[i]           = fr_t2_i;
                end
              end
              cnt_d[FAULT_CNT*64 +: 64] = cnt_q[FAULT_CNT*64 +: 64] + 64'd1;
              next_d = (next_q == NFR[NFR_W-1:0] - 1'b1) ? {NFR_W{1'b0}} : next_q + 1'b1;
              if (!ppf_q) begin
                fri_d = next_q;
              end
              if (!old_pend) begin
                // old FSTS had none of PPF/PFO/IQE: raise the event
                if (im_q) ip_d = 1'b1;
                else      send_ev = 1'b1;
              end
            end
          end
        end else begin
          begin
            csr_ready_o = 1'b1;
            if (csr_valid_i) begin
              acc_write_d = csr_write_i;
              acc_addr_d  = {csr_addr_i[11:2], 2'b00};
              acc_two_d   = (csr_size_i == 4'd8);
              acc_bad_d   = !((csr_size_i == 4'd4 && csr_addr_i[1:0] == 2'b00) ||
                              (csr_size_i == 4'd8 && csr_addr_i[2:0] == 3'b000));
              acc_wdata_d = csr_wdata_i;
              rdata_d     = 64'd0;
              state_d     = S_DW0;
            end
          end
        end
      end
      default: begin
        // ---- one dword step (S_DW0: low dword, S_DW1: high dword). A FECTL write that would
        // send the pending event waits here while an earlier event still waits on irq.
        if (acc_write_q && !acc_bad_q && acc_addr_q == 12'h038 && ev_q && ip_q &&
            !((state_q == S_DW0) ? acc_wdata_q[31] : acc_wdata_q[63])) begin
          stall_ev = 1'b1;
        end else if (!acc_bad_q) begin
          if (!acc_write_q) begin
            if (state_q == S_DW0) rdata_d[31:0]  = rd_dw;
            else                  rdata_d[63:32] = rd_dw;
          end else begin
            wv = (state_q == S_DW0) ? acc_wdata_q[31:0] : acc_wdata_q[63:32];
            case (acc_addr_q)
              12'h018: begin
                // GCMD: TE / QIE / IRE / CFI levels, SRTP / SIRTP one-shots
                tes_d = wv[31];
                if (wv[30]) begin
                  rta_lat_d = rtaddr_q;
                  rtps_d    = 1'b1;
                end
                if (ECAP_QI != 0) qies_d = wv[26];
                if (ECAP_IR != 0) begin
                  ires_d = wv[25];
                  cfis_d = wv[23];
                  if (wv[24]) begin
                    irta_lat_d = irta_q;
                    irtps_d    = 1'b1;
                  end
                end
              end
              12'h0B8: if (ECAP_IR != 0) irta_d[31:0] = {wv[31:12] & IRTA_BASE_LO,
                                                          (ECAP_EIM != 0) & wv[11], 7'd0, wv[3:0]};
              12'h0BC: if (ECAP_IR != 0) irta_d[63:32] = wv & IRTA_BASE_HI;
              12'h020: rtaddr_d[31:0]  = wv;
              12'h024: rtaddr_d[63:32] = wv;
              12'h028: ccmd_d[31:0]    = wv;
              12'h02C: begin
                // writable: FM, CIRG; CAIG changes only when a command runs
                ccmd_d[63:32] = {ccmd_q[63], wv[30:29], ccmd_q[60:59], 25'd0, wv[1:0]};
                if (wv[31]) begin
                  if (wv[30:29] != 2'b00 && !qies_q) begin
                    ccmd_d[60:59] = wv[30:29];
                    ccmd_d[63]    = 1'b1;        // clears when drained
                    cc_inv_d      = 1'b1;
                  end else begin
                    ccmd_d[60:59] = 2'b00;
                  end
                end
              end
              12'h034: begin
                if (wv[0]) pfo_d = 1'b0;
                if (wv[4]) iqe_d = 1'b0;
              end
              12'h038: begin
                im_d = wv[31];
                if (!wv[31] && ip_q) begin
                  ip_d    = 1'b0;
                  send_ev = 1'b1;
                end
              end
              12'h03C: fedata_d  = {16'd0, wv[15:0]};   // 31:16 reserved
              12'h040: feaddr_d  = {wv[31:2], 2'b00};
              12'h044: feuaddr_d = wv;
              12'h100: iva_d[31:0]  = {wv[31:12], 5'd0, wv[6:0]};
              12'h104: iva_d[63:32] = wv;
              12'h10C: begin
                // writable: IIRG, DR/DW (with CAP.DRD/DWD), DID; IAIG changes only when a
                // command runs
                iotlb_d[63:32] = {iotlb_q[63], 1'b0, wv[29:28], 1'b0, iotlb_q[58:57], 7'd0,
                                  wv[17:16] & {2{CAP_DRAIN != 0}}, wv[15:0]};
                if (wv[31]) begin
                  if (wv[29:28] != 2'b00 && !(wv[29:28] == 2'b11 && iva_q[5:0] > 6'd18) &&
                      !qies_q) begin
                    iotlb_d[58:57] = wv[29:28];
                    iotlb_d[63]    = 1'b1;       // clears when drained
                    tlb_inv_d      = 1'b1;
                  end else begin
                    iotlb_d[58:57] = 2'b00;
                  end
                end
              end
              default: begin
                // FRCD top dword: F is RW1C
                for (i = 0; i < NFR; i = i + 1) begin
                  if (acc_addr_q == (12'h20C + i[11:0] * 12'h010) && wv[31]) begin
                    f_d[i] = 1'b0;
                  end
                end
              end
            endcase
            // IP clears when no status that can hold it remains (PPF, PFO, IQE)
            if (ip_d && !(|f_d) && !pfo_d && !iqe_d) begin
              ip_d = 1'b0;
            end
          end
        end
        if (stall_ev) begin
          // wait for the earlier event to leave
        end else if (state_q == S_DW0 && acc_two_q) begin
          state_d    = S_DW1;
          acc_addr_d = acc_addr_q + 12'd4;
        end else begin
          state_d  = S_IDLE;
          rvalid_d = 1'b1;
        end
      end
    endcase

    if (send_ev) begin
      ev_d      = 1'b1;
      ev_addr_d = {feuaddr_d, feaddr_d};
      ev_data_d = fedata_d;
    end
  end

  // ---------------------------------------------------------------- flops
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= S_IDLE;
      acc_write_q <= 1'b0;
      acc_addr_q  <= 12'd0;
      acc_two_q   <= 1'b0;
      acc_bad_q   <= 1'b0;
      acc_wdata_q <= 64'd0;
      rdata_q     <= 64'd0;
      rvalid_q    <= 1'b0;
      tes_q       <= 1'b0;
      rtps_q      <= 1'b0;
      rtaddr_q    <= 64'd0;
      rta_lat_q   <= 64'd0;
      qies_q      <= 1'b0;
      ires_q      <= 1'b0;
      irtps_q     <= 1'b0;
      cfis_q      <= 1'b0;
      irta_q      <= 64'd0;
      irta_lat_q  <= 64'd0;
      iqe_q       <= 1'b0;
      iqe_pend_q  <= 1'b0;
      cc_wait_q   <= 1'b0;
      tlb_wait_q  <= 1'b0;
      ccmd_q      <= 64'd0;
      iva_q       <= 64'd0;
      iotlb_q     <= 64'd0;
      pfo_q       <= 1'b0;
      fri_q       <= {NFR_W{1'b0}};
      next_q      <= {NFR_W{1'b0}};
      im_q        <= 1'b1;
      ip_q        <= 1'b0;
      fedata_q    <= 32'd0;
      feaddr_q    <= 32'd0;
      feuaddr_q   <= 32'd0;
      ev_q        <= 1'b0;
      ev_addr_q   <= 64'd0;
      ev_data_q   <= 32'd0;
      f_q         <= {NFR{1'b0}};
      fi_q        <= {NFR*52{1'b0}};
      sid_q       <= {NFR*16{1'b0}};
      fr_q        <= {NFR*8{1'b0}};
      at_q        <= {NFR*2{1'b0}};
      t_q         <= {NFR{1'b0}};
      t2_q        <= {NFR{1'b0}};
      cnt_q       <= {NCNT*64{1'b0}};
      cc_inv_q    <= 1'b0;
      tlb_inv_q   <= 1'b0;
    end else begin
      state_q     <= state_d;
      acc_write_q <= acc_write_d;
      acc_addr_q  <= acc_addr_d;
      acc_two_q   <= acc_two_d;
      acc_bad_q   <= acc_bad_d;
      acc_wdata_q <= acc_wdata_d;
      rdata_q     <= rdata_d;
      rvalid_q    <= rvalid_d;
      tes_q       <= tes_d;
      rtps_q      <= rtps_d;
      rtaddr_q    <= rtaddr_d;
      rta_lat_q   <= rta_lat_d;
      qies_q      <= qies_d;
      ires_q      <= ires_d;
      irtps_q     <= irtps_d;
      cfis_q      <= cfis_d;
      irta_q      <= irta_d;
      irta_lat_q  <= irta_lat_d;
      iqe_q       <= iqe_d;
      iqe_pend_q  <= iqe_pend_d;
      cc_wait_q   <= cc_wait_d;
      tlb_wait_q  <= tlb_wait_d;
      ccmd_q      <= ccmd_d;
      iva_q       <= iva_d;
      iotlb_q     <= iotlb_d;
      pfo_q       <= pfo_d;
      fri_q       <= fri_d;
      next_q      <= next_d;
      im_q        <= im_d;
      ip_q        <= ip_d;
      fedata_q    <= fedata_d;
      feaddr_q    <= feaddr_d;
      feuaddr_q   <= feuaddr_d;
      ev_q        <= ev_d;
      ev_addr_q   <= ev_addr_d;
      ev_data_q   <= ev_data_d;
      f_q         <= f_d;
      fi_q        <= fi_d;
      sid_q       <= sid_d;
      fr_q        <= fr_d;
      at_q        <= at_d;
      t_q         <= t_d;
      t2_q        <= t2_d;
      cnt_q       <= cnt_d;
      cc_inv_q    <= cc_inv_d;
      tlb_inv_q   <= tlb_inv_d;
    end
  end

  // ---------------------------------------------------------------- outputs
  assign csr_rvalid_o   = rvalid_q;
  assign csr_rdata_o    = rvalid_q ? rdata_q : 64'd0;
  assign te_o           = tes_q;
  assign rta_o          = rta_lat_q;
  assign qie_o          = qies_q;
  assign ires_o         = ires_q;
  assign cfis_o         = cfis_q;
  assign irta_o         = irta_lat_q;
  assign iqe_o          = iqe_q;
  assign qr_wr_o        = (ECAP_QI != 0) && state_q != S_IDLE && acc_write_q && !acc_bad_q &&
                          !stall_ev && acc_addr_q >= 12'h080 && acc_addr_q < 12'h0B8;
  assign qr_addr_o      = acc_addr_q;
  assign qr_wdata_o     = (state_q == S_DW0) ? acc_wdata_q[31:0] : acc_wdata_q[63:32];
  assign cc_inv_o       = cc_inv_q;
  assign cc_inv_g_o     = ccmd_q[62:61];
  assign cc_inv_did_o   = ccmd_q[15:0];
  assign cc_inv_sid_o   = ccmd_q[31:16];
  assign cc_inv_fm_o    = ccmd_q[33:32];
  assign tlb_inv_o      = tlb_inv_q;
  assign tlb_inv_g_o    = iotlb_q[61:60];
  assign tlb_inv_did_o  = iotlb_q[47:32];
  assign tlb_inv_addr_o = iva_q[63:12];
  assign tlb_inv_am_o   = iva_q[5:0];
  assign tlb_inv_ih_o   = iva_q[6];
  // the fault event goes first; the invalidation-completion event waits behind it
  assign ev_valid_o     = ev_q || qev_valid_i;
  assign ev_addr_o      = ev_q ? ev_addr_q : qev_addr_i;
  assign ev_data_o      = ev_q ? ev_data_q : qev_data_i;
  assign qev_ready_o    = !ev_q && ev_ready_i;
endmodule

`default_nettype wire
