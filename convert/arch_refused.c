/* arch_refused.c - architectures the pinned llama.cpp converts that the
 * registry knows it cannot express yet: the converter refuses each with
 * what exactly is missing, instead of the generic "not supported". A line
 * may name one text model_type of a class (Mistral 4 in
 * Mistral3ForConditionalGeneration). A family that gains a description
 * (arch_<family>.c) is found in the registry first, so a line here never
 * hides it. */
#include <string.h>

#include "arch_priv.h"

static const struct {
    const char *hf, *text_model_type, *why; /* text_model_type NULL: any */
} k_refused[] = {
    {"Gemma3nForConditionalGeneration", NULL,
     "Gemma 3n (llama.cpp arch gemma3n) is not supported: its text model needs AltUp (4 parallel hidden-state "
     "streams with predict / correct coefficients and stacked altup_projections / altup_unembed_projections), "
     "LAuReL low-rank residual blocks, per-layer token embeddings (embed_tokens_per_layer, "
     "per_layer_model_projection), KV sharing across the last num_kv_shared_layers layers and activation sparsity "
     "(activation_sparsity_pattern -> a gaussian top-k on the first layers' MLPs), which the architecture "
     "registry cannot express yet (its vision and audio towers would be left out)"},
    {"Gemma3nForCausalLM", NULL,
     "Gemma 3n (llama.cpp arch gemma3n) is not supported: AltUp, LAuReL, per-layer token embeddings, KV sharing "
     "and activation sparsity are not in the architecture registry yet"},
    {"Gemma4UnifiedForConditionalGeneration", NULL,
     "Gemma 4 Unified is not supported: only Gemma4ForConditionalGeneration / Gemma4ForCausalLM in the 31B and "
     "E2B / E4B layouts (no MoE block) are"},
    {"Gemma4AssistantForCausalLM", NULL,
     "the Gemma 4 assistant (draft) model (llama.cpp arch gemma4-assistant) is not supported"},
    {"Gemma4UnifiedAssistantForCausalLM", NULL,
     "the Gemma 4 Unified assistant (draft) model (llama.cpp arch gemma4-assistant) is not supported"},
    /* Mistral3Model picks Mistral4Model (a DeepseekV2Model) for this text model type */
    {"Mistral3ForConditionalGeneration", "mistral4",
     "Mistral 4 (text_config model_type mistral4, llama.cpp arch mistral4) is not supported yet: its text model is "
     "a DeepSeek-V2-style MoE (MLA attention, routed and shared experts stacked as 3-D gate_up_proj / down_proj "
     "tensors), which the converter writes through Mistral4Model; only the Mistral Small 3.x (mistral) and "
     "Ministral 3 (ministral3) text models of this class are"},
    {"Lfm2VlForConditionalGeneration", NULL,
     "LFM2-VL is not supported yet: the LFM2 text models (Lfm2ForCausalLM, Lfm2MoeForCausalLM) are"},
    {"Lfm2Model", NULL, "LFM2 embedding / ColBERT heads (Lfm2Model) are not supported: the causal LM (Lfm2ForCausalLM) is"},
    /* the state-space hybrids and recurrent families the pinned converter knows (conversion/falcon_h1.py,
     * nemotron.py, jamba.py, mamba.py, granite.py, kimi_linear.py, plamo.py, minimax.py, rwkv.py, qwen4exp.py) */
    {"NemotronHPuzzleForCausalLM", NULL,
     "Nemotron-H Puzzle (llama.cpp arch nemotron_h_moe) is not supported yet: its per-block MoE shapes "
     "(block_configs) and the Nemotron-H Mamba-2 hybrid layers are not in the architecture registry"},
    {"BambaForCausalLM", NULL,
     "Bamba (llama.cpp arch granitehybrid with rope) is not supported yet: Granite 4.0-H (GraniteMoeHybridForCausalLM) "
     "is, but Bamba's attention layers by attn_layer_indices, its rope (attn_rotary_emb) and its own modeling code "
     "are not checked against llama.cpp"},
    {"KimiLinearForCausalLM", NULL,
     "Kimi Linear (llama.cpp arch kimi-linear) is not supported yet: its Kimi delta attention layers interleaved "
     "with MLA attention and its MoE are not in the architecture registry, and its tiktoken vocabulary is read "
     "through the model's own tokenizer code"},
    {"KimiLinearModel", NULL, "Kimi Linear (llama.cpp arch kimi-linear) is not supported yet: the delta attention / MLA "
                        "hybrid is not in the architecture registry"},
    {"Plamo2ForCausalLM", NULL,
     "PLaMo 2 (llama.cpp arch plamo2) is not supported yet: its Mamba layers every mamba_step layers, their own "
     "SSM tensor layout and the PLaMo tokenizer are not in the architecture registry"},
    {"PLaMo2ForCausalLM", NULL, "PLaMo 2 (llama.cpp arch plamo2) is not supported yet: its Mamba / attention hybrid and "
                          "tokenizer are not in the architecture registry"},
    {"MiniMaxText01ForCausalLM", NULL,
     "MiniMax-Text-01 (llama.cpp arch minimax01) is not supported yet: its lightning (linear) attention layers "
     "interleaved with softmax attention, their decay rates and the suppressed zero-embedding tokens are not in "
     "the architecture registry"},
    {"MiniMaxM1ForCausalLM", NULL, "MiniMax-M1 (llama.cpp arch minimax01) is not supported yet: the lightning-attention "
                             "hybrid is not in the architecture registry"},
    {"RwkvHybridForCausalLM", NULL,
     "ARWKV-7 (RwkvHybridForCausalLM, llama.cpp arch arwkv7) is not supported yet: RWKV-7 time-mix layers are not "
     "in the architecture registry"},
    {"Qwen4ExpForCausalLM", NULL,
     "Qwen4Exp (llama.cpp arch qwen4exp) is not supported yet: its hyper-connections in place of the layer norms, "
     "QSA sparse attention and n-gram hash embeddings are not in the architecture registry (Qwen 3.5 / 3.6, "
     "Qwen3_5ForCausalLM, is)"},
    {"Qwen4ExpForConditionalGeneration", NULL,
     "Qwen4Exp (llama.cpp arch qwen4exp) is not supported yet: hyper-connections, QSA sparse attention and n-gram "
     "hash embeddings are not in the architecture registry"},
    {"DeepseekV32ForCausalLM", NULL,
     "DeepSeek V3.2 (llama.cpp arch deepseek32) is not supported yet: DeepSeek V3's MLA and experts are, but its DSA "
     "indexer (the attn.indexer.* tensors and the indexer head count, key length and top-k) is not in the registry"},
    {"HunYuanDenseV1ForCausalLM", NULL,
     "Hunyuan dense (Hunyuan-0.5B..7B, llama.cpp arch hunyuan-dense) is not supported yet: HunYuanModel's own "
     "set_vocab (tokenizer.json, else hy.tiktoken with the 7B's BOS fix) with its EOS / EOT taken from "
     "eod_token_id and generation_config.json, and its NTK-alpha rope (alpha 50 by default, head_dim-based) are not "
     "in the architecture registry (Hunyuan MoE, HunYuanMoEV1ForCausalLM, is)"},
};

const char *qk_arch_refusal(const char *hf, const char *text_model_type) {
    for (size_t i = 0; hf && i < sizeof k_refused / sizeof k_refused[0]; i++)
        if (!strcmp(k_refused[i].hf, hf) &&
            (!k_refused[i].text_model_type ||
             (text_model_type && !strcmp(k_refused[i].text_model_type, text_model_type))))
            return k_refused[i].why;
    return NULL;
}
