/* Float conversions against ggml: exhaustive over all fp16/bf16 values and a
 * dense sweep of float32 bit patterns (ties, subnormals, overflow, NaN). */
#include "float_formats.h"
#include "llama_ref.h"
#include "qk_test.h"

#include <math.h>

/* Every 2^16-th float32 pattern plus neighbourhoods (stride apart) of the
 * interesting boundaries, through ggml's row conversion and ours; returns the
 * mismatches (the first five are reported). */
static int sweep(const char *what, void (*ggml_row)(const float *, uint16_t *, int64_t), uint16_t (*ours)(float),
                 uint32_t stride) {
    enum { N = 1 << 16 };
    static float x[N];
    static uint16_t want[N];
    int bad = 0;
    for (uint64_t base = 0; base < (1ull << 32); base += (1ull << 32) / 64) {
        for (int i = 0; i < N; i++) x[i] = qk_f32_from_bits((uint32_t)(base + (uint64_t)i * stride));
        ggml_row(x, want, N);
        for (int i = 0; i < N; i++)
            if (ours(x[i]) != want[i] && bad++ < 5)
                CHECK_MSG(0, "%s of 0x%08x: ours 0x%04x ggml 0x%04x", what, qk_f32_bits(x[i]), ours(x[i]), want[i]);
    }
    return bad;
}

static void test_fp32_to_fp16_matches_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    const int bad = sweep("fp16", r->ggml_fp32_to_fp16_row, qk_fp32_to_fp16, 997u);
    static const uint32_t edges[] = {0x477FEFFFu, 0x477FF000u, 0x38800000u, 0x387FFFFFu, 0x33000000u,
                                     0x33000001u, 0x32FFFFFFu, 0x33800000u, 0x7F800000u, 0x7F800001u,
                                     0xFFC00000u, 0x80000000u, 0x3F801000u, 0x3F803000u, 0x00000001u};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        float f = qk_f32_from_bits(edges[i]);
        uint16_t w;
        r->ggml_fp32_to_fp16_row(&f, &w, 1);
        CHECK_MSG(qk_fp32_to_fp16(f) == w, "edge 0x%08x: ours 0x%04x ggml 0x%04x", edges[i],
                  qk_fp32_to_fp16(f), w);
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_fp32_to_bf16_matches_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    CHECK_EQ_INT(sweep("bf16", r->ggml_fp32_to_bf16_row_ref, qk_fp32_to_bf16, 1009u), 0);
}

static void test_fp16_roundtrip_exhaustive(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    const ref_ggml_type_traits *f16 = r->ggml_get_type_traits(1);
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t hv = (uint16_t)h;
        float want;
        f16->to_float(&hv, &want, 1);
        float got = qk_fp16_to_fp32(hv);
        if (qk_f32_bits(got) != qk_f32_bits(want) && !(isnan(got) && isnan(want))) bad++;
        if (!isnan(got) && qk_fp32_to_fp16(got) != hv) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_f8(void) {
    /* E4M3: 0x38 = 1.0, 0x7E = 448 (max), 0x7F = NaN, 0x01 = 2^-9. */
    CHECK(qk_f8_e4m3_to_fp32(0x38) == 1.0f);
    CHECK(qk_f8_e4m3_to_fp32(0x7E) == 448.0f);
    CHECK(qk_f8_e4m3_to_fp32(0xFE) == -448.0f);
    CHECK(isnan(qk_f8_e4m3_to_fp32(0x7F)));
    CHECK(qk_f8_e4m3_to_fp32(0x01) == 0x1p-9f);
    CHECK(qk_f8_e4m3_to_fp32(0x08) == 0x1p-6f);
    /* E5M2: 0x3C = 1.0, 0x7B = 57344 (max), 0x7C = inf. */
    CHECK(qk_f8_e5m2_to_fp32(0x3C) == 1.0f);
    CHECK(qk_f8_e5m2_to_fp32(0x7B) == 57344.0f);
    CHECK(isinf(qk_f8_e5m2_to_fp32(0x7C)));
    CHECK(qk_f8_e5m2_to_fp32(0x01) == 0x1p-16f);
}

int main(void) {
    RUN(test_fp32_to_fp16_matches_ggml);
    RUN(test_fp32_to_bf16_matches_ggml);
    RUN(test_fp16_roundtrip_exhaustive);
    RUN(test_f8);
    return qk_test_summary();
}
