/* test_keyed.c: foldby and groupby, as the tutorial uses them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cbag.h"

static cbag_ctx *cx;

static char *bag_repr(cbag *b) {
    assert_non_null(b);
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

static cbag *names(void) {
    const char *n[] = {"Alice", "Bob", "Charlie", "Dan", "Edith", "Frank"};
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, 6);
    for (int i = 0; i < 6; i++)
        cbag_append(m, l, cbag_new_strz(m, n[i]));
    return cbag_from_sequence(cx, l, 0, 0);
}

static cbag *ints(int n) {
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, (size_t)n);
    for (int i = 0; i < n; i++)
        cbag_append(m, l, cbag_new_int(m, i));
    return cbag_from_sequence(cx, l, 0, 0);
}

static const cbag_val *len(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, (int64_t)cbag_len(x));
}

static const cbag_val *ident(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return x;
}

static const cbag_val *mod2(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 2);
}

/* lambda k, v: (k, max(v)) */
static const cbag_val *kmax(cbag_call *c, size_t argc,
                            const cbag_val *const *argv, void *ud) {
    (void)ud;
    if (argc != 2) return cbag_fail(c, "TypeError: expected 2 arguments");
    const cbag_val *best = cbag_at(argv[1], 0);
    for (size_t i = 1; i < cbag_len(argv[1]); i++)
        if (cbag_cmp(cbag_at(argv[1], (int64_t)i), best) > 0)
            best = cbag_at(argv[1], (int64_t)i);
    const cbag_val *t[2] = {argv[0], best};
    return cbag_new_tuplev(c, 2, t);
}

/* lambda k, v: (k, len(v)) */
static const cbag_val *klen(cbag_call *c, size_t argc,
                            const cbag_val *const *argv, void *ud) {
    (void)ud, (void)argc;
    const cbag_val *t[2] = {argv[0],
                            cbag_new_int(c, (int64_t)cbag_len(argv[1]))};
    return cbag_new_tuplev(c, 2, t);
}

static const cbag_val *maxop(cbag_call *c, const cbag_val *a, const cbag_val *b,
                             void *ud) {
    (void)c, (void)ud;
    return cbag_cmp(a, b) >= 0 ? a : b;
}

static const cbag_val *incr(cbag_call *c, const cbag_val *tot,
                            const cbag_val *x, void *ud) {
    (void)x, (void)ud;
    return cbag_new_int(c, cbag_int_value(tot) + 1);
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

static void test_tutorial_groupby(void **state) {
    (void)state;
    assert_bag(cbag_groupby_fn(names(), len, 0, NULL),
               "[(7, ['Charlie']), (3, ['Bob', 'Dan']), "
               "(5, ['Alice', 'Edith', 'Frank'])]");
    cbag *g = cbag_groupby_fn(ints(10), mod2, 0, NULL);
    assert_bag(g, "[(0, [0, 2, 4, 6, 8]), (1, [1, 3, 5, 7, 9])]");
    assert_bag(cbag_starmap(g, kmax, NULL), "[(0, 8), (1, 9)]");
    /* fewer output partitions than groups */
    assert_bag(cbag_groupby_fn(ints(10), mod2, 1, NULL),
               "[(0, [0, 2, 4, 6, 8]), (1, [1, 3, 5, 7, 9])]");
}

static void test_tutorial_foldby(void **state) {
    (void)state;
    cbag_foldby_options o = {0};
    o.combine = maxop;
    assert_bag(cbag_foldby_fn(ints(10), mod2, maxop, &o, NULL),
               "[(0, 8), (1, 9)]");
}

static cbag *records(int n) {
    const char *nm[] = {"Alice", "Bob", "Charlie"};
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, (size_t)n);
    for (int i = 0; i < n; i++) {
        cbag_val *d = cbag_new_dict(m, 2);
        cbag_set(m, d, "id", cbag_new_int(m, i));
        cbag_set(m, d, "name", cbag_new_strz(m, nm[(i * i) % 3]));
        cbag_append(m, l, d);
    }
    return cbag_from_sequence(cx, l, 7, 0);
}

static void test_foldby_records(void **state) {
    (void)state;
    cbag_call *m = cbag_main(cx);
    cbag_foldby_options o = {0};
    o.initial = cbag_new_int(m, 0);
    o.combine = add;
    o.combine_initial = cbag_new_int(m, 0);
    /* i*i % 3 is 0 for i % 3 == 0, else 1: Alice 34, Bob 66 of 100 */
    assert_bag(cbag_foldby(records(100), "name", incr, &o, NULL),
               "[('Alice', 34), ('Bob', 66)]");
    /* the same through groupby */
    assert_bag(cbag_starmap(cbag_groupby(records(100), "name", 1), klen, NULL),
               "[('Alice', 34), ('Bob', 66)]");
    /* a missing key field is a KeyError naming the operation */
    assert_null(cbag_compute(cbag_foldby(records(10), "nope", incr, &o, NULL)));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    assert_non_null(strstr(cbag_errmsg(cx), "foldby('nope', incr)"));
    assert_non_null(strstr(cbag_errmsg(cx), "KeyError: 'nope'"));
    cbag_clear_error(cx);
    /* without initial values: the first element seeds each key */
    cbag_foldby_options none = {0};
    assert_bag(cbag_foldby_fn(ints(10), mod2, add, &none, NULL),
               "[(0, 20), (1, 25)]");
    /* a foldby result feeds further operations, and computes twice */
    cbag *f = cbag_foldby_fn(ints(10), mod2, add, &none, NULL);
    cbag_result *r = cbag_compute_item(cbag_count(f));
    assert_non_null(r);
    assert_int_equal(cbag_int_value(cbag_result_value(r)), 2);
    cbag_result_free(r);
    assert_bag(f, "[(0, 20), (1, 25)]");
}

/* Keys that are equal in Python are one group: 1, 1.0 and True. */
static void test_equal_keys(void **state) {
    (void)state;
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, 4);
    cbag_append(m, l, cbag_new_int(m, 1));
    cbag_append(m, l, cbag_new_float(m, 1.0));
    cbag_append(m, l, cbag_bool(true));
    cbag_append(m, l, cbag_new_strz(m, "1"));
    cbag *b = cbag_from_sequence(cx, l, 2, 0);
    assert_bag(cbag_groupby_fn(b, ident, 1, NULL),
               "[(1, [1, 1.0, True]), ('1', ['1'])]");
}

/* groupby over parsed JSON lines: the shuffle takes whole batches of
 * parsed records (adopt), copies them when a filter keeps few, and spills
 * under a small budget; all three give what foldby counts. */
static const cbag_val *count_and_sum(cbag_call *c, size_t argc,
                                     const cbag_val *const *argv, void *ud) {
    (void)ud, (void)argc;
    int64_t n = 0;
    for (size_t i = 0; i < cbag_len(argv[1]); i++) {
        const cbag_val *r = cbag_at(argv[1], (int64_t)i);
        n += (int64_t)cbag_len(cbag_get(r, "t"));
    }
    const cbag_val *t[3] = {argv[0],
                            cbag_new_int(c, (int64_t)cbag_len(argv[1])),
                            cbag_new_int(c, n)};
    return cbag_new_tuplev(c, 3, t);
}

static const cbag_val *incr_t(cbag_call *c, const cbag_val *tot,
                              const cbag_val *x, void *ud) {
    (void)ud;
    const cbag_val *t[2] = {
        cbag_new_int(c, cbag_int_value(cbag_at(tot, 0)) + 1),
        cbag_new_int(c, cbag_int_value(cbag_at(tot, 1)) +
                            (int64_t)cbag_len(cbag_get(x, "t")))};
    return cbag_new_tuplev(c, 2, t);
}

static const cbag_val *add_pairs(cbag_call *c, const cbag_val *a,
                                 const cbag_val *b, void *ud) {
    (void)ud;
    const cbag_val *t[2] = {cbag_new_int(c, cbag_int_value(cbag_at(a, 0)) +
                                                cbag_int_value(cbag_at(b, 0))),
                            cbag_new_int(c, cbag_int_value(cbag_at(a, 1)) +
                                                cbag_int_value(cbag_at(b, 1)))};
    return cbag_new_tuplev(c, 2, t);
}

static int every_9th(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(cbag_get(x, "id")) % 9 == 0;
}

static void check_json_groupby(cbag_ctx *ctx, const char *path, bool sparse) {
    cbag *js = cbag_map(cbag_read_text(ctx, path, NULL), cbag_json_loads, NULL);
    if (sparse) js = cbag_filter(js, every_9th, NULL);
    cbag *g = cbag_starmap(cbag_groupby(js, "name", 0), count_and_sum, NULL);
    cbag_result *r = cbag_compute(g);
    assert_non_null(r);
    /* The same counts through foldby, as (key, (n, sum)). */
    cbag_call *m = cbag_main(ctx);
    const cbag_val *z[2] = {cbag_new_int(m, 0), cbag_new_int(m, 0)};
    cbag_foldby_options fo = {.initial = cbag_new_tuplev(m, 2, z),
                              .combine = add_pairs};
    cbag_result *f = cbag_compute(cbag_foldby(js, "name", incr_t, &fo, NULL));
    assert_non_null(f);
    const cbag_val *gv = cbag_result_value(r), *fv = cbag_result_value(f);
    assert_int_equal(cbag_len(gv), cbag_len(fv));
    for (size_t i = 0; i < cbag_len(gv); i++) {
        const cbag_val *e = cbag_at(gv, (int64_t)i);
        size_t j = 0;
        while (j < cbag_len(fv) &&
               !cbag_eq(cbag_at(cbag_at(fv, (int64_t)j), 0), cbag_at(e, 0)))
            j++;
        assert_true(j < cbag_len(fv));
        const cbag_val *acc = cbag_at(cbag_at(fv, (int64_t)j), 1);
        assert_true(cbag_eq(cbag_at(e, 1), cbag_at(acc, 0)));
        assert_true(cbag_eq(cbag_at(e, 2), cbag_at(acc, 1)));
    }
    cbag_result_free(r);
    cbag_result_free(f);
}

static void test_groupby_json_text(void **state) {
    (void)state;
    char dir[] = "/tmp/cbag-test-keyed-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], glob[128];
    const char *names[] = {"Alice", "Bob", "Charlie", "Dan", "Edith"};
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/part-%d.json", dir, f);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        for (int i = 0; i < 6000; i++) {
            int id = f * 6000 + i;
            fprintf(fp, "{\"id\": %d, \"name\": \"%s\", \"t\": [", id,
                    names[(id * 7) % 5]);
            for (int k = 0; k < id % 13; k++)
                fprintf(fp, "%s{\"a\": %d, \"s\": \"x%d\"}", k ? ", " : "", k,
                        id);
            fprintf(fp, "]}\n");
        }
        fclose(fp);
    }
    snprintf(glob, sizeof glob, "%s/*.json", dir);
    check_json_groupby(cx, glob, false);
    check_json_groupby(cx, glob, true);
    cbag_options o = {.workers = 2, .memory_limit = 1 << 20};
    cbag_ctx *small = cbag_open(&o);
    assert_non_null(small);
    check_json_groupby(small, glob, false);
    check_json_groupby(small, glob, true);
    cbag_close(small);
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/part-%d.json", dir, f);
        unlink(path);
    }
    rmdir(dir);
}

static int setup(void **state) {
    (void)state;
    cbag_options o = {0};
    o.workers = 3;
    cx = cbag_open(&o);
    return cx ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cbag_close(cx);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tutorial_groupby),
        cmocka_unit_test(test_tutorial_foldby),
        cmocka_unit_test(test_foldby_records),
        cmocka_unit_test(test_equal_keys),
        cmocka_unit_test(test_groupby_json_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
