/* remote.h: objects behind http://, https:// and s3:// URLs, via libcurl.
 *
 * Internal to src/io. http.c makes single requests (HEAD, small GETs, PUT,
 * POST, DELETE) with retries; rstream.c streams one object's bytes, pulled
 * by the reader; s3.c maps s3:// names to HTTP URLs, lists buckets and
 * uploads. Messages name the URL the user wrote ("s3://b/k: HTTP 404 Not
 * Found (NoSuchKey)"), never the HTTP URL it was mapped to. */
#ifndef CBAG_IO_REMOTE_H
#define CBAG_IO_REMOTE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cbag.h"

/* The storage options with the environment's defaults filled in. Plain
 * data (no pointers), so it is copied by value and lives wherever its
 * owner puts it. Empty strings mean "not set". */
typedef struct cbag__storage {
    int anon;    /* never sign */
    int retries; /* transient failures retried this many times */
    double timeout;
    char key[256], secret[256], token[4096];
    char endpoint[1024]; /* no trailing '/' */
    char region[64];
} cbag__storage;

/* Fills *out from o (NULL: all defaults) and the environment. CBAG_OK, or
 * CBAG_INVALID with the message in err when a value is too long or the
 * endpoint is not an http(s) URL. */
int cbag__storage_init(cbag__storage *out, const cbag_storage_options *o,
                       char *err, size_t errlen);

/* 1 if path is an http://, https:// or s3:// URL. */
int cbag__is_url(const char *path);
/* 1 if path is an s3:// URL. */
int cbag__is_s3(const char *path);

/* ---- s3.c: names ------------------------------------------------------ */

/* The HTTP URL of an object: s3://b/k becomes ENDPOINT/b/k (path-style)
 * or https://b.s3.REGION.amazonaws.com/k, the key percent-encoded as
 * SigV4 wants it; http(s) URLs are returned as they are. malloc'd (free
 * with cbag__free), NULL on a malformed s3 URL or out of memory, with the
 * message in err. *sign: whether requests are to be signed. */
char *cbag__http_url(const char *name, const cbag__storage *st, int *sign,
                     char *err, size_t errlen);

/* ---- http.c: single requests ----------------------------------------- */

typedef struct cbag__req {
    const char *name;   /* for messages: the URL the user wrote */
    const char *url;    /* the HTTP URL */
    const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
    int sign;           /* SigV4-sign with st's key and secret */
    const cbag__storage *st;
    const void *body; /* PUT and POST: the request body (may be NULL) */
    size_t body_len;
    size_t max_resp; /* response bodies beyond this many bytes: an error */
} cbag__req;

typedef struct cbag__resp {
    long status;
    uint64_t length; /* Content-Length, UINT64_MAX when absent */
    char etag[256];  /* the ETag header, quotes kept */
    char *body;      /* NUL-terminated, malloc'd: free with cbag__free */
    size_t body_len;
} cbag__resp;

/* Makes the request, retrying transient failures with backoff. CBAG_OK
 * when the status is 2xx, with the response in *rs (free rs->body);
 * else CBAG_IO (CBAG_NOMEM) and err says "NAME: HTTP 404 Not Found
 * (NoSuchKey)", "NAME: Couldn't connect to server (after 5 retries)"... */
int cbag__http_do(const cbag__req *rq, cbag__resp *rs, char *err,
                  size_t errlen);

/* The size of an object (HEAD). */
int cbag__remote_size(const char *name, const cbag__storage *st, uint64_t *size,
                      char *err, size_t errlen);

/* ---- s3.c: listing ---------------------------------------------------- */

/* Calls add(ud, name, size) for every key of an s3 glob's bucket that
 * matches it ('*', '?', '[..]' within a path component, as fsspec), in
 * key order, listing with ListObjectsV2 page by page. CBAG_OK (also for
 * no match), or an error from add or the requests. */
int cbag__s3_glob(const char *pattern, const cbag__storage *st,
                  int (*add)(void *ud, const char *name, uint64_t size),
                  void *ud, char *err, size_t errlen);

/* ---- rstream.c: streamed downloads ----------------------------------- */

typedef struct cbag__rstream cbag__rstream;

/* Streams the object's bytes from offset start. end is a hint: the reader
 * wants [start, end) and maybe a little more (UINT64_MAX: to the end), so
 * bytes are asked for with Range requests a little past end and more
 * ranges follow only if read on. st must outlive the stream. NULL with a
 * message naming the URL (and *code) when the URL is malformed or memory
 * is short; HTTP failures show at the first read. */
cbag__rstream *cbag__rstream_open(const char *name, const cbag__storage *st,
                                  uint64_t start, uint64_t end, char *err,
                                  size_t errlen, int *code);
/* Up to n bytes: >0, 0 at the end of the object, <0 minus a cbag_status
 * with the message (without the name) in cbag__rstream_error. */
ssize_t cbag__rstream_read(cbag__rstream *s, void *dst, size_t n);
const char *cbag__rstream_error(const cbag__rstream *s);
void cbag__rstream_close(cbag__rstream *s);

/* ---- s3.c: uploads ---------------------------------------------------- */

typedef struct cbag__upload cbag__upload;

/* An object written whole or not at all: one PUT on commit, or a
 * multipart upload once more than part_size bytes were written (0: 8 MB;
 * S3 wants at least 5 MB but the last part). s3:// only. NULL with the
 * message in err. st is copied. */
cbag__upload *cbag__upload_open(const char *name, const cbag__storage *st,
                                size_t part_size, char *err, size_t errlen);
/* CBAG_OK or an error; messages (in err) name the URL. */
int cbag__upload_write(cbag__upload *u, const void *p, size_t n, char *err,
                       size_t errlen);
/* Sends what is left and completes the object; frees u. On failure the
 * multipart upload is aborted; the message in err. */
int cbag__upload_commit(cbag__upload *u, char *err, size_t errlen);
/* Aborts a multipart upload, if one was started; frees u. NULL ignored. */
void cbag__upload_abort(cbag__upload *u);

#endif
