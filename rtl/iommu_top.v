// iommu_top: VT-d style IOMMU, milestone "RTL DMA remapping".
// Spec: vtd-pcie.md A (DMA remapping: registers, root/context/SL tables, faults, register-based
// invalidation), C (TLP headers); decisions.md; port contract: ARCHITECTURE.md / rtl/README.md.
// Advertises ECAP.QI=0, ECAP.IR=0, ECAP.EIM=0, CAP.PI=0: interrupt-window MWr are delivered
// unchanged on irq; MRd/atomics to the window get UR.
// Latency (cycles): IOTLB hit 4 (up accept -> dn_valid); register access 2 (4-byte) / 3 (8-byte)
// from accept to csr_rvalid. Throughput: one translation per cycle on IOTLB hits.
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
  output wire                 mem_req_op,
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
  localparam integer NCNT = 10;

  wire         te;
  wire [63:0]  rta;
  wire         cc_inv, tlb_inv, tlb_inv_ih;
  wire [1:0]   cc_inv_g, cc_inv_fm, tlb_inv_g;
  wire [15:0]  cc_inv_did, cc_inv_sid, tlb_inv_did;
  wire [63:12] tlb_inv_addr;
  wire [5:0]   tlb_inv_am;
  wire         fr_valid, fr_ready, fr_t;
  wire [7:0]   fr_reason;
  wire [15:0]  fr_sid;
  wire [63:12] fr_fi;
  wire [1:0]   fr_at;
  wire         ev_valid, ev_ready;
  wire [63:0]  ev_addr;
  wire [31:0]  ev_data;
  wire [NCNT-1:0] cnt_inc;

  iommu_regfile #(
    .HAW(HAW), .NFR(NFR), .NCNT(NCNT), .CAP_PI(0), .ECAP_QI(0), .ECAP_IR(0), .ECAP_EIM(0)
  ) u_regfile (
    .clk_i(clk), .rst_ni(rst_n),
    .csr_valid_i(csr_valid), .csr_ready_o(csr_ready), .csr_write_i(csr_write),
    .csr_addr_i(csr_addr), .csr_size_i(csr_size), .csr_wdata_i(csr_wdata),
    .csr_rvalid_o(csr_rvalid), .csr_rdata_o(csr_rdata),
    .te_o(te), .rta_o(rta),
    .cc_inv_o(cc_inv), .cc_inv_g_o(cc_inv_g), .cc_inv_did_o(cc_inv_did), .cc_inv_sid_o(cc_inv_sid),
    .cc_inv_fm_o(cc_inv_fm),
    .tlb_inv_o(tlb_inv), .tlb_inv_g_o(tlb_inv_g), .tlb_inv_did_o(tlb_inv_did),
    .tlb_inv_addr_o(tlb_inv_addr), .tlb_inv_am_o(tlb_inv_am), .tlb_inv_ih_o(tlb_inv_ih),
    .fr_valid_i(fr_valid), .fr_ready_o(fr_ready), .fr_reason_i(fr_reason), .fr_sid_i(fr_sid),
    .fr_fi_i(fr_fi), .fr_t_i(fr_t), .fr_at_i(fr_at),
    .ev_valid_o(ev_valid), .ev_ready_i(ev_ready), .ev_addr_o(ev_addr), .ev_data_o(ev_data),
    .cnt_inc_i(cnt_inc)
  );

  iommu_core #(
    .ID_W(ID_W), .HAW(HAW), .CC_ENTRIES(CC_ENTRIES), .TLB_SETS(TLB_SETS), .TLB_WAYS(TLB_WAYS),
    .PSC_ENTRIES(PSC_ENTRIES), .WALKERS(WALKERS), .ROB_DEPTH(ROB_DEPTH), .NCNT(NCNT),
    .COMPLETER_ID(COMPLETER_ID)
  ) u_core (
    .clk_i(clk), .rst_ni(rst_n),
    .up_valid_i(up_valid), .up_ready_o(up_ready), .up_hdr_i(up_hdr), .up_data0_i(up_data0),
    .up_tag_i(up_tag),
    .dn_valid_o(dn_valid), .dn_ready_i(dn_ready), .dn_hdr_o(dn_hdr), .dn_tag_o(dn_tag),
    .cpl_valid_o(cpl_valid), .cpl_ready_i(cpl_ready), .cpl_hdr_o(cpl_hdr), .cpl_tag_o(cpl_tag),
    .irq_valid_o(irq_valid), .irq_ready_i(irq_ready), .irq_addr_o(irq_addr), .irq_data_o(irq_data),
    .mem_req_valid_o(mem_req_valid), .mem_req_ready_i(mem_req_ready), .mem_req_id_o(mem_req_id),
    .mem_req_addr_o(mem_req_addr),
    .mem_rsp_valid_i(mem_rsp_valid), .mem_rsp_id_i(mem_rsp_id), .mem_rsp_data_i(mem_rsp_data),
    .mem_rsp_err_i(mem_rsp_err),
    .te_i(te), .rta_i(rta),
    .cc_inv_i(cc_inv), .cc_inv_g_i(cc_inv_g), .cc_inv_did_i(cc_inv_did), .cc_inv_sid_i(cc_inv_sid),
    .cc_inv_fm_i(cc_inv_fm),
    .tlb_inv_i(tlb_inv), .tlb_inv_g_i(tlb_inv_g), .tlb_inv_did_i(tlb_inv_did),
    .tlb_inv_addr_i(tlb_inv_addr), .tlb_inv_am_i(tlb_inv_am), .tlb_inv_ih_i(tlb_inv_ih),
    .fr_valid_o(fr_valid), .fr_ready_i(fr_ready), .fr_reason_o(fr_reason), .fr_sid_o(fr_sid),
    .fr_fi_o(fr_fi), .fr_t_o(fr_t), .fr_at_o(fr_at),
    .ev_valid_i(ev_valid), .ev_ready_o(ev_ready), .ev_addr_i(ev_addr), .ev_data_i(ev_data),
    .cnt_inc_o(cnt_inc)
  );

  // no memory writes in this milestone (no QI status writes, no posted-interrupt updates)
  assign mem_req_op    = 1'b0;
  assign mem_req_wdata = 128'd0;
  assign mem_req_wstrb = 16'd0;
endmodule

`default_nettype wire
