/* Dataset readers (CACHET-CADB short and full, CinC 2017, MIT-BIH WFDB, Kaggle CSV) and a dispatcher by
 * format name. */
#ifndef ECG_DATA_READERS_H
#define ECG_DATA_READERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "data/record.h"

/*
 * Every reader fills a zeroed `struct ecg_dataset` (the caller frees it with
 * ecg_dataset_free, also after a failure) with records whose signal is in mV.
 *
 * Bad input (a truncated or corrupt file, a wrong sampling rate, NaN or
 * infinity, a flat signal, a record shorter than `min_seconds`, a label
 * outside the known set) is handled by `skip_bad`:
 *   ECG_BAD_ERROR  the reader stops with one message naming the file and
 *                  record, and returns the status;
 *   ECG_BAD_SKIP   the record is dropped, `ds->skipped` counts it and a
 *                  warning is logged.
 * Problems that concern the dataset as a whole (a missing directory or label
 * file, a file that is not the format at all, an empty result) are always
 * errors.  docs/data.md lists the rules per format.  Every reader takes
 * `opt` NULL as the defaults (ecg_read_options_default).
 */
/* What a reader does with a bad record; ecg_bad_policy_names[] gives the config names (data.bad_records). */
enum ecg_bad_policy { ECG_BAD_ERROR, ECG_BAD_SKIP };
extern const char *const ecg_bad_policy_names[];

/* Dataset formats; ecg_data_format_names[] (NULL-terminated, in this order) gives their config names
 * (data.format). */
enum ecg_data_format {
    ECG_DATA_CACHET_SHORT,
    ECG_DATA_CACHET_FULL,
    ECG_DATA_CINC2017,
    ECG_DATA_MITBIH_WFDB,
    ECG_DATA_MITBIH_CSV,
};
extern const char *const ecg_data_format_names[];

/* The format of a name: a config name, or "mitdb" / "kaggle_csv" for the last two.  ECG_ERR_CONFIG listing
 * the names (err may be NULL). */
int ecg_data_format_parse(const char *name, enum ecg_data_format *out, struct ecg_error *err);

/* The task a format's records belong to. */
enum ecg_task ecg_data_format_task(enum ecg_data_format format);

/* Where the beats of a WFDB record come from (data.beats); ecg_beat_source_names[] gives the config names. */
enum ecg_beat_source {
    ECG_BEATS_REFERENCE, /* the annotated beats of the record's .atr */
    ECG_BEATS_DETECTED,  /* the beats the QRS detector finds (data/qrs.h) */
};
extern const char *const ecg_beat_source_names[];

/* What the beat reader does with AAMI Q beats (data.q_beats); ecg_q_policy_names[] gives the names. */
enum ecg_q_policy {
    ECG_Q_EXCLUDE, /* left out of the dataset and counted (de Chazal's convention: too few to learn) */
    ECG_Q_KEEP,    /* kept with label Q */
};
extern const char *const ecg_q_policy_names[];

struct ecg_read_options {
    enum ecg_bad_policy skip_bad;
    const char *label_file; /* cinc2017: label CSV; NULL = REFERENCE.csv next to the records */
    double min_seconds;     /* shorter records are bad; 0 = no minimum */
    double flat_std_mv;     /* a record whose standard deviation is <= this is flat (bad); < 0 = no check */
    /* mitdb: which records of the directory.  NULL or "all": every record
     * with a .hea and .atr except the paced ones (102, 104, 107, 217);
     * "DS1" / "DS2": the inter-patient split (each must exist); otherwise a
     * comma-separated list of record names. */
    const char *records;
    int32_t channel; /* mitdb: signal index used for beats; -1 = the one described as MLII, else the first */
    double beat_before_s; /* mitdb: seconds kept before the R peak */
    double beat_after_s;  /* mitdb: seconds kept after the R peak */
    enum ecg_beat_source beats; /* mitdb: reference (.atr) or detected beats */
    enum ecg_q_policy q_beats;  /* mitdb: Q beats left out or kept */
    /* mitdb, detected beats: a detection that matches no reference beat (or any detection of a record
     * without .atr) is kept with label -1 (true) or left out and counted (false). */
    bool keep_unlabelled;
};

/* Defaults: error on bad input, no minimum length, flat below 1e-4 mV,
 * all records, channel -1 (MLII), beats 0.25 s before / 0.45 s after the R peak,
 * reference beats, Q beats kept, unlabelled detections left out. */
void ecg_read_options_default(struct ecg_read_options *opt);

/* Reads `path` in the given format.  `opt` NULL means defaults. */
int ecg_dataset_read_format(enum ecg_data_format format, const char *path, const struct ecg_read_options *opt,
                            struct ecg_dataset *ds, struct ecg_error *err);

/* The same with the format given by name (ecg_data_format_parse). */
int ecg_dataset_read(const char *format, const char *path, const struct ecg_read_options *opt,
                     struct ecg_dataset *ds, struct ecg_error *err);
/* The task a format's records belong to; -1 for an unknown name. */
int ecg_format_task(const char *format);

/* CinC 2017: `dir` holds A*.mat/.hea (directly or in training2017/); labels
 * come from opt->label_file or REFERENCE.csv (in `dir`, then in the records'
 * folder).  Records are those listed in the label file, in its order; ids are
 * the record names, no subject.  MATLAB v4 `.mat` (int16/int32/float/double
 * little-endian 1 x N or N x 1), 300 Hz, gain and baseline from the `.hea`. */
int ecg_cinc2017_read(const char *dir, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                      struct ecg_error *err);

/* One CinC 2017 record from its .mat path (the .hea beside it is used when
 * present): signal in mV, label -1, id the record name.  The caller frees
 * rec->signal. */
int ecg_cinc2017_read_record(const char *mat_path, struct ecg_record *rec, struct ecg_error *err);

/* CACHET-CADB short format: root datasets `signal` and `labels` (float64,
 * 1-D, equal length, a multiple of 10240); one record per 10 s segment at
 * 1024 Hz, ids "seg<index>", no subject.  Codes 1..4 = AF, NSR, Noise, Other. */
int ecg_cachet_read_short(const char *path, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                          struct ecg_error *err);

/* CACHET-CADB full (Unisens) format.  `root` is searched recursively for
 * folders that hold `unisens.xml` + `ecg.bin` + `annotation.csv` (or whose
 * `annotation.csv` sits in the parallel `annotations/` tree: the layout
 * signal/<subject>/<measurement>/<segment>/ and
 * annotations/<subject>/<measurement>/<segment>/).  The subject id is the
 * first path component below root (below signal/ in the parallel layout)
 * that matches P<digits> or PNSR-<digit>, else the first component.  Each
 * annotation row Start,End,Class (sample indices at 1024 Hz, class 1..4)
 * gives one 10 s record starting at Start; ids "<subject>/<measurement>/<segment>:<Start>". */
int ecg_cachet_read_full(const char *root, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                         struct ecg_error *err);

/* MIT-BIH through WFDB: the beats (ecg_wfdb_read_beats) of the chosen
 * records (opt->records), each a record of its own.  ids "<record>:<sample>",
 * subject the record name, so that splits keep a patient's beats together. */
int ecg_mitdb_read(const char *dir, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                   struct ecg_error *err);

/* What ecg_wfdb_read_beats left out, by reason (all also counted in ds->skipped). */
struct ecg_beat_read_counts {
    int64_t beats;     /* beats of the record (reference or detected) */
    int64_t kept;      /* pushed into the dataset */
    int64_t edge;      /* too close to the record's start or end for the window */
    int64_t q;         /* AAMI Q beats left out (ECG_Q_EXCLUDE) */
    int64_t unmatched; /* detections matching no reference beat, left out */
};

/*
 * The beats of one WFDB record (`hea`: NAME.hea with its signal file) as
 * records of ds, in time order: a window of the chosen channel
 * (opt->channel) from beat_before_s before to beat_after_s after each R peak,
 * in mV at the record's rate.  `atr` (NULL: none) is the annotation file.
 * opt->beats REFERENCE: the annotated beats (AAMI classes of their labels;
 * non-beat annotations ignored), which needs `atr`.  DETECTED: the QRS
 * detector's beats (default options), labelled with the AAMI class of the
 * nearest reference beat at most 150 ms away (each reference beat used once)
 * when `atr` is given; unmatched or unannotated detections get label -1 and
 * are kept or left out as opt->keep_unlabelled says.  Beats whose window
 * leaves the record, and Q beats under ECG_Q_EXCLUDE, are left out.  ids are
 * "<record>:<sample>" (sample at the record's own rate), subject the record
 * name.  `counts` (may be NULL) receives the tallies.
 */
int ecg_wfdb_read_beats(const char *hea, const char *atr, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                        struct ecg_beat_read_counts *counts, struct ecg_error *err);

/* The beats the QRS detector finds in a signal without annotations (x: len samples in mV at fs Hz of
 * record `name`), as ecg_wfdb_read_beats makes them with opt->beats DETECTED and keep_unlabelled
 * (labels -1, windows of opt->beat_before_s / beat_after_s, RR features).  Errors: ECG_ERR_VALUE
 * (no samples, fs <= 0), the detector's. */
int ecg_signal_beats(const char *name, const float *x, int64_t len, double fs, const struct ecg_read_options *opt,
                     struct ecg_dataset *ds, struct ecg_beat_read_counts *counts, struct ecg_error *err);

/* The sample of a beat record's id "<record>:<sample>", or -1 when the id has no such suffix. */
int64_t ecg_beat_id_sample(const char *id);


/* Kaggle MIT-BIH heartbeat CSV: 188 comma-separated numbers per line, no
 * header: 187 samples at 125 Hz then the label 0..4 (N, S, V, F, Q).
 * ids "<file>:<line>". */
int ecg_kaggle_read(const char *path, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                    struct ecg_error *err);

/* ---- WFDB building blocks (used by ecg_mitdb_read, exposed for tests and tools) ---- */

#define ECG_WFDB_MAX_SIGNALS 16

struct ecg_wfdb_signal {
    char file[256];      /* data file name as in the header */
    int32_t format;      /* 212 or 16 */
    int64_t byte_offset; /* bytes to skip at the start of the file ("16+24" gives 24) */
    double gain;         /* ADC units per physical unit; 200 when the header gives 0 or none */
    int32_t baseline;    /* ADC value of 0 physical units (defaults to adc_zero) */
    int32_t adc_zero;
    char units[32]; /* "mV" when absent */
    char description[64];
};

struct ecg_wfdb_header {
    char record[64];
    int32_t nsig;
    double fs;
    int64_t nsamples; /* per signal, -1 when the header omits it */
    struct ecg_wfdb_signal sig[ECG_WFDB_MAX_SIGNALS];
};

/* An annotation: sample index, MIT code (1..49) and the beat's AAMI class
 * (-1 for annotations that are not beats). */
struct ecg_wfdb_annotation {
    int64_t sample;
    int32_t code;
    int32_t aami;
};

/* Parses a .hea file (comment lines starting with # are ignored). */
int ecg_wfdb_read_header(const char *path, struct ecg_wfdb_header *hdr, struct ecg_error *err);
/* Reads all signals of a record (the .dat next to `hea_path`) as physical
 * values: out[s] gets `*length` floats (malloc'd, caller frees each) for
 * s < hdr->nsig.  All signals must share one data file and format. */
int ecg_wfdb_read_signals(const char *hea_path, const struct ecg_wfdb_header *hdr, float **out,
                          int64_t *length, struct ecg_error *err);
/* Reads an MIT-format annotation file; *ann is malloc'd (caller frees). */
int ecg_wfdb_read_annotations(const char *path, struct ecg_wfdb_annotation **ann, int64_t *count,
                              struct ecg_error *err);
/* The channel of a WFDB record in mV (its units mV, uV or V): `channel` -1 picks the signal described as MLII,
 * else the first.  *x is malloc'd (caller frees).  Errors name the header. */
int ecg_wfdb_read_channel(const char *hea, int channel, struct ecg_wfdb_header *hdr, float **x, int64_t *length,
                          struct ecg_error *err);
/* The same from a header already read (and perhaps with its signal file names changed): the server reads an
 * upload's header, points it at the private copy of the .dat, then reads the lead ecgpredict would. */
int ecg_wfdb_read_lead(const char *hea, const struct ecg_wfdb_header *hdr, int channel, float **x, int64_t *length,
                       struct ecg_error *err);
/* AAMI class of an MIT annotation code, -1 when the code is not a beat. */
int ecg_wfdb_aami_class(int32_t code);
/* The annotation symbol of a beat's MIT code ("N", "L", "A", "/", ...), NULL when the code is not a beat. */
const char *ecg_wfdb_beat_symbol(int32_t code);
/* 1 when `record` (e.g. "101") is in DS1, 2 in DS2, 0 otherwise. */
int ecg_mitdb_split_of(const char *record);
/* The 22 record names of DS1 (split 1) or DS2 (split 2); *count gets 22. */
const char *const *ecg_mitdb_split_records(int split, int *count);

/* ---- Writer ---- */

/* Writes records (each with fs 1024 and length 10240, labels in the rhythm
 * task) as the CACHET-CADB short format: `signal` and `labels` float64 1-D,
 * labels as codes 1..4 repeated per sample.  `compress` > 0 writes chunked,
 * gzip-compressed datasets at that level (1..9), which any HDF5 reader
 * decompresses transparently. */
int ecg_cachet_write_short(const char *path, const struct ecg_record *recs, int64_t count, int compress,
                           struct ecg_error *err);

/* CACHET-CADB code (1..4) of a rhythm label and back (-1 when out of range). */
int ecg_cachet_code_of(int rhythm_label);
int ecg_cachet_label_of(int code);

#endif
