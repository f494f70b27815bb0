/* ecgqrs: finds the beats of WFDB records and, with --compare, scores them against the records' .atr. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/qrs.h"
#include "data/readers.h"
#include "eval/beat_match.h"
#include "tools/cli.h"

static const char usage_text[] =
    "usage: ecgqrs [options] RECORD.hea [RECORD.hea ...]\n"
    "       ecgqrs --help | --version\n"
    "\n"
    "Detects the QRS complexes (R peaks) of WFDB records (.hea with its .dat) and prints one\n"
    "line per beat: record, sample, time_s (TSV with a header line, or JSON lines).\n"
    "\n"
    "With --compare, reads each record's annotations (RECORD.atr) and prints instead, per\n"
    "record, the beat-by-beat comparison (ANSI/AAMI EC57 as WFDB's bxb, 150 ms window):\n"
    "reference beats, TP, FP, FN, Se and +P, then a 'gross' line summing all records.\n"
    "Reference beats are the beat labels N L R B A a J S V r F e j n E / f Q ?; ventricular\n"
    "flutter episodes ('[' to ']', with their '!' waves) are left out of the comparison.\n"
    "\n"
    "  --compare           compare with RECORD.atr instead of listing the beats\n"
    "  --channel N         signal to use (default: the one described as MLII, else the first)\n"
    "  --json              JSON lines instead of TSV\n"
    "  --window S          match window in seconds for --compare (default 0.15)\n"
    "  --start S           --compare from S seconds on (bxb's default is 300: a learning\n"
    "                      period of 5 minutes; default 0, the whole record)\n"
    "  --threshold F       detector thresholds at F of the way from noise to signal level\n"
    "                      (default 0.1; Pan and Tompkins used 0.25)\n"
    "  -h, --help          print this text\n"
    "  -V, --version       print the version\n"
    "  --                  end of options: later arguments are records, even when they start with '-'\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure (unreadable record, bad signal), 2 usage error.\n";

struct args {
    int compare, json, channel;
    double window_s, start_s;
    struct ecg_qrs_opts qrs;
};

/* One record's signal: the chosen channel, its rate and name. */
struct record {
    char name[64];
    double fs;
    int64_t length;
    float *x;
};

/* A number >= lo for option `opt` (ecg_cli_parse_double); `expected` words the usage error. */
static int parse_number(const char *opt, const char *s, double lo, const char *expected, double *out,
                        struct ecg_error *err)
{
    if (ecg_cli_parse_double(opt, s, out, NULL) || !(*out >= lo))
        return ecg_error_set(err, ECG_ERR_USAGE, "%s '%s': expected %s", opt, s, expected);
    return ECG_OK;
}

/* Returns ECG_OK, a usage error, or -1 after printing help or the version. */
static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    static const struct option longopts[] = {
        ECG_CLI_COMMON,
        {"compare", no_argument, NULL, 'c'},
        {"channel", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, 'j'},
        {"window", required_argument, NULL, 'w'},
        {"start", required_argument, NULL, 's'},
        {"threshold", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->channel = -1;
    a->window_s = 0.15;
    ecg_qrs_opts_default(&a->qrs);
    int ch;
    long long channel;
    while ((ch = getopt_long(argc, argv, ECG_CLI_SHORT, longopts, NULL)) != -1) {
        switch (ch) {
        case 'h': fputs(usage_text, stdout); return -1;
        case 'V': ecg_cli_print_version("ecgqrs"); return -1;
        case 'c': a->compare = 1; break;
        case 'j': a->json = 1; break;
        case 'n':
            ECG_TRY(ecg_cli_parse_int("--channel", optarg, 0, ECG_WFDB_MAX_SIGNALS - 1, &channel, err));
            a->channel = (int)channel;
            break;
        case 'w': ECG_TRY(parse_number("--window", optarg, 0, "seconds >= 0", &a->window_s, err)); break;
        case 's': ECG_TRY(parse_number("--start", optarg, 0, "seconds >= 0", &a->start_s, err)); break;
        case 't':
            ECG_TRY(parse_number("--threshold", optarg, 0, "a number in (0, 1)", &a->qrs.threshold, err));
            if (!(a->qrs.threshold > 0 && a->qrs.threshold < 1))
                return ecg_error_set(err, ECG_ERR_USAGE, "--threshold '%s': expected a number in (0, 1)",
                                     optarg);
            break;
        default: return ecg_cli_option_error(ch, argv, err);
        }
    }
    if (optind >= argc)
        return ecg_error_set(err, ECG_ERR_USAGE, "expected at least one RECORD.hea");
    return ECG_OK;
}

/* "dir/101.hea" -> "dir/101" + ext. */
static int sibling(const char *hea, const char *ext, char *out, size_t cap, struct ecg_error *err)
{
    size_t n = strlen(hea);
    if (n > 4 && strcmp(hea + n - 4, ".hea") == 0)
        n -= 4;
    if (n + strlen(ext) + 1 > cap)
        return ecg_error_set(err, ECG_ERR_IO, "%s: path too long", hea);
    memcpy(out, hea, n);
    strcpy(out + n, ext);
    return ECG_OK;
}

/* Reads the header and the chosen signal of a record (data/readers.h). */
static int read_record(const char *arg, int channel, struct record *r, struct ecg_error *err)
{
    memset(r, 0, sizeof *r);
    char hea[4096];
    ECG_TRY(sibling(arg, ".hea", hea, sizeof hea, err));
    struct ecg_wfdb_header hdr;
    ECG_TRY(ecg_wfdb_read_channel(hea, channel, &hdr, &r->x, &r->length, err));
    r->fs = hdr.fs;
    snprintf(r->name, sizeof r->name, "%s", hdr.record);
    return ECG_OK;
}

static void print_beats(const struct args *a, const struct record *r, const int64_t *p, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (a->json)
            printf("{\"record\": \"%s\", \"sample\": %lld, \"time_s\": %.4f}\n", r->name, (long long)p[i],
                   (double)p[i] / r->fs);
        else
            printf("%s\t%lld\t%.4f\n", r->name, (long long)p[i], (double)p[i] / r->fs);
}

static void print_counts(const struct args *a, const char *name, const struct ecg_beat_counts *c)
{
    double se = 100 * ecg_beat_sensitivity(c), pp = 100 * ecg_beat_ppv(c);
    if (a->json)
        printf("{\"record\": \"%s\", \"reference\": %lld, \"tp\": %lld, \"fp\": %lld, \"fn\": %lld, "
               "\"se\": %.4f, \"ppv\": %.4f}\n",
               name, (long long)(c->tp + c->fn), (long long)c->tp, (long long)c->fp, (long long)c->fn,
               isnan(se) ? 0 : se, isnan(pp) ? 0 : pp);
    else
        printf("%s\t%lld\t%lld\t%lld\t%lld\t%.2f\t%.2f\n", name, (long long)(c->tp + c->fn), (long long)c->tp,
               (long long)c->fp, (long long)c->fn, se, pp);
}

/* Scores one record's detections against its .atr; adds to *c. */
static int compare(const struct args *a, const char *arg, const struct record *r, const int64_t *p, int64_t n,
                   struct ecg_beat_counts *c, struct ecg_error *err)
{
    char atr[4096];
    ECG_TRY(sibling(arg, ".atr", atr, sizeof atr, err));
    struct ecg_wfdb_annotation *ann = NULL;
    int64_t nann = 0, nref = 0, nspans = 0;
    ECG_TRY(ecg_wfdb_read_annotations(atr, &ann, &nann, err));
    int64_t *ref = NULL;
    struct ecg_beat_span *spans = NULL;
    int rc = ecg_beat_reference(ann, nann, r->length - 1, &ref, &nref, &spans, &nspans, err);
    /* Beats before --start are left out on both sides, as bxb leaves out its learning period. */
    int64_t start = (int64_t)llround(a->start_s * r->fs), i = 0, j = 0;
    while (i < nref && ref[i] < start)
        i++;
    while (j < n && p[j] < start)
        j++;
    if (rc == ECG_OK)
        rc = ecg_beat_match(ref + i, nref - i, p + j, n - j, (int64_t)llround(a->window_s * r->fs), spans,
                            nspans, c, err);
    if (rc)
        ecg_error_prefix(err, rc, "%s", atr);
    free(ann);
    free(ref);
    free(spans);
    return rc;
}

static int run(const struct args *a, int argc, char **argv, struct ecg_error *err)
{
    struct ecg_beat_counts gross = {0};
    for (int i = optind; i < argc; i++) {
        struct record r;
        ECG_TRY(read_record(argv[i], a->channel, &r, err));
        if (i == optind && !a->json) /* the header once the first record has read */
            puts(a->compare ? "record\treference\tTP\tFP\tFN\tSe_%\tPPV_%" : "record\tsample\ttime_s");
        int64_t *p = NULL, n = 0;
        int rc = ecg_qrs_detect(r.x, r.length, r.fs, &a->qrs, &p, &n, err);
        if (rc)
            ecg_error_prefix(err, rc, "%s", argv[i]);
        else if (a->compare) {
            struct ecg_beat_counts c = {0};
            rc = compare(a, argv[i], &r, p, n, &c, err);
            if (rc == ECG_OK) {
                print_counts(a, r.name, &c);
                gross.tp += c.tp;
                gross.fp += c.fp;
                gross.fn += c.fn;
            }
        } else
            print_beats(a, &r, p, n);
        free(p);
        free(r.x);
        if (rc)
            return rc;
    }
    if (a->compare)
        print_counts(a, "gross", &gross);
    return ECG_OK;
}

int main(int argc, char **argv)
{
    struct args a;
    struct ecg_error err = {0};
    int rc = parse_args(argc, argv, &a, &err);
    if (rc < 0)
        return 0;
    if (rc)
        return ecg_cli_parse_failed("ecgqrs", usage_text, rc, &err);
    rc = run(&a, argc, argv, &err);
    fflush(stdout);
    if (rc)
        fprintf(stderr, "ecgqrs: %s\n", err.msg);
    return ecg_status_exit_code(rc);
}
