/* test_remote.c: read_text and to_textfiles over http:// and s3://.
 *
 * Needs the servers that tests/remote/run.sh starts on 127.0.0.1 and names
 * in the environment; without them (plain `make test`) every test skips:
 *   CBAG_TEST_HTTP  http://127.0.0.1:PORT of tests/remote/http_server.py
 *   CBAG_TEST_ROOT  the directory it serves (fixtures are written there)
 *   CBAG_TEST_S3    http://127.0.0.1:PORT of s3rver (buckets cbag and
 *                   dask-data; cbag/many/ holds 1100 keys)
 * Remote reads are compared with reads of the same files from disk, with
 * the same options: same partitions, same lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cbag.h"
#include "io/io.h"

static const char *http_url, *root, *s3_url;
static char run_dir[64]; /* this run's fixtures: ROOT/RUN_DIR/... */

/* ------------------------------------------------------------------------ */
/* Fixtures                                                                 */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
    static char bufs[16][1024];
    static int k;
    char *b = bufs[k++ & 15];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

/* ROOT/RUN_DIR/name, and its URL (optionally behind /fault/KIND/) */
static char *local(const char *name) {
    return fmt("%s/%s/%s", root, run_dir, name);
}
static char *url(const char *fault, const char *name) {
    if (fault) return fmt("%s/fault/%s/%s/%s", http_url, fault, run_dir, name);
    return fmt("%s/%s/%s", http_url, run_dir, name);
}

/* The Python server's bucket "signed" is ROOT/signed. */
static char *signed_local(void) {
    return fmt("%s/signed/%s/data/x.json", root, run_dir);
}

static void mkdirs(const char *path) {
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
}

static void put(const char *path, const char *data, size_t n) {
    mkdirs(path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Lines of varied lengths, "\r\n" endings now and then, one line longer
 * than the 64 KB a block asks for past its end. */
static char *text_data(size_t *n) {
    size_t cap = 2 << 20, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    for (int i = 0; len < 1200000; i++) {
        if (i == 3000) {
            memset(s + len, 'L', 200000);
            len += 200000;
            s[len++] = '\n';
            continue;
        }
        len += (size_t)snprintf(s + len, cap - len,
                                "{\"i\": %d, \"pad\": \"%.*s\"}%s", i, i % 61,
                                "abcdefghijklmnopqrstuvwxyz0123456789"
                                "abcdefghijklmnopqrstuvwxyz",
                                i % 17 == 0 ? "\r\n" : "\n");
    }
    *n = len;
    return s;
}

/* Writes the fixtures once per process: plain text and each codec. */
static void fixtures(void) {
    static int done;
    if (done) return;
    done = 1;
    size_t n;
    char *s = text_data(&n);
    put(local("a.json"), s, n);
    put(local("bkt/logs/2015-01.json"), s, 5000);
    put(local("bkt/logs/2015-02.json"), s + 5000, 7000);
    put(local("bkt/logs/2016-01.json"), s, 100);
    put(signed_local(), s, 3000);
    for (int i = 0; i < 1050; i++)
        put(local(fmt("bkt/many/k-%04d.txt", i)), fmt("line %d\n", i),
            strlen(fmt("line %d\n", i)));
    free(s);
    /* compressed copies, written by cbag itself */
    const char *exts[] = {"gz", "bz2", "xz", "zst"};
    for (size_t i = 0; i < 4; i++) {
        char err[512];
        cbag__out *o = cbag__out_open(local(fmt("a.json.%s", exts[i])),
                                      CBAG__CODEC_INFER, err, sizeof err);
        assert_non_null(o);
        FILE *f = fopen(local("a.json"), "rb");
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, f)) > 0)
            assert_int_equal(cbag__out_write(o, buf, k), CBAG_OK);
        fclose(f);
        assert_int_equal(cbag__out_commit(o), CBAG_OK);
    }
}

static int setup(void **state) {
    (void)state;
    if (!http_url) return 0;
    fixtures();
    return 0;
}

#define NEED_HTTP()                                                            \
    do {                                                                       \
        if (!http_url) skip();                                                 \
    } while (0)
#define NEED_S3()                                                              \
    do {                                                                       \
        if (!s3_url) skip();                                                   \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* The lines of a bag, and its partition count, or NULL with the error in
 * msg. */
static cbag_result *lines(cbag_ctx *cx, const char *path,
                          const cbag_text_options *o, size_t *nparts, char *msg,
                          size_t msglen) {
    cbag *b = cbag_read_text(cx, path, o);
    if (!b) {
        snprintf(msg, msglen, "%s", cbag_errmsg(cx));
        return NULL;
    }
    if (nparts) *nparts = cbag_npartitions(b);
    cbag_result *r = cbag_compute(b);
    if (!r) snprintf(msg, msglen, "%s", cbag_errmsg(cx));
    return r;
}

/* Reading url gives what reading path from disk gives, same options. */
static void same(const char *u, const char *path, const cbag_text_options *o) {
    cbag_ctx *cx = cbag_open(NULL);
    char msg[2048];
    size_t np1 = 0, np2 = 0;
    cbag_text_options lo = {0};
    if (o) lo = *o;
    cbag_storage_options none = {0};
    lo.storage = none;
    cbag_result *r = lines(cx, u, o, &np1, msg, sizeof msg);
    if (!r) fail_msg("%s: %s", u, msg);
    cbag_result *l = lines(cx, path, &lo, &np2, msg, sizeof msg);
    assert_non_null(l);
    assert_int_equal(np1, np2);
    assert_true(cbag_len(cbag_result_value(l)) > 0);
    assert_int_equal(cbag_len(cbag_result_value(r)),
                     cbag_len(cbag_result_value(l)));
    assert_true(cbag_eq(cbag_result_value(r), cbag_result_value(l)));
    cbag_result_free(r);
    cbag_result_free(l);
    cbag_close(cx);
}

/* Reading u fails (at read_text or compute) with a message holding each
 * of the NULL-terminated strings. */
static void fails(const char *u, const cbag_text_options *o, ...) {
    cbag_ctx *cx = cbag_open(NULL);
    char msg[2048];
    cbag_result *r = lines(cx, u, o, NULL, msg, sizeof msg);
    if (r) fail_msg("%s: read without error", u);
    va_list ap;
    va_start(ap, o);
    for (const char *want; (want = va_arg(ap, const char *));)
        if (!strstr(msg, want))
            fail_msg("%s: message '%s' lacks '%s'", u, msg, want);
    va_end(ap);
    cbag_close(cx);
}

/* A port nothing listens on. */
static int dead_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* ------------------------------------------------------------------------ */
/* http(s)                                                                  */

static void test_http_whole(void **state) {
    (void)state;
    NEED_HTTP();
    same(url(NULL, "a.json"), local("a.json"), NULL);
}

static void test_http_blocks(void **state) {
    (void)state;
    NEED_HTTP();
    /* small blocks (many ranges, the long line spanning several) and big */
    uint64_t sizes[] = {7777, 65536, 300000};
    for (size_t i = 0; i < 3; i++) {
        cbag_text_options o = {.blocksize = sizes[i]};
        same(url(NULL, "a.json"), local("a.json"), &o);
    }
    cbag_text_options o = {.blocksize = 50000, .linedelimiter = "\n"};
    same(url(NULL, "a.json"), local("a.json"), &o);
}

static void test_http_codecs(void **state) {
    (void)state;
    NEED_HTTP();
    const char *exts[] = {"gz", "bz2", "xz", "zst"};
    for (size_t i = 0; i < 4; i++) {
        const char *n = fmt("a.json.%s", exts[i]);
        same(url(NULL, n), local(n), NULL);
    }
}

/* Progress counts the bytes received. */
static void test_http_bytes_read(void **state) {
    (void)state;
    NEED_HTTP();
    const char *names[] = {"a.json", "a.json.gz"};
    for (size_t i = 0; i < 2; i++) {
        const char *u = url(NULL, names[i]);
        cbag__text_opts o = {.codec = CBAG__CODEC_INFER};
        cbag__text_part *parts;
        size_t np;
        char err[512];
        assert_int_equal(
            cbag__text_plan(&u, 1, &o, &parts, &np, err, sizeof err), CBAG_OK);
        assert_int_equal(np, 1);
        struct stat st;
        assert_int_equal(stat(local(names[i]), &st), 0);
        assert_int_equal(parts[0].size_hint, (uint64_t)st.st_size);
        cbag__lines *r = cbag__lines_open(&parts[0], &o, err, sizeof err);
        assert_non_null(r);
        const char *line;
        size_t len;
        int k;
        while ((k = cbag__lines_next(r, &line, &len)) == 1) {
        }
        assert_int_equal(k, 0);
        assert_int_equal(cbag__lines_bytes_read(r), (uint64_t)st.st_size);
        cbag__lines_close(r);
        cbag__text_parts_free(parts, np);
    }
}

static void test_http_404_403(void **state) {
    (void)state;
    NEED_HTTP();
    const char *u = url(NULL, "nope.json");
    fails(u, NULL, fmt("read_text: %s: HTTP 404 Not Found", u), NULL);
    u = url("403", "a.json");
    fails(u, NULL, fmt("read_text: %s: HTTP 403 Forbidden", u), NULL);
}

static void test_http_retry_5xx(void **state) {
    (void)state;
    NEED_HTTP();
    /* two 500s, then the data (whole, and as ranges) */
    same(url("500-twice", "a.json"), local("a.json"), NULL);
    cbag_text_options o = {.blocksize = 400000};
    same(url("500-twice", "a.json.gz"), local("a.json.gz"), &o);
    /* always 503: fails after the retries allowed, naming the status */
    o = (cbag_text_options){.storage.retries = 2};
    fails(url("503-always", "a.json"), &o, url("503-always", "a.json"),
          "HTTP 503", "SlowDown", "(after 2 retries)", NULL);
}

static void test_http_dropped(void **state) {
    (void)state;
    NEED_HTTP();
    /* the connection drops after 1000 bytes: resumed with a Range */
    same(url("drop-at-1000", "a.json"), local("a.json"), NULL);
    same(url("drop-at-1000", "a.json.gz"), local("a.json.gz"), NULL);
    cbag_text_options o = {.blocksize = 100000};
    same(url("drop-at-1000", "a.json.xz"), local("a.json.xz"), &o);
    /* a server that never sends the whole body: an error, not less data */
    o = (cbag_text_options){.storage.retries = 2};
    fails(url("short-body", "a.json"), &o, url("short-body", "a.json"),
          "shorter than its Content-Length", NULL);
    fails(url("short-body", "a.json.gz"), &o, "shorter than its Content", NULL);
}

static void test_http_timeout(void **state) {
    (void)state;
    NEED_HTTP();
    /* the first GET stalls after 100 bytes: timed out after 1 s, resumed */
    cbag_text_options o = {.storage.timeout = 1};
    same(url("slow", "a.json"), local("a.json"), &o);
}

static void test_http_refused(void **state) {
    (void)state;
    NEED_HTTP();
    cbag_text_options o = {.storage.retries = 1};
    const char *u = fmt("http://127.0.0.1:%d/x.json", dead_port());
    fails(u, &o,
          fmt("read_text: %s: Couldn't connect to server (after 1 retry)", u),
          NULL);
}

static void test_http_norange(void **state) {
    (void)state;
    NEED_HTTP();
    /* a server that ignores Range: each block skips to its bytes */
    cbag_text_options o = {.blocksize = 300000};
    same(url("norange", "a.json"), local("a.json"), &o);
}

/* An invalid byte in a later block: the message has its line number,
 * counted by reading the object again from its start. */
static void test_http_lineno(void **state) {
    (void)state;
    NEED_HTTP();
    char s[4000];
    size_t n = 0;
    for (int i = 1; i <= 300; i++)
        n += (size_t)snprintf(s + n, sizeof s - n, "%s%d\n",
                              i == 250 ? "\xff" : "", i);
    put(local("bad.txt"), s, n);
    cbag_text_options o = {.blocksize = 500};
    fails(url(NULL, "bad.txt"), &o, fmt("%s: line 250:", url(NULL, "bad.txt")),
          "invalid UTF-8", NULL);
}

/* ------------------------------------------------------------------------ */
/* s3:// on the Python server (anonymous, signed, listings, uploads)        */

static cbag_text_options py_s3(void) {
    cbag_text_options o = {0};
    o.storage.endpoint_url = http_url;
    o.storage.anon = true;
    return o;
}

static void test_s3_anon_glob(void **state) {
    (void)state;
    NEED_HTTP();
    cbag_text_options o = py_s3();
    /* path-style: ENDPOINT/RUN_DIR/bkt/... is bucket RUN_DIR, key bkt/... */
    cbag_ctx *cx = cbag_open(NULL);
    char msg[1024];
    size_t np;
    cbag_result *r = lines(cx, fmt("s3://%s/bkt/logs/2015-*.json", run_dir), &o,
                           &np, msg, sizeof msg);
    if (!r) fail_msg("%s", msg);
    assert_int_equal(np, 2);
    cbag_result_free(r);
    /* more than 1000 keys: two pages */
    r = lines(cx, fmt("s3://%s/bkt/many/k-*.txt", run_dir), &o, &np, msg,
              sizeof msg);
    if (!r) fail_msg("%s", msg);
    assert_int_equal(np, 1050);
    assert_int_equal(cbag_len(cbag_result_value(r)), 1050);
    size_t len;
    const char *s = cbag_str(cbag_at(cbag_result_value(r), 1049), &len);
    assert_int_equal(len, strlen("line 1049\n"));
    assert_memory_equal(s, "line 1049\n", len);
    cbag_result_free(r);
    cbag_close(cx);
    fails(fmt("s3://%s/bkt/logs/2017-*.json", run_dir), &o, "no files match",
          NULL);
    same(fmt("s3://%s/a.json", run_dir), local("a.json"), &o);
    o.blocksize = 100000;
    same(fmt("s3://%s/a.json", run_dir), local("a.json"), &o);
}

static void test_s3_env_defaults(void **state) {
    (void)state;
    NEED_HTTP();
    /* endpoint from AWS_ENDPOINT_URL; no key: unsigned */
    setenv("AWS_ENDPOINT_URL", http_url, 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    same(fmt("s3://%s/a.json.gz", run_dir), local("a.json.gz"), NULL);
    unsetenv("AWS_ENDPOINT_URL");
}

/* The Python server's bucket "signed" checks SigV4 signatures. */
static void test_s3_signed(void **state) {
    (void)state;
    NEED_HTTP();
    cbag_text_options o = {0};
    o.storage.endpoint_url = http_url;
    o.storage.key = "cbagkey";
    o.storage.secret = "cbagsecret";
    o.storage.region = "eu-west-3";
    o.storage.token = "session/token+with=odd chars";
    /* listing (a signed query string) and reading, whole and in ranges */
    const char *pat = fmt("s3://signed/%s/data/*.json", run_dir);
    same(pat, signed_local(), &o);
    o.blocksize = 1000;
    same(pat, signed_local(), &o);
    o.storage.secret = "wrong";
    fails(pat, &o, "HTTP 403", "SignatureDoesNotMatch", NULL);
    o.storage.secret = "cbagsecret";
    o.storage.anon = true;
    fails(pat, &o, "HTTP 403", "SignatureDoesNotMatch", NULL);
}

/* A bag of n strings, each `width` bytes plus its number. */
static cbag *strings(cbag_ctx *cx, int n, int width, size_t nparts) {
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, (size_t)n);
    for (int i = 0; i < n; i++)
        cbag_append(m, l, cbag_new_strf(m, "%08d %0*d", i, width, i * 7));
    return cbag_from_sequence(cx, l, nparts, 0);
}

static void test_s3_upload_abort(void **state) {
    (void)state;
    NEED_HTTP();
    cbag_ctx *cx = cbag_open(NULL);
    /* 9.6 MB in one partition: two parts, the second refused */
    cbag *b = strings(cx, 100000, 87, 1);
    cbag_textfiles_options w = {0};
    w.storage.endpoint_url = http_url;
    w.storage.anon = true;
    w.storage.retries = -1;
    int rc =
        cbag_to_textfiles(b, fmt("s3://%s/up/fail-part-2/*.txt", run_dir), &w);
    assert_int_not_equal(rc, CBAG_OK);
    assert_non_null(strstr(cbag_errmsg(cx), "HTTP 403"));
    struct stat st;
    assert_int_not_equal(stat(local("up/fail-part-2/0.txt"), &st), 0);
    /* the server saw the abort */
    cbag_text_options o = {0};
    cbag_result *r =
        lines(cx, fmt("%s/__aborted", http_url), &o, NULL, NULL, 0);
    assert_non_null(r);
    int seen = 0;
    for (size_t i = 0; i < cbag_len(cbag_result_value(r)); i++) {
        size_t len;
        const char *s =
            cbag_str(cbag_at(cbag_result_value(r), (int64_t)i), &len);
        if (memmem(s, len, "fail-part-2/0.txt", 17)) seen = 1;
    }
    assert_true(seen);
    cbag_result_free(r);
    /* the same through multipart that works, and a single PUT, read back */
    b = strings(cx, 100000, 87, 2);
    assert_int_equal(
        cbag_to_textfiles(b, fmt("s3://%s/up/ok/*.txt", run_dir), &w), CBAG_OK);
    assert_int_equal(stat(local("up/ok/1.txt"), &st), 0);
    assert_true(st.st_size > (8 << 20) / 2);
    cbag_close(cx);
}

/* ------------------------------------------------------------------------ */
/* s3rver                                                                   */

static cbag_storage_options s3rver(bool anon) {
    cbag_storage_options s = {0};
    s.endpoint_url = s3_url;
    s.anon = anon;
    if (!anon) s.key = s.secret = "S3RVER";
    return s;
}

static void test_s3rver_list_pages(void **state) {
    (void)state;
    NEED_S3();
    for (int anon = 0; anon < 2; anon++) {
        cbag_text_options o = {.storage = s3rver(anon)};
        cbag_ctx *cx = cbag_open(NULL);
        char msg[1024];
        size_t np;
        cbag_result *r =
            lines(cx, "s3://cbag/many/k-*.txt", &o, &np, msg, sizeof msg);
        if (!r) fail_msg("%s", msg);
        assert_int_equal(np, 1100);
        assert_int_equal(cbag_len(cbag_result_value(r)), 1100);
        cbag_result_free(r);
        cbag_close(cx);
    }
    cbag_text_options o = {.storage = s3rver(false)};
    o.storage.key = "NOSUCHKEY";
    fails("s3://cbag/many/k-*.txt", &o, "HTTP 403", "InvalidAccessKeyId", NULL);
    o.storage = s3rver(true);
    fails("s3://cbag/nothing/here.json", &o, "HTTP 404", NULL);
}

static void test_s3rver_roundtrip(void **state) {
    (void)state;
    NEED_S3();
    cbag_ctx *cx = cbag_open(NULL);
    /* 3 gzip objects (single PUTs), then one plain 10.8 MB object (a
     * multipart upload: 8 MB + the rest) */
    const char *pats[] = {"s3://cbag/rt-%d/*.json.gz", "s3://cbag/rt-%d/*.txt"};
    size_t nparts[] = {3, 1};
    for (size_t p = 0; p < 2; p++) {
        cbag *b = strings(cx, 120000, 80, nparts[p]);
        cbag_textfiles_options w = {.storage = s3rver(false)};
        const char *pat = fmt(pats[p], (int)getpid());
        if (cbag_to_textfiles(b, pat, &w)) fail_msg("%s", cbag_errmsg(cx));
        cbag_text_options o = {.storage = s3rver(true)};
        char msg[1024];
        size_t np;
        cbag_result *r = lines(cx, pat, &o, &np, msg, sizeof msg);
        if (!r) fail_msg("%s", msg);
        assert_int_equal(np, nparts[p]);
        const cbag_val *v = cbag_result_value(r);
        assert_int_equal(cbag_len(v), 120000);
        char want[128];
        int wl =
            snprintf(want, sizeof want, "%08d %0*d\n", 119999, 80, 119999 * 7);
        size_t len;
        const char *s = cbag_str(cbag_at(v, 119999), &len);
        /* the last line of a partition has no "\n" (last_endline off) */
        assert_int_equal(len, (size_t)wl - 1);
        assert_memory_equal(s, want, len);
        cbag_result_free(r);
        if (p == 1) { /* blocks over the uploaded objects */
            o.blocksize = 1 << 20;
            r = lines(cx, pat, &o, &np, msg, sizeof msg);
            if (!r) fail_msg("%s", msg);
            assert_true(np >= 10);
            assert_int_equal(cbag_len(cbag_result_value(r)), 120000);
            cbag_result_free(r);
        }
    }
    cbag_close(cx);
}

int main(void) {
    http_url = getenv("CBAG_TEST_HTTP");
    root = getenv("CBAG_TEST_ROOT");
    s3_url = getenv("CBAG_TEST_S3");
    if (!root) http_url = NULL;
    snprintf(run_dir, sizeof run_dir, "run-%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_whole),
        cmocka_unit_test(test_http_blocks),
        cmocka_unit_test(test_http_codecs),
        cmocka_unit_test(test_http_bytes_read),
        cmocka_unit_test(test_http_404_403),
        cmocka_unit_test(test_http_retry_5xx),
        cmocka_unit_test(test_http_dropped),
        cmocka_unit_test(test_http_timeout),
        cmocka_unit_test(test_http_refused),
        cmocka_unit_test(test_http_norange),
        cmocka_unit_test(test_http_lineno),
        cmocka_unit_test(test_s3_anon_glob),
        cmocka_unit_test(test_s3_env_defaults),
        cmocka_unit_test(test_s3_signed),
        cmocka_unit_test(test_s3_upload_abort),
        cmocka_unit_test(test_s3rver_list_pages),
        cmocka_unit_test(test_s3rver_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
