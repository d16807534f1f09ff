/* tutorial.c: the dask.bag tutorial (bag-tutorial.txt), cell by cell, in C.
 *
 * Each cell prints its number, the Python it mirrors, the result as the
 * notebook shows it, and its wall time. The accounts data set is generated
 * into ./data when missing (as the notebook's `%run prep.py -d accounts`).
 *
 *   tutorial [--data DIR] [--workers N] [--scheduler sync|threads]
 *            [--cell 17]    (only the S3 cell)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <time.h>

#include "cbag.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static cbag_ctx *cx;
static double t0;
static int failures;

static void cell(const char *n, const char *code) {
    printf("\nIn [%s]:\n%s\n\n", n, code);
    fflush(stdout);
    t0 = now();
}

/* Prints a result as the notebook does (repr), long ones shortened. */
static void show(cbag_result *r) {
    if (!r) {
        printf("error: %s\n", cbag_errmsg(cx));
        cbag_clear_error(cx);
        failures++;
        return;
    }
    size_t len;
    char *s = cbag_format(cbag_result_value(r), CBAG_FMT_REPR, &len);
    if (!s) {
        printf("error: out of memory formatting the result\n");
        failures++;
    } else if (len > 1200) {
        printf("%.1200s... (%zu more characters)\n", s, len - 1200);
    } else {
        printf("%s\n", s);
    }
    free(s);
    cbag_result_free(r);
    printf("Wall time: %.1f ms\n", (now() - t0) * 1e3);
}

#define TAXI_URL "s3://dask-data/nyc-taxi/2015/yellow_tripdata_2015-01.csv"

/* In [17]: a remote CSV, read anonymously. It needs an S3 endpoint holding
 * that key (AWS_ENDPOINT_URL; tests/remote/run.sh starts a local one), or
 * CBAG_TUTORIAL_S3_URL naming the CSV to read instead (the real one on
 * AWS, say); otherwise the cell is skipped. */
static void cell_17(void) {
    cell("17", "b = db.read_text('" TAXI_URL "',\n"
               "                 storage_options={'anon': True})\nb.take(2)");
    const char *u = getenv("CBAG_TUTORIAL_S3_URL");
    if ((!u || !*u) && !getenv("AWS_ENDPOINT_URL")) {
        printf("(skipped: set AWS_ENDPOINT_URL to an S3 endpoint holding "
               "%s, or CBAG_TUTORIAL_S3_URL to the URL of a CSV to read)\n",
               TAXI_URL);
        return;
    }
    cbag_text_options o = {0};
    o.storage.anon = true;
    show(cbag_take(cbag_read_text(cx, u && *u ? u : TAXI_URL, &o), 2, 1));
}

/* ------------------------------------------------------------------------ */
/* The notebook's functions                                                 */

/* def is_even(n): return n % 2 == 0 */
static int is_even(cbag_call *c, const cbag_val *n, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(n) % 2 == 0;
}

/* lambda x: x ** 2 */
static const cbag_val *square(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    int64_t i = cbag_int_value(x);
    return cbag_new_int(c, i * i);
}

/* lambda record: record['name'] == 'Alice' */
static int is_alice(cbag_call *c, const cbag_val *r, void *ud) {
    (void)ud;
    const cbag_val *name = cbag_key(c, r, "name");
    if (!name) return -1;
    return cbag_str_eq(name, "Alice");
}

/* def count_transactions(d):
 *     return {'name': d['name'], 'count': len(d['transactions'])} */
static const cbag_val *count_transactions(cbag_call *c, const cbag_val *d,
                                          void *ud) {
    (void)ud;
    const cbag_val *name = cbag_key(c, d, "name");
    const cbag_val *tx = cbag_key(c, d, "transactions");
    if (!name || !tx) return NULL;
    cbag_val *out = cbag_new_dict(c, 2);
    if (!out || cbag_set(c, out, "name", name) ||
        cbag_set(c, out, "count", cbag_new_int(c, (int64_t)cbag_len(tx))))
        return NULL;
    return out;
}

/* len */
static const cbag_val *len(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, (int64_t)cbag_len(x));
}

/* lambda x: x % 2 */
static const cbag_val *mod2(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) % 2);
}

/* lambda item: item['name'] */
static const cbag_val *get_name(cbag_call *c, const cbag_val *item, void *ud) {
    (void)ud;
    return cbag_key(c, item, "name");
}

/* max as a binary operator */
static const cbag_val *max2(cbag_call *c, const cbag_val *a, const cbag_val *b,
                            void *ud) {
    (void)c, (void)ud;
    return cbag_cmp(b, a) > 0 ? b : a;
}

/* lambda k, v: (k, max(v)) */
static const cbag_val *key_max(cbag_call *c, size_t argc,
                               const cbag_val *const *argv, void *ud) {
    (void)ud;
    if (argc != 2) return cbag_fail(c, "TypeError: expected (key, values)");
    const cbag_val *best = NULL;
    for (size_t i = 0; i < cbag_len(argv[1]); i++)
        if (!best || cbag_cmp(cbag_at(argv[1], (int64_t)i), best) > 0)
            best = cbag_at(argv[1], (int64_t)i);
    if (!best) return cbag_fail(c, "ValueError: max() arg is an empty sequence");
    const cbag_val *t[2] = {argv[0], best};
    return cbag_new_tuplev(c, 2, t);
}

/* lambda k, v: (k, len(v)) */
static const cbag_val *key_len(cbag_call *c, size_t argc,
                               const cbag_val *const *argv, void *ud) {
    (void)ud;
    if (argc != 2) return cbag_fail(c, "TypeError: expected (key, values)");
    const cbag_val *t[2] = {argv[0], cbag_new_int(c, (int64_t)cbag_len(argv[1]))};
    return t[1] ? cbag_new_tuplev(c, 2, t) : NULL;
}

/* def incr(tot, _): return tot + 1 */
static const cbag_val *incr(cbag_call *c, const cbag_val *tot,
                            const cbag_val *x, void *ud) {
    (void)x, (void)ud;
    return cbag_new_int(c, cbag_int_value(tot) + 1);
}

/* operator.add on ints */
static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

/* the exercise: tot + sum(t['amount'] for t in val['transactions']) */
static const cbag_val *add_amounts(cbag_call *c, const cbag_val *tot,
                                   const cbag_val *val, void *ud) {
    (void)ud;
    const cbag_val *tx = cbag_key(c, val, "transactions");
    if (!tx) return NULL;
    int64_t amt = 0;
    for (size_t i = 0; i < cbag_len(tx); i++) {
        const cbag_val *a = cbag_key(c, cbag_at(tx, (int64_t)i), "amount");
        if (!a) return NULL;
        amt += cbag_int_value(a);
    }
    return cbag_new_int(c, cbag_int_value(tot) + amt);
}

/* def denormalize(record):
 *     return [{'id': record['id'], 'name': record['name'],
 *              'amount': transaction['amount'],
 *              'transaction-id': transaction['transaction-id']}
 *             for transaction in record['transactions']] */
static const cbag_val *denormalize(cbag_call *c, const cbag_val *record,
                                   void *ud) {
    (void)ud;
    const cbag_val *id = cbag_key(c, record, "id");
    const cbag_val *name = cbag_key(c, record, "name");
    const cbag_val *tx = cbag_key(c, record, "transactions");
    if (!id || !name || !tx) return NULL;
    cbag_val *out = cbag_new_list(c, cbag_len(tx));
    for (size_t i = 0; out && i < cbag_len(tx); i++) {
        const cbag_val *t = cbag_at(tx, (int64_t)i);
        const cbag_val *amount = cbag_key(c, t, "amount");
        const cbag_val *tid = cbag_key(c, t, "transaction-id");
        cbag_val *d = cbag_new_dict(c, 4);
        if (!amount || !tid || !d || cbag_set(c, d, "id", id) ||
            cbag_set(c, d, "name", name) || cbag_set(c, d, "amount", amount) ||
            cbag_set(c, d, "transaction-id", tid) || cbag_append(c, out, d))
            return NULL;
    }
    return out;
}

/* Prints a frame (or its first n rows) as pandas does, with the time. */
static void show_frame(cbag_frame *f, size_t n) {
    int rc = f ? (n ? cbag_frame_print_head(stdout, f, n)
                    : cbag_frame_print(stdout, f))
               : CBAG_ERROR;
    if (rc != CBAG_OK) {
        printf("error: %s\n", cbag_errmsg(cx));
        cbag_clear_error(cx);
        failures++;
        return;
    }
    printf("Wall time: %.1f ms\n", (now() - t0) * 1e3);
}

/* print(sorted(result)) */
static void show_sorted(cbag_result *r) {
    if (!r) {
        show(NULL);
        return;
    }
    const cbag_val *l = cbag_result_value(r);
    size_t n = cbag_len(l);
    const cbag_val **v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = cbag_at(l, (int64_t)i);
    for (size_t i = 1; i < n; i++) /* insertion sort: few groups */
        for (size_t j = i; j > 0 && cbag_cmp(v[j - 1], v[j]) > 0; j--) {
            const cbag_val *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    fputc('[', stdout);
    for (size_t i = 0; i < n; i++) {
        if (i) fputs(", ", stdout);
        cbag_fprint(stdout, v[i], CBAG_FMT_REPR);
    }
    fputs("]\n", stdout);
    free(v);
    cbag_result_free(r);
    printf("Wall time: %.1f ms\n", (now() - t0) * 1e3);
}

/* sanity check: sum(x) / len(x) over a computed list */
static double list_mean(const cbag_val *l) {
    double s = 0;
    for (size_t i = 0; i < cbag_len(l); i++)
        s += cbag_float_value(cbag_at(l, (int64_t)i));
    return s / (double)cbag_len(l);
}

int main(int argc, char **argv) {
    const char *data = "data", *sched = NULL;
    int workers = 0, only_s3 = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--cell") == 0 && i + 1 < argc &&
                 strcmp(argv[i + 1], "17") == 0)
            only_s3 = ++i;
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scheduler") == 0 && i + 1 < argc)
            sched = argv[++i];
        else {
            fprintf(stderr,
                    "usage: tutorial [--data DIR] [--workers N] "
                    "[--scheduler sync|threads] [--cell 17]\n");
            return 2;
        }
    }
    if (only_s3) { /* the S3 cell alone: no accounts data needed */
        cx = cbag_open(NULL);
        if (!cx) return 1;
        cell_17();
        cbag_close(cx);
        return failures ? 1 : 0;
    }

    /* In [1]: %run prep.py -d accounts */
    char pattern[4096];
    snprintf(pattern, sizeof pattern, "%s/accounts.*.json.gz", data);
    cell("1", "%run prep.py -d accounts");
    glob_t found;
    int have = glob(pattern, 0, NULL, &found) == 0 && found.gl_pathc > 0;
    globfree(&found);
    if (!have) { /* any accounts files there are used as they are */
        char err[1024];
        if (cbag_prep_accounts(data, NULL, err, sizeof err) != CBAG_OK) {
            fprintf(stderr, "tutorial: %s\n", err);
            return 1;
        }
        printf("Created JSON accounts in %s/\n", data);
    } else {
        printf("%s/ already has the accounts data\n", data);
    }
    printf("Wall time: %.1f ms\n", (now() - t0) * 1e3);

    /* In [2]: client = Client(n_workers=4) */
    cbag_options opt = {0};
    opt.scheduler = sched;
    opt.workers = workers;
    cx = cbag_open(&opt);
    if (!cx || cbag_errcode(cx)) {
        fprintf(stderr, "tutorial: %s\n", cx ? cbag_errmsg(cx) : "no memory");
        return 1;
    }
    cbag_call *m = cbag_main(cx);
    printf("\nIn [2]:\ncbag_open: %s scheduler, %d workers\n",
           sched ? sched : "threads", cbag_workers(cx));

    cell("14", "b = db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "
               "npartitions=2)\nb.take(3)");
    cbag_val *ten = cbag_new_list(m, 10);
    for (int i = 1; i <= 10; i++) cbag_append(m, ten, cbag_new_int(m, i));
    cbag *b = cbag_from_sequence(cx, ten, 2, 0);
    show(cbag_take(b, 3, 1));

    cell("15", "b = db.read_text(os.path.join('data', 'accounts.*.json.gz'))"
               "\nb.take(1)");
    cbag *lines = cbag_read_text(cx, pattern, NULL);
    show(cbag_take(lines, 1, 1));

    cell_17();

    cell("18", "b = db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])\n"
               "c = b.filter(is_even).map(lambda x: x ** 2)\nc");
    b = cbag_from_sequence(cx, ten, 0, 0);
    cbag *c = cbag_map(cbag_filter(b, is_even, NULL), square, NULL);
    printf("cbag.bag<map(square), npartitions=%zu>\n", cbag_npartitions(c));

    cell("19", "c.compute()");
    show(cbag_compute(c));

    cell("20", "filename = os.path.join('data', 'accounts.*.json.gz')\n"
               "lines = db.read_text(filename)\nlines.take(3)");
    show(cbag_take(lines, 3, 1));

    cell("21", "js = lines.map(json.loads)\njs.take(3)");
    cbag *js = cbag_map(lines, cbag_json_loads, NULL);
    show(cbag_take(js, 3, 1));

    cell("22", "js.filter(lambda record: record['name'] == 'Alice').take(5)");
    cbag *alice = cbag_filter(js, is_alice, NULL);
    show(cbag_take(alice, 5, 1));

    cell("23", "(js.filter(lambda record: record['name'] == 'Alice')\n"
               "   .map(count_transactions)\n   .take(5))");
    cbag *counts = cbag_map(alice, count_transactions, NULL);
    show(cbag_take(counts, 5, 1));

    cell("36", "(js.filter(lambda record: record['name'] == 'Alice')\n"
               "   .map(count_transactions)\n   .pluck('count')\n"
               "   .take(5))");
    cbag *count = cbag_pluck(counts, "count");
    show(cbag_take(count, 5, 1));

    cell("48", "(js.filter(lambda record: record['name'] == 'Alice')\n"
               "   .map(count_transactions)\n   .pluck('count')\n"
               "   .mean()\n   .compute())");
    show(cbag_compute_item(cbag_mean(count)));

    cell("49", "sanity_check = (js.filter(lambda r: r['name'] == 'Alice')\n"
               "    .map(count_transactions).pluck('count').compute())\n"
               "sum(sanity_check) / len(sanity_check)");
    cbag_result *r = cbag_compute(count);
    if (r) {
        printf("%.17g\n", list_mean(cbag_result_value(r)));
        cbag_result_free(r);
        printf("Wall time: %.1f ms\n", (now() - t0) * 1e3);
    } else {
        show(NULL);
    }

    cell("50", "js.filter(lambda record: record['name'] == 'Alice')"
               ".pluck('transactions').take(3)");
    cbag *tx = cbag_pluck(alice, "transactions");
    show(cbag_take(tx, 3, 1));

    cell("51", "(js.filter(lambda record: record['name'] == 'Alice')\n"
               "   .pluck('transactions')\n   .flatten()\n   .take(3))");
    cbag *flat = cbag_flatten(tx);
    show(cbag_take(flat, 3, 1));

    cell("52", "(js.filter(lambda record: record['name'] == 'Alice')\n"
               "   .pluck('transactions')\n   .flatten()\n"
               "   .pluck('amount')\n   .take(3))");
    cbag *amounts = cbag_pluck(flat, "amount");
    show(cbag_take(amounts, 3, 1));

    cell("53", "(js.filter(lambda record: record['name'] == 'Alice')\n"
               "   .pluck('transactions')\n   .flatten()\n"
               "   .pluck('amount')\n   .mean()\n   .compute())");
    show(cbag_compute_item(cbag_mean(amounts)));

    cell("54", "b = db.from_sequence(['Alice', 'Bob', 'Charlie', 'Dan', "
               "'Edith', 'Frank'])\nb.groupby(len).compute()");
    const char *nm[] = {"Alice", "Bob", "Charlie", "Dan", "Edith", "Frank"};
    cbag_val *names = cbag_new_list(m, 6);
    for (int i = 0; i < 6; i++) cbag_append(m, names, cbag_new_strz(m, nm[i]));
    show(cbag_compute(cbag_groupby_fn(cbag_from_sequence(cx, names, 0, 0), len,
                                      0, NULL)));

    cell("57", "b = db.from_sequence(list(range(10)))\n"
               "b.groupby(lambda x: x % 2).compute()");
    cbag_val *r10 = cbag_new_list(m, 10);
    for (int i = 0; i < 10; i++) cbag_append(m, r10, cbag_new_int(m, i));
    b = cbag_from_sequence(cx, r10, 0, 0);
    cbag *g = cbag_groupby_fn(b, mod2, 0, NULL);
    show(cbag_compute(g));

    cell("58", "b.groupby(lambda x: x % 2).starmap(lambda k, v: (k, max(v)))"
               ".compute()");
    show(cbag_compute(cbag_starmap(g, key_max, NULL)));

    cell("63", "is_even = lambda x: x % 2\n"
               "b.foldby(is_even, binop=max, combine=max).compute()");
    cbag_foldby_options fo = {0};
    fo.combine = max2;
    show(cbag_compute(cbag_foldby_fn(b, mod2, max2, &fo, NULL)));

    cell("64", "result = js.groupby(lambda item: item['name'])"
               ".starmap(lambda k, v: (k, len(v))).compute()\n"
               "print(sorted(result))");
    show_sorted(cbag_compute(
        cbag_starmap(cbag_groupby_fn(js, get_name, 0, NULL), key_len, NULL)));

    cell("78", "result = js.foldby(key='name', binop=incr, initial=0, "
               "combine=add, combine_initial=0).compute()\n"
               "print(sorted(result))");
    cbag_foldby_options count_opt = {0};
    count_opt.initial = cbag_new_int(m, 0);
    count_opt.combine = add;
    count_opt.combine_initial = cbag_new_int(m, 0);
    show_sorted(cbag_compute(cbag_foldby(js, "name", incr, &count_opt, NULL)));

    cell("95", "js.foldby('name', binop=binop, initial=0, combine=add, "
               "combine_initial=0).compute()");
    show(cbag_compute(cbag_foldby(js, "name", add_amounts, &count_opt, NULL)));

    cell("79", "df1 = js.to_dataframe()\ndf1.head()");
    cbag_frame *df1 = cbag_to_dataframe(js, NULL);
    show_frame(df1, 5);

    cell("82", "df1.groupby('name').id.count().compute().head()");
    show_frame(cbag_frame_groupby(df1, "name", "id", "count"), 5);

    cell("83", "transactions = js.map(denormalize).flatten()\n"
               "transactions.take(3)");
    cbag *transactions = cbag_flatten(cbag_map(js, denormalize, NULL));
    show(cbag_take(transactions, 3, 1));

    cell("84", "df = transactions.to_dataframe()\ndf.head()");
    cbag_frame *df = cbag_to_dataframe(transactions, NULL);
    show_frame(df, 5);

    cell("85", "df.groupby('name')['transaction-id'].count().compute()");
    show_frame(cbag_frame_groupby(df, "name", "transaction-id", "count"), 0);

    cbag_close(cx);
    if (failures) {
        fprintf(stderr, "tutorial: %d cell(s) failed\n", failures);
        return 1;
    }
    return 0;
}
