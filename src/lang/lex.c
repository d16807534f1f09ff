/* lex.c: Python tokens, with INDENT/DEDENT and implicit line joining inside
 * brackets, as Python's tokenizer. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"

typedef struct lexer {
    cbag__pool *pool;
    const char *s;
    size_t i;
    int line;
    size_t line_start;
    int paren;
    int indent[128];
    int nindent;
    cbag__lex *out;
} lexer;

static int fail(lexer *L, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(lexer *L, int line, int col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->out->msg, sizeof L->out->msg, fmt, ap);
    va_end(ap);
    L->out->line = line;
    L->out->col = col;
    return -1;
}

static int col_of(const lexer *L, size_t i) {
    return (int)(i - L->line_start) + 1;
}

static cbag__tok *push(lexer *L, int t, size_t at) {
    cbag__lex *o = L->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        cbag__tok *nt = realloc(o->tok, cap * sizeof *nt);
        if (!nt) {
            fail(L, L->line, col_of(L, at), "out of memory");
            return NULL;
        }
        o->tok = nt;
        o->cap = cap;
    }
    cbag__tok *k = &o->tok[o->n++];
    memset(k, 0, sizeof *k);
    k->t = t;
    k->line = L->line;
    k->col = col_of(L, at);
    return k;
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                  */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int sb_utf8(sbuf *b, uint32_t cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sb_put(b, u, n);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* An escape after the backslash at s[i]; advances *i past it. */
static int escape(lexer *L, sbuf *b, size_t *ip) {
    const char *s = L->s;
    size_t i = *ip + 1;
    char c = s[i];
    const char *simple = "n\nt\tr\r\\\\''\"\"a\ab\bf\fv\v";
    for (const char *e = simple; *e; e += 2)
        if (c == e[0]) {
            *ip = i + 1;
            return sb_put(b, e + 1, 1);
        }
    if (c == '\n') { /* line continuation inside a string */
        L->line++;
        L->line_start = i + 1;
        *ip = i + 1;
        return 0;
    }
    if (c >= '0' && c <= '7') {
        uint32_t v = 0;
        int k = 0;
        while (k < 3 && s[i] >= '0' && s[i] <= '7')
            v = v * 8 + (uint32_t)(s[i++] - '0'), k++;
        *ip = i;
        return sb_utf8(b, v);
    }
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (digits) {
        uint32_t v = 0;
        for (int k = 1; k <= digits; k++) {
            int h = hexval(s[i + (size_t)k]);
            if (h < 0)
                return fail(L, L->line, col_of(L, *ip), "truncated \\%c escape",
                            c);
            v = v * 16 + (uint32_t)h;
        }
        if (v > 0x10FFFF)
            return fail(L, L->line, col_of(L, *ip),
                        "illegal Unicode character");
        *ip = i + (size_t)digits + 1;
        return sb_utf8(b, v);
    }
    /* Unknown escapes keep the backslash, as Python. */
    *ip = i;
    return sb_put(b, "\\", 1);
}

static int string(lexer *L, size_t start, size_t q, bool raw) {
    const char *s = L->s;
    char quote = s[q];
    bool triple = s[q + 1] == quote && s[q + 2] == quote;
    int line = L->line, col = col_of(L, start);
    size_t i = q + (triple ? 3 : 1);
    sbuf b = {0};
    int rc = 0;
    for (;;) {
        char c = s[i];
        if (c == '\0') {
            L->out->incomplete = triple;
            rc = fail(L, line, col,
                      triple ? "unterminated triple-quoted string"
                             : "unterminated string literal");
            break;
        }
        if (c == quote &&
            (!triple || (s[i + 1] == quote && s[i + 2] == quote))) {
            i += triple ? 3 : 1;
            break;
        }
        if (c == '\n') {
            if (!triple) {
                rc = fail(L, line, col, "unterminated string literal");
                break;
            }
            L->line++;
            L->line_start = i + 1;
        }
        if (c == '\\' && !raw) {
            if (escape(L, &b, &i)) {
                rc = -1;
                break;
            }
            continue;
        }
        if (c == '\\' && raw && s[i + 1]) { /* r'\'' keeps both */
            if (sb_put(&b, s + i, 2)) {
                rc = -1;
                break;
            }
            if (s[i + 1] == '\n') {
                L->line++;
                L->line_start = i + 2;
            }
            i += 2;
            continue;
        }
        if (sb_put(&b, &c, 1)) {
            rc = fail(L, line, col, "out of memory");
            break;
        }
        i++;
    }
    if (rc == 0) {
        cbag__tok *t = push(L, T_STR, start);
        char *copy = t ? cbag__pstrndup(L->pool, b.p ? b.p : "", b.n) : NULL;
        if (!copy) {
            rc = fail(L, line, col, "out of memory");
        } else {
            t->line = line;
            t->col = col;
            t->s = copy;
            t->len = b.n;
        }
    }
    free(b.p);
    L->i = i;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Numbers                                                                  */

static bool isdig(char c) { return c >= '0' && c <= '9'; }
static bool isname0(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (unsigned char)c >= 0x80;
}
static bool isname(char c) { return isname0(c) || isdig(c); }

static int number(lexer *L) {
    const char *s = L->s;
    size_t start = L->i, i = start;
    char buf[128];
    size_t n = 0;
    bool isfloat = false;
    int base = 10;
    if (s[i] == '0' &&
        (s[i + 1] == 'x' || s[i + 1] == 'X' || s[i + 1] == 'o' ||
         s[i + 1] == 'O' || s[i + 1] == 'b' || s[i + 1] == 'B')) {
        char k = (char)(s[i + 1] | 0x20);
        base = k == 'x' ? 16 : k == 'o' ? 8 : 2;
        i += 2;
    }
    for (;; i++) {
        char c = s[i];
        if (c == '_') continue;
        bool ok = base == 16 ? hexval(c) >= 0 : isdig(c);
        if (base == 10 && (c == '.' || c == 'e' || c == 'E')) {
            if (c == '.') {
                ok = true;
            } else {
                ok = true;
                if (s[i + 1] == '+' || s[i + 1] == '-') {
                    if (n + 2 >= sizeof buf) break;
                    buf[n++] = c;
                    c = s[++i];
                }
            }
            isfloat = true;
        }
        if (!ok) break;
        if (n + 1 >= sizeof buf)
            return fail(L, L->line, col_of(L, start), "number too long");
        buf[n++] = c;
    }
    buf[n] = '\0';
    if (isname(s[i]))
        return fail(L, L->line, col_of(L, i), "invalid decimal literal");
    cbag__tok *t = push(L, isfloat ? T_FLOAT : T_INT, start);
    if (!t) return -1;
    errno = 0;
    char *end;
    if (isfloat) {
        t->f = strtod(buf, &end);
    } else {
        unsigned long long u = strtoull(buf, &end, base);
        if (errno == ERANGE || u > (unsigned long long)INT64_MAX)
            return fail(L, L->line, col_of(L, start),
                        "integer literal too large for cbag (int64)");
        t->i = (int64_t)u;
    }
    if (*end != '\0' || n == 0)
        return fail(L, L->line, col_of(L, start), "invalid number literal");
    L->i = i;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Operators                                                                */

static const struct {
    const char *s;
    int op, aug;
} ops[] = {
    {"**=", OP_AUG, OP_POW},    {"//=", OP_AUG, OP_FDIV},
    {">>=", OP_AUG, OP_RSHIFT}, {"<<=", OP_AUG, OP_LSHIFT},
    {"**", OP_POW, 0},          {"//", OP_FDIV, 0},
    {"==", OP_EQ, 0},           {"!=", OP_NE, 0},
    {"<=", OP_LE, 0},           {">=", OP_GE, 0},
    {"->", OP_ARROW, 0},        {"<<", OP_LSHIFT, 0},
    {">>", OP_RSHIFT, 0},       {"+=", OP_AUG, '+'},
    {"-=", OP_AUG, '-'},        {"*=", OP_AUG, '*'},
    {"/=", OP_AUG, '/'},        {"%=", OP_AUG, '%'},
    {"&=", OP_AUG, '&'},        {"|=", OP_AUG, '|'},
    {"^=", OP_AUG, '^'},
};

static int op(lexer *L) {
    const char *s = L->s + L->i;
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t n = strlen(ops[k].s);
        if (strncmp(s, ops[k].s, n) == 0) {
            cbag__tok *t = push(L, T_OP, L->i);
            if (!t) return -1;
            t->op = ops[k].op;
            t->aug = ops[k].aug;
            L->i += n;
            return 0;
        }
    }
    if (strchr("+-*/%()[]{},:.;@=<>&|^~", *s) && *s) {
        cbag__tok *t = push(L, T_OP, L->i);
        if (!t) return -1;
        t->op = (unsigned char)*s;
        if (*s == '(' || *s == '[' || *s == '{') L->paren++;
        if ((*s == ')' || *s == ']' || *s == '}') && L->paren > 0) L->paren--;
        L->i++;
        return 0;
    }
    return fail(L, L->line, col_of(L, L->i), "invalid character '%c'", *s);
}

/* ------------------------------------------------------------------------ */
/* Lines and indentation                                                    */

/* At the start of a logical line: measures indentation, skips blank and
 * comment lines, emits INDENT/DEDENT. Returns 1 at end of text. */
static int line_start(lexer *L) {
    const char *s = L->s;
    for (;;) {
        size_t i = L->i;
        int width = 0;
        while (s[i] == ' ' || s[i] == '\t' || s[i] == '\f') {
            width = s[i] == '\t' ? (width / 8 + 1) * 8 : width + 1;
            i++;
        }
        if (s[i] == '#')
            while (s[i] && s[i] != '\n')
                i++;
        if (s[i] == '\r' && s[i + 1] == '\n') i++;
        if (s[i] == '\n') { /* blank line */
            L->i = i + 1;
            L->line++;
            L->line_start = L->i;
            continue;
        }
        if (s[i] == '\0') {
            L->i = i;
            return 1;
        }
        L->i = i;
        int top = L->indent[L->nindent - 1];
        if (width > top) {
            if (L->nindent == (int)(sizeof L->indent / sizeof L->indent[0]))
                return fail(L, L->line, 1, "too many indentation levels");
            L->indent[L->nindent++] = width;
            return push(L, T_INDENT, i) ? 0 : -1;
        }
        while (width < L->indent[L->nindent - 1]) {
            L->nindent--;
            if (!push(L, T_DEDENT, i)) return -1;
        }
        if (width != L->indent[L->nindent - 1])
            return fail(L, L->line, col_of(L, i),
                        "unindent does not match any outer indentation level");
        return 0;
    }
}

static int fstring(lexer *L, size_t start, size_t q, bool raw);

/* One token (or a comment, or a line continuation) at L->i, which is not
 * a space, a newline or the end. */
static int one(lexer *L) {
    const char *text = L->s;
    char c = text[L->i];
    if (c == '#') {
        while (text[L->i] && text[L->i] != '\n')
            L->i++;
        return 0;
    }
    if (c == '\\') {
        size_t j = L->i + 1;
        if (text[j] == '\r') j++;
        if (text[j] == '\n') {
            L->i = j + 1;
            L->line++;
            L->line_start = L->i;
            return 0;
        }
        if (text[j] == '\0') {
            L->out->incomplete = true;
            return fail(L, L->line, col_of(L, L->i),
                        "unexpected end after line continuation");
        }
        return fail(L, L->line, col_of(L, L->i),
                    "unexpected character after line continuation");
    }
    if (isname0(c)) {
        size_t j = L->i;
        while (isname(text[j]))
            j++;
        /* string prefixes */
        if ((text[j] == '\'' || text[j] == '"') && j - L->i <= 2) {
            bool raw = false, f = false, ok = true;
            for (size_t k = L->i; k < j; k++) {
                char p = (char)(text[k] | 0x20);
                if (p == 'r')
                    raw = true;
                else if (p == 'f')
                    f = true;
                else if (p == 'b')
                    return fail(L, L->line, col_of(L, L->i),
                                "bytes literals are not supported");
                else if (p != 'u' || j - L->i > 1)
                    ok = false;
            }
            if (ok)
                return f ? fstring(L, L->i, j, raw) : string(L, L->i, j, raw);
        }
        cbag__tok *t = push(L, T_NAME, L->i);
        if (!t) return -1;
        t->s = cbag__pstrndup(L->pool, text + L->i, j - L->i);
        if (!t->s) return fail(L, L->line, t->col, "out of memory");
        t->len = j - L->i;
        L->i = j;
        return 0;
    }
    if (isdig(c) || (c == '.' && isdig(text[L->i + 1]))) return number(L);
    if (c == '\'' || c == '"') return string(L, L->i, L->i, false);
    return op(L);
}

/* ------------------------------------------------------------------------ */
/* f-strings                                                                */

/* Pushes the literal piece in b, if any, as a T_STR at (line, col). */
static int piece(lexer *L, sbuf *b, int line, int col) {
    if (b->n == 0) return 0;
    cbag__tok *t = push(L, T_STR, L->i);
    char *copy = t ? cbag__pstrndup(L->pool, b->p, b->n) : NULL;
    if (!copy) return fail(L, line, col, "out of memory");
    t->line = line;
    t->col = col;
    t->s = copy;
    t->len = b->n;
    b->n = 0;
    return 0;
}

/* Whether the f-string closes at L->i. */
static bool closes(const lexer *L, char quote, bool triple) {
    const char *s = L->s + L->i;
    return s[0] == quote && (!triple || (s[1] == quote && s[2] == quote));
}

static int literal(lexer *L, char quote, bool triple, bool raw, bool spec);

/* A replacement field from its '{' at L->i: the expression's tokens, then
 * '=', '!c', ':spec' as Python 3.12 reads them. */
static int field(lexer *L, char quote, bool triple, bool raw) {
    const char *s = L->s;
    int line = L->line, col = col_of(L, L->i);
    if (!push(L, T_FFIELD, L->i)) return -1;
    L->i++;
    size_t expr = L->i, ntok = L->out->n;
    int depth = 0;
    for (;;) {
        char c = s[L->i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            L->i++;
            continue;
        }
        if (c == '\n') {
            L->i++;
            L->line++;
            L->line_start = L->i;
            continue;
        }
        if (c == '\0' || (depth == 0 && closes(L, quote, triple))) {
            L->out->incomplete = c == '\0';
            return fail(L, line, col, "f-string: expecting '}'");
        }
        if (depth == 0 &&
            (c == '}' || c == ':' || (c == '!' && s[L->i + 1] != '=') ||
             (c == '=' && s[L->i + 1] != '=' &&
              (L->out->n == ntok || !(L->out->tok[L->out->n - 1].t == T_OP &&
                                      strchr("<>!=", s[L->i - 1]))))))
            break;
        if (c == '#')
            return fail(L, L->line, col_of(L, L->i),
                        "f-string expression part cannot include '#'");
        if (strchr("([{", c)) depth++;
        if (strchr(")]}", c) && depth > 0) depth--;
        if (one(L)) return -1;
    }
    if (L->out->n == ntok)
        return fail(L, line, col, "f-string: empty expression not allowed");
    if (s[L->i] == '=') { /* f"{x=}": the text, then the value's repr */
        L->i++;
        while (s[L->i] == ' ' || s[L->i] == '\t')
            L->i++;
        cbag__tok *t = push(L, T_FDEBUG, expr);
        if (!t) return -1;
        t->s = cbag__pstrndup(L->pool, s + expr, L->i - expr);
        if (!t->s) return fail(L, line, col, "out of memory");
        t->len = L->i - expr;
        t->line = line;
        t->col = col;
    }
    if (s[L->i] == '!') {
        char k = s[L->i + 1];
        if (k != 'r' && k != 's' && k != 'a')
            return fail(L, L->line, col_of(L, L->i),
                        "f-string: invalid conversion character: expected "
                        "'s', 'r', or 'a'");
        cbag__tok *t = push(L, T_FCONV, L->i);
        if (!t) return -1;
        t->op = k;
        L->i += 2;
    }
    if (s[L->i] == ':') {
        if (!push(L, T_FSPEC, L->i)) return -1;
        L->i++;
        if (literal(L, quote, triple, raw, true)) return -1;
    }
    if (s[L->i] != '}') return fail(L, line, col, "f-string: expecting '}'");
    if (!push(L, T_FFIELDEND, L->i)) return -1;
    L->i++;
    return 0;
}

/* Literal text up to the closing quote (or, in a format spec, up to the
 * field's '}'), with its fields. */
static int literal(lexer *L, char quote, bool triple, bool raw, bool spec) {
    const char *s = L->s;
    sbuf b = {0};
    int line = L->line, col = col_of(L, L->i), rc = 0;
    for (;;) {
        char c = s[L->i];
        if (c == '\0' || (!spec && closes(L, quote, triple)) ||
            (spec && c == '}'))
            break;
        if (spec && closes(L, quote, triple)) {
            rc = fail(L, line, col, "f-string: expecting '}'");
            break;
        }
        if (c == '\n') {
            if (!triple) {
                rc = fail(L, line, col, "unterminated f-string literal");
                break;
            }
            L->line++;
            L->line_start = L->i + 1;
        }
        if ((c == '{' || c == '}') && s[L->i + 1] == c && !spec) {
            if (sb_put(&b, &c, 1)) rc = fail(L, line, col, "out of memory");
            L->i += 2;
            if (rc) break;
            continue;
        }
        if (c == '{') {
            if ((rc = piece(L, &b, line, col))) break;
            if ((rc = field(L, quote, triple, raw))) break;
            line = L->line;
            col = col_of(L, L->i);
            continue;
        }
        if (c == '}') {
            rc = fail(L, L->line, col_of(L, L->i),
                      "f-string: single '}' is not allowed");
            break;
        }
        if (c == '\\' && !raw) {
            if ((rc = escape(L, &b, &L->i))) break;
            continue;
        }
        if (sb_put(&b, &c, 1)) {
            rc = fail(L, line, col, "out of memory");
            break;
        }
        L->i++;
    }
    if (rc == 0) rc = piece(L, &b, line, col);
    free(b.p);
    return rc;
}

/* An f-string from its prefix at start; its quote at q. */
static int fstring(lexer *L, size_t start, size_t q, bool raw) {
    const char *s = L->s;
    char quote = s[q];
    bool triple = s[q + 1] == quote && s[q + 2] == quote;
    int line = L->line, col = col_of(L, start);
    cbag__tok *t = push(L, T_FSTART, start);
    if (!t) return -1;
    L->i = q + (triple ? 3 : 1);
    if (literal(L, quote, triple, raw, false)) return -1;
    if (s[L->i] == '\0') {
        L->out->incomplete = triple;
        return fail(L, line, col,
                    triple ? "unterminated triple-quoted f-string literal"
                           : "unterminated f-string literal");
    }
    if (!push(L, T_FEND, L->i)) return -1;
    L->i += triple ? 3 : 1;
    return 0;
}

int cbag__tokenize(cbag__pool *pool, const char *text, cbag__lex *lx) {
    memset(lx, 0, sizeof *lx);
    lexer L = {0};
    L.pool = pool;
    L.s = text;
    L.line = 1;
    L.indent[0] = 0;
    L.nindent = 1;
    L.out = lx;
    bool at_start = true;
    for (;;) {
        if (at_start) {
            int r = line_start(&L);
            if (r < 0) return -1;
            if (r == 1) break;
            at_start = false;
        }
        char c = text[L.i];
        if (c == '\0') break;
        if (c == ' ' || c == '\t' || c == '\f' || c == '\r') {
            L.i++;
            continue;
        }
        if (c == '\n') {
            if (L.paren == 0 && lx->n > 0 &&
                lx->tok[lx->n - 1].t != T_NEWLINE &&
                lx->tok[lx->n - 1].t != T_INDENT &&
                lx->tok[lx->n - 1].t != T_DEDENT) {
                if (!push(&L, T_NEWLINE, L.i)) return -1;
            }
            L.i++;
            L.line++;
            L.line_start = L.i;
            if (L.paren == 0) at_start = true;
            continue;
        }
        if (one(&L)) return -1;
    }
    if (L.paren > 0) {
        lx->incomplete = true;
        return fail(&L, L.line, col_of(&L, L.i),
                    "unexpected end of input "
                    "(an unclosed bracket)");
    }
    if (lx->n > 0 && lx->tok[lx->n - 1].t != T_NEWLINE &&
        lx->tok[lx->n - 1].t != T_DEDENT)
        if (!push(&L, T_NEWLINE, L.i)) return -1;
    while (L.nindent > 1) {
        L.nindent--;
        if (!push(&L, T_DEDENT, L.i)) return -1;
    }
    return push(&L, T_EOF, L.i) ? 0 : -1;
}
