/* ecgconvert: writes a dataset (or a selection of it) in the CACHET-CADB short format, with a list of the
 * segments' sources. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/error.h"
#include "core/log.h"
#include "data/convert.h"
#include "data/readers.h"
#include "tools/cli.h"

static const char usage_text[] =
    "usage: ecgconvert --format NAME [options] INPUT OUTPUT.h5\n"
    "       ecgconvert --help | --version\n"
    "\n"
    "Reads the rhythm dataset INPUT (format NAME: cinc2017, cachet_short or cachet_full),\n"
    "resamples every chosen record to 1024 Hz, cuts it into 10 s segments from its start and\n"
    "writes them as the CACHET-CADB short format: root datasets 'signal' and 'labels'\n"
    "(float64, 1-D, 10240 samples per segment end to end; labels 1 AF, 2 NSR, 3 Noise,\n"
    "4 Other repeated per sample), gzip-compressed.  Next to it goes a list with one line\n"
    "per segment: source record, offset in seconds, label.\n"
    "\n"
    "  --format NAME      input format (required)\n"
    "  --label-file FILE  cinc2017: labels to use (default REFERENCE.csv of INPUT)\n"
    "  --records FILE     only these records (one id per line, '#' starts a comment)\n"
    "  --per-class N      at most N segments per class, records drawn with --seed\n"
    "  --seed S           seed of the --per-class draw (default 1)\n"
    "  --windows K        up to K non-overlapping segments per record (default 1)\n"
    "  --bandpass         Butterworth order 3, 0.5-40 Hz, zero-phase (like CACHET-CADB)\n"
    "  --skip-bad         skip bad records (counted) instead of stopping\n"
    "  --compress L       gzip level 0..9 (default 6; 0 writes contiguous datasets)\n"
    "  --list FILE        where the segment list goes (default OUTPUT's name + .records.txt)\n"
    "  --quiet            only errors on stderr\n"
    "  -h, --help         print this text\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

struct args {
    int bandpass, skip_bad, quiet, compress;
    const char *format, *label_file, *records, *list, *input, *output;
    long long per_class, windows;
    unsigned long long seed;
};

/* Returns ECG_OK, an error, or -1 after printing help or the version. */
static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    static const struct option options[] = {
        ECG_CLI_COMMON,
        {"format", required_argument, NULL, 'f'},   {"label-file", required_argument, NULL, 'l'},
        {"records", required_argument, NULL, 'r'},  {"per-class", required_argument, NULL, 'p'},
        {"seed", required_argument, NULL, 's'},     {"windows", required_argument, NULL, 'w'},
        {"compress", required_argument, NULL, 'c'}, {"list", required_argument, NULL, 'L'},
        {"bandpass", no_argument, NULL, 'b'},       {"skip-bad", no_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},          {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->windows = 1;
    a->seed = 1;
    a->compress = 6;
    long long v;
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return -1;
        case 'V': ecg_cli_print_version("ecgconvert"); return -1;
        case 'f': a->format = optarg; break;
        case 'l': a->label_file = optarg; break;
        case 'r': a->records = optarg; break;
        case 'L': a->list = optarg; break;
        case 'b': a->bandpass = 1; break;
        case 'k': a->skip_bad = 1; break;
        case 'q': a->quiet = 1; break;
        case 'p': ECG_TRY(ecg_cli_parse_int("--per-class", optarg, 1, 1000000000, &a->per_class, err)); break;
        case 'w': ECG_TRY(ecg_cli_parse_int("--windows", optarg, 1, 1000000, &a->windows, err)); break;
        case 'c':
            ECG_TRY(ecg_cli_parse_int("--compress", optarg, 0, 9, &v, err));
            a->compress = (int)v;
            break;
        case 's':
            ECG_TRY(ecg_cli_parse_int("--seed", optarg, 0, 0x7fffffffffffffffLL, &v, err));
            a->seed = (unsigned long long)v;
            break;
        default: return ecg_cli_option_error(c, argv, err);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (!a->input)
            a->input = argv[i];
        else if (!a->output)
            a->output = argv[i];
        else
            return ecg_error_set(err, ECG_ERR_USAGE, "unexpected argument '%s'", argv[i]);
    }
    if (!a->format)
        return ecg_error_set(err, ECG_ERR_USAGE, "--format is required");
    int task = ecg_format_task(a->format);
    if (task < 0)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "--format '%s': expected cinc2017, cachet_short or cachet_full", a->format);
    if (task != ECG_TASK_RHYTHM)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "--format '%s' holds heartbeats; the CACHET-CADB format holds rhythm labels "
                             "(cinc2017, cachet_short, cachet_full)",
                             a->format);
    if (!a->input || !a->output)
        return ecg_error_set(err, ECG_ERR_USAGE, "expected INPUT and OUTPUT.h5");
    return ECG_OK;
}

/* Keeps only the records whose ids are listed in `path`; every listed id must exist. */
static int select_records(struct ecg_dataset *ds, const char *path, struct ecg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *keep = calloc((size_t)(ds->count ? ds->count : 1), 1);
    if (!keep) {
        fclose(f);
        return ecg_error_set(err, ECG_ERR_NOMEM, "no memory");
    }
    char line[512];
    int rc = ECG_OK, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *id = strtok(line, " \t\r\n,");
        if (!id)
            continue;
        int64_t j = 0;
        while (j < ds->count && strcmp(ds->records[j].id, id))
            j++;
        if (j == ds->count) {
            rc = ecg_error_set(err, ECG_ERR_VALUE,
                               "%s:%d: record '%s' is not in the dataset (or was skipped)", path, lineno, id);
            goto done;
        }
        keep[j] = 1;
    }
    int64_t n = 0;
    for (int64_t i = 0; i < ds->count; i++) {
        if (keep[i])
            ds->records[n++] = ds->records[i];
        else
            free(ds->records[i].signal);
    }
    ds->count = n;
    if (n == 0)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: lists no records", path);
done:
    fclose(f);
    free(keep);
    return rc;
}

static int run(const struct args *a, struct ecg_error *err)
{
    struct ecg_dataset in = {0}, out = {0};
    struct ecg_segment_source *src = NULL;
    struct ecg_read_options ro;
    ecg_read_options_default(&ro);
    ro.label_file = a->label_file;
    ro.skip_bad = a->skip_bad ? ECG_BAD_SKIP : ECG_BAD_ERROR;
    int rc = ecg_dataset_read(a->format, a->input, &ro, &in, err);
    if (rc)
        goto done;
    ecg_info("read %lld records from %s (%lld skipped)", (long long)in.count, a->input,
             (long long)in.skipped);
    if (a->records && (rc = select_records(&in, a->records, err)))
        goto done;
    struct ecg_convert_options co;
    ecg_convert_options_default(&co);
    co.windows = (int32_t)a->windows;
    co.bandpass = a->bandpass;
    co.per_class = a->per_class;
    co.seed = a->seed;
    if ((rc = ecg_convert_segments(&in, &co, &out, &src, err)))
        goto done;
    if (out.count == 0) {
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: no record is long enough for a 10 s segment", a->input);
        goto done;
    }
    if ((rc = ecg_cachet_write_short(a->output, out.records, out.count, a->compress, err)))
        goto done;
    char list[4096];
    if (a->list)
        snprintf(list, sizeof list, "%s", a->list);
    else {
        const char *dot = strrchr(a->output, '.'), *slash = strrchr(a->output, '/');
        int stem = (dot && (!slash || dot > slash)) ? (int)(dot - a->output) : (int)strlen(a->output);
        if (snprintf(list, sizeof list, "%.*s.records.txt", stem, a->output) >= (int)sizeof list) {
            rc = ecg_error_set(err, ECG_ERR_USAGE, "output path too long");
            goto done;
        }
    }
    if ((rc = ecg_convert_write_list(list, out.task, src, out.count, err)))
        goto done;
    int64_t per[ECG_RHYTHM_COUNT] = {0};
    for (int64_t i = 0; i < out.count; i++)
        per[out.records[i].label]++;
    ecg_info("wrote %lld segments to %s (AF %lld, NSR %lld, Noise %lld, Other %lld; %lld records too short "
             "or flat) and the list %s",
             (long long)out.count, a->output, (long long)per[0], (long long)per[1], (long long)per[2],
             (long long)per[3], (long long)out.skipped, list);
done:
    free(src);
    ecg_dataset_free(&out);
    ecg_dataset_free(&in);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct ecg_error err = {0};
    struct args a;
    int rc = parse_args(argc, argv, &a, &err);
    if (rc > 0)
        return ecg_cli_parse_failed("ecgconvert", usage_text, rc, &err);
    if (rc < 0)
        return 0;
    if (a.quiet)
        ecg_log_set_level(ECG_LOG_ERROR);
    rc = run(&a, &err);
    if (rc) {
        fprintf(stderr, "ecgconvert: %s\n", err.msg);
        return ecg_status_exit_code(rc);
    }
    return 0;
}
