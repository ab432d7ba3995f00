// iommu_ir: interrupt-remapping unit. Takes one well-formed interrupt-window MWr at a time (the
// core has already done the shape check 20h and the GSTS.IRES=0 pass-through) and returns its
// outcome: the message that leaves (unchanged compatibility format, remapped, or a posted-interrupt
// notification), or a drop with or without a fault.
// Spec: vtd-pcie.md B1 (IRTA: base, EIME, S), B2 (MSI address/data, handle/SHV/subhandle), B3 (check
// order), B4 (IRTE formats and reserved bits, EIME- and CAP.PI-dependent), B5 (source-ID check),
// B6 (remapped message, xAPIC / x2APIC), B7 (fault reasons 20h-28h and FPD qualification), B8
// (posted interrupts: PID update, X = !ON && (URG || !SN), notification event), B9 (IEC);
// decisions.md rows: SVT=10 bus range (SID[15:8] start, SID[7:0] end), SID check failure 26h,
// remappable request with addr[63:32] / data[31:16] != 0 -> 20h before the IRTE fetch, xAPIC
// reserved destination bits 39:32 and 63:48 -> 24h, posted-interrupt notify rule, faulting
// interrupt request dropped; "Caching": only present IRTEs without reserved bits are cached, an
// IRTE fetched across an IEC invalidation is not cached (stale), SIRTP does not flush the IEC.
// Check order (golden model driver/src/model/ir.rs steps 3-11): compatibility format 25h (EIME=1
// or CFIS=0) else unchanged; 20h (addr[63:32], addr[31:20], data[31:16]); index; 21h; IEC lookup,
// on a miss the IRTE read (error 23h); P=0 22h; reserved 24h; SID 26h; IM=0 remapped message;
// IM=1 PID update (memory op 2, issued only when this request is the oldest: rob_head_i ==
// rob && egress_idle_i): error 27h, reserved control bits 28h, else notification if X, else drop.
// 22h/24h/26h/27h/28h are recorded only with IRTE.FPD=0; 20h/21h/23h/25h always. res_index_o =
// FI[63:48] (0 for 20h/25h).
// An IEC hit is re-checked against the EIME latched now (a cached IRTE stays usable after SIRTP,
// as the model's IEC observations do): xAPIC-reserved destination bits give 24h.
// Latency (cycles from the start_i cycle to the first done_valid_o cycle, memory granted at once,
// L = cycles from the mreq grant cycle to the mrsp_valid_i cycle):
// compatibility / 20h / 21h: 1 cycle; IEC hit (message or fault): 2 cycles; IEC miss: L + 3
// cycles; posted (IM=1): + L + 1 more cycles once the request is the oldest (hit: L + 3,
// miss: L_irte + L_pid + 4). Throughput: one request at a time; back-to-back hits every 3 cycles.
`default_nettype none

module iommu_ir #(
  parameter integer HAW         = 48,  // host address width (IRTA base bits [HAW-1:12])
  parameter integer IEC_ENTRIES = 8,   // interrupt-entry-cache entries (>= 1)
  parameter integer ROB_W       = 4,   // reorder-buffer index width
  parameter integer CAP_PI      = 1,   // posted interrupts supported (IRTE.IM usable)
  parameter integer ECAP_EIM    = 1    // extended interrupt mode supported (IRTA.EIME usable)
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  input  wire [63:0]      irta_i,        // IRTA latched at the last SIRTP: [HAW-1:12] base, [11] EIME, [3:0] S
  input  wire             cfis_i,        // GSTS.CFIS
  /* request */
  input  wire             start_i,       // accepted when !busy_o
  output wire             busy_o,
  input  wire [ROB_W-1:0] st_rob_i,
  input  wire [15:0]      st_sid_i,
  input  wire [63:0]      st_addr_i,
  input  wire [31:0]      st_data_i,
  /* ordering of the posting */
  input  wire [ROB_W-1:0] rob_head_i,
  input  wire             egress_idle_i,
  /* memory port (one request outstanding, id MEM_ID filtered by the caller) */
  output wire             mreq_valid_o,
  input  wire             mreq_gnt_i,
  output wire [1:0]       mreq_op_o,     // 0 read 16 B at addr (aligned down to 16), 2 PID post
  output wire [63:0]      mreq_addr_o,
  output wire [127:0]     mreq_wdata_o,
  input  wire             mrsp_valid_i,
  input  wire [127:0]     mrsp_data_i,   // little-endian: byte 0 in bits 7:0
  input  wire             mrsp_err_i,
  /* result (held until done_gnt_i) */
  output wire             done_valid_o,
  input  wire             done_gnt_i,
  output wire [ROB_W-1:0] res_rob_o,
  output wire [1:0]       res_kind_o,    // 2'd2 drop (fault, or posted without notification), 2'd3 interrupt message
  output wire             res_rec_o,     // record the fault (FPD applied)
  output wire [7:0]       res_reason_o,  // fault reason, 0 if none
  output wire [15:0]      res_index_o,   // FI[63:48]
  output wire [63:0]      res_msi_addr_o,
  output wire [31:0]      res_msi_data_o,
  /* IEC invalidation */
  input  wire             iec_inv_i,     // pulse
  input  wire             iec_inv_g_i,   // 1 global, 0 index-selective
  input  wire [15:0]      iec_inv_idx_i,
  input  wire [4:0]       iec_inv_im_i,
  /* counters */
  output wire             cnt_remap_o,   // pulse per remapped message (IM=0) result
  output wire             cnt_post_o,    // pulse per posting (IM=1 success) result
  output wire             cnt_iec_lookup_o,
  output wire             cnt_iec_miss_o // pulse per IRTE fetch
);
  generate
    if (IEC_ENTRIES < 1) begin : g_bad_entries
      iommu_param_check_failed u_iec_entries_out_of_range ();
    end
    if (HAW < 13 || HAW > 63) begin : g_bad_haw
      iommu_param_check_failed u_haw_out_of_range ();
    end
  endgenerate

  localparam [2:0] S_IDLE = 3'd0, S_LOOKUP = 3'd1, S_IRTE_RQ = 3'd2, S_IRTE_WT = 3'd3,
                   S_POST_WAIT = 3'd4, S_POST_RQ = 3'd5, S_POST_WT = 3'd6, S_DONE = 3'd7;
  localparam [1:0] K_DROP = 2'd2, K_MSG = 2'd3;
  localparam       PI  = (CAP_PI != 0);
  localparam       EIM = (ECAP_EIM != 0);

  // IRTE reserved bits (Irte::reserved_mask, vtd-pcie.md B4 + decisions.md)
  function automatic [127:0] m128(input integer hi, input integer lo);
    begin
      m128 = ((128'd1 << (hi + 1)) - 128'd1) ^ ((128'd1 << lo) - 128'd1);
    end
  endfunction
  localparam [127:0] RSV_POST  = m128(7, 2) | m128(13, 12) | m128(37, 24) | m128(95, 84);
  localparam [127:0] RSV_REM   = m128(14, 12) | m128(31, 24) | m128(127, 84);
  localparam [127:0] RSV_XAPIC = m128(39, 32) | m128(63, 48);   // xAPIC (EIME=0) destination
  localparam [127:0] RSV_IM    = m128(15, 15);                  // IM with CAP.PI=0
  // PID control qword reserved bits 15:2 and 31:24 (PID_CONTROL_RESERVED)
  localparam [63:0]  PID_RSV  = 64'h0000_0000_FF00_FFFC;

  // IEC entry (a present IRTE without reserved bits, decoded):
  // [0] FPD, [1] IM, [9:2] V, [25:10] SID, [27:26] SQ, [29:28] SVT, [DATA_W-1:30] format part:
  // IM=0 {DST[31:0], DLM[2:0], TM, RH, DM}; IM=1 {PDA[63:6], URG}
  localparam integer U_W    = PI ? 59 : 38;
  localparam integer DATA_W = 30 + U_W;

  // ---- state
  reg [2:0]       state_q, state_d;
  reg [ROB_W-1:0] rob_q, rob_d;
  reg [15:0]      sid_q, sid_d;
  reg [15:0]      index_q, index_d;
  reg [HAW-13:0]  base_q, base_d;        // latched IRTA base
  reg             eime_q, eime_d;
  reg             stale_q, stale_d;      // an IEC invalidation since the IRTE fetch was issued
  reg             fpd_q, fpd_d;          // FPD of the IRTE in use (posting)
  reg             urg_q, urg_d;
  reg [7:0]       vec_q, vec_d;
  reg [63:0]      maddr_q, maddr_d;      // memory request address
  reg [1:0]       kind_q, kind_d;
  reg             rec_q, rec_d;
  reg [7:0]       reason_q, reason_d;
  reg [15:0]      rindex_q, rindex_d;
  reg [63:0]      maddr_o_q, maddr_o_d;  // result message address
  reg [31:0]      mdata_q, mdata_d;
  reg             remap_q, remap_d;      // result is a remapped message (counter)
  reg             post_q, post_d;        // result is a posting (counter)

  // ---- request front (evaluated on the inputs while idle)
  wire [15:0] f_handle = {st_addr_i[2], st_addr_i[19:5]};
  wire [15:0] f_index  = st_addr_i[3] ? (f_handle + st_data_i[15:0]) : f_handle;
  wire        f_eime   = EIM && irta_i[11];
  wire [16:0] f_lim    = 17'd2 << irta_i[3:0];                         // 2^(S+1) entries
  wire        f_oor    = {1'b0, f_index} >= f_lim;
  wire        f_rsvreq = (st_addr_i[63:32] != 32'd0) || (st_addr_i[31:20] != 12'hFEE) ||
                         (st_data_i[31:16] != 16'd0);

  // ---- IEC
  wire                 lk_hit;
  wire [DATA_W-1:0]    lk_data;
  wire                 fill;
  wire [DATA_W-1:0]    fill_data;
  reg  [15:0]          inv_care;
  always @* begin
    if (iec_inv_g_i || iec_inv_im_i >= 5'd16) inv_care = 16'd0;
    else                                      inv_care = ~((16'd1 << iec_inv_im_i[3:0]) - 16'd1);
  end

  iommu_assoc_cache #(
    .ENTRIES (IEC_ENTRIES),
    .KEY_W   (16),
    .DATA_W  (DATA_W)
  ) u_iec (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .lk_key_i    (index_q),
    .lk_care_i   (16'hFFFF),
    .lk_hit_o    (lk_hit),
    .lk_data_o   (lk_data),
    .fill_i      (fill),
    .fill_key_i  (index_q),
    .fill_care_i (16'hFFFF),
    .fill_data_i (fill_data),
    .inv_i       (iec_inv_i),
    .inv_key_i   (iec_inv_idx_i),
    .inv_care_i  (inv_care)
  );

  // ---- IRTE from memory (raw)
  wire [127:0] raw     = mrsp_data_i;
  wire         r_im    = raw[15];
  wire [127:0] r_mask  = (PI && r_im) ? RSV_POST :
                         (RSV_REM | (eime_q ? 128'd0 : RSV_XAPIC) | (PI ? 128'd0 : RSV_IM));
  wire         r_rsv   = (raw & r_mask) != 128'd0;
  wire [58:0]  r_u     = r_im ? {raw[127:96], raw[63:38], raw[14]}
                              : {21'd0, raw[63:32], raw[7:5], raw[4], raw[3], raw[2]};
  assign fill_data = {r_u[U_W-1:0], raw[83:82], raw[81:80], raw[79:64], raw[23:16], r_im, raw[1]};

  // ---- the entry being evaluated: the IEC data (S_LOOKUP) or the IRTE read (S_IRTE_WT)
  reg [58:0] c_u;
  always @* begin
    c_u = 59'd0;
    c_u[U_W-1:0] = lk_data[DATA_W-1:30];
  end
  wire        from_iec = (state_q == S_LOOKUP);
  wire        e_p    = from_iec ? 1'b1        : raw[0];
  wire        e_fpd  = from_iec ? lk_data[0]  : raw[1];
  wire        e_im   = from_iec ? lk_data[1]  : r_im;
  wire [7:0]  e_v    = from_iec ? lk_data[9:2]   : raw[23:16];
  wire [15:0] e_sid  = from_iec ? lk_data[25:10] : raw[79:64];
  wire [1:0]  e_sq   = from_iec ? lk_data[27:26] : raw[81:80];
  wire [1:0]  e_svt  = from_iec ? lk_data[29:28] : raw[83:82];
  wire [58:0] e_u    = from_iec ? c_u : r_u;
  // remapped part
  wire        e_dm   = e_u[0];
  wire        e_rh   = e_u[1];
  wire        e_tm   = e_u[2];
  wire [2:0]  e_dlm  = e_u[5:3];
  wire [31:0] e_dst  = e_u[37:6];
  // posted part
  wire        e_urg  = e_u[0];
  wire [63:0] e_pda  = {e_u[58:1], 6'd0};
  // reserved: a cached entry had none under the EIME of its fill; only the xAPIC destination
  // bits depend on EIME (posted entries do not)
  wire        c_rsv  = !lk_data[1] && !eime_q && ((c_u[13:6] != 8'd0) || (c_u[37:22] != 16'd0));
  wire        e_rsv  = from_iec ? c_rsv : r_rsv;

  // source-ID check (B5, source_id_valid)
  reg [15:0] sq_mask;
  always @* begin
    case (e_sq)
      2'b00:   sq_mask = 16'hFFFF;
      2'b01:   sq_mask = 16'hFFFB;
      2'b10:   sq_mask = 16'hFFF9;
      default: sq_mask = 16'hFFF8;
    endcase
  end
  reg sid_ok;
  always @* begin
    case (e_svt)
      2'b00:   sid_ok = 1'b1;
      2'b01:   sid_ok = ((sid_q ^ e_sid) & sq_mask) == 16'd0;
      2'b10:   sid_ok = (sid_q[15:8] >= e_sid[15:8]) && (sid_q[15:8] <= e_sid[7:0]);
      default: sid_ok = 1'b0;
    endcase
  end

  // interrupt message (interrupt_message): address of a message to dest
  function automatic [63:0] msg_addr(input [31:0] dest, input eime, input rh, input dm);
    begin
      msg_addr = {(eime ? dest[31:8] : 24'd0), 8'd0, 12'hFEE, dest[7:0], 8'd0, rh, dm, 2'b00};
    end
  endfunction
  wire [31:0] r_dest   = eime_q ? e_dst : {24'd0, e_dst[15:8]};
  wire [63:0] r_maddr  = msg_addr(r_dest, eime_q, e_rh, e_dm);
  wire [31:0] r_mdata  = {16'd0, e_tm, 1'b1, 3'd0, e_dlm, e_v};

  // PID post response: old control qword
  wire [63:0] ctl      = mrsp_data_i[63:0];
  wire        p_x      = !ctl[0] && (urg_q || !ctl[1]);
  wire [31:0] n_dest   = eime_q ? ctl[63:32] : {24'd0, ctl[47:40]};
  wire [63:0] n_maddr  = msg_addr(n_dest, eime_q, 1'b0, 1'b0);
  wire [31:0] n_mdata  = {16'd0, 2'b01, 6'd0, ctl[23:16]};

  wire oldest = (rob_head_i == rob_q) && egress_idle_i;

  // IRTE address bits 63:12: base + index[15:8] (64-bit wrap like the model's entry_addr)
  wire [51:0] ent_hi = {{(64-HAW){1'b0}}, base_q} + {44'd0, index_q[15:8]};

  // ---- next state
  reg       fault;
  reg [7:0] f_reason;
  reg       f_qual;
  reg       eval;      // evaluate the entry this cycle
  always @* begin
    state_d   = state_q;
    rob_d     = rob_q;
    sid_d     = sid_q;
    index_d   = index_q;
    base_d    = base_q;
    eime_d    = eime_q;
    stale_d   = stale_q | iec_inv_i;
    fpd_d     = fpd_q;
    urg_d     = urg_q;
    vec_d     = vec_q;
    maddr_d   = maddr_q;
    kind_d    = kind_q;
    rec_d     = rec_q;
    reason_d  = reason_q;
    rindex_d  = rindex_q;
    maddr_o_d = maddr_o_q;
    mdata_d   = mdata_q;
    remap_d   = remap_q;
    post_d    = post_q;
    fault     = 1'b0;
    f_reason  = 8'd0;
    f_qual    = 1'b0;
    eval      = 1'b0;

    case (state_q)
      S_IDLE: begin
        if (start_i) begin
          rob_d     = st_rob_i;
          sid_d     = st_sid_i;
          index_d   = f_index;
          base_d    = irta_i[HAW-1:12];
          eime_d    = f_eime;
          stale_d   = iec_inv_i;
          kind_d    = K_DROP;
          rec_d     = 1'b0;
          reason_d  = 8'd0;
          rindex_d  = 16'd0;
          maddr_o_d = 64'd0;
          mdata_d   = 32'd0;
          remap_d   = 1'b0;
          post_d    = 1'b0;
          state_d   = S_DONE;
          if (!st_addr_i[4]) begin
            // compatibility format
            if (f_eime || !cfis_i) begin
              rec_d    = 1'b1;
              reason_d = 8'h25;
            end else begin
              kind_d    = K_MSG;
              maddr_o_d = st_addr_i;
              mdata_d   = st_data_i;
            end
          end else if (f_rsvreq) begin
            rec_d    = 1'b1;
            reason_d = 8'h20;
          end else if (f_oor) begin
            rec_d    = 1'b1;
            reason_d = 8'h21;
            rindex_d = f_index;
          end else begin
            rindex_d = f_index;
            state_d  = S_LOOKUP;
          end
        end
      end
      S_LOOKUP: begin
        if (lk_hit) begin
          eval = 1'b1;
        end else begin
          maddr_d = {ent_hi, index_q[7:0], 4'd0};   // IRTA + 16 * index
          state_d = S_IRTE_RQ;
        end
      end
      S_IRTE_RQ: begin
        if (mreq_gnt_i) state_d = S_IRTE_WT;
      end
      S_IRTE_WT: begin
        if (mrsp_valid_i) begin
          if (mrsp_err_i) begin
            fault = 1'b1; f_reason = 8'h23;
          end else begin
            eval = 1'b1;
          end
        end
      end
      S_POST_WAIT: begin
        if (oldest) state_d = S_POST_RQ;
      end
      S_POST_RQ: begin
        if (mreq_gnt_i) state_d = S_POST_WT;
      end
      S_POST_WT: begin
        if (mrsp_valid_i) begin
          if (mrsp_err_i) begin
            fault = 1'b1; f_reason = 8'h27; f_qual = 1'b1;
          end else if ((ctl & PID_RSV) != 64'd0) begin
            fault = 1'b1; f_reason = 8'h28; f_qual = 1'b1;
          end else begin
            post_d  = 1'b1;
            rec_d   = 1'b0;
            state_d = S_DONE;
            if (p_x) begin
              kind_d    = K_MSG;
              maddr_o_d = n_maddr;
              mdata_d   = n_mdata;
            end else begin
              kind_d    = K_DROP;
            end
          end
        end
      end
      default: begin // S_DONE
        if (done_gnt_i) state_d = S_IDLE;
      end
    endcase

    if (eval) begin
      fpd_d = e_fpd;
      if (!e_p) begin
        fault = 1'b1; f_reason = 8'h22; f_qual = 1'b1;
      end else if (e_rsv) begin
        fault = 1'b1; f_reason = 8'h24; f_qual = 1'b1;
      end else if (!sid_ok) begin
        fault = 1'b1; f_reason = 8'h26; f_qual = 1'b1;
      end else if (PI && e_im) begin
        urg_d   = e_urg;
        vec_d   = e_v;
        maddr_d = e_pda;
        state_d = oldest ? S_POST_RQ : S_POST_WAIT;
      end else begin
        kind_d    = K_MSG;
        rec_d     = 1'b0;
        maddr_o_d = r_maddr;
        mdata_d   = r_mdata;
        remap_d   = 1'b1;
        state_d   = S_DONE;
      end
    end

    if (fault) begin
      kind_d   = K_DROP;
      rec_d    = !(f_qual && (eval ? e_fpd : fpd_q));
      reason_d = f_reason;
      state_d  = S_DONE;
    end
  end

  // fill: a present IRTE without reserved bits, read from memory, not overtaken by an invalidation
  assign fill = (state_q == S_IRTE_WT) && mrsp_valid_i && !mrsp_err_i && raw[0] && !r_rsv &&
                !stale_q && !iec_inv_i;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q   <= S_IDLE;
      rob_q     <= {ROB_W{1'b0}};
      sid_q     <= 16'd0;
      index_q   <= 16'd0;
      base_q    <= {(HAW-12){1'b0}};
      eime_q    <= 1'b0;
      stale_q   <= 1'b0;
      fpd_q     <= 1'b0;
      urg_q     <= 1'b0;
      vec_q     <= 8'd0;
      maddr_q   <= 64'd0;
      kind_q    <= K_DROP;
      rec_q     <= 1'b0;
      reason_q  <= 8'd0;
      rindex_q  <= 16'd0;
      maddr_o_q <= 64'd0;
      mdata_q   <= 32'd0;
      remap_q   <= 1'b0;
      post_q    <= 1'b0;
    end else begin
      state_q   <= state_d;
      rob_q     <= rob_d;
      sid_q     <= sid_d;
      index_q   <= index_d;
      base_q    <= base_d;
      eime_q    <= eime_d;
      stale_q   <= stale_d;
      fpd_q     <= fpd_d;
      urg_q     <= urg_d;
      vec_q     <= vec_d;
      maddr_q   <= maddr_d;
      kind_q    <= kind_d;
      rec_q     <= rec_d;
      reason_q  <= reason_d;
      rindex_q  <= rindex_d;
      maddr_o_q <= maddr_o_d;
      mdata_q   <= mdata_d;
      remap_q   <= remap_d;
      post_q    <= post_d;
    end
  end

  wire done = (state_q == S_DONE);
  wire post = (state_q == S_POST_RQ);

  assign busy_o           = (state_q != S_IDLE);
  assign mreq_valid_o     = (state_q == S_IRTE_RQ) || post;
  assign mreq_op_o        = post ? 2'd2 : 2'd0;
  assign mreq_addr_o      = maddr_q;
  assign mreq_wdata_o     = post ? {119'd0, urg_q, vec_q} : 128'd0;
  assign done_valid_o     = done;
  assign res_rob_o        = rob_q;
  assign res_kind_o       = kind_q;
  assign res_rec_o        = rec_q;
  assign res_reason_o     = reason_q;
  assign res_index_o      = rindex_q;
  assign res_msi_addr_o   = maddr_o_q;
  assign res_msi_data_o   = mdata_q;
  assign cnt_remap_o      = done && done_gnt_i && remap_q;
  assign cnt_post_o       = done && done_gnt_i && post_q;
  assign cnt_iec_lookup_o = (state_q == S_LOOKUP);
  assign cnt_iec_miss_o   = (state_q == S_LOOKUP) && !lk_hit;

  wire unused_ir = ^{irta_i[63:HAW], irta_i[10:4], raw[11:8], r_u, c_u, mrsp_data_i[127:64]};

endmodule

`default_nettype wire
