/* hf_forward_moe2.h - the reference forward pass's readers of gpt-oss's
 * expert tensors (transformers' modeling_gpt_oss.py GptOssExperts), kept
 * apart from hf_forward.c: the experts as per-expert nn.Linear weights,
 * from either published layout. Test support only. */
#ifndef QK_HF_FORWARD_MOE2_H
#define QK_HF_FORWARD_MOE2_H

#include <stddef.h>

#include "hf_forward.h"

/* The E experts of the layer whose tensors start with `pre` ("model.layers.N.")
 * as row-major [out][in] weights and biases (each one malloc'd block the
 * caller frees): gate, up [E][I][H], down [E][H][I], gate_b, up_b [E][I],
 * down_b [E][H]. Read from mlp.experts.gate_up_proj [E, H, 2I] (x @ W; gate
 * the even columns, up the odd ones) and down_proj [E, I, H], or from their
 * MXFP4 form (<name>_blocks U8 [E, R, C/32, 16], element 2j in the low nibble
 * of byte j; <name>_scales U8 [E, R, C/32], value = fp4 x 2^(scale - 127),
 * transformers' convert_moe_packed_tensors, whose [E, R, C] result is
 * transposed to the float layout); biases gate_up_proj_bias [E, 2I],
 * down_proj_bias [E, H]. 0, or -1 with a reason in err. */
int hf_gptoss_experts(hf_tensor_get get, void *ctx, const char *pre, int E, int H, int I, float **gate, float **up,
                      float **down, float **gate_b, float **up_b, float **down_b, char *err, size_t errlen);

#endif
