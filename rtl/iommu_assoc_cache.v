// iommu_assoc_cache: fully associative cache with ternary keys, shared by the context cache
// (iommu_ctx_cache), the paging-structure cache (iommu_psc) and the interrupt-entry cache (IEC).
// Spec: vtd-pcie.md A11 (context-cache / IOTLB invalidation) and B9 (IEC invalidation);
// decisions.md "Caching" (only successful look-ups fill; an invalidation drops every entry it
// overlaps).
//
// Entry i: valid, key_q[i], care_q[i] (the entry's own care mask, 1 = bit significant), data_q[i].
// Below, care[i] = care_q[i] on the CARE_MASK bits and 1 elsewhere (fill_care_i is ignored there;
// those care bits are not stored).
// - Lookup: entry i hits when valid and ((key_q[i] ^ lk_key_i) & care[i] & lk_care_i & LK_MASK)
//   == 0. lk_data_o comes from one winning hit (0 when no hit):
//   * PRIO_W > 0: key bits [PRIO_LSB +: PRIO_W] of an entry are its priority classes (normally
//     one-hot; bit PRIO_LSB = highest priority). Of the hitting entries, only those that have the
//     lowest class bit set by any hitting entry take part (if no hitting entry has a class bit,
//     all of them take part);
//   * then the lowest index wins (PRIO_W = 0: simply the lowest-index hit).
//   The PSC keeps a one-hot level in the class field: deepest (lowest) level first.
// - Fill (fill_i && !inv_i): overwrites the valid entry that is the same entry, i.e.
//   ((key_q[i] ^ fill_key_i) & care[i] | (care[i] ^ fill_care_i) & CARE_MASK) & FILL_ID_MASK
//   == 0 (default: same key and care); else takes the lowest-index free entry; else the
//   round-robin victim vict_q, which advances (wrapping at ENTRIES) only when a valid entry is
//   evicted that way.
// - Invalidation (inv_i): drops every valid entry with ((key_q[i] ^ inv_key_i) & care[i] &
//   inv_care_i) == 0 (inv_care_i = 0: all entries). It wins over a fill in the same cycle: that
//   fill is dropped.
// - KEY_DATA_W > 0: the top KEY_DATA_W bits of lk_data_o are the winning entry's key bits
//   [KEY_DATA_LSB +: KEY_DATA_W] (fill_data_i bits there are ignored, not stored): a field that is
//   both compared and returned lives only in the key.
// The mask parameters are constants so that an unflattened synthesis drops the unused storage
// and comparators. Only the valid bits and vict_q are reset; key, care and data of an invalid
// entry are never visible.
// Example, IEC keyed by a 16-bit interrupt index (exact entries, so no care storage):
//   iommu_assoc_cache #(.ENTRIES(N), .KEY_W(16), .DATA_W(W), .CARE_MASK(16'h0)) u_iec (...,
//     .lk_key_i(idx), .lk_care_i(16'hFFFF), .fill_key_i(idx), .fill_care_i(16'hFFFF), ...,
//     .inv_key_i(iidx), .inv_care_i(global ? 16'h0 : ~((16'd1 << im) - 16'd1)));
// Latency: lookup combinational (0 cycles); fill and invalidation take effect at the next edge.
// Throughput: one lookup plus one fill or one invalidation per cycle.
`default_nettype none

module iommu_assoc_cache #(
  parameter integer     ENTRIES      = 8,                  // >= 1
  parameter integer     KEY_W        = 16,
  parameter integer     DATA_W       = 32,
  parameter [KEY_W-1:0] CARE_MASK    = {KEY_W{1'b1}},      // key bits with a per-entry care bit
  parameter [KEY_W-1:0] LK_MASK      = {KEY_W{1'b1}},      // key bits a lookup may compare
  parameter [KEY_W-1:0] FILL_ID_MASK = {KEY_W{1'b1}},      // key bits naming an entry on fill
  parameter integer     PRIO_LSB     = 0,                  // priority-class field of the key
  parameter integer     PRIO_W       = 0,                  // 0 = no classes (lowest index wins)
  parameter integer     KEY_DATA_LSB = 0,                  // key field returned in lk_data_o's
  parameter integer     KEY_DATA_W   = 0                   //   top bits (0 = none)
) (
  input  wire              clk_i,
  input  wire              rst_ni,
  /* lookup (combinational) */
  input  wire [KEY_W-1:0]  lk_key_i,
  input  wire [KEY_W-1:0]  lk_care_i,    // 1 = this key bit is compared
  output wire              lk_hit_o,
  output wire [DATA_W-1:0] lk_data_o,    // data of the hit entry (0 when no hit)
  /* fill (takes effect at the next edge) */
  input  wire              fill_i,
  input  wire [KEY_W-1:0]  fill_key_i,
  input  wire [KEY_W-1:0]  fill_care_i,  // the entry's own care mask (ternary entry)
  input  wire [DATA_W-1:0] fill_data_i,
  /* invalidation (takes effect at the next edge; wins over a fill in the same cycle) */
  input  wire              inv_i,
  input  wire [KEY_W-1:0]  inv_key_i,
  input  wire [KEY_W-1:0]  inv_care_i    // care 0 everywhere = invalidate all
);
  generate
    if (ENTRIES < 1 || KEY_W < 1 || DATA_W < 1 || PRIO_W < 0 || PRIO_LSB < 0 ||
        (PRIO_W > 0 && PRIO_LSB + PRIO_W > KEY_W) || KEY_DATA_W < 0 || KEY_DATA_W > DATA_W ||
        (KEY_DATA_W > 0 && (KEY_DATA_LSB < 0 || KEY_DATA_LSB + KEY_DATA_W > KEY_W)))
    begin : g_bad_params
      iommu_param_check_failed u_assoc_cache_bad_params ();
    end
  endgenerate

  localparam integer IDX_W = (ENTRIES <= 1) ? 1 : $clog2(ENTRIES);
  localparam integer PW    = (PRIO_W > 0) ? PRIO_W : 1;
  localparam integer PL    = (PRIO_W > 0) ? PRIO_LSB : 0;
  localparam [KEY_W-1:0] CARE_FIX = ~CARE_MASK;   // care bits that are always 1

  reg [ENTRIES-1:0] v_q, v_d;
  reg [IDX_W-1:0]   vict_q, vict_d;
  reg [KEY_W-1:0]   key_q  [0:ENTRIES-1];
  reg [KEY_W-1:0]   care_q [0:ENTRIES-1];   // only the CARE_MASK bits are used
  reg [DATA_W-1:0]  data_q [0:ENTRIES-1];

  // ---- lookup
  integer           li;
  reg [ENTRIES-1:0] hit;
  reg [PW-1:0]      cls_any, cls_best;
  /* verilator lint_off UNUSEDSIGNAL */           // parts replaced / not returned (KEY_DATA_W)
  reg [DATA_W-1:0]  lk_data;
  reg [KEY_W-1:0]   lk_key;
  /* verilator lint_on UNUSEDSIGNAL */
  always @* begin
    cls_any = {PW{1'b0}};
    for (li = 0; li < ENTRIES; li = li + 1) begin
      hit[li] = v_q[li] && ((key_q[li] ^ lk_key_i) & (care_q[li] | CARE_FIX) & lk_care_i &
                            LK_MASK) == {KEY_W{1'b0}};
      if (PRIO_W > 0 && hit[li]) cls_any = cls_any | key_q[li][PL +: PW];
    end
    cls_best = cls_any & (~cls_any + 1'b1);   // lowest class present among the hits
    lk_data  = {DATA_W{1'b0}};
    lk_key   = {KEY_W{1'b0}};
    for (li = ENTRIES - 1; li >= 0; li = li - 1) begin   // the lowest index assigns last
      if (hit[li] &&
          (cls_best == {PW{1'b0}} || (key_q[li][PL +: PW] & cls_best) != {PW{1'b0}})) begin
        lk_data = data_q[li];
        if (KEY_DATA_W > 0) lk_key = key_q[li];
      end
    end
  end

  assign lk_hit_o = |hit;
  generate
    if (KEY_DATA_W == 0) begin : g_data
      assign lk_data_o = lk_data;
    end else if (KEY_DATA_W == DATA_W) begin : g_key
      assign lk_data_o = lk_key[KEY_DATA_LSB +: DATA_W];
    end else begin : g_key_data
      assign lk_data_o = {lk_key[KEY_DATA_LSB +: KEY_DATA_W], lk_data[DATA_W-KEY_DATA_W-1:0]};
    end
  endgenerate

  // ---- fill / invalidate
  integer         fi;
  reg             we, found, any_free;
  reg [IDX_W-1:0] slot, same_idx, free_idx;
  always @* begin
    v_d      = v_q;
    vict_d   = vict_q;
    we       = 1'b0;
    found    = 1'b0;
    any_free = 1'b0;
    same_idx = {IDX_W{1'b0}};
    free_idx = {IDX_W{1'b0}};
    slot     = vict_q;
    if (inv_i) begin
      for (fi = 0; fi < ENTRIES; fi = fi + 1) begin
        if (((key_q[fi] ^ inv_key_i) & (care_q[fi] | CARE_FIX) & inv_care_i) == {KEY_W{1'b0}})
          v_d[fi] = 1'b0;
      end
    end else if (fill_i) begin
      for (fi = ENTRIES - 1; fi >= 0; fi = fi - 1) begin
        if (!v_q[fi]) begin
          any_free = 1'b1;
          free_idx = fi[IDX_W-1:0];
        end
        if (v_q[fi] && ((((key_q[fi] ^ fill_key_i) & (care_q[fi] | CARE_FIX)) |
                         ((care_q[fi] ^ fill_care_i) & CARE_MASK)) & FILL_ID_MASK) ==
                       {KEY_W{1'b0}}) begin
          found    = 1'b1;
          same_idx = fi[IDX_W-1:0];
        end
      end
      we        = 1'b1;
      slot      = found ? same_idx : any_free ? free_idx : vict_q;
      v_d[slot] = 1'b1;
      if (!found && !any_free) begin
        vict_d = (vict_q == ENTRIES[IDX_W-1:0] - 1'b1) ? {IDX_W{1'b0}} : vict_q + 1'b1;
      end
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q    <= {ENTRIES{1'b0}};
      vict_q <= {IDX_W{1'b0}};
    end else begin
      v_q    <= v_d;
      vict_q <= vict_d;
    end
  end

  always @(posedge clk_i) begin
    if (we) begin
      key_q[slot]  <= fill_key_i;
      care_q[slot] <= fill_care_i & CARE_MASK;
      data_q[slot] <= fill_data_i;
    end
  end
endmodule

`default_nettype wire
