/* Optimizers over the flat parameter store: SGD (momentum, Nesterov), AdamW and RMSprop. */
#ifndef ECG_OPTIM_OPTIM_H
#define ECG_OPTIM_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/params.h"

/*
 * The update formulas are exactly those of torch.optim.SGD, torch.optim.AdamW
 * and torch.optim.RMSprop (PyTorch 1.13, single-tensor path), with the same
 * order of float32 operations and the scalar factors computed in double and
 * rounded to float as PyTorch does; tests/fixtures/gen_optim_fixtures.py
 * records PyTorch trajectories that the tests reproduce.  See docs/optim.md.
 *
 * Which parameters are touched:
 *   - ECG_PARAM_FROZEN or ECG_PARAM_BUFFER: never updated, and their state
 *     (momentum, moments, step count) never changes.  This matches PyTorch,
 *     where a parameter with requires_grad=False has grad None and is skipped.
 *   - ECG_PARAM_NO_DECAY: updated with weight decay 0 (a PyTorch param group
 *     with weight_decay=0).
 *   - Every other parameter is updated every step, even with a zero gradient.
 * Flags are read at each step, so freezing or unfreezing between steps
 * (staged fine-tuning) takes effect at once.
 *
 * Learning rate: ecg_optim_step() takes the step's base learning rate (from a
 * schedule, optim/sched.h); each parameter uses base * its multiplier
 * (default 1, set with ecg_optim_set_lr_mult), like a PyTorch param group
 * with its own lr.  AdamW's decoupled decay uses that same per-parameter lr.
 *
 * State lives in flat float arrays the length of the store (p->total), so
 * the slice of a parameter is at its offset, plus one step counter per
 * parameter (AdamW's bias correction is per parameter in PyTorch: a
 * parameter unfrozen later starts at step 1).  ecg_optim_state_blob()
 * enumerates them for checkpoints; restoring the blobs and `step` resumes
 * bit-exactly.
 */

/* Optimizers; ecg_optim_kind_names[] (NULL-terminated) gives their config names (optim.name) in this order. */
enum ecg_optim_kind { ECG_OPTIM_SGD, ECG_OPTIM_ADAMW, ECG_OPTIM_RMSPROP };
extern const char *const ecg_optim_kind_names[];

struct ecg_optim_config {
    enum ecg_optim_kind kind;
    double weight_decay; /* SGD/RMSprop: L2 added to the gradient; AdamW: decoupled */
    double momentum;     /* SGD and RMSprop; 0 disables the buffer                */
    bool nesterov;       /* SGD only; needs momentum > 0                          */
    double betas[2];     /* AdamW beta1, beta2                                    */
    double eps;          /* AdamW and RMSprop                                     */
    double rmsprop_decay; /* RMSprop smoothing constant (PyTorch's alpha)          */
    bool centered;       /* RMSprop                                               */
};

/* PyTorch's defaults for each kind (weight decay: AdamW 0.01, others 0). */
struct ecg_optim_config ecg_optim_defaults(enum ecg_optim_kind kind);

/* "sgd", "adamw", "rmsprop"; ecg_optim_kind_parse fails with ECG_ERR_CONFIG naming the choices. */
const char *ecg_optim_kind_name(enum ecg_optim_kind kind);
int ecg_optim_kind_parse(const char *text, enum ecg_optim_kind *kind, struct ecg_error *err);

/* One named state array.  `data` has `count` floats. */
struct ecg_optim_blob {
    const char *name; /* PyTorch's state key: "momentum_buffer", "exp_avg", ... */
    float *data;
    int64_t count;
};

struct ecg_optim {
    struct ecg_optim_config cfg;
    int64_t step;      /* steps taken (global; schedules use it)       */
    int64_t total;     /* floats per state array (= params->total)     */
    int nparams;       /* parameters in the store it was made for     */
    double *lr_mult;   /* [nparams], default 1                         */
    float *param_step; /* [nparams] steps in which each was trainable */
    int nblobs;
    struct ecg_optim_blob blobs[3];
};

/* Validates cfg (ranges as PyTorch checks them; ECG_ERR_RANGE naming the
 * field and value) and allocates zeroed state for the bound store `p`. */
int ecg_optim_init(struct ecg_optim *o, const struct ecg_params *p,
                   const struct ecg_optim_config *cfg, struct ecg_error *err);

/* Frees the state; a zeroed struct is a no-op.  Leaves it zeroed. */
void ecg_optim_free(struct ecg_optim *o);

/* Sets the learning-rate multiplier of every parameter whose name starts with
 * `prefix` ("" = all); returns how many matched.  Fails (ECG_ERR_RANGE) for a
 * negative or non-finite multiplier. */
int ecg_optim_set_lr_mult(struct ecg_optim *o, const struct ecg_params *p, const char *prefix,
                          double mult, int *matched, struct ecg_error *err);

/* One update of every trainable parameter from p->grads with base learning
 * rate `lr`.  Cannot fail: check gradients first (optim/grad.h). */
void ecg_optim_step(struct ecg_optim *o, struct ecg_params *p, double lr);

/*
 * State for checkpoints: blobs 0 .. ecg_optim_state_count()-1 are the float
 * arrays; the last one is "step" (per-parameter step counts as floats, exact
 * up to 2^24 steps).  The global step is o->step.  Blob names are stable.
 */
int ecg_optim_state_count(const struct ecg_optim *o);
struct ecg_optim_blob ecg_optim_state_blob(const struct ecg_optim *o, int i);

#endif
