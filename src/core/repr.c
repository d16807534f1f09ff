/* repr.c: Python 3's repr() of values and floats, and the public printers
 * (see repr.h). The output matches what Python prints so that results can
 * be compared with dask's as text. */
#include "repr.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "value.h"

/* Values nested deeper than this are refused rather than risking the
 * stack (only a container made to hold itself gets near it). */
#define REPR_MAX_DEPTH 20000

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

/* Writes the decimal digits of an int64 (with '-'); returns the length. */
static int fmt_int(char *out, int64_t i) {
    char tmp[24];
    int n = 0;
    /* Negating INT64_MIN overflows: work in unsigned. */
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int len = 0;
    if (i < 0) out[len++] = '-';
    while (n)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

/* Picks the significant digits out of "%e" output (whatever the decimal
 * separator) with the exponent; trailing zeros are dropped. */
static int split_e(const char *s, char *digits, int *exp10) {
    int n = 0;
    const char *p = s;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    return n;
}

/* Next to a power of two the doubles below are twice as dense as above,
 * so the nearest 16-digit decimal may miss while the one past it, one unit
 * up or down, reads back. Tries both; stores the one that does. */
static int near16(double d, const char *s, char *digits, int *exp10) {
    char dig[20], t[40];
    int e, n = 0;
    for (const char *p = s; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') dig[n++] = *p;
    e = atoi(strchr(s, 'e') + 1);
    char sep = s[1]; /* the locale's decimal separator */
    for (int step = -1; step <= 1; step += 2) {
        char c[20];
        int ce = e;
        memcpy(c, dig, (size_t)n);
        int i = n - 1;
        if (step > 0) {
            while (i >= 0 && c[i] == '9')
                c[i--] = '0';
            if (i < 0) { /* 9.99..9 + 1 = 1.00..0 times ten */
                c[0] = '1';
                ce++;
            } else {
                c[i]++;
            }
        } else {
            while (i >= 0 && c[i] == '0')
                c[i--] = '9';
            if (i < 0) continue; /* not reached: the first digit is 1-9 */
            c[i]--;
            if (c[0] == '0') { /* 1.00..0 - 1 = 9.99..9 over ten */
                memmove(c, c + 1, (size_t)n - 1);
                c[n - 1] = '9';
                ce--;
            }
        }
        snprintf(t, sizeof t, "%c%c%.*se%d", c[0], sep, n - 1, c + 1, ce);
        if (strtod(t, NULL) == d) return split_e(t, digits, exp10);
    }
    return 0;
}

/* The shortest significant digits of d > 0 that read back as d (as
 * Python's repr finds them): stores them and the decimal exponent of the
 * first. snprintf and strtod share the locale, so a decimal comma reads
 * back as well. */
static int shortest_digits(double d, char *digits, int *exp10) {
    char s[40];
    /* Normal doubles carry at least 15 significant digits (DBL_DIG): when
     * some k <= 15 digits round-trip, the 15-digit rounding is those k
     * digits padded with zeros. Subnormals have less precision. */
    int prec = d >= DBL_MIN ? 15 : 1;
    for (; prec < 17; prec++) {
        snprintf(s, sizeof s, "%.*e", prec - 1, d);
        if (strtod(s, NULL) == d) return split_e(s, digits, exp10);
        if (prec == 16) {
            int n = near16(d, s, digits, exp10);
            if (n) return n;
        }
    }
    /* 17 digits always read back. */
    snprintf(s, sizeof s, "%.16e", d);
    return split_e(s, digits, exp10);
}

/* A fast path for the usual data (prices, measures): d in Python's fixed
 * layout and equal to m / 10**k for some m below 10**15. Such decimals of
 * at most 15 digits name distinct doubles (DBL_DIG), so the smallest k for
 * which m / 10**k reads back as d gives Python's digits. The division is
 * correctly rounded, as strtod is, since m and 10**k are exact. Returns
 * the length written, or 0 to take the general path. */
static int fmt_few_decimals(char *out, double d) {
    static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    double ad = fabs(d);
    if (!(ad >= 1e-4 && ad < 1e15)) return 0;
    for (int k = 1; k < 16; k++) {
        double x = ad * p10[k];
        if (x >= 1e15) return 0;
        int64_t m = (int64_t)(x + 0.5);
        if ((double)m / p10[k] != ad) continue;
        char dig[24];
        int nd = fmt_int(dig, m), len = 0;
        if (d < 0) out[len++] = '-';
        if (nd <= k) {
            out[len++] = '0';
            out[len++] = '.';
            for (int i = nd; i < k; i++)
                out[len++] = '0';
            memcpy(out + len, dig, (size_t)nd);
            len += nd;
        } else {
            memcpy(out + len, dig, (size_t)(nd - k));
            len += nd - k;
            out[len++] = '.';
            memcpy(out + len, dig + nd - k, (size_t)k);
            len += k;
        }
        out[len] = '\0';
        return len;
    }
    return 0;
}

int cbag__fmt_double(char *out, double d) {
    if (isnan(d)) return (int)(memcpy(out, "nan", 4), 3);
    if (isinf(d)) {
        if (d > 0) return (int)(memcpy(out, "inf", 4), 3);
        return (int)(memcpy(out, "-inf", 5), 4);
    }
    /* Integral values below 1e16 print as themselves with ".0": every
     * integer there is a double, so no shorter digits name this one. */
    if (fabs(d) < 1e16 && d == (double)(int64_t)d) {
        int n;
        if (d == 0 && signbit(d)) {
            out[0] = '-';
            out[1] = '0';
            n = 2;
        } else {
            n = fmt_int(out, (int64_t)d);
        }
        memcpy(out + n, ".0", 3);
        return n + 2;
    }
    int len = fmt_few_decimals(out, d);
    if (len) return len;
    char dig[20];
    int e;
    int nd = shortest_digits(fabs(d), dig, &e);
    if (d < 0) out[len++] = '-';
    if (e < -4 || e >= 16) {
        /* Python's layout: 1e+16, 1.5e-05, 5e-324. */
        out[len++] = dig[0];
        if (nd > 1) {
            out[len++] = '.';
            memcpy(out + len, dig + 1, (size_t)nd - 1);
            len += nd - 1;
        }
        out[len++] = 'e';
        out[len++] = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae >= 100) out[len++] = (char)('0' + ae / 100);
        out[len++] = (char)('0' + ae / 10 % 10);
        out[len++] = (char)('0' + ae % 10);
    } else if (e >= 0) {
        /* Integer part: the first e+1 digits, padded with zeros. */
        for (int i = 0; i <= e; i++)
            out[len++] = i < nd ? dig[i] : '0';
        out[len++] = '.';
        if (nd > e + 1) {
            memcpy(out + len, dig + e + 1, (size_t)(nd - e - 1));
            len += nd - e - 1;
        } else {
            out[len++] = '0';
        }
    } else {
        out[len++] = '0';
        out[len++] = '.';
        for (int i = 0; i < -e - 1; i++)
            out[len++] = '0';
        memcpy(out + len, dig, (size_t)nd);
        len += nd;
    }
    out[len] = '\0';
    return len;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */

/* Code points >= 0x80 that Python's str.isprintable() rejects, generated
 * from Debian's Python (the differential tests' oracle). */
#include "nonprint.h"

static int printable(uint32_t cp) {
    if (cp < 0x7f) return cp >= 0x20;
    size_t lo = 0, hi = sizeof nonprint / sizeof nonprint[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < nonprint[mid][0])
            hi = mid;
        else if (cp > nonprint[mid][1])
            lo = mid + 1;
        else
            return 0;
    }
    return 1;
}

/* Decodes one strict UTF-8 sequence at s[0..n): its length, or 0 when the
 * bytes are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF). */
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static const char hexd[] = "0123456789abcdef";

static int put_hex_escape(cbag__buf *b, char kind, uint32_t cp, int ndig) {
    char e[10];
    e[0] = '\\';
    e[1] = kind;
    for (int i = 0; i < ndig; i++)
        e[2 + i] = hexd[(cp >> (4 * (ndig - 1 - i))) & 0xf];
    return cbag__buf_put(b, e, (size_t)ndig + 2);
}

/* Python's unicode_repr: single quotes unless the string has a ' and no ",
 * backslash escapes for the quote, \\, \t, \n, \r, and \x, \u, \U for
 * what is not printable. Bytes that are not UTF-8 (never checked on input)
 * come out as \xNN, as no Python string could hold them. */
static int repr_str(cbag__buf *b, const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    int sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
    char q = sq && !dq ? '"' : '\'';
    if (cbag__buf_reserve(b, n + 2)) return CBAG_NOMEM;
    cbag__buf_putc(b, q);
    size_t i = 0, run = 0; /* run: start of bytes copied as they are */
    while (i < n) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != (unsigned)q) {
            i++;
            continue;
        }
        uint32_t cp = c;
        int len = c < 0x80 ? 1 : utf8_decode(s + i, n - i, &cp);
        if (len > 1 && printable(cp)) {
            i += (size_t)len;
            continue;
        }
        if (cbag__buf_put(b, s + run, i - run)) return CBAG_NOMEM;
        int rc;
        if (len == 0) {
            rc = put_hex_escape(b, 'x', c, 2);
            len = 1;
        } else if (c == '\\' || c == (unsigned)q) {
            char e[2] = {'\\', (char)c};
            rc = cbag__buf_put(b, e, 2);
        } else if (c == '\n') {
            rc = cbag__buf_put(b, "\\n", 2);
        } else if (c == '\r') {
            rc = cbag__buf_put(b, "\\r", 2);
        } else if (c == '\t') {
            rc = cbag__buf_put(b, "\\t", 2);
        } else if (cp < 0x100) {
            rc = put_hex_escape(b, 'x', cp, 2);
        } else if (cp < 0x10000) {
            rc = put_hex_escape(b, 'u', cp, 4);
        } else {
            rc = put_hex_escape(b, 'U', cp, 8);
        }
        if (rc) return CBAG_NOMEM;
        i += (size_t)len;
        run = i;
    }
    if (cbag__buf_put(b, s + run, i - run) || cbag__buf_putc(b, q))
        return CBAG_NOMEM;
    return CBAG_OK;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

static int repr_tagged(cbag__buf *b, const cbag_val *v, int depth);

static int repr_val(cbag__buf *b, const cbag_val *v, int depth) {
    if (!v) v = &cbag__none;
    if (depth > REPR_MAX_DEPTH) return CBAG_INVALID;
    char num[32];
    int n;
    switch (v->type) {
    case CBAG_NULL: return cbag__buf_put(b, "None", 4) ? CBAG_NOMEM : CBAG_OK;
    case CBAG_BOOL:
        n = v->u.i ? cbag__buf_put(b, "True", 4) : cbag__buf_put(b, "False", 5);
        return n ? CBAG_NOMEM : CBAG_OK;
    case CBAG_INT:
        n = fmt_int(num, v->u.i);
        return cbag__buf_put(b, num, (size_t)n) ? CBAG_NOMEM : CBAG_OK;
    case CBAG_FLOAT:
        n = cbag__fmt_double(num, v->u.f);
        return cbag__buf_put(b, num, (size_t)n) ? CBAG_NOMEM : CBAG_OK;
    case CBAG_STR: return repr_str(b, v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = v->u.seq;
        int list = v->type == CBAG_LIST;
        if (cbag__buf_putc(b, list ? '[' : '(')) return CBAG_NOMEM;
        for (uint32_t i = 0; i < s->len; i++) {
            if (i && cbag__buf_put(b, ", ", 2)) return CBAG_NOMEM;
            int rc = repr_val(b, &s->items[i], depth + 1);
            if (rc) return rc;
        }
        /* A tuple of one is written (x,). */
        if (!list && s->len == 1 && cbag__buf_putc(b, ',')) return CBAG_NOMEM;
        return cbag__buf_putc(b, list ? ']' : ')') ? CBAG_NOMEM : CBAG_OK;
    }
    case CBAG_DICT: {
        const cbag__dict *d = v->u.dict;
        if (d->kind == CBAG__DICT_COUNTER || d->kind == CBAG__DICT_DEFAULT)
            return repr_tagged(b, v, depth);
        if (d->kind == CBAG__DICT_SET) { /* {1, 2}, or set() when empty */
            if (d->len == 0) return cbag__buf_puts(b, "set()") ? CBAG_NOMEM : 0;
            /* ints in the order CPython's table holds them */
            uint32_t *order = cbag__malloc(d->len * sizeof *order);
            bool py = order && cbag__set_order(v, order);
            int rc = cbag__buf_putc(b, '{') ? CBAG_NOMEM : 0;
            for (uint32_t i = 0; i < d->len && !rc; i++) {
                if (i && cbag__buf_put(b, ", ", 2)) rc = CBAG_NOMEM;
                if (!rc)
                    rc = repr_val(b, &d->entries[py ? order[i] : i].key,
                                  depth + 1);
            }
            cbag__free(order);
            if (!rc && cbag__buf_putc(b, '}')) rc = CBAG_NOMEM;
            return rc;
        }
        if (cbag__buf_putc(b, '{')) return CBAG_NOMEM;
        for (uint32_t i = 0; i < d->len; i++) {
            if (i && cbag__buf_put(b, ", ", 2)) return CBAG_NOMEM;
            int rc = repr_val(b, &d->entries[i].key, depth + 1);
            if (!rc && cbag__buf_put(b, ": ", 2)) rc = CBAG_NOMEM;
            if (!rc) rc = repr_val(b, &d->entries[i].val, depth + 1);
            if (rc) return rc;
        }
        return cbag__buf_putc(b, '}') ? CBAG_NOMEM : CBAG_OK;
    }
    default: return CBAG_INVALID;
    }
}

/* Counter({'a': 2, 'b': 1}) (most common first, ties in insertion order;
 * Counter() when empty) and defaultdict(<class 'list'>, {...}). */
static int repr_tagged(cbag__buf *b, const cbag_val *v, int depth) {
    const cbag__dict *d = v->u.dict;
    bool counter = d->kind == CBAG__DICT_COUNTER;
    if (cbag__buf_puts(b, d->tag ? d->tag : "dict(")) return CBAG_NOMEM;
    if (counter && d->len == 0) return cbag__buf_putc(b, ')') ? CBAG_NOMEM : 0;
    uint32_t *order = cbag__malloc((d->len ? d->len : 1) * sizeof *order);
    if (!order) return CBAG_NOMEM;
    for (uint32_t i = 0; i < d->len; i++) { /* stable insertion sort */
        uint32_t j = i;
        while (counter && j > 0 &&
               cbag_cmp(&d->entries[order[j - 1]].val, &d->entries[i].val) <
                   0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    int rc = cbag__buf_putc(b, '{') ? CBAG_NOMEM : 0;
    for (uint32_t k = 0; k < d->len && !rc; k++) {
        const cbag__entry *e = &d->entries[order[k]];
        if (k && cbag__buf_put(b, ", ", 2)) rc = CBAG_NOMEM;
        if (!rc) rc = repr_val(b, &e->key, depth + 1);
        if (!rc && cbag__buf_put(b, ": ", 2)) rc = CBAG_NOMEM;
        if (!rc) rc = repr_val(b, &e->val, depth + 1);
    }
    cbag__free(order);
    if (!rc && cbag__buf_put(b, "})", 2)) rc = CBAG_NOMEM;
    return rc;
}

int cbag__repr(cbag__buf *b, const cbag_val *v) { return repr_val(b, v, 0); }

/* ------------------------------------------------------------------------ */
/* Public printers                                                          */

static int format_into(cbag__buf *b, const cbag_val *v, int fmt) {
    switch (fmt & ~CBAG_FMT_UTF8) {
    case CBAG_FMT_REPR: return cbag__repr(b, v);
    case CBAG_FMT_JSON:
    case CBAG_FMT_JSON_COMPACT:
        return cbag__json_write(b, v ? v : &cbag__none, fmt);
    default: return CBAG_INVALID;
    }
}

int cbag_fprint(FILE *f, const cbag_val *v, int fmt) {
    if (!f) return CBAG_INVALID;
    cbag__buf b = CBAG__BUF_INIT;
    int rc = format_into(&b, v, fmt);
    if (!rc && b.oom) rc = CBAG_NOMEM;
    if (!rc && b.len && fwrite(b.p, 1, b.len, f) != b.len) rc = CBAG_IO;
    cbag__buf_free(&b);
    return rc;
}

char *cbag_format(const cbag_val *v, int fmt, size_t *len) {
    cbag__buf b = CBAG__BUF_INIT;
    if (format_into(&b, v, fmt) || b.oom) {
        cbag__buf_free(&b);
        return NULL;
    }
    return cbag__buf_detach(&b, len);
}
