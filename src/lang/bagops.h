/* bagops.h: what the files mapping the language onto bags share
 * (bagops.c: callbacks and argument helpers; db.c: the db module;
 * bagmethods.c and bagmore.c: methods of bags and items). Internal. */
#ifndef CBAG_BAGOPS_H
#define CBAG_BAGOPS_H

#include "lang.h"

/* User data of the callbacks below: up to three language functions. */
typedef struct cbag__cb {
    cbag__prog *p;
    cbag__lv f[3];
} cbag__cb;

/* f0..f2 (NULL where absent) as callback user data in the program's pool,
 * closures copied off the stack (a bag outlives the call that built it);
 * NULL with a TypeError if one is not callable. */
cbag__cb *cbag__make_cb(cbag__st *st, const cbag__node *at, const cbag__lv *f0,
                        const cbag__lv *f1, const cbag__lv *f2);
/* Engine callbacks calling function f[i] of their cbag__cb: on one
 * element (map), as a predicate, on two (binop), on the elements of a
 * tuple (starmap). Errors carry the position in the program. */
const cbag_val *cbag__cb_map0(cbag_call *c, const cbag_val *x, void *ud);
const cbag_val *cbag__cb_map1(cbag_call *c, const cbag_val *x, void *ud);
const cbag_val *cbag__cb_map2(cbag_call *c, const cbag_val *x, void *ud);
int cbag__cb_pred0(cbag_call *c, const cbag_val *x, void *ud);
const cbag_val *cbag__cb_bin0(cbag_call *c, const cbag_val *a,
                              const cbag_val *b, void *ud);
const cbag_val *cbag__cb_bin1(cbag_call *c, const cbag_val *a,
                              const cbag_val *b, void *ud);
const cbag_val *cbag__cb_star0(cbag_call *c, size_t argc,
                               const cbag_val *const *argv, void *ud);
bool cbag__callable(const cbag__lv *f);
/* A function's name for graphs and messages. */
const char *cbag__fn_name(const cbag__lv *f);

/* The context's error as an E_ENGINE error on st (cleared there); -1. */
int cbag__engine_err(cbag__st *st, const cbag__node *at);
/* A TypeError unless st is the program's thread; what names the thing. */
int cbag__need_main(cbag__st *st, const cbag__node *at, const char *what);
/* A bag, item or computed result (kept) as a language value, or the
 * context's error for NULL. */
int cbag__ret_bag(cbag__st *st, const cbag__node *at, cbag *b, cbag__lv *out);
int cbag__ret_item(cbag__st *st, const cbag__node *at, cbag_item *it,
                   cbag__lv *out);
int cbag__ret_result(cbag__st *st, const cbag__node *at, cbag_result *r,
                     cbag__lv *out);

/* Arguments: absent or None; an int; a size (None: 0); a str copied
 * NUL-terminated into the program's pool (NULL for None, or with an
 * error on st). */
bool cbag__no_arg(const cbag__lv *x);
int cbag__get_int(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  const char *what, int64_t *out);
int cbag__get_size(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *what, size_t *out);
const char *cbag__get_str(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                          const char *what);

/* dask's storage_options={...} (s3fs's names): anon, key, secret, token,
 * endpoint_url, region, client_kwargs={'endpoint_url', 'region_name'}, and
 * cbag's retries and timeout, into o (strings in the program's pool). None
 * or absent: o unchanged. 0, or -1 with an error on st. */
int cbag__get_storage(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                      cbag_storage_options *o);

/* bagmore.c: frequencies, distinct, topk, accumulate, random_sample,
 * repartition, product, join; 1 if name is none of them. */
int cbag__bag_more(cbag__st *st, const cbag__node *at, cbag *b,
                   const char *name, const cbag__args *a, cbag__lv *out);

#endif
