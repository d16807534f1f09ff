/* json_bench.c: JSON parse speed on accounts-like records, single thread,
 * beside Python's json.loads on the same bytes.
 *
 *   json_bench [MB]      prints "json parse: cbag X MB/s, python Y MB/s"
 *
 * The records have the tutorial's shape: {"id": N, "name": "...",
 * "transactions": [{"transaction-id": N, "amount": N}, ...]}. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "json.h"
#include "value.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 42;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv) {
    size_t target = (size_t)(argc > 1 ? atof(argv[1]) : 100) << 20;
    static const char *names[] = {"Alice", "Bob", "Charlie", "Dan", "Edith",
                                  "Frank", "George", "Hannah", "Ingrid"};
    char *buf = malloc(target + (1 << 20));
    size_t len = 0, lines = 0;
    while (len < target) {
        len += (size_t)sprintf(buf + len,
                               "{\"id\": %zu, \"name\": \"%s\", "
                               "\"transactions\": [",
                               lines, names[next() % 9]);
        int n = 1 + (int)(next() % 200);
        for (int i = 0; i < n; i++)
            len += (size_t)sprintf(buf + len,
                                   "%s{\"transaction-id\": %llu, \"amount\": "
                                   "%lld}",
                                   i ? ", " : "",
                                   (unsigned long long)(next() % 100000),
                                   (long long)(next() % 6000) - 1000);
        len += (size_t)sprintf(buf + len, "]}\n");
        lines++;
    }
    cbag__arena a;
    cbag__arena_init(&a, 0);
    double best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t = now();
        for (char *p = buf, *end = buf + len; p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            cbag_val v;
            cbag__json_err err;
            if (cbag__json_parse(&a, p, (size_t)(nl - p), &v, &err)) {
                fprintf(stderr, "json_bench: parse error %s\n", err.msg);
                return 1;
            }
            if (cbag__arena_used(&a) > (1u << 20)) cbag__arena_reset(&a);
            p = nl + 1;
        }
        t = now() - t;
        if (t < best) best = t;
    }
    double mbs = (double)len / (1 << 20) / best;
    /* The same bytes through Python's json.loads. */
    char path[] = "/tmp/cbag-json-bench-XXXXXX";
    int fd = mkstemp(path);
    double py = 0;
    if (fd >= 0 && write(fd, buf, len) == (ssize_t)len) {
        char cmd[512];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import json,time,sys\n"
                 "lines=open(sys.argv[1],\"rb\").read().splitlines()\n"
                 "best=1e9\n"
                 "for _ in range(3):\n"
                 "  t=time.perf_counter()\n"
                 "  for l in lines: json.loads(l)\n"
                 "  best=min(best,time.perf_counter()-t)\n"
                 "print(best)' %s",
                 path);
        FILE *p = popen(cmd, "r");
        if (p && fscanf(p, "%lf", &py) != 1) py = 0;
        if (p) pclose(p);
    }
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    double pymbs = py > 0 ? (double)len / (1 << 20) / py : 0;
    printf("json parse (%zu MB, %zu records, one thread): cbag %.0f MB/s, "
           "python json.loads %.0f MB/s (%.1fx)\n",
           len >> 20, lines, mbs, pymbs, pymbs > 0 ? mbs / pymbs : 0);
    cbag__arena_free(&a);
    free(buf);
    return 0;
}
