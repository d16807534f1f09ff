/* test_json.c: the parser against JSONTestSuite, numbers, strings, depth,
 * errors, duplicate keys, and the writer against Python's json.dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbag.h"
#include "json.h"
#include "call.h"
#include "mem.h"
#include "value.h"

static cbag__arena arena;

static int parse(const char *s, cbag_val *v, cbag__json_err *err) {
    return cbag__json_parse(&arena, s, strlen(s), v, err);
}

/* Parses s and writes it back with fmt. */
static char *roundtrip(const char *s, int fmt) {
    cbag_val v;
    cbag__json_err err;
    if (parse(s, &v, &err)) {
        fprintf(stderr, "parse failed: %s at %zu\n", err.msg, err.offset);
        return NULL;
    }
    return cbag_format(&v, fmt, NULL);
}

#define assert_roundtrip(in, fmt, expected)                                \
    do {                                                                   \
        char *s_ = roundtrip(in, fmt);                                     \
        assert_non_null(s_);                                               \
        assert_string_equal(s_, expected);                                 \
        free(s_);                                                          \
    } while (0)

/* Keeps "a" and "name" (projection), or no key at all. */
static const cbag__json_key keep_keys[] = {{"a", 1}, {"name", 4}};
static const cbag__json_keys keep_two = {2, keep_keys};
static const cbag__json_keys keep_none = {0, keep_keys};

/* full: what cbag__json_parse gave for s (rc, value, error). Parsing with
 * projection must give the same rc and error, and for an object the full
 * value's members with kept keys. */
static void same_as_projected(const char *s, size_t len, int rc,
                              const cbag_val *full, const cbag__json_err *err) {
    const cbag__json_keys *keeps[] = {&keep_two, &keep_none};
    for (int k = 0; k < 2; k++) {
        cbag_val v;
        cbag__json_err e2;
        int r2 = cbag__json_parse_keep(&arena, s, len, &v, &e2, keeps[k]);
        if (r2 != rc ||
            (rc && (e2.offset != err->offset || strcmp(e2.msg, err->msg) != 0)))
            fail_msg("projection differs on %.200s: rc %d/%d, %s at %zu / "
                     "%s at %zu",
                     s, rc, r2, rc ? err->msg : "", rc ? err->offset : 0,
                     r2 ? e2.msg : "", r2 ? e2.offset : 0);
        if (rc) continue;
        if (cbag_typeof(full) != CBAG_DICT) {
            assert_true(cbag_eq(full, &v));
            continue;
        }
        size_t n = 0;
        for (size_t i = 0; i < keeps[k]->n; i++) {
            const cbag_val *a = cbag_get(full, keeps[k]->k[i].s);
            const cbag_val *b = cbag_get(&v, keeps[k]->k[i].s);
            assert_true(a ? b && cbag_eq(a, b) : !b);
            n += a != NULL;
        }
        assert_int_equal(cbag_len(&v), n);
    }
}

static const char *suite_dir(void) {
    const char *d = getenv("CBAG_JSON_SUITE");
    return d ? d : "../shared/testdata/json-test-suite-parsing";
}

static void test_suite(void **state) {
    (void)state;
    DIR *d = opendir(suite_dir());
    if (!d) {
        fprintf(stderr, "JSONTestSuite not found at %s\n", suite_dir());
        fail();
    }
    struct dirent *e;
    int y = 0, n = 0, i = 0;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        if (len < 6 || strcmp(name + len - 5, ".json") != 0) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", suite_dir(), name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)size + 1);
        assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        cbag_val v;
        cbag__json_err err;
        int rc = cbag__json_parse(&arena, buf, (size_t)size, &v, &err);
        if (rc != CBAG_NOMEM) /* projection: the same outcome, same error */
            same_as_projected(buf, (size_t)size, rc, &v, &err);
        free(buf);
        cbag__arena_reset(&arena);
        if (name[0] == 'y') {
            if (rc) fprintf(stderr, "%s rejected: %s\n", name, err.msg);
            assert_int_equal(rc, CBAG_OK);
            y++;
        } else if (name[0] == 'n') {
            if (!rc) fprintf(stderr, "%s accepted\n", name);
            assert_int_equal(rc, CBAG_PARSE);
            n++;
        } else {
            assert_true(rc == CBAG_OK || rc == CBAG_PARSE); /* no crash */
            i++;
        }
    }
    closedir(d);
    assert_true(y > 90 && n > 150 && i > 20);
}

static void test_numbers(void **state) {
    (void)state;
    cbag_val v;
    cbag__json_err err;
    assert_int_equal(parse("9223372036854775807", &v, &err), 0);
    assert_int_equal(v.type, CBAG_INT);
    assert_true(v.u.i == INT64_MAX);
    assert_int_equal(parse("-9223372036854775808", &v, &err), 0);
    assert_true(v.u.i == INT64_MIN);
    assert_int_equal(parse("9223372036854775808", &v, &err), CBAG_PARSE);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_int_equal(parse("-0", &v, &err), 0);
    assert_int_equal(v.type, CBAG_INT);
    assert_int_equal(parse("1e400", &v, &err), 0); /* inf, as Python */
    assert_true(isinf(v.u.f));
    /* correctly rounded, fast path or not, against strtod */
    srand(7);
    char buf[64];
    for (int k = 0; k < 20000; k++) {
        int digits = 1 + rand() % 20, exp = rand() % 60 - 30;
        int pos = 0;
        if (rand() % 2) buf[pos++] = '-';
        buf[pos++] = (char)('1' + rand() % 9);
        for (int j = 1; j < digits; j++) {
            if (j == 1 + rand() % digits && !strchr(buf, '.')) buf[pos++] = '.';
            buf[pos++] = (char)('0' + rand() % 10);
        }
        buf[pos] = '\0';
        if (!strchr(buf, '.')) strcat(buf, ".5");
        snprintf(buf + strlen(buf), 16, "e%d", exp);
        assert_int_equal(parse(buf, &v, &err), 0);
        assert_int_equal(v.type, CBAG_FLOAT);
        double want = strtod(buf, NULL);
        if (memcmp(&want, &v.u.f, sizeof want) != 0) {
            fprintf(stderr, "%s: got %.17g want %.17g\n", buf, v.u.f, want);
            fail();
        }
    }
    const char *bad[] = {"01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10",
                         "1.e5", "-01", "NaN", "Infinity", "1 2"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (parse(bad[k], &v, &err) != CBAG_PARSE) {
            fprintf(stderr, "accepted %s\n", bad[k]);
            fail();
        }
    }
    cbag__arena_reset(&arena);
}

static void test_strings_and_errors(void **state) {
    (void)state;
    cbag_val v;
    cbag__json_err err;
    assert_int_equal(parse("\"a\\u00e9\\ud83d\\ude00\\n\"", &v, &err), 0);
    assert_int_equal(v.len, 1 + 2 + 4 + 1);
    assert_memory_equal(v.u.s, "a\xc3\xa9\xf0\x9f\x98\x80\n", 8);
    assert_int_equal(parse("\"\\ud800\"", &v, &err), CBAG_PARSE);
    assert_int_equal(parse("\"\xc0\xaf\"", &v, &err), CBAG_PARSE);
    assert_int_equal(parse("\"\xed\xa0\x80\"", &v, &err), CBAG_PARSE);
    assert_int_equal(parse("\"a\tb\"", &v, &err), CBAG_PARSE);
    assert_int_equal(parse("{\"a\": 1,}", &v, &err), CBAG_PARSE);
    assert_string_equal(err.msg, "expected a string key after ','");
    assert_int_equal(err.offset, 8);
    assert_int_equal(parse("[1, 2", &v, &err), CBAG_PARSE);
    assert_string_equal(err.msg, "unexpected end of input");
    assert_int_equal(parse("{\"a\" 1}", &v, &err), CBAG_PARSE);
    assert_string_equal(err.msg, "expected ':' after object key");
    assert_int_equal(err.offset, 5);
    assert_int_equal(parse("[1] x", &v, &err), CBAG_PARSE);
    assert_string_equal(err.msg, "trailing data after JSON value");
    /* a line from read_text keeps its newline: whitespace is fine */
    assert_int_equal(parse(" {\"id\": 1}\r\n", &v, &err), 0);
    cbag__arena_reset(&arena);
}

static void test_depth(void **state) {
    (void)state;
    size_t n = 1000000;
    char *s = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) s[i] = '[', s[2 * n - 1 - i] = ']';
    s[2 * n] = '\0';
    cbag_val v;
    cbag__json_err err;
    assert_int_equal(cbag__json_parse(&arena, s, 2 * n, &v, &err), CBAG_PARSE);
    assert_non_null(strstr(err.msg, "too deep"));
    /* exactly the limit is fine */
    size_t k = CBAG__JSON_MAX_DEPTH;
    memmove(s, s + n - k, k);
    memset(s + k, ']', k);
    assert_int_equal(cbag__json_parse(&arena, s, 2 * k, &v, &err), 0);
    s[k - 1] = '[';
    memmove(s + 1, s, 2 * k);
    s[0] = '[';
    s[2 * k + 1] = ']';
    assert_int_equal(cbag__json_parse(&arena, s, 2 * k + 2, &v, &err),
                     CBAG_PARSE);
    free(s);
    cbag__arena_reset(&arena);
}

static void test_objects(void **state) {
    (void)state;
    /* duplicate keys: last value wins, first position kept (Python) */
    assert_roundtrip("{\"a\": 1, \"b\": 2, \"a\": 3}", CBAG_FMT_REPR,
                     "{'a': 3, 'b': 2}");
    /* a big object gets an index; lookups and duplicates still work */
    char *s = malloc(200000);
    size_t pos = 0;
    s[pos++] = '{';
    for (int i = 0; i < 10000; i++)
        pos += (size_t)sprintf(s + pos, "%s\"k%d\": %d", i ? ", " : "", i % 9999,
                               i);
    s[pos++] = '}';
    s[pos] = '\0';
    cbag_val v;
    cbag__json_err err;
    assert_int_equal(parse(s, &v, &err), 0);
    assert_int_equal(cbag_len(&v), 9999);
    assert_int_equal(cbag_int_value(cbag_get(&v, "k0")), 9999);
    assert_int_equal(cbag_int_value(cbag_get(&v, "k5000")), 5000);
    assert_null(cbag_get(&v, "k10000"));
    free(s);
    cbag__arena_reset(&arena);
}

/* Projection: only the kept top-level keys are built; the rest is checked
 * exactly as the full parser checks it. */
static void test_projection(void **state) {
    (void)state;
    static const char *const docs[] = {
        "{\"name\": \"Al\", \"t\": [{\"name\": 1, \"a\": [2]}], \"a\": 3}",
        "{\"t\": {\"x\": {\"y\": [1, 2.5e3, true, null, \"s\\u00e9\"]}}}",
        "{\"a\": 1, \"b\": 2, \"a\": {\"z\": 3}}", /* the last a wins */
        "{\"n\\u0061me\": \"escaped key\", \"other\": {}}", /* "name" */
        "[{\"name\": 1, \"b\": 2}, 3]", /* not an object: built whole */
        "{}",
        "  {\"b\" : [ ] , \"a\" : [ 1 , { } ] }  ",
        "\"name\"",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cbag_val v;
        cbag__json_err err;
        int rc = parse(docs[i], &v, &err);
        assert_int_equal(rc, CBAG_OK);
        same_as_projected(docs[i], strlen(docs[i]), rc, &v, &err);
    }
    cbag_val v;
    cbag__json_err err;
    const char *d = docs[0];
    assert_int_equal(
        cbag__json_parse_keep(&arena, d, strlen(d), &v, &err, &keep_two),
        CBAG_OK);
    char *r = cbag_format(&v, CBAG_FMT_REPR, NULL);
    assert_string_equal(r, "{'name': 'Al', 'a': 3}");
    free(r);
    d = docs[2];
    assert_int_equal(
        cbag__json_parse_keep(&arena, d, strlen(d), &v, &err, &keep_two),
        CBAG_OK);
    r = cbag_format(&v, CBAG_FMT_REPR, NULL);
    assert_string_equal(r, "{'a': {'z': 3}}");
    free(r);
    /* every one-byte corruption of a record: the same outcome and error
     * with and without projection (errors under dropped keys included) */
    const char *rec = "{\"id\": 12, \"name\": \"Bob\", \"transactions\": "
                      "[{\"transaction-id\": 7, \"amount\": -31.5e1}, "
                      "{\"s\": \"\\u00e9\\n\", \"t\": [true, false, null]}], "
                      "\"a\": 99999999999999999999}";
    static const char subst[] = "\"{}[],:\\ x-0.e\x01\xff";
    size_t n = strlen(rec);
    char *buf = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < sizeof subst - 1; k++) {
            memcpy(buf, rec, n + 1);
            buf[i] = subst[k];
            int rc = cbag__json_parse(&arena, buf, n, &v, &err);
            same_as_projected(buf, n, rc, &v, &err);
            cbag__arena_reset(&arena);
        }
    free(buf);
    /* depth limits count under a dropped key too */
    size_t deep = 10001;
    char *dd = malloc(2 * deep + 32);
    size_t pos = (size_t)sprintf(dd, "{\"b\": ");
    for (size_t i = 0; i < deep - 1; i++)
        dd[pos++] = '[';
    for (size_t i = 0; i < deep - 1; i++)
        dd[pos++] = ']';
    dd[pos++] = '}';
    int rc = cbag__json_parse(&arena, dd, pos, &v, &err);
    assert_int_equal(rc, CBAG_PARSE);
    same_as_projected(dd, pos, rc, &v, &err);
    free(dd);
    cbag__arena_reset(&arena);
}

static void test_dumps(void **state) {
    (void)state;
    /* expected strings from Python 3.11's json.dumps */
    assert_roundtrip("{\"id\":0,\"name\":\"Yvonne\",\"t\":[{\"a\":1.5},null,true]}",
                     CBAG_FMT_JSON,
                     "{\"id\": 0, \"name\": \"Yvonne\", \"t\": [{\"a\": 1.5}, "
                     "null, true]}");
    assert_roundtrip("{\"id\": 0, \"t\": [1, 2]}", CBAG_FMT_JSON_COMPACT,
                     "{\"id\":0,\"t\":[1,2]}");
    assert_roundtrip("\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\\"\\\\/\"",
                     CBAG_FMT_JSON,
                     "\"\\u00e9\\ud83d\\ude00\\u007f\\u0001\\\"\\\\/\"");
    assert_roundtrip("\"\\u00e9\\u007f\"", CBAG_FMT_JSON | CBAG_FMT_UTF8,
                     "\"\xc3\xa9\x7f\"");
    assert_roundtrip("[0.1, 1e16, 1e-5, 100.0, -0.0, 1e400]", CBAG_FMT_JSON,
                     "[0.1, 1e+16, 1e-05, 100.0, -0.0, Infinity]");
    assert_roundtrip("[]", CBAG_FMT_JSON, "[]");
    assert_roundtrip("{}", CBAG_FMT_JSON, "{}");
    /* non-string keys, as Python converts them; tuples are arrays */
    cbag_call c;
    cbag__call_init(&c, &arena);
    cbag_val *d = cbag_new_dict(&c, 4);
    cbag_setv(&c, d, cbag_new_int(&c, 1), cbag_none());
    cbag_setv(&c, d, cbag_new_float(&c, 2.5), cbag_bool(false));
    cbag_setv(&c, d, cbag_none(), cbag_new_tuple(&c, 0));
    char *out = cbag_format(d, CBAG_FMT_JSON, NULL);
    assert_string_equal(out, "{\"1\": null, \"2.5\": false, \"null\": []}");
    free(out);
    cbag_val *bad = cbag_new_dict(&c, 1);
    cbag_setv(&c, bad, cbag_new_tuple(&c, 0), cbag_none());
    assert_null(cbag_format(bad, CBAG_FMT_JSON, NULL));
    const cbag_val *s = cbag_json_dumps(&c, d, NULL);
    assert_non_null(s);
    assert_true(cbag_str_eq(s, "{\"1\": null, \"2.5\": false, \"null\": []}"));
    assert_null(cbag_json_dumps(&c, bad, NULL));
    assert_int_equal(c.code, CBAG_TYPE);
    cbag__arena_reset(&arena);
}

static void test_loads_and_oom(void **state) {
    (void)state;
    cbag_call c;
    cbag__call_init(&c, &arena);
    assert_null(cbag_json_loads(&c, cbag_new_int(&c, 1), NULL));
    assert_int_equal(c.code, CBAG_TYPE);
    cbag__call_clear(&c);
    assert_null(cbag_json_parse(&c, "[1,", 3));
    assert_int_equal(c.code, CBAG_PARSE);
    assert_non_null(strstr(c.msg, "at byte 3"));
    cbag__call_clear(&c);
    char doc[512];
    int pos = sprintf(doc, "{\"a\": [1, 2, {\"b\": \"c\\u00e9\"}], \"d\": ");
    for (int i = 0; i < 100; i++) doc[pos++] = '[';
    doc[pos++] = '1';
    for (int i = 0; i < 100; i++) doc[pos++] = ']';
    strcpy(doc + pos, ", \"e\": 1.5}");
    int ok = 0;
    for (long n = 1; n < 1000 && !ok; n++) {
        cbag__arena a;
        cbag__arena_init(&a, 64);
        cbag__mem_fail_after(n, 1);
        cbag_val v;
        cbag__json_err err;
        int rc = cbag__json_parse(&a, doc, strlen(doc), &v, &err);
        cbag__mem_fail_after(0, 0);
        assert_true(rc == CBAG_OK || rc == CBAG_NOMEM);
        ok = rc == CBAG_OK;
        cbag__arena_free(&a);
    }
    assert_true(ok);
    cbag__arena_reset(&arena);
}

static int setup(void **state) {
    (void)state;
    cbag__arena_init(&arena, 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    cbag__arena_free(&arena);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_strings_and_errors),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_projection),
        cmocka_unit_test(test_dumps),
        cmocka_unit_test(test_loads_and_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
