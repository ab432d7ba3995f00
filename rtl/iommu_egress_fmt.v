// iommu_egress_fmt: builds the downstream request header and the UR/CA completion header
// (combinational).
// Spec: vtd-pcie.md C1-C4 (3DW below 4 GiB, 4DW above; Cpl without data: Fmt 000 Type 01010,
// Length 0, Requester ID / Tag / TC / Attr copied, byte count and lower address), D5 #17.
// Latency: 0 cycles. Throughput: one header per cycle.
`default_nettype none

module iommu_egress_fmt #(
  parameter [15:0] COMPLETER_ID = 16'h0000  // Completer ID of UR/CA completions
) (
  input  wire [127:0] hdr_i,         // request header as received
  input  wire [63:0]  out_addr_i,    // output (translated) byte address
  input  wire         ca_i,          // completion status: 1 CA, 0 UR
  input  wire         locked_i,      // request was MRdLk: the completion is a CplLk
  input  wire [11:0]  byte_count_i,
  input  wire [6:0]   lower_addr_i,
  output wire [127:0] dn_hdr_o,
  output wire [95:0]  cpl_hdr_o
);
  wire [31:0] dw0 = hdr_i[127:96];
  wire [31:0] dw1 = hdr_i[95:64];
  wire [31:0] dw2 = hdr_i[63:32];
  wire [31:0] dw3 = hdr_i[31:0];

  wire       four_in  = dw0[29];
  wire [1:0] ph       = four_in ? dw3[1:0] : dw2[1:0];
  wire       four_out = (out_addr_i[63:32] != 32'd0);

  wire [31:0] o_dw0 = {dw0[31:30], four_out, dw0[28:0]};
  wire [31:0] o_dw2 = four_out ? out_addr_i[63:32] : {out_addr_i[31:2], ph};
  wire [31:0] o_dw3 = four_out ? {out_addr_i[31:2], ph} : 32'd0;
  assign dn_hdr_o = {o_dw0, dw1, o_dw2, o_dw3};

  wire [2:0]  status = ca_i ? 3'b100 : 3'b001;
  wire [31:0] c_dw0  = {3'b000, locked_i ? 5'b01011 : 5'b01010, dw0[23], dw0[22:20], dw0[19], dw0[18], 4'b0000,
                        dw0[13:12], 2'b00, 10'd0};
  wire [31:0] c_dw1  = {COMPLETER_ID, status, 1'b0, byte_count_i};
  wire [31:0] c_dw2  = {dw1[31:16], dw1[15:8], 1'b0, lower_addr_i};
  assign cpl_hdr_o = {c_dw0, c_dw1, c_dw2};

  wire unused_fmt = ^{dw0[17:14], dw0[11:0], dw1[7:0], dw2[31:2], dw3[31:2], out_addr_i[1:0]};
endmodule

`default_nettype wire
