/* Replays every saved fuzz input (tests/fuzz/corpus/TARGET/FILE: seeds and
 * every crash, hang or leak ever found) through the same entry points the
 * fuzzers use, under the normal and the sanitizer builds. Plus a quick
 * deterministic mutation pass over the seeds, so the suite itself keeps
 * poking the parsers. */
#include <dirent.h>
#include <stdbool.h>

#include "fuzz_targets.h"
#include "qk_test.h"

static void test_replay_corpus(void) {
    const char *src = getenv("QK_SOURCE_DIR");
    char base[1024];
    snprintf(base, sizeof base, "%s/tests/fuzz/corpus", src ? src : ".");
    int files = 0;
    for (int t = 0; t < qk_fuzz_n_targets; t++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/%s", base, qk_fuzz_targets[t].name);
        DIR *d = opendir(dir);
        CHECK_MSG(d != NULL, "no corpus folder %s", dir);
        if (!d) continue;
        struct dirent *e;
        int n = 0;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char p[1500];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            size_t len;
            unsigned char *buf = qk_test_read_file(p, &len);
            if (!buf) continue;
            qk_fuzz_targets[t].fn(buf, len);
            /* seeds must get past the parser (else the fuzzer starts from nothing); saved findings
             * (libFuzzer's crash-/leak-/oom-/timeout-/slow-unit- names) and seeds named reject-*
             * are inputs the parser has to refuse cleanly */
            static const char *const refused[] = {"reject-", "crash-", "leak-", "oom-", "timeout-", "slow-unit-"};
            bool expect_ok = true;
            for (size_t r = 0; r < sizeof refused / sizeof refused[0]; r++)
                if (!strncmp(e->d_name, refused[r], strlen(refused[r]))) expect_ok = false;
            if (expect_ok && qk_fuzz_accepted >= 0) CHECK_MSG(qk_fuzz_accepted, "%s: the seed does not get past the parser", p);
            /* and mutations of it: truncations and byte flips */
            for (size_t k = 0; k < 64 && len; k++) {
                size_t cut = (len * k) / 64;
                qk_fuzz_targets[t].fn(buf, cut);
                size_t pos = (k * 2654435761u) % len;
                buf[pos] ^= (unsigned char)(1u << (k % 8));
                qk_fuzz_targets[t].fn(buf, len);
                buf[pos] ^= (unsigned char)(1u << (k % 8));
            }
            free(buf);
            n++;
        }
        closedir(d);
        CHECK_MSG(n > 0, "corpus %s is empty", dir);
        files += n;
    }
    fprintf(stderr, "replayed %d corpus files (each with 128 mutations)\n", files);
}

int main(void) {
    RUN(test_replay_corpus);
    return qk_test_summary();
}
