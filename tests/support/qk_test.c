#include "qk_test.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

int qk_test_checks_failed = 0;
int qk_test_n_passed = 0, qk_test_n_failed = 0;

void qk_test_run(const char *name, void (*fn)(void)) {
    qk_test_checks_failed = 0;
    fn();
    if (qk_test_checks_failed) {
        qk_test_n_failed++;
        fprintf(stderr, "FAIL %s (%d checks failed)\n", name, qk_test_checks_failed);
    } else {
        qk_test_n_passed++;
        fprintf(stderr, "ok   %s\n", name);
    }
}

static char g_tmpdir[512];

static void rm_rf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void cleanup_tmpdir(void) {
    if (g_tmpdir[0] && !getenv("QK_KEEP_TMP")) rm_rf(g_tmpdir);
}

const char *qk_test_tmpdir(void) {
    if (!g_tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/qk-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(cleanup_tmpdir);
    }
    return g_tmpdir;
}

const char *qk_test_fixture(const char *rel) {
    static char buf[1024];
    const char *src = getenv("QK_SOURCE_DIR");
    if (!src) src = ".";
    snprintf(buf, sizeof buf, "%s/../shared/fixtures/%s", src, rel);
    struct stat st;
    if (stat(buf, &st) != 0) return NULL;
    return buf;
}

int qk_test_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

unsigned char *qk_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && len) *len = (size_t)n;
    return buf;
}

int qk_test_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    int rc = fclose(f);
    return (w == len && rc == 0) ? 0 : -1;
}

float qk_rng_gauss(qk_rng *r) {
    /* Box-Muller in double, rounded once: deterministic across machines. */
    double u1 = ((qk_rng_next(r) >> 11) + 1) * (1.0 / 9007199254740993.0);
    double u2 = (qk_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int qk_test_summary(void) {
    printf("%d passed, %d failed\n", qk_test_n_passed, qk_test_n_failed);
    return qk_test_n_failed ? 1 : 0;
}
