// iommu_core: DMA request path. Ingress classification, a two-stage cache pipeline (context
// cache, then IOTLB + paging-structure cache), WALKERS page walkers with overlapping memory reads,
// and the reorder buffer that retires every request in arrival order.
// Spec: vtd-pcie.md A8 (translation), A9 (faults), A11 (invalidation), C (TLPs); decisions.md
// (malformed TLPs, interrupt window, caching, ordering); model_shared.md "Request-path decisions".
//
// Ingress (cycle 0, accept): malformed -> UR / drop (counted); interrupt window (AT=00, address in
// 0xFEE0_0000..0xFEEF_FFFF, upper 32 bits 0): an MWr that is not 1 DW with FirstBE 0xF: dropped
// with fault 20h; else with GSTS.IRES=0 -> irq unchanged, with IRES=1 -> the interrupt-remapping
// unit (iommu_ir, dispatched from S2 like a walk; one interrupt request at a time); MRd/atomic ->
// UR (no fault);
// GSTS.TES=0 -> forwarded unchanged; latched TTM != 00 -> fault 30h; else DMA translation.
// S1 (cycle 1): context-cache lookup by source-id.
// S2 (cycle 2): IOTLB + PSC lookup by domain id. Resolved here: AT != 00 (Dh), pass-through,
// address width (4h), IOTLB hit (5h/6h permission check on the cached AND-ed R/W), PSC permission
// fault. Otherwise the request goes to a free walker (S2 stalls while none is free).
// Hit latency: up_valid accepted in cycle 0 -> dn_valid in cycle 4. Throughput: one request per
// cycle on hits; misses overlap up to WALKERS walks while later hits keep flowing into the ROB.
// Invalidation: a cache invalidation takes effect at the clock edge after the register write
// step; every request already past ingress and every walk in flight is marked stale and may
// still complete with what it read (allowed: it was issued before the invalidation completed),
// but a stale walk never fills a cache, so no stale entry survives the invalidation.
`default_nettype none

module iommu_core #(
  parameter integer ID_W         = 6,
  parameter integer HAW          = 48,
  parameter integer CC_ENTRIES   = 8,
  parameter integer TLB_SETS     = 16,
  parameter integer TLB_WAYS     = 4,
  parameter integer PSC_ENTRIES  = 8,
  parameter integer WALKERS      = 4,
  parameter integer ROB_DEPTH    = 16,
  parameter integer IEC_ENTRIES  = 8,
  parameter integer CAP_PI       = 1,
  parameter integer ECAP_EIM     = 1,
  parameter integer NCNT         = 12,
  parameter [15:0]  COMPLETER_ID = 16'h0000
) (
  input  wire                 clk_i,
  input  wire                 rst_ni,
  /* upstream request */
  input  wire                 up_valid_i,
  output wire                 up_ready_o,
  input  wire [127:0]         up_hdr_i,
  input  wire [31:0]          up_data0_i,
  input  wire [15:0]          up_tag_i,
  /* egress */
  output wire                 dn_valid_o,
  input  wire                 dn_ready_i,
  output wire [127:0]         dn_hdr_o,
  output wire [15:0]          dn_tag_o,
  output wire                 cpl_valid_o,
  input  wire                 cpl_ready_i,
  output wire [95:0]          cpl_hdr_o,
  output wire [15:0]          cpl_tag_o,
  output wire                 irq_valid_o,
  input  wire                 irq_ready_i,
  output wire [63:0]          irq_addr_o,
  output wire [31:0]          irq_data_o,
  /* memory port */
  output wire                 mem_req_valid_o,
  input  wire                 mem_req_ready_i,
  output wire [ID_W-1:0]      mem_req_id_o,
  output wire [63:0]          mem_req_addr_o,
  output wire [1:0]           mem_req_op_o,
  output wire [127:0]         mem_req_wdata_o,
  output wire [15:0]          mem_req_wstrb_o,
  input  wire                 mem_rsp_valid_i,
  input  wire [ID_W-1:0]      mem_rsp_id_i,
  input  wire [127:0]         mem_rsp_data_i,
  input  wire                 mem_rsp_err_i,
  /* the queued-invalidation engine's memory requests (arbiter input WALKERS+1) */
  input  wire                 qm_valid_i,
  output wire                 qm_gnt_o,
  input  wire                 qm_op_i,
  input  wire [63:0]          qm_addr_i,
  input  wire [127:0]         qm_wdata_i,
  input  wire [15:0]          qm_wstrb_i,
  output wire                 qm_rsp_valid_o,
  /* register state */
  input  wire                 te_i,
  input  wire [63:0]          rta_i,
  input  wire                 ires_i,        // GSTS.IRES
  input  wire                 cfis_i,        // GSTS.CFIS
  input  wire [63:0]          irta_i,        // IRTA latched at SIRTP
  input  wire                 cc_inv_i,
  input  wire [1:0]           cc_inv_g_i,
  input  wire [15:0]          cc_inv_did_i,
  input  wire [15:0]          cc_inv_sid_i,
  input  wire [1:0]           cc_inv_fm_i,
  input  wire                 tlb_inv_i,
  input  wire [1:0]           tlb_inv_g_i,
  input  wire [15:0]          tlb_inv_did_i,
  input  wire [63:12]         tlb_inv_addr_i,
  input  wire [5:0]           tlb_inv_am_i,
  input  wire                 tlb_inv_ih_i,
  input  wire                 iec_inv_i,
  input  wire                 iec_inv_g_i,
  input  wire [15:0]          iec_inv_idx_i,
  input  wire [4:0]           iec_inv_im_i,
  /* invalidation barrier (drain) */
  input  wire                 bar_i,
  output wire                 bar_busy_o,
  /* fault recorder / event */
  output wire                 fr_valid_o,
  input  wire                 fr_ready_i,
  output wire [7:0]           fr_reason_o,
  output wire [15:0]          fr_sid_o,
  output wire [63:12]         fr_fi_o,
  output wire                 fr_t_o,
  output wire                 fr_t2_o,
  output wire [1:0]           fr_at_o,
  input  wire                 ev_valid_i,
  output wire                 ev_ready_o,
  input  wire [63:0]          ev_addr_i,
  input  wire [31:0]          ev_data_i,
  /* performance counter increments */
  output wire [NCNT-1:0]      cnt_inc_o
);
  generate
    if (WALKERS < 1 || WALKERS > 30 || (1 << ID_W) < WALKERS + 2) begin : g_bad_walkers
      iommu_param_check_failed u_walkers_out_of_range ();
    end
    if (NCNT < 12) begin : g_bad_ncnt
      iommu_param_check_failed u_core_needs_twelve_counters ();
    end
  endgenerate

  localparam integer PTR_W = HAW - 12;
  localparam integer ROB_W = $clog2(ROB_DEPTH);
  localparam integer WK_W  = (WALKERS <= 1) ? 1 : $clog2(WALKERS);
  localparam [1:0]   K_FWD = 2'd0, K_CPL = 2'd1, K_DROP = 2'd2, K_IRQ = 2'd3;
  localparam integer NREQ  = WALKERS + 2;            // memory requesters: walkers, IR unit, QI
  localparam [ID_W-1:0] IR_ID = WALKERS[ID_W-1:0];
  localparam [ID_W-1:0] QI_ID = IR_ID + 1'b1;

  wire inv_now = cc_inv_i || tlb_inv_i;

  // ================================================================ ingress
  wire        i_mal, i_posted, i_need_r, i_need_w, i_window, i_locked, i_win_bad;
  wire [63:0] i_addr;
  wire [15:0] i_rid;
  wire [1:0]  i_at;
  wire [11:0] i_bc;
  wire [6:0]  i_la;
  iommu_tlp_decode u_dec (
    .hdr_i(up_hdr_i), .malformed_o(i_mal), .posted_o(i_posted), .locked_o(i_locked),
    .win_bad_o(i_win_bad), .need_r_o(i_need_r),
    .need_w_o(i_need_w), .window_o(i_window), .addr_o(i_addr), .rid_o(i_rid), .at_o(i_at),
    .byte_count_o(i_bc), .lower_addr_o(i_la)
  );

  wire             rob_full;
  wire [ROB_W-1:0] rob_tail;
  wire             s1_free;
  wire             up_fire = up_valid_i && up_ready_o;
  assign up_ready_o = !rob_full && s1_free;

  // pre-resolution at ingress
  reg        p_pre;
  reg [1:0]  p_kind;
  reg        p_rec;
  reg [7:0]  p_reason;
  reg        p_mal;
  reg        p_ir;
  always @* begin
    p_ir     = 1'b0;
    p_pre    = 1'b1;
    p_kind   = K_FWD;
    p_rec    = 1'b0;
    p_reason = 8'd0;
    p_mal    = 1'b0;
    if (i_mal) begin
      p_kind = i_posted ? K_DROP : K_CPL;
      p_mal  = 1'b1;
    end else if (i_window) begin
      if (!i_posted) begin
        p_kind = K_CPL;                  // MRd / atomic to the window: UR, no fault
      end else if (i_win_bad) begin
        p_kind   = K_DROP;               // malformed interrupt request: fault 20h (FI = 0)
        p_rec    = 1'b1;
        p_reason = 8'h20;
      end else if (ires_i) begin
        p_pre  = 1'b0;                   // interrupt remapping (iommu_ir)
        p_ir   = 1'b1;
      end else begin
        p_kind = K_IRQ;                  // IRES=0: delivered unchanged
      end
    end else if (!te_i) begin
      p_kind = K_FWD;
    end else if (rta_i[11:10] != 2'b00) begin
      p_kind   = i_need_r ? K_CPL : K_DROP;
      p_rec    = 1'b1;
      p_reason = 8'h30;
    end else begin
      p_pre = 1'b0;
    end
  end

  // ================================================================ S1: context-cache lookup
  reg             s1_v_q, s1_v_d;
  reg [ROB_W-1:0] s1_rob_q, s1_rob_d;
  reg [15:0]      s1_sid_q, s1_sid_d;
  reg [63:0]      s1_addr_q, s1_addr_d;
  reg             s1_nr_q, s1_nr_d;
  reg             s1_nw_q, s1_nw_d;
  reg [1:0]       s1_at_q, s1_at_d;
  reg             s1_pre_q, s1_pre_d;
  reg [1:0]       s1_kind_q, s1_kind_d;
  reg             s1_rec_q, s1_rec_d;
  reg [7:0]       s1_reason_q, s1_reason_d;
  reg             s1_mal_q, s1_mal_d;
  reg             s1_ir_q, s1_ir_d;
  reg [31:0]      s1_d0_q, s1_d0_d;

  wire             cc_hit;
  wire [15:0]      cc_did;
  wire [PTR_W-1:0] cc_ptr;
  wire [2:0]       cc_aw;
  wire [1:0]       cc_tt;
  wire             cc_fpd;

  // ================================================================ S2: IOTLB / PSC lookup
  reg             s2_v_q, s2_v_d;
  reg [ROB_W-1:0] s2_rob_q, s2_rob_d;
  reg [15:0]      s2_sid_q, s2_sid_d;
  reg [63:0]      s2_addr_q, s2_addr_d;
  reg             s2_nr_q, s2_nr_d;
  reg             s2_nw_q, s2_nw_d;
  reg [1:0]       s2_at_q, s2_at_d;
  reg             s2_pre_q, s2_pre_d;
  reg [1:0]       s2_kind_q, s2_kind_d;
  reg             s2_rec_q, s2_rec_d;
  reg [7:0]       s2_reason_q, s2_reason_d;
  reg             s2_mal_q, s2_mal_d;
  reg             s2_ir_q, s2_ir_d;
  reg [31:0]      s2_d0_q, s2_d0_d;
  reg             s2_ch_q, s2_ch_d;      // context-cache hit
  reg [15:0]      s2_did_q, s2_did_d;
  reg [PTR_W-1:0] s2_ptr_q, s2_ptr_d;
  reg [2:0]       s2_aw_q, s2_aw_d;
  reg [1:0]       s2_tt_q, s2_tt_d;
  reg             s2_fpd_q, s2_fpd_d;
  reg             s2_stale_q, s2_stale_d;

  wire             tlb_hit;
  wire [1:0]       tlb_size;
  wire [PTR_W-1:0] tlb_pfn;
  wire             tlb_r, tlb_w;
  wire             psc_hit;
  wire [2:0]       psc_level;
  wire [PTR_W-1:0] psc_ptr;
  wire             psc_r, psc_w;

  // walkers
  wire [WALKERS-1:0] wk_busy;
  reg  [WALKERS-1:0] wk_start;
  reg                any_free;
  reg  [WK_W-1:0]    free_idx;
  integer            wi;
  always @* begin
    any_free = 1'b0;
    free_idx = {WK_W{1'b0}};
    for (wi = WALKERS - 1; wi >= 0; wi = wi - 1) begin
      if (!wk_busy[wi]) begin
        any_free = 1'b1;
        free_idx = wi[WK_W-1:0];
      end
    end
  end

  // S2 resolution
  reg        r_res;     // resolved in S2
  reg [1:0]  r_kind;
  reg        r_rec;
  reg [7:0]  r_reason;
  reg [63:0] r_addr;
  reg        r_fault;
  reg [63:0] pg_mask;
  reg [63:0] pg_base;
  always @* begin
    r_res    = 1'b1;
    r_kind   = s2_kind_q;
    r_rec    = s2_rec_q;
    r_reason = s2_reason_q;
    r_addr   = s2_addr_q;
    r_fault  = 1'b0;
    pg_mask  = (tlb_size == 2'd0) ? 64'h0FFF : (tlb_size == 2'd1) ? 64'h1F_FFFF : 64'h3FFF_FFFF;
    pg_base  = {{(64-HAW){1'b0}}, tlb_pfn, 12'd0};
    if (s2_pre_q) begin
      r_res = 1'b1;
    end else if (s2_ir_q) begin
      r_res = 1'b0;                    // to the interrupt-remapping unit
    end else if (!s2_ch_q) begin
      r_res = 1'b0;
    end else if (s2_at_q != 2'b00) begin
      r_fault = 1'b1; r_reason = 8'h0D;
    end else if (s2_tt_q == 2'b10) begin
      r_kind = K_FWD; r_rec = 1'b0; r_reason = 8'd0; r_addr = s2_addr_q;
    end else if ((s2_aw_q == 3'd1 && s2_addr_q[63:39] != 25'd0) ||
                 (s2_aw_q == 3'd2 && s2_addr_q[63:48] != 16'd0) ||
                 (s2_addr_q[63:57] != 7'd0)) begin
      r_fault = 1'b1; r_reason = 8'h04;
    end else if (tlb_hit) begin
      if (s2_nw_q && !tlb_w) begin
        r_fault = 1'b1; r_reason = 8'h05;
      end else if (s2_nr_q && !tlb_r) begin
        r_fault = 1'b1; r_reason = 8'h06;
      end else begin
        r_kind = K_FWD; r_rec = 1'b0; r_reason = 8'd0;
        r_addr = (pg_base & ~pg_mask) | (s2_addr_q & pg_mask);
      end
    end else if (psc_hit && ((s2_nw_q && !psc_w) || (s2_nr_q && !psc_r))) begin
      r_fault  = 1'b1;
      r_reason = (s2_nw_q && !psc_w) ? 8'h05 : 8'h06;
    end else begin
      r_res    = 1'b0;
    end
    if (r_fault) begin
      r_kind = s2_nr_q ? K_CPL : K_DROP;
      r_rec  = !s2_fpd_q;      // all of Dh/4h/5h/6h are qualified
      r_addr = 64'd0;
    end
  end

  wire ir_busy;
  wire ir_start = s2_v_q && s2_ir_q && !ir_busy;
  wire s2_adv  = s2_v_q && (r_res || (s2_ir_q ? !ir_busy : any_free));
  wire s2_free = !s2_v_q || s2_adv;
  assign s1_free = !s1_v_q || s2_free;
  wire s1_mv   = s1_v_q && s2_free;

  integer si;
  always @* begin
    for (si = 0; si < WALKERS; si = si + 1) begin
      wk_start[si] = s2_v_q && !s2_ir_q && !r_res && any_free && (free_idx == si[WK_W-1:0]);
    end
  end

  always @* begin
    s1_v_d      = s1_v_q;
    s1_rob_d    = s1_rob_q;
    s1_sid_d    = s1_sid_q;
    s1_addr_d   = s1_addr_q;
    s1_nr_d     = s1_nr_q;
    s1_nw_d     = s1_nw_q;
    s1_at_d     = s1_at_q;
    s1_pre_d    = s1_pre_q;
    s1_kind_d   = s1_kind_q;
    s1_rec_d    = s1_rec_q;
    s1_reason_d = s1_reason_q;
    s1_mal_d    = s1_mal_q;
    s1_ir_d     = s1_ir_q;
    s1_d0_d     = s1_d0_q;
    if (s1_mv) s1_v_d = 1'b0;
    if (up_fire) begin
      s1_v_d      = 1'b1;
      s1_rob_d    = rob_tail;
      s1_sid_d    = i_rid;
      s1_addr_d   = i_addr;
      s1_nr_d     = i_need_r;
      s1_nw_d     = i_need_w;
      s1_at_d     = i_at;
      s1_pre_d    = p_pre;
      s1_kind_d   = p_kind;
      s1_rec_d    = p_rec;
      s1_reason_d = p_reason;
      s1_mal_d    = p_mal;
      s1_ir_d     = p_ir;
      s1_d0_d     = up_data0_i;
    end

    s2_v_d      = s2_v_q;
    s2_rob_d    = s2_rob_q;
    s2_sid_d    = s2_sid_q;
    s2_addr_d   = s2_addr_q;
    s2_nr_d     = s2_nr_q;
    s2_nw_d     = s2_nw_q;
    s2_at_d     = s2_at_q;
    s2_pre_d    = s2_pre_q;
    s2_kind_d   = s2_kind_q;
    s2_rec_d    = s2_rec_q;
    s2_reason_d = s2_reason_q;
    s2_mal_d    = s2_mal_q;
    s2_ir_d     = s2_ir_q;
    s2_d0_d     = s2_d0_q;
    s2_ch_d     = s2_ch_q;
    s2_did_d    = s2_did_q;
    s2_ptr_d    = s2_ptr_q;
    s2_aw_d     = s2_aw_q;
    s2_tt_d     = s2_tt_q;
    s2_fpd_d    = s2_fpd_q;
    s2_stale_d  = s2_stale_q | inv_now;
    if (s2_adv) s2_v_d = 1'b0;
    if (s1_mv) begin
      s2_v_d      = 1'b1;
      s2_rob_d    = s1_rob_q;
      s2_sid_d    = s1_sid_q;
      s2_addr_d   = s1_addr_q;
      s2_nr_d     = s1_nr_q;
      s2_nw_d     = s1_nw_q;
      s2_at_d     = s1_at_q;
      s2_pre_d    = s1_pre_q;
      s2_kind_d   = s1_kind_q;
      s2_rec_d    = s1_rec_q;
      s2_reason_d = s1_reason_q;
      s2_mal_d    = s1_mal_q;
      s2_ir_d     = s1_ir_q;
      s2_d0_d     = s1_d0_q;
      s2_ch_d     = cc_hit;
      s2_did_d    = cc_did;
      s2_ptr_d    = cc_ptr;
      s2_aw_d     = cc_aw;
      s2_tt_d     = cc_tt;
      s2_fpd_d    = cc_fpd;
      s2_stale_d  = inv_now;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      s1_v_q      <= 1'b0;
      s1_rob_q    <= {ROB_W{1'b0}};
      s1_sid_q    <= 16'd0;
      s1_addr_q   <= 64'd0;
      s1_nr_q     <= 1'b0;
      s1_nw_q     <= 1'b0;
      s1_at_q     <= 2'd0;
      s1_pre_q    <= 1'b0;
      s1_kind_q   <= 2'd0;
      s1_rec_q    <= 1'b0;
      s1_reason_q <= 8'd0;
      s1_mal_q    <= 1'b0;
      s1_ir_q     <= 1'b0;
      s1_d0_q     <= 32'd0;
      s2_v_q      <= 1'b0;
      s2_rob_q    <= {ROB_W{1'b0}};
      s2_sid_q    <= 16'd0;
      s2_addr_q   <= 64'd0;
      s2_nr_q     <= 1'b0;
      s2_nw_q     <= 1'b0;
      s2_at_q     <= 2'd0;
      s2_pre_q    <= 1'b0;
      s2_kind_q   <= 2'd0;
      s2_rec_q    <= 1'b0;
      s2_reason_q <= 8'd0;
      s2_mal_q    <= 1'b0;
      s2_ir_q     <= 1'b0;
      s2_d0_q     <= 32'd0;
      s2_ch_q     <= 1'b0;
      s2_did_q    <= 16'd0;
      s2_ptr_q    <= {PTR_W{1'b0}};
      s2_aw_q     <= 3'd0;
      s2_tt_q     <= 2'd0;
      s2_fpd_q    <= 1'b0;
      s2_stale_q  <= 1'b0;
    end else begin
      s1_v_q      <= s1_v_d;
      s1_rob_q    <= s1_rob_d;
      s1_sid_q    <= s1_sid_d;
      s1_addr_q   <= s1_addr_d;
      s1_nr_q     <= s1_nr_d;
      s1_nw_q     <= s1_nw_d;
      s1_at_q     <= s1_at_d;
      s1_pre_q    <= s1_pre_d;
      s1_kind_q   <= s1_kind_d;
      s1_rec_q    <= s1_rec_d;
      s1_reason_q <= s1_reason_d;
      s1_mal_q    <= s1_mal_d;
      s1_ir_q     <= s1_ir_d;
      s1_d0_q     <= s1_d0_d;
      s2_v_q      <= s2_v_d;
      s2_rob_q    <= s2_rob_d;
      s2_sid_q    <= s2_sid_d;
      s2_addr_q   <= s2_addr_d;
      s2_nr_q     <= s2_nr_d;
      s2_nw_q     <= s2_nw_d;
      s2_at_q     <= s2_at_d;
      s2_pre_q    <= s2_pre_d;
      s2_kind_q   <= s2_kind_d;
      s2_rec_q    <= s2_rec_d;
      s2_reason_q <= s2_reason_d;
      s2_mal_q    <= s2_mal_d;
      s2_ir_q     <= s2_ir_d;
      s2_d0_q     <= s2_d0_d;
      s2_ch_q     <= s2_ch_d;
      s2_did_q    <= s2_did_d;
      s2_ptr_q    <= s2_ptr_d;
      s2_aw_q     <= s2_aw_d;
      s2_tt_q     <= s2_tt_d;
      s2_fpd_q    <= s2_fpd_d;
      s2_stale_q  <= s2_stale_d;
    end
  end

  // ================================================================ walkers
  wire [WALKERS-1:0]       wk_mreq;
  wire [WALKERS*64-1:0]    wk_maddr;
  wire [WALKERS-1:0]       wk_mgnt;
  wire [WALKERS-1:0]       wk_done;
  reg  [WALKERS-1:0]       wk_dgnt;
  wire [WALKERS*ROB_W-1:0] wk_rob;
  wire [WALKERS*2-1:0]     wk_kind;
  wire [WALKERS-1:0]       wk_ca, wk_rec;
  wire [WALKERS*8-1:0]     wk_reason;
  wire [WALKERS*64-1:0]    wk_addr;
  wire [WALKERS-1:0]       wk_ccf;
  wire [WALKERS*16-1:0]    wk_cc_sid, wk_cc_did;
  wire [WALKERS*PTR_W-1:0] wk_cc_ptr;
  wire [WALKERS*3-1:0]     wk_cc_aw;
  wire [WALKERS*2-1:0]     wk_cc_tt;
  wire [WALKERS-1:0]       wk_cc_fpd;
  wire [WALKERS-1:0]       wk_tlbf;
  wire [WALKERS*16-1:0]    wk_tlb_did;
  wire [WALKERS*45-1:0]    wk_tlb_addr;
  wire [WALKERS*2-1:0]     wk_tlb_size;
  wire [WALKERS*PTR_W-1:0] wk_tlb_pfn;
  wire [WALKERS-1:0]       wk_tlb_r, wk_tlb_w;
  wire [WALKERS-1:0]       wk_pscf;
  wire [WALKERS*16-1:0]    wk_psc_did;
  wire [WALKERS*45-1:0]    wk_psc_addr;
  wire [WALKERS*3-1:0]     wk_psc_level;
  wire [WALKERS*PTR_W-1:0] wk_psc_ptr;
  wire [WALKERS-1:0]       wk_psc_r, wk_psc_w;

  // start fields (shared by all walkers; only the started one latches them)
  wire             st_psc   = psc_hit;
  wire [2:0]       st_level = st_psc ? psc_level : (s2_aw_q + 3'd2);
  wire [PTR_W-1:0] st_ptr   = st_psc ? psc_ptr : s2_ptr_q;

  genvar g;
  generate
    for (g = 0; g < WALKERS; g = g + 1) begin : g_wk
      iommu_walker #(.HAW(HAW), .ROB_W(ROB_W)) u_walker (
        .clk_i(clk_i), .rst_ni(rst_ni), .rta_i(rta_i[63:12]), .inv_i(inv_now),
        .start_i(wk_start[g]), .busy_o(wk_busy[g]),
        .st_rob_i(s2_rob_q), .st_sid_i(s2_sid_q), .st_addr_i(s2_addr_q),
        .st_need_r_i(s2_nr_q), .st_need_w_i(s2_nw_q), .st_at_i(s2_at_q),
        .st_ctx_i(s2_ch_q), .st_did_i(s2_did_q), .st_slptptr_i(s2_ptr_q), .st_aw_i(s2_aw_q),
        .st_fpd_i(s2_fpd_q), .st_level_i(st_level), .st_ptr_i(st_ptr), .st_top_i(!st_psc),
        .st_acc_r_i(st_psc ? psc_r : 1'b1), .st_acc_w_i(st_psc ? psc_w : 1'b1),
        .st_stale_i(s2_stale_q),
        .mreq_valid_o(wk_mreq[g]), .mreq_addr_o(wk_maddr[g*64 +: 64]), .mreq_gnt_i(wk_mgnt[g]),
        .mrsp_valid_i(mem_rsp_valid_i && mem_rsp_id_i == g), .mrsp_data_i(mem_rsp_data_i),
        .mrsp_err_i(mem_rsp_err_i),
        .done_valid_o(wk_done[g]), .done_gnt_i(wk_dgnt[g]),
        .res_rob_o(wk_rob[g*ROB_W +: ROB_W]), .res_kind_o(wk_kind[g*2 +: 2]), .res_ca_o(wk_ca[g]),
        .res_rec_o(wk_rec[g]), .res_reason_o(wk_reason[g*8 +: 8]), .res_addr_o(wk_addr[g*64 +: 64]),
        .cc_fill_o(wk_ccf[g]), .cc_sid_o(wk_cc_sid[g*16 +: 16]), .cc_did_o(wk_cc_did[g*16 +: 16]),
        .cc_ptr_o(wk_cc_ptr[g*PTR_W +: PTR_W]), .cc_aw_o(wk_cc_aw[g*3 +: 3]),
        .cc_tt_o(wk_cc_tt[g*2 +: 2]), .cc_fpd_o(wk_cc_fpd[g]),
        .tlb_fill_o(wk_tlbf[g]), .tlb_did_o(wk_tlb_did[g*16 +: 16]),
        .tlb_addr_o(wk_tlb_addr[g*45 +: 45]), .tlb_size_o(wk_tlb_size[g*2 +: 2]),
        .tlb_pfn_o(wk_tlb_pfn[g*PTR_W +: PTR_W]), .tlb_r_o(wk_tlb_r[g]), .tlb_w_o(wk_tlb_w[g]),
        .psc_fill_o(wk_pscf[g]), .psc_did_o(wk_psc_did[g*16 +: 16]),
        .psc_addr_o(wk_psc_addr[g*45 +: 45]), .psc_level_o(wk_psc_level[g*3 +: 3]),
        .psc_ptr_o(wk_psc_ptr[g*PTR_W +: PTR_W]), .psc_r_o(wk_psc_r[g]), .psc_w_o(wk_psc_w[g])
      );
    end
  endgenerate

  // interrupt-remapping unit's memory requests (arbiter input WALKERS)
  wire         irm_valid, irm_gnt;
  wire [1:0]   irm_op;
  wire [63:0]  irm_addr;
  wire [127:0] irm_wdata;

  wire            mem_fire;
  wire [NREQ-1:0] arb_gnt;
  iommu_mem_arb #(.N(NREQ), .ID_W(ID_W)) u_arb (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .req_i({qm_valid_i, irm_valid, wk_mreq}),
    .addr_i({qm_addr_i, irm_addr, wk_maddr}),
    .op_i({1'b0, qm_op_i, irm_op, {WALKERS*2{1'b0}}}),
    .wdata_i({qm_wdata_i, irm_wdata, {WALKERS*128{1'b0}}}),
    .wstrb_i({qm_wstrb_i, 16'd0, {WALKERS*16{1'b0}}}),
    .gnt_o(arb_gnt),
    .mem_req_valid_o(mem_req_valid_o), .mem_req_ready_i(mem_req_ready_i),
    .mem_req_id_o(mem_req_id_o), .mem_req_addr_o(mem_req_addr_o), .mem_req_op_o(mem_req_op_o),
    .mem_req_wdata_o(mem_req_wdata_o), .mem_req_wstrb_o(mem_req_wstrb_o), .fire_o(mem_fire)
  );
  assign wk_mgnt        = arb_gnt[WALKERS-1:0];
  assign irm_gnt        = arb_gnt[WALKERS];
  assign qm_gnt_o       = arb_gnt[WALKERS+1];
  assign qm_rsp_valid_o = mem_rsp_valid_i && mem_rsp_id_i == QI_ID;

  // completion arbitration (rotating priority): one walker result + its cache fills per cycle
  reg [WK_W-1:0] cptr_q, cptr_d;
  reg            cgot;
  integer        ci, cj;
  always @* begin
    wk_dgnt = {WALKERS{1'b0}};
    cgot    = 1'b0;
    cptr_d  = cptr_q;
    cj      = 0;
    for (ci = 0; ci < WALKERS; ci = ci + 1) begin
      cj = ci + {{(32-WK_W){1'b0}}, cptr_q};
      if (cj >= WALKERS) cj = cj - WALKERS;
      if (!cgot && wk_done[cj]) begin
        cgot        = 1'b1;
        wk_dgnt[cj] = 1'b1;
        cptr_d      = (cj == WALKERS - 1) ? {WK_W{1'b0}} : cj[WK_W-1:0] + 1'b1;
      end
    end
  end
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) cptr_q <= {WK_W{1'b0}};
    else         cptr_q <= cptr_d;
  end

  // selected walker result (mux by constant-index compare)
  reg [ROB_W-1:0]   c_rob;
  reg [1:0]         c_kind;
  reg               c_ca;
  reg               c_rec;
  reg [7:0]         c_reason;
  reg [63:0]        c_addr;
  reg               c_ccf;
  reg [15:0]        c_cc_sid;
  reg [15:0]        c_cc_did;
  reg [PTR_W-1:0]   c_cc_ptr;
  reg [2:0]         c_cc_aw;
  reg [1:0]         c_cc_tt;
  reg               c_cc_fpd;
  reg               c_tlbf;
  reg [15:0]        c_tlb_did;
  reg [44:0]        c_tlb_addr;
  reg [1:0]         c_tlb_size;
  reg [PTR_W-1:0]   c_tlb_pfn;
  reg               c_tlb_r;
  reg               c_tlb_w;
  reg               c_pscf;
  reg [15:0]        c_psc_did;
  reg [44:0]        c_psc_addr;
  reg [2:0]         c_psc_level;
  reg [PTR_W-1:0]   c_psc_ptr;
  reg               c_psc_r;
  reg               c_psc_w;
  integer ck;
  always @* begin
    c_rob = {ROB_W{1'b0}};
    c_kind = {2{1'b0}};
    c_ca = {1{1'b0}};
    c_rec = {1{1'b0}};
    c_reason = {8{1'b0}};
    c_addr = {64{1'b0}};
    c_ccf = {1{1'b0}};
    c_cc_sid = {16{1'b0}};
    c_cc_did = {16{1'b0}};
    c_cc_ptr = {PTR_W{1'b0}};
    c_cc_aw = {3{1'b0}};
    c_cc_tt = {2{1'b0}};
    c_cc_fpd = {1{1'b0}};
    c_tlbf = {1{1'b0}};
    c_tlb_did = {16{1'b0}};
    c_tlb_addr = {45{1'b0}};
    c_tlb_size = {2{1'b0}};
    c_tlb_pfn = {PTR_W{1'b0}};
    c_tlb_r = {1{1'b0}};
    c_tlb_w = {1{1'b0}};
    c_pscf = {1{1'b0}};
    c_psc_did = {16{1'b0}};
    c_psc_addr = {45{1'b0}};
    c_psc_level = {3{1'b0}};
    c_psc_ptr = {PTR_W{1'b0}};
    c_psc_r = {1{1'b0}};
    c_psc_w = {1{1'b0}};
    for (ck = 0; ck < WALKERS; ck = ck + 1) begin
      if (wk_dgnt[ck]) begin
        c_rob = wk_rob[ck*ROB_W +: ROB_W];
        c_kind = wk_kind[ck*2 +: 2];
        c_ca = wk_ca[ck];
        c_rec = wk_rec[ck];
        c_reason = wk_reason[ck*8 +: 8];
        c_addr = wk_addr[ck*64 +: 64];
        c_ccf = wk_ccf[ck];
        c_cc_sid = wk_cc_sid[ck*16 +: 16];
        c_cc_did = wk_cc_did[ck*16 +: 16];
        c_cc_ptr = wk_cc_ptr[ck*PTR_W +: PTR_W];
        c_cc_aw = wk_cc_aw[ck*3 +: 3];
        c_cc_tt = wk_cc_tt[ck*2 +: 2];
        c_cc_fpd = wk_cc_fpd[ck];
        c_tlbf = wk_tlbf[ck];
        c_tlb_did = wk_tlb_did[ck*16 +: 16];
        c_tlb_addr = wk_tlb_addr[ck*45 +: 45];
        c_tlb_size = wk_tlb_size[ck*2 +: 2];
        c_tlb_pfn = wk_tlb_pfn[ck*PTR_W +: PTR_W];
        c_tlb_r = wk_tlb_r[ck];
        c_tlb_w = wk_tlb_w[ck];
        c_pscf = wk_pscf[ck];
        c_psc_did = wk_psc_did[ck*16 +: 16];
        c_psc_addr = wk_psc_addr[ck*45 +: 45];
        c_psc_level = wk_psc_level[ck*3 +: 3];
        c_psc_ptr = wk_psc_ptr[ck*PTR_W +: PTR_W];
        c_psc_r = wk_psc_r[ck];
        c_psc_w = wk_psc_w[ck];
      end
    end
  end

  // ================================================================ caches
  iommu_ctx_cache #(.ENTRIES(CC_ENTRIES), .PTR_W(PTR_W)) u_cc (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .lk_sid_i(s1_sid_q), .lk_hit_o(cc_hit), .lk_did_o(cc_did), .lk_ptr_o(cc_ptr),
    .lk_aw_o(cc_aw), .lk_tt_o(cc_tt), .lk_fpd_o(cc_fpd),
    .fill_i(cgot && c_ccf), .fill_sid_i(c_cc_sid),
    .fill_did_i(c_cc_did), .fill_ptr_i(c_cc_ptr),
    .fill_aw_i(c_cc_aw), .fill_tt_i(c_cc_tt),
    .fill_fpd_i(c_cc_fpd),
    .inv_i(cc_inv_i), .inv_g_i(cc_inv_g_i), .inv_did_i(cc_inv_did_i), .inv_sid_i(cc_inv_sid_i),
    .inv_fm_i(cc_inv_fm_i)
  );

  iommu_iotlb #(.SETS(TLB_SETS), .WAYS(TLB_WAYS), .PFN_W(PTR_W)) u_tlb (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .lk_did_i(s2_did_q), .lk_addr_i(s2_addr_q[56:12]), .lk_hit_o(tlb_hit), .lk_size_o(tlb_size),
    .lk_pfn_o(tlb_pfn), .lk_r_o(tlb_r), .lk_w_o(tlb_w),
    .fill_i(cgot && c_tlbf), .fill_did_i(c_tlb_did),
    .fill_addr_i(c_tlb_addr), .fill_size_i(c_tlb_size),
    .fill_pfn_i(c_tlb_pfn), .fill_r_i(c_tlb_r),
    .fill_w_i(c_tlb_w),
    .inv_i(tlb_inv_i), .inv_g_i(tlb_inv_g_i), .inv_did_i(tlb_inv_did_i),
    .inv_addr_i(tlb_inv_addr_i[56:12]), .inv_am_i(tlb_inv_am_i)
  );

  iommu_psc #(.ENTRIES(PSC_ENTRIES), .PTR_W(PTR_W)) u_psc (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .lk_did_i(s2_did_q), .lk_addr_i(s2_addr_q[56:12]), .lk_top_i(s2_aw_q + 3'd2),
    .lk_hit_o(psc_hit), .lk_level_o(psc_level), .lk_ptr_o(psc_ptr), .lk_r_o(psc_r),
    .lk_w_o(psc_w),
    .fill_i(cgot && c_pscf), .fill_did_i(c_psc_did),
    .fill_addr_i(c_psc_addr), .fill_level_i(c_psc_level),
    .fill_ptr_i(c_psc_ptr), .fill_r_i(c_psc_r),
    .fill_w_i(c_psc_w),
    .inv_i(tlb_inv_i), .inv_g_i(tlb_inv_g_i), .inv_did_i(tlb_inv_did_i),
    .inv_addr_i(tlb_inv_addr_i[56:12]), .inv_am_i(tlb_inv_am_i), .inv_ih_i(tlb_inv_ih_i)
  );

  // ================================================================ interrupt remapping
  wire             rob_egress_idle;
  wire [ROB_W-1:0] rob_head;
  wire             ir_done, ir_rec;
  wire [ROB_W-1:0] ir_rob;
  wire [1:0]       ir_kind;
  wire [7:0]       ir_reason;
  wire [15:0]      ir_index;
  wire [63:0]      ir_maddr;
  wire [31:0]      ir_mdata;
  wire             ir_cnt_remap, ir_cnt_post, ir_cnt_lookup, ir_cnt_miss;
  iommu_ir #(
    .HAW(HAW), .IEC_ENTRIES(IEC_ENTRIES), .ROB_W(ROB_W), .CAP_PI(CAP_PI), .ECAP_EIM(ECAP_EIM)
  ) u_ir (
    .clk_i(clk_i), .rst_ni(rst_ni), .irta_i(irta_i), .cfis_i(cfis_i),
    .start_i(ir_start), .busy_o(ir_busy),
    .st_rob_i(s2_rob_q), .st_sid_i(s2_sid_q), .st_addr_i(s2_addr_q), .st_data_i(s2_d0_q),
    .rob_head_i(rob_head), .egress_idle_i(rob_egress_idle),
    .mreq_valid_o(irm_valid), .mreq_gnt_i(irm_gnt), .mreq_op_o(irm_op), .mreq_addr_o(irm_addr),
    .mreq_wdata_o(irm_wdata),
    .mrsp_valid_i(mem_rsp_valid_i && mem_rsp_id_i == IR_ID), .mrsp_data_i(mem_rsp_data_i),
    .mrsp_err_i(mem_rsp_err_i),
    .done_valid_o(ir_done), .done_gnt_i(ir_done),
    .res_rob_o(ir_rob), .res_kind_o(ir_kind), .res_rec_o(ir_rec), .res_reason_o(ir_reason),
    .res_index_o(ir_index), .res_msi_addr_o(ir_maddr), .res_msi_data_o(ir_mdata),
    .iec_inv_i(iec_inv_i), .iec_inv_g_i(iec_inv_g_i), .iec_inv_idx_i(iec_inv_idx_i),
    .iec_inv_im_i(iec_inv_im_i),
    .cnt_remap_o(ir_cnt_remap), .cnt_post_o(ir_cnt_post), .cnt_iec_lookup_o(ir_cnt_lookup),
    .cnt_iec_miss_o(ir_cnt_miss)
  );
  // a fault carries FI = index << 48 in the result address
  wire [63:0] ir_res_addr = (ir_kind == K_IRQ) ? ir_maddr : {ir_index, 48'd0};

  // ================================================================ reorder buffer
  wire rob_mal;
  wire rob_empty;
  iommu_rob #(.DEPTH(ROB_DEPTH), .COMPLETER_ID(COMPLETER_ID)) u_rob (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .alloc_i(up_fire), .full_o(rob_full), .alloc_idx_o(rob_tail),
    .alloc_hdr_i(up_hdr_i), .alloc_data0_i(up_data0_i), .alloc_tag_i(up_tag_i),
    .wa_i(s2_adv && r_res), .wa_idx_i(s2_rob_q), .wa_kind_i(r_kind), .wa_ca_i(1'b0),
    .wa_rec_i(r_rec), .wa_reason_i(r_reason), .wa_mal_i(s2_mal_q), .wa_addr_i(r_addr),
    .wb_i(cgot), .wb_idx_i(c_rob), .wb_kind_i(c_kind),
    .wb_ca_i(c_ca), .wb_rec_i(c_rec), .wb_reason_i(c_reason),
    .wb_addr_i(c_addr),
    .wc_i(ir_done), .wc_idx_i(ir_rob), .wc_kind_i(ir_kind), .wc_rec_i(ir_rec),
    .wc_reason_i(ir_reason), .wc_addr_i(ir_res_addr), .wc_data_i(ir_mdata),
    .bar_i(bar_i), .bar_busy_o(bar_busy_o), .head_o(rob_head), .egress_idle_o(rob_egress_idle),
    .fr_valid_o(fr_valid_o), .fr_ready_i(fr_ready_i), .fr_reason_o(fr_reason_o),
    .fr_sid_o(fr_sid_o), .fr_fi_o(fr_fi_o), .fr_t_o(fr_t_o), .fr_t2_o(fr_t2_o), .fr_at_o(fr_at_o),
    .ev_valid_i(ev_valid_i), .ev_ready_o(ev_ready_o), .ev_addr_i(ev_addr_i), .ev_data_i(ev_data_i),
    .dn_valid_o(dn_valid_o), .dn_ready_i(dn_ready_i), .dn_hdr_o(dn_hdr_o), .dn_tag_o(dn_tag_o),
    .cpl_valid_o(cpl_valid_o), .cpl_ready_i(cpl_ready_i), .cpl_hdr_o(cpl_hdr_o),
    .cpl_tag_o(cpl_tag_o),
    .irq_valid_o(irq_valid_o), .irq_ready_i(irq_ready_i), .irq_addr_o(irq_addr_o),
    .irq_data_o(irq_data_o),
    .mal_retired_o(rob_mal), .empty_o(rob_empty)
  );

  // ================================================================ counters
  // 0 IOTLB lookups (every DMA translation reaching S2, hit or miss), 1 IOTLB misses (walks
  // needed; <= lookups), 2 page walks, 3 walk memory reads,
  // 4 context-cache misses, 5 IEC misses (IRTE fetches), 6 interrupts remapped, 7 interrupts
  // posted, 8 faults recorded (counted in the register file), 9 malformed TLPs, 10 IEC lookups,
  // 11 QI descriptors processed (counted by the QI engine)
  wire s2_dma = s2_adv && !s2_pre_q && !s2_ir_q;
  assign cnt_inc_o[0]  = s2_dma;
  assign cnt_inc_o[1]  = s2_dma && !r_res;
  assign cnt_inc_o[2]  = |wk_start;
  assign cnt_inc_o[3]  = mem_fire && ({1'b0, mem_req_id_o} < WALKERS[ID_W:0]);
  assign cnt_inc_o[4]  = s2_dma && !s2_ch_q;
  assign cnt_inc_o[5]  = ir_cnt_miss;
  assign cnt_inc_o[6]  = ir_cnt_remap;
  assign cnt_inc_o[7]  = ir_cnt_post;
  assign cnt_inc_o[8]  = 1'b0;
  assign cnt_inc_o[9]  = rob_mal;
  assign cnt_inc_o[10] = ir_cnt_lookup;
  assign cnt_inc_o[11] = 1'b0;
  generate
    if (NCNT > 12) begin : g_cnt_pad
      assign cnt_inc_o[NCNT-1:12] = {(NCNT-12){1'b0}};
    end
  endgenerate

  wire unused_core = ^{i_bc, i_la, i_locked, tlb_inv_addr_i[63:57], rta_i[9:0], rob_empty};
endmodule

`default_nettype wire
