/* cli.h: shared parts of the cbag command (cbag.c, tutorial.c). */
#ifndef CBAG_CLI_H
#define CBAG_CLI_H

#include <stdbool.h>

#include "cbag.h"

typedef struct cli_opts {
    cbag_options copt;
    int fmt;               /* CBAG_FMT_REPR, CBAG_FMT_JSON, CBAG__FMT_JSONL */
    bool errors_skip;      /* --errors skip */
    bool no_projection;    /* --no-projection */
    int progress; /* --progress 1, --no-progress 0; -1: when stderr is a tty */
    const char *visualize; /* --visualize FILE.dot */
} cli_opts;

const char *cli_optarg(int argc, char **argv, int *i, const char *s,
                       const char *l, bool *missing);
int cli_common_option(int argc, char **argv, int *i, cli_opts *o);
cbag_ctx *cli_open(const cli_opts *o);
int cli_tutorial(int argc, char **argv);

#endif
