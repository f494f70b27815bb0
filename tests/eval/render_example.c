/* Renders the example report of docs/img from synthetic, seeded data: `render_example DIR`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/rng.h"
#include "eval/epoch_log.h"
#include "eval/metrics.h"
#include "eval/report.h"

/*
 * The data are made up (a seeded RNG, class frequencies like the CinC 2017 / CACHET-CADB rhythm classes) so
 * that the pictures in the docs show every part of a report; they are not
 * results of any model.  The title says so.
 */

enum { K = 4, N = 853, EPOCHS = 24 };

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    static const char *const names[K] = {"AF", "NSR", "Noise", "Other"};
    static const double prior[K] = {0.09, 0.59, 0.04, 0.28};
    static const double skill[K] = {2.9, 2.6, 1.5, 1.7}; /* how strongly each class is recognised */
    struct ecg_rng r = ecg_rng_init(2017, 0);
    int *truth = malloc(N * sizeof *truth);
    float *probs = malloc(N * K * sizeof *probs);
    if (!truth || !probs)
        return 1;
    for (int i = 0; i < N; i++) {
        double u = ecg_rng_uniform(&r), acc = 0;
        int t = K - 1;
        for (int c = 0; c < K; c++) {
            acc += prior[c];
            if (u < acc) {
                t = c;
                break;
            }
        }
        truth[i] = t;
        double logit[K], sum = 0;
        for (int c = 0; c < K; c++) {
            logit[c] = ecg_rng_normal(&r) + (c == t ? skill[t] : 0) + 0.6 * log(prior[c] / 0.25);
            sum += exp(logit[c]);
        }
        for (int c = 0; c < K; c++)
            probs[i * K + c] = (float)(exp(logit[c]) / sum);
    }
    struct ecg_epoch_row rows[EPOCHS];
    for (int e = 0; e < EPOCHS; e++) {
        double x = (double)(e + 1);
        rows[e] = (struct ecg_epoch_row){
            .epoch = e + 1,
            .train_loss = 0.30 + 0.85 * exp(-x / 6.0) + 0.02 * ecg_rng_normal(&r),
            .val_loss = 0.42 + 0.70 * exp(-x / 5.0) + 0.004 * x + 0.03 * ecg_rng_normal(&r),
            .train_acc = 0.93 - 0.45 * exp(-x / 6.0),
            .val_acc = 0.86 - 0.40 * exp(-x / 5.0),
            .train_macro_f1 = 0.90 - 0.62 * exp(-x / 6.5) + 0.01 * ecg_rng_normal(&r),
            .val_macro_f1 = 0.79 - 0.55 * exp(-x / 5.5) + 0.02 * ecg_rng_normal(&r),
            .lr = 1e-3 * 0.5 * (1 + cos(3.14159265358979 * e / EPOCHS)),
            .seconds = 31.5 + ecg_rng_uniform(&r),
            .images_per_s = 118 + 4 * ecg_rng_uniform(&r),
        };
    }
    struct ecg_metrics m;
    struct ecg_error err = {0};
    int rc = ecg_metrics_compute(&m, K, names, truth, NULL, probs, N, &err);
    if (rc == ECG_OK) {
        const char *config = "# synthetic example data: not a trained model\n"
                             "run:\n  name: example\n  seed: 1\n  threads: 2\n"
                             "data:\n  format: cachet_short\n"
                             "model:\n  arch: b0\n  num_classes: 4\n"
                             "optim:\n  name: adamw\n  lr: 0.001\n  weight_decay: 0.01\n"
                             "train:\n  epochs: 24\n  batch_size: 32\n  warmup_epochs: 1\n"
                             "  schedule: cosine\n";
        struct ecg_report rep = {.title = "Example report (synthetic data)", .split = "test",
                                 .metrics = &m, .epochs = rows, .n_epochs = EPOCHS,
                                 .config_text = config};
        rc = ecg_report_write(argv[1], &rep, &err);
        if (rc == ECG_OK)
            ecg_report_write_text(stdout, &m);
        ecg_metrics_free(&m);
    }
    free(truth);
    free(probs);
    if (rc) {
        fprintf(stderr, "render_example: %s\n", err.msg);
        return 1;
    }
    return 0;
}
