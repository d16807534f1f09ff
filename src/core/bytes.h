/* bytes.h: equality of short byte strings.
 *
 * Dict keys and column names are mostly a few bytes long; comparing them
 * inline, a word at a time (two overlapping loads cover 4 to 16 bytes), is
 * several times faster than a call to memcmp, which dominated the lookups
 * of records with short keys. */
#ifndef CBAG_BYTES_H
#define CBAG_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 1 when the n bytes at a and b are equal. */
static inline int cbag__mem_eq(const void *pa, const void *pb, size_t n) {
    const unsigned char *a = pa, *b = pb;
    if (n > 16) return memcmp(a, b, n) == 0;
    if (n >= 8) {
        uint64_t x, y, z, t;
        memcpy(&x, a, 8), memcpy(&y, b, 8);
        memcpy(&z, a + n - 8, 8), memcpy(&t, b + n - 8, 8);
        return x == y && z == t;
    }
    if (n >= 4) {
        uint32_t x, y, z, t;
        memcpy(&x, a, 4), memcpy(&y, b, 4);
        memcpy(&z, a + n - 4, 4), memcpy(&t, b + n - 4, 4);
        return x == y && z == t;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

#endif
