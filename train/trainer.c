/* The training run: set-up, epochs of fine-tuning with validation, checkpoints, logs and early stopping.
 * Its end, the calibration and the final report, is in trainer_report.c. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/dist.h"
#include "core/finite.h"
#include "core/log.h"
#include "data/loader.h"
#include "data/split.h"
#include "eval/epoch_log.h"
#include "eval/metrics.h"
#include "io/checkpoint.h"
#include "io/keras_h5.h"
#include "optim/class_weights.h"
#include "optim/ema.h"
#include "optim/grad.h"
#include "optim/optim.h"
#include "optim/sched.h"
#include "layers/effnet_replicas.h"
#include "train/data_parallel.h"
#include "train/run_dir.h"
#include "train/mixup.h"
#include "train/run_log.h"
#include "train/state.h"
#include "train/train.h"
#include "train/trainer_internal.h"

static volatile sig_atomic_t stop_requested;

void ecg_train_request_stop(void) { stop_requested = 1; }
bool ecg_train_stop_requested(void) { return stop_requested != 0; }


/* ---- set-up ----------------------------------------------------------------------- */

/* Inverse frequency over the classes present, capped at train.class_weight_cap: beat data leave a class out
 * by design (data.q_beats: exclude). */
static int beat_class_weights(struct trainer *t, const int64_t *counts, struct ecg_error *err)
{
    int absent = ecg_class_weights_capped(counts, t->k, t->c->train.class_weight_cap, t->class_weight);
    if (absent < 0)
        return ecg_error_set(err, ECG_ERR_VALUE, "train.class_weights: the training split has no labelled example");
    char line[512];
    int n = 0;
    for (int i = 0; i < t->k && n < (int)sizeof line; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, "%s%s %.3g (%lld)", i ? ", " : "", t->names[i],
                      (double)t->class_weight[i], (long long)counts[i]);
    ecg_info("class weights (training examples): %s", line);
    return ECG_OK;
}

static int setup_classes(struct trainer *t, struct ecg_error *err)
{
    ecg_class_names(t->ds.task, t->names, &t->k);
    if (t->c->model.num_classes != t->k)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "model.num_classes: the %s data have %d classes, found %lld",
                             ecg_config_format_name(t->c), t->k, (long long)t->c->model.num_classes);
    const struct ecg_config_floats *cw = &t->c->train.class_weights;
    if (cw->n > 0) {
        if (cw->n != t->k)
            return ecg_error_set(err, ECG_ERR_CONFIG,
                                 "train.class_weights: expected %d weights (one per class), found %lld", t->k,
                                 (long long)cw->n);
        for (int i = 0; i < t->k; i++)
            t->class_weight[i] = (float)cw->values[i];
        t->weighted = true;
    } else if (cw->choice == ECG_CLASS_WEIGHTS_INVERSE_FREQUENCY) {
        int64_t counts[ECG_STATE_MAX_CLASSES] = {0};
        for (int64_t i = 0; i < t->splits.n[ECG_PART_TRAIN]; i++)
            counts[t->ds.records[t->splits.idx[ECG_PART_TRAIN][i]].label]++;
        for (int i = 0; i < t->k && t->c->train.max_per_class > 0; i++) /* what an epoch holds */
            counts[i] = counts[i] < t->c->train.max_per_class ? counts[i] : t->c->train.max_per_class;
        if (t->c->train.class_weight_cap > 0 || t->ds.task == ECG_TASK_BEAT)
            ECG_TRY(beat_class_weights(t, counts, err));
        else
            ECG_TRY(ecg_class_weights_balanced(counts, t->k, t->names, t->class_weight, err));
        t->weighted = true;
    }
    return ECG_OK;
}

/* An empty split found now, not after hours of training. */
static int check_splits(struct trainer *t, struct ecg_error *err)
{
    const char *why = t->splits.by_subject ? " (the records are split by subject, and there are too few subjects)"
                                           : "";
    if (t->splits.n[ECG_PART_TRAIN] == 0)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: the training split is empty%s", t->c->data.path, why);
    int part = t->c->eval.split;
    if ((part == ECG_PART_VAL || part == ECG_PART_TEST) && t->splits.n[part] == 0)
        return ecg_error_set(err, ECG_ERR_CONFIG, "eval.split: the %s split of %s is empty%s; raise %s "
                             "or evaluate another split",
                             ecg_split_part_name(part), t->c->data.path, why,
                             part == ECG_PART_VAL              ? "data.val_fraction"
                             : t->c->data.split.folds >= 2 ? "the records per fold (fewer data.folds)"
                                                           : "data.test_fraction");
    if (t->splits.n[ECG_PART_VAL] == 0)
        ecg_warn("the validation split is empty%s: the best epoch is chosen by training macro-F1", why);
    return ECG_OK;
}

static int setup_optimizer(struct trainer *t, struct ecg_error *err)
{
    const struct ecg_config_optim *o = &t->c->optim;
    int rc = ecg_optim_init(&t->opt, t->m.params, &o->rule, err);
    if (rc)
        return rc;
    if (o->ema_decay > 0) {
        if ((rc = ecg_ema_init(&t->ema, t->m.params, o->ema_decay, true, err)))
            return rc;
        t->use_ema = true;
    }
    const struct ecg_config_train *tr = &t->c->train;
    t->sched = (struct ecg_sched_config){
        .kind = tr->schedule,
        .lr = o->lr,
        .min_lr = 0,
        .gamma = tr->step_gamma,
        .step_epochs = tr->step_epochs,
        .epochs = tr->epochs,
        .warmup_epochs = (double)tr->warmup_epochs,
    };
    return ecg_sched_check(&t->sched, t->loader.batches, err);
}

/* Which parameters train in an epoch: the head alone first, then from train.unfreeze_from up. */
static int setup_stages(struct trainer *t, struct ecg_error *err)
{
    t->head_start = ecg_model_block_start(&t->m, "head");
    ECG_ASSERT(t->head_start >= 0);
    t->frozen_end = 0;
    while (t->frozen_end < t->m.params->count &&
           (t->m.params->items[t->frozen_end].flags & (ECG_PARAM_FROZEN | ECG_PARAM_BUFFER)))
        t->frozen_end++;
    t->unfreeze_start = ecg_model_block_start(&t->m, t->c->train.unfreeze_from);
    if (t->unfreeze_start < 0)
        return ecg_error_set(err, ECG_ERR_CONFIG, "train.unfreeze_from: the model has no block '%s'",
                             t->c->train.unfreeze_from);
    if (t->unfreeze_start < t->frozen_end)
        t->unfreeze_start = t->frozen_end;
    return ECG_OK;
}

static int apply_stage(struct trainer *t, int64_t epoch, struct ecg_error *err)
{
    bool head_only = epoch < t->c->train.head_epochs;
    ecg_model_freeze_below(&t->m, head_only ? t->head_start : t->unfreeze_start);
    double backbone = head_only ? 1.0 : t->c->train.unfreeze_lr_mult;
    int matched;
    int rc = ecg_optim_set_lr_mult(&t->opt, t->m.params, "", backbone, &matched, err);
    if (!rc)
        rc = ecg_optim_set_lr_mult(&t->opt, t->m.params, "predictions/", 1.0, &matched, err);
    return rc ? ecg_error_prefix(err, rc, "train.unfreeze_lr_mult") : ECG_OK;
}

/* ---- checkpoints ---------------------------------------------------------------------- */

#define MAX_BLOBS 6

/* The checkpoint's state blobs into blobs[], their names written into the caller's names[]. */
static int checkpoint_items(struct trainer *t, struct ecg_ckpt_blob *blobs, char (*names)[64])
{
    int n = 0;
    for (int i = 0; i < ecg_optim_state_count(&t->opt); i++) {
        struct ecg_optim_blob b = ecg_optim_state_blob(&t->opt, i);
        ECG_ASSERT(n < MAX_BLOBS);
        snprintf(names[n], sizeof names[n], "optim/%s", b.name);
        blobs[n] = (struct ecg_ckpt_blob){.name = names[n], .data = b.data, .count = b.count};
        n++;
    }
    if (t->use_ema)
        blobs[n++] = (struct ecg_ckpt_blob){.name = "ema/shadow", .data = t->ema.shadow, .count = t->ema.total};
    ECG_ASSERT(n <= MAX_BLOBS);
    return n;
}

static int save_checkpoint(struct trainer *t, const char *name, struct ecg_error *err)
{
    if (!ecg_dist_is_root())
        return ECG_OK; /* the replicas are identical: rank 0 writes */
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    struct ecg_ckpt_blob blobs[MAX_BLOBS];
    char names[MAX_BLOBS][64];
    struct ecg_rng rng = ecg_rng_init((uint64_t)t->c->run.seed, (uint64_t)t->st.step);
    struct ecg_ckpt_rng rngs[1] = {{.name = "train", .rng = &rng}};
    t->st.ema_updates = t->use_ema ? t->ema.updates : 0;
    char *state = ecg_train_state_to_json(&t->st);
    if (!state)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory writing %s", path);
    struct ecg_checkpoint ck = {
        .epoch = t->st.epoch,
        .step = t->st.step,
        .sched_step = t->st.step,
        .lr = ecg_sched_lr(&t->sched, t->st.step, t->loader.batches),
        .blobs = blobs,
        .n_blobs = checkpoint_items(t, blobs, names),
        .rngs = rngs,
        .n_rngs = 1,
        .config_yaml = t->config_yaml,
        .metrics_json = state,
    };
    struct ecg_keras_info attrs = {0};
    attrs.has_bn_eps = true;
    attrs.bn_eps = t->m.opt.bn_eps;
    attrs.has_padding = true;
    snprintf(attrs.padding, sizeof attrs.padding, "%s", t->m.opt.padding == ECG_PAD_SAME ? "same" : "symmetric");
    attrs.has_arch = true;
    snprintf(attrs.arch, sizeof attrs.arch, "b%d", t->c->model.arch);
    int rc = ecg_checkpoint_save(path, t->m.params, &attrs, &ck, err);
    free(state);
    return rc;
}

static int resume_from(struct trainer *t, const char *path, struct ecg_error *err)
{
    struct ecg_ckpt_blob blobs[MAX_BLOBS];
    char names[MAX_BLOBS][64];
    struct ecg_rng rng;
    struct ecg_ckpt_rng rngs[1] = {{.name = "train", .rng = &rng}};
    struct ecg_checkpoint ck = {
        .blobs = blobs, .n_blobs = checkpoint_items(t, blobs, names), .rngs = rngs, .n_rngs = 1};
    char *state = NULL;
    int rc = ecg_checkpoint_load(path, t->m.params, &ck, NULL, &state, NULL, err);
    if (rc)
        return ecg_error_prefix(err, rc, "run.resume");
    rc = ecg_train_state_from_json(&t->st, state, path, err);
    free(state);
    if (rc)
        return rc;
    if (t->st.k != t->k)
        return ecg_error_set(err, ECG_ERR_FORMAT, "run.resume: %s has %d classes, the run %d", path, t->st.k,
                             t->k);
    t->opt.step = t->st.step;
    if (t->use_ema)
        t->ema.updates = t->st.ema_updates;
    ecg_info("resuming %s at epoch %lld, batch %lld (step %lld)", path, (long long)t->st.epoch + 1,
             (long long)t->st.batch_in_epoch, (long long)t->st.step);
    return ECG_OK;
}

/* The best epoch's weights of the interrupted run: best.h5 beside the checkpoint resumed from. */
static int load_best(struct trainer *t, const char *resume, struct ecg_error *err)
{
    char path[1100];
    const char *slash = strrchr(resume, '/');
    snprintf(path, sizeof path, "%.*sbest.h5", slash ? (int)(slash - resume + 1) : 0, resume);
    if (access(path, R_OK) != 0)
        return ECG_OK; /* interrupted before any epoch ended */
    struct ecg_keras_load_opts quiet = {.quiet = true};
    int rc = ecg_keras_load(path, t->m.params, &quiet, NULL, err);
    if (rc)
        return ecg_error_prefix(err, rc, "run.resume");
    memcpy(t->best_values, t->m.params->values, (size_t)t->m.params->total * sizeof(float));
    return ECG_OK;
}

/* The training batch (this rank's part of it) over run.replicas replicas of the model. */
static int setup_replicas(struct trainer *t, int64_t batch, struct ecg_error *err)
{
    int replicas = (int)t->c->run.replicas;
    if (replicas > 1 && ecg_dist_size() > 1)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "run.replicas: data-parallel ranks (mpirun) each train one replica, found %d; set "
                             "it to 1 and start a rank per core instead",
                             replicas);
    int rc = ecg_replicas_init(&t->rp, &t->m, replicas, batch, err);
    if (rc)
        return ecg_error_prefix(err, rc, "run.replicas");
    if (replicas > 1)
        ecg_info("training step over %d replicas, one thread each, batch norm over the whole batch (%.0f MiB more)",
                 replicas, (double)ecg_replicas_extra_bytes(&t->rp) / 1048576.0);
    return ECG_OK;
}

/* ---- one epoch -------------------------------------------------------------------------- */

static void progress(const struct trainer *t, int64_t epoch, int64_t batch, int64_t batches, double elapsed)
{
    if (!ecg_dp_show_progress() || ecg_log_get_level() > ECG_LOG_INFO)
        return;
    double eta = batch > 0 ? elapsed / (double)batch * (double)(batches - batch) : 0;
    fprintf(stderr, "\r\033[Kepoch %lld/%lld  batch %lld/%lld  loss %.4f  %.1f img/s  eta %.0fs",
            (long long)epoch + 1, (long long)t->c->train.epochs, (long long)batch, (long long)batches,
            t->st.seen ? t->st.loss_sum / (double)t->st.seen : 0.0,
            elapsed > 0 ? (double)t->st.seen / (t->st.seconds + 1e-9) : 0.0, eta);
    fflush(stderr);
}

/* ---- non-finite values ------------------------------------------------------------------ */

/* Prefixes the failure of the step in progress with where it is. */
static int step_failed(const struct trainer *t, int rc, int64_t batch, struct ecg_error *err)
{
    return ecg_error_prefix(err, rc, "epoch %lld batch %lld (step %lld)", (long long)t->st.epoch + 1,
                            (long long)batch, (long long)t->st.step + 1);
}

/* Why the loss of the last forward is not finite: the first place of the forward pass that is not. */
static int nonfinite_loss(struct trainer *t, const struct ecg_batch *b, double loss, struct ecg_error *err)
{
    struct ecg_nonfinite_site site;
    const char *what = ecg_nonfinite_name(loss);
    bool found = false;
    const int64_t per = b->h * b->w * b->c;
    for (int r = 0; r < t->rp.active && !found; r++) /* each replica's forward, its shard of the batch */
        found = ecg_net_find_nonfinite(&t->rp.m[r]->net, b->images + t->rp.lo[r] * per, &site);
    if (!found)
        return ecg_error_set(err, ECG_ERR_VALUE, "the loss is %s although every layer's output is finite%s",
                             what, ecg_dist_size() > 1 ? " on this rank (another rank's samples)" : "");
    if (site.input) {
        int64_t k = 0;
        while (k + 1 < b->count && ecg_floats_finite(b->images + k * per, per))
            k++;
        return ecg_error_set(err, ECG_ERR_VALUE, "the loss is %s: the input image of record '%s' is not finite",
                             what, t->ds.records[b->records[k]].id);
    }
    char weight[ECG_PARAM_NAME_MAX + 48] = "";
    if (site.param >= 0)
        snprintf(weight, sizeof weight, " (its weight '%s' is not finite)", t->m.params->items[site.param].name);
    return ecg_error_set(err, ECG_ERR_VALUE,
                         "the loss is %s: the first non-finite value of the forward pass is in the output of "
                         "layer '%s'%s; lower optim.lr", what, site.layer, weight);
}

/* After a step: the weights (running statistics included), the optimizer's state and the EMA are finite,
 * as a checkpoint must be. */
static int check_state(struct trainer *t, struct ecg_error *err)
{
    struct ecg_ckpt_blob blobs[MAX_BLOBS];
    char names[MAX_BLOBS][64];
    struct ecg_checkpoint ck = {.blobs = blobs, .n_blobs = checkpoint_items(t, blobs, names)};
    struct ecg_error why;
    int rc = ecg_checkpoint_check_finite(t->m.params, &ck, &why);
    if (rc)
        return ecg_error_set(err, rc, "after the optimizer step, %s; lower optim.lr", why.msg);
    return ECG_OK;
}

static int train_epoch(struct trainer *t, struct ecg_error *err)
{
    int64_t epoch = t->st.epoch;
    ECG_TRY(apply_stage(t, epoch, err));
    ECG_TRY(ecg_loader_start(&t->loader, epoch, err));
    const struct ecg_batch *b;
    int64_t batch = 0;
    double t0 = ecg_now();
    int rc;
    int first_feature; /* the record features the model reads (its context), once per epoch */
    ecg_config_context_features(t->c, &first_feature);
    while ((rc = ecg_loader_next(&t->loader, &b, err)) == ECG_OK && b) {
        if (batch++ < t->st.batch_in_epoch)
            continue; /* already trained before the interruption */
        double b0 = ecg_now();
        struct ecg_rng rng = ecg_rng_init((uint64_t)t->c->run.seed, (uint64_t)t->st.step);
        ecg_input_scaling_apply(&t->norm, b->images, b->count, b->h, b->w);
        bool mix = t->c->train.mixup_alpha > 0;
        if (mix) {
            struct ecg_rng mr = ecg_rng_stream(&rng, 0x6d6978u);
            ecg_mixup_apply(&t->mixup, b->images, b->labels, b->count, t->c->train.mixup_alpha, &mr);
        }
        const float *cw = t->weighted ? t->class_weight : NULL;
        float smoothing = (float)t->c->train.label_smoothing;
        const float *context = b->features ? b->features + first_feature : NULL;
        double shard_loss;
        if (mix) { /* one replica (the config refuses more) */
            t->m.net.sample0 = b->first;
            ecg_effnet_set_context(&t->m, 0, context, b->count, ECG_RECORD_FEATURES);
            ecg_effnet_forward(&t->m, b->images, b->count, true, &rng);
            shard_loss = ecg_mixup_loss(&t->mixup, &t->m, b->labels, cw, smoothing);
        } else { /* masks are keyed by the sample's place in the whole batch (b->first on this rank) */
            shard_loss = ecg_replicas_forward_loss(&t->rp, b->images, context, ECG_RECORD_FEATURES, b->labels,
                                                   b->count, b->first, &rng, cw, smoothing);
            memcpy(t->m.probs, t->rp.probs, (size_t)(b->count * t->k) * sizeof(float));
        }
        bool stop;
        double loss = ecg_dp_loss(&t->dp, &t->m, b, cw, shard_loss, ecg_train_stop_requested(), &stop,
                                  &t->st.loss_sum, &t->st.seen, t->st.cm);
        /* Every rank sees the same summed loss and gradients, so all of them stop at the same check. */
        if (!isfinite(loss))
            return step_failed(t, nonfinite_loss(t, b, loss, err), batch, err);
        ecg_params_zero_grad(t->m.params);
        if (mix)
            ecg_effnet_backward(&t->m);
        else
            ecg_replicas_backward(&t->rp);
        ecg_dp_sum_grads(&t->dp, t->m.params);
        if ((rc = ecg_grad_check_finite(t->m.params, err)))
            return step_failed(t, rc, batch, err);
        if (t->c->optim.clip_norm > 0) {
            double norm;
            ECG_TRY(ecg_grad_clip_norm(t->m.params, t->c->optim.clip_norm, &norm, err));
        }
        ecg_optim_step(&t->opt, t->m.params, ecg_sched_lr(&t->sched, t->st.step, t->loader.batches));
        if (t->use_ema)
            ecg_ema_update(&t->ema, t->m.params);
        if ((rc = check_state(t, err)))
            return step_failed(t, rc, batch, err);
        t->st.step++;
        t->st.batch_in_epoch = batch;
        t->st.seconds += ecg_now() - b0;
        t->dp.t_train += ecg_now() - b0;
        progress(t, epoch, batch, t->loader.batches, ecg_now() - t0);
        if (stop) /* any rank's request: every rank stops after the same batch */
            return ECG_ERR_INTERRUPTED;
    }
    if (ecg_dp_show_progress() && ecg_log_get_level() <= ECG_LOG_INFO)
        fputs("\r\033[K", stderr);
    return rc;
}

/* The weights of the epoch just ended (the EMA ones when enabled) become the best: kept for the report and
 * saved as best.h5. */
static int keep_best(struct trainer *t, int64_t epoch, struct ecg_error *err)
{
    t->st.best_epoch = epoch;
    if (t->use_ema)
        ecg_ema_swap(&t->ema, t->m.params);
    memcpy(t->best_values, t->m.params->values, (size_t)t->m.params->total * sizeof(float));
    int rc = save_checkpoint(t, "best.h5", err);
    if (t->use_ema)
        ecg_ema_swap(&t->ema, t->m.params);
    return rc;
}

/* Validation, log row, checkpoints and early stopping after an epoch. */
static int finish_epoch(struct trainer *t, bool *stop, struct ecg_error *err)
{
    int64_t epoch = t->st.epoch;
    double seconds = t->st.seconds;
    double v0 = ecg_now();
    struct ecg_epoch_row row = {.epoch = epoch + 1, .val_loss = NAN, .val_acc = NAN, .val_macro_f1 = NAN};
    row.train_loss = t->st.seen ? t->st.loss_sum / (double)t->st.seen : NAN;
    struct ecg_metrics tm = {0};
    if (t->st.seen) {
        int rc = ecg_metrics_from_confusion(&tm, t->k, t->names, t->st.cm, err);
        if (rc)
            return ecg_error_prefix(err, rc, "training metrics of epoch %lld", (long long)epoch + 1);
        row.train_acc = tm.accuracy;
        row.train_macro_f1 = tm.macro_f1;
    }
    ecg_metrics_free(&tm);
    double f1 = row.train_macro_f1;
    ecg_dp_sync_replicas(&t->dp, t->m.params, &t->opt, t->use_ema ? &t->ema : NULL);
    if (t->splits.n[ECG_PART_VAL] > 0) {
        struct ecg_metrics vm = {0};
        double vloss;
        int rc = trainer_evaluate_split(t, ECG_PART_VAL, &vm, &vloss, NULL, err);
        if (rc) {
            ecg_metrics_free(&vm);
            return ecg_error_prefix(err, rc, "validation after epoch %lld", (long long)epoch + 1);
        }
        row.val_loss = vloss;
        row.val_acc = vm.accuracy;
        row.val_macro_f1 = f1 = vm.macro_f1;
        ecg_metrics_free(&vm);
    }
    row.lr = ecg_sched_lr(&t->sched, t->st.step, t->loader.batches);
    row.seconds = seconds + (ecg_now() - v0);
    row.images_per_s = seconds > 0 ? (double)t->st.seen / seconds : 0;
    if (t->log.open)
        ECG_TRY(ecg_epoch_log_write(&t->log, &row, err));
    struct ecg_epoch_row *rows = realloc(t->rows, (size_t)(t->nrows + 1) * sizeof *rows);
    if (!rows)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    t->rows = rows;
    t->rows[t->nrows++] = row;
    char line[512];
    ecg_epoch_row_format(line, sizeof line, &row);
    ecg_info("epoch %lld/%lld: train loss %.4f acc %.4f | val loss %.4f acc %.4f macro-F1 %.4f | lr %.3g | "
             "%.1f s, %.1f img/s",
             (long long)epoch + 1, (long long)t->c->train.epochs, row.train_loss, row.train_acc, row.val_loss,
             row.val_acc, row.val_macro_f1, row.lr, row.seconds, row.images_per_s);

    /* Best weights by validation macro-F1 (training macro-F1 when there is no validation split). */
    t->st.epoch = epoch + 1;
    t->st.batch_in_epoch = 0;
    t->st.loss_sum = 0;
    t->st.seen = 0;
    t->st.seconds = 0;
    memset(t->st.cm, 0, sizeof t->st.cm);
    if (f1 > t->st.best_f1 || t->c->train.select == ECG_SELECT_LAST) {
        t->st.best_f1 = f1;
        t->st.bad_epochs = 0;
        ECG_TRY(keep_best(t, epoch + 1, err));
    } else {
        t->st.bad_epochs++;
    }
    ECG_TRY(save_checkpoint(t, "last.h5", err));
    *stop = t->c->train.patience > 0 && t->st.bad_epochs >= t->c->train.patience;
    if (*stop)
        ecg_info("early stop: validation macro-F1 has not improved for %lld epochs (best %.4f at epoch %lld)",
                 (long long)t->st.bad_epochs, t->st.best_f1, (long long)t->st.best_epoch);
    return ECG_OK;
}

/* ---- the run ---------------------------------------------------------------------------------- */

static void trainer_free(struct trainer *t)
{
    ecg_loader_free(&t->loader);
    ecg_dp_free(&t->dp);
    ecg_replicas_free(&t->rp);
    ecg_ema_free(&t->ema);
    ecg_optim_free(&t->opt);
    ecg_effnet_free(&t->m);
    ecg_split_free(&t->splits);
    ecg_dataset_free(&t->ds);
    ecg_aligned_free(t->best_values);
    ecg_mixup_free(&t->mixup);
    free(t->rows);
    free(t->config_yaml);
    ecg_epoch_log_close(&t->log, NULL);
}

static int open_log(struct trainer *t, struct ecg_error *err)
{
    if (!ecg_dist_is_root())
        return ECG_OK;
    char path[1100];
    snprintf(path, sizeof path, "%s/log.csv", t->dir);
    if (t->st.epoch > 0) {
        /* Keep the rows of the epochs before the checkpoint; drop any after it. */
        struct ecg_epoch_row *rows = NULL;
        int64_t n = 0;
        ECG_TRY(ecg_epoch_log_read(path, &rows, &n, err));
        t->rows = rows;
        t->nrows = n < t->st.epoch ? n : t->st.epoch;
    }
    return ecg_epoch_log_open(&t->log, path, t->rows, t->nrows, err);
}

/* The run's directory and its config.yaml, which records the thread count in force (results depend on it). */
static int start_run(struct trainer *t, const char *resume, struct ecg_error *err)
{
    const struct ecg_config *c = t->c;
    int rc;
    ecg_log_set_level(ecg_dist_is_root() ? (enum ecg_log_level)c->run.log_level : ECG_LOG_ERROR);
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN) / ecg_dist_local_size(); /* shared by the host's ranks */
    ecg_threads_set(c->run.threads > 0 ? (int)c->run.threads : cores > 1 ? cores : 1);
    if (ecg_dist_is_root() && (rc = ecg_run_dir_prepare(c, resume, t->dir, sizeof t->dir, err)))
        return rc;
    ecg_dist_set_exit_hook(ecg_run_log_stop); /* a rank ending the job keeps its last words in train.log */
    ecg_dist_broadcast(t->dir, sizeof t->dir);
    struct ecg_config saved;
    if ((rc = ecg_config_copy(&saved, c, err)))
        return rc;
    saved.run.threads = ecg_threads_get();
    t->config_yaml = ecg_config_to_string(&saved, err);
    ecg_config_free(&saved);
    if (!t->config_yaml)
        return err ? err->code : ECG_ERR_NOMEM;
    if (ecg_dist_is_root())
        return ecg_run_dir_write_config(t->dir, t->config_yaml, err);
    return ECG_OK;
}

/* The records, their split, the classes and the training split's loader (this rank's shard). */
static int setup_data(struct trainer *t, struct ecg_error *err)
{
    const struct ecg_config *c = t->c;
    int rc;
    double t0 = ecg_now();
    if ((rc = ecg_prepare_dataset(c, &t->ds, err)) || (rc = ecg_config_split(c, &t->ds, &t->splits, err)))
        return rc;
    ecg_info("%s: %lld records (%lld skipped), read in %.1f s", c->data.path, (long long)t->ds.count,
             (long long)t->ds.skipped, ecg_now() - t0);
    if (ecg_log_get_level() <= ECG_LOG_INFO)
        ecg_split_print(stderr, &t->ds, &t->splits);
    if ((rc = check_splits(t, err)) || (rc = setup_classes(t, err)))
        return rc;
    struct ecg_loader_opts lo;
    ecg_loader_opts_from_config(c, 1, &lo);
    ecg_dp_shard_loader(&lo);
    lo.drop_last = t->splits.n[ECG_PART_TRAIN] > lo.batch_size;
    lo.threads = ecg_threads_get();
    rc = ecg_loader_init(&t->loader, &t->ds, t->splits.idx[ECG_PART_TRAIN], t->splits.n[ECG_PART_TRAIN], &lo, err);
    return rc ? ecg_error_prefix(err, rc, "training split") : ECG_OK;
}

/* The network, its optimiser, stages, replicas and ranks, at the checkpoint's state when resumed, and the
 * epoch log opened. */
static int setup_model(struct trainer *t, const char *resume, struct ecg_error *err)
{
    const struct ecg_config *c = t->c;
    int rc;
    int64_t batch = c->train.batch_size > c->eval.batch_size ? c->train.batch_size : c->eval.batch_size;
    batch = (batch + ecg_dist_size() - 1) / ecg_dist_size(); /* a rank runs its part of each batch */
    if ((rc = ecg_model_build(c, batch, false, &t->m, &t->norm, err)) || (rc = setup_optimizer(t, err)) ||
        (rc = setup_stages(t, err)))
        return rc;
    if ((rc = setup_replicas(t, (c->train.batch_size + ecg_dist_size() - 1) / ecg_dist_size(), err)))
        return rc;
    t->best_values = ecg_aligned_calloc(t->m.params->total, sizeof(float));
    if (!t->best_values)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the best weights");
    memcpy(t->best_values, t->m.params->values, (size_t)t->m.params->total * sizeof(float));
    if (c->train.mixup_alpha > 0 &&
        (rc = ecg_mixup_init(&t->mixup, c->train.batch_size,
                             c->data.spectrogram.height * c->data.spectrogram.width * c->data.spectrogram.channels,
                             t->k, err)))
        return rc;
    t->st.k = t->k;
    t->st.best_f1 = -1;
    if (resume && ((rc = load_best(t, resume, err)) || (rc = resume_from(t, resume, err))))
        return rc;
    if ((rc = ecg_dp_init(&t->dp, c, &t->m, &t->loader, t->k, err)))
        return rc;
    ecg_dp_sync_replicas(&t->dp, t->m.params, &t->opt, t->use_ema ? &t->ema : NULL);
    /* resumed with train.select last, a run (a finished one too) keeps its last epoch from now on */
    if (resume && c->train.select == ECG_SELECT_LAST && t->st.epoch > 0 && t->st.best_epoch != t->st.epoch &&
        t->st.batch_in_epoch == 0 && (rc = keep_best(t, t->st.epoch, err)))
        return rc;
    if ((rc = open_log(t, err)))
        return rc;
    struct ecg_effnet_memory mem = ecg_effnet_memory(&t->m);
    ecg_info("model: EfficientNet-B%d, %lld trainable parameters, %.0f MiB activations, %d threads",
             c->model.arch, (long long)ecg_params_count(t->m.params, ECG_PARAM_BUFFER),
             (double)(mem.activation_bytes + mem.work_bytes) / 1048576.0, ecg_threads_get());
    return ECG_OK;
}

/* The epochs left; an interruption saves last.h5 and ends the run with ECG_ERR_INTERRUPTED. */
static int train_epochs(struct trainer *t, struct ecg_error *err)
{
    int rc;
    /* a run resumed after early stopping goes straight to its report */
    bool stop = t->c->train.patience > 0 && t->st.bad_epochs >= t->c->train.patience;
    while (!stop && t->st.epoch < t->c->train.epochs) {
        rc = train_epoch(t, err);
        if (rc == ECG_ERR_INTERRUPTED) {
            if ((rc = save_checkpoint(t, "last.h5", err)))
                return rc;
            return ecg_error_set(err, ECG_ERR_INTERRUPTED,
                                 "interrupted in epoch %lld; checkpoint saved: continue with run.resume=%s/last.h5",
                                 (long long)t->st.epoch + 1, t->dir);
        }
        /* train.log on a failing disk ends the run too, with this epoch's checkpoint saved */
        if (rc || (rc = finish_epoch(t, &stop, err)) || (rc = ecg_run_log_check(err)))
            return rc;
    }
    ecg_dp_log_times(&t->dp);
    return ECG_OK;
}

int ecg_train_run(const struct ecg_config *c, const char *resume, struct ecg_error *err)
{
    struct trainer t = {.c = c};
    int rc = start_run(&t, resume, err);
    if (!rc)
        rc = setup_data(&t, err);
    if (!rc)
        rc = setup_model(&t, resume, err);
    if (!rc)
        rc = train_epochs(&t, err);
    if (!rc)
        rc = trainer_final_report(&t, err);
    trainer_free(&t);
    return rc;
}
