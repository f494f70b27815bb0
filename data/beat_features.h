/* The features a beat model may read beside each beat's image: its RR intervals, then its morphology. */
#ifndef ECG_DATA_BEAT_FEATURES_H
#define ECG_DATA_BEAT_FEATURES_H

#include "data/morphology.h"
#include "data/rr.h"

/* A beat's features are stored as RR (data/rr.h) then morphology (data/morphology.h); a model reads the range
 * its config chooses (model.rr_features, model.morphology_features: train/config.h). */
#define ECG_BEAT_FEATURES (ECG_RR_FEATURES + ECG_MORPHOLOGY_FEATURES)

#endif
