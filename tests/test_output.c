/* test_output.c: to_textfiles never leaves a partial file under a final
 * name: not when the disk fills (RLIMIT_FSIZE in a child, so that write
 * fails with EFBIG; a 512 KB tmpfs where this process may mount one), not
 * when the process is killed with SIGKILL mid-write; and a rerun replaces
 * the outputs completely, removing the temporary files a killed run left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cbag.h"
#include "iocheck.h"

#define NPARTS 8

/* Partition i of the output: odd ones big (3 MB, 30 KB as zstd), even
 * ones small (7.5 KB), so that under a 16 KB limit some files fit and
 * some do not. Element j of partition i is "p<i> line <j> xxxx...". */
static size_t part_lines(size_t i) { return i % 2 ? 40000 : 100; }

static const cbag_val *make_line(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    int64_t v = cbag_int_value(x);
    return cbag_new_strf(c, "p%lld line %lld %s", (long long)(v >> 20),
                         (long long)(v & 0xfffff),
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

/* A bag of the lines above, one partition per output file. */
static cbag *output_bag(cbag_ctx *c) {
    cbag_call *m = cbag_main(c);
    cbag_val *parts = cbag_new_list(m, NPARTS);
    for (size_t i = 0; i < NPARTS; i++) {
        cbag_val *l = cbag_new_list(m, part_lines(i));
        for (size_t j = 0; j < part_lines(i); j++)
            cbag_append(m, l, cbag_new_int(m, (int64_t)(i << 20 | j)));
        cbag_append(m, parts, l);
    }
    cbag *b = cbag_from_sequence(c, parts, NPARTS, 0);
    return cbag_map(cbag_flatten(b), make_line, NULL);
}

/* The full text of output file i. */
static char *expected(size_t i, size_t *len) {
    size_t cap = part_lines(i) * 80, n = 0;
    char *s = malloc(cap);
    for (size_t j = 0; j < part_lines(i); j++)
        n += (size_t)snprintf(s + n, cap - n, "%sp%zu line %zu %s",
                              j ? "\n" : "", i, j,
                              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    *len = n;
    return s;
}

static char outdir[400];

static void out_path(char *buf, size_t n, size_t i, const char *ext) {
    snprintf(buf, n, "%s/%zu.txt%s", outdir, i, ext);
}

/* Reads output file i back through cbag (decompressing): 1 if it is
 * complete, 0 if it is missing; a partial or wrong file fails the test. */
static int check_final(cbag_ctx *c, size_t i, const char *ext) {
    char path[512];
    out_path(path, sizeof path, i, ext);
    if (access(path, F_OK) != 0) return 0;
    size_t n;
    char *want = expected(i, &n);
    cbag_result *r = cbag_compute(cbag_read_text(c, path, NULL));
    if (!r) fail_msg("%s is there but unreadable: %s", path, cbag_errmsg(c));
    const cbag_val *lines = cbag_result_value(r);
    size_t at = 0;
    for (size_t j = 0; j < cbag_len(lines); j++) {
        size_t len;
        const char *s = cbag_str(cbag_at(lines, (int64_t)j), &len);
        if (at + len > n || memcmp(want + at, s, len) != 0)
            fail_msg("%s differs at line %zu", path, j);
        at += len;
    }
    if (at != n) fail_msg("%s is partial: %zu of %zu bytes", path, at, n);
    cbag_result_free(r);
    free(want);
    return 1;
}

/* Files in outdir: final ones (*.txt*) and temporary ones (.*). */
static void count_out(int *finals, int *temps) {
    *finals = *temps = 0;
    DIR *d = opendir(outdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (e->d_name[0] == '.')
            ++*temps;
        else
            ++*finals;
    }
    closedir(d);
}

static cbag_ctx *open_ctx(int workers) {
    cbag_options o = {0};
    o.workers = workers;
    o.temp_dir = iocheck_tmp;
    cbag_ctx *c = cbag_open(&o);
    assert_non_null(c);
    return c;
}

/* Writes the outputs and checks that they are all there, complete, with
 * no temporary file left. */
static void write_all_and_check(const char *ext) {
    cbag_ctx *c = open_ctx(2);
    char pat[512];
    snprintf(pat, sizeof pat, "%s/*.txt%s", outdir, ext);
    if (cbag_to_textfiles(output_bag(c), pat, NULL) != CBAG_OK)
        fail_msg("rerun: %s", cbag_errmsg(c));
    for (size_t i = 0; i < NPARTS; i++)
        assert_int_equal(check_final(c, i, ext), 1);
    int finals, temps;
    count_out(&finals, &temps);
    assert_int_equal(finals, NPARTS);
    assert_int_equal(temps, 0);
    cbag_close(c);
}

/* In a child: the outputs under a limit of `limit` bytes per file. Exits
 * 0 when to_textfiles failed with a message naming an output and every
 * final file there is complete; 1 otherwise. */
static void limited_child(const char *ext, rlim_t limit) {
    signal(SIGXFSZ, SIG_IGN); /* write fails with EFBIG instead */
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &rl)) _exit(2);
    cbag_ctx *c = open_ctx(2);
    char pat[512];
    snprintf(pat, sizeof pat, "%s/*.txt%s", outdir, ext);
    int rc = cbag_to_textfiles(output_bag(c), pat, NULL);
    const char *msg = cbag_errmsg(c);
    if (rc != CBAG_IO || !strstr(msg, outdir) ||
        !strstr(msg, "File too large")) {
        fprintf(stderr, "under RLIMIT_FSIZE: rc %d: %s\n", rc, msg);
        _exit(1);
    }
    int complete = 0;
    for (size_t i = 0; i < NPARTS; i++)
        complete += check_final(c, i, ext);
    int finals, temps;
    count_out(&finals, &temps);
    cbag_close(c);
    /* the small files fit; every file there is complete; no temporary */
    _exit(complete == finals && complete >= 1 && temps == 0 ? 0 : 1);
}

static void run_child(void (*fn)(const char *, rlim_t), const char *ext,
                      rlim_t arg) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) fn(ext, arg);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_disk_full_fsize(void **state) {
    (void)state;
    const char *exts[] = {"", ".gz", ".zst"};
    for (int e = 0; e < 3; e++) {
        snprintf(outdir, sizeof outdir, "%s/fsize%d", iocheck_root, e);
        run_child(limited_child, exts[e], 16 * 1024);
        write_all_and_check(exts[e]); /* the rerun replaces everything */
    }
}

/* (x % 10, a line of text) */
/* splitmix64: spill data that zstd cannot shrink to nothing */
static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const cbag_val *keyed_line(cbag_call *c, const cbag_val *x, void *ud) {
    (void)ud;
    uint64_t v = (uint64_t)cbag_int_value(x);
    const cbag_val *kv[2] = {
        cbag_new_int(c, (int64_t)(v % 10)),
        cbag_new_strf(c, "line %llu %016llx%016llx%016llx",
                      (unsigned long long)v, (unsigned long long)mix(v),
                      (unsigned long long)mix(v + 1u),
                      (unsigned long long)mix(v + 2u))};
    return cbag_new_tuplev(c, 2, kv);
}

static const cbag_val *key10(cbag_call *c, const cbag_val *x, void *ud) {
    (void)c, (void)ud;
    return cbag_at(x, 0);
}

/* A groupby that must spill (1 MB of memory for 25 MB of shuffle) into a
 * full temp dir (outdir, the tmpfs): an error naming the temp dir and the
 * cause, no file left. 0 when so. */
static int spill_to_full_disk(void) {
    cbag_options o = {0};
    o.workers = 2;
    o.memory_limit = 1 << 20;
    o.temp_dir = outdir;
    cbag_ctx *c = cbag_open(&o);
    cbag *g = cbag_groupby_fn(
        cbag_map(cbag_range(c, 400000, 8), keyed_line, NULL), key10, 8, NULL);
    cbag_result *r = cbag_compute(g);
    int ok = !r && cbag_errcode(c) == CBAG_IO &&
             strstr(cbag_errmsg(c), "No space left") &&
             strstr(cbag_errmsg(c), outdir);
    if (!ok) fprintf(stderr, "spilling to a full disk: %s\n", cbag_errmsg(c));
    cbag_result_free(r);
    cbag_close(c);
    int finals, temps;
    count_out(&finals, &temps);
    return ok && temps == 0 ? 0 : 1;
}

/* In a child with its own mount namespace: a 512 KB tmpfs on outdir. */
static void tmpfs_child(const char *ext, rlim_t unused) {
    (void)unused;
    if (unshare(CLONE_NEWNS) != 0 ||
        mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mkdir(outdir, 0700) != 0 ||
        mount("tmpfs", outdir, "tmpfs", 0, "size=512k") != 0)
        _exit(3); /* not allowed here */
    cbag_ctx *c = open_ctx(2);
    char pat[512];
    snprintf(pat, sizeof pat, "%s/*.txt%s", outdir, ext);
    int rc = cbag_to_textfiles(output_bag(c), pat, NULL);
    if (rc != CBAG_IO || !strstr(cbag_errmsg(c), "No space left")) {
        fprintf(stderr, "on a full tmpfs: rc %d: %s\n", rc, cbag_errmsg(c));
        _exit(1);
    }
    int complete = 0, finals, temps;
    for (size_t i = 0; i < NPARTS; i++)
        complete += check_final(c, i, ext);
    count_out(&finals, &temps);
    cbag_close(c);
    if (complete != finals || temps != 0) _exit(1);
    _exit(spill_to_full_disk());
}

static void test_disk_full_tmpfs(void **state) {
    (void)state;
    snprintf(outdir, sizeof outdir, "%s/tmpfs", iocheck_root);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) tmpfs_child("", 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 3) {
        fprintf(stderr, "test_disk_full_tmpfs: cannot mount a tmpfs here "
                        "(needs root and CAP_SYS_ADMIN); skipped\n");
        skip();
    }
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void writer_child(const char *ext, rlim_t unused) {
    (void)unused;
    cbag_ctx *c = open_ctx(2);
    char pat[512];
    snprintf(pat, sizeof pat, "%s/*.txt%s", outdir, ext);
    _exit(cbag_to_textfiles(output_bag(c), pat, NULL) == CBAG_OK ? 0 : 1);
}

/* SIGKILL at various moments of a write: whatever is under a final name
 * is complete; the temporary files the killed process left are hidden
 * (leading dot) and removed by the next run, which writes everything. */
static void test_sigkill_mid_write(void **state) {
    (void)state;
    const char *exts[] = {"", ".gz"};
    int killed_mid = 0;
    for (int e = 0; e < 2; e++) {
        snprintf(outdir, sizeof outdir, "%s/kill%d", iocheck_root, e);
        for (int round = 0; round < 6; round++) {
            fflush(NULL);
            pid_t pid = fork();
            assert_true(pid >= 0);
            if (pid == 0) writer_child(exts[e], 0);
            /* kill after 5, 15, 45 ... ms */
            struct timespec ts = {0, 5000000L * (1L << round)};
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec = ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
            }
            nanosleep(&ts, NULL);
            kill(pid, SIGKILL);
            int st;
            assert_int_equal(waitpid(pid, &st, 0), pid);
            cbag_ctx *c = open_ctx(1);
            int complete = 0, finals, temps;
            for (size_t i = 0; i < NPARTS; i++)
                complete += check_final(c, i, exts[e]);
            cbag_close(c);
            count_out(&finals, &temps);
            assert_int_equal(complete, finals);
            if (WIFSIGNALED(st) && temps > 0) killed_mid++;
            write_all_and_check(exts[e]);
        }
    }
    /* at least one kill landed in the middle of a write */
    assert_true(killed_mid > 0);
}

static int setup(void **state) {
    (void)state;
    return iocheck_init("output");
}

static int teardown(void **state) {
    (void)state;
    iocheck_done();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IOCHECK_TEST(test_disk_full_fsize),
        IOCHECK_TEST(test_disk_full_tmpfs),
        IOCHECK_TEST(test_sigkill_mid_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
