/* ecgtrain: fine-tunes EfficientNet on ECG spectrograms as a YAML config says; parses arguments and the config. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "train/config.h"
#include "core/dist.h"
#include "core/error.h"
#include "core/log.h"
#include "tools/cli.h"
#include "train/run_log.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgtrain [--print-config] CONFIG [key=value ...]\n"
    "       ecgtrain --help | --version\n"
    "\n"
    "Trains and evaluates an EfficientNet on ECG spectrograms as CONFIG (a YAML file,\n"
    "such as configs/effb0.yaml) says.  Each key=value overrides one key after the file\n"
    "and its base files, for example: optim.lr=0.01 train.class_weights=[1,2,1,1]\n"
    "\n"
    "  --print-config  print the fully resolved configuration as YAML and exit\n"
    "  -h, --help      print this text and every configuration key\n"
    "  -V, --version   print the version\n"
    "  --              end of options (for a CONFIG path that starts with '-')\n"
    "\n"
    "The run directory (run.dir, default runs/<run.name>) receives config.yaml, log.csv,\n"
    "last.h5 and best.h5 checkpoints, and the test report (report.html, metrics.json).\n"
    "Ctrl-C or SIGTERM saves a checkpoint; continue with run.resume=<dir>/last.h5.\n"
    "Under mpirun (data-parallel, docs/distributed.md): SIGUSR1 to mpirun or SIGTERM to a rank.\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure or interruption, 2 usage or configuration error.\n";

static void on_stop_signal(int sig)
{
    (void)sig;
    ecg_train_request_stop();
}

struct args {
    bool print_config;
    const char *config;
    int noverrides;
    char **overrides; /* points into argv; the array is heap-owned */
};

/* Returns ECG_OK, an error, or -1 after printing help or the version. */
static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    static const struct option options[] = {ECG_CLI_COMMON, {"print-config", no_argument, NULL, 'p'},
                                             {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->overrides = calloc((size_t)argc, sizeof(char *));
    if (!a->overrides)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            fputc('\n', stdout);
            ecg_config_print_help(stdout);
            return -1;
        case 'V': ecg_cli_print_version("ecgtrain"); return -1;
        case 'p': a->print_config = true; break;
        default: return ecg_cli_option_error(c, argv, err);
        }
    }
    for (int i = optind; i < argc; i++) {
        if (!a->config)
            a->config = argv[i];
        else if (strchr(argv[i], '='))
            a->overrides[a->noverrides++] = argv[i];
        else
            return ecg_error_set(err, ECG_ERR_USAGE, "expected key=value after the config file, found '%s'", argv[i]);
    }
    if (!a->config)
        return ecg_error_set(err, ECG_ERR_USAGE, "missing the CONFIG file");
    return ECG_OK;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct args a;
    struct ecg_error err = {0};
    struct ecg_config c = {0};
    int rc = ecg_dist_init(&argc, &argv, &err); /* under mpirun: one rank of a data-parallel run */
    if (rc) {
        fprintf(stderr, "ecgtrain: %s\n", err.msg);
        return ecg_status_exit_code(rc);
    }
    rc = parse_args(argc, argv, &a, &err);
    if (rc) {
        int status = rc > 0 ? ecg_cli_parse_failed("ecgtrain", usage_text, rc, &err) : 0;
        free(a.overrides);
        ecg_dist_finalize();
        return status;
    }

    /* Any failure to read or validate the config is a configuration error (exit 2). */
    rc = ecg_config_resolve(&c, a.config, a.noverrides, a.overrides, &err);
    if (rc) {
        fprintf(stderr, "ecgtrain: %s\n", err.msg);
        free(a.overrides);
        ecg_dist_finalize();
        return ecg_status_exit_code(rc == ECG_ERR_NOMEM ? rc : ECG_ERR_CONFIG);
    }
    ecg_log_set_level((enum ecg_log_level)c.run.log_level);

    if (a.print_config) {
        rc = ecg_config_write_yaml(&c, stdout, &err);
    } else {
        /* Ctrl-C or SIGTERM: finish the batch, save a checkpoint, exit cleanly. */
        struct sigaction sa = {0};
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C stops at once; checkpoints are atomic */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGUSR1, &sa, NULL); /* what mpirun forwards to every rank */
        rc = ecg_train_run(&c, c.run.resume, &err);
        /* A failure on some ranks only would leave the others waiting: end the whole job. */
        if (rc && rc != ECG_ERR_INTERRUPTED && ecg_dist_size() > 1)
            ecg_dist_abort(err.msg, ecg_status_exit_code(rc));
        if (rc == ECG_ERR_INTERRUPTED)
            ecg_dist_barrier(); /* no rank exits (and ends the job) before rank 0 saved the checkpoint */
    }
    if (rc && (ecg_dist_is_root() || rc != ECG_ERR_INTERRUPTED))
        fprintf(stderr, "ecgtrain: %s\n", err.msg);
    /* train.log gets everything printed so far, the message above included; a failure to write it is
     * the run's failure too. */
    struct ecg_error log_err = {0};
    if (ecg_run_log_finish(&log_err)) {
        fprintf(stderr, "ecgtrain: %s\n", log_err.msg);
        rc = rc ? rc : (int)log_err.code;
    }
    ecg_config_free(&c);
    free(a.overrides);
    ecg_dist_finalize();
    return ecg_status_exit_code(rc);
}
