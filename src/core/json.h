/* json.h: the JSON parser and writer for the value model (RFC 8259). */
#ifndef CBAG_JSON_H
#define CBAG_JSON_H

#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "cbag.h"

#define CBAG__JSON_MAX_DEPTH 10000

typedef struct cbag__json_err {
    size_t offset;  /* byte offset of the problem in the input */
    char msg[200];  /* e.g. "expected ',' or '}' after object member" */
} cbag__json_err;

/* Parses exactly one JSON text (surrounding whitespace allowed) from
 * s[0..len) into *out, allocating in a. Returns CBAG_OK, CBAG_PARSE (with
 * err filled in) or CBAG_NOMEM. On failure *out is unspecified and what was
 * allocated stays in the arena until it is reset. */
int cbag__json_parse(cbag__arena *a, const char *s, size_t len, cbag_val *out,
                     cbag__json_err *err);

/* Projection: the top-level keys of an object to build. */
typedef struct cbag__json_key {
    const char *s;
    size_t len;
} cbag__json_key;
typedef struct cbag__json_keys {
    size_t n;
    const cbag__json_key *k;
} cbag__json_keys;

/* As cbag__json_parse, but when the text is an object only the members
 * whose keys are in keep (NULL: all) are built; the values of the others
 * are checked by the same grammar and dropped, so the errors are those of
 * cbag__json_parse. Duplicate kept keys: the last value wins. */
int cbag__json_parse_keep(cbag__arena *a, const char *s, size_t len,
                          cbag_val *out, cbag__json_err *err,
                          const cbag__json_keys *keep);

/* cbag__json_parse_keep into c's arena, failing c as cbag_json_parse does. */
const cbag_val *cbag__json_parse_call(cbag_call *c, const char *s, size_t len,
                                      const cbag__json_keys *keep);

/* Appends v as JSON (CBAG_FMT_JSON, CBAG_FMT_JSON_COMPACT, | CBAG_FMT_UTF8)
 * formatted exactly as Python's json.dumps would. Tuples are arrays, dict
 * keys that are not strings are converted as Python does (int, float, bool,
 * None keys become strings); other keys are CBAG_TYPE errors. NaN and
 * infinities are written NaN, Infinity, -Infinity (Python's default).
 * Returns CBAG_OK, CBAG_TYPE or CBAG_NOMEM. */
int cbag__json_write(cbag__buf *b, const cbag_val *v, int fmt);

#endif
