/* codec.h: the binary encoding of values, for spill files and for values
 * that cross MPI ranks. One encoding for both.
 *
 * A frame is a header followed by COUNT values:
 *
 *   'C' 'B' VERSION   COUNT (u64 little-endian)   BODY (u64 LE, bytes)
 *
 * and a value is a tag byte followed by its payload:
 *
 *   0 None   1 False   2 True
 *   3 int    zigzag varint (LEB128, canonical: no trailing zero group)
 *   4 float  8 bytes, IEEE 754 little-endian (NaN payloads, -0.0 kept)
 *   5 str    varint byte length, then the UTF-8 bytes
 *   6 list   varint count, then the elements
 *   7 tuple  varint count, then the elements
 *   8 dict   varint count, then key, value, key, value... in insertion order
 *   9 key    a dict key seen before in the frame: varint index in the
 *            frame's key table
 *
 * Records repeat their dict keys: the first CBAG__CODEC_KEYS distinct
 * string keys of at most CBAG__CODEC_KEY_LEN bytes met in a frame's dicts
 * go to its key table, in order, and every later use of one is written as
 * tag 9 (never as a string again), so a record costs a byte or two per key
 * and decoding shares the key's bytes instead of copying them.
 *
 * Every length is a prefix, so a reader never scans for a terminator. The
 * decoder trusts nothing: it checks the magic, the version, the count and
 * the body length against the bytes given, every length against the bytes
 * left, that strings are UTF-8, that a dict has no duplicate key, that
 * varints are canonical, that key references point into the table and that
 * no key is written out twice, the nesting depth, and that the frame ends
 * exactly where its body does. On bad input it fails with a message saying
 * what and where (the byte offset in the frame); it never reads out of
 * bounds. A valid frame decodes and re-encodes to the same bytes. */
#ifndef CBAG_CODEC_H
#define CBAG_CODEC_H

#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "value.h"

#define CBAG__CODEC_VERSION 1
#define CBAG__CODEC_HEADER 19 /* bytes before the first value */
/* Deepest nesting of containers (as the JSON parser's limit). */
#define CBAG__CODEC_DEPTH 10000
/* The key table of a frame: how many keys, of at most how many bytes. */
#define CBAG__CODEC_KEYS 256
#define CBAG__CODEC_KEY_LEN 64

/* The keys met so far in a frame (writer: where their bytes are in the
 * buffer; reader: the decoded strings), with a hash index. */
typedef struct cbag__codec_keys {
    uint32_t n;
    uint16_t slot[2 * CBAG__CODEC_KEYS]; /* entry + 1, 0: empty */
    uint32_t len[CBAG__CODEC_KEYS];
    uint64_t hash[CBAG__CODEC_KEYS];
    size_t at[CBAG__CODEC_KEYS];     /* writer: offset in the buffer */
    const char *p[CBAG__CODEC_KEYS]; /* reader: the string's bytes */
} cbag__codec_keys;

/* The codec's integers, for other framing (MPI records): a LEB128 varint
 * written at o (10 bytes at most; returns its length) or read at *p (end:
 * the end of the bytes; 0, or -1 if truncated or beyond 64 bits), and
 * 8-byte little-endian words. */
size_t cbag__varint_put(unsigned char *o, uint64_t x);
int cbag__varint_get(const unsigned char **p, const unsigned char *end,
                     uint64_t *x);
void cbag__le64_put(unsigned char *o, uint64_t x);
uint64_t cbag__le64_get(const unsigned char *p);

/* Writing a frame into a buffer: begin, put each value, end. */
typedef struct cbag__codec_writer {
    cbag__buf *b;
    size_t start; /* offset of the header in b */
    uint64_t count;
    cbag__codec_keys keys;
} cbag__codec_writer;

/* Appends a header to b (patched by end). -1 when memory is exhausted. */
int cbag__codec_begin(cbag__codec_writer *w, cbag__buf *b);
/* Appends v. -1 when memory is exhausted or v is nested deeper than
 * CBAG__CODEC_DEPTH (b then holds a partial value: drop the frame). */
int cbag__codec_put(cbag__codec_writer *w, const cbag_val *v);
/* Writes the count and body length into the header. */
void cbag__codec_end(cbag__codec_writer *w);
/* A frame holding the one value v, appended to b. -1 as put. */
int cbag__codec_encode(cbag__buf *b, const cbag_val *v);

/* Reading a frame: open, then next until it returns 0. */
typedef struct cbag__codec_reader {
    const unsigned char *start, *p, *end;
    uint64_t left; /* values still to read */
    cbag__codec_keys keys;
    int key_shared; /* the last dict key read is the table's string */
    char err[160];  /* what was wrong, after a -1 */
} cbag__codec_reader;

/* Checks the header of the frame held in data[0..n) (n must be exactly the
 * frame's size). 0, or -1 with the reason in r->err. data must stay valid
 * while r is used; decoded strings are copied, never point into it. The
 * values of a frame share the bytes of their dict keys: decode them all
 * into arenas that live as long as any of them is used. */
int cbag__codec_open(cbag__codec_reader *r, const void *data, size_t n);
/* Decodes the next value into *out, allocated in a: 1 a value, 0 when all
 * were read (and the body ended exactly there), -1 on bad input or
 * exhausted memory, with the reason in r->err. After -1, what was
 * allocated in a is garbage the caller frees with the arena. */
int cbag__codec_next(cbag__codec_reader *r, cbag__arena *a, cbag_val *out);
/* The count in the header of an open reader (values not yet read). */
static inline uint64_t cbag__codec_left(const cbag__codec_reader *r) {
    return r->left;
}
/* The one value of a frame of one value (open, next, and the end check).
 * 0, or -1 with the reason in err (errlen bytes, NUL-terminated). */
int cbag__codec_decode(cbag__arena *a, const void *data, size_t n,
                       cbag_val *out, char *err, size_t errlen);

#endif
