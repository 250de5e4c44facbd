#include "st_write.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qk_test.h"

int st_write_file(const char *path, const st_item *it, size_t n) {
    cJSON *h = cJSON_CreateObject();
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_AddObjectToObject(h, it[i].name);
        cJSON_AddStringToObject(o, "dtype", it[i].dtype);
        cJSON *sh = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < it[i].nd; d++) cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)it[i].shape[d]));
        cJSON *of = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + it[i].nbytes)));
        off += it[i].nbytes;
    }
    char *js = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hl = strlen(js), pad = (8 - hl % 8) % 8;
    FILE *f = fopen(path, "wb");
    if (!f) return free(js), -1;
    uint64_t L = hl + pad;
    uint8_t lb[8];
    for (int i = 0; i < 8; i++) lb[i] = (uint8_t)(L >> (8 * i));
    fwrite(lb, 1, 8, f), fwrite(js, 1, hl, f);
    for (size_t i = 0; i < pad; i++) fputc(' ', f);
    for (size_t i = 0; i < n; i++) fwrite(it[i].data, 1, it[i].nbytes, f);
    free(js);
    return fclose(f);
}

int hf_copy_sidecars(const char *src, const char *dst, const char *quant_json) {
    mkdir(dst, 0755);
    DIR *d = opendir(src);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || (l > 12 && !strcmp(e->d_name + l - 12, ".safetensors"))) continue;
        char a[1200], b[1200];
        snprintf(a, sizeof a, "%s/%s", src, e->d_name), snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
        size_t n;
        unsigned char *buf = qk_test_read_file(a, &n);
        if (!buf) {
            rc = -1;
            break;
        }
        if (quant_json && !strcmp(e->d_name, "config.json")) {
            cJSON *c = cJSON_ParseWithLength((char *)buf, n);
            cJSON_AddItemToObject(c, "quantization_config", cJSON_Parse(quant_json));
            char *s = cJSON_Print(c);
            rc = qk_test_write_file(b, s, strlen(s));
            free(s), cJSON_Delete(c);
        } else
            rc = qk_test_write_file(b, buf, n);
        free(buf);
    }
    closedir(d);
    return rc;
}
