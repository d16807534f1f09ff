/* floor.c: the hardware floors that BENCHMARKS.md measures cbag against.
 *
 *   floor gunzip   [--workers N] GLOB...   inflate every file with ISA-L
 *   floor validate [--workers N] GLOB...   the same, and count the lines
 *
 * Files are handed out to N threads (default: one per core), largest
 * first, with an atomic counter. Each thread reads a whole compressed file
 * with read(2), inflates it (every gzip member) with isal_inflate into a
 * 256 KiB buffer that stays in cache, and discards the output; `validate`
 * also counts the newlines of each output chunk with memchr, the least a
 * line reader must do (a file's last line without a newline counts as a
 * line, as read_text yields it). No JSON is parsed (the library exposes no
 * parse that builds nothing), so this is a floor for read_text, not for
 * json.loads. Prints "files F bytes B" (validate: "... newlines N lines L").
 *
 * Not part of the library: it uses only ISA-L and the C library.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <isa-l/igzip_lib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUT_CAP (256 * 1024)

typedef struct file {
    char *path;
    off_t size;
} file;

static file *files;
static size_t nfiles;
static atomic_size_t next_file;
static int count_lines;

typedef struct worker {
    pthread_t tid;
    uint64_t bytes, newlines, lines;
    char err[512];
} worker;

static int inflate_file(worker *w, const char *path, unsigned char **in,
                        size_t *incap, unsigned char *out,
                        struct inflate_state *st) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) goto ioerr;
    struct stat sb;
    if (fstat(fd, &sb) < 0) goto ioerr_fd;
    size_t size = (size_t)sb.st_size;
    if (size > *incap) {
        unsigned char *p = realloc(*in, size);
        if (!p) {
            close(fd);
            snprintf(w->err, sizeof w->err, "%s: out of memory", path);
            return -1;
        }
        *in = p;
        *incap = size;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t k = read(fd, *in + got, size - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) goto ioerr_fd;
        if (k == 0) break;
        got += (size_t)k;
    }
    close(fd);

    size_t pos = 0;
    int last = '\n'; /* the file's last byte out; '\n' when empty */
    while (pos < got) {
        /* one gzip member; zero padding between members is skipped */
        while (pos < got && (*in)[pos] == 0)
            pos++;
        if (pos == got) break;
        isal_inflate_reset(st);
        st->crc_flag = ISAL_GZIP;
        st->next_in = *in + pos;
        st->avail_in = (uint32_t)(got - pos);
        for (;;) {
            st->next_out = out;
            st->avail_out = OUT_CAP;
            int ret = isal_inflate(st);
            size_t made = OUT_CAP - st->avail_out;
            if (ret < 0) {
                snprintf(w->err, sizeof w->err, "%s: corrupt gzip data (%d)",
                         path, ret);
                return -1;
            }
            w->bytes += made;
            if (made) last = out[made - 1];
            if (count_lines) {
                const unsigned char *p = out, *end = out + made;
                while ((p = memchr(p, '\n', (size_t)(end - p)))) {
                    w->newlines++;
                    p++;
                }
            }
            if (st->block_state == ISAL_BLOCK_FINISH) break;
            if (made == 0 && st->avail_in == 0) {
                snprintf(w->err, sizeof w->err, "%s: truncated gzip data",
                         path);
                return -1;
            }
        }
        pos = (size_t)(st->next_in - *in);
    }
    /* a last line without a newline is a line too (read_text yields it) */
    w->lines += last != '\n';
    return 0;
ioerr_fd:
    close(fd);
ioerr:
    snprintf(w->err, sizeof w->err, "%s: %s", path, strerror(errno));
    return -1;
}

static void *run(void *arg) {
    worker *w = arg;
    unsigned char *in = NULL, *out = malloc(OUT_CAP);
    size_t incap = 0;
    struct inflate_state *st = malloc(sizeof *st);
    if (!out || !st) {
        snprintf(w->err, sizeof w->err, "out of memory");
        goto done;
    }
    isal_inflate_init(st);
    for (;;) {
        size_t i = atomic_fetch_add(&next_file, 1);
        if (i >= nfiles) break;
        if (inflate_file(w, files[i].path, &in, &incap, out, st)) {
            atomic_store(&next_file, nfiles); /* stop the others */
            break;
        }
    }
done:
    free(in);
    free(out);
    free(st);
    return NULL;
}

static int by_size_desc(const void *a, const void *b) {
    const file *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return strcmp(x->path, y->path);
}

static int usage(void) {
    fprintf(stderr, "usage: floor gunzip|validate [--workers N] GLOB...\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 3) return usage();
    if (strcmp(argv[1], "validate") == 0)
        count_lines = 1;
    else if (strcmp(argv[1], "gunzip") != 0)
        return usage();
    long nw = sysconf(_SC_NPROCESSORS_ONLN);
    glob_t g = {0};
    int flags = 0, any = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
            nw = atol(argv[++i]);
            continue;
        }
        int r = glob(argv[i], flags, NULL, &g);
        if (r == GLOB_NOMATCH) {
            fprintf(stderr, "floor: no files match '%s'\n", argv[i]);
            return 1;
        }
        if (r) {
            fprintf(stderr, "floor: glob failed\n");
            return 1;
        }
        flags = GLOB_APPEND;
        any = 1;
    }
    if (!any) return usage();
    if (nw < 1) nw = 1;
    nfiles = g.gl_pathc;
    files = calloc(nfiles, sizeof *files);
    worker *ws = calloc((size_t)nw, sizeof *ws);
    if (!files || !ws) {
        fprintf(stderr, "floor: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < nfiles; i++) {
        struct stat sb;
        files[i].path = g.gl_pathv[i];
        files[i].size = stat(files[i].path, &sb) == 0 ? sb.st_size : 0;
    }
    qsort(files, nfiles, sizeof *files, by_size_desc);

    for (long i = 0; i < nw; i++)
        if (pthread_create(&ws[i].tid, NULL, run, &ws[i])) {
            fprintf(stderr, "floor: cannot start a thread\n");
            return 1;
        }
    uint64_t bytes = 0, newlines = 0, lines = 0;
    int rc = 0;
    for (long i = 0; i < nw; i++) {
        pthread_join(ws[i].tid, NULL);
        bytes += ws[i].bytes;
        newlines += ws[i].newlines;
        lines += ws[i].lines + ws[i].newlines;
        if (ws[i].err[0] && !rc) {
            fprintf(stderr, "floor: %s\n", ws[i].err);
            rc = 1;
        }
    }
    if (rc) return rc;
    if (count_lines)
        printf("files %zu bytes %llu newlines %llu lines %llu\n", nfiles,
               (unsigned long long)bytes, (unsigned long long)newlines,
               (unsigned long long)lines);
    else
        printf("files %zu bytes %llu\n", nfiles, (unsigned long long)bytes);
    free(ws);
    free(files);
    globfree(&g);
    return 0;
}
