// iommu_walker: one legacy-mode translation walk (root entry, context entry, second-level table
// walk of 3, 4 or 5 levels) with the full legacy fault check order.
// Spec: vtd-pcie.md A5 (root entry), A6 (context entry), A7 (SL entry), A8 (translation algorithm),
// A9 (fault reasons 1h-Eh); decisions.md (CA for table-read errors, permission before reserved,
// atomics need R and W, output page in the interrupt window -> Eh, TT=10 AW check).
// Check order: root read error 8h, P=0 1h, reserved Ah; context read error 9h, P=0 2h (FPD latched
// even when P=0), reserved Bh, TT=11/TT=01 (DT=0) 3h, AT!=00 Dh, AW not in SAGAW 3h, TT=10 -> output =
// input; address >= 2^AGAW 4h; per level: read error (3h at the SLPTPTR table, else 7h), missing W
// 5h, missing R 6h, reserved Ch; leaf output page overlapping 0xFEE0_0000-0xFEEF_FFFF Eh.
// The context-cache/PSC hit paths enter directly at the table walk (context checks already passed).
// Fills (context cache, IOTLB, PSC) are offered only for a walk that ended in a translation and was
// not overtaken by an invalidation (stale); faulting lookups are never cached.
// Latency: 1 cycle to present each memory read, then the memory latency; 1 cycle per completion.
// A full 4-level walk with a context miss is 6 reads: about 6 x (memory latency + 2) cycles.
`default_nettype none

module iommu_walker #(
  parameter integer HAW   = 48,  // host address width
  parameter integer ROB_W = 4    // reorder-buffer index width
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  input  wire [63:12]     rta_i,        // latched RTADDR.RTA
  input  wire             inv_i,        // an invalidation happened: results are stale
  /* dispatch */
  input  wire             start_i,
  output wire             busy_o,
  input  wire [ROB_W-1:0] st_rob_i,
  input  wire [15:0]      st_sid_i,
  input  wire [63:0]      st_addr_i,
  input  wire             st_need_r_i,
  input  wire             st_need_w_i,
  input  wire [1:0]       st_at_i,
  input  wire             st_ctx_i,     // context known (context-cache hit, checks passed)
  input  wire [15:0]      st_did_i,
  input  wire [HAW-13:0]  st_slptptr_i,
  input  wire [2:0]       st_aw_i,
  input  wire             st_fpd_i,
  input  wire [2:0]       st_level_i,   // level of the first table to read (st_ctx_i only)
  input  wire [HAW-13:0]  st_ptr_i,     // that table
  input  wire             st_top_i,     // the first table is the SLPTPTR table
  input  wire             st_acc_r_i,   // R/W AND-ed over the levels above it
  input  wire             st_acc_w_i,
  input  wire             st_stale_i,
  /* memory reads */
  output wire             mreq_valid_o,
  output wire [63:0]      mreq_addr_o,
  input  wire             mreq_gnt_i,
  input  wire             mrsp_valid_i,
  input  wire [127:0]     mrsp_data_i,
  input  wire             mrsp_err_i,
  /* result */
  output wire             done_valid_o,
  input  wire             done_gnt_i,
  output wire [ROB_W-1:0] res_rob_o,
  output wire [1:0]       res_kind_o,   // 0 forward, 1 completion, 2 drop
  output wire             res_ca_o,
  output wire             res_rec_o,
  output wire [7:0]       res_reason_o,
  output wire [63:0]      res_addr_o,
  /* fills (valid with done_valid_o) */
  output wire             cc_fill_o,
  output wire [15:0]      cc_sid_o,
  output wire [15:0]      cc_did_o,
  output wire [HAW-13:0]  cc_ptr_o,
  output wire [2:0]       cc_aw_o,
  output wire [1:0]       cc_tt_o,
  output wire             cc_fpd_o,
  output wire             tlb_fill_o,
  output wire [15:0]      tlb_did_o,
  output wire [56:12]     tlb_addr_o,
  output wire [1:0]       tlb_size_o,
  output wire [HAW-13:0]  tlb_pfn_o,
  output wire             tlb_r_o,
  output wire             tlb_w_o,
  output wire             psc_fill_o,
  output wire [15:0]      psc_did_o,
  output wire [56:12]     psc_addr_o,
  output wire [2:0]       psc_level_o,
  output wire [HAW-13:0]  psc_ptr_o,
  output wire             psc_r_o,
  output wire             psc_w_o
);
  localparam integer PTR_W = HAW - 12;

  localparam [2:0] S_IDLE = 3'd0, S_ROOT_RQ = 3'd1, S_ROOT_WT = 3'd2, S_CTX_RQ = 3'd3,
                   S_CTX_WT = 3'd4, S_PTE_RQ = 3'd5, S_PTE_WT = 3'd6, S_DONE = 3'd7;
  localparam [1:0] K_FWD = 2'd0, K_CPL = 2'd1, K_DROP = 2'd2;

  // reserved-bit masks (legacy mode, ECAP.SC = 0, ECAP.DT = 0)
  localparam [63:0] HI_MASK   = ~((64'd1 << HAW) - 64'd1);                        // bits 63:HAW
  localparam [63:0] PTE_HI    = ((64'd1 << 52) - 64'd1) & HI_MASK;                // bits 51:HAW
  localparam [63:0] PTE_RSV   = PTE_HI | (64'd1 << 62) | (64'd1 << 11);
  localparam [63:0] ROOT_RSV  = HI_MASK | 64'h0000_0000_0000_0FFE;
  localparam [63:0] CTX_RSV   = HI_MASK | 64'h0000_0000_0000_0FF0;
  localparam [63:0] CTXH_RSV  = 64'hFFFF_FFFF_FF00_0080;

  reg [2:0]       state_q, state_d;
  reg [ROB_W-1:0] rob_q, rob_d;
  reg [15:0]      sid_q, sid_d;
  reg [63:0]      addr_q, addr_d;
  reg             need_r_q, need_r_d;
  reg             need_w_q, need_w_d;
  reg [1:0]       at_q, at_d;
  reg [15:0]      did_q, did_d;
  reg [PTR_W-1:0] slptptr_q, slptptr_d;
  reg [2:0]       aw_q, aw_d;
  reg [1:0]       tt_q, tt_d;
  reg             fpd_q, fpd_d;
  reg             ctx_rd_q, ctx_rd_d;     // context was read from memory (fill candidate)
  reg [2:0]       level_q, level_d;
  reg [PTR_W-1:0] table_q, table_d;
  reg             top_q, top_d;
  reg             acc_r_q, acc_r_d;
  reg             acc_w_q, acc_w_d;
  reg             pv_q, pv_d;             // a non-leaf entry was read from memory
  reg [2:0]       plvl_q, plvl_d;
  reg [PTR_W-1:0] pptr_q, pptr_d;
  reg             pr_q, pr_d;
  reg             pw_q, pw_d;
  reg             stale_q, stale_d;
  reg [1:0]       kind_q, kind_d;
  reg             ca_q, ca_d;
  reg             rec_q, rec_d;
  reg [7:0]       reason_q, reason_d;
  reg [63:0]      out_q, out_d;
  reg [1:0]       lsz_q, lsz_d;           // leaf size of a forward result
  reg             leaf_q, leaf_d;         // forward result came from a table walk (IOTLB fill)
  reg [PTR_W-1:0] lpfn_q, lpfn_d;


  // ---- helpers
  wire [63:0] rlo = mrsp_data_i[63:0];
  wire [63:0] rhi = mrsp_data_i[127:64];

  reg [8:0] idx;
  always @* begin
    case (level_q)
      3'd1:    idx = addr_q[20:12];
      3'd2:    idx = addr_q[29:21];
      3'd3:    idx = addr_q[38:30];
      3'd4:    idx = addr_q[47:39];
      default: idx = addr_q[56:48];
    endcase
  end
  reg [63:0] pte_sel;
  always @* pte_sel = idx[0] ? rhi : rlo;

  // read address of the current request state (a continuous assignment: no glitches)
  wire [63:0] mreq_addr = (state_q == S_ROOT_RQ) ? {rta_i[63:12], sid_q[15:8], 4'h0} :
                          (state_q == S_CTX_RQ)  ? {{(64-HAW){1'b0}}, table_q, sid_q[7:0], 4'h0} :
                                                   {{(64-HAW){1'b0}}, table_q, idx, 3'b000};

  // agaw limit check: address bits at or above 2^AGAW must be 0
  function automatic addr_ok(input [63:39] a, input [2:0] aw);
    begin
      case (aw)
        3'd1:    addr_ok = (a[63:39] == 25'd0);
        3'd2:    addr_ok = (a[63:48] == 16'd0);
        default: addr_ok = (a[63:57] == 7'd0);
      endcase
    end
  endfunction

  reg        is_leaf;
  reg [63:0] rsv;
  reg [63:0] outa;
  reg        win;
  reg        fault;
  reg [7:0]  f_reason;
  reg        f_ca;
  reg        f_qual;
  reg        f_fpd;

  always @* begin
    state_d   = state_q;
    rob_d     = rob_q;
    sid_d     = sid_q;
    addr_d    = addr_q;
    need_r_d  = need_r_q;
    need_w_d  = need_w_q;
    at_d      = at_q;
    did_d     = did_q;
    slptptr_d = slptptr_q;
    aw_d      = aw_q;
    tt_d      = tt_q;
    fpd_d     = fpd_q;
    ctx_rd_d  = ctx_rd_q;
    level_d   = level_q;
    table_d   = table_q;
    top_d     = top_q;
    acc_r_d   = acc_r_q;
    acc_w_d   = acc_w_q;
    pv_d      = pv_q;
    plvl_d    = plvl_q;
    pptr_d    = pptr_q;
    pr_d      = pr_q;
    pw_d      = pw_q;
    stale_d   = stale_q | inv_i;
    kind_d    = kind_q;
    ca_d      = ca_q;
    rec_d     = rec_q;
    reason_d  = reason_q;
    out_d     = out_q;
    lsz_d     = lsz_q;
    leaf_d    = leaf_q;
    lpfn_d    = lpfn_q;
    is_leaf   = 1'b0;
    rsv       = 64'd0;
    outa      = 64'd0;
    win       = 1'b0;
    fault     = 1'b0;
    f_reason  = 8'd0;
    f_ca      = 1'b0;
    f_qual    = 1'b0;
    f_fpd     = fpd_q;

    case (state_q)
      S_IDLE: begin
        if (start_i) begin
          rob_d     = st_rob_i;
          sid_d     = st_sid_i;
          addr_d    = st_addr_i;
          need_r_d  = st_need_r_i;
          need_w_d  = st_need_w_i;
          at_d      = st_at_i;
          did_d     = st_did_i;
          slptptr_d = st_slptptr_i;
          aw_d      = st_aw_i;
          tt_d      = 2'b00;
          fpd_d     = st_fpd_i;
          ctx_rd_d  = 1'b0;
          level_d   = st_level_i;
          table_d   = st_ptr_i;
          top_d     = st_top_i;
          acc_r_d   = st_acc_r_i;
          acc_w_d   = st_acc_w_i;
          pv_d      = 1'b0;
          stale_d   = st_stale_i | inv_i;
          leaf_d    = 1'b0;
          state_d   = st_ctx_i ? S_PTE_RQ : S_ROOT_RQ;
        end
      end
      S_ROOT_RQ: begin
        if (mreq_gnt_i) state_d = S_ROOT_WT;
      end
      S_ROOT_WT: begin
        if (mrsp_valid_i) begin
          if (mrsp_err_i) begin
            fault = 1'b1; f_reason = 8'h08; f_ca = 1'b1;
          end else if (!rlo[0]) begin
            fault = 1'b1; f_reason = 8'h01;
          end else if ((rlo & ROOT_RSV) != 64'd0 || rhi != 64'd0) begin
            fault = 1'b1; f_reason = 8'h0A;
          end else begin
            table_d = rlo[HAW-1:12];
            state_d = S_CTX_RQ;
          end
        end
      end
      S_CTX_RQ: begin
        if (mreq_gnt_i) state_d = S_CTX_WT;
      end
      S_CTX_WT: begin
        if (mrsp_valid_i) begin
          f_fpd = rlo[1];
          fpd_d = rlo[1];
          if (mrsp_err_i) begin
            fault = 1'b1; f_reason = 8'h09; f_ca = 1'b1;
          end else if (!rlo[0]) begin
            fault = 1'b1; f_reason = 8'h02; f_qual = 1'b1;
          end else if ((rlo & CTX_RSV) != 64'd0 || (rhi & CTXH_RSV) != 64'd0) begin
            fault = 1'b1; f_reason = 8'h0B;
          end else if (rlo[3:2] == 2'b11 || rlo[3:2] == 2'b01) begin
            fault = 1'b1; f_reason = 8'h03; f_qual = 1'b1;
          end else if (at_q != 2'b00) begin
            fault = 1'b1; f_reason = 8'h0D; f_qual = 1'b1;
          end else if (rhi[2:0] != 3'd1 && rhi[2:0] != 3'd2 && rhi[2:0] != 3'd3) begin
            fault = 1'b1; f_reason = 8'h03; f_qual = 1'b1;
          end else begin
            did_d     = rhi[23:8];
            slptptr_d = rlo[HAW-1:12];
            aw_d      = rhi[2:0];
            tt_d      = rlo[3:2];
            ctx_rd_d  = 1'b1;
            if (rlo[3:2] == 2'b10) begin
              // pass-through: output = input
              kind_d   = K_FWD;
              out_d    = addr_q;
              rec_d    = 1'b0;
              reason_d = 8'd0;
              ca_d     = 1'b0;
              state_d  = S_DONE;
            end else if (!addr_ok(addr_q[63:39], rhi[2:0])) begin
              fault = 1'b1; f_reason = 8'h04; f_qual = 1'b1;
            end else begin
              level_d = rhi[2:0] + 3'd2;
              table_d = rlo[HAW-1:12];
              top_d   = 1'b1;
              acc_r_d = 1'b1;
              acc_w_d = 1'b1;
              state_d = S_PTE_RQ;
            end
          end
        end
      end
      S_PTE_RQ: begin
        if (mreq_gnt_i) state_d = S_PTE_WT;
      end
      S_PTE_WT: begin
        if (mrsp_valid_i) begin
          is_leaf = (level_q == 3'd1) || (pte_sel[7] && (level_q == 3'd2 || level_q == 3'd3));
          rsv = PTE_RSV;
          if (level_q >= 3'd4) rsv = rsv | 64'h80;
          if (is_leaf && level_q == 3'd2) rsv = rsv | 64'h0000_0000_001F_F000;
          if (is_leaf && level_q == 3'd3) rsv = rsv | 64'h0000_0000_3FFF_F000;
          if (mrsp_err_i) begin
            fault = 1'b1; f_reason = top_q ? 8'h03 : 8'h07; f_ca = 1'b1; f_qual = 1'b1;
          end else if (need_w_q && !pte_sel[1]) begin
            fault = 1'b1; f_reason = 8'h05; f_qual = 1'b1;
          end else if (need_r_q && !pte_sel[0]) begin
            fault = 1'b1; f_reason = 8'h06; f_qual = 1'b1;
          end else if ((pte_sel & rsv) != 64'd0) begin
            fault = 1'b1; f_reason = 8'h0C; f_qual = 1'b1;
          end else if (is_leaf) begin
            case (level_q)
              3'd1:    outa = {{(64-HAW){1'b0}}, pte_sel[HAW-1:12], addr_q[11:0]};
              3'd2:    outa = {{(64-HAW){1'b0}}, pte_sel[HAW-1:21], addr_q[20:0]};
              default: outa = {{(64-HAW){1'b0}}, pte_sel[HAW-1:30], addr_q[29:0]};
            endcase
            case (level_q)
              3'd1:    win = (outa[63:20] == 44'h0000_0000_FEE);
              3'd2:    win = (outa[63:21] == 43'h0000_0000_7F7);
              default: win = (outa[63:30] == 34'h0_0000_0003);
            endcase
            if (win) begin
              fault = 1'b1; f_reason = 8'h0E; f_qual = 1'b1;
            end else begin
              kind_d   = K_FWD;
              out_d    = outa;
              rec_d    = 1'b0;
              reason_d = 8'd0;
              ca_d     = 1'b0;
              leaf_d   = 1'b1;
              lsz_d    = (level_q == 3'd1) ? 2'd0 : (level_q == 3'd2) ? 2'd1 : 2'd2;
              lpfn_d   = outa[HAW-1:12] & ~((level_q == 3'd1) ? {PTR_W{1'b0}} :
                                            (level_q == 3'd2) ? {{(PTR_W-9){1'b0}}, 9'h1FF} :
                                                                {{(PTR_W-18){1'b0}}, 18'h3FFFF});
              acc_r_d  = acc_r_q & pte_sel[0];
              acc_w_d  = acc_w_q & pte_sel[1];
              state_d  = S_DONE;
            end
          end else begin
            acc_r_d = acc_r_q & pte_sel[0];
            acc_w_d = acc_w_q & pte_sel[1];
            table_d = pte_sel[HAW-1:12];
            level_d = level_q - 3'd1;
            top_d   = 1'b0;
            pv_d    = 1'b1;
            plvl_d  = level_q - 3'd1;
            pptr_d  = pte_sel[HAW-1:12];
            pr_d    = acc_r_q & pte_sel[0];
            pw_d    = acc_w_q & pte_sel[1];
            state_d = S_PTE_RQ;
          end
        end
      end
      default: begin // S_DONE
        if (done_gnt_i) state_d = S_IDLE;
      end
    endcase

    if (fault) begin
      kind_d   = need_r_q ? K_CPL : K_DROP;
      ca_d     = f_ca;
      rec_d    = !(f_qual && f_fpd);
      reason_d = f_reason;
      out_d    = 64'd0;
      leaf_d   = 1'b0;
      ctx_rd_d = 1'b0;
      pv_d     = 1'b0;
      state_d  = S_DONE;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= S_IDLE;
      rob_q     <= {ROB_W{1'b0}};
      sid_q     <= 16'd0;
      addr_q    <= 64'd0;
      need_r_q  <= 1'b0;
      need_w_q  <= 1'b0;
      at_q      <= 2'd0;
      did_q     <= 16'd0;
      slptptr_q <= {PTR_W{1'b0}};
      aw_q      <= 3'd0;
      tt_q      <= 2'd0;
      fpd_q     <= 1'b0;
      ctx_rd_q  <= 1'b0;
      level_q   <= 3'd0;
      table_q   <= {PTR_W{1'b0}};
      top_q     <= 1'b0;
      acc_r_q   <= 1'b0;
      acc_w_q   <= 1'b0;
      pv_q      <= 1'b0;
      plvl_q    <= 3'd0;
      pptr_q    <= {PTR_W{1'b0}};
      pr_q      <= 1'b0;
      pw_q      <= 1'b0;
      stale_q   <= 1'b0;
      kind_q    <= 2'd0;
      ca_q      <= 1'b0;
      rec_q     <= 1'b0;
      reason_q  <= 8'd0;
      out_q     <= 64'd0;
      lsz_q     <= 2'd0;
      leaf_q    <= 1'b0;
      lpfn_q    <= {PTR_W{1'b0}};
    end else begin
      state_q   <= state_d;
      rob_q     <= rob_d;
      sid_q     <= sid_d;
      addr_q    <= addr_d;
      need_r_q  <= need_r_d;
      need_w_q  <= need_w_d;
      at_q      <= at_d;
      did_q     <= did_d;
      slptptr_q <= slptptr_d;
      aw_q      <= aw_d;
      tt_q      <= tt_d;
      fpd_q     <= fpd_d;
      ctx_rd_q  <= ctx_rd_d;
      level_q   <= level_d;
      table_q   <= table_d;
      top_q     <= top_d;
      acc_r_q   <= acc_r_d;
      acc_w_q   <= acc_w_d;
      pv_q      <= pv_d;
      plvl_q    <= plvl_d;
      pptr_q    <= pptr_d;
      pr_q      <= pr_d;
      pw_q      <= pw_d;
      stale_q   <= stale_d;
      kind_q    <= kind_d;
      ca_q      <= ca_d;
      rec_q     <= rec_d;
      reason_q  <= reason_d;
      out_q     <= out_d;
      lsz_q     <= lsz_d;
      leaf_q    <= leaf_d;
      lpfn_q    <= lpfn_d;
    end
  end

  wire done = (state_q == S_DONE);
  wire fill = done && (kind_q == K_FWD) && !stale_q && !inv_i;

  assign busy_o       = (state_q != S_IDLE);
  assign mreq_valid_o = (state_q == S_ROOT_RQ) || (state_q == S_CTX_RQ) || (state_q == S_PTE_RQ);
  assign mreq_addr_o  = mreq_addr;
  assign done_valid_o = done;
  assign res_rob_o    = rob_q;
  assign res_kind_o   = kind_q;
  assign res_ca_o     = ca_q;
  assign res_rec_o    = rec_q;
  assign res_reason_o = reason_q;
  assign res_addr_o   = out_q;
  assign cc_fill_o    = fill && ctx_rd_q;
  assign cc_sid_o     = sid_q;
  assign cc_did_o     = did_q;
  assign cc_ptr_o     = slptptr_q;
  assign cc_aw_o      = aw_q;
  assign cc_tt_o      = tt_q;
  assign cc_fpd_o     = fpd_q;
  assign tlb_fill_o   = fill && leaf_q;
  assign tlb_did_o    = did_q;
  assign tlb_addr_o   = addr_q[56:12];
  assign tlb_size_o   = lsz_q;
  assign tlb_pfn_o    = lpfn_q;
  assign tlb_r_o      = acc_r_q;
  assign tlb_w_o      = acc_w_q;
  assign psc_fill_o   = fill && leaf_q && pv_q;
  assign psc_did_o    = did_q;
  assign psc_addr_o   = addr_q[56:12];
  assign psc_level_o  = plvl_q;
  assign psc_ptr_o    = pptr_q;
  assign psc_r_o      = pr_q;
  assign psc_w_o      = pw_q;

endmodule

`default_nettype wire
