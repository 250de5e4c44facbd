/* json_edit.c - see json_edit.h. */
#include "json_edit.h"

#include <stdlib.h>
#include <string.h>

#include "qk_test.h"

cJSON *json_file_read(const char *path) {
    size_t len;
    char *txt = (char *)qk_test_read_file(path, &len);
    if (!txt) return NULL;
    cJSON *j = cJSON_ParseWithLength(txt, len);
    free(txt);
    return j;
}

cJSON *json_file_read_checked(const char *path) {
    cJSON *j = json_file_read(path);
    CHECK_MSG(j != NULL, "cannot read %s as JSON", path);
    return j;
}

int json_file_write(const char *path, const cJSON *j, int compact) {
    char *s = compact ? cJSON_PrintUnformatted(j) : cJSON_Print(j);
    if (!s) return -1;
    const int rc = qk_test_write_file(path, s, strlen(s));
    free(s);
    return rc == 0 ? 0 : -1;
}
