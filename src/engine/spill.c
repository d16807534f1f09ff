/* spill.c: value encoding and compressed temporary files (see spill.h). */
#include "spill.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "mem.h"

enum {
    T_NONE,
    T_FALSE,
    T_TRUE,
    T_INT,
    T_FLOAT,
    T_STR,
    T_LIST,
    T_TUPLE,
    T_DICT
};

/* ------------------------------------------------------------------------ */
/* Encoding                                                                 */

static int put_varint(cbag__buf *b, uint64_t x) {
    unsigned char tmp[10];
    int n = 0;
    while (x >= 0x80) {
        tmp[n++] = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    tmp[n++] = (unsigned char)x;
    return cbag__buf_put(b, tmp, (size_t)n);
}

static int encode(cbag__buf *b, const cbag_val *v, int depth) {
    if (depth > CBAG__SPILL_DEPTH) return -1;
    switch (v->type) {
    case CBAG_NULL: return cbag__buf_putc(b, T_NONE);
    case CBAG_BOOL: return cbag__buf_putc(b, v->u.i ? T_TRUE : T_FALSE);
    case CBAG_INT: {
        uint64_t u = (uint64_t)v->u.i;
        uint64_t z = (u << 1) ^ (v->u.i < 0 ? ~(uint64_t)0 : 0); /* zigzag */
        return cbag__buf_putc(b, T_INT) || put_varint(b, z);
    }
    case CBAG_FLOAT: {
        uint64_t u;
        unsigned char le[8];
        memcpy(&u, &v->u.f, 8);
        for (int i = 0; i < 8; i++)
            le[i] = (unsigned char)(u >> (8 * i));
        return cbag__buf_putc(b, T_FLOAT) || cbag__buf_put(b, le, 8);
    }
    case CBAG_STR:
        return cbag__buf_putc(b, T_STR) || put_varint(b, v->len) ||
               cbag__buf_put(b, v->u.s, v->len);
    case CBAG_LIST:
    case CBAG_TUPLE: {
        const cbag__seq *s = v->u.seq;
        if (cbag__buf_putc(b, v->type == CBAG_LIST ? T_LIST : T_TUPLE) ||
            put_varint(b, s->len))
            return -1;
        for (uint32_t i = 0; i < s->len; i++)
            if (encode(b, &s->items[i], depth + 1)) return -1;
        return 0;
    }
    case CBAG_DICT: {
        const cbag__dict *d = v->u.dict;
        if (cbag__buf_putc(b, T_DICT) || put_varint(b, d->len)) return -1;
        for (uint32_t i = 0; i < d->len; i++)
            if (encode(b, &d->entries[i].key, depth + 1) ||
                encode(b, &d->entries[i].val, depth + 1))
                return -1;
        return 0;
    }
    }
    return -1;
}

int cbag__spill_encode(cbag__buf *b, const cbag_val *v) {
    return encode(b, v, 0) || b->oom ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Decoding: every length is checked against the bytes left               */

static int get_varint(const unsigned char **p, const unsigned char *end,
                      uint64_t *x) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char c = *(*p)++;
        r |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *x = r;
            return 0;
        }
    }
    return -1;
}

static int decode(cbag__arena *a, const unsigned char **p,
                  const unsigned char *end, cbag_val *out, int depth) {
    if (*p >= end || depth > CBAG__SPILL_DEPTH) return -1;
    int tag = *(*p)++;
    uint64_t n;
    switch (tag) {
    case T_NONE: cbag__set_null(out); return 0;
    case T_FALSE:
    case T_TRUE: cbag__set_bool(out, tag == T_TRUE); return 0;
    case T_INT:
        if (get_varint(p, end, &n)) return -1;
        cbag__set_int(out, (int64_t)((n >> 1) ^ (0 - (n & 1))));
        return 0;
    case T_FLOAT: {
        if (end - *p < 8) return -1;
        uint64_t u = 0;
        for (int i = 0; i < 8; i++)
            u |= (uint64_t)(*p)[i] << (8 * i);
        *p += 8;
        double d;
        memcpy(&d, &u, 8);
        cbag__set_float(out, d);
        return 0;
    }
    case T_STR:
        if (get_varint(p, end, &n) || n > (uint64_t)(end - *p) ||
            n > CBAG__MAX_LEN ||
            cbag__str_init(a, out, (const char *)*p, (size_t)n))
            return -1;
        *p += n;
        return 0;
    case T_LIST:
    case T_TUPLE:
        /* each element takes at least one byte */
        if (get_varint(p, end, &n) || n > (uint64_t)(end - *p) ||
            cbag__seq_init(a, out, tag == T_LIST ? CBAG_LIST : CBAG_TUPLE,
                           (size_t)n))
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            cbag_val x;
            if (decode(a, p, end, &x, depth + 1) || cbag__seq_push(a, out, &x))
                return -1;
        }
        return 0;
    case T_DICT:
        if (get_varint(p, end, &n) || n > (uint64_t)(end - *p) / 2 ||
            cbag__dict_init(a, out, (size_t)n))
            return -1;
        for (uint64_t i = 0; i < n; i++) {
            cbag_val k, v;
            if (decode(a, p, end, &k, depth + 1) ||
                decode(a, p, end, &v, depth + 1) ||
                cbag__dict_put(a, out, &k, &v))
                return -1;
        }
        return 0;
    default: return -1;
    }
}

int cbag__spill_decode(cbag__arena *a, const unsigned char **p,
                       const unsigned char *end, cbag_val *out) {
    return decode(a, p, end, out, 0);
}

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
