// iommu_mem_arb: round-robin arbiter of the walkers' table reads onto the memory port, with a
// registered output stage. The request id is the walker index, so responses route back by id;
// each walker has at most one read outstanding, so ids are unique among outstanding reads.
// Spec: ARCHITECTURE.md "memory port" (several outstanding, out-of-order responses by id).
// Latency: 1 cycle from a walker request to mem_req_valid. Throughput: one read per cycle.
`default_nettype none

module iommu_mem_arb #(
  parameter integer N    = 4,   // requesters (walkers)
  parameter integer ID_W = 6    // memory id width (>= log2(N))
) (
  input  wire            clk_i,
  input  wire            rst_ni,
  input  wire [N-1:0]    req_i,
  input  wire [N*64-1:0] addr_i,
  output wire [N-1:0]    gnt_o,
  /* memory port (request side) */
  output wire            mem_req_valid_o,
  input  wire            mem_req_ready_i,
  output wire [ID_W-1:0] mem_req_id_o,
  output wire [63:0]     mem_req_addr_o,
  output wire            fire_o        // a read left on the memory port this cycle
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
        if (gnt[i]) a_d = addr_i[i*64 +: 64];
      end
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q   <= 1'b0;
      id_q  <= {ID_W{1'b0}};
      a_q   <= 64'd0;
      ptr_q <= {IDX_W{1'b0}};
    end else begin
      v_q   <= v_d;
      id_q  <= id_d;
      a_q   <= a_d;
      ptr_q <= ptr_d;
    end
  end

  assign gnt_o           = gnt;
  assign mem_req_valid_o = v_q;
  assign mem_req_id_o    = id_q;
  assign mem_req_addr_o  = a_q;
  assign fire_o          = v_q && mem_req_ready_i;
endmodule

`default_nettype wire
