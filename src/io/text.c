/* text.c: read_text's planning (globs, block ranges) and line streaming.
 *
 * What dask does, and so what this does (checked against Debian's
 * python3-dask 2022.12 with fsspec; tests/test_io.c compares partitions):
 *
 *  - A glob's matches are sorted; directories are dropped. Several
 *    patterns keep their order, each one's matches sorted.
 *  - blocksize=None: one partition per file (or files_per_partition files),
 *    read through a text-mode file. blocksize=N: read_bytes cuts each file
 *    at offsets computed with float arithmetic ("shrink blocksize to give
 *    same number of parts"); a block starts after the first delimiter found
 *    at or after its offset and ends after the first delimiter found at or
 *    after the next block's offset, so consecutive blocks tile the file.
 *    Empty files give no block.
 *  - linedelimiter=None (the default) is Python's universal newlines:
 *    "\r\n" and a lone "\r" end lines too and come out as "\n". Blocks are
 *    still cut at "\n". linedelimiter="" splits the same way and keeps the
 *    endings. "\n", "\r", "\r\n" and other strings split exactly there.
 *  - With blocksize=None and a delimiter other than the newlines above,
 *    dask splits the text with str.split and yields the last piece even
 *    when it is empty: "a|b|" gives "a|", "b|", "". We do the same, so
 *    that counts agree. With blocksize=N it does not, and neither do we.
 *
 * Where dask is broken we do the sensible thing instead: with blocksize=N,
 * linedelimiter "\r" or "\r\n" gives garbled lines in dask (its StringIO
 * turns "\n" into the delimiter) and "" cuts lines at arbitrary bytes;
 * here they split as they do without blocksize. Compressed files with a
 * blocksize are one partition each instead of an error.
 *
 * Decoding is Python's UTF-8 with errors= strict, replace (one U+FFFD per
 * maximal invalid subpart) or ignore. Lines are split on bytes first: the
 * delimiters are ASCII (or valid UTF-8), so no character is ever cut. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "io.h"
#include "mem.h"
#include "remote.h"
#include "src.h"
#include "utf8.h"

/* ------------------------------------------------------------------------ */
/* Planning                                                                 */

typedef struct {
    char **v;
    uint64_t *size; /* UINT64_MAX: not known yet (check_file finds it) */
    size_t n, cap;
} file_list;

static int list_add_sized(file_list *l, const char *path, uint64_t size) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = cbag__realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        uint64_t *sz = cbag__realloc(l->size, cap * sizeof *sz);
        if (!sz) return -1;
        l->size = sz;
        l->cap = cap;
    }
    char *p = cbag__strdup(path);
    if (!p) return -1;
    l->v[l->n] = p;
    l->size[l->n++] = size;
    return 0;
}

static int list_add(file_list *l, const char *path) {
    return list_add_sized(l, path, UINT64_MAX);
}

/* cbag__s3_glob's callback */
static int list_add_cb(void *ud, const char *path, uint64_t size) {
    return list_add_sized(ud, path, size);
}

static void list_free(file_list *l) {
    for (size_t i = 0; i < l->n; i++)
        cbag__free(l->v[i]);
    cbag__free(l->v);
    cbag__free(l->size);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_magic(const char *s) { return strpbrk(s, "*?[") != NULL; }

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Adds the files a pattern names: its glob matches, sorted. A pattern
 * with magic characters in an s3:// key lists the bucket; other URLs are
 * one object each (HTTP has no listing). */
static int expand(file_list *l, const char *pat, const cbag__storage *st,
                  char *err, size_t errlen) {
    if (cbag__is_s3(pat) && has_magic(pat)) {
        size_t first = l->n;
        char msg[900];
        int rc = cbag__s3_glob(pat, st, list_add_cb, l, msg, sizeof msg);
        if (rc) {
            cbag__io_msg(err, errlen, "read_text: %s", msg);
            return rc;
        }
        if (l->n == first) {
            cbag__io_msg(err, errlen, "read_text: no files match '%s'", pat);
            return CBAG_IO;
        }
        /* ListObjectsV2 returns keys in UTF-8 byte order: sorted already */
        return CBAG_OK;
    }
    if (!has_magic(pat) || cbag__is_url(pat)) {
        if (list_add(l, pat)) goto nomem;
        return CBAG_OK;
    }
    glob_t g;
    memset(&g, 0, sizeof g);
    int r = glob(pat, GLOB_NOSORT, NULL, &g);
    if (r == GLOB_NOSPACE) {
        globfree(&g);
        goto nomem;
    }
    size_t first = l->n;
    for (size_t i = 0; r == 0 && i < g.gl_pathc; i++) {
        if (is_dir(g.gl_pathv[i])) continue; /* as dask: files only */
        if (list_add(l, g.gl_pathv[i])) {
            globfree(&g);
            goto nomem;
        }
    }
    globfree(&g);
    if (l->n == first) {
        /* "data[1].txt" may be a file's real name */
        struct stat st;
        if (stat(pat, &st) == 0 && !S_ISDIR(st.st_mode)) {
            if (list_add(l, pat)) goto nomem;
            return CBAG_OK;
        }
        cbag__io_msg(err, errlen, "read_text: no files match '%s'", pat);
        return CBAG_IO;
    }
    qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return CBAG_OK;
nomem:
    cbag__io_msg(err, errlen, "read_text: out of memory");
    return CBAG_NOMEM;
}

/* file_list.size of a FIFO or a device, or of a remote object whose
 * server gives no length: read whole, never cut. */
#define SPECIAL UINT64_MAX

/* Opens each regular file once: a missing, unreadable or directory path is
 * reported now rather than halfway through a computation. A FIFO or a
 * device is only stat'ed: opening it would block until a writer comes,
 * and a writer that came would lose its data when we closed it. */
static int check_file(const char *path, uint64_t *size,
                      const cbag__storage *sto, char *err, size_t errlen) {
    if (*size != UINT64_MAX) return CBAG_OK; /* listed with its size */
    if (cbag__is_url(path)) {
        char msg[900];
        int rc = cbag__remote_size(path, sto, size, msg, sizeof msg);
        if (rc) cbag__io_msg(err, errlen, "read_text: %s", msg);
        return rc; /* size UINT64_MAX: no Content-Length, size unknown */
    }
    struct stat st;
    int fd = -1;
    if (stat(path, &st) != 0 ||
        (S_ISREG(st.st_mode) ? (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0
                             : !S_ISDIR(st.st_mode) && access(path, R_OK))) {
        cbag__io_msg(err, errlen, "read_text: %s: %s", path, strerror(errno));
        return CBAG_IO;
    }
    if (fd >= 0) close(fd);
    if (S_ISDIR(st.st_mode)) {
        cbag__io_msg(err, errlen, "read_text: %s: %s", path, strerror(EISDIR));
        return CBAG_IO;
    }
    *size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : SPECIAL;
    return CBAG_OK;
}

typedef struct {
    cbag__text_part *v;
    size_t n, cap;
} part_list;

static cbag__text_part *part_new(part_list *pl, size_t nfiles) {
    if (pl->n == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        cbag__text_part *v = cbag__realloc(pl->v, cap * sizeof *v);
        if (!v) return NULL;
        pl->v = v;
        pl->cap = cap;
    }
    cbag__text_part *p = &pl->v[pl->n];
    p->files = cbag__calloc(nfiles, sizeof *p->files);
    if (!p->files) return NULL;
    p->nfiles = 0;
    p->size_hint = 0;
    pl->n++;
    return p;
}

static int part_add(cbag__text_part *p, const char *path, uint64_t start,
                    uint64_t end, int codec, uint64_t bytes, uint64_t size) {
    cbag__file_range *f = &p->files[p->nfiles];
    f->path = cbag__strdup(path);
    if (!f->path) return -1;
    f->start = start;
    f->end = end;
    f->codec = codec;
    f->size = size == SPECIAL ? 0 : size;
    p->nfiles++;
    p->size_hint += bytes;
    return 0;
}

/* dask.bytes.read_bytes' offsets, float arithmetic included, so that the
 * blocks (and so the partitions) are the same as dask's. */
static int add_blocks(part_list *pl, const char *path, uint64_t size,
                      uint64_t bs) {
    double bs1 = (double)bs;
    if (size % bs && size > bs) bs1 = (double)size / (double)(size / bs);
    double place = 0;
    uint64_t prev = 0;
    while ((double)size - place > bs1 * 2 - 1) {
        place += bs1;
        uint64_t off = (uint64_t)place;
        cbag__text_part *p = part_new(pl, 1);
        if (!p ||
            part_add(p, path, prev, off, CBAG__CODEC_NONE, off - prev, size))
            return -1;
        prev = off;
    }
    cbag__text_part *p = part_new(pl, 1);
    if (!p || part_add(p, path, prev, UINT64_MAX, CBAG__CODEC_NONE, size - prev,
                       size))
        return -1;
    return 0;
}

void cbag__text_parts_free(cbag__text_part *parts, size_t nparts) {
    if (!parts) return;
    for (size_t i = 0; i < nparts; i++) {
        for (size_t j = 0; j < parts[i].nfiles; j++)
            cbag__free(parts[i].files[j].path);
        cbag__free(parts[i].files);
    }
    cbag__free(parts);
}

int cbag__text_plan(const char *const *patterns, size_t npatterns,
                    const cbag__text_opts *o, cbag__text_part **parts,
                    size_t *nparts, char *err, size_t errlen) {
    *parts = NULL;
    *nparts = 0;
    if (npatterns == 0) {
        cbag__io_msg(err, errlen, "read_text: no paths given");
        return CBAG_INVALID;
    }
    if (o->blocksize && o->files_per_partition > 1) {
        cbag__io_msg(err, errlen,
                     "read_text: only one of blocksize or "
                     "files_per_partition can be set");
        return CBAG_INVALID;
    }
    file_list fl = {0};
    part_list pl = {0};
    int rc = CBAG_OK;
    /* URLs without storage options: the environment's defaults */
    cbag__storage *est = NULL;
    const cbag__storage *st = o->storage;
    for (size_t i = 0; !st && i < npatterns; i++) {
        if (!cbag__is_url(patterns[i])) continue;
        if (!(est = cbag__malloc(sizeof *est))) goto nomem;
        if ((rc = cbag__storage_init(est, NULL, err, errlen))) goto done;
        st = est;
    }
    for (size_t i = 0; i < npatterns && rc == CBAG_OK; i++)
        rc = expand(&fl, patterns[i], st, err, errlen);
    for (size_t i = 0; i < fl.n && rc == CBAG_OK; i++)
        rc = check_file(fl.v[i], &fl.size[i], st, err, errlen);
    if (rc != CBAG_OK) goto done;
    size_t per = o->files_per_partition > 1 ? o->files_per_partition : 1;
    for (size_t i = 0; i < fl.n; i++) {
        int codec = o->codec == CBAG__CODEC_INFER
                        ? cbag__codec_from_path(fl.v[i])
                        : o->codec;
        uint64_t size = fl.size[i];
        if (o->blocksize && codec == CBAG__CODEC_NONE && size != SPECIAL) {
            if (size == 0) continue; /* dask: no block at all */
            if (add_blocks(&pl, fl.v[i], size, o->blocksize)) goto nomem;
            continue;
        }
        /* a new partition every `per` files (blocksize: always 1) */
        cbag__text_part *p;
        if (per == 1 || i % per == 0) {
            size_t left = fl.n - i;
            p = part_new(&pl, left < per ? left : per);
            if (!p) goto nomem;
        } else {
            p = &pl.v[pl.n - 1];
        }
        if (part_add(p, fl.v[i], 0, UINT64_MAX, codec,
                     size == SPECIAL ? 0 : size, size))
            goto nomem;
    }
    *parts = pl.v;
    *nparts = pl.n;
    pl.v = NULL;
    goto done;
nomem:
    cbag__io_msg(err, errlen, "read_text: out of memory");
    rc = CBAG_NOMEM;
done:
    if (pl.v) cbag__text_parts_free(pl.v, pl.n);
    list_free(&fl);
    cbag__free(est);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* UTF-8 (the validator is in core/utf8.h)                                  */

/* Length of the maximal invalid subpart at s[0..n) (s[0] starts it), as
 * Python's decoder measures it: a lead byte and the continuation bytes
 * that could still have completed it. */
static size_t utf8_bad_len(const unsigned char *s, size_t n) {
    unsigned lo, hi;
    size_t len = cbag__utf8_lead(s[0], &lo, &hi);
    if (!len) return 1;
    size_t k = 1;
    if (k < n && k < len && s[k] >= lo && s[k] <= hi) {
        k++;
        while (k < n && k < len && (s[k] & 0xC0) == 0x80)
            k++;
    }
    return k;
}

/* ------------------------------------------------------------------------ */
/* Lines                                                                    */

#define BUF_INIT (1u << 20)
#define NONE ((size_t)-1)

enum { M_EXACT, M_UNIV, M_UNIV_KEEP };

struct cbag__lines {
    const cbag__text_part *part;
    const cbag__storage *storage; /* for URLs, or NULL */
    size_t fi;                    /* the file being read, or the last one */
    cbag__src *src;               /* its source; NULL between files */
    int mode;                     /* M_* */
    char *delim;                  /* M_EXACT's delimiter */
    size_t dlen;
    const char *bdelim; /* where blocks are cut: delim, or "\n" */
    size_t bdlen;
    int enc;
    size_t buf0; /* the first buffer size, also count_lines' chunk */
    int quirk;   /* dask's trailing "" after a final custom delimiter */

    char *buf; /* buf[pos..len) is unread; buf[0] is byte buf_off */
    size_t cap, pos, len;
    uint64_t buf_off;
    int eof;
    size_t scan;           /* M_EXACT: no delimiter starts in [pos, scan) */
    size_t nl_at, nl_scan; /* universal: first '\n' >= pos, or NONE and */
    size_t cr_scan;      /* none in [pos, nl_scan); no '\r' in [pos, cr_scan) */
    uint64_t start, end; /* the current file's range */
    int skipping;        /* looking for the block's first line */
    int range_done;      /* no more lines from this file */
    int ended_delim;     /* the last line had its delimiter */
    int quirk_due;       /* the quirk's "" is next */
    uint64_t first_off;  /* file offset of the range's first line */
    uint64_t nlines;     /* lines returned from the current file */

    /* the line last returned, for cbag__lines_path/lineno */
    size_t at_fi;
    uint64_t at_first, at_n, at_base;
    int at_base_known;

    uint64_t bytes_done; /* consumed bytes of files already closed */
    int code;            /* 0, or the error (a cbag_status) */
    char err[1024];
    cbag__buf fix; /* the line after errors=replace/ignore */
};

static int lines_fail(cbag__lines *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int lines_fail(cbag__lines *r, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    r->code = code;
    return -code;
}

static void close_file(cbag__lines *r) {
    if (!r->src) return;
    r->bytes_done += cbag__src_consumed(r->src);
    cbag__src_close(r->src);
    r->src = NULL;
}

static int open_file(cbag__lines *r) {
    const cbag__file_range *f = &r->part->files[r->fi];
    int code;
    uint64_t start = f->codec == CBAG__CODEC_NONE ? f->start : 0;
    r->src = cbag__src_open(f->path, f->codec, start, f->end, r->storage,
                            r->err, sizeof r->err, &code);
    if (!r->src) {
        r->code = code;
        return -code;
    }
    r->start = start;
    r->end = f->codec == CBAG__CODEC_NONE ? f->end : UINT64_MAX;
    r->pos = r->len = 0;
    r->buf_off = start;
    r->eof = 0;
    r->scan = 0;
    r->nl_at = NONE;
    r->nl_scan = r->cr_scan = 0;
    r->skipping = start > 0;
    r->range_done = 0;
    r->ended_delim = 0;
    r->quirk_due = 0;
    r->first_off = start;
    r->nlines = 0;
    return 0;
}

/* At the end of the current file: whether it ended before the size it had
 * when it was listed, and is smaller now (a file that was truncated or
 * replaced while we read it: what was there is gone, and a partial result
 * would look complete). Then the reader fails. */
static int shrank(cbag__lines *r) {
    const cbag__file_range *f = &r->part->files[r->fi];
    uint64_t at = (f->codec == CBAG__CODEC_NONE ? r->start : 0) +
                  cbag__src_consumed(r->src);
    struct stat st;
    if (at >= f->size || stat(f->path, &st) != 0 ||
        (uint64_t)st.st_size >= f->size)
        return 0; /* whole, or a file whose size is not its length (/sys) */
    lines_fail(r, CBAG_IO,
               "%s: the file shrank while being read (%llu bytes when "
               "listed, %llu now)",
               f->path, (unsigned long long)f->size,
               (unsigned long long)st.st_size);
    return 1;
}

/* Moves the unread bytes to the front, grows the buffer if it is full of
 * one line, and reads more: 0, or an error. */
static int refill(cbag__lines *r) {
    if (r->pos > 0) {
        size_t sh = r->pos;
        memmove(r->buf, r->buf + sh, r->len - sh);
        r->len -= sh;
        r->buf_off += sh;
        r->pos = 0;
        r->scan = r->scan > sh ? r->scan - sh : 0;
        r->nl_scan = r->nl_scan > sh ? r->nl_scan - sh : 0;
        r->cr_scan = r->cr_scan > sh ? r->cr_scan - sh : 0;
        if (r->nl_at != NONE) r->nl_at = r->nl_at >= sh ? r->nl_at - sh : NONE;
    }
    if (r->len == r->cap) {
        size_t cap = r->cap * 2;
        char *b = cap > r->cap ? cbag__realloc(r->buf, cap) : NULL;
        if (!b)
            return lines_fail(
                r, CBAG_NOMEM,
                "%s: out of memory for a line longer than %zu bytes",
                r->part->files[r->fi].path, r->len);
        r->buf = b;
        r->cap = cap;
    }
    size_t want = r->cap - r->len;
    /* Past the end of a block only the last line is still needed: small
     * reads, so that small blocks do not each read a megabyte more. */
    if (r->end != UINT64_MAX && r->buf_off + r->len >= r->end && want > 65536)
        want = 65536;
    ssize_t k = cbag__src_read(r->src, r->buf + r->len, want);
    if (k < 0) {
        snprintf(r->err, sizeof r->err, "%s", cbag__src_error(r->src));
        r->code = (int)-k;
        return (int)k;
    }
    if (k == 0) {
        r->eof = 1;
        if (shrank(r)) return -r->code;
    }
    r->len += (size_t)k;
    return 0;
}

/* Finds the end of the line at pos. Returns 1 with *e (just after its
 * terminator) and *cut (the index where the block delimiter in the
 * terminator starts, or NONE when the terminator cannot end a block), or
 * 0 when more bytes are needed. */
static int find_exact(cbag__lines *r, size_t *e, size_t *cut) {
    size_t from = r->scan > r->pos ? r->scan : r->pos;
    const char *p = NULL;
    if (from < r->len) {
        if (r->dlen == 1)
            p = memchr(r->buf + from, r->delim[0], r->len - from);
        else
            p = memmem(r->buf + from, r->len - from, r->delim, r->dlen);
    }
    if (p) {
        *cut = (size_t)(p - r->buf);
        *e = *cut + r->dlen;
        return 1;
    }
    r->scan = r->len >= r->dlen - 1 ? r->len - (r->dlen - 1) : 0;
    return 0;
}

static int find_univ(cbag__lines *r, size_t *e, size_t *cut) {
    if (r->nl_at == NONE || r->nl_at < r->pos) {
        size_t from = r->nl_scan > r->pos ? r->nl_scan : r->pos;
        const char *p =
            from < r->len ? memchr(r->buf + from, '\n', r->len - from) : NULL;
        if (p) {
            r->nl_at = (size_t)(p - r->buf);
        } else {
            r->nl_at = NONE;
            r->nl_scan = r->len;
        }
    }
    size_t lim = r->nl_at != NONE ? r->nl_at : r->len;
    size_t from = r->cr_scan > r->pos ? r->cr_scan : r->pos;
    const char *c = from < lim ? memchr(r->buf + from, '\r', lim - from) : NULL;
    if (c) {
        size_t ci = (size_t)(c - r->buf);
        r->cr_scan = ci;
        if (ci + 1 < r->len) {
            int crlf = r->buf[ci + 1] == '\n';
            *e = ci + 1 + (size_t)crlf;
            *cut = crlf ? ci + 1 : NONE;
            return 1;
        }
        if (r->eof) {
            *e = ci + 1;
            *cut = NONE;
            return 1;
        }
        return 0; /* "\r" last: is "\n" next? */
    }
    r->cr_scan = lim;
    if (r->nl_at != NONE) {
        *e = r->nl_at + 1;
        *cut = r->nl_at;
        return 1;
    }
    return 0;
}

/* Skips to just after the first block delimiter at or after the range's
 * start: 1 done, 0 more bytes needed. Sets range_done when that delimiter
 * lies at or past the end (the block is empty) or there is none. */
static int skip_to_block(cbag__lines *r) {
    const char *p = NULL;
    if (r->pos < r->len) {
        if (r->bdlen == 1)
            p = memchr(r->buf + r->pos, r->bdelim[0], r->len - r->pos);
        else
            p = memmem(r->buf + r->pos, r->len - r->pos, r->bdelim, r->bdlen);
    }
    if (!p) {
        if (r->eof) {
            r->range_done = 1;
            return 1;
        }
        /* keep what could be the beginning of a delimiter */
        if (r->len - r->pos >= r->bdlen) r->pos = r->len - (r->bdlen - 1);
        return 0;
    }
    size_t at = (size_t)(p - r->buf);
    if (r->buf_off + at >= r->end) r->range_done = 1;
    r->pos = at + r->bdlen;
    r->first_off = r->buf_off + r->pos;
    r->skipping = 0;
    return 1;
}

uint64_t cbag__lines_bytes_read(const cbag__lines *r) {
    return r->bytes_done + (r->src ? cbag__src_consumed(r->src) : 0);
}

const char *cbag__lines_error(const cbag__lines *r) {
    return r->code ? r->err : "";
}

const char *cbag__lines_path(const cbag__lines *r) {
    if (r->part->nfiles == 0) return "";
    size_t fi = r->at_fi < r->part->nfiles ? r->at_fi : r->part->nfiles - 1;
    return r->part->files[fi].path;
}

/* Line terminators in the file's first `upto` bytes, with the reader's
 * splitting rules: the lines before a block. -1 if the file cannot be read
 * again. */
static int64_t count_lines(const cbag__lines *r, const char *path,
                           uint64_t upto) {
    char msg[256];
    int code;
    cbag__src *src = cbag__src_open(path, CBAG__CODEC_NONE, 0, upto, r->storage,
                                    msg, sizeof msg, &code);
    if (!src) return -1;
    size_t cap = r->buf0;
    char *b = cbag__malloc(cap + r->dlen);
    if (!b) {
        cbag__src_close(src);
        return -1;
    }
    uint64_t n = 0, done = 0;
    size_t carry = 0; /* M_EXACT: bytes kept from the last chunk */
    int cr_pending = 0;
    while (done < upto) {
        size_t want = upto - done < cap ? (size_t)(upto - done) : cap;
        ssize_t k = cbag__src_read(src, b + carry, want);
        if (k <= 0) break;
        done += (uint64_t)k;
        size_t m = carry + (size_t)k;
        if (r->mode == M_EXACT) {
            size_t i = 0;
            for (;;) {
                const char *p = memmem(b + i, m - i, r->delim, r->dlen);
                if (!p) break;
                n++;
                i = (size_t)(p - b) + r->dlen;
            }
            size_t keep = r->dlen - 1;
            size_t from = m - i > keep ? m - keep : i;
            carry = m - from;
            memmove(b, b + from, carry);
        } else {
            if (cr_pending && b[0] != '\n') n++;
            cr_pending = 0;
            for (const char *p = b; (p = memchr(p, '\n', (size_t)(b + m - p)));
                 p++)
                n++;
            for (const char *p = b; (p = memchr(p, '\r', (size_t)(b + m - p)));
                 p++) {
                if (p + 1 == b + m)
                    cr_pending = 1;
                else if (p[1] != '\n')
                    n++;
            }
        }
    }
    n += (uint64_t)cr_pending;
    cbag__src_close(src);
    cbag__free(b);
    return done == upto ? (int64_t)n : -1;
}

uint64_t cbag__lines_lineno(cbag__lines *r) {
    if (r->at_n == 0) return 0;
    if (!r->at_base_known) {
        if (r->at_first == 0) {
            r->at_base = 0;
        } else {
            int64_t c =
                count_lines(r, r->part->files[r->at_fi].path, r->at_first);
            if (c < 0) return 0;
            r->at_base = (uint64_t)c;
        }
        r->at_base_known = 1;
    }
    return r->at_base + r->at_n;
}

/* Records the line about to be returned as the last one. */
static void mark_line(cbag__lines *r) {
    r->nlines++;
    if (r->at_fi != r->fi || r->at_first != r->first_off) {
        r->at_fi = r->fi;
        r->at_first = r->first_off;
        r->at_base_known = 0;
    }
    r->at_n = r->nlines;
}

/* Decodes the line as errors= says: 1 with the line to return, or an
 * error. */
static int decode(cbag__lines *r, const char **line, size_t *len) {
    const unsigned char *s = (const unsigned char *)*line;
    size_t n = *len;
    size_t i = cbag__utf8_valid_prefix(s, n);
    if (i == n) return 1;
    if (r->enc == CBAG__ENC_STRICT) {
        uint64_t no = cbag__lines_lineno(r);
        char lbuf[32] = "?";
        if (no) snprintf(lbuf, sizeof lbuf, "%llu", (unsigned long long)no);
        return lines_fail(r, CBAG_PARSE,
                          "%s: line %s: invalid UTF-8 at byte %zu of the line "
                          "(0x%02x)",
                          cbag__lines_path(r), lbuf, i, s[i]);
    }
    r->fix.len = 0;
    r->fix.oom = 0;
    size_t done = 0;
    while (i < n) {
        size_t bad = utf8_bad_len(s + i, n - i);
        cbag__buf_put(&r->fix, s + done, i - done);
        if (r->enc == CBAG__ENC_REPLACE)
            cbag__buf_put(&r->fix, "\xEF\xBF\xBD", 3);
        done = i + bad;
        i = done + cbag__utf8_valid_prefix(s + done, n - done);
    }
    cbag__buf_put(&r->fix, s + done, n - done);
    cbag__buf_reserve(&r->fix, 1); /* never a NULL pointer, even if empty */
    if (r->fix.oom)
        return lines_fail(r, CBAG_NOMEM, "%s: out of memory",
                          cbag__lines_path(r));
    *line = r->fix.p;
    *len = r->fix.len;
    return 1;
}

int cbag__lines_next(cbag__lines *r, const char **line, size_t *len) {
    if (r->code) return -r->code;
    for (;;) {
        if (r->quirk_due) {
            r->quirk_due = 0;
            mark_line(r);
            *line = r->buf; /* any valid pointer */
            *len = 0;
            return 1;
        }
        if (!r->src) {
            /* the next file, if any (the first was opened by _open) */
            if (r->fi + 1 >= r->part->nfiles) return 0;
            r->fi++;
            if (open_file(r)) return -r->code;
        }
        if (r->range_done) {
            close_file(r);
            continue;
        }
        if (r->skipping) {
            if (!skip_to_block(r) && refill(r)) return -r->code;
            continue;
        }
        size_t e, cut;
        int found = r->mode == M_EXACT ? find_exact(r, &e, &cut)
                                       : find_univ(r, &e, &cut);
        if (!found) {
            if (!r->eof) {
                if (refill(r)) return -r->code;
                continue;
            }
            r->range_done = 1;
            if (r->pos == r->len) {
                /* dask's str.split yields a final "" after a final
                 * delimiter (blocksize=None, custom delimiter only) */
                if (r->quirk && r->ended_delim) r->quirk_due = 1;
                continue;
            }
            e = r->len; /* the last line, without delimiter */
            cut = NONE;
            r->ended_delim = 0;
        } else {
            r->ended_delim = 1;
            if (cut != NONE && r->buf_off + cut >= r->end) r->range_done = 1;
        }
        char *s = r->buf + r->pos;
        size_t n = e - r->pos;
        r->pos = e;
        if (r->mode == M_UNIV && found && s[n - 1] != '\n') {
            s[n - 1] = '\n'; /* lone "\r" */
        } else if (r->mode == M_UNIV && found && n >= 2 && s[n - 2] == '\r') {
            s[n - 2] = '\n'; /* "\r\n" */
            n--;
        }
        mark_line(r);
        *line = s;
        *len = n;
        return decode(r, line, len);
    }
}

cbag__lines *cbag__lines_open(const cbag__text_part *p,
                              const cbag__text_opts *o, char *err,
                              size_t errlen) {
    cbag__lines *r = cbag__calloc(1, sizeof *r);
    if (!r) goto nomem;
    r->part = p;
    r->storage = o->storage;
    r->enc = o->encoding_errors;
    if (!o->delim) {
        r->mode = M_UNIV;
    } else if (!o->delim[0]) {
        r->mode = M_UNIV_KEEP;
    } else {
        r->mode = M_EXACT;
        r->delim = cbag__strdup(o->delim);
        if (!r->delim) goto nomem;
        r->dlen = strlen(o->delim);
        r->quirk = o->blocksize == 0 && strcmp(o->delim, "\n") != 0 &&
                   strcmp(o->delim, "\r") != 0 && strcmp(o->delim, "\r\n") != 0;
    }
    r->bdelim = r->mode == M_EXACT ? r->delim : "\n";
    r->bdlen = r->mode == M_EXACT ? r->dlen : 1;
    if (r->mode != M_EXACT) r->dlen = 1; /* count_lines' carry */
    r->buf0 = o->bufsize ? o->bufsize : BUF_INIT;
    r->cap = r->buf0;
    r->buf = cbag__malloc(r->cap);
    if (!r->buf) goto nomem;
    if (p->nfiles == 0) return r;
    if (open_file(r)) {
        cbag__io_msg(err, errlen, "%s", r->err);
        cbag__lines_close(r);
        return NULL;
    }
    return r;
nomem:
    cbag__io_msg(err, errlen, "%s: out of memory",
                 p->nfiles ? p->files[0].path : "read_text");
    cbag__lines_close(r);
    return NULL;
}

void cbag__lines_close(cbag__lines *r) {
    if (!r) return;
    close_file(r);
    cbag__free(r->buf);
    cbag__free(r->delim);
    cbag__buf_free(&r->fix);
    cbag__free(r);
}
