/* info_hf.h - the parts of `quantkit info` for safetensors files, Hugging
 * Face folders, and the CPU. Return process exit codes. */
#ifndef QK_INFO_HF_H
#define QK_INFO_HF_H

#include <stdbool.h>

int qk_info_hf(const char *path, bool json, bool all);
int qk_info_cpu(bool json);

#endif
