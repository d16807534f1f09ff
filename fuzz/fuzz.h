/* fuzz.h: what the file-reading fuzz targets share: a private directory
 * (in /dev/shm when there is one, so that inputs do not wear the disk),
 * removed at exit, and writing an input to a file in it. */
#ifndef CBAG_FUZZ_H
#define CBAG_FUZZ_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir_[256];

static void fuzz_cleanup_(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_);
    if (fuzz_dir_[0] && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fuzz_dir_);
}

/* dir/name in the private directory (made on the first call). */
static const char *fuzz_path(const char *name) {
    static char path[512];
    if (!fuzz_dir_[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/cbag-fuzz.XXXXXX", base);
        if (!mkdtemp(fuzz_dir_)) abort();
        atexit(fuzz_cleanup_);
    }
    snprintf(path, sizeof path, "%s/%s", fuzz_dir_, name);
    return path;
}

/* Writes data[0..n) to path, replacing it. */
static void fuzz_write(const char *path, const void *data, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) abort();
    const char *p = data;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k <= 0) abort();
        p += k;
        n -= (size_t)k;
    }
    close(fd);
}

#endif
