// iommu_iotlb: set-associative IOTLB for second-level leaf translations, tagged by domain id,
// page number and page size (4 KiB / 2 MiB / 1 GiB). Each entry keeps the R/W permissions
// AND-ed over the walk.
// Spec: vtd-pcie.md A8 (leaf translation), A11 (IOTLB invalidation: global / domain /
// page-selective with AM, superpage overlap), D2 (IOTLB), D5 #3 (AM up to MAMV covers superpages);
// decisions.md "Caching" (only successful translations are filled).
// The set index of a page of size s is taken from the address bits just above the page offset, so
// a lookup probes three sets (one per size) in parallel.
// Latency: lookup is combinational (the caller registers the result); fill and invalidation act at
// the next clock edge (an invalidation suppresses a fill in the same cycle).
// Throughput: one lookup, one fill and one invalidation per cycle.
`default_nettype none

module iommu_iotlb #(
  parameter integer SETS  = 16,  // sets (power of two)
  parameter integer WAYS  = 4,   // ways per set
  parameter integer PFN_W = 36   // output page-frame width (HAW - 12)
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  /* lookup */
  input  wire [15:0]      lk_did_i,
  input  wire [56:12]     lk_addr_i,
  output reg              lk_hit_o,
  output reg  [1:0]       lk_size_o,   // 0 4 KiB, 1 2 MiB, 2 1 GiB
  output reg  [PFN_W-1:0] lk_pfn_o,    // 4 KiB frame of the page base
  output reg              lk_r_o,
  output reg              lk_w_o,
  /* fill */
  input  wire             fill_i,
  input  wire [15:0]      fill_did_i,
  input  wire [56:12]     fill_addr_i,
  input  wire [1:0]       fill_size_i,
  input  wire [PFN_W-1:0] fill_pfn_i,
  input  wire             fill_r_i,
  input  wire             fill_w_i,
  /* invalidation */
  input  wire             inv_i,
  input  wire [1:0]       inv_g_i,     // 01 global, 10 domain, 11 page-selective
  input  wire [15:0]      inv_did_i,
  input  wire [56:12]     inv_addr_i,
  input  wire [5:0]       inv_am_i
);
  generate
    if (SETS < 1 || (SETS & (SETS - 1)) != 0 || SETS > 512) begin : g_bad_sets
      iommu_param_check_failed u_tlb_sets_not_power_of_two ();
    end
    if (WAYS < 1 || WAYS > 16) begin : g_bad_ways
      iommu_param_check_failed u_tlb_ways_out_of_range ();
    end
  endgenerate

  localparam integer N     = SETS * WAYS;
  localparam integer SET_W = (SETS <= 1) ? 1 : $clog2(SETS);
  localparam integer WAY_W = (WAYS <= 1) ? 1 : $clog2(WAYS);
  localparam integer VPN_W = 45;                           // address bits 56:12
  localparam integer DAT_W = PFN_W + 2;                    // pfn, r, w

  reg [N-1:0]         v_q, v_d;
  reg [N*16-1:0]      did_q, did_d;
  reg [N*VPN_W-1:0]   vpn_q, vpn_d;
  reg [N*2-1:0]       sz_q, sz_d;
  reg [N*DAT_W-1:0]   dat_q, dat_d;
  reg [WAY_W-1:0]     vict_q, vict_d;

  function automatic [VPN_W-1:0] size_mask(input [1:0] sz);
    begin
      case (sz)
        2'd0:    size_mask = {VPN_W{1'b1}};
        2'd1:    size_mask = {{(VPN_W-9){1'b1}}, 9'd0};
        default: size_mask = {{(VPN_W-18){1'b1}}, 18'd0};
      endcase
    end
  endfunction

  // only the index bits of the page number are used
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [SET_W-1:0] set_of(input [VPN_W-1:0] vpn, input [1:0] sz);
    begin
      case (sz)
        2'd0:    set_of = vpn[0 +: SET_W];
        2'd1:    set_of = vpn[9 +: SET_W];
        default: set_of = vpn[18 +: SET_W];
      endcase
      if (SETS <= 1) set_of = {SET_W{1'b0}};
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // entry index -> set / way (only the low bits of the integer quotient/remainder are used)
  /* verilator lint_off UNUSEDSIGNAL */
  function automatic [WAY_W-1:0] WAY_OF_ENTRY(input integer en);
    integer r;
    begin
      r = en % WAYS;
      WAY_OF_ENTRY = r[WAY_W-1:0];
    end
  endfunction
  /* verilator lint_on UNUSEDSIGNAL */

  // ---- shared per-cycle values
  wire [SET_W-1:0] ls0 = set_of(lk_addr_i, 2'd0);
  wire [SET_W-1:0] ls1 = set_of(lk_addr_i, 2'd1);
  wire [SET_W-1:0] ls2 = set_of(lk_addr_i, 2'd2);
  wire [VPN_W-1:0] im0 = {VPN_W{1'b1}} << inv_am_i;
  wire [VPN_W-1:0] im1 = {VPN_W{1'b1}} << ((inv_am_i > 6'd9) ? inv_am_i : 6'd9);
  wire [VPN_W-1:0] im2 = {VPN_W{1'b1}} << ((inv_am_i > 6'd18) ? inv_am_i : 6'd18);
  wire [SET_W-1:0] fs  = set_of(fill_addr_i, fill_size_i);
  wire [VPN_W-1:0] fm  = size_mask(fill_size_i);
  wire [VPN_W-1:0] fv  = fill_addr_i & fm;

  wire [N-1:0]       hit0, hit1, hit2;   // lookup hit per entry and page size
  wire [N-1:0]       in_fs;              // entry is in the fill set
  wire [N-1:0]       same;               // entry holds the fill tag
  wire [N-1:0]       kill;               // entry is removed by the invalidation
  wire [N*DAT_W-1:0] hd0_v, hd1_v, hd2_v;

  genvar ge;
  generate
    for (ge = 0; ge < N; ge = ge + 1) begin : g_ent
      localparam integer SET_E = ge / WAYS;
      wire [1:0]       sz  = sz_q[ge*2 +: 2];
      wire [VPN_W-1:0] vpn = vpn_q[ge*VPN_W +: VPN_W];
      wire [15:0]      did = did_q[ge*16 +: 16];
      wire             lk_did_ok = v_q[ge] && did == lk_did_i;
      wire             set_ok0 = (SETS <= 1) || ls0 == SET_E[SET_W-1:0];
      wire             set_ok1 = (SETS <= 1) || ls1 == SET_E[SET_W-1:0];
      wire             set_ok2 = (SETS <= 1) || ls2 == SET_E[SET_W-1:0];
      assign hit0[ge] = lk_did_ok && sz == 2'd0 && set_ok0 && vpn == lk_addr_i;
      assign hit1[ge] = lk_did_ok && sz == 2'd1 && set_ok1 && vpn[VPN_W-1:9] == lk_addr_i[56:21];
      assign hit2[ge] = lk_did_ok && sz == 2'd2 && set_ok2 && vpn[VPN_W-1:18] == lk_addr_i[56:30];
      assign hd0_v[ge*DAT_W +: DAT_W] = hit0[ge] ? dat_q[ge*DAT_W +: DAT_W] : {DAT_W{1'b0}};
      assign hd1_v[ge*DAT_W +: DAT_W] = hit1[ge] ? dat_q[ge*DAT_W +: DAT_W] : {DAT_W{1'b0}};
      assign hd2_v[ge*DAT_W +: DAT_W] = hit2[ge] ? dat_q[ge*DAT_W +: DAT_W] : {DAT_W{1'b0}};
      assign in_fs[ge] = (SETS <= 1) || fs == SET_E[SET_W-1:0];
      assign same[ge]  = in_fs[ge] && v_q[ge] && sz == fill_size_i && did == fill_did_i &&
                         vpn == fv;
      // page-selective: the entry overlaps the 2^AM-page range when both agree above
      // max(AM, entry page order)
      wire [VPN_W-1:0] im = (sz == 2'd0) ? im0 : (sz == 2'd1) ? im1 : im2;
      assign kill[ge] = inv_i && (inv_g_i == 2'b01 ||
                                  (inv_g_i == 2'b10 && did == inv_did_i) ||
                                  (inv_g_i == 2'b11 && did == inv_did_i &&
                                   ((vpn ^ inv_addr_i) & im) == {VPN_W{1'b0}}));
    end
  endgenerate

  // ---- lookup: at most one entry per size matches (fills never duplicate a tag); 1 GiB wins
  // over 2 MiB over 4 KiB when several sizes match (all of them are allowed observations)
  reg [DAT_W-1:0] hd0, hd1, hd2;
  integer e;
  always @* begin
    hd0 = {DAT_W{1'b0}};
    hd1 = {DAT_W{1'b0}};
    hd2 = {DAT_W{1'b0}};
    for (e = 0; e < N; e = e + 1) begin
      hd0 = hd0 | hd0_v[e*DAT_W +: DAT_W];
      hd1 = hd1 | hd1_v[e*DAT_W +: DAT_W];
      hd2 = hd2 | hd2_v[e*DAT_W +: DAT_W];
    end
    lk_hit_o  = |{hit0, hit1, hit2};
    lk_size_o = (|hit2) ? 2'd2 : (|hit1) ? 2'd1 : 2'd0;
    {lk_pfn_o, lk_r_o, lk_w_o} = (|hit2) ? hd2 : (|hit1) ? hd1 : hd0;
  end

  // ---- fill way: the way holding the same tag, else the first free way, else the victim
  reg [WAY_W-1:0] slot;
  reg             found;
  reg             full;
  reg [N-1:0]     wr;
  integer         fe;
  integer         e2;
  always @* begin
    slot  = vict_q;
    found = 1'b0;
    full  = 1'b1;
    for (fe = N - 1; fe >= 0; fe = fe - 1) begin
      if (in_fs[fe] && !v_q[fe]) begin
        slot = WAY_OF_ENTRY(fe);
        full = 1'b0;
      end
    end
    for (fe = N - 1; fe >= 0; fe = fe - 1) begin
      if (same[fe]) begin
        slot  = WAY_OF_ENTRY(fe);
        found = 1'b1;
      end
    end
    for (fe = 0; fe < N; fe = fe + 1) begin
      wr[fe] = fill_i && !inv_i && in_fs[fe] && slot == WAY_OF_ENTRY(fe);
    end
  end

  always @* begin
    v_d    = v_q & ~kill;
    did_d  = did_q;
    vpn_d  = vpn_q;
    sz_d   = sz_q;
    dat_d  = dat_q;
    vict_d = vict_q;
    for (e2 = 0; e2 < N; e2 = e2 + 1) begin
      if (wr[e2]) begin
        v_d[e2]                  = 1'b1;
        did_d[e2*16 +: 16]       = fill_did_i;
        vpn_d[e2*VPN_W +: VPN_W] = fv;
        sz_d[e2*2 +: 2]          = fill_size_i;
        dat_d[e2*DAT_W +: DAT_W] = {fill_pfn_i, fill_r_i, fill_w_i};
      end
    end
    if (fill_i && !inv_i && !found && full) begin
      vict_d = (vict_q == WAYS[WAY_W-1:0] - 1'b1) ? {WAY_W{1'b0}} : vict_q + 1'b1;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q    <= {N{1'b0}};
      did_q  <= {N*16{1'b0}};
      vpn_q  <= {N*VPN_W{1'b0}};
      sz_q   <= {N*2{1'b0}};
      dat_q  <= {N*DAT_W{1'b0}};
      vict_q <= {WAY_W{1'b0}};
    end else begin
      v_q    <= v_d;
      did_q  <= did_d;
      vpn_q  <= vpn_d;
      sz_q   <= sz_d;
      dat_q  <= dat_d;
      vict_q <= vict_d;
    end
  end
endmodule

`default_nettype wire
