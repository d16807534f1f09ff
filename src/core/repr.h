/* repr.h: Python's repr() of values. */
#ifndef CBAG_REPR_H
#define CBAG_REPR_H

#include "buf.h"
#include "cbag.h"

/* Appends repr(v): {'id': 0, 'name': 'Yvonne'}, (1,), [1.5, None, True].
 * Strings are quoted and escaped exactly as Python 3 does. Returns CBAG_OK,
 * CBAG_NOMEM, or CBAG_INVALID for a value nested too deep (or cyclic). */
int cbag__repr(cbag__buf *b, const cbag_val *v);

/* Python's repr of a double: the shortest string that round-trips, in
 * Python's layout ("0.1", "1e+16", "1.5e-05", "100.0", "inf", "nan").
 * out must hold 32 bytes; returns the length written. */
int cbag__fmt_double(char *out, double d);

#endif
