/* The end of a training run: evaluating a split, fitting and storing the calibration, the final report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dist.h"
#include "core/log.h"
#include "eval/report.h"
#include "io/model_file.h"
#include "train/train.h"
#include "train/trainer_internal.h"

/* ---- evaluation ------------------------------------------------------------------------ */

/* Evaluates with the evaluation weights (the EMA when enabled) into metrics. */
int trainer_evaluate_split(struct trainer *t, int part_or_all, struct ecg_metrics *mt, double *loss,
                           struct ecg_calibration *cal, struct ecg_error *err)
{
    const int64_t *idx;
    int64_t n;
    int64_t *all = NULL;
    if (part_or_all < 0) {
        all = malloc((size_t)t->ds.count * sizeof *all);
        if (!all)
            return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
        for (int64_t i = 0; i < t->ds.count; i++)
            all[i] = i;
        idx = all;
        n = t->ds.count;
    } else {
        idx = t->splits.idx[part_or_all];
        n = t->splits.n[part_or_all];
    }
    if (t->use_ema)
        ecg_ema_swap(&t->ema, t->m.params);
    struct ecg_eval_result r;
    int rc = ecg_evaluate(&t->m, &t->norm, t->c, &t->ds, idx, n, &r, err);
    if (t->use_ema)
        ecg_ema_swap(&t->ema, t->m.params);
    free(all);
    if (rc)
        return rc;
    if (cal) /* the final report: probabilities at the fitted temperature, as infer/ computes them */
        rc = ecg_eval_apply_temperature(&r, cal->temperature, cal, err);
    if (cal && !rc && t->fusion.classes) { /* ... and then through the fusion */
        rc = ecg_eval_apply_rr_fusion(&t->ds, &r, &t->fusion, err);
        ecg_reliability_compute(&cal->after, r.probs, r.truth, r.n, r.k);
    }
    if (!rc)
        rc = ecg_metrics_compute(mt, t->k, t->names, r.truth, NULL, r.probs, r.n, err);
    if (!rc && t->ds.task == ECG_TASK_RHYTHM)
        rc = ecg_metrics_set_cinc(mt, ECG_RHYTHM_NSR, ECG_RHYTHM_AF, ECG_RHYTHM_OTHER, err);
    if (!rc && t->ds.task == ECG_TASK_BEAT)
        rc = ecg_metrics_set_aami(mt, ECG_BEAT_N, ECG_BEAT_S, ECG_BEAT_V, ECG_BEAT_F, ECG_BEAT_Q, err);
    if (!rc && t->ds.task == ECG_TASK_BEAT)
        rc = ecg_eval_breakdowns(mt, &t->ds, &r, err);
    *loss = r.loss;
    ecg_eval_result_free(&r);
    return rc;
}

/* ---- the final report ---------------------------------------------------------------------- */

/* eval.rr_fusion: the fusion of r's records (probabilities at the fitted temperature). */
static int fit_fusion(struct trainer *t, struct ecg_eval_result *r, double temperature, struct ecg_error *err)
{
    int rc = ecg_calibration_record_probs(r->probs, r->window_logits, r->window_row, r->nwindows, r->n, r->k,
                                          temperature, err);
    if (!rc)
        rc = ecg_eval_fit_rr_fusion(&t->ds, r, &t->fusion, err);
    if (!rc)
        ecg_info("RR fusion fitted on the validation split (%lld records)", (long long)r->n);
    return rc ? ecg_error_prefix(err, rc, "eval.rr_fusion") : ECG_OK;
}

/* The temperature of the best weights on the validation split and, with eval.rr_fusion, the fusion. */
static int fit_calibration(struct trainer *t, struct ecg_calibration *cal, struct ecg_error *err)
{
    int64_t n = t->splits.n[ECG_PART_VAL];
    if (n == 0 && t->c->eval.rr_fusion)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "eval.rr_fusion: the validation split is empty, and the fusion is "
                             "fitted on it; raise data.val_fraction");
    if (n == 0)
        return ECG_OK; /* no temperature: T stays 1 */
    struct ecg_eval_result r;
    ECG_TRY(ecg_evaluate(&t->m, &t->norm, t->c, &t->ds, t->splits.idx[ECG_PART_VAL], n, &r, err));
    int rc = ecg_eval_fit_temperature(&r, &cal->temperature, err);
    cal->fitted_on = "val";
    cal->fit_records = r.n;
    if (rc) {
        ecg_eval_result_free(&r);
        return ecg_error_prefix(err, rc, "eval.calibrate");
    }
    ecg_info("temperature %.4f fitted on the validation split (%lld records)", cal->temperature,
             (long long)cal->fit_records);
    if (t->c->eval.rr_fusion && (rc = fit_fusion(t, &r, cal->temperature, err)) == ECG_OK)
        cal->rr_fusion = true;
    ecg_eval_result_free(&r);
    return rc;
}

/* best.h5 gets the run's temperature, fusion and configuration, and loses any fusion it held from an earlier finish
 * of the same run (a resumed run finished again with other eval.* keys or train.select): the report and the model
 * agree, and a model exported from it windows records as the report did.  The root writes. */
static int store_calibration(struct trainer *t, const struct ecg_calibration *cal, struct ecg_error *err)
{
    if (!ecg_dist_is_root())
        return ECG_OK;
    char path[1100];
    snprintf(path, sizeof path, "%s/best.h5", t->dir);
    if (access(path, F_OK) != 0)
        return t->fusion.classes ? ecg_error_set(err, ECG_ERR_IO,
                                                 "eval.rr_fusion: %s is missing: the fusion is "
                                                 "stored in it",
                                                 path)
                                 : ECG_OK;
    double stored_t = 1.0;
    struct ecg_rr_fusion stored;
    int rc = ecg_model_file_temperature(path, &stored_t, err);
    if (!rc)
        rc = ecg_model_file_rr_fusion(path, t->k, &stored, err);
    if (!rc && stored_t != cal->temperature &&
        (rc = ecg_model_file_set_temperature(path, cal->temperature, err)))
        ecg_error_prefix(err, rc, "eval.calibrate");
    if (!rc && (stored.classes || t->fusion.classes) &&
        (rc = ecg_model_file_set_rr_fusion(path, &t->fusion, err)))
        ecg_error_prefix(err, rc, "eval.rr_fusion");
    char *stored_config = NULL;
    if (!rc)
        rc = ecg_model_file_config(path, &stored_config, err);
    if (!rc && strcmp(stored_config, t->config_yaml) != 0)
        rc = ecg_model_file_set_config(path, t->config_yaml, err);
    free(stored_config);
    return rc;
}

int trainer_final_report(struct trainer *t, struct ecg_error *err)
{
    int split = t->c->eval.split;
    int part = split == ECG_PART_ALL ? -1 : split;
    if (part >= 0 && t->splits.n[part] == 0)
        return ecg_error_set(err, ECG_ERR_CONFIG, "eval.split: the %s split is empty",
                             ecg_split_part_name(part));
    /* Evaluate the best epoch's weights (already the EMA ones when enabled). */
    memcpy(t->m.params->values, t->best_values, (size_t)t->m.params->total * sizeof(float));
    bool ema = t->use_ema;
    t->use_ema = false;
    struct ecg_metrics mt = {0};
    struct ecg_calibration cal = {.temperature = 1.0};
    double loss;
    int rc = t->c->eval.calibrate ? fit_calibration(t, &cal, err) : ECG_OK;
    if (!rc)
        rc = store_calibration(t, &cal, err);
    if (!rc)
        rc = trainer_evaluate_split(t, part, &mt, &loss, &cal, err);
    t->use_ema = ema;
    if (!rc && ecg_dist_is_root()) {
        struct ecg_report r = {.title = t->c->run.name,
                               .split = ecg_split_part_name(split),
                               .metrics = &mt,
                               .epochs = t->rows,
                               .n_epochs = t->nrows,
                               .config_text = t->config_yaml,
                               .calibration = &cal};
        rc = ecg_report_write(t->dir, &r, err);
        if (!rc) {
            ecg_report_write_text(stdout, &mt);
            printf("%s split: accuracy %.4f, macro-F1 %.4f", ecg_split_part_name(split), mt.accuracy,
                   mt.macro_f1);
            if (!isnan(mt.cinc_f1))
                printf(", CinC F1 %.4f", mt.cinc_f1);
            printf(" (best epoch %lld); report in %s/report.html\n", (long long)t->st.best_epoch, t->dir);
        }
    }
    ecg_metrics_free(&mt);
    return rc;
}
