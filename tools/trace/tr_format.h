/*
 * tr_format.h -- printing helpers shared by the commands: durations, byte
 * counts, and strings escaped for JSON, HTML text and the terminal.
 *
 * Strings from a trace are bytes: names are meant to be UTF-8 but nothing
 * guarantees it.  The escapers always produce valid output: an ill-formed
 * UTF-8 sequence becomes U+FFFD, control characters are escaped.
 */
#ifndef TR_FORMAT_H
#define TR_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* `ns` as milliseconds with 3 decimals: "0.102 ms". */
const char *tr_fmt_ms(char buf[32], double ns);

/* Bytes with a binary unit: "512 B", "1.5 KiB", "123.4 MiB". */
const char *tr_fmt_bytes(char buf[32], uint64_t bytes);

/* A window length: "100 us", "1 ms", "1.5 s". */
const char *tr_fmt_window(char buf[32], double ns);

/* A JSON string literal with its quotes.  for_html also escapes <, > and &
 * so the literal can sit inside a <script> element. */
void tr_put_json_string(FILE *f, const char *s, size_t len, bool for_html);

/* Text for an HTML element's content or a quoted attribute. */
void tr_put_html(FILE *f, const char *s, size_t len);

/* A name for a terminal: control characters and ill-formed UTF-8 become '?'. */
void tr_put_plain(FILE *f, const char *s, size_t len);

/* The length of the well-formed UTF-8 sequence at s (at most n bytes), or
 * 0 if it is ill-formed.  *cp gets the code point. */
size_t tr_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
