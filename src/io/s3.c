/* s3.c: s3:// names as HTTP URLs, bucket listings (ListObjectsV2) and
 * uploads (PUT, or CreateMultipartUpload / UploadPart /
 * CompleteMultipartUpload, with AbortMultipartUpload on failure).
 *
 * A custom endpoint (endpoint_url) is addressed path-style,
 * ENDPOINT/BUCKET/KEY, as S3-compatible servers expect; AWS itself
 * virtual-hosted style, https://BUCKET.s3.REGION.amazonaws.com/KEY. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "mem.h"
#include "src.h"

#define PART_SIZE ((size_t)8 << 20)

/* s3://BUCKET/KEY into its parts (pointers into name). 0, or -1 when
 * there is no bucket. */
static int split(const char *name, const char **bucket, size_t *blen,
                 const char **key) {
    const char *b = name + 5;
    const char *slash = strchr(b, '/');
    *bucket = b;
    *blen = slash ? (size_t)(slash - b) : strlen(b);
    *key = slash ? slash + 1 : b + *blen;
    return *blen ? 0 : -1;
}

/* SigV4's URI encoding: unreserved characters as they are, '/' too when
 * keep_slash, everything else %XX. */
static void put_enc(cbag__buf *b, const char *s, size_t n, int keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~' || (c == '/' && keep_slash)) {
            cbag__buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            cbag__buf_put(b, e, 3);
        }
    }
}

/* The bucket's base URL, ending in '/': ENDPOINT/BUCKET/ or
 * https://BUCKET.s3.REGION.amazonaws.com/. */
static void put_base(cbag__buf *b, const char *bucket, size_t blen,
                     const cbag__storage *st) {
    if (st->endpoint[0]) {
        cbag__buf_puts(b, st->endpoint);
        cbag__buf_putc(b, '/');
        put_enc(b, bucket, blen, 0);
        cbag__buf_putc(b, '/');
    } else {
        cbag__buf_puts(b, "https://");
        cbag__buf_put(b, bucket, blen);
        cbag__buf_printf(b, ".s3.%s.amazonaws.com/", st->region);
    }
}

static int signs(const cbag__storage *st) {
    return !st->anon && st->key[0] && st->secret[0];
}

char *cbag__http_url(const char *name, const cbag__storage *st, int *sign,
                     char *err, size_t errlen) {
    cbag__buf b = CBAG__BUF_INIT;
    *sign = 0;
    if (!cbag__is_s3(name)) {
        cbag__buf_puts(&b, name);
    } else {
        const char *bucket, *key;
        size_t blen;
        if (split(name, &bucket, &blen, &key) || !*key) {
            cbag__io_msg(err, errlen, "%s: not an s3://BUCKET/KEY URL", name);
            return NULL;
        }
        *sign = signs(st);
        put_base(&b, bucket, blen, st);
        put_enc(&b, key, strlen(key), 1);
    }
    char *url = cbag__buf_detach(&b, NULL);
    if (!url) cbag__io_msg(err, errlen, "%s: out of memory", name);
    return url;
}

/* ------------------------------------------------------------------------ */
/* Listing                                                                  */

int cbag__s3_glob(const char *pattern, const cbag__storage *st,
                  int (*add)(void *ud, const char *name, uint64_t size),
                  void *ud, char *err, size_t errlen) {
    const char *bucket, *kpat;
    size_t blen;
    if (split(pattern, &bucket, &blen, &kpat)) {
        cbag__io_msg(err, errlen, "%s: not an s3://BUCKET/KEY URL", pattern);
        return CBAG_INVALID;
    }
    /* the keys that can match start with the pattern's literal part */
    size_t plen = strcspn(kpat, "*?[");
    char *token = NULL; /* the continuation token, decoded */
    int rc = CBAG_OK;
    for (int page = 0; rc == CBAG_OK; page++) {
        cbag__buf u = CBAG__BUF_INIT;
        put_base(&u, bucket, blen, st);
        /* query parameters sorted by name, as SigV4 signs them */
        cbag__buf_putc(&u, '?');
        if (token) {
            cbag__buf_puts(&u, "continuation-token=");
            put_enc(&u, token, strlen(token), 0);
            cbag__buf_putc(&u, '&');
        }
        cbag__buf_puts(&u, "list-type=2&prefix=");
        put_enc(&u, kpat, plen, 0);
        char *url = cbag__buf_detach(&u, NULL);
        if (!url) {
            rc = CBAG_NOMEM;
            cbag__io_msg(err, errlen, "%s: out of memory", pattern);
            break;
        }
        cbag__req rq = {pattern, url, "GET", signs(st), st, NULL, 0, 64 << 20};
        cbag__resp rs;
        rc = cbag__http_do(&rq, &rs, err, errlen);
        cbag__free(url);
        if (rc) break;
        const char *p = rs.body, *end = rs.body + rs.body_len;
        const char *ia, *ib;
        char key[2048], size[32];
        while (rc == CBAG_OK &&
               cbag__xml_span(p, (size_t)(end - p), "Contents", &ia, &ib)) {
            p = ib;
            size_t il = (size_t)(ib - ia);
            if (!cbag__xml_get(ia, il, "Key", key, sizeof key)) continue;
            uint64_t sz = 0;
            if (cbag__xml_get(ia, il, "Size", size, sizeof size))
                sz = strtoull(size, NULL, 10);
            size_t kl = strlen(key);
            if (!kl || key[kl - 1] == '/') continue; /* "directories" */
            if (fnmatch(kpat, key, FNM_PATHNAME) != 0) continue;
            cbag__buf n = CBAG__BUF_INIT;
            cbag__buf_puts(&n, "s3://");
            cbag__buf_put(&n, bucket, blen);
            cbag__buf_putc(&n, '/');
            cbag__buf_puts(&n, key);
            char *full = cbag__buf_detach(&n, NULL);
            if (!full) {
                rc = CBAG_NOMEM;
                cbag__io_msg(err, errlen, "%s: out of memory", pattern);
                break;
            }
            rc = add(ud, full, sz);
            cbag__free(full);
            if (rc) cbag__io_msg(err, errlen, "%s: out of memory", pattern);
        }
        char trunc[16] = "", tok[2048];
        cbag__xml_get(rs.body, rs.body_len, "IsTruncated", trunc, sizeof trunc);
        int more = !strcmp(trunc, "true") &&
                   cbag__xml_get(rs.body, rs.body_len, "NextContinuationToken",
                                 tok, sizeof tok);
        cbag__free(rs.body);
        if (rc || !more) break;
        cbag__free(token);
        token = cbag__strdup(tok);
        if (!token) {
            rc = CBAG_NOMEM;
            cbag__io_msg(err, errlen, "%s: out of memory", pattern);
        }
    }
    cbag__free(token);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Uploads                                                                  */

struct cbag__upload {
    char *name, *url;
    cbag__storage st;
    size_t part_size;
    cbag__buf data;  /* the part being filled */
    char *upload_id; /* a multipart upload, once started */
    cbag__buf parts; /* CompleteMultipartUpload's <Part> list */
    unsigned nparts;
    int failed;
};

/* A request on the object's URL with a query (already sorted and
 * encoded, or NULL). */
static int object_req(cbag__upload *u, const char *method, const char *query,
                      const void *body, size_t len, cbag__resp *rs, char *err,
                      size_t errlen) {
    cbag__buf b = CBAG__BUF_INIT;
    cbag__buf_puts(&b, u->url);
    if (query) {
        cbag__buf_putc(&b, '?');
        cbag__buf_puts(&b, query);
    }
    char *url = cbag__buf_detach(&b, NULL);
    if (!url) {
        cbag__io_msg(err, errlen, "%s: out of memory", u->name);
        return CBAG_NOMEM;
    }
    cbag__req rq = {u->name, url, method, signs(&u->st), &u->st, body, len, 0};
    int rc = cbag__http_do(&rq, rs, err, errlen);
    cbag__free(url);
    return rc;
}

/* "partNumber=N&uploadId=ID" (sorted, encoded), or "uploadId=ID". */
static char *mp_query(const cbag__upload *u, unsigned part) {
    cbag__buf b = CBAG__BUF_INIT;
    if (part) cbag__buf_printf(&b, "partNumber=%u&", part);
    cbag__buf_puts(&b, "uploadId=");
    put_enc(&b, u->upload_id, strlen(u->upload_id), 0);
    return cbag__buf_detach(&b, NULL);
}

/* Sends the filled part: the first one starts the multipart upload. */
static int send_part(cbag__upload *u, char *err, size_t errlen) {
    cbag__resp rs;
    int rc;
    if (!u->upload_id) {
        rc = object_req(u, "POST", "uploads=", NULL, 0, &rs, err, errlen);
        if (rc) return rc;
        char id[1024];
        int ok = cbag__xml_get(rs.body, rs.body_len, "UploadId", id, sizeof id);
        cbag__free(rs.body);
        if (!ok) {
            cbag__io_msg(err, errlen,
                         "%s: CreateMultipartUpload returned no UploadId",
                         u->name);
            return CBAG_IO;
        }
        if (!(u->upload_id = cbag__strdup(id))) goto nomem;
        cbag__buf_puts(&u->parts, "<CompleteMultipartUpload>");
    }
    unsigned no = ++u->nparts;
    char *q = mp_query(u, no);
    if (!q) goto nomem;
    rc = object_req(u, "PUT", q, u->data.p, u->data.len, &rs, err, errlen);
    cbag__free(q);
    if (rc) return rc;
    cbag__free(rs.body);
    if (!rs.etag[0]) {
        cbag__io_msg(err, errlen, "%s: UploadPart %u returned no ETag", u->name,
                     no);
        return CBAG_IO;
    }
    cbag__buf_printf(&u->parts,
                     "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>",
                     no, rs.etag);
    if (u->parts.oom) goto nomem;
    u->data.len = 0;
    return CBAG_OK;
nomem:
    cbag__io_msg(err, errlen, "%s: out of memory", u->name);
    return CBAG_NOMEM;
}

cbag__upload *cbag__upload_open(const char *name, const cbag__storage *st,
                                size_t part_size, char *err, size_t errlen) {
    if (!cbag__is_s3(name)) {
        cbag__io_msg(err, errlen,
                     "%s: only s3:// URLs can be written, not http(s)", name);
        return NULL;
    }
    if (cbag__curl_init(err, errlen)) return NULL;
    cbag__upload *u = cbag__calloc(1, sizeof *u);
    if (!u || !(u->name = cbag__strdup(name))) {
        cbag__free(u);
        cbag__io_msg(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    u->st = *st;
    u->part_size = part_size ? part_size : PART_SIZE;
    int sign;
    u->url = cbag__http_url(name, st, &sign, err, errlen);
    if (!u->url) {
        cbag__upload_abort(u);
        return NULL;
    }
    return u;
}

int cbag__upload_write(cbag__upload *u, const void *p, size_t n, char *err,
                       size_t errlen) {
    const char *s = p;
    while (n) {
        size_t room = u->part_size - u->data.len;
        size_t k = n < room ? n : room;
        if (cbag__buf_put(&u->data, s, k)) {
            cbag__io_msg(err, errlen, "%s: out of memory", u->name);
            return CBAG_NOMEM;
        }
        s += k;
        n -= k;
        /* a full part goes now; the last one waits for commit */
        if (u->data.len == u->part_size && n) {
            int rc = send_part(u, err, errlen);
            if (rc) return rc;
        }
    }
    return CBAG_OK;
}

int cbag__upload_commit(cbag__upload *u, char *err, size_t errlen) {
    cbag__resp rs;
    int rc;
    if (!u->upload_id) {
        rc = object_req(u, "PUT", NULL, u->data.p, u->data.len, &rs, err,
                        errlen);
    } else {
        rc = send_part(u, err, errlen);
        if (!rc) {
            cbag__buf_puts(&u->parts, "</CompleteMultipartUpload>");
            char *q = mp_query(u, 0);
            if (!q || u->parts.oom) {
                cbag__free(q);
                cbag__io_msg(err, errlen, "%s: out of memory", u->name);
                rc = CBAG_NOMEM;
            } else {
                rc = object_req(u, "POST", q, u->parts.p, u->parts.len, &rs,
                                err, errlen);
                cbag__free(q);
            }
        }
    }
    if (!rc) {
        /* CompleteMultipartUpload may fail with 200 and an <Error> body */
        char code[128];
        if (rs.body &&
            cbag__xml_get(rs.body, rs.body_len, "Code", code, sizeof code) &&
            strstr(rs.body, "<Error>")) {
            cbag__io_msg(err, errlen, "%s: upload failed (%s)", u->name, code);
            rc = CBAG_IO;
        }
        cbag__free(rs.body);
    }
    if (rc) {
        cbag__upload_abort(u);
        return rc;
    }
    cbag__free(u->upload_id);
    u->upload_id = NULL;
    cbag__upload_abort(u); /* nothing left to abort: just frees */
    return CBAG_OK;
}

void cbag__upload_abort(cbag__upload *u) {
    if (!u) return;
    if (u->upload_id) {
        /* best effort: the parts would otherwise linger (and be billed) */
        char *q = mp_query(u, 0);
        cbag__resp rs;
        char err[256];
        if (q && !object_req(u, "DELETE", q, NULL, 0, &rs, err, sizeof err))
            cbag__free(rs.body);
        cbag__free(q);
        cbag__free(u->upload_id);
    }
    cbag__buf_free(&u->data);
    cbag__buf_free(&u->parts);
    cbag__free(u->url);
    cbag__free(u->name);
    cbag__free(u);
}
