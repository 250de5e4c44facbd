/* refusal_cases.h - the convert tests' refusal tables, read from tests/data/refusals/<test>.json and run through
 * convert_run.h's runners. A table is data (how a tiny checkpoint is edited, and the words the converter's refusal
 * must hold), so it lives in a data file beside the other test data; the C tests keep what is logic (the family's
 * sizes, the runner). Each file is a JSON object: table name -> array of rows, one row an object whose "why" (optional)
 * says what the case is about. A file, table or row that cannot be read (a missing field, one of the wrong type, a
 * field no row kind has, an empty table) is a failed CHECK naming it: a table never passes by running nothing. */
#ifndef QK_REFUSAL_CASES_H
#define QK_REFUSAL_CASES_H

#include "convert_run.h"

/* Table `table` of tests/data/refusals/<test>.json, rows {"arch", "file", "from", "to", "want"}: as
 * convert_expect_edit_refusals(table, rows, spec) (the checkpoints in "<tmp>/<table>-<row>/hf"). */
void refusal_edit_table(const char *test, const char *table, convert_spec_fn spec);

/* Rows {"arch", "key", "json" (the JSON text the key is set to; null: the key removed), "what", "want"}: as
 * convert_expect_config_refusal on a checkpoint of spec(arch) in "<tmp>/<table>-<row>/hf". */
void refusal_config_table(const char *test, const char *table, convert_spec_fn spec);

/* Rows {"key", "json", "what", "want"} as convert_expect_config_refusals_in(dir, rows), on the checkpoint already in
 * dir. */
void refusal_config_table_in(const char *test, const char *table, const char *dir);

/* Rows {"quantization_config" (the JSON text a copy of the folder src declares), "want"}: as
 * convert_expect_quant_refusals(src, table, rows) (the copies in "<tmp>/<table>-<row>"). */
void refusal_quant_table(const char *test, const char *table, const char *src);

#endif
