/* test_engine.c: bags, element-wise operations, reductions, take, errors,
 * and that results do not depend on the scheduler or worker count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbag.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static char *repr_of(const cbag_val *v) {
    return cbag_format(v, CBAG_FMT_REPR, NULL);
}

static char last_warning[1024];
static void on_warning(const char *msg, void *ud) {
    (void)ud;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static cbag_ctx *open_ctx(const char *sched, int workers) {
    cbag_options o = {0};
    o.scheduler = sched;
    o.workers = workers;
    o.on_warning = on_warning;
    cbag_ctx *cx = cbag_open(&o);
    assert_non_null(cx);
    assert_int_equal(cbag_errcode(cx), CBAG_OK);
    return cx;
}

/* repr of a computed bag, malloc'd. */
static char *bag_repr(cbag *b) {
    assert_non_null(b);
    cbag_result *r = cbag_compute(b);
    if (!r) {
        fprintf(stderr, "compute failed: %s\n", cbag_errmsg(cbag_context(b)));
        fail();
    }
    char *s = repr_of(cbag_result_value(r));
    cbag_result_free(r);
    return s;
}

static char *item_repr(cbag_item *it) {
    assert_non_null(it);
    cbag_result *r = cbag_compute_item(it);
    if (!r) return NULL;
    char *s = repr_of(cbag_result_value(r));
    cbag_result_free(r);
    return s;
}

#define assert_bag(b, expected)                                            \
    do {                                                                   \
        char *s_ = bag_repr(b);                                            \
        assert_string_equal(s_, expected);                                 \
        free(s_);                                                          \
    } while (0)

#define assert_item(it, expected)                                          \
    do {                                                                   \
        char *s_ = item_repr(it);                                          \
        if (!s_) fprintf(stderr, "item failed: %s\n", cbag_errmsg(cx));    \
        assert_non_null(s_);                                               \
        assert_string_equal(s_, expected);                                 \
        free(s_);                                                          \
    } while (0)

/* [0, 1, ..., n-1] built on the main call. */
static cbag_val *ints(cbag_ctx *cx, int n) {
    cbag_call *c = cbag_main(cx);
    cbag_val *l = cbag_new_list(c, (size_t)n);
    for (int i = 0; i < n; i++) cbag_append(c, l, cbag_new_int(c, i));
    return l;
}

static cbag *seq(cbag_ctx *cx, int n, size_t nparts) {
    return cbag_from_sequence(cx, ints(cx, n), nparts, 0);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */

static const cbag_val *square(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    int64_t i = cbag_int_value(x);
    return cbag_new_int(c, i * i);
}

static int is_even(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(x) % 2 == 0;
}

static const cbag_val *mod2(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 2);
}

static const cbag_val *fail_on_7(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (cbag_int_value(x) == 7) return cbag_fail(c, "ValueError: seven");
    return x;
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

static const cbag_val *maxv(cbag_call *c, const cbag_val *a, const cbag_val *b,
                            void *ud) {
    (void)c, (void)ud;
    return cbag_cmp(a, b) >= 0 ? a : b;
}

static const cbag_val *pair_sum(cbag_call *c, size_t argc,
                                const cbag_val *const *argv, void *ud) {
    (void)ud;
    int64_t s = 0;
    for (size_t i = 0; i < argc; i++) s += cbag_int_value(argv[i]);
    return cbag_new_int(c, s);
}

static const cbag_val *part_len(cbag_call *c, const cbag_val *part, void *ud) {
    (void)ud;
    cbag_val *l = cbag_new_list(c, 1);
    cbag_append(c, l, cbag_new_int(c, (int64_t)cbag_len(part)));
    return l;
}

/* reduction(sum, sum) in C */
static const cbag_val *list_sum(cbag_call *c, const cbag_val *l, void *ud) {
    (void)ud;
    int64_t s = 0;
    for (size_t i = 0; i < cbag_len(l); i++)
        s += cbag_int_value(cbag_at(l, (int64_t)i));
    return cbag_new_int(c, s);
}

/* A string per element, so that batches fill up and reset. */
static const cbag_val *to_str(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_strf(c, "item-%08lld", (long long)cbag_int_value(x));
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void test_tutorial_in_memory(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    cbag_val *l = cbag_new_list(cbag_main(cx), 10);
    for (int i = 1; i <= 10; i++)
        cbag_append(cbag_main(cx), l, cbag_new_int(cbag_main(cx), i));
    cbag *b = cbag_from_sequence(cx, l, 2, 0);
    assert_int_equal(cbag_npartitions(b), 2);
    cbag_result *r = cbag_take(b, 3, 1);
    assert_non_null(r);
    char *s = repr_of(cbag_result_value(r));
    assert_string_equal(s, "(1, 2, 3)");
    free(s);
    cbag_result_free(r);

    b = cbag_from_sequence(cx, l, 0, 0);
    assert_int_equal(cbag_npartitions(b), 10);
    cbag *c = cbag_map(cbag_filter(b, is_even, NULL), square, NULL);
    assert_bag(c, "[4, 16, 36, 64, 100]");
    cbag_close(cx);
}

static void test_from_sequence_partitions(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    assert_int_equal(cbag_npartitions(seq(cx, 10, 0)), 10);
    assert_int_equal(cbag_npartitions(seq(cx, 99, 0)), 99);
    assert_int_equal(cbag_npartitions(seq(cx, 250, 0)), 125); /* 250/100=2 */
    assert_int_equal(cbag_npartitions(seq(cx, 1000, 0)), 100);
    assert_int_equal(cbag_npartitions(seq(cx, 10, 3)), 3); /* ceil: 4,4,2 */
    assert_int_equal(cbag_npartitions(seq(cx, 10, 4)), 4); /* 3,3,3,1 */
    assert_int_equal(cbag_npartitions(seq(cx, 3, 10)), 3);
    assert_int_equal(cbag_npartitions(seq(cx, 0, 0)), 1);
    assert_int_equal(cbag_npartitions(seq(cx, 0, 5)), 1);
    cbag *b = cbag_from_sequence(cx, ints(cx, 10), 0, 4);
    assert_int_equal(cbag_npartitions(b), 3);
    cbag *lens = cbag_map_partitions(b, part_len, NULL);
    assert_bag(lens, "[4, 4, 2]");
    assert_bag(cbag_map_partitions(seq(cx, 10, 4), part_len, NULL),
               "[3, 3, 3, 1]");
    assert_bag(seq(cx, 0, 3), "[]");
    /* not a sequence */
    assert_null(cbag_from_sequence(cx, cbag_new_int(cbag_main(cx), 1), 1, 0));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    cbag_close(cx);
}

static void test_range(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    cbag *b = cbag_range(cx, 10, 3);
    assert_int_equal(cbag_npartitions(b), 3);
    assert_bag(cbag_map_partitions(b, part_len, NULL), "[3, 3, 4]");
    assert_bag(b, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]");
    assert_bag(cbag_range(cx, 2, 4), "[0, 1]");
    assert_bag(cbag_range(cx, 0, 1), "[]");
    assert_null(cbag_range(cx, 5, 0));
    cbag_close(cx);
}

static void test_elementwise(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    cbag_call *m = cbag_main(cx);
    assert_bag(cbag_remove(seq(cx, 6, 2), is_even, NULL), "[1, 3, 5]");

    /* records with a missing field */
    cbag_val *recs = cbag_new_list(m, 3);
    for (int i = 0; i < 3; i++) {
        cbag_val *d = cbag_new_dict(m, 2);
        cbag_set(m, d, "id", cbag_new_int(m, i));
        if (i != 1) cbag_set(m, d, "name", cbag_new_strf(m, "n%d", i));
        cbag_val *t = cbag_new_list(m, 2);
        for (int j = 0; j < i; j++) cbag_append(m, t, cbag_new_int(m, j));
        cbag_set(m, d, "tx", t);
        cbag_append(m, recs, d);
    }
    cbag *b = cbag_from_sequence(cx, recs, 2, 0);
    assert_bag(cbag_pluck(b, "id"), "[0, 1, 2]");
    assert_bag(cbag_pluckv(b, cbag_new_strz(m, "name"), cbag_none()),
               "['n0', None, 'n2']");
    assert_bag(cbag_flatten(cbag_pluck(b, "tx")), "[0, 0, 1]");
    cbag_val *keys = cbag_new_list(m, 2);
    cbag_append(m, keys, cbag_new_strz(m, "id"));
    cbag_append(m, keys, cbag_new_strz(m, "tx"));
    assert_bag(cbag_pluckv(b, keys, NULL), "[(0, []), (1, [0]), (2, [0, 1])]");

    /* a missing key is a KeyError naming the operation and partition */
    assert_null(cbag_compute(cbag_pluck(b, "name")));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    const char *msg = cbag_errmsg(cx);
    assert_non_null(strstr(msg, "pluck('name')"));
    assert_non_null(strstr(msg, "partition 0"));
    assert_non_null(strstr(msg, "KeyError: 'name'"));
    cbag_clear_error(cx);

    /* indexes, negative indexes, out of range */
    cbag_val *pairs = cbag_new_list(m, 3);
    for (int i = 0; i < 3; i++) {
        cbag_val *t = cbag_new_tuple(m, 2);
        cbag_append(m, t, cbag_new_int(m, i));
        cbag_append(m, t, cbag_new_int(m, 10 * i));
        cbag_append(m, pairs, t);
    }
    cbag *p = cbag_from_sequence(cx, pairs, 2, 0);
    assert_bag(cbag_pluckv(p, cbag_new_int(m, -1), NULL), "[0, 10, 20]");
    assert_bag(cbag_starmap(p, pair_sum, NULL), "[0, 11, 22]");
    assert_null(cbag_compute(cbag_pluckv(p, cbag_new_int(m, 5), NULL)));
    assert_non_null(strstr(cbag_errmsg(cx), "IndexError"));
    cbag_clear_error(cx);
    assert_bag(cbag_pluckv(p, cbag_new_int(m, 5), cbag_new_int(m, -1)),
               "[-1, -1, -1]");

    /* flatten of strings and dicts, as Python iterates them */
    cbag_val *strs = cbag_new_list(m, 2);
    cbag_append(m, strs, cbag_new_strz(m, "ab"));
    cbag_append(m, strs, cbag_new_strz(m, "\xc3\xa9"));
    assert_bag(cbag_flatten(cbag_from_sequence(cx, strs, 1, 0)),
               "['a', 'b', '\xc3\xa9']");
    assert_bag(cbag_flatten(cbag_from_sequence(cx, recs, 3, 0)),
               "['id', 'name', 'tx', 'id', 'tx', 'id', 'name', 'tx']");
    assert_null(cbag_compute(cbag_flatten(seq(cx, 3, 1))));
    assert_non_null(strstr(cbag_errmsg(cx), "'int' object is not iterable"));
    cbag_clear_error(cx);
    cbag_close(cx);
}

static void test_concat_zip(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    cbag *bags[3] = {seq(cx, 3, 2), seq(cx, 2, 1), cbag_range(cx, 4, 2)};
    cbag *c = cbag_concat(cx, 3, bags);
    assert_int_equal(cbag_npartitions(c), 5);
    assert_bag(c, "[0, 1, 2, 0, 1, 0, 1, 2, 3]");
    cbag *a = seq(cx, 4, 2);
    cbag *z[2] = {a, cbag_map(a, square, NULL)};
    assert_bag(cbag_zip(cx, 2, z), "[(0, 0), (1, 1), (2, 4), (3, 9)]");
    cbag *bad[2] = {seq(cx, 4, 2), seq(cx, 4, 4)};
    assert_null(cbag_zip(cx, 2, bad));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_close(cx);
}

static void test_take(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    cbag *b = seq(cx, 10, 5); /* partitions of 2 */
    last_warning[0] = '\0';
    cbag_result *r = cbag_take(b, 3, 1);
    char *s = repr_of(cbag_result_value(r));
    assert_string_equal(s, "(0, 1)");
    free(s);
    cbag_result_free(r);
    assert_non_null(strstr(last_warning, "Insufficient elements for `take`. "
                                         "3 elements requested, only 2"));
    last_warning[0] = '\0';
    r = cbag_take(b, 3, 2);
    s = repr_of(cbag_result_value(r));
    assert_string_equal(s, "(0, 1, 2)");
    assert_string_equal(last_warning, "");
    free(s);
    cbag_result_free(r);
    r = cbag_take(b, 100, -1);
    assert_int_equal(cbag_len(cbag_result_value(r)), 10);
    cbag_result_free(r);
    assert_null(cbag_take(b, 1, 6));
    assert_non_null(strstr(cbag_errmsg(cx), "only 5 partitions"));
    cbag_clear_error(cx);
    r = cbag_take(cbag_from_sequence(cx, ints(cx, 1), 1, 0), 1, 1);
    s = repr_of(cbag_result_value(r));
    assert_string_equal(s, "(0,)");
    free(s);
    cbag_result_free(r);
    cbag_close(cx);
}

static void test_reductions(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 0);
    cbag_call *m = cbag_main(cx);
    cbag *b = seq(cx, 10, 3);
    assert_item(cbag_count(b), "10");
    assert_item(cbag_sum(b), "45");
    assert_item(cbag_mean(b), "4.5");
    assert_item(cbag_min(b), "0");
    assert_item(cbag_max(b), "9");
    assert_item(cbag_var(b, 0), "8.25");
    assert_item(cbag_var(b, 1), "9.166666666666666");
    assert_item(cbag_std(b, 0), "2.8722813232690143");
    assert_item(cbag_any(b), "True");
    assert_item(cbag_all(b), "False");
    assert_item(cbag_fold(b, add, NULL, NULL, NULL), "45");
    assert_item(cbag_fold(b, add, add, cbag_new_int(m, 0), NULL), "45");
    /* initial starts each partition's reduce, not the combine (as dask) */
    assert_item(cbag_fold(b, add, add, cbag_new_int(m, 1), NULL), "48");
    assert_item(cbag_fold(b, maxv, NULL, NULL, NULL), "9");
    assert_item(cbag_reduction(seq(cx, 100, 20), list_sum, list_sum, 3, NULL),
                "4950");

    /* empty bags: dask's results, or clear errors where dask fails */
    cbag *e = seq(cx, 0, 0);
    assert_item(cbag_count(e), "0");
    assert_item(cbag_sum(e), "0");
    assert_item(cbag_any(e), "False");
    assert_item(cbag_all(e), "True");
    assert_null(cbag_compute_item(cbag_mean(e)));
    assert_int_equal(cbag_errcode(cx), CBAG_EMPTY);
    cbag_clear_error(cx);
    assert_null(cbag_compute_item(cbag_max(e)));
    assert_int_equal(cbag_errcode(cx), CBAG_EMPTY);
    cbag_clear_error(cx);
    assert_null(cbag_compute_item(cbag_fold(e, add, NULL, NULL, NULL)));
    assert_int_equal(cbag_errcode(cx), CBAG_EMPTY);
    cbag_clear_error(cx);
    /* dask: reduce(add, [], 7) for the one partition, then reduce(add, [7]) */
    assert_item(cbag_fold(e, add, NULL, cbag_new_int(m, 7), NULL), "7");

    /* empty partitions in the middle are skipped */
    cbag *parts[3] = {seq(cx, 3, 1), seq(cx, 0, 0), seq(cx, 2, 1)};
    cbag *holes = cbag_concat(cx, 3, parts);
    assert_item(cbag_count(holes), "5");
    assert_item(cbag_mean(holes), "0.8");
    assert_item(cbag_min(holes), "0");
    assert_item(cbag_fold(holes, add, NULL, NULL, NULL), "4");

    /* floats, bools and mixed sums follow Python */
    cbag_val *l = cbag_new_list(m, 4);
    cbag_append(m, l, cbag_new_float(m, 0.1));
    cbag_append(m, l, cbag_new_float(m, 0.2));
    cbag_append(m, l, cbag_bool(true));
    cbag_append(m, l, cbag_new_int(m, 3));
    assert_item(cbag_sum(cbag_from_sequence(cx, l, 1, 0)),
                "4.3");
    assert_item(cbag_max(cbag_from_sequence(cx, l, 2, 0)), "3");

    /* strings compare by code point */
    cbag_val *names = cbag_new_list(m, 3);
    cbag_append(m, names, cbag_new_strz(m, "Bob"));
    cbag_append(m, names, cbag_new_strz(m, "Alice"));
    cbag_append(m, names, cbag_new_strz(m, "Zelda"));
    assert_item(cbag_min(cbag_from_sequence(cx, names, 2, 0)), "'Alice'");
    /* summing strings is a TypeError */
    assert_null(cbag_compute_item(cbag_sum(cbag_from_sequence(cx, names, 2, 0))));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    cbag_clear_error(cx);

    /* integer overflow is an error, never a wrap */
    cbag_val *big = cbag_new_list(m, 2);
    cbag_append(m, big, cbag_new_int(m, INT64_MAX));
    cbag_append(m, big, cbag_new_int(m, 1));
    assert_null(cbag_compute_item(cbag_sum(cbag_from_sequence(cx, big, 1, 0))));
    assert_int_equal(cbag_errcode(cx), CBAG_OVERFLOW);
    cbag_clear_error(cx);
    cbag_close(cx);
}

static void test_errors(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 2);
    cbag *b = cbag_map(seq(cx, 20, 4), fail_on_7, NULL);
    assert_null(cbag_compute(b));
    assert_int_equal(cbag_errcode(cx), CBAG_USER);
    const char *msg = cbag_errmsg(cx);
    assert_non_null(strstr(msg, "map(fail_on_7) failed in partition 1"));
    assert_non_null(strstr(msg, "element 2"));
    assert_non_null(strstr(msg, "ValueError: seven"));
    cbag_clear_error(cx);
    /* the context is usable afterwards */
    assert_item(cbag_count(seq(cx, 5, 2)), "5");
    /* NULL propagates through a chain: one check at the end */
    assert_null(cbag_map(cbag_filter(NULL, is_even, NULL), square, NULL));
    assert_null(cbag_count(NULL));
    /* bad options */
    cbag_options o = {0};
    o.scheduler = "nope";
    cbag_ctx *bad = cbag_open(&o);
    assert_non_null(bad);
    assert_int_equal(cbag_errcode(bad), CBAG_INVALID);
    assert_non_null(strstr(cbag_errmsg(bad), "unknown scheduler 'nope'"));
    cbag_close(bad);
    cbag_close(cx);
}

/* The same results under every scheduler and worker count, on enough data
 * that batches reset many times. */
static void test_determinism(void **state) {
    (void)state;
    const char *sched[] = {"sync", "threads", "threads", "threads", "threads"};
    int workers[] = {1, 1, 2, 3, 8};
    char *expected[4] = {0};
    for (int k = 0; k < 5; k++) {
        cbag_ctx *cx = open_ctx(sched[k], workers[k]);
        cbag *b = cbag_range(cx, 200000, 7);
        cbag *s = cbag_map(b, to_str, NULL);
        char *got[4];
        got[0] = item_repr(cbag_count(cbag_filter(b, is_even, NULL)));
        got[1] = item_repr(cbag_max(s));
        got[2] = item_repr(cbag_fold(cbag_map(b, mod2, NULL), add, NULL, NULL,
                                     NULL));
        cbag_result *r = cbag_take(cbag_remove(s, NULL, NULL), 1, 1);
        assert_null(r); /* NULL predicate is an error */
        cbag_clear_error(cx);
        cbag_result *all = cbag_compute(s);
        assert_non_null(all);
        assert_int_equal(cbag_len(cbag_result_value(all)), 200000);
        got[3] = repr_of(cbag_at(cbag_result_value(all), 123456));
        cbag_result_free(all);
        for (int i = 0; i < 4; i++) {
            assert_non_null(got[i]);
            if (k == 0)
                expected[i] = got[i];
            else {
                assert_string_equal(got[i], expected[i]);
                free(got[i]);
            }
        }
        cbag_close(cx);
    }
    assert_string_equal(expected[0], "100000");
    assert_string_equal(expected[1], "'item-00199999'");
    assert_string_equal(expected[2], "100000");
    assert_string_equal(expected[3], "'item-00123456'");
    for (int i = 0; i < 4; i++) free(expected[i]);
}

static int count_until(const cbag_val *x, void *ud) {
    int64_t *n = ud;
    (*n)++;
    return cbag_int_value(x) >= 99 ? 1 : 0;
}

static void test_foreach_and_visualize(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 2);
    int64_t n = 0;
    assert_int_equal(cbag_foreach(cbag_range(cx, 1000, 10), count_until, &n),
                     CBAG_OK);
    assert_int_equal(n, 100);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cbag *b = cbag_map(cbag_filter(seq(cx, 4, 2), is_even, NULL), square, NULL);
    assert_int_equal(cbag_visualize_item(cbag_sum(b), f), CBAG_OK);
    fclose(f);
    assert_non_null(strstr(buf, "digraph"));
    assert_non_null(strstr(buf, "map(square) #1"));
    assert_non_null(strstr(buf, "filter(is_even) #0"));
    assert_non_null(strstr(buf, "sum-aggregate"));
    free(buf);
    cbag_close(cx);
}

static cbag_progress last_progress;
static int progress_calls;
static void on_progress(const cbag_progress *p, void *ud) {
    (void)ud;
    last_progress = *p;
    progress_calls++;
}

static const cbag_val *slow(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    volatile double s = 0;
    for (int i = 0; i < 200; i++) s += i;
    return cbag_new_float(c, s + (double)cbag_int_value(x));
}

static void test_progress(void **state) {
    (void)state;
    cbag_options o = {0};
    o.workers = 2;
    o.on_progress = on_progress;
    o.progress_interval_ms = 1;
    cbag_ctx *cx = cbag_open(&o);
    progress_calls = 0;
    cbag_result *r = cbag_compute_item(
        cbag_count(cbag_map(cbag_range(cx, 200000, 16), slow, NULL)));
    assert_non_null(r);
    cbag_result_free(r);
    assert_true(progress_calls >= 1);
    assert_true(last_progress.done);
    assert_int_equal(last_progress.parts_done, 16);
    assert_int_equal(last_progress.parts_total, 16);
    assert_true(last_progress.elapsed >= 0);
    cbag_close(cx);
}

static cbag_ctx *to_interrupt;
static int interrupting_map_calls;
static const cbag_val *interrupting(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (__atomic_add_fetch(&interrupting_map_calls, 1, __ATOMIC_SEQ_CST) == 5000)
        cbag_interrupt(to_interrupt);
    return cbag_new_int(c, cbag_int_value(x));
}

static void test_interrupt(void **state) {
    (void)state;
    cbag_ctx *cx = open_ctx(NULL, 2);
    to_interrupt = cx;
    interrupting_map_calls = 0;
    cbag *b = cbag_map(cbag_range(cx, 10000000, 4), interrupting, NULL);
    assert_null(cbag_compute_item(cbag_count(b)));
    assert_int_equal(cbag_errcode(cx), CBAG_INTERRUPTED);
    assert_true(interrupting_map_calls < 1000000); /* stopped early */
    assert_null(cbag_compute_item(cbag_count(seq(cx, 3, 1))));
    cbag_clear_error(cx); /* clears the interrupt too */
    char *s = item_repr(cbag_count(seq(cx, 3, 1)));
    assert_string_equal(s, "3");
    free(s);
    cbag_close(cx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tutorial_in_memory),
        cmocka_unit_test(test_from_sequence_partitions),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_concat_zip),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_foreach_and_visualize),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
