// iommu_psc: paging-structure cache for non-leaf second-level entries, fully associative.
// An entry of level L (1..4) holds the pointer to a level-L page table reached from the context's
// SLPTPTR for every address with the same bits 56:12+9L, tagged by domain id, with the R/W
// permissions AND-ed over the levels above it. A walk starts at the deepest matching entry.
// Spec: vtd-pcie.md A7/A8 (SL walk), A11/A14 (IOTLB invalidation, IH hint: IH=1 keeps non-leaf
// entries); model_shared.md "Caching" (IH=0 removes the domain's non-leaf entries covering the
// range; domain/global IOTLB flushes remove all of the domain/all).
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
  input  wire [56:12]     lk_addr_i,
  input  wire [2:0]       lk_top_i,    // level of the context's top table: only levels below it match
  output reg              lk_hit_o,
  output reg  [2:0]       lk_level_o,  // level of the table lk_ptr_o points to
  output reg  [PTR_W-1:0] lk_ptr_o,
  output reg              lk_r_o,
  output reg              lk_w_o,
  /* fill */
  input  wire             fill_i,
  input  wire [15:0]      fill_did_i,
  input  wire [56:12]     fill_addr_i,
  input  wire [2:0]       fill_level_i,
  input  wire [PTR_W-1:0] fill_ptr_i,
  input  wire             fill_r_i,
  input  wire             fill_w_i,
  /* invalidation (IOTLB invalidation commands) */
  input  wire             inv_i,
  input  wire [1:0]       inv_g_i,     // 01 global, 10 domain, 11 page-selective
  input  wire [15:0]      inv_did_i,
  input  wire [56:12]     inv_addr_i,
  input  wire [5:0]       inv_am_i,
  input  wire             inv_ih_i
);
  generate
    if (ENTRIES < 1 || ENTRIES > 64) begin : g_bad_entries
      iommu_param_check_failed u_psc_entries_out_of_range ();
    end
  endgenerate

  localparam integer IDX_W = (ENTRIES <= 1) ? 1 : $clog2(ENTRIES);
  localparam integer VPN_W = 45;
  localparam integer DAT_W = PTR_W + 2;

  reg [ENTRIES-1:0]       v_q, v_d;
  reg [ENTRIES*16-1:0]    did_q, did_d;
  reg [ENTRIES*3-1:0]     lvl_q, lvl_d;
  reg [ENTRIES*VPN_W-1:0] vpn_q, vpn_d;
  reg [ENTRIES*DAT_W-1:0] dat_q, dat_d;
  reg [IDX_W-1:0]         vict_q, vict_d;

  function automatic [5:0] order_of(input [2:0] lvl);
    begin
      case (lvl)
        3'd1:    order_of = 6'd9;
        3'd2:    order_of = 6'd18;
        3'd3:    order_of = 6'd27;
        default: order_of = 6'd36;
      endcase
    end
  endfunction

  integer i;
  integer fi;
  reg [VPN_W-1:0] m;
  always @* begin
    lk_hit_o   = 1'b0;
    lk_level_o = 3'd0;
    lk_ptr_o   = {PTR_W{1'b0}};
    lk_r_o     = 1'b0;
    lk_w_o     = 1'b0;
    m          = {VPN_W{1'b1}};
    for (i = 0; i < ENTRIES; i = i + 1) begin
      case (lvl_q[i*3 +: 3])
        3'd1:    m = {{(VPN_W-9){1'b1}}, 9'd0};
        3'd2:    m = {{(VPN_W-18){1'b1}}, 18'd0};
        3'd3:    m = {{(VPN_W-27){1'b1}}, 27'd0};
        default: m = {{(VPN_W-36){1'b1}}, 36'd0};
      endcase
      if (v_q[i] && did_q[i*16 +: 16] == lk_did_i && lvl_q[i*3 +: 3] < lk_top_i &&
          ((vpn_q[i*VPN_W +: VPN_W] ^ lk_addr_i) & m) == {VPN_W{1'b0}} &&
          (!lk_hit_o || lvl_q[i*3 +: 3] < lk_level_o)) begin
        lk_hit_o   = 1'b1;
        lk_level_o = lvl_q[i*3 +: 3];
        {lk_ptr_o, lk_r_o, lk_w_o} = dat_q[i*DAT_W +: DAT_W];
      end
    end
  end

  reg [VPN_W-1:0] im;
  wire [VPN_W-1:0] im1 = {VPN_W{1'b1}} << ((inv_am_i > 6'd9)  ? inv_am_i : 6'd9);
  wire [VPN_W-1:0] im2 = {VPN_W{1'b1}} << ((inv_am_i > 6'd18) ? inv_am_i : 6'd18);
  wire [VPN_W-1:0] im3 = {VPN_W{1'b1}} << ((inv_am_i > 6'd27) ? inv_am_i : 6'd27);
  wire [VPN_W-1:0] im4 = {VPN_W{1'b1}} << ((inv_am_i > 6'd36) ? inv_am_i : 6'd36);
  reg [IDX_W-1:0] slot;
  reg             found;
  reg [VPN_W-1:0] fm;
  always @* begin
    v_d    = v_q;
    did_d  = did_q;
    lvl_d  = lvl_q;
    vpn_d  = vpn_q;
    dat_d  = dat_q;
    vict_d = vict_q;
    im     = {VPN_W{1'b1}};
    slot   = vict_q;
    found  = 1'b0;
    fm     = {VPN_W{1'b1}} << order_of(fill_level_i);
    fi     = 0;
    if (inv_i) begin
      for (fi = 0; fi < ENTRIES; fi = fi + 1) begin
        case (lvl_q[fi*3 +: 3])
          3'd1:    im = im1;
          3'd2:    im = im2;
          3'd3:    im = im3;
          default: im = im4;
        endcase
        case (inv_g_i)
          2'b01:   v_d[fi] = 1'b0;
          2'b10:   if (did_q[fi*16 +: 16] == inv_did_i) v_d[fi] = 1'b0;
          2'b11:   if (!inv_ih_i && did_q[fi*16 +: 16] == inv_did_i &&
                       ((vpn_q[fi*VPN_W +: VPN_W] ^ inv_addr_i) & im) == {VPN_W{1'b0}}) v_d[fi] = 1'b0;
          default: ;
        endcase
      end
    end else if (fill_i) begin
      for (fi = ENTRIES - 1; fi >= 0; fi = fi - 1) begin
        if (!v_q[fi]) slot = fi[IDX_W-1:0];
      end
      for (fi = ENTRIES - 1; fi >= 0; fi = fi - 1) begin
        if (v_q[fi] && did_q[fi*16 +: 16] == fill_did_i && lvl_q[fi*3 +: 3] == fill_level_i &&
            ((vpn_q[fi*VPN_W +: VPN_W] ^ fill_addr_i) & fm) == {VPN_W{1'b0}}) begin
          slot  = fi[IDX_W-1:0];
          found = 1'b1;
        end
      end
      for (fi = 0; fi < ENTRIES; fi = fi + 1) begin
        if (slot == fi[IDX_W-1:0]) begin
          v_d[fi]                  = 1'b1;
          did_d[fi*16 +: 16]       = fill_did_i;
          lvl_d[fi*3 +: 3]         = fill_level_i;
          vpn_d[fi*VPN_W +: VPN_W] = fill_addr_i & fm;
          dat_d[fi*DAT_W +: DAT_W] = {fill_ptr_i, fill_r_i, fill_w_i};
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
      did_q  <= {ENTRIES*16{1'b0}};
      lvl_q  <= {ENTRIES*3{1'b0}};
      vpn_q  <= {ENTRIES*VPN_W{1'b0}};
      dat_q  <= {ENTRIES*DAT_W{1'b0}};
      vict_q <= {IDX_W{1'b0}};
    end else begin
      v_q    <= v_d;
      did_q  <= did_d;
      lvl_q  <= lvl_d;
      vpn_q  <= vpn_d;
      dat_q  <= dat_d;
      vict_q <= vict_d;
    end
  end
endmodule

`default_nettype wire
