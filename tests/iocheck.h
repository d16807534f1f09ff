/* iocheck.h: what the test suites that touch files share.
 *
 * A suite calls iocheck_init("name") in its group setup: it makes a fresh
 * scratch directory (iocheck_root) with an empty iocheck_tmp inside, which
 * the suite's contexts use as their temp_dir (spills). Each test is then
 * registered with IOCHECK_TEST(fn) instead of cmocka_unit_test(fn): after
 * it, no file descriptor may have leaked (the entries of /proc/self/fd are
 * counted before and after) and iocheck_tmp must be empty; otherwise the
 * test fails, naming what was left (which is then removed, so that the
 * next test starts clean). iocheck_done() in the group teardown removes
 * the scratch directory. */
#ifndef CBAG_TEST_IOCHECK_H
#define CBAG_TEST_IOCHECK_H

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char iocheck_root[256]; /* the suite's scratch directory */
static char iocheck_tmp[300];  /* iocheck_root/tmp: the contexts' temp_dir */
static int iocheck_fds;        /* descriptors open before the test */

/* Open file descriptors of this process (-1 if /proc is not there). */
static int iocheck_fd_count(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* Prints the open descriptors and what they are (for a leak report). */
static void iocheck_fd_list(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[300], target[PATH_MAX];
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(p, target, sizeof target - 1);
        target[k > 0 ? k : 0] = '\0';
        fprintf(stderr, "  fd %s -> %s\n", e->d_name, target);
    }
    closedir(d);
}

/* Entries of a directory other than . and .. (-1 if it cannot be read);
 * with show, they are printed. */
static int iocheck_entries(const char *path, int show) {
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (show) fprintf(stderr, "  left in %s: %s\n", path, e->d_name);
        n++;
    }
    closedir(d);
    return n;
}

/* The whole content of path, malloc'd and NUL-terminated, its length in
 * *n; NULL if it cannot be read. */
static inline char *iocheck_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    size_t cap = 65536, len = 0, k;
    char *s = malloc(cap);
    while (s && (k = fread(s + len, 1, cap - len, f)) > 0) {
        if ((len += k) < cap) continue;
        char *t = realloc(s, cap *= 2);
        if (!t) free(s);
        s = t;
    }
    fclose(f);
    if (s) s[len] = '\0'; /* len < cap */
    *n = len;
    return s;
}

static int iocheck_rm1_(const char *p, const struct stat *st, int flag,
                        struct FTW *f) {
    (void)st, (void)flag, (void)f;
    chmod(p, 0700); /* tests make unreadable files */
    return remove(p);
}

/* rm -rf path (its contents only with keep_top). */
static void iocheck_rm(const char *path, int keep_top) {
    nftw(path, iocheck_rm1_, 16, FTW_DEPTH | FTW_PHYS);
    if (keep_top) mkdir(path, 0700);
}

static int iocheck_init(const char *name) {
    const char *t = getenv("TMPDIR");
    snprintf(iocheck_root, sizeof iocheck_root, "%s/cbag-%s.XXXXXX",
             t && *t ? t : "/tmp", name);
    if (!mkdtemp(iocheck_root)) return -1;
    snprintf(iocheck_tmp, sizeof iocheck_tmp, "%s/tmp", iocheck_root);
    return mkdir(iocheck_tmp, 0700);
}

static void iocheck_done(void) {
    if (iocheck_root[0]) iocheck_rm(iocheck_root, 0);
}

static int iocheck_before(void **state) {
    (void)state;
    iocheck_fds = iocheck_fd_count();
    return 0;
}

static int iocheck_after(void **state) {
    (void)state;
    int bad = 0, fds = iocheck_fd_count();
    if (fds != iocheck_fds) {
        fprintf(stderr,
                "iocheck: %d file descriptors before the test, %d "
                "after:\n",
                iocheck_fds, fds);
        iocheck_fd_list();
        bad = 1;
    }
    if (iocheck_entries(iocheck_tmp, 1) != 0) {
        fprintf(stderr, "iocheck: the temp dir %s is not empty\n", iocheck_tmp);
        iocheck_rm(iocheck_tmp, 1);
        bad = 1;
    }
    return bad ? -1 : 0;
}

#define IOCHECK_TEST(f)                                                        \
    cmocka_unit_test_setup_teardown(f, iocheck_before, iocheck_after)

#endif
