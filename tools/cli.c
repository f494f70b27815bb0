/* What the programs' mains share: getopt_long conventions, number parsing, usage and version output. */
#include "tools/cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ecg_cli_option_error(int c, char **argv, struct ecg_error *err)
{
    const char *arg = argv[optind - 1];
    char name[128];
    if (strncmp(arg, "--", 2) == 0)
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    else
        snprintf(name, sizeof name, "-%c", optopt ? optopt : arg[1]);
    if (c == ':')
        return ecg_error_set(err, ECG_ERR_USAGE, "%s needs a value", name);
    if (optopt && strncmp(arg, "--", 2) == 0 && strchr(arg, '='))
        return ecg_error_set(err, ECG_ERR_USAGE, "%s takes no value, found '%s'", name, arg);
    return ecg_error_set(err, ECG_ERR_USAGE, "unknown option '%s'", name);
}

void ecg_cli_print_version(const char *prog) { printf("%s %s\n", prog, ECG_VERSION); }

int ecg_cli_parse_failed(const char *prog, const char *usage, int code, const struct ecg_error *err)
{
    fprintf(stderr, "%s: %s\n%s", prog, err->msg, code == ECG_ERR_USAGE ? usage : "");
    return ecg_status_exit_code((enum ecg_status)code);
}

bool ecg_cli_is_override(const char *s)
{
    size_t key = strcspn(s, "=");
    if (s[key] != '=' || key == 0 || s[0] == '.' || s[key - 1] == '.')
        return false;
    bool dot = false;
    for (size_t i = 0; i < key; i++) {
        char ch = s[i];
        if (ch == '.')
            dot = true;
        else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return dot;
}

int ecg_cli_parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out,
                      struct ecg_error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return ecg_error_set(err, ECG_ERR_USAGE, "%s '%s': expected an integer in %lld..%lld", opt, s, lo, hi);
    *out = v;
    return ECG_OK;
}

int ecg_cli_parse_double(const char *opt, const char *s, double *out, struct ecg_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return ecg_error_set(err, ECG_ERR_USAGE, "%s '%s': expected a number", opt, s);
    *out = v;
    return ECG_OK;
}
