/* What the programs' mains share: getopt_long conventions, number parsing, usage and version output. */
#ifndef ECG_TOOLS_CLI_H
#define ECG_TOOLS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/error.h"

/*
 * Every program parses with getopt_long and the option string ECG_CLI_SHORT
 * followed by its own letters: --opt=value and --opt value both work, options
 * and operands may be mixed, "--" ends the options (so a path starting with
 * '-' is reachable after it), and a lone "-" is an operand (standard input).
 * Each long-option table starts with ECG_CLI_COMMON: --help/-h, --version/-V.
 */
#define ECG_CLI_SHORT ":hV"
#define ECG_CLI_COMMON {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}

/* The usage error for getopt_long's return `c` ('?' unknown option, ':' missing value), naming the option as
 * the user typed it. */
int ecg_cli_option_error(int c, char **argv, struct ecg_error *err);

/* "PROG VERSION\n" on stdout. */
void ecg_cli_print_version(const char *prog);

/* Reports a failed argument parse: "PROG: message" on stderr, then the usage text when `code` is
 * ECG_ERR_USAGE; returns the exit status of `code`. */
int ecg_cli_parse_failed(const char *prog, const char *usage, int code, const struct ecg_error *err);

/* True for a "dotted.key=value" override: a key of [a-z0-9_] words joined by dots before the '='. */
bool ecg_cli_is_override(const char *s);

/* An integer in [lo, hi] or a finite number; ECG_ERR_USAGE naming the option and the text found. */
int ecg_cli_parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out,
                      struct ecg_error *err);
int ecg_cli_parse_double(const char *opt, const char *s, double *out, struct ecg_error *err);

#endif
