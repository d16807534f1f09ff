/* test_value.c: the value model: builders, readers, dicts, equality, order,
 * hashing, deep copy, repr, and allocation failure.
 *
 * Expected repr strings were printed by CPython 3.11 and are hard-coded. */
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
#include "json.h"
#include "mem.h"
#include "repr.h"
#include "value.h"

/* cbag_hash of fixed values, which must never change: the encodings are
 * explicit little-endian bytes fed to XXH3 with fixed seeds. */
#define HASH_ONE 0x2555aa302bcf9732ull   /* 1 */
#define HASH_ABC 0xf69eb3324387afb0ull   /* "abc" */
#define HASH_HALF 0xd7b6bb4b6217e44aull  /* 0.5 */
#define HASH_LIST 0x593c9354187241b7ull  /* [1, 'x'] */
#define HASH_TUPLE 0xfdceb4088dacd9dfull /* (1, 'x') */
#define HASH_DICT 0x298ceb707e9ab22dull  /* {'x': 1, 'y': [1, 'x'], 3: None} */

/* An arena-backed call handle per test. */
typedef struct fixture {
    cbag__arena a;
    cbag_call c;
} fixture;

static int setup(void **state) {
    fixture *f = malloc(sizeof *f);
    if (!f) return -1;
    cbag__arena_init(&f->a, 0);
    cbag__call_init(&f->c, &f->a);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    cbag__arena_free(&f->a);
    free(f);
    return 0;
}

#define CALL (&((fixture *)*state)->c)

/* repr(v) as a NUL-terminated string in a static buffer. */
static const char *repr(const cbag_val *v) {
    static char out[4096];
    cbag__buf b = CBAG__BUF_INIT;
    assert_int_equal(cbag__repr(&b, v), CBAG_OK);
    assert_true(b.len < sizeof out);
    memcpy(out, b.p, b.len);
    out[b.len] = '\0';
    cbag__buf_free(&b);
    return out;
}

static const char *frepr(double d) {
    static char out[32];
    int n = cbag__fmt_double(out, d);
    assert_int_equal((size_t)n, strlen(out));
    return out;
}

static cbag_val *S(cbag_call *c, const char *s) { return cbag_new_strz(c, s); }
static cbag_val *I(cbag_call *c, int64_t i) { return cbag_new_int(c, i); }
static cbag_val *F(cbag_call *c, double d) { return cbag_new_float(c, d); }

static int sign(int x) { return (x > 0) - (x < 0); }

/* ------------------------------------------------------------------------ */

static void test_scalars(void **state) {
    cbag_call *c = CALL;
    assert_int_equal(sizeof(cbag_val), 16);

    assert_int_equal(cbag_typeof(NULL), CBAG_NULL);
    assert_int_equal(cbag_typeof(cbag_none()), CBAG_NULL);
    assert_true(cbag_is_null(NULL));
    assert_true(cbag_is_null(cbag_none()));
    assert_false(cbag_is_null(cbag_bool(false)));
    assert_true(cbag_bool_value(cbag_bool(true)));
    assert_false(cbag_bool_value(cbag_bool(false)));
    assert_false(cbag_bool_value(NULL));

    const char *names[] = {"NoneType", "bool", "int",   "float",
                           "str",      "list", "tuple", "dict"};
    for (int t = CBAG_NULL; t <= CBAG_DICT; t++)
        assert_string_equal(cbag_type_name((cbag_type)t), names[t]);

    cbag_val *i = I(c, -42);
    assert_int_equal(cbag_typeof(i), CBAG_INT);
    assert_int_equal(cbag_int_value(i), -42);
    assert_int_equal(cbag_int_value(cbag_bool(true)), 1);
    assert_int_equal(cbag_int_value(F(c, 2.5)), 0);
    assert_true(cbag_float_value(i) == -42.0);
    assert_true(isnan(cbag_float_value(S(c, "x"))));
    assert_true(isnan(cbag_float_value(NULL)));

    cbag_val *f = F(c, 2.5);
    assert_int_equal(cbag_typeof(f), CBAG_FLOAT);
    double d = 0;
    assert_true(cbag_number(f, &d));
    assert_true(d == 2.5);
    assert_true(cbag_number(cbag_bool(true), &d));
    assert_true(d == 1.0);
    assert_false(cbag_number(cbag_none(), &d));
    assert_false(cbag_number(NULL, &d));

    cbag_val *s = cbag_new_str(c, "a\0b", 3);
    size_t len = 0;
    const char *p = cbag_str(s, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(p, "a\0b", 3);
    assert_int_equal(cbag_len(s), 3);
    assert_null(cbag_str(i, &len));
    assert_true(cbag_str_eq(S(c, "hello"), "hello"));
    assert_false(cbag_str_eq(S(c, "hello"), "hell"));
    assert_false(cbag_str_eq(i, "1"));
    assert_false(cbag_str_eq(NULL, ""));
    cbag_val *e = cbag_new_str(c, NULL, 0);
    assert_non_null(e);
    assert_int_equal(cbag_len(e), 0);
    assert_string_equal(cbag_str(e, NULL), "");

    cbag_val *sf = cbag_new_strf(c, "%s-%d", "x", 7);
    assert_true(cbag_str_eq(sf, "x-7"));
    assert_true(cbag_str_eq(cbag_new_strf(c, "%s", ""), ""));
    assert_false(cbag_failed(c));
}

static void test_truthy(void **state) {
    cbag_call *c = CALL;
    assert_false(cbag_truthy(NULL));
    assert_false(cbag_truthy(cbag_none()));
    assert_false(cbag_truthy(cbag_bool(false)));
    assert_true(cbag_truthy(cbag_bool(true)));
    assert_false(cbag_truthy(I(c, 0)));
    assert_true(cbag_truthy(I(c, -1)));
    assert_false(cbag_truthy(F(c, 0.0)));
    assert_false(cbag_truthy(F(c, -0.0)));
    assert_true(cbag_truthy(F(c, NAN)));
    assert_false(cbag_truthy(S(c, "")));
    assert_true(cbag_truthy(S(c, "0")));
    assert_false(cbag_truthy(cbag_new_list(c, 4)));
    assert_false(cbag_truthy(cbag_new_tuple(c, 0)));
    assert_false(cbag_truthy(cbag_new_dict(c, 0)));
    cbag_val *l = cbag_new_list(c, 0);
    assert_int_equal(cbag_append(c, l, cbag_none()), CBAG_OK);
    assert_true(cbag_truthy(l));
}

static void test_sequences(void **state) {
    cbag_call *c = CALL;
    cbag_val *l = cbag_new_list(c, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(cbag_append(c, l, I(c, i)), CBAG_OK);
    assert_int_equal(cbag_len(l), 1000);
    assert_int_equal(cbag_int_value(cbag_at(l, 0)), 0);
    assert_int_equal(cbag_int_value(cbag_at(l, 999)), 999);
    assert_int_equal(cbag_int_value(cbag_at(l, -1)), 999);
    assert_int_equal(cbag_int_value(cbag_at(l, -1000)), 0);
    assert_null(cbag_at(l, 1000));
    assert_null(cbag_at(l, -1001));
    assert_null(cbag_at(NULL, 0));
    assert_null(cbag_at(S(c, "abc"), 0));

    /* A stored container shares its body: later appends show in both. */
    cbag_val *outer = cbag_new_list(c, 1);
    cbag_val *inner = cbag_new_tuple(c, 0);
    assert_int_equal(cbag_append(c, outer, inner), CBAG_OK);
    assert_int_equal(cbag_append(c, inner, I(c, 1)), CBAG_OK);
    assert_string_equal(repr(outer), "[(1,)]");
    assert_int_equal(cbag_append(c, inner, I(c, 2)), CBAG_OK);
    assert_string_equal(repr(outer), "[(1, 2)]");

    const cbag_val *items[] = {I(c, 1), S(c, "a"), cbag_none()};
    cbag_val *t = cbag_new_tuplev(c, 3, items);
    assert_int_equal(cbag_typeof(t), CBAG_TUPLE);
    assert_string_equal(repr(t), "(1, 'a', None)");
    assert_string_equal(repr(cbag_new_tuplev(c, 0, NULL)), "()");
    assert_false(cbag_failed(c));

    /* Misuse is reported, not crashed on. */
    assert_int_equal(cbag_append(c, cbag_new_dict(c, 0), I(c, 1)),
                     CBAG_INVALID);
    assert_true(cbag_failed(c));
    cbag__call_clear(c);
    assert_int_equal(cbag_append(c, l, l), CBAG_INVALID);
    assert_int_equal(cbag_len(l), 1000);
    cbag__call_clear(c);
}

static void test_null_propagation(void **state) {
    cbag_call *c = CALL;
    cbag_val *l = cbag_new_list(c, 0);
    cbag_val *d = cbag_new_dict(c, 0);
    assert_int_not_equal(cbag_append(c, l, NULL), CBAG_OK);
    assert_true(cbag_failed(c));
    assert_int_equal(c->code, CBAG_INVALID);
    cbag__call_clear(c);

    /* After a real failure the first error is kept. */
    cbag__call_oom(c);
    assert_int_equal(cbag_append(c, l, NULL), CBAG_NOMEM);
    assert_int_equal(cbag_set(c, d, "k", NULL), CBAG_NOMEM);
    assert_int_equal(cbag_setv(c, d, NULL, I(c, 1)), CBAG_NOMEM);
    assert_int_equal(cbag_append(c, NULL, I(c, 1)), CBAG_NOMEM);
    assert_null(cbag_copy(c, NULL));
    const cbag_val *items[] = {I(c, 1), NULL};
    assert_null(cbag_new_tuplev(c, 2, items));
    assert_null(cbag_key(c, NULL, "k"));
    assert_int_equal(c->code, CBAG_NOMEM);
    assert_string_equal(c->msg, "out of memory");
    assert_int_equal(cbag_len(l), 0);
    assert_int_equal(cbag_len(d), 0);
    cbag__call_clear(c);

    assert_int_equal(cbag_set(c, l, "k", I(c, 1)), CBAG_INVALID);
    assert_int_equal(c->code, CBAG_INVALID);
    cbag__call_clear(c);
}

static void test_dict_small(void **state) {
    cbag_call *c = CALL;
    cbag_val *d = cbag_new_dict(c, 0);
    assert_int_equal(cbag_set(c, d, "a", I(c, 1)), CBAG_OK);
    assert_int_equal(cbag_set(c, d, "b", I(c, 2)), CBAG_OK);
    assert_int_equal(cbag_set(c, d, "c", I(c, 3)), CBAG_OK);
    assert_int_equal(cbag_set(c, d, "a", S(c, "x")), CBAG_OK);
    assert_int_equal(cbag_len(d), 3);
    assert_string_equal(repr(d), "{'a': 'x', 'b': 2, 'c': 3}");
    assert_true(cbag_str_eq(cbag_get(d, "a"), "x"));
    assert_int_equal(cbag_int_value(cbag_getn(d, "bcd", 1)), 2);
    assert_null(cbag_get(d, "z"));
    assert_null(cbag_get(NULL, "a"));
    assert_null(cbag_get(I(c, 1), "a"));
    assert_true(cbag_str_eq(cbag_dict_key(d, 1), "b"));
    assert_int_equal(cbag_int_value(cbag_dict_value(d, 2)), 3);
    assert_null(cbag_dict_key(d, 3));
    assert_null(cbag_dict_value(NULL, 0));

    /* Python: 1, 1.0 and True are one key; the first key is kept. */
    cbag_val *n = cbag_new_dict(c, 0);
    assert_int_equal(cbag_setv(c, n, I(c, 1), S(c, "a")), CBAG_OK);
    assert_int_equal(cbag_setv(c, n, F(c, 2.5), cbag_none()), CBAG_OK);
    cbag_val *k12 = cbag_new_tuple(c, 2);
    cbag_append(c, k12, I(c, 1));
    cbag_append(c, k12, I(c, 2));
    cbag_val *v3 = cbag_new_list(c, 1);
    cbag_append(c, v3, I(c, 3));
    assert_int_equal(cbag_setv(c, n, k12, v3), CBAG_OK);
    assert_int_equal(cbag_setv(c, n, cbag_none(), I(c, 1)), CBAG_OK);
    assert_int_equal(cbag_setv(c, n, cbag_bool(true), I(c, 2)), CBAG_OK);
    assert_string_equal(repr(n), "{1: 2, 2.5: None, (1, 2): [3], None: 1}");
    assert_int_equal(cbag_int_value(cbag_getv(n, F(c, 1.0))), 2);
    assert_int_equal(cbag_int_value(cbag_getv(n, NULL)), 1);
    assert_null(cbag_getv(n, S(c, "1")));
    cbag_val *t12 = cbag_new_tuple(c, 2);
    cbag_append(c, t12, F(c, 1.0));
    cbag_append(c, t12, cbag_bool(false));
    cbag_append(c, t12, I(c, 2));
    assert_null(cbag_getv(n, t12)); /* (1.0, False, 2) is not (1, 2) */
    cbag_val *u12 = cbag_new_tuple(c, 2);
    cbag_append(c, u12, F(c, 1.0));
    cbag_append(c, u12, F(c, 2.0));
    assert_non_null(cbag_getv(n, u12));
    cbag_val *l12 = cbag_new_list(c, 2);
    cbag_append(c, l12, I(c, 1));
    cbag_append(c, l12, I(c, 2));
    assert_null(cbag_getv(n, l12)); /* a list is never a tuple */

    /* NaN is not equal to itself: each NaN key is a new entry. */
    cbag_val *nn = cbag_new_dict(c, 0);
    cbag_setv(c, nn, F(c, NAN), I(c, 1));
    cbag_setv(c, nn, F(c, NAN), I(c, 2));
    assert_int_equal(cbag_len(nn), 2);
    assert_null(cbag_getv(nn, F(c, NAN)));
    assert_false(cbag_failed(c));
}

/* Crosses the linear limit, with and without a capacity given up front. */
static void test_dict_index_limit(void **state) {
    cbag_call *c = CALL;
    for (size_t cap = 0; cap <= 100; cap += 100) {
        cbag_val *d = cbag_new_dict(c, cap);
        char k[16];
        for (int i = 0; i < 40; i++) {
            snprintf(k, sizeof k, "k%d", i);
            assert_int_equal(cbag_set(c, d, k, I(c, i)), CBAG_OK);
            assert_int_equal(d->u.dict->index_mask != 0,
                             i + 1 > CBAG__DICT_LINEAR);
            for (int j = 0; j <= i; j++) {
                snprintf(k, sizeof k, "k%d", j);
                assert_int_equal(cbag_int_value(cbag_get(d, k)), j);
                assert_int_equal(cbag__dict_find_str(d, k, strlen(k)), j);
            }
            assert_null(cbag_get(d, "k"));
        }
    }
    assert_false(cbag_failed(c));
}

static void test_dict_large(void **state) {
    cbag_call *c = CALL;
    enum { N = 10000 };
    cbag_val *d = cbag_new_dict(c, 0);
    cbag_val *n = cbag_new_dict(c, 0);
    char k[32];
    for (int i = 0; i < N; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(cbag_set(c, d, k, I(c, i)), CBAG_OK);
        assert_int_equal(cbag_setv(c, n, I(c, (int64_t)i * 7), I(c, i)),
                         CBAG_OK);
    }
    /* Replacing keeps the size and the position of the key. */
    for (int i = 0; i < N; i += 3) {
        snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(cbag_set(c, d, k, I(c, -i)), CBAG_OK);
        assert_int_equal(cbag_setv(c, n, F(c, i * 7.0), I(c, -i)), CBAG_OK);
    }
    assert_int_equal(cbag_len(d), N);
    assert_int_equal(cbag_len(n), N);
    for (int i = 0; i < N; i++) {
        int64_t want = i % 3 ? i : -i;
        snprintf(k, sizeof k, "key-%d", i);
        assert_int_equal(cbag_int_value(cbag_get(d, k)), want);
        assert_true(cbag_str_eq(cbag_dict_key(d, (size_t)i), k));
        assert_int_equal(cbag_int_value(cbag_dict_value(d, (size_t)i)), want);
        assert_int_equal(cbag_int_value(cbag_getv(n, I(c, (int64_t)i * 7))),
                         want);
        assert_int_equal(cbag_typeof(cbag_dict_key(n, (size_t)i)), CBAG_INT);
        assert_null(cbag_getv(n, I(c, (int64_t)i * 7 + 1)));
        assert_null(cbag_getv(n, F(c, i * 7 + 0.5)));
    }
    assert_null(cbag_get(d, "key-10000"));
    assert_null(cbag_get(d, ""));
    /* The index stays at most half full. */
    assert_true((size_t)d->u.dict->index_mask + 1 >= 2 * (size_t)N);
    assert_false(cbag_failed(c));

    /* Equal whatever the insertion order, in eq, cmp and hash. */
    cbag_val *r = cbag_new_dict(c, N);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(k, sizeof k, "key-%d", i);
        cbag_set(c, r, k, I(c, i % 3 ? i : -i));
    }
    assert_true(cbag_eq(d, r));
    assert_int_equal(cbag_cmp(d, r), 0);
    assert_int_equal(cbag_hash(d), cbag_hash(r));
    cbag_set(c, r, "key-5", I(c, 6));
    assert_false(cbag_eq(d, r));
    assert_int_equal(cbag_cmp(d, r), -cbag_cmp(r, d));
    assert_int_not_equal(cbag_cmp(d, r), 0);
    assert_int_not_equal(cbag_hash(d), cbag_hash(r));
}

/* Numbers in Python's order; those in one group are equal. */
static void test_numbers_order(void **state) {
    cbag_call *c = CALL;
    struct {
        int group;
        cbag_val *v;
    } xs[] = {
        {0, F(c, -INFINITY)},
        {1, F(c, -1e300)},
        {2, F(c, -9223372036854777856.0)}, /* below INT64_MIN */
        {3, I(c, INT64_MIN)},
        {3, F(c, -9223372036854775808.0)},
        {4, I(c, INT64_MIN + 1)},
        {5, F(c, -1.5)},
        {6, I(c, -1)},
        {6, F(c, -1.0)},
        {7, F(c, -5e-324)},
        {8, I(c, 0)},
        {8, F(c, 0.0)},
        {8, F(c, -0.0)},
        {8, (cbag_val *)cbag_bool(false)},
        {9, F(c, 5e-324)},
        {10, F(c, 0.5)},
        {11, (cbag_val *)cbag_bool(true)},
        {11, I(c, 1)},
        {11, F(c, 1.0)},
        {12, F(c, 1.0000000000000002)},
        {13, I(c, 9007199254740992)}, /* 2**53 */
        {13, F(c, 9007199254740992.0)},
        {14, I(c, 9007199254740993)}, /* 2**53 + 1: no double */
        {15, F(c, 9007199254740994.0)},
        {16, I(c, INT64_MAX - 1)},
        {17, I(c, INT64_MAX)},
        {18, F(c, 9223372036854775808.0)}, /* 2.0**63 */
        {19, F(c, 1e300)},
        {20, F(c, INFINITY)},
        {21, F(c, NAN)},
        {21, F(c, -NAN)},
    };
    size_t n = sizeof xs / sizeof xs[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = sign(xs[i].group - xs[j].group);
            assert_int_equal(sign(cbag_cmp(xs[i].v, xs[j].v)), want);
            int nan = xs[i].group == 21 || xs[j].group == 21;
            assert_int_equal(cbag_eq(xs[i].v, xs[j].v), !nan && want == 0);
            if (!nan && want == 0)
                assert_int_equal(cbag_hash(xs[i].v), cbag_hash(xs[j].v));
        }
        /* Numbers come before every other kind. */
        assert_true(cbag_cmp(xs[i].v, cbag_none()) < 0);
        assert_true(cbag_cmp(S(c, ""), xs[i].v) > 0);
    }
}

/* Values of every kind in cbag_cmp's order, distinct. */
static void test_kinds_order(void **state) {
    cbag_call *c = CALL;
    cbag_val *xs[32];
    size_t n = 0;
    xs[n++] = I(c, -5);
    xs[n++] = F(c, 2.5);
    xs[n++] = F(c, NAN);
    xs[n++] = (cbag_val *)cbag_none();
    /* Strings by code point: UTF-8 bytes sort the same way. */
    xs[n++] = S(c, "");
    xs[n++] = cbag_new_str(c, "\0", 1);
    xs[n++] = S(c, "A");
    xs[n++] = S(c, "a");
    xs[n++] = cbag_new_str(c, "a\0", 2);
    xs[n++] = S(c, "ab");
    xs[n++] = S(c, "b");
    xs[n++] = S(c, "\x7f");
    xs[n++] = S(c, "\xc3\xa9");         /* U+00E9 */
    xs[n++] = S(c, "\xe2\x82\xac");     /* U+20AC */
    xs[n++] = S(c, "\xef\xbf\xbd");     /* U+FFFD */
    xs[n++] = S(c, "\xf0\x9f\x98\x80"); /* U+1F600 */
    /* Sequences: first unequal element, then length. */
    xs[n++] = cbag_new_tuple(c, 0);
    cbag_val *t1 = cbag_new_tuple(c, 0);
    cbag_append(c, t1, I(c, 1));
    xs[n++] = t1;
    cbag_val *t12 = cbag_new_tuple(c, 0);
    cbag_append(c, t12, I(c, 1));
    cbag_append(c, t12, I(c, 2));
    xs[n++] = t12;
    cbag_val *t1s = cbag_new_tuple(c, 0);
    cbag_append(c, t1s, F(c, 1.5));
    xs[n++] = t1s;
    xs[n++] = cbag_new_list(c, 0);
    cbag_val *l1 = cbag_new_list(c, 0);
    cbag_append(c, l1, I(c, 1));
    xs[n++] = l1;
    cbag_val *l1a = cbag_new_list(c, 0);
    cbag_append(c, l1a, I(c, 1));
    cbag_append(c, l1a, S(c, "a"));
    xs[n++] = l1a;
    cbag_val *l2 = cbag_new_list(c, 0);
    cbag_append(c, l2, I(c, 2));
    xs[n++] = l2;
    /* Dicts: by length, then by sorted entries. */
    xs[n++] = cbag_new_dict(c, 0);
    cbag_val *d1 = cbag_new_dict(c, 0);
    cbag_set(c, d1, "a", I(c, 1));
    xs[n++] = d1;
    cbag_val *d2 = cbag_new_dict(c, 0);
    cbag_set(c, d2, "a", I(c, 2));
    xs[n++] = d2;
    cbag_val *d3 = cbag_new_dict(c, 0);
    cbag_set(c, d3, "b", I(c, 0));
    xs[n++] = d3;
    cbag_val *d4 = cbag_new_dict(c, 0);
    cbag_set(c, d4, "b", I(c, 0));
    cbag_set(c, d4, "a", I(c, 0));
    xs[n++] = d4;
    assert_false(cbag_failed(c));
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = sign((int)i - (int)j);
            assert_int_equal(sign(cbag_cmp(xs[i], xs[j])), want);
            if (i != j) assert_false(cbag_eq(xs[i], xs[j]));
        }
    }
    /* NULL reads as None. */
    assert_int_equal(cbag_cmp(NULL, cbag_none()), 0);
    assert_true(cbag_eq(NULL, cbag_none()));
    assert_int_equal(cbag_hash(NULL), cbag_hash(cbag_none()));
}

static void test_eq_hash(void **state) {
    cbag_call *c = CALL;
    /* 1 == 1.0 == True, with one hash. */
    assert_true(cbag_eq(I(c, 1), F(c, 1.0)));
    assert_true(cbag_eq(I(c, 1), cbag_bool(true)));
    assert_true(cbag_eq(F(c, 1.0), cbag_bool(true)));
    assert_int_equal(cbag_hash(I(c, 1)), cbag_hash(F(c, 1.0)));
    assert_int_equal(cbag_hash(I(c, 1)), cbag_hash(cbag_bool(true)));
    assert_int_equal(cbag_hash(I(c, 0)), cbag_hash(F(c, -0.0)));
    assert_int_equal(cbag_hash(I(c, INT64_MIN)),
                     cbag_hash(F(c, -9223372036854775808.0)));
    /* 2**53 + 1 is not 2.0**53, though (double)(2**53 + 1) is. */
    assert_false(cbag_eq(I(c, 9007199254740993), F(c, 9007199254740992.0)));
    assert_true(cbag_eq(I(c, 9007199254740992), F(c, 9007199254740992.0)));
    assert_false(cbag_eq(F(c, NAN), F(c, NAN)));
    assert_int_equal(cbag_hash(F(c, NAN)), cbag_hash(F(c, -NAN)));
    assert_false(cbag_eq(I(c, 1), S(c, "1")));
    assert_false(cbag_eq(cbag_none(), cbag_bool(false)));
    assert_true(
        cbag_eq(cbag_new_str(c, "a\0b", 3), cbag_new_str(c, "a\0b", 3)));
    assert_false(cbag_eq(cbag_new_str(c, "a\0b", 3), S(c, "a")));
    assert_int_equal(cbag_hash(S(c, "abc")), cbag__hash_str("abc", 3));
    assert_int_equal(cbag_hash(S(c, "")), cbag__hash_str(NULL, 0));
    assert_int_not_equal(cbag_hash(S(c, "1")), cbag_hash(I(c, 1)));
    assert_int_not_equal(cbag_hash(F(c, 0.5)), cbag_hash(F(c, 0.25)));

    /* A list never equals a tuple, even with equal elements. */
    cbag_val *l = cbag_new_list(c, 0), *t = cbag_new_tuple(c, 0);
    cbag_val *l2 = cbag_new_list(c, 0);
    cbag_append(c, l, I(c, 1));
    cbag_append(c, l, S(c, "x"));
    cbag_append(c, t, I(c, 1));
    cbag_append(c, t, S(c, "x"));
    cbag_append(c, l2, F(c, 1.0));
    cbag_append(c, l2, S(c, "x"));
    assert_false(cbag_eq(l, t));
    assert_int_not_equal(cbag_cmp(l, t), 0);
    assert_int_not_equal(cbag_hash(l), cbag_hash(t));
    assert_true(cbag_eq(l, l2));
    assert_int_equal(cbag_hash(l), cbag_hash(l2));
    assert_false(cbag_eq(cbag_new_list(c, 0), cbag_new_tuple(c, 0)));
    assert_int_not_equal(cbag_hash(cbag_new_list(c, 0)),
                         cbag_hash(cbag_new_tuple(c, 0)));
    /* Order matters in sequences. */
    cbag_val *r = cbag_new_list(c, 0);
    cbag_append(c, r, S(c, "x"));
    cbag_append(c, r, I(c, 1));
    assert_false(cbag_eq(l, r));
    assert_int_not_equal(cbag_hash(l), cbag_hash(r));

    /* Dicts: order does not matter; keys and values compare as values. */
    cbag_val *a = cbag_new_dict(c, 0), *b = cbag_new_dict(c, 0);
    cbag_set(c, a, "x", I(c, 1));
    cbag_set(c, a, "y", l);
    cbag_setv(c, a, I(c, 3), cbag_none());
    cbag_setv(c, b, F(c, 3.0), cbag_none());
    cbag_set(c, b, "y", l2);
    cbag_set(c, b, "x", cbag_bool(true));
    assert_true(cbag_eq(a, b));
    assert_int_equal(cbag_cmp(a, b), 0);
    assert_int_equal(cbag_hash(a), cbag_hash(b));
    cbag_set(c, b, "x", I(c, 2));
    assert_false(cbag_eq(a, b));
    assert_int_not_equal(cbag_hash(a), cbag_hash(b));
    cbag_set(c, b, "x", I(c, 1));
    cbag_set(c, b, "z", I(c, 1));
    assert_false(cbag_eq(a, b));
    assert_true(cbag_cmp(a, b) < 0); /* shorter first */
    /* Same length, different keys. */
    cbag_val *p = cbag_new_dict(c, 0), *q = cbag_new_dict(c, 0);
    cbag_set(c, p, "a", I(c, 1));
    cbag_set(c, q, "b", I(c, 1));
    assert_false(cbag_eq(p, q));
    assert_true(cbag_cmp(p, q) < 0);

    /* Fixed values: hashes must never change between runs or machines. */
    assert_int_equal(cbag_hash(cbag_none()), 0x9e3779b97f4a7c15ull);
    assert_int_equal(cbag_hash(I(c, 1)), HASH_ONE);
    assert_int_equal(cbag_hash(S(c, "abc")), HASH_ABC);
    assert_int_equal(cbag_hash(F(c, 0.5)), HASH_HALF);
    assert_int_equal(cbag_hash(l), HASH_LIST);
    assert_int_equal(cbag_hash(t), HASH_TUPLE);
    assert_int_equal(cbag_hash(a), HASH_DICT);
    assert_false(cbag_failed(c));
}

/* A small deterministic generator of nested values for property tests. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const cbag_val *gen(cbag_call *c, int depth) {
    int k = (int)(rnd() % (depth > 0 ? 10 : 6));
    switch (k) {
    case 0: return cbag_none();
    case 1: return cbag_bool(rnd() & 1);
    case 2: return I(c, (int64_t)(rnd() % 5) - 2);
    case 3: {
        static const double fs[] = {-1.0, 0.0, 0.5, 1.0, 2.0, NAN};
        return F(c, fs[rnd() % 5]); /* NaN left out: see below */
    }
    case 4:
    case 5: {
        static const char *ss[] = {"", "a", "b", "ab", "\xc3\xa9"};
        return S(c, ss[rnd() % 5]);
    }
    case 6:
    case 7: {
        cbag_val *s = k == 6 ? cbag_new_list(c, 0) : cbag_new_tuple(c, 0);
        int n = (int)(rnd() % 4);
        for (int i = 0; i < n; i++)
            cbag_append(c, s, gen(c, depth - 1));
        return s;
    }
    default: {
        cbag_val *d = cbag_new_dict(c, 0);
        int n = (int)(rnd() % 4);
        for (int i = 0; i < n; i++)
            cbag_setv(c, d, gen(c, 0), gen(c, depth - 1));
        return d;
    }
    }
}

/* Without NaN, cmp is a total order consistent with eq and hash. */
static void test_order_properties(void **state) {
    cbag_call *c = CALL;
    enum { N = 300 };
    const cbag_val *xs[N];
    for (int i = 0; i < N; i++)
        xs[i] = gen(c, 3);
    assert_false(cbag_failed(c));
    for (int i = 0; i < N; i++) {
        assert_int_equal(cbag_cmp(xs[i], xs[i]), 0);
        assert_true(cbag_eq(xs[i], xs[i]));
        for (int j = 0; j < N; j++) {
            int r = cbag_cmp(xs[i], xs[j]);
            assert_int_equal(sign(r), -sign(cbag_cmp(xs[j], xs[i])));
            assert_int_equal(r == 0, cbag_eq(xs[i], xs[j]));
            if (r == 0) assert_int_equal(cbag_hash(xs[i]), cbag_hash(xs[j]));
        }
    }
    for (int n = 0; n < 20000; n++) {
        const cbag_val *a = xs[rnd() % N], *b = xs[rnd() % N],
                       *d = xs[rnd() % N];
        if (cbag_cmp(a, b) <= 0 && cbag_cmp(b, d) <= 0)
            assert_true(cbag_cmp(a, d) <= 0);
    }
    /* A copy compares equal and hashes the same. */
    for (int i = 0; i < N; i++) {
        const cbag_val *cp = cbag_copy(c, xs[i]);
        assert_true(cbag_eq(cp, xs[i]));
        assert_int_equal(cbag_hash(cp), cbag_hash(xs[i]));
        assert_string_equal(repr(cp), repr(xs[i]));
    }
}

/* Dicts big enough to be sorted in the comparison, and small ones walked,
 * with the same entries inserted in different orders. */
static void test_dict_cmp_orders(void **state) {
    cbag_call *c = CALL;
    int sizes[] = {5, 31, 33, 200};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int n = sizes[s];
        cbag_val *a = cbag_new_dict(c, 0), *b = cbag_new_dict(c, 0);
        cbag_val *x = cbag_new_dict(c, 0), *y = cbag_new_dict(c, 0);
        for (int i = 0; i < n; i++) {
            cbag_setv(c, a, I(c, i), I(c, i * i));
            cbag_setv(c, b, F(c, n - 1 - i), I(c, (n - 1 - i) * (n - 1 - i)));
            /* x and y differ only in the value of key 3. */
            int j = (i * 7) % n;
            cbag_setv(c, x, I(c, i), I(c, i == 3));
            cbag_setv(c, y, I(c, j), I(c, 0));
        }
        assert_true(cbag_eq(a, b));
        assert_int_equal(cbag_cmp(a, b), 0);
        assert_int_equal(cbag_hash(a), cbag_hash(b));
        assert_false(cbag_eq(x, y));
        assert_true(cbag_cmp(x, y) > 0);
        assert_true(cbag_cmp(y, x) < 0);
        /* A NaN key compares equal to itself for ordering. */
        cbag_setv(c, a, F(c, NAN), I(c, 0));
        cbag_setv(c, b, F(c, NAN), I(c, 0));
        assert_false(cbag_eq(a, b));
        assert_int_equal(cbag_cmp(a, b), 0);
    }
    assert_false(cbag_failed(c));
}

static void test_copy(void **state) {
    cbag_call *c = CALL;
    cbag_val *d = cbag_new_dict(c, 0);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%d", i);
        cbag_val *l = cbag_new_list(c, 0);
        cbag_append(c, l, S(c, k));
        cbag_append(c, l, F(c, i / 4.0));
        cbag_val *t = cbag_new_tuple(c, 0);
        cbag_append(c, t, cbag_none());
        cbag_append(c, l, t);
        cbag_set(c, d, k, l);
    }
    cbag_setv(c, d, I(c, 7), cbag_bool(true));
    assert_false(cbag_failed(c));
    char want[4096];
    snprintf(want, sizeof want, "%s", repr(d));

    /* Into another arena, which outlives the original. */
    cbag__arena a2;
    cbag__arena_init(&a2, 256);
    cbag_call c2;
    cbag__call_init(&c2, &a2);
    const cbag_val *cp = cbag_copy(&c2, d);
    assert_non_null(cp);
    assert_true(cbag_eq(cp, d));
    assert_int_equal(cbag_hash(cp), cbag_hash(d));
    cbag__arena_free(&((fixture *)*state)->a);
    cbag__arena_init(&((fixture *)*state)->a, 0);
    assert_string_equal(repr(cp), want);
    assert_int_equal(cbag_int_value(cbag_at(cbag_get(cp, "k4"), 1)), 0);
    assert_true(cbag_float_value(cbag_at(cbag_get(cp, "k5"), 1)) == 1.25);
    assert_true(cbag_bool_value(cbag_getv(cp, F(&c2, 7.0))));
    assert_null(cbag_get(cp, "k20"));

    /* The copy is a new container: appending to it leaves d alone. */
    cbag_val *l = (cbag_val *)cbag_get(cp, "k0");
    assert_int_equal(cbag_append(&c2, l, I(&c2, 1)), CBAG_OK);
    assert_int_equal(cbag_len(l), 4);
    for (int i = 20; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(cbag_set(&c2, (cbag_val *)cp, k, I(&c2, i)), CBAG_OK);
    }
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof k, "k%d", i);
        assert_non_null(cbag_get(cp, k));
    }
    assert_ptr_equal(cbag_copy(&c2, cbag_none()), cbag_none());
    assert_ptr_equal(cbag_copy(&c2, cbag_bool(true)), cbag_bool(true));
    assert_false(cbag_failed(&c2));
    cbag__arena_free(&a2);
}

static void test_key(void **state) {
    cbag_call *c = CALL;
    cbag_val *d = cbag_new_dict(c, 0);
    cbag_set(c, d, "name", S(c, "Alice"));
    assert_true(cbag_str_eq(cbag_key(c, d, "name"), "Alice"));
    assert_false(cbag_failed(c));
    assert_null(cbag_key(c, d, "age"));
    assert_int_equal(c->code, CBAG_KEY);
    assert_string_equal(c->msg, "KeyError: 'age'");
    cbag__call_clear(c);
    assert_null(cbag_key(c, d, "it's"));
    assert_string_equal(c->msg, "KeyError: \"it's\"");
    cbag__call_clear(c);
    assert_null(cbag_key(c, I(c, 1), "a"));
    assert_int_equal(c->code, CBAG_TYPE);
    assert_string_equal(c->msg, "TypeError: 'int' object is not subscriptable");
    cbag__call_clear(c);
    assert_null(cbag_key(c, NULL, "a"));
    assert_string_equal(c->msg,
                        "TypeError: 'NoneType' object is not subscriptable");
    cbag__call_clear(c);
    assert_null(cbag_key(c, cbag_new_list(c, 0), "a"));
    assert_string_equal(
        c->msg, "TypeError: list indices must be integers or slices, not str");
    cbag__call_clear(c);
}

static void test_repr(void **state) {
    cbag_call *c = CALL;
    assert_string_equal(repr(NULL), "None");
    assert_string_equal(repr(cbag_none()), "None");
    assert_string_equal(repr(cbag_bool(true)), "True");
    assert_string_equal(repr(cbag_bool(false)), "False");
    assert_string_equal(repr(I(c, 0)), "0");
    assert_string_equal(repr(I(c, INT64_MIN)), "-9223372036854775808");
    assert_string_equal(repr(I(c, INT64_MAX)), "9223372036854775807");
    assert_string_equal(repr(cbag_new_list(c, 0)), "[]");
    assert_string_equal(repr(cbag_new_tuple(c, 0)), "()");
    assert_string_equal(repr(cbag_new_dict(c, 0)), "{}");

    /* {'id': 0, 'name': 'Yvonne', 'tags': ['a', "it's"], 't': (1,),
     *  'e': (), 'd': {}, 'f': 1.5, 'n': None, 'b': True, 'x': False} */
    cbag_val *d = cbag_new_dict(c, 0);
    cbag_set(c, d, "id", I(c, 0));
    cbag_set(c, d, "name", S(c, "Yvonne"));
    cbag_val *tags = cbag_new_list(c, 0);
    cbag_append(c, tags, S(c, "a"));
    cbag_append(c, tags, S(c, "it's"));
    cbag_set(c, d, "tags", tags);
    cbag_val *t1 = cbag_new_tuple(c, 0);
    cbag_append(c, t1, I(c, 1));
    cbag_set(c, d, "t", t1);
    cbag_set(c, d, "e", cbag_new_tuple(c, 0));
    cbag_set(c, d, "d", cbag_new_dict(c, 0));
    cbag_set(c, d, "f", F(c, 1.5));
    cbag_set(c, d, "n", cbag_none());
    cbag_set(c, d, "b", cbag_bool(true));
    cbag_set(c, d, "x", cbag_bool(false));
    assert_string_equal(repr(d),
                        "{'id': 0, 'name': 'Yvonne', 'tags': ['a', \"it's\"], "
                        "'t': (1,), 'e': (), 'd': {}, 'f': 1.5, 'n': None, "
                        "'b': True, 'x': False}");

    cbag_val *l = cbag_new_list(c, 0);
    double fs[] = {0.1, -0.0, INFINITY, -INFINITY, NAN, 1e16};
    cbag_append(c, l, I(c, 1));
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        cbag_append(c, l, F(c, fs[i]));
    cbag_append(c, l, cbag_new_list(c, 0));
    cbag_val *ll = cbag_new_list(c, 0);
    cbag_append(c, ll, cbag_new_list(c, 0));
    cbag_append(c, l, ll);
    assert_string_equal(repr(l),
                        "[1, 0.1, -0.0, inf, -inf, nan, 1e+16, [], [[]]]");

    cbag_val *tt = cbag_new_tuple(c, 0);
    cbag_append(c, tt, cbag_new_tuple(c, 0));
    assert_string_equal(repr(tt), "((),)");

    /* Strings, as Python quotes and escapes them. */
    static const struct {
        const char *in, *out;
    } strs[] = {
        {"", "''"},
        {"a\"b", "'a\"b'"},
        {"it's", "\"it's\""},
        {"both ' and \"", "'both \\' and \"'"},
        {"tab\t nl\n cr\r bs\\ del\x7f esc\x1b",
         "'tab\\t nl\\n cr\\r bs\\\\ del\\x7f esc\\x1b'"},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
         "'\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'"},        /* é€😀 */
        {"\xc2\x80\xc2\xa0\xc2\xad", "'\\x80\\xa0\\xad'"}, /* C1, NBSP, SHY */
        {"\xe2\x80\xa8\xe2\x80\x8b", "'\\u2028\\u200b'"},
        {"\xef\xbb\xbf", "'\\ufeff'"},
        {"\xf3\xa0\x80\x81\xf4\x8f\xbf\xbf", "'\\U000e0001\\U0010ffff'"},
        {"\xc3\xa9t\xc3\xa9", "'\xc3\xa9t\xc3\xa9'"},
        {"\xe3\x80\x80x\xe3\x81\x82", "'\\u3000x\xe3\x81\x82'"},
        /* Not UTF-8 (never checked): each bad byte as \xNN. */
        {"\xff", "'\\xff'"},
        {"a\xc3", "'a\\xc3'"},
        {"\xed\xa0\x80", "'\\xed\\xa0\\x80'"}, /* a surrogate */
        {"\xc0\xaf", "'\\xc0\\xaf'"},          /* overlong */
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        assert_string_equal(repr(S(c, strs[i].in)), strs[i].out);
    assert_string_equal(repr(cbag_new_str(c, "nul\0", 4)), "'nul\\x00'");
    assert_false(cbag_failed(c));
}

static void test_float_repr(void **state) {
    static const struct {
        double d;
        const char *s;
    } fs[] = {
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {2.0 / 3, "0.6666666666666666"},
        {0.3, "0.3"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {1e-5, "1e-05"},
        {1e-4, "0.0001"},
        {1.5e-5, "1.5e-05"},
        {-1e-7, "-1e-07"},
        {123.456, "123.456"},
        {12345678.9, "12345678.9"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {0x1p-1017, "7.120236347223045e-307"}, /* next to a power of two */
        {188.49466666666666, "188.49466666666666"},
        {639.1927764534452, "639.1927764534452"},
        {-0.0, "-0.0"},
        {0.0, "0.0"},
        {100.0, "100.0"},
        {-100.0, "-100.0"},
        {123456789012345.0, "123456789012345.0"},
        {9007199254740992.0, "9007199254740992.0"},
        {9223372036854775808.0, "9.223372036854776e+18"},
        {1e22, "1e+22"},
        {1e100, "1e+100"},
        {INFINITY, "inf"},
        {-INFINITY, "-inf"},
        {NAN, "nan"},
        {-NAN, "nan"},
    };
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        assert_string_equal(frepr(fs[i].d), fs[i].s);
    /* Every repr reads back as the same double. */
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, sizeof d);
        if (isnan(d) || isinf(d)) continue;
        const char *s = frepr(d);
        assert_true(strlen(s) < 32);
        assert_true(strtod(s, NULL) == d);
    }
    (void)state;
}

static void test_format(void **state) {
    cbag_call *c = CALL;
    cbag_val *t = cbag_new_tuple(c, 0);
    cbag_append(c, t, S(c, "a"));
    cbag_append(c, t, F(c, 0.5));
    size_t len = 0;
    char *s = cbag_format(t, CBAG_FMT_REPR, &len);
    assert_non_null(s);
    assert_string_equal(s, "('a', 0.5)");
    assert_int_equal(len, 10);
    free(s);
    s = cbag_format(NULL, CBAG_FMT_REPR, NULL);
    assert_string_equal(s, "None");
    free(s);
    assert_null(cbag_format(t, 3, NULL));

    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(cbag_fprint(f, t, CBAG_FMT_REPR), CBAG_OK);
    rewind(f);
    char buf[64] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 10);
    assert_string_equal(buf, "('a', 0.5)");
    fclose(f);
    assert_int_equal(cbag_fprint(NULL, t, CBAG_FMT_REPR), CBAG_INVALID);
}

/* ------------------------------------------------------------------------ */
/* Allocation failure                                                       */

/* A nested value: 20 keys (indexed), lists, tuples, strings, a copy and
 * its repr. Returns the copy, or NULL after the failure was reported. */
static const cbag_val *build(cbag_call *c) {
    cbag_val *root = cbag_new_dict(c, 0);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "key%d", i);
        cbag_set(c, root, k, cbag_new_strf(c, "value number %d", i));
    }
    cbag_val *l = cbag_new_list(c, 0);
    for (int i = 0; i < 50; i++) {
        const cbag_val *pair[] = {I(c, i), F(c, i / 8.0)};
        cbag_append(c, l, cbag_new_tuplev(c, 2, pair));
    }
    cbag_set(c, root, "list", l);
    cbag_setv(c, root, F(c, 2.5), S(c, "x"));
    const cbag_val *cp = cbag_copy(c, root);
    return cbag_failed(c) ? NULL : cp;
}

static void test_oom(void **state) {
    (void)state;
    int failures = 0;
    for (long n = 1;; n++) {
        cbag__arena a;
        cbag__arena_init(&a, 256); /* small chunks: many allocations */
        cbag_call c;
        cbag__call_init(&c, &a);
        cbag__mem_fail_after(n, 1);
        const cbag_val *v = build(&c);
        char *s = cbag_format(v, CBAG_FMT_REPR, NULL);
        long made = cbag__mem_fail_after(0, 0);
        if (made < n) {
            /* Nothing failed: the build must be complete. */
            assert_non_null(v);
            assert_false(cbag_failed(&c));
            assert_non_null(s);
            assert_int_equal(strlen(s), 1162);
            free(s);
            cbag__arena_free(&a);
            break;
        }
        if (v) {
            /* Only the formatting ran out. */
            assert_false(cbag_failed(&c));
            assert_null(s);
        } else {
            assert_true(cbag_failed(&c));
            assert_int_equal(c.code, CBAG_NOMEM);
            assert_string_equal(c.msg, "out of memory");
        }
        free(s);
        cbag__arena_free(&a);
        failures++;
    }
    assert_true(failures > 10);
}

/* cbag_set remembers recent key strings by address: a buffer reused with
 * other contents, or an arena reset, must not bring back a stale key. */
static void test_set_key_cache(void **state) {
    (void)state;
    cbag__arena a;
    cbag__arena_init(&a, 0);
    cbag_call c;
    cbag__call_init(&c, &a);
    char buf[16] = "name";
    cbag_val *d = cbag_new_dict(&c, 4);
    assert_int_equal(cbag_set(&c, d, buf, cbag_new_int(&c, 1)), CBAG_OK);
    assert_int_equal(cbag_set(&c, d, buf, cbag_new_int(&c, 2)), CBAG_OK);
    strcpy(buf, "nam"); /* a prefix of the cached key */
    assert_int_equal(cbag_set(&c, d, buf, cbag_new_int(&c, 3)), CBAG_OK);
    strcpy(buf, "names"); /* longer than the cached key */
    assert_int_equal(cbag_set(&c, d, buf, cbag_new_int(&c, 4)), CBAG_OK);
    char *r = cbag_format(d, CBAG_FMT_REPR, NULL);
    assert_string_equal(r, "{'name': 2, 'nam': 3, 'names': 4}");
    free(r);
    cbag__arena_reset(&a);
    strcpy(buf, "name");
    d = cbag_new_dict(&c, 2);
    assert_int_equal(cbag_set(&c, d, buf, cbag_none()), CBAG_OK);
    assert_int_equal(cbag_set(&c, d, "id", cbag_none()), CBAG_OK);
    r = cbag_format(d, CBAG_FMT_REPR, NULL);
    assert_string_equal(r, "{'name': None, 'id': None}");
    free(r);
    cbag__arena_free(&a);
}

/* Values code can build but JSON cannot: a million levels deep, and
 * cycles (a list appended to a list inside it). Every walk is bounded
 * (CBAG__MAX_DEPTH): copying is an error, equality and order look no
 * deeper (the same body is equal), hashing and printing end; nothing may
 * exhaust the stack. */
static void test_deep_and_cyclic(void **state) {
    cbag_call *c = CALL;
    cbag_val *deep[2];
    for (int k = 0; k < 2; k++) {
        deep[k] = cbag_new_list(c, 1);
        for (int i = 0; i < 1000000; i++) {
            cbag_val *l = cbag_new_list(c, 1);
            assert_int_equal(cbag_append(c, l, deep[k]), CBAG_OK);
            deep[k] = l;
        }
    }
    /* a = [b, b], b = [a]; d = {"l": [d]} (a list cannot hold itself
     * directly: cbag_append refuses) */
    cbag_val *a = cbag_new_list(c, 2), *b = cbag_new_list(c, 1);
    cbag_val *d = cbag_new_dict(c, 1), *e = cbag_new_list(c, 1);
    assert_int_equal(cbag_append(c, b, a), CBAG_OK);
    assert_int_equal(cbag_append(c, a, b), CBAG_OK);
    assert_int_equal(cbag_append(c, a, b), CBAG_OK);
    assert_int_equal(cbag_set(c, d, "l", e), CBAG_OK);
    assert_int_equal(cbag_append(c, e, d), CBAG_OK);
    const cbag_val *vs[] = {deep[0], deep[1], a, b, d};
    for (int i = 0; i < 5; i++) {
        assert_true(cbag_eq(vs[i], vs[i]));
        assert_int_equal(cbag_cmp(vs[i], vs[i]), 0);
        for (int j = 0; j < 5; j++) {
            (void)cbag_eq(vs[i], vs[j]);
            (void)cbag_cmp(vs[i], vs[j]);
        }
        assert_int_equal(cbag_hash(vs[i]), cbag_hash(vs[i]));
        assert_null(cbag_copy(c, vs[i]));
        assert_non_null(strstr(cbag_call_errmsg(c), "nested deeper"));
        cbag_call_clear(c);
        cbag__buf out = CBAG__BUF_INIT;
        assert_int_not_equal(cbag__repr(&out, vs[i]), CBAG_OK);
        assert_int_not_equal(cbag__json_write(&out, vs[i], CBAG_FMT_JSON),
                             CBAG_OK);
        cbag__buf_free(&out);
    }
    /* equal as deep as the walks go: not equal, in some order */
    assert_false(cbag_eq(deep[0], deep[1]));
    assert_int_not_equal(cbag_cmp(deep[0], deep[1]), 0);
    assert_int_equal(cbag_cmp(deep[0], deep[1]), -cbag_cmp(deep[1], deep[0]));
    assert_int_equal(cbag_hash(deep[0]), cbag_hash(deep[1]));
    /* a value of 10000 levels, as deep as JSON goes, is copied */
    cbag_val *ok = cbag_new_list(c, 1);
    for (int i = 1; i < 10000; i++) {
        cbag_val *l = cbag_new_list(c, 1);
        cbag_append(c, l, ok);
        ok = l;
    }
    const cbag_val *copy = cbag_copy(c, ok);
    assert_non_null(copy);
    assert_true(cbag_eq(copy, ok));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_propagation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_index_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kinds_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eq_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_properties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_cmp_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repr, setup, teardown),
        cmocka_unit_test(test_float_repr),
        cmocka_unit_test_setup_teardown(test_format, setup, teardown),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_set_key_cache),
        cmocka_unit_test_setup_teardown(test_deep_and_cyclic, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
