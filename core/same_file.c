#include "same_file.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool qk_same_file(const char *a, const char *b) {
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* realpath of path's folder joined with its last component (the file need not exist). */
static bool resolve_parent(const char *path, char *out, size_t n) {
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (slash == path) snprintf(dir, sizeof dir, "/");
    else if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    char real[PATH_MAX];
    if (!realpath(dir, real)) return false;
    return (size_t)snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "", base) < n;
}

bool qk_path_inside(const char *path, const char *dir) {
    char rd[PATH_MAX], rp[PATH_MAX];
    if (!realpath(dir, rd) || !resolve_parent(path, rp, sizeof rp)) return false;
    size_t l = strlen(rd);
    if (!strcmp(rd, "/")) return true;
    return !strncmp(rp, rd, l) && rp[l] == '/';
}

static bool is_gguf(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return false;
    char m[4];
    bool r = read(fd, m, 4) == 4 && !memcmp(m, "GGUF", 4);
    close(fd);
    return r;
}

int qk_check_output(const char *out, const char *const *inputs, size_t n_inputs, const char *what, qk_err *err) {
    struct stat so;
    bool exists = stat(out, &so) == 0;
    for (size_t i = 0; i < n_inputs; i++) {
        if (!inputs[i]) continue;
        struct stat si;
        if (stat(inputs[i], &si) != 0) continue;
        if (exists && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
            return qk_fail(err, "%s: the %s is the input %s (the same file, a link to it, or a hard link); "
                                "writing it would destroy the input", out, what, inputs[i]);
        if (S_ISDIR(si.st_mode) && exists && S_ISREG(so.st_mode) && qk_path_inside(out, inputs[i]) && !is_gguf(out))
            return qk_fail(err, "%s: the %s would replace a file of the source folder %s; write it elsewhere or "
                                "under a new name", out, what, inputs[i]);
    }
    return QK_OK;
}
