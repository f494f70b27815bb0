/* Private helpers shared by the config loader, value parser and printer (not for use outside core/config*.c). */
#ifndef ECG_CORE_CONFIG_INTERNAL_H
#define ECG_CORE_CONFIG_INTERNAL_H

#include <yaml.h>

#include "core/config.h"

/* Where key k lives inside c. */
static inline void *ecg_config_field(void *c, const struct ecg_config_key *k)
{
    return (char *)c + k->offset;
}
static inline const void *ecg_config_cfield(const void *c, const struct ecg_config_key *k)
{
    return (const char *)c + k->offset;
}

/*
 * Converts the YAML node to key k's type, checks it and stores it in c.
 * On failure returns the status and writes the message body ("expected an
 * integer, found 'ten'") into why; the caller adds file:line or the override.
 */
int ecg_config_set_node(void *c, const struct ecg_config_key *k, yaml_document_t *doc,
                        yaml_node_t *node, char *why, size_t n);

/* Same, with the value given as YAML text ("0.1", "[0.9, 0.999]", "none"). */
int ecg_config_set_text(void *c, const struct ecg_config_key *k, const char *text,
                        char *why, size_t n);

/* Writes key k's value as YAML to f. */
void ecg_config_write_value(const void *c, const struct ecg_config_key *k, FILE *f);

/* Frees the heap memory of one field and zeroes it. */
void ecg_config_free_field(void *c, const struct ecg_config_key *k);


/* Formats a range bound pair as "[1, 100000]" or "(0, 1)". */
void ecg_config_format_range(const struct ecg_config_key *k, char *buf, size_t n);

#endif
