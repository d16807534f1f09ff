/* test_oom.c: allocation failure, as SQLite's OOM tests: make the n-th
 * allocation fail, for every n, across a representative compute; each run
 * must either succeed with the right answer or fail cleanly with an error
 * message, leak nothing (LeakSanitizer checks under make test-asan) and
 * leave the context usable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cbag.h"
#include "mem.h"

static const cbag_val *rec(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    cbag_val *d = cbag_new_dict(c, 2);
    cbag_val *l = cbag_new_list(c, 3);
    if (!d || !l) return NULL;
    for (int i = 0; i < 3; i++)
        if (cbag_append(c, l, cbag_new_int(c, cbag_int_value(x) + i)))
            return NULL;
    if (cbag_set(c, d, "id", x) || cbag_set(c, d, "tx", l)) return NULL;
    return d;
}

static int odd(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_int_value(cbag_get(x, "id")) % 2;
}

static const cbag_val *add(cbag_call *c, const cbag_val *a, const cbag_val *b,
                           void *ud) {
    (void)ud;
    return cbag_new_int(c, cbag_int_value(a) + cbag_int_value(b));
}

/* One representative session; returns 1 when everything succeeded. */
static int session(int workers) {
    cbag_options o = {0};
    o.workers = workers;
    cbag_ctx *cx = cbag_open(&o);
    if (!cx) return 0;
    int ok = 0;
    cbag_call *m = cbag_main(cx);
    cbag_val *l = cbag_new_list(m, 4);
    for (int i = 0; l && i < 300; i++)
        if (cbag_append(m, l, cbag_new_int(m, i))) l = NULL;
    cbag *b = cbag_from_sequence(cx, l, 7, 0);
    cbag *t = cbag_flatten(cbag_pluck(cbag_filter(cbag_map(b, rec, NULL), odd,
                                                  NULL),
                                      "tx"));
    cbag_result *r1 = cbag_compute_item(cbag_sum(t));
    cbag_result *r2 = r1 ? cbag_take(t, 5, 2) : NULL;
    cbag_result *r3 = r2 ? cbag_compute_item(cbag_fold(t, add, NULL, NULL,
                                                       NULL))
                         : NULL;
    cbag_result *r4 = r3 ? cbag_compute(cbag_map(b, cbag_json_dumps, NULL))
                         : NULL;
    if (r4) {
        /* sum over odd i of 3i+3 for i < 300 */
        assert_int_equal(cbag_int_value(cbag_result_value(r1)), 67950);
        assert_int_equal(cbag_len(cbag_result_value(r2)), 5);
        assert_int_equal(cbag_int_value(cbag_result_value(r3)), 67950);
        assert_int_equal(cbag_len(cbag_result_value(r4)), 300);
        ok = 1;
    } else {
        /* a failure must say what failed */
        assert_int_not_equal(cbag_errcode(cx), CBAG_OK);
        assert_true(strlen(cbag_errmsg(cx)) > 0);
    }
    cbag_result_free(r1);
    cbag_result_free(r2);
    cbag_result_free(r3);
    cbag_result_free(r4);
    cbag_close(cx);
    return ok;
}

static void run_all(int workers) {
    cbag__mem_fail_after(0, 0);
    assert_true(session(workers)); /* sanity: it works without failures */
    int succeeded = 0;
    long n_tried = 0;
    for (long n = 1; n < 20000 && !succeeded; n++) {
        n_tried = n;
        cbag__mem_fail_after(n, 1);
        succeeded = session(workers);
        cbag__mem_fail_after(0, 0);
    }
    assert_true(succeeded); /* the loop reached a run with no failure */
    if (getenv("OOM_VERBOSE")) fprintf(stderr, "%ld allocation points\n", n_tried);
    assert_true(session(workers));
}

static void test_oom_sync(void **state) {
    (void)state;
    run_all(1);
}

/* With threads, which allocation fails depends on timing; every one must
 * still be handled. */
static void test_oom_threads(void **state) {
    (void)state;
    run_all(2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_sync),
        cmocka_unit_test(test_oom_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
