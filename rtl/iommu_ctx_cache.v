// iommu_ctx_cache: context cache, fully associative, tagged by source-id.
// Spec: vtd-pcie.md A6 (context entry), A11 (context-cache invalidation: global / domain /
// device with FM), decisions.md "Caching" (only present, valid entries are filled by the walkers).
// One iommu_assoc_cache: key {DID, SID} (exact entries), data {SLPTPTR, AW, TT, FPD}. A lookup
// compares the SID only; a fill overwrites the entry with the same SID (FILL_ID_MASK), so a SID is
// never cached twice; domain invalidation compares the DID, device invalidation the SID under the
// FM mask; the DID comes back from the key as the top of lk_data_o (KEY_DATA_*), not stored twice.
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
  output wire             lk_hit_o,
  output wire [15:0]      lk_did_o,
  output wire [PTR_W-1:0] lk_ptr_o,
  output wire [2:0]       lk_aw_o,
  output wire [1:0]       lk_tt_o,
  output wire             lk_fpd_o,
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

  localparam integer DAT_W = 16 + PTR_W + 3 + 2 + 1;   // {DID (from the key), PTR, AW, TT, FPD}

  // key = {DID, SID}
  reg [15:0] fm_mask;
  reg [31:0] inv_care;
  always @* begin
    case (inv_fm_i)
      2'b00:   fm_mask = 16'hFFFF;
      2'b01:   fm_mask = 16'hFFFB;
      2'b10:   fm_mask = 16'hFFF9;
      default: fm_mask = 16'hFFF8;
    endcase
    case (inv_g_i)
      2'b10:   inv_care = {16'hFFFF, 16'h0000};
      2'b11:   inv_care = {16'h0000, fm_mask};
      default: inv_care = 32'h0000_0000;   // 01 global (00: no invalidation)
    endcase
  end

  iommu_assoc_cache #(
    .ENTRIES(ENTRIES), .KEY_W(32), .DATA_W(DAT_W),
    .CARE_MASK(32'h0000_0000), .LK_MASK(32'h0000_FFFF), .FILL_ID_MASK(32'h0000_FFFF),
    .KEY_DATA_LSB(16), .KEY_DATA_W(16)
  ) u_cache (
    .clk_i(clk_i), .rst_ni(rst_ni),
    .lk_key_i({16'h0000, lk_sid_i}), .lk_care_i(32'h0000_FFFF),
    .lk_hit_o(lk_hit_o), .lk_data_o({lk_did_o, lk_ptr_o, lk_aw_o, lk_tt_o, lk_fpd_o}),
    // an invalidation command blocks the fill of its cycle even when it matches nothing (G=00)
    .fill_i(fill_i && !inv_i), .fill_key_i({fill_did_i, fill_sid_i}),
    .fill_care_i(32'hFFFF_FFFF),
    .fill_data_i({16'h0000, fill_ptr_i, fill_aw_i, fill_tt_i, fill_fpd_i}),
    .inv_i(inv_i && inv_g_i != 2'b00), .inv_key_i({inv_did_i, inv_sid_i}), .inv_care_i(inv_care)
  );
endmodule

`default_nettype wire
