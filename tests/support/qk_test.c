#include "qk_test.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

int qk_test_checks_failed = 0;
int qk_test_n_passed = 0, qk_test_n_failed = 0;
static int g_n_skipped;

static const char *g_selected;          /* --part NAME, or NULL: every part */
static bool g_selected_seen;            /* some RUN or qk_test_part matched it */
static const char *g_part = "main";     /* the part of the RUN()s that follow */
static const char *g_part_skipped;      /* a part skipped as a whole (qk_test_skip outside a test) */
static bool g_in_test, g_test_skipped;

void qk_test_init(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--part") && i + 1 < argc) {
            g_selected = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--part NAME]\n", argv[0]);
            exit(2);
        }
    }
}

static bool selects(const char *part) { return !g_selected || !strcmp(g_selected, part); }

bool qk_test_part(const char *part) {
    g_part = part;
    if (!selects(part)) return false;
    g_selected_seen = true;
    return true;
}

void qk_test_skip(const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (g_in_test) {
        g_test_skipped = true;
    } else {
        g_part_skipped = g_part;
        g_n_skipped++;
    }
    fprintf(stderr, "skip: %s\n", why);
}

void qk_test_run_part(const char *part, const char *name, void (*fn)(void)) {
    if (!selects(part)) return;
    g_selected_seen = true;
    if (g_part_skipped && !strcmp(g_part_skipped, part)) {
        g_n_skipped++;
        fprintf(stderr, "skip %s (part %s skipped)\n", name, part);
        return;
    }
    qk_test_checks_failed = 0;
    g_in_test = true;
    g_test_skipped = false;
    fn();
    g_in_test = false;
    if (qk_test_checks_failed) {
        qk_test_n_failed++;
        fprintf(stderr, "FAIL %s (%d checks failed)\n", name, qk_test_checks_failed);
    } else if (g_test_skipped) {
        g_n_skipped++;
        fprintf(stderr, "skip %s\n", name);
    } else {
        qk_test_n_passed++;
        fprintf(stderr, "ok   %s\n", name);
    }
}

void qk_test_run(const char *name, void (*fn)(void)) { qk_test_run_part(g_part, name, fn); }

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
    const char *dir = getenv("QK_FIXTURES_DIR"), *src = getenv("QK_SOURCE_DIR");
    if (dir && *dir)
        snprintf(buf, sizeof buf, "%s/%s", dir, rel);
    else
        snprintf(buf, sizeof buf, "%s/../shared/fixtures/%s", src ? src : ".", rel);
    struct stat st;
    if (stat(buf, &st) != 0) {
        qk_test_skip("fixture %s is absent (set QK_FIXTURES_DIR, or put the fixtures in ../shared/fixtures)", buf);
        return NULL;
    }
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
    unsigned char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = 0;
    if (buf && len) *len = (size_t)n;
    return buf;
}

bool qk_test_same_bytes(const char *a, const char *b) {
    size_t la, lb;
    unsigned char *x = qk_test_read_file(a, &la), *y = qk_test_read_file(b, &lb);
    bool r = x && y && la == lb && !memcmp(x, y, la);
    free(x), free(y);
    return r;
}

bool qk_test_flip_byte(const char *path, long off, unsigned char mask) {
    FILE *f = fopen(path, "r+b");
    int c = f && fseek(f, off, SEEK_SET) == 0 ? fgetc(f) : EOF;
    bool ok = c != EOF && fseek(f, off, SEEK_SET) == 0 && fputc(c ^ mask, f) != EOF;
    if (f && fclose(f) != 0) ok = false;
    return ok;
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
    printf("%d passed, %d skipped, %d failed\n", qk_test_n_passed, g_n_skipped, qk_test_n_failed);
    if (g_selected && !g_selected_seen) {
        fprintf(stderr, "no part '%s' in this test\n", g_selected);
        return 2;
    }
    if (qk_test_n_failed) return 1;
    return g_n_skipped ? 77 : 0;
}

void qk_test_check_str(const char *file, int line, const char *a, const char *b) {
    if (a && b && strcmp(a, b) == 0) return;
    fprintf(stderr, "%s:%d: CHECK_STR failed: '%s' != '%s'\n", file, line, a ? a : "(null)", b ? b : "(null)");
    qk_test_checks_failed++;
}

void qk_test_check_contains(const char *file, int line, const char *hay, const char *needle) {
    if (hay && strstr(hay, needle)) return;
    fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: '%s' lacks '%s'\n", file, line, hay ? hay : "(null)", needle);
    qk_test_checks_failed++;
}

char *qk_test_mkdir(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", qk_test_tmpdir(), name);
    mkdir(buf, 0755);
    return buf;
}
