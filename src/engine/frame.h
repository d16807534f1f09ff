/* frame.h: frames, the columnar tables made by to_dataframe (internal).
 *
 * A frame is a list of partitions, one per partition of the bag it was
 * made from. A partition holds one typed array per column: int64, double,
 * bytes (bool), values (object), or strings as one byte buffer with n + 1
 * offsets; a validity bitmap marks the rows holding a value (NULL: all
 * do). Everything lives in the context's graph arena, so cbag_close()
 * frees frames with the bags; arrays are immutable once built, so frames
 * made by select, head or filter share them freely. */
#ifndef CBAG_FRAME_H
#define CBAG_FRAME_H

#include "engine.h"

/* Column types. F_NONE only while building: no value seen yet. */
enum { F_NONE = 0, F_INT, F_FLOAT, F_BOOL, F_STR, F_OBJ };

typedef struct cbag__fcol {
    /* F_INT int64_t[n], F_FLOAT double[n], F_BOOL uint8_t[n], F_OBJ
     * cbag_val[n], F_STR uint64_t[n + 1] offsets into bytes. */
    void *data;
    const char *bytes;     /* F_STR */
    const uint64_t *valid; /* bit r set: row r holds a value; NULL: all */
} cbag__fcol;

typedef struct cbag__fpart {
    size_t n;
    cbag__fcol index; /* of type index_type; data NULL: 0 .. n-1 */
    cbag__fcol *cols; /* ncols */
} cbag__fpart;

struct cbag_frame {
    cbag_ctx *cx;
    size_t ncols, nparts;
    const char **names;
    uint8_t *types;
    cbag__fpart *parts;
    uint8_t index_type;      /* F_INT for row numbers; a group-by's key */
    const char *index_name;  /* NULL: unnamed */
    int series;              /* one column, printed as a pandas Series */
    const char *series_name; /* NULL: no "Name:" in the footer */
};

static inline int cbag__fvalid(const cbag__fcol *c, size_t r) {
    return !c->valid || (int)((c->valid[r >> 6] >> (r & 63)) & 1);
}
static inline const char *cbag__fstr(const cbag__fcol *c, size_t r,
                                     size_t *len) {
    const uint64_t *off = c->data;
    *len = (size_t)(off[r + 1] - off[r]);
    return c->bytes + off[r];
}

/* A frame header in the graph arena with room for ncols columns and nparts
 * partitions (column arrays of the partitions allocated too). */
cbag_frame *cbag__frame_new(cbag_ctx *cx, size_t ncols, size_t nparts);
/* Index of a column, or -1. */
long cbag__frame_find(const cbag_frame *f, const char *name);
/* "int64", "float64", "bool", "object". */
const char *cbag__ftype_name(int t);
/* The cell (type t) at row r as a value: strings refer to the frame's
 * bytes; a missing cell is None. */
void cbag__fcell(const cbag__fcol *c, int t, size_t r, cbag_val *out);
/* The index value of row r of a partition. */
void cbag__findex(const cbag_frame *f, const cbag__fpart *p, size_t r,
                  cbag_val *out);

/* Thread-safe allocation in the graph arena while a stage runs (the
 * workers build columns in parallel). NULL when memory is exhausted. */
typedef struct cbag__fmem {
    cbag_ctx *cx;
    pthread_mutex_t mu;
} cbag__fmem;
void cbag__fmem_init(cbag__fmem *m, cbag_ctx *cx);
void cbag__fmem_done(cbag__fmem *m);
void *cbag__fmem_alloc(cbag__fmem *m, size_t n);
/* A copy of n bytes (n may be 0). */
void *cbag__fmem_dup(cbag__fmem *m, const void *p, size_t n);

#endif
