/* cpu_features.h - which SIMD kernel variant runs on this machine.
 *
 * Detection (once, thread-safe): x86-64 uses CPUID plus XGETBV so an ISA
 * counts only if the OS saves its registers too:
 *   AVX2    = AVX2 + AVX + F16C and XCR0 SSE|AVX state (our AVX2 kernels
 *             avoid FMA, so FMA is not required);
 *   AVX-512 = AVX512 F+BW+VL+DQ, the AVX2 set, and XCR0 opmask|ZMM state.
 * aarch64 always has NEON. An ISA is "available" only if this build also
 * contains its kernels.
 *
 * The active ISA is the best available one, unless the environment variable
 * QUANTKIT_ISA = scalar|avx2|avx512|neon asks for another available one. An
 * unknown or unavailable request is ignored (the best ISA stays active) and
 * qk_isa_env_error() returns a one-line explanation for the CLI to show; the
 * library itself never prints.
 */
#ifndef QK_CPU_FEATURES_H
#define QK_CPU_FEATURES_H

#include <stdbool.h>

#include "qk_error.h"

typedef enum qk_isa {
    QK_ISA_SCALAR = 0,
    QK_ISA_AVX2,
    QK_ISA_AVX512,
    QK_ISA_NEON,
    QK_ISA_COUNT
} qk_isa;

/* "scalar", "avx2", "avx512", "neon"; "?" for anything else. */
const char *qk_isa_name(qk_isa isa);

/* Parses a name as accepted in QUANTKIT_ISA; returns QK_FAIL for unknown ones. */
int qk_isa_from_name(const char *name, qk_isa *out, qk_err *err);

/* True if the CPU/OS supports isa and this build has kernels for it. */
bool qk_isa_available(qk_isa isa);

/* Fills out[] (room for QK_ISA_COUNT) with the available ISAs, scalar first,
 * and returns how many there are. */
int qk_isa_list_available(qk_isa *out);

/* The best available ISA (ignores QUANTKIT_ISA). */
qk_isa qk_isa_best(void);

/* The ISA the kernel table uses: QUANTKIT_ISA if valid, else qk_isa_best(),
 * unless qk_isa_force() chose one. */
qk_isa qk_isa_active(void);

/* Forces the active ISA (e.g. from a CLI flag). Fails, naming the ISA and
 * what this machine offers, if isa is not available. */
int qk_isa_force(qk_isa isa, qk_err *err);

/* NULL, or why QUANTKIT_ISA was ignored. */
const char *qk_isa_env_error(void);

#endif
