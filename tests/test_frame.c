/* test_frame.c: to_dataframe and frames. Expected texts were printed by
 * pandas 1.5.3 (/usr/bin/python3) on the same rows; the frames here have
 * one partition unless a test is about partitions, since dask's frames
 * number their rows per partition where pandas numbers them once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbag.h"
#include "iocheck.h"

static cbag_ctx *cx;

/* The rows of the tests, as pandas gets them. */
static const char *rows_json =
    "[{\"id\": 1, \"name\": \"Alice\", \"amount\": 100, \"x\": 1.5},"
    " {\"id\": 2, \"name\": \"Bob\", \"amount\": -20, \"x\": 2.25, "
    "\"tags\": [1, 2]},"
    " {\"id\": 3, \"name\": \"Charlie\", \"amount\": 300, \"tags\": {\"a\": "
    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}},"
    " {\"id\": 4, \"name\": \"Alice\", \"amount\": 50, \"x\": 3.0},"
    " {\"id\": 5, \"name\": \"Bob\", \"amount\": 70, \"x\": 0.5},"
    " {\"id\": 6, \"name\": \"Alice\", \"amount\": 10}]";

static const cbag_val *parse(cbag_ctx *c, const char *json) {
    const cbag_val *v = cbag_json_parse(cbag_main(c), json, strlen(json));
    assert_non_null(v);
    return v;
}

static cbag *bag_of(cbag_ctx *c, const char *json, size_t nparts) {
    cbag *b = cbag_from_sequence(c, parse(c, json), nparts, 0);
    assert_non_null(b);
    return b;
}

static cbag_frame *frame_of(cbag_ctx *c, const char *json, size_t nparts) {
    cbag_frame *f = cbag_to_dataframe(bag_of(c, json, nparts), NULL);
    if (!f) fprintf(stderr, "to_dataframe: %s\n", cbag_errmsg(c));
    assert_non_null(f);
    return f;
}

/* What cbag_frame_print writes, without its final newline. */
static char *printed(cbag_frame *f) {
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    assert_non_null(m);
    int rc = cbag_frame_print(m, f);
    fclose(m);
    if (rc) fprintf(stderr, "print: %s\n", cbag_errmsg(cx));
    assert_int_equal(rc, CBAG_OK);
    assert_true(len > 0 && s[len - 1] == '\n');
    s[len - 1] = '\0';
    return s;
}

#define assert_printed(f, expected)                                            \
    do {                                                                       \
        cbag_frame *f_ = (f);                                                  \
        if (!f_) fprintf(stderr, "error: %s\n", cbag_errmsg(cx));              \
        assert_non_null(f_);                                                   \
        char *s_ = printed(f_);                                                \
        if (strcmp(s_, expected))                                              \
            fprintf(stderr, "got:\n%s\nexpected:\n%s\n", s_, expected);        \
        assert_string_equal(s_, expected);                                     \
        free(s_);                                                              \
    } while (0)

static char *computed(cbag *b) {
    assert_non_null(b);
    cbag_result *r = cbag_compute(b);
    if (!r) fprintf(stderr, "compute: %s\n", cbag_errmsg(cx));
    assert_non_null(r);
    char *s = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, NULL);
    cbag_result_free(r);
    return s;
}

static int setup(void **state) {
    (void)state;
    if (iocheck_init("frame")) return -1;
    cbag_options o = {0};
    o.temp_dir = iocheck_tmp;
    o.workers = 3;
    cx = cbag_open(&o);
    return cx ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    cbag_close(cx);
    cx = NULL;
    iocheck_done();
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                 */

static void test_columns_and_dtypes(void **state) {
    (void)state;
    cbag_frame *f = frame_of(cx, rows_json, 2);
    const char *names[] = {"id", "name", "amount", "x", "tags"};
    const char *types[] = {"int64", "object", "int64", "float64", "object"};
    assert_int_equal(cbag_frame_ncolumns(f), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(cbag_frame_column(f, i), names[i]);
        assert_string_equal(cbag_frame_dtype(f, i), types[i]);
    }
    assert_null(cbag_frame_column(f, 5));
    assert_int_equal(cbag_frame_len(f), 6);
    assert_int_equal(cbag_frame_npartitions(f), 2);
}

static const char *full_text =
    "   id     name  amount     x                                          "
    "     tags\n"
    "0   1    Alice     100  1.50                                          "
    "      NaN\n"
    "1   2      Bob     -20  2.25                                          "
    "   [1, 2]\n"
    "2   3  Charlie     300   NaN  {'a': "
    "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\n"
    "3   4    Alice      50  3.00                                          "
    "      NaN\n"
    "4   5      Bob      70  0.50                                          "
    "      NaN\n"
    "5   6    Alice      10   NaN                                          "
    "      NaN";

static void test_print_like_pandas(void **state) {
    (void)state;
    cbag_frame *f = frame_of(cx, rows_json, 1);
    assert_printed(f, full_text);
    /* df.head(3) */
    assert_printed(
        cbag_frame_head(f, 3),
        "   id     name  amount     x                                      "
        "         tags\n"
        "0   1    Alice     100  1.50                                      "
        "          NaN\n"
        "1   2      Bob     -20  2.25                                      "
        "       [1, 2]\n"
        "2   3  Charlie     300   NaN  {'a': "
        "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...");
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    assert_int_equal(cbag_frame_print_head(m, f, 1), CBAG_OK);
    fclose(m);
    assert_string_equal(s, "   id   name  amount    x tags\n"
                           "0   1  Alice     100  1.5  NaN\n");
    free(s);
}

/* Each partition numbers its rows, as dask's to_dataframe. */
static void test_head_across_partitions(void **state) {
    (void)state;
    cbag_frame *f = frame_of(cx, rows_json, 3);
    cbag_frame *g = cbag_frame_select(f, 2, (const char *[]){"id", "x"});
    assert_printed(cbag_frame_head(g, 3), "   id     x\n"
                                          "0   1  1.50\n"
                                          "1   2  2.25\n"
                                          "0   3   NaN");
}

static void test_float_formats(void **state) {
    (void)state;
    cbag_frame *f = frame_of(
        cx,
        "[{\"a\": 1e-7, \"b\": 1e7, \"c\": 0.1}, {\"a\": 2.5, \"b\": "
        "123456.789, \"c\": 0.2}, {\"b\": 1.0, \"c\": 0.30000000000000004}]",
        1);
    assert_printed(f, "              a             b    c\n"
                      "0  1.000000e-07  1.000000e+07  0.1\n"
                      "1  2.500000e+00  1.234568e+05  0.2\n"
                      "2           NaN  1.000000e+00  0.3");
    f = frame_of(cx,
                 "[{\"s\": \"a\\tb\"}, {\"s\": "
                 "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}, {\"s\": \"x,y\"}]",
                 1);
    assert_printed(f, "                                                   s\n"
                      "0                                               a\\tb\n"
                      "1  \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...\n"
                      "2                                                x,y");
}

/* More than 60 rows: the first and last 5, as pandas. */
static void test_print_truncated(void **state) {
    (void)state;
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, 100);
    for (int i = 0; i < 100; i++) {
        cbag_val *d = cbag_new_dict(m, 3);
        cbag_set(m, d, "k", cbag_new_int(m, i % 7));
        cbag_set(m, d, "v", cbag_new_float(m, i * 1.25));
        cbag_set(m, d, "s", cbag_new_strf(m, "s%d", i));
        cbag_append(m, l, d);
    }
    cbag_frame *f = cbag_to_dataframe(cbag_from_sequence(cx, l, 1, 0), NULL);
    assert_printed(f, "    k       v    s\n"
                      "0   0    0.00   s0\n"
                      "1   1    1.25   s1\n"
                      "2   2    2.50   s2\n"
                      "3   3    3.75   s3\n"
                      "4   4    5.00   s4\n"
                      ".. ..     ...  ...\n"
                      "95  4  118.75  s95\n"
                      "96  5  120.00  s96\n"
                      "97  6  121.25  s97\n"
                      "98  0  122.50  s98\n"
                      "99  1  123.75  s99\n"
                      "\n"
                      "[100 rows x 3 columns]");
    /* A long Series: keys "key000" .. "key069", twice each. */
    l = cbag_new_list(m, 140);
    for (int i = 0; i < 140; i++) {
        cbag_val *d = cbag_new_dict(m, 2);
        cbag_set(m, d, "k", cbag_new_strf(m, "key%03d", i % 70));
        cbag_set(m, d, "v", cbag_new_int(m, i));
        cbag_append(m, l, d);
    }
    f = cbag_to_dataframe(cbag_from_sequence(cx, l, 4, 0), NULL);
    assert_printed(cbag_frame_groupby(f, "k", "v", "sum"),
                   "k\n"
                   "key000     70\n"
                   "key001     72\n"
                   "key002     74\n"
                   "key003     76\n"
                   "key004     78\n"
                   "         ... \n"
                   "key065    200\n"
                   "key066    202\n"
                   "key067    204\n"
                   "key068    206\n"
                   "key069    208\n"
                   "Name: v, Length: 70, dtype: int64");
}

/* dask fails when the first partition is empty; types come from the
 * first partition holding values instead. */
static int id_over_3(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(cbag_get(x, "id")) > 3;
}

static void test_empty_first_partition(void **state) {
    (void)state;
    cbag *b = cbag_filter(bag_of(cx, rows_json, 2), id_over_3, NULL);
    cbag_frame *f = cbag_to_dataframe(b, NULL);
    assert_non_null(f);
    assert_int_equal(cbag_frame_len(f), 3);
    assert_string_equal(cbag_frame_column(f, 0), "id");
    assert_string_equal(cbag_frame_dtype(f, 3), "float64");
    assert_printed(f, "   id   name  amount    x\n"
                      "0   4  Alice      50  3.0\n"
                      "1   5    Bob      70  0.5\n"
                      "2   6  Alice      10  NaN");
    /* A column with no value in the first partition takes the type of
     * the first one that has it. */
    f = frame_of(cx,
                 "[{\"a\": 1}, {\"a\": 2, \"b\": null}, {\"a\": 3, \"b\": "
                 "\"s\"}, {\"a\": 4, \"b\": \"t\"}]",
                 2);
    assert_string_equal(cbag_frame_dtype(f, 1), "object");
    assert_printed(f, "   a    b\n"
                      "0  1  NaN\n"
                      "1  2  NaN\n"
                      "0  3    s\n"
                      "1  4    t");
}

static void test_int_float_promotion(void **state) {
    (void)state;
    /* Within a partition and across partitions. */
    cbag_frame *f =
        frame_of(cx, "[{\"a\": 1}, {\"a\": 2.5}, {\"a\": 3}, {\"a\": 4}]", 2);
    assert_string_equal(cbag_frame_dtype(f, 0), "float64");
    char *s = computed(cbag_frame_to_bag(f, CBAG_FRAME_TUPLES));
    assert_string_equal(s, "[(1.0,), (2.5,), (3.0,), (4.0,)]");
    free(s);
    f = frame_of(cx, "[{\"a\": 1}, {\"a\": 2}, {\"a\": 3}, {\"a\": 4.5}]", 2);
    assert_string_equal(cbag_frame_dtype(f, 0), "float64");
    s = computed(cbag_frame_to_bag(f, CBAG_FRAME_TUPLES));
    assert_string_equal(s, "[(1.0,), (2.0,), (3.0,), (4.5,)]");
    free(s);
}

static void test_type_errors(void **state) {
    (void)state;
    /* In one partition: the message names the column, row and record. */
    cbag *b = bag_of(cx,
                     "[{\"id\": 1, \"amount\": 5}, {\"id\": 2, \"amount\": "
                     "\"lots\"}]",
                     1);
    assert_null(cbag_to_dataframe(b, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    const char *msg = cbag_errmsg(cx);
    assert_non_null(strstr(msg, "column 'amount'"));
    assert_non_null(strstr(msg, "row 1"));
    assert_non_null(strstr(msg, "{'id': 2, 'amount': 'lots'}"));
    cbag_clear_error(cx);
    /* Across partitions: the column, partition and row. */
    b = bag_of(cx, "[{\"a\": 1}, {\"a\": 2}, {\"a\": null}, {\"a\": \"z\"}]",
               2);
    assert_null(cbag_to_dataframe(b, NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    msg = cbag_errmsg(cx);
    assert_non_null(strstr(msg, "column 'a' has dtype int64"));
    assert_non_null(strstr(msg, "row 1 of partition 1 holds 'z'"));
    cbag_clear_error(cx);
    /* Not records. */
    assert_null(cbag_to_dataframe(bag_of(cx, "[1, 2]", 1), NULL));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    cbag_clear_error(cx);
}

static void test_meta_and_tuples(void **state) {
    (void)state;
    const char *cols[] = {"name", "amount"};
    const char *types[] = {"string", "float64"};
    cbag_frame_meta meta = {2, cols, types};
    cbag_frame *f = cbag_to_dataframe(bag_of(cx, rows_json, 2), &meta);
    assert_non_null(f);
    assert_int_equal(cbag_frame_ncolumns(f), 2);
    assert_string_equal(cbag_frame_dtype(f, 0), "object");
    assert_string_equal(cbag_frame_dtype(f, 1), "float64");
    char *s = computed(cbag_frame_to_bag(cbag_frame_head(f, 2), 0));
    assert_string_equal(s, "[{'name': 'Alice', 'amount': 100.0}, "
                           "{'name': 'Bob', 'amount': -20.0}]");
    free(s);
    /* Tuples take their names from meta, or "0", "1", ... */
    const char *tcols[] = {"k", "v"};
    cbag_frame_meta tmeta = {2, tcols, NULL};
    f = cbag_to_dataframe(bag_of(cx, "[[\"a\", 1], [\"b\", 2], [\"c\"]]", 2),
                          &tmeta);
    assert_printed(f, "   k    v\n"
                      "0  a    1\n"
                      "1  b    2\n"
                      "0  c  NaN");
    f = frame_of(cx, "[[\"a\", 1], [\"b\", 2]]", 1);
    assert_string_equal(cbag_frame_column(f, 1), "1");
    /* A meta type that does not fit is an error. */
    const char *itypes[] = {"int64", "int64"};
    cbag_frame_meta imeta = {2, cols, itypes};
    assert_null(cbag_to_dataframe(bag_of(cx, rows_json, 2), &imeta));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    cbag_clear_error(cx);
    const char *bad[] = {"int64", "decimal"};
    cbag_frame_meta bmeta = {2, cols, bad};
    assert_null(cbag_to_dataframe(bag_of(cx, rows_json, 2), &bmeta));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
}

/* ------------------------------------------------------------------------ */
/* Group-by                                                                 */

typedef struct {
    const char *column, *agg, *expected;
} gcase;

static const gcase gcases[] = {
    {"amount", "count",
     "name\nAlice      3\nBob        2\nCharlie    1\n"
     "Name: amount, dtype: int64"},
    {"amount", "size",
     "name\nAlice      3\nBob        2\nCharlie    1\n"
     "Name: amount, dtype: int64"},
    {"amount", "sum",
     "name\nAlice      160\nBob         50\nCharlie    300\n"
     "Name: amount, dtype: int64"},
    {"amount", "mean",
     "name\nAlice       53.333333\nBob         25.000000\n"
     "Charlie    300.000000\nName: amount, dtype: float64"},
    {"amount", "min",
     "name\nAlice       10\nBob        -20\nCharlie    300\n"
     "Name: amount, dtype: int64"},
    {"amount", "max",
     "name\nAlice      100\nBob         70\nCharlie    300\n"
     "Name: amount, dtype: int64"},
    {"amount", "nunique",
     "name\nAlice      3\nBob        2\nCharlie    1\n"
     "Name: amount, dtype: int64"},
    {"x", "mean",
     "name\nAlice      2.250\nBob        1.375\nCharlie      NaN\n"
     "Name: x, dtype: float64"},
    {"x", "sum",
     "name\nAlice      4.50\nBob        2.75\nCharlie    0.00\n"
     "Name: x, dtype: float64"},
    {"x", "count",
     "name\nAlice      2\nBob        2\nCharlie    0\nName: x, dtype: int64"},
    {"x", "nunique",
     "name\nAlice      2\nBob        2\nCharlie    0\nName: x, dtype: int64"},
    {NULL, "size",
     "name\nAlice      3\nBob        2\nCharlie    1\n"
     "dtype: int64"},
    {NULL, "count",
     "         id  amount  x  tags\n"
     "name                        \n"
     "Alice     3       3  2     0\n"
     "Bob       2       2  2     1\n"
     "Charlie   1       1  0     1"},
    {NULL, "sum",
     "         id  amount     x\n"
     "name                     \n"
     "Alice    11     160  4.50\n"
     "Bob       7      50  2.75\n"
     "Charlie   3     300  0.00"},
    {NULL, "max",
     "         id  amount     x\n"
     "name                     \n"
     "Alice     6     100  3.00\n"
     "Bob       5      70  2.25\n"
     "Charlie   3     300   NaN"},
};

static void test_groupby_like_pandas(void **state) {
    (void)state;
    /* The same answers with 1 or 3 partitions, and 1 or 3 workers. */
    for (int workers = 1; workers <= 3; workers += 2) {
        cbag_options o = {0};
        o.workers = workers;
        cbag_ctx *c = cbag_open(&o);
        assert_non_null(c);
        cbag_ctx *saved = cx;
        cx = c;
        for (size_t np = 1; np <= 3; np += 2) {
            cbag_frame *f = frame_of(c, rows_json, np);
            for (size_t i = 0; i < sizeof gcases / sizeof *gcases; i++) {
                const gcase *g = &gcases[i];
                assert_printed(cbag_frame_groupby(f, "name", g->column, g->agg),
                               g->expected);
            }
        }
        cx = saved;
        cbag_close(c);
    }
}

static void test_groupby_keys(void **state) {
    (void)state;
    /* Integer keys, sorted numerically; min/max of strings. */
    cbag_frame *f = frame_of(
        cx,
        "[{\"k\": -1, \"v\": 1, \"s\": \"b\"}, {\"k\": 2, \"v\": 2, \"s\": "
        "\"a\"}, {\"k\": -1, \"v\": 3, \"s\": \"a\"}, {\"k\": 10, \"v\": 4, "
        "\"s\": \"c\"}, {\"v\": 5, \"s\": \"z\"}]",
        2);
    assert_printed(cbag_frame_groupby(f, "k", "v", "sum"),
                   "k\n-1     4\n 2     2\n 10    4\nName: v, dtype: int64");
    char *s = computed(cbag_frame_to_bag(cbag_frame_groupby(f, "k", "s", "min"),
                                         CBAG_FRAME_TUPLES | CBAG_FRAME_INDEX));
    assert_string_equal(s, "[(-1, 'a'), (2, 'a'), (10, 'c')]");
    free(s);
    s = computed(cbag_frame_to_bag(cbag_frame_groupby(f, "s", "k", "max"),
                                   CBAG_FRAME_INDEX));
    assert_string_equal(s, "[{'s': 'a', 'k': 2}, {'s': 'b', 'k': -1}, "
                           "{'s': 'c', 'k': 10}, {'s': 'z', 'k': None}]");
    free(s);
    /* Errors: unknown column or aggregation, sum of strings. */
    assert_null(cbag_frame_groupby(f, "nope", NULL, "count"));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    cbag_clear_error(cx);
    assert_null(cbag_frame_groupby(f, "k", NULL, "median"));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
    assert_null(cbag_frame_groupby(f, "k", "s", "sum"));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    cbag_clear_error(cx);
}

/* ------------------------------------------------------------------------ */
/* Selecting, filtering, output                                             */

static void test_select_and_filter(void **state) {
    (void)state;
    cbag_frame *f = frame_of(cx, rows_json, 1);
    assert_printed(cbag_frame_select(f, 2, (const char *[]){"name", "amount"}),
                   "      name  amount\n"
                   "0    Alice     100\n"
                   "1      Bob     -20\n"
                   "2  Charlie     300\n"
                   "3    Alice      50\n"
                   "4      Bob      70\n"
                   "5    Alice      10");
    assert_null(cbag_frame_select(f, 1, (const char *[]){"nope"}));
    assert_int_equal(cbag_errcode(cx), CBAG_KEY);
    cbag_clear_error(cx);

    cbag_val *v50 = cbag_new_int(cbag_main(cx), 50);
    assert_printed(
        cbag_frame_filter(f, "amount", ">", v50),
        "   id     name  amount    x                                       "
        "        tags\n"
        "0   1    Alice     100  1.5                                       "
        "         NaN\n"
        "2   3  Charlie     300  NaN  {'a': "
        "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\n"
        "4   5      Bob      70  0.5                                       "
        "         NaN");
    cbag_val *alice = cbag_new_strz(cbag_main(cx), "Alice");
    assert_printed(cbag_frame_select(cbag_frame_filter(f, "name", "==", alice),
                                     3, (const char *[]){"id", "name", "x"}),
                   "   id   name    x\n"
                   "0   1  Alice  1.5\n"
                   "3   4  Alice  3.0\n"
                   "5   6  Alice  NaN");
    cbag_val *x15 = cbag_new_float(cbag_main(cx), 1.5);
    assert_printed(cbag_frame_select(cbag_frame_filter(f, "x", "!=", x15), 2,
                                     (const char *[]){"id", "x"}),
                   "   id     x\n"
                   "1   2  2.25\n"
                   "2   3   NaN\n"
                   "3   4  3.00\n"
                   "4   5  0.50\n"
                   "5   6   NaN");
    /* Filters keep partitions and the original index; a group-by of a
     * filtered frame. */
    cbag_frame *g = frame_of(cx, rows_json, 3);
    cbag_frame *h = cbag_frame_filter(g, "amount", "<=", v50);
    assert_int_equal(cbag_frame_len(h), 3);
    assert_int_equal(cbag_frame_npartitions(h), 3);
    char *s = computed(
        cbag_frame_to_bag(cbag_frame_select(h, 1, (const char *[]){"id"}),
                          CBAG_FRAME_TUPLES | CBAG_FRAME_INDEX));
    assert_string_equal(s, "[(1, 2), (1, 4), (1, 6)]");
    free(s);
    assert_printed(cbag_frame_groupby(h, "name", "id", "count"),
                   "name\nAlice    2\nBob      1\nName: id, dtype: int64");
    /* Ordering a string column against a number is an error. */
    assert_null(cbag_frame_filter(f, "name", "<", v50));
    assert_int_equal(cbag_errcode(cx), CBAG_TYPE);
    cbag_clear_error(cx);
    assert_null(cbag_frame_filter(f, "name", "~", v50));
    assert_int_equal(cbag_errcode(cx), CBAG_INVALID);
    cbag_clear_error(cx);
}

static char *slurp(const char *path) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *s = calloc(1, 1 << 16);
    size_t n = fread(s, 1, (1 << 16) - 1, fp);
    s[n] = '\0';
    fclose(fp);
    return s;
}

static void test_to_csv(void **state) {
    (void)state;
    char dir[] = "/tmp/cbag_frame_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    cbag_frame *f = frame_of(cx, rows_json, 1);
    snprintf(path, sizeof path, "%s/one.csv", dir);
    cbag_frame_csv_options o = {.single_file = true};
    assert_int_equal(cbag_frame_to_csv(f, path, &o), CBAG_OK);
    char *s = slurp(path);
    assert_string_equal(
        s, ",id,name,amount,x,tags\n"
           "0,1,Alice,100,1.5,\n"
           "1,2,Bob,-20,2.25,\"[1, 2]\"\n"
           "2,3,Charlie,300,,{'a': "
           "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'}\n"
           "3,4,Alice,50,3.0,\n"
           "4,5,Bob,70,0.5,\n"
           "5,6,Alice,10,,\n");
    free(s);
    unlink(path);
    /* Quoting, floats and bools, as pandas writes them. */
    f = frame_of(cx,
                 "[{\"s\": \"a\\tb\", \"f\": 0.1, \"b\": true}, {\"s\": \"say "
                 "\\\"hi\\\"\", \"b\": false}, {\"s\": \"x,y\", \"f\": 1e16, "
                 "\"b\": true}, {\"s\": \"l1\\nl2\", \"f\": 2.0, \"b\": "
                 "false}]",
                 1);
    assert_int_equal(cbag_frame_to_csv(f, path, &o), CBAG_OK);
    s = slurp(path);
    assert_string_equal(s, ",s,f,b\n"
                           "0,a\tb,0.1,True\n"
                           "1,\"say \"\"hi\"\"\",,False\n"
                           "2,\"x,y\",1e+16,True\n"
                           "3,\"l1\nl2\",2.0,False\n");
    free(s);
    unlink(path);
    /* One file per partition, each with its header and index. */
    f = cbag_frame_select(frame_of(cx, rows_json, 2), 2,
                          (const char *[]){"id", "name"});
    snprintf(path, sizeof path, "%s/part-*.csv", dir);
    assert_int_equal(cbag_frame_to_csv(f, path, NULL), CBAG_OK);
    const char *expect[] = {",id,name\n0,1,Alice\n1,2,Bob\n2,3,Charlie\n",
                            ",id,name\n0,4,Alice\n1,5,Bob\n2,6,Alice\n"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/part-%d.csv", dir, i);
        s = slurp(path);
        assert_string_equal(s, expect[i]);
        free(s);
        unlink(path);
    }
    /* Without index and header. */
    snprintf(path, sizeof path, "%s/all.csv", dir);
    cbag_frame_csv_options o2 = {
        .single_file = true, .no_index = true, .no_header = true, .sep = ';'};
    assert_int_equal(cbag_frame_to_csv(f, path, &o2), CBAG_OK);
    s = slurp(path);
    assert_string_equal(s, "1;Alice\n2;Bob\n3;Charlie\n4;Alice\n5;Bob\n"
                           "6;Alice\n");
    free(s);
    unlink(path);
    rmdir(dir);
}

static void test_to_bag_round_trip(void **state) {
    (void)state;
    cbag *b = bag_of(cx, rows_json, 2);
    cbag_frame *f = cbag_to_dataframe(b, NULL);
    char *s = computed(cbag_frame_to_bag(f, 0));
    assert_string_equal(
        s, "[{'id': 1, 'name': 'Alice', 'amount': 100, 'x': 1.5, 'tags': "
           "None}, {'id': 2, 'name': 'Bob', 'amount': -20, 'x': 2.25, "
           "'tags': [1, 2]}, {'id': 3, 'name': 'Charlie', 'amount': 300, "
           "'x': None, 'tags': {'a': "
           "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'}}, "
           "{'id': 4, 'name': 'Alice', 'amount': 50, 'x': 3.0, 'tags': "
           "None}, {'id': 5, 'name': 'Bob', 'amount': 70, 'x': 0.5, 'tags': "
           "None}, {'id': 6, 'name': 'Alice', 'amount': 10, 'x': None, "
           "'tags': None}]");
    free(s);
    /* Back into a frame: the same frame. */
    cbag *back = cbag_frame_to_bag(f, 0);
    assert_int_equal(cbag_npartitions(back), 2);
    cbag_frame *g = cbag_to_dataframe(back, NULL);
    assert_non_null(g);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(cbag_frame_dtype(g, i), cbag_frame_dtype(f, i));
    char *a = computed(cbag_frame_to_bag(f, CBAG_FRAME_TUPLES));
    char *c = computed(cbag_frame_to_bag(g, CBAG_FRAME_TUPLES));
    assert_string_equal(a, c);
    free(a);
    free(c);
    /* The bag composes with bag operations. */
    cbag_result *r = cbag_compute_item(
        cbag_sum(cbag_pluck(cbag_frame_to_bag(f, 0), "amount")));
    assert_non_null(r);
    assert_int_equal(cbag_int_value(cbag_result_value(r)), 510);
    cbag_result_free(r);
}

static void test_null_chain(void **state) {
    (void)state;
    assert_null(cbag_to_dataframe(NULL, NULL));
    assert_null(cbag_frame_head(NULL, 3));
    assert_null(cbag_frame_select(NULL, 0, NULL));
    assert_null(cbag_frame_filter(NULL, "a", "==", NULL));
    assert_null(cbag_frame_groupby(NULL, "a", NULL, "count"));
    assert_null(cbag_frame_to_bag(NULL, 0));
    assert_int_equal(cbag_frame_len(NULL), 0);
    assert_int_equal(cbag_frame_ncolumns(NULL), 0);
    assert_int_not_equal(cbag_frame_print(stdout, NULL), CBAG_OK);
    /* An empty bag gives an empty frame. */
    cbag_frame *f = cbag_to_dataframe(bag_of(cx, "[]", 1), NULL);
    assert_non_null(f);
    assert_int_equal(cbag_frame_len(f), 0);
    assert_printed(f, "Empty DataFrame\nColumns: []\nIndex: []");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IOCHECK_TEST(test_columns_and_dtypes),
        IOCHECK_TEST(test_print_like_pandas),
        IOCHECK_TEST(test_head_across_partitions),
        IOCHECK_TEST(test_float_formats),
        IOCHECK_TEST(test_print_truncated),
        IOCHECK_TEST(test_empty_first_partition),
        IOCHECK_TEST(test_int_float_promotion),
        IOCHECK_TEST(test_type_errors),
        IOCHECK_TEST(test_meta_and_tuples),
        IOCHECK_TEST(test_groupby_like_pandas),
        IOCHECK_TEST(test_groupby_keys),
        IOCHECK_TEST(test_select_and_filter),
        IOCHECK_TEST(test_to_csv),
        IOCHECK_TEST(test_to_bag_round_trip),
        IOCHECK_TEST(test_null_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
