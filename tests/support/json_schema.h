/* json_schema.h - a small JSON Schema checker for the documented outputs
 * (docs/json-schema.md): type (a name or a list), required, properties,
 * additionalProperties (false or a schema), items, enum, minimum, pattern
 * (a prefix check only: "^..." literal). Enough for the schemas quantkit
 * documents; not a general validator. */
#ifndef QK_JSON_SCHEMA_H
#define QK_JSON_SCHEMA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* true if v satisfies schema; else false with the first violation in why
 * (a JSON path and what is wrong). */
bool js_check(const cJSON *schema, const cJSON *v, char *why, size_t why_len);

/* The ```json schema:NAME block of the markdown file at path, parsed; NULL
 * (and a failed check) when it is missing or not JSON. */
cJSON *js_load_doc_schema(const char *md_path, const char *name);

#endif
