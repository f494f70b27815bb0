/* One lead of a WFDB record in millivolts: which lead a beat reader takes, and the unit conversion. */
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"

/* Millivolts per unit of a signal in `units`, 0 when the unit is not a voltage the readers know. */
static double mv_per_unit(const char *units)
{
    return strcmp(units, "mV") == 0 ? 1.0 : strcmp(units, "uV") == 0 ? 1e-3 : strcmp(units, "V") == 0 ? 1e3 : 0.0;
}

int ecg_wfdb_read_lead(const char *hea, const struct ecg_wfdb_header *hdr, int channel, float **x, int64_t *length,
                       struct ecg_error *err)
{
    *x = NULL;
    *length = 0;
    /* Channel -1: the lead described as MLII (record 114 stores it second), else the first. */
    int ch = channel;
    if (ch < 0) {
        ch = 0;
        for (int s = 0; s < hdr->nsig; s++)
            if (strcmp(hdr->sig[s].description, "MLII") == 0) {
                ch = s;
                break;
            }
    }
    if (ch >= hdr->nsig)
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: channel %d requested, the record has %d signals", hea, ch,
                             hdr->nsig);
    const double scale = mv_per_unit(hdr->sig[ch].units);
    if (scale == 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: signal %d is in '%s', expected mV, uV or V", hea, ch,
                             hdr->sig[ch].units);
    float *sig[ECG_WFDB_MAX_SIGNALS] = {0};
    ECG_TRY(ecg_wfdb_read_signals(hea, hdr, sig, length, err));
    for (int s = 0; s < hdr->nsig; s++)
        if (s != ch)
            free(sig[s]);
    if (scale != 1.0)
        for (int64_t i = 0; i < *length; i++)
            sig[ch][i] = (float)(sig[ch][i] * scale);
    *x = sig[ch];
    return ECG_OK;
}

int ecg_wfdb_read_channel(const char *hea, int channel, struct ecg_wfdb_header *hdr, float **x, int64_t *length,
                          struct ecg_error *err)
{
    *x = NULL;
    *length = 0;
    ECG_TRY(ecg_wfdb_read_header(hea, hdr, err));
    return ecg_wfdb_read_lead(hea, hdr, channel, x, length, err);
}
