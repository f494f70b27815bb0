/* The training run's state, shared by trainer.c (set-up, epochs, checkpoints) and trainer_report.c
 * (evaluation of a split and the final report). Private to train/. */
#ifndef ECG_TRAINER_INTERNAL_H
#define ECG_TRAINER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "data/loader.h"
#include "data/split.h"
#include "eval/calibration.h"
#include "eval/epoch_log.h"
#include "eval/metrics.h"
#include "eval/rr_fusion.h"
#include "layers/effnet.h"
#include "layers/effnet_replicas.h"
#include "optim/ema.h"
#include "optim/optim.h"
#include "optim/sched.h"
#include "train/data_parallel.h"
#include "train/mixup.h"
#include "train/run_log.h"
#include "train/state.h"
#include "train/train.h"

struct trainer {
    const struct ecg_config *c;
    char dir[1024];
    char *config_yaml;
    struct ecg_dataset ds;
    struct ecg_splits splits;
    struct ecg_effnet m;
    struct ecg_input_scaling norm;
    struct ecg_optim opt;
    struct ecg_ema ema;
    bool use_ema;
    struct ecg_sched_config sched;
    struct ecg_loader loader;
    struct ecg_dp dp;       /* data-parallel ranks (one process: the plain code path) */
    struct ecg_replicas rp; /* run.replicas: the batch over replicas of m in this process */
    int k;
    const char *names[ECG_STATE_MAX_CLASSES];
    float class_weight[ECG_STATE_MAX_CLASSES];
    bool weighted;
    int head_start;     /* first parameter of the classifier */
    int unfreeze_start; /* first trainable parameter after the head-only epochs */
    int frozen_end;     /* model.freeze: parameters below stay frozen throughout */
    struct ecg_train_state st;
    float *best_values;          /* the evaluation weights of the best epoch */
    struct ecg_rr_fusion fusion; /* eval.rr_fusion: fitted at the end on the validation split */
    struct ecg_mixup mixup;      /* train.mixup_alpha > 0 */
    struct ecg_epoch_row *rows;
    int64_t nrows;
    struct ecg_epoch_log log;
};

/* Evaluates split part_or_all (-1: every record) with the evaluation weights (the EMA when enabled) into mt
 * and *loss; with cal (the final report), at its temperature and through the run's RR fusion. */
int trainer_evaluate_split(struct trainer *t, int part_or_all, struct ecg_metrics *mt, double *loss,
                           struct ecg_calibration *cal, struct ecg_error *err);

/* The end of a run: the best epoch's weights calibrated on the validation split (eval.calibrate,
 * eval.rr_fusion), the calibration stored in best.h5, the eval.split evaluated and the report written. */
int trainer_final_report(struct trainer *t, struct ecg_error *err);

#endif
