/* codec_fuzz.c: libFuzzer target for the value codec's decoder (spill
 * files, values crossing MPI ranks). Every input must decode or fail
 * cleanly with a message; what decodes must encode back to the very same
 * bytes (the encoding is canonical). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "codec.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cbag__arena a;
    cbag__arena_init(&a, 0);
    cbag__codec_reader r;
    cbag__buf b = CBAG__BUF_INIT;
    cbag__codec_writer w;
    int k = 0;
    if (cbag__codec_open(&r, data, size) == 0 &&
        cbag__codec_begin(&w, &b) == 0) {
        cbag_val v;
        while ((k = cbag__codec_next(&r, &a, &v)) == 1) {
            if (cbag__codec_put(&w, &v)) abort(); /* decoded: encodable */
            char *s = cbag_format(&v, CBAG_FMT_REPR, NULL);
            free(s);
            (void)cbag_hash(&v);
        }
        if (k == 0) { /* valid: the same bytes back */
            cbag__codec_end(&w);
            if (b.len != size || memcmp(b.p, data, size)) abort();
        } else if (!r.err[0]) {
            abort(); /* a failure always says why */
        }
    } else if (!r.err[0]) {
        abort();
    }
    cbag__buf_free(&b);
    cbag__arena_free(&a);
    return 0;
}
