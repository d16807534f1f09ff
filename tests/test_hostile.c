/* test_hostile.c: files nobody checked, met by a compute through the
 * public API: damaged compressed streams, a gzip bomb, NUL bytes, invalid
 * UTF-8, hostile JSON, a very long line, empty files, files that change
 * while being read, directories, FIFOs, unreadable files; and a user
 * callback or a record that fails once in a million lines. Each case must
 * end in a clear error naming the file (and the line where there is one)
 * or in the recovery docs/reliability.md documents, never in a crash (the
 * suite also runs under ASan+UBSan) and never in a silently different
 * result. Files are generated here, in a scratch directory (iocheck.h),
 * which also checks that no descriptor leaks and no temp file is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "cbag.h"
#include "io/io.h"
#include "iocheck.h"

/* The long line of test_long_line, in MiB. */
#ifndef LONG_LINE_MB
#define LONG_LINE_MB 256
#endif

static cbag_ctx *cx;

/* iocheck_root/name, in one of a few rotating buffers. */
static const char *P(const char *name) {
    static char bufs[8][600];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", iocheck_root, name);
    return b;
}

static void put(const char *name, const void *data, size_t n) {
    FILE *f = fopen(P(name), "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void puts_file(const char *name, const char *text) {
    put(name, text, strlen(text));
}

/* Writes data compressed as name's extension says (cbag's writer). */
static void put_codec(const char *name, const void *data, size_t n) {
    char err[1024];
    cbag__out *o = cbag__out_open(P(name), CBAG__CODEC_INFER, err, sizeof err);
    if (!o) fail_msg("%s", err);
    assert_int_equal(cbag__out_write(o, data, n), CBAG_OK);
    if (cbag__out_commit_err(o, err, sizeof err)) fail_msg("%s", err);
}

/* n JSON lines {"i": I, "v": I % 7} */
static char *records(size_t n, size_t *len) {
    cbag__buf b = CBAG__BUF_INIT;
    for (size_t i = 0; i < n; i++)
        cbag__buf_printf(&b, "{\"i\": %zu, \"v\": %zu}\n", i, i % 7);
    return cbag__buf_detach(&b, len);
}

/* The value of an item or bag computed on cx as an int; -1 on error. */
static int64_t int_of(cbag_result *r) {
    if (!r) return -1;
    int64_t v = cbag_int_value(cbag_result_value(r));
    cbag_result_free(r);
    return v;
}

static int64_t count(cbag *b) {
    return int_of(cbag_compute_item(cbag_count(b)));
}

/* The sum of the "v" fields of the JSON lines of path. */
static int64_t sum_v(const char *path) {
    cbag *b = cbag_map(cbag_read_text(cx, path, NULL), cbag_json_loads, NULL);
    return int_of(cbag_compute_item(cbag_sum(cbag_pluck(b, "v"))));
}

/* The last error is code (or code2) and names each of the strings. */
static void expect_error(int code, int code2, const char *a, const char *b) {
    int got = cbag_errcode(cx);
    const char *msg = cbag_errmsg(cx);
    if ((got != code && got != code2) || (a && !strstr(msg, a)) ||
        (b && !strstr(msg, b)))
        fail_msg("want error %d naming '%s' and '%s', got %d: %s", code,
                 a ? a : "", b ? b : "", got, msg);
    cbag_clear_error(cx);
}

/* ------------------------------------------------------------------------ */
/* Compressed streams                                                       */

static const char *const EXTS[] = {".gz", ".bz2", ".xz", ".zst", ".lz4"};

/* Every codec's file cut short or with a byte changed at many offsets:
 * the compute fails with CBAG_IO naming the file (or CBAG_PARSE naming
 * file and line, when a damaged block still decodes), or, for a change the
 * format does not protect (a gzip header's time stamp), gives exactly the
 * right answer. It is never silently different. */
static void test_damaged_streams(void **state) {
    (void)state;
    size_t n;
    char *text = records(3000, &n);
    int64_t want = 0;
    for (size_t i = 0; i < 3000; i++)
        want += (int64_t)(i % 7);
    for (int c = 0; c < 5; c++) {
        char good[64], bad[64];
        snprintf(good, sizeof good, "good.json%s", EXTS[c]);
        snprintf(bad, sizeof bad, "bad.json%s", EXTS[c]);
        put_codec(good, text, n);
        size_t m;
        char *z = iocheck_slurp(P(good), &m);
        assert_non_null(z);
        assert_int_equal(sum_v(P(good)), want);
        /* cut: always an error, except at 0 (an empty file is empty) */
        size_t step = m / 40 + 1;
        for (size_t off = 1; off < m; off += off < 24 ? 1 : step) {
            put(bad, z, off);
            if (sum_v(P(bad)) != -1)
                fail_msg("%s cut at %zu of %zu read without error", bad, off,
                         m);
            expect_error(CBAG_IO, CBAG_PARSE, P(bad), NULL);
        }
        /* one byte changed */
        for (size_t off = 0; off < m; off += step / 2 + 1) {
            z[off] ^= 0x55;
            put(bad, z, m);
            int64_t got = sum_v(P(bad));
            if (got == -1)
                expect_error(CBAG_IO, CBAG_PARSE, P(bad), NULL);
            else if (got != want)
                fail_msg("%s with byte %zu changed: sum %lld, not %lld", bad,
                         off, (long long)got, (long long)want);
            z[off] ^= 0x55;
        }
        free(z);
    }
    free(text);
}

/* A legacy .lzma header claiming a 4 GB dictionary: a few bytes must not
 * make cbag allocate 4 GB. Streams asking for more than 1 GiB are refused
 * (xz -9 needs 65 MB). */
static void test_xz_memory_claim(void **state) {
    (void)state;
    unsigned char f[32] = {0x5d, 0xff, 0xff, 0xff, 0xff};
    memset(f + 5, 0xff, 8); /* unknown size */
    put("claim.json.xz", f, sizeof f);
    assert_int_equal(count(cbag_read_text(cx, P("claim.json.xz"), NULL)), -1);
    expect_error(CBAG_IO, 0, P("claim.json.xz"), "MiB of memory to decode");
}

/* A gzip bomb: 100 lines of a million bytes, 100 MB in under 100 KB
 * (1000:1). cbag inflates it as gzip -d would, streaming through its
 * buffer (grown to hold a line): every line is read, memory stays flat. */
static void test_gzip_bomb(void **state) {
    (void)state;
    gzFile g = gzopen(P("bomb.txt.gz"), "wb9");
    assert_non_null(g);
    static char line[1000000];
    memset(line, 'y', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (int i = 0; i < 100; i++)
        assert_int_equal(gzwrite(g, line, sizeof line), sizeof line);
    assert_int_equal(gzclose(g), Z_OK);
    struct stat st;
    assert_int_equal(stat(P("bomb.txt.gz"), &st), 0);
    assert_true((uint64_t)sizeof line * 100 >= (uint64_t)st.st_size * 1000);
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    assert_int_equal(count(cbag_read_text(cx, P("bomb.txt.gz"), NULL)), 100);
    getrusage(RUSAGE_SELF, &after);
    /* kilobytes: the peak grew by far less than the 100 MB inflated */
    assert_true(after.ru_maxrss - before.ru_maxrss < 48 * 1024);
}

/* ------------------------------------------------------------------------ */
/* Bytes and text                                                           */

static void test_nul_bytes(void **state) {
    (void)state;
    static const char text[] = "{\"x\": \"a\\u0000b\"}\n"
                               "{\"x\": 1}\0\n"
                               "\0\n"
                               "{\"x\": \"c\"}\n";
    put("nul.json", text, sizeof text - 1);
    /* lines keep their NUL bytes */
    cbag_result *r = cbag_compute(cbag_read_text(cx, P("nul.json"), NULL));
    assert_non_null(r);
    size_t len;
    assert_int_equal(cbag_len(cbag_result_value(r)), 4);
    cbag_str(cbag_at(cbag_result_value(r), 1), &len);
    assert_int_equal(len, 10);
    cbag_result_free(r);
    /* a string with an escaped NUL is fine; a raw one is not JSON */
    cbag *js = cbag_map(cbag_read_text(cx, P("nul.json"), NULL),
                        cbag_json_loads, NULL);
    assert_int_equal(count(js), -1);
    expect_error(CBAG_PARSE, 0, P("nul.json"), "line 2");
    cbag *ok = cbag_pluck(
        cbag_json_loads_skip(cbag_read_text(cx, P("nul.json"), NULL)), "x");
    r = cbag_compute(ok);
    assert_non_null(r);
    cbag_str(cbag_at(cbag_result_value(r), 0), &len);
    assert_int_equal(len, 3);
    assert_int_equal(cbag_len(cbag_result_value(r)), 2);
    assert_int_equal(cbag_skipped(cx), 2);
    cbag_result_free(r);
}

/* Invalid UTF-8, overlong forms and encoded surrogates: errors="strict"
 * names the file and the line, also in a block that does not start the
 * file; "replace" gives one U+FFFD per maximal invalid subpart, "ignore"
 * drops them, as Python. */
static void test_bad_utf8(void **state) {
    (void)state;
    static const char *const bad[] = {
        "\xff",         "\xc0\xaf",         "\xe0\x80\xaf", "\xf0\x80\x80\xaf",
        "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"};
    static const int nrep[] = {1, 2, 3, 4, 3, 4, 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cbag__buf b = CBAG__BUF_INIT;
        for (int k = 0; k < 5000; k++)
            cbag__buf_puts(&b, "fine line\n");
        cbag__buf_printf(&b, "x%sy\n", bad[i]);
        cbag__buf_puts(&b, "fine\n");
        put("u.txt", b.p, b.len);
        cbag__buf_free(&b);
        cbag_text_options o = {0};
        o.blocksize = 10000; /* the bad line is in the last of 6 blocks */
        assert_int_equal(count(cbag_read_text(cx, P("u.txt"), &o)), -1);
        expect_error(CBAG_PARSE, 0, P("u.txt"), "line 5001: invalid UTF-8");
        o.errors = "replace";
        cbag_result *all = cbag_compute(cbag_read_text(cx, P("u.txt"), &o));
        assert_non_null(all);
        size_t len;
        const char *s = cbag_str(cbag_at(cbag_result_value(all), 5000), &len);
        assert_int_equal(len, 3 + 3 * (size_t)nrep[i]);
        for (int k = 0; k < nrep[i]; k++)
            assert_memory_equal(s + 1 + 3 * k, "\xef\xbf\xbd", 3);
        cbag_result_free(all);
        o.errors = "ignore";
        all = cbag_compute(cbag_read_text(cx, P("u.txt"), &o));
        assert_non_null(all);
        assert_true(cbag_str_eq(cbag_at(cbag_result_value(all), 5000), "xy\n"));
        cbag_result_free(all);
    }
}

/* json.loads of line 2 of a file holding only text (one JSON value). */
static cbag_result *parse_line2(const char *text, size_t n) {
    cbag__buf b = CBAG__BUF_INIT;
    cbag__buf_puts(&b, "{\"ok\": 1}\n");
    cbag__buf_put(&b, text, n);
    cbag__buf_puts(&b, "\n");
    put("h.json", b.p, b.len);
    cbag__buf_free(&b);
    cbag *js =
        cbag_map(cbag_read_text(cx, P("h.json"), NULL), cbag_json_loads, NULL);
    cbag_result *r = cbag_compute(js);
    if (r) return r;
    return NULL;
}

static void expect_parse_error(const char *text, size_t n, const char *what) {
    assert_null(parse_line2(text, n));
    if (!strstr(cbag_errmsg(cx), what)) fail_msg("%s", cbag_errmsg(cx));
    expect_error(CBAG_PARSE, 0, P("h.json"), "line 2");
}

static const cbag_val *second(cbag_result *r) {
    assert_non_null(r);
    return cbag_at(cbag_result_value(r), 1);
}

/* Hostile JSON: lone surrogates (cbag strings are UTF-8, which cannot hold
 * them: an error where Python makes a str it cannot encode), a million
 * levels of nesting (more than 10000 is an error), a number of a million
 * digits (an int beyond int64 is an error; a float is rounded, as
 * Python), a million keys, and duplicate keys (the last value wins, in the
 * first one's place, as Python's dict). */
static void test_hostile_json(void **state) {
    (void)state;
    expect_parse_error("\"\\ud800\"", 8, "unpaired surrogate");
    expect_parse_error("[\"\\udc00x\"]", 11, "unpaired surrogate");
    cbag_result *r = parse_line2("\"\\ud83d\\ude00\"", 14);
    assert_true(cbag_str_eq(second(r), "\xf0\x9f\x98\x80"));
    cbag_result_free(r);

    size_t N = 1000000;
    char *s = malloc(40 * N);
    assert_non_null(s);
    memset(s, '[', N);
    memset(s + N, ']', N);
    assert_null(parse_line2(s, 2 * N));
    expect_error(CBAG_PARSE, 0, "line 2", "nesting too deep");

    memset(s, '7', N);
    assert_null(parse_line2(s, N));
    expect_error(CBAG_PARSE, 0, "line 2", "integer out of range");
    s[0] = '0';
    s[1] = '.';
    r = parse_line2(s, N);
    assert_true(cbag_float_value(second(r)) > 0.7777);
    cbag_result_free(r);
    r = parse_line2("[1e999999, -1e-999999]", 22);
    assert_true(cbag_float_value(cbag_at(second(r), 0)) > 1e308);
    cbag_result_free(r);

    size_t k = 0;
    s[k++] = '{';
    for (size_t i = 0; i < N; i++)
        k += (size_t)sprintf(s + k, "%s\"k%zu\": %zu", i ? ", " : "", i, i);
    s[k++] = '}';
    r = parse_line2(s, k);
    assert_int_equal(cbag_len(second(r)), N);
    assert_int_equal(cbag_int_value(cbag_get(second(r), "k999999")), 999999);
    cbag_result_free(r);

    r = parse_line2("{\"a\": 1, \"b\": 2, \"a\": 3}", 24);
    char *repr = cbag_format(second(r), CBAG_FMT_REPR, NULL);
    assert_string_equal(repr, "{'a': 3, 'b': 2}");
    free(repr);
    cbag_result_free(r);
    free(s);
}

/* A very long line: read whole, whatever the buffer (it grows). */
static void test_long_line(void **state) {
    (void)state;
    size_t n = LONG_LINE_MB << 20;
    int fd = open(P("long.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    static char chunk[1 << 20];
    memset(chunk, 'x', sizeof chunk);
    assert_int_equal(write(fd, "first\n", 6), 6);
    for (size_t i = 0; i < n; i += sizeof chunk)
        assert_int_equal(write(fd, chunk, sizeof chunk), sizeof chunk);
    assert_int_equal(write(fd, "\nlast", 5), 5);
    close(fd);
    cbag_result *r = cbag_compute(cbag_read_text(cx, P("long.txt"), NULL));
    assert_non_null(r);
    assert_int_equal(cbag_len(cbag_result_value(r)), 3);
    size_t len;
    const char *s = cbag_str(cbag_at(cbag_result_value(r), 1), &len);
    assert_int_equal(len, n + 1);
    assert_int_equal(s[n - 1], 'x');
    assert_true(cbag_str_eq(cbag_at(cbag_result_value(r), 2), "last"));
    cbag_result_free(r);
    unlink(P("long.txt"));
}

/* Empty files, plain and compressed, with and without a blocksize. */
static void test_empty_files(void **state) {
    (void)state;
    put("e.txt", "", 0);
    put("e.txt.gz", "", 0); /* zero bytes, whatever the extension */
    put_codec("e2.txt.xz", "", 0);
    put_codec("e3.txt.zst", "", 0);
    const char *names[] = {"e.txt", "e.txt.gz", "e2.txt.xz", "e3.txt.zst"};
    for (int i = 0; i < 4; i++) {
        for (int bs = 0; bs < 2; bs++) {
            cbag_text_options o = {0};
            o.blocksize = bs ? 100 : 0;
            cbag *b = cbag_read_text(cx, P(names[i]), &o);
            assert_non_null(b);
            assert_int_equal(count(b), 0);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Files that change                                                        */

typedef struct {
    const char *path;
    atomic_int done;
} change;

/* Truncates the file when the first element comes (on any worker). */
static const cbag_val *truncate_at_first(cbag_call *c, const cbag_val *x,
                                         void *ud) {
    change *ch = ud;
    if (atomic_fetch_add(&ch->done, 1) == 0 && truncate(ch->path, 1000))
        return cbag_fail(c, "truncate failed");
    return x;
}

/* Appends a line when the first element comes. */
static const cbag_val *append_at_first(cbag_call *c, const cbag_val *x,
                                       void *ud) {
    change *ch = ud;
    if (atomic_fetch_add(&ch->done, 1) == 0) {
        FILE *f = fopen(ch->path, "a");
        if (!f) return cbag_fail(c, "cannot append");
        fputs("{\"i\": -1, \"v\": 100}\n", f);
        fclose(f);
    }
    return x;
}

/* A file that shrinks after read_text listed it, or while it is being
 * read, is an error naming it ("shrank"): the lines that were there are
 * gone and a partial result would look complete. One that grows is read
 * to its new end (the last block, or the whole file, reads to the end as
 * Python's readline would). */
static void test_grow_shrink(void **state) {
    (void)state;
    size_t n;
    char *text = records(200000, &n); /* about 5 MB: more than a buffer */
    put("change.json", text, n);
    for (int bs = 0; bs < 2; bs++) {
        cbag_text_options o = {0};
        o.blocksize = bs ? 1 << 20 : 0;
        put("change.json", text, n);
        cbag *b = cbag_read_text(cx, P("change.json"), &o);
        assert_int_equal(truncate(P("change.json"), (off_t)n / 2), 0);
        assert_int_equal(count(b), -1);
        expect_error(CBAG_IO, 0, P("change.json"), "shrank");
        /* while it is read */
        put("change.json", text, n);
        b = cbag_read_text(cx, P("change.json"), &o);
        change ch = {P("change.json"), 0};
        assert_int_equal(count(cbag_map(b, truncate_at_first, &ch)), -1);
        expect_error(CBAG_IO, 0, P("change.json"), "shrank");
        /* growing */
        put("change.json", text, n);
        b = cbag_read_text(cx, P("change.json"), &o);
        FILE *f = fopen(P("change.json"), "a");
        fputs("{\"i\": -1, \"v\": 100}\n", f);
        fclose(f);
        assert_int_equal(count(b), 200001);
        put("change.json", text, n);
        b = cbag_read_text(cx, P("change.json"), &o);
        change ch2 = {P("change.json"), 0};
        assert_int_equal(count(cbag_map(b, append_at_first, &ch2)), 200001);
    }
    free(text);
}

/* ------------------------------------------------------------------------ */
/* Not regular files                                                        */

static void test_directory(void **state) {
    (void)state;
    assert_int_equal(mkdir(P("adir"), 0700), 0);
    assert_int_equal(mkdir(P("adir/sub.json"), 0700), 0);
    assert_null(cbag_read_text(cx, P("adir"), NULL));
    expect_error(CBAG_IO, 0, P("adir"), "Is a directory");
    /* a glob skips directories, as dask: here nothing is left */
    char pat[600];
    snprintf(pat, sizeof pat, "%s/*.json", P("adir"));
    assert_null(cbag_read_text(cx, pat, NULL));
    expect_error(CBAG_IO, 0, "no files match", pat);
    /* a directory where an output file should go */
    cbag *b = cbag_map(cbag_range(cx, 4, 2), cbag_json_dumps, NULL);
    snprintf(pat, sizeof pat, "%s/*.json", P("adir"));
    assert_int_equal(mkdir(P("adir/0.json"), 0700), 0);
    assert_int_not_equal(cbag_to_textfiles(b, pat, NULL), CBAG_OK);
    expect_error(CBAG_IO, 0, "0.json", "Is a directory");
}

/* A FIFO is read to its end, as one partition even with a blocksize (it
 * cannot be cut); listing it does not open it (that would block until a
 * writer comes, or take the data away from the reader). */
static void test_fifo(void **state) {
    (void)state;
    assert_int_equal(mkfifo(P("fifo.json"), 0600), 0);
    int64_t want = 0;
    for (int i = 0; i < 5000; i++)
        want += i % 7;
    alarm(20); /* a hang is a failure, not a stuck test run */
    for (int bs = 0; bs < 2; bs++) {
        cbag_text_options o = {0};
        o.blocksize = bs ? 100 : 0;
        cbag *b = cbag_read_text(cx, P("fifo.json"), &o);
        assert_non_null(b);
        assert_int_equal(cbag_npartitions(b), 1);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(20);
            size_t n;
            char *text = records(5000, &n);
            int fd = open(P("fifo.json"), O_WRONLY);
            _exit(fd < 0 || write(fd, text, n) != (ssize_t)n);
        }
        cbag *js = cbag_map(b, cbag_json_loads, NULL);
        assert_int_equal(
            int_of(cbag_compute_item(cbag_sum(cbag_pluck(js, "v")))), want);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    alarm(0);
}

/* The checks of test_permission_denied, run as a user who is not root:
 * 0 when all hold. */
static int denied_checks(const char *secret, const char *mine,
                         const char *outdir) {
    cbag_options opt = {0};
    opt.workers = 2;
    opt.temp_dir = iocheck_tmp;
    cbag_ctx *c = cbag_open(&opt);
    int bad = 0;
    /* unreadable when listed */
    if (cbag_read_text(c, secret, NULL) ||
        !strstr(cbag_errmsg(c), "Permission denied") ||
        !strstr(cbag_errmsg(c), secret))
        bad |= 1;
    cbag_clear_error(c);
    /* unreadable when read */
    cbag *b = cbag_read_text(c, mine, NULL);
    if (!b || chmod(mine, 0)) bad |= 2;
    cbag_result *r = cbag_compute_item(cbag_count(b));
    if (r || !strstr(cbag_errmsg(c), "Permission denied") ||
        !strstr(cbag_errmsg(c), mine))
        bad |= 4;
    cbag_result_free(r);
    cbag_clear_error(c);
    /* not writable */
    char pat[600];
    snprintf(pat, sizeof pat, "%s/*.txt", outdir);
    b = cbag_map(cbag_range(c, 4, 2), cbag_json_dumps, NULL);
    if (cbag_to_textfiles(b, pat, NULL) == CBAG_OK ||
        !strstr(cbag_errmsg(c), "Permission denied") ||
        !strstr(cbag_errmsg(c), outdir))
        bad |= 8;
    if (bad)
        fprintf(stderr, "permission checks: %d: %s\n", bad, cbag_errmsg(c));
    cbag_close(c);
    return bad;
}

/* Unreadable input and unwritable output. Tests run as root here, who may
 * read anything: the checks then run in a child that becomes nobody. */
static void test_permission_denied(void **state) {
    (void)state;
    const uid_t nobody = 65534;
    puts_file("secret.txt", "x\n");
    puts_file("mine.txt", "y\n");
    assert_int_equal(chmod(P("secret.txt"), 0), 0);
    assert_int_equal(mkdir(P("ro"), 0755), 0);
    if (geteuid() != 0) {
        assert_int_equal(chmod(P("ro"), 0555), 0);
        assert_int_equal(denied_checks(P("secret.txt"), P("mine.txt"), P("ro")),
                         0);
        chmod(P("ro"), 0755);
        chmod(P("mine.txt"), 0600);
        return;
    }
    /* nobody must get through the scratch directory (and temp dir) */
    assert_int_equal(chmod(iocheck_root, 0755), 0);
    assert_int_equal(chmod(iocheck_tmp, 0777), 0);
    assert_int_equal(chown(P("mine.txt"), nobody, nobody), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(nobody) || setuid(nobody)) {
            fprintf(stderr, "cannot become nobody: %s\n", strerror(errno));
            _exit(100);
        }
        _exit(denied_checks(P("secret.txt"), P("mine.txt"), P("ro")));
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    chmod(iocheck_root, 0700);
    chmod(iocheck_tmp, 0700);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 100) {
        fprintf(stderr, "test_permission_denied: cannot setuid here; "
                        "skipped\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* ------------------------------------------------------------------------ */
/* One bad record in a million                                              */

static const cbag_val *fail_on(cbag_call *c, const cbag_val *x, void *ud) {
    if (cbag_int_value(cbag_get(x, "i")) == *(const int64_t *)ud)
        return cbag_fail(c, "ValueError: record %lld is bad",
                         (long long)*(const int64_t *)ud);
    return x;
}

/* A map function failing on one record of a million stops the compute
 * with its message, the file and the line; a record that is not JSON does
 * the same, or is skipped and counted with errors="skip". */
static void test_one_in_a_million(void **state) {
    (void)state;
    size_t n;
    char *text = records(1000000, &n);
    put("million.json", text, n);
    /* line 600001 is not JSON */
    char *at = strstr(text, "{\"i\": 600000,");
    assert_non_null(at);
    at[0] = '[';
    put("million-bad.json", text, n);
    free(text);
    for (int bs = 0; bs < 2; bs++) {
        cbag_text_options o = {0};
        o.blocksize = bs ? 1 << 20 : 0;
        int64_t bad = 777777;
        cbag *js = cbag_map(cbag_read_text(cx, P("million.json"), &o),
                            cbag_json_loads, NULL);
        assert_int_equal(count(cbag_map(js, fail_on, &bad)), -1);
        expect_error(CBAG_USER, 0, "ValueError: record 777777 is bad",
                     "million.json line 777778");
        js = cbag_map(cbag_read_text(cx, P("million-bad.json"), &o),
                      cbag_json_loads, NULL);
        assert_int_equal(count(js), -1);
        expect_error(CBAG_PARSE, 0, "JSONDecodeError",
                     "million-bad.json line 600001");
        js =
            cbag_json_loads_skip(cbag_read_text(cx, P("million-bad.json"), &o));
        assert_int_equal(count(js), 999999);
        assert_int_equal(cbag_skipped(cx), 1);
    }
}

static int setup(void **state) {
    (void)state;
    if (iocheck_init("hostile")) return -1;
    cbag_options o = {0};
    o.workers = 2;
    o.temp_dir = iocheck_tmp;
    cx = cbag_open(&o);
    return cx ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cbag_close(cx);
    iocheck_done();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IOCHECK_TEST(test_damaged_streams),
        IOCHECK_TEST(test_xz_memory_claim),
        IOCHECK_TEST(test_gzip_bomb),
        IOCHECK_TEST(test_nul_bytes),
        IOCHECK_TEST(test_bad_utf8),
        IOCHECK_TEST(test_hostile_json),
        IOCHECK_TEST(test_long_line),
        IOCHECK_TEST(test_empty_files),
        IOCHECK_TEST(test_grow_shrink),
        IOCHECK_TEST(test_directory),
        IOCHECK_TEST(test_fifo),
        IOCHECK_TEST(test_permission_denied),
        IOCHECK_TEST(test_one_in_a_million),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
