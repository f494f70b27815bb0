/* Benchmark of whole EfficientNet steps (train: forward, loss, backward, SGD-momentum update; infer: forward). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/blas.h"
#include "core/log.h"
#include "core/rng.h"
#include "layers/effnet.h"
#include "optim/optim.h"

struct options {
    int arch;
    int64_t res, height, width, batch, in_channels, classes; /* height, width 0: res */
    bool train;
    int threads, warmup, steps;
    enum ecg_padding padding;
    bool timing;
};

static void usage(FILE *f)
{
    fputs("usage: bench_effnet [--arch b0..b7] [--res N | --height N --width N] [--batch N] [--in-channels N]\n"
          "                    [--channels N] [--classes N]\n"
          "                    [--mode train|infer] [--threads N] [--warmup N] [--steps N]\n"
          "                    [--padding same|symmetric] [--no-timing]\n"
          "Times whole steps after warm-up; the last line is images_per_s=<median>.\n",
          f);
}

static int parse_int(const char *flag, const char *text, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bench_effnet: %s: expected an integer in [%lld, %lld], found '%s'\n", flag,
                (long long)lo, (long long)hi, text);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){.arch = 0, .res = 224, .batch = 16, .in_channels = 3, .classes = 1000,
                          .train = true, .threads = 2, .warmup = 2, .steps = 5,
                          .padding = ECG_PAD_SYMMETRIC, .timing = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--no-timing")) {
            o->timing = false;
            continue;
        }
        if (!v) {
            usage(stderr);
            return 0;
        }
        i++;
        if (!strcmp(a, "--arch")) {
            if (strlen(v) != 2 || v[0] != 'b' || v[1] < '0' || v[1] > '7') {
                fprintf(stderr, "bench_effnet: --arch: expected b0..b7, found '%s'\n", v);
                return 0;
            }
            o->arch = v[1] - '0';
        } else if (!strcmp(a, "--mode")) {
            if (strcmp(v, "train") && strcmp(v, "infer")) {
                fprintf(stderr, "bench_effnet: --mode: expected train or infer, found '%s'\n", v);
                return 0;
            }
            o->train = !strcmp(v, "train");
        } else if (!strcmp(a, "--padding")) {
            if (strcmp(v, "same") && strcmp(v, "symmetric")) {
                fprintf(stderr, "bench_effnet: --padding: expected same or symmetric, found '%s'\n", v);
                return 0;
            }
            o->padding = !strcmp(v, "same") ? ECG_PAD_SAME : ECG_PAD_SYMMETRIC;
        } else {
            /* Integer options: flag, range, destination. */
            const struct {
                const char *flag;
                int64_t lo, hi;
                int64_t *dst;
            } ints[] = {{"--res", 32, 1024, &o->res},        {"--batch", 1, 1024, &o->batch},
                        {"--height", 16, 2048, &o->height},  {"--width", 16, 2048, &o->width},
                        {"--in-channels", 1, 64, &o->in_channels}, {"--channels", 1, 64, &o->in_channels},
                        {"--classes", 1, 100000, &o->classes},
                        {"--threads", 1, 256, &x},           {"--warmup", 0, 1000, &x},
                        {"--steps", 1, 1000, &x}};
            size_t k = 0, nints = sizeof ints / sizeof ints[0];
            while (k < nints && strcmp(a, ints[k].flag))
                k++;
            if (k == nints) {
                fprintf(stderr, "bench_effnet: unknown option '%s'\n", a);
                return 0;
            }
            if (!parse_int(a, v, ints[k].lo, ints[k].hi, ints[k].dst))
                return 0;
            if (!strcmp(a, "--threads"))
                o->threads = (int)x;
            else if (!strcmp(a, "--warmup"))
                o->warmup = (int)x;
            else if (!strcmp(a, "--steps"))
                o->steps = (int)x;
        }
    }
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct options o;
    if (!parse_args(argc, argv, &o))
        return 2;
    ecg_threads_set(o.threads);

    struct ecg_effnet_options mo;
    ecg_effnet_options_default(&mo, o.arch);
    mo.in_channels = o.in_channels;
    mo.num_classes = o.classes;
    mo.padding = o.padding;
    mo.bn_eps = o.padding == ECG_PAD_SAME ? 1e-3f : 1e-5f;
    mo.inference_only = !o.train; /* activations reused: a third of the training memory */

    struct ecg_effnet m;
    struct ecg_optim opt = {0};
    struct ecg_error err = {0};
    /* Non-square images (frequency x time spectrograms): --height and --width override --res. */
    int64_t h = o.height ? o.height : o.res, w = o.width ? o.width : o.res;
    int rc = ecg_effnet_init(&m, &mo, o.batch, h, w, &err);
    if (rc) {
        fprintf(stderr, "bench_effnet: %s\n", err.msg);
        return 1;
    }
    ecg_effnet_init_weights(&m, 1);
    if (o.train) {
        struct ecg_optim_config oc = ecg_optim_defaults(ECG_OPTIM_SGD);
        oc.momentum = 0.9;
        if ((rc = ecg_optim_init(&opt, m.params, &oc, &err))) {
            fprintf(stderr, "bench_effnet: %s\n", err.msg);
            ecg_effnet_free(&m);
            return 1;
        }
    }

    int64_t xn = o.batch * h * w * o.in_channels;
    float *x = malloc((size_t)xn * sizeof *x);
    int32_t *labels = malloc((size_t)o.batch * sizeof *labels);
    double *times = malloc((size_t)o.steps * sizeof *times);
    if (!x || !labels || !times) {
        fprintf(stderr, "bench_effnet: out of memory for the input batch\n");
        return 1;
    }
    struct ecg_rng data_rng = ecg_rng_init(0, 0);
    for (int64_t i = 0; i < xn; i++)
        x[i] = ecg_rng_normal(&data_rng);
    for (int64_t i = 0; i < o.batch; i++)
        labels[i] = (int32_t)ecg_rng_below(&data_rng, (uint64_t)o.classes);

    printf("ecgtrain bench: efficientnet-b%d height=%lld width=%lld batch=%lld in_channels=%lld mode=%s threads=%d\n",
           o.arch, (long long)h, (long long)w, (long long)o.batch, (long long)o.in_channels,
           o.train ? "train" : "infer", o.threads);
    for (int s = 0; s < o.warmup + o.steps; s++) {
        if (s == o.warmup)
            ecg_effnet_timing_reset(&m);
        struct ecg_rng step_rng = ecg_rng_init(1, (uint64_t)s);
        double t0 = ecg_now();
        if (o.train) {
            ecg_effnet_forward(&m, x, o.batch, true, &step_rng);
            ecg_effnet_loss(&m, labels, NULL, 0.0f);
            ecg_params_zero_grad(m.params);
            ecg_effnet_backward(&m);
            ecg_optim_step(&opt, m.params, 0.01);
        } else {
            ecg_effnet_forward(&m, x, o.batch, false, NULL);
        }
        double dt = ecg_now() - t0;
        if (s >= o.warmup) {
            times[s - o.warmup] = dt;
            printf("step_s=%.4f\n", dt);
            fflush(stdout);
        }
    }
    if (o.timing)
        ecg_effnet_timing_print(&m, stdout);
    struct ecg_effnet_memory mem = ecg_effnet_memory(&m);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("activation_mib=%.1f work_mib=%.1f param_mib=%.1f\n", mem.activation_bytes / 1048576.0,
           mem.work_bytes / 1048576.0, mem.param_bytes / 1048576.0);
    printf("peak_rss_mib=%.1f\n", (double)ru.ru_maxrss / 1024.0);
    qsort(times, (size_t)o.steps, sizeof *times, cmp_double);
    double median = o.steps % 2 ? times[o.steps / 2] : 0.5 * (times[o.steps / 2 - 1] + times[o.steps / 2]);
    printf("images_per_s=%.3f\n", (double)o.batch / median);

    free(x);
    free(labels);
    free(times);
    ecg_optim_free(&opt);
    ecg_effnet_free(&m);
    return 0;
}
