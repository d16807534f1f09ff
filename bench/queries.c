/* queries.c: the benchmark queries of BENCHMARKS.md through the C API.
 *
 *   queries prep DIR                 generate the tutorial's accounts data
 *                                    in DIR (BENCH_SCALE=K: K x 50 files)
 *   queries Q0|Q1|Q2 GLOB [--workers N] [--scheduler threads|sync]
 *
 * A query prints its result as Python's repr on stdout (one line), so that
 * scripts/run-bench can compare it with dask's; the time is measured by
 * the caller, around the whole process.
 *
 *   Q0  read_text(GLOB).count()
 *   Q1  js.filter(name == 'Alice').map(count_transactions).pluck('count')
 *         .mean()                              (the tutorial's 188.49...)
 *   Q2  js.filter(name == 'Alice').pluck('transactions').flatten()
 *         .pluck('amount').mean()              (the tutorial's 639.19...)
 * with js = read_text(GLOB).map(json.loads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbag.h"

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

static int usage(void) {
    fprintf(stderr, "usage: queries prep DIR\n"
                    "       queries Q0|Q1|Q2 GLOB [--workers N] "
                    "[--scheduler threads|sync]\n");
    return 2;
}

static int prep(const char *dir) {
    cbag_prep_options o = {0};
    const char *scale = getenv("BENCH_SCALE");
    if (scale && *scale) {
        int k = atoi(scale);
        if (k < 1 || k > 1000) {
            fprintf(stderr, "queries: BENCH_SCALE must be 1..1000\n");
            return 2;
        }
        o.nfiles = 50 * k; /* 10x data: ten times the files */
    }
    char err[1024];
    if (cbag_prep_accounts(dir, &o, err, sizeof err) != CBAG_OK) {
        fprintf(stderr, "queries: prep %s: %s\n", dir, err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    const char *q = argv[1], *glob = argv[2];
    if (strcmp(q, "prep") == 0) return argc == 3 ? prep(glob) : usage();

    cbag_options opt = {0};
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            opt.workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scheduler") == 0 && i + 1 < argc)
            opt.scheduler = argv[++i];
        else
            return usage();
    }
    cbag_ctx *cx = cbag_open(&opt);
    if (!cx) {
        fprintf(stderr, "queries: out of memory\n");
        return 1;
    }
    if (cbag_errcode(cx)) {
        fprintf(stderr, "queries: %s\n", cbag_errmsg(cx));
        cbag_close(cx);
        return 1;
    }

    cbag *lines = cbag_read_text(cx, glob, NULL);
    cbag *js = cbag_map(lines, cbag_json_loads, NULL);
    cbag_item *it = NULL;
    if (strcmp(q, "Q0") == 0) {
        it = cbag_count(lines);
    } else if (strcmp(q, "Q1") == 0) {
        it = cbag_mean(cbag_pluck(
            cbag_map(cbag_filter(js, is_alice, NULL), count_transactions, NULL),
            "count"));
    } else if (strcmp(q, "Q2") == 0) {
        it = cbag_mean(
            cbag_pluck(cbag_flatten(cbag_pluck(cbag_filter(js, is_alice, NULL),
                                               "transactions")),
                       "amount"));
    } else {
        cbag_close(cx);
        return usage();
    }

    cbag_result *r = cbag_compute_item(it);
    if (!r) {
        fprintf(stderr, "queries: %s: %s\n", q, cbag_errmsg(cx));
        cbag_close(cx);
        return 1;
    }
    int rc = cbag_fprint(stdout, cbag_result_value(r), CBAG_FMT_REPR);
    putchar('\n');
    cbag_result_free(r);
    cbag_close(cx);
    if (rc || fflush(stdout)) {
        fprintf(stderr, "queries: cannot write the result\n");
        return 1;
    }
    return 0;
}
