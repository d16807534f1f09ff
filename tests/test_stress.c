/* test_stress.c: thousands of small random computes (random data, partition
 * counts, worker counts, operations and reductions, now and then a failing
 * callback), each checked against a model computed here in plain C; it
 * runs under ThreadSanitizer too (TSAN_TESTS), with fewer rounds
 * (CBAG_STRESS_ROUNDS overrides the count). And a compute whose callback
 * fails in one partition stops the other workers promptly and leaves the
 * context usable (LeakSanitizer checks, under make test-asan, that it
 * frees everything). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cbag.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ROUNDS 2000 /* about 10 s under TSan or ASan on 2 cores */
#else
#define ROUNDS 10000
#endif

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(uint64_t n) { /* xorshift64*, uniform enough */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (rng * 2685821657736338717ull >> 11) % (n ? n : 1);
}

/* ------------------------------------------------------------------------ */
/* The model: a list of ints                                                */

typedef struct {
    int64_t *v;
    size_t n, cap;
} ints;

static void push(ints *l, int64_t x) {
    if (l->n == l->cap) {
        l->cap = l->cap * 2 + 16;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = x;
}

/* ------------------------------------------------------------------------ */
/* Element-wise operations, each as a callback and in the model             */

static atomic_long fail_value; /* a map fails on this value; -1: never */

static const cbag_val *op_affine(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    int64_t v = cbag_int_value(x);
    if (v == atomic_load(&fail_value))
        return cbag_fail(c, "ValueError: %lld", (long long)v);
    return cbag_new_int(c, (v * 3 + 1) % 10007);
}
static int64_t m_affine(int64_t v) { return (v * 3 + 1) % 10007; }

static const cbag_val *op_half(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(x) / 2);
}

static int op_keep(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(x) % 3 != 0;
}

static const cbag_val *op_pair(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    cbag_val *l = cbag_new_list(c, 2);
    if (!l || cbag_append(c, l, x) ||
        cbag_append(c, l, cbag_new_int(c, cbag_int_value(x) % 10)))
        return NULL;
    return l;
}

static const cbag_val *key_mod(cbag_call *c, const cbag_val *x, void *ud) {
    return cbag_new_int(c, cbag_int_value(x) % *(const int *)ud);
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

static int cmp_int(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void sort_ints(ints *l) {
    if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_int);
}

/* ------------------------------------------------------------------------ */
/* One round                                                                */

static char *repr(const cbag_val *v) {
    return cbag_format(v, CBAG_FMT_REPR, NULL);
}

static void list_repr(cbag__buf *b, const int64_t *v, size_t n, int tuple) {
    cbag__buf_putc(b, tuple ? '(' : '[');
    for (size_t i = 0; i < n; i++)
        cbag__buf_printf(b, "%s%lld", i ? ", " : "", (long long)v[i]);
    if (tuple && n == 1) cbag__buf_putc(b, ',');
    cbag__buf_putc(b, tuple ? ')' : ']');
}

/* (key, count-or-sum) pairs of l by key % mod, in first-seen order. */
static void fold_model(const ints *l, int mod, int sum, cbag__buf *out) {
    int64_t keys[16], acc[16];
    size_t nk = 0;
    for (size_t i = 0; i < l->n; i++) {
        int64_t k = mod ? l->v[i] % mod : l->v[i];
        size_t j = 0;
        while (j < nk && keys[j] != k)
            j++;
        if (j == nk) {
            if (nk == 16) return; /* not used with more keys */
            keys[nk] = k;
            acc[nk++] = 0;
        }
        acc[j] += sum ? l->v[i] : 1;
    }
    cbag__buf_putc(out, '[');
    for (size_t j = 0; j < nk; j++)
        cbag__buf_printf(out, "%s(%lld, %lld)", j ? ", " : "",
                         (long long)keys[j], (long long)acc[j]);
    cbag__buf_putc(out, ']');
}

static int cmp_str_p(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A groupby result as "k: [...]" lines sorted by key (its group order
 * depends on hashing), or the model's. */
static char *groups_sorted(const cbag_val *r) {
    size_t n = cbag_len(r);
    char **lines = calloc(n + 1, sizeof *lines);
    size_t total = 1;
    for (size_t i = 0; i < n; i++) {
        const cbag_val *g = cbag_at(r, (int64_t)i);
        char *vals = repr(cbag_at(g, 1));
        lines[i] = malloc(strlen(vals) + 32);
        sprintf(lines[i], "%08lld: %s\n",
                (long long)cbag_int_value(cbag_at(g, 0)), vals);
        free(vals);
        total += strlen(lines[i]);
    }
    if (n > 1) qsort(lines, n, sizeof *lines, cmp_str_p);
    char *s = malloc(total);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(s, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return s;
}

static char *groups_model(const ints *l, int mod) {
    cbag__buf b = CBAG__BUF_INIT;
    char *lines[16];
    size_t nk = 0;
    for (int k = 0; k < mod; k++) {
        cbag__buf g = CBAG__BUF_INIT;
        ints in = {0};
        for (size_t i = 0; i < l->n; i++)
            if (l->v[i] % mod == k) push(&in, l->v[i]);
        if (in.n) {
            cbag__buf_printf(&g, "%08d: ", k);
            list_repr(&g, in.v, in.n, 0);
            cbag__buf_putc(&g, '\n');
            lines[nk++] = cbag__buf_detach(&g, NULL);
        }
        free(in.v);
        cbag__buf_free(&g);
    }
    if (nk > 1) qsort(lines, nk, sizeof *lines, cmp_str_p);
    for (size_t i = 0; i < nk; i++) {
        cbag__buf_puts(&b, lines[i]);
        free(lines[i]);
    }
    cbag__buf_putc(&b, '\0');
    return cbag__buf_detach(&b, NULL);
}

static int mods[] = {2, 3, 4, 5, 7};

static void round_once(cbag_ctx *cx, long round) {
    /* the data */
    ints l = {0};
    size_t n = rnd(4) == 0 ? rnd(8) : rnd(3000);
    size_t np = 1 + rnd(12);
    cbag *b;
    if (rnd(2)) {
        cbag_call *m = cbag_main(cx);
        cbag_val *seq = cbag_new_list(m, n);
        for (size_t i = 0; i < n; i++) {
            int64_t x = (int64_t)rnd(1000);
            push(&l, x);
            cbag_append(m, seq, cbag_new_int(m, x));
        }
        b = cbag_from_sequence(cx, seq, np, 0);
    } else {
        for (size_t i = 0; i < n; i++)
            push(&l, (int64_t)i);
        b = cbag_range(cx, (int64_t)n, np);
    }
    /* element-wise operations and reorderings */
    int fails = 0;
    atomic_store(&fail_value, -1);
    for (int k = (int)rnd(5); k > 0; k--) {
        switch (rnd(7)) {
        case 0:
            if (l.n && rnd(8) == 0) { /* a failure somewhere */
                atomic_store(&fail_value, l.v[rnd(l.n)]);
                fails = 1;
            }
            b = cbag_map(b, op_affine, NULL);
            for (size_t i = 0; i < l.n; i++)
                l.v[i] = m_affine(l.v[i]);
            if (fails) k = 0; /* the values after it are not modelled */
            break;
        case 1:
            b = cbag_map(b, op_half, NULL);
            for (size_t i = 0; i < l.n; i++)
                l.v[i] /= 2;
            break;
        case 2: {
            b = cbag_filter(b, op_keep, NULL);
            size_t j = 0;
            for (size_t i = 0; i < l.n; i++)
                if (l.v[i] % 3 != 0) l.v[j++] = l.v[i];
            l.n = j;
            break;
        }
        case 3: {
            b = cbag_flatten(cbag_map(b, op_pair, NULL));
            ints m = {0};
            for (size_t i = 0; i < l.n; i++) {
                push(&m, l.v[i]);
                push(&m, l.v[i] % 10);
            }
            free(l.v);
            l = m;
            break;
        }
        case 4: b = cbag_repartition(b, 1 + rnd(8)); break;
        case 5: {
            int rev = (int)rnd(2);
            b = cbag_sort(b, 1 + rnd(6), rev);
            sort_ints(&l);
            if (rev)
                for (size_t i = 0; i < l.n / 2; i++) {
                    int64_t t = l.v[i];
                    l.v[i] = l.v[l.n - 1 - i];
                    l.v[l.n - 1 - i] = t;
                }
            break;
        }
        default: break;
        }
    }
    /* the result and the model's */
    cbag__buf want = CBAG__BUF_INIT;
    cbag_result *r = NULL;
    char *got = NULL;
    int mod = mods[rnd(5)];
    int64_t sum = 0;
    for (size_t i = 0; i < l.n; i++)
        sum += l.v[i];
    int action = (int)rnd(10);
    switch (action) {
    case 0:
        r = cbag_compute(b);
        list_repr(&want, l.v, l.n, 0);
        break;
    case 1:
        r = cbag_compute_item(cbag_sum(b));
        cbag__buf_printf(&want, "%lld", (long long)sum);
        break;
    case 2:
        r = cbag_compute_item(cbag_count(b));
        cbag__buf_printf(&want, "%zu", l.n);
        break;
    case 3: {
        r = cbag_compute_item(cbag_max(b));
        int64_t mx = INT64_MIN;
        for (size_t i = 0; i < l.n; i++)
            mx = l.v[i] > mx ? l.v[i] : mx;
        if (l.n) cbag__buf_printf(&want, "%lld", (long long)mx);
        break;
    }
    case 4: {
        size_t k = rnd(20);
        r = cbag_take(b, k, -1);
        list_repr(&want, l.v, k < l.n ? k : l.n, 1);
        break;
    }
    case 5:
        r = cbag_compute(cbag_frequencies(cbag_map(b, key_mod, &mod), false));
        {
            ints m = {0};
            for (size_t i = 0; i < l.n; i++)
                push(&m, l.v[i] % mod);
            fold_model(&m, 0, 0, &want);
            free(m.v);
        }
        break;
    case 6: {
        cbag_foldby_options o = {0};
        o.initial = cbag_new_int(cbag_main(cx), 0);
        r = cbag_compute(cbag_foldby_fn(b, key_mod, add, &o, &mod));
        fold_model(&l, mod, 1, &want);
        break;
    }
    case 7: {
        r = cbag_compute(cbag_groupby_fn(b, key_mod, rnd(5), &mod));
        if (r) got = groups_sorted(cbag_result_value(r));
        char *g = groups_model(&l, mod);
        cbag__buf_puts(&want, g);
        free(g);
        break;
    }
    case 8: {
        r = cbag_compute(cbag_distinct(cbag_map(b, key_mod, &mod)));
        ints m = {0};
        for (size_t i = 0; i < l.n; i++) {
            size_t j = 0;
            while (j < m.n && m.v[j] != l.v[i] % mod)
                j++;
            if (j == m.n) push(&m, l.v[i] % mod);
        }
        list_repr(&want, m.v, m.n, 0);
        free(m.v);
        break;
    }
    default: {
        size_t k = 1 + rnd(5);
        r = cbag_compute(cbag_topk(b, k));
        ints m = {0};
        for (size_t i = 0; i < l.n; i++)
            push(&m, l.v[i]);
        sort_ints(&m);
        ints top = {0};
        for (size_t i = 0; i < k && i < m.n; i++)
            push(&top, m.v[m.n - 1 - i]);
        list_repr(&want, top.v, top.n, 0);
        free(m.v);
        free(top.v);
        break;
    }
    }
    cbag__buf_putc(&want, '\0');
    if (fails) {
        /* the failure may be filtered out before it happens... */
        if (!r) {
            assert_int_equal(cbag_errcode(cx), CBAG_USER);
            assert_non_null(strstr(cbag_errmsg(cx), "ValueError"));
            cbag_clear_error(cx);
        }
    } else if (action == 3 && l.n == 0) {
        assert_null(r);
        assert_int_equal(cbag_errcode(cx), CBAG_EMPTY);
        cbag_clear_error(cx);
    } else {
        if (!r)
            fail_msg("round %ld (action %d, %zu elements): %s", round, action,
                     l.n, cbag_errmsg(cx));
        if (!got) got = repr(cbag_result_value(r));
        if (strcmp(got, want.p) != 0)
            fail_msg("round %ld (action %d, %d workers): got %.300s, want "
                     "%.300s",
                     round, action, cbag_workers(cx), got, want.p);
    }
    free(got);
    cbag_result_free(r);
    cbag__buf_free(&want);
    free(l.v);
}

static void quiet(const char *msg, void *ud) { (void)msg, (void)ud; }

static void test_random_computes(void **state) {
    (void)state;
    long rounds = ROUNDS;
    if (getenv("CBAG_STRESS_ROUNDS"))
        rounds = atol(getenv("CBAG_STRESS_ROUNDS"));
    cbag_ctx *ctxs[4] = {0};
    for (long i = 0; i < rounds; i++) {
        if (i % 100 == 0) /* fresh contexts now and then */
            for (int w = 0; w < 4; w++) {
                cbag_close(ctxs[w]);
                cbag_options o = {0};
                o.workers = w + 1;
                o.on_warning = quiet; /* take() finding fewer elements */
                o.scheduler = w == 0 && i % 200 == 0 ? "sync" : "threads";
                ctxs[w] = cbag_open(&o);
                assert_non_null(ctxs[w]);
            }
        round_once(ctxs[rnd(4)], i);
    }
    for (int w = 0; w < 4; w++)
        cbag_close(ctxs[w]);
}

/* ------------------------------------------------------------------------ */
/* Cancellation                                                             */

static atomic_long processed, at_failure;

static const cbag_val *count_or_fail(cbag_call *c, const cbag_val *x,
                                     void *ud) {
    (void)ud;
    if (cbag_int_value(x) == 1000) { /* early in partition 0 */
        atomic_store(&at_failure, atomic_load(&processed));
        return cbag_fail(c, "ValueError: partition 0 fails");
    }
    atomic_fetch_add(&processed, 1);
    return x;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One partition's callback fails: the others wind down within a few
 * thousand elements each instead of running their 8 million. */
static void test_cancel(void **state) {
    (void)state;
    cbag_options o = {0};
    o.workers = 4;
    cbag_ctx *cx = cbag_open(&o);
    const int64_t n = 64000000;
    for (int rep = 0; rep < 3; rep++) {
        atomic_store(&processed, 0);
        atomic_store(&at_failure, -1);
        double t0 = seconds();
        cbag *b = cbag_map(cbag_range(cx, n, 8), count_or_fail, NULL);
        assert_null(cbag_compute_item(cbag_sum(b)));
        double dt = seconds() - t0;
        assert_int_equal(cbag_errcode(cx), CBAG_USER);
        assert_non_null(strstr(cbag_errmsg(cx), "partition 0 fails"));
        assert_non_null(strstr(cbag_errmsg(cx), "partition 0"));
        cbag_clear_error(cx);
        long after = atomic_load(&processed) - atomic_load(&at_failure);
        if (getenv("CBAG_STRESS_VERBOSE"))
            fprintf(stderr, "cancel: %ld elements after the failure, %.3f s\n",
                    after, dt);
        /* each of the other 3 workers checks the stop flag every 1024
         * elements; the margin is for a failing worker preempted before it
         * raised the flag */
        assert_true(after < n / 20);
        /* the context is usable afterwards */
        cbag_result *r = cbag_compute_item(cbag_count(cbag_range(cx, 10, 3)));
        assert_non_null(r);
        assert_int_equal(cbag_int_value(cbag_result_value(r)), 10);
        cbag_result_free(r);
    }
    cbag_close(cx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_computes),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
