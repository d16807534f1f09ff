/* test_io.c: globs, block ranges, codecs, lines, output files, prep.
 *
 * Fixtures are made at run time in a mkdtemp directory, removed at the end.
 * Where Debian's python3-dask is installed, partitions are compared with
 * what dask.bag.read_text makes of the same files (the oracle); without it
 * those cases are skipped, and the brute-force model below still checks
 * every block boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cbag.h"
#include "io/io.h"
#include "iocheck.h"
#include "mem.h"

static char tmpdir[256];

static const char *const EXT[] = {"", ".gz", ".bz2", ".xz", ".zst", ".lz4"};
static const char *const TOOL[] = {NULL, "gzip", "bzip2", "xz", "zstd", "lz4"};
#define NCODECS 6

/* tmpdir/name, in one of a few rotating buffers */
static char *P(const char *name) {
    static char bufs[8][600];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static void put_path(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void put_file(const char *name, const void *data, size_t n) {
    put_path(P(name), data, n);
}

static char *get_path(const char *path, size_t *n) {
    char *s = iocheck_slurp(path, n);
    assert_non_null(s);
    return s;
}

/* Deterministic text: nlines lines of varying length, some non-ASCII. */
static char *gen_text(size_t nlines, uint64_t seed, size_t *n) {
    cbag__buf b = CBAG__BUF_INIT;
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < nlines; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cbag__buf_printf(&b, "{\"line\": %zu, \"v\": %llu, \"s\": \"", i,
                         (unsigned long long)(x % 100000));
        for (unsigned w = 0; w < x % 23; w++)
            cbag__buf_puts(&b, (x >> (w % 60)) & 1 ? "w\xc3\xb6rd " : "abc ");
        cbag__buf_puts(&b, "\"}\n");
    }
    return cbag__buf_detach(&b, n);
}

/* Writes data through cbag__out in pieces of `piece` bytes. */
static void out_write_file(const char *path, int codec, const void *data,
                           size_t n, size_t piece) {
    char err[1024];
    cbag__out *o = cbag__out_open(path, codec, err, sizeof err);
    if (!o) fail_msg("%s", err);
    for (size_t i = 0; i < n; i += piece) {
        size_t k = n - i < piece ? n - i : piece;
        assert_int_equal(cbag__out_write(o, (const char *)data + i, k),
                         CBAG_OK);
    }
    if (cbag__out_commit_err(o, err, sizeof err) != CBAG_OK)
        fail_msg("%s", err);
}

static int have_tool(const char *t) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", t);
    return system(cmd) == 0;
}

static cbag__text_opts opts(uint64_t blocksize, const char *delim) {
    cbag__text_opts o;
    memset(&o, 0, sizeof o);
    o.blocksize = blocksize;
    o.codec = CBAG__CODEC_INFER;
    o.delim = delim;
    o.encoding_errors = CBAG__ENC_STRICT;
    return o;
}

/* Plans the patterns and reads every partition. The lines go into *all
 * (concatenated) and into *fmt as the oracle script prints partitions:
 * "N|.hex,.hex|..." (either may be NULL). Returns the status; err gets
 * the message. */
static int read_parts(const char *const *pats, size_t np,
                      const cbag__text_opts *o, cbag__buf *all, cbag__buf *fmt,
                      char *err, size_t errlen) {
    cbag__text_part *parts;
    size_t nparts;
    int rc = cbag__text_plan(pats, np, o, &parts, &nparts, err, errlen);
    if (rc != CBAG_OK) return rc;
    if (fmt) cbag__buf_printf(fmt, "%zu", nparts);
    for (size_t i = 0; i < nparts && rc == CBAG_OK; i++) {
        cbag__lines *r = cbag__lines_open(&parts[i], o, err, errlen);
        if (!r) {
            rc = CBAG_IO;
            break;
        }
        if (fmt) cbag__buf_putc(fmt, '|');
        const char *line;
        size_t len;
        int k, first = 1;
        while ((k = cbag__lines_next(r, &line, &len)) == 1) {
            assert_non_null(line);
            if (all) cbag__buf_put(all, line, len);
            if (fmt) {
                cbag__buf_puts(fmt, first ? "." : ",.");
                for (size_t j = 0; j < len; j++)
                    cbag__buf_printf(fmt, "%02x", (unsigned char)line[j]);
            }
            first = 0;
        }
        if (k < 0) {
            rc = -k;
            snprintf(err, errlen, "%s", cbag__lines_error(r));
            assert_true(strlen(cbag__lines_error(r)) > 0);
            /* the error sticks */
            assert_int_equal(cbag__lines_next(r, &line, &len), k);
        }
        cbag__lines_close(r);
    }
    cbag__text_parts_free(parts, nparts);
    return rc;
}

static int read1(const char *path, const cbag__text_opts *o, cbag__buf *all,
                 cbag__buf *fmt, char *err, size_t errlen) {
    const char *pats[1] = {path};
    return read_parts(pats, 1, o, all, fmt, err, errlen);
}

/* ------------------------------------------------------------------------ */
/* A model of dask's block reading, written from fsspec's read_block and
 * dask's read_bytes / decode, on whole buffers. */

static size_t seek_delim(const char *d, size_t n, size_t x, const char *bd,
                         size_t bdl) {
    if (x == 0) return 0;
    if (x >= n) return n;
    const char *p = memmem(d + x, n - x, bd, bdl);
    return p ? (size_t)(p - d) + bdl : n;
}

/* Appends the lines of text[0..n) as StringIO/str.split give them. */
static void model_lines(const char *t, size_t n, const char *delim,
                        cbag__buf *fmt) {
    size_t i = 0, first = 1;
    while (i < n) {
        size_t e;
        cbag__buf line = CBAG__BUF_INIT;
        if (delim && *delim) {
            const char *p = memmem(t + i, n - i, delim, strlen(delim));
            e = p ? (size_t)(p - t) + strlen(delim) : n;
            cbag__buf_put(&line, t + i, e - i);
        } else {
            e = i;
            while (e < n && t[e] != '\n' && t[e] != '\r')
                e++;
            size_t body = e;
            if (e < n)
                e += (t[e] == '\r' && e + 1 < n && t[e + 1] == '\n') ? 2 : 1;
            cbag__buf_put(&line, t + i, (delim ? e : body) - i);
            if (!delim && e > body) cbag__buf_putc(&line, '\n');
        }
        cbag__buf_puts(fmt, first ? "." : ",.");
        for (size_t j = 0; j < line.len; j++)
            cbag__buf_printf(fmt, "%02x", (unsigned char)line.p[j]);
        cbag__buf_free(&line);
        first = 0;
        i = e;
    }
}

static void model_blocks(const char *d, size_t size, uint64_t bs,
                         const char *delim, cbag__buf *fmt) {
    if (size == 0) {
        cbag__buf_puts(fmt, "0");
        return;
    }
    const char *bd = delim && *delim ? delim : "\n";
    size_t bdl = strlen(bd);
    double bs1 = (double)bs;
    if (size % bs && size > bs) bs1 = (double)size / (double)(size / bs);
    size_t off[4096], n = 1;
    off[0] = 0;
    double place = 0;
    while ((double)size - place > bs1 * 2 - 1) {
        place += bs1;
        off[n++] = (size_t)place;
    }
    cbag__buf_printf(fmt, "%zu", n);
    for (size_t i = 0; i < n; i++) {
        size_t s = seek_delim(d, size, off[i], bd, bdl);
        size_t e = i + 1 < n ? seek_delim(d, size, off[i + 1], bd, bdl) : size;
        cbag__buf_putc(fmt, '|');
        if (e > s) model_lines(d + s, e - s, delim, fmt);
    }
}

/* ------------------------------------------------------------------------ */
/* Setup                                                                    */

static int setup(void **state) {
    (void)state;
    if (iocheck_init("io")) return -1;
    snprintf(tmpdir, sizeof tmpdir, "%s", iocheck_root);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    iocheck_done();
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Codecs                                                                   */

static void test_codec_roundtrip(void **state) {
    (void)state;
    size_t n;
    char *text = gen_text(40000, 1, &n); /* ~1.5 MB: several chunks */
    assert_true(n > (1u << 20));
    for (int c = 0; c < NCODECS; c++) {
        char name[64], err[1024];
        snprintf(name, sizeof name, "rt/data.txt%s", EXT[c]);
        /* odd piece sizes cross the writer's chunks */
        out_write_file(P(name), CBAG__CODEC_INFER, text, n, 77777);
        cbag__text_opts o = opts(0, NULL);
        cbag__buf all = CBAG__BUF_INIT;
        int rc = read1(P(name), &o, &all, NULL, err, sizeof err);
        if (rc) fail_msg("%s: %s", name, err);
        assert_int_equal(all.len, n);
        assert_memory_equal(all.p, text, n);
        cbag__buf_free(&all);
        /* the codec is also honoured when given explicitly */
        o.codec = c;
        rc = read1(P(name), &o, &all, NULL, err, sizeof err);
        assert_int_equal(rc, CBAG_OK);
        assert_int_equal(all.len, n);
        cbag__buf_free(&all);
    }
    /* no temporary file is left in the directory */
    DIR *dir = opendir(P("rt"));
    assert_non_null(dir);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(dir)))
        if (de->d_name[0] != '.')
            files++;
        else
            assert_true(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."));
    closedir(dir);
    assert_int_equal(files, NCODECS);
    cbag__free(text);
}

/* Files made by the command-line tools read back the same. */
static void test_cli_tools(void **state) {
    (void)state;
    size_t n;
    char *text = gen_text(3000, 2, &n);
    int ran = 0;
    for (int c = 1; c < NCODECS; c++) {
        if (!have_tool(TOOL[c])) continue;
        char name[64], cmd[1400], err[1024];
        snprintf(name, sizeof name, "cli%d.txt", c);
        put_file(name, text, n);
        snprintf(cmd, sizeof cmd, "%s -q -f %s%s", TOOL[c], P(name),
                 c == CBAG__CODEC_ZSTD || c == CBAG__CODEC_LZ4 ? " --rm" : "");
        if (c == CBAG__CODEC_LZ4)
            snprintf(cmd, sizeof cmd, "lz4 -q -f --rm %s %s.lz4", P(name),
                     P(name));
        assert_int_equal(system(cmd), 0);
        snprintf(name, sizeof name, "cli%d.txt%s", c, EXT[c]);
        cbag__text_opts o = opts(0, NULL);
        cbag__buf all = CBAG__BUF_INIT;
        if (read1(P(name), &o, &all, NULL, err, sizeof err))
            fail_msg("%s", err);
        assert_int_equal(all.len, n);
        assert_memory_equal(all.p, text, n);
        cbag__buf_free(&all);
        /* and our files decompress with the tools */
        snprintf(name, sizeof name, "ours%d.txt%s", c, EXT[c]);
        out_write_file(P(name), CBAG__CODEC_INFER, text, n, n);
        snprintf(cmd, sizeof cmd, "%s -d -c %s > %s.back 2>/dev/null", TOOL[c],
                 P(name), P(name));
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s.back", P(name));
        size_t m;
        char *back = get_path(cmd, &m);
        assert_int_equal(m, n);
        assert_memory_equal(back, text, n);
        cbag__free(back);
        ran++;
    }
    cbag__free(text);
    if (!ran) skip();
}

/* Concatenated streams (cat a.gz b.gz) are read to the end. */
static void test_multi_stream(void **state) {
    (void)state;
    const char *a = "first\nsecond\n", *b = "third\nfourth";
    for (int c = 1; c < NCODECS; c++) {
        char na[64], nb[64], nc[64], err[1024];
        snprintf(na, sizeof na, "ms_a%s", EXT[c]);
        snprintf(nb, sizeof nb, "ms_b%s", EXT[c]);
        snprintf(nc, sizeof nc, "ms_ab%s", EXT[c]);
        out_write_file(P(na), CBAG__CODEC_INFER, a, strlen(a), 100);
        out_write_file(P(nb), CBAG__CODEC_INFER, b, strlen(b), 100);
        size_t la, lb;
        char *da = get_path(P(na), &la), *db = get_path(P(nb), &lb);
        cbag__buf cat = CBAG__BUF_INIT;
        cbag__buf_put(&cat, da, la);
        cbag__buf_put(&cat, db, lb);
        cbag__buf_put(&cat, da, la); /* three members */
        if (c == CBAG__CODEC_GZIP)
            cbag__buf_put(&cat, "\0\0\0\0", 4); /* padding */
        put_file(nc, cat.p, cat.len);
        cbag__text_opts o = opts(0, NULL);
        cbag__buf all = CBAG__BUF_INIT, fmt = CBAG__BUF_INIT;
        if (read1(P(nc), &o, &all, &fmt, err, sizeof err))
            fail_msg("%s: %s", nc, err);
        const char *want = "first\nsecond\nthird\nfourthfirst\nsecond\n";
        assert_int_equal(all.len, strlen(want));
        assert_memory_equal(all.p, want, all.len);
        /* trailing garbage after the last stream is an error, not ignored */
        cbag__buf_put(&cat, "garbage!", 8);
        put_file(nc, cat.p, cat.len);
        cbag__buf_free(&all);
        int rc = read1(P(nc), &o, &all, NULL, err, sizeof err);
        assert_int_equal(rc, CBAG_IO);
        if (!strstr(err, "corrupt") || !strstr(err, nc)) fail_msg("%s", err);
        cbag__buf_free(&all);
        cbag__buf_free(&fmt);
        cbag__buf_free(&cat);
        cbag__free(da);
        cbag__free(db);
    }
}

/* A gzip file made of many members by the gzip tool (gzip -c a >> f). */
static void test_gzip_members_tool(void **state) {
    (void)state;
    if (!have_tool("gzip")) skip();
    size_t n;
    char *text = gen_text(5000, 3, &n);
    put_file("mm.txt", text, n);
    char cmd[1400];
    snprintf(cmd, sizeof cmd,
             "rm -f %s.gz; for i in 1 2 3 4 5; do gzip -c %s >> %s.gz; done",
             P("mm.txt"), P("mm.txt"), P("mm.txt"));
    assert_int_equal(system(cmd), 0);
    cbag__text_opts o = opts(0, NULL);
    cbag__buf all = CBAG__BUF_INIT;
    char err[1024];
    if (read1(P("mm.txt.gz"), &o, &all, NULL, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(all.len, 5 * n);
    for (int i = 0; i < 5; i++)
        assert_memory_equal(all.p + i * n, text, n);
    cbag__buf_free(&all);
    cbag__free(text);
}

static void check_damaged(const char *name, const char *orig, size_t n,
                          int truncated) {
    cbag__text_opts o = opts(0, NULL);
    cbag__buf all = CBAG__BUF_INIT;
    char err[1024];
    int rc = read1(P(name), &o, &all, NULL, err, sizeof err);
    if (truncated) {
        if (rc == CBAG_OK)
            fail_msg("%s: truncated file read without error", name);
    }
    if (rc == CBAG_OK) {
        /* never silently different */
        assert_int_equal(all.len, n);
        assert_memory_equal(all.p, orig, n);
    } else {
        assert_true(rc == CBAG_IO || rc == CBAG_PARSE);
        if (!strstr(err, name)) fail_msg("message without the file: %s", err);
        if (rc == CBAG_IO && !strstr(err, "truncated") &&
            !strstr(err, "corrupt"))
            fail_msg("unclear message: %s", err);
    }
    cbag__buf_free(&all);
}

static void test_truncated(void **state) {
    (void)state;
    size_t n;
    char *text = gen_text(3000, 4, &n);
    for (int c = 1; c < NCODECS; c++) {
        char name[64], tname[64];
        snprintf(name, sizeof name, "tr%s", EXT[c]);
        snprintf(tname, sizeof tname, "trunc%s", EXT[c]);
        out_write_file(P(name), CBAG__CODEC_INFER, text, n, n);
        size_t m;
        char *z = get_path(P(name), &m);
        size_t step = m / 300 + 1;
        for (size_t off = 1; off < m;
             off += off < 64 || off + 64 > m ? 1 : step) {
            put_file(tname, z, off);
            check_damaged(tname, text, n, 1);
        }
        cbag__free(z);
    }
    cbag__free(text);
}

static void test_corrupt(void **state) {
    (void)state;
    size_t n;
    char *text = gen_text(600, 5, &n);
    for (int c = 1; c < NCODECS; c++) {
        char name[64], cname[64];
        snprintf(name, sizeof name, "co%s", EXT[c]);
        snprintf(cname, sizeof cname, "corrupt%s", EXT[c]);
        out_write_file(P(name), CBAG__CODEC_INFER, text, n, n);
        size_t m;
        char *z = get_path(P(name), &m);
        size_t step = m / 250 + 1;
        for (size_t off = 0; off < m; off += step) {
            for (int flip = 0; flip < 2; flip++) {
                char saved = z[off];
                z[off] ^= flip ? 0x01 : 0x5a;
                put_file(cname, z, m);
                check_damaged(cname, text, n, 0);
                z[off] = saved;
            }
        }
        /* not compressed at all */
        put_file(cname, text, n);
        check_damaged(cname, text, n, 1);
        cbag__free(z);
    }
    cbag__free(text);
}

/* ------------------------------------------------------------------------ */
/* Lines and blocks                                                         */

static void expect_lines(const char *path, const cbag__text_opts *o,
                         const char *want) {
    cbag__buf fmt = CBAG__BUF_INIT;
    char err[1024];
    if (read1(path, o, NULL, &fmt, err, sizeof err)) fail_msg("%s", err);
    cbag__buf_putc(&fmt, 0);
    if (strcmp(fmt.p, want) != 0)
        fail_msg("%s: got %s want %s", path, fmt.p, want);
    cbag__buf_free(&fmt);
}

/* "a\n" -> ".610a" (in one of a few rotating buffers) */
static char *hexl(const char *const *lines, size_t n) {
    static char bufs[4][1024];
    static int which;
    char *out = bufs[which++ & 3];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(out + k, sizeof bufs[0] - k, "%s.", i ? "," : "");
        for (const char *p = lines[i]; *p; p++)
            k += (size_t)snprintf(out + k, sizeof bufs[0] - k, "%02x",
                                  (unsigned char)*p);
    }
    out[k] = 0;
    return out;
}

static void test_empty_and_final_newline(void **state) {
    (void)state;
    put_file("empty.txt", "", 0);
    cbag__text_opts o = opts(0, NULL);
    expect_lines(P("empty.txt"), &o, "1|"); /* an empty partition */
    o.blocksize = 10;
    expect_lines(P("empty.txt"), &o, "0"); /* dask: no block at all */
    put_file("nofinal.txt", "a\nb", 3);
    o.blocksize = 0;
    char want[256];
    const char *l1[] = {"a\n", "b"};
    snprintf(want, sizeof want, "1|%s", hexl(l1, 2));
    expect_lines(P("nofinal.txt"), &o, want);
    /* compressed empty files are empty too */
    for (int c = 1; c < NCODECS; c++) {
        char name[32];
        snprintf(name, sizeof name, "empty%s", EXT[c]);
        put_file(name, "", 0);
        expect_lines(P(name), &o, "1|");
        snprintf(name, sizeof name, "empty2%s", EXT[c]);
        out_write_file(P(name), CBAG__CODEC_INFER, "", 0, 1);
        expect_lines(P(name), &o, "1|");
    }
}

static void test_crlf(void **state) {
    (void)state;
    put_file("crlf.txt", "a\r\nb\rc\nd\r", 9);
    cbag__text_opts o = opts(0, NULL);
    const char *uni[] = {"a\n", "b\n", "c\n",
                         "d\n"}; /* dask: universal newlines */
    const char *keep[] = {"a\r\n", "b\r", "c\n", "d\r"};
    const char *nl[] = {"a\r\n", "b\rc\n", "d\r"};
    const char *cr[] = {"a\r", "\nb\r", "c\nd\r"};
    const char *crlf[] = {"a\r\n", "b\rc\nd\r"};
    char want[512];
    snprintf(want, sizeof want, "1|%s", hexl(uni, 4));
    expect_lines(P("crlf.txt"), &o, want);
    o.blocksize = 3;
    /* blocks [0,7) [7,7) [7,9): cut after the first "\n" at or after 3, 6 */
    snprintf(want, sizeof want, "3|%s||%s", hexl(uni, 3), hexl(uni + 3, 1));
    expect_lines(P("crlf.txt"), &o, want);
    o = opts(0, "");
    snprintf(want, sizeof want, "1|%s", hexl(keep, 4));
    expect_lines(P("crlf.txt"), &o, want);
    o.delim = "\n";
    snprintf(want, sizeof want, "1|%s", hexl(nl, 3));
    expect_lines(P("crlf.txt"), &o, want);
    o.delim = "\r";
    snprintf(want, sizeof want, "1|%s", hexl(cr, 3));
    expect_lines(P("crlf.txt"), &o, want);
    o.delim = "\r\n";
    snprintf(want, sizeof want, "1|%s", hexl(crlf, 2));
    expect_lines(P("crlf.txt"), &o, want);
    /* a "\r\n" split by the reader's buffer refill is still one ending */
    size_t n = (1u << 20) - 1;
    char *big = cbag__malloc(n + 3);
    memset(big, 'x', n + 3);
    big[n - 1] = '\n';
    big[n] = '\r'; /* a lone "x\r" line would be the error */
    big[n + 1] = '\n';
    big[n + 2] = 'y';
    put_file("crlf_big.txt", big, n + 3);
    o = opts(0, NULL);
    cbag__buf fmt = CBAG__BUF_INIT;
    char err[1024];
    assert_int_equal(read1(P("crlf_big.txt"), &o, NULL, &fmt, err, sizeof err),
                     0);
    cbag__buf_putc(&fmt, 0);
    assert_non_null(strstr(fmt.p, ",.0a,.79")); /* "\r\n" -> "\n", then "y" */
    cbag__buf_free(&fmt);
    cbag__free(big);
}

static void test_custom_delim(void **state) {
    (void)state;
    put_file("pipe.txt", "a|b|c|", 6);
    put_file("pipe2.txt", "a|b|c", 5);
    cbag__text_opts o = opts(0, "|");
    const char *l[] = {"a|", "b|", "c|", ""};
    const char *l2[] = {"a|", "b|", "c"};
    char want[512];
    /* dask's str.split gives a final "" (blocksize=None only) */
    snprintf(want, sizeof want, "1|%s", hexl(l, 4));
    expect_lines(P("pipe.txt"), &o, want);
    snprintf(want, sizeof want, "1|%s", hexl(l2, 3));
    expect_lines(P("pipe2.txt"), &o, want);
    o.blocksize = 2;
    snprintf(want, sizeof want, "3|%s|%s|", hexl(l, 2), hexl(l + 2, 1));
    expect_lines(P("pipe.txt"), &o, want);
    /* multi-byte delimiter */
    put_file("multi.txt", "one<>two<three<><>four", 22);
    o = opts(0, "<>");
    const char *m[] = {"one<>", "two<three<>", "<>", "four"};
    snprintf(want, sizeof want, "1|%s", hexl(m, 4));
    expect_lines(P("multi.txt"), &o, want);
    /* a delimiter split across the reader's buffer refill */
    size_t n = (1u << 20) + 10;
    char *big = cbag__malloc(n);
    memset(big, 'q', n);
    memcpy(big + (1u << 20) - 1, "<>", 2);
    put_file("multi_big.txt", big, n);
    cbag__buf all = CBAG__BUF_INIT, fmt = CBAG__BUF_INIT;
    char err[1024];
    assert_int_equal(read1(P("multi_big.txt"), &o, &all, &fmt, err, sizeof err),
                     0);
    assert_int_equal(all.len, n);
    cbag__buf_putc(&fmt, 0);
    assert_int_equal(strchr(fmt.p, ',') != NULL, 1); /* two lines */
    assert_null(strchr(strchr(fmt.p, ',') + 1, ','));
    cbag__buf_free(&all);
    cbag__buf_free(&fmt);
    cbag__free(big);
}

/* Every blocksize, so every block boundary position, on small files: the
 * partitions are those of the model of dask's algorithm, and together
 * they hold every line exactly once, in order. */
static void test_block_every_boundary(void **state) {
    (void)state;
    static const struct {
        const char *text;
        const char *delim;
    } cases[] = {
        {"alpha\nbeta\n\ngamma delta\nepsilon", NULL},
        {"alpha\nbeta\n\ngamma delta\nepsilon\n", "\n"},
        {"one\r\ntwo\r\n\r\nthree\rfour\n", NULL},
        {"one\r\ntwo\r\n\r\nthree\rfour\n", ""},
        {"one\r\ntwo\r\n\r\nthree\rfour\n", "\n"},
        {"\n\n\n\n", NULL},
        {"x", NULL},
        {"h\xc3\xa9llo\nw\xc3\xb6rld\n\xe2\x82\xac"
         "uro\n",
         NULL},
        {"x|yy|zzz||w|", "|"},
        {"x|yy|zzz||w", "|"},
        {"a<>b<><>c<d<>", "<>"},
        {"aaaa\nbbbbbbbbbbbbbbbbbbbbbbbbbb\nc\nddddddddd\n", NULL},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const char *t = cases[ci].text;
        size_t n = strlen(t);
        put_file("blk.txt", t, n);
        cbag__text_opts o = opts(0, cases[ci].delim);
        cbag__buf whole = CBAG__BUF_INIT;
        char err[1024];
        assert_int_equal(read1(P("blk.txt"), &o, &whole, NULL, err, sizeof err),
                         0);
        for (uint64_t bs = 1; bs <= n + 2; bs++) {
            o.blocksize = bs;
            cbag__buf all = CBAG__BUF_INIT, fmt = CBAG__BUF_INIT,
                      want = CBAG__BUF_INIT;
            if (read1(P("blk.txt"), &o, &all, &fmt, err, sizeof err))
                fail_msg("%s", err);
            model_blocks(t, n, bs, cases[ci].delim, &want);
            cbag__buf_putc(&fmt, 0);
            cbag__buf_putc(&want, 0);
            if (strcmp(fmt.p, want.p) != 0)
                fail_msg("case %zu blocksize %llu:\n got %s\nwant %s", ci,
                         (unsigned long long)bs, fmt.p, want.p);
            /* every line once, in order (the whole-file read may add
             * dask's trailing "" after a final custom delimiter) */
            assert_int_equal(all.len, whole.len);
            assert_memory_equal(all.p, whole.p, all.len);
            cbag__buf_free(&all);
            cbag__buf_free(&fmt);
            cbag__buf_free(&want);
        }
        cbag__buf_free(&whole);
    }
}

/* Differential test against dask itself, where it is installed. */
static void test_dask_oracle(void **state) {
    (void)state;
    if (system("/usr/bin/python3 -c 'import dask.bag' >/dev/null 2>&1") != 0)
        skip();
    static const char *const files[][2] = {
        {"d1.txt", "alpha\nbeta\n\ngamma delta\nepsilon"},
        {"d2.txt", "one\r\ntwo\r\n\r\nthree\rfour\n"},
        {"d3.txt", "x|yy|zzz||w|"},
        {"d4.txt", "h\xc3\xa9llo\nw\xc3\xb6rld\n\xe2\x82\xac"
                   "uro\n"},
        {"d5.txt", ""},
        {"d6.txt", "\n\n\n"},
        {"d7.txt", "a<>b<><>c<d<>e"},
        {"d8.txt", "0123456789\n0123456789\n0123456789\n0123456789\n0123456"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        put_file(files[i][0], files[i][1], strlen(files[i][1]));
    /* cases: pattern, blocksize, delimiter (NULL: default), files per partition
     */
    typedef struct {
        char pat[600];
        uint64_t bs;
        const char *delim;
        size_t fpp;
    } dcase;
    dcase *cs = cbag__calloc(2000, sizeof *cs);
    size_t nc = 0;
    static const int nl_files[] = {0, 1, 3, 5, 7}; /* newline-separated */
    for (size_t f = 0; f < 5; f++) {
        size_t n = strlen(files[nl_files[f]][1]);
        const char *dl[] = {NULL, "\n"};
        for (int d = 0; d < 2; d++)
            for (uint64_t bs = 0; bs <= n + 1; bs++) {
                snprintf(cs[nc].pat, sizeof cs[nc].pat, "%s",
                         P(files[nl_files[f]][0]));
                cs[nc].bs = bs;
                cs[nc].delim = dl[d];
                nc++;
            }
    }
    for (uint64_t bs = 0; bs <= 13; bs++) {
        snprintf(cs[nc].pat, sizeof cs[nc].pat, "%s", P("d3.txt"));
        cs[nc].bs = bs;
        cs[nc++].delim = "|";
    }
    for (uint64_t bs = 0; bs <= 15; bs++) {
        snprintf(cs[nc].pat, sizeof cs[nc].pat, "%s", P("d7.txt"));
        cs[nc].bs = bs;
        cs[nc++].delim = "<>";
    }
    const char *whole_delims[] = {"", "\r", "\r\n", "|"};
    for (int d = 0; d < 4; d++) {
        snprintf(cs[nc].pat, sizeof cs[nc].pat, "%s", P("d2.txt"));
        cs[nc++].delim = whole_delims[d];
    }
    for (size_t fpp = 0; fpp <= 4; fpp++) {
        snprintf(cs[nc].pat, sizeof cs[nc].pat, "%s", P("d*.txt"));
        cs[nc++].fpp = fpp;
    }
    for (uint64_t bs = 1; bs <= 12; bs += 5) {
        snprintf(cs[nc].pat, sizeof cs[nc].pat, "%s", P("d*.txt"));
        cs[nc++].bs = bs;
    }
    /* the spec for the script: one case a line */
    cbag__buf spec = CBAG__BUF_INIT;
    for (size_t i = 0; i < nc; i++) {
        cbag__buf_printf(&spec, "%s\t%llu\t", cs[i].pat,
                         (unsigned long long)cs[i].bs);
        if (!cs[i].delim) cbag__buf_putc(&spec, '-');
        for (const char *p = cs[i].delim; p && *p; p++)
            cbag__buf_printf(&spec, "%02x", (unsigned char)*p);
        if (cs[i].delim && !*cs[i].delim) cbag__buf_puts(&spec, "=");
        cbag__buf_printf(&spec, "\t%zu\n", cs[i].fpp);
    }
    put_file("oracle.spec", spec.p, spec.len);
    cbag__buf_free(&spec);
    static const char script[] =
        "import sys, dask, dask.bag as db\n"
        "dask.config.set(scheduler='sync')\n"
        "for line in open(sys.argv[1]):\n"
        "    pat, bs, d, fpp = line.rstrip('\\n').split('\\t')\n"
        "    kw = {}\n"
        "    if bs != '0': kw['blocksize'] = int(bs)\n"
        "    if d == '=': kw['linedelimiter'] = ''\n"
        "    elif d != '-': kw['linedelimiter'] = bytes.fromhex(d).decode()\n"
        "    if fpp != '0': kw['files_per_partition'] = int(fpp)\n"
        "    try:\n"
        "        b = db.read_text(pat, **kw)\n"
        "        parts = dask.compute(*b.to_delayed())\n"
        "        print('%d|' % len(parts) + '|'.join(','.join('.' + "
        "l.encode().hex() "
        "for l in p) for p in parts))\n"
        "    except Exception as e:\n"
        "        print('ERROR', type(e).__name__)\n";
    put_file("oracle.py", script, strlen(script));
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s > %s 2>/dev/null",
             P("oracle.py"), P("oracle.spec"), P("oracle.out"));
    assert_int_equal(system(cmd), 0);
    size_t olen;
    char *out = get_path(P("oracle.out"), &olen);
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    size_t compared = 0;
    for (size_t i = 0; i < nc; i++, line = strtok_r(NULL, "\n", &save)) {
        assert_non_null(line);
        cbag__text_opts o = opts(cs[i].bs, cs[i].delim);
        o.files_per_partition = cs[i].fpp;
        cbag__buf fmt = CBAG__BUF_INIT;
        char err[1024];
        const char *pats[1] = {cs[i].pat};
        int rc = read_parts(pats, 1, &o, NULL, &fmt, err, sizeof err);
        cbag__buf_putc(&fmt, 0);
        if (!strncmp(line, "ERROR", 5)) {
            /* dask refuses all-empty block reads ("No files found") */
            cbag__buf_free(&fmt);
            continue;
        }
        /* "1|" from python is a partition with nothing; the same here */
        if (rc != CBAG_OK) fail_msg("case %zu (%s): %s", i, cs[i].pat, err);
        if (strcmp(fmt.p, line) != 0)
            fail_msg(
                "case %zu %s bs=%llu delim=%s fpp=%zu:\n  cbag %s\n  dask %s",
                i, cs[i].pat, (unsigned long long)cs[i].bs,
                cs[i].delim ? cs[i].delim : "None", cs[i].fpp, fmt.p, line);
        compared++;
        cbag__buf_free(&fmt);
    }
    assert_true(compared > nc * 9 / 10);
    cbag__free(out);
    cbag__free(cs);
}

static void test_files_per_partition(void **state) {
    (void)state;
    char name[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "fpp/f%d.txt", i);
        char body[32];
        int k = snprintf(body, sizeof body, "file%d-1\nfile%d-2\n", i, i);
        mkdir(P("fpp"), 0777);
        put_file(name, body, (size_t)k);
    }
    const char *pats[1] = {P("fpp/f*.txt")};
    cbag__text_opts o = opts(0, NULL);
    o.files_per_partition = 2;
    cbag__text_part *parts;
    size_t np;
    char err[1024];
    assert_int_equal(cbag__text_plan(pats, 1, &o, &parts, &np, err, sizeof err),
                     0);
    assert_int_equal(np, 3);
    assert_int_equal(parts[0].nfiles, 2);
    assert_int_equal(parts[2].nfiles, 1);
    cbag__lines *r = cbag__lines_open(&parts[1], &o, err, sizeof err);
    assert_non_null(r);
    const char *line;
    size_t len;
    const char *want[] = {"file2-1\n", "file2-2\n", "file3-1\n", "file3-2\n"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(cbag__lines_next(r, &line, &len), 1);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(line, want[i], len);
        assert_non_null(
            strstr(cbag__lines_path(r), i < 2 ? "f2.txt" : "f3.txt"));
        assert_int_equal(cbag__lines_lineno(r), (uint64_t)(i % 2 + 1));
    }
    assert_int_equal(cbag__lines_next(r, &line, &len), 0);
    assert_int_equal(cbag__lines_next(r, &line, &len), 0);
    cbag__lines_close(r);
    cbag__text_parts_free(parts, np);
    o.blocksize = 100;
    assert_int_equal(cbag__text_plan(pats, 1, &o, &parts, &np, err, sizeof err),
                     CBAG_INVALID);
    assert_non_null(strstr(err, "files_per_partition"));
}

static void test_lineno(void **state) {
    (void)state;
    /* line N says N; every partition's lines know their number */
    static const char *const delims[] = {NULL, "\n", "|", "", "<>"};
    for (int d = 0; d < 5; d++) {
        cbag__buf t = CBAG__BUF_INIT;
        for (int i = 1; i <= 40; i++) {
            const char *end = delims[d] && *delims[d] ? delims[d]
                              : i % 3 == 0            ? "\r\n"
                              : i % 3 == 1 && d != 1  ? "\r"
                                                      : "\n";
            cbag__buf_printf(&t, "%d%s", i, end);
        }
        put_file("lineno.txt", t.p, t.len);
        for (uint64_t bs = 1; bs < 30; bs += 3) {
            const char *pats[1] = {P("lineno.txt")};
            cbag__text_opts o = opts(bs, delims[d]);
            cbag__text_part *parts;
            size_t np;
            char err[1024];
            assert_int_equal(
                cbag__text_plan(pats, 1, &o, &parts, &np, err, sizeof err), 0);
            int expect = 1;
            for (size_t p = 0; p < np; p++) {
                cbag__lines *r =
                    cbag__lines_open(&parts[p], &o, err, sizeof err);
                assert_non_null(r);
                const char *line;
                size_t len;
                while (cbag__lines_next(r, &line, &len) == 1) {
                    assert_int_equal(atoi(line), expect);
                    assert_int_equal(cbag__lines_lineno(r), (uint64_t)expect);
                    expect++;
                }
                cbag__lines_close(r);
            }
            assert_int_equal(expect, 41);
            cbag__text_parts_free(parts, np);
        }
        cbag__buf_free(&t);
    }
}

static void test_utf8(void **state) {
    (void)state;
    static const struct {
        const char *in, *rep, *ign;
    } cases[] = {
        {"a\xff"
         "b",
         "a\xef\xbf\xbd"
         "b",
         "ab"},
        {"\xe2\x82x", "\xef\xbf\xbdx", "x"},
        {"\xf0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", ""},
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", ""},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", ""},
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
         ""},
        {"\xe0\xa0", "\xef\xbf\xbd", ""},
        {"\xf1\x80\x80z", "\xef\xbf\xbdz", "z"},
        {"\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80",
         "\xe2\x82\xac \xf0\x9f\x98\x80"},
        {"\xc2", "\xef\xbf\xbd", ""},
        {"\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd", ""},
        {"\xf0\x90\x80\xc2\xa9", "\xef\xbf\xbd\xc2\xa9", "\xc2\xa9"},
        {"0123456789abcdef0123456789\xff",
         "0123456789abcdef0123456789\xef\xbf\xbd",
         "0123456789abcdef0123456789"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cbag__buf t = CBAG__BUF_INIT;
        cbag__buf_printf(&t, "fine\n%s\nfine", cases[i].in);
        put_file("u.txt", t.p, t.len);
        cbag__text_opts o = opts(0, NULL);
        cbag__buf all = CBAG__BUF_INIT;
        char err[1024], want[256];
        int rc = read1(P("u.txt"), &o, &all, NULL, err, sizeof err);
        int valid = !strcmp(cases[i].in, cases[i].rep);
        if (valid) {
            assert_int_equal(rc, CBAG_OK);
        } else {
            assert_int_equal(rc, CBAG_PARSE);
            size_t bad = strspn(cases[i].in, "0123456789abcdef");
            snprintf(want, sizeof want,
                     "%s: line 2: invalid UTF-8 at byte %zu of the line",
                     P("u.txt"), bad);
            if (!strstr(err, want)) fail_msg("got '%s' want '%s'", err, want);
        }
        cbag__buf_free(&all);
        for (int mode = 1; mode <= 2; mode++) {
            o.encoding_errors =
                mode == 1 ? CBAG__ENC_REPLACE : CBAG__ENC_IGNORE;
            assert_int_equal(read1(P("u.txt"), &o, &all, NULL, err, sizeof err),
                             0);
            snprintf(want, sizeof want, "fine\n%s\nfine",
                     mode == 1 ? cases[i].rep : cases[i].ign);
            assert_int_equal(all.len, strlen(want));
            assert_memory_equal(all.p, want, all.len);
            cbag__buf_free(&all);
        }
        cbag__buf_free(&t);
    }
    /* the line number of an error in a block that does not start the file */
    cbag__buf t = CBAG__BUF_INIT;
    for (int i = 1; i <= 100; i++)
        cbag__buf_printf(&t, i == 77 ? "bad\xc3(\n" : "line %d\n", i);
    put_file("u2.txt", t.p, t.len);
    cbag__text_opts o = opts(64, NULL);
    char err[1024];
    cbag__buf all = CBAG__BUF_INIT;
    assert_int_equal(read1(P("u2.txt"), &o, &all, NULL, err, sizeof err),
                     CBAG_PARSE);
    assert_non_null(
        strstr(err, "line 77: invalid UTF-8 at byte 3 of the line (0xc3)"));
    cbag__buf_free(&all);
    cbag__buf_free(&t);
}

static void test_long_line(void **state) {
    (void)state;
    size_t n = (size_t)64 << 20;
    char *big = cbag__malloc(n + 16);
    assert_non_null(big);
    memcpy(big, "first\n", 6);
    memset(big + 6, 'x', n);
    memcpy(big + 6 + n, "\nlast\n", 6);
    size_t total = n + 12;
    put_file("long.txt", big, total);
    out_write_file(P("long.txt.gz"), CBAG__CODEC_INFER, big, total, total);
    const char *names[] = {"long.txt", "long.txt.gz"};
    for (int f = 0; f < 2; f++) {
        for (uint64_t bs = 0; bs <= (f ? 0 : (uint64_t)20 << 20);
             bs += (uint64_t)20 << 20) {
            const char *pats[1] = {P(names[f])};
            cbag__text_opts o = opts(bs, NULL);
            cbag__text_part *parts;
            size_t np;
            char err[1024];
            assert_int_equal(
                cbag__text_plan(pats, 1, &o, &parts, &np, err, sizeof err), 0);
            size_t seen = 0;
            for (size_t p = 0; p < np; p++) {
                cbag__lines *r =
                    cbag__lines_open(&parts[p], &o, err, sizeof err);
                assert_non_null(r);
                const char *line;
                size_t len;
                while (cbag__lines_next(r, &line, &len) == 1) {
                    if (seen == 1) {
                        assert_int_equal(len, n + 1);
                        assert_int_equal(line[n - 1], 'x');
                        assert_int_equal(line[n], '\n');
                        assert_int_equal(cbag__lines_lineno(r), 2);
                    } else {
                        assert_int_equal(len, seen ? 5 : 6);
                    }
                    seen++;
                }
                cbag__lines_close(r);
            }
            assert_int_equal(seen, 3);
            cbag__text_parts_free(parts, np);
        }
    }
    cbag__free(big);
}

static void test_bytes_read(void **state) {
    (void)state;
    size_t n;
    char *text = gen_text(2000, 6, &n);
    out_write_file(P("br.txt.gz"), CBAG__CODEC_INFER, text, n, n);
    struct stat st;
    assert_int_equal(stat(P("br.txt.gz"), &st), 0);
    const char *pats[1] = {P("br.txt.gz")};
    cbag__text_opts o = opts(0, NULL);
    cbag__text_part *parts;
    size_t np;
    char err[1024];
    assert_int_equal(cbag__text_plan(pats, 1, &o, &parts, &np, err, sizeof err),
                     0);
    assert_int_equal(parts[0].size_hint, (uint64_t)st.st_size);
    cbag__lines *r = cbag__lines_open(&parts[0], &o, err, sizeof err);
    const char *line;
    size_t len;
    while (cbag__lines_next(r, &line, &len) == 1) {
    }
    assert_int_equal(cbag__lines_bytes_read(r), (uint64_t)st.st_size);
    cbag__lines_close(r);
    cbag__text_parts_free(parts, np);
    cbag__free(text);
}

/* ------------------------------------------------------------------------ */
/* Planning errors and globs                                                */

static void test_glob(void **state) {
    (void)state;
    mkdir(P("g"), 0777);
    mkdir(P("g/c.txt"), 0777); /* a directory that matches: skipped */
    const char *names[] = {"g/b.txt",  "g/a.txt",    "g/a10.txt",
                           "g/a9.txt", "g/x[1].txt", "g/.hidden.txt"};
    for (int i = 0; i < 6; i++)
        put_file(names[i], "z\n", 2);
    static const struct {
        const char *pats[3];
        size_t n;
        const char *want;
    } cases[] = {
        {{"g/*.txt"}, 1, "a.txt a10.txt a9.txt b.txt x[1].txt"},
        {{"g/a?.txt"}, 1, "a9.txt"},
        {{"g/[ab].txt"}, 1, "a.txt b.txt"},
        {{"g/x[1].txt"}, 1, "x[1].txt"}, /* no match as a glob: the file */
        {{"g/b.txt", "g/a*.txt"}, 2, "b.txt a.txt a10.txt a9.txt"},
        {{"g/.h*"}, 1, ".hidden.txt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *pats[3];
        for (size_t k = 0; k < cases[i].n; k++)
            pats[k] = P(cases[i].pats[k]);
        cbag__text_opts o = opts(0, NULL);
        cbag__text_part *parts;
        size_t np;
        char err[1024], got[512] = "";
        assert_int_equal(
            cbag__text_plan(pats, cases[i].n, &o, &parts, &np, err, sizeof err),
            0);
        for (size_t p = 0; p < np; p++) {
            assert_int_equal(parts[p].nfiles, 1);
            const char *base = strrchr(parts[p].files[0].path, '/') + 1;
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
                     p ? " " : "", base);
        }
        if (strcmp(got, cases[i].want)) fail_msg("case %zu: got '%s'", i, got);
        cbag__text_parts_free(parts, np);
    }
}

static void expect_plan_error(const char *pat, int code, const char *msg) {
    const char *pats[2] = {P("g/a.txt"), pat};
    cbag__text_opts o = opts(0, NULL);
    cbag__text_part *parts = (void *)1;
    size_t np = 7;
    char err[1024];
    int rc = cbag__text_plan(pats, 2, &o, &parts, &np, err, sizeof err);
    assert_int_equal(rc, code);
    assert_null(parts);
    assert_int_equal(np, 0);
    if (!strstr(err, msg)) fail_msg("got '%s' want '%s'", err, msg);
}

static void test_plan_errors(void **state) {
    (void)state;
    char want[1024];
    snprintf(want, sizeof want, "read_text: no files match '%s'",
             P("g/zz*.json"));
    expect_plan_error(P("g/zz*.json"), CBAG_IO, want);
    snprintf(want, sizeof want, "read_text: %s: No such file or directory",
             P("g/missing.txt"));
    expect_plan_error(P("g/missing.txt"), CBAG_IO, want);
    snprintf(want, sizeof want, "read_text: %s: Is a directory", P("g"));
    expect_plan_error(P("g"), CBAG_IO, want);
    /* a glob matching only directories matches no file */
    snprintf(want, sizeof want, "read_text: no files match '%s'", P("g/c.t?t"));
    expect_plan_error(P("g/c.t?t"), CBAG_IO, want);
    cbag__text_opts o = opts(0, NULL);
    cbag__text_part *parts;
    size_t np;
    char err[256];
    assert_int_equal(cbag__text_plan(NULL, 0, &o, &parts, &np, err, sizeof err),
                     CBAG_INVALID);
    /* lines_open on a file that disappeared after planning */
    put_file("gone.txt", "x\n", 2);
    const char *pats[1] = {P("gone.txt")};
    assert_int_equal(cbag__text_plan(pats, 1, &o, &parts, &np, err, sizeof err),
                     0);
    unlink(P("gone.txt"));
    assert_null(cbag__lines_open(&parts[0], &o, err, sizeof err));
    assert_non_null(strstr(err, "gone.txt: No such file or directory"));
    cbag__text_parts_free(parts, np);
}

static void test_permission_denied(void **state) {
    (void)state;
    if (geteuid() == 0) skip(); /* root reads anything */
    put_file("secret.txt", "x\n", 2);
    chmod(P("secret.txt"), 0);
    char want[1024];
    snprintf(want, sizeof want, "read_text: %s: Permission denied",
             P("secret.txt"));
    expect_plan_error(P("secret.txt"), CBAG_IO, want);
    chmod(P("secret.txt"), 0600);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                   */

static int count_entries(const char *dir, const char *prefix) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
            !strncmp(de->d_name, prefix, strlen(prefix)))
            n++;
    closedir(d);
    return n;
}

static void test_out_temp_rename(void **state) {
    (void)state;
    char err[1024];
    for (int c = 0; c < NCODECS; c++) {
        char name[64];
        snprintf(name, sizeof name, "o/sub%d/x.json%s", c, EXT[c]);
        char dir[64];
        snprintf(dir, sizeof dir, "o/sub%d", c);
        cbag__out *o =
            cbag__out_open(P(name), CBAG__CODEC_INFER, err, sizeof err);
        if (!o) fail_msg("%s", err);
        assert_int_equal(cbag__out_write(o, "hello\n", 6), CBAG_OK);
        assert_int_equal(count_entries(P(dir), ".x.json"),
                         1); /* the temporary */
        assert_int_equal(count_entries(P(dir), "x.json"), 0);
        cbag__out_abort(o);
        assert_int_equal(count_entries(P(dir), ""), 0);
        o = cbag__out_open(P(name), CBAG__CODEC_INFER, err, sizeof err);
        assert_int_equal(cbag__out_write(o, "hello\n", 6), CBAG_OK);
        assert_int_equal(cbag__out_commit(o), CBAG_OK);
        assert_int_equal(count_entries(P(dir), ""), 1);
        assert_int_equal(count_entries(P(dir), "x.json"), 1);
        cbag__text_opts to = opts(0, NULL);
        expect_lines(P(name), &to, "1|.68656c6c6f0a");
        /* committing again replaces the file atomically */
        out_write_file(P(name), CBAG__CODEC_INFER, "bye", 3, 3);
        expect_lines(P(name), &to, "1|.627965");
        assert_int_equal(count_entries(P(dir), ""), 1);
    }
    cbag__out_abort(NULL);
}

static void test_out_errors(void **state) {
    (void)state;
    char err[1024];
    /* the final name is a directory */
    mkdir(P("odir"), 0777);
    assert_null(cbag__out_open(P("odir"), CBAG__CODEC_INFER, err, sizeof err));
    assert_non_null(strstr(err, "Is a directory"));
    assert_non_null(strstr(err, P("odir")));
    /* a parent is a file */
    put_file("ofile", "x", 1);
    assert_null(cbag__out_open(P("ofile/sub/x.txt"), CBAG__CODEC_INFER, err,
                               sizeof err));
    assert_non_null(strstr(err, "ofile/sub/x.txt"));
    assert_non_null(strstr(err, "Not a directory"));
    /* EFBIG: a file size limit stands in for a full disk */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 100000;
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    for (int c = 0; c < 2; c++) {
        const char *name = c ? "big/efbig.txt.zst" : "big/efbig.txt";
        cbag__out *o =
            cbag__out_open(P(name), CBAG__CODEC_INFER, err, sizeof err);
        assert_non_null(o);
        size_t n;
        char *text = gen_text(60000, 9, &n);
        int rc = CBAG_OK;
        for (size_t i = 0; i < n && rc == CBAG_OK; i += 100000)
            rc = cbag__out_write(o, text + i, n - i < 100000 ? n - i : 100000);
        if (rc == CBAG_OK)
            rc = cbag__out_commit_err(o, err, sizeof err);
        else {
            assert_non_null(strstr(cbag__out_error(o), "File too large"));
            assert_int_equal(cbag__out_write(o, "x", 1), rc); /* sticks */
            assert_int_equal(cbag__out_commit_err(o, err, sizeof err), rc);
        }
        assert_int_equal(rc, CBAG_IO);
        assert_non_null(strstr(err, P(name)));
        assert_non_null(strstr(err, "File too large"));
        assert_int_equal(count_entries(P("big"), ""), 0); /* nothing left */
        cbag__free(text);
    }
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);
}

static void test_textfile_names(void **state) {
    (void)state;
    static const struct {
        const char *pat;
        size_t i, n;
        const char *want;
    } cases[] = {
        {"out/*.json.gz", 0, 1, "out/0.json.gz"},
        {"out/*.json.gz", 9, 10, "out/9.json.gz"},
        {"out/*.json.gz", 3, 11, "out/03.json.gz"},
        {"out/*.json.gz", 10, 11, "out/10.json.gz"},
        {"out/part-*.txt", 7, 100, "out/part-07.txt"},
        {"out/part-*.txt", 7, 101, "out/part-007.txt"},
        {"out", 2, 3, "out/2.part"},
        {"out/", 12, 13, "out/12.part"},
        {"*", 0, 0, "0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = cbag__textfile_name(cases[i].pat, cases[i].i, cases[i].n);
        assert_non_null(s);
        assert_string_equal(s, cases[i].want);
        cbag__free(s);
    }
    assert_null(cbag__textfile_name("a*b*", 0, 2));
    char err[256];
    assert_int_equal(cbag__textfile_pattern_check("a*b*", err, sizeof err),
                     CBAG_INVALID);
    assert_non_null(strstr(err, "exactly one '*'"));
    assert_int_equal(cbag__textfile_pattern_check("a*b", err, sizeof err),
                     CBAG_OK);
    /* dask's naming agrees, where dask is installed */
    if (system("/usr/bin/python3 -c 'import fsspec.utils' >/dev/null 2>&1") ==
        0) {
        char cmd[512];
        snprintf(
            cmd, sizeof cmd,
            "/usr/bin/python3 -c 'from fsspec.core import _expand_paths as e; "
            "print(\" \".join(e(\"o/*.x\", None, 1234)[i] for i in (0, 5, 999, "
            "1233)))' > %s",
            P("names.out"));
        assert_int_equal(system(cmd), 0);
        size_t n;
        char *got = get_path(P("names.out"), &n);
        assert_string_equal(got, "o/0000.x o/0005.x o/0999.x o/1233.x\n");
        cbag__free(got);
        char *s = cbag__textfile_name("o/*.x", 5, 1234);
        assert_string_equal(s, "o/0005.x");
        cbag__free(s);
    }
}

static void test_codec_from_path(void **state) {
    (void)state;
    assert_int_equal(cbag__codec_from_path("a/b.json.gz"), CBAG__CODEC_GZIP);
    assert_int_equal(cbag__codec_from_path("B.GZ"), CBAG__CODEC_GZIP);
    assert_int_equal(cbag__codec_from_path("x.bz2"), CBAG__CODEC_BZ2);
    assert_int_equal(cbag__codec_from_path("x.xz"), CBAG__CODEC_XZ);
    assert_int_equal(cbag__codec_from_path("x.zst"), CBAG__CODEC_ZSTD);
    assert_int_equal(cbag__codec_from_path("x.lz4"), CBAG__CODEC_LZ4);
    assert_int_equal(cbag__codec_from_path("x.json"), CBAG__CODEC_NONE);
    assert_int_equal(cbag__codec_from_path(".gz"), CBAG__CODEC_NONE);
    assert_int_equal(cbag__codec_from_path("dir.gz/file"), CBAG__CODEC_NONE);
    assert_int_equal(cbag__codec_from_path("x.gzip"), CBAG__CODEC_NONE);
    assert_string_equal(cbag__codec_name(CBAG__CODEC_BZ2), "bz2");
}

/* ------------------------------------------------------------------------ */
/* Allocation failures                                                      */

static void test_oom(void **state) {
    (void)state;
    size_t n;
    char *text = gen_text(300, 7, &n);
    out_write_file(P("oom.txt.bz2"), CBAG__CODEC_INFER, text, n, n);
    out_write_file(P("oom.txt.xz"), CBAG__CODEC_INFER, text, n, n);
    out_write_file(P("oom.txt.gz"), CBAG__CODEC_INFER, text, n, n);
    const char *pats[] = {P("oom.txt.bz2"), P("oom.txt.xz"), P("oom.txt.gz")};
    /* reading: plan and lines */
    for (long k = 1;; k++) {
        cbag__text_opts o = opts(0, "\n");
        o.encoding_errors = CBAG__ENC_REPLACE;
        o.files_per_partition = 3;
        char err[1024];
        cbag__mem_fail_after(k, 1);
        int rc = read_parts(pats, 3, &o, NULL, NULL, err, sizeof err);
        cbag__mem_fail_after(0, 0);
        if (rc == CBAG_OK) break;
        assert_true(rc == CBAG_NOMEM ||
                    (rc == CBAG_IO && strstr(err, "out of memory")));
        assert_true(k < 10000);
    }
    /* writing */
    for (long k = 1;; k++) {
        char err[1024];
        cbag__mem_fail_after(k, 1);
        cbag__out *o = cbag__out_open(P("oom_out/x.bz2"), CBAG__CODEC_INFER,
                                      err, sizeof err);
        int rc = o ? cbag__out_write(o, text, n) : CBAG_NOMEM;
        if (o)
            rc = rc ? (cbag__out_abort(o), rc)
                    : cbag__out_commit_err(o, err, sizeof err);
        cbag__mem_fail_after(0, 0);
        if (rc == CBAG_OK) break;
        assert_int_equal(rc, CBAG_NOMEM);
        assert_true(k < 10000);
    }
    /* textfile names */
    for (long k = 1;; k++) {
        cbag__mem_fail_after(k, 1);
        char *s = cbag__textfile_name("out/*.json", 3, 10);
        cbag__mem_fail_after(0, 0);
        if (s) {
            cbag__free(s);
            break;
        }
    }
    cbag__free(text);
}

/* ------------------------------------------------------------------------ */
/* prep_accounts                                                            */

static const char *const NAMES[26] = {
    "Alice",  "Bob",      "Charlie", "Dan",    "Edith", "Frank",   "George",
    "Hannah", "Ingrid",   "Jerry",   "Kevin",  "Laura", "Michael", "Norbert",
    "Oliver", "Patricia", "Quinn",   "Ray",    "Sarah", "Tim",     "Ursula",
    "Victor", "Wendy",    "Xavier",  "Yvonne", "Zelda"};

/* Checks one line against json.dumps' exact format; returns its id and
 * adds its transaction count. */
static long check_account_line(const char *s, size_t len, int k, long *ntx) {
    const char *e = s + len, *p = s;
    long id = -1, prev = -1;
    int used = 0;
    assert_int_equal(sscanf(p, "{\"id\": %ld, \"name\": \"%n", &id, &used) >= 1,
                     1);
    assert_true(used > 0 && id >= 0 && id < k);
    p += used;
    int named = 0;
    for (int i = 0; i < 26; i++) {
        size_t l = strlen(NAMES[i]);
        if (!strncmp(p, NAMES[i], l) && p[l] == '"') {
            p += l;
            named = 1;
            break;
        }
    }
    assert_true(named);
    const char *mid = "\", \"transactions\": [";
    assert_memory_equal(p, mid, strlen(mid));
    p += strlen(mid);
    for (;;) {
        long t, a;
        used = 0;
        assert_int_equal(sscanf(p,
                                "{\"transaction-id\": %ld, \"amount\": %ld}%n",
                                &t, &a, &used),
                         2);
        assert_true(used > 0 && t > prev);
        prev = t;
        (*ntx)++;
        p += used;
        if (*p == ']') break;
        assert_memory_equal(p, ", ", 2);
        p += 2;
    }
    assert_true(p + 2 == e);
    assert_memory_equal(p, "]}", 2);
    return id;
}

static void test_prep(void **state) {
    (void)state;
    char err[1024];
    cbag_prep_options po = {3, 20, 500, 7, 1};
    assert_int_equal(cbag_prep_accounts(P("prep1"), &po, err, sizeof err),
                     CBAG_OK);
    po.threads = 2;
    assert_int_equal(
        cbag_prep_accounts(P("prep2/deeper"), &po, err, sizeof err), CBAG_OK);
    po.seed = 8;
    assert_int_equal(cbag_prep_accounts(P("prep3"), &po, err, sizeof err),
                     CBAG_OK);
    assert_int_equal(count_entries(P("prep1"), ""), 3);
    assert_int_equal(count_entries(P("prep1"), "accounts."), 3);
    for (int f = 0; f < 3; f++) {
        char a[64], b[64], c[64];
        snprintf(a, sizeof a, "prep1/accounts.%02d.json.gz", f);
        snprintf(b, sizeof b, "prep2/deeper/accounts.%02d.json.gz", f);
        snprintf(c, sizeof c, "prep3/accounts.%02d.json.gz", f);
        cbag__text_opts o = opts(0, NULL);
        cbag__buf x = CBAG__BUF_INIT, y = CBAG__BUF_INIT, z = CBAG__BUF_INIT;
        assert_int_equal(read1(P(a), &o, &x, NULL, err, sizeof err), 0);
        assert_int_equal(read1(P(b), &o, &y, NULL, err, sizeof err), 0);
        assert_int_equal(read1(P(c), &o, &z, NULL, err, sizeof err), 0);
        assert_int_equal(x.len, y.len); /* the thread count changes nothing */
        assert_memory_equal(x.p, y.p, x.len);
        assert_true(x.len != z.len ||
                    memcmp(x.p, z.p, x.len));  /* the seed does */
        assert_int_equal(x.p[x.len - 1], '}'); /* no final newline */
        /* line by line */
        long ntx = 0, prev = -1;
        const char *s = x.p, *end = x.p + x.len;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
            long id = check_account_line(s, len, 20, &ntx);
            assert_true(id > prev);
            prev = id;
            s += len + (nl ? 1 : 0);
        }
        assert_int_equal(ntx, 500);
        cbag__buf_free(&x);
        cbag__buf_free(&y);
        cbag__buf_free(&z);
    }
    /* valid JSON for Python too, where it is installed */
    if (have_tool("/usr/bin/python3")) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import gzip, json, sys; t = "
                 "gzip.open(sys.argv[1]).read().decode(); "
                 "assert all(json.dumps(json.loads(l)) == l for l in "
                 "t.split(\"\\n\"))' %s",
                 P("prep1/accounts.01.json.gz"));
        assert_int_equal(system(cmd), 0);
    }
    po.nfiles = -1;
    assert_int_equal(cbag_prep_accounts(P("prep4"), &po, err, sizeof err),
                     CBAG_INVALID);
    /* an unwritable place */
    put_file("prepfile", "x", 1);
    po.nfiles = 2;
    assert_int_equal(cbag_prep_accounts(P("prepfile"), &po, err, sizeof err),
                     CBAG_IO);
    assert_non_null(strstr(err, "prepfile"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IOCHECK_TEST(test_codec_roundtrip),
        IOCHECK_TEST(test_cli_tools),
        IOCHECK_TEST(test_multi_stream),
        IOCHECK_TEST(test_gzip_members_tool),
        IOCHECK_TEST(test_truncated),
        IOCHECK_TEST(test_corrupt),
        IOCHECK_TEST(test_empty_and_final_newline),
        IOCHECK_TEST(test_crlf),
        IOCHECK_TEST(test_custom_delim),
        IOCHECK_TEST(test_block_every_boundary),
        IOCHECK_TEST(test_dask_oracle),
        IOCHECK_TEST(test_files_per_partition),
        IOCHECK_TEST(test_lineno),
        IOCHECK_TEST(test_utf8),
        IOCHECK_TEST(test_long_line),
        IOCHECK_TEST(test_bytes_read),
        IOCHECK_TEST(test_glob),
        IOCHECK_TEST(test_plan_errors),
        IOCHECK_TEST(test_permission_denied),
        IOCHECK_TEST(test_out_temp_rename),
        IOCHECK_TEST(test_out_errors),
        IOCHECK_TEST(test_textfile_names),
        IOCHECK_TEST(test_codec_from_path),
        IOCHECK_TEST(test_oom),
        IOCHECK_TEST(test_prep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
