/* arch_exaone4.c - EXAONE 4.0's attention layout (Exaone4ForCausalLM ->
 * "exaone4"): which layers slide, what the converter writes for them, and
 * which configurations the pinned llama.cpp cannot run.
 *
 * Hugging Face (modeling_exaone4.py): a layer is sliding when its
 * layer_types entry says so and attends to the last sliding_window
 * positions; when config.sliding_window is set, only the sliding layers get
 * rope (the global ones are NoPE); when it is null every layer is a global
 * layer with rope (the 1.2B). A missing sliding_window is Exaone4Config's
 * 4096, layer_types missing is derived from sliding_window_pattern (4).
 *
 * The converter (Exaone4Model.set_gguf_parameters) writes, when
 * sliding_window is not None, attention.sliding_window and
 * attention.sliding_window_pattern as a bool per layer: from layer_types,
 * else from a "LLLG"-style string (L: sliding) or an int period.
 *
 * llama.cpp (src/models/exaone4.cpp) turns the window on only for a
 * 64-layer model, and then with a period read by the scalar get_key_or_arr,
 * which skips an array: every 4th layer global whatever the bools say; rope
 * only on the sliding layers. Below 64 layers it runs every layer global with
 * rope. So the two agree for: a null sliding_window below 64 layers, and a
 * set one at 64 layers with the 3:1 pattern; anything else is refused. */
#include <string.h>

#include "arch_priv.h"

/* Layer i is sliding in the converter's pattern: 1 / 0, or -1 when the
 * config gives no pattern (the converter then writes none). */
static int layer_sliding(const cJSON *c, uint32_t i) {
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    if (cJSON_IsArray(lt)) {
        const cJSON *e = cJSON_GetArrayItem(lt, (int)i);
        return cJSON_IsString(e) && !strcmp(e->valuestring, "sliding_attention");
    }
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(c, "sliding_window_pattern");
    if (cJSON_IsString(pat) && pat->valuestring[0]) return pat->valuestring[i % strlen(pat->valuestring)] == 'L';
    if (cJSON_IsNumber(pat) && pat->valueint > 0) return (i + 1) % (uint32_t)pat->valueint != 0;
    return -1;
}

int qk_arch_exaone4_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err) {
    const cJSON *c = ck->config, *sw = cJSON_GetObjectItemCaseSensitive(c, "sliding_window");
    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
    const bool windowed = !cJSON_IsNull(sw); /* absent: Exaone4Config's 4096 */
    if (lt && (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != (int)p->n_layer))
        return qk_fail(err, "%s/config.json: layer_types should list %u layers", ck->dir, p->n_layer);
    if (!windowed) {
        if (p->n_layer == 64)
            return qk_fail(err, "%s/config.json: EXAONE 4 with 64 layers and no sliding window is not supported: "
                                "llama.cpp's exaone4 gives every 64-layer model the 32B's 3:1 sliding window",
                           ck->dir);
        return QK_OK; /* every layer global with rope, in both */
    }
    if (sw && !(cJSON_IsNumber(sw) && sw->valuedouble >= 1 && sw->valuedouble <= 4294967295.0 &&
                sw->valuedouble == (double)(int64_t)sw->valuedouble))
        return qk_fail(err, "%s/config.json: 'sliding_window' is not an integer in 1..4294967295", ck->dir);
    if (p->n_layer != 64)
        return qk_fail(err, "%s/config.json: EXAONE 4 sliding-window layers with %u layers are not supported: "
                            "llama.cpp's exaone4 enables the window only for 64 layers (the 32B layout); "
                            "a sliding_window of null (the 1.2B layout) is",
                       ck->dir, p->n_layer);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(c, "sliding_window_pattern");
    if (!lt && pat && !cJSON_IsNull(pat) && layer_sliding(c, 0) < 0)
        return qk_fail(err, "%s/config.json: sliding_window_pattern is neither a non-empty string nor a positive "
                            "integer", ck->dir);
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const int s = layer_sliding(c, i), want = (i + 1) % 4 != 0;
        if (s >= 0 && s != want)
            return qk_fail(err, "%s/config.json: layer %u is %s: llama.cpp's exaone4 makes every 4th layer global "
                                "and the others sliding (the 32B's pattern), whatever the converter's bools say",
                           ck->dir, i, s ? "sliding" : "global");
    }
    return QK_OK;
}

int qk_arch_exaone4_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err) {
    const cJSON *c = ck->config, *sw = cJSON_GetObjectItemCaseSensitive(c, "sliding_window");
    if (!cJSON_IsNumber(sw)) return QK_OK; /* hparams.get("sliding_window") is None */
    if (qk_arch_kv_u32(w, p, "attention.sliding_window", (uint32_t)sw->valuedouble, err)) return QK_FAIL;
    if (p->n_layer > 1024) return qk_fail(err, "%s/config.json: more than 1024 layers", ck->dir);
    bool pat[1024];
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const int s = layer_sliding(c, i);
        if (s < 0) return QK_OK; /* no pattern given: none written (llama.cpp's period 4) */
        pat[i] = s;
    }
    return qk_arch_kv_arr(w, p, "attention.sliding_window_pattern", QK_GGUF_BOOL, pat, p->n_layer, err);
}
