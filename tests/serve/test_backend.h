/* A deterministic model double for the server's tests: fixed arithmetic instead of a network. */
#ifndef ECG_TESTS_SERVE_TEST_BACKEND_H
#define ECG_TESTS_SERVE_TEST_BACKEND_H

#include "serve/backend.h"

/*
 * Classes AF, NSR, Noise, Other; trained "at" 300 Hz on 9 s windows (CinC
 * 2017's shortest records), inputs 16 x 32 x 3, Grad-CAM maps 4 x 8.
 * prepare resamples linearly to 300 Hz and cuts consecutive 9 s windows;
 * each input pixel is a fixed function of the window's samples; classify is
 * a softmax of fixed linear scores, so a window's probabilities do not depend
 * on what else is in its batch.  delay_ms > 0 makes every classify call
 * sleep that long (a slow model, for queue and drain tests).
 */
void ecg_test_backend_init(struct ecg_serve_backend *be, int delay_ms);

/* The number of classify calls so far (an atomic counter). */
long ecg_test_backend_calls(void);

#endif
