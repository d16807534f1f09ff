/* lines_fuzz.c: libFuzzer target for read_text's line splitter with block
 * boundaries (src/io/text.c). The input's first 4 bytes choose the
 * delimiter (None, "", "\n", "\r\n", "|"), the errors= mode, the blocksize
 * and the reader's buffer size (a few bytes, so that lines and delimiters
 * straddle refills); the rest is written to a file. Then:
 *  - the lines of all blocks (up to 32), in order, must be the lines of
 *    the whole file read as one partition: nothing lost or duplicated at a
 *    boundary;
 *  - every line's number (cbag__lines_lineno) must be its place in the file;
 *  - an error (invalid UTF-8 with errors=strict) must come at the same line
 *    with the same message both ways;
 *  - without error, the lines must be those of a simple reference splitter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/io.h"

typedef struct {
    char *p; /* the lines' bytes, one after another */
    size_t len, cap;
    size_t *end; /* end[i]: where line i ends in p */
    size_t n, capn;
    int code;       /* 0, or the reader's error */
    char err[1024]; /* its message */
} lines;

static void add(lines *l, const char *s, size_t n) {
    if (!l->p || l->len + n > l->cap) {
        l->cap = (l->len + n) * 2 + 64;
        l->p = realloc(l->p, l->cap);
    }
    if (l->n == l->capn) {
        l->capn = l->capn * 2 + 64;
        l->end = realloc(l->end, l->capn * sizeof *l->end);
    }
    if (!l->p || !l->end) abort();
    if (n) memcpy(l->p + l->len, s, n);
    l->len += n;
    l->end[l->n++] = l->len;
}

/* Appends c to the last line. */
static void extend(lines *l, char c) {
    if (l->len + 1 > l->cap) {
        l->cap = l->cap * 2 + 64;
        l->p = realloc(l->p, l->cap);
        if (!l->p) abort();
    }
    l->p[l->len++] = c;
    l->end[l->n - 1] = l->len;
}

static void clear(lines *l) {
    free(l->p);
    free(l->end);
}

static size_t start_of(const lines *l, size_t i) {
    return i ? l->end[i - 1] : 0;
}

/* Reads every partition of the plan in order into l, stopping at the first
 * error; checks each line's number on the way. */
static void read_all(const char *path, const cbag__text_opts *o, lines *l) {
    cbag__text_part *parts;
    size_t nparts;
    char err[1024];
    const char *pats[] = {path};
    if (cbag__text_plan(pats, 1, o, &parts, &nparts, err, sizeof err)) abort();
    for (size_t i = 0; i < nparts && !l->code; i++) {
        cbag__lines *r = cbag__lines_open(&parts[i], o, err, sizeof err);
        if (!r) abort();
        const char *s;
        size_t n;
        int k;
        while ((k = cbag__lines_next(r, &s, &n)) == 1) {
            add(l, s, n);
            if (cbag__lines_lineno(r) != l->n) abort();
            if (strcmp(cbag__lines_path(r), path) != 0) abort();
        }
        if (k < 0) {
            l->code = -k;
            snprintf(l->err, sizeof l->err, "%s", cbag__lines_error(r));
            /* an error repeats */
            if (cbag__lines_next(r, &s, &n) != k) abort();
        }
        cbag__lines_close(r);
    }
    cbag__text_parts_free(parts, nparts);
}

/* The reference: split data as read_text documents it. */
static void split(const char *d, size_t n, const char *delim, lines *l) {
    size_t i = 0;
    if (delim && *delim) {
        size_t dl = strlen(delim);
        while (i < n) {
            const char *p = memmem(d + i, n - i, delim, dl);
            size_t e = p ? (size_t)(p - d) + dl : n;
            add(l, d + i, e - i);
            i = e;
        }
        return;
    }
    while (i < n) { /* universal newlines */
        size_t e = i;
        while (e < n && d[e] != '\n' && d[e] != '\r')
            e++;
        if (e == n) {
            add(l, d + i, n - i);
            return;
        }
        size_t term = d[e] == '\r' && e + 1 < n && d[e + 1] == '\n' ? 2 : 1;
        if (delim) { /* "": endings kept */
            add(l, d + i, e + term - i);
        } else { /* None: every ending becomes "\n" */
            add(l, d + i, e - i);
            extend(l, '\n');
        }
        i = e + term;
    }
}

static int same(const lines *a, const lines *b, size_t n) {
    if (a->n < n || b->n < n) return 0;
    for (size_t i = 0; i < n; i++) {
        size_t la = a->end[i] - start_of(a, i), lb = b->end[i] - start_of(b, i);
        if (la != lb ||
            memcmp(a->p + start_of(a, i), b->p + start_of(b, i), la) != 0)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *delims[] = {NULL, "", "\n", "\r\n", "|"};
    if (size < 4) return -1;
    const char *delim = delims[data[0] % 5];
    int enc = (data[0] / 5) % 3;
    size_t bufsize = data[3] ? data[3] % 64 + 1 : 0; /* 0: the default */
    const char *text = (const char *)data + 4;
    size_t n = size - 4;
    /* at most 32 blocks: each one counts the lines before it, in chunks
     * of the (tiny) buffer size, for its line numbers */
    uint64_t bs = 1 + ((unsigned)data[1] | (unsigned)data[2] << 8) % 4096;
    if (bs < n / 32 + 1) bs = n / 32 + 1;

    static char path[512];
    if (!path[0]) snprintf(path, sizeof path, "%s", fuzz_path("in.txt"));
    fuzz_write(path, text, n);

    cbag__text_opts o = {0};
    o.codec = CBAG__CODEC_NONE;
    o.delim = delim;
    o.encoding_errors = enc;
    o.bufsize = bufsize;
    lines whole = {0}, blocks = {0}, ref = {0};
    read_all(path, &o, &whole);
    o.blocksize = bs;
    read_all(path, &o, &blocks);

    /* dask's str.split quirk: without blocksize a custom delimiter at the
     * very end gives one more, empty, line */
    size_t wn = whole.n;
    if (!whole.code && delim && !strcmp(delim, "|") && n &&
        text[n - 1] == '|') {
        if (wn == 0 || whole.end[wn - 1] != start_of(&whole, wn - 1)) abort();
        wn--;
    }
    if (whole.code != blocks.code) abort();
    if (whole.code && strcmp(whole.err, blocks.err) != 0) abort();
    if (wn != blocks.n || !same(&whole, &blocks, wn)) abort();
    if (!whole.code && enc == CBAG__ENC_STRICT) {
        split(text, n, delim, &ref);
        if (ref.n != wn || !same(&ref, &whole, wn)) abort();
    }
    clear(&whole);
    clear(&blocks);
    clear(&ref);
    return 0;
}
