/*
 * sql/funcs_rx.h - private to funcs*.c: POSIX regular expressions with
 * PostgreSQL's error reporting, compiled once per thread and pattern.
 *
 * Patterns are POSIX extended regular expressions (regex.h) with the
 * PostgreSQL shorthands \d \D (digits) added; \w \s \W \S are the C
 * library's.  A per-thread cache keeps the most recently used compiled
 * patterns, so a pattern from a constant is compiled once per thread.
 */
#ifndef SQL_FUNCS_RX_H
#define SQL_FUNCS_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datacave/error.h"

/* Does s match pattern p anywhere?  2201B for a bad pattern. */
int sql_rx_match(const uint8_t *s, size_t slen, const uint8_t *p, size_t plen,
                 bool icase, bool *match, dc_error *err);

/* First match of p in s: byte range of the whole match and of the first
 * parenthesised subexpression (*sub_so = -1 when it did not take part or
 * the pattern has none).  *found false when no match. */
int sql_rx_find(const uint8_t *s, size_t slen, const uint8_t *p, size_t plen,
                bool icase, size_t start, bool *found, size_t *so, size_t *eo,
                long *sub_so, long *sub_eo, int *nsub, dc_error *err);

#endif
