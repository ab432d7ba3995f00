// tb_vectors: replays one test-vector suite (testvectors/README.md) against iommu_top, or any
// IOMMU wrapped to the same port contract (rtl/README.md), in any Verilog simulator: Icarus
// Verilog (-g2012) or Verilator (--binary). Reads the suite's fixed-width hex files from the
// working directory (manifest.hex, memory.hex, stimulus.hex, expected.hex, events.hex,
// final.hex; word 0 of each is its record count), serves the memory port from the image (with
// the suite's error ranges and the atomic posted-interrupt update of op 2), applies the steps in
// order with the README's order-based rules, judges every egress beat against the allowed
// outcomes of its tag, and prints "vectors: N passed, M failed" and "TB PASS" or "TB FAIL".
// Define TINY for the tiny configuration.
`timescale 1ns/1ps
`default_nettype none

module tb_vectors;
  localparam integer ID_W = 6;
  localparam integer MAXM = 16384;  // memory lines (image + lines written later)
  localparam integer MAXS = 32768;  // stimulus records
  localparam integer MAXE = 8192;   // expected rows
  localparam integer MAXV = 1024;   // events
  localparam integer MAXF = 1024;   // final rows
  localparam integer MAXP = 4096;   // requests between two settles
  localparam integer QUIET = 300;   // quiet cycles that end a settle
  localparam integer POLLS = 2000;  // reads of a register before its value counts as missed

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
  wire         mem_req_ready;
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

  // ------------------------------------------------------------ the suite
  reg [191:0] man [0:2];
  reg [191:0] img [0:MAXM];
  reg [455:0] st  [0:MAXS];
  reg [199:0] ex  [0:MAXE];
  reg [95:0]  ev  [0:MAXV];
  reg [207:0] fin [0:MAXF];
  integer n_img, n_st, n_ex, n_ev, n_fin;

  integer checks = 0, fails = 0;
  integer cyc = 0;
  integer last_act = 0;
  always @(posedge clk) cyc <= cyc + 1;

  // ------------------------------------------------------------ sparse host memory
  reg [63:0]  mem_a [0:MAXM-1];
  reg [127:0] mem_d [0:MAXM-1];
  integer     mem_n = 0;
  reg [63:0]  err_a [0:15];
  reg [63:0]  err_l [0:15];
  integer     err_n = 0;

  function automatic integer mfind(input [63:0] a);
    integer i;
    begin
      mfind = -1;
      for (i = 0; i < mem_n; i = i + 1)
        if (mem_a[i] == a) mfind = i;
    end
  endfunction

  function automatic [127:0] mread(input [63:0] a);
    integer k;
    begin
      k = mfind(a);
      mread = (k < 0) ? 128'd0 : mem_d[k];
    end
  endfunction

  task automatic mwrite(input [63:0] a, input [15:0] strb, input [127:0] d);
    integer k, b;
    reg [127:0] w;
    begin
      k = mfind(a);
      if (k < 0) begin
        if (mem_n >= MAXM) begin
          $display("TB ERROR: more than %0d memory lines", MAXM);
          $finish;
        end
        k = mem_n;
        mem_n = mem_n + 1;
        mem_a[k] = a;
        mem_d[k] = 128'd0;
      end
      w = mem_d[k];
      for (b = 0; b < 16; b = b + 1)
        if (strb[b]) w[8*b +: 8] = d[8*b +: 8];
      mem_d[k] = w;
    end
  endtask

  // Does [a, a+len) touch an injected error range?
  function automatic merr(input [63:0] a, input [63:0] len);
    integer i;
    begin
      merr = 0;
      for (i = 0; i < err_n; i = i + 1)
        if (a < err_a[i] + err_l[i] && err_a[i] < a + len) merr = 1;
    end
  endfunction

  // ------------------------------------------------------------ memory port server
  localparam integer QN = 64;
  reg         q_v [0:QN-1];
  reg [ID_W-1:0] q_id [0:QN-1];
  reg [127:0] q_data [0:QN-1];
  reg         q_err [0:QN-1];
  integer     q_due [0:QN-1];
  integer     q_seq [0:QN-1];
  integer     q_count = 0, q_next = 0, mem_lat = 20;
  integer     qi, qpick, qbest;
  initial for (qi = 0; qi < QN; qi = qi + 1) q_v[qi] = 0;

  // Timing of format 1.1 (manifest record 2): latency spread, reads outstanding, the share of
  // cycles mem_req_ready is high, out-of-order returns, back-pressure on dn/cpl/irq. A xorshift
  // generator draws them; outcomes are order-based, so any pattern must pass.
  integer     mem_lat_max = 20, mem_out = QN, mem_rdy = 100, mem_ooo = 0, bp = 0;
  reg [31:0]  rs = 32'h2545_f491;
  reg         mem_rdy_now = 1;
  function automatic [31:0] xs(input [31:0] x);
    reg [31:0] y;
    begin
      y = x ^ (x << 13);
      y = y ^ (y >> 17);
      xs = y ^ (y << 5);
    end
  endfunction
  always @(negedge clk) begin
    rs = xs(rs); dn_ready  = (rs % 100) >= bp;
    rs = xs(rs); cpl_ready = (rs % 100) >= bp;
    rs = xs(rs); irq_ready = (rs % 100) >= bp;
    rs = xs(rs); mem_rdy_now = (rs % 100) < mem_rdy;
  end
  assign mem_req_ready = (q_count < mem_out) && mem_rdy_now;
  reg [31:0]  rm = 32'h1b87_3593;

  // The posted-interrupt descriptor update (rtl/README.md "Memory port op 2"): atomic here.
  task automatic post_update(input [63:0] pda, input [31:0] w, output [127:0] old, output err);
    reg [127:0] l0, l1, l2;
    reg [63:0] ctl;
    reg [7:0] v;
    begin
      old = 128'd0;
      err = merr(pda, 64);
      if (!err) begin
        l0 = mread(pda);
        l1 = mread(pda + 16);
        l2 = mread(pda + 32);
        old = l2;
        ctl = l2[63:0];
        if ((ctl & 64'hFF00_FFFC) == 0) begin
          v = w[7:0];
          if (v < 128) l0[v] = 1'b1; else l1[v - 128] = 1'b1;
          if (!ctl[0] && (w[8] || !ctl[1])) l2[0] = 1'b1;
          mwrite(pda, 16'hFFFF, l0);
          mwrite(pda + 16, 16'hFFFF, l1);
          mwrite(pda + 32, 16'hFFFF, l2);
        end
      end
    end
  endtask

  reg [127:0] m_old;
  reg         m_err;
  reg [63:0]  m_base;
  reg [127:0] m_w;
  integer     mb;
  always @(posedge clk) begin
    mem_rsp_valid <= 0;
    mem_rsp_err   <= 0;
    // The oldest due response (in order of issue), or with mem_ooo a random due one.
    qpick = -1;
    qbest = 0;
    rm = xs(rm);
    for (qi = 0; qi < QN; qi = qi + 1)
      if (q_v[qi] && q_due[qi] <= cyc &&
          (qpick < 0 || (mem_ooo != 0 ? (rm[qi % 32] && qi != qpick) : q_seq[qi] < qbest))) begin
        qpick = qi;
        qbest = q_seq[qi];
      end
    if (qpick >= 0) begin
      q_v[qpick] = 0;
      q_count = q_count - 1;
      mem_rsp_valid <= 1;
      mem_rsp_id    <= q_id[qpick];
      mem_rsp_data  <= q_data[qpick];
      mem_rsp_err   <= q_err[qpick];
    end
    if (mem_req_valid && mem_req_ready) begin
      m_base = mem_req_addr & ~64'hF;
      m_err = 0;
      m_old = 128'd0;
      case (mem_req_op)
        2'd0: begin
          m_err = merr(m_base, 16);
          m_old = m_err ? 128'd0 : mread(m_base);
        end
        2'd1: begin
          for (mb = 0; mb < 16; mb = mb + 1)
            if (mem_req_wstrb[mb]) begin
              if (merr(m_base + mb, 1)) m_err = 1;
              else mwrite(m_base, 16'd1 << mb, mem_req_wdata);
            end
        end
        2'd2: post_update(mem_req_addr & ~64'h3F, mem_req_wdata[31:0], m_old, m_err);
        default: begin
          $display("TB FAIL: memory request with undefined op %0d at %h", mem_req_op, mem_req_addr);
          fails = fails + 1;
        end
      endcase
      for (qi = 0; qi < QN; qi = qi + 1)
        if (!q_v[qi]) begin
          q_v[qi] = 1;
          q_id[qi] = mem_req_id;
          q_data[qi] = m_old;
          q_err[qi] = m_err;
          rm = xs(rm);
          q_due[qi] = cyc + mem_lat + ((mem_lat_max > mem_lat) ? (rm % (mem_lat_max - mem_lat + 1)) : 0);
          q_seq[qi] = q_next;
          q_next = q_next + 1;
          q_count = q_count + 1;
          qi = QN;
        end
    end
  end

  // ------------------------------------------------------------ requests in flight
  reg [15:0]  p_tag  [0:MAXP-1];
  reg [127:0] p_hdr  [0:MAXP-1];
  reg         p_done [0:MAXP-1];
  reg [16:0]  p_by   [0:MAXP-1];  // {passed, tag of the later request that may not pass it}
  integer     p_n = 0;
  integer     next_ev = 0;

  function automatic integer popen(input [15:0] t);
    integer i;
    begin
      popen = -1;
      for (i = p_n - 1; i >= 0; i = i - 1)
        if (p_tag[i] == t && !p_done[i]) popen = i;
    end
  endfunction

  // expected row fields: kind(8) tag(16) status(8) vector(8) addr(64) data(32) pid(64)
  function automatic [7:0]  ex_kind(input integer r); ex_kind = ex[r][199:192]; endfunction
  function automatic [15:0] ex_tag(input integer r); ex_tag = ex[r][191:176]; endfunction
  function automatic [7:0]  ex_status(input integer r); ex_status = ex[r][175:168]; endfunction
  function automatic [63:0] ex_addr(input integer r); ex_addr = ex[r][159:96]; endfunction
  function automatic [31:0] ex_data(input integer r); ex_data = ex[r][95:64]; endfunction

  function automatic [63:0] hdr_addr(input [127:0] h);
    hdr_addr = h[125] ? {h[63:32], h[31:2], 2'b00} : {32'd0, h[63:34], 2'b00};
  endfunction

  // The request translated to `a`: only the address and Fmt[0] (4DW iff a >= 4 GiB) change.
  function automatic [127:0] translated(input [127:0] h, input [63:0] a);
    reg [31:0] dw0;
    reg [1:0] ph;
    begin
      ph = h[125] ? h[1:0] : h[33:32];
      dw0 = h[127:96];
      dw0[29] = (a[63:32] != 0);
      translated = (a[63:32] != 0) ? {dw0, h[95:64], a[63:32], a[31:2], ph}
                                   : {dw0, h[95:64], a[31:2], ph, 32'd0};
    end
  endfunction

  // PCIe ordering (decisions.md "Ordering"): a posted write or a read never passes an earlier
  // posted write unless it has RO=1, or IDO=1 and another requester ID; interrupt requests are
  // posted writes ordered with the DMA writes of the same device.
  function automatic h_posted(input [127:0] h);
    h_posted = !h[127] && h[126] && h[124:120] == 5'd0;
  endfunction
  function automatic h_irq(input [127:0] h);
    h_irq = h_posted(h) && h[107:106] == 2'd0 && hdr_addr(h) >= 64'hFEE0_0000 &&
            hdr_addr(h) < 64'hFF00_0000;
  endfunction
  function automatic may_pass(input [127:0] l, input [127:0] e);
    begin
      if (!h_posted(e) || l[109] || (l[114] && l[95:80] != e[95:80])) may_pass = 1;
      else if (h_irq(l) != h_irq(e)) may_pass = !(h_posted(l) && l[95:80] == e[95:80]);
      else may_pass = 0;
    end
  endfunction
  // Request k left the unit: it must not have passed an earlier one it may not pass, and the
  // earlier ones it may not pass that are still inside may now only be dropped.
  task automatic order(input integer k);
    integer i;
    begin
      if (p_by[k][16]) begin
        checks = checks + 1;
        fails = fails + 1;
        $display("FAIL tag %h: PCIe ordering: left after tag %h, a later request that may not pass it",
                 p_tag[k], p_by[k][15:0]);
      end
      for (i = 0; i < k; i = i + 1)
        if (!p_done[i] && !p_by[i][16] && !may_pass(p_hdr[k], p_hdr[i])) p_by[i] = {1'b1, p_tag[k]};
    end
  endtask

  // A downstream beat: its request, its header (the request's with only the address changed) and
  // an allowed forward address, and the ordering rule.
  task automatic on_dn(input [15:0] t, input [127:0] h);
    integer k, r;
    reg ok;
    reg [63:0] out_a;
    begin
      k = popen(t);
      checks = checks + 1;
      if (k < 0) begin
        fails = fails + 1;
        $display("FAIL downstream tag %h: no request in flight has it (hdr %h)", t, h);
      end else begin
        p_done[k] = 1;
        order(k);
        out_a = hdr_addr(h);
        ok = (h == translated(p_hdr[k], out_a));
        if (!ok)
          $display("FAIL tag %h: downstream header %h, expected %h", t, h,
                   translated(p_hdr[k], out_a));
        else begin
          ok = 0;
          for (r = 1; r <= n_ex; r = r + 1)
            if (ex_tag(r) == t && ex_kind(r) == 1 && (ex_addr(r) & ~64'h3) == out_a) ok = 1;
          if (!ok) $display("FAIL tag %h: forwarded to %h, which no allowed outcome names", t, out_a);
        end
        if (!ok) fails = fails + 1;
      end
    end
  endtask

  // +swap_dn_pairs: the bench sees downstream beats 1-2, 3-4, ... in swapped order, as from a
  // DUT that reorders them (to show that the ordering check catches one).
  reg         swap_dn = 0;
  reg         dn_held = 0;
  reg [15:0]  held_tag;
  reg [127:0] held_hdr;

  integer r, k;
  reg ok;
  reg [63:0] out_a;
  always @(posedge clk) begin
    if ((up_valid && up_ready) || (dn_valid && dn_ready) || (cpl_valid && cpl_ready) ||
        (irq_valid && irq_ready) || (mem_req_valid && mem_req_ready) || mem_rsp_valid ||
        q_count > 0 || csr_valid || csr_rvalid)
      last_act = cyc;
    if (dn_valid && dn_ready) begin
      if (swap_dn && !dn_held) begin
        held_tag = dn_tag;
        held_hdr = dn_hdr;
        dn_held = 1;
      end else begin
        on_dn(dn_tag, dn_hdr);
        if (dn_held) begin
          on_dn(held_tag, held_hdr);
          dn_held = 0;
        end
      end
    end
    if (cpl_valid && cpl_ready) begin
      k = popen(cpl_tag);
      checks = checks + 1;
      if (k < 0) begin
        fails = fails + 1;
        $display("FAIL completion tag %h: no request in flight has it (hdr %h)", cpl_tag, cpl_hdr);
      end else begin
        p_done[k] = 1;
        ok = cpl_hdr[95:93] == 3'b000 && cpl_hdr[92:88] == 5'b01010 && cpl_hdr[73:64] == 0 &&
             cpl_hdr[31:16] == p_hdr[k][95:80] && cpl_hdr[15:8] == p_hdr[k][79:72];
        if (ok) begin
          ok = 0;
          for (r = 1; r <= n_ex; r = r + 1)
            if (ex_tag(r) == cpl_tag && ex_kind(r) == 2 && ex_status(r) == {5'd0, cpl_hdr[47:45]}) ok = 1;
        end
        if (!ok) begin
          fails = fails + 1;
          $display("FAIL tag %h: completion %h (status %0d) not allowed", cpl_tag, cpl_hdr, cpl_hdr[47:45]);
        end
      end
    end
    if (irq_valid && irq_ready) begin
      k = -1;
      for (r = p_n - 1; r >= 0; r = r - 1)
        if (!p_done[r]) begin : owner
          integer e;
          for (e = 1; e <= n_ex; e = e + 1)
            if (ex_tag(e) == p_tag[r] && (ex_kind(e) == 4 || ex_kind(e) == 5) &&
                ex_addr(e) == irq_addr && ex_data(e) == irq_data) k = r;
        end
      checks = checks + 1;
      if (k >= 0) begin
        p_done[k] = 1;
        order(k);
      end else begin
        next_ev = next_ev + 1;
        if (next_ev > n_ev || ev[next_ev] != {irq_addr, irq_data}) begin
          fails = fails + 1;
          $display("FAIL interrupt %h data %h: no request allows it and it is not event %0d",
                   irq_addr, irq_data, next_ev - 1);
        end
      end
    end
  end

  // ------------------------------------------------------------ register port
  task automatic csr(input wr, input [11:0] a, input [3:0] sz, input [63:0] v, output [63:0] rdv);
    begin
      @(negedge clk);
      csr_valid = 1; csr_write = wr; csr_addr = a; csr_size = sz; csr_wdata = v;
      @(posedge clk);
      while (!csr_ready) @(posedge clk);
      @(negedge clk);
      csr_valid = 0;
      while (!csr_rvalid) @(posedge clk);
      rdv = csr_rdata;
      @(negedge clk);
    end
  endtask

  // Run until every request sent has its outcome and the unit has been quiet for QUIET cycles;
  // a posted request with no egress by then was dropped, which its outcomes must allow.
  task automatic settle(input integer step);
    integer t0, i, e;
    reg posted, allowed;
    begin
      t0 = cyc;
      while (!(q_count == 0 && cyc - last_act >= QUIET)) begin
        @(posedge clk);
        if (dn_held && cyc - last_act >= QUIET / 2) begin
          on_dn(held_tag, held_hdr);
          dn_held = 0;
        end
        if (cyc - t0 > 1000000) begin
          $display("FAIL step %0d: the unit did not go quiet within 1000000 cycles", step);
          fails = fails + 1;
          finish_run();
        end
      end
      for (i = 0; i < p_n; i = i + 1)
        if (!p_done[i]) begin
          checks = checks + 1;
          posted = p_hdr[i][126] && p_hdr[i][124:120] == 5'd0;  // MWr
          allowed = 0;
          for (e = 1; e <= n_ex; e = e + 1)
            if (ex_tag(e) == p_tag[i] && (ex_kind(e) == 3 || ex_kind(e) == 6)) allowed = 1;
          if (!(posted && allowed)) begin
            fails = fails + 1;
            $display("FAIL tag %h: no egress by the time the unit went quiet (%0s)", p_tag[i],
                     posted ? "dropped, which no allowed outcome is" : "no completion: hang");
          end
        end
      p_n = 0;
    end
  endtask

  task automatic finish_run;
    begin
      $display("vectors: %0d passed, %0d failed (%0d cycles)", checks - fails, fails, cyc);
      if (fails == 0) $display("TB PASS"); else $display("TB FAIL %0d", fails);
      $finish;
    end
  endtask

  // ------------------------------------------------------------ the replay
  integer s, j, poll;
  reg [455:0] rec;
  reg [7:0]   op;
  reg [63:0]  rd, val64, mask;
  reg [15:0]  aux, tg;
  reg [63:0]  addr;
  initial begin
    swap_dn = $test$plusargs("swap_dn_pairs");
    $readmemh("manifest.hex", man);
    $readmemh("memory.hex", img);
    $readmemh("stimulus.hex", st);
    $readmemh("expected.hex", ex);
    $readmemh("events.hex", ev);
    $readmemh("final.hex", fin);
    n_img = img[0]; n_st = st[0]; n_ex = ex[0]; n_ev = ev[0]; n_fin = fin[0];
    mem_lat = man[1][63:32];
    mem_lat_max = mem_lat;
    if (man[0] >= 2) begin
      mem_lat_max = man[2][191:160];
      mem_out = man[2][159:128];
      mem_rdy = man[2][127:96];
      mem_ooo = man[2][95:64];
      bp = man[2][63:32];
      if (mem_out > QN) mem_out = QN;
    end
    for (j = 1; j <= n_img; j = j + 1) mwrite(img[j][191:128], 16'hFFFF, img[j][127:0]);
    repeat (5) @(posedge clk);
    rst_n = 1;
    repeat (5) @(posedge clk);
    // The identity the suite assumes.
    csr(0, 12'h008, 4'd8, 0, rd);
    checks = checks + 1;
    if (rd != man[1][191:128]) begin
      fails = fails + 1;
      $display("FAIL CAP %h, the suite assumes %h", rd, man[1][191:128]);
      finish_run();
    end
    csr(0, 12'h010, 4'd8, 0, rd);
    checks = checks + 1;
    if (rd != man[1][127:64]) begin
      fails = fails + 1;
      $display("FAIL ECAP %h, the suite assumes %h", rd, man[1][127:64]);
      finish_run();
    end
    for (s = 1; s <= n_st; s = s + 1) begin
      rec = st[s];
      op = rec[455:448]; aux = rec[447:432]; tg = rec[431:416]; addr = rec[415:352];
      val64 = rec[287:224]; mask = rec[223:160];
      if (op != 6) settle(tg);
      case (op)
        8'd1: csr(1, addr[11:0], aux[3:0], val64, rd);
        8'd2: begin
          checks = checks + 1;
          poll = 0;
          csr(0, addr[11:0], aux[3:0], 0, rd);
          while ((rd & mask) != (val64 & mask) && poll < POLLS) begin
            csr(0, addr[11:0], aux[3:0], 0, rd);
            poll = poll + 1;
          end
          if ((rd & mask) != (val64 & mask)) begin
            fails = fails + 1;
            $display("FAIL step %0d: register %h reads %h, expected %h (mask %h)", tg, addr[11:0],
                     rd, val64, mask);
          end
        end
        8'd3: mwrite(addr, aux, rec[351:224]);
        8'd4: err_n = 0;
        8'd5: begin
          err_a[err_n] = addr;
          err_l[err_n] = val64;
          err_n = err_n + 1;
        end
        8'd6: begin
          p_tag[p_n] = tg;
          p_hdr[p_n] = rec[159:32];
          p_done[p_n] = 0;
          p_by[p_n] = 0;
          p_n = p_n + 1;
          @(negedge clk);
          up_valid = 1; up_hdr = rec[159:32]; up_data0 = rec[31:0]; up_tag = tg;
          @(posedge clk);
          while (!up_ready) @(posedge clk);
          @(negedge clk);
          up_valid = 0;
        end
        default: begin
          $display("TB ERROR: stimulus record %0d has undefined op %0d", s, op);
          $finish;
        end
      endcase
    end
    settle(n_st);
    checks = checks + 1;
    if (next_ev != n_ev) begin
      fails = fails + 1;
      $display("FAIL final: %0d events seen, %0d expected", next_ev, n_ev);
    end
    for (j = 1; j <= n_fin; j = j + 1) begin
      checks = checks + 1;
      if (fin[j][207:200] == 8'd1) begin
        csr(0, fin[j][139:128], fin[j][195:192], 0, rd);
        if (rd != fin[j][63:0]) begin
          fails = fails + 1;
          $display("FAIL final: register %h reads %h, expected %h", fin[j][139:128], rd, fin[j][63:0]);
        end
      end else if (mread(fin[j][191:128]) != fin[j][127:0]) begin
        fails = fails + 1;
        $display("FAIL final: memory line %h holds %h, expected %h", fin[j][191:128],
                 mread(fin[j][191:128]), fin[j][127:0]);
      end
    end
    finish_run();
  end
endmodule
