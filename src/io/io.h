/* io.h: files in and out: globs, block ranges, compression, lines.
 *
 * The engine's read_text plans partitions with cbag__text_plan and streams
 * each one with cbag__lines_*; to_textfiles writes each partition through a
 * cbag__out (temporary name, renamed on commit). Everything here mirrors
 * what dask.bag does with the same arguments (see docs in text.c), so that
 * partition counts and contents agree with dask's. */
#ifndef CBAG_IO_H
#define CBAG_IO_H

#include <stddef.h>
#include <stdint.h>

#include "cbag.h"

/* Where a partition's lines come from: one or more file ranges. */
typedef struct cbag__file_range {
    char *path;
    /* Byte range for uncompressed files (end = UINT64_MAX: to the end of
     * the file); a compressed file is always read whole (0, UINT64_MAX). */
    uint64_t start, end;
    int codec; /* CBAG__CODEC_*, never CBAG__CODEC_INFER */
    /* The file's size when it was listed (0 for FIFOs and devices): the
     * reader fails with "... shrank while being read" when it finds the
     * file ends before that. */
    uint64_t size;
} cbag__file_range;

typedef struct cbag__text_part {
    size_t nfiles;
    cbag__file_range *files;
    uint64_t size_hint; /* bytes on disk, for scheduling largest first */
} cbag__text_part;

enum {
    CBAG__CODEC_NONE,
    CBAG__CODEC_GZIP,
    CBAG__CODEC_BZ2,
    CBAG__CODEC_XZ,
    CBAG__CODEC_ZSTD,
    CBAG__CODEC_LZ4,
    CBAG__CODEC_INFER = -1
};

/* What to do with bytes that are not UTF-8 (Python's errors=). */
enum { CBAG__ENC_STRICT, CBAG__ENC_REPLACE, CBAG__ENC_IGNORE };

typedef struct cbag__text_opts {
    uint64_t blocksize; /* 0: whole files */
    int codec;          /* CBAG__CODEC_INFER: from each file's extension */
    /* dask's linedelimiter. NULL (dask's default): universal newlines, a
     * line ends at "\n", "\r\n" or "\r" and is yielded ending in "\n".
     * "": universal newlines, endings kept as they are. Anything else
     * ("\n", "\r\n", "|", "--", ...): lines end exactly at that string,
     * which is kept. */
    const char *delim;
    size_t files_per_partition; /* 0/1: one file per partition */
    int encoding_errors;        /* CBAG__ENC_* */
    /* For URLs (see remote.h); NULL: from the environment. Not copied:
     * must outlive the plan's readers. */
    const struct cbag__storage *storage;
    /* The reader's first buffer size (it grows for longer lines); 0: 1 MB.
     * The tests and the fuzzer use a few bytes, so that lines and
     * delimiters straddle refills. */
    size_t bufsize;
} cbag__text_opts;

/* Expands each pattern (a glob with * ? [..], or a plain path) and splits
 * the files into partitions as dask.bag.read_text does:
 *  - a pattern's matches are sorted byte-wise (Python's sorted(glob));
 *    directories among them are skipped; patterns keep their order; as in
 *    Python's glob, '*' does not match a leading '.'; a pattern matching
 *    nothing that names an existing file ("a[1].txt") is that file;
 *  - blocksize 0: one partition per file, or files_per_partition files per
 *    partition; an empty file gives an empty partition;
 *  - blocksize > 0: every uncompressed file is cut into byte ranges exactly
 *    as dask's read_bytes does (same count, same offsets); empty files give
 *    no partition; compressed files are one partition each (dask refuses
 *    them), and so are FIFOs and devices, which cannot be cut (they are
 *    not opened here: that could block, or take their data away). Block i
 *    owns the lines that start after the first delimiter at or after its
 *    start offset (block 0: from byte 0) up to and including the line
 *    whose delimiter begins at or after its end offset.
 * Errors (CBAG_IO, CBAG_INVALID, CBAG_NOMEM, message in err):
 *   "read_text: no files match 'data/x*.json'", "read_text: data/d: Is a
 *   directory", "read_text: data/f.json: Permission denied", ...
 * On success *parts (free with cbag__text_parts_free) and *nparts. */
int cbag__text_plan(const char *const *patterns, size_t npatterns,
                    const cbag__text_opts *o, cbag__text_part **parts,
                    size_t *nparts, char *err, size_t errlen);
void cbag__text_parts_free(cbag__text_part *parts, size_t nparts);

/* Streams the lines of one partition: each line INCLUDING its delimiter
 * (the last line of a file may have none), exactly as dask's read_text
 * yields them. Not thread-safe: one reader per thread. */
typedef struct cbag__lines cbag__lines;

/* p must stay valid until cbag__lines_close; o is copied. The first file is
 * opened here. NULL + err on failure (including out of memory). */
cbag__lines *cbag__lines_open(const cbag__text_part *p,
                              const cbag__text_opts *o, char *err,
                              size_t errlen);
/* 1: a line in *line, *len (valid until the next call), 0: end of the
 * partition, <0: minus a cbag_status (-CBAG_IO, -CBAG_PARSE, -CBAG_NOMEM);
 * the message from cbag__lines_error. After an error, returns it again. */
int cbag__lines_next(cbag__lines *r, const char **line, size_t *len);
/* Names the file, the line and what went wrong:
 *   "data/a.json: line 17: invalid UTF-8 at byte 3 of the line"
 *   "data/a.json.gz: truncated gzip stream" */
const char *cbag__lines_error(const cbag__lines *r);
/* The file of the line last returned. */
const char *cbag__lines_path(const cbag__lines *r);
/* 1-based line number, in its file, of the line last returned. For a block
 * range not starting at 0 the lines before the block are counted on the
 * first call (reading the file from its start), so only error messages
 * pay for it. 0 if unknown (the file could not be read again). */
uint64_t cbag__lines_lineno(cbag__lines *r);
/* Bytes of the files consumed so far (compressed bytes for compressed
 * files), for progress reports. */
uint64_t cbag__lines_bytes_read(const cbag__lines *r);
void cbag__lines_close(cbag__lines *r);

/* Output: a file written under a temporary name in the same directory
 * (".NAME.tmp.PID.RAND"), renamed to its final name on commit; abort
 * removes it. Missing parent directories are created (as dask's
 * to_textfiles does). Compression from the final name's extension unless
 * codec is given: .gz (ISA-L igzip), .bz2 (level 9, as Python), .xz
 * (preset 6, as Python), .zst (level 3), .lz4 (frame format). */
typedef struct cbag__out cbag__out;
/* codec: CBAG__CODEC_INFER or one of CBAG__CODEC_*. */
cbag__out *cbag__out_open(const char *path, int codec, char *err,
                          size_t errlen);
/* level: -1 for the codec's default; gzip 0..3 (ISA-L levels; default 1),
 * bz2 1..9, xz 0..9, zstd 1..22, lz4 0..12. */
cbag__out *cbag__out_open_level(const char *path, int codec, int level,
                                char *err, size_t errlen);
/* The same for a path that may be an s3:// URL (an upload: see out.c),
 * with storage options st (NULL: from the environment; copied). */
cbag__out *cbag__out_open_st(const char *path, int codec, int level,
                             const struct cbag__storage *st, char *err,
                             size_t errlen);
/* CBAG_OK or an error code; errors (ENOSPC, EFBIG, ...) name the path, the
 * message via cbag__out_error. After an error every call fails again. */
int cbag__out_write(cbag__out *o, const void *p, size_t n);
const char *cbag__out_error(const cbag__out *o);
/* Finishes the stream, fsyncs, renames to the final name. Frees o even on
 * error (the temporary file is then removed). */
int cbag__out_commit(cbag__out *o);
/* The same, with the message of a failure copied into err. */
int cbag__out_commit_err(cbag__out *o, char *err, size_t errlen);
/* Removes the temporary file; frees o. NULL is ignored. */
void cbag__out_abort(cbag__out *o);
/* Removes from the directory of path the temporary files that writers
 * killed mid-write (SIGKILL, a crash, power loss) left behind: those
 * named as above whose PID is not a running process. Writers call it once
 * before writing a set of outputs, so a rerun leaves a clean directory. */
void cbag__out_sweep(const char *path);

/* The codec of a file name's extension (case-insensitive, as fsspec):
 * .gz .bz2 .xz .zst .lz4, else CBAG__CODEC_NONE. */
int cbag__codec_from_path(const char *path);
/* "gzip", "bz2", ... for messages. */
const char *cbag__codec_name(int codec);

/* dask's to_textfiles naming: the pattern's single '*' is replaced by the
 * partition number, zero-padded to the width of n-1 (fsspec's
 * build_name_function): "*.json.gz" in directory out/ gives out/0.json.gz
 * .. out/9.json.gz for 10 partitions, out/00.json.gz .. for 11. A pattern
 * without a star is a directory: "out" gives out/0.part, out/1.part, ...
 * (dask: os.path.join(path, "*.part")). Returns a malloc'd path (free with
 * cbag__free) or NULL when memory is exhausted or the pattern has more than one
 * '*'. */
char *cbag__textfile_name(const char *pattern, size_t i, size_t n);
/* CBAG_OK, or CBAG_INVALID with dask's message when the pattern has more
 * than one '*'. */
int cbag__textfile_pattern_check(const char *pattern, char *err, size_t errlen);

#endif
