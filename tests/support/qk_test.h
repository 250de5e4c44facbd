/* qk_test.h - a zero-dependency test framework for quantkit's tests.
 *
 * Each tests/<folder>/test_*.c is one executable (registered with ctest). Write
 *   static void test_something(void) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *   int main(void) { RUN(test_something); return qk_test_summary(); }
 * A failed CHECK prints file:line and the expression and marks the test
 * failed; the test function continues (so one run reports every failure).
 * qk_test_summary() prints "N passed, N skipped, N failed" and returns the
 * exit code: 1 if anything failed, else 77 if anything was skipped (ctest's
 * SKIP_RETURN_CODE: "Skipped", never "Passed"), else 0.
 *
 * Parts. What needs something this machine may lack (a fixture, an ISA) is a
 * part of its own, so that its skip never hides the checks that can run:
 *   int main(int argc, char **argv) {
 *       qk_test_init(argc, argv);
 *       RUN(test_always);                          part "main"
 *       RUN_PART("fixtures", test_on_fixture);     part "fixtures"
 *       if (qk_test_part("avx2")) run_avx2_tests(); RUN()s inside: part "avx2"
 *       return qk_test_summary();
 *   }
 * CMake (qk_add_test) finds the part names in the source (the literal first
 * argument of RUN_PART / qk_test_part; plain RUN()s written in main() make
 * part "main") and registers one ctest entry per part: "test_x" runs `test_x --part main`, "test_x:fixtures" runs
 * `test_x --part fixtures`. Without --part (at a shell) every part runs.
 * Per-ISA parts avx2/avx512/neon: KC_RUN_ISA_PARTS (kernel_cases.h), whose
 * name in a source also registers them.
 * A test function that cannot run here calls qk_test_skip(why) and returns;
 * qk_test_fixture() does that itself when the fixture is absent.
 */
#ifndef QK_TEST_H
#define QK_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int qk_test_checks_failed;   /* failed CHECKs in the current test */
extern int qk_test_n_passed, qk_test_n_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            qk_test_checks_failed++;                                         \
        }                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,   \
                    #cond);                                                    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            qk_test_checks_failed++;                                           \
        }                                                                      \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
    do {                                                                       \
        long long qk_a_ = (long long)(a), qk_b_ = (long long)(b);              \
        if (qk_a_ != qk_b_) {                                                  \
            fprintf(stderr, "%s:%d: CHECK_EQ_INT failed: %s == %lld, %s == %lld\n", \
                    __FILE__, __LINE__, #a, qk_a_, #b, qk_b_);                 \
            qk_test_checks_failed++;                                           \
        }                                                                      \
    } while (0)

/* Checks that strings a and b are equal (NULL equals nothing). */
#define CHECK_STR(a, b) qk_test_check_str(__FILE__, __LINE__, (a), (b))

/* Checks that string `hay` contains `needle` (for error messages). */
#define CHECK_CONTAINS(hay, needle) qk_test_check_contains(__FILE__, __LINE__, (hay), (needle))

void qk_test_check_str(const char *file, int line, const char *a, const char *b);
void qk_test_check_contains(const char *file, int line, const char *hay, const char *needle);

#define RUN(fn) qk_test_run(#fn, fn)
#define RUN_PART(part, fn) qk_test_run_part(part, #fn, fn)

/* Reads `--part NAME` (exits 2 on any other argument). */
void qk_test_init(int argc, char **argv);
/* Runs fn (as the current part's test `name`) if this run selects the part. */
void qk_test_run(const char *name, void (*fn)(void));
/* Runs fn as a test of `part` if this run selects that part; the current
 * part is unchanged. */
void qk_test_run_part(const char *part, const char *name, void (*fn)(void));
/* Makes `part` the current part (the part of the RUN()s that follow) and
 * returns whether this run selects it (so its setup can be skipped too). */
bool qk_test_part(const char *part);
/* Marks the running test function (or, called outside one, the current
 * part) skipped, printing why; the caller returns. A function that skips
 * and also fails a CHECK counts as failed. */
void qk_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Exit code: 1 on a failure; 77 if something was skipped; 2 if --part named
 * a part that has no test here; else 0. */
int qk_test_summary(void);

/* A fresh empty temporary directory for this test process (removed at exit
 * unless QK_KEEP_TMP is set). Returns a static path. */
const char *qk_test_tmpdir(void);
/* "<tmpdir>/<name>" into buf (size n), created as a directory; returns buf. */
char *qk_test_mkdir(char *buf, size_t n, const char *name);

/* Path of "<fixtures>/<rel>" if it exists, else NULL after marking the
 * running test skipped (qk_test_skip; the caller returns). <fixtures> is
 * $QK_FIXTURES_DIR if set (QK_FIXTURES_DIR=/nonexistent hides them), else
 * "<QK_SOURCE_DIR>/../shared/fixtures". The suite must pass without them;
 * tests that need them are parts of their own (RUN_PART). Returns a static
 * buffer (copy it before the next call). */
const char *qk_test_fixture(const char *rel);

/* The entries of dir other than "." and ".." (hidden ones included: a
 * writer's temporary files count); 0 if dir cannot be opened. */
int qk_test_count_entries(const char *dir);

/* Reads a whole file into a malloc'd buffer with a NUL after its last byte
 * (so text can be searched as a string); NULL on failure. */
unsigned char *qk_test_read_file(const char *path, size_t *len);
int qk_test_write_file(const char *path, const void *data, size_t len);
/* True when both files can be read and hold the same bytes. */
bool qk_test_same_bytes(const char *a, const char *b);
/* XORs the byte at offset off of the file at path with mask (damage on purpose);
 * false if the file cannot be read or written there. */
bool qk_test_flip_byte(const char *path, long off, unsigned char mask);

/* Deterministic PRNG (xorshift64*) for generated inputs. */
typedef struct { uint64_t s; } qk_rng;
static inline uint64_t qk_rng_next(qk_rng *r) {
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}
static inline float qk_rng_uniform(qk_rng *r) { /* [0,1) */
    return (float)((qk_rng_next(r) >> 40) * (1.0 / 16777216.0));
}
float qk_rng_gauss(qk_rng *r);

/* True in the sanitizer build: the slowest exhaustive sweeps sample fewer
 * points there (the Release run does them all; the sanitizer run is about
 * memory and UB safety on the same code paths). */
#if defined(__SANITIZE_ADDRESS__)
#define QK_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QK_TEST_SANITIZED 1
#endif
#endif
#ifndef QK_TEST_SANITIZED
#define QK_TEST_SANITIZED 0
#endif

#endif
