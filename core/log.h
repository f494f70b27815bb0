/* Logging to stderr with levels, and a monotonic timer. */
#ifndef ECG_CORE_LOG_H
#define ECG_CORE_LOG_H

enum ecg_log_level { ECG_LOG_DEBUG, ECG_LOG_INFO, ECG_LOG_WARN, ECG_LOG_ERROR, ECG_LOG_QUIET };

/*
 * Messages below `level` are dropped.  Default: ECG_LOG_INFO.  The level is
 * process-wide by nature (one stderr): a program sets it once at start;
 * library code, and above all the inference path, never changes it.  Reading
 * and setting it are atomic, so any thread may log at any time.
 */
void ecg_log_set_level(enum ecg_log_level level);
enum ecg_log_level ecg_log_get_level(void);

/* Writes one line ("warning: " etc. + message + newline) to stderr with a
 * single write under the stream's lock: lines of several threads never
 * interleave. */
void ecg_log(enum ecg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ecg_debug(...) ecg_log(ECG_LOG_DEBUG, __VA_ARGS__)
#define ecg_info(...) ecg_log(ECG_LOG_INFO, __VA_ARGS__)
#define ecg_warn(...) ecg_log(ECG_LOG_WARN, __VA_ARGS__)

/* Seconds from an arbitrary start, monotonic, sub-microsecond resolution. */
double ecg_now(void);

#endif
