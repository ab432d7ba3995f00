// tb_iommu: self-checking directed test bench for iommu_top (Icarus Verilog -g2012 or Verilator
// --binary). Builds root/context/second-level tables in a small memory model (random latency,
// out-of-order responses, injected errors), programs the registers, and checks translations,
// faults, fault recording, invalidation, the interrupt window, malformed TLPs, back-pressure,
// hit/miss latency and hit throughput. Prints "TB PASS" or "TB FAIL <n>".
`timescale 1ns/1ps
`default_nettype none

module tb_iommu;
  localparam integer ID_W = 6;
  reg clk = 0;
  reg rst_n = 0;
  always #5 clk = ~clk;

  reg          up_valid = 0;
  wire         up_ready;
  reg  [127:0] up_hdr = 0;
  reg  [31:0]  up_data0 = 0;
  reg  [15:0]  up_tag = 0;
  wire         dn_valid;
  reg          dn_ready = 1;
  wire [127:0] dn_hdr;
  wire [15:0]  dn_tag;
  wire         cpl_valid;
  reg          cpl_ready = 1;
  wire [95:0]  cpl_hdr;
  wire [15:0]  cpl_tag;
  wire         irq_valid;
  reg          irq_ready = 1;
  wire [63:0]  irq_addr;
  wire [31:0]  irq_data;
  wire         mem_req_valid;
  reg          mem_req_ready = 1;
  wire [ID_W-1:0] mem_req_id;
  wire [1:0]   mem_req_op;
  wire [63:0]  mem_req_addr;
  wire [127:0] mem_req_wdata;
  wire [15:0]  mem_req_wstrb;
  reg          mem_rsp_valid = 0;
  reg  [ID_W-1:0] mem_rsp_id = 0;
  reg  [127:0] mem_rsp_data = 0;
  reg          mem_rsp_err = 0;
  reg          csr_valid = 0;
  wire         csr_ready;
  reg          csr_write = 0;
  reg  [11:0]  csr_addr = 0;
  reg  [3:0]   csr_size = 0;
  reg  [63:0]  csr_wdata = 0;
  wire         csr_rvalid;
  wire [63:0]  csr_rdata;

  iommu_top #(
`ifdef TINY
    .CC_ENTRIES(2), .TLB_SETS(1), .TLB_WAYS(2), .PSC_ENTRIES(2), .WALKERS(1), .ROB_DEPTH(2),
    .IEC_ENTRIES(2)
`endif
  ) dut (.*);

  // ------------------------------------------------------------ memory model (1 MiB at 0)
  reg [127:0] mem [0:65535];
  reg [63:0]  err_addr = 64'hFFFF_FFFF_FFFF_FFF0;
  integer     lat_min = 8, lat_max = 8;
  integer     cyc = 0;
  // outstanding reads
  reg [63:0]  q_addr [0:63];
  reg [ID_W-1:0] q_id [0:63];
  integer     q_due [0:63];
  reg         q_v [0:63];
  integer     mi, found;
  integer     reads = 0;
  initial for (mi = 0; mi < 64; mi = mi + 1) q_v[mi] = 0;

  function automatic [127:0] mrd128(input [63:0] a);
    mrd128 = (a < 64'h10_0000) ? mem[a[19:4]] : 128'd0;
  endfunction

  always @(posedge clk) begin
    cyc <= cyc + 1;
    mem_rsp_valid <= 0;
    mem_rsp_err   <= 0;
    // answer one due read (any order)
    found = -1;
    for (mi = 0; mi < 64; mi = mi + 1)
      if (found < 0 && q_v[mi] && q_due[mi] <= cyc) found = mi;
    if (found >= 0) begin
      q_v[found]    = 0;
      mem_rsp_valid <= 1;
      mem_rsp_id    <= q_id[found];
      mem_rsp_data  <= mrd128(q_addr[found]);
      mem_rsp_err   <= ((q_addr[found] & ~64'hF) == err_addr);
    end
    if (mem_req_valid && mem_req_ready) begin
      reads = reads + 1;
      for (mi = 0; mi < 64; mi = mi + 1)
        if (!q_v[mi] && mem_req_valid) begin
          q_v[mi] = 1; q_addr[mi] = mem_req_addr; q_id[mi] = mem_req_id;
          q_due[mi] = cyc + lat_min + ((lat_max > lat_min) ? ($urandom % (lat_max - lat_min + 1)) : 0);
          mi = 64;
        end
    end
  end

  task automatic wr64(input [63:0] a, input [63:0] v);
    reg [127:0] w;
    begin
      w = mem[a[19:4]];
      if (a[3]) w[127:64] = v; else w[63:0] = v;
      mem[a[19:4]] = w;
    end
  endtask

  // ------------------------------------------------------------ random back-pressure
  integer bp = 0;   // percent of cycles with ready low
  always @(posedge clk) begin
    dn_ready      <= ($urandom % 100) >= bp;
    cpl_ready     <= ($urandom % 100) >= bp;
    irq_ready     <= ($urandom % 100) >= bp;
    mem_req_ready <= ($urandom % 100) >= bp;
  end

  // ------------------------------------------------------------ output monitors
  reg [127:0] dn_log_hdr [0:4095];
  reg [15:0]  dn_log_tag [0:4095];
  integer     dn_log_cyc [0:4095];
  integer     dn_n = 0;
  reg [95:0]  cpl_log_hdr [0:4095];
  reg [15:0]  cpl_log_tag [0:4095];
  integer     cpl_n = 0;
  reg [63:0]  irq_log_addr [0:4095];
  reg [31:0]  irq_log_data [0:4095];
  integer     irq_n = 0;
  reg [15:0]  ret_log [0:8191];       // tags of dn/cpl in egress order
  integer     ret_n = 0;
  always @(posedge clk) begin
    if (dn_valid && dn_ready) begin
      dn_log_hdr[dn_n] = dn_hdr; dn_log_tag[dn_n] = dn_tag; dn_log_cyc[dn_n] = cyc; dn_n = dn_n + 1;
      ret_log[ret_n] = dn_tag; ret_n = ret_n + 1;
    end
    if (cpl_valid && cpl_ready) begin
      cpl_log_hdr[cpl_n] = cpl_hdr; cpl_log_tag[cpl_n] = cpl_tag; cpl_n = cpl_n + 1;
      ret_log[ret_n] = cpl_tag; ret_n = ret_n + 1;
    end
    if (irq_valid && irq_ready) begin
      irq_log_addr[irq_n] = irq_addr; irq_log_data[irq_n] = irq_data; irq_n = irq_n + 1;
    end
  end

  // ------------------------------------------------------------ CSR tasks
  task automatic csr(input wr, input [11:0] a, input [3:0] sz, input [63:0] v, output [63:0] r);
    begin
      @(negedge clk);
      csr_valid = 1; csr_write = wr; csr_addr = a; csr_size = sz; csr_wdata = v;
      @(posedge clk);
      while (!csr_ready) @(posedge clk);
      @(negedge clk);
      csr_valid = 0;
      while (!csr_rvalid) @(posedge clk);
      r = csr_rdata;
      @(negedge clk);
    end
  endtask
  reg [63:0] rd;
  task automatic w32(input [11:0] a, input [31:0] v); begin csr(1, a, 4, {32'd0, v}, rd); end endtask
  task automatic w64(input [11:0] a, input [63:0] v); begin csr(1, a, 8, v, rd); end endtask
  task automatic r32(input [11:0] a, output [31:0] v); reg [63:0] t; begin csr(0, a, 4, 0, t); v = t[31:0]; end endtask
  task automatic r64(input [11:0] a, output [63:0] v); begin csr(0, a, 8, 0, v); end endtask

  // ------------------------------------------------------------ TLP builders
  function automatic [127:0] mrd(input [15:0] rid, input [7:0] tg, input [63:0] a, input [9:0] len);
    reg [31:0] dw0, dw1;
    begin
      dw1 = {rid, tg, (len == 1) ? 4'h0 : 4'hF, 4'hF};
      if (a[63:32] != 0) begin dw0 = {3'b001, 5'b00000, 14'd0, len}; mrd = {dw0, dw1, a[63:32], a[31:2], 2'b00}; end
      else begin dw0 = {3'b000, 5'b00000, 14'd0, len}; mrd = {dw0, dw1, a[31:2], 2'b00, 32'd0}; end
    end
  endfunction
  function automatic [127:0] mwr(input [15:0] rid, input [7:0] tg, input [63:0] a, input [9:0] len);
    reg [127:0] h;
    begin
      h = mrd(rid, tg, a, len);
      h[126] = 1'b1;   // Fmt[1]: with data
      mwr = h;
    end
  endfunction
  function automatic [63:0] hdr_addr(input [127:0] h);
    hdr_addr = h[125] ? {h[63:32], h[31:2], 2'b00} : {32'd0, h[63:34], 2'b00};
  endfunction

  integer errors = 0;
  integer sent_cyc [0:65535];
  task automatic send(input [127:0] h, input [31:0] d0, input [15:0] t);
    begin
      @(negedge clk);
      up_valid = 1; up_hdr = h; up_data0 = d0; up_tag = t;
      @(posedge clk);
      while (!up_ready) @(posedge clk);
      sent_cyc[t] = cyc;
      @(negedge clk);
      up_valid = 0;
    end
  endtask
  task automatic idle(input integer n); begin repeat (n) @(posedge clk); end endtask
  task automatic check(input cond, input [8*64-1:0] what);
    begin
      if (!cond) begin errors = errors + 1; $display("FAIL: %0s (t=%0t)", what, $time); end
    end
  endtask
  task automatic wait_out(input integer n_dn, input integer n_cpl);
    integer guard;
    begin
      guard = 0;
      while ((dn_n < n_dn || cpl_n < n_cpl) && guard < 20000) begin @(posedge clk); guard = guard + 1; end
      check(guard < 20000, "timeout waiting for outputs");
      idle(2);
    end
  endtask

  // ------------------------------------------------------------ tables
  // root table 0x1000; context table (bus 3) 0x2000; device 03:00.0 (RID 0x0300) -> domain 5,
  // 4-level SLPT at 0x10000 (L4) -> 0x11000 (L3) -> 0x12000 (L2) -> 0x13000 (L1).
  // IOVA 0x4000_0000 + n*4K (n < 16) -> 0x8_0000 + n*4K (R/W; page 1 read-only).
  // IOVA 0x4020_0000: 2 MiB leaf at L2 -> 0x40_0000 (R/W).
  // device 03:00.1 (RID 0x0301): context not present (fault 2h); 03:00.2 FPD=1 and P=0.
  // device 03:01.0 (RID 0x0308): pass-through (TT=10, AW=2).
  localparam [63:0] RT = 64'h1000, CT = 64'h2000, L4 = 64'h10000, L3 = 64'h11000,
                    L2 = 64'h12000, L1 = 64'h13000;
  integer n;
  initial begin
    for (n = 0; n < 65536; n = n + 1) mem[n] = 128'd0;
    wr64(RT + 3*16, CT | 1);
    wr64(CT + 0*16, L4 | 1);                    // P=1, TT=00
    wr64(CT + 0*16 + 8, {40'd0, 16'd5, 8'h02}); // DID 5, AW=2
    wr64(CT + 2*16, 64'h2);                     // 03:00.2: FPD=1, P=0
    wr64(CT + 8*16, 64'h9);                     // 03:01.0: P=1, TT=10
    wr64(CT + 8*16 + 8, {40'd0, 16'd6, 8'h02});
    wr64(L4 + 0*8, L3 | 3);
    wr64(L3 + 1*8, L2 | 3);                     // IOVA bits 38:30 = 1
    wr64(L2 + 0*8, L1 | 3);
    wr64(L2 + 1*8, 64'h40_0000 | 64'h83);       // 2 MiB leaf
    for (n = 0; n < 16; n = n + 1) wr64(L1 + n*8, (64'h8_0000 + n*4096) | ((n == 1) ? 1 : 3));
    wr64(L1 + 16*8, 64'hFEE0_0000 | 3);         // output in the interrupt window -> Eh
    wr64(L1 + 17*8, 64'h9_0000 | 3 | (64'h1 << 11));  // reserved bit 11 -> Ch
  end

  // ------------------------------------------------------------ the test
  reg [31:0] v32;
  reg [63:0] v64;
  integer t0, lat_hit, lat_miss, tput_cyc, k, base_dn, base_cpl, tagn;
  initial begin
    repeat (5) @(posedge clk);
    rst_n = 1;
    repeat (3) @(posedge clk);

    // identity registers
    r32(12'h000, v32); check(v32 == 32'h10, "VER");
    r64(12'h008, v64); check(v64[12:8] == 5'b01110 && v64[21:16] == 56 && v64[33:24] == 10'h20 &&
                             v64[47:40] == 7 && v64[59] == 1 && v64[55:54] == 2'b11, "CAP");
    r64(12'h010, v64); check(v64[17:8] == 10'h10 && v64[1] == 1 && v64[3] == 1 && v64[4] == 1 && v64[6] == 1,
                             "ECAP");
    r32(12'h038, v32); check(v32 == 32'h8000_0000, "FECTL reset IM=1");

    // TE=0: identity
    send(mrd(16'h0300, 8'h01, 64'h1234_5000, 1), 0, 16'd1);
    wait_out(1, 0);
    check(hdr_addr(dn_log_hdr[0]) == 64'h1234_5000 && dn_log_tag[0] == 1, "TE=0 identity");
    check(mem_req_valid == 0 && reads == 0, "TE=0 makes no table reads");

    // program: RTADDR, SRTP, TE, fault event
    w64(12'h020, RT);
    w32(12'h018, 32'h4000_0000);
    r32(12'h01C, v32); check(v32 == 32'h4000_0000, "GSTS.RTPS");
    w32(12'h018, 32'h8000_0000);
    r32(12'h01C, v32); check(v32 == 32'hC000_0000, "GSTS.TES");
    w32(12'h03C, 32'h0000_00AB);
    w32(12'h040, 32'hFEE0_1000);
    w32(12'h044, 32'h0);
    w32(12'h038, 32'h0);   // unmask

    // translated read: miss then hit
    base_dn = dn_n;
    send(mrd(16'h0300, 8'h02, 64'h4000_0123 & ~64'h3, 1), 0, 16'd2);
    wait_out(base_dn + 1, 0);
    check(hdr_addr(dn_log_hdr[base_dn]) == 64'h8_0120, "translate 4K");
    lat_miss = dn_log_cyc[base_dn] - sent_cyc[2];
    send(mrd(16'h0300, 8'h03, 64'h4000_0200, 1), 0, 16'd3);
    wait_out(base_dn + 2, 0);
    check(hdr_addr(dn_log_hdr[base_dn+1]) == 64'h8_0200, "hit 4K");
    lat_hit = dn_log_cyc[base_dn+1] - sent_cyc[3];
    $display("latency: miss (4-level walk + context, mem latency %0d) = %0d cycles, hit = %0d cycles",
             lat_min, lat_miss, lat_hit);

    // 2 MiB page, 64-bit output
    send(mwr(16'h0300, 8'h04, 64'h4021_2340, 1), 32'h55, 16'd4);
    wait_out(base_dn + 3, 0);
    check(hdr_addr(dn_log_hdr[base_dn+2]) == 64'h41_2340 && dn_log_hdr[base_dn+2][125] == 0, "translate 2M");

    // write to read-only page -> dropped, fault 5h, fault event MSI
    base_cpl = cpl_n;
    send(mwr(16'h0300, 8'h05, 64'h4000_1000, 1), 32'h0, 16'd5);
    idle(100);
    check(dn_n == base_dn + 3, "RO write dropped");
    check(irq_n == 1 && irq_log_addr[0] == 64'hFEE0_1000 && irq_log_data[0] == 32'hAB, "fault event MSI");
    r32(12'h034, v32); check(v32[1] == 1 && v32[15:8] == 0, "FSTS.PPF, FRI=0");
    r64(12'h208, v64); check(v64[63] == 1 && v64[39:32] == 8'h05 && v64[15:0] == 16'h0300 && v64[62] == 0, "FRCD0 hi 5h");
    r64(12'h200, v64); check(v64 == 64'h4000_1000, "FRCD0 FI");
    // same SID + same reason: compressed
    send(mwr(16'h0300, 8'h06, 64'h4000_1000, 1), 32'h0, 16'd6);
    idle(50);
    r64(12'h218, v64); check(v64[63] == 0, "compression: FRCD1 empty");
    // read of the read-only page is fine (IOTLB now holds R only after a read fills it)
    send(mrd(16'h0300, 8'h07, 64'h4000_1000, 1), 0, 16'd7);
    wait_out(base_dn + 4, 0);
    check(hdr_addr(dn_log_hdr[base_dn+3]) == 64'h8_1000, "read of RO page");
    // now the write hits the IOTLB entry with W=0: fault 5h again (compressed, no new record)
    send(mwr(16'h0300, 8'h08, 64'h4000_1000, 1), 32'h0, 16'd8);
    idle(30);
    check(dn_n == base_dn + 4, "RO write (IOTLB hit) dropped");

    // context not present (2h) on a read -> UR, recorded in FRCD1, no new MSI (PPF was set)
    send(mrd(16'h0301, 8'h09, 64'h4000_0000, 1), 0, 16'd9);
    wait_out(0, base_cpl + 1);
    check(cpl_log_hdr[base_cpl][47:45] == 3'b001 && cpl_log_hdr[base_cpl][31:16] == 16'h0301 &&
          cpl_log_hdr[base_cpl][15:8] == 8'h09 && cpl_log_hdr[base_cpl][95:88] == 8'h0A &&
          cpl_log_hdr[base_cpl][43:32] == 12'd4, "UR completion for 2h");
    r64(12'h218, v64); check(v64[63] == 1 && v64[39:32] == 8'h02 && v64[62] == 1, "FRCD1 2h read");
    check(irq_n == 1, "no second fault event while PPF");
    // FPD=1 with P=0: suppressed
    send(mrd(16'h0302, 8'h0A, 64'h4000_0000, 1), 0, 16'd10);
    wait_out(0, base_cpl + 2);
    r64(12'h228, v64); check(v64[63] == 0, "FPD suppresses 2h");

    // clear faults: FRCD F (RW1C) for 0 and 1, then PPF clears
    w32(12'h20C, 32'h8000_0000);
    w64(12'h218, 64'h8000_0000_0000_0000);
    r32(12'h034, v32); check(v32[1] == 0, "PPF cleared");

    // Eh (output in interrupt window) and Ch (reserved bit)
    send(mrd(16'h0300, 8'h0B, 64'h4001_0000, 1), 0, 16'd11);
    send(mrd(16'h0300, 8'h0C, 64'h4001_1000, 1), 0, 16'd12);
    wait_out(0, base_cpl + 4);
    r64(12'h228, v64); check(v64[63] == 1 && v64[39:32] == 8'h0E, "FRCD2 Eh");
    r64(12'h238, v64); check(v64[63] == 1 && v64[39:32] == 8'h0C, "FRCD3 Ch");
    check(irq_n == 2, "new fault event after PPF cleared");

    // table read error on the L1 table -> 7h, CA
    err_addr = L1 + 16*8 + 64'h10;   // entry 18 (IOVA page 18)
    send(mrd(16'h0300, 8'h0D, 64'h4001_2000, 1), 0, 16'd13);
    wait_out(0, base_cpl + 5);
    check(cpl_log_hdr[base_cpl+4][47:45] == 3'b100, "CA completion for 7h");
    r64(12'h248, v64); check(v64[63] == 1 && v64[39:32] == 8'h07, "FRCD4 7h");
    err_addr = 64'hFFFF_FFFF_FFFF_FFF0;

    // address beyond AGAW (48-bit) -> 4h
    send(mrd(16'h0300, 8'h0E, 64'h1_0000_0000_0000, 1), 0, 16'd14);
    wait_out(0, base_cpl + 6);
    r64(12'h258, v64); check(v64[63] == 1 && v64[39:32] == 8'h04, "FRCD5 4h");

    // pass-through device
    send(mrd(16'h0308, 8'h0F, 64'h7_6543_2100, 1), 0, 16'd15);
    wait_out(base_dn + 5, 0);
    check(hdr_addr(dn_log_hdr[base_dn+4]) == 64'h7_6543_2100 && dn_log_hdr[base_dn+4][125] == 1, "pass-through 4DW");

    // interrupt window MWr -> irq unchanged; MRd -> UR
    send(mwr(16'h0300, 8'h10, 64'hFEE0_0004, 1), 32'h1234_0041, 16'd16);
    idle(20);
    check(irq_n == 3 && irq_log_addr[2] == 64'hFEE0_0004 && irq_log_data[2] == 32'h1234_0041, "window MWr");
    send(mrd(16'h0300, 8'h11, 64'hFEE0_0000, 1), 0, 16'd17);
    wait_out(0, base_cpl + 7);
    check(cpl_log_hdr[base_cpl+6][47:45] == 3'b001, "window MRd UR");

    // malformed: AT=11
    v64 = 0;
    send(mrd(16'h0300, 8'h12, 64'h4000_0000, 1) | (128'h3 << 106), 0, 16'd18);
    wait_out(0, base_cpl + 8);
    r64(12'h348, v64); check(v64 == 1, "malformed counter");

    // malformed interrupt request (window MWr with 2 DW): dropped, fault 20h with FI = 0
    w32(12'h20C + 12'h20, 32'h8000_0000);   // free FRCD2..5 (not needed, records wrap)
    send(mwr(16'h0300, 8'h30, 64'hFEE0_0008, 2), 32'h0, 16'd30);
    idle(30);
    check(irq_n == 3, "bad window MWr not delivered");
    r64(12'h268, v64); check(v64[63] == 1 && v64[39:32] == 8'h20 && v64[15:0] == 16'h0300 && v64[62] == 0, "FRCD6 20h");
    r64(12'h260, v64); check(v64 == 0, "20h FI = 0");
    // MRdLk fault -> CplLk UR; atomic FetchAdd (32-bit) to a read-only page -> 5h UR with byte count 4
    send({3'b000, 5'b00001, 24'd1, 16'h0301, 8'h31, 8'h0F, 32'h4000_0000, 32'd0}, 0, 16'd31);
    send({3'b010, 5'b01100, 24'd1, 16'h0300, 8'h32, 8'h00, 32'h4000_1000, 32'd0}, 0, 16'd32);
    wait_out(0, base_cpl + 10);
    check(cpl_log_hdr[base_cpl+8][95:88] == 8'h0B, "CplLk for MRdLk");
    check(cpl_log_hdr[base_cpl+9][47:45] == 3'b001 && cpl_log_hdr[base_cpl+9][43:32] == 12'd4, "atomic UR, byte count 4");
    // misaligned 64-bit FetchAdd (Length 2 at addr[2]=1) is malformed
    send({3'b010, 5'b01100, 24'd2, 16'h0300, 8'h33, 8'h00, 32'h4000_0004, 32'd0}, 0, 16'd33);
    wait_out(0, base_cpl + 11);
    r64(12'h348, v64); check(v64 == 2, "misaligned atomic is malformed");
    // FEDATA keeps 15:0; CCMD keeps CAIG across a write without ICC
    w32(12'h03C, 32'h1234_00AB);
    r32(12'h03C, v32); check(v32 == 32'h0000_00AB, "FEDATA 31:16 reserved");
    w64(12'h028, (64'h1 << 63) | (64'h1 << 61));
    w32(12'h02C, 32'h4000_0000);
    r64(12'h028, v64); check(v64[60:59] == 2'b01 && v64[62:61] == 2'b10, "CCMD CAIG kept");

    // IOTLB: change the PTE of page 2 without invalidation -> stale hit allowed; after PSI -> new
    send(mrd(16'h0300, 8'h13, 64'h4000_2000, 1), 0, 16'd19);
    wait_out(base_dn + 6, 0);
    wr64(L1 + 2*8, 64'hA_0000 | 3);
    send(mrd(16'h0300, 8'h14, 64'h4000_2000, 1), 0, 16'd20);
    wait_out(base_dn + 7, 0);
    check(hdr_addr(dn_log_hdr[base_dn+6]) == 64'h8_2000, "stale IOTLB hit before invalidation");
    w64(12'h100, 64'h4000_2000);                      // IVA: ADDR, AM=0, IH=0
    w64(12'h108, (64'h3 << 60) | (64'h1 << 63) | (64'd5 << 32));  // page-selective, DID 5
    r64(12'h108, v64); check(v64[63] == 0 && v64[58:57] == 2'b11, "IOTLB IVT clear, IAIG");
    send(mrd(16'h0300, 8'h15, 64'h4000_2000, 1), 0, 16'd21);
    wait_out(base_dn + 8, 0);
    check(hdr_addr(dn_log_hdr[base_dn+7]) == 64'hA_0000, "fresh after PSI");

    // context-cache invalidation (device) + domain IOTLB flush: point 03:00.0 to pass-through
    wr64(CT + 0*16, 64'h9);
    w64(12'h028, (64'h1 << 63) | (64'h3 << 61) | (64'h0300 << 16));
    r64(12'h028, v64); check(v64[63] == 0 && v64[60:59] == 2'b11, "CCMD ICC clear, CAIG");
    w64(12'h108, (64'h2 << 60) | (64'h1 << 63) | (64'd5 << 32));
    send(mrd(16'h0300, 8'h16, 64'h4000_2000, 1), 0, 16'd22);
    wait_out(base_dn + 9, 0);
    check(hdr_addr(dn_log_hdr[base_dn+8]) == 64'h4000_2000, "pass-through after CC invalidation");
    wr64(CT + 0*16, L4 | 1);
    w64(12'h028, (64'h1 << 63) | (64'h1 << 61));      // global
    w64(12'h108, (64'h1 << 60) | (64'h1 << 63));      // global

    // throughput: 64 back-to-back hits over 4 pages (warm them first)
    for (k = 0; k < 4; k = k + 1) send(mrd(16'h0300, 8'h20, 64'h4000_4000 + k*4096, 1), 0, 16'd100 + k);
    wait_out(base_dn + 13, 0);
    base_dn = dn_n;
    fork
      begin
        for (k = 0; k < 64; k = k + 1) begin
          @(negedge clk);
          up_valid = 1; up_hdr = mrd(16'h0300, k[7:0], 64'h4000_4000 + (k % 4) * 4096 + k * 16, 1);
          up_tag = 16'd200 + k;
          @(posedge clk);
          while (!up_ready) @(posedge clk);
          if (k == 0) t0 = cyc;
        end
        @(negedge clk); up_valid = 0;
      end
    join
    wait_out(base_dn + 64, 0);
    tput_cyc = dn_log_cyc[base_dn + 63] - dn_log_cyc[base_dn];
    $display("throughput: 64 IOTLB hits retired in %0d cycles (%0.2f per cycle)", tput_cyc + 1,
             64.0 / (tput_cyc + 1));
`ifndef TINY
    check(tput_cyc <= 70, "hit throughput ~1/cycle");
`endif
    for (k = 0; k < 64; k = k + 1)
      check(dn_log_tag[base_dn + k] == 200 + k &&
            hdr_addr(dn_log_hdr[base_dn + k]) == 64'h8_4000 + (k % 4) * 4096 + k * 16, "stream order/addr");

    // random stress: back-pressure, random latency, mixed hits/misses/faults; order check
    bp = 30; lat_min = 3; lat_max = 40;
    w64(12'h108, (64'h1 << 60) | (64'h1 << 63));
    base_dn = dn_n; base_cpl = cpl_n;
    for (k = 0; k < 400; k = k + 1) begin
      tagn = 1000 + k;
      case ($urandom % 4)
        0: send(mrd(16'h0300, k[7:0], 64'h4000_0000 + ($urandom % 20) * 4096, 1), 0, tagn[15:0]);
        1: send(mwr(16'h0300, k[7:0], 64'h4000_0000 + ($urandom % 20) * 4096, 1), 0, tagn[15:0]);
        2: send(mrd(16'h0300, k[7:0], 64'h4020_0000 + ($urandom % 512) * 4096, 1), 0, tagn[15:0]);
        default: send(mrd(16'h0308, k[7:0], 64'h1000 * ($urandom % 100), 1), 0, tagn[15:0]);
      endcase
      if (($urandom % 50) == 0) w64(12'h108, (64'h1 << 60) | (64'h1 << 63));
    end
    idle(3000);
    // per-channel egress order must be the arrival order
    for (k = base_dn + 1; k < dn_n; k = k + 1) check(dn_log_tag[k] > dn_log_tag[k-1], "in-order dn");
    for (k = base_cpl + 1; k < cpl_n; k = k + 1) check(cpl_log_tag[k] > cpl_log_tag[k-1], "in-order cpl");
    check(dn_n - base_dn + cpl_n - base_cpl > 200, "stress made progress");
    $display("stress: %0d forwarded, %0d completions", dn_n - base_dn, cpl_n - base_cpl);

    r64(12'h300, v64); $display("counters: lookups=%0d", v64);
    r64(12'h308, v64); $display("          misses=%0d", v64);
    r64(12'h318, v64); $display("          walk reads=%0d", v64);
    r64(12'h340, v64); $display("          faults recorded=%0d", v64);
    if (errors == 0) $display("TB PASS"); else $display("TB FAIL %0d", errors);
    $finish;
  end

  initial begin
    #2000000;
    $display("TB FAIL timeout");
    $finish;
  end
endmodule

`default_nettype wire
