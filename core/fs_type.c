#include "fs_type.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MSDOS_MAGIC 0x4d44

/* mountinfo escapes space, tab, newline and backslash as \ooo (octal) */
static void unescape(char *s) {
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

/* mount point mp holds path p (both real paths): equal, or p continues with '/' */
static size_t holds(const char *mp, const char *p) {
    size_t l = strlen(mp);
    if (!strcmp(mp, "/")) return 1;
    return !strncmp(p, mp, l) && (p[l] == 0 || p[l] == '/') ? l : 0;
}

bool qk_fs_mount_of(const char *dir, char *type, size_t type_n, char *source, size_t source_n) {
    char real[PATH_MAX];
    if (!realpath(dir, real)) return false;
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f) return false;
    char *line = NULL;
    size_t cap = 0, best = 0;
    bool found = false;
    while (getline(&line, &cap, f) > 0) {
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS */
        char *save = NULL, *tok[5] = {0};
        int k = 0;
        for (char *t = strtok_r(line, " \n", &save); t && k < 5; t = strtok_r(NULL, " \n", &save)) tok[k++] = t;
        if (k < 5) continue;
        char *t, *ty = NULL, *src = NULL;
        while ((t = strtok_r(NULL, " \n", &save)))
            if (!strcmp(t, "-")) {
                ty = strtok_r(NULL, " \n", &save);
                src = strtok_r(NULL, " \n", &save);
                break;
            }
        if (!ty) continue;
        unescape(tok[4]);
        size_t l = holds(tok[4], real);
        /* ">=": of mounts stacked on one point, the last one listed is the visible one */
        if (l && l >= best) {
            best = l, found = true;
            snprintf(type, type_n, "%s", ty);
            if (src) unescape(src);
            snprintf(source, source_n, "%s", src ? src : "");
        }
    }
    free(line);
    fclose(f);
    return found;
}

/* A FAT boot sector: "FAT12   "/"FAT16   " at 54 or "FAT32   " at 82, and 0x55AA at 510. */
static bool device_is_fat(const char *dev) {
    int fd = open(dev, O_RDONLY);
    if (fd < 0) return false;
    unsigned char b[512];
    bool r = pread(fd, b, sizeof b, 0) == (ssize_t)sizeof b && b[510] == 0x55 && b[511] == 0xAA &&
             (!memcmp(b + 54, "FAT1", 4) || !memcmp(b + 82, "FAT32", 5));
    close(fd);
    return r;
}

bool qk_fs_is_fat(const char *dir) {
    char type[128], source[PATH_MAX];
    if (qk_fs_mount_of(dir, type, sizeof type, source, sizeof source)) {
        static const char *const fat[] = {"vfat", "msdos", "umsdos", "fat"};
        for (size_t i = 0; i < sizeof fat / sizeof fat[0]; i++)
            if (!strcasecmp(type, fat[i])) return true;
        /* FUSE: "fuse.<subtype>" / "fuseblk.<subtype>" name the helper (fusefat, fatfuse ...) */
        if (!strncmp(type, "fuse", 4)) {
            const char *sub = strchr(type, '.');
            if (sub && (strcasestr(sub, "fat") && !strcasestr(sub, "exfat"))) return true;
            if (!sub && strstr(source, "fat") && !strstr(source, "exfat")) return true;
            if (!strcmp(type, "fuseblk") && device_is_fat(source)) return true;
        }
        return false;
    }
    struct statfs sf;
    return statfs(dir, &sf) == 0 && sf.f_type == MSDOS_MAGIC;
}
