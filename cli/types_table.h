/* types_table.h - the file-type table `quantize --help` and `quantkit types`
 * print: every entry of quantize/ftypes.c's table, in llama-quantize's order,
 * with its ftype number, the bits per weight of its bulk type, llama-quantize's
 * note, whether it needs an importance matrix, and whether quantkit writes it. */
#ifndef QK_TYPES_TABLE_H
#define QK_TYPES_TABLE_H

#include <stdio.h>

void qk_cli_print_types(FILE *out);
/* `quantkit types [--json]` */
int qk_cmd_types(int argc, char **argv);

#endif
