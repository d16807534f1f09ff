/* http.c: single HTTP requests through libcurl, with retries.
 *
 * Every request gets its own easy handle (no connection cache shared
 * between threads: each worker thread reads its own partitions). S3
 * requests are signed with libcurl's AWS SigV4 and carry
 * "x-amz-content-sha256: UNSIGNED-PAYLOAD", which libcurl then signs as
 * the payload hash; libcurl 7.88 signs the query string as it is given,
 * so s3.c writes queries already sorted and encoded as SigV4 wants.
 *
 * Transient failures (refused, dropped or stalled connections, 5xx, 408,
 * 429) are retried after 50 ms, 100 ms, ... up to st->retries times;
 * permanent ones (403, 404, ...) fail at once. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "mem.h"
#include "src.h"

/* ------------------------------------------------------------------------ */
/* Options and names                                                        */

static int copy_opt(char *dst, size_t cap, const char *val, const char *env,
                    const char *what, char *err, size_t errlen) {
    if (!val || !*val) val = env ? getenv(env) : NULL;
    if (!val) val = "";
    size_t n = strlen(val);
    if (n >= cap) {
        cbag__io_msg(err, errlen,
                     "storage_options: %s is longer than %zu bytes", what,
                     cap - 1);
        return CBAG_INVALID;
    }
    memcpy(dst, val, n + 1);
    return CBAG_OK;
}

int cbag__storage_init(cbag__storage *out, const cbag_storage_options *o,
                       char *err, size_t errlen) {
    cbag_storage_options none = {0};
    if (!o) o = &none;
    memset(out, 0, sizeof *out);
    out->anon = o->anon;
    out->retries = o->retries == 0 ? 5 : o->retries < 0 ? 0 : o->retries;
    out->timeout = o->timeout > 0 ? o->timeout : 30;
    const char *region = o->region && *o->region ? o->region : NULL;
    if (!region) region = getenv("AWS_REGION");
    if (!region || !*region) region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region) region = "us-east-1";
    if (copy_opt(out->key, sizeof out->key, o->key, "AWS_ACCESS_KEY_ID", "key",
                 err, errlen) ||
        copy_opt(out->secret, sizeof out->secret, o->secret,
                 "AWS_SECRET_ACCESS_KEY", "secret", err, errlen) ||
        copy_opt(out->token, sizeof out->token, o->token, "AWS_SESSION_TOKEN",
                 "token", err, errlen) ||
        copy_opt(out->endpoint, sizeof out->endpoint, o->endpoint_url,
                 "AWS_ENDPOINT_URL", "endpoint_url", err, errlen) ||
        copy_opt(out->region, sizeof out->region, region, NULL, "region", err,
                 errlen))
        return CBAG_INVALID;
    size_t n = strlen(out->endpoint);
    while (n && out->endpoint[n - 1] == '/')
        out->endpoint[--n] = '\0';
    if (n && strncasecmp(out->endpoint, "http://", 7) != 0 &&
        strncasecmp(out->endpoint, "https://", 8) != 0) {
        cbag__io_msg(err, errlen,
                     "storage_options: endpoint_url must start with http:// "
                     "or https://, not '%s'",
                     out->endpoint);
        return CBAG_INVALID;
    }
    return CBAG_OK;
}

int cbag__is_s3(const char *path) { return strncmp(path, "s3://", 5) == 0; }

int cbag__is_url(const char *path) {
    return cbag__is_s3(path) || strncasecmp(path, "http://", 7) == 0 ||
           strncasecmp(path, "https://", 8) == 0;
}

/* ------------------------------------------------------------------------ */
/* libcurl                                                                  */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void *c_malloc(size_t n) { return cbag__malloc(n); }
static void c_free(void *p) { cbag__free(p); }
static void *c_realloc(void *p, size_t n) { return cbag__realloc(p, n); }
static char *c_strdup(const char *s) { return cbag__strdup(s); }
static void *c_calloc(size_t n, size_t m) { return cbag__calloc(n, m); }

static void curl_init_once(void) {
    curl_init_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, c_malloc, c_free,
                                        c_realloc, c_strdup, c_calloc);
}

int cbag__curl_init(char *err, size_t errlen) {
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc == CURLE_OK) return CBAG_OK;
    cbag__io_msg(err, errlen, "libcurl initialisation failed: %s",
                 curl_easy_strerror(curl_init_rc));
    return CBAG_IO;
}

/* Header lines: the status line starts a response afresh. */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    cbag__hdrs *hd = ud;
    size_t len = size * n;
    char line[512];
    size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, p, k);
    line[k] = '\0';
    while (k && (line[k - 1] == '\r' || line[k - 1] == '\n'))
        line[--k] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = strchr(line, ' ');
        hd->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        const char *r = sp ? strchr(sp + 1, ' ') : NULL;
        snprintf(hd->reason, sizeof hd->reason, "%s", r ? r + 1 : "");
        hd->length = hd->range_start = hd->range_tot = UINT64_MAX;
        hd->etag[0] = '\0';
        return len;
    }
    const char *colon = strchr(line, ':');
    if (!colon) return len;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t nl = (size_t)(colon - line);
    if (nl == 14 && strncasecmp(line, "Content-Length", nl) == 0) {
        hd->length = strtoull(v, NULL, 10);
    } else if (nl == 13 && strncasecmp(line, "Content-Range", nl) == 0) {
        unsigned long long a, b;
        char tot[32];
        if (sscanf(v, "bytes %llu-%llu/%31s", &a, &b, tot) == 3) {
            hd->range_start = a;
            hd->range_tot = isdigit((unsigned char)tot[0])
                                ? strtoull(tot, NULL, 10)
                                : UINT64_MAX;
        }
    } else if (nl == 4 && strncasecmp(line, "ETag", nl) == 0) {
        snprintf(hd->etag, sizeof hd->etag, "%s", v);
    }
    return len;
}

CURL *cbag__easy_new(const cbag__req *rq, const char *range, cbag__hdrs *hd,
                     struct curl_slist **hl) {
    CURL *h = curl_easy_init();
    if (!h) return NULL;
    const cbag__storage *st = rq->st;
    struct curl_slist *l = NULL, *t;
    char buf[4200];
    int ok = 1;
#define ADD(s)                                                                 \
    do {                                                                       \
        if (ok && (t = curl_slist_append(l, s)) != NULL)                       \
            l = t;                                                             \
        else                                                                   \
            ok = 0;                                                            \
    } while (0)
    ADD("Expect:"); /* no 100-continue round trip before a PUT */
    if (range) {
        snprintf(buf, sizeof buf, "Range: %s", range);
        ADD(buf);
    }
    if (rq->sign) {
        ADD("x-amz-content-sha256: UNSIGNED-PAYLOAD");
        if (st->token[0]) {
            snprintf(buf, sizeof buf, "x-amz-security-token: %s", st->token);
            ADD(buf);
        }
        snprintf(buf, sizeof buf, "aws:amz:%s:s3", st->region);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, buf);
        curl_easy_setopt(h, CURLOPT_USERNAME, st->key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, st->secret);
    }
#undef ADD
    if (!ok) {
        curl_slist_free_all(l);
        curl_easy_cleanup(h);
        return NULL;
    }
    *hl = l;
    memset(hd, 0, sizeof *hd);
    hd->length = hd->range_start = hd->range_tot = UINT64_MAX;
    curl_easy_setopt(h, CURLOPT_URL, rq->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM */
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, hd);
    long ms = (long)(st->timeout * 1000);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms > 0 ? ms : 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cbag/" CBAG_VERSION);
    /* Plain http(s) URLs may redirect; signed requests must not (the
     * signature is for one host). */
    if (!rq->sign) curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(rq->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    }
    return h;
}

int cbag__transient(CURLcode rc, long status) {
    if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR)
        return status >= 500 || status == 408 || status == 429;
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return 1;
    default: return 0;
    }
}

void cbag__backoff(int attempt) {
    long ms = 50L << (attempt < 6 ? attempt : 6);
    if (ms > 2000) ms = 2000;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

int cbag__xml_span(const char *xml, size_t n, const char *tag, const char **a,
                   const char **b) {
    char open[80], close[80];
    int ol = snprintf(open, sizeof open, "<%s>", tag);
    int cl = snprintf(close, sizeof close, "</%s>", tag);
    const char *s = memmem(xml, n, open, (size_t)ol);
    if (!s) return 0;
    s += ol;
    const char *e = memmem(s, n - (size_t)(s - xml), close, (size_t)cl);
    if (!e) return 0;
    *a = s;
    *b = e;
    return 1;
}

int cbag__xml_get(const char *xml, size_t n, const char *tag, char *out,
                  size_t outlen) {
    const char *a, *b;
    if (!cbag__xml_span(xml, n, tag, &a, &b)) return 0;
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'},
                {"&lt;", '<'},
                {"&gt;", '>'},
                {"&quot;", '"'},
                {"&apos;", '\''}};
    size_t o = 0;
    for (const char *p = a; p < b && o + 1 < outlen;) {
        if (*p == '&') {
            int hit = 0;
            for (size_t e = 0; !hit && e < sizeof ents / sizeof ents[0]; e++) {
                size_t el = strlen(ents[e].ent);
                if ((size_t)(b - p) >= el && !memcmp(p, ents[e].ent, el)) {
                    out[o++] = ents[e].c;
                    p += el;
                    hit = 1;
                }
            }
            if (hit) continue;
            if (p + 2 < b && p[1] == '#') { /* &#NN; and &#xHH; (ASCII) */
                char *end;
                long c = p[2] == 'x' ? strtol(p + 3, &end, 16)
                                     : strtol(p + 2, &end, 10);
                if (end < b && *end == ';' && c > 0 && c < 128) {
                    out[o++] = (char)c;
                    p = end + 1;
                    continue;
                }
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return 1;
}

void cbag__http_why(char *out, size_t outlen, CURLcode rc, const cbag__hdrs *hd,
                    const char *body, size_t body_len, int tries) {
    char after[48] = "";
    if (tries > 0)
        snprintf(after, sizeof after, " (after %d retr%s)", tries,
                 tries == 1 ? "y" : "ies");
    if ((rc == CURLE_OK || rc == CURLE_WRITE_ERROR) && hd->status >= 300) {
        char code[128] = "", msg[256] = "", detail[400] = "";
        if (body && cbag__xml_get(body, body_len, "Code", code, sizeof code)) {
            cbag__xml_get(body, body_len, "Message", msg, sizeof msg);
            snprintf(detail, sizeof detail, " (%s%s%s)", code,
                     msg[0] ? ": " : "", msg);
        }
        snprintf(out, outlen, "HTTP %ld%s%s%s%s", hd->status,
                 hd->reason[0] ? " " : "", hd->reason, detail, after);
        return;
    }
    snprintf(out, outlen, "%s%s", curl_easy_strerror(rc), after);
}

/* ------------------------------------------------------------------------ */
/* Whole requests                                                           */

typedef struct {
    cbag__buf b;
    size_t max;
    int over;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    sink *s = ud;
    size_t len = size * n;
    if (s->b.len + len > s->max) {
        s->over = 1;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    if (cbag__buf_put(&s->b, p, len)) return 0;
    return len;
}

typedef struct {
    const char *p;
    size_t left;
} source;

static size_t on_read(char *dst, size_t size, size_t n, void *ud) {
    source *s = ud;
    size_t k = size * n < s->left ? size * n : s->left;
    memcpy(dst, s->p, k);
    s->p += k;
    s->left -= k;
    return k;
}

/* One attempt. CBAG_OK with the transfer's outcome in *rc and *hd. */
static int attempt(const cbag__req *rq, cbag__hdrs *hd, sink *sk,
                   CURLcode *rc) {
    struct curl_slist *hl = NULL;
    CURL *h = cbag__easy_new(rq, NULL, hd, &hl);
    if (!h) return CBAG_NOMEM;
    source src = {rq->body, rq->body_len};
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sk);
    /* a stalled response: no byte for `timeout` seconds */
    long secs = (long)(rq->st->timeout + 0.999);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, secs > 0 ? secs : 1L);
    if (!strcmp(rq->method, "PUT")) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &src);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
    } else if (!strcmp(rq->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)rq->body_len);
    }
    *rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);
    return sk->b.oom ? CBAG_NOMEM : CBAG_OK;
}

int cbag__http_do(const cbag__req *rq, cbag__resp *rs, char *err,
                  size_t errlen) {
    memset(rs, 0, sizeof *rs);
    if (cbag__curl_init(err, errlen)) return CBAG_IO;
    for (int tries = 0;; tries++) {
        cbag__hdrs hd;
        sink sk = {CBAG__BUF_INIT, rq->max_resp ? rq->max_resp : 1 << 20, 0};
        CURLcode rc = CURLE_OK;
        if (attempt(rq, &hd, &sk, &rc)) {
            cbag__buf_free(&sk.b);
            cbag__io_msg(err, errlen, "%s: out of memory", rq->name);
            return CBAG_NOMEM;
        }
        if (rc == CURLE_OK && hd.status >= 200 && hd.status < 300) {
            rs->status = hd.status;
            rs->length = hd.length;
            memcpy(rs->etag, hd.etag, sizeof rs->etag);
            rs->body = cbag__buf_detach(&sk.b, &rs->body_len);
            if (!rs->body) {
                cbag__io_msg(err, errlen, "%s: out of memory", rq->name);
                return CBAG_NOMEM;
            }
            return CBAG_OK;
        }
        if (sk.over && hd.status < 300) {
            cbag__buf_free(&sk.b);
            cbag__io_msg(err, errlen,
                         "%s: the response is larger than %zu bytes", rq->name,
                         sk.max);
            return CBAG_IO;
        }
        if (tries >= rq->st->retries || !cbag__transient(rc, hd.status)) {
            char why[600];
            cbag__http_why(why, sizeof why, rc, &hd, sk.b.p, sk.b.len, tries);
            cbag__io_msg(err, errlen, "%s: %s", rq->name, why);
            cbag__buf_free(&sk.b);
            return CBAG_IO;
        }
        cbag__buf_free(&sk.b);
        cbag__backoff(tries);
    }
}

int cbag__remote_size(const char *name, const cbag__storage *st, uint64_t *size,
                      char *err, size_t errlen) {
    int sign;
    char *url = cbag__http_url(name, st, &sign, err, errlen);
    if (!url) return CBAG_IO;
    cbag__req rq = {name, url, "HEAD", sign, st, NULL, 0, 0};
    cbag__resp rs;
    int rc = cbag__http_do(&rq, &rs, err, errlen);
    cbag__free(url);
    if (rc) return rc;
    cbag__free(rs.body);
    *size = rs.length;
    return CBAG_OK;
}
