/* The harness itself: the pinned llama.cpp loads, its layouts match ours,
 * and a known quantization comes out as ggml documents it. */
#include "llama_ref.h"
#include "qk_test.h"
#include "ggml_types.h"

#include <strings.h>

static void test_loads(void) {
    const llama_ref *r = llama_ref_require();
    CHECK(r != NULL);
}

static void test_type_table_matches_ggml(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    for (uint32_t t = 0; t < QK_TYPE_COUNT; t++) {
        const ref_ggml_type_traits *tr = r->ggml_get_type_traits((int)t);
        const qk_type_info *ti = qk_type_get(t);
        if (!ti) {
            CHECK_MSG(tr->blck_size == 0, "type %u removed in quantkit but not in ggml", t);
            continue;
        }
        CHECK_MSG(tr->blck_size == ti->blck_size, "type %u block size", t);
        CHECK_MSG(tr->type_size == ti->type_size, "type %u type size", t);
        CHECK_MSG(strcasecmp(tr->type_name, ti->name) == 0, "type %u name %s vs %s", t, tr->type_name, ti->name);
    }
}

static void test_q8_0_known_block(void) {
    const llama_ref *r = llama_ref_require();
    if (!r) { CHECK(r != NULL); return; }
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = (float)(i - 16) / 16.0f; /* amax = 1 at i=0 */
    unsigned char out[34];
    size_t n = r->ggml_quantize_chunk(QK_TYPE_Q8_0, x, out, 0, 1, 32, NULL);
    CHECK_EQ_INT(n, 34);
    /* d = 1/127 as fp16 = 0x2008; element 0 -> -127 */
    CHECK_EQ_INT(out[0] | (out[1] << 8), 0x2008);
    CHECK_EQ_INT((signed char)out[2], -127);
    CHECK_EQ_INT((signed char)out[2 + 16], 0);
}

static void test_backend(void) {
    CHECK(llama_ref_init_backend());
}

int main(void) {
    RUN(test_loads);
    RUN(test_type_table_matches_ggml);
    RUN(test_q8_0_known_block);
    RUN(test_backend);
    return qk_test_summary();
}
