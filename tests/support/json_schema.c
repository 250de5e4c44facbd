#include "json_schema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qk_test.h"

static bool type_is(const char *t, const cJSON *v) {
    if (!strcmp(t, "object")) return cJSON_IsObject(v);
    if (!strcmp(t, "array")) return cJSON_IsArray(v);
    if (!strcmp(t, "string")) return cJSON_IsString(v);
    if (!strcmp(t, "boolean")) return cJSON_IsBool(v);
    if (!strcmp(t, "null")) return cJSON_IsNull(v);
    if (!strcmp(t, "number")) return cJSON_IsNumber(v);
    if (!strcmp(t, "integer")) return cJSON_IsNumber(v) && floor(v->valuedouble) == v->valuedouble;
    return false;
}

static bool check(const cJSON *s, const cJSON *v, const char *path, char *why, size_t n) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(type) && !type_is(type->valuestring, v)) {
        snprintf(why, n, "%s: expected %s", path, type->valuestring);
        return false;
    }
    if (cJSON_IsArray(type)) {
        bool ok = false;
        const cJSON *t;
        cJSON_ArrayForEach(t, type) ok |= cJSON_IsString(t) && type_is(t->valuestring, v);
        if (!ok) {
            snprintf(why, n, "%s: not any of the allowed types", path);
            return false;
        }
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (cJSON_IsArray(en)) {
        bool ok = false;
        const cJSON *e;
        cJSON_ArrayForEach(e, en) ok |= cJSON_Compare(e, v, true);
        if (!ok) {
            snprintf(why, n, "%s: not one of the enum values", path);
            return false;
        }
    }
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(s, "minimum");
    if (cJSON_IsNumber(min) && cJSON_IsNumber(v) && v->valuedouble < min->valuedouble) {
        snprintf(why, n, "%s: %g is below the minimum %g", path, v->valuedouble, min->valuedouble);
        return false;
    }
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(s, "pattern");
    if (cJSON_IsString(pat) && cJSON_IsString(v) && pat->valuestring[0] == '^' &&
        strncmp(v->valuestring, pat->valuestring + 1, strlen(pat->valuestring + 1)) != 0) {
        snprintf(why, n, "%s: '%s' does not start with '%s'", path, v->valuestring, pat->valuestring + 1);
        return false;
    }
    char sub[512];
    if (cJSON_IsObject(v)) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required"), *r;
        cJSON_ArrayForEach(r, req) {
            if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(v, r->valuestring)) {
                snprintf(why, n, "%s: missing required key '%s'", path, r->valuestring);
                return false;
            }
        }
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
        const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
        const cJSON *kv;
        cJSON_ArrayForEach(kv, v) {
            snprintf(sub, sizeof sub, "%s.%s", path, kv->string);
            const cJSON *ps = props ? cJSON_GetObjectItemCaseSensitive(props, kv->string) : NULL;
            if (ps) {
                if (!check(ps, kv, sub, why, n)) return false;
            } else if (cJSON_IsFalse(addl)) {
                snprintf(why, n, "%s: key not in the schema", sub);
                return false;
            } else if (cJSON_IsObject(addl)) {
                if (!check(addl, kv, sub, why, n)) return false;
            }
        }
    }
    if (cJSON_IsArray(v)) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v) {
            snprintf(sub, sizeof sub, "%s[%d]", path, i++);
            if (items && !check(items, e, sub, why, n)) return false;
        }
    }
    return true;
}

bool js_check(const cJSON *schema, const cJSON *v, char *why, size_t why_len) {
    why[0] = 0;
    return check(schema, v, "$", why, why_len);
}

cJSON *js_load_doc_schema(const char *md_path, const char *name) {
    size_t len;
    char *text = (char *)qk_test_read_file(md_path, &len);
    CHECK_MSG(text != NULL, "cannot read %s", md_path);
    if (!text) return NULL;
    char marker[128];
    snprintf(marker, sizeof marker, "```json schema:%s\n", name);
    const char *start = strstr(text, marker);
    const char *end = start ? strstr(start + strlen(marker), "\n```") : NULL;
    cJSON *s = NULL;
    if (start && end) {
        start += strlen(marker);
        s = cJSON_ParseWithLength(start, (size_t)(end - start) + 1);
    }
    CHECK_MSG(s != NULL, "%s: no valid ```json schema:%s block", md_path, name);
    free(text);
    return s;
}
