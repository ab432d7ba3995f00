// iommu_rob: reorder buffer. Every accepted upstream request gets an entry in arrival order;
// results arrive in any order (pipeline hits, walker completions); entries retire strictly in
// order, so the egress order (dn / cpl / irq / dropped) equals the arrival order and every
// PCIe ordering rule of decisions.md "Ordering" holds. A retiring fault is handed to the fault
// recorder in the same cycle, and a fault-event MSI it raises leaves on irq before any later
// interrupt message (retirement pauses while the event is pending).
// Spec: decisions.md "Ordering", vtd-pcie.md A10 (recording at retirement = model commit order).
// Results come from three write ports: A (pipeline, resolved in S2), B (walkers), C (the
// interrupt-remapping unit: a remapped / notification message with its own address and data, or a
// dropped interrupt request whose fault info is the interrupt index).
// Invalidation barrier (drain, CAP.DRD/DWD): `bar_i` marks every request inside the unit (ROB
// entries and beats held in the egress registers) as old; `bar_busy_o` stays high until every old
// request has left the unit (retired as a drop, or its dn/cpl/irq beat handed off). A later
// barrier only adds marks, so a waiter may wait longer but never too little.
// Latency: an entry whose result is written in cycle t retires in cycle t+1 (if it is the head and
// its output channel is free); its output is valid from cycle t+2. Throughput: one retirement per
// cycle.
`default_nettype none

module iommu_rob #(
  parameter integer DEPTH        = 16,       // entries (power of two, >= 2)
  parameter [15:0]  COMPLETER_ID = 16'h0000  // Completer ID of UR/CA completions
) (
  input  wire                        clk_i,
  input  wire                        rst_ni,
  /* allocation */
  input  wire                        alloc_i,
  output wire                        full_o,
  output wire [$clog2(DEPTH)-1:0]    alloc_idx_o,
  input  wire [127:0]                alloc_hdr_i,
  input  wire [31:0]                 alloc_data0_i,
  input  wire [15:0]                 alloc_tag_i,
  /* result write port A (pipeline) */
  input  wire                        wa_i,
  input  wire [$clog2(DEPTH)-1:0]    wa_idx_i,
  input  wire [1:0]                  wa_kind_i,    // 0 forward, 1 completion, 2 drop, 3 interrupt
  input  wire                        wa_ca_i,
  input  wire                        wa_rec_i,
  input  wire [7:0]                  wa_reason_i,
  input  wire                        wa_mal_i,
  input  wire [63:0]                 wa_addr_i,
  /* result write port B (walkers) */
  input  wire                        wb_i,
  input  wire [$clog2(DEPTH)-1:0]    wb_idx_i,
  input  wire [1:0]                  wb_kind_i,
  input  wire                        wb_ca_i,
  input  wire                        wb_rec_i,
  input  wire [7:0]                  wb_reason_i,
  input  wire [63:0]                 wb_addr_i,
  /* result write port C (interrupt-remapping unit) */
  input  wire                        wc_i,
  input  wire [$clog2(DEPTH)-1:0]    wc_idx_i,
  input  wire [1:0]                  wc_kind_i,    // 2 drop, 3 interrupt
  input  wire                        wc_rec_i,
  input  wire [7:0]                  wc_reason_i,
  input  wire [63:0]                 wc_addr_i,    // message address; FI (index << 48) for a fault
  input  wire [31:0]                 wc_data_i,    // message data
  /* invalidation barrier */
  input  wire                        bar_i,
  output wire                        bar_busy_o,
  /* ordering state for the interrupt-remapping unit */
  output wire [$clog2(DEPTH)-1:0]    head_o,
  output wire                        egress_idle_o, // no beat held on dn / irq
  /* fault recorder */
  output wire                        fr_valid_o,
  input  wire                        fr_ready_i,
  output wire [7:0]                  fr_reason_o,
  output wire [15:0]                 fr_sid_o,
  output wire [63:12]                fr_fi_o,
  output wire                        fr_t_o,
  output wire                        fr_t2_o,
  output wire [1:0]                  fr_at_o,
  /* fault-event MSI from the register file */
  input  wire                        ev_valid_i,
  output wire                        ev_ready_o,
  input  wire [63:0]                 ev_addr_i,
  input  wire [31:0]                 ev_data_i,
  /* egress */
  output wire                        dn_valid_o,
  input  wire                        dn_ready_i,
  output wire [127:0]                dn_hdr_o,
  output wire [15:0]                 dn_tag_o,
  output wire                        cpl_valid_o,
  input  wire                        cpl_ready_i,
  output wire [95:0]                 cpl_hdr_o,
  output wire [15:0]                 cpl_tag_o,
  output wire                        irq_valid_o,
  input  wire                        irq_ready_i,
  output wire [63:0]                 irq_addr_o,
  output wire [31:0]                 irq_data_o,
  /* counters */
  output wire                        mal_retired_o,
  output wire                        empty_o
);
  generate
    if (DEPTH < 2 || (DEPTH & (DEPTH - 1)) != 0 || DEPTH > 256) begin : g_bad_depth
      iommu_param_check_failed u_rob_depth_not_power_of_two ();
    end
  endgenerate

  localparam integer W     = $clog2(DEPTH);
  localparam integer RES_W = 2 + 1 + 1 + 8 + 1 + 64;    // kind ca rec reason mal addr
  localparam [1:0]   K_FWD = 2'd0, K_CPL = 2'd1, K_DROP = 2'd2, K_IRQ = 2'd3;

  reg [W:0]             head_q, head_d;
  reg [W:0]             tail_q, tail_d;
  reg [DEPTH-1:0]       done_q, done_d;
  reg [DEPTH*128-1:0]   hdr_q, hdr_d;
  reg [DEPTH*32-1:0]    d0_q, d0_d;
  reg [DEPTH*16-1:0]    tag_q, tag_d;
  reg [DEPTH*RES_W-1:0] res_q, res_d;
  reg [DEPTH-1:0]       ir_q, ir_d;      // result from port C
  reg [DEPTH-1:0]       vld_q, vld_d;    // entry allocated and not retired
  reg [DEPTH-1:0]       old_q, old_d;    // inside the unit at a barrier
  reg                   dn_o_q, dn_o_d, cpl_o_q, cpl_o_d, irq_o_q, irq_o_d;  // egress beat is old

  reg         dn_v_q, dn_v_d;
  reg [127:0] dn_h_q, dn_h_d;
  reg [15:0]  dn_t_q, dn_t_d;
  reg         cpl_v_q, cpl_v_d;
  reg [95:0]  cpl_h_q, cpl_h_d;
  reg [15:0]  cpl_t_q, cpl_t_d;
  reg         irq_v_q, irq_v_d;
  reg [63:0]  irq_a_q, irq_a_d;
  reg [31:0]  irq_d_q, irq_d_d;

  wire [W-1:0] hidx = head_q[W-1:0];
  wire         full = (head_q[W] != tail_q[W]) && (head_q[W-1:0] == tail_q[W-1:0]);
  wire         empty = (head_q == tail_q);

  // ---- head entry (mux by constant-index compare)
  reg [127:0]     h_hdr;
  reg [31:0]      h_d0;
  reg [15:0]      h_tag;
  reg [RES_W-1:0] h_res;
  reg             h_ir;
  reg             h_old;
  integer hi;
  always @* begin
    h_hdr = 128'd0;
    h_d0  = 32'd0;
    h_tag = 16'd0;
    h_res = {RES_W{1'b0}};
    h_ir  = 1'b0;
    h_old = 1'b0;
    for (hi = 0; hi < DEPTH; hi = hi + 1) begin
      if (hidx == hi[W-1:0]) begin
        h_ir  = ir_q[hi];
        h_old = old_q[hi];
        h_hdr = hdr_q[hi*128 +: 128];
        h_d0  = d0_q[hi*32 +: 32];
        h_tag = tag_q[hi*16 +: 16];
        h_res = res_q[hi*RES_W +: RES_W];
      end
    end
  end
  wire [1:0]       h_kind   = h_res[RES_W-1 -: 2];
  wire             h_ca     = h_res[RES_W-3];
  wire             h_rec    = h_res[RES_W-4];
  wire [7:0]       h_reason = h_res[RES_W-5 -: 8];
  wire             h_mal    = h_res[64];
  wire [63:0]      h_addr   = h_res[63:0];
  wire             h_done   = !empty && |(done_q & ({{(DEPTH-1){1'b0}}, 1'b1} << hidx));

  wire        d_mal, d_posted, d_need_r, d_need_w, d_window, d_locked, d_win_bad;
  wire [63:0] d_addr;
  wire [15:0] d_rid;
  wire [1:0]  d_at;
  wire [11:0] d_bc;
  wire [6:0]  d_la;
  iommu_tlp_decode u_dec (
    .hdr_i(h_hdr), .malformed_o(d_mal), .posted_o(d_posted), .locked_o(d_locked),
    .win_bad_o(d_win_bad), .need_r_o(d_need_r),
    .need_w_o(d_need_w), .window_o(d_window), .addr_o(d_addr), .rid_o(d_rid), .at_o(d_at),
    .byte_count_o(d_bc), .lower_addr_o(d_la)
  );

  wire [127:0] f_dn;
  wire [95:0]  f_cpl;
  iommu_egress_fmt #(.COMPLETER_ID(COMPLETER_ID)) u_fmt (
    .hdr_i(h_hdr), .out_addr_i(h_addr), .ca_i(h_ca), .locked_i(d_locked), .byte_count_i(d_bc),
    .lower_addr_i(d_la),
    .dn_hdr_o(f_dn), .cpl_hdr_o(f_cpl)
  );

  wire dn_free  = !dn_v_q || dn_ready_i;
  wire cpl_free = !cpl_v_q || cpl_ready_i;
  wire irq_free = !irq_v_q || irq_ready_i;
  // dn and irq hand off in ROB order: a request leaves only after every older request on the
  // other of the two channels has left (an MSI never overtakes older DMA, and no later DMA
  // overtakes an MSI)
  wire can = h_done && !ev_valid_i &&
             (h_kind != K_FWD || (dn_free && irq_free)) && (h_kind != K_CPL || cpl_free) &&
             (h_kind != K_IRQ || (irq_free && dn_free));
  wire retire = can && (!h_rec || fr_ready_i);

  integer wi;
  always @* begin
    head_d  = head_q;
    tail_d  = tail_q;
    done_d  = done_q;
    hdr_d   = hdr_q;
    d0_d    = d0_q;
    tag_d   = tag_q;
    res_d   = res_q;
    ir_d    = ir_q;
    vld_d   = vld_q;
    old_d   = bar_i ? (old_q | vld_q) : old_q;
    dn_o_d  = (dn_o_q || (bar_i && dn_v_q)) && !dn_ready_i;
    cpl_o_d = (cpl_o_q || (bar_i && cpl_v_q)) && !cpl_ready_i;
    irq_o_d = (irq_o_q || (bar_i && irq_v_q)) && !irq_ready_i;
    dn_v_d  = dn_v_q && !dn_ready_i;
    dn_h_d  = dn_h_q;
    dn_t_d  = dn_t_q;
    cpl_v_d = cpl_v_q && !cpl_ready_i;
    cpl_h_d = cpl_h_q;
    cpl_t_d = cpl_t_q;
    irq_v_d = irq_v_q && !irq_ready_i;
    irq_a_d = irq_a_q;
    irq_d_d = irq_d_q;

    if (alloc_i) tail_d = tail_q + 1'b1;
    for (wi = 0; wi < DEPTH; wi = wi + 1) begin
      if (alloc_i && tail_q[W-1:0] == wi[W-1:0]) begin
        hdr_d[wi*128 +: 128] = alloc_hdr_i;
        d0_d[wi*32 +: 32]    = alloc_data0_i;
        tag_d[wi*16 +: 16]   = alloc_tag_i;
        done_d[wi]           = 1'b0;
        ir_d[wi]             = 1'b0;
        vld_d[wi]            = 1'b1;
        old_d[wi]            = 1'b0;
      end
      if (wa_i && wa_idx_i == wi[W-1:0]) begin
        res_d[wi*RES_W +: RES_W] = {wa_kind_i, wa_ca_i, wa_rec_i, wa_reason_i, wa_mal_i, wa_addr_i};
        done_d[wi] = 1'b1;
      end
      if (wb_i && wb_idx_i == wi[W-1:0]) begin
        res_d[wi*RES_W +: RES_W] = {wb_kind_i, wb_ca_i, wb_rec_i, wb_reason_i, 1'b0, wb_addr_i};
        done_d[wi] = 1'b1;
      end
      if (wc_i && wc_idx_i == wi[W-1:0]) begin
        res_d[wi*RES_W +: RES_W] = {wc_kind_i, 1'b0, wc_rec_i, wc_reason_i, 1'b0, wc_addr_i};
        d0_d[wi*32 +: 32]        = wc_data_i;
        ir_d[wi]                 = 1'b1;
        done_d[wi]               = 1'b1;
      end
      if (retire && hidx == wi[W-1:0]) begin
        vld_d[wi] = 1'b0;
        old_d[wi] = 1'b0;
      end
    end
    if (retire) begin
      head_d = head_q + 1'b1;
      case (h_kind)
        K_FWD: begin
          dn_v_d = 1'b1;
          dn_h_d = f_dn;
          dn_t_d = h_tag;
          dn_o_d = h_old || bar_i;
        end
        K_CPL: begin
          cpl_v_d = 1'b1;
          cpl_h_d = f_cpl;
          cpl_t_d = h_tag;
          cpl_o_d = h_old || bar_i;
        end
        K_IRQ: begin
          irq_v_d = 1'b1;
          irq_a_d = h_ir ? h_addr : d_addr;
          irq_d_d = h_d0;
          irq_o_d = h_old || bar_i;
        end
        K_DROP:  ;   // dropped posted request: nothing leaves
        default: ;
      endcase
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      head_q  <= {(W+1){1'b0}};
      tail_q  <= {(W+1){1'b0}};
      done_q  <= {DEPTH{1'b0}};
      hdr_q   <= {DEPTH*128{1'b0}};
      d0_q    <= {DEPTH*32{1'b0}};
      tag_q   <= {DEPTH*16{1'b0}};
      res_q   <= {DEPTH*RES_W{1'b0}};
      ir_q    <= {DEPTH{1'b0}};
      vld_q   <= {DEPTH{1'b0}};
      old_q   <= {DEPTH{1'b0}};
      dn_o_q  <= 1'b0;
      cpl_o_q <= 1'b0;
      irq_o_q <= 1'b0;
      dn_v_q  <= 1'b0;
      dn_h_q  <= 128'd0;
      dn_t_q  <= 16'd0;
      cpl_v_q <= 1'b0;
      cpl_h_q <= 96'd0;
      cpl_t_q <= 16'd0;
      irq_v_q <= 1'b0;
      irq_a_q <= 64'd0;
      irq_d_q <= 32'd0;
    end else begin
      head_q  <= head_d;
      tail_q  <= tail_d;
      done_q  <= done_d;
      hdr_q   <= hdr_d;
      d0_q    <= d0_d;
      tag_q   <= tag_d;
      res_q   <= res_d;
      ir_q    <= ir_d;
      vld_q   <= vld_d;
      old_q   <= old_d;
      dn_o_q  <= dn_o_d;
      cpl_o_q <= cpl_o_d;
      irq_o_q <= irq_o_d;
      dn_v_q  <= dn_v_d;
      dn_h_q  <= dn_h_d;
      dn_t_q  <= dn_t_d;
      cpl_v_q <= cpl_v_d;
      cpl_h_q <= cpl_h_d;
      cpl_t_q <= cpl_t_d;
      irq_v_q <= irq_v_d;
      irq_a_q <= irq_a_d;
      irq_d_q <= irq_d_d;
    end
  end

  assign full_o        = full;
  assign empty_o       = empty;
  assign alloc_idx_o   = tail_q[W-1:0];
  assign fr_valid_o    = can && h_rec;
  assign fr_reason_o   = h_reason;
  assign fr_sid_o      = d_rid;
  // interrupt faults: FI = index << 48 (port C), or 0 for the shape fault 20h found at ingress
  assign fr_fi_o       = h_ir ? h_addr[63:12] : (h_reason == 8'h20) ? 52'd0 : d_addr[63:12];
  assign fr_t_o        = d_need_r;                 // {T,T2}: 00 write, 10 read, 11 atomic
  assign fr_t2_o       = d_need_r && d_need_w;
  assign fr_at_o       = d_at;
  assign mal_retired_o = retire && h_mal;
  assign bar_busy_o    = (|old_q) || dn_o_q || cpl_o_q || irq_o_q;
  assign head_o        = hidx;
  assign egress_idle_o = !dn_v_q && !irq_v_q;

  assign dn_valid_o  = dn_v_q;
  assign dn_hdr_o    = dn_h_q;
  assign dn_tag_o    = dn_t_q;
  assign cpl_valid_o = cpl_v_q;
  assign cpl_hdr_o   = cpl_h_q;
  assign cpl_tag_o   = cpl_t_q;
  // an older interrupt message leaves before a fault event raised after it
  assign irq_valid_o = irq_v_q || ev_valid_i;
  assign irq_addr_o  = irq_v_q ? irq_a_q : ev_addr_i;
  assign irq_data_o  = irq_v_q ? irq_d_q : ev_data_i;
  assign ev_ready_o  = !irq_v_q && irq_ready_i;

  wire unused_rob = ^{d_mal, d_posted, d_window, d_win_bad, d_addr[11:0]};
endmodule

`default_nettype wire
