/* The type table against ggml's block sizes (ggml-common.h static_asserts). */
#include "qk_test.h"
#include "ggml_types.h"

static void test_block_sizes(void) {
    static const struct { int t; unsigned blck, size; } want[] = {
        {QK_TYPE_F32, 1, 4},     {QK_TYPE_F16, 1, 2},      {QK_TYPE_BF16, 1, 2},
        {QK_TYPE_Q4_0, 32, 18},  {QK_TYPE_Q4_1, 32, 20},   {QK_TYPE_Q5_0, 32, 22},
        {QK_TYPE_Q5_1, 32, 24},  {QK_TYPE_Q8_0, 32, 34},   {QK_TYPE_Q2_K, 256, 84},
        {QK_TYPE_Q3_K, 256, 110}, {QK_TYPE_Q4_K, 256, 144}, {QK_TYPE_Q5_K, 256, 176},
        {QK_TYPE_Q6_K, 256, 210}, {QK_TYPE_IQ4_NL, 32, 18}, {QK_TYPE_IQ4_XS, 256, 136},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const qk_type_info *ti = qk_type_get((uint32_t)want[i].t);
        CHECK(ti != NULL);
        if (!ti) continue;
        CHECK_EQ_INT(ti->blck_size, want[i].blck);
        CHECK_EQ_INT(ti->type_size, want[i].size);
    }
}

static void test_removed_and_bounds(void) {
    CHECK(qk_type_get(4) == NULL);
    CHECK(qk_type_get(5) == NULL);
    CHECK(qk_type_get(31) == NULL);
    CHECK(qk_type_get(36) == NULL);
    CHECK(qk_type_get(QK_TYPE_COUNT) == NULL);
    CHECK(qk_type_get(0xFFFFFFFFu) == NULL);
    uint64_t n = 0;
    CHECK(!qk_row_size(QK_TYPE_Q4_K, 100, &n));
    CHECK(qk_row_size(QK_TYPE_Q4_K, 512, &n) && n == 288);
    CHECK(!qk_row_size(QK_TYPE_F32, -1, &n));
}

static void test_names(void) {
    CHECK_EQ_INT(qk_type_from_name("Q4_K"), QK_TYPE_Q4_K);
    CHECK_EQ_INT(qk_type_from_name("bf16"), QK_TYPE_BF16);
    CHECK_EQ_INT(qk_type_from_name("q4_2"), -1);
    CHECK_EQ_INT(qk_type_from_name("nonsense"), -1);
}

int main(void) {
    RUN(test_block_sizes);
    RUN(test_removed_and_bounds);
    RUN(test_names);
    return qk_test_summary();
}
