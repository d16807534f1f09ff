/* unicase.c: Python's str case conversions and character classes on
 * UTF-8 text, from tables generated out of Debian's Python itself
 * (unicase.h, tools/gen-unicase.py), so that results match that Python:
 * full mappings ('ß'.upper() == 'SS'), the final-sigma rule of lower(),
 * and title() capitalising after any uncased character as CPython does.
 * A generated table rather than libunistring: libunistring's title case
 * follows Unicode word breaks (unlike Python) and its Unicode version is
 * not Python's. */
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "unicase.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static unsigned flags(uint32_t c) {
    size_t lo = 0, hi = N(uc_runs);
    while (hi - lo > 1) { /* the last run starting at or before c */
        size_t mid = (lo + hi) / 2;
        if (uc_runs[mid].start <= c)
            lo = mid;
        else
            hi = mid;
    }
    return uc_runs[lo].flags;
}

/* One mapping (lower, upper, title, fold) of c into out; the count. */
#define MAP(name)                                                              \
    static int map_##name(uint32_t c, uint32_t *out) {                         \
        size_t lo = 0, hi = N(uc_##name##_full);                               \
        while (lo < hi) {                                                      \
            size_t mid = (lo + hi) / 2;                                        \
            if (uc_##name##_full[mid].cp < c)                                  \
                lo = mid + 1;                                                  \
            else                                                               \
                hi = mid;                                                      \
        }                                                                      \
        if (lo < N(uc_##name##_full) && uc_##name##_full[lo].cp == c) {        \
            int n = 0;                                                         \
            while (n < 3 && uc_##name##_full[lo].to[n])                        \
                out[n] = uc_##name##_full[lo].to[n], n++;                      \
            return n;                                                          \
        }                                                                      \
        lo = 0, hi = N(uc_##name);                                             \
        while (lo < hi) {                                                      \
            size_t mid = (lo + hi) / 2;                                        \
            if (uc_##name[mid].end < c)                                        \
                lo = mid + 1;                                                  \
            else                                                               \
                hi = mid;                                                      \
        }                                                                      \
        out[0] = c;                                                            \
        if (lo < N(uc_##name) && uc_##name[lo].start <= c &&                   \
            (c - uc_##name[lo].start) % uc_##name[lo].step == 0)               \
            out[0] = (uint32_t)((int32_t)c + uc_##name[lo].delta);             \
        return 1;                                                              \
    }
MAP(lower)
MAP(upper)
MAP(title)
MAP(fold)

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */

/* The code points of s (valid UTF-8, as every cbag string), malloc'd. */
static uint32_t *decode(const char *s, size_t l, size_t *n) {
    uint32_t *cp = malloc((l ? l : 1) * sizeof *cp);
    if (!cp) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < l;) {
        unsigned char c = (unsigned char)s[i];
        int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        uint32_t v = len == 1 ? c : c & (0x3F >> (len - 1));
        for (int j = 1; j < len && i + (size_t)j < l; j++)
            v = v << 6 | ((unsigned char)s[i + (size_t)j] & 0x3F);
        cp[k++] = v;
        i += (size_t)len;
    }
    *n = k;
    return cp;
}

static size_t encode1(uint32_t c, char *o) {
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | (c >> 6 & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | (c >> 12 & 0x3F));
    o[2] = (char)(0x80 | (c >> 6 & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------------ */
/* Case                                                                     */

/* lower() of the char at i, with Python's final-sigma rule for U+03A3. */
static int lower_at(const uint32_t *s, size_t n, size_t i, uint32_t *out) {
    if (s[i] != 0x3A3) return map_lower(s[i], out);
    size_t j = i;
    while (j > 0 && (flags(s[j - 1]) & UC_IGNORABLE))
        j--;
    bool final = j > 0 && (flags(s[j - 1]) & UC_CASED);
    if (final) {
        j = i + 1;
        while (j < n && (flags(s[j]) & UC_IGNORABLE))
            j++;
        final = j == n || !(flags(s[j]) & UC_CASED);
    }
    out[0] = final ? 0x3C2 : 0x3C3;
    return 1;
}

int cbag__str_case(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                   int how, cbag__lv *out) {
    size_t n;
    uint32_t *cp = decode(s, l, &n);
    char *buf = malloc(l * 3 * 4 + 1); /* at most 3 code points each */
    if (!cp || !buf) {
        free(cp);
        free(buf);
        return cbag__oom(st, at);
    }
    size_t o = 0;
    bool prev_cased = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t m[3], c = cp[i];
        int k;
        unsigned f = flags(c);
        switch (how) {
        case CASE_LOWER: k = lower_at(cp, n, i, m); break;
        case CASE_UPPER: k = map_upper(c, m); break;
        case CASE_FOLD: k = map_fold(c, m); break;
        case CASE_SWAP:
            k = (f & UC_UPPER)   ? lower_at(cp, n, i, m)
                : (f & UC_LOWER) ? map_upper(c, m)
                                 : (m[0] = c, 1);
            break;
        case CASE_CAPITALIZE:
            k = i == 0 ? map_title(c, m) : lower_at(cp, n, i, m);
            break;
        default: /* title */
            k = prev_cased ? lower_at(cp, n, i, m) : map_title(c, m);
            prev_cased = f & UC_CASED;
            break;
        }
        for (int j = 0; j < k; j++)
            o += encode1(m[j], buf + o);
    }
    const cbag_val *r = cbag_new_str(st->c, buf, o);
    free(cp);
    free(buf);
    if (!r) return cbag__oom(st, at);
    *out = cbag__val(r);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Classes                                                                  */

bool cbag__str_is(const char *s, size_t l, int what) {
    size_t n;
    uint32_t *cp = decode(s, l, &n);
    if (!cp) return false;
    bool ok = n > 0, cased = false, prev_cased = false;
    for (size_t i = 0; i < n && ok; i++) {
        unsigned f = flags(cp[i]);
        switch (what) {
        case IS_ALPHA: ok = f & UC_ALPHA; break;
        case IS_DECIMAL: ok = f & UC_DECIMAL; break;
        case IS_DIGIT: ok = f & UC_DIGIT; break;
        case IS_NUMERIC: ok = f & UC_NUMERIC; break;
        case IS_ALNUM:
            ok = f & (UC_ALPHA | UC_DECIMAL | UC_DIGIT | UC_NUMERIC);
            break;
        case IS_SPACE: ok = f & UC_SPACE; break;
        case IS_UPPER: /* no lower or title case, at least one upper */
            if (f & (UC_LOWER | UC_TITLE)) ok = false;
            if (f & UC_UPPER) cased = true;
            break;
        case IS_LOWER:
            if (f & (UC_UPPER | UC_TITLE)) ok = false;
            if (f & UC_LOWER) cased = true;
            break;
        default: /* IS_TITLE: uppercase only after uncased characters */
            if (f & (UC_UPPER | UC_TITLE)) {
                ok = !prev_cased;
                prev_cased = cased = true;
            } else if (f & UC_LOWER) {
                ok = prev_cased;
                prev_cased = cased = true;
            } else {
                prev_cased = false;
            }
            break;
        }
    }
    free(cp);
    if (what == IS_UPPER || what == IS_LOWER || what == IS_TITLE)
        ok = ok && cased;
    return ok;
}
