// iommu_tlp_decode: classifies one upstream request header (combinational).
// Spec: vtd-pcie.md C1-C4 (TLP header fields, Fmt/Type, byte enables, completion byte count and
// lower address, D5 #17), A8 step 1 (interrupt window); decisions.md "Malformed TLP".
// Malformed (the golden model's tlp::RequestHeader::decode errors): Fmt 1xx (prefix/reserved), a
// Type that is not MRd/MRdLk/MWr/FetchAdd/Swap/CAS with a matching Fmt, AT=11, a request crossing a
// 4 KiB boundary, byte enables (Length=1 with LastBE!=0; Length>1 with FirstBE==0 or LastBE==0;
// not checked on reads with TH=1, whose BE fields carry the Steering Tag, nor on atomics),
// atomics with a bad Length (FetchAdd/Swap 1-2 DW, CAS 2/4/8 DW) or a misaligned operand.
// Posted = Fmt[2]=0 and (MWr, or any Msg/MsgD) (also for malformed headers).
// Latency: 0 cycles (pure combinational). Throughput: one header per cycle.
`default_nettype none

module iommu_tlp_decode (
  input  wire [127:0] hdr_i,
  output wire         malformed_o,   // decode error (UR for non-posted, drop for posted)
  output wire         posted_o,      // MWr (or a posted-looking malformed TLP)
  output wire         locked_o,      // MRdLk (its completion is a CplLk)
  output wire         win_bad_o,     // interrupt-window MWr that is not 1 DW with FirstBE 0xF
  output wire         need_r_o,      // MRd / MRdLk / atomic: needs read permission
  output wire         need_w_o,      // MWr / atomic: needs write permission
  output wire         window_o,      // AT=00 and address in 0xFEE0_0000..0xFEEF_FFFF (upper 32 bits 0)
  output wire [63:0]  addr_o,        // request byte address
  output wire [15:0]  rid_o,         // requester id
  output wire [1:0]   at_o,          // address type
  output wire [11:0]  byte_count_o,  // completion byte count (4096 encoded as 0)
  output wire [6:0]   lower_addr_o   // completion lower address
);
  wire [31:0] dw0 = hdr_i[127:96];
  wire [31:0] dw1 = hdr_i[95:64];
  wire [31:0] dw2 = hdr_i[63:32];
  wire [31:0] dw3 = hdr_i[31:0];

  wire [2:0] fmt   = dw0[31:29];
  wire [4:0] typ   = dw0[28:24];
  wire [1:0] at    = dw0[11:10];
  wire [9:0] len   = dw0[9:0];
  wire [3:0] fbe   = dw1[3:0];
  wire [3:0] lbe   = dw1[7:4];
  wire       four  = fmt[0];

  wire [63:0] addr = four ? {dw2, dw3[31:2], 2'b00} : {32'd0, dw2[31:2], 2'b00};

  wire is_mrd    = (fmt[2:1] == 2'b00) && (typ == 5'b00000);
  wire is_mrdlk  = (fmt[2:1] == 2'b00) && (typ == 5'b00001);
  wire is_mwr    = (fmt[2:1] == 2'b01) && (typ == 5'b00000);
  wire is_atomic = (fmt[2:1] == 2'b01) && (typ == 5'b01100 || typ == 5'b01101 || typ == 5'b01110);
  wire known     = is_mrd || is_mrdlk || is_mwr || is_atomic;

  wire        th     = dw0[16];
  wire        is_cas = (typ == 5'b01110);
  wire        st_be  = th && (is_mrd || is_mrdlk || is_atomic);   // BE fields hold the Steering Tag

  wire [10:0] len_dw   = (len == 10'd0) ? 11'd1024 : {1'b0, len};
  wire [11:0] end_dw   = {2'b00, addr[11:2]} + {1'b0, len_dw};
  wire        cross_4k = (is_mrd || is_mrdlk || is_mwr) && (end_dw > 12'd1024);
  wire        bad_be   = (is_mrd || is_mrdlk || is_mwr) && !st_be &&
                         ((len_dw == 11'd1) ? (lbe != 4'd0) : (fbe == 4'd0 || lbe == 4'd0));
  // atomics: operand = Length*4 bytes (FetchAdd/Swap) or Length*2 bytes (CAS), naturally aligned
  wire        bad_alen = is_atomic && (is_cas ? !(len == 10'd2 || len == 10'd4 || len == 10'd8)
                                              : !(len == 10'd1 || len == 10'd2));
  wire [4:0]  op_bytes = is_cas ? {len[3:0], 1'b0} : {len[2:0], 2'b00};
  wire        bad_algn = is_atomic && !bad_alen &&
                         (((op_bytes == 5'd8) && addr[2]) || ((op_bytes == 5'd16) && addr[3:2] != 2'b00));

  assign malformed_o = !known || (at == 2'b11) || cross_4k || bad_be || bad_alen || bad_algn;
  assign locked_o    = is_mrdlk;
  assign win_bad_o   = !(len == 10'd1 && fbe == 4'hF && lbe == 4'h0);
  assign posted_o    = !fmt[2] && ((fmt[1] && typ == 5'b00000) || typ[4:3] == 2'b10);
  assign need_r_o    = is_mrd || is_mrdlk || is_atomic;
  assign need_w_o    = is_mwr || is_atomic;
  assign window_o    = (at == 2'b00) && (addr[63:20] == 44'h0000_0000_FEE);
  assign addr_o      = addr;
  assign rid_o       = dw1[31:16];
  assign at_o        = at;

  // ---- byte count / lower address (C4, D5 #17)
  reg [1:0]  f_lo;    // offset of the first enabled byte in the first DW
  reg [1:0]  f_hi;    // offset of the last enabled byte in the first DW
  reg [1:0]  l_hi;    // offset of the last enabled byte in the last DW
  always @* begin
    casez (fbe)
      4'b???1: f_lo = 2'd0;
      4'b??10: f_lo = 2'd1;
      4'b?100: f_lo = 2'd2;
      4'b1000: f_lo = 2'd3;
      default: f_lo = 2'd0;
    endcase
    casez (fbe)
      4'b1???: f_hi = 2'd3;
      4'b01??: f_hi = 2'd2;
      4'b001?: f_hi = 2'd1;
      default: f_hi = 2'd0;
    endcase
    casez (lbe)
      4'b1???: l_hi = 2'd3;
      4'b01??: l_hi = 2'd2;
      4'b001?: l_hi = 2'd1;
      default: l_hi = 2'd0;
    endcase
  end
  wire [12:0] bc_one  = (fbe == 4'd0) ? 13'd1 : ({11'd0, f_hi} - {11'd0, f_lo} + 13'd1);
  wire [12:0] bc_many = {len_dw, 2'b00} - {11'd0, f_lo} - (13'd3 - {11'd0, l_hi});
  wire [12:0] bc      = is_atomic ? {8'd0, op_bytes} :
                        st_be     ? {len_dw, 2'b00} :
                        (len_dw == 11'd1) ? bc_one : bc_many;
  assign byte_count_o = bc[11:0];
  assign lower_addr_o = {addr[6:2], (st_be || is_atomic) ? 2'b00 : f_lo};

  wire unused_dec = ^{dw0[23:17], dw0[15:12], addr[1:0], dw1[15:8], dw3[1:0], bc[12]};
endmodule

`default_nettype wire
