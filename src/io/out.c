/* out.c: output files written whole or not at all, and their names.
 *
 * A partition is written to ".NAME.tmp.PID.RAND" beside its final name,
 * fsynced and renamed: rename is atomic, so a crashed or failed run never
 * leaves a file under the final name that looks complete but is not. The
 * leading dot keeps half-written files out of the globs of later reads.
 * Compressors get the data in 1 MB chunks.
 *
 * An s3:// name is written through a cbag__upload instead of a file
 * descriptor (same compressors, same interface): nothing appears under
 * the key until commit, which PUTs the object or completes its multipart
 * upload; abort and failures abort the multipart upload. */
#include <bzlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <lz4frame.h>
#include <lzma.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "buf.h"
#include "io.h"
#include "mem.h"
#include "remote.h"
#include "src.h"

#define CHUNK (1u << 20)

struct cbag__out {
    char *path, *tmp;
    int fd, codec, level;
    cbag__upload *up; /* an s3:// object, in place of fd and tmp */
    int code;         /* 0, or the first error (a cbag_status) */
    int lib_init;
    unsigned char *ibuf; /* input staged for the compressor */
    size_t ilen;
    unsigned char *obuf; /* compressor output */
    size_t ocap;
    union {
        struct {
            struct isal_zstream z;
            unsigned char *lvl;
        } gz;
        bz_stream bz;
        lzma_stream xz;
        ZSTD_CStream *zs;
        LZ4F_cctx *lz;
    } u;
    char err[1024];
};

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

int cbag__codec_from_path(const char *path) {
    /* os.path.splitext on the last component: leading dots do not start
     * an extension; fsspec lower-cases it. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    while (*base == '.')
        base++;
    const char *dot = strrchr(base, '.');
    if (!dot) return CBAG__CODEC_NONE;
    dot++;
    static const struct {
        const char *ext;
        int codec;
    } tab[] = {{"gz", CBAG__CODEC_GZIP},
               {"bz2", CBAG__CODEC_BZ2},
               {"xz", CBAG__CODEC_XZ},
               {"zst", CBAG__CODEC_ZSTD},
               {"lz4", CBAG__CODEC_LZ4}};
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strcasecmp(dot, tab[i].ext) == 0) return tab[i].codec;
    return CBAG__CODEC_NONE;
}

const char *cbag__codec_name(int codec) {
    switch (codec) {
    case CBAG__CODEC_NONE: return "uncompressed";
    case CBAG__CODEC_GZIP: return "gzip";
    case CBAG__CODEC_BZ2: return "bz2";
    case CBAG__CODEC_XZ: return "xz";
    case CBAG__CODEC_ZSTD: return "zstd";
    case CBAG__CODEC_LZ4: return "lz4";
    default: return "unknown";
    }
}

static size_t count_stars(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        n += *s == '*';
    return n;
}

int cbag__textfile_pattern_check(const char *pattern, char *err,
                                 size_t errlen) {
    if (count_stars(pattern) > 1) {
        cbag__io_msg(err, errlen,
                     "to_textfiles: output path spec must contain exactly one "
                     "'*': '%s'",
                     pattern);
        return CBAG_INVALID;
    }
    return CBAG_OK;
}

char *cbag__textfile_name(const char *pattern, size_t i, size_t n) {
    size_t stars = count_stars(pattern);
    if (stars > 1) return NULL;
    /* fsspec's build_name_function(n - 1): as wide as the largest index */
    char num[32], top[32];
    snprintf(top, sizeof top, "%zu", n > 1 ? n - 1 : 0);
    snprintf(num, sizeof num, "%0*zu", (int)strlen(top), i);
    cbag__buf b = CBAG__BUF_INIT;
    if (stars == 0) {
        /* a directory: os.path.join(path, "*.part") */
        cbag__buf_puts(&b, pattern);
        size_t pl = strlen(pattern);
        if (pl && pattern[pl - 1] != '/') cbag__buf_putc(&b, '/');
        cbag__buf_puts(&b, num);
        cbag__buf_puts(&b, ".part");
    } else {
        const char *star = strchr(pattern, '*');
        cbag__buf_put(&b, pattern, (size_t)(star - pattern));
        cbag__buf_puts(&b, num);
        cbag__buf_puts(&b, star + 1);
    }
    return cbag__buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

static int out_fail(cbag__out *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int out_fail(cbag__out *o, int code, const char *fmt, ...) {
    if (o->code) return o->code; /* the first error is the one to report */
    int n = snprintf(o->err, sizeof o->err, "%s: ", o->path);
    if (n < 0 || (size_t)n >= sizeof o->err) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->err + n, sizeof o->err - (size_t)n, fmt, ap);
    va_end(ap);
    o->code = code;
    return code;
}

/* An upload's message names the URL already. */
static int up_fail(cbag__out *o, int code, const char *msg) {
    if (o->code) return o->code;
    snprintf(o->err, sizeof o->err, "%s", msg);
    o->code = code;
    return code;
}

static int write_all(cbag__out *o, const void *p, size_t n) {
    if (o->up) {
        char msg[900];
        int rc = cbag__upload_write(o->up, p, n, msg, sizeof msg);
        return rc ? up_fail(o, rc, msg) : CBAG_OK;
    }
    const char *s = p;
    while (n) {
        ssize_t k = write(o->fd, s, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            return out_fail(o, CBAG_IO, "write failed: %s", strerror(errno));
        s += k;
        n -= (size_t)k;
    }
    return CBAG_OK;
}

static void lz4_prefs(LZ4F_preferences_t *pr, int level) {
    memset(pr, 0, sizeof *pr);
    pr->compressionLevel = level;
    /* detects corruption on reading, as the lz4 tool's default does */
    pr->frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
}

/* Compresses in[0..n) (and ends the stream when finish) into the file. */
static int compress(cbag__out *o, const unsigned char *in, size_t n,
                    int finish) {
    switch (o->codec) {
    case CBAG__CODEC_NONE: return write_all(o, in, n);
    case CBAG__CODEC_GZIP: {
        struct isal_zstream *z = &o->u.gz.z;
        z->next_in = (uint8_t *)in;
        z->avail_in = (uint32_t)n;
        z->end_of_stream = (uint16_t)finish;
        do {
            z->next_out = o->obuf;
            z->avail_out = (uint32_t)o->ocap;
            int r = isal_deflate(z);
            if (r != COMP_OK)
                return out_fail(o, CBAG_IO, "gzip compression failed (%d)", r);
            if (write_all(o, o->obuf, o->ocap - z->avail_out)) return o->code;
        } while (z->avail_in || z->avail_out == 0 ||
                 (finish && z->internal_state.state != ZSTATE_END));
        return CBAG_OK;
    }
    case CBAG__CODEC_BZ2: {
        bz_stream *bz = &o->u.bz;
        bz->next_in = (char *)in;
        bz->avail_in = (unsigned)n;
        for (;;) {
            bz->next_out = (char *)o->obuf;
            bz->avail_out = (unsigned)o->ocap;
            int r = BZ2_bzCompress(bz, finish ? BZ_FINISH : BZ_RUN);
            if (r != BZ_RUN_OK && r != BZ_FINISH_OK && r != BZ_STREAM_END)
                return out_fail(o, CBAG_IO, "bz2 compression failed (%d)", r);
            if (write_all(o, o->obuf, o->ocap - bz->avail_out)) return o->code;
            if (finish ? r == BZ_STREAM_END : bz->avail_in == 0) return CBAG_OK;
        }
    }
    case CBAG__CODEC_XZ: {
        lzma_stream *xz = &o->u.xz;
        xz->next_in = in;
        xz->avail_in = n;
        for (;;) {
            xz->next_out = o->obuf;
            xz->avail_out = o->ocap;
            lzma_ret r = lzma_code(xz, finish ? LZMA_FINISH : LZMA_RUN);
            if (r == LZMA_MEM_ERROR)
                return out_fail(o, CBAG_NOMEM, "out of memory");
            if (r != LZMA_OK && r != LZMA_STREAM_END)
                return out_fail(o, CBAG_IO, "xz compression failed (%d)",
                                (int)r);
            if (write_all(o, o->obuf, o->ocap - xz->avail_out)) return o->code;
            if (finish ? r == LZMA_STREAM_END : xz->avail_in == 0)
                return CBAG_OK;
        }
    }
    case CBAG__CODEC_ZSTD: {
        ZSTD_inBuffer ib = {in, n, 0};
        for (;;) {
            ZSTD_outBuffer ob = {o->obuf, o->ocap, 0};
            size_t r = ZSTD_compressStream2(
                o->u.zs, &ob, &ib, finish ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(r))
                return out_fail(o, CBAG_IO, "zstd compression failed (%s)",
                                ZSTD_getErrorName(r));
            if (write_all(o, o->obuf, ob.pos)) return o->code;
            if (finish ? r == 0 : ib.pos == ib.size) return CBAG_OK;
        }
    }
    case CBAG__CODEC_LZ4: {
        size_t k =
            n ? LZ4F_compressUpdate(o->u.lz, o->obuf, o->ocap, in, n, NULL) : 0;
        if (!LZ4F_isError(k) && k) {
            if (write_all(o, o->obuf, k)) return o->code;
        }
        if (!LZ4F_isError(k) && finish) {
            k = LZ4F_compressEnd(o->u.lz, o->obuf, o->ocap, NULL);
            if (!LZ4F_isError(k) && write_all(o, o->obuf, k)) return o->code;
        }
        if (LZ4F_isError(k))
            return out_fail(o, CBAG_IO, "lz4 compression failed (%s)",
                            LZ4F_getErrorName(k));
        return CBAG_OK;
    }
    default: return out_fail(o, CBAG_INVALID, "unknown codec %d", o->codec);
    }
}

static int flush_staged(cbag__out *o, int finish) {
    int r = compress(o, o->ibuf, o->ilen, finish);
    o->ilen = 0;
    return r;
}

int cbag__out_write(cbag__out *o, const void *p, size_t n) {
    if (o->code) return o->code;
    const unsigned char *s = p;
    /* big writes of plain files skip the staging copy */
    if (o->codec == CBAG__CODEC_NONE && n >= CHUNK) {
        if (o->ilen && flush_staged(o, 0)) return o->code;
        return write_all(o, s, n);
    }
    while (n) {
        size_t k = CHUNK - o->ilen < n ? CHUNK - o->ilen : n;
        memcpy(o->ibuf + o->ilen, s, k);
        o->ilen += k;
        s += k;
        n -= k;
        if (o->ilen == CHUNK && flush_staged(o, 0)) return o->code;
    }
    return CBAG_OK;
}

const char *cbag__out_error(const cbag__out *o) {
    return o->code ? o->err : "";
}

static void out_free(cbag__out *o) {
    if (o->fd >= 0) close(o->fd);
    cbag__upload_abort(o->up);
    if (o->lib_init) {
        switch (o->codec) {
        case CBAG__CODEC_BZ2: BZ2_bzCompressEnd(&o->u.bz); break;
        case CBAG__CODEC_XZ: lzma_end(&o->u.xz); break;
        case CBAG__CODEC_ZSTD: ZSTD_freeCStream(o->u.zs); break;
        case CBAG__CODEC_LZ4: LZ4F_freeCompressionContext(o->u.lz); break;
        default: break;
        }
    }
    if (o->codec == CBAG__CODEC_GZIP) cbag__free(o->u.gz.lvl);
    cbag__free(o->ibuf);
    cbag__free(o->obuf);
    cbag__free(o->path);
    cbag__free(o->tmp);
    cbag__free(o);
}

void cbag__out_abort(cbag__out *o) {
    if (!o) return;
    if (o->tmp) unlink(o->tmp);
    out_free(o);
}

static int commit_upload(cbag__out *o, char *err, size_t errlen) {
    if (!o->code && !flush_staged(o, 1)) {
        char msg[900];
        int rc = cbag__upload_commit(o->up, msg, sizeof msg);
        o->up = NULL; /* freed by commit, even on failure */
        if (rc) up_fail(o, rc, msg);
    }
    int code = o->code;
    if (code) cbag__io_msg(err, errlen, "%s", o->err);
    out_free(o); /* aborts the upload if it is still there */
    return code;
}

int cbag__out_commit_err(cbag__out *o, char *err, size_t errlen) {
    if (o->up) return commit_upload(o, err, errlen);
    if (!o->code && !flush_staged(o, 1)) {
        if (fsync(o->fd) != 0)
            out_fail(o, CBAG_IO, "fsync failed: %s", strerror(errno));
    }
    if (!o->code) {
        int fd = o->fd;
        o->fd = -1;
        if (close(fd) != 0)
            out_fail(o, CBAG_IO, "close failed: %s", strerror(errno));
        else if (rename(o->tmp, o->path) != 0)
            out_fail(o, CBAG_IO, "cannot rename %s to its final name: %s",
                     o->tmp, strerror(errno));
    }
    int code = o->code;
    if (code) {
        cbag__io_msg(err, errlen, "%s", o->err);
        unlink(o->tmp);
    }
    out_free(o);
    return code;
}

int cbag__out_commit(cbag__out *o) { return cbag__out_commit_err(o, NULL, 0); }

/* The PID in a temporary name ".NAME.tmp.PID.RAND" (open_tmp), or 0 when
 * name is not one. */
static long tmp_pid(const char *name) {
    if (name[0] != '.') return 0;
    const char *t = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp."))
        t = p;
    if (!t) return 0;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    if (pid <= 0 || end == t + 5 || *end != '.' || strlen(end + 1) != 8 ||
        strspn(end + 1, "0123456789abcdef") != 8)
        return 0;
    return pid;
}

void cbag__out_sweep(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? cbag__strdup(path) : NULL;
    if (slash && !dir) return; /* out of memory: only tidiness is lost */
    if (dir) dir[slash - path + (slash == path)] = '\0';
    DIR *d = opendir(dir ? dir : ".");
    cbag__free(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = tmp_pid(e->d_name);
        /* a PID that exists may be another writer at work: left alone */
        if (pid && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 &&
            errno == ESRCH)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

/* mkdir -p of the directory part of path (as fsspec's auto_mkdir). */
static int make_parents(cbag__out *o) {
    char *d = cbag__strdup(o->path);
    if (!d) return out_fail(o, CBAG_NOMEM, "out of memory");
    char *slash = strrchr(d, '/');
    int rc = CBAG_OK;
    if (slash && slash != d) {
        *slash = '\0';
        for (char *p = d + 1;; p++) {
            if (*p != '/' && *p != '\0') continue;
            char c = *p;
            *p = '\0';
            if (mkdir(d, 0777) != 0 && errno != EEXIST) {
                rc = out_fail(o, CBAG_IO, "cannot create directory %s: %s", d,
                              strerror(errno));
                break;
            }
            *p = c;
            if (!c) break;
        }
    }
    cbag__free(d);
    return rc;
}

/* A name nobody else picks: pid, time and a process-wide counter, mixed. */
static uint64_t tmp_token(void) {
    static atomic_ulong counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 ((uint64_t)atomic_fetch_add(&counter, 1) << 48);
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static int open_tmp(cbag__out *o) {
    const char *slash = strrchr(o->path, '/');
    size_t dl = slash ? (size_t)(slash - o->path) + 1 : 0;
    const char *base = o->path + dl;
    if (!*base) return out_fail(o, CBAG_INVALID, "no file name");
    size_t cap = strlen(o->path) + 64;
    o->tmp = cbag__malloc(cap);
    if (!o->tmp) return out_fail(o, CBAG_NOMEM, "out of memory");
    for (int tries = 0; tries < 100; tries++) {
        snprintf(o->tmp, cap, "%.*s.%s.tmp.%ld.%08llx", (int)dl, o->path, base,
                 (long)getpid(),
                 (unsigned long long)(tmp_token() & 0xffffffffu));
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (o->fd >= 0) return CBAG_OK;
        if (errno != EEXIST) break;
    }
    int e = errno;
    cbag__free(o->tmp);
    o->tmp = NULL;
    return out_fail(o, CBAG_IO, "cannot create a file: %s", strerror(e));
}

static int start_codec(cbag__out *o) {
    int lv = o->level;
    switch (o->codec) {
    case CBAG__CODEC_NONE: return CBAG_OK;
    case CBAG__CODEC_GZIP: {
        static const uint32_t sizes[] = {
            ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
            ISAL_DEF_LVL3_DEFAULT};
        if (lv < 0) lv = 1;
        if (lv > 3) lv = 3;
        struct isal_zstream *z = &o->u.gz.z;
        isal_deflate_init(z);
        o->u.gz.lvl = cbag__malloc(sizes[lv]);
        if (!o->u.gz.lvl) return out_fail(o, CBAG_NOMEM, "out of memory");
        z->level = (uint32_t)lv;
        z->level_buf = o->u.gz.lvl;
        z->level_buf_size = sizes[lv];
        z->gzip_flag = IGZIP_GZIP;
        z->flush = NO_FLUSH;
        return CBAG_OK;
    }
    case CBAG__CODEC_BZ2: {
        o->u.bz.bzalloc = cbag__bz_alloc;
        o->u.bz.bzfree = cbag__bz_free;
        int r = BZ2_bzCompressInit(&o->u.bz, lv < 1 || lv > 9 ? 9 : lv, 0, 0);
        if (r == BZ_MEM_ERROR) return out_fail(o, CBAG_NOMEM, "out of memory");
        if (r != BZ_OK)
            return out_fail(o, CBAG_IO, "bz2 initialisation failed");
        o->lib_init = 1;
        return CBAG_OK;
    }
    case CBAG__CODEC_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        o->u.xz = init;
        o->u.xz.allocator = &cbag__xz_allocator;
        lzma_ret r = lzma_easy_encoder(
            &o->u.xz, lv < 0 || lv > 9 ? 6 : (uint32_t)lv, LZMA_CHECK_CRC64);
        if (r == LZMA_MEM_ERROR)
            return out_fail(o, CBAG_NOMEM, "out of memory");
        if (r != LZMA_OK)
            return out_fail(o, CBAG_IO, "xz initialisation failed");
        o->lib_init = 1;
        return CBAG_OK;
    }
    case CBAG__CODEC_ZSTD: {
        o->u.zs = ZSTD_createCStream();
        if (!o->u.zs) return out_fail(o, CBAG_NOMEM, "out of memory");
        o->lib_init = 1;
        ZSTD_CCtx_setParameter(o->u.zs, ZSTD_c_compressionLevel,
                               lv < 1 ? 3 : lv);
        ZSTD_CCtx_setParameter(o->u.zs, ZSTD_c_checksumFlag, 1);
        return CBAG_OK;
    }
    case CBAG__CODEC_LZ4: {
        if (LZ4F_isError(LZ4F_createCompressionContext(&o->u.lz, LZ4F_VERSION)))
            return out_fail(o, CBAG_NOMEM, "out of memory");
        o->lib_init = 1;
        LZ4F_preferences_t pr;
        lz4_prefs(&pr, lv < 0 ? 0 : lv);
        size_t need = LZ4F_compressBound(CHUNK, &pr) + LZ4F_HEADER_SIZE_MAX;
        if (need > o->ocap) {
            unsigned char *b = cbag__realloc(o->obuf, need);
            if (!b) return out_fail(o, CBAG_NOMEM, "out of memory");
            o->obuf = b;
            o->ocap = need;
        }
        size_t k = LZ4F_compressBegin(o->u.lz, o->obuf, o->ocap, &pr);
        if (LZ4F_isError(k))
            return out_fail(o, CBAG_IO, "lz4 compression failed (%s)",
                            LZ4F_getErrorName(k));
        return write_all(o, o->obuf, k);
    }
    default: return out_fail(o, CBAG_INVALID, "unknown codec %d", o->codec);
    }
}

/* The upload that stands in for the temporary file. */
static int open_upload(cbag__out *o, const cbag__storage *st) {
    cbag__storage env;
    char msg[900];
    if (!st) {
        int rc = cbag__storage_init(&env, NULL, msg, sizeof msg);
        if (rc) return up_fail(o, rc, msg);
        st = &env;
    }
    o->up = cbag__upload_open(o->path, st, 0, msg, sizeof msg);
    return o->up ? CBAG_OK : up_fail(o, CBAG_IO, msg);
}

cbag__out *cbag__out_open_level(const char *path, int codec, int level,
                                char *err, size_t errlen) {
    return cbag__out_open_st(path, codec, level, NULL, err, errlen);
}

cbag__out *cbag__out_open_st(const char *path, int codec, int level,
                             const cbag__storage *st, char *err,
                             size_t errlen) {
    cbag__out *o = cbag__calloc(1, sizeof *o);
    if (!o || !(o->path = cbag__strdup(path))) {
        cbag__io_msg(err, errlen, "%s: out of memory", path);
        cbag__free(o);
        return NULL;
    }
    o->fd = -1;
    o->codec = codec == CBAG__CODEC_INFER ? cbag__codec_from_path(path) : codec;
    o->level = level;
    int url = cbag__is_url(path);
    struct stat sb;
    if (!url && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        out_fail(o, CBAG_IO, "%s", strerror(EISDIR));
    if (!o->code && !url) make_parents(o);
    if (!o->code) {
        o->ibuf = cbag__malloc(CHUNK);
        o->ocap = CHUNK / 4;
        o->obuf = cbag__malloc(o->ocap);
        if (!o->ibuf || !o->obuf) out_fail(o, CBAG_NOMEM, "out of memory");
    }
    if (!o->code && url) open_upload(o, st);
    if (!o->code && !url) open_tmp(o);
    if (!o->code) start_codec(o);
    if (o->code) {
        cbag__io_msg(err, errlen, "%s", o->err);
        cbag__out_abort(o);
        return NULL;
    }
    return o;
}

cbag__out *cbag__out_open(const char *path, int codec, char *err,
                          size_t errlen) {
    return cbag__out_open_level(path, codec, -1, err, errlen);
}
