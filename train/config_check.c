/* Constraints between ecgtrain's config keys, checked once the file and all overrides are applied. */
#include "data/readers.h"
#include "train/config_keys.h"

/* "0.1" etc., round-trip exact, for messages. */
static const char *num(double v, char buf[40])
{
    ecg_config_format_double(v, buf, 40);
    return buf;
}

/* The split keys: fractions, or k folds whose test fold exists and leaves room for validation. */
static int check_folds(const struct ecg_split_opts *sp, struct ecg_error *err)
{
    char a[40], b[40];
    if (sp->folds < 2) {
        if (sp->fold != 0)
            return ecg_error_set(err, ECG_ERR_CONFIG,
                                 "keys 'data.fold' and 'data.folds': a test fold (%lld) needs data.folds >= 2 "
                                 "(k-fold cross-validation), found folds %lld",
                                 (long long)sp->fold, (long long)sp->folds);
        if (sp->val_fraction + sp->test_fraction >= 1)
            return ecg_error_set(err, ECG_ERR_RANGE,
                                 "keys 'data.val_fraction' and 'data.test_fraction': expected a sum below 1 "
                                 "(the rest is the training split), found %s + %s",
                                 num(sp->val_fraction, a), num(sp->test_fraction, b));
        return ECG_OK;
    }
    if (sp->fold >= sp->folds)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.fold' and 'data.folds': expected a test fold in 0..%lld, found %lld",
                             (long long)(sp->folds - 1), (long long)sp->fold);
    if (sp->val_fraction + 1.0 / (double)sp->folds >= 1)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.val_fraction' and 'data.folds': expected val_fraction + 1/folds below 1 "
                             "(the rest is the training split), found %s + 1/%lld",
                             num(sp->val_fraction, a), (long long)sp->folds);
    return ECG_OK;
}

/* The signal band and the spectrogram against the sampling rate, the window and the network's input. */
static int check_signal(const struct ecg_config *c, struct ecg_error *err)
{
    const struct ecg_config_data *d = &c->data;
    const struct ecg_spec_opts *s = &d->spectrogram;
    char a[40], b[40], e[40];
    double nyquist = d->sample_rate / 2;
    if (d->band_low_hz >= d->band_high_hz)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.band_low_hz' and 'data.band_high_hz': expected low < high, found %s and %s",
                             num(d->band_low_hz, a), num(d->band_high_hz, b));
    if (d->band_high_hz >= nyquist)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.band_high_hz' and 'data.sample_rate': expected a band edge below the "
                             "Nyquist frequency %s Hz, found %s",
                             num(nyquist, e), num(d->band_high_hz, a));
    if (s->fmin >= s->fmax)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.spectrogram.fmin' and 'data.spectrogram.fmax': expected fmin < fmax, "
                             "found %s and %s",
                             num(s->fmin, a), num(s->fmax, b));
    if (s->fmax > nyquist)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.spectrogram.fmax' and 'data.sample_rate': expected at most the Nyquist "
                             "frequency %s Hz, found %s",
                             num(nyquist, e), num(s->fmax, a));
    if (s->hop_seconds > s->window_seconds)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.spectrogram.hop_seconds' and 'data.spectrogram.window_seconds': "
                             "expected hop <= window, found %s and %s",
                             num(s->hop_seconds, a), num(s->window_seconds, b));
    if (s->window_seconds > d->window_seconds)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.spectrogram.window_seconds' and 'data.window_seconds': expected an STFT "
                             "window no longer than the signal window, found %s and %s",
                             num(s->window_seconds, a), num(d->window_seconds, b));
    if (s->window_seconds * d->sample_rate < 8)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.spectrogram.window_seconds' and 'data.sample_rate': expected an STFT "
                             "window of at least 8 samples, found %s s at %s Hz",
                             num(s->window_seconds, a), num(d->sample_rate, b));
    if (s->hop_seconds * d->sample_rate < 1)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'data.spectrogram.hop_seconds' and 'data.sample_rate': expected a hop of at "
                             "least 1 sample, found %s s at %s Hz",
                             num(s->hop_seconds, a), num(d->sample_rate, b));
    if (s->channels != c->model.in_channels)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "keys 'data.spectrogram.channels' and 'model.in_channels': expected the same "
                             "value, found %lld and %lld",
                             (long long)s->channels, (long long)c->model.in_channels);
    return ECG_OK;
}

/* The class weights and the record features a model reads beside its images (data/record_features.h),
 * each kind for one task. */
static int check_model_inputs(const struct ecg_config *c, struct ecg_error *err)
{
    const struct ecg_config_floats *w = &c->train.class_weights;
    if (w->n > 0 && w->n != c->model.num_classes)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "keys 'train.class_weights' and 'model.num_classes': expected one weight per "
                             "class (%lld), found %lld",
                             (long long)c->model.num_classes, (long long)w->n);
    const struct {
        bool on;
        const char *key, *what, *belong;
        enum ecg_task task;
    } features[3] = {
        {c->model.rr_features, "model.rr_features", "RR features", "heartbeats (data.format mitbih_wfdb)",
         ECG_TASK_BEAT},
        {c->model.morphology_features, "model.morphology_features", "morphology features",
         "heartbeats (data.format mitbih_wfdb)", ECG_TASK_BEAT},
        {c->model.rhythm_features, "model.rhythm_features", "rhythm features",
         "rhythm records (data.format cinc2017, cachet_short, ...)", ECG_TASK_RHYTHM}};
    for (int i = 0; i < 3; i++) {
        if (features[i].on && ecg_format_task(ecg_config_format_name(c)) != (int)features[i].task)
            return ecg_error_set(err, ECG_ERR_CONFIG, "keys '%s' and 'data.format': %s belong to %s, found format %s",
                                 features[i].key, features[i].what, features[i].belong, ecg_config_format_name(c));
        if (features[i].on && c->train.mixup_alpha > 0)
            return ecg_error_set(err, ECG_ERR_CONFIG,
                                 "keys '%s' and 'train.mixup_alpha': mixup blends images, not %s; expected mixup "
                                 "off (0) with %s, found %g",
                                 features[i].key, features[i].what, features[i].what, c->train.mixup_alpha);
    }
    return ECG_OK;
}

/* The evaluation and training keys that depend on one another. */
static int check_training(const struct ecg_config *c, struct ecg_error *err)
{
    if (c->eval.rr_fusion && ecg_format_task(ecg_config_format_name(c)) == ECG_TASK_BEAT)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "keys 'eval.rr_fusion' and 'data.format': the RR fusion measures a whole record's "
                             "rhythm; expected rhythm records, found the beat format %s",
                             ecg_config_format_name(c));
    if (c->eval.rr_fusion && !c->eval.calibrate)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "keys 'eval.rr_fusion' and 'eval.calibrate': the fusion reads the calibrated "
                             "probabilities; expected eval.calibrate true with it, found false");
    if (c->train.select == ECG_SELECT_LAST && c->train.patience > 0)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "keys 'train.select' and 'train.patience': early stopping watches the validation "
                             "macro-F1 that select last does not; expected patience 0 with it, found %lld",
                             (long long)c->train.patience);
    if (c->run.replicas > 1 && c->train.mixup_alpha > 0)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "keys 'run.replicas' and 'train.mixup_alpha': mixup pairs images across the whole "
                             "batch, and a replica holds only its part of it; expected mixup off (0) with %lld "
                             "replicas, found %g",
                             (long long)c->run.replicas, c->train.mixup_alpha);
    if (c->run.replicas > c->train.batch_size)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'run.replicas' and 'train.batch_size': every replica needs a sample of each "
                             "batch; expected replicas <= batch size, found %lld and %lld",
                             (long long)c->run.replicas, (long long)c->train.batch_size);
    if (c->train.warmup_epochs > c->train.epochs)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'train.warmup_epochs' and 'train.epochs': expected warm-up <= epochs, "
                             "found %lld and %lld",
                             (long long)c->train.warmup_epochs, (long long)c->train.epochs);
    if (c->train.head_epochs > c->train.epochs)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "keys 'train.head_epochs' and 'train.epochs': expected head-only epochs <= "
                             "epochs, found %lld and %lld",
                             (long long)c->train.head_epochs, (long long)c->train.epochs);
    return ECG_OK;
}

int ecg_config_check_keys(const void *root, struct ecg_error *err)
{
    const struct ecg_config *c = root;
    ECG_TRY(check_folds(&c->data.split, err));
    ECG_TRY(check_signal(c, err));
    ECG_TRY(check_model_inputs(c, err));
    return check_training(c, err);
}
