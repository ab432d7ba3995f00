// iommu_qi: queued-invalidation engine (invalidation queue registers, descriptor fetch, decode,
// execution with drain, invalidation wait with status write and completion event).
// Spec: vtd-pcie.md A12 (IQA/IQH/IQT, ICS, IECTL/IEDATA/IEADDR/IEUADDR, IQERCD, descriptor types
// and reserved masks, processing rules), A10 step 6 (fault event of IQE: done by the register
// file); decisions.md "Hardware identity" (ECAP.QI/IR/DT, CAP.PSI/MAMV, ECAP.MHMV, CAP.DRD/DWD),
// "Invalidation wait with SW=1 and IF=1" (status write first, then IWC/event), "IQA written while
// QIE=1" (acts at the next enable). Golden model: driver/src/model/qi.rs, driver/src/vtd/inv.rs.
//
// Registers (dword steps forwarded by iommu_regfile for 0x80..0xB4; other offsets read 0):
// - IQH 0x80 (RO): [18:4] head; reads 0 while GSTS.QIES (qie_i) = 0. 0x84 reads 0.
// - IQT 0x88: [18:4] tail, other bits read 0; 0x8C reads 0 and ignores writes. Writing 0x88 (the
//   low dword, so also a qword write) with QIES=1 and FSTS.IQE=0 (re)starts processing.
// - IQA 0x90/0x94: [2:0] QS, [11] DW, [HAW-1:12] base as written; bits 10:3 and >= HAW read 0.
//   Latched at QIE 0->1 (decisions.md): writes while enabled act only at the next enable.
// - ICS 0x9C: [0] IWC, RW1C; clearing IWC also clears IECTL.IP.
// - IECTL 0xA0: [31] IM (RW, reset 1), [30] IP (RO). Writing IM=0 while IP=1 sends the pending
//   event and clears IP.
// - IEDATA 0xA4 keeps [15:0], IEADDR 0xA8 keeps [31:2], IEUADDR 0xAC keeps [31:0].
// - IQERCD 0xB0 (RO): [3:0] IQEI of the last queue error (ITESID/ICESID 0); 0xB4 reads 0.
// GCMD.QIE: 0->1 latches IQA, sets the head to 0 and runs the queue if IQT != head (IQT may be
// programmed before enabling); 1->0 stops the queue and the head is 0 again (IQT keeps its value).
//
// Processing (model order): while QIES=1, head != tail, FSTS.IQE=0 and the queue was not stopped
// by an error: check the tail (IQEI 1 tail >= queue size, 6 DW=1 with tail bit 4 set, 5 DW=1:
// 256-bit descriptors need ECAP.SMTS/ADMS, absent here), fetch the 16 bytes at IQA base + head
// (error response: IQEI 2), decode: IQEI 3 for type {qw0[11:9],qw0[3:0]} = 0 or > 9, type 3
// without ECAP_DT, type 4 without ECAP_IR (after its reserved bits passed), types 6-9 (legacy
// mode; after their reserved bits passed); IQEI 4 for A12 reserved bits (inv.rs masks), G=0 for
// CC/IOTLB, IOTLB PSI without CAP_PSI or AM > MAMV, IEC index-selective with IM > MHMV, wait PD=1
// (no ECAP.PDS). Then execute and advance the head by 16 (mod 4 KiB x 2^QS).
// On an error: IQERCD.IQEI is written, iqe_set_o pulses (the register file sets FSTS.IQE and
// applies the fault-event rule), the head stays on the offending descriptor and the queue stops
// until an IQT low-dword write (or a QIE 0->1) that finds IQE clear. Between the pulse and iqe_i
// rising the engine treats IQE as already set.
// Execution:
// - context-cache (1): one-cycle cc_inv_* pulse (g, did, sid, fm from the descriptor).
// - IOTLB (2): one-cycle tlb_inv_* pulse (g, did, addr = qw1[63:12], am, ih).
// - IEC (4, only with ECAP_IR): one-cycle iec_inv_* pulse, iec_inv_g_o = 1 global (descriptor G=0),
//   else index-selective: 2^IM entries from IIDX (aligning IIDX down is the IEC's job).
// - every cc/IOTLB/IEC pulse is followed by a drain, whatever DW/DR say (CAP.DRD=DWD=1 are
//   advertised; draining every invalidation is allowed and simpler): barrier = occ_i - leave_i in
//   the pulse cycle, then minus leave_i per cycle; the descriptor completes when it reaches 0.
//   (iommu_top feeds one pseudo-request that leaves once the reorder buffer reports that every
//   request inside the unit at the pulse has left.)
// - device-TLB (3, only with ECAP_DT): nothing to invalidate (no device TLB), completes at once.
// - wait (5): SW=1 writes STATUS DATA (32-bit, little-endian) to STATUS ADDR: op 1 at the address
//   aligned down to 16, the data copied into every dword lane and the strobes on the 4 addressed
//   bytes; the write is done when its response arrives (the port answers writes too); a failed
//   write (mem_rsp_err) is a queue error IQEI 2 with IQH left on the wait and its IF part not
//   done, as the golden model decides. Then IF=1: if ICS.IWC=0, set IWC
//   and IECTL.IP, and with IM=0 send the event (IEUADDR:IEADDR, IEDATA) on ev_* and clear IP.
//   FN needs nothing (one descriptor at a time); PD=1 is rejected (IQEI 4).
// Decided here (the model is synchronous, the RTL is not):
// - The tail checks are made before each descriptor against the current IQT (identical to the
//   model while software does not move the tail during processing).
// - The IF step of a wait waits for a cycle without a register write to 0x80..0xB4 (so ICS/IECTL
//   writes and the IF step are ordered: write first) and, when it would set IWC, for the event
//   channel to be idle. Hence at most one event is ever outstanding and the IECTL-unmask send always
//   finds the channel free. The event payload is latched when it is sent.
// - QIE 1->0 while a descriptor is in flight: a fetch still outstanding is completed on the port and
//   its data discarded (no error, no effect); a descriptor already decoded finishes its effects
//   (pulse, drain, status write, IF) but does not move the head. The head is 0 while disabled.
// - cnt_desc_o pulses once per descriptor completed (not for a queue error).
//
// Latency (cycles; L = memory latency: the response arrives L cycles after the grant cycle;
// grants at once, nothing to drain), measured by the bench:
// - per descriptor, back to back: idle check 1 + fetch request 1 + L, then
//   cc/IOTLB/IEC: pulse 1 (it completes in the pulse cycle when occ_i - leave_i = 0, else one more
//   cycle per drain step until the barrier is 0)                                  = L + 3;
//   wait SW only: status write 1 + L (its response) = 2L + 3; IF only: IF step 1 = L + 3;
//   SW + IF = 2L + 4; wait without SW/IF, device-TLB: complete in the response cycle = L + 2.
// - IQT write edge to cnt_desc_o for one descriptor: the above + 1 (cnt_desc_o and the new IQH
//   are visible in the cycle after the completing edge). 4 invalidations: 4 x (L + 3) + 1.
// - queue error: IQERCD and iqe_set_o in the cycle after the detecting edge (tail checks: the idle
//   check cycle; fetch/decode errors: the response cycle).
// Throughput: one descriptor at a time (one memory request outstanding).
`default_nettype none

module iommu_qi #(
  parameter integer HAW     = 48,   // host address width (IQA base bits >= HAW are reserved)
  parameter integer OCC_W   = 8,    // width of occ_i (requests inside the unit)
  parameter integer CAP_PSI = 1,    // CAP.PSI: page-selective IOTLB invalidation
  parameter integer MAMV    = 18,   // CAP.MAMV
  parameter integer MHMV    = 15,   // ECAP.MHMV
  parameter integer ECAP_IR = 1,    // ECAP.IR: IEC descriptors valid
  parameter integer ECAP_DT = 0     // ECAP.DT: device-TLB descriptors valid
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  /* register window 0x80..0xB4 (one dword step per cycle) */
  input  wire             rg_wr_i,
  input  wire [11:0]      rg_addr_i,
  input  wire [31:0]      rg_wdata_i,
  output wire [31:0]      rg_rdata_o,
  /* GSTS.QIES level, FSTS.IQE level and set pulse */
  input  wire             qie_i,
  input  wire             iqe_i,
  output wire             iqe_set_o,
  /* memory port (one request outstanding) */
  output wire             mreq_valid_o,
  input  wire             mreq_gnt_i,
  output wire             mreq_op_o,
  output wire [63:0]      mreq_addr_o,
  output wire [127:0]     mreq_wdata_o,
  output wire [15:0]      mreq_wstrb_o,
  input  wire             mrsp_valid_i,
  input  wire [127:0]     mrsp_data_i,
  input  wire             mrsp_err_i,
  /* invalidation commands (one-cycle pulses) */
  output wire             cc_inv_o,
  output wire [1:0]       cc_inv_g_o,
  output wire [15:0]      cc_inv_did_o,
  output wire [15:0]      cc_inv_sid_o,
  output wire [1:0]       cc_inv_fm_o,
  output wire             tlb_inv_o,
  output wire [1:0]       tlb_inv_g_o,
  output wire [15:0]      tlb_inv_did_o,
  output wire [63:12]     tlb_inv_addr_o,
  output wire [5:0]       tlb_inv_am_o,
  output wire             tlb_inv_ih_o,
  output wire             iec_inv_o,
  output wire             iec_inv_g_o,
  output wire [15:0]      iec_inv_idx_o,
  output wire [4:0]       iec_inv_im_o,
  /* drain */
  input  wire [OCC_W-1:0] occ_i,
  input  wire [2:0]       leave_i,
  /* invalidation-completion event */
  output wire             ev_valid_o,
  input  wire             ev_ready_i,
  output wire [63:0]      ev_addr_o,
  output wire [31:0]      ev_data_o,
  /* status */
  output wire             busy_o,
  output wire             cnt_desc_o
);
  // ---------------------------------------------------------------- parameter checks
  generate
    if (HAW < 32 || HAW > 52) begin : g_bad_haw
      iommu_param_check_failed u_haw_out_of_range ();
    end
    if (OCC_W < 3) begin : g_bad_occ_w
      iommu_param_check_failed u_occ_w_too_small ();
    end
  endgenerate

  localparam [2:0] S_IDLE = 3'd0, S_FRQ = 3'd1, S_FWT = 3'd2, S_PULSE = 3'd3, S_DRAIN = 3'd4,
                   S_WRQ = 3'd5, S_IF = 3'd6, S_WWT = 3'd7;

  localparam [3:0] IQEI_TAIL = 4'd1, IQEI_FETCH = 4'd2, IQEI_TYPE = 4'd3, IQEI_RSVD = 4'd4,
                   IQEI_WIDTH = 4'd5, IQEI_ALIGN = 4'd6;

  // allowed (non-reserved) descriptor bits (A12 / inv.rs)
  localparam [63:0] CC_OK0    = 64'h0003_FFFF_FFFF_003F;
  localparam [63:0] TLB_OK0   = 64'h0000_0000_FFFF_00FF, TLB_OK1  = 64'hFFFF_FFFF_FFFF_F07F;
  localparam [63:0] DEV_OK0   = 64'hFFF0_FFFF_001F_F00F, DEV_OK1  = 64'hFFFF_FFFF_FFFF_F001;
  localparam [63:0] IEC_OK0   = 64'h0000_FFFF_F800_001F;
  localparam [63:0] WAIT_OK0  = 64'hFFFF_FFFF_0000_00FF, WAIT_OK1 = 64'hFFFF_FFFF_FFFF_FFFC;
  localparam [63:0] PIOTLB_OK0 = 64'h000F_FFFF_FFFF_003F;
  localparam [63:0] PCC_OK0   = 64'h000F_FFFF_FFFF_003F;
  localparam [63:0] PDEV_OK0  = 64'hFFFF_FFFF_FFFF_F1FF, PDEV_OK1 = 64'hFFFF_FFFF_FFFF_F801;

  // IQA: bits 10:3 and >= HAW read 0
  localparam [63:0] IQA_MASK = ((64'd1 << HAW) - 64'd1) & ~64'h0000_0000_0000_07F8;
  localparam [5:0]  MAMV6 = MAMV[5:0];
  localparam [4:0]  MHMV5 = MHMV[4:0];

  // ---------------------------------------------------------------- state
  reg [2:0]         state_q, state_d;
  reg               qie_q;                  // qie_i of the previous cycle
  reg [14:0]        head_q, head_d;         // IQH[18:4]
  reg [14:0]        tail_q, tail_d;         // IQT[18:4]
  reg [63:0]        iqa_q, iqa_d;           // IQA as written (reserved bits 0)
  reg [HAW-13:0]    base_q, base_d;         // latched at enable
  reg [2:0]         qs_q, qs_d;
  reg               dw_q, dw_d;
  reg               iwc_q, iwc_d;
  reg               im_q, im_d;
  reg               ip_q, ip_d;
  reg [15:0]        iedata_q, iedata_d;
  reg [31:2]        ieaddr_q, ieaddr_d;
  reg [31:0]        ieuaddr_q, ieuaddr_d;
  reg [3:0]         iqei_q, iqei_d;
  reg               halt_q, halt_d;         // stopped by a queue error
  reg               pend_q, pend_d;         // error signalled, iqe_i not yet seen
  reg               iqe_set_q, iqe_set_d;
  reg               abort_q, abort_d;       // QIE dropped while a descriptor was in flight
  reg [HAW:4]       faddr_q, faddr_d;       // fetch address
  reg [127:0]       desc_q, desc_d;
  reg [OCC_W-1:0]   bcnt_q, bcnt_d;         // drain barrier
  reg               cnt_q;
  reg               ev_q, ev_d;
  reg [63:2]        ev_addr_q, ev_addr_d;
  reg [15:0]        ev_data_q, ev_data_d;

  wire iqe_eff = iqe_i | pend_q;

  // ---------------------------------------------------------------- register read
  reg [31:0] rd;
  always @* begin
    case (rg_addr_i)
      12'h080: rd = (qie_i && qie_q) ? {13'd0, head_q, 4'd0} : 32'd0;
      12'h088: rd = {13'd0, tail_q, 4'd0};
      12'h090: rd = iqa_q[31:0];
      12'h094: rd = iqa_q[63:32];
      12'h09C: rd = {31'd0, iwc_q};
      12'h0A0: rd = {im_q, ip_q, 30'd0};
      12'h0A4: rd = {16'd0, iedata_q};
      12'h0A8: rd = {ieaddr_q, 2'd0};
      12'h0AC: rd = ieuaddr_q;
      12'h0B0: rd = {28'd0, iqei_q};
      default: rd = 32'd0;
    endcase
  end
  assign rg_rdata_o = rd;

  // ---------------------------------------------------------------- descriptor check
  // IQEI of the fetched descriptor (0 = valid), in the model's order: type, reserved bits,
  // capability checks.
  wire [63:0] r0  = mrsp_data_i[63:0];
  wire [63:0] r1  = mrsp_data_i[127:64];
  wire [6:0]  rty = {r0[11:9], r0[3:0]};
  reg  [3:0]  dcode;
  always @* begin
    dcode = 4'd0;
    case (rty)
      7'd1: begin
        if ((r0 & ~CC_OK0) != 64'd0 || r1 != 64'd0) dcode = IQEI_RSVD;
        else if (r0[5:4] == 2'b00)                  dcode = IQEI_RSVD;
      end
      7'd2: begin
        if ((r0 & ~TLB_OK0) != 64'd0 || (r1 & ~TLB_OK1) != 64'd0) dcode = IQEI_RSVD;
        else if (r0[5:4] == 2'b00)                                 dcode = IQEI_RSVD;
        else if (r0[5:4] == 2'b11 && (CAP_PSI == 0 || r1[5:0] > MAMV6)) dcode = IQEI_RSVD;
      end
      7'd3: begin
        if ((r0 & ~DEV_OK0) != 64'd0 || (r1 & ~DEV_OK1) != 64'd0) dcode = IQEI_RSVD;
        else if (ECAP_DT == 0)                                     dcode = IQEI_TYPE;
      end
      7'd4: begin
        if ((r0 & ~IEC_OK0) != 64'd0 || r1 != 64'd0) dcode = IQEI_RSVD;
        else if (ECAP_IR == 0)                       dcode = IQEI_TYPE;
        else if (r0[4] && r0[31:27] > MHMV5)         dcode = IQEI_RSVD;
      end
      7'd5: begin
        if ((r0 & ~WAIT_OK0) != 64'd0 || (r1 & ~WAIT_OK1) != 64'd0) dcode = IQEI_RSVD;
        else if (r0[7])                                              dcode = IQEI_RSVD; // PD, no PDS
      end
      7'd6: begin
        if ((r0 & ~PIOTLB_OK0) != 64'd0 || (r1 & ~TLB_OK1) != 64'd0) dcode = IQEI_RSVD;
        else                                                         dcode = IQEI_TYPE;
      end
      7'd7: begin
        if ((r0 & ~PCC_OK0) != 64'd0 || r1 != 64'd0) dcode = IQEI_RSVD;
        else                                         dcode = IQEI_TYPE;
      end
      7'd8: begin
        if ((r0 & ~PDEV_OK0) != 64'd0 || (r1 & ~PDEV_OK1) != 64'd0) dcode = IQEI_RSVD;
        else                                                        dcode = IQEI_TYPE;
      end
      default: dcode = IQEI_TYPE;   // 0, 9 (page-group response: SM only), 10..127
    endcase
  end

  // ---------------------------------------------------------------- helpers
  // tail >= 4 KiB x 2^QS  <=>  tail[18:12] >> QS != 0
  wire [6:0]  tail_pg   = tail_q[14:8] >> qs_q;
  wire        tail_over = (tail_pg != 7'd0);
  // head + 16 mod queue size: 2^(8+QS) slots
  wire [14:0] slot_mask = ~(15'h7FFF << (4'd8 + {1'b0, qs_q}));
  wire [14:0] head_inc  = (head_q + 15'd1) & slot_mask;
  wire [HAW:4] fetch_a  = {1'b0, base_q, 8'd0} + {{(HAW-18){1'b0}}, head_q};

  wire [OCC_W-1:0] leave_w = {{(OCC_W-3){1'b0}}, leave_i};
  wire [OCC_W-1:0] bar0    = (occ_i > leave_w) ? (occ_i - leave_w) : {OCC_W{1'b0}};

  wire [3:0] dtype = desc_q[3:0];           // type of a decoded (valid) descriptor

  // ---------------------------------------------------------------- next state
  reg complete;
  reg err;
  reg [3:0] err_code;
  reg send;
  always @* begin
    state_d   = state_q;
    head_d    = head_q;
    tail_d    = tail_q;
    iqa_d     = iqa_q;
    base_d    = base_q;
    qs_d      = qs_q;
    dw_d      = dw_q;
    iwc_d     = iwc_q;
    im_d      = im_q;
    ip_d      = ip_q;
    iedata_d  = iedata_q;
    ieaddr_d  = ieaddr_q;
    ieuaddr_d = ieuaddr_q;
    iqei_d    = iqei_q;
    halt_d    = halt_q;
    pend_d    = pend_q & ~iqe_i;
    iqe_set_d = 1'b0;
    abort_d   = abort_q | ~qie_i;
    faddr_d   = faddr_q;
    desc_d    = desc_q;
    bcnt_d    = bcnt_q;
    ev_d      = ev_q & ~ev_ready_i;
    ev_addr_d = ev_addr_q;
    ev_data_d = ev_data_q;
    complete  = 1'b0;
    err       = 1'b0;
    err_code  = 4'd0;
    send      = 1'b0;

    // ---- register writes (before the engine's action of this cycle)
    if (rg_wr_i) begin
      case (rg_addr_i)
        12'h088: begin
          tail_d = rg_wdata_i[18:4];
          if (qie_i && !iqe_eff) halt_d = 1'b0;
        end
        12'h090: iqa_d = {iqa_q[63:32], rg_wdata_i} & IQA_MASK;
        12'h094: iqa_d = {rg_wdata_i, iqa_q[31:0]} & IQA_MASK;
        12'h09C: begin
          if (rg_wdata_i[0]) begin
            iwc_d = 1'b0;
            ip_d  = 1'b0;
          end
        end
        12'h0A0: begin
          im_d = rg_wdata_i[31];
          if (!rg_wdata_i[31] && ip_q) begin
            ip_d = 1'b0;
            send = 1'b1;
          end
        end
        12'h0A4: iedata_d  = rg_wdata_i[15:0];
        12'h0A8: ieaddr_d  = rg_wdata_i[31:2];
        12'h0AC: ieuaddr_d = rg_wdata_i;
        default: ;
      endcase
    end

    // ---- the engine
    case (state_q)
      S_IDLE: begin
        if (qie_i && qie_q && !halt_q && !iqe_eff && head_q != tail_q) begin
          if (tail_over) begin
            err = 1'b1; err_code = IQEI_TAIL;
          end else if (dw_q && tail_q[0]) begin
            err = 1'b1; err_code = IQEI_ALIGN;
          end else if (dw_q) begin
            err = 1'b1; err_code = IQEI_WIDTH;
          end else begin
            faddr_d = fetch_a;
            state_d = S_FRQ;
          end
        end
      end
      S_FRQ: begin
        if (mreq_gnt_i) state_d = S_FWT;
      end
      S_FWT: begin
        if (mrsp_valid_i) begin
          desc_d = mrsp_data_i;
          if (abort_q || !qie_i) begin
            state_d = S_IDLE;                       // queue disabled meanwhile: discard
          end else if (mrsp_err_i) begin
            err = 1'b1; err_code = IQEI_FETCH;
          end else if (dcode != 4'd0) begin
            err = 1'b1; err_code = dcode;
          end else begin
            case (r0[3:0])
              4'd1, 4'd2, 4'd4: state_d = S_PULSE;
              4'd5: begin
                if (r0[5])      state_d = S_WRQ;    // SW
                else if (r0[4]) state_d = S_IF;     // IF
                else            complete = 1'b1;
              end
              default: complete = 1'b1;             // device-TLB (ECAP_DT): nothing cached
            endcase
          end
        end
      end
      S_PULSE: begin
        if (bar0 == {OCC_W{1'b0}}) complete = 1'b1;
        else begin
          bcnt_d  = bar0;
          state_d = S_DRAIN;
        end
      end
      S_DRAIN: begin
        if (bcnt_q <= leave_w) complete = 1'b1;
        else bcnt_d = bcnt_q - leave_w;
      end
      S_WRQ: begin
        if (mreq_gnt_i) state_d = S_WWT;
      end
      S_WWT: begin
        // the status write's response: a failed write is a queue error (IQEI 2, the queue's own
        // memory access failed; the IF part is not done), as the golden model decides
        if (mrsp_valid_i) begin
          if (abort_q || !qie_i) begin
            state_d = S_IDLE;
          end else if (mrsp_err_i) begin
            err = 1'b1; err_code = IQEI_FETCH;
          end else if (desc_q[4]) begin
            state_d = S_IF;
          end else begin
            complete = 1'b1;
          end
        end
      end
      S_IF: begin
        if (!rg_wr_i) begin
          if (iwc_q) begin
            complete = 1'b1;                        // IWC already 1: nothing more
          end else if (!ev_q) begin
            iwc_d = 1'b1;
            if (im_q) ip_d = 1'b1;
            else      send = 1'b1;
            complete = 1'b1;
          end
        end
      end
      default: state_d = S_IDLE;
    endcase

    if (complete) begin
      state_d = S_IDLE;
      if (!abort_q && qie_i) head_d = head_inc;
    end
    if (err) begin
      state_d   = S_IDLE;
      iqei_d    = err_code;
      iqe_set_d = 1'b1;
      pend_d    = 1'b1;
      halt_d    = 1'b1;
    end
    if (send) begin
      ev_d      = 1'b1;
      ev_addr_d = {ieuaddr_q, ieaddr_q};
      ev_data_d = iedata_q;
    end

    // ---- GCMD.QIE: 0->1 latches IQA and restarts at head 0; while 0 the head is 0
    if (!qie_i) head_d = 15'd0;
    if (qie_i && !qie_q) begin
      head_d = 15'd0;
      base_d = iqa_q[HAW-1:12];
      qs_d   = iqa_q[2:0];
      dw_d   = iqa_q[11];
      if (!iqe_eff) halt_d = 1'b0;
    end
    if (state_d == S_IDLE) abort_d = 1'b0;
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= S_IDLE;
      qie_q     <= 1'b0;
      head_q    <= 15'd0;
      tail_q    <= 15'd0;
      iqa_q     <= 64'd0;
      base_q    <= {(HAW-12){1'b0}};
      qs_q      <= 3'd0;
      dw_q      <= 1'b0;
      iwc_q     <= 1'b0;
      im_q      <= 1'b1;
      ip_q      <= 1'b0;
      iedata_q  <= 16'd0;
      ieaddr_q  <= 30'd0;
      ieuaddr_q <= 32'd0;
      iqei_q    <= 4'd0;
      halt_q    <= 1'b0;
      pend_q    <= 1'b0;
      iqe_set_q <= 1'b0;
      abort_q   <= 1'b0;
      faddr_q   <= {(HAW-3){1'b0}};
      desc_q    <= 128'd0;
      bcnt_q    <= {OCC_W{1'b0}};
      cnt_q     <= 1'b0;
      ev_q      <= 1'b0;
      ev_addr_q <= 62'd0;
      ev_data_q <= 16'd0;
    end else begin
      state_q   <= state_d;
      qie_q     <= qie_i;
      head_q    <= head_d;
      tail_q    <= tail_d;
      iqa_q     <= iqa_d;
      base_q    <= base_d;
      qs_q      <= qs_d;
      dw_q      <= dw_d;
      iwc_q     <= iwc_d;
      im_q      <= im_d;
      ip_q      <= ip_d;
      iedata_q  <= iedata_d;
      ieaddr_q  <= ieaddr_d;
      ieuaddr_q <= ieuaddr_d;
      iqei_q    <= iqei_d;
      halt_q    <= halt_d;
      pend_q    <= pend_d;
      iqe_set_q <= iqe_set_d;
      abort_q   <= abort_d;
      faddr_q   <= faddr_d;
      desc_q    <= desc_d;
      bcnt_q    <= bcnt_d;
      cnt_q     <= complete;
      ev_q      <= ev_d;
      ev_addr_q <= ev_addr_d;
      ev_data_q <= ev_data_d;
    end
  end

  // ---------------------------------------------------------------- outputs
  wire pulse = (state_q == S_PULSE);

  assign iqe_set_o      = iqe_set_q;
  assign mreq_valid_o   = (state_q == S_FRQ) || (state_q == S_WRQ);
  assign mreq_op_o      = (state_q == S_WRQ);
  assign mreq_addr_o    = (state_q == S_WRQ) ? {desc_q[127:68], 4'd0}
                                             : {{(63-HAW){1'b0}}, faddr_q, 4'd0};
  assign mreq_wdata_o   = {4{desc_q[63:32]}};
  assign mreq_wstrb_o   = 16'h000F << {desc_q[67:66], 2'b00};

  assign cc_inv_o       = pulse && (dtype == 4'd1);
  assign cc_inv_g_o     = desc_q[5:4];
  assign cc_inv_did_o   = desc_q[31:16];
  assign cc_inv_sid_o   = desc_q[47:32];
  assign cc_inv_fm_o    = desc_q[49:48];
  assign tlb_inv_o      = pulse && (dtype == 4'd2);
  assign tlb_inv_g_o    = desc_q[5:4];
  assign tlb_inv_did_o  = desc_q[31:16];
  assign tlb_inv_addr_o = desc_q[127:76];
  assign tlb_inv_am_o   = desc_q[69:64];
  assign tlb_inv_ih_o   = desc_q[70];
  assign iec_inv_o      = pulse && (dtype == 4'd4);
  assign iec_inv_g_o    = !desc_q[4];
  assign iec_inv_idx_o  = desc_q[47:32];
  assign iec_inv_im_o   = desc_q[31:27];

  assign ev_valid_o     = ev_q;
  assign ev_addr_o      = {ev_addr_q, 2'b00};
  assign ev_data_o      = {16'd0, ev_data_q};
  assign busy_o         = (state_q != S_IDLE);
  assign cnt_desc_o     = cnt_q;

  wire unused_qi = ^{desc_q[15:6], desc_q[65:64], desc_q[75:71]};
endmodule

`default_nettype wire
