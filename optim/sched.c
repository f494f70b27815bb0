/* Learning-rate schedules with linear warm-up. */
#include "optim/sched.h"

#include <math.h>
#include <strings.h>

#define ECG_PI 3.14159265358979323846

const char *const ecg_sched_kind_names[] = {
    [ECG_SCHED_CONSTANT] = "constant", [ECG_SCHED_STEP] = "step", [ECG_SCHED_COSINE] = "cosine", NULL,
};

const char *ecg_sched_kind_name(enum ecg_sched_kind kind)
{
    ECG_ASSERT(kind >= ECG_SCHED_CONSTANT && kind <= ECG_SCHED_COSINE);
    return ecg_sched_kind_names[kind];
}

int ecg_sched_kind_parse(const char *text, enum ecg_sched_kind *kind, struct ecg_error *err)
{
    for (int i = 0; i < 3; i++)
        if (strcasecmp(text, ecg_sched_kind_names[i]) == 0) {
            *kind = (enum ecg_sched_kind)i;
            return ECG_OK;
        }
    return ecg_error_set(err, ECG_ERR_CONFIG,
                         "train.schedule '%s': expected one of constant, step, cosine", text);
}

int64_t ecg_sched_warmup_steps(const struct ecg_sched_config *c, int64_t steps_per_epoch)
{
    if (c->warmup_steps > 0)
        return c->warmup_steps;
    return (int64_t)llround(c->warmup_epochs * (double)steps_per_epoch);
}

int ecg_sched_check(const struct ecg_sched_config *c, int64_t steps_per_epoch,
                    struct ecg_error *err)
{
    if (c->kind < ECG_SCHED_CONSTANT || c->kind > ECG_SCHED_COSINE)
        return ecg_error_set(err, ECG_ERR_CONFIG, "train.schedule %d: expected constant, step or cosine",
                             (int)c->kind);
    if (steps_per_epoch < 1)
        return ecg_error_set(err, ECG_ERR_RANGE, "schedule: %lld steps per epoch, expected >= 1",
                             (long long)steps_per_epoch);
    if (!(isfinite(c->lr) && c->lr > 0))
        return ecg_error_set(err, ECG_ERR_RANGE, "optim.lr = %g: expected a finite value > 0", c->lr);
    if (c->warmup_steps < 0)
        return ecg_error_set(err, ECG_ERR_RANGE, "schedule warmup_steps = %lld: expected >= 0",
                             (long long)c->warmup_steps);
    if (!(isfinite(c->warmup_epochs) && c->warmup_epochs >= 0 && c->warmup_epochs <= 1e6))
        return ecg_error_set(err, ECG_ERR_RANGE, "train.warmup_epochs = %g: expected a value >= 0",
                             c->warmup_epochs);
    if (c->kind == ECG_SCHED_STEP) {
        if (!(c->gamma > 0 && c->gamma <= 1))
            return ecg_error_set(err, ECG_ERR_RANGE, "train.step_gamma = %g: expected a value in (0, 1]",
                                 c->gamma);
        if (c->step_epochs < 1)
            return ecg_error_set(err, ECG_ERR_RANGE, "train.step_epochs = %lld: expected >= 1",
                                 (long long)c->step_epochs);
    }
    if (c->kind == ECG_SCHED_COSINE) {
        if (!(c->min_lr >= 0 && c->min_lr <= c->lr))
            return ecg_error_set(err, ECG_ERR_RANGE, "schedule min_lr = %g: expected a value in [0, lr = %g]",
                                 c->min_lr, c->lr);
        if (c->epochs < 1)
            return ecg_error_set(err, ECG_ERR_RANGE, "train.epochs = %lld: expected >= 1",
                                 (long long)c->epochs);
        int64_t w = ecg_sched_warmup_steps(c, steps_per_epoch);
        if (w >= c->epochs * steps_per_epoch)
            return ecg_error_set(err, ECG_ERR_RANGE,
                                 "train.warmup_epochs: a warm-up of %lld steps leaves nothing of %lld epochs "
                                 "x %lld steps for the cosine decay",
                                 (long long)w, (long long)c->epochs, (long long)steps_per_epoch);
    }
    return ECG_OK;
}

double ecg_sched_lr(const struct ecg_sched_config *c, int64_t step, int64_t steps_per_epoch)
{
    ECG_ASSERT(step >= 0 && steps_per_epoch >= 1);
    int64_t w = ecg_sched_warmup_steps(c, steps_per_epoch);
    if (step < w)
        return c->lr * (double)(step + 1) / (double)w;
    int64_t t = step - w;
    switch (c->kind) {
    case ECG_SCHED_CONSTANT:
        return c->lr;
    case ECG_SCHED_STEP:
        return c->lr * pow(c->gamma, (double)(t / (c->step_epochs * steps_per_epoch)));
    case ECG_SCHED_COSINE: {
        int64_t total = c->epochs * steps_per_epoch - w;
        if (t >= total)
            return c->min_lr;
        return c->min_lr + (c->lr - c->min_lr) * (1.0 + cos(ECG_PI * (double)t / (double)total)) / 2.0;
    }
    }
    ECG_ASSERT(0);
    return 0;
}
