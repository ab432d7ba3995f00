// iommu_top: VT-d style IOMMU: DMA remapping, interrupt remapping with posted interrupts, and
// register-based and queued invalidation.
// Spec: vtd-pcie.md A (DMA remapping: registers, root/context/SL tables, faults, register-based
// invalidation, A12 queued invalidation), B (interrupt remapping, posted interrupts), C (TLP
// headers); decisions.md; port contract: ARCHITECTURE.md / rtl/README.md.
// Advertises (decisions.md "Hardware identity") ECAP.QI, ECAP.IR, ECAP.EIM and CAP.PI as set by
// the parameters (default all 1) and CAP.DRD = CAP.DWD = 1.
// Latency (cycles): IOTLB hit 4 (up accept -> dn_valid); register access 2 (4-byte) / 3 (8-byte)
// from accept to csr_rvalid; interrupt remapping and QI: rtl/README.md. Throughput: one
// translation per cycle on IOTLB hits.
`default_nettype none

module iommu_top #(
  parameter integer ID_W         = 6,        // memory request id width (>= log2(WALKERS))
  parameter integer HAW          = 48,       // host address width; table pointer bits >= HAW are reserved
  parameter integer NFR          = 8,        // fault recording registers (CAP.NFR + 1)
  parameter integer CC_ENTRIES   = 8,        // context-cache entries (fully associative)
  parameter integer TLB_SETS     = 8,        // IOTLB sets (power of two)
  parameter integer TLB_WAYS     = 4,        // IOTLB ways
  parameter integer PSC_ENTRIES  = 8,        // paging-structure-cache entries (fully associative)
  parameter integer WALKERS      = 4,        // page walks in flight
  parameter integer ROB_DEPTH    = 16,       // reorder-buffer entries (power of two)
  parameter integer IEC_ENTRIES  = 8,        // interrupt-entry-cache entries (fully associative)
  parameter integer ECAP_QI      = 1,        // queued invalidation
  parameter integer ECAP_IR      = 1,        // interrupt remapping
  parameter integer ECAP_EIM     = 1,        // extended interrupt mode (x2APIC)
  parameter integer CAP_PI       = 1,        // posted interrupts
  parameter [15:0]  COMPLETER_ID = 16'h0000  // Completer ID used in UR/CA completions
) (
  input  wire                 clk,
  input  wire                 rst_n,
  /* upstream request */
  input  wire                 up_valid,
  output wire                 up_ready,
  input  wire [127:0]         up_hdr,
  input  wire [31:0]          up_data0,
  input  wire [15:0]          up_tag,
  /* downstream (translated) request */
  output wire                 dn_valid,
  input  wire                 dn_ready,
  output wire [127:0]         dn_hdr,
  output wire [15:0]          dn_tag,
  /* completion to the requester */
  output wire                 cpl_valid,
  input  wire                 cpl_ready,
  output wire [95:0]          cpl_hdr,
  output wire [15:0]          cpl_tag,
  /* interrupt out */
  output wire                 irq_valid,
  input  wire                 irq_ready,
  output wire [63:0]          irq_addr,
  output wire [31:0]          irq_data,
  /* memory port */
  output wire                 mem_req_valid,
  input  wire                 mem_req_ready,
  output wire [ID_W-1:0]      mem_req_id,
  output wire [1:0]           mem_req_op,
  output wire [63:0]          mem_req_addr,
  output wire [127:0]         mem_req_wdata,
  output wire [15:0]          mem_req_wstrb,
  input  wire                 mem_rsp_valid,
  input  wire [ID_W-1:0]      mem_rsp_id,
  input  wire [127:0]         mem_rsp_data,
  input  wire                 mem_rsp_err,
  /* register port */
  input  wire                 csr_valid,
  output wire                 csr_ready,
  input  wire                 csr_write,
  input  wire [11:0]          csr_addr,
  input  wire [3:0]           csr_size,
  input  wire [63:0]          csr_wdata,
  output wire                 csr_rvalid,
  output wire [63:0]          csr_rdata
);
  localparam integer NCNT  = 12;
  localparam integer OCC_W = 8;

  wire         te;
  wire [63:0]  rta;
  wire         qie, ires, cfis, iqe, iqe_set;
  wire [63:0]  irta;
  wire         qr_wr;
  wire [11:0]  qr_addr;
  wire [31:0]  qr_wdata, qr_rdata;
  wire         qev_valid, qev_ready;
  wire [63:0]  qev_addr;
  wire [31:0]  qev_data;
  wire         bar_busy;
  wire         bar;
  // register-based invalidation (regfile) and queued invalidation (QI)
  wire         r_cc_inv, r_tlb_inv, r_tlb_ih;
  wire [1:0]   r_cc_g, r_cc_fm, r_tlb_g;
  wire [15:0]  r_cc_did, r_cc_sid, r_tlb_did;
  wire [63:12] r_tlb_addr;
  wire [5:0]   r_tlb_am;
  wire         q_cc_inv, q_tlb_inv, q_tlb_ih, q_iec_inv, q_iec_g;
  wire [1:0]   q_cc_g, q_cc_fm, q_tlb_g;
  wire [15:0]  q_cc_did, q_cc_sid, q_tlb_did, q_iec_idx;
  wire [63:12] q_tlb_addr;
  wire [5:0]   q_tlb_am;
  wire [4:0]   q_iec_im;
  wire         fr_valid, fr_ready, fr_t, fr_t2;
  wire [7:0]   fr_reason;
  wire [15:0]  fr_sid;
  wire [63:12] fr_fi;
  wire [1:0]   fr_at;
  wire         ev_valid, ev_ready;
  wire [63:0]  ev_addr;
  wire [31:0]  ev_data;
  wire [NCNT-1:0] cnt_inc, core_cnt;
  wire         qi_cnt;
  wire         qm_valid, qm_gnt, qm_op, qm_rsp_valid;
  wire [63:0]  qm_addr;
  wire [127:0] qm_wdata;
  wire [15:0]  qm_wstrb;
  wire         qi_busy;

  iommu_regfile #(
    .HAW(HAW), .NFR(NFR), .NCNT(NCNT), .CAP_PI(CAP_PI), .ECAP_QI(ECAP_QI), .ECAP_IR(ECAP_IR),
    .ECAP_EIM(ECAP_EIM), .CAP_DRAIN(1)
  ) u_regfile (
    .clk_i(clk), .rst_ni(rst_n),
    .csr_valid_i(csr_valid), .csr_ready_o(csr_ready), .csr_write_i(csr_write),
    .csr_addr_i(csr_addr), .csr_size_i(csr_size), .csr_wdata_i(csr_wdata),
    .csr_rvalid_o(csr_rvalid), .csr_rdata_o(csr_rdata),
    .te_o(te), .rta_o(rta), .qie_o(qie), .ires_o(ires), .cfis_o(cfis), .irta_o(irta),
    .qr_wr_o(qr_wr), .qr_addr_o(qr_addr), .qr_wdata_o(qr_wdata), .qr_rdata_i(qr_rdata),
    .iqe_set_i(iqe_set), .iqe_o(iqe),
    .qev_valid_i(qev_valid), .qev_ready_o(qev_ready), .qev_addr_i(qev_addr),
    .qev_data_i(qev_data), .bar_busy_i(bar_busy),
    .cc_inv_o(r_cc_inv), .cc_inv_g_o(r_cc_g), .cc_inv_did_o(r_cc_did), .cc_inv_sid_o(r_cc_sid),
    .cc_inv_fm_o(r_cc_fm),
    .tlb_inv_o(r_tlb_inv), .tlb_inv_g_o(r_tlb_g), .tlb_inv_did_o(r_tlb_did),
    .tlb_inv_addr_o(r_tlb_addr), .tlb_inv_am_o(r_tlb_am), .tlb_inv_ih_o(r_tlb_ih),
    .fr_valid_i(fr_valid), .fr_ready_o(fr_ready), .fr_reason_i(fr_reason), .fr_sid_i(fr_sid),
    .fr_fi_i(fr_fi), .fr_t_i(fr_t), .fr_t2_i(fr_t2), .fr_at_i(fr_at),
    .ev_valid_o(ev_valid), .ev_ready_i(ev_ready), .ev_addr_o(ev_addr), .ev_data_o(ev_data),
    .cnt_inc_i(cnt_inc)
  );

  // The engine drains with a counter (barrier = occ_i - leave_i in the pulse cycle, then minus
  // leave_i per cycle, done at 0). The reorder buffer tracks exactly which requests were inside
  // at the barrier (bar_busy, valid from the cycle after the pulse), so the counter is fed one
  // pseudo-request that leaves once bar_busy is low after the pulse.
  wire [OCC_W-1:0] qi_occ   = {{(OCC_W-1){1'b0}}, 1'b1};
  wire [2:0]       qi_leave = {2'b00, !bar_busy && !bar};

  generate
    if (ECAP_QI != 0) begin : g_qi
      iommu_qi #(
        .HAW(HAW), .OCC_W(OCC_W), .CAP_PSI(1), .MAMV(18), .MHMV(15), .ECAP_IR(ECAP_IR), .ECAP_DT(0)
      ) u_qi (
        .clk_i(clk), .rst_ni(rst_n),
        .rg_wr_i(qr_wr), .rg_addr_i(qr_addr), .rg_wdata_i(qr_wdata), .rg_rdata_o(qr_rdata),
        .qie_i(qie), .iqe_i(iqe), .iqe_set_o(iqe_set),
        .mreq_valid_o(qm_valid), .mreq_gnt_i(qm_gnt), .mreq_op_o(qm_op), .mreq_addr_o(qm_addr),
        .mreq_wdata_o(qm_wdata), .mreq_wstrb_o(qm_wstrb),
        .mrsp_valid_i(qm_rsp_valid), .mrsp_data_i(mem_rsp_data), .mrsp_err_i(mem_rsp_err),
        .cc_inv_o(q_cc_inv), .cc_inv_g_o(q_cc_g), .cc_inv_did_o(q_cc_did), .cc_inv_sid_o(q_cc_sid),
        .cc_inv_fm_o(q_cc_fm),
        .tlb_inv_o(q_tlb_inv), .tlb_inv_g_o(q_tlb_g), .tlb_inv_did_o(q_tlb_did),
        .tlb_inv_addr_o(q_tlb_addr), .tlb_inv_am_o(q_tlb_am), .tlb_inv_ih_o(q_tlb_ih),
        .iec_inv_o(q_iec_inv), .iec_inv_g_o(q_iec_g), .iec_inv_idx_o(q_iec_idx),
        .iec_inv_im_o(q_iec_im),
        .occ_i(qi_occ), .leave_i(qi_leave),
        .ev_valid_o(qev_valid), .ev_ready_i(qev_ready), .ev_addr_o(qev_addr), .ev_data_o(qev_data),
        .busy_o(qi_busy), .cnt_desc_o(qi_cnt)
      );
    end else begin : g_no_qi
      assign qr_rdata = 32'd0;
      assign iqe_set  = 1'b0;
      assign qm_valid = 1'b0;
      assign qm_op    = 1'b0;
      assign qm_addr  = 64'd0;
      assign qm_wdata = 128'd0;
      assign qm_wstrb = 16'd0;
      assign {q_cc_inv, q_cc_g, q_cc_did, q_cc_sid, q_cc_fm} = 37'd0;
      assign {q_tlb_inv, q_tlb_g, q_tlb_did, q_tlb_addr, q_tlb_am, q_tlb_ih} = 78'd0;
      assign {q_iec_inv, q_iec_g, q_iec_idx, q_iec_im} = 23'd0;
      assign {qev_valid, qev_addr, qev_data} = 97'd0;
      assign qi_busy  = 1'b0;
      assign qi_cnt   = 1'b0;
    end
  endgenerate

  // register-based invalidation is not performed while QIES=1, so the two sources never pulse
  // together; the queue's fields win if they did
  wire         cc_inv      = q_cc_inv | r_cc_inv;
  wire [1:0]   cc_inv_g    = q_cc_inv ? q_cc_g   : r_cc_g;
  wire [15:0]  cc_inv_did  = q_cc_inv ? q_cc_did : r_cc_did;
  wire [15:0]  cc_inv_sid  = q_cc_inv ? q_cc_sid : r_cc_sid;
  wire [1:0]   cc_inv_fm   = q_cc_inv ? q_cc_fm  : r_cc_fm;
  wire         tlb_inv     = q_tlb_inv | r_tlb_inv;
  wire [1:0]   tlb_inv_g   = q_tlb_inv ? q_tlb_g    : r_tlb_g;
  wire [15:0]  tlb_inv_did = q_tlb_inv ? q_tlb_did  : r_tlb_did;
  wire [63:12] tlb_inv_addr = q_tlb_inv ? q_tlb_addr : r_tlb_addr;
  wire [5:0]   tlb_inv_am  = q_tlb_inv ? q_tlb_am   : r_tlb_am;
  wire         tlb_inv_ih  = q_tlb_inv ? q_tlb_ih   : r_tlb_ih;
  // every invalidation raises the drain barrier in the cycle it takes effect
  assign       bar         = cc_inv | tlb_inv | q_iec_inv;

  assign cnt_inc = core_cnt | {{(NCNT-12){1'b0}}, qi_cnt, 11'd0};

  iommu_core #(
    .ID_W(ID_W), .HAW(HAW), .CC_ENTRIES(CC_ENTRIES), .TLB_SETS(TLB_SETS), .TLB_WAYS(TLB_WAYS),
    .PSC_ENTRIES(PSC_ENTRIES), .WALKERS(WALKERS), .ROB_DEPTH(ROB_DEPTH), .NCNT(NCNT),
    .IEC_ENTRIES(IEC_ENTRIES), .CAP_PI(CAP_PI), .ECAP_EIM(ECAP_EIM),
    .COMPLETER_ID(COMPLETER_ID)
  ) u_core (
    .clk_i(clk), .rst_ni(rst_n),
    .up_valid_i(up_valid), .up_ready_o(up_ready), .up_hdr_i(up_hdr), .up_data0_i(up_data0),
    .up_tag_i(up_tag),
    .dn_valid_o(dn_valid), .dn_ready_i(dn_ready), .dn_hdr_o(dn_hdr), .dn_tag_o(dn_tag),
    .cpl_valid_o(cpl_valid), .cpl_ready_i(cpl_ready), .cpl_hdr_o(cpl_hdr), .cpl_tag_o(cpl_tag),
    .irq_valid_o(irq_valid), .irq_ready_i(irq_ready), .irq_addr_o(irq_addr), .irq_data_o(irq_data),
    .mem_req_valid_o(mem_req_valid), .mem_req_ready_i(mem_req_ready), .mem_req_id_o(mem_req_id),
    .mem_req_addr_o(mem_req_addr), .mem_req_op_o(mem_req_op), .mem_req_wdata_o(mem_req_wdata),
    .mem_req_wstrb_o(mem_req_wstrb),
    .mem_rsp_valid_i(mem_rsp_valid), .mem_rsp_id_i(mem_rsp_id), .mem_rsp_data_i(mem_rsp_data),
    .mem_rsp_err_i(mem_rsp_err),
    .qm_valid_i(qm_valid), .qm_gnt_o(qm_gnt), .qm_op_i(qm_op), .qm_addr_i(qm_addr),
    .qm_wdata_i(qm_wdata), .qm_wstrb_i(qm_wstrb), .qm_rsp_valid_o(qm_rsp_valid),
    .te_i(te), .rta_i(rta), .ires_i(ires), .cfis_i(cfis), .irta_i(irta),
    .cc_inv_i(cc_inv), .cc_inv_g_i(cc_inv_g), .cc_inv_did_i(cc_inv_did), .cc_inv_sid_i(cc_inv_sid),
    .cc_inv_fm_i(cc_inv_fm),
    .tlb_inv_i(tlb_inv), .tlb_inv_g_i(tlb_inv_g), .tlb_inv_did_i(tlb_inv_did),
    .tlb_inv_addr_i(tlb_inv_addr), .tlb_inv_am_i(tlb_inv_am), .tlb_inv_ih_i(tlb_inv_ih),
    .iec_inv_i(q_iec_inv), .iec_inv_g_i(q_iec_g), .iec_inv_idx_i(q_iec_idx),
    .iec_inv_im_i(q_iec_im),
    .bar_i(bar), .bar_busy_o(bar_busy),
    .fr_valid_o(fr_valid), .fr_ready_i(fr_ready), .fr_reason_o(fr_reason), .fr_sid_o(fr_sid),
    .fr_fi_o(fr_fi), .fr_t_o(fr_t), .fr_t2_o(fr_t2), .fr_at_o(fr_at),
    .ev_valid_i(ev_valid), .ev_ready_o(ev_ready), .ev_addr_i(ev_addr), .ev_data_i(ev_data),
    .cnt_inc_o(core_cnt)
  );

  wire unused_top = ^{qi_busy};
endmodule

`default_nettype wire
