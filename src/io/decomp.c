/* decomp.c: byte sources, plain or decompressed (see src.h).
 *
 * Every codec reads its input in large chunks and decodes straight into the
 * caller's buffer. Files made of several streams (gzip members, bz2 and xz
 * streams, zstd and lz4 frames, as `cat a.gz b.gz` makes) are read to the
 * end. A stream that stops before its end marker is an error ("truncated
 * gzip stream"), never a short read: silently losing the tail of a file is
 * the worst thing a reader can do. A file of zero bytes reads as empty
 * whatever its extension (Python's gzip agrees; its bz2, lzma and lz4 raise
 * EOFError, which helps nobody). */
#include <bzlib.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "cbag.h"
#include "io.h"
#include "mem.h"
#include "remote.h"
#include "src.h"

#define IN_CAP (256 * 1024)
/* The most memory an xz or lzma stream may ask for (its dictionary). xz -9
 * needs 65 MB; a file of a few bytes can claim 4 GB (a legacy .lzma
 * header), which must be an error, not an allocation. */
#define XZ_MEMLIMIT ((uint64_t)1 << 30)
/* Decoders count in 32-bit lengths; a bigger request is simply cut. */
#define MAX_CHUNK ((size_t)1 << 30)

/* The raw bytes come from a file descriptor, or from an rstream for URLs:
 * the decoders above them do not know which. */
struct cbag__src {
    int fd, codec;
    cbag__rstream *rs;  /* a URL's stream, else NULL */
    cbag__storage *est; /* storage from the environment, when none given */
    char *path;
    uint64_t consumed; /* bytes read from the file */
    int state;         /* 0 reading, 1 at the end, <0 failed (-code) */
    unsigned char *in; /* compressed input: in[in_pos..in_len) unused */
    size_t in_pos, in_len;
    int in_eof;
    int in_stream;         /* a member, stream or frame is unfinished */
    unsigned long streams; /* finished ones, for messages */
    int lib_init;          /* bz2, xz: the decoder is initialised */
    union {
        struct inflate_state *gz;
        bz_stream bz;
        lzma_stream xz;
        ZSTD_DStream *zs;
        LZ4F_dctx *lz;
    } u;
    char err[512];
};

void cbag__io_msg(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static ssize_t fail(cbag__src *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ssize_t fail(cbag__src *s, int code, const char *fmt, ...) {
    int n = snprintf(s->err, sizeof s->err, "%s: ", s->path);
    if (n < 0 || (size_t)n >= sizeof s->err) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err + n, sizeof s->err - (size_t)n, fmt, ap);
    va_end(ap);
    s->state = -code;
    return -code;
}

static ssize_t truncated(cbag__src *s) {
    return fail(s, CBAG_IO, "truncated %s stream", cbag__codec_name(s->codec));
}

/* A decoder that takes no input and gives no output while input remains
 * would loop forever; none should, but a bound costs nothing. */
static int stalled(cbag__src *s, int progress, int *count) {
    if (progress || s->in_pos == s->in_len) {
        *count = 0;
        return 0;
    }
    if (++*count < 8) return 0;
    fail(s, CBAG_IO, "corrupt %s data (the decoder makes no progress)",
         cbag__codec_name(s->codec));
    return 1;
}

/* The compression libraries that take an allocator get ours, so that the
 * tests' fault injection reaches them too. */
/* Up to n raw bytes of the file or URL: >=0, or minus a cbag_status. */
static ssize_t raw_read(cbag__src *s, void *dst, size_t n) {
    if (s->rs) {
        ssize_t k = cbag__rstream_read(s->rs, dst, n);
        if (k < 0) return fail(s, (int)-k, "%s", cbag__rstream_error(s->rs));
        s->consumed += (uint64_t)k;
        return k;
    }
    for (;;) {
        ssize_t k = read(s->fd, dst, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return fail(s, CBAG_IO, "read failed: %s", strerror(errno));
        s->consumed += (uint64_t)k;
        return k;
    }
}

/* Reads more input when all of it has been used: 0, or an error. */
static int fill(cbag__src *s) {
    if (s->in_pos < s->in_len || s->in_eof) return 0;
    s->in_pos = s->in_len = 0;
    ssize_t k = raw_read(s, s->in, IN_CAP);
    if (k < 0) return (int)k;
    if (k == 0) s->in_eof = 1;
    s->in_len = (size_t)k;
    return 0;
}

static int at_end(const cbag__src *s) {
    return s->in_eof && s->in_pos == s->in_len;
}

static ssize_t read_plain(cbag__src *s, unsigned char *dst, size_t n) {
    return raw_read(s, dst, n);
}

static const char *isal_error(int ret) {
    switch (ret) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC mismatch";
    case ISAL_NEED_DICT: return "needs a preset dictionary";
    default: return "invalid data";
    }
}

static ssize_t read_gzip(cbag__src *s, unsigned char *dst, size_t n) {
    struct inflate_state *st = s->u.gz;
    size_t out = 0;
    int stall = 0;
    while (out < n) {
        if (fill(s)) return s->state;
        if (!s->in_stream) {
            /* Between members. Python's gzip skips zero padding here, and
             * so do we; anything else must be the next member. */
            while (s->in_pos < s->in_len && s->in[s->in_pos] == 0)
                s->in_pos++;
            if (s->in_pos == s->in_len) {
                if (s->in_eof) break;
                continue;
            }
            /* ISA-L would wait for a whole header before judging it */
            if (s->in[s->in_pos] != 0x1f ||
                (s->in_pos + 1 < s->in_len && s->in[s->in_pos + 1] != 0x8b)) {
                if (s->streams > 0)
                    return fail(s, CBAG_IO,
                                "corrupt gzip data (trailing garbage after "
                                "member %lu)",
                                s->streams);
                return fail(s, CBAG_IO,
                            "corrupt gzip data (not in gzip format)");
            }
            isal_inflate_reset(st);
            st->crc_flag = ISAL_GZIP;
            s->in_stream = 1;
        }
        size_t avail_in = s->in_len - s->in_pos;
        size_t want = n - out < MAX_CHUNK ? n - out : MAX_CHUNK;
        st->next_in = s->in + s->in_pos;
        st->avail_in = (uint32_t)avail_in;
        st->next_out = dst + out;
        st->avail_out = (uint32_t)want;
        int ret = isal_inflate(st);
        size_t used = avail_in - st->avail_in;
        size_t made = want - st->avail_out;
        s->in_pos += used;
        out += made;
        if (ret < 0 || ret == ISAL_NEED_DICT) {
            if (ret == ISAL_INVALID_WRAPPER && s->streams > 0)
                return fail(s, CBAG_IO,
                            "corrupt gzip data (trailing garbage after "
                            "member %lu)",
                            s->streams);
            return fail(s, CBAG_IO, "corrupt gzip data (%s)", isal_error(ret));
        }
        if (st->block_state == ISAL_BLOCK_FINISH) {
            s->in_stream = 0;
            s->streams++;
            continue;
        }
        if (!used && !made && at_end(s)) return truncated(s);
        if (stalled(s, used || made, &stall)) return s->state;
    }
    return (ssize_t)out;
}

static ssize_t read_bz2(cbag__src *s, unsigned char *dst, size_t n) {
    bz_stream *bz = &s->u.bz;
    size_t out = 0;
    int stall = 0;
    while (out < n) {
        if (fill(s)) return s->state;
        if (!s->in_stream) {
            if (s->in_pos == s->in_len) {
                if (s->in_eof) break;
                continue;
            }
            if (s->lib_init) BZ2_bzDecompressEnd(bz);
            s->lib_init = 0;
            memset(bz, 0, sizeof *bz);
            bz->bzalloc = cbag__bz_alloc;
            bz->bzfree = cbag__bz_free;
            int r = BZ2_bzDecompressInit(bz, 0, 0);
            if (r == BZ_MEM_ERROR) return fail(s, CBAG_NOMEM, "out of memory");
            if (r != BZ_OK)
                return fail(s, CBAG_IO, "bz2 initialisation failed");
            s->lib_init = 1;
            s->in_stream = 1;
        }
        size_t avail_in = s->in_len - s->in_pos;
        size_t want = n - out < MAX_CHUNK ? n - out : MAX_CHUNK;
        bz->next_in = (char *)s->in + s->in_pos;
        bz->avail_in = (unsigned)avail_in;
        bz->next_out = (char *)dst + out;
        bz->avail_out = (unsigned)want;
        int ret = BZ2_bzDecompress(bz);
        size_t used = avail_in - bz->avail_in;
        size_t made = want - bz->avail_out;
        s->in_pos += used;
        out += made;
        if (ret == BZ_STREAM_END) {
            s->in_stream = 0;
            s->streams++;
            continue;
        }
        if (ret == BZ_MEM_ERROR) return fail(s, CBAG_NOMEM, "out of memory");
        if (ret == BZ_DATA_ERROR_MAGIC && s->streams > 0)
            return fail(s, CBAG_IO,
                        "corrupt bz2 data (trailing garbage after stream %lu)",
                        s->streams);
        if (ret == BZ_DATA_ERROR || ret == BZ_DATA_ERROR_MAGIC)
            return fail(s, CBAG_IO, "corrupt bz2 data%s",
                        ret == BZ_DATA_ERROR_MAGIC ? " (not a bz2 file)" : "");
        if (ret != BZ_OK)
            return fail(s, CBAG_IO, "corrupt bz2 data (error %d)", ret);
        if (!used && !made && at_end(s)) return truncated(s);
        if (stalled(s, used || made, &stall)) return s->state;
    }
    return (ssize_t)out;
}

/* One stream at a time (not LZMA_CONCATENATED), as for gzip members, so
 * that garbage after a stream is told apart from a truncated stream. */
static int xz_start(cbag__src *s) {
    lzma_stream *xz = &s->u.xz;
    if (s->lib_init) lzma_end(xz);
    s->lib_init = 0;
    lzma_stream init = LZMA_STREAM_INIT;
    *xz = init;
    xz->allocator = &cbag__xz_allocator;
    /* auto: .xz and legacy .lzma, as Python's lzma FORMAT_AUTO */
    lzma_ret r = lzma_auto_decoder(xz, XZ_MEMLIMIT, 0);
    if (r == LZMA_MEM_ERROR) return (int)fail(s, CBAG_NOMEM, "out of memory");
    if (r != LZMA_OK) return (int)fail(s, CBAG_IO, "xz initialisation failed");
    s->lib_init = 1;
    return 0;
}

static ssize_t read_xz(cbag__src *s, unsigned char *dst, size_t n) {
    static const unsigned char magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0};
    lzma_stream *xz = &s->u.xz;
    size_t out = 0;
    int stall = 0;
    while (out < n) {
        if (fill(s)) return s->state;
        if (!s->in_stream) {
            if (s->streams > 0) /* stream padding: zero bytes */
                while (s->in_pos < s->in_len && s->in[s->in_pos] == 0)
                    s->in_pos++;
            if (s->in_pos == s->in_len) {
                if (s->in_eof) break;
                continue;
            }
            if (s->streams > 0) {
                size_t k =
                    s->in_len - s->in_pos < 6 ? s->in_len - s->in_pos : 6;
                if (memcmp(s->in + s->in_pos, magic, k) != 0)
                    return fail(
                        s, CBAG_IO,
                        "corrupt xz data (trailing garbage after stream %lu)",
                        s->streams);
            }
            if (xz_start(s)) return s->state;
            s->in_stream = 1;
        }
        size_t avail_in = s->in_len - s->in_pos;
        size_t want = n - out;
        xz->next_in = s->in + s->in_pos;
        xz->avail_in = avail_in;
        xz->next_out = dst + out;
        xz->avail_out = want;
        lzma_ret ret = lzma_code(xz, at_end(s) ? LZMA_FINISH : LZMA_RUN);
        size_t used = avail_in - xz->avail_in;
        size_t made = want - xz->avail_out;
        s->in_pos += used;
        out += made;
        switch (ret) {
        case LZMA_OK: break;
        case LZMA_STREAM_END:
            s->in_stream = 0;
            s->streams++;
            continue;
        case LZMA_BUF_ERROR:
            if (at_end(s)) return truncated(s);
            break;
        case LZMA_MEM_ERROR: return fail(s, CBAG_NOMEM, "out of memory");
        case LZMA_MEMLIMIT_ERROR:
            return fail(s, CBAG_IO,
                        "xz data asking for %llu MiB of memory to decode "
                        "(more than the %llu MiB allowed)",
                        (unsigned long long)(lzma_memusage(xz) >> 20),
                        (unsigned long long)(XZ_MEMLIMIT >> 20));
        case LZMA_FORMAT_ERROR:
            return fail(s, CBAG_IO, "corrupt xz data (not in xz format)");
        case LZMA_OPTIONS_ERROR:
            return fail(s, CBAG_IO, "corrupt xz data (unsupported options)");
        case LZMA_DATA_ERROR: return fail(s, CBAG_IO, "corrupt xz data");
        default:
            return fail(s, CBAG_IO, "corrupt xz data (error %d)", (int)ret);
        }
        if (!used && !made && at_end(s)) return truncated(s);
        if (stalled(s, used || made, &stall)) return s->state;
    }
    return (ssize_t)out;
}

static ssize_t read_zstd(cbag__src *s, unsigned char *dst, size_t n) {
    size_t out = 0;
    int stall = 0;
    while (out < n) {
        if (fill(s)) return s->state;
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        ZSTD_outBuffer ob = {dst, n, out};
        size_t ret = ZSTD_decompressStream(s->u.zs, &ob, &in);
        if (ZSTD_isError(ret))
            return fail(s, CBAG_IO, "corrupt zstd data (%s)",
                        ZSTD_getErrorName(ret));
        int progress = in.pos != s->in_pos || ob.pos != out;
        s->in_pos = in.pos;
        out = ob.pos;
        if (ret == 0) {
            if (s->in_stream) s->streams++;
            s->in_stream = 0; /* a frame ended; another may follow */
        } else if (progress) {
            s->in_stream = 1;
        }
        if (!progress && at_end(s)) {
            if (s->in_stream) return truncated(s);
            break;
        }
        if (stalled(s, progress, &stall)) return s->state;
    }
    return (ssize_t)out;
}

static ssize_t read_lz4(cbag__src *s, unsigned char *dst, size_t n) {
    size_t out = 0;
    int stall = 0;
    while (out < n) {
        if (fill(s)) return s->state;
        size_t dsz = n - out, ssz = s->in_len - s->in_pos;
        size_t ret = LZ4F_decompress(s->u.lz, dst + out, &dsz,
                                     s->in + s->in_pos, &ssz, NULL);
        if (LZ4F_isError(ret))
            return fail(s, CBAG_IO, "corrupt lz4 data (%s)",
                        LZ4F_getErrorName(ret));
        s->in_pos += ssz;
        out += dsz;
        int progress = ssz || dsz;
        if (ret == 0) {
            if (s->in_stream) s->streams++;
            s->in_stream = 0; /* the frame is complete */
        } else if (progress) {
            s->in_stream = 1;
        }
        if (!progress && at_end(s)) {
            if (s->in_stream) return truncated(s);
            break;
        }
        if (stalled(s, progress, &stall)) return s->state;
    }
    return (ssize_t)out;
}

ssize_t cbag__src_read(cbag__src *s, void *dst, size_t n) {
    if (s->state < 0) return s->state;
    if (s->state == 1 || n == 0) return 0;
    ssize_t k;
    switch (s->codec) {
    case CBAG__CODEC_GZIP: k = read_gzip(s, dst, n); break;
    case CBAG__CODEC_BZ2: k = read_bz2(s, dst, n); break;
    case CBAG__CODEC_XZ: k = read_xz(s, dst, n); break;
    case CBAG__CODEC_ZSTD: k = read_zstd(s, dst, n); break;
    case CBAG__CODEC_LZ4: k = read_lz4(s, dst, n); break;
    default: k = read_plain(s, dst, n); break;
    }
    if (k == 0 && s->state == 0) s->state = 1;
    return k;
}

const char *cbag__src_error(const cbag__src *s) { return s->err; }

uint64_t cbag__src_consumed(const cbag__src *s) { return s->consumed; }

void cbag__src_close(cbag__src *s) {
    if (!s) return;
    switch (s->codec) {
    case CBAG__CODEC_GZIP: cbag__free(s->u.gz); break;
    case CBAG__CODEC_BZ2:
        if (s->lib_init) BZ2_bzDecompressEnd(&s->u.bz);
        break;
    case CBAG__CODEC_XZ:
        if (s->lib_init) lzma_end(&s->u.xz);
        break;
    case CBAG__CODEC_ZSTD: ZSTD_freeDStream(s->u.zs); break;
    case CBAG__CODEC_LZ4: LZ4F_freeDecompressionContext(s->u.lz); break;
    default: break;
    }
    if (s->fd >= 0) close(s->fd);
    cbag__rstream_close(s->rs);
    cbag__free(s->est);
    cbag__free(s->in);
    cbag__free(s->path);
    cbag__free(s);
}

/* A URL's stream, in place of a file descriptor. */
static int open_url(cbag__src *s, uint64_t offset, uint64_t end,
                    const cbag__storage *st, char *err, size_t errlen,
                    int *code) {
    if (!st) {
        s->est = cbag__malloc(sizeof *s->est);
        if (!s->est) {
            cbag__io_msg(err, errlen, "%s: out of memory", s->path);
            *code = CBAG_NOMEM;
            return -1;
        }
        *code = cbag__storage_init(s->est, NULL, err, errlen);
        if (*code) return -1;
        st = s->est;
    }
    s->rs = cbag__rstream_open(s->path, st, offset, end, err, errlen, code);
    return s->rs ? 0 : -1;
}

cbag__src *cbag__src_open(const char *path, int codec, uint64_t offset,
                          uint64_t end, const cbag__storage *st, char *err,
                          size_t errlen, int *code) {
    *code = CBAG_NOMEM;
    cbag__src *s = cbag__calloc(1, sizeof *s);
    if (!s) {
        cbag__io_msg(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    s->fd = -1;
    s->codec = codec;
    s->path = cbag__strdup(path);
    if (!s->path) goto nomem;
    if (codec != CBAG__CODEC_NONE) offset = 0, end = UINT64_MAX;
    if (cbag__is_url(path)) {
        if (open_url(s, offset, end, st, err, errlen, code)) goto fail;
        goto codec;
    }
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (s->fd < 0 || fstat(s->fd, &sb) != 0) {
        cbag__io_msg(err, errlen, "%s: %s", path, strerror(errno));
        *code = CBAG_IO;
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        cbag__io_msg(err, errlen, "%s: %s", path, strerror(EISDIR));
        *code = CBAG_IO;
        goto fail;
    }
    if (codec == CBAG__CODEC_NONE && offset > 0 &&
        lseek(s->fd, (off_t)offset, SEEK_SET) < 0) {
        cbag__io_msg(err, errlen, "%s: cannot seek to byte %llu: %s", path,
                     (unsigned long long)offset, strerror(errno));
        *code = CBAG_IO;
        goto fail;
    }
    posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
codec:
    if (codec == CBAG__CODEC_NONE) return s;
    s->in = cbag__malloc(IN_CAP);
    if (!s->in) goto nomem;
    switch (codec) {
    case CBAG__CODEC_GZIP:
        s->u.gz = cbag__malloc(sizeof *s->u.gz);
        if (!s->u.gz) goto nomem;
        isal_inflate_init(s->u.gz);
        break;
    case CBAG__CODEC_BZ2: break; /* per stream, in read_bz2 */
    case CBAG__CODEC_XZ: break;  /* per stream, in read_xz */
    case CBAG__CODEC_ZSTD:
        s->u.zs = ZSTD_createDStream();
        if (!s->u.zs) goto nomem;
        ZSTD_initDStream(s->u.zs);
        break;
    case CBAG__CODEC_LZ4:
        if (LZ4F_isError(
                LZ4F_createDecompressionContext(&s->u.lz, LZ4F_VERSION)))
            goto nomem;
        break;
    default:
        cbag__io_msg(err, errlen, "%s: unknown codec %d", path, codec);
        *code = CBAG_INVALID;
        s->codec = CBAG__CODEC_NONE;
        goto fail;
    }
    return s;
nomem:
    cbag__io_msg(err, errlen, "%s: out of memory", path);
    *code = CBAG_NOMEM;
fail:
    if (!s->path) {
        cbag__free(s);
        return NULL;
    }
    cbag__src_close(s);
    return NULL;
}
