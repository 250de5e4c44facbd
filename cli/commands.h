/* commands.h - the subcommands of the `quantkit` executable.
 *
 * Each command is one file here (cmd_info.c, cmd_quantize.c, ...); the
 * library below never prints. A command has the signature of qk_cmd_fn: it gets
 * argv starting at the command name, prints its own --help, and returns the
 * process exit code: 0 ok, 1 failed check or bad input, 2 usage error.
 */
#ifndef QK_COMMANDS_H
#define QK_COMMANDS_H

typedef int (*qk_cmd_fn)(int argc, char **argv);

int qk_cmd_convert(int argc, char **argv);
int qk_cmd_info(int argc, char **argv);
int qk_cmd_quantize(int argc, char **argv);
int qk_cmd_verify(int argc, char **argv);
int qk_cmd_split(int argc, char **argv);
int qk_cmd_merge(int argc, char **argv);
int qk_cmd_copy(int argc, char **argv);

#endif
