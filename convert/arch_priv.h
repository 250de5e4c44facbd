/* arch_priv.h - the architecture registry's vocabulary: one declarative
 * description per Hugging Face architecture (convert/arch_<family>.c), read
 * by arch.c (the tensor plan) and arch_hparams.c (hyper-parameter KVs and
 * generated tensors).
 *
 * A description says, as data:
 *   - which HF class (config.json architectures[0]) it covers (and, for a
 *     class holding several text models, which text model_type) and the
 *     GGUF architecture the pinned llama.cpp loads for it;
 *   - tensor name rules: "model.layers.N.<hf>" -> "blk.N.<gguf>", with the
 *     per-tensor transforms (Q/K un-permutation, +1 norms, kept-fused
 *     projections, refusals), checked before a common Llama layout;
 *   - expert stacking: per-expert 2-D tensors "<prefix>E<suffix>" stacked
 *     into one 3-D blk.N.<gguf>, streamed row by row from the shards;
 *   - what llama.cpp's graph needs per layer (checked before writing);
 *   - the config: which KV writer, and the HF config class's defaults for
 *     keys a published config leaves out (AutoConfig fills them in for
 *     convert_hf_to_gguf.py);
 *   - for multimodal releases, that the language model is taken out: its
 *     text_config merged over the top level, "language_model." dropped from
 *     tensor names, vision/audio/projector tensors left out and counted.
 * Adding a llama-like family is a table: no new control flow.
 */
#ifndef QK_ARCH_PRIV_H
#define QK_ARCH_PRIV_H

#include "arch.h"

/* Which converter class writes the hyper-parameters. */
typedef enum {
    QK_KV_LLAMA,  /* LlamaModel, Qwen2/3, Gemma 1/2: the KVs main has always written */
    QK_KV_PHI3,   /* Phi3MiniModel.set_gguf_parameters (no TextModel base call) */
    QK_KV_GEMMA3, /* TextModel.set_gguf_parameters, then Gemma3Model's overrides */
    QK_KV_OWN,    /* the description's own writer (qk_arch_desc.write_kvs), in its family's file */
} qk_kv_style;

enum { QK_PERM_NONE = 0, QK_PERM_Q = 1, QK_PERM_K = 2 };

/* How a tensor's values are rearranged on the way: or'ed into qk_name_rule.permute (the low bits are QK_PERM_*). */
enum {
    QK_X_TRANSPOSE = 1 << 4,    /* stored [in, out] (GPT-2's Conv1D): written [out, in] */
    QK_X_QKV_PER_HEAD = 2 << 4, /* fused rows [head][q, k, v][dim] (GPT-NeoX) -> [q | k | v], kept fused */
    QK_X_QKV_GROUPED = 3 << 4,  /* fused rows [kv head][its q heads, k, v][dim] (InternLM 2) -> attn_q, attn_k,
                                 * attn_v (gguf names the q tensor), q/k un-permuted with QK_A_PERMUTE_QK */
    QK_X_MASK = 3 << 4,
    QK_X_SQUEEZE = 1 << 6,      /* a 3-D [out, 1, k] source (a depthwise Conv1d weight) written 2-D [out, k] */
};

/* A family's own rule, for what the shared map (tensor_map.c) does not say: "<layer prefix>N.<hf>" -> "blk.N.<gguf>"
 * (or a whole name outside the layers) with a QK_X_* layout or'ed into permute; gguf NULL: the family refuses the
 * tensor (e.g. split projections in a fused family); gguf "": dropped (a buffer such as GPT-2's causal mask, as the
 * converter skips it). permute (QK_PERM_*) applies only to families with QK_A_PERMUTE_QK. */
typedef struct {
    const char *hf, *gguf;
    int permute;
} qk_name_rule;

/* The naming conventions of Hugging Face checkpoints (qk_arch_desc.names): each row of the shared map
 * (qk_tensor_name) says which conventions spell a GGUF tensor so, as tensor_mapping.py's comments say which models
 * do. Named for the family that brought them in. */
#define QK_N(bit) ((uint64_t)1 << (bit))
#define QK_N_ANY QK_N(0)             /* transformers' Llama names: every family (after its own) */
#define QK_N_LLAMA QK_N(1)           /* model.embed_tokens, model.norm, lm_head: a family naming no global tensor its
                                      * own way reads these without saying so */
#define QK_N_POST_NORMS QK_N(2)      /* post_attention_layernorm -> post_attention_norm (Gemma 2/3, OLMo 2 ...) */
#define QK_N_LN_BIASES QK_N(3)       /* biases of the LayerNorms (StarCoder2, StableLM, PhiMoE) */
#define QK_N_META_FFN QK_N(4)        /* ffn_norm, feed_forward.w1 / w3 / w2 (Meta, InternLM 2, LFM2) */
#define QK_N_FFN_PROJ QK_N(5)        /* feed_forward.{gate,up,down}_proj (Llama 4, Falcon-H1, Jamba) */
#define QK_N_SCORE_BIAS QK_N(6)      /* mlp.gate.e_score_correction_bias (DeepSeek V3, GLM-4.5) */
#define QK_N_ROUTER QK_N(7)          /* mlp.gate, the router (Qwen-MoE, OLMoE, DeepSeek ...) */
#define QK_N_SHARED_EXPERTS QK_N(8)  /* mlp.shared_experts.* (DeepSeek, GLM-4.5, ERNIE 4.5 MoE) */
#define QK_N_QWEN_MOE QK_N(9)        /* mlp.shared_expert.* and its gate (Qwen2-MoE, Qwen 3.5) */
#define QK_N_MIXTRAL QK_N(10)        /* block_sparse_moe.gate (Mixtral, PhiMoE) */
#define QK_N_GRANITEMOE QK_N(11)
#define QK_N_DEEPSEEK QK_N(12)       /* multi-head latent attention */
#define QK_N_EXAONE QK_N(13)
#define QK_N_PHI2 QK_N(14)
#define QK_N_PHI3 QK_N(15)
#define QK_N_PHIMOE QK_N(16)
#define QK_N_STARCODER2 QK_N(17)
#define QK_N_GEMMA4 QK_N(18)
#define QK_N_GLM4 QK_N(19)
#define QK_N_GLM4MOE QK_N(20)
#define QK_N_GPTOSS QK_N(21)
#define QK_N_HUNYUAN QK_N(22)
#define QK_N_JAMBA QK_N(23)
#define QK_N_FALCONH1 QK_N(24)
#define QK_N_LFM2 QK_N(25)
#define QK_N_LFM2MOE QK_N(26)
#define QK_N_LLAMA4 QK_N(27)
#define QK_N_MAMBA QK_N(28)
#define QK_N_META QK_N(29)           /* Meta's original layout (arch_meta.c) */
#define QK_N_ERNIE QK_N(30)
#define QK_N_INTERNLM2 QK_N(31)
#define QK_N_GPT2 QK_N(32)
#define QK_N_NEOX QK_N(33)
#define QK_N_APERTUS QK_N(34)
#define QK_N_NEMOTRONH QK_N(35)

/* A row of the shared map: HF name hf becomes GGUF name gguf in a checkpoint of a naming convention in names. */
typedef struct {
    const char *gguf, *hf;
    uint64_t names; /* QK_N_* */
} qk_tensor_name;
/* Layer tensors (after "<layer prefix>N.", to "blk.N.") and whole names outside the layers, {NULL}-terminated. */
extern const qk_tensor_name qk_layer_names[], qk_global_names[];
/* The first row of map whose hf (by_gguf: gguf) name is name, spelt so by one of names; NULL: none. */
const qk_tensor_name *qk_tensor_map_find(const qk_tensor_name *map, uint64_t names, bool by_gguf, const char *name);
/* mlp.{gate,up}_proj refused: a family's own rules when it keeps them fused in mlp.gate_up_proj (GLM-4, Phi-3) */
extern const qk_name_rule qk_rules_fused_gate_up[];

/* Expert stacking: "model.layers.N.<prefix>E<suffix>" (E = 0..n_expert-1,
 * 2-D [out, in] each) -> blk.N.<gguf>, ne = [in, out, n_expert]; expert E's
 * rows follow expert E-1's, read straight from the source tensors. */
typedef struct {
    const char *prefix, *suffix, *gguf;
} qk_expert_rule;
/* "<prefix>E.{gate,up,down}_proj.weight" -> ffn_{gate,up,down}_exps */
#define QK_EXPERTS_GATE_UP_DOWN(prefix)                                                                             \
    {prefix, ".gate_proj.weight", "ffn_gate_exps.weight"}, {prefix, ".up_proj.weight", "ffn_up_exps.weight"},       \
        {prefix, ".down_proj.weight", "ffn_down_exps.weight"}
/* Meta's expert names "<prefix>E.w1 / w2 / w3.weight" -> ffn_gate_exps / ffn_down_exps / ffn_up_exps */
#define QK_EXPERTS_W123(prefix)                                                                                     \
    {prefix, ".w1.weight", "ffn_gate_exps.weight"}, {prefix, ".w2.weight", "ffn_down_exps.weight"},                 \
        {prefix, ".w3.weight", "ffn_up_exps.weight"}

/* Fused expert stacking: "model.layers.N.<hf>", one 3-D tensor [E, rows,
 * cols] holding every expert, -> blk.N.<gguf>, ne = [cols, rows / n_parts,
 * E]: part `part` of n_parts along each expert's rows (Granite's [gate |
 * up] input_linear split in two). transposed: stored [E, in, out] (Qwen3-VL-
 * MoE's gate_up_proj / down_proj), output row r of an expert is column r of
 * its part. single: the source is one 2-D [rows, cols] matrix (a shared
 * expert's [gate | up]), written 2-D. One source tensor may feed several
 * rules; rows are read straight from the shards, one expert slice at a time. */
typedef struct {
    const char *hf, *gguf;
    int part, n_parts;
    bool transposed, single;
} qk_fused_expert_rule;
/* The three rules of packed experts "<prefix>gate_up_proj" ([gate | up] rows) -> ffn_gate_exps / ffn_up_exps and
 * "<prefix>down_proj" -> ffn_down_exps, stored [E, out, in] or (transposed) [E, in, out] */
#define QK_FUSED_GATE_UP_DOWN(prefix, transposed)                                                                   \
    {prefix "gate_up_proj", "ffn_gate_exps.weight", 0, 2, transposed, false},                                       \
    {prefix "gate_up_proj", "ffn_up_exps.weight", 1, 2, transposed, false},                                         \
    {prefix "down_proj", "ffn_down_exps.weight", 0, 1, transposed, false}

/* A config number written as a KV after the common ones (the converter's
 * family-specific set_gguf_parameters): "<arch>.<gguf>" as F32 or U32 when
 * the key is present and non-zero (Python's `if v := hparams.get(key)`);
 * required: the pinned llama.cpp refuses a file without it. */
typedef struct {
    const char *key, *gguf;
    int type; /* QK_KVR_* (false / true: F32 / U32) */
    bool required;
} qk_kv_rule;
enum {
    QK_KVR_F32 = 0,
    QK_KVR_U32 = 1,
    QK_KVR_BOOL_TRUE,  /* a bool always written: the config's value, else true (hparams.get(key, True)) */
    QK_KVR_COUNT,      /* a u32 always written: the length of the list at key, an "object.key" path (0 if absent) */
    QK_KVR_SWA_PATTERN, /* a bool array always written: per layer, layer_types[i] == "sliding_attention", else
                         * every layer but each 4th (OLMo 3's default) */
    QK_KVR_PER_KV_HEAD, /* a u32 always written: the config value at key // num_key_value_heads (ERNIE 4.5 MoE's
                         * shared-expert width, as Ernie4_5MoeModel computes it) */
    QK_KVR_LAYER_F32,   /* an f32 array under the whole key gguf: per layer, the single value of the checkpoint
                         * tensor "<layer prefix>N.<key>" (Apertus' xIELU parameters) */
};

/* GraniteModel.set_gguf_parameters' multipliers, as rules (Granite, Granite MoE, Granite 4.0-H): attention.scale,
 * embedding_scale, residual_scale, logit_scale (the one llama.cpp's granite needs) */
#define QK_KV_RULES_GRANITE                                                                                         \
    {"attention_multiplier", "attention.scale", QK_KVR_F32, false},                                                 \
    {"embedding_multiplier", "embedding_scale", QK_KVR_F32, false},                                                 \
    {"residual_multiplier", "residual_scale", QK_KVR_F32, false},                                                   \
    {"logits_scaling", "logit_scale", QK_KVR_F32, true}
/* The KVs of rules ({NULL}-terminated), in their order, as the family's set_gguf_parameters writes them after the
 * common ones (arch_hparams.c); QK_FAIL naming a config value a rule cannot take */
int qk_arch_kv_rules(const qk_hf_checkpoint *ck, const qk_conv_plan *p, const qk_kv_rule *rules, qk_gguf_writer *w,
                     qk_err *err);

/* key takes the value of from when the config has from (the converter
 * reading another key for the same hyper-parameter). */
typedef struct {
    const char *key, *from;
} qk_cfg_alias;

/* A config key the HF config class defaults, as a JSON literal. */
typedef struct {
    const char *key, *json;
} qk_cfg_default;

enum {
    QK_A_PERMUTE_QK = 1 << 0,   /* HF rotate-half rows -> llama.cpp's adjacent pairs ("llama"-style rope) */
    QK_A_NORM_PLUS1 = 1 << 1,   /* *norm.weight stored as w - 1: +1 (Gemma) */
    QK_A_DROP_LM_HEAD = 1 << 2, /* GemmaModel/Gemma2Model filter lm_head.weight out */
    QK_A_VOCAB_ROWS = 1 << 3,   /* Gemma3: token_embd cut to the tokenizer's vocabulary */
    QK_A_MULTIMODAL = 1 << 4,   /* the text model of a multimodal release (see above) */
    QK_A_PARTIAL_ROPE = 1 << 5, /* rope.dimension_count = int(partial_rotary_factor * hidden) / heads */
    QK_A_PARTIAL_ROPE_HD = 1 << 6, /* rope.dimension_count = int(head_dim * partial_rotary_factor) (GLM-4) */
    QK_A_ROPE_YARN = 1 << 7,    /* rope_scaling "yarn" accepted: TextModel's rope.scaling.* KVs (qk_arch_yarn_kvs) */
    QK_A_MXFP4 = 1 << 8,        /* quantization_config.quant_method "mxfp4" accepted (gpt-oss: layer_tensor reads it) */
    QK_A_MLA = 1 << 9,          /* DeepSeek's MLA: head_count_kv 1 (MQA of the compressed kv), the head sizes and rope
                                 * dimensions written by extra_kvs instead of the common ones */
    QK_A_MTP_LEFT_OUT = 1 << 10, /* layers >= num_hidden_layers (multi-token prediction) are left out, counted */
    QK_A_EXPERTS_OPTIONAL = 1 << 11, /* an expert count (n_expert_key) of 0 or none makes the model dense (Granite 4.0-H
                                      * micro, dense Nemotron-H) */
    QK_A_EXPERT_LAYERS_OWN = 1 << 12, /* which layers have experts is the family's check's to say (Nemotron-H's
                                       * pattern): the common check only sees that a layer with some has them all */
    QK_A_NO_ATTENTION = 1 << 13, /* attention-free (Mamba-2): no head counts in the config, none planned */
};

struct qk_arch_desc {
    const char *hf;                  /* config.json architectures[0] */
    /* the text model's model_type (text_config's, else the top level's) this description covers, matched after hf:
     * one HF class holding different text models (Mistral3ForConditionalGeneration: Mistral Small 3.x's "mistral",
     * Ministral 3's "ministral3") gets one description per model_type; NULL: any */
    const char *text_model_type;
    const char *gguf;                /* general.architecture */
    const char *family;              /* for listings: "Gemma 3", "Qwen2-VL / Qwen2.5-VL" */
    /* what the pinned llama.cpp's graph computes differently from the Hugging Face model, for a family converted
     * anyway because llama.cpp's converter does (said in the plan, convert's output and info); NULL: nothing */
    const char *caveat;
    /* the llama.cpp pre-tokenizer convert_hf_to_gguf names this family's own tokenizer (its hash's name), which
     * settles a pre_tokenizer configuration several pre-tokenizers share (qk_pre_detect); NULL: none needed */
    const char *pre;
    unsigned flags;                  /* QK_A_* */
    qk_kv_style kv;
    /* the naming conventions (QK_N_*) of its checkpoints: which rows of the shared map (tensor_map.c) it reads */
    uint64_t names;
    /* the family's own layer rules (first match wins; before the shared map), {NULL}-terminated; may be NULL */
    const qk_name_rule *rules;
    const char *layer_prefix;        /* of layer tensors, before the layer number; NULL: "model.layers." */
    const char *strip_prefix;        /* removed from the front of every name first (GPT-2's "transformer."); may be NULL */
    const qk_name_rule *globals;     /* its own rules for whole names (before the shared map); may be NULL */
    const char *const *required;     /* per-layer GGUF names (after "blk.N."), NULL-terminated */
    const qk_expert_rule *experts;   /* {NULL}-terminated; NULL for dense families */
    const qk_fused_expert_rule *fused_experts; /* {NULL}-terminated; experts as 3-D tensors (may be NULL) */
    /* config keys of the expert counts (MoE); n_used_key NULL: the family's check reads the used count (Hunyuan's
     * per-layer moe_topk list) */
    const char *n_expert_key, *n_used_key;
    const char *n_dense_lead_key;    /* config key of the number of leading dense layers (no experts); may be NULL */
    /* whole-name prefixes, each followed by a decimal index, of tensors the converter filters out (ERNIE 4.5 MoE's
     * multi-token-prediction block "model.mtp_block.0."); NULL-terminated, may be NULL */
    const char *const *skip_prefixes;
    const qk_cfg_default *defaults;  /* {NULL}-terminated; applied when a key is absent; may be NULL */
    const qk_cfg_alias *aliases;     /* {NULL}-terminated; applied before the defaults; may be NULL */
    int64_t head_dim_default;        /* 0: hidden_size / num_attention_heads */
    int ff_per_hidden;               /* > 0: intermediate_size = this x hidden_size when the config has none (GPT-2) */
    const char *mrope_key;           /* rope_scaling key of the M-RoPE sections (-> rope.dimension_sections) */
    const qk_kv_rule *kvs;           /* {NULL}-terminated; may be NULL */
    /* a rope_scaling type accepted as plain rope (no tensor, no KV), as the
     * converter does: "dynamic" NTK only changes HF's rope past
     * max_position_embeddings, which llama.cpp does not reproduce */
    const char *rope_plain;
    /* a check of what llama.cpp's graph hard-codes against the config (e.g.
     * SmolLM3's NoPE every 4th layer); NULL: none. cfg is the text config. */
    int (*check)(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err);
    /* QK_KV_OWN: writes every architecture KV (general.file_type included); ck->config is the text config */
    int (*write_kvs)(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, uint32_t file_type,
                     qk_err *err);
    const char *output_norm; /* the GGUF name of the final norm; NULL: "output_norm.weight" */
    /* the family's own generated tensors (appended to p->tensors: room for 2 is reserved, each ->generated
     * malloc'ed, freed with the plan), instead of the shared rope_freqs / rope factors; NULL: the shared ones */
    int (*generate)(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err);
    /* a family's own layout of some layer tensors (gpt-oss's 3-D experts and MXFP4 blocks), asked before the
     * name rules with rest = the name after "<layer prefix>N.": 1 when it planned (or deliberately consumed)
     * src, appending to p->tensors (room for two per source tensor); 0 when src is not its; QK_FAIL. NULL: none. */
    int (*layer_tensor)(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *rest,
                        qk_conv_plan *p, qk_err *err);
    /* the layers' state-space mixer (Mamba, Jamba, Falcon-H1), asked after layer_tensor; NULL: none */
    const struct qk_ssm_mixer *ssm;
    /* KVs after the common ones (QK_KV_LLAMA), the family's set_gguf_parameters; NULL: none */
    int (*extra_kvs)(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err);
    /* config key of layers after num_hidden_layers that are converted too (GLM-4.5's MTP "nextn" layers: the
     * converter counts them in block_count); NULL: none */
    const char *extra_layers_key;
    /* config key of the interleave step of sparse layers (Llama 4): layer l has experts iff (l + 1) % step == 0;
     * NULL: every layer after the leading dense ones */
    const char *moe_step_key;
    /* the GGUF architecture when the converter picks it by the config (GraniteHybridModel: "granite" for a model
     * without Mamba layers), given the text config; NULL: gguf always */
    const char *(*arch_of)(const cJSON *cfg);
    /* after the plan is checked: the family's changes to its planned tensors (Falcon-H1's multipliers folded into
     * them); NULL: none */
    int (*finish)(const qk_hf_checkpoint *ck, qk_conv_plan *p, qk_err *err);
};

/* Rows of DeepSeek's split kv_b_proj (QK_X3_MLA_KB / QK_X3_MLA_VB; arch_deepseek.c). */
int qk_arch_mla_rows(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, int64_t row0, int64_t nrows, float *dst,
                     qk_err *err);

/* Rows of a QK_X3_QWEN35 tensor (arch_qwen35.c). */
int qk_arch_qwen35_rows(const qk_hf_checkpoint *ck, const qk_conv_tensor *t, int64_t row0, int64_t nrows, float *dst,
                        qk_err *err);

/* TextModel.set_gguf_parameters' YaRN keys (QK_A_ROPE_YARN; arch_gptoss.c): rope.scaling.type "yarn",
 * rope.scaling.factor, rope.scaling.original_context_length, yarn_beta_fast / yarn_beta_slow when given. */
int qk_arch_yarn_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err);

/* EXAONE 4's sliding-window layout (arch_exaone4.c): the check refusing what llama.cpp's exaone4 cannot run, and
 * Exaone4Model's attention.sliding_window / sliding_window_pattern KVs. */
int qk_arch_exaone4_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err);
int qk_arch_exaone4_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, qk_err *err);

/* A family's KV "<p->arch>.<suffix>" (arch_kv.c): qk_gguf_writer_add_* under that key. */
int qk_arch_kv_u32(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, uint32_t v, qk_err *err);
int qk_arch_kv_f32(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, float v, qk_err *err);
int qk_arch_kv_bool(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, bool v, qk_err *err);
int qk_arch_kv_str(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, const char *v, qk_err *err);
int qk_arch_kv_arr(qk_gguf_writer *w, const qk_conv_plan *p, const char *suffix, uint32_t type, const void *data,
                   uint64_t n, qk_err *err);

/* The sizes TextModel.set_gguf_parameters opens with, as a family's own writer (QK_KV_OWN) has them: a value
 * QK_KV_ABSENT is not written (the config lacks it), an array holds one value per layer. */
#define QK_KV_ABSENT INT64_MIN
typedef struct {
    int64_t n_ctx, n_embd, n_ff;
    const int32_t *ff_per_layer;  /* feed_forward_length per layer instead of n_ff; NULL: n_ff */
    const int32_t *head_count_kv; /* per layer; NULL: p->n_head_kv */
} qk_text_sizes;
/* Their KVs in TextModel's order (arch_kv.c): block_count, context_length, embedding_length, feed_forward_length,
 * attention.head_count (p->n_head), attention.head_count_kv. */
int qk_arch_text_size_kvs(qk_gguf_writer *w, const qk_conv_plan *p, const qk_text_sizes *s, qk_err *err);
/* A family's test of layer l (e.g. "is a Mamba layer"), QK_FAIL naming what is wrong in the config */
typedef int (*qk_layer_test)(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t l, bool *yes, qk_err *err);
/* attention.head_count_kv per layer of a hybrid model (kv[0..p->n_layer)): p->n_head_kv on the attention layers, 0
 * on those not_attention says hold a mixer instead; QK_FAIL past 1024 layers or when the test fails */
int qk_arch_kv_heads_by_layer(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_layer_test not_attention,
                              int32_t kv[1024], qk_err *err);

/* The registry (arch_registry.c): every description, in listing order. */
const qk_arch_desc *qk_arch_registry_at(size_t i);
size_t qk_arch_registry_size(void);

/* arch_refused.c: why an architecture the registry lacks is refused, when it is known; else NULL. text_model_type
 * as qk_arch_desc.text_model_type (may be NULL). */
const char *qk_arch_refusal(const char *hf, const char *text_model_type);

/* Per-layer tensors shared by the families: the Llama layout. */
extern const char *const qk_req_llama[];
/* a dense layer's MLP: ffn_gate, ffn_up, ffn_down (the dense layers of the MoE families) */
extern const char *const qk_req_dense_ffn[];
/* OLMo 2's layer (OLMo 3, EXAONE 4): post-attention and post-MLP norms instead of pre-norms, q / k norms */
extern const char *const qk_req_post_norms[];
/* Llama in Meta's original layout (arch_meta.c): not in the registry, chosen for a checkpoint whose config
 * came from params.json (qk_hf_checkpoint.meta_layout) */
extern const qk_arch_desc qk_arch_meta_llama;
/* A layer tensor's rule for a family (rest: the name after "<layer prefix>N."): its own rules, then the shared map's
 * rows of its conventions, then the QK_N_ANY rows (attn_q / attn_k with QK_PERM_Q / QK_PERM_K); false: none */
bool qk_arch_layer_name(const qk_arch_desc *ad, const char *rest, qk_name_rule *out);
/* A whole name's rule for a family by its hf (by_gguf: gguf) name: its own globals, then the shared map; false: none */
bool qk_arch_global_name(const qk_arch_desc *ad, bool by_gguf, const char *name, qk_name_rule *out);

/* Mixture-of-experts layouts several families share (arch_moe_layout.c). */
/* mlp.experts.E.{gate,up,down}_proj.weight stacked into ffn_{gate,up,down}_exps (Qwen-MoE, OLMoE, DeepSeek, GLM-4.5,
 * ERNIE 4.5 MoE, Qwen 3.5) */
extern const qk_expert_rule qk_experts_mlp[];
/* block_sparse_moe.experts.E.w1 / w2 / w3 (gate, down, up) stacked into ffn_{gate,down,up}_exps (Mixtral, PhiMoE) */
extern const qk_expert_rule qk_experts_w123[];
/* transformers 5's packed form of the same experts, as Qwen2MoeModel.modify_tensors splits it: mlp.experts.
 * gate_up_proj [E, 2 I, H] ([gate | up] rows) -> ffn_gate_exps / ffn_up_exps, down_proj [E, H, I] -> ffn_down_exps */
extern const qk_fused_expert_rule qk_fused_experts_packed[];

/* Granite MoE's layout (arch_moe_more.c), shared with Granite 4.0-H (arch_granitehybrid.c): its names
 * (QK_N_GRANITEMOE: the router block_sparse_moe.router.layer, shared_mlp.output_linear); the fused experts
 * input_linear [E, 2 I, H] -> ffn_gate_exps / ffn_up_exps, output_linear -> ffn_down_exps, shared_mlp.input_linear
 * [2 S, H] -> ffn_gate_shexp / ffn_up_shexp; its multipliers and shared width as KV rules */
extern const qk_fused_expert_rule qk_fused_experts_granitemoe[];
/* GraniteModel drops head_dim (any other than hidden / heads refused); a shared expert only with a
 * shared_intermediate_size its tensors match */
int qk_arch_granitemoe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_err *err);

/* The Mamba-2 mixer of GraniteHybridModel and the classes derived from it (arch_mamba2.c). */
typedef struct {
    int64_t n_embd;  /* hidden_size */
    int64_t d_model; /* the converter's d_model: mamba_head_dim if given, else hidden_size */
    int64_t d_conv, d_state, n_group, n_head, expand, d_inner;
    int64_t d_head;  /* d_head / mamba_d_head when given, else 0 */
} qk_mamba2_dims;
/* GraniteHybridModel.find_hparam: the first of keys, then of "mamba_" + keys, present in the config (NULL-ended) */
bool qk_mamba2_hparam(const cJSON *c, const char *const *keys, int64_t *v);
/* The sizes the converter finds; inner_by_heads: d_inner = num_heads x d_model (NemotronHModel), else expand x
 * d_model (GraniteHybridModel). QK_FAIL when one is missing or the groups do not divide the heads. */
int qk_mamba2_dims_of(const qk_hf_checkpoint *ck, bool inner_by_heads, qk_mamba2_dims *d, qk_err *err);
/* Mixer tensor w (the name after the mixer's prefix: "in_proj.weight", "A_log" ...) of layer `layer` planned as
 * llama.cpp's ssm_* tensor: 1, or QK_FAIL for a wrong shape, a non-float dtype or an unknown name. */
int qk_mamba2_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *w,
                     const qk_mamba2_dims *d, qk_conv_plan *p, qk_err *err);
/* QK_FAIL when the config's time_step_limit clamps dt ([0, inf) is the default), which llama.cpp's Mamba-2 does not */
int qk_mamba2_check_dt_limit(const qk_hf_checkpoint *ck, qk_err *err);
/* "<arch>.ssm.conv_kernel", state_size, group_count, inner_size, time_step_rank, in GraniteHybridModel's order */
int qk_mamba2_kvs(qk_gguf_writer *w, const qk_conv_plan *p, const qk_mamba2_dims *d, qk_err *err);
/* "blk.<layer>.<gguf>" read straight from src, ne {ne0, ne1} (ne1 0: 1-D), in the converter's F32 set when 1-D, a
 * norm, ssm_conv1d or not ending in ".weight" */
qk_conv_tensor *qk_plan_layer_src(qk_conv_plan *p, int layer, const char *gguf, const qk_hf_tensor *src, int64_t ne0,
                                  int64_t ne1);
/* QK_FAIL naming s and its dtype when it is not a float type (F32, F16, BF16, an FP8) */
int qk_float_check(const qk_hf_checkpoint *ck, const qk_st_tensor *s, qk_err *err);
/* QK_FAIL naming s and the shape [a (, b (, c))] of n dims the config's sizes give it, when s has another */
int qk_shape_check(const qk_hf_checkpoint *ck, const qk_st_tensor *s, int n, int64_t a, int64_t b, int64_t c,
                   qk_err *err);

/* Layer l of a DeepSeek-style MoE: before lead (first_k_dense_replace) a dense MLP (qk_req_dense_ffn), after it
 * sparse[0..n_sparse) (the router, ..., the shared experts when the family has them); QK_FAIL naming the first tensor
 * it lacks, a dense layer called dense_what ("dense"), else QK_OK */
int qk_arch_moe_layer_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t l, int64_t lead,
                            const char *const *sparse, size_t n_sparse, const char *dense_what, qk_err *err);

/* The Mamba-1 mixer of MambaModel and JambaModel (arch_mamba1.c). */
typedef struct {
    int64_t d_model, d_conv, d_inner, d_state, dt_rank;
} qk_mamba1_dims;
/* QK_FAIL naming the config when a size is not a positive integer in range */
int qk_mamba1_dims_check(const qk_hf_checkpoint *ck, const qk_mamba1_dims *d, qk_err *err);
/* Mixer tensor w (the name after the mixer's prefix: "in_proj.weight", "A_log" ...) of layer `layer` planned as
 * llama.cpp's ssm_* tensor (norms: Jamba's dt / B / C norm weights accepted): 1, or QK_FAIL for a wrong shape, a
 * non-float dtype or an unknown name. */
int qk_mamba1_tensor(const qk_hf_checkpoint *ck, const qk_hf_tensor *src, int layer, const char *w,
                     const qk_mamba1_dims *d, bool norms, qk_conv_plan *p, qk_err *err);

/* The sizes Mamba2Model.set_gguf_parameters writes (MambaModel's the same without a group count), and
 * FalconH1Model, derived from it, overwrites in place: n_ctx, n_ff and n_head (the attention-free models' 2^20, 0
 * and 0) */
typedef struct {
    int64_t n_ctx, n_embd, n_ff, n_head;
    int64_t d_conv, d_inner, d_state, dt_rank;
    int64_t n_group; /* < 0: none (Mamba-1) */
} qk_ssm_model_sizes;
/* Their KVs in the converter's order (arch_mamba.c): context_length, embedding_length, feed_forward_length,
 * attention.head_count, block_count, ssm.conv_kernel, ssm.inner_size, ssm.state_size, ssm.time_step_rank,
 * ssm.group_count, then attention.layer_norm_rms_epsilon (layer_norm_epsilon / rms_norm_eps, else 1e-5); the file
 * type is the caller's, after the family's own */
int qk_ssm_model_kvs(const qk_hf_checkpoint *ck, const qk_conv_plan *p, qk_gguf_writer *w, const qk_ssm_model_sizes *s,
                     qk_err *err);

/* A layer's state-space mixer: "<layer prefix>N.<prefix><w>" planned by qk_mamba2_tensor (dims2 given) or
 * qk_mamba1_tensor (dims1; norms: Jamba's dt / B / C norm weights accepted) with the sizes the config gives; the
 * sizes' function fails naming what is wrong. */
typedef struct qk_ssm_mixer {
    const char *prefix;
    int (*dims1)(const qk_hf_checkpoint *ck, qk_mamba1_dims *d, qk_err *err);
    int (*dims2)(const qk_hf_checkpoint *ck, qk_mamba2_dims *d, qk_err *err);
    bool norms;
} qk_ssm_mixer;

/* Qwen's MoE configs against llama.cpp's graph, which makes every layer sparse and renormalises the top-k expert
 * weights or not (renorm): mlp_only_layers empty, decoder_sparse_step 1, norm_topk_prob == renorm, an absent one
 * read as the config class's default (topk_default). */
int qk_arch_qwen_moe_check(const qk_hf_checkpoint *ck, const qk_conv_plan *p, bool renorm, bool topk_default,
                           qk_err *err);

/* The planned tensor named name, NULL when the plan has none. */
const qk_conv_tensor *qk_plan_tensor(const qk_conv_plan *p, const char *name);
/* The planned tensor "blk.<layer>.<what>", NULL when the plan has none. */
const qk_conv_tensor *qk_plan_layer_tensor(const qk_conv_plan *p, uint32_t layer, const char *what);
/* Of names[0..n) (a NULL entry ends the list early: n SIZE_MAX for a NULL-terminated one), the first that layer
 * `layer` lacks (qk_plan_layer_missing) or has (qk_plan_layer_extra) as "blk.<layer>.<name>"; NULL: none. */
const char *qk_plan_layer_missing(const qk_conv_plan *p, uint32_t layer, const char *const *names, size_t n);
const char *qk_plan_layer_extra(const qk_conv_plan *p, uint32_t layer, const char *const *names, size_t n);
/* QK_FAIL "<dir>: <kind> layer <layer> lacks the tensor for blk.<layer>.<name>" for the first of the NULL-terminated
 * names the layer lacks, else QK_OK */
int qk_plan_layer_need(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t layer, const char *kind,
                       const char *const *names, qk_err *err);
/* Layer i's kind in the text config's layer_types, which must list p->n_layer strings, each a or b: *is_a; QK_FAIL
 * naming what is wrong otherwise */
int qk_arch_layer_kind(const qk_hf_checkpoint *ck, const qk_conv_plan *p, uint32_t i, const char *a, const char *b,
                       bool *is_a, qk_err *err);

/* TextModel.__init__'s view of the rope parameters: rope_parameters (or the
 * older rope_scaling), with full_attention / sliding_attention sub-objects
 * when present and the top-level keys mirrored in otherwise. */
typedef struct {
    const cJSON *full;      /* the object describing global layers (NULL if none) */
    const char *type;       /* rope_type (or legacy type); NULL if absent */
    bool has_theta, has_theta_swa, has_orig_ctx;
    double theta, theta_swa, partial_rotary_factor;
    int64_t orig_ctx;       /* original_max_position_embeddings */
} qk_rope_view;

void qk_rope_view_init(const cJSON *cfg, qk_rope_view *r);

/* Generated tensors (rope_freqs, rope_factors_long/short) and plan facts the
 * KVs need; appended to p->tensors (room for 2 is reserved). ck->config is
 * the text model's config (the plan's). */
int qk_arch_generated(const qk_hf_checkpoint *ck, const struct qk_arch_desc *ad, int64_t head_dim, qk_conv_plan *p,
                      qk_err *err);

#endif
