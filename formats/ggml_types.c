#include "ggml_types.h"

#include <strings.h>

#include "ggml_blocks.h"

/* Designated initializers keep ids and entries in step (no positional padding);
 * block types take their size from their struct (ggml_blocks.h). */
static const qk_type_info k_types[QK_TYPE_COUNT] = {
    [QK_TYPE_F32] = {"f32", 1, 4, false, true},
    [QK_TYPE_F16] = {"f16", 1, 2, false, true},
    [QK_TYPE_Q4_0] = {"q4_0", QK_LEGACY, sizeof(qk_block_q4_0), true, true},
    [QK_TYPE_Q4_1] = {"q4_1", QK_LEGACY, sizeof(qk_block_q4_1), true, true},
    [QK_TYPE_Q5_0] = {"q5_0", QK_LEGACY, sizeof(qk_block_q5_0), true, true},
    [QK_TYPE_Q5_1] = {"q5_1", QK_LEGACY, sizeof(qk_block_q5_1), true, true},
    [QK_TYPE_Q8_0] = {"q8_0", QK_LEGACY, sizeof(qk_block_q8_0), true, true},
    [QK_TYPE_Q8_1] = {"q8_1", QK_LEGACY, sizeof(qk_block_q8_1), true, false},
    [QK_TYPE_Q2_K] = {"q2_K", QK_K, sizeof(qk_block_q2_k), true, true},
    [QK_TYPE_Q3_K] = {"q3_K", QK_K, sizeof(qk_block_q3_k), true, true},
    [QK_TYPE_Q4_K] = {"q4_K", QK_K, sizeof(qk_block_q4_k), true, true},
    [QK_TYPE_Q5_K] = {"q5_K", QK_K, sizeof(qk_block_q5_k), true, true},
    [QK_TYPE_Q6_K] = {"q6_K", QK_K, sizeof(qk_block_q6_k), true, true},
    [QK_TYPE_Q8_K] = {"q8_K", QK_K, sizeof(qk_block_q8_k), true, false},
    [QK_TYPE_IQ2_XXS] = {"iq2_xxs", QK_K, sizeof(qk_block_iq2_xxs), true, true},
    [QK_TYPE_IQ2_XS] = {"iq2_xs", QK_K, sizeof(qk_block_iq2_xs), true, true},
    [QK_TYPE_IQ3_XXS] = {"iq3_xxs", QK_K, sizeof(qk_block_iq3_xxs), true, true},
    [QK_TYPE_IQ1_S] = {"iq1_s", QK_K, sizeof(qk_block_iq1_s), true, true},
    [QK_TYPE_IQ4_NL] = {"iq4_nl", QK_LEGACY, sizeof(qk_block_iq4_nl), true, true},
    [QK_TYPE_IQ3_S] = {"iq3_s", QK_K, sizeof(qk_block_iq3_s), true, true},
    [QK_TYPE_IQ2_S] = {"iq2_s", QK_K, sizeof(qk_block_iq2_s), true, true},
    [QK_TYPE_IQ4_XS] = {"iq4_xs", QK_K, sizeof(qk_block_iq4_xs), true, true},
    [QK_TYPE_I8] = {"i8", 1, 1, false, false},
    [QK_TYPE_I16] = {"i16", 1, 2, false, false},
    [QK_TYPE_I32] = {"i32", 1, 4, false, false},
    [QK_TYPE_I64] = {"i64", 1, 8, false, false},
    [QK_TYPE_F64] = {"f64", 1, 8, false, false},
    [QK_TYPE_IQ1_M] = {"iq1_m", QK_K, sizeof(qk_block_iq1_m), true, true},
    [QK_TYPE_BF16] = {"bf16", 1, 2, false, true},
    [QK_TYPE_TQ1_0] = {"tq1_0", QK_K, sizeof(qk_block_tq1_0), true, true},
    [QK_TYPE_TQ2_0] = {"tq2_0", QK_K, sizeof(qk_block_tq2_0), true, true},
    [QK_TYPE_MXFP4] = {"mxfp4", QK_LEGACY, sizeof(qk_block_mxfp4), true, true},
    [QK_TYPE_NVFP4] = {"nvfp4", QK_NVFP4, sizeof(qk_block_nvfp4), true, true},
    [QK_TYPE_Q1_0] = {"q1_0", QK_Q1_0, sizeof(qk_block_q1_0), true, true},
    [QK_TYPE_Q2_0] = {"q2_0", QK_Q2_0, sizeof(qk_block_q2_0), true, true},
};

const qk_type_info *qk_type_get(uint32_t t) {
    if (t >= QK_TYPE_COUNT || k_types[t].blck_size == 0) return NULL;
    return &k_types[t];
}

double qk_type_bpw(uint32_t t) {
    const qk_type_info *ti = qk_type_get(t);
    return ti ? (double)ti->type_size * 8.0 / (double)ti->blck_size : 0.0;
}

bool qk_row_size(uint32_t t, int64_t n, uint64_t *out) {
    const qk_type_info *ti = qk_type_get(t);
    if (!ti || n < 0 || n % ti->blck_size != 0) return false;
    /* n / blck * type_size can exceed 64 bits (F32 rows of 2^62 elements):
     * a wrapped size would let a hostile file claim a tiny tensor */
    const uint64_t blocks = (uint64_t)(n / ti->blck_size);
    if (blocks > UINT64_MAX / ti->type_size) return false;
    *out = blocks * ti->type_size;
    return true;
}

int qk_type_from_name(const char *name) {
    for (int t = 0; t < QK_TYPE_COUNT; t++)
        if (k_types[t].blck_size && strcasecmp(k_types[t].name, name) == 0) return t;
    return -1;
}
