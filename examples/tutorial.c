/* tutorial.c: the dask.bag tutorial (bag-tutorial.txt), cell by cell, in C.
 *
 * Each cell prints its number, the Python it mirrors, the result as the
 * notebook shows it, and its wall time. The accounts data set is generated
 * into ./data when missing (as the notebook's `%run prep.py -d accounts`).
 *
 *   tutorial [--data DIR] [--workers N] [--scheduler sync|threads]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* sanity check: sum(x) / len(x) over a computed list */
static double list_mean(const cbag_val *l) {
    double s = 0;
    for (size_t i = 0; i < cbag_len(l); i++)
        s += cbag_float_value(cbag_at(l, (int64_t)i));
    return s / (double)cbag_len(l);
}

int main(int argc, char **argv) {
    const char *data = "data", *sched = NULL;
    int workers = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scheduler") == 0 && i + 1 < argc)
            sched = argv[++i];
        else {
            fprintf(stderr,
                    "usage: tutorial [--data DIR] [--workers N] "
                    "[--scheduler sync|threads]\n");
            return 2;
        }
    }

    /* In [1]: %run prep.py -d accounts */
    char glob[4096], probe[4096];
    snprintf(glob, sizeof glob, "%s/accounts.*.json.gz", data);
    snprintf(probe, sizeof probe, "%s/accounts.49.json.gz", data);
    struct stat st;
    cell("1", "%run prep.py -d accounts");
    if (stat(probe, &st) != 0) {
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
    cbag *lines = cbag_read_text(cx, glob, NULL);
    show(cbag_take(lines, 1, 1));

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

    cbag_close(cx);
    if (failures) {
        fprintf(stderr, "tutorial: %d cell(s) failed\n", failures);
        return 1;
    }
    return 0;
}
