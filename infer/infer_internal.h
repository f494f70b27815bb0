/* What the infer/ files share: the model and context structs, and the steps on an already prepared record. */
#ifndef ECG_INFER_INTERNAL_H
#define ECG_INFER_INTERNAL_H

#include <stdbool.h>

#include "train/config.h"
#include "data/loader.h"
#include "data/record.h"
#include "data/spectrogram.h"
#include "infer/infer.h"
#include "layers/effnet.h"
#include "train/train.h"

struct ecg_infer_model {
    struct ecg_config config;
    double fs;                  /* data.sample_rate: every record is resampled to it */
    double temperature;         /* probabilities are softmax(logits / temperature) (io/model_file.h) */
    struct ecg_rr_fusion fusion; /* a record's mean probabilities then go through it (classes 0: none) */
    struct ecg_loader_opts lo;  /* window and spectrogram options of the config */
    int first_feature;          /* the first of a record's features the network reads (ecg_config_context_features) */
    struct ecg_spec spec;       /* thread-safe engine (plans under a lock) */
    bool has_network;
    struct ecg_effnet net;      /* batch 1: holds the loaded weights and the resolved options */
    struct ecg_input_scaling norm;
    const char *names[16];
    int classes;
};

struct ecg_infer_cam_work;

struct ecg_infer_context {
    const struct ecg_infer_model *model;
    struct ecg_effnet net;      /* planned for eval.batch_size windows, weights copied */
    float *input;               /* (batch, h, w, c) the scaled copy the network reads */
    struct ecg_infer_cam_work *explain; /* Grad-CAM buffers while the context explains (infer/network.h) */
};

/* Windows and images of a record that already went through ecg_prepare_record (copied into out). */
int ecg_infer_windows(const struct ecg_infer_model *m, const struct ecg_record *rec, struct ecg_infer_result *out,
                      struct ecg_error *err);

/*
 * Feeds the network the windows of consecutive records in batches of
 * eval.batch_size, filled across record boundaries exactly as ecgtrain's
 * evaluation loader fills them (the same batches give the same bits: BLAS
 * picks its kernels by matrix size).  ecg_infer_batch_add() takes a prepared
 * result (moved in: the caller's copy is zeroed); each record, once all its
 * windows ran, gets its probabilities and goes to `done`, in order; after
 * `done` returns the batcher frees whatever the callback left in it.
 */
struct ecg_infer_batch {
    struct ecg_infer_context *ctx;
    ecg_infer_result_fn done;
    void *user;
    struct ecg_infer_result *pending; /* (batch + 1) records with windows in flight, in order */
    int64_t *computed;                /* (batch + 1) windows of each already through the network */
    int64_t npending;
    int64_t *slot_record, *slot_window; /* (batch) which pending record and window fills each input */
    int64_t filled;
};

int ecg_infer_batch_init(struct ecg_infer_batch *b, struct ecg_infer_context *ctx, ecg_infer_result_fn done,
                         void *user, struct ecg_error *err);
int ecg_infer_batch_add(struct ecg_infer_batch *b, struct ecg_infer_result *r, struct ecg_error *err);
/* Runs the last partial batch and hands out the remaining records. */
int ecg_infer_batch_finish(struct ecg_infer_batch *b, struct ecg_error *err);
/* Frees what is still pending (after a failure); a zeroed batcher is a no-op. */
void ecg_infer_batch_free(struct ecg_infer_batch *b);

#endif
