/* xchg.c: moving one value per partition between ranks (cbag__xvals, see
 * engine.h): a codec frame of the value, or of none when the partition
 * has no value. */
#include <stdio.h>

#include "codec.h"
#include "engine.h"

int cbag__xvals_pack(cbag__buf *out, size_t part, void *arg) {
    cbag__xvals *xv = arg;
    size_t i = part - xv->first;
    cbag__codec_writer w;
    if (cbag__codec_begin(&w, out)) return -1;
    if ((!xv->present || xv->present[i]) && cbag__codec_put(&w, &xv->vals[i]))
        return -1;
    cbag__codec_end(&w);
    return 0;
}

int cbag__xvals_unpack(const void *p, size_t n, size_t part, void *arg,
                       char *err, size_t errlen) {
    cbag__xvals *xv = arg;
    size_t i = part - xv->first;
    cbag__codec_reader r;
    int got = -1;
    if (!cbag__codec_open(&r, p, n) && cbag__codec_left(&r) <= 1) {
        got = cbag__codec_next(&r, &xv->arenas[i], &xv->vals[i]);
        if (got == 1 && cbag__codec_next(&r, &xv->arenas[i], &xv->vals[i]))
            got = -1;
    } else if (!r.err[0]) {
        snprintf(r.err, sizeof r.err, "codec: more than one value");
    }
    if (got < 0) {
        snprintf(err, errlen, "%s", r.err);
        return -1;
    }
    if (xv->present)
        xv->present[i] = (unsigned char)got;
    else if (!got) {
        snprintf(err, errlen, "codec: a partition without its value");
        return -1;
    }
    return 0;
}

cbag__xchg cbag__xchg_vals(cbag__xmode mode, cbag__xvals *xv) {
    cbag__xchg x = {mode, cbag__xvals_pack, cbag__xvals_unpack, xv};
    return x;
}
