// iommu_mem_arb: round-robin arbiter of the unit's own memory requests onto the memory port, with
// a registered output stage. Requesters: the walkers (0..WALKERS-1), the interrupt-remapping unit
// and the queued-invalidation engine. The request id is the requester index, so responses route
// back by id; each requester has at most one request outstanding, so ids are unique among
// outstanding reads. Ops: 0 read 16 bytes, 1 strobed write (no response), 2 posted-interrupt
// descriptor update (rtl/README.md "Memory port").
// Spec: ARCHITECTURE.md "memory port" (several outstanding, out-of-order responses by id).
// Latency: 1 cycle from a walker request to mem_req_valid. Throughput: one request per cycle.
`default_nettype none

module iommu_mem_arb #(
  parameter integer N    = 4,   // requesters
  parameter integer ID_W = 6    // memory id width (>= log2(N))
) (
  input  wire            clk_i,
  input  wire            rst_ni,
  input  wire [N-1:0]    req_i,
  input  wire [N*64-1:0] addr_i,
  input  wire [N*2-1:0]  op_i,
  input  wire [N*128-1:0] wdata_i,
  input  wire [N*16-1:0] wstrb_i,
  output wire [N-1:0]    gnt_o,
  /* memory port (request side) */
  output wire            mem_req_valid_o,
  input  wire            mem_req_ready_i,
  output wire [ID_W-1:0] mem_req_id_o,
  output wire [63:0]     mem_req_addr_o,
  output wire [1:0]      mem_req_op_o,
  output wire [127:0]    mem_req_wdata_o,
  output wire [15:0]     mem_req_wstrb_o,
  output wire            fire_o        // a request left on the memory port this cycle
);
  localparam integer IDX_W = (N <= 1) ? 1 : $clog2(N);

  generate
    if (N < 1 || N > 32 || (1 << ID_W) < N) begin : g_bad_n
      iommu_param_check_failed u_mem_arb_ids_too_narrow ();
    end
  endgenerate

  reg             v_q, v_d;
  reg [ID_W-1:0]  id_q, id_d;
  reg [63:0]      a_q, a_d;
  reg [1:0]       op_q, op_d;
  reg [127:0]     wd_q, wd_d;
  reg [15:0]      ws_q, ws_d;
  reg [IDX_W-1:0] ptr_q, ptr_d;

  // gnt is built in a local variable and driven once (no zero-time glitches toward the walkers)
  integer   i, j;
  reg       free;
  reg       got;
  reg [N-1:0] gnt;
  always @* begin
    v_d   = v_q;
    id_d  = id_q;
    a_d   = a_q;
    op_d  = op_q;
    wd_d  = wd_q;
    ws_d  = ws_q;
    ptr_d = ptr_q;
    gnt   = {N{1'b0}};
    got   = 1'b0;
    j     = 0;
    i     = 0;
    free  = !v_q || mem_req_ready_i;
    if (v_q && mem_req_ready_i) v_d = 1'b0;
    if (free) begin
      for (i = 0; i < N; i = i + 1) begin
        j = i + {{(32-IDX_W){1'b0}}, ptr_q};
        if (j >= N) j = j - N;
        if (!got && req_i[j]) begin
          got      = 1'b1;
          gnt[j]   = 1'b1;
          v_d      = 1'b1;
          id_d     = j[ID_W-1:0];
          ptr_d    = (j == N - 1) ? {IDX_W{1'b0}} : j[IDX_W-1:0] + 1'b1;
        end
      end
      for (i = 0; i < N; i = i + 1) begin
        if (gnt[i]) begin
          a_d  = addr_i[i*64 +: 64];
          op_d = op_i[i*2 +: 2];
          wd_d = wdata_i[i*128 +: 128];
          ws_d = wstrb_i[i*16 +: 16];
        end
      end
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q   <= 1'b0;
      id_q  <= {ID_W{1'b0}};
      a_q   <= 64'd0;
      op_q  <= 2'd0;
      wd_q  <= 128'd0;
      ws_q  <= 16'd0;
      ptr_q <= {IDX_W{1'b0}};
    end else begin
      v_q   <= v_d;
      id_q  <= id_d;
      a_q   <= a_d;
      op_q  <= op_d;
      wd_q  <= wd_d;
      ws_q  <= ws_d;
      ptr_q <= ptr_d;
    end
  end

  assign gnt_o           = gnt;
  assign mem_req_valid_o = v_q;
  assign mem_req_id_o    = id_q;
  assign mem_req_addr_o  = a_q;
  assign mem_req_op_o    = op_q;
  assign mem_req_wdata_o = wd_q;
  assign mem_req_wstrb_o = ws_q;
  assign fire_o          = v_q && mem_req_ready_i;
endmodule

`default_nettype wire
