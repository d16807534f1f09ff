/* decomp_fuzz.c: libFuzzer target for one decompression reader of
 * src/io/decomp.c, built once per codec (-DFUZZ_CODEC='"gzip"', "bz2",
 * "xz", "zstd", "lz4": the targets gzip_fuzz, ...). The first byte chooses
 * what is done with the rest:
 *  - even: the bytes are a compressed file, read to the end through
 *    cbag__src in chunks of a chosen size. It must end or fail with a
 *    message naming the file, never crash or spin; reading again after
 *    the end or a failure gives the same answer. Output past 16 MB is not
 *    read (a bomb is not a bug; tests/test_hostile.c reads one whole).
 *  - odd: the bytes are data, written through cbag__out with this codec
 *    (at a chosen level, in pieces of a chosen size), committed and read
 *    back: they must come back equal, and the file must end where the
 *    reader says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cbag.h"
#include "fuzz.h"
#include "io/io.h"
#include "io/src.h"

#ifndef FUZZ_CODEC
#error "build with -DFUZZ_CODEC='\"gzip\"' (or bz2, xz, zstd, lz4)"
#endif

static int codec_of(const char *name) {
    static const char *names[] = {"gzip", "bz2", "xz", "zstd", "lz4"};
    static const int codecs[] = {CBAG__CODEC_GZIP, CBAG__CODEC_BZ2,
                                 CBAG__CODEC_XZ, CBAG__CODEC_ZSTD,
                                 CBAG__CODEC_LZ4};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) return codecs[i];
    abort();
}

/* A level that keeps each run fast (xz 6 needs 94 MB of state). */
static int level_of(int codec, unsigned b) {
    switch (codec) {
    case CBAG__CODEC_GZIP: return (int)(b % 4);
    case CBAG__CODEC_BZ2: return 1 + (int)(b % 3);
    case CBAG__CODEC_XZ: return (int)(b % 2);
    case CBAG__CODEC_ZSTD: return 1 + (int)(b % 5);
    default: return (int)(b % 4);
    }
}

/* Reads path to the end (or max bytes) into out (when not NULL). Returns
 * the total, or -1 after a failure that names the file. */
static long long read_to_end(const char *path, int codec, size_t chunk,
                             size_t max, unsigned char *out) {
    char err[1024];
    int code;
    cbag__src *s = cbag__src_open(path, codec, 0, UINT64_MAX, NULL, err,
                                  sizeof err, &code);
    if (!s) abort(); /* the file is there: only memory could fail */
    static unsigned char buf[65536];
    long long total = 0;
    ssize_t k;
    while ((size_t)total < max &&
           (k = cbag__src_read(s, out ? out + total : buf, chunk)) != 0) {
        if (k < 0) {
            if (k != -CBAG_IO && k != -CBAG_NOMEM) abort();
            if (strncmp(cbag__src_error(s), path, strlen(path)) != 0) abort();
            if (cbag__src_read(s, buf, chunk) != k) abort(); /* it repeats */
            cbag__src_close(s);
            return -1;
        }
        if ((size_t)k > chunk) abort();
        total += k;
    }
    if ((size_t)total < max && cbag__src_read(s, buf, chunk) != 0) abort();
    cbag__src_close(s);
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[512];
    int codec = codec_of(FUZZ_CODEC);
    if (size < 3) return -1;
    if (!path[0]) snprintf(path, sizeof path, "%s", fuzz_path("f"));
    /* reads of 1 byte, or of a multiple of 256 bytes */
    size_t chunk = data[2] ? (size_t)data[2] << 8 : 1;
    const uint8_t *p = data + 3;
    size_t n = size - 3;
    if (data[0] % 2 == 0) {
        fuzz_write(path, p, n);
        read_to_end(path, codec, chunk, chunk == 1 ? 1 << 16 : 16 << 20, NULL);
        return 0;
    }
    char err[1024];
    cbag__out *o = cbag__out_open_level(path, codec, level_of(codec, data[1]),
                                        err, sizeof err);
    if (!o) abort();
    size_t piece = chunk == 1 ? 1 + data[1] % 7 : chunk;
    for (size_t i = 0; i < n; i += piece)
        if (cbag__out_write(o, p + i, n - i < piece ? n - i : piece)) abort();
    if (cbag__out_commit_err(o, err, sizeof err)) abort();
    unsigned char *back = malloc(n + 65536);
    if (!back) abort();
    long long got = read_to_end(path, codec, chunk, n + 1, back);
    if (got != (long long)n || memcmp(back, p, n) != 0) abort();
    free(back);
    return 0;
}
