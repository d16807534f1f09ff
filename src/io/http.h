/* http.h: what http.c shares with rstream.c and s3.c (internal to src/io):
 * one libcurl easy handle set up for a request, the response's status line
 * and headers as they arrive, which failures are worth a retry, and the
 * wording of failures. */
#ifndef CBAG_IO_HTTP_H
#define CBAG_IO_HTTP_H

#include <curl/curl.h>

#include "remote.h"

/* What the header callback learns about the response being received. A
 * new status line (a redirect, "100 Continue") starts it afresh. */
typedef struct cbag__hdrs {
    long status;
    char reason[64];
    uint64_t length;                 /* Content-Length, or UINT64_MAX */
    uint64_t range_start, range_tot; /* Content-Range, UINT64_MAX if none */
    char etag[256];
} cbag__hdrs;

/* curl_global_init once per process (libcurl's allocations go through
 * cbag's allocator). CBAG_OK, or CBAG_IO with the message in err. */
int cbag__curl_init(char *err, size_t errlen);

/* A new easy handle for rq (URL, method, signing, timeouts, headers).
 * range: "bytes=A-B" or NULL. The header list to free after the transfer
 * goes to *hl. hd receives the response headers. NULL when memory is
 * short. */
CURL *cbag__easy_new(const cbag__req *rq, const char *range, cbag__hdrs *hd,
                     struct curl_slist **hl);

/* Whether a failed transfer is worth another try: curl's transport errors
 * (refused or dropped connections, timeouts, short bodies) and HTTP 5xx,
 * 408 and 429. */
int cbag__transient(CURLcode rc, long status);

/* Sleeps before retry number `attempt` (0-based): 50 ms doubling, at most
 * 2 s. */
void cbag__backoff(int attempt);

/* "HTTP 404 Not Found (NoSuchKey: The specified key does not exist.)"
 * from a status and an S3 error body (body may be NULL), or curl's words
 * for rc; " (after N retries)" when tries > 0. */
void cbag__http_why(char *out, size_t outlen, CURLcode rc, const cbag__hdrs *hd,
                    const char *body, size_t body_len, int tries);

/* The first <tag>...</tag> in xml[0..n): 1 with its text in [*a, *b)
 * (*b is where "</tag>" starts), 0 if there is none. */
int cbag__xml_span(const char *xml, size_t n, const char *tag, const char **a,
                   const char **b);
/* Its text with the XML entities decoded, into out (NUL-terminated, cut
 * to outlen): 1 found, 0 not. */
int cbag__xml_get(const char *xml, size_t n, const char *tag, char *out,
                  size_t outlen);

#endif
