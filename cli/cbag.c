/* cbag.c: the cbag command. Runs a program in cbag's Python subset given as
 * an argument, from a file, or at an interactive prompt; prints the value
 * of its last expression (computed when it is a bag or an item).
 *
 *   cbag [options] 'EXPR'       cbag [options] -f FILE       cbag
 *   cbag prep accounts [...]    cbag tutorial [--data DIR]
 *
 * Exit status: 0 success, 1 evaluation failure, 2 usage or syntax error. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli.h"
#include "lang/lang.h"

static const char usage_text[] =
    "usage: cbag [options] 'PROGRAM'\n"
    "       cbag [options] -f FILE\n"
    "       cbag [options]                (interactive prompt on a terminal;\n"
    "                                      otherwise the program is read "
    "from stdin)\n"
    "       cbag prep accounts [--dir DIR] [--files N] [--accounts N]\n"
    "                          [--transactions N] [--seed N]\n"
    "       cbag tutorial [--data DIR] [options]\n"
    "\n"
    "Runs a program in cbag's Python subset (statements separated by newlines\n"
    "or ';'), e.g.\n"
    "  cbag \"db.read_text('data/*.json.gz').map(json.loads).pluck('name')"
    ".take(3)\"\n"
    "The value of the last expression is printed; a bag or an item is\n"
    "computed first, so .compute() is optional.\n"
    "\n"
    "Options:\n"
    "  -f, --file FILE         read the program from FILE ('-' for stdin)\n"
    "  -j, --workers N         worker threads (default: one per core)\n"
    "  --scheduler NAME        threads (default), sync (one thread, for "
    "debugging)\n"
    "                          or mpi (under mpirun -np N: every rank runs "
    "the\n"
    "                          program, rank 0 prints; see "
    "docs/distributed.md)\n"
    "  --memory-limit SIZE     memory for buffers and spills, e.g. 2GB, "
    "512MiB\n"
    "  --temp-dir DIR          where spills go (default $TMPDIR or /tmp)\n"
    "  -o, --output FORMAT     repr (Python's repr, default), json, or jsonl\n"
    "                          (a bag as one JSON document per line, "
    "streamed)\n"
    "  --errors MODE           raise (default) or skip: json.loads skips\n"
    "                          malformed records and the count is reported "
    "on stderr\n"
    "  --no-projection         parse every field of JSON records (by default\n"
    "                          a compute whose functions read only some\n"
    "                          top-level keys of json.loads records parses\n"
    "                          only those)\n"
    "  --visualize FILE.dot    write the task graph of the last bag or item "
    "computed\n"
    "  --progress, --no-progress\n"
    "                          a progress bar on stderr (partitions done,\n"
    "                          bytes read, rate, elapsed) for work that takes\n"
    "                          over a second; default: on when stderr is a\n"
    "                          terminal\n"
    "  -h, --help              this help\n"
    "  --version               the version\n"
    "\n"
    "The language is Python's (f-strings, comprehensions, def/lambda with\n"
    "*args/**kwargs, try/except/raise, lists, dicts, sets and str methods,\n"
    "the usual builtins); ints are 64-bit. Predefined: db (dask.bag), json,\n"
    "operator, math, os; imports of them are accepted. Exit status: 0\n"
    "success, 1 evaluation error, 2 usage or syntax error, 130 interrupted.\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "cbag: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'cbag --help'.\n");
    return 2;
}

/* --name VALUE or --name=VALUE at argv[*i]; NULL if not this option. */
const char *cli_optarg(int argc, char **argv, int *i, const char *s,
                       const char *l, bool *missing) {
    const char *a = argv[*i];
    *missing = false;
    if ((s && strcmp(a, s) == 0) || strcmp(a, l) == 0) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        return argv[++*i];
    }
    size_t n = strlen(l);
    if (strncmp(a, l, n) == 0 && a[n] == '=') return a + n + 1;
    if (s && strncmp(a, s, 2) == 0 && a[2] && s[2] == '\0' && a[1] != '-')
        return a + 2; /* -j4 */
    return NULL;
}

/* Parses an option common to the program and the tutorial; 1 if it was
 * one, 0 if not, 2 on a usage error (printed). */
int cli_common_option(int argc, char **argv, int *i, cli_opts *o) {
    bool miss;
    const char *v;
    if ((v = cli_optarg(argc, argv, i, "-j", "--workers", &miss)) || miss) {
        char *end;
        long n = miss ? -1 : strtol(v, &end, 10);
        if (miss || *end || n < 0 || n > 4096)
            return usage_error("-j needs a number of workers, got '%s'",
                               miss ? "" : v);
        o->copt.workers = (int)n;
        return 1;
    }
    if ((v = cli_optarg(argc, argv, i, NULL, "--scheduler", &miss)) || miss) {
        if (miss || (strcmp(v, "sync") && strcmp(v, "threads") &&
                     strcmp(v, "mpi")))
            return usage_error("--scheduler must be threads, sync or mpi, got "
                               "'%s'",
                               miss ? "" : v);
        o->copt.scheduler = v;
        return 1;
    }
    if ((v = cli_optarg(argc, argv, i, NULL, "--memory-limit", &miss)) ||
        miss) {
        uint64_t bytes;
        if (miss || cbag__parse_size(v, &bytes) || bytes == 0)
            return usage_error("--memory-limit needs a size such as 2GB, got "
                               "'%s'",
                               miss ? "" : v);
        o->copt.memory_limit = (size_t)bytes;
        return 1;
    }
    if ((v = cli_optarg(argc, argv, i, NULL, "--temp-dir", &miss)) || miss) {
        if (miss) return usage_error("--temp-dir needs a directory%s", "");
        o->copt.temp_dir = v;
        return 1;
    }
    if (strcmp(argv[*i], "--progress") == 0 ||
        strcmp(argv[*i], "--no-progress") == 0) {
        o->progress = argv[*i][2] == 'p';
        return 1;
    }
    if (strcmp(argv[*i], "--no-projection") == 0) {
        o->no_projection = true;
        return 1;
    }
    if ((v = cli_optarg(argc, argv, i, NULL, "--errors", &miss)) || miss) {
        if (miss || (strcmp(v, "raise") && strcmp(v, "skip")))
            return usage_error("--errors must be raise or skip, got '%s'",
                               miss ? "" : v);
        o->errors_skip = strcmp(v, "skip") == 0;
        return 1;
    }
    return 0;
}

static char *read_all(FILE *f) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n + 1024 > cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void report_skipped(const cli_opts *o, cbag__prog *p) {
    if (o->errors_skip)
        fprintf(stderr,
                "cbag: --errors skip: %llu malformed record%s skipped\n",
                (unsigned long long)p->skipped, p->skipped == 1 ? "" : "s");
}

static int visualize(const cli_opts *o, cbag__prog *p) {
    if (!o->visualize) return 0;
    const cbag__lv *x = &p->last_lazy;
    if (x->k != LV_BAG && x->k != LV_ITEM) {
        fprintf(stderr, "cbag: --visualize: the program computed no bag or "
                        "item\n");
        return 1;
    }
    FILE *f = fopen(o->visualize, "w");
    if (!f) {
        fprintf(stderr, "cbag: --visualize: cannot write %s: %s\n",
                o->visualize, strerror(errno));
        return 1;
    }
    int rc =
        x->k == LV_BAG ? cbag_visualize(x->b, f) : cbag_visualize_item(x->b, f);
    if (fclose(f) || rc) {
        fprintf(stderr, "cbag: --visualize: %s\n",
                rc ? cbag_errmsg(p->cx) : "write failed");
        return 1;
    }
    return 0;
}

/* Runs one source and prints its value; the exit status. */
static int run_source(cbag__prog *p, const cli_opts *o, const cbag__src *src) {
    cbag__lv last;
    int rc = cbag__prog_run(p, src, &last, stderr);
    if (rc == RUN_INCOMPLETE) rc = RUN_SYNTAX;
    if (rc == RUN_OK) rc = cbag__prog_show(p, &last, o->fmt, stdout, stderr, 0);
    fflush(stdout);
    return rc;
}

/* The prompt: a statement runs when complete; a block (a line ending in
 * ':') runs after an empty line, as in Python. */
static int interactive(cbag__prog *p, const cli_opts *o) {
    printf("cbag %s: dask.bag in C. db, json, operator, math are ready; "
           "Ctrl-D exits.\n",
           CBAG_VERSION);
    using_history();
    size_t cap = 1024, n = 0;
    char *buf = malloc(cap);
    if (!buf) return 1;
    bool block = false;
    int status = 0;
    for (;;) {
        char *line = readline(n ? "... " : ">>> ");
        if (!line) {
            if (n == 0) break;
            line = strdup(""); /* EOF ends a pending block */
            if (!line) break;
        }
        if (*line) add_history(line);
        size_t l = strlen(line);
        if (n + l + 2 > cap) {
            while (n + l + 2 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(line);
                status = 1;
                break;
            }
            buf = nb;
        }
        memcpy(buf + n, line, l);
        n += l;
        buf[n++] = '\n';
        buf[n] = '\0';
        const char *e = line + l;
        while (e > line && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (n == l + 1 && e > line && e[-1] == ':') block = true;
        bool empty = e == line;
        free(line);
        if (block && !empty) continue;
        /* an open bracket or string wants more lines, quietly */
        cbag__syntax se;
        if (!block && !cbag__compile(p, buf, &se) && se.incomplete) continue;
        cbag__src src = {"<stdin>", buf};
        cbag__lv last;
        int rc = cbag__prog_run(p, &src, &last, stderr);
        if (rc == RUN_OK) cbag__prog_show(p, &last, o->fmt, stdout, stderr, 0);
        fflush(stdout);
        n = 0;
        buf[0] = '\0';
        block = false;
    }
    free(buf);
    printf("\n");
    return status;
}

static int prep(int argc, char **argv) {
    if (argc < 3 || strcmp(argv[2], "accounts") != 0)
        return usage_error("usage: cbag prep accounts [--dir DIR] [--files N] "
                           "[--accounts N] [--transactions N] [--seed N]%s",
                           "");
    const char *dir = "data";
    cbag_prep_options o = {0};
    for (int i = 3; i < argc; i++) {
        bool miss;
        const char *v;
        static const char *const nums[] = {"--files", "--accounts",
                                           "--transactions", "--seed"};
        if ((v = cli_optarg(argc, argv, &i, NULL, "--dir", &miss)) || miss) {
            if (miss) return usage_error("--dir needs a directory%s", "");
            dir = v;
            continue;
        }
        int k = 0;
        for (; k < 4; k++) {
            v = cli_optarg(argc, argv, &i, NULL, nums[k], &miss);
            if (v || miss) break;
        }
        if (k == 4)
            return usage_error("prep accounts: unknown option '%s'", argv[i]);
        char *end;
        unsigned long long n = miss ? 0 : strtoull(v, &end, 10);
        if (miss || *end || *v == '-' || n == 0 || (k < 3 && n > 100000000))
            return usage_error("prep accounts: bad number '%s'", miss ? "" : v);
        if (k == 0) o.nfiles = (int)n;
        if (k == 1) o.naccounts = (int)n;
        if (k == 2) o.ntransactions = (int)n;
        if (k == 3) o.seed = n;
    }
    char err[1024];
    if (cbag_prep_accounts(dir, &o, err, sizeof err) != CBAG_OK) {
        fprintf(stderr, "cbag: prep accounts: %s\n", err);
        return 1;
    }
    printf("Created JSON accounts in %s/\n", dir);
    return 0;
}

/* SIGINT (Ctrl-C) stops the compute in flight: the engine winds down,
 * removes temporary files, and the command exits with 130. A second one
 * kills the process the usual way. */
static cbag_ctx *sigint_cx;
static volatile sig_atomic_t interrupted_by_signal;

static void sigint_handler(int sig) {
    (void)sig;
    interrupted_by_signal = 1;
    cbag_interrupt(sigint_cx);
    signal(SIGINT, SIG_DFL);
}

static void on_sigint(cbag_ctx *cx) {
    sigint_cx = cx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sigint_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

static int bar_shown; /* a bar is on the terminal line */

static void on_warning(const char *msg, void *ud) {
    (void)ud;
    if (bar_shown) fputs("\r\033[K", stderr);
    bar_shown = 0;
    fprintf(stderr, "cbag: warning: %s\n", msg);
}

/* The progress bar: shown once a stage has run for a second, redrawn in
 * place, erased when the stage ends. */
static void on_progress(const cbag_progress *p, void *ud) {
    (void)ud;
    if (p->done) {
        if (bar_shown) fputs("\r\033[K", stderr);
        bar_shown = 0;
        return;
    }
    if (p->elapsed < 1.0) return;
    double frac = p->parts_total ? (double)p->parts_done / p->parts_total : 0;
    if (p->bytes_total) frac = (double)p->bytes_read / (double)p->bytes_total;
    if (frac > 1) frac = 1;
    char bar[21];
    int full = (int)(frac * 20);
    for (int i = 0; i < 20; i++) bar[i] = i < full ? '=' : i == full ? '>' : ' ';
    bar[20] = '\0';
    double mb = (double)p->bytes_read / 1e6;
    fprintf(stderr, "\r\033[K%.20s [%s] %zu/%zu partitions", p->stage, bar,
            p->parts_done, p->parts_total);
    if (p->bytes_read)
        fprintf(stderr, ", %.1f MB read, %.1f MB/s", mb, mb / p->elapsed);
    fprintf(stderr, ", %.1fs", p->elapsed);
    fflush(stderr);
    bar_shown = 1;
}

cbag_ctx *cli_open(const cli_opts *o) {
    cbag_options copt = o->copt;
    copt.on_warning = on_warning;
    /* A program may compute a value and build a bag from it: every rank
     * needs it, to build the same graph. */
    copt.results_everywhere = true;
    if (o->progress == 1 || (o->progress < 0 && isatty(2))) {
        copt.on_progress = on_progress;
        copt.progress_interval_ms = 200;
    }
    cbag_ctx *cx = cbag_open(&copt);
    if (!cx) {
        fprintf(stderr, "cbag: out of memory\n");
        return NULL;
    }
    if (cbag_errcode(cx)) {
        fprintf(stderr, "cbag: %s\n", cbag_errmsg(cx));
        cbag_close(cx);
        return NULL;
    }
    /* With mpi every rank runs the program and has the same results and
     * errors: rank 0 alone prints them. */
    if (cbag_rank(cx) != 0 && (!freopen("/dev/null", "w", stdout) ||
                               !freopen("/dev/null", "w", stderr))) {
        cbag_close(cx);
        return NULL;
    }
    return cx;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "prep") == 0) return prep(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "tutorial") == 0)
        return cli_tutorial(argc, argv);
    cli_opts o = {0};
    o.progress = -1;
    o.fmt = CBAG_FMT_REPR;
    const char *file = NULL, *expr = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool miss;
        const char *v;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("cbag %s\n", CBAG_VERSION);
            return 0;
        }
        int c = cli_common_option(argc, argv, &i, &o);
        if (c == 2) return 2;
        if (c == 1) continue;
        if ((v = cli_optarg(argc, argv, &i, "-f", "--file", &miss)) || miss) {
            if (miss) return usage_error("-f needs a file name%s", "");
            file = v;
        } else if ((v = cli_optarg(argc, argv, &i, "-o", "--output", &miss)) ||
                   miss) {
            if (!miss && strcmp(v, "repr") == 0)
                o.fmt = CBAG_FMT_REPR;
            else if (!miss && strcmp(v, "json") == 0)
                o.fmt = CBAG_FMT_JSON;
            else if (!miss && strcmp(v, "jsonl") == 0)
                o.fmt = CBAG__FMT_JSONL;
            else
                return usage_error("--output must be repr, json or jsonl, got "
                                   "'%s'",
                                   miss ? "" : v);
        } else if ((v = cli_optarg(argc, argv, &i, NULL, "--visualize",
                                   &miss)) ||
                   miss) {
            if (miss) return usage_error("--visualize needs a file name%s", "");
            o.visualize = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (expr) {
            return usage_error("one program only (quote it): extra argument "
                               "'%s'",
                               a);
        } else {
            expr = a;
        }
    }
    if (file && expr)
        return usage_error("give a program or -f FILE, not both%s", "");
    if (o.copt.scheduler && !strcmp(o.copt.scheduler, "mpi") &&
        ((!file && !expr) || (file && !strcmp(file, "-"))))
        return usage_error("with --scheduler mpi, give the program as an "
                           "argument or with -f FILE (stdin reaches rank 0 "
                           "only)%s",
                           "");

    char *text = NULL;
    const char *name = "<program>";
    bool tty = false;
    if (file) {
        FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
        if (!f) {
            fprintf(stderr, "cbag: cannot open %s: %s\n", file,
                    strerror(errno));
            return 2;
        }
        text = read_all(f);
        if (f != stdin) fclose(f);
        if (!text) {
            fprintf(stderr, "cbag: cannot read %s\n", file);
            return 2;
        }
        name = file;
    } else if (!expr) {
        tty = isatty(0);
        if (!tty) {
            text = read_all(stdin);
            if (!text) {
                fprintf(stderr, "cbag: cannot read stdin\n");
                return 2;
            }
            name = "<stdin>";
        }
    }

    cbag_ctx *cx = cli_open(&o);
    if (!cx) {
        free(text);
        return 2;
    }
    on_sigint(cx);
    cbag__progopt po = {o.errors_skip, o.no_projection};
    cbag__prog *p = cbag__prog_new(cx, &po);
    if (!p) {
        fprintf(stderr, "cbag: out of memory\n");
        cbag_close(cx);
        free(text);
        return 1;
    }
    int rc;
    if (tty) {
        rc = interactive(p, &o);
    } else {
        cbag__src src = {name, expr ? expr : text};
        rc = run_source(p, &o, &src);
    }
    if (rc == RUN_OK && visualize(&o, p)) rc = RUN_ERROR;
    report_skipped(&o, p);
    int interrupted = interrupted_by_signal;
    cbag__prog_free(p);
    cbag_close(cx);
    free(text);
    if (interrupted) return 130; /* as a shell reports SIGINT */
    return rc == RUN_OK ? 0 : rc == RUN_ERROR ? 1 : 2;
}
