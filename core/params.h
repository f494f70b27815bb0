/* The parameter store: named, shaped parameters in one values array and one grads array. */
#ifndef ECG_CORE_PARAMS_H
#define ECG_CORE_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/*
 * All parameters of a model live in two contiguous float arrays, `values`
 * and `grads`, of the same length.  Each parameter is a named slice
 * (offset, numel) with a shape.  Consequences:
 *   - zero-grad is one memset; an optimizer is one flat loop (with per-
 *     parameter flags for weight decay and freezing);
 *   - a gradient all-reduce is one call on `grads`;
 *   - a checkpoint is the table of names plus the slices.
 *
 * Names follow Keras: "<layer>/<weight>", e.g. "stem_conv/kernel",
 * "block2a_expand_bn/gamma", "block2a_expand_bn/moving_mean".  Shapes are
 * the Keras layouts (see core/tensor.h).
 *
 * Life cycle: ecg_params_add() while planning (records name, shape, flags),
 * then ecg_params_bind() allocates both arrays once (zero-filled, aligned);
 * pointers from ecg_params_value()/ecg_params_grad() are valid after bind
 * and until ecg_params_free().  Every slice starts on a 64-byte boundary.
 */

#define ECG_PARAM_NAME_MAX 96

enum ecg_param_flags {
    ECG_PARAM_NO_DECAY = 1u << 0, /* batch-norm scale/shift and biases            */
    ECG_PARAM_FROZEN = 1u << 1,   /* receives no update (fine-tuning)             */
    ECG_PARAM_BUFFER = 1u << 2,   /* state, not trainable (BN running statistics) */
};

/*
 * How a parameter starts, declared by the layer that creates it (Keras'
 * initialisers for EfficientNet), so a new parameter cannot silently start
 * at zero: ecg_layer_param() refuses one without an initialisation.  It
 * travels in the flags argument of ecg_params_add() as ECG_PARAM_INIT(kind)
 * and is stored apart, in `init`; the other flags stay in `flags`.
 */
enum ecg_param_init {
    ECG_INIT_UNSET = 0,
    ECG_INIT_ZEROS,
    ECG_INIT_ONES,
    ECG_INIT_CONV_FAN_OUT,  /* HWIO kernel: VarianceScaling(2, fan_out, truncated normal)  */
    ECG_INIT_DENSE_FAN_OUT, /* (in, out) kernel: VarianceScaling(1/3, fan_out, uniform)    */
};
#define ECG_PARAM_INIT_SHIFT 8
#define ECG_PARAM_INIT(kind) ((unsigned)(kind) << ECG_PARAM_INIT_SHIFT)

struct ecg_param {
    char name[ECG_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[4];
    int64_t numel;
    int64_t offset; /* into values/grads, in floats */
    unsigned flags; /* enum ecg_param_flags */
    enum ecg_param_init init;
};

struct ecg_params {
    struct ecg_param *items;
    int count;
    int cap;
    int64_t total; /* floats in each array, including alignment padding */
    float *values;
    float *grads;
    bool shared_values; /* values belong to another store of the same layout (ecg_params_bind_shared) */
};

/* Registers a parameter; returns its index through *index.  `flags` is
 * enum ecg_param_flags | ECG_PARAM_INIT(kind).  Fails on a duplicate name,
 * a name too long, a bad shape, or after bind. */
int ecg_params_add(struct ecg_params *p, const char *name, int ndim, const int64_t *shape,
                   unsigned flags, int *index, struct ecg_error *err);

/* Allocates values and grads (zero-filled). */
int ecg_params_bind(struct ecg_params *p, struct ecg_error *err);
/* Allocates grads only and reads `shared_values`, the values of another store registered with the same
 * parameters in the same order (a data-parallel replica of its network); they are not freed here.
 * NULL: as ecg_params_bind. */
int ecg_params_bind_shared(struct ecg_params *p, float *shared_values, struct ecg_error *err);

/* Frees everything; a zeroed store is a no-op.  Leaves the struct zeroed. */
void ecg_params_free(struct ecg_params *p);

/* Index of `name`, or -1. */
int ecg_params_find(const struct ecg_params *p, const char *name);

/* Index of the parameter whose slice holds float `offset` of values/grads (or of any array laid out
 * like them: optimizer moments, EMA weights), or -1 for the alignment padding between slices. */
int ecg_params_at_offset(const struct ecg_params *p, int64_t offset);

float *ecg_params_value(const struct ecg_params *p, int index);
float *ecg_params_grad(const struct ecg_params *p, int index);

void ecg_params_zero_grad(struct ecg_params *p);

/* Sum of numel over parameters with none of `exclude_flags` set. */
int64_t ecg_params_count(const struct ecg_params *p, unsigned exclude_flags);

/* Sets or clears flags on every parameter whose name starts with `prefix`
 * ("" matches all); returns how many matched. */
int ecg_params_set_flags(struct ecg_params *p, const char *prefix, unsigned flags, bool on);

#endif
