/* lang.h: the cbag language, a Python subset for building and running bags.
 *
 * Source text is lexed (lex.c), parsed into a tree and its names resolved
 * to frame slots (parse.c, scope.c) once; the tree is then evaluated
 * (eval.c) as often as needed, per record on worker threads. Each node
 * carries its evaluation function, chosen at compile time.
 *
 * Thread safety: during a compute the program (tree, globals) is only
 * read. Everything an evaluation writes lives in its cbag__st (on the C
 * stack of the callback), its frames (C stack) and the cbag_call arena.
 * Internal only: nothing here is public API. */
#ifndef CBAG_LANG_H
#define CBAG_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cbag.h"

typedef struct cbag__node cbag__node;
typedef struct cbag__st cbag__st;
typedef struct cbag__prog cbag__prog;
typedef struct cbag__frame cbag__frame;

/* ------------------------------------------------------------------------ */
/* Language values                                                          */

enum {
    LV_UNSET = 0, /* an unassigned variable */
    LV_VAL,       /* a: const cbag_val * (data) */
    LV_FUNC,      /* a: the N_FUNC node, b: the frame it closes over */
    LV_BUILTIN,   /* a: const cbag__builtin * */
    LV_MOD,       /* a: const cbag__module * */
    LV_BAG,       /* b: cbag * */
    LV_ITEM,      /* b: cbag_item * */
    LV_SEQ,       /* a: cbag__lseq *: a list or tuple holding non-data */
    /* frames (frameops.c) */
    LV_FRAME,   /* b: cbag_frame * */
    LV_FCOL,    /* a: a column handle: df['c'], df.c */
    LV_FMASK,   /* a: a boolean mask: df.c > 0, m1 & m2 */
    LV_FGROUP,  /* a: df.groupby('k'), its ['c'] or .c */
    LV_FDTYPES, /* b: cbag_frame *: df.dtypes */
    LV_EXC      /* a: an exception (exc.c) */
};

typedef struct cbag__lv {
    int k;
    const void *a;
    void *b;
} cbag__lv;

typedef struct cbag__lseq {
    size_t n;
    bool tuple;
    cbag__lv items[];
} cbag__lseq;

static inline cbag__lv cbag__val(const cbag_val *v) {
    cbag__lv r = {LV_VAL, v, NULL};
    return r;
}
#define LVV(x) ((const cbag_val *)(x).a)

/* Keyword argument. */
typedef struct cbag__kw {
    const char *name;
    cbag__lv v;
} cbag__kw;

/* Arguments of a call. */
typedef struct cbag__args {
    size_t n;
    const cbag__lv *v;
    size_t nkw;
    const cbag__kw *kw;
} cbag__args;

typedef int (*cbag__bfn)(cbag__st *st, const cbag__args *a, cbag__lv *out);

typedef struct cbag__builtin {
    const char *name;
    cbag__bfn fn;
    int id; /* for the few the evaluator treats specially (types) */
} cbag__builtin;

typedef struct cbag__module {
    const char *name;
    const struct cbag__modattr *attrs;
} cbag__module;

typedef struct cbag__modattr {
    const char *name;
    const cbag__builtin *fn; /* a function, or */
    const cbag__module *mod; /* a submodule, or */
    double num;              /* a float constant (math.pi) */
} cbag__modattr;

/* Builtin ids used as types (isinstance) and for fast paths. */
enum {
    BI_OTHER = 0,
    BI_INT,
    BI_FLOAT,
    BI_STR,
    BI_BOOL,
    BI_LIST,
    BI_TUPLE,
    BI_DICT,
    BI_JSON_LOADS,
    BI_JSON_DUMPS,
    BI_NONETYPE,
    BI_SET,
    BI_EXC = 100 /* + the E_ kind: an exception class (exc.c) */
};

/* ------------------------------------------------------------------------ */
/* Errors: Python exception kinds                                           */

enum {
    E_NONE = 0,
    E_TYPE,
    E_KEY,
    E_INDEX,
    E_VALUE,
    E_ZERODIV,
    E_NAME,
    E_OVERFLOW,
    E_ATTR,
    E_RECURSION,
    E_IMPORT,
    E_MEMORY,
    E_ENGINE, /* a cbag_ call failed: the message is cbag_errmsg's */
    E_NOTIMPL,
    E_STOP, /* a compute stopped by the engine, message on the context */
    E_BASE, /* classes without errors of their own: BaseException, ... */
    E_EXCEPTION,
    E_LOOKUP,
    E_ARITH,
    E_RUNTIME,
    E_ASSERT,
    E_STOPITER,
    E_JSON,
    E_NKINDS
};

/* ------------------------------------------------------------------------ */
/* The tree                                                                 */

/* Evaluates an expression into *out (0) or runs a statement (a flow code);
 * -1 on error, with the error on st. */
typedef int (*cbag__evfn)(const cbag__node *n, cbag__st *st, cbag__lv *out);

enum { FLOW_NEXT = 0, FLOW_RETURN = 1, FLOW_BREAK = 2, FLOW_CONTINUE = 3 };

enum {
    /* expressions */
    N_CONST = 1,
    N_NAME,   /* s: name; resolved: depth >= 0 local, depth < 0 global */
    N_ATTR,   /* a.s */
    N_CALL,   /* a(kids): n positional then nkw keywords named kwn */
    N_METHOD, /* a.s(kids) */
    N_SUBSCR, /* a[b] */
    N_SLICE,  /* a[kids[0]:kids[1]:kids[2]] (NULL parts) */
    N_BINOP,  /* a op b */
    N_UNARY,  /* op a: '-', '+', '~' */
    N_NOT,
    N_AND,
    N_OR,
    N_CMP,   /* kids[0] ops[0] kids[1] ops[1] ... */
    N_IFEXP, /* b if a else c */
    N_FUNC,  /* lambda or def: params; kids: per param its default or
                NULL (n 0 if none); slot: positional ones; op: FN_*;
                body a (lambda) or b (def) */
    N_LIST,
    N_TUPLE,
    N_DICT,   /* kids: k0 v0 k1 v1 ... */
    N_COMP,   /* op: '[' list, '(' generator, '{' dict; a elt (b value) */
    N_STAR,   /* *a in a call, a display or a target; op OP_POW: **a */
    N_CFOR,   /* comprehension clause: for a in b */
    N_CIF,    /* comprehension clause: if a */
    N_FSTR,   /* f-string: kids are N_CONST pieces and N_FFIELD fields */
    N_SET,    /* {kids} */
    N_FFIELD, /* {a!op:b}: op 'r', 's', 'a' or 0; b an N_FSTR or NULL */
    /* statements */
    S_EXPR,
    S_ASSIGN, /* kids targets = a */
    S_AUG,    /* a op= b */
    S_IF,     /* if a: b else: c (c may be an S_IF for elif) */
    S_FOR,    /* for a in b: c */
    S_WHILE,  /* while a: b */
    S_RETURN,
    S_BREAK,
    S_CONTINUE,
    S_PASS,
    S_BLOCK,  /* kids */
    S_DEF,    /* a: N_FUNC, stored into target b (an N_NAME) */
    S_IMPORT, /* bind the module named s to target b */
    S_DEL,
    S_TRY,    /* try: a; kids: S_EXCEPT handlers; else: b; finally: c */
    S_EXCEPT, /* except a (NULL: all) as b (N_NAME or NULL): c */
    S_RAISE,  /* raise a (NULL: again) from b */
    S_ASSERT, /* assert a, b */
    S_GLOBAL  /* global or nonlocal kids (N_NAME): not locals */
};

/* N_FUNC flags: a *args or a **kwargs parameter (their slots follow the
 * named parameters'). */
enum { FN_VARARGS = 1, FN_KWARGS = 2 };

/* Operators: characters or these codes. */
enum {
    OP_FDIV = 256, /* // */
    OP_POW,        /* ** */
    OP_LSHIFT,
    OP_RSHIFT,
    OP_EQ,
    OP_NE,
    OP_LE,
    OP_GE,
    OP_IN,
    OP_NOTIN,
    OP_IS,
    OP_ISNOT
};

struct cbag__node {
    cbag__evfn ev;
    int kind;
    int op;     /* operator, method id, flags */
    int line;   /* 1-based, in its source */
    int col;    /* 1-based */
    int depth;  /* names: frames up (>= 0), or -1 for a global */
    int slot;   /* names: slot in the frame or the globals */
    int nslots; /* N_FUNC, N_COMP: frame size */
    size_t n;   /* kids */
    size_t nkw; /* N_CALL/N_METHOD: trailing keyword kids */
    int nparams;
    cbag__node *a, *b, *c;
    cbag__node **kids;
    const char **kwn;   /* keyword names */
    const char **pname; /* N_FUNC: parameter names */
    int *ops;           /* N_CMP */
    const char *s;      /* name, attribute, function name */
    const cbag_val *k;  /* N_CONST */
    const void *aux;    /* N_NAME global: fallback builtin (cbag__lv *) */
    const char *doc;    /* N_FUNC from def: for error messages */
};

/* ------------------------------------------------------------------------ */
/* Runtime                                                                  */

struct cbag__frame {
    cbag__frame *up;
    cbag__lv *slot;
    int n;
};

/* A simple bump allocator of malloc'd chunks. */
typedef struct cbag__pool {
    struct cbag__chunk *head;
} cbag__pool;
void *cbag__palloc(cbag__pool *p, size_t n);
char *cbag__pstrndup(cbag__pool *p, const char *s, size_t n);
void cbag__pfree(cbag__pool *p);

/* One evaluation: the main program or one callback invocation. */
struct cbag__st {
    cbag__prog *p;
    cbag_call *c; /* values are built here */
    bool main;    /* the program's thread (may build bags, compute) */
    int depth;    /* user-function recursion */
    cbag__frame *fr;
    int err; /* E_*, or E_NONE */
    int line, col;
    char msg[600];
    cbag__lv ret;
    cbag__lv exc;                /* the exception being handled */
    cbag__lv raised;             /* the exception of err, if raised */
    const cbag_val *err_key;     /* the key of a KeyError, if known */
    const cbag__builtin *callee; /* the builtin being called */
    cbag__pool *mem;        /* non-data allocations: lists of bags, frames */
    cbag__pool own;         /* a worker's own pool, freed after the callback */
    const void **owned;     /* bodies of containers built here: may change */
    size_t nowned, capowned;
};

/* A source text kept for error display. */
typedef struct cbag__src {
    const char *name; /* "<program>", a file name, "cell 23" */
    const char *text;
} cbag__src;

struct cbag__prog {
    cbag_ctx *cx;
    cbag__pool mem; /* trees, source copies, main-thread scratch */
    /* globals */
    const char **gname;
    cbag__lv *gval;
    int nglob, capglob;
    /* results whose values are in use */
    cbag_result **res;
    size_t nres, capres;
    bool errors_skip;   /* --errors skip: json.loads skips bad records */
    bool projection;    /* computes parse only the fields read (project.c) */
    bool replaying;     /* project.c is building a chain again */
    bool fast_json;     /* map(json.loads) uses the engine's loader */
    cbag__lv last_lazy; /* the last bag or item computed (--visualize) */
    const cbag__src *src;
    uint64_t skipped;       /* records skipped by computes (errors=skip) */
    cbag__st *mst;          /* the program's own evaluation state */
    const cbag__node *last; /* the last statement run (for positions) */
};

/* ------------------------------------------------------------------------ */
/* lex.c                                                                    */

enum {
    T_EOF = 0,
    T_NEWLINE,
    T_INDENT,
    T_DEDENT,
    T_NAME,
    T_INT,
    T_FLOAT,
    T_STR,
    T_OP, /* op: a character or OP_* or an augmented/other code below */
    /* an f-string: T_FSTART, then literal pieces (T_STR) and fields, then
     * T_FEND. A field: T_FFIELD, the expression's tokens, T_FDEBUG (s: the
     * "expr=" text of f"{expr=}") if any, T_FCONV (op: 'r', 's' or 'a') if
     * any, T_FSPEC and the spec's pieces and fields if any, T_FFIELDEND */
    T_FSTART,
    T_FFIELD,
    T_FDEBUG,
    T_FCONV,
    T_FSPEC,
    T_FFIELDEND,
    T_FEND
};
enum {
    OP_ARROW = 300, /* -> */
    OP_AUG          /* augmented assignment: aug holds the operator */
};

typedef struct cbag__tok {
    int t;
    int op; /* T_OP: operator; OP_AUG: aug is the binary operator */
    int aug;
    int line, col;
    const char *s; /* T_NAME: NUL-terminated copy; T_STR: decoded bytes */
    size_t len;
    int64_t i;
    double f;
} cbag__tok;

typedef struct cbag__lex {
    cbag__tok *tok;
    size_t n, cap;
    bool incomplete; /* ended inside brackets, a string or a block */
    int line, col;   /* of the error */
    char msg[256];
} cbag__lex;

/* Tokenises text; 0, or -1 with msg/line/col set. Strings and names are
 * copied into pool. Free lx->tok with free(). */
int cbag__tokenize(cbag__pool *pool, const char *text, cbag__lex *lx);

/* ------------------------------------------------------------------------ */
/* parse.c, scope.c                                                         */

typedef struct cbag__syntax {
    int line, col;
    char msg[256];
    bool incomplete;
} cbag__syntax;

/* Parses and resolves text into an S_BLOCK; NULL on a syntax error. */
cbag__node *cbag__compile(cbag__prog *p, const char *text, cbag__syntax *e);
/* Resolves names of a parsed module-level block (scope.c). */
int cbag__resolve(cbag__prog *p, cbag__node *block, cbag__syntax *e);
/* Global slot of a name, created if new; -1 out of memory. */
int cbag__global(cbag__prog *p, const char *name);
/* Known method names: an id, or -1. */
int cbag__method_id(const char *name);
const char *cbag__method_name(int id);

/* ------------------------------------------------------------------------ */
/* eval.c                                                                   */

void cbag__st_init(cbag__st *st, cbag__prog *p, cbag_call *c, bool main);
void cbag__st_done(cbag__st *st);
/* Runs a module-level block; the value of a trailing expression statement
 * goes to *last (LV_UNSET if none). 0 or -1 (error on st). */
int cbag__run(cbag__st *st, const cbag__node *block, cbag__lv *last);
/* Calls a function value. */
int cbag__call(cbag__st *st, const cbag__node *at, const cbag__lv *fn,
               const cbag__args *a, cbag__lv *out);
int cbag__call1(cbag__st *st, const cbag__lv *fn, const cbag__lv *x,
                cbag__lv *out);
/* params.c: binds a's arguments to the parameters of function f into
 * slots (its frame; defaults evaluated in env). 0, or -1 (a TypeError). */
int cbag__bind_params(cbag__st *st, const cbag__node *f, cbag__frame *env,
                      const cbag__args *a, cbag__lv *slots);
/* A list or tuple of items: data when every item is data, else an LV_SEQ
 * (a list of bags, of functions...). */
int cbag__seq_of(cbag__st *st, const cbag__node *at, const cbag__lv *items,
                 size_t cnt, bool tuple, cbag__lv *out);
/* Assigns v to a target: a name, x[k], or names to unpack. */
int cbag__assign(const cbag__node *t, cbag__st *st, const cbag__lv *v);
/* Records an error (the first one wins); returns -1. */
/* bagops.c: binds positional and keyword arguments to names[] (NULL
 * terminated; the first nreq required) as Python does; v[i] is NULL for an
 * argument not given. 0, or -1 with a TypeError on st. */
int cbag__bind_args(cbag__st *st, const cbag__node *at, const char *fname,
                    const cbag__args *a, const char *const *names,
                    size_t nreq, const cbag__lv **v);
int cbag__err(cbag__st *st, const cbag__node *at, int kind, const char *fmt,
              ...) __attribute__((format(printf, 4, 5)));
const char *cbag__err_name(int kind);
void *cbag__alloc(cbag__st *st, size_t n);
/* Marks a container as built by this evaluation (so it may be mutated). */
int cbag__own(cbag__st *st, const cbag_val *v);
bool cbag__owned(const cbag__st *st, const cbag_val *v);
/* Builder failure: an out-of-memory error. */
int cbag__oom(cbag__st *st, const cbag__node *at);
/* Sets the node's evaluation function from its kind. */
void cbag__bind(cbag__node *n);

/* ------------------------------------------------------------------------ */
/* ops.c: operators, truth, iteration, subscripts                           */

bool cbag__truthy(const cbag__lv *v);
const char *cbag__lv_type(const cbag__lv *v);
int cbag__binop(cbag__st *st, const cbag__node *at, int op, const cbag__lv *x,
                const cbag__lv *y, cbag__lv *out);
/* One comparison: 1 true, 0 false, -1 error. */
int cbag__compare(cbag__st *st, const cbag__node *at, int op, const cbag__lv *x,
                  const cbag__lv *y);
/* Order for sorting, min, max: <0, 0, >0 in *res; -1 on a TypeError. */
int cbag__order(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                const cbag__lv *y, int *res);
int cbag__subscr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                 const cbag__lv *k, cbag__lv *out);
int cbag__slice(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                const cbag__lv *lo, const cbag__lv *hi, const cbag__lv *step,
                cbag__lv *out);

/* Iteration over lists, tuples, dicts (keys), strings, bags (computed). */
typedef struct cbag__iter {
    const cbag_val *v;
    const cbag__lseq *seq;
    size_t i, n;
    int kind; /* 0 seq, 1 dict keys, 2 str chars, 3 lv seq */
    const uint32_t *order; /* a set of ints: CPython's order of its keys */
} cbag__iter;
int cbag__iter_init(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                    cbag__iter *it);
/* 1 and *out, 0 at the end, -1 error. */
int cbag__iter_next(cbag__st *st, cbag__iter *it, cbag__lv *out);
/* Materialises an iterable as a list value (new; owned). */
int cbag__to_list(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  cbag_val **out);
/* A value from an lv, or a TypeError. */
int cbag__need_val(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const cbag_val **out);
/* str(x) and repr(x) as new string values. */
int cbag__str(cbag__st *st, const cbag__node *at, const cbag__lv *x, bool repr,
              cbag__lv *out);
/* format(x, spec): Python's format-spec mini-language (format.c). */
int cbag__format_value(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const char *spec, size_t n, cbag__lv *out);
/* Evaluates an N_FSTR (eval_str.c). */
int cbag__ev_fstr(const cbag__node *n, cbag__st *st, cbag__lv *out);
/* Code points of a UTF-8 string. */
size_t cbag__utf8_len(const char *s, size_t n);

/* ------------------------------------------------------------------------ */
/* builtins.c, methods.c, bagops.c                                          */

/* A builtin function or module by name (for unresolved globals). */
bool cbag__builtin_lookup(const char *name, cbag__lv *out);
/* The builtins of builtins_more.c and the exception classes. */
bool cbag__builtin_lookup_more(const char *name, cbag__lv *out);
/* collections.c: Counter and defaultdict. A missing key of d: 0 for a
 * Counter, the factory's value (inserted) for a defaultdict; 1 for a
 * plain dict (a KeyError to raise). */
int cbag__dict_missing(cbag__st *st, const cbag__node *at, const cbag_val *d,
                       const cbag_val *key, cbag__lv *out);
int cbag__counter_method(cbag__st *st, const cbag__node *at, cbag_val *c,
                         const char *m, const cbag__args *a, cbag__lv *out);
int cbag__counter_op(cbag__st *st, const cbag__node *at, int op,
                     const cbag_val *x, const cbag_val *y, cbag__lv *out);
bool cbag__is_counter(const cbag_val *v);
/* A module for `import NAME` ("json", "dask.bag", ...). */
const cbag__module *cbag__module_lookup(const char *name);
int cbag__mod_getattr(cbag__st *st, const cbag__node *at, const cbag__module *m,
                      const char *name, cbag__lv *out);
/* x.name(args) for data values. */
int cbag__method(cbag__st *st, const cbag__node *at, const cbag__lv *x, int id,
                 const char *name, const cbag__args *a, cbag__lv *out);
/* Bag and item methods and attributes. */
int cbag__bag_method(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     const char *name, const cbag__args *a, cbag__lv *out);
int cbag__bag_attr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *name, cbag__lv *out);
/* Computes a bag (list) or item; keeps the result on the program. */
int cbag__compute(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  cbag__lv *out);
/* Keeps a result alive until the program ends. */
int cbag__keep(cbag__st *st, const cbag__node *at, cbag_result *r);
/* Argument helpers for builtins. */
const cbag__lv *cbag__kwarg(const cbag__args *a, const char *name);
int cbag__argn(cbag__st *st, const char *fname, const cbag__args *a, size_t lo,
               size_t hi);
extern const cbag__builtin cbag__bi_json_loads;

/* ------------------------------------------------------------------------ */
/* project.c: projection of JSON records                                    */

/* How a bag or item was built by a bag method (in the program's pool). */
typedef struct cbag__recipe cbag__recipe;
/* Records on out (a bag or item that self.name(*a) returned) how it was
 * built: out->a becomes its recipe. 0, or -1 out of memory. */
int cbag__recipe_note(cbag__st *st, const cbag__node *at, const cbag__lv *self,
                      const char *name, const cbag__args *a, cbag__lv *out);
/* The bag or item to compute for x: x itself, or, when x's chain of bag
 * methods reaches a map(json.loads) and reads only some top-level keys of
 * the records, the same chain built again over a json.loads building only
 * those keys. What the compute does with x's elements: nterm < 0, uses
 * them whole; else reads the nterm keys term of each. 0, or -1 (error on
 * st). */
int cbag__project(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  int nterm, const char *const *term, cbag__lv *out);

/* ------------------------------------------------------------------------ */
/* unicase.c, strmethods.c: Unicode case and classes; more str methods      */

enum {
    CASE_LOWER,
    CASE_UPPER,
    CASE_TITLE,
    CASE_CAPITALIZE,
    CASE_SWAP,
    CASE_FOLD
};
enum {
    IS_ALPHA,
    IS_DECIMAL,
    IS_DIGIT,
    IS_NUMERIC,
    IS_ALNUM,
    IS_SPACE,
    IS_UPPER,
    IS_LOWER,
    IS_TITLE
};
/* s (UTF-8) converted as str.lower(), ... (how: CASE_*) into *out. */
int cbag__str_case(cbag__st *st, const cbag__node *at, const char *s, size_t l,
                   int how, cbag__lv *out);
/* str.isalpha(), ... (what: IS_*). */
bool cbag__str_is(const char *s, size_t l, int what);
/* The str methods of strmethods.c by name: 0, -1, or 1 if none. */
int cbag__str_method2(cbag__st *st, const cbag__node *at, const cbag_val *v,
                      const char *m, const cbag__args *a, cbag__lv *out);

/* ------------------------------------------------------------------------ */
/* mutate.c: containers changed in place; sets                              */

int cbag__setitem(cbag__st *st, const cbag__node *at, const cbag__lv *c,
                  const cbag__lv *k, const cbag__lv *v);
int cbag__delitem(cbag__st *st, const cbag__node *at, const cbag__lv *c,
                  const cbag__lv *k);
/* Methods by name: 0 done, -1 error, 1 no such method. */
int cbag__list_method(cbag__st *st, const cbag__node *at, cbag_val *l,
                      const char *m, const cbag__args *a, cbag__lv *out);
int cbag__dict_method(cbag__st *st, const cbag__node *at, cbag_val *d,
                      const char *m, const cbag__args *a, cbag__lv *out);
int cbag__set_method(cbag__st *st, const cbag__node *at, cbag_val *s,
                     const char *m, const cbag__args *a, cbag__lv *out);
/* A TypeError: this WHAT was not built here and cannot be modified. */
int cbag__not_owned(cbag__st *st, const cbag__node *at, const char *what);
/* The str argument x of method m, or NULL with a TypeError. */
const char *cbag__str_arg(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                          size_t *len, const char *m);
/* A new empty set (owned); NULL with an error on st. */
cbag_val *cbag__new_set(cbag__st *st, const cbag__node *at);
/* Adds x to set s (a TypeError for lists and dicts: unhashable). */
int cbag__set_add(cbag__st *st, const cbag__node *at, cbag_val *s,
                  const cbag__lv *x);
/* a | b, a & b, a - b, a ^ b; a <= b, a >= b, a < b, a > b. */
int cbag__set_op(cbag__st *st, const cbag__node *at, int op, const cbag_val *a,
                 const cbag_val *b, cbag__lv *out);
bool cbag__is_set_val(const cbag_val *v);
/* A set of ints: CPython's iteration order into order (cbag__set_order). */
bool cbag__set_order_of(const cbag_val *s, uint32_t *order);
/* Whether v is or holds a set. */
bool cbag__has_set(const cbag_val *v);
int cbag__bi_set(cbag__st *st, const cbag__args *a, cbag__lv *out);

/* ------------------------------------------------------------------------ */
/* exc.c: exceptions                                                        */

/* The error kind a failed compute's message names (exc.c). */
int cbag__exc_in_message(const char *m);
/* An exception class by name (ValueError, ...). */
bool cbag__exc_lookup(const char *name, cbag__lv *out);
extern const cbag__builtin cbag__bi_json_error;
/* type(e), isinstance(e, C), str(e) / repr(e), e.args. */
int cbag__exc_type(const cbag__lv *x, cbag__lv *out);
bool cbag__exc_isinstance(const cbag__lv *x, const cbag__lv *t);
int cbag__exc_str(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                  bool repr, cbag__lv *out);
int cbag__exc_attr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                   const char *name, cbag__lv *out);
/* The statements try, raise, assert. */
int cbag__ex_try(const cbag__node *n, cbag__st *st, cbag__lv *out);
int cbag__ex_raise(const cbag__node *n, cbag__st *st, cbag__lv *out);
int cbag__ex_assert(const cbag__node *n, cbag__st *st, cbag__lv *out);

/* ------------------------------------------------------------------------ */
/* frameops.c: bag.to_dataframe() and the frame values (LV_FRAME...)        */

bool cbag__frame_kind(int k);
const char *cbag__frame_type(int k);
int cbag__to_dataframe(cbag__st *st, const cbag__node *at, const cbag__lv *b,
                       const cbag__args *a, cbag__lv *out);
int cbag__frame_method(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const char *name, const cbag__args *a, cbag__lv *out);
int cbag__frame_attr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     const char *name, cbag__lv *out);
int cbag__frame_subscr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                       const cbag__lv *k, cbag__lv *out);
/* x OP y with a column on either side: a mask. */
int cbag__frame_cmp(cbag__st *st, const cbag__node *at, int op,
                    const cbag__lv *x, const cbag__lv *y, cbag__lv *out);
/* mask & mask; other operators are errors. */
int cbag__frame_binop(cbag__st *st, const cbag__node *at, int op,
                      const cbag__lv *x, const cbag__lv *y, cbag__lv *out);
int cbag__frame_len(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                    int64_t *out);
/* Writes a frame value as pandas prints it (cbag_frame_print). */
int cbag__frame_print(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                      FILE *out);
/* That text without the final newline, malloc'd. */
int cbag__frame_repr(cbag__st *st, const cbag__node *at, const cbag__lv *x,
                     char **s, size_t *len);
extern const cbag__builtin cbag__bi_print;

/* ------------------------------------------------------------------------ */
/* prog.c: the program as the command line uses it                          */

typedef struct cbag__progopt {
    bool errors_skip;
    bool no_projection; /* parse every field of JSON records */
} cbag__progopt;

cbag__prog *cbag__prog_new(cbag_ctx *cx, const cbag__progopt *o);
void cbag__prog_free(cbag__prog *p);

/* The outcome of running one source. */
enum {
    RUN_OK = 0,
    RUN_ERROR = 1,     /* evaluation failed (message printed) */
    RUN_SYNTAX = 2,    /* syntax error (message printed) */
    RUN_INCOMPLETE = 3 /* needs more lines (interactive) */
};
/* Compiles and runs src; the value of the last expression statement goes
 * to *last (LV_UNSET if none). Errors are printed on err with the source
 * line and a caret. */
int cbag__prog_run(cbag__prog *p, const cbag__src *src, cbag__lv *last,
                   FILE *err);
/* Prints an error of st with its position in the current source. */
void cbag__report(cbag__prog *p, const cbag__st *st, FILE *err);
/* Prints the value of a program's last expression: bags and items are
 * computed (jsonl streams a bag). fmt: CBAG_FMT_REPR, CBAG_FMT_JSON, or
 * CBAG__FMT_JSONL. RUN_OK or RUN_ERROR (reported on err). */
#define CBAG__FMT_JSONL 100
int cbag__prog_show(cbag__prog *p, const cbag__lv *last, int fmt, FILE *out,
                    FILE *err, size_t truncate);
/* "2GB", "512MiB", "1e6": bytes; -1 if malformed. */
int cbag__parse_size(const char *s, uint64_t *out);

#endif
