/* spill.h: values on disk for shuffles that outgrow the memory budget.
 *
 * Values are encoded as codec frames (core/codec.h), each written as a
 * zstd frame appended to a temporary file. The file is unlinked as soon as
 * it is made, so nothing is left behind whatever happens to the compute or
 * the process; it lives as long as its descriptor. The codec checks what
 * it reads back, never trusting the file. */
#ifndef CBAG_SPILL_H
#define CBAG_SPILL_H

#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "value.h"

typedef struct cbag__spill_file {
    int fd; /* -1: not created yet */
    uint64_t size;
    void *cctx; /* ZSTD_CCtx */
} cbag__spill_file;

void cbag__spill_file_init(cbag__spill_file *f);
void cbag__spill_file_close(cbag__spill_file *f);
/* Compresses n bytes as one zstd frame appended to f (made in dir on first
 * use); *off and *len locate it. 0, or -1 with errno-based text in err. */
int cbag__spill_write(cbag__spill_file *f, const char *dir, const void *data,
                      size_t n, uint64_t *off, uint64_t *len, char *err,
                      size_t errlen);
/* Reads the frame at [off, off + len) of f and appends what it holds to
 * out. 0, or -1 with a reason in err. Safe from several threads. */
int cbag__spill_read(const cbag__spill_file *f, uint64_t off, uint64_t len,
                     cbag__buf *out, char *err, size_t errlen);

#endif
