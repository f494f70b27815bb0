/* PNG files: signature, IHDR, one zlib IDAT of unfiltered scanlines, IEND; CRCs from zlib. */
#include "data/png.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes one chunk: length, type, data, CRC over type and data. */
static int chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len)
{
    unsigned char head[8], tail[4];
    put32(head, len);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, head + 4, 4);
    if (len)
        crc = crc32(crc, data, len);
    put32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) && fwrite(tail, 1, 4, f) == 4;
}

int ecg_png_write(const char *path, const uint8_t *pixels, int64_t height, int64_t width, int channels,
                  struct ecg_error *err)
{
    if (height < 1 || width < 1 || height > 65535 || width > 65535 || (channels != 1 && channels != 3))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "%s: PNG of %lld x %lld with %d channels: expected 1..65535 pixels a side and 1 or 3 "
                             "channels",
                             path, (long long)height, (long long)width, channels);
    const size_t row = (size_t)width * (size_t)channels + 1; /* filter byte + pixels */
    const size_t raw_len = row * (size_t)height;
    unsigned char *raw = malloc(raw_len);
    uLongf zlen = compressBound((uLong)raw_len);
    unsigned char *z = malloc(zlen);
    int rc = ECG_OK;
    FILE *f = NULL;
    if (!raw || !z) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: cannot allocate %zu bytes for the PNG", path, raw_len);
        goto done;
    }
    for (int64_t y = 0; y < height; y++) {
        raw[(size_t)y * row] = 0; /* filter type None */
        memcpy(raw + (size_t)y * row + 1, pixels + (size_t)y * (row - 1), row - 1);
    }
    if (compress2(z, &zlen, raw, (uLong)raw_len, 9) != Z_OK) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: zlib could not compress the image", path);
        goto done;
    }
    f = fopen(path, "wb");
    if (!f) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot create the PNG: %s", path, strerror(errno));
        goto done;
    }
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    put32(ihdr, (uint32_t)width);
    put32(ihdr + 4, (uint32_t)height);
    ihdr[8] = 8;                      /* bit depth */
    ihdr[9] = channels == 3 ? 2 : 0;  /* colour type: truecolour or greyscale */
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
    int ok = fwrite(sig, 1, 8, f) == 8 && chunk(f, "IHDR", ihdr, 13) && chunk(f, "IDAT", z, (uint32_t)zlen) &&
             chunk(f, "IEND", NULL, 0);
    ok = (fclose(f) == 0) && ok;
    f = NULL;
    if (!ok)
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot write the PNG (disk full?)", path);
done:
    free(raw);
    free(z);
    return rc;
}
