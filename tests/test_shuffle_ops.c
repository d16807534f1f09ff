/* test_shuffle_ops.c: reduce_by_key, join_bags and sort_by, checked against
 * foldby, a nested-loop join and a stable sort of everything at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbag.h"
#include "iocheck.h"
#include "mem.h"

static cbag_ctx *cx;

static int setup(void **state) {
    (void)state;
    if (iocheck_init("shuffle-ops")) return -1;
    cbag_options o = {0};
    o.temp_dir = iocheck_tmp;
    o.workers = 4;
    cx = cbag_open(&o);
    return cx && cbag_errcode(cx) == CBAG_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cbag_close(cx);
    iocheck_done();
    return 0;
}

static const cbag_val *J(const char *json) {
    const cbag_val *v = cbag_json_parse(cbag_main(cx), json, strlen(json));
    assert_non_null(v);
    return v;
}

static cbag *jbag(const char *json, size_t np) {
    return cbag_from_sequence(cx, J(json), np, 0);
}

static char *repr(const cbag_val *v) {
    char *s = cbag_format(v, CBAG_FMT_REPR, NULL);
    assert_non_null(s);
    return s;
}

/* The bag's elements, or NULL with the message printed. */
static cbag_result *run(cbag *b) {
    if (!b) {
        fprintf(stderr, "no bag: %s\n", cbag_errmsg(cx));
        return NULL;
    }
    cbag_result *r = cbag_compute(b);
    if (!r) fprintf(stderr, "compute failed: %s\n", cbag_errmsg(cx));
    return r;
}

static char *bag_repr(cbag *b) {
    cbag_result *r = run(b);
    if (!r) return NULL;
    char *s = repr(cbag_result_value(r));
    cbag_result_free(r);
    return s;
}

#define assert_same(s1, s2)                                                    \
    do {                                                                       \
        char *a_ = (s1), *b_ = (s2);                                           \
        assert_non_null(a_);                                                   \
        assert_non_null(b_);                                                   \
        assert_string_equal(a_, b_);                                           \
        free(a_);                                                              \
        free(b_);                                                              \
    } while (0)

#define assert_bag(b, expected)                                                \
    do {                                                                       \
        char *s_ = bag_repr(b);                                                \
        assert_non_null(s_);                                                   \
        assert_string_equal(s_, expected);                                     \
        free(s_);                                                              \
    } while (0)

static int by_cmp(const void *a, const void *b) {
    return cbag_cmp(*(const cbag_val *const *)a, *(const cbag_val *const *)b);
}

/* repr of the elements of a list value, sorted (a multiset to compare). */
static char *sorted_repr(const cbag_val *list) {
    size_t n = cbag_len(list);
    const cbag_val **v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = cbag_at(list, (int64_t)i);
    qsort(v, n, sizeof *v, by_cmp);
    cbag_call *c = cbag_main(cx);
    cbag_val *l = cbag_new_list(c, n);
    for (size_t i = 0; i < n; i++)
        cbag_append(c, l, v[i]);
    free(v);
    return repr(l);
}

static char *bag_sorted(cbag *b) {
    cbag_result *r = run(b);
    if (!r) return NULL;
    char *s = sorted_repr(cbag_result_value(r));
    cbag_result_free(r);
    return s;
}

/* Each partition as one element: the partitioning made visible. */
static const cbag_val *wrap(cbag_call *c, const cbag_val *p, void *ud) {
    (void)ud;
    cbag_val *l = cbag_new_list(c, 1);
    return cbag_append(c, l, p) ? NULL : l;
}

static cbag *parts(cbag *b) { return cbag_map_partitions(b, wrap, NULL); }

static const cbag_val *firsts(cbag_call *c, const cbag_val *p, void *ud) {
    (void)ud;
    cbag_val *keys = cbag_new_list(c, cbag_len(p));
    for (size_t i = 0; i < cbag_len(p); i++)
        cbag_append(c, keys, cbag_at(cbag_at(p, (int64_t)i), 0));
    cbag_val *l = cbag_new_list(c, 1);
    return cbag_append(c, l, keys) ? NULL : l;
}

/* The keys of (key, ...) elements, per partition. */
static cbag *part_keys(cbag *b) { return cbag_map_partitions(b, firsts, NULL); }

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    if (cbag_typeof(a) != CBAG_INT || cbag_typeof(b) != CBAG_INT)
        return cbag_failc(c, CBAG_TYPE, "TypeError: unsupported operands");
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

/* (k, n) + (k, m) = (k, n + m) */
static const cbag_val *add_second(cbag_call *c, const cbag_val *a,
                                  const cbag_val *b, void *ud) {
    (void)ud;
    const cbag_val *t[2] = {cbag_at(a, 0),
                            cbag_new_int(c, cbag_int_value(cbag_at(a, 1)) +
                                                cbag_int_value(cbag_at(b, 1)))};
    return cbag_new_tuplev(c, 2, t);
}

static const cbag_val *mod37(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 37);
}

/* A scrambled key in [0, 1000) with many duplicates. */
static const cbag_val *scramble(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, (cbag_int_value(x) * 7919) % 1000);
}

static const cbag_val *ident(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return x;
}

static const cbag_val *fail_on_7(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (cbag_int_value(x) == 7) return cbag_fail(c, "seven");
    return x;
}

/* {"k": a.k, "n": a.n + b.n} */
static const cbag_val *add_n(cbag_call *c, const cbag_val *a, const cbag_val *b,
                             void *ud) {
    (void)ud;
    cbag_val *d = cbag_new_dict(c, 2);
    if (!d || cbag_set(c, d, "k", cbag_get(a, "k")) ||
        cbag_set(c, d, "n",
                 cbag_new_int(c, cbag_int_value(cbag_get(a, "n")) +
                                     cbag_int_value(cbag_get(b, "n")))))
        return NULL;
    return d;
}

/* ------------------------------------------------------------------------ */
/* reduce_by_key                                                            */

static void test_reduce_vs_foldby(void **state) {
    (void)state;
    cbag *b = cbag_range(cx, 10000, 9);
    for (size_t np = 0; np <= 12; np += 3) {
        cbag *r = cbag_reduce_by_key_fn(b, mod37, add, np, NULL);
        assert_int_equal(cbag_npartitions(r), np ? np : 9);
        assert_same(bag_sorted(r),
                    bag_sorted(cbag_foldby_fn(b, mod37, add, NULL, NULL)));
    }
    /* one output partition: foldby's first-seen order exactly */
    assert_same(bag_repr(cbag_reduce_by_key_fn(b, scramble, add, 1, NULL)),
                bag_repr(cbag_foldby_fn(b, scramble, add, NULL, NULL)));
    /* keys go where groupby puts them, in first-seen order */
    assert_same(
        bag_repr(part_keys(cbag_reduce_by_key_fn(b, scramble, add, 5, NULL))),
        bag_repr(part_keys(cbag_groupby_fn(b, scramble, 5, NULL))));
}

static void test_reduce_fields(void **state) {
    (void)state;
    cbag *t = jbag("[[\"a\", 1], [\"b\", 2], [\"a\", 3], [1, 4], [1.0, 5], "
                   "[true, 6], [null, 7], [\"b\", 8], [[1], 9], [[1.0], 10]]",
                   4);
    cbag_val *zero = cbag_new_int(cbag_main(cx), 0);
    assert_bag(
        cbag_reduce_by_key_named(t, NULL, zero, NULL, add_second, 1, NULL),
        "[('a', ('a', 4)), ('b', ('b', 10)), (1, (1, 15)), (None, [None, 7]), "
        "([1], ([1], 19))]");
    assert_same(bag_sorted(cbag_reduce_by_key_named(t, NULL, zero, NULL,
                                                    add_second, 3, NULL)),
                bag_sorted(cbag_foldby_named(t, NULL, zero, NULL, add_second,
                                             NULL, NULL)));
    cbag *d = jbag("[{\"k\": \"x\", \"n\": 1}, {\"k\": \"y\", \"n\": 2}, "
                   "{\"k\": \"x\", \"n\": 3}]",
                   2);
    assert_bag(cbag_reduce_by_key(d, "k", add_n, 1, NULL),
               "[('x', {'k': 'x', 'n': 4}), ('y', {'k': 'y', 'n': 2})]");
    assert_same(bag_sorted(cbag_reduce_by_key(d, "k", add_n, 3, NULL)),
                bag_sorted(cbag_foldby(d, "k", add_n, NULL, NULL)));
    /* empty input */
    assert_bag(cbag_reduce_by_key_fn(jbag("[]", 0), ident, add, 3, NULL), "[]");
}

static void test_reduce_errors(void **state) {
    (void)state;
    cbag *b = cbag_range(cx, 100, 4);
    /* binop failing within a partition, and merging partitions' tables */
    for (size_t np = 1; np <= 2; np++) {
        cbag *bad = jbag("[0, \"x\"]", np);
        assert_null(
            cbag_compute(cbag_reduce_by_key_fn(bad, mod37, add, 2, NULL)));
        assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
        assert_non_null(strstr(cbag_errmsg(cx), "reduce_by_key(add) failed"));
        assert_non_null(strstr(cbag_errmsg(cx), "TypeError"));
        cbag_clear_error(cx);
    }
    /* a missing key */
    assert_null(cbag_compute(
        cbag_reduce_by_key(jbag("[{\"a\": 1}]", 1), "k", add, 1, NULL)));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    cbag_clear_error(cx);
    /* a failing key function */
    assert_null(
        cbag_compute(cbag_reduce_by_key_fn(b, fail_on_7, add, 3, NULL)));
    assert_int_equal(cbag_errcode(cx), CBAG_USER);
    assert_non_null(strstr(cbag_errmsg(cx), "seven"));
    cbag_clear_error(cx);
    /* bad arguments */
    assert_null(cbag_reduce_by_key_fn(b, mod37, NULL, 1, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    assert_null(cbag_reduce_by_key_named(b, NULL, NULL, NULL, add, 1, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    assert_null(cbag_reduce_by_key_fn(NULL, mod37, add, 1, NULL));
    /* the context is usable after failures */
    assert_same(bag_sorted(cbag_reduce_by_key_fn(b, mod37, add, 2, NULL)),
                bag_sorted(cbag_foldby_fn(b, mod37, add, NULL, NULL)));
}

/* ------------------------------------------------------------------------ */
/* join_bags                                                                */

/* The key of the naive join: x[0], or x itself for non-sequences. */
static const cbag_val *key0(const cbag_val *x) {
    cbag_type t = cbag_typeof(x);
    return t == CBAG_LIST || t == CBAG_TUPLE ? cbag_at(x, 0) : x;
}

/* [(l, r) for l in left for r in right if key0(l) == key0(r)] */
static cbag_val *nested_join(const cbag_val *left, const cbag_val *right) {
    cbag_call *c = cbag_main(cx);
    cbag_val *out = cbag_new_list(c, 16);
    for (size_t i = 0; i < cbag_len(left); i++)
        for (size_t j = 0; j < cbag_len(right); j++) {
            const cbag_val *l = cbag_at(left, (int64_t)i);
            const cbag_val *r = cbag_at(right, (int64_t)j);
            if (!cbag_eq(key0(l), key0(r))) continue;
            const cbag_val *t[2] = {l, r};
            cbag_append(c, out, cbag_new_tuplev(c, 2, t));
        }
    return out;
}

static const cbag_val *first_fn(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return key0(x);
}

/* join_bags(left, right) by field 0 (and by functions) against the nested
 * loop: exactly with one output partition, as multisets with more. */
static void check_join(const char *ljson, size_t lp, const char *rjson,
                       size_t rp) {
    const cbag_val *lv = J(ljson), *rv = J(rjson);
    cbag *l = cbag_from_sequence(cx, lv, lp, 0);
    cbag *r = cbag_from_sequence(cx, rv, rp, 0);
    char *want = repr(nested_join(lv, rv));
    char *want_sorted = sorted_repr(nested_join(lv, rv));
    const cbag_val *zero = J("0");
    char *got = bag_repr(cbag_join_bags(l, r, zero, zero, 1));
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    for (size_t np = 0; np <= 7; np += 7) {
        cbag *j = cbag_join_bags(l, r, zero, NULL, np);
        assert_int_equal(cbag_npartitions(j), np ? np : cbag_npartitions(l));
        got = bag_sorted(j);
        assert_non_null(got);
        assert_string_equal(got, want_sorted);
        free(got);
        got = bag_sorted(cbag_join_bags_named(l, r, NULL, zero, NULL, NULL,
                                              first_fn, np + 3, NULL));
        assert_non_null(got);
        assert_string_equal(got, want_sorted);
        free(got);
    }
    free(want);
    free(want_sorted);
}

static void test_join_vs_nested_loop(void **state) {
    (void)state;
    /* duplicates on both sides, keys on one side only, 1 == 1.0 == True */
    const char *left = "[[1, \"l0\"], [2, \"l1\"], [1.0, \"l2\"], [\"a\", "
                       "\"l3\"], [3, \"l4\"], [true, \"l5\"], [null, \"l6\"], "
                       "[[1, 2], \"l7\"], [\"a\", \"l8\"], [9, \"l9\"], "
                       "[2.5, \"l10\"]]";
    const char *right = "[[1, \"r0\"], [\"a\", \"r1\"], [1, \"r2\"], [4, "
                        "\"r3\"], [null, \"r4\"], [[1.0, 2], \"r5\"], [2, "
                        "\"r6\"], [1.0, \"r7\"], [5, \"r8\"], [2.5, \"r9\"]]";
    check_join(left, 3, right, 4);
    check_join(left, 1, right, 5);
    check_join(left, 11, right, 2);
    check_join("[]", 0, right, 3);
    check_join(left, 4, "[]", 0);
    check_join("[]", 2, "[]", 1);
    check_join("[[1, \"x\"]]", 1, "[[2, \"y\"]]", 1); /* no match */
}

static void test_join_bigger(void **state) {
    (void)state;
    /* 3000 x 2000 elements over 400 keys: every pair of equal keys */
    cbag_call *c = cbag_main(cx);
    cbag_val *lv = cbag_new_list(c, 3000), *rv = cbag_new_list(c, 2000);
    for (int64_t i = 0; i < 3000; i++) {
        const cbag_val *t[2] = {cbag_new_int(c, (i * 7919) % 400),
                                cbag_new_int(c, i)};
        cbag_append(c, lv, cbag_new_tuplev(c, 2, t));
    }
    for (int64_t i = 0; i < 2000; i++) {
        const cbag_val *t[2] = {cbag_new_float(c, (double)((i * 31) % 500)),
                                cbag_new_int(c, -i)};
        cbag_append(c, rv, cbag_new_tuplev(c, 2, t));
    }
    cbag *l = cbag_from_sequence(cx, lv, 13, 0);
    cbag *r = cbag_from_sequence(cx, rv, 6, 0);
    cbag_result *res =
        run(cbag_join_bags_fn(l, r, first_fn, first_fn, 9, NULL));
    assert_non_null(res);
    cbag_val *want = nested_join(lv, rv);
    assert_int_equal(cbag_len(cbag_result_value(res)), cbag_len(want));
    char *a = sorted_repr(cbag_result_value(res)), *b = sorted_repr(want);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cbag_result_free(res);
}

static void test_join_errors(void **state) {
    (void)state;
    cbag *l = jbag("[[1, 2]]", 1);
    assert_null(cbag_join_bags(l, l, NULL, NULL, 1)); /* no key */
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    assert_null(cbag_join_bags_named(l, l, NULL, J("0"), first_fn, NULL, NULL,
                                     1, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    cbag_ctx *other = cbag_open(NULL);
    assert_null(cbag_join_bags(l, cbag_range(other, 3, 1), J("0"), NULL, 1));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    cbag_close(other);
    assert_null(cbag_join_bags(NULL, l, J("0"), NULL, 1));
    /* a missing key on the right side */
    assert_null(
        cbag_compute(cbag_join_bags(l, jbag("[[1], []]", 2), J("0"), NULL, 2)));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    assert_non_null(strstr(cbag_errmsg(cx), "join_bags(0)"));
    cbag_clear_error(cx);
    /* a self-join */
    assert_bag(cbag_join_bags(jbag("[[1, \"a\"], [1, \"b\"]]", 2),
                              jbag("[[1, \"a\"], [1, \"b\"]]", 2), J("0"), NULL,
                              1),
               "[([1, 'a'], [1, 'a']), ([1, 'a'], [1, 'b']), ([1, 'b'], [1, "
               "'a']), ([1, 'b'], [1, 'b'])]");
    cbag *s = jbag("[[1, \"a\"], [2, \"b\"], [1, \"c\"]]", 2);
    assert_bag(cbag_join_bags(s, s, J("0"), NULL, 1),
               "[([1, 'a'], [1, 'a']), ([1, 'a'], [1, 'c']), ([2, 'b'], [2, "
               "'b']), ([1, 'c'], [1, 'a']), ([1, 'c'], [1, 'c'])]");
}

/* ------------------------------------------------------------------------ */
/* sort_by                                                                  */

/* Python's sorted(list, key=key0 or None, reverse=rev): an insertion sort,
 * stable in both directions. */
static cbag_val *naive_sort(const cbag_val *list, bool by0, bool rev) {
    size_t n = cbag_len(list);
    const cbag_val **v = malloc((n ? n : 1) * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        const cbag_val *x = cbag_at(list, (int64_t)i);
        size_t j = i;
        for (; j > 0; j--) {
            const cbag_val *a = by0 ? key0(v[j - 1]) : v[j - 1];
            const cbag_val *b = by0 ? key0(x) : x;
            if ((rev ? cbag_cmp(b, a) : cbag_cmp(a, b)) <= 0) break;
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
    cbag_call *c = cbag_main(cx);
    cbag_val *out = cbag_new_list(c, n);
    for (size_t i = 0; i < n; i++)
        cbag_append(c, out, v[i]);
    free(v);
    return out;
}

/* sort_by of json in np input partitions into nout outputs, both ways,
 * by field 0, by function and (by0 unset) by the element. */
static void check_sort(const char *json, size_t np, size_t nout, bool by0) {
    const cbag_val *v = J(json);
    cbag *b = cbag_from_sequence(cx, v, np, 0);
    for (int rev = 0; rev < 2; rev++) {
        char *want = repr(naive_sort(v, by0, rev));
        cbag *s =
            by0 ? cbag_sort_by(b, J("0"), nout, rev) : cbag_sort(b, nout, rev);
        assert_int_equal(cbag_npartitions(s),
                         nout ? nout : cbag_npartitions(b));
        assert_same(bag_repr(s), strdup(want));
        if (by0)
            assert_same(bag_repr(cbag_sort_by_fn(b, first_fn, nout, rev, NULL)),
                        strdup(want));
        free(want);
    }
}

static void test_sort_vs_sorted(void **state) {
    (void)state;
    /* duplicates whose tags show stability; numbers of every kind */
    const char *tagged =
        "[[3, \"a\"], [1, \"b\"], [2, \"c\"], [1.0, \"d\"], [true, \"e\"], "
        "[3, \"f\"], [0, \"g\"], [-1.5, \"h\"], [2, \"i\"], [false, \"j\"], "
        "[1e300, \"k\"], [-7, \"l\"], [3.0, \"m\"], [1, \"n\"]]";
    for (size_t np = 1; np <= 14; np += 3)
        for (size_t nout = 0; nout <= 20; nout += 4)
            check_sort(tagged, np, nout, true);
    /* mixed types: cbag's total order across them */
    const char *mixed =
        "[\"b\", 2, null, [1, 2], {\"a\": 1}, \"a\", [0], 1.5, [1], null, "
        "\"\", true, [[1], 2], [], {}, \"b\", -3, [1, 2]]";
    for (size_t nout = 1; nout <= 25; nout += 6)
        check_sort(mixed, 4, nout, false);
    /* more partitions than elements, and empty input */
    check_sort("[2, 1]", 2, 10, false);
    check_sort("[5]", 1, 3, false);
    check_sort("[]", 0, 4, false);
    check_sort("[]", 3, 0, false);
    check_sort("[1, 1, 1, 1, 1]", 5, 3, false); /* one key */
}

static int keep_mod(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(x) % 1000 < 200; /* leaves many partitions empty */
}

static void test_sort_bigger(void **state) {
    (void)state;
    /* 50000 elements, many equal keys, empty input partitions */
    cbag *b = cbag_filter(cbag_range(cx, 50000, 40), keep_mod, NULL);
    cbag *k = cbag_map(b, scramble, NULL);
    cbag_result *all = run(k);
    assert_non_null(all);
    char *want = repr(naive_sort(cbag_result_value(all), false, false));
    cbag_result_free(all);
    assert_same(bag_repr(cbag_sort(k, 7, false)), strdup(want));
    free(want);
    /* the sample spreads distinct keys over every partition */
    cbag_result *r = run(parts(cbag_sort(cbag_range(cx, 50000, 5), 8, true)));
    assert_non_null(r);
    const cbag_val *p = cbag_result_value(r);
    assert_int_equal(cbag_len(p), 8);
    int64_t prev = 50000;
    for (int i = 0; i < 8; i++) {
        const cbag_val *q = cbag_at(p, i);
        assert_in_range(cbag_len(q), 4000, 9000);
        assert_true(cbag_int_value(cbag_at(q, 0)) < prev);
        prev = cbag_int_value(cbag_at(q, -1));
    }
    assert_int_equal(prev, 0);
    cbag_result_free(r);
}

static void test_sort_errors(void **state) {
    (void)state;
    cbag *b = cbag_range(cx, 100, 4);
    assert_null(cbag_compute(cbag_sort_by_fn(b, fail_on_7, 3, false, NULL)));
    assert_int_equal(cbag_errcode(cx), CBAG_USER);
    assert_non_null(strstr(cbag_errmsg(cx), "sort_by(fail_on_7) failed"));
    cbag_clear_error(cx);
    assert_null(cbag_compute(cbag_sort_by(jbag("[[1], []]", 2), J("0"), 2, 0)));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    cbag_clear_error(cx);
    assert_null(cbag_sort_by_named(b, "f", J("0"), ident, 2, false, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    assert_bag(cbag_sort(b, 2, true),
               "[99, 98, 97, 96, 95, 94, 93, 92, 91, 90, 89, 88, 87, 86, 85, "
               "84, 83, 82, 81, 80, 79, 78, 77, 76, 75, 74, 73, 72, 71, 70, "
               "69, 68, 67, 66, 65, 64, 63, 62, 61, 60, 59, 58, 57, 56, 55, "
               "54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, "
               "39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, "
               "24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, "
               "9, 8, 7, 6, 5, 4, 3, 2, 1, 0]");
    /* downstream of other shuffles, and feeding them */
    cbag *r = cbag_reduce_by_key_fn(b, mod37, add, 4, NULL);
    assert_bag(cbag_pluckv(cbag_sort_by(r, J("0"), 3, false), J("0"), NULL),
               "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, "
               "17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, "
               "32, 33, 34, 35, 36]");
}

/* ------------------------------------------------------------------------ */
/* The same output whatever the worker count                                */

static char *pipeline(int workers, const char *sched) {
    cbag_options o = {0};
    o.workers = workers;
    o.scheduler = sched;
    cbag_ctx *c = cbag_open(&o);
    cbag *b = cbag_range(c, 20000, 11);
    cbag *k = cbag_map(b, scramble, NULL);
    cbag *red = cbag_reduce_by_key_fn(b, scramble, add, 6, NULL);
    cbag *bags[3] = {
        parts(red),
        parts(cbag_join_bags_fn(red, cbag_filter(b, keep_mod, NULL), first_fn,
                                scramble, 5, NULL)),
        parts(cbag_sort(k, 4, true)),
    };
    cbag *all = cbag_concat(c, 3, bags);
    cbag_result *r = cbag_compute(all);
    char *s = r ? cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL) : NULL;
    if (!r) fprintf(stderr, "%s\n", cbag_errmsg(c));
    cbag_result_free(r);
    cbag_close(c);
    return s;
}

static void test_workers(void **state) {
    (void)state;
    char *one = pipeline(1, "sync");
    assert_non_null(one);
    assert_true(strlen(one) > 100000);
    assert_same(pipeline(1, NULL), strdup(one));
    assert_same(pipeline(3, NULL), strdup(one));
    assert_same(pipeline(8, NULL), one);
}

/* ------------------------------------------------------------------------ */
/* Allocation failures, as test_oom.c: the n-th allocation fails, for every  */
/* n; each run gives the right answer or a clean error, leaking nothing     */

static int oom_session(int workers, char **out) {
    cbag_options o = {0};
    o.workers = workers;
    cbag_ctx *c = cbag_open(&o);
    if (!c) return 0;
    cbag *b = cbag_range(c, 300, 5);
    cbag *red = cbag_reduce_by_key_fn(b, mod37, add, 3, NULL);
    cbag *bags[3] = {red, cbag_join_bags_fn(red, b, first_fn, mod37, 4, NULL),
                     cbag_sort(cbag_map(b, scramble, NULL), 4, true)};
    cbag_result *r = cbag_compute(cbag_concat(c, 3, bags));
    int ok = 0;
    if (r) {
        *out = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL);
        ok = *out != NULL;
    } else {
        assert_int_not_equal(cbag_errcode(c), CBAG_OK);
        assert_true(strlen(cbag_errmsg(c)) > 0);
    }
    cbag_result_free(r);
    cbag_close(c);
    return ok;
}

static void oom_all(int workers) {
    char *want = NULL, *got = NULL;
    cbag__mem_fail_after(0, 0);
    assert_true(oom_session(workers, &want));
    int succeeded = 0;
    long n = 1;
    for (; n < 50000 && !succeeded; n++) {
        cbag__mem_fail_after(n, 1);
        succeeded = oom_session(workers, &got);
        cbag__mem_fail_after(0, 0);
    }
    assert_true(succeeded);
    assert_true(n > 100); /* the shuffles' allocations were all tried */
    if (getenv("OOM_VERBOSE")) fprintf(stderr, "%ld allocation points\n", n);
    assert_string_equal(got, want);
    free(got);
    free(want);
}

static void test_oom(void **state) {
    (void)state;
    oom_all(1);
    oom_all(2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IOCHECK_TEST(test_reduce_vs_foldby),
        IOCHECK_TEST(test_reduce_fields),
        IOCHECK_TEST(test_reduce_errors),
        IOCHECK_TEST(test_join_vs_nested_loop),
        IOCHECK_TEST(test_join_bigger),
        IOCHECK_TEST(test_join_errors),
        IOCHECK_TEST(test_sort_vs_sorted),
        IOCHECK_TEST(test_sort_bigger),
        IOCHECK_TEST(test_sort_errors),
        IOCHECK_TEST(test_workers),
        IOCHECK_TEST(test_oom),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
