/* rstream.c: one remote object's bytes, streamed as the reader pulls them.
 *
 * Design: each stream owns a libcurl multi handle with one transfer, and
 * drives it only from cbag__rstream_read, on the reader's own thread.
 * libcurl's write callback copies into the caller's buffer; what does not
 * fit waits in a small spill buffer (at most what one curl_multi_perform
 * receives). Between reads nothing drives the transfer, so the kernel's
 * socket buffer fills and TCP flow control holds the server back: memory
 * stays bounded whatever the object's size, with no extra thread, no
 * locking and no pause/unpause dance. The cost is that bytes arrive only
 * while the reader waits for them, which for a reader that decompresses
 * or parses between reads means less overlap than a reader thread would
 * give; partitions run in parallel, which hides most of it.
 *
 * Ranges: a block [start, end) is asked for as "bytes=start-(end+64K)"
 * (the reader reads past its end to finish its last line); reading on
 * asks for further ranges, each twice as long, up to 8 MB. A stream to the
 * end (compressed files) is one open-ended request.
 *
 * Faults: a dropped connection, a short body (curl's CURLE_PARTIAL_FILE),
 * a timeout (no byte for st->timeout seconds while the reader waits) or a
 * 5xx is retried with backoff from the byte reached ("bytes=POS-"); a
 * retry that got bytes resets the count. 4xx fail at once with the
 * status. A server that ignores Range (200 instead of 206) is read from
 * its start, skipping to the byte wanted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "mem.h"
#include "src.h"

#define SLACK ((uint64_t)64 << 10)
#define SPAN_MAX ((uint64_t)8 << 20)
#define EBODY_MAX 4096

struct cbag__rstream {
    char *name, *url;
    const cbag__storage *st;
    int sign;
    CURLM *m;
    CURL *h; /* the running transfer, or NULL */
    struct curl_slist *hl;
    cbag__hdrs hd;
    uint64_t pos;     /* object offset of the next byte to receive */
    uint64_t req_end; /* the running request's end, UINT64_MAX: open */
    uint64_t end;     /* the reader's hint: it wants [start, end) */
    uint64_t total;   /* the object's size once known, else UINT64_MAX */
    uint64_t span;    /* length of the next further range */
    uint64_t skip;    /* bytes to drop: the server ignored Range */
    uint64_t got;     /* bytes received by the running request */
    int requests;     /* requests made so far */
    int begun;        /* the running response's status was checked */
    int eof, code, tries;
    unsigned char *dst; /* the caller's buffer during a read */
    size_t dst_n, dst_got;
    cbag__buf spill; /* received, not yet read: spill.p[spill_pos..len) */
    size_t spill_pos;
    cbag__buf ebody; /* an error response's body (its first 4 KB) */
    char err[700];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static ssize_t sfail(cbag__rstream *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ssize_t sfail(cbag__rstream *s, int code, const char *fmt, ...) {
    if (!s->code) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err, sizeof s->err, fmt, ap);
        va_end(ap);
        s->code = code;
    }
    return -s->code;
}

/* The first body bytes of a response: is it the range asked for? */
static int begin(cbag__rstream *s) {
    s->begun = 1;
    const cbag__hdrs *hd = &s->hd;
    if (hd->status >= 300) return 0; /* its body is the error's */
    if (hd->status == 206 && hd->range_start != UINT64_MAX) {
        if (hd->range_start > s->pos)
            return (int)sfail(s, CBAG_IO,
                              "asked for bytes from %llu, the server sent "
                              "bytes from %llu",
                              (unsigned long long)s->pos,
                              (unsigned long long)hd->range_start);
        s->skip = s->pos - hd->range_start;
        if (hd->range_tot != UINT64_MAX) s->total = hd->range_tot;
    } else {
        s->skip = s->pos; /* the whole object, from its first byte */
        if (hd->length != UINT64_MAX) s->total = hd->length;
        s->req_end = UINT64_MAX;
    }
    return 0;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud) {
    cbag__rstream *s = ud;
    size_t len = size * n;
    if (!s->begun && begin(s)) return 0; /* stops it: CURLE_WRITE_ERROR */
    if (s->hd.status >= 300) {
        size_t k = EBODY_MAX - s->ebody.len;
        if (k > len) k = len;
        cbag__buf_put(&s->ebody, p, k);
        return len;
    }
    const char *q = p;
    size_t k = len;
    if (s->skip) {
        size_t d = s->skip < k ? (size_t)s->skip : k;
        q += d;
        k -= d;
        s->skip -= d;
    }
    s->pos += k;
    s->got += k;
    size_t c = s->dst_n - s->dst_got;
    if (c > k) c = k;
    if (c) memcpy(s->dst + s->dst_got, q, c);
    s->dst_got += c;
    if (k > c) {
        if (s->spill_pos == s->spill.len) s->spill.len = s->spill_pos = 0;
        if (cbag__buf_put(&s->spill, q + c, k - c)) {
            sfail(s, CBAG_NOMEM, "out of memory");
            return 0;
        }
    }
    return len;
}

static void stop(cbag__rstream *s) {
    if (!s->h) return;
    curl_multi_remove_handle(s->m, s->h);
    curl_easy_cleanup(s->h);
    curl_slist_free_all(s->hl);
    s->h = NULL;
    s->hl = NULL;
}

/* Starts a request at pos (or finds the object finished). */
static int start(cbag__rstream *s) {
    if (s->total != UINT64_MAX && s->pos >= s->total) {
        s->eof = 1;
        return 0;
    }
    uint64_t end = UINT64_MAX;
    if (s->end != UINT64_MAX) {
        if (s->requests == 0 || s->pos < s->end) {
            end = (s->end > s->pos ? s->end : s->pos) + SLACK;
        } else {
            end = s->pos + s->span;
            s->span = s->span * 2 < SPAN_MAX ? s->span * 2 : SPAN_MAX;
        }
        if (s->total != UINT64_MAX && end > s->total) end = s->total;
    }
    char range[64], *rp = range;
    if (end != UINT64_MAX)
        snprintf(range, sizeof range, "bytes=%llu-%llu",
                 (unsigned long long)s->pos, (unsigned long long)end - 1);
    else if (s->pos > 0)
        snprintf(range, sizeof range, "bytes=%llu-",
                 (unsigned long long)s->pos);
    else
        rp = NULL;
    cbag__req rq = {s->name, s->url, "GET", s->sign, s->st, NULL, 0, 0};
    s->h = cbag__easy_new(&rq, rp, &s->hd, &s->hl);
    if (!s->h) return (int)sfail(s, CBAG_NOMEM, "out of memory");
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_BUFFERSIZE, 128L << 10);
    if (curl_multi_add_handle(s->m, s->h) != CURLM_OK) {
        stop(s);
        return (int)sfail(s, CBAG_NOMEM, "out of memory");
    }
    s->req_end = end;
    s->requests++;
    s->begun = 0;
    s->got = 0;
    s->skip = 0;
    s->ebody.len = 0;
    return 0;
}

/* The running request ended with rc: go on, retry, or fail. */
static int finish(cbag__rstream *s, CURLcode rc) {
    long status = s->hd.status;
    stop(s);
    if (s->code) return -s->code; /* begin() or on_data() failed it */
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        if (!s->begun && begin(s)) return -s->code;
        if (s->skip)
            return (int)sfail(
                s, CBAG_IO, "the body ended %llu bytes before byte %llu",
                (unsigned long long)s->skip, (unsigned long long)s->pos);
        s->tries = 0;
        /* an open request, or one the server served whole, ends the data */
        if (s->req_end == UINT64_MAX) {
            if (s->total != UINT64_MAX && s->pos < s->total)
                return (int)sfail(
                    s, CBAG_IO, "the body ended at byte %llu of %llu",
                    (unsigned long long)s->pos, (unsigned long long)s->total);
            s->eof = 1;
        } else if (s->pos < s->req_end && s->total == UINT64_MAX) {
            s->eof = 1; /* a short range: the object ends here */
        }
        return 0;
    }
    if (rc == CURLE_OK && status == 416 && s->pos > 0 &&
        s->total == UINT64_MAX) {
        s->eof = 1; /* asked past the end of an object of unknown size */
        return 0;
    }
    if (s->got) s->tries = 0; /* progress: resume from here */
    if (s->tries < s->st->retries && cbag__transient(rc, status)) {
        cbag__backoff(s->tries++);
        return 0;
    }
    if (rc == CURLE_PARTIAL_FILE)
        return (int)sfail(
            s, CBAG_IO,
            "the body is shorter than its Content-Length (the connection "
            "closed at byte %llu)%s",
            (unsigned long long)s->pos, s->tries ? " (after retries)" : "");
    char why[600];
    cbag__http_why(why, sizeof why, rc, &s->hd, s->ebody.p, s->ebody.len,
                   s->tries);
    return (int)sfail(s, CBAG_IO, "%s", why);
}

ssize_t cbag__rstream_read(cbag__rstream *s, void *dst, size_t n) {
    if (s->code) return -s->code;
    if (n == 0) return 0;
    if (s->spill_pos < s->spill.len) {
        size_t k = s->spill.len - s->spill_pos;
        if (k > n) k = n;
        memcpy(dst, s->spill.p + s->spill_pos, k);
        s->spill_pos += k;
        return (ssize_t)k;
    }
    s->dst = dst;
    s->dst_n = n;
    s->dst_got = 0;
    double idle = now();
    while (!s->dst_got && !s->eof && !s->code) {
        if (!s->h) {
            if (start(s) || s->eof) break;
            idle = now();
        }
        int running;
        if (curl_multi_perform(s->m, &running) != CURLM_OK) {
            sfail(s, CBAG_IO, "libcurl failed");
            break;
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(s->m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == s->h) {
                if (finish(s, msg->data.result)) break;
                idle = now();
            }
        if (s->dst_got || s->eof || s->code || !s->h) continue;
        double waited = now() - idle;
        if (waited >= s->st->timeout) {
            /* a stalled server: as a timeout, retried from pos */
            stop(s);
            s->hd.status = 0;
            if (finish(s, CURLE_OPERATION_TIMEDOUT)) break;
            idle = now();
            continue;
        }
        double left_s = s->st->timeout - waited;
        int ms = left_s < 1 ? (int)(left_s * 1000) + 1 : 1000;
        curl_multi_poll(s->m, NULL, 0, ms, NULL);
    }
    s->dst = NULL;
    size_t got = s->dst_got;
    s->dst_n = s->dst_got = 0;
    if (got) return (ssize_t)got;
    return s->code ? -s->code : 0;
}

const char *cbag__rstream_error(const cbag__rstream *s) {
    return s->code ? s->err : "";
}

void cbag__rstream_close(cbag__rstream *s) {
    if (!s) return;
    stop(s);
    if (s->m) curl_multi_cleanup(s->m);
    cbag__buf_free(&s->spill);
    cbag__buf_free(&s->ebody);
    cbag__free(s->url);
    cbag__free(s->name);
    cbag__free(s);
}

cbag__rstream *cbag__rstream_open(const char *name, const cbag__storage *st,
                                  uint64_t start, uint64_t end, char *err,
                                  size_t errlen, int *code) {
    *code = CBAG_IO;
    if (cbag__curl_init(err, errlen)) return NULL;
    *code = CBAG_NOMEM;
    cbag__rstream *s = cbag__calloc(1, sizeof *s);
    if (!s || !(s->name = cbag__strdup(name)) || !(s->m = curl_multi_init())) {
        cbag__io_msg(err, errlen, "%s: out of memory", name);
        cbag__rstream_close(s);
        return NULL;
    }
    s->url = cbag__http_url(name, st, &s->sign, err, errlen);
    if (!s->url) {
        *code = CBAG_IO;
        cbag__rstream_close(s);
        return NULL;
    }
    s->st = st;
    s->pos = start;
    s->end = end;
    s->total = UINT64_MAX;
    s->span = SLACK * 4;
    return s;
}
