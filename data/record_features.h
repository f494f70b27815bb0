/* How many feature values a record holds beside its signal: what a model may read beside its images. */
#ifndef ECG_DATA_RECORD_FEATURES_H
#define ECG_DATA_RECORD_FEATURES_H

#include "data/beat_features.h"
#include "data/rhythm_features.h"

/* The values a model may read beside a record's images (its context, layers/effnet.h): room for a beat's
 * (data/beat_features.h) or a rhythm record's (data/rhythm_features.h), whichever is longer. */
#define ECG_RECORD_FEATURES (ECG_BEAT_FEATURES > ECG_RHYTHM_FEATURES ? ECG_BEAT_FEATURES : ECG_RHYTHM_FEATURES)

#endif
