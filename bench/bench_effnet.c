/* Benchmark of whole EfficientNet steps (train: forward, loss, backward, SGD-momentum update; infer: forward). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/blas.h"
#include "core/log.h"
#include "core/rng.h"
#include "layers/effnet.h"
#include "layers/effnet_replicas.h"
#include "optim/optim.h"

struct options {
    int arch;
    int64_t height, width, batch, in_channels, classes;
    bool train;
    int threads, warmup, steps, replicas;
    enum ecg_padding padding;
    bool timing;
};

static void usage(FILE *f)
{
    fputs("usage: bench_effnet [--arch b0..b7] [--res N | --height H --width W] [--batch N]\n"
          "                    [--channels N] [--classes N] [--mode train|infer] [--threads N]\n"
          "                    [--warmup N] [--steps N] [--padding same|symmetric] [--no-timing]\n"
          "                    [--replicas N]\n"
          "Times whole steps after warm-up on batch x H x W x channels inputs (--res N: N x N;\n"
          "--in-channels is --channels); prints step_ms=<median> and last images_per_s=<median>.\n"
          "--replicas N (train): the batch split over N replicas side by side, one thread each\n"
          "(run.replicas; --threads then counts the threads of everything else).\n",
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
    *o = (struct options){.arch = 0, .height = 224, .width = 224, .batch = 16, .in_channels = 3, .classes = 1000,
                          .train = true, .threads = 2, .warmup = 2, .steps = 5, .replicas = 1,
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
            } ints[] = {{"--res", 32, 4096, &x},
                        {"--height", 32, 4096, &o->height},
                        {"--width", 32, 4096, &o->width},
                        {"--batch", 1, 1024, &o->batch},
                        {"--channels", 1, 64, &o->in_channels},
                        {"--in-channels", 1, 64, &o->in_channels},
                        {"--classes", 1, 100000, &o->classes},
                        {"--threads", 1, 256, &x},
                        {"--warmup", 0, 1000, &x},
                        {"--steps", 1, 1000, &x},
                        {"--replicas", 1, ECG_REPLICAS_MAX, &x}};
            size_t k = 0, nints = sizeof ints / sizeof ints[0];
            while (k < nints && strcmp(a, ints[k].flag))
                k++;
            if (k == nints) {
                fprintf(stderr, "bench_effnet: unknown option '%s'\n", a);
                return 0;
            }
            if (!parse_int(a, v, ints[k].lo, ints[k].hi, ints[k].dst))
                return 0;
            if (!strcmp(a, "--res"))
                o->height = o->width = x;
            else if (!strcmp(a, "--threads"))
                o->threads = (int)x;
            else if (!strcmp(a, "--warmup"))
                o->warmup = (int)x;
            else if (!strcmp(a, "--steps"))
                o->steps = (int)x;
            else if (!strcmp(a, "--replicas"))
                o->replicas = (int)x;
        }
    }
    if (o->replicas > 1 && (!o->train || o->replicas > o->batch)) {
        fprintf(stderr, "bench_effnet: --replicas: %d replicas need --mode train and a batch of at least %d\n",
                o->replicas, o->replicas);
        return 0;
    }
    return 1;
}

/* CPU seconds of all threads of the process: on a machine shared with other jobs it does not count
 * the time the scheduler gave to them (with one thread, the steadier figure). */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
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
    struct ecg_replicas rp = {0};
    struct ecg_optim opt = {0};
    struct ecg_error err = {0};
    /* replica 0 is planned for its share of the batch, as every other replica */
    int64_t planned = (o.batch + o.replicas - 1) / o.replicas;
    int rc = ecg_effnet_init(&m, &mo, planned, o.height, o.width, &err);
    if (!rc && o.train)
        rc = ecg_replicas_init(&rp, &m, o.replicas, o.batch, &err);
    if (rc) {
        fprintf(stderr, "bench_effnet: %s\n", err.msg);
        ecg_effnet_free(&m);
        return 1;
    }
    ecg_effnet_init_weights(&m, 1);
    if (o.train) {
        struct ecg_optim_config oc = ecg_optim_defaults(ECG_OPTIM_SGD);
        oc.momentum = 0.9;
        if ((rc = ecg_optim_init(&opt, m.params, &oc, &err))) {
            fprintf(stderr, "bench_effnet: %s\n", err.msg);
            ecg_replicas_free(&rp);
            ecg_effnet_free(&m);
            return 1;
        }
    }

    int64_t xn = o.batch * o.height * o.width * o.in_channels;
    float *x = malloc((size_t)xn * sizeof *x);
    int32_t *labels = malloc((size_t)o.batch * sizeof *labels);
    double *times = malloc((size_t)o.steps * sizeof *times), *cpu = malloc((size_t)o.steps * sizeof *cpu);
    if (!x || !labels || !times || !cpu) {
        fprintf(stderr, "bench_effnet: out of memory for the input batch\n");
        return 1;
    }
    struct ecg_rng data_rng = ecg_rng_init(0, 0);
    for (int64_t i = 0; i < xn; i++)
        x[i] = ecg_rng_normal(&data_rng);
    for (int64_t i = 0; i < o.batch; i++)
        labels[i] = (int32_t)ecg_rng_below(&data_rng, (uint64_t)o.classes);

    printf("ecgtrain bench: efficientnet-b%d height=%lld width=%lld batch=%lld in_channels=%lld mode=%s "
           "threads=%d replicas=%d\n",
           o.arch, (long long)o.height, (long long)o.width, (long long)o.batch, (long long)o.in_channels,
           o.train ? "train" : "infer", o.threads, o.replicas);
    printf("cpu_target=%s\n", ECG_CPU_TARGET); /* meson -Dcpu: which instruction set was measured */
    for (int s = 0; s < o.warmup + o.steps; s++) {
        if (s == o.warmup)
            ecg_effnet_timing_reset(&m);
        struct ecg_rng step_rng = ecg_rng_init(1, (uint64_t)s);
        double t0 = ecg_now(), c0 = cpu_seconds();
        if (o.train) {
            ecg_params_zero_grad(m.params);
            ecg_replicas_forward_loss(&rp, x, NULL, 0, labels, o.batch, 0, &step_rng, NULL, 0.0f);
            ecg_replicas_backward(&rp);
            ecg_optim_step(&opt, m.params, 0.01);
        } else {
            ecg_effnet_forward(&m, x, o.batch, false, NULL);
        }
        double dt = ecg_now() - t0;
        if (s >= o.warmup) {
            times[s - o.warmup] = dt;
            cpu[s - o.warmup] = cpu_seconds() - c0;
            printf("step_s=%.4f\n", dt);
            fflush(stdout);
        }
    }
    if (o.timing)
        ecg_effnet_timing_print(&m, stdout);
    struct ecg_effnet_memory mem = ecg_effnet_memory(&m);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("activation_mib=%.1f work_mib=%.1f param_mib=%.1f replicas_mib=%.1f\n", mem.activation_bytes / 1048576.0,
           mem.work_bytes / 1048576.0, mem.param_bytes / 1048576.0, ecg_replicas_extra_bytes(&rp) / 1048576.0);
    printf("peak_rss_mib=%.1f\n", (double)ru.ru_maxrss / 1024.0);
    qsort(times, (size_t)o.steps, sizeof *times, cmp_double);
    double median = o.steps % 2 ? times[o.steps / 2] : 0.5 * (times[o.steps / 2 - 1] + times[o.steps / 2]);
    qsort(cpu, (size_t)o.steps, sizeof *cpu, cmp_double);
    printf("cpu_ms=%.3f\n",
           1e3 * (o.steps % 2 ? cpu[o.steps / 2] : 0.5 * (cpu[o.steps / 2 - 1] + cpu[o.steps / 2])));
    printf("step_ms=%.3f\n", median * 1e3);
    printf("images_per_s=%.3f\n", (double)o.batch / median);

    free(x);
    free(labels);
    free(times);
    free(cpu);
    ecg_optim_free(&opt);
    ecg_replicas_free(&rp);
    ecg_effnet_free(&m);
    return 0;
}
