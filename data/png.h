/* A minimal PNG writer: 8-bit grayscale or RGB, zlib-compressed, no filtering. */
#ifndef ECG_DATA_PNG_H
#define ECG_DATA_PNG_H

#include <stdint.h>

#include "core/error.h"

/*
 * Writes `pixels` (height rows of width x channels bytes, row-major, top row
 * first; channels 1 = grayscale, 3 = RGB) as a PNG file.  ECG_ERR_RANGE for
 * sizes outside 1..65535 or other channel counts, ECG_ERR_IO naming the file
 * when it cannot be written, ECG_ERR_NOMEM when compression memory fails.
 */
int ecg_png_write(const char *path, const uint8_t *pixels, int64_t height, int64_t width, int channels,
                  struct ecg_error *err);

#endif
