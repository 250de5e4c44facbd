/* llama_run.h - running models and tokenizers in the real llama.cpp, for
 * tests: load a GGUF, evaluate logits, greedy-generate, tokenize.
 *
 * Built on llama_ref.h; every function returns false on failure with a
 * reason in llama_run_error() (never aborts the test process on bad input
 * that llama.cpp itself reports; a crash inside llama.cpp is a test failure
 * by itself).
 */
#ifndef QK_LLAMA_RUN_H
#define QK_LLAMA_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

const char *llama_run_error(void);

typedef struct llama_run_model llama_run_model;

/* Loads a model (GGUF path; a split set by its first shard) on the CPU. With
 * vocab_only, only the tokenizer is loaded. NULL on failure. */
llama_run_model *llama_run_load(const char *path, bool vocab_only);
/* Loads a split set from explicit shard paths. */
llama_run_model *llama_run_load_splits(const char **paths, size_t n);
void llama_run_free(llama_run_model *m);

int32_t llama_run_n_vocab(const llama_run_model *m);
int32_t llama_run_bos(const llama_run_model *m);
uint64_t llama_run_n_params(const llama_run_model *m);
/* Metadata value as text (llama_model_meta_val_str); false if absent. */
bool llama_run_meta(const llama_run_model *m, const char *key, char *buf, size_t n);

/* Tokenizes text; returns the number of ids (<= max) or -1 on failure. */
int llama_run_tokenize(const llama_run_model *m, const char *text, size_t len, bool add_special,
                       bool parse_special, int32_t *ids, int max);

/* Contexts created after llama_run_f32_attention(true) keep K and V in F32
 * with flash attention off, until it is called with false (default:
 * llama.cpp's defaults, an F16 KV cache and flash attention auto). For deep
 * tiny models whose F16 rounding of K and V would otherwise swamp an F32
 * comparison (64 layers: ~2e-3 of the largest logit). */
void llama_run_f32_attention(bool on);

/* Evaluates tokens[0..n) in one batch from position 0 and copies the logits
 * of every position into logits (n * n_vocab floats). */
bool llama_run_logits(llama_run_model *m, const int32_t *tokens, int n, float *logits);

/* Greedy (argmax) generation: starts from prompt[0..n_prompt), appends
 * n_gen tokens into out. Uses one thread for reproducibility. */
bool llama_run_greedy(llama_run_model *m, const int32_t *prompt, int n_prompt, int n_gen, int32_t *out);

/* Loads path and evaluates a 3-token prompt (BOS, 5, 9): true when llama.cpp
 * loads it and every logit is finite and they are not all equal (a model
 * that decodes, not a proof of its values). */
bool llama_run_decodes(const char *path);

#endif
