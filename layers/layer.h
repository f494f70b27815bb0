/* The layer interface (an ops table per layer type), layer constructors, and a network that plans, binds and
 * runs a layer sequence. */
#ifndef ECG_LAYERS_LAYER_H
#define ECG_LAYERS_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/params.h"
#include "core/rng.h"
#include "layers/kernels.h"

/*
 * Life of a layer
 * ---------------
 * 1. A constructor (ecg_layer_conv_new, ...) returns a heap layer holding only
 *    hyperparameters; it is NULL when out of memory.
 * 2. setup runs twice with the same code path (core/arena.h): first with
 *    s->binding == false, where the layer computes its output shape from
 *    in_dims, registers its parameters in s->params ("<name>/<weight>", Keras
 *    shapes) and reserves its activation memory in a planning arena; then,
 *    after the parameter store and arenas are allocated with the exact sizes,
 *    with s->binding == true, where it takes the same pieces of memory and the
 *    parameter pointers.  Only the first pass can fail (bad shapes, names).
 * 3. forward and backward then never allocate and cannot fail.  They run on
 *    the first r->n samples of the planned batch (n <= planned batch), so the
 *    last, smaller batch of an epoch needs no new plan.
 * 4. destroy frees the layer struct (and children); memory from arenas is
 *    owned by the network.
 *
 * Shapes: activations are NHWC (core/tensor.h).  A layer's dims are
 * per-sample: {H, W, C}; (N, C) tensors use H = W = 1.  `out` holds
 * planned_batch * out_numel floats.
 *
 * Backward contract: dout (n x out) is the gradient of the loss with respect
 * to `out`; the layer ACCUMULATES (+=) dL/din into din (n x in), which may be
 * NULL when nothing below needs it, and accumulates into the gradients of its
 * parameters that are not ECG_PARAM_FROZEN.  A layer may read its forward
 * input (remembered in `in`) and its own saved tensors.
 */

enum ecg_layer_kind {
    ECG_KIND_CONV,   /* dense convolutions: stem, 1x1 expand/project/top */
    ECG_KIND_DWCONV, /* depthwise convolutions */
    ECG_KIND_BN,     /* batch normalisation, including the SiLU fused into it */
    ECG_KIND_ACT,    /* stand-alone SiLU (the EfficientNet builder fuses it into BN) */
    ECG_KIND_SE,     /* squeeze-and-excitation, whole */
    ECG_KIND_POOL,   /* global average pooling */
    ECG_KIND_DROP,   /* dropout and drop-connect masks, residual adds */
    ECG_KIND_DENSE,  /* the classifier */
    ECG_KIND_LOSS,   /* softmax cross-entropy */
    ECG_KIND_BLOCK,  /* composites: their children are timed, not them */
    ECG_KIND_COUNT,
};

/* Short lower-case name of a kind ("conv", "dwconv", ...). */
const char *ecg_layer_kind_name(enum ecg_layer_kind k);

/* Batch-norm behaviour in training (in evaluation running statistics are always used). */
enum ecg_bn_mode {
    ECG_BN_TRAIN,  /* batch statistics and running-statistics update */
    ECG_BN_FROZEN, /* running statistics, no update (transfer learning) */
};

/* Build-time context shared by both setup passes. */
struct ecg_setup {
    struct ecg_params *params;
    struct ecg_arena *act; /* activations and saved tensors: live from forward to backward */
    int64_t batch;         /* planned batch */
    bool binding;          /* false: plan; true: bind (take memory and parameter pointers) */
    float bn_eps;
    float bn_momentum; /* PyTorch convention: 0.1 == Keras 0.99 */
    /* maxima collected in the plan pass (floats, whole batch) */
    int64_t scratch_floats;  /* convolution scratch */
    bool forward_scratch;    /* whether some forward pass uses it (then tasks run in turn) */
    int64_t inner_floats[2]; /* the two gradient buffers of a composite's children */
    /* two shared buffers for outputs recomputed in backward: 0 for SE outputs and the depthwise
     * inputs, 1 for the SE inputs (both live while an SE output is recomputed) */
    int64_t transient_floats[2]; /* after the plan */
    float *transient[2];         /* bind pass; NULL while planning */
    /* inference-only networks: spatial outputs rotate through two rings of two buffers,
     * ring 0 for the top-level chain, ring 1 for the inside of composites; these and the
     * transient buffer hold tasks side by side (ECG_TASK_SAMPLES) */
    bool inference_only;
    int level;                /* which ring the layers being set up use */
    int64_t ring_per[2];      /* largest per-sample output in each ring (plan pass) */
    int64_t transient_per[2]; /* the same for the transient buffers */
    int64_t ring_floats[2];   /* each ring buffer (after the plan) */
    float *ring[2][2];
    int ring_next[2];
    /* the ring buffer the last ecg_layer_alloc_out returned and its ring (-1: not a ring
     * buffer), for outputs computed in place (ecg_layer_alloc_out_inplace) */
    float *last_ring;
    int last_ring_level;
};

/*
 * Evaluation forwards (not training) run the batch as tasks of ECG_TASK_SAMPLES samples in
 * parallel, each task through every layer (ecg_net_forward).  A buffer that several layers share
 * (an inference-only network's rings, the transient buffer) then holds one slot per task, of
 * ECG_TASK_SAMPLES times the largest per-sample tensor, so that a task running ahead of another
 * never overwrites a tensor the other still reads.  A training forward (one task: the whole
 * batch) uses such a buffer from its start, contiguously.
 */
#define ECG_TASK_SAMPLES 8
/* Samples per task slot: ECG_TASK_SAMPLES, or the planned batch when smaller. */
int64_t ecg_setup_task_samples(const struct ecg_setup *s);
/* Floats of a shared buffer whose largest per-sample tensor is `per`, for the planned batch. */
int64_t ecg_setup_slotted_floats(const struct ecg_setup *s, int64_t per);

/* Run-time context of one forward or backward call. */
struct ecg_run {
    int64_t n;                 /* samples in this call, 1..planned batch */
    int64_t b0;                /* first sample of this call: forward reads and writes samples
                                  [b0, b0 + n) of every buffer (0 except in batch-parallel
                                  inference, ecg_net_forward) */
    bool training;             /* dropout, drop-connect, BN batch statistics */
    enum ecg_bn_mode bn_mode;  /* BN behaviour when training */
    const struct ecg_rng *rng; /* the step's generator; NULL = no random masks */
    int64_t sample0;           /* index of sample 0 in the step's whole batch: masks are keyed by it */
    const struct ecg_bn_sync *bn_sync; /* training BN statistics over every replica; NULL: this one */
    bool shared_params;                /* the values are another network's: write none (running statistics) */
    const struct ecg_params *params;
    float *scratch;        /* convolution scratch (scratch_floats) */
    float *inner[2];       /* composite children's gradient buffers (ecg_setup.inner_floats) */
    double *t_fwd, *t_bwd; /* seconds per kind, accumulated (NULL = no timing) */
    bool fuse;             /* inference-only network: a convolution applies the batch norm after it
                              (no backward can follow, which needs the convolution's output) */
};

struct ecg_layer;

struct ecg_layer_ops {
    const char *type;
    enum ecg_layer_kind kind;
    int (*setup)(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err);
    void (*forward)(struct ecg_layer *l, const struct ecg_run *r, const float *in);
    /* Optional (convolutions): forward into `out` with the epilogue ep applied while the
     * result is in cache; inference-only networks fuse the next layer's batch norm so. */
    void (*forward_ep)(struct ecg_layer *l, const struct ecg_run *r, const float *in, float *out,
                       const struct ecg_epilogue *ep);
    void (*backward)(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din);
    /* Optional: backward that OVERWRITES din (not NULL) instead of accumulating, for a fresh
     * buffer; saves zeroing it and reading it back.  Parameter gradients still accumulate. */
    void (*backward_set)(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din);
    /* backward_set may write din over dout (each element is read before its own din is
     * written): ecg_layers_backward then keeps the gradient in the buffer it is in, so the two
     * buffers need not both hold the largest tensor (batch norm after an expand convolution). */
    bool backward_in_place;
    /* Optional: rewrites the output of the last forward when the layer keeps it in the shared
     * transient buffer; ecg_layers_backward calls it before the next layer's backward. */
    void (*recompute)(struct ecg_layer *l, const struct ecg_run *r);
    /* true when some parameter of the layer (or a child) is trainable and not frozen */
    bool (*trainable)(const struct ecg_layer *l, const struct ecg_params *p);
    /* Composites: the children in forward order, their count in *count (ecg_net_find_nonfinite
     * looks inside a composite whose output is not finite). */
    struct ecg_layer *const *(*children)(const struct ecg_layer *l, int *count);
    void (*destroy)(struct ecg_layer *l);
};

#define ECG_LAYER_NAME_MAX 64
#define ECG_LAYER_MAX_PARAMS 4

struct ecg_layer {
    const struct ecg_layer_ops *ops;
    char name[ECG_LAYER_NAME_MAX];
    int64_t in_dims[3];  /* per sample H, W, C; set by the parent before setup */
    int64_t out_dims[3]; /* per sample H, W, C; set by setup */
    float *out;          /* batch x out_numel floats (bound pass) */
    const float *in;     /* input of the last forward */
    int64_t slot_floats; /* output in a buffer shared by tasks (see ECG_TASK_SAMPLES): floats from
                            one task's output to the next; 0: batch layout */
    uint64_t stream;     /* RNG stream id for masks */
    int nparams;
    int param[ECG_LAYER_MAX_PARAMS]; /* indices in the store, for freezing checks */
};

static inline int64_t ecg_layer_in_numel(const struct ecg_layer *l)
{
    return l->in_dims[0] * l->in_dims[1] * l->in_dims[2];
}
static inline int64_t ecg_layer_out_numel(const struct ecg_layer *l)
{
    return l->out_dims[0] * l->out_dims[1] * l->out_dims[2];
}
/* Where sample r->b0 of the layer's output starts (in task slots, b0 starts a task). */
static inline float *ecg_layer_out_at(const struct ecg_layer *l, const struct ecg_run *r)
{
    if (l->slot_floats) /* tasks start at multiples of ECG_TASK_SAMPLES */
        return l->out + r->b0 / ECG_TASK_SAMPLES * l->slot_floats;
    return l->out + r->b0 * ecg_layer_out_numel(l);
}

/* ---- dispatch (with per-kind timing) ------------------------------------------ */

int ecg_layer_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err);
void ecg_layer_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in);
void ecg_layer_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din);
/* Backward into a scratch buffer whose contents do not matter: din (not NULL) ends up holding
 * exactly dL/din (backward_set when the layer has it, else zero then accumulate). */
void ecg_layer_backward_fresh(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din);
bool ecg_layer_trainable(const struct ecg_layer *l, const struct ecg_params *p);
/* Frees the layer; NULL is a no-op. */
void ecg_layer_destroy(struct ecg_layer *l);

/* ---- helpers for layer implementations ---------------------------------------- */

/* Registers (plan pass) or looks up (bind pass) parameter "<layer>/<weight>";
 * in the bind pass *value and *grad (either may be NULL) receive pointers. */
int ecg_layer_param(struct ecg_layer *l, struct ecg_setup *s, const char *weight, int ndim,
                    const int64_t *shape, unsigned flags, float **value, float **grad, struct ecg_error *err);
/* The same with the full parameter name (for layers owning weights of several Keras layers). */
int ecg_layer_param_full(struct ecg_layer *l, struct ecg_setup *s, const char *name, int ndim,
                         const int64_t *shape, unsigned flags, float **value, float **grad,
                         struct ecg_error *err);
/* Reserves the layer's output (batch x out_numel; NULL in the plan pass): from the activation
 * arena, or in an inference-only network for a spatial output (H*W > 1) a ring buffer that
 * the second layer after this one overwrites.  Call once per setup pass, after out_dims. */
float *ecg_layer_alloc_out(struct ecg_setup *s, struct ecg_layer *l);
/* For a layer whose output has its input's shape and may overwrite it (batch norm): in an
 * inference-only network, when the previous output was a ring buffer of the same ring, that
 * same buffer; otherwise as ecg_layer_alloc_out. */
float *ecg_layer_alloc_out_inplace(struct ecg_setup *s, struct ecg_layer *l);
/* Points the layer's output at the network's shared transient buffer `which` (0 or 1; task slots,
 * see ECG_TASK_SAMPLES) and sizes that buffer for it. */
float *ecg_layer_alloc_transient(struct ecg_setup *s, struct ecg_layer *l, int which);
/* Reserves batch * per_sample floats (NULL in the plan pass). */
float *ecg_layer_alloc(struct ecg_setup *s, int64_t per_sample);
/* Default `trainable`: any registered parameter without FROZEN or BUFFER. */
bool ecg_layer_default_trainable(const struct ecg_layer *l, const struct ecg_params *p);
/* Whether parameter slot i of the layer receives a gradient now. */
bool ecg_layer_param_live(const struct ecg_layer *l, const struct ecg_params *p, int i);
/* Initialises the common fields. */
void ecg_layer_init_base(struct ecg_layer *l, const struct ecg_layer_ops *ops, const char *name);

/* ---- sequences (used by composites and by the network) ------------------------- */

/* Sets children's in_dims in a chain from in_dims and runs their setup. */
int ecg_layers_setup(struct ecg_layer **ls, int count, const int64_t in_dims[3], struct ecg_setup *s,
                     struct ecg_error *err);
void ecg_layers_forward(struct ecg_layer **ls, int count, const struct ecg_run *r, const float *in);
/*
 * Backward through a chain: dout is the gradient of the last layer's output,
 * din (may be NULL) accumulates the gradient of the first layer's input.
 * buf[0], buf[1] are the two gradient buffers, as large as
 * ecg_layers_backward_plan says; dout may be one of them.  Layers below the
 * lowest trainable layer are skipped when din is NULL.
 */
void ecg_layers_backward(struct ecg_layer **ls, int count, const struct ecg_run *r, const float *dout,
                         float *din, float *const buf[2]);
/* Raises floats[k] to what buffer k must hold for ecg_layers_backward over the chain at the planned
 * batch, when dout starts in buffer `at` (0 or 1) or outside both (-1). */
void ecg_layers_backward_plan(struct ecg_layer *const *ls, int count, int at, int64_t batch,
                              int64_t floats[2]);
bool ecg_layers_trainable(struct ecg_layer *const *ls, int count, const struct ecg_params *p);

/* ---- layer constructors (NULL when out of memory) ------------------------------ */

/* k x k convolution, no bias; params "<name>/kernel" (k, k, Cin, cout). */
struct ecg_layer *ecg_layer_conv_new(const char *name, int64_t cout, int64_t k, int64_t stride,
                                     enum ecg_padding pad);
/* Depthwise k x k; "<name>/depthwise_kernel" (k, k, C, 1). */
struct ecg_layer *ecg_layer_dwconv_new(const char *name, int64_t k, int64_t stride, enum ecg_padding pad);
/* Batch norm over channels; gamma, beta (NO_DECAY), moving_mean, moving_variance (BUFFER). */
struct ecg_layer *ecg_layer_bn_new(const char *name);
/* When l is a batch-norm layer that this run (not training) normalises with its
 * running statistics, fills ep with that normalisation (and SiLU when fused; scale[C] is the
 * caller's) and returns true: the producing convolution then applies it (ecg_layers_forward). */
bool ecg_layer_bn_epilogue(const struct ecg_layer *l, const struct ecg_run *r, float *scale,
                           struct ecg_epilogue *ep);
/* Batch norm followed by SiLU in one layer (same parameters as ecg_layer_bn_new): saves
 * memory and a pass, since bn(in) is recomputed in backward instead of stored. */
struct ecg_layer *ecg_layer_bn_silu_new(const char *name);
/* Makes a batch-norm layer of a network that trains keep its output in the shared transient buffer
 * `which` instead of the activation arena, and recompute it (same bits, from its saved input and
 * statistics) when the next layer's backward needs it (ecg_layers_backward) or earlier through
 * ops->recompute (once per forward): saves one tensor for the price of an elementwise pass.
 * Call before setup. */
void ecg_layer_bn_set_transient(struct ecg_layer *l, int which);
/* SiLU. */
struct ecg_layer *ecg_layer_silu_new(const char *name);
/* Squeeze-excite on C channels with `cse` reduced channels: "<name>_reduce/{kernel,bias}" (1,1,C,cse),
 * "<name>_expand/{kernel,bias}" (1,1,cse,C); `name` is the prefix such as "block1a_se". */
struct ecg_layer *ecg_layer_se_new(const char *name, int64_t cse);
/* Makes an SE layer write its output into the network's shared transient buffer instead of
 * keeping it: the consumer must call ecg_layer_se_recompute() before its backward reads it.
 * Saves one expanded activation per MBConv block.  Call before setup. */
void ecg_layer_se_set_transient(struct ecg_layer *l);
/* Rewrites the output of the last forward (in * gate) from the saved input and gate. */
void ecg_layer_se_recompute(struct ecg_layer *l, const struct ecg_run *r);
/* Global average pooling: (H, W, C) -> (1, 1, C). */
struct ecg_layer *ecg_layer_gap_new(const char *name);
/* Dropout on any shape (inverted: kept values scaled by 1/(1-rate)). */
struct ecg_layer *ecg_layer_dropout_new(const char *name, float rate);
/* (1, 1, C) -> (1, 1, C + k): the input followed by the sample's k values of `context`
 * ((planned batch, k), the caller's, read at every forward); no parameters, no gradient to the context. */
struct ecg_layer *ecg_layer_context_new(const char *name, const float *context, int64_t k);
/* Dense on (1, 1, Cin) -> (1, 1, cout) with bias: "<name>/kernel" (Cin, cout), "<name>/bias". */
struct ecg_layer *ecg_layer_dense_new(const char *name, int64_t cout);

/* MBConv block (Keras names "block2a_expand_conv", ...). */
struct ecg_mbconv_spec {
    int64_t cin, cout; /* block input and output channels */
    int64_t expand;    /* expansion ratio (1: no expand conv) */
    int64_t k, stride;
    int64_t cse;     /* squeeze channels (0: no SE) */
    float drop_rate; /* per-sample drop-connect rate (residual blocks only) */
    enum ecg_padding pad;
};
/* `prefix` is e.g. "block2a".  A residual is used when stride 1 and cin == cout. */
struct ecg_layer *ecg_layer_mbconv_new(const char *prefix, const struct ecg_mbconv_spec *spec);

/* ---- a network: a layer sequence that owns its parameters and memory ----------- */

struct ecg_net_options {
    float bn_eps;         /* 1e-3 Keras, 1e-5 torchvision */
    float bn_momentum;    /* PyTorch convention, 0.1 */
    bool want_din;        /* keep a buffer for the gradient of the network input */
    bool inference_only;  /* forward only: no saved activations or gradient buffers; spatial
                             outputs are overwritten two layers later (backward is a bug) */
    float *shared_values; /* a data-parallel replica: the parameter values of another network of the
                             same layers, read and never written (batch norm leaves the running
                             statistics to that network); NULL: its own */
};

struct ecg_net {
    struct ecg_layer **layers; /* owned */
    int count;
    struct ecg_params params;
    struct ecg_arena act;  /* activations and saved tensors */
    struct ecg_arena work; /* gradient ping-pong buffers and scratch */
    int64_t batch;
    int64_t in_dims[3], out_dims[3];
    float *grad[2];  /* top-level gradient buffers (ecg_layers_backward_plan) */
    float *inner[2]; /* composites' inner gradient buffers */
    float *scratch;
    bool forward_scratch; /* some layer's forward uses the scratch */
    float *din;           /* batch x in (want_din), else NULL */
    bool inference_only;
    int64_t n; /* samples of the last forward */
    bool training;
    enum ecg_bn_mode bn_mode;
    struct ecg_rng rng;
    bool has_rng;
    /* Data-parallel training (set before forward; zero for one process): where this replica's
     * samples start in the step's whole batch, and the BN synchronisation (NULL: none). */
    int64_t sample0;
    const struct ecg_bn_sync *bn_sync;
    double t_fwd[ECG_KIND_COUNT], t_bwd[ECG_KIND_COUNT];
};

/*
 * Plans and binds `layers`, a malloc'd array of `count` layers (the array and
 * the layers pass to the net, also on failure; ecg_net_free frees them)
 * for `batch` samples of per-sample shape in_dims (H, W, C).  Errors:
 * ECG_ERR_RANGE for a non-positive batch or size, ECG_ERR_SHAPE when a layer
 * cannot take its input shape, ECG_ERR_NOMEM.
 */
int ecg_net_init(struct ecg_net *net, struct ecg_layer **layers, int count, int64_t batch,
                 const int64_t in_dims[3], const struct ecg_net_options *o, struct ecg_error *err);
/* Runs the layers on x (n x in, NHWC), 1 <= n <= batch.  rng may be NULL
 * (then dropout and drop-connect are off even in training). */
void ecg_net_forward(struct ecg_net *net, const float *x, int64_t n, bool training, enum ecg_bn_mode bn_mode,
                     const struct ecg_rng *rng);
/* Backward of the last forward from dout (n x out); accumulates parameter
 * gradients; writes (overwrites) net->din when want_din. */
void ecg_net_backward(struct ecg_net *net, const float *dout);
/* The output of the last layer (batch x out). */
const float *ecg_net_output(const struct ecg_net *net);

/* Where a NaN or infinity first appears in a forward pass (ecg_net_find_nonfinite). */
struct ecg_nonfinite_site {
    bool input;                     /* in the network's input itself */
    char layer[ECG_LAYER_NAME_MAX]; /* else the first layer whose output holds one */
    int param;                      /* a parameter of that layer whose values are not finite, or -1 */
};

/*
 * After a training forward of x: finds the first layer, in forward order, whose output holds a
 * NaN or infinity (the cause of a non-finite loss), and returns false when the input and every
 * output are finite.  Outputs of the top-level layers are read as the forward left them; inside
 * the first composite whose output is not finite (an MBConv block) the children run again one at
 * a time from the block's input, to name the child (or the block itself, for its residual add).
 * That rerun updates batch-norm running statistics a second time and overwrites activations: the
 * step must not go on to backward.  With synchronised batch norm the rerun uses this replica's
 * statistics alone (it is not a collective call).  Costs a pass over the activations; meant for
 * the step that went wrong, not for every step.
 */
bool ecg_net_find_nonfinite(struct ecg_net *net, const float *x, struct ecg_nonfinite_site *site);
void ecg_net_free(struct ecg_net *net);

#endif
