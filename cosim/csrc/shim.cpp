// Thin C ABI over one Verilated `iommu_top` model (DUT port contract: shared/design/ARCHITECTURE.md).
//
// This file is included by a small wrapper that build.rs generates per configuration:
//   #include "Viommu_top_<cfg>.h"
//   #define COSIM_TOP Viommu_top_<cfg>
//   #define COSIM_FN(name) cosim_<cfg>_##name
//   #include ".../shim.cpp"
// so the same code serves every parameter set. Transaction logic lives in Rust; this only moves port
// values in and out, one call per clock edge.
#include <cstdint>
#include <memory>

#include "verilated.h"
#include "verilated_fst_c.h"

extern "C" {
// Inputs applied before the rising edge (layout mirrored by `CosimIn` in src/ffi.rs).
struct CosimIn {
    uint32_t up_hdr[4];  // word 0 = bits 31:0 (header DW3), word 3 = bits 127:96 (DW0)
    uint32_t mem_rsp_data[4];
    uint64_t csr_wdata;
    uint32_t up_data0;
    uint32_t mem_rsp_id;
    uint16_t up_tag;
    uint16_t csr_addr;
    uint8_t rst_n;
    uint8_t up_valid;
    uint8_t dn_ready;
    uint8_t cpl_ready;
    uint8_t irq_ready;
    uint8_t mem_req_ready;
    uint8_t mem_rsp_valid;
    uint8_t mem_rsp_err;
    uint8_t csr_valid;
    uint8_t csr_write;
    uint8_t csr_size;
    uint8_t pad0;
};

// Outputs sampled at the rising edge, i.e. after the inputs above settled (layout mirrored by `CosimOut`).
struct CosimOut {
    uint32_t dn_hdr[4];
    uint32_t cpl_hdr[3];
    uint32_t mem_req_wdata[4];
    uint32_t irq_data;
    uint64_t irq_addr;
    uint64_t mem_req_addr;
    uint64_t csr_rdata;
    uint32_t mem_req_id;
    uint16_t dn_tag;
    uint16_t cpl_tag;
    uint16_t mem_req_wstrb;
    uint8_t up_ready;
    uint8_t dn_valid;
    uint8_t cpl_valid;
    uint8_t irq_valid;
    uint8_t mem_req_valid;
    uint8_t mem_req_op;
    uint8_t csr_ready;
    uint8_t csr_rvalid;
    uint8_t pad0[6];
};
}

namespace {
struct Handle {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<COSIM_TOP> top;
    std::unique_ptr<VerilatedFstC> tfp;
    uint64_t time = 0;
};
}  // namespace

extern "C" {

void* COSIM_FN(new)() {
    Handle* h = new Handle();
    h->ctx.reset(new VerilatedContext());
    h->ctx->traceEverOn(true);  // tracing compiled in; a trace file is opened only on request
    h->top.reset(new COSIM_TOP(h->ctx.get(), "TOP"));
    h->top->clk = 0;
    h->top->rst_n = 0;
    h->top->eval();
    return h;
}

void COSIM_FN(delete)(void* p) {
    Handle* h = static_cast<Handle*>(p);
    if (h == nullptr) return;
    if (h->tfp) h->tfp->close();
    h->tfp.reset();
    h->top->final();
    h->top.reset();
    h->ctx.reset();
    delete h;
}

// One clock cycle: apply inputs with clk low, settle, sample outputs (the values the rising edge
// sees), then raise the clock.
void COSIM_FN(step)(void* p, const CosimIn* in, CosimOut* out) {
    Handle* h = static_cast<Handle*>(p);
    COSIM_TOP* t = h->top.get();
    t->clk = 0;
    t->rst_n = in->rst_n;
    t->up_valid = in->up_valid;
    for (int i = 0; i < 4; i++) t->up_hdr[i] = in->up_hdr[i];
    t->up_data0 = in->up_data0;
    t->up_tag = in->up_tag;
    t->dn_ready = in->dn_ready;
    t->cpl_ready = in->cpl_ready;
    t->irq_ready = in->irq_ready;
    t->mem_req_ready = in->mem_req_ready;
    t->mem_rsp_valid = in->mem_rsp_valid;
    t->mem_rsp_id = in->mem_rsp_id;
    for (int i = 0; i < 4; i++) t->mem_rsp_data[i] = in->mem_rsp_data[i];
    t->mem_rsp_err = in->mem_rsp_err;
    t->csr_valid = in->csr_valid;
    t->csr_write = in->csr_write;
    t->csr_addr = in->csr_addr;
    t->csr_size = in->csr_size;
    t->csr_wdata = in->csr_wdata;
    t->eval();

    out->up_ready = t->up_ready;
    out->dn_valid = t->dn_valid;
    for (int i = 0; i < 4; i++) out->dn_hdr[i] = t->dn_hdr[i];
    out->dn_tag = t->dn_tag;
    out->cpl_valid = t->cpl_valid;
    for (int i = 0; i < 3; i++) out->cpl_hdr[i] = t->cpl_hdr[i];
    out->cpl_tag = t->cpl_tag;
    out->irq_valid = t->irq_valid;
    out->irq_addr = t->irq_addr;
    out->irq_data = t->irq_data;
    out->mem_req_valid = t->mem_req_valid;
    out->mem_req_id = t->mem_req_id;
    out->mem_req_op = t->mem_req_op;
    out->mem_req_addr = t->mem_req_addr;
    for (int i = 0; i < 4; i++) out->mem_req_wdata[i] = t->mem_req_wdata[i];
    out->mem_req_wstrb = t->mem_req_wstrb;
    out->csr_ready = t->csr_ready;
    out->csr_rvalid = t->csr_rvalid;
    out->csr_rdata = t->csr_rdata;

    if (h->tfp) h->tfp->dump(h->time);
    h->time++;
    t->clk = 1;
    t->eval();
    if (h->tfp) h->tfp->dump(h->time);
    h->time++;
}

// Open an FST trace (0 on success). Tracing slows the run several times: open only on request.
int COSIM_FN(trace_open)(void* p, const char* path) {
    Handle* h = static_cast<Handle*>(p);
    if (h->tfp) return 0;
    h->tfp.reset(new VerilatedFstC());
    h->top->trace(h->tfp.get(), 99);
    h->tfp->open(path);
    if (!h->tfp->isOpen()) {
        h->tfp.reset();
        return -1;
    }
    return 0;
}

void COSIM_FN(trace_close)(void* p) {
    Handle* h = static_cast<Handle*>(p);
    if (h->tfp) {
        h->tfp->close();
        h->tfp.reset();
    }
}

}  // extern "C"
