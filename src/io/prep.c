/* prep.c: the dask tutorial's accounts data set, fast.
 *
 * The same shape as dask-tutorial's prep.py / accounts.py: k accounts
 * with a random name, wealth_mag ~ exponential(100), wealth_trend ~
 * normal(10, 10), freq ~ exponential(1) normalised; each file has n
 * transactions, each for an account drawn by freq, amount =
 * int((normal(0, 1) + trend) * mag), transaction-id = its index in the
 * file; one JSON line per account present in the file, in id order, as
 * json.dumps writes it, lines joined by "\n" without a final one.
 *
 * The random numbers are our own (xoshiro256** seeded by splitmix64), not
 * numpy's, so the values differ from the tutorial's but not their
 * distribution. Account parameters come from the seed; each file has its
 * own stream derived from the seed and its index, so files are generated
 * in parallel and the output does not depend on the thread count. The
 * cost is deflate: ISA-L level 1 through cbag__out. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "mem.h"
#include "rng.h"
#include "src.h"

static const char *const names[26] = {
    "Alice",  "Bob",      "Charlie", "Dan",    "Edith", "Frank",   "George",
    "Hannah", "Ingrid",   "Jerry",   "Kevin",  "Laura", "Michael", "Norbert",
    "Oliver", "Patricia", "Quinn",   "Ray",    "Sarah", "Tim",     "Ursula",
    "Victor", "Wendy",    "Xavier",  "Yvonne", "Zelda"};

typedef struct {
    uint64_t s[4];
    int have_spare; /* Box-Muller makes two normals at a time */
    double spare;
} rng;

static void rng_seed(rng *r, uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = cbag__splitmix64(&x);
    r->have_spare = 0;
}

/* uniform in [0, 1) */
static inline double uniform(rng *r) { return cbag__uniform(r->s); }

static double normal(rng *r) {
    if (r->have_spare) {
        r->have_spare = 0;
        return r->spare;
    }
    double u = 1.0 - uniform(r); /* (0, 1]: log is finite */
    double v = uniform(r);
    double m = sqrt(-2.0 * log(u));
    r->spare = m * sin(2 * M_PI * v);
    r->have_spare = 1;
    return m * cos(2 * M_PI * v);
}

static double exponential(rng *r, double scale) {
    return -scale * log(1.0 - uniform(r));
}

typedef struct {
    const char *dir;
    int nfiles, k, n;
    uint64_t seed;
    int *name;
    double *mag, *trend, *cdf;
    atomic_int next;
    atomic_int failed;
    pthread_mutex_t lock;
    int code;
    char err[1100];
} job;

static char *put_u64(char *p, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_i64(char *p, int64_t v) {
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

static char *put_s(char *p, const char *s) {
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static void job_fail(job *j, int code, const char *msg) {
    pthread_mutex_lock(&j->lock);
    if (!j->code) {
        j->code = code;
        snprintf(j->err, sizeof j->err, "prep_accounts: %s", msg);
    }
    pthread_mutex_unlock(&j->lock);
    atomic_store(&j->failed, 1);
}

/* Makes file f: CBAG_OK or an error recorded on the job. */
static int make_file(job *j, int f, int *acct, int32_t *amount, uint32_t *count,
                     uint32_t *order) {
    rng r;
    rng_seed(&r, j->seed, (uint64_t)f + 1);
    int k = j->k, n = j->n;
    memset(count, 0, (size_t)(k + 1) * sizeof *count);
    for (int t = 0; t < n; t++) {
        /* the first account whose cumulative frequency exceeds u */
        double u = uniform(&r);
        int lo = 0, hi = k - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (j->cdf[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        double a = (normal(&r) + j->trend[lo]) * j->mag[lo];
        if (a > 2147483647.0) a = 2147483647.0; /* numpy's i4, sanely */
        if (a < -2147483648.0) a = -2147483648.0;
        acct[t] = lo;
        amount[t] = (int32_t)a; /* truncation toward zero, as int() */
        count[lo + 1]++;
    }
    /* counting sort by account, stable: transaction ids stay increasing */
    for (int i = 0; i < k; i++)
        count[i + 1] += count[i];
    for (int t = 0; t < n; t++)
        order[count[acct[t]]++] = (uint32_t)t;
    /* count[i] is now the end of account i's run */
    size_t cap = (size_t)n * 56 + (size_t)k * 80 + 64;
    char *text = cbag__malloc(cap), *p = text;
    if (!text) {
        job_fail(j, CBAG_NOMEM, "out of memory");
        return CBAG_NOMEM;
    }
    uint32_t begin = 0;
    for (int i = 0; i < k; i++) {
        uint32_t end = count[i];
        if (end == begin) continue;
        if (p != text) *p++ = '\n';
        p = put_s(p, "{\"id\": ");
        p = put_u64(p, (uint64_t)i);
        p = put_s(p, ", \"name\": \"");
        p = put_s(p, names[j->name[i]]);
        p = put_s(p, "\", \"transactions\": [");
        for (uint32_t q = begin; q < end; q++) {
            if (q != begin) p = put_s(p, ", ");
            p = put_s(p, "{\"transaction-id\": ");
            p = put_u64(p, order[q]);
            p = put_s(p, ", \"amount\": ");
            p = put_i64(p, amount[order[q]]);
            *p++ = '}';
        }
        p = put_s(p, "]}");
        begin = end;
    }
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/accounts.%02d.json.gz", j->dir, f);
    cbag__out *o =
        cbag__out_open_level(path, CBAG__CODEC_GZIP, 1, err, sizeof err);
    int rc = o ? CBAG_OK : CBAG_IO;
    if (o && cbag__out_write(o, text, (size_t)(p - text)) != CBAG_OK) {
        snprintf(err, sizeof err, "%s", cbag__out_error(o));
        cbag__out_abort(o);
        o = NULL;
        rc = CBAG_IO;
    }
    if (o) rc = cbag__out_commit_err(o, err, sizeof err);
    cbag__free(text);
    if (rc != CBAG_OK) job_fail(j, rc, err);
    return rc;
}

static void *worker(void *arg) {
    job *j = arg;
    size_t n = (size_t)j->n, k = (size_t)j->k;
    int *acct = cbag__malloc(n * sizeof *acct);
    int32_t *amount = cbag__malloc(n * sizeof *amount);
    uint32_t *order = cbag__malloc(n * sizeof *order);
    uint32_t *count = cbag__malloc((k + 1) * sizeof *count);
    if (!acct || !amount || !order || !count) {
        job_fail(j, CBAG_NOMEM, "out of memory");
    } else {
        for (;;) {
            if (atomic_load(&j->failed)) break;
            int f = atomic_fetch_add(&j->next, 1);
            if (f >= j->nfiles) break;
            if (make_file(j, f, acct, amount, count, order) != CBAG_OK) break;
        }
    }
    cbag__free(acct);
    cbag__free(amount);
    cbag__free(order);
    cbag__free(count);
    return NULL;
}

int cbag_prep_accounts(const char *dir, const cbag_prep_options *opt, char *err,
                       size_t errlen) {
    cbag_prep_options d = {0};
    if (opt) d = *opt;
    if (!dir || !*dir || d.nfiles < 0 || d.naccounts < 0 ||
        d.ntransactions < 0 || d.threads < 0) {
        cbag__io_msg(err, errlen,
                     "prep_accounts: invalid arguments (a directory and counts "
                     ">= 0 are needed)");
        return CBAG_INVALID;
    }
    job j;
    memset(&j, 0, sizeof j);
    j.dir = dir;
    j.nfiles = d.nfiles ? d.nfiles : 50;
    j.k = d.naccounts ? d.naccounts : 500;
    j.n = d.ntransactions ? d.ntransactions : 100000;
    j.seed = d.seed ? d.seed : 42;
    if (j.n > 20000000 || j.k > 20000000) {
        cbag__io_msg(err, errlen,
                     "prep_accounts: at most 20000000 accounts and "
                     "transactions per file");
        return CBAG_INVALID;
    }
    int threads = d.threads;
    if (threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (int)c : 1;
    }
    if (threads > j.nfiles) threads = j.nfiles;
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    pthread_mutex_init(&j.lock, NULL);

    size_t k = (size_t)j.k;
    j.name = cbag__malloc(k * sizeof *j.name);
    j.mag = cbag__malloc(k * sizeof *j.mag);
    j.trend = cbag__malloc(k * sizeof *j.trend);
    j.cdf = cbag__malloc(k * sizeof *j.cdf);
    pthread_t *tid = cbag__calloc((size_t)threads, sizeof *tid);
    int rc = CBAG_OK;
    if (!j.name || !j.mag || !j.trend || !j.cdf || !tid) {
        cbag__io_msg(err, errlen, "prep_accounts: out of memory");
        rc = CBAG_NOMEM;
        goto done;
    }
    /* account parameters, in prep.py's order */
    rng r;
    rng_seed(&r, j.seed, 0);
    for (size_t i = 0; i < k; i++)
        j.name[i] = (int)(uniform(&r) * 26);
    for (size_t i = 0; i < k; i++)
        j.mag[i] = exponential(&r, 100);
    for (size_t i = 0; i < k; i++)
        j.trend[i] = 10 + 10 * normal(&r);
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += j.cdf[i] = exponential(&r, 1);
    double acc = 0;
    for (size_t i = 0; i < k; i++)
        j.cdf[i] = (acc += j.cdf[i]) / sum;
    j.cdf[k - 1] = 2.0; /* every u < 1 lands somewhere, rounding aside */

    int started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &j) != 0) break;
    if (started == 0) worker(&j); /* no thread at all: do it here */
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    if (j.code) {
        cbag__io_msg(err, errlen, "%s", j.err);
        rc = j.code;
    }
done:
    pthread_mutex_destroy(&j.lock);
    cbag__free(j.name);
    cbag__free(j.mag);
    cbag__free(j.trend);
    cbag__free(j.cdf);
    cbag__free(tid);
    return rc;
}
