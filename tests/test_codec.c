/* test_codec.c: the value codec (spill files, MPI): round trips of every
 * value type, canonical bytes, and the decoder's checks on bad input
 * (truncation at every byte, every kind of lie a frame can tell), the
 * nesting limit, and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "codec.h"
#include "mem.h"
#include "value.h"

static cbag__arena A;
static cbag_call C;

static int setup(void **state) {
    (void)state;
    cbag__arena_init(&A, 0);
    cbag__call_init(&C, &A);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    cbag__arena_free(&A);
    return 0;
}

static const cbag_val *J(const char *json) {
    const cbag_val *v = cbag_json_parse(&C, json, strlen(json));
    assert_non_null(v);
    return v;
}

static char *repr(const cbag_val *v) {
    char *s = cbag_format(v, CBAG_FMT_REPR, NULL);
    assert_non_null(s);
    return s;
}

/* v encodes, decodes to an equal value with the same repr, and that
 * encodes to the same bytes. */
static void round_trip(const cbag_val *v) {
    cbag__buf b = CBAG__BUF_INIT, b2 = CBAG__BUF_INIT;
    assert_int_equal(cbag__codec_encode(&b, v), 0);
    cbag_val w;
    char err[200];
    assert_int_equal(cbag__codec_decode(&A, b.p, b.len, &w, err, sizeof err),
                     0);
    char *r1 = repr(v), *r2 = repr(&w);
    assert_string_equal(r1, r2);
    if (cbag_cmp(v, v) == 0) assert_int_equal(cbag_cmp(v, &w), 0);
    assert_int_equal(cbag_typeof(v), cbag_typeof(&w));
    assert_int_equal(cbag__codec_encode(&b2, &w), 0);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.p, b2.p, b.len);
    free(r1);
    free(r2);
    cbag__buf_free(&b);
    cbag__buf_free(&b2);
}

static void test_scalars(void **state) {
    (void)state;
    round_trip(cbag_none());
    round_trip(cbag_bool(true));
    round_trip(cbag_bool(false));
    int64_t ints[] = {0,   1,   -1,  63,        64,        -64,          -65,
                      127, 128, 300, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        round_trip(cbag_new_int(&C, ints[i]));
    double fl[] = {0.0, -0.0, 1.5, -2.25e300, 5e-324, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof fl / sizeof *fl; i++)
        round_trip(cbag_new_float(&C, fl[i]));
    /* -0.0 stays negative, NaN stays NaN with its bits */
    cbag__buf b = CBAG__BUF_INIT;
    cbag_val w;
    assert_int_equal(cbag__codec_encode(&b, cbag_new_float(&C, -0.0)), 0);
    assert_int_equal(cbag__codec_decode(&A, b.p, b.len, &w, NULL, 0), 0);
    assert_true(signbit(cbag_float_value(&w)));
    b.len = 0;
    double nan = NAN;
    assert_int_equal(cbag__codec_encode(&b, cbag_new_float(&C, nan)), 0);
    assert_int_equal(cbag__codec_decode(&A, b.p, b.len, &w, NULL, 0), 0);
    assert_true(isnan(cbag_float_value(&w)));
    assert_memory_equal(&w.u.f, &nan, 8);
    cbag__buf_free(&b);
}

static void test_strings(void **state) {
    (void)state;
    round_trip(cbag_new_str(&C, "", 0));
    round_trip(cbag_new_strz(&C, "héllo wörld ✓ 𝄞"));
    round_trip(cbag_new_str(&C, "a\0b", 3)); /* NUL inside */
    char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)('a' + i % 26);
    round_trip(cbag_new_str(&C, big, sizeof big));
}

static void test_containers(void **state) {
    (void)state;
    round_trip(J("[]"));
    round_trip(J("{}"));
    round_trip(cbag_new_tuple(&C, 0));
    round_trip(J("[1, 2.5, \"x\", null, true, [[], {}], {\"a\": [1, {\"b\": "
                 "null}]}]"));
    /* insertion order kept, above the linear-search size too */
    round_trip(J("{\"z\": 1, \"y\": 2, \"x\": 3, \"w\": 4, \"v\": 5, \"u\": 6, "
                 "\"t\": 7, \"s\": 8, \"r\": 9, \"q\": 10, \"p\": 11}"));
    /* tuples, and non-string keys (a tuple key) */
    cbag_val *t = cbag_new_tuple(&C, 2);
    cbag_append(&C, t, cbag_new_int(&C, 1));
    cbag_append(&C, t, cbag_new_strz(&C, "k"));
    cbag_val *d = cbag_new_dict(&C, 3);
    cbag_setv(&C, d, t, cbag_new_float(&C, 0.5));
    cbag_setv(&C, d, cbag_new_int(&C, 7), t);
    cbag_setv(&C, d, cbag_none(), cbag_bool(false));
    round_trip(d);
    cbag_val *l = cbag_new_list(&C, 3);
    cbag_append(&C, l, t);
    cbag_append(&C, l, d);
    cbag_append(&C, l, t);
    round_trip(l);
}

/* Records that repeat their keys: written once per frame, then referred
 * to; more keys than the table holds, and longer ones, as strings. */
static void test_keys(void **state) {
    (void)state;
    cbag_val *l = cbag_new_list(&C, 400);
    for (int i = 0; i < 400; i++) {
        cbag_val *d = cbag_new_dict(&C, 3);
        cbag_set(&C, d, "name", cbag_new_int(&C, i));
        char k[100];
        snprintf(k, sizeof k, "key%d", i % 300); /* past the table's 256 */
        cbag_set(&C, d, k, cbag_none());
        memset(k, 'x', 80); /* too long for the table */
        k[80] = '\0';
        cbag_set(&C, d, k, cbag_bool(true));
        cbag_append(&C, l, d);
    }
    round_trip(l);
    /* "name" costs its bytes once */
    cbag__buf b = CBAG__BUF_INIT;
    cbag__codec_writer w;
    assert_int_equal(cbag__codec_begin(&w, &b), 0);
    for (int i = 0; i < 100; i++) {
        cbag_val *d = cbag_new_dict(&C, 1);
        cbag_set(&C, d, "a rather long key name", cbag_new_int(&C, 1));
        assert_int_equal(cbag__codec_put(&w, d), 0);
    }
    cbag__codec_end(&w);
    assert_true(b.len < CBAG__CODEC_HEADER + 30 + 100 * 6);
    cbag__codec_reader r;
    assert_int_equal(cbag__codec_open(&r, b.p, b.len), 0);
    cbag_val v;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(cbag__codec_next(&r, &A, &v), 1);
        assert_non_null(cbag_get(&v, "a rather long key name"));
    }
    assert_int_equal(cbag__codec_next(&r, &A, &v), 0);
    cbag__buf_free(&b);
}

/* Several values in a frame; the reader stops exactly at the end. */
static void test_frames(void **state) {
    (void)state;
    cbag__buf b = CBAG__BUF_INIT;
    cbag__codec_writer w;
    assert_int_equal(cbag__codec_begin(&w, &b), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cbag__codec_put(&w, cbag_new_int(&C, i * i)), 0);
    cbag__codec_end(&w);
    cbag__codec_reader r;
    assert_int_equal(cbag__codec_open(&r, b.p, b.len), 0);
    assert_int_equal(cbag__codec_left(&r), 1000);
    cbag_val v;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(cbag__codec_next(&r, &A, &v), 1);
        assert_int_equal(cbag_int_value(&v), (int64_t)i * i);
    }
    assert_int_equal(cbag__codec_next(&r, &A, &v), 0);
    /* an empty frame */
    b.len = 0;
    assert_int_equal(cbag__codec_begin(&w, &b), 0);
    cbag__codec_end(&w);
    assert_int_equal(b.len, CBAG__CODEC_HEADER);
    assert_int_equal(cbag__codec_open(&r, b.p, b.len), 0);
    assert_int_equal(cbag__codec_next(&r, &A, &v), 0);
    cbag__buf_free(&b);
}

/* Decoding raw bytes fails with a message containing want. */
static void bad(const void *p, size_t n, const char *want) {
    cbag_val v;
    char err[200] = "";
    assert_int_equal(cbag__codec_decode(&A, p, n, &v, err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("error '%s', expected '%s'", err, want);
}

/* A frame of one value whose body is the n bytes at body. */
static void bad_body(const char *body, size_t n, const char *want) {
    unsigned char f[256] = {'C', 'B', CBAG__CODEC_VERSION, 1};
    assert_true(n + CBAG__CODEC_HEADER <= sizeof f);
    cbag__le64_put(f + 11, n);
    memcpy(f + CBAG__CODEC_HEADER, body, n);
    bad(f, CBAG__CODEC_HEADER + n, want);
}

static void test_bad_input(void **state) {
    (void)state;
    cbag__buf b = CBAG__BUF_INIT;
    assert_int_equal(
        cbag__codec_encode(&b, J("{\"a\": [1, \"xyz\", 2.5, {\"b\": null}], "
                                 "\"c\": [true, false]}")),
        0);
    /* cut anywhere: an error, never a read past the end */
    for (size_t n = 0; n < b.len; n++) {
        unsigned char *copy = malloc(n ? n : 1);
        memcpy(copy, b.p, n);
        cbag_val v;
        char err[200] = "";
        assert_int_equal(cbag__codec_decode(&A, copy, n, &v, err, sizeof err),
                         -1);
        assert_true(err[0] != '\0');
        free(copy);
    }
    /* the header */
    bad("CB", 2, "shorter than a frame header");
    unsigned char h[CBAG__CODEC_HEADER];
    memcpy(h, b.p, sizeof h);
    h[0] = 'X';
    bad(h, sizeof h, "not a cbag frame");
    memcpy(h, b.p, sizeof h);
    h[2] = 9;
    bad(h, sizeof h, "frame version 9");
    unsigned char *more = malloc(b.len + 1);
    memcpy(more, b.p, b.len);
    more[b.len] = 0;
    bad(more, b.len + 1, "the header says"); /* a byte after the body */
    cbag__le64_put(more + 11, b.len + 1 - CBAG__CODEC_HEADER);
    bad(more, b.len + 1, "bytes after the last value");
    cbag__le64_put(more + 3, 5); /* 5 values claimed */
    bad(more, b.len + 1, "values");
    free(more);
    cbag__buf_free(&b);
    /* values */
    bad_body("\x0a", 1, "unknown tag 10");
    bad_body("\x03\x80\x00", 3, "non-canonical varint");
    bad_body("\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11,
             "beyond 64 bits");
    bad_body("\x04\x00\x00", 3, "truncated float");
    bad_body("\x05\x05"
             "abc",
             5, "string longer than the bytes left");
    bad_body("\x05\x02\xc3\x28", 4, "not UTF-8");
    bad_body("\x05\x03\xed\xa0\x80", 5, "not UTF-8"); /* a surrogate */
    bad_body("\x06\x09\x00", 3, "more elements than the bytes left");
    bad_body("\x08\x03\x05\x01"
             "a\x00",
             6, "more elements than the bytes left");
    bad_body("\x08\x02\x05\x01"
             "a\x00\x05\x01"
             "a\x01",
             10, "a key written out again");
    bad_body("\x08\x02\x05\x01"
             "a\x00\x09\x00\x01",
             9, "duplicate key");
    bad_body("\x09\x00", 2, "a key reference outside a dict key");
    bad_body("\x06\x01\x09\x00", 4, "a key reference outside a dict key");
    bad_body("\x08\x01\x09\x00\x00", 5, "a key reference past the table");
    bad_body("\x08\x02\x03\x02\x00\x04\x00\x00\x00\x00\x00\x00\xf0\x3f\x01", 15,
             "duplicate key"); /* 1 and 1.0 are one key */
    bad_body("\x06\x02\x07\x01\x00", 5, "truncated value");
}

/* A list nested `depth` deep around an int, built in the arena. */
static cbag_val nested(int depth) {
    cbag_val v;
    cbag__set_int(&v, 1);
    for (int i = 0; i < depth; i++) {
        cbag_val l;
        assert_int_equal(cbag__seq_init(&A, &l, CBAG_LIST, 1), 0);
        assert_int_equal(cbag__seq_push(&A, &l, &v), 0);
        v = l;
    }
    return v;
}

static void test_depth(void **state) {
    (void)state;
    cbag_val ok = nested(CBAG__CODEC_DEPTH),
             deep = nested(CBAG__CODEC_DEPTH + 1);
    cbag__buf b = CBAG__BUF_INIT;
    assert_int_equal(cbag__codec_encode(&b, &ok), 0);
    cbag_val w;
    assert_int_equal(cbag__codec_decode(&A, b.p, b.len, &w, NULL, 0), 0);
    assert_true(cbag_eq(&ok, &w));
    b.len = 0;
    assert_int_equal(cbag__codec_encode(&b, &deep), -1);
    /* the same bytes with one more level, made by hand */
    b.len = 0;
    assert_int_equal(cbag__codec_encode(&b, &ok), 0);
    cbag__buf d = CBAG__BUF_INIT;
    cbag__buf_put(&d, b.p, CBAG__CODEC_HEADER);
    cbag__buf_put(&d, "\x06\x01", 2);
    cbag__buf_put(&d, b.p + CBAG__CODEC_HEADER, b.len - CBAG__CODEC_HEADER);
    cbag__le64_put((unsigned char *)d.p + 11, d.len - CBAG__CODEC_HEADER);
    bad(d.p, d.len, "nested too deeply");
    cbag__buf_free(&b);
    cbag__buf_free(&d);
}

/* Every allocation of a decode failing in turn: -1 with a message. */
static void test_oom(void **state) {
    (void)state;
    cbag__buf b = CBAG__BUF_INIT;
    cbag_val big = nested(100);
    cbag__codec_writer w;
    assert_int_equal(cbag__codec_begin(&w, &b), 0);
    assert_int_equal(cbag__codec_put(&w, J("{\"k\": [1, 2, \"s\", {\"x\": 1, "
                                           "\"y\": [3]}], \"l\": \"t\"}")),
                     0);
    assert_int_equal(cbag__codec_put(&w, &big), 0);
    cbag__codec_end(&w);
    for (long k = 1;; k++) {
        cbag__arena a;
        cbag__arena_init(&a, 0);
        cbag__mem_fail_after(k, 0);
        cbag_val v;
        cbag__codec_reader r;
        int rc = cbag__codec_open(&r, b.p, b.len);
        while (!rc && (rc = cbag__codec_next(&r, &a, &v)) == 1)
            rc = 0;
        long used = cbag__mem_fail_after(0, 0);
        cbag__arena_free(&a);
        if (rc == 0) {
            assert_true(used < k); /* succeeded: no failure was injected */
            break;
        }
        if (!strstr(r.err, "out of memory")) fail_msg("error '%s'", r.err);
        if (k > 10000) fail_msg("no end to allocation failures");
    }
    cbag__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),    cmocka_unit_test(test_strings),
        cmocka_unit_test(test_containers), cmocka_unit_test(test_frames),
        cmocka_unit_test(test_keys),       cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_depth),      cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
