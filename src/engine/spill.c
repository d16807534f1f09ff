/* spill.c: compressed temporary files (see spill.h). */
#include "spill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mem.h"

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

void cbag__spill_file_init(cbag__spill_file *f) {
    f->fd = -1;
    f->size = 0;
    f->cctx = NULL;
}

void cbag__spill_file_close(cbag__spill_file *f) {
    if (f->fd >= 0) close(f->fd);
    ZSTD_freeCCtx(f->cctx);
    cbag__spill_file_init(f);
}

static int open_file(cbag__spill_file *f, const char *dir, char *err,
                     size_t errlen) {
    size_t n = strlen(dir) + 32;
    char *path = cbag__malloc(n);
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(path, n, "%s/cbag-spill.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot make a spill file in %s: %s", dir,
                 strerror(errno));
        cbag__free(path);
        return -1;
    }
    unlink(path); /* gone from the directory; lives while fd is open */
    cbag__free(path);
    f->cctx = ZSTD_createCCtx();
    if (!f->cctx) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_compressionLevel, 1);
    f->fd = fd;
    f->size = 0;
    return 0;
}

static int write_all(int fd, const void *p, size_t n, uint64_t off) {
    const char *c = p;
    while (n) {
        ssize_t k = pwrite(fd, c, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        c += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

int cbag__spill_write(cbag__spill_file *f, const char *dir, const void *data,
                      size_t n, uint64_t *off, uint64_t *len, char *err,
                      size_t errlen) {
    if (f->fd < 0 && open_file(f, dir, err, errlen)) return -1;
    unsigned char out[1 << 16];
    ZSTD_inBuffer in = {data, n, 0};
    uint64_t start = f->size, pos = start;
    size_t r;
    do {
        ZSTD_outBuffer o = {out, sizeof out, 0};
        r = ZSTD_compressStream2(f->cctx, &o, &in, ZSTD_e_end);
        if (ZSTD_isError(r)) {
            snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
            ZSTD_CCtx_reset(f->cctx, ZSTD_reset_session_only);
            return -1;
        }
        if (write_all(f->fd, out, o.pos, pos)) {
            snprintf(err, errlen, "writing a spill file in %s: %s", dir,
                     strerror(errno));
            ZSTD_CCtx_reset(f->cctx, ZSTD_reset_session_only);
            return -1;
        }
        pos += o.pos;
    } while (r != 0);
    f->size = pos;
    *off = start;
    *len = pos - start;
    return 0;
}

int cbag__spill_read(const cbag__spill_file *f, uint64_t off, uint64_t len,
                     cbag__buf *out, char *err, size_t errlen) {
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    unsigned char in[1 << 16];
    size_t r = 1;
    int rc = 0;
    while (len && !rc) {
        size_t want = len < sizeof in ? (size_t)len : sizeof in;
        ssize_t got = pread(f->fd, in, want, (off_t)off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            snprintf(err, errlen, "reading a spill file: %s",
                     got < 0 ? strerror(errno) : "it is truncated");
            rc = -1;
            break;
        }
        off += (uint64_t)got;
        len -= (uint64_t)got;
        ZSTD_inBuffer ib = {in, (size_t)got, 0};
        while (ib.pos < ib.size) {
            if (r == 0) { /* a frame ended before its segment did */
                snprintf(err, errlen, "a spill file is corrupt");
                rc = -1;
                break;
            }
            if (cbag__buf_reserve(out, 1 << 16)) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            ZSTD_outBuffer ob = {out->p + out->len, out->cap - out->len, 0};
            r = ZSTD_decompressStream(d, &ob, &ib);
            if (ZSTD_isError(r)) {
                snprintf(err, errlen, "a spill file is corrupt: %s",
                         ZSTD_getErrorName(r));
                rc = -1;
                break;
            }
            out->len += ob.pos;
        }
    }
    /* flush what the decoder still holds */
    while (!rc && r != 0) {
        if (cbag__buf_reserve(out, 1 << 16)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        ZSTD_inBuffer ib = {NULL, 0, 0};
        ZSTD_outBuffer ob = {out->p + out->len, out->cap - out->len, 0};
        r = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(r) || ob.pos == 0) {
            snprintf(err, errlen, "a spill file is corrupt or truncated");
            rc = -1;
            break;
        }
        out->len += ob.pos;
    }
    ZSTD_freeDCtx(d);
    return rc;
}
