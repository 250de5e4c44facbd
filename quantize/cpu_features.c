#include "cpu_features.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define QK_X86 1
#include <cpuid.h>
#elif defined(__aarch64__)
#define QK_ARM64 1
#endif

static const char *const k_isa_names[QK_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};

static bool g_cpu_has[QK_ISA_COUNT];
static qk_isa g_env_isa;
static char g_env_error[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static _Atomic int g_forced = -1;

const char *qk_isa_name(qk_isa isa) {
    return ((unsigned)isa < QK_ISA_COUNT) ? k_isa_names[isa] : "?";
}

int qk_isa_from_name(const char *name, qk_isa *out, qk_err *err) {
    for (int i = 0; i < QK_ISA_COUNT; i++) {
        if (name && strcmp(name, k_isa_names[i]) == 0) {
            *out = (qk_isa)i;
            return QK_OK;
        }
    }
    return qk_fail(err, "ISA '%s' is unknown (expected scalar, avx2, avx512 or neon)", name ? name : "(null)");
}

#ifdef QK_X86
static unsigned long long xgetbv0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

static void detect_x86(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const bool osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return;
    const unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return; /* SSE and AVX state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    const bool avx2 = (b >> 5) & 1;
    const bool f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    g_cpu_has[QK_ISA_AVX2] = avx2 && f16c;
    g_cpu_has[QK_ISA_AVX512] = g_cpu_has[QK_ISA_AVX2] && f && dq && bw && vl && (xcr0 & 0xE0) == 0xE0;
}
#endif

static qk_isa best_detected(void) {
    if (g_cpu_has[QK_ISA_AVX512]) return QK_ISA_AVX512;
    if (g_cpu_has[QK_ISA_AVX2]) return QK_ISA_AVX2;
    if (g_cpu_has[QK_ISA_NEON]) return QK_ISA_NEON;
    return QK_ISA_SCALAR;
}

/* Runs once (pthread_once): must not call the public functions, which wait
 * for it. */
static void detect(void) {
    g_cpu_has[QK_ISA_SCALAR] = true;
#ifdef QK_X86
    detect_x86();
#endif
#ifdef QK_ARM64
    g_cpu_has[QK_ISA_NEON] = true;
#endif
    g_env_isa = best_detected();
    const char *env = getenv("QUANTKIT_ISA");
    if (env && *env) {
        qk_isa want = QK_ISA_SCALAR;
        qk_err e;
        if (qk_isa_from_name(env, &want, &e) != QK_OK) {
            snprintf(g_env_error, sizeof g_env_error, "QUANTKIT_ISA=%s ignored: %s; using %s", env, e.msg,
                     qk_isa_name(g_env_isa));
        } else if (!g_cpu_has[want]) {
            snprintf(g_env_error, sizeof g_env_error,
                     "QUANTKIT_ISA=%s ignored: this CPU or build does not support %s; using %s", env,
                     qk_isa_name(want), qk_isa_name(g_env_isa));
        } else {
            g_env_isa = want;
        }
    }
}

static void ensure(void) { pthread_once(&g_once, detect); }

bool qk_isa_available(qk_isa isa) {
    if ((unsigned)isa >= QK_ISA_COUNT) return false;
    ensure();
    return g_cpu_has[isa];
}

int qk_isa_list_available(qk_isa *out) {
    int n = 0;
    for (int i = 0; i < QK_ISA_COUNT; i++)
        if (qk_isa_available((qk_isa)i)) out[n++] = (qk_isa)i;
    return n;
}

qk_isa qk_isa_best(void) {
    ensure();
    return best_detected();
}

qk_isa qk_isa_active(void) {
    ensure();
    const int f = atomic_load(&g_forced);
    return f >= 0 ? (qk_isa)f : g_env_isa;
}

int qk_isa_force(qk_isa isa, qk_err *err) {
    if (!qk_isa_available(isa)) {
        char have[64] = "";
        for (int i = 0; i < QK_ISA_COUNT; i++) {
            if (!g_cpu_has[i]) continue;
            if (have[0]) strncat(have, ", ", sizeof have - strlen(have) - 1);
            strncat(have, k_isa_names[i], sizeof have - strlen(have) - 1);
        }
        return qk_fail(err, "ISA '%s' is not available on this machine (available: %s)", qk_isa_name(isa), have);
    }
    atomic_store(&g_forced, (int)isa);
    return QK_OK;
}

const char *qk_isa_env_error(void) {
    ensure();
    return g_env_error[0] ? g_env_error : NULL;
}
