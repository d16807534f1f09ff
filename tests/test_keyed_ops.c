/* test_keyed_ops.c: frequencies, distinct, topk, accumulate, random_sample,
 * repartition, product, join, and the groupby shuffle spilling to disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbag.h"
#include "iocheck.h"

static cbag_ctx *cx;

static int setup(void **state) {
    (void)state;
    if (iocheck_init("keyed-ops")) return -1;
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

static char *bag_repr(cbag *b) {
    if (!b) {
        fprintf(stderr, "no bag: %s\n", cbag_errmsg(cx));
        return NULL;
    }
    cbag_result *r = cbag_compute(b);
    if (!r) {
        fprintf(stderr, "compute failed: %s\n", cbag_errmsg(cx));
        return NULL;
    }
    char *s = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL);
    cbag_result_free(r);
    return s;
}

#define assert_bag(b, expected)                                                \
    do {                                                                       \
        char *s_ = bag_repr(b);                                                \
        assert_non_null(s_);                                                   \
        assert_string_equal(s_, expected);                                     \
        free(s_);                                                              \
    } while (0)

/* A bag from a JSON text. */
static cbag *jbag(const char *json, size_t np) {
    const cbag_val *v = cbag_json_parse(cbag_main(cx), json, strlen(json));
    assert_non_null(v);
    return cbag_from_sequence(cx, v, np, 0);
}

static const cbag_val *J(const char *json) {
    return cbag_json_parse(cbag_main(cx), json, strlen(json));
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    if (cbag_typeof(a) != CBAG_INT || cbag_typeof(b) != CBAG_INT)
        return cbag_failc(c, CBAG_TYPE, "TypeError: unsupported operands");
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

static const cbag_val *neg(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, -cbag_int_value(x));
}

static const cbag_val *mod3(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 3);
}

static const cbag_val *part_len(cbag_call *c, const cbag_val *p, void *ud) {
    (void)ud;
    cbag_val *l = cbag_new_list(c, 1);
    cbag_append(c, l, cbag_new_int(c, (int64_t)cbag_len(p)));
    return l;
}

static cbag *sizes(cbag *b) { return cbag_map_partitions(b, part_len, NULL); }

/* ------------------------------------------------------------------------ */

static void test_frequencies(void **state) {
    (void)state;
    cbag *b = jbag("[\"a\", \"b\", \"a\", 1, 1.0, true, null, [1, 2], \"b\", "
                   "\"a\", null]",
                   4);
    assert_bag(cbag_frequencies(b, false),
               "[('a', 3), ('b', 2), (1, 3), (None, 2), ([1, 2], 1)]");
    assert_bag(cbag_frequencies(b, true),
               "[('a', 3), (1, 3), ('b', 2), (None, 2), ([1, 2], 1)]");
    assert_bag(cbag_frequencies(jbag("[]", 0), true), "[]");
    assert_int_equal(cbag_npartitions(cbag_frequencies(b, true)), 1);
}

static void test_distinct(void **state) {
    (void)state;
    cbag *b = jbag("[3, 1, 3.0, \"x\", 1, [2], \"x\", [2.0], null, null]", 3);
    assert_bag(cbag_distinct(b), "[3, 1, 'x', [2], None]");
    cbag *r = jbag("[{\"n\": \"a\", \"i\": 1}, {\"n\": \"b\", \"i\": 2}, "
                   "{\"n\": \"a\", \"i\": 3}]",
                   2);
    assert_bag(cbag_distinct_named(r, NULL, J("\"n\""), NULL, NULL),
               "[{'n': 'a', 'i': 1}, {'n': 'b', 'i': 2}]");
    assert_bag(cbag_distinct_fn(cbag_range(cx, 100, 7), mod3, NULL),
               "[0, 1, 2]");
    assert_bag(cbag_distinct(jbag("[]", 0)), "[]");
    /* a missing key is a KeyError naming the operation */
    assert_null(
        cbag_compute(cbag_distinct_named(r, NULL, J("\"z\""), NULL, NULL)));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    assert_non_null(strstr(cbag_errmsg(cx), "distinct"));
    cbag_clear_error(cx);
}

static void test_topk(void **state) {
    (void)state;
    cbag *b = jbag("[10, 3, 5, 7, 11, 4]", 3);
    assert_bag(cbag_topk(b, 2), "[11, 10]");
    assert_bag(cbag_topk_fn(b, 2, neg, NULL), "[3, 4]");
    assert_bag(cbag_topk(b, 10), "[11, 10, 7, 5, 4, 3]");
    assert_bag(cbag_topk(b, 0), "[]");
    assert_bag(cbag_topk(jbag("[]", 0), 3), "[]");
    /* equal keys keep input order, across partitions */
    cbag *p = jbag("[[1, \"a\"], [2, \"b\"], [1, \"c\"], [2, \"d\"], "
                   "[2, \"e\"]]",
                   3);
    assert_bag(cbag_topk_named(p, NULL, 4, J("0"), NULL, NULL),
               "[[2, 'e'], [2, 'd'], [2, 'b'], [1, 'c']]"); /* key 0: none */
    cbag_val *one = cbag_new_int(cbag_main(cx), 1);
    assert_bag(cbag_topk_named(cbag_pluckv(p, J("[1, 0]"), NULL), NULL, 3, one,
                               NULL, NULL),
               "[('b', 2), ('d', 2), ('e', 2)]");
    /* many elements: pruning keeps the right ones */
    assert_bag(cbag_topk(cbag_range(cx, 100000, 9), 3),
               "[99999, 99998, 99997]");
}

static void test_accumulate(void **state) {
    (void)state;
    cbag *b = jbag("[1, 2, 3, 4, 5]", 2);
    assert_bag(cbag_accumulate(b, add, NULL, NULL), "[1, 3, 6, 10, 15]");
    assert_bag(cbag_accumulate(b, add, J("-1"), NULL), "[-1, 0, 2, 5, 9, 14]");
    assert_bag(sizes(cbag_accumulate(b, add, J("-1"), NULL)), "[4, 2]");
    assert_bag(cbag_accumulate(jbag("[]", 0), add, J("5"), NULL), "[5]");
    assert_bag(cbag_accumulate(jbag("[]", 0), add, NULL, NULL), "[]");
    cbag *r = cbag_range(cx, 10000, 13);
    cbag_result *res = cbag_compute(cbag_accumulate(r, add, NULL, NULL));
    assert_non_null(res);
    const cbag_val *v = cbag_result_value(res);
    assert_int_equal(cbag_len(v), 10000);
    assert_int_equal(cbag_int_value(cbag_at(v, -1)), 49995000);
    assert_int_equal(cbag_int_value(cbag_at(v, 5000)), 5000 * 5001 / 2);
    cbag_result_free(res);
}

static int64_t sample_count(int workers, const char *sched, uint64_t seed,
                            char **repr) {
    cbag_options o = {0};
    o.workers = workers;
    o.scheduler = sched;
    cbag_ctx *c = cbag_open(&o);
    cbag *b = cbag_random_sample(cbag_range(c, 5000, 7), 0.3, seed);
    cbag_result *r = cbag_compute(b);
    assert_non_null(r);
    int64_t n = (int64_t)cbag_len(cbag_result_value(r));
    *repr = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL);
    cbag_result_free(r);
    cbag_close(c);
    return n;
}

static void test_random_sample(void **state) {
    (void)state;
    char *a, *b, *c, *d;
    int64_t n = sample_count(1, "sync", 42, &a);
    sample_count(4, NULL, 42, &b);
    sample_count(3, NULL, 42, &c);
    sample_count(4, NULL, 43, &d);
    assert_string_equal(a, b);
    assert_string_equal(a, c);
    assert_string_not_equal(a, d);
    assert_in_range(n, 1300, 1700); /* about 0.3 * 5000 */
    free(a), free(b), free(c), free(d);
    assert_bag(cbag_random_sample(jbag("[1, 2, 3]", 2), 0, 1), "[]");
    assert_bag(cbag_random_sample(jbag("[1, 2, 3]", 2), 1, 1), "[1, 2, 3]");
    assert_null(cbag_random_sample(jbag("[1]", 1), 1.5, 1));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
}

static void test_repartition(void **state) {
    (void)state;
    cbag *b = cbag_range(cx, 100, 10);
    assert_bag(sizes(cbag_repartition(b, 3)), "[30, 30, 40]");
    assert_bag(sizes(cbag_repartition(b, 4)), "[20, 30, 20, 30]");
    assert_bag(sizes(cbag_repartition(b, 25)),
               "[5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, "
               "2, 1, 2, 1, 2]"); /* as dask */
    assert_true(cbag_repartition(b, 10) == b);
    cbag *s = jbag("[1, 2, 3, 4, 5, 6, 7]", 2);
    assert_bag(cbag_repartition(s, 5), "[1, 2, 3, 4, 5, 6, 7]");
    assert_bag(sizes(cbag_repartition(s, 5)), "[2, 2, 1, 1, 1]");
    assert_bag(sizes(cbag_repartition(jbag("[]", 0), 3)), "[0, 0, 0]");
    assert_null(cbag_repartition(s, 0));
    cbag_clear_error(cx);
}

static void test_product(void **state) {
    (void)state;
    cbag *a = jbag("[1, 2, 3]", 2), *b = jbag("[\"x\", \"y\"]", 2);
    cbag *p = cbag_product(a, b);
    assert_int_equal(cbag_npartitions(p), 4);
    assert_bag(p, "[(1, 'x'), (2, 'x'), (1, 'y'), (2, 'y'), (3, 'x'), "
                  "(3, 'y')]");
    assert_bag(cbag_product(a, jbag("[]", 0)), "[]");
}

static const cbag_val *first_letter(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    size_t n;
    const char *s = cbag_str(x, &n);
    return s ? cbag_new_str(c, s, n ? 1 : 0) : cbag_fail(c, "not a string");
}

static void test_join(void **state) {
    (void)state;
    cbag *people = jbag("[\"Alice\", \"Bob\", \"Charlie\"]", 2);
    const cbag_val *fruit = J("[\"Apple\", \"Apricot\", \"Banana\"]");
    assert_bag(cbag_join_fn(people, fruit, first_letter, NULL, NULL),
               "[('Apple', 'Alice'), ('Apricot', 'Alice'), ('Banana', "
               "'Bob')]");
    cbag *other = cbag_from_sequence(cx, fruit, 1, 0);
    assert_bag(cbag_join_named(people, NULL, NULL, other, NULL, first_letter,
                               NULL, NULL, NULL),
               "[('Apple', 'Alice'), ('Apricot', 'Alice'), ('Banana', "
               "'Bob')]");
    /* fields, and Python equality of keys (1 == 1.0 == True) */
    cbag *recs =
        jbag("[[1, \"a\"], [2, \"b\"], [1.0, \"c\"], [null, \"d\"]]", 3);
    const cbag_val *zero = J("0");
    assert_bag(cbag_join_named(recs, NULL,
                               J("[[true, 10], [null, 20], "
                                 "[3, 30], [1, 40]]"),
                               NULL, zero, NULL, NULL, NULL, NULL),
               "[([True, 10], [1, 'a']), ([1, 40], [1, 'a']), ([True, 10], "
               "[1.0, 'c']), ([1, 40], [1.0, 'c']), ([None, 20], "
               "[None, 'd'])]");
    assert_null(cbag_join_named(people, NULL, NULL, cbag_range(cx, 4, 2), NULL,
                                first_letter, NULL, NULL, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
}

/* Keys of every kind in one frequencies and distinct; many keys. */
static void test_keys_many(void **state) {
    (void)state;
    cbag *b = jbag("[1, 1.0, true, 2.5, \"1\", [1], [1.0], null, false, 0, "
                   "0.0, {\"a\": 1}, {\"a\": 1.0}]",
                   5);
    assert_bag(cbag_frequencies(b, true),
               "[(1, 3), (False, 3), ([1], 2), ({'a': 1}, 2), (2.5, 1), "
               "('1', 1), (None, 1)]");
    cbag_result *r = cbag_compute(cbag_frequencies(
        cbag_map(cbag_range(cx, 400000, 16), mod3, NULL), false));
    assert_non_null(r);
    assert_int_equal(cbag_len(cbag_result_value(r)), 3);
    cbag_result_free(r);
    /* 200k distinct keys */
    r = cbag_compute(cbag_distinct(cbag_range(cx, 200000, 12)));
    assert_non_null(r);
    const cbag_val *v = cbag_result_value(r);
    assert_int_equal(cbag_len(v), 200000);
    for (int64_t i = 0; i < 200000; i += 997)
        assert_int_equal(cbag_int_value(cbag_at(v, i)), i);
    cbag_result_free(r);
    r = cbag_compute(cbag_frequencies(cbag_range(cx, 200000, 12), true));
    assert_non_null(r);
    assert_int_equal(cbag_len(cbag_result_value(r)), 200000);
    cbag_result_free(r);
}

/* ------------------------------------------------------------------------ */
/* Spilling the groupby shuffle                                             */

/* (i % 2000, "a padded string", i): about 100 bytes a record. */
static const cbag_val *record(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    int64_t i = cbag_int_value(x);
    /* skewed: half the records share key 0 */
    int64_t k = i % 2 ? 0 : (i / 2) % 2000;
    const cbag_val *t[3] = {
        cbag_new_int(c, k),
        cbag_new_strf(c, "record %lld with some padding to make it big",
                      (long long)i),
        cbag_new_float(c, (double)i / 3)};
    return cbag_new_tuplev(c, 3, t);
}

static const cbag_val *key0(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    if (ud && cbag_float_value(cbag_at(x, 2)) >= *(double *)ud / 3)
        return cbag_fail(c, "injected failure");
    return cbag_at(x, 0);
}

/* (key, number of values, first value's text, last value's number) */
static const cbag_val *summary(cbag_call *c, const cbag_val *g, void *ud) {
    (void)ud;
    const cbag_val *vals = cbag_at(g, 1);
    const cbag_val *t[4] = {
        cbag_at(g, 0), cbag_new_int(c, (int64_t)cbag_len(vals)),
        cbag_at(cbag_at(vals, 0), 1), cbag_at(cbag_at(vals, -1), 2)};
    return cbag_new_tuplev(c, 4, t);
}

static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static char *group_run(size_t limit, const char *tmp, double *fail_at,
                       int *code) {
    cbag_options o = {0};
    o.workers = 4;
    o.memory_limit = limit;
    o.temp_dir = tmp;
    cbag_ctx *c = cbag_open(&o);
    cbag *b = cbag_map(cbag_range(c, 120000, 12), record, NULL);
    cbag *g = cbag_groupby_fn(b, key0, 8, fail_at);
    cbag_result *r = cbag_compute(cbag_map(g, summary, NULL));
    *code = cbag_errcode(c);
    char *s = r ? cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL) : NULL;
    cbag_result_free(r);
    cbag_close(c);
    return s;
}

static void test_groupby_spill(void **state) {
    (void)state;
    char tmp[] = "/tmp/cbag-test-spill.XXXXXX";
    assert_non_null(mkdtemp(tmp));
    int code;
    char *mem = group_run(0, tmp, NULL, &code);
    assert_non_null(mem);
    /* about 12 MB of shuffle through a 1 MB budget: many spill rounds */
    char *disk = group_run(1 << 20, tmp, NULL, &code);
    assert_non_null(disk);
    assert_string_equal(mem, disk);
    assert_int_equal(dir_entries(tmp), 0);
    /* a failure in the middle leaves nothing behind */
    double at = 90001;
    char *none = group_run(1 << 20, tmp, &at, &code);
    assert_null(none);
    assert_int_equal(code, CBAG_USER);
    assert_int_equal(dir_entries(tmp), 0);
    /* spilling really happens: a missing directory makes it fail */
    char missing[sizeof tmp + 8];
    snprintf(missing, sizeof missing, "%s/nodir", tmp);
    none = group_run(1 << 20, missing, NULL, &code);
    assert_null(none);
    assert_int_equal(code, CBAG_IO);
    none = group_run(0, missing, NULL, &code); /* in memory: no files */
    assert_non_null(none);
    free(none);
    free(mem);
    free(disk);
    rmdir(tmp);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IOCHECK_TEST(test_frequencies),
        IOCHECK_TEST(test_distinct),
        IOCHECK_TEST(test_topk),
        IOCHECK_TEST(test_accumulate),
        IOCHECK_TEST(test_random_sample),
        IOCHECK_TEST(test_repartition),
        IOCHECK_TEST(test_product),
        IOCHECK_TEST(test_join),
        IOCHECK_TEST(test_keys_many),
        IOCHECK_TEST(test_groupby_spill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
