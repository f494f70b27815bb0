/* The ECG signal entry of a Unisens unisens.xml (CACHET-CADB full format), read with expat. */
#ifndef ECG_DATA_UNISENS_H
#define ECG_DATA_UNISENS_H

#include <stdint.h>

#include "core/error.h"

struct ecg_unisens_ecg {
    double fs;         /* sampleRate, Hz                                   */
    double lsb;        /* lsbValue (default 1): physical units per count    */
    double baseline;   /* baseline (default 0), subtracted before scaling   */
    int32_t channels;  /* <channel> children of the entry (at least 1)     */
};

/*
 * Reads the <signalEntry id="ecg.bin"> of the unisens.xml at `path`: its
 * sampleRate (required, positive), lsbValue, baseline, dataType (must be
 * int16) and the number of its <channel> children.  A real XML parser, so
 * comments, CDATA, entities and character references, '>' inside attribute
 * values, namespace prefixes and elements whose names only begin with
 * "channel" are all read as XML means them.  Malformed XML fails with
 * ECG_ERR_FORMAT and one message naming the file and line.
 */
int ecg_unisens_read_ecg(const char *path, struct ecg_unisens_ecg *u, struct ecg_error *err);

#endif
