/* src.h: a byte source, the (decompressed) contents of one file.
 *
 * Internal to src/io. The line reader asks a source to fill the free end of
 * its own buffer, so uncompressed files are read straight into it and
 * compressed ones are inflated straight into it: no copy in between. */
#ifndef CBAG_IO_SRC_H
#define CBAG_IO_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lzma.h>

typedef struct cbag__src cbag__src;

typedef struct cbag__storage cbag__storage;

/* Opens path; an uncompressed file is positioned at offset (compressed ones
 * always start at 0). A URL (http://, https://, s3://) is streamed with
 * storage options st (NULL: from the environment; else st must outlive
 * the source); end is a hint, where the reader means to stop (UINT64_MAX:
 * the end), so that remote reads ask for no more than that. NULL on
 * failure, with the message in err and the cbag_status in *code. */
cbag__src *cbag__src_open(const char *path, int codec, uint64_t offset,
                          uint64_t end, const cbag__storage *st, char *err,
                          size_t errlen, int *code);
/* Up to n bytes into dst: >0 bytes, 0 at the end of the data, <0 minus a
 * cbag_status with the message from cbag__src_error ("PATH: truncated gzip
 * stream"). Reading again after the end or an error repeats it. */
ssize_t cbag__src_read(cbag__src *s, void *dst, size_t n);
const char *cbag__src_error(const cbag__src *s);
/* Bytes consumed from the file itself (compressed bytes; for a URL the
 * bytes received). */
uint64_t cbag__src_consumed(const cbag__src *s);
void cbag__src_close(cbag__src *s);

/* alloc.c: allocator hooks for libbz2 and liblzma (cbag's allocator). */
void *cbag__bz_alloc(void *op, int n, int m);
void cbag__bz_free(void *op, void *p);
extern const lzma_allocator cbag__xz_allocator;

/* snprintf into err when err is not NULL (errlen may be 0). */
void cbag__io_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
