/* Strict UTF-8 decoding for the writers of JSON, XML and HTML output. */
#ifndef ECG_EVAL_UTF8_H
#define ECG_EVAL_UTF8_H

#include <stdint.h>

/*
 * Decodes the character at s (a NUL-terminated string).  Returns the length
 * of a well-formed UTF-8 sequence (1 to 4) and stores its code point in *cp,
 * or 0 when the bytes at s are not one: a stray continuation byte, a
 * truncated sequence, an overlong form, a surrogate or a value above
 * U+10FFFF.  The writers replace such a byte by U+FFFD and go on with the next.
 */
int ecg_utf8_decode(const unsigned char *s, uint32_t *cp);

/* U+FFFD REPLACEMENT CHARACTER, written where the input was not UTF-8. */
#define ECG_UTF8_REPLACEMENT 0xFFFDu

#endif
