// iommu_ctx_cache: context cache, fully associative, tagged by source-id.
// Spec: vtd-pcie.md A6 (context entry), A11 (context-cache invalidation: global / domain /
// device with FM), decisions.md "Caching" (only present, valid entries are filled by the walkers).
// Latency: lookup is combinational (registered by the caller's pipeline stage); fill and
// invalidation take effect at the next clock edge (invalidation wins over a fill in the same cycle).
// Throughput: one lookup, one fill and one invalidation per cycle.
`default_nettype none

module iommu_ctx_cache #(
  parameter integer ENTRIES = 8,   // entries (>= 1)
  parameter integer PTR_W   = 36   // SLPTPTR width (HAW - 12)
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  /* lookup */
  input  wire [15:0]      lk_sid_i,
  output reg              lk_hit_o,
  output reg  [15:0]      lk_did_o,
  output reg  [PTR_W-1:0] lk_ptr_o,
  output reg  [2:0]       lk_aw_o,
  output reg  [1:0]       lk_tt_o,
  output reg              lk_fpd_o,
  /* fill */
  input  wire             fill_i,
  input  wire [15:0]      fill_sid_i,
  input  wire [15:0]      fill_did_i,
  input  wire [PTR_W-1:0] fill_ptr_i,
  input  wire [2:0]       fill_aw_i,
  input  wire [1:0]       fill_tt_i,
  input  wire             fill_fpd_i,
  /* invalidation */
  input  wire             inv_i,
  input  wire [1:0]       inv_g_i,    // 01 global, 10 domain, 11 device
  input  wire [15:0]      inv_did_i,
  input  wire [15:0]      inv_sid_i,
  input  wire [1:0]       inv_fm_i
);
  generate
    if (ENTRIES < 1 || ENTRIES > 64) begin : g_bad_entries
      iommu_param_check_failed u_cc_entries_out_of_range ();
    end
  endgenerate

  localparam integer IDX_W = (ENTRIES <= 1) ? 1 : $clog2(ENTRIES);
  localparam integer DAT_W = 16 + PTR_W + 3 + 2 + 1;

  reg [ENTRIES-1:0]       v_q, v_d;
  reg [ENTRIES*16-1:0]    sid_q, sid_d;
  reg [ENTRIES*DAT_W-1:0] dat_q, dat_d;
  reg [IDX_W-1:0]         vict_q, vict_d;

  // ---- lookup
  integer i;
  integer fi;
  reg [DAT_W-1:0] hd;
  always @* begin
    lk_hit_o = 1'b0;
    hd       = {DAT_W{1'b0}};
    for (i = 0; i < ENTRIES; i = i + 1) begin
      if (v_q[i] && sid_q[i*16 +: 16] == lk_sid_i) begin
        lk_hit_o = 1'b1;
        hd       = dat_q[i*DAT_W +: DAT_W];
      end
    end
    {lk_did_o, lk_ptr_o, lk_aw_o, lk_tt_o, lk_fpd_o} = hd;
  end

  // ---- fill / invalidate
  reg [15:0]      fm_mask;
  reg             found;
  reg [IDX_W-1:0] slot;
  always @* begin
    v_d    = v_q;
    sid_d  = sid_q;
    dat_d  = dat_q;
    vict_d = vict_q;
    found  = 1'b0;
    slot   = vict_q;
    fi     = 0;
    case (inv_fm_i)
      2'b00:   fm_mask = 16'hFFFF;
      2'b01:   fm_mask = 16'hFFFB;
      2'b10:   fm_mask = 16'hFFF9;
      default: fm_mask = 16'hFFF8;
    endcase
    if (inv_i) begin
      for (fi = 0; fi < ENTRIES; fi = fi + 1) begin
        case (inv_g_i)
          2'b01:   v_d[fi] = 1'b0;
          2'b10:   if (dat_q[fi*DAT_W + DAT_W - 16 +: 16] == inv_did_i) v_d[fi] = 1'b0;
          2'b11:   if ((sid_q[fi*16 +: 16] & fm_mask) == (inv_sid_i & fm_mask)) v_d[fi] = 1'b0;
          default: ;
        endcase
      end
    end else if (fill_i) begin
      // same SID -> overwrite, else a free entry, else the round-robin victim
      for (fi = ENTRIES - 1; fi >= 0; fi = fi - 1) begin
        if (!v_q[fi]) slot = fi[IDX_W-1:0];
      end
      for (fi = ENTRIES - 1; fi >= 0; fi = fi - 1) begin
        if (v_q[fi] && sid_q[fi*16 +: 16] == fill_sid_i) begin
          slot  = fi[IDX_W-1:0];
          found = 1'b1;
        end
      end
      for (fi = 0; fi < ENTRIES; fi = fi + 1) begin
        if (slot == fi[IDX_W-1:0]) begin
          v_d[fi]                  = 1'b1;
          sid_d[fi*16 +: 16]       = fill_sid_i;
          dat_d[fi*DAT_W +: DAT_W] = {fill_did_i, fill_ptr_i, fill_aw_i, fill_tt_i, fill_fpd_i};
        end
      end
      if (!found && (&v_q)) begin
        vict_d = (vict_q == ENTRIES[IDX_W-1:0] - 1'b1) ? {IDX_W{1'b0}} : vict_q + 1'b1;
      end
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q    <= {ENTRIES{1'b0}};
      sid_q  <= {ENTRIES*16{1'b0}};
      dat_q  <= {ENTRIES*DAT_W{1'b0}};
      vict_q <= {IDX_W{1'b0}};
    end else begin
      v_q    <= v_d;
      sid_q  <= sid_d;
      dat_q  <= dat_d;
      vict_q <= vict_d;
    end
  end
endmodule

`default_nettype wire
