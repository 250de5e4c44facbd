/* json_edit.h - JSON files as the tests read, edit and write them
 * (config.json, tokenizer.json, expected-output files), through cJSON. */
#ifndef QK_JSON_EDIT_H
#define QK_JSON_EDIT_H

#include <cjson/cJSON.h>

/* The parsed file at path; NULL when it cannot be read or is not JSON.
 * The caller cJSON_Deletes it. */
cJSON *json_file_read(const char *path);

/* json_file_read, and a failed CHECK naming path when it gives NULL. */
cJSON *json_file_read_checked(const char *path);

/* Writes j to path, indented as cJSON_Print does, or on one line when
 * compact: 0, or -1 when it cannot be printed or written. */
int json_file_write(const char *path, const cJSON *j, int compact);

#endif
