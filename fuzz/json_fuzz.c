/* json_fuzz.c: libFuzzer target for the JSON parser and writer. Every
 * input must parse or fail cleanly; what parses must write back as JSON
 * that parses again to an equal value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "json.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cbag__arena a;
    cbag__arena_init(&a, 0);
    cbag_val v;
    cbag__json_err err;
    if (cbag__json_parse(&a, (const char *)data, size, &v, &err) == CBAG_OK) {
        int fmts[] = {CBAG_FMT_JSON, CBAG_FMT_JSON_COMPACT,
                      CBAG_FMT_JSON | CBAG_FMT_UTF8};
        for (int i = 0; i < 3; i++) {
            cbag__buf b = CBAG__BUF_INIT;
            int rc = cbag__json_write(&b, &v, fmts[i]);
            if (rc == CBAG_OK) {
                cbag_val w;
                /* NaN and infinities are written as Python writes them,
                 * which is not JSON: those may not parse back. */
                if (cbag__json_parse(&a, b.p, b.len, &w, &err) == CBAG_OK &&
                    !cbag_eq(&v, &w) && cbag_cmp(&v, &w) != 0)
                    abort();
            }
            cbag__buf_free(&b);
        }
        char *r = cbag_format(&v, CBAG_FMT_REPR, NULL);
        free(r);
        (void)cbag_hash(&v);
    }
    cbag__arena_free(&a);
    return 0;
}
