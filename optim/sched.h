/* Learning-rate schedules (constant, step, cosine) with linear warm-up, as pure functions of the step. */
#ifndef ECG_OPTIM_SCHED_H
#define ECG_OPTIM_SCHED_H

#include <stdint.h>

#include "core/error.h"

/*
 * ecg_sched_lr(cfg, step, steps_per_epoch) is the learning rate of optimizer
 * step `step` (0-based, counting every step since training began), so a
 * resumed run gets exactly the rates it would have had.
 *
 * Warm-up: W steps (warmup_steps, or else round(warmup_epochs *
 * steps_per_epoch)).  For s < W: lr(s) = lr * (s + 1) / W, i.e. PyTorch's
 * LinearLR(start_factor=1/W, total_iters=W-1).  After warm-up the main
 * schedule runs on t = s - W (PyTorch's SequentialLR with milestone W):
 *   constant:  lr
 *   step:      lr * gamma^floor(t / (step_epochs * steps_per_epoch))
 *              (StepLR stepped once per epoch with step_size = step_epochs)
 *   cosine:    min_lr + (lr - min_lr) * (1 + cos(pi * t / T)) / 2 with
 *              T = epochs * steps_per_epoch - W, per step; t >= T gives
 *              min_lr (CosineAnnealingLR's closed form, T_max = T).
 */

/* Schedules; ecg_sched_kind_names[] (NULL-terminated) gives their config names (train.schedule) in this order. */
enum ecg_sched_kind { ECG_SCHED_CONSTANT, ECG_SCHED_STEP, ECG_SCHED_COSINE };
extern const char *const ecg_sched_kind_names[];

struct ecg_sched_config {
    enum ecg_sched_kind kind;
    double lr;             /* peak learning rate, > 0                      */
    double min_lr;         /* cosine floor, in [0, lr]                     */
    double gamma;          /* step: factor per step, in (0, 1]             */
    int64_t step_epochs;   /* step: epochs between decays, >= 1            */
    int64_t epochs;        /* cosine: total epochs of training, >= 1       */
    int64_t warmup_steps;  /* > 0 overrides warmup_epochs                  */
    double warmup_epochs;  /* may be fractional; 0 = no warm-up            */
};

/* "constant", "step", "cosine"; parse fails with ECG_ERR_CONFIG naming the choices. */
const char *ecg_sched_kind_name(enum ecg_sched_kind kind);
int ecg_sched_kind_parse(const char *text, enum ecg_sched_kind *kind, struct ecg_error *err);

/* Validates the fields for the kind; ECG_ERR_RANGE names the config key (train.step_gamma, ...) and value.
 * steps_per_epoch must be >= 1; cosine needs the warm-up shorter than training. */
int ecg_sched_check(const struct ecg_sched_config *c, int64_t steps_per_epoch,
                    struct ecg_error *err);

/* Warm-up length in steps. */
int64_t ecg_sched_warmup_steps(const struct ecg_sched_config *c, int64_t steps_per_epoch);

/* The learning rate of step `step` (>= 0) of a checked config. */
double ecg_sched_lr(const struct ecg_sched_config *c, int64_t step, int64_t steps_per_epoch);

#endif
