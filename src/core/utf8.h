/* utf8.h: UTF-8 validation (RFC 3629), shared by the text reader and the
 * value codec. */
#ifndef CBAG_UTF8_H
#define CBAG_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The RFC 3629 table for a lead byte c >= 0x80: the sequence length (0 if
 * c cannot start one) and the range of the byte after it (narrower than
 * 0x80..0xBF where overlong forms, surrogates or > U+10FFFF would follow). */
static inline size_t cbag__utf8_lead(unsigned c, unsigned *lo, unsigned *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) {
        if (c == 0xE0) *lo = 0xA0;
        if (c == 0xED) *hi = 0x9F;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (c == 0xF0) *lo = 0x90;
        if (c == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Length of the valid UTF-8 prefix of s[0..n): n when all of it is valid.
 * ASCII, the common case, is checked 16 bytes at a time. */
static inline size_t cbag__utf8_valid_prefix(const unsigned char *s, size_t n) {
    size_t i = 0;
    for (;;) {
        while (i + 16 <= n) {
            uint64_t a, b;
            memcpy(&a, s + i, 8);
            memcpy(&b, s + i + 8, 8);
            if ((a | b) & 0x8080808080808080ull) break;
            i += 16;
        }
        while (i < n && s[i] < 0x80)
            i++;
        if (i >= n) return n;
        /* one multi-byte sequence */
        unsigned lo, hi;
        size_t len = cbag__utf8_lead(s[i], &lo, &hi);
        if (!len) return i;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += len;
    }
}

#endif
