// iommu_psc: paging-structure cache for non-leaf second-level entries, fully associative.
// An entry of level L (1..4) holds the pointer to a level-L page table reached from the context's
// SLPTPTR for every address with the same bits 56:12+9L, tagged by domain id, with the R/W
// permissions AND-ed over the levels above it. A walk starts at the deepest matching entry.
// Spec: vtd-pcie.md A7/A8 (SL walk), A11/A14 (IOTLB invalidation, IH hint: IH=1 keeps non-leaf
// entries); model_shared.md "Caching" (IH=0 removes the domain's non-leaf entries covering the
// range; domain/global IOTLB flushes remove all of the domain/all).
// One iommu_assoc_cache, key {DID[15:0], LVL one-hot[7:0] (bit v = level v), ADDR[56:21]}, data
// {PTR, R, W}; an entry cares about the DID, its level bits and address bits 56:12+9L (bits 20:12
// are never compared, so they are not stored). A lookup cares about the level bits >= lk_top_i
// (an entry matches only if its level is below lk_top_i); the one-hot level is the priority class
// (lowest level = deepest first, then lowest index) and comes back from the key as the top of
// lk_data_o (KEY_DATA_*), encoded into lk_level_o.
// Latency: lookup combinational; fill/invalidation at the next clock edge (invalidation wins).
// Throughput: one lookup, one fill, one invalidation per cycle.
`default_nettype none

module iommu_psc #(
  parameter integer ENTRIES = 8,   // entries (>= 1)
  parameter integer PTR_W   = 36   // table pointer width (HAW - 12)
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  /* lookup */
  input  wire [15:0]      lk_did_i,
  /* verilator lint_off UNUSEDSIGNAL */   // bits 20:12 are never compared
  input  wire [56:12]     lk_addr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  wire [2:0]       lk_top_i,    // level of the context's top table: only levels below it match
  output wire             lk_hit_o,
  output wire [2:0]       lk_level_o,  // level of the table lk_ptr_o points to
  output wire [PTR_W-1:0] lk_ptr_o,
  output wire             lk_r_o,
  output wire             lk_w_o,
  /* fill */
  input  wire             fill_i,
  input  wire [15:0]      fill_did_i,
  /* verilator lint_off UNUSEDSIGNAL */   // bits 20:12 are never compared
  input  wire [56:12]     fill_addr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  wire [2:0]       fill_level_i,
  input  wire [PTR_W-1:0] fill_ptr_i,
  input  wire             fill_r_i,
  input  wire             fill_w_i,
  /* invalidation (IOTLB invalidation commands) */
  input  wire             inv_i,
  input  wire [1:0]       inv_g_i,     // 01 global, 10 domain, 11 page-selective
  input  wire [15:0]      inv_did_i,
  /* verilator lint_off UNUSEDSIGNAL */   // bits 20:12 are never compared
  input  wire [56:12]     inv_addr_i,
  /* verilator lint_on UNUSEDSIGNAL */
  input  wire [5:0]       inv_am_i,
  input  wire             inv_ih_i
);
  generate
    if (ENTRIES < 1 || ENTRIES > 64) begin : g_bad_entries
      iommu_param_check_failed u_psc_entries_out_of_range ();
    end
  endgenerate

  // key layout: [59:44] DID, [43:36] level one-hot, [35:0] address bits 56:21
  localparam integer KEY_W  = 60;
  localparam integer DAT_W  = 8 + PTR_W + 2;   // {level one-hot (from the key), PTR, R, W}
  localparam integer LVL_LO = 36;

  // address care of a level-L entry: bits 56:12+9L (L1: 56:21, L2: 56:30, L3: 56:39, any other
  // level: 56:48); only bits 47:21 depend on the level (CARE_MASK), one care bit per 9-bit group
  wire fc1 = (fill_level_i == 3'd1);                 // bits 29:21
  wire fc2 = fc1 || (fill_level_i == 3'd2);          // bits 38:30
  wire fc3 = fc2 || (fill_level_i == 3'd3);          // bits 47:39
  wire [35:0] fill_addr_care = {{9{1'b1}}, {9{fc3}}, {9{fc2}}, {9{fc1}}};

  // lookup: levels >= lk_top_i must be 0 in the entry's one-hot level
  wire [7:0] lk_lvl_care = 8'hFF << lk_top_i;

  // invalidation: global (all), domain (DID), page-selective with IH=0 (DID and address bits
  // 56:12+AM, which together with the entry's own care gives bits 56:12+max(AM, 9L))
  /* verilator lint_off UNUSEDSIGNAL */
  wire [44:0] inv_am_care = {45{1'b1}} << inv_am_i;   // over address bits 56:12; 20:12 unused
  /* verilator lint_on UNUSEDSIGNAL */
  reg         inv_on;
  reg [KEY_W-1:0] inv_care;
  always @* begin
    case (inv_g_i)
      2'b01:   begin inv_on = 1'b1;      inv_care = {KEY_W{1'b0}}; end
      2'b10:   begin inv_on = 1'b1;      inv_care = {16'hFFFF, 8'h00, 36'd0}; end
      2'b11:   begin inv_on = !inv_ih_i; inv_care = {16'hFFFF, 8'h00, inv_am_care[44:9]}; end
      default: begin inv_on = 1'b0;      inv_care = {KEY_W{1'b0}}; end
    endcase
  end

  /* verilator lint_off UNUSEDSIGNAL */
  wire [7:0] hit_lvl;   // one-hot -> binary (level 0 encodes as 0)
  /* verilator lint_on UNUSEDSIGNAL */
  assign lk_level_o = {|hit_lvl[7:4], |{hit_lvl[7:6], hit_lvl[3:2]},
                       |{hit_lvl[7], hit_lvl[5], hit_lvl[3], hit_lvl[1]}};

  iommu_assoc_cache #(
    .ENTRIES(ENTRIES), .KEY_W(KEY_W), .DATA_W(DAT_W),
    .CARE_MASK({16'h0000, 8'h00, 9'd0, {27{1'b1}}}),
    .PRIO_LSB(LVL_LO), .PRIO_W(8),
    .KEY_DATA_LSB(LVL_LO), .KEY_DATA_W(8)
  ) u_cache (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .lk_key_i({lk_did_i, 8'h00, lk_addr_i[56:21]}),
    .lk_care_i({16'hFFFF, lk_lvl_care, {36{1'b1}}}),
    .lk_hit_o(lk_hit_o), .lk_data_o({hit_lvl, lk_ptr_o, lk_r_o, lk_w_o}),
    // an invalidation command blocks the fill of its cycle even when it drops nothing
    .fill_i(fill_i && !inv_i),
    .fill_key_i({fill_did_i, 8'd1 << fill_level_i, fill_addr_i[56:21]}),
    .fill_care_i({16'hFFFF, 8'hFF, fill_addr_care}),
    .fill_data_i({8'h00, fill_ptr_i, fill_r_i, fill_w_i}),
    .inv_i(inv_i && inv_on), .inv_key_i({inv_did_i, 8'h00, inv_addr_i[56:21]}),
    .inv_care_i(inv_care)
  );
endmodule

`default_nettype wire
