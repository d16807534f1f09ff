/* json.c: a strict RFC 8259 parser into the value model, and a writer that
 * formats exactly as Python's json.dumps.
 *
 * The parser is iterative: open containers live on an explicit frame stack
 * and their finished children on a value stack, both starting in a buffer
 * on the C stack and moving to the heap only for big or deep documents, so
 * nesting is bounded by CBAG__JSON_MAX_DEPTH and never by the thread's
 * stack. A container is allocated once, at its exact size, when it closes.
 *
 * Choices where RFC 8259 leaves room (the JSONTestSuite i_ cases):
 *  - integers outside int64 are an error ("integer out of range"), never
 *    wrapped or rounded; numbers with a fraction or exponent are doubles,
 *    and overflow to infinity as Python's json.loads does (1e400 -> inf);
 *  - a \u escape of a lone surrogate is an error: it cannot become UTF-8;
 *  - bytes that are not UTF-8 (overlong forms, surrogates, > U+10FFFF,
 *    truncated sequences) are errors, as is a byte order mark;
 *  - duplicate keys: the last value wins at the first key's position, as a
 *    Python dict does. */
#include "json.h"
#include "bytes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "mem.h"
#include "repr.h"
#include "value.h"

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */

typedef struct frame {
    uint32_t base;  /* first value of this container on the value stack */
    uint8_t object; /* 1: object (values alternate key, value) */
} frame;

typedef struct parser {
    const unsigned char *p, *end, *start;
    cbag__arena *a;
    cbag__json_err *err;
    cbag_val *vals; /* finished values of open containers */
    uint32_t nvals, capvals;
    frame *frames;
    uint32_t nframes, capframes;
    int heap_vals, heap_frames;
    int code;
    /* Projection: the top-level keys to build (NULL: all). */
    const cbag__json_keys *keep;
    /* Object keys repeat (every transaction has "amount"): short plain keys
     * seen in this document share one copy in the arena. */
    struct {
        uint32_t len;
        const char *s;
    } keys[32];
} parser;

static int fail(parser *ps, const unsigned char *at, const char *msg) {
    if (ps->code) return ps->code;
    ps->code = CBAG_PARSE;
    if (ps->err) {
        ps->err->offset = (size_t)(at - ps->start);
        snprintf(ps->err->msg, sizeof ps->err->msg, "%s", msg);
    }
    return CBAG_PARSE;
}

static int oom(parser *ps) {
    if (!ps->code) {
        ps->code = CBAG_NOMEM;
        if (ps->err) {
            ps->err->offset = 0;
            snprintf(ps->err->msg, sizeof ps->err->msg, "out of memory");
        }
    }
    return CBAG_NOMEM;
}

/* Grows a stack that may still be in its on-stack buffer. */
static int grow(void **buf, uint32_t *cap, size_t size, int *heap) {
    uint32_t ncap = *cap * 2;
    void *p;
    if (*heap) {
        p = cbag__realloc(*buf, (size_t)ncap * size);
    } else {
        p = cbag__malloc((size_t)ncap * size);
        if (p) memcpy(p, *buf, (size_t)*cap * size);
    }
    if (!p) return -1;
    *buf = p;
    *cap = ncap;
    *heap = 1;
    return 0;
}

static inline cbag_val *push_val(parser *ps) {
    if (ps->nvals == ps->capvals && grow((void **)&ps->vals, &ps->capvals,
                                         sizeof(cbag_val), &ps->heap_vals)) {
        oom(ps);
        return NULL;
    }
    return &ps->vals[ps->nvals++];
}

/* Whitespace: space, tab, LF, CR (and nothing else). */
static inline const unsigned char *skip_ws(const unsigned char *p,
                                           const unsigned char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Bytes that end the fast scan of a string body: '"', '\\', controls and
 * everything >= 0x80 (validated separately). */
static const unsigned char str_special[256] = {
    ['"'] = 1, ['\\'] = 1, [0] = 1,  [1] = 1,  [2] = 1,
    [3] = 1,   [4] = 1,    [5] = 1,  [6] = 1,  [7] = 1,
    [8] = 1,   [9] = 1,    [10] = 1, [11] = 1, [12] = 1,
    [13] = 1,  [14] = 1,   [15] = 1, [16] = 1, [17] = 1,
    [18] = 1,  [19] = 1,   [20] = 1, [21] = 1, [22] = 1,
    [23] = 1,  [24] = 1,   [25] = 1, [26] = 1, [27] = 1,
    [28] = 1,  [29] = 1,   [30] = 1, [31] = 1, [0x80 ... 0xFF] = 2};

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static inline int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t left = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF) {
        return left >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && p[1] >= 0x90) return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

static inline int hex4(const unsigned char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static inline char *put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Checks the string whose opening quote is at q; returns its closing quote,
 * or NULL on failure. *escapes is set if it has any. The position is passed
 * and returned rather than kept in *ps so it stays in a register. */
static inline __attribute__((always_inline)) const unsigned char *
scan_string(parser *ps, const unsigned char *q, int *escapes) {
    const unsigned char *p = q + 1, *end = ps->end;
    for (;;) {
        /* The common case: plain ASCII, 8 bytes at a time. */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            /* any byte < 0x20, == '"', == '\\' or >= 0x80 */
            uint64_t hi = w & 0x8080808080808080ull;
            uint64_t lt = (w - 0x2020202020202020ull) & ~w;
            uint64_t q = w ^ 0x2222222222222222ull;
            uint64_t bs = w ^ 0x5C5C5C5C5C5C5C5Cull;
            uint64_t zq = (q - 0x0101010101010101ull) & ~q;
            uint64_t zb = (bs - 0x0101010101010101ull) & ~bs;
            if ((hi | ((lt | zq | zb) & 0x8080808080808080ull)) != 0) break;
            p += 8;
        }
        while (p < end && !str_special[*p])
            p++;
        if (p >= end) return fail(ps, p, "unterminated string"), NULL;
        unsigned c = *p;
        if (c == '"') break;
        if (c == '\\') {
            *escapes = 1;
            if (p + 1 >= end) return fail(ps, p, "unterminated string"), NULL;
            unsigned e = p[1];
            if (e == 'u') {
                unsigned cp;
                if (end - p < 6 || hex4(p + 2, &cp))
                    return fail(ps, p, "invalid \\u escape"), NULL;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
                        hex4(p + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return fail(ps, p, "unpaired surrogate in \\u escape"),
                               NULL;
                    p += 12;
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail(ps, p, "unpaired surrogate in \\u escape"),
                           NULL;
                } else {
                    p += 6;
                }
                continue;
            }
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' &&
                e != 'n' && e != 'r' && e != 't')
                return fail(ps, p, "invalid escape in string"), NULL;
            p += 2;
            continue;
        }
        if (c < 0x20) return fail(ps, p, "control character in string"), NULL;
        int n = utf8_seq(p, end);
        if (!n) return fail(ps, p, "invalid UTF-8 in string"), NULL;
        p += n;
    }
    return p;
}

/* Parses the string whose opening quote is at q into *v; returns the byte
 * after the closing quote, or NULL on failure. */
static const unsigned char *parse_string(parser *ps, const unsigned char *q,
                                         cbag_val *v) {
    const unsigned char *s = q + 1;
    int escapes = 0;
    const unsigned char *p = scan_string(ps, q, &escapes);
    if (!p) return NULL;
    size_t raw = (size_t)(p - s);
    if (raw > CBAG__MAX_LEN) return fail(ps, s, "string too long"), NULL;
    char *out = cbag__arena_alloc(ps->a, raw + 1);
    if (!out) return oom(ps), NULL;
    size_t len = raw;
    if (!escapes) {
        memcpy(out, s, raw);
    } else {
        char *o = out;
        for (const unsigned char *q = s; q < p;) {
            if (*q != '\\') {
                *o++ = (char)*q++;
                continue;
            }
            unsigned e = q[1];
            q += 2;
            switch (e) {
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                unsigned cp = 0, lo = 0xDC00;
                hex4(q, &cp);
                q += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    hex4(q + 2, &lo);
                    q += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                o = put_utf8(o, cp);
                break;
            }
            default: *o++ = (char)e; break;
            }
        }
        len = (size_t)(o - out);
    }
    out[len] = '\0';
    cbag__set_str_ref(v, out, (uint32_t)len);
    return p + 1;
}

/* An object key: short plain keys come from the cache, others are parsed
 * as strings. */
static inline __attribute__((always_inline)) const unsigned char *
parse_key(parser *ps, const unsigned char *q, cbag_val *v) {
    const unsigned char *s = q + 1, *p = s, *end = ps->end;
    const unsigned char *lim = end - s > 64 ? s + 64 : end;
    while (p < lim && !str_special[*p])
        p++;
    if (p >= lim || *p != '"') return parse_string(ps, q, v);
    uint32_t len = (uint32_t)(p - s);
    unsigned h = (len * 7u ^ (len ? s[0] * 3u + s[len - 1] : 0u)) & 31u;
    if (ps->keys[h].s && ps->keys[h].len == len &&
        cbag__mem_eq(ps->keys[h].s, s, len)) {
        cbag__set_str_ref(v, ps->keys[h].s, len);
        return p + 1;
    }
    char *out = cbag__arena_alloc(ps->a, len + 1);
    if (!out) return oom(ps), NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    ps->keys[h].s = out;
    ps->keys[h].len = len;
    cbag__set_str_ref(v, out, len);
    return p + 1;
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Parses the number at p into *v; returns the byte after it, or NULL. */
static inline __attribute__((always_inline)) const unsigned char *
parse_number(parser *ps, const unsigned char *p, cbag_val *v) {
    const unsigned char *end = ps->end, *start = p;
    int neg = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return fail(ps, start, "expected a digit in number"), NULL;
    uint64_t m = 0;
    int digits = 0;  /* significant digits accumulated in m */
    int dropped = 0; /* integer digits that did not fit in m */
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return fail(ps, start, "leading zero in number"), NULL;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                m = m * 10 + (unsigned)(*p - '0');
                if (m) digits++;
            } else {
                dropped++;
            }
            p++;
        }
    }
    int is_float = 0, frac_digits = 0;
    if (p < end && *p == '.') {
        is_float = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, "expected a digit after '.'"), NULL;
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                m = m * 10 + (unsigned)(*p - '0');
                if (m) digits++;
                frac_digits++;
            }
            p++;
        }
    }
    int exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_float = 1;
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, "expected a digit in exponent"), NULL;
        while (p < end && *p >= '0' && *p <= '9') {
            if (exp < 100000) exp = exp * 10 + (*p - '0');
            p++;
        }
        if (eneg) exp = -exp;
    }
    if (!is_float) {
        if (dropped || m > (uint64_t)INT64_MAX + neg)
            return fail(ps, start, "integer out of range (int64)"), NULL;
        cbag__set_int(v, neg ? (int64_t)(0 - m) : (int64_t)m);
        return p;
    }
    /* Clinger's fast path: both the digits and the power of ten are exact
     * doubles, so one multiplication or division rounds correctly. */
    int e10 = exp - frac_digits + dropped;
    if (!dropped && m <= (1ull << 53) && e10 >= -22 && e10 <= 22 &&
        digits <= 19) {
        double d = (double)m;
        d = e10 < 0 ? d / pow10_exact[-e10] : d * pow10_exact[e10];
        cbag__set_float(v, neg ? -d : d);
        return p;
    }
    /* Everything else goes through strtod, which rounds correctly. */
    size_t n = (size_t)(p - start);
    char local[64], *buf = n < sizeof local ? local : cbag__malloc(n + 1);
    if (!buf) return oom(ps), NULL;
    memcpy(buf, start, n);
    buf[n] = '\0';
    double d = strtod(buf, NULL);
    if (buf != local) cbag__free(buf);
    cbag__set_float(v, d);
    return p;
}

/* A number in a dropped value: checked as parse_number checks it (the same
 * errors at the same places), not converted. */
static inline const unsigned char *skip_number(parser *ps,
                                               const unsigned char *p) {
    const unsigned char *end = ps->end, *start = p;
    int neg = *p == '-';
    p += neg;
    if (p >= end || *p < '0' || *p > '9')
        return fail(ps, start, "expected a digit in number"), NULL;
    const unsigned char *digits = p;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return fail(ps, start, "leading zero in number"), NULL;
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    size_t n = (size_t)(p - digits);
    int is_float = 0;
    if (p < end && *p == '.') {
        is_float = 1;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, "expected a digit after '.'"), NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_float = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, "expected a digit in exponent"), NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    /* 19 digits may exceed int64; the first digit is not 0 there */
    if (!is_float && (n > 19 || (n == 19 && memcmp(digits,
                                                   neg ? "9223372036854775808"
                                                       : "9223372036854775807",
                                                   19) > 0)))
        return fail(ps, start, "integer out of range (int64)"), NULL;
    return p;
}

static const unsigned char *parse_literal(parser *ps, const unsigned char *p,
                                          cbag_val *v) {
    size_t left = (size_t)(ps->end - p);
    if (left >= 4 && memcmp(p, "true", 4) == 0) {
        cbag__set_bool(v, 1);
        return p + 4;
    }
    if (left >= 5 && memcmp(p, "false", 5) == 0) {
        cbag__set_bool(v, 0);
        return p + 5;
    }
    if (left >= 4 && memcmp(p, "null", 4) == 0) {
        cbag__set_null(v);
        return p + 4;
    }
    return fail(ps, p, "expected a JSON value"), NULL;
}

/* Builds the container of the top frame from its values. */
static int close_container(parser *ps, cbag_val *out) {
    frame *f = &ps->frames[ps->nframes - 1];
    uint32_t n = ps->nvals - f->base;
    cbag_val *items = ps->vals + f->base;
    if (!f->object) {
        if (cbag__seq_init(ps->a, out, CBAG_LIST, n)) return oom(ps);
        if (n) memcpy(out->u.seq->items, items, n * sizeof *items);
        out->u.seq->len = n;
    } else {
        uint32_t pairs = n / 2;
        if (cbag__dict_init(ps->a, out, pairs)) return oom(ps);
        cbag__dict *d = out->u.dict;
        if (pairs <= CBAG__DICT_LINEAR) {
            /* Few keys: place them directly, folding duplicates. */
            for (uint32_t i = 0; i < pairs; i++) {
                const cbag_val *k = &items[2 * i];
                uint32_t j = 0;
                while (j < d->len &&
                       !(d->entries[j].key.len == k->len &&
                         cbag__mem_eq(d->entries[j].key.u.s, k->u.s, k->len)))
                    j++;
                d->entries[j].val = items[2 * i + 1];
                if (j == d->len) {
                    d->entries[j].key = *k;
                    d->len++;
                }
            }
        } else {
            for (uint32_t i = 0; i < pairs; i++)
                if (cbag__dict_put(ps->a, out, &items[2 * i],
                                   &items[2 * i + 1]))
                    return oom(ps);
        }
    }
    ps->nvals = f->base;
    ps->nframes--;
    return 0;
}

static int open_container(parser *ps, const unsigned char *p, int object) {
    if (ps->nframes >= CBAG__JSON_MAX_DEPTH)
        return fail(ps, p, "nesting too deep (more than 10000 levels)");
    if (ps->nframes == ps->capframes &&
        grow((void **)&ps->frames, &ps->capframes, sizeof(frame),
             &ps->heap_frames))
        return oom(ps);
    ps->frames[ps->nframes].base = ps->nvals;
    ps->frames[ps->nframes].object = (uint8_t)object;
    ps->nframes++;
    return 0;
}

/* Whether the top-level key k is one to build. */
static int kept(const parser *ps, const cbag_val *k) {
    for (size_t i = 0; i < ps->keep->n; i++)
        if (ps->keep->k[i].len == k->len &&
            cbag__mem_eq(ps->keep->k[i].s, k->u.s, k->len))
            return 1;
    return 0;
}

/* The grammar as a loop over states: a value is expected, or a value was
 * just finished inside the top container. It parses one value, from p,
 * at depth base (the open containers around it). With skip (a constant,
 * so each use gets its own code) the value is checked by the same grammar
 * and nothing is built (projection: the values of keys not kept). */
static inline __attribute__((always_inline)) const unsigned char *
parse_impl(parser *ps, const unsigned char *p, cbag_val *out, uint32_t base,
           const int skip) {
    const unsigned char *end = ps->end;
    cbag_val done; /* the value just finished */
    for (;;) {
        /* --- expecting a value --- */
        p = skip_ws(p, end);
        if (p >= end) return fail(ps, p, "unexpected end of input"), NULL;
        switch (*p) {
        case '{':
            if (open_container(ps, p, 1)) return NULL;
            p = skip_ws(p + 1, end);
            if (p < end && *p == '}') {
                p++;
                if (skip)
                    ps->nframes--;
                else if (close_container(ps, &done))
                    return NULL;
                break;
            }
            if (p >= end || *p != '"')
                return fail(ps, p, "expected a string key or '}'"), NULL;
            goto key;
        case '[':
            if (open_container(ps, p, 0)) return NULL;
            p = skip_ws(p + 1, end);
            if (p < end && *p == ']') {
                p++;
                if (skip)
                    ps->nframes--;
                else if (close_container(ps, &done))
                    return NULL;
                break;
            }
            continue; /* the first element */
        case '"':
            if (skip) {
                int esc;
                if (!(p = scan_string(ps, p, &esc))) return NULL;
                p++;
            } else if (!(p = parse_string(ps, p, &done))) {
                return NULL;
            }
            break;
        case '-':
        case '0' ... '9':
            if (!(p = skip ? skip_number(ps, p) : parse_number(ps, p, &done)))
                return NULL;
            break;
        default:
            if (!(p = parse_literal(ps, p, &done))) return NULL;
            break;
        }
        /* --- a value is done: store it in its container, or finish --- */
        for (;;) {
            if (ps->nframes == base) {
                if (!skip) *out = done;
                return p;
            }
            if (!skip) {
                cbag_val *slot = push_val(ps);
                if (!slot) return NULL;
                *slot = done;
            }
            p = skip_ws(p, end);
            if (p >= end) return fail(ps, p, "unexpected end of input"), NULL;
            frame *f = &ps->frames[ps->nframes - 1];
            unsigned c = *p;
            if (c == ',') {
                p++;
                if (!f->object) goto value;
                p = skip_ws(p, end);
                if (p >= end || *p != '"')
                    return fail(ps, p, "expected a string key after ','"), NULL;
                goto key;
            }
            if (c == (f->object ? '}' : ']')) {
                p++;
                if (skip)
                    ps->nframes--;
                else if (close_container(ps, &done))
                    return NULL;
                continue;
            }
            return fail(ps, p,
                        f->object ? "expected ',' or '}' after object member"
                                  : "expected ',' or ']' after array element"),
                   NULL;
        }
    key : {
        if (skip) {
            int esc;
            if (!(p = scan_string(ps, p, &esc))) return NULL;
            p++;
        } else {
            cbag_val *k = push_val(ps);
            if (!k || !(p = parse_key(ps, p, k))) return NULL;
        }
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return fail(ps, p, "expected ':' after object key"), NULL;
        p++;
    }
    value:;
    }
}

static const unsigned char *parse_all(parser *ps, const unsigned char *p,
                                      cbag_val *out, uint32_t base) {
    return parse_impl(ps, p, out, base, 0);
}

static const unsigned char *parse_skip(parser *ps, const unsigned char *p,
                                       uint32_t base) {
    return parse_impl(ps, p, NULL, base, 1);
}

/* Projection: a top-level object keeps the values of its kept keys (parsed
 * whole) and checks the others without building them; the same grammar and
 * messages as parse_impl's for the object itself. Anything else is parsed
 * whole. */
static const unsigned char *parse_keep(parser *ps, const unsigned char *p,
                                       cbag_val *out) {
    const unsigned char *end = ps->end;
    p = skip_ws(p, end);
    if (p >= end || *p != '{') return parse_all(ps, p, out, 0);
    if (open_container(ps, p, 1)) return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
        return close_container(ps, out) ? NULL : p;
    }
    if (p >= end || *p != '"')
        return fail(ps, p, "expected a string key or '}'"), NULL;
    for (;;) {
        cbag_val k, v;
        if (!(p = parse_key(ps, p, &k))) return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return fail(ps, p, "expected ':' after object key"), NULL;
        p++;
        if (kept(ps, &k)) {
            cbag_val *slot = push_val(ps); /* the key, then its value */
            if (!slot) return NULL;
            *slot = k;
            if (!(p = parse_all(ps, p, &v, 1)) || !(slot = push_val(ps)))
                return NULL;
            *slot = v;
        } else if (!(p = parse_skip(ps, p, 1))) {
            return NULL;
        }
        p = skip_ws(p, end);
        if (p >= end) return fail(ps, p, "unexpected end of input"), NULL;
        if (*p == '}') {
            p++;
            return close_container(ps, out) ? NULL : p;
        }
        if (*p != ',')
            return fail(ps, p, "expected ',' or '}' after object member"), NULL;
        p = skip_ws(p + 1, end);
        if (p >= end || *p != '"')
            return fail(ps, p, "expected a string key after ','"), NULL;
    }
}

int cbag__json_parse(cbag__arena *a, const char *s, size_t len, cbag_val *out,
                     cbag__json_err *err) {
    return cbag__json_parse_keep(a, s, len, out, err, NULL);
}

int cbag__json_parse_keep(cbag__arena *a, const char *s, size_t len,
                          cbag_val *out, cbag__json_err *err,
                          const cbag__json_keys *keep) {
    cbag_val vals[256];
    frame frames[64];
    parser ps = {0};
    ps.start = ps.p = (const unsigned char *)s;
    ps.end = ps.p + len;
    ps.a = a;
    ps.err = err;
    ps.vals = vals;
    ps.capvals = 256;
    ps.frames = frames;
    ps.capframes = 64;
    if (ps.end - ps.p >= 3 && memcmp(ps.p, "\xEF\xBB\xBF", 3) == 0) {
        fail(&ps, ps.p, "unexpected byte order mark");
    } else {
        ps.keep = keep;
        const unsigned char *p =
            keep ? parse_keep(&ps, ps.p, out) : parse_all(&ps, ps.p, out, 0);
        if (p) {
            p = skip_ws(p, ps.end);
            if (p != ps.end) fail(&ps, p, "trailing data after JSON value");
        }
    }
    if (ps.heap_vals) cbag__free(ps.vals);
    if (ps.heap_frames) cbag__free(ps.frames);
    return ps.code;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */

static const char hexd[] = "0123456789abcdef";

static void put_u(cbag__buf *b, unsigned cp) {
    char e[6] = {'\\',
                 'u',
                 hexd[cp >> 12 & 15],
                 hexd[cp >> 8 & 15],
                 hexd[cp >> 4 & 15],
                 hexd[cp & 15]};
    cbag__buf_put(b, e, 6);
}

/* A JSON string, escaped as Python's json.dumps does. */
static void write_str(cbag__buf *b, const char *s, size_t n, int ascii) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    cbag__buf_putc(b, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x7F)
            p++;
        if (!ascii)
            while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
                p++;
        cbag__buf_put(b, run, (size_t)(p - run));
        if (p >= end) break;
        unsigned c = *p;
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        }
        if (esc) {
            cbag__buf_puts(b, esc);
            p++;
        } else if (c < 0x80) { /* other controls, and DEL when ASCII */
            put_u(b, c);
            p++;
        } else {
            int k = utf8_seq(p, end);
            if (!k) { /* not UTF-8: cannot come from JSON; replace */
                put_u(b, 0xFFFD);
                p++;
                continue;
            }
            unsigned cp =
                k == 2   ? (c & 0x1F) << 6 | (p[1] & 0x3F)
                : k == 3 ? (c & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F)
                         : (c & 0x07) << 18 | (p[1] & 0x3F) << 12 |
                               (p[2] & 0x3F) << 6 | (p[3] & 0x3F);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                put_u(b, 0xD800 + (cp >> 10));
                put_u(b, 0xDC00 + (cp & 0x3FF));
            } else {
                put_u(b, cp);
            }
            p += k;
        }
    }
    cbag__buf_putc(b, '"');
}

static void write_double(cbag__buf *b, double d) {
    if (isnan(d)) {
        cbag__buf_puts(b, "NaN");
    } else if (isinf(d)) {
        cbag__buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
    } else {
        char tmp[32];
        int n = cbag__fmt_double(tmp, d);
        cbag__buf_put(b, tmp, (size_t)n);
    }
}

static int write_val(cbag__buf *b, const cbag_val *v, int fmt, int depth) {
    int ascii = !(fmt & CBAG_FMT_UTF8);
    int compact = fmt & CBAG_FMT_JSON_COMPACT;
    if (depth > CBAG__JSON_MAX_DEPTH) return CBAG_INVALID;
    switch (v->type) {
    case CBAG_NULL: cbag__buf_puts(b, "null"); break;
    case CBAG_BOOL: cbag__buf_puts(b, v->u.i ? "true" : "false"); break;
    case CBAG_INT: cbag__buf_printf(b, "%lld", (long long)v->u.i); break;
    case CBAG_FLOAT: write_double(b, v->u.f); break;
    case CBAG_STR: write_str(b, v->u.s, v->len, ascii); break;
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = v->u.seq;
        cbag__buf_putc(b, '[');
        for (uint32_t i = 0; i < s->len; i++) {
            if (i) cbag__buf_puts(b, compact ? "," : ", ");
            int rc = write_val(b, &s->items[i], fmt, depth + 1);
            if (rc) return rc;
        }
        cbag__buf_putc(b, ']');
        break;
    }
    case CBAG_DICT: {
        const cbag__dict *d = v->u.dict;
        if (d->kind == CBAG__DICT_SET) /* Python: not JSON serializable */
            return CBAG_TYPE;
        cbag__buf_putc(b, '{');
        for (uint32_t i = 0; i < d->len; i++) {
            const cbag_val *k = &d->entries[i].key;
            if (i) cbag__buf_puts(b, compact ? "," : ", ");
            /* Python turns these keys into strings; others are errors. */
            switch (k->type) {
            case CBAG_STR: write_str(b, k->u.s, k->len, ascii); break;
            case CBAG_INT:
                cbag__buf_printf(b, "\"%lld\"", (long long)k->u.i);
                break;
            case CBAG_BOOL:
                cbag__buf_puts(b, k->u.i ? "\"true\"" : "\"false\"");
                break;
            case CBAG_NULL: cbag__buf_puts(b, "\"null\""); break;
            case CBAG_FLOAT:
                cbag__buf_putc(b, '"');
                write_double(b, k->u.f);
                cbag__buf_putc(b, '"');
                break;
            default: return CBAG_TYPE;
            }
            cbag__buf_puts(b, compact ? ":" : ": ");
            int rc = write_val(b, &d->entries[i].val, fmt, depth + 1);
            if (rc) return rc;
        }
        cbag__buf_putc(b, '}');
        break;
    }
    }
    return b->oom ? CBAG_NOMEM : CBAG_OK;
}

int cbag__json_write(cbag__buf *b, const cbag_val *v, int fmt) {
    if (!v) v = &cbag__none;
    int rc = write_val(b, v, fmt, 0);
    return rc ? rc : b->oom ? CBAG_NOMEM : CBAG_OK;
}

/* ------------------------------------------------------------------------ */
/* Public functions                                                         */

const cbag_val *cbag_json_parse(cbag_call *c, const char *s, size_t len) {
    return cbag__json_parse_call(c, s, len, NULL);
}

const cbag_val *cbag__json_parse_call(cbag_call *c, const char *s, size_t len,
                                      const cbag__json_keys *keep) {
    cbag_val *v = cbag__arena_alloc(c->arena, sizeof *v);
    if (!v) return cbag__call_oom(c);
    cbag__json_err err;
    int rc = cbag__json_parse_keep(c->arena, s, len, v, &err, keep);
    if (rc == CBAG_NOMEM) return cbag__call_oom(c);
    if (rc) {
        cbag__call_fail(c, CBAG_PARSE, "JSONDecodeError: %s at byte %zu",
                        err.msg, err.offset);
        return NULL;
    }
    return v;
}

const cbag_val *cbag_json_loads(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (!x || x->type != CBAG_STR) {
        cbag__call_fail(c, CBAG_TYPE,
                        "TypeError: the JSON object must be str, not %s",
                        cbag_type_name(cbag_typeof(x)));
        return NULL;
    }
    return cbag_json_parse(c, x->u.s, x->len);
}

const cbag_val *cbag_json_dumps(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    cbag__buf b = CBAG__BUF_INIT;
    int rc = cbag__json_write(&b, x, CBAG_FMT_JSON);
    cbag_val *v = NULL;
    if (rc == CBAG_TYPE) {
        cbag__call_fail(c, CBAG_TYPE,
                        "TypeError: keys must be str, int, float, bool or "
                        "None");
    } else if (rc == CBAG_INVALID) {
        cbag__call_fail(c, CBAG_INVALID, "ValueError: value nested too deep");
    } else if (rc || !(v = cbag__arena_alloc(c->arena, sizeof *v)) ||
               cbag__str_init(c->arena, v, b.p ? b.p : "", b.len)) {
        v = NULL;
        cbag__call_oom(c);
    }
    cbag__buf_free(&b);
    return v;
}
