/* queries.c: the benchmark queries of BENCHMARKS.md through the C API.
 *
 *   queries prep DIR                 generate the tutorial's accounts data
 *                                    in DIR (BENCH_SCALE=K: K x 50 files)
 *   queries Q0..Q7|Q3i|Q6b GLOB [--workers N] [--scheduler threads|sync|mpi]
 *           [--memory-limit MB] [--out DIR] [--time]
 *
 * A query prints its result as Python's repr on stdout (one line), so that
 * scripts/run-bench can compare it with dask's; the time is measured by
 * the caller, around the whole process (--time also prints "seconds S" on
 * stderr: from after cbag_open to the result, leaving out process and MPI
 * start-up). Results that are lists of (key, value) tuples are printed
 * sorted, as print(sorted(result)). With --scheduler mpi (under mpirun),
 * rank 0 prints.
 *
 *   Q0  read_text(GLOB).count()
 *   Q1  js.filter(name == 'Alice').map(count_transactions).pluck('count')
 *         .mean()                              (the tutorial's 188.49...)
 *   Q2  js.filter(name == 'Alice').pluck('transactions').flatten()
 *         .pluck('amount').mean()              (the tutorial's 639.19...)
 *   Q3  js.groupby(lambda r: r['name']).starmap(lambda k, v: (k, len(v)))
 *   Q3i js.groupby(lambda r: r['id'] % 1000).starmap(...), the same with
 *         many small groups (for the memory-bounded groupby on 10x data)
 *   Q4  js.foldby('name', incr, initial=0, combine=add, combine_initial=0)
 *   Q5  js.foldby('name', binop, initial=0, combine=add, combine_initial=0)
 *         with the exercise's binop: tot + sum of the record's amounts
 *   Q6  js.map(denormalize).flatten().to_dataframe()
 *         .groupby('name')['transaction-id'].count()
 *         (cbag_to_dataframe, cbag_frame_groupby, then cbag_frame_to_bag
 *         with the index: (name, count) tuples)
 *   Q6b the group-by of Q6 alone on a frame already built, against the
 *         bag foldby (Q4's incr/add) over the same rows held in memory
 *         (cbag_from_sequence of the computed rows, as many partitions
 *         as the frame): prints "frame_groupby S bag_foldby S rows N
 *         groups G" with the median of 3 timings (clock_gettime) of each
 *         after checking that both give the same counts; building the
 *         frame and the in-memory bag is not timed ("to_dataframe S"
 *         follows for reference)
 *   Q7  js.map(json.dumps).to_textfiles('DIR/' '*.json.gz'): writes the
 *         records back (--out DIR, made if missing); prints the number of
 *         files written
 * with js = read_text(GLOB).map(json.loads).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

/* lambda item: item['name'] */
static const cbag_val *get_name(cbag_call *c, const cbag_val *item, void *ud) {
    (void)ud;
    return cbag_key(c, item, "name");
}

/* lambda r: r['id'] % 1000 */
static const cbag_val *id_mod(cbag_call *c, const cbag_val *item, void *ud) {
    (void)ud;
    const cbag_val *id = cbag_key(c, item, "id");
    return id ? cbag_new_int(c, cbag_int_value(id) % 1000) : NULL;
}

/* lambda k, v: (k, len(v)) */
static const cbag_val *key_len(cbag_call *c, size_t argc,
                               const cbag_val *const *argv, void *ud) {
    (void)ud;
    if (argc != 2) return cbag_fail(c, "TypeError: expected (key, values)");
    const cbag_val *t[2] = {argv[0],
                            cbag_new_int(c, (int64_t)cbag_len(argv[1]))};
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

/* the exercise's binop: tot + sum(t['amount'] for t in val['transactions']) */
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

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_vals(const void *a, const void *b) {
    return cbag_cmp(*(const cbag_val *const *)a, *(const cbag_val *const *)b);
}

/* The elements of the list l sorted (cbag_cmp), into a malloc'd array. */
static const cbag_val **sorted_elems(const cbag_val *l, size_t *n) {
    *n = cbag_len(l);
    const cbag_val **v = malloc((*n ? *n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < *n; i++)
        v[i] = cbag_at(l, (int64_t)i);
    qsort(v, *n, sizeof *v, cmp_vals);
    return v;
}

/* print(sorted(l)) */
static int print_sorted(const cbag_val *l) {
    size_t n;
    const cbag_val **v = sorted_elems(l, &n);
    if (!v) return CBAG_NOMEM;
    int rc = 0;
    fputc('[', stdout);
    for (size_t i = 0; i < n && !rc; i++) {
        if (i) fputs(", ", stdout);
        rc = cbag_fprint(stdout, v[i], CBAG_FMT_REPR);
    }
    fputc(']', stdout);
    free(v);
    return rc;
}

/* sorted(a) == sorted(b) */
static bool same_sorted(const cbag_val *a, const cbag_val *b) {
    size_t na, nb;
    const cbag_val **x = sorted_elems(a, &na), **y = sorted_elems(b, &nb);
    bool same = x && y && na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = cbag_eq(x[i], y[i]);
    free(x);
    free(y);
    return same;
}

static double median3(const double *t) {
    double a = t[0], b = t[1], c = t[2];
    if (a > b) return b > c ? b : (a > c ? c : a);
    return a > c ? a : (b > c ? c : b);
}

static int fail(cbag_ctx *cx, const char *q) {
    fprintf(stderr, "queries: %s: %s\n", q, cbag_errmsg(cx));
    cbag_close(cx);
    return 1;
}

/* Q6b: see the comment at the top. */
static int q6b(cbag_ctx *cx, cbag *js) {
    cbag *transactions = cbag_flatten(cbag_map(js, denormalize, NULL));
    double t = now();
    cbag_frame *df = cbag_to_dataframe(transactions, NULL);
    double t_df = now() - t;
    if (!df) return fail(cx, "Q6b: to_dataframe");
    /* the same rows as a bag held in memory */
    cbag_result *rows = cbag_compute(transactions);
    if (!rows) return fail(cx, "Q6b: compute rows");
    cbag *mem = cbag_from_sequence(cx, cbag_result_value(rows),
                                   cbag_frame_npartitions(df), 0);
    size_t nrows = cbag_len(cbag_result_value(rows));
    cbag_result_free(rows);
    if (!mem) return fail(cx, "Q6b: from_sequence");
    if ((uint64_t)nrows != cbag_frame_len(df)) {
        fprintf(stderr,
                "queries: Q6b: %zu rows in the bag, %llu in the frame\n", nrows,
                (unsigned long long)cbag_frame_len(df));
        cbag_close(cx);
        return 1;
    }
    cbag_foldby_options o = {0};
    o.initial = cbag_new_int(cbag_main(cx), 0);
    o.combine = add;
    o.combine_initial = o.initial;

    double tf[3], tb[3];
    cbag_result *rf = NULL, *rb = NULL;
    for (int i = 0; i < 3; i++) {
        cbag_result_free(rf);
        cbag_result_free(rb);
        t = now();
        cbag_frame *g =
            cbag_frame_groupby(df, "name", "transaction-id", "count");
        tf[i] = now() - t;
        if (!g) return fail(cx, "Q6b: frame groupby");
        rf = cbag_compute(
            cbag_frame_to_bag(g, CBAG_FRAME_TUPLES | CBAG_FRAME_INDEX));
        if (!rf) return fail(cx, "Q6b: frame to_bag");
        t = now();
        rb = cbag_compute(cbag_foldby(mem, "name", incr, &o, NULL));
        tb[i] = now() - t;
        if (!rb) return fail(cx, "Q6b: bag foldby");
    }
    bool same = same_sorted(cbag_result_value(rf), cbag_result_value(rb));
    size_t groups = cbag_len(cbag_result_value(rf));
    cbag_result_free(rf);
    cbag_result_free(rb);
    cbag_close(cx);
    if (!same) {
        fprintf(stderr, "queries: Q6b: the frame group-by and the bag foldby "
                        "differ\n");
        return 1;
    }
    printf("frame_groupby %.6f bag_foldby %.6f rows %zu groups %zu "
           "to_dataframe %.6f\n",
           median3(tf), median3(tb), nrows, groups, t_df);
    return fflush(stdout) ? 1 : 0;
}

static int usage(void) {
    fprintf(stderr,
            "usage: queries prep DIR\n"
            "       queries Q0..Q7|Q3i|Q6b GLOB [--workers N] "
            "[--scheduler threads|sync|mpi] [--out DIR] [--memory-limit MB] "
            "[--time]\n");
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
    const char *outdir = NULL;
    bool timed = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            opt.workers = atoi(argv[++i]);
        else if (strcmp(argv[i], "--scheduler") == 0 && i + 1 < argc)
            opt.scheduler = argv[++i];
        else if (strcmp(argv[i], "--memory-limit") == 0 && i + 1 < argc)
            opt.memory_limit = (size_t)strtoull(argv[++i], NULL, 10) << 20;
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            outdir = argv[++i];
        else if (strcmp(argv[i], "--time") == 0)
            timed = true;
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
    /* mpi: every rank runs the query; rank 0 has the result and prints */
    bool quiet = cbag_rank(cx) != 0;
    if (quiet && !freopen("/dev/null", "w", stdout)) return 1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    cbag *lines = cbag_read_text(cx, glob, NULL);
    cbag *js = cbag_map(lines, cbag_json_loads, NULL);
    cbag_item *it = NULL;
    cbag *list = NULL; /* a bag of (key, value) tuples, printed sorted */
    cbag_foldby_options count_opt = {0};
    count_opt.initial = cbag_new_int(cbag_main(cx), 0);
    count_opt.combine = add;
    count_opt.combine_initial = count_opt.initial;
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
    } else if (strcmp(q, "Q3") == 0) {
        list =
            cbag_starmap(cbag_groupby_fn(js, get_name, 0, NULL), key_len, NULL);
    } else if (strcmp(q, "Q3i") == 0) {
        list =
            cbag_starmap(cbag_groupby_fn(js, id_mod, 0, NULL), key_len, NULL);
    } else if (strcmp(q, "Q4") == 0) {
        list = cbag_foldby(js, "name", incr, &count_opt, NULL);
    } else if (strcmp(q, "Q5") == 0) {
        list = cbag_foldby(js, "name", add_amounts, &count_opt, NULL);
    } else if (strcmp(q, "Q6") == 0) {
        cbag *transactions = cbag_flatten(cbag_map(js, denormalize, NULL));
        cbag_frame *df = cbag_to_dataframe(transactions, NULL);
        cbag_frame *g =
            cbag_frame_groupby(df, "name", "transaction-id", "count");
        if (!g) return fail(cx, q);
        list = cbag_frame_to_bag(g, CBAG_FRAME_TUPLES | CBAG_FRAME_INDEX);
    } else if (strcmp(q, "Q6b") == 0) {
        return q6b(cx, js);
    } else if (strcmp(q, "Q7") == 0) {
        if (!outdir) {
            cbag_close(cx);
            return usage();
        }
        if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "queries: Q7: cannot make %s: %s\n", outdir,
                    strerror(errno));
            cbag_close(cx);
            return 1;
        }
        size_t n = strlen(outdir) + sizeof "/*.json.gz";
        char *pattern = malloc(n);
        if (!pattern) return fail(cx, q);
        snprintf(pattern, n, "%s/*.json.gz", outdir);
        cbag *dumped = cbag_map(js, cbag_json_dumps, NULL);
        int rc = cbag_to_textfiles(dumped, pattern, NULL);
        free(pattern);
        if (rc != CBAG_OK) return fail(cx, q);
        printf("%zu\n", cbag_npartitions(dumped));
        cbag_close(cx);
        return fflush(stdout) ? 1 : 0;
    } else {
        cbag_close(cx);
        return usage();
    }

    cbag_result *r = list ? cbag_compute(list) : cbag_compute_item(it);
    if (!r) return fail(cx, q);
    if (timed && !quiet) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        fprintf(stderr, "seconds %.6f\n",
                (double)(t1.tv_sec - t0.tv_sec) +
                    (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    }
    int rc = 0;
    if (!quiet) {
        rc = list ? print_sorted(cbag_result_value(r))
                  : cbag_fprint(stdout, cbag_result_value(r), CBAG_FMT_REPR);
        putchar('\n');
    }
    cbag_result_free(r);
    cbag_close(cx);
    if (rc || fflush(stdout)) {
        fprintf(stderr, "queries: cannot write the result\n");
        return 1;
    }
    return 0;
}
