/* arch_registry.c - every architecture description (arch_<family>.c), in
 * the order listings show them. Adding a family: its file, and one line
 * here. */
#include "arch_priv.h"

extern const qk_arch_desc qk_arch_family_llama[], qk_arch_family_qwen[], qk_arch_family_gemma[],
    qk_arch_family_phi3[], qk_arch_family_dense[], qk_arch_family_more[], qk_arch_family_moe[],
    qk_arch_family_moe_more[], qk_arch_family_gptoss[], qk_arch_family_deepseek[], qk_arch_family_glm4moe[];
extern const qk_arch_desc qk_arch_family_lfm2[], qk_arch_family_gemma4[];
extern const qk_arch_desc qk_arch_family_llama4[];
extern const qk_arch_desc qk_arch_family_qwen35[];
extern const qk_arch_desc qk_arch_family_granitehybrid[], qk_arch_family_nemotronh[],
    qk_arch_family_falconh1[];
extern const qk_arch_desc qk_arch_family_mamba[], qk_arch_family_jamba[];
extern const qk_arch_desc qk_arch_family_hunyuan[];

static const qk_arch_desc *const k_families[] = {
    qk_arch_family_llama, qk_arch_family_qwen, qk_arch_family_gemma, qk_arch_family_phi3, qk_arch_family_dense, qk_arch_family_more,
    qk_arch_family_moe, qk_arch_family_moe_more, qk_arch_family_gptoss, qk_arch_family_deepseek, qk_arch_family_glm4moe,
    qk_arch_family_lfm2, qk_arch_family_gemma4,
    qk_arch_family_llama4,
    qk_arch_family_qwen35,
    qk_arch_family_granitehybrid, qk_arch_family_nemotronh, qk_arch_family_falconh1,
    qk_arch_family_mamba, qk_arch_family_jamba,
    qk_arch_family_hunyuan,
};

size_t qk_arch_registry_size(void) {
    size_t n = 0;
    for (size_t f = 0; f < sizeof k_families / sizeof k_families[0]; f++)
        for (const qk_arch_desc *d = k_families[f]; d->hf; d++) n++;
    return n;
}

const qk_arch_desc *qk_arch_registry_at(size_t i) {
    for (size_t f = 0; f < sizeof k_families / sizeof k_families[0]; f++)
        for (const qk_arch_desc *d = k_families[f]; d->hf; d++)
            if (i-- == 0) return d;
    return NULL;
}
