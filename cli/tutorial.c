/* tutorial.c: `cbag tutorial`: every cell of the dask.bag tutorial notebook
 * (bag-tutorial.txt) run in order through cbag's language, the cells'
 * Python exactly as the notebook writes it. Each cell prints its code, its
 * result (long results shortened; frames as pandas prints them) and its
 * wall time. Cells that need what cbag does not have (the distributed
 * client's shutdown) are shown and skipped with the reason; so is the S3
 * cell unless an S3 endpoint is configured (see s3_cell). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "lang/lang.h"

typedef struct cell {
    const char *n;
    const char *code;
    const char *skip; /* why it is not run, or NULL */
} cell;

static const cell cells[] = {
    {"1", "%run prep.py -d accounts", NULL},
    {"2", "from dask.distributed import Client\n\nclient = Client(n_workers=4)",
     NULL},
    {"14",
     "# each element is an integer\n"
     "import dask.bag as db\n"
     "b = db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], npartitions=2)\n"
     "b.take(3)",
     NULL},
    {"15",
     "# each element is a text file, where each line is a JSON object\n"
     "# note that the compression is handled automatically\n"
     "import os\n"
     "b = db.read_text(os.path.join('data', 'accounts.*.json.gz'))\n"
     "b.take(1)",
     NULL},
    {"17",
     "# Requires `s3fs` library\n"
     "# each partition is a remote CSV text file\n"
     "b = db.read_text('s3://dask-data/nyc-taxi/2015/"
     "yellow_tripdata_2015-01.csv',\n"
     "                 storage_options={'anon': True})\n"
     "b.take(2)",
     NULL},
    {"18",
     "def is_even(n):\n"
     "    return n % 2 == 0\n"
     "\n"
     "b = db.from_sequence([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])\n"
     "c = b.filter(is_even).map(lambda x: x ** 2)\n"
     "c",
     NULL},
    {"19",
     "# blocking form: wait for completion (which is very fast in this "
     "case)\n"
     "c.compute()",
     NULL},
    {"20",
     "filename = os.path.join('data', 'accounts.*.json.gz')\n"
     "lines = db.read_text(filename)\n"
     "lines.take(3)",
     NULL},
    {"21",
     "import json\n"
     "js = lines.map(json.loads)\n"
     "# take: inspect first few elements\n"
     "js.take(3)",
     NULL},
    {"22",
     "# filter: keep only some elements of the sequence\n"
     "js.filter(lambda record: record['name'] == 'Alice').take(5)",
     NULL},
    {"23",
     "def count_transactions(d):\n"
     "    return {'name': d['name'], 'count': len(d['transactions'])}\n"
     "\n"
     "# map: apply a function to each element\n"
     "(js.filter(lambda record: record['name'] == 'Alice')\n"
     "   .map(count_transactions)\n"
     "   .take(5))",
     NULL},
    {"36",
     "# pluck: select a field, as from a dictionary, element[field]\n"
     "(js.filter(lambda record: record['name'] == 'Alice')\n"
     "   .map(count_transactions)\n"
     "   .pluck('count')\n"
     "   .take(5))",
     NULL},
    {"48",
     "%%time\n"
     "# Average number of transactions for all of the Alice entries\n"
     "(js.filter(lambda record: record['name'] == 'Alice')\n"
     "   .map(count_transactions)\n"
     "   .pluck('count')\n"
     "   .mean()\n"
     "   .compute())",
     NULL},
    {"49",
     "%%time\n"
     "\n"
     "sanity_check = (\n"
     "    js.filter(lambda r: r[\"name\"] == \"Alice\")\n"
     "    .map(count_transactions)\n"
     "    .pluck(\"count\")\n"
     "    .compute()\n"
     ")\n"
     "\n"
     "sum(sanity_check) / len(sanity_check)",
     NULL},
    {"50",
     "js.filter(lambda record: record['name'] == 'Alice')"
     ".pluck('transactions').take(3)",
     NULL},
    {"51",
     "(js.filter(lambda record: record['name'] == 'Alice')\n"
     "   .pluck('transactions')\n"
     "   .flatten()\n"
     "   .take(3))",
     NULL},
    {"52",
     "(js.filter(lambda record: record['name'] == 'Alice')\n"
     "   .pluck('transactions')\n"
     "   .flatten()\n"
     "   .pluck('amount')\n"
     "   .take(3))",
     NULL},
    {"53",
     "(js.filter(lambda record: record['name'] == 'Alice')\n"
     "   .pluck('transactions')\n"
     "   .flatten()\n"
     "   .pluck('amount')\n"
     "   .mean()\n"
     "   .compute())",
     NULL},
    {"54",
     "b = db.from_sequence(['Alice', 'Bob', 'Charlie', 'Dan', 'Edith', "
     "'Frank'])\n"
     "b.groupby(len).compute()  # names grouped by length",
     NULL},
    {"57",
     "b = db.from_sequence(list(range(10)))\n"
     "b.groupby(lambda x: x % 2).compute()",
     NULL},
    {"58",
     "b.groupby(lambda x: x % 2).starmap(lambda k, v: (k, max(v))).compute()",
     NULL},
    {"63",
     "is_even = lambda x: x % 2\n"
     "b.foldby(is_even, binop=max, combine=max).compute()",
     NULL},
    {"64",
     "%%time\n"
     "# Warning, this one takes a while...\n"
     "result = js.groupby(lambda item: item['name']).starmap(lambda k, v: "
     "(k, len(v))).compute()\n"
     "print(sorted(result))",
     NULL},
    {"78",
     "%%time\n"
     "# This one is comparatively fast and produces the same result.\n"
     "from operator import add\n"
     "def incr(tot, _):\n"
     "    return tot+1\n"
     "\n"
     "result = js.foldby(key='name', \n"
     "                   binop=incr, \n"
     "                   initial=0, \n"
     "                   combine=add, \n"
     "                   combine_initial=0).compute()\n"
     "print(sorted(result))",
     NULL},
    {"95",
     "%%time\n"
     "# Your code here...\n"
     "\n"
     "# val is like: {\n"
     "#     'name': 'Alice',\n"
     "#     'transactions': [\n"
     "#         {'amount': 1, 'id': 123},\n"
     "#         {'amount': 2, 'id': 456}\n"
     "#     ]\n"
     "# }\n"
     "\n"
     "def binop(tot, val):\n"
     "    \"\"\"\n"
     "    'tot' will first be the value we set in 'initial'\n"
     "    'val' will be 1 record from 'js' (picture a list of dictionaries)\n"
     "    \n"
     "    Doing something like this triggers an error:\n"
     "        \"daemonic processes are not allowed to have children\"\n"
     "        return tot + db.from_sequence(val[\"transactions\"])"
     ".pluck(\"amount\").sum().compute()\n"
     "    \"\"\"\n"
     "    amt = 0\n"
     "    for t in val[\"transactions\"]:\n"
     "        amt += t[\"amount\"]\n"
     "    return tot + amt\n"
     "\n"
     "(\n"
     "    js.foldby(\"name\", binop=binop, initial=0, combine=add, "
     "combine_initial=0)\n"
     "    .compute()\n"
     ")",
     NULL},
    {"79", "df1 = js.to_dataframe()\ndf1.head()", NULL},
    {"82", "%time df1.groupby('name').id.count().compute().head()", NULL},
    {"83",
     "def denormalize(record):\n"
     "    # returns a list for every nested item, each transaction of each "
     "person\n"
     "    return [{'id': record['id'], \n"
     "             'name': record['name'], \n"
     "             'amount': transaction['amount'], \n"
     "             'transaction-id': transaction['transaction-id']}\n"
     "            for transaction in record['transactions']]\n"
     "\n"
     "transactions = js.map(denormalize).flatten()\n"
     "transactions.take(3)",
     NULL},
    {"84", "df = transactions.to_dataframe()\ndf.head()", NULL},
    {"85",
     "%%time\n"
     "# number of transactions per name\n"
     "# note that the time here includes the data load and ingestion\n"
     "df.groupby('name')['transaction-id'].count().compute()",
     NULL},
    {"86", "client.shutdown()", "there is no distributed client to shut down"},
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The code to run: IPython cell magics (%%time) dropped, line magics
 * (%time x) replaced by their statement, and the notebook's
 * 'data' directory replaced by --data when that differs. malloc'd. */
static char *runnable(const char *code, const char *data) {
    size_t dl = strlen(data) + 2;
    size_t cap = strlen(code) * (dl > 6 ? dl : 6) + 16;
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    const char *s = code;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t l = e ? (size_t)(e - s + 1) : strlen(s);
        if (strncmp(s, "%time ", 6) == 0) { /* line magic: its statement */
            s += 6;
            l -= 6;
        }
        if (s[0] != '%') {
            for (size_t i = 0; i < l; i++) {
                if (strcmp(data, "data") != 0 &&
                    strncmp(s + i, "'data'", 6) == 0) {
                    o += sprintf(o, "'%s'", data);
                    i += 5;
                    continue;
                }
                *o++ = s[i];
            }
        }
        s += l;
    }
    *o = '\0';
    return out;
}

#define TAXI_URL "s3://dask-data/nyc-taxi/2015/yellow_tripdata_2015-01.csv"

/* Cell 17 reads a public CSV on AWS. It runs when an endpoint holding a
 * CSV of that shape is configured (AWS_ENDPOINT_URL, as
 * tests/remote/run.sh does with a local S3), or CBAG_TUTORIAL_S3_URL names
 * another URL to read; else it is skipped (no network is assumed). The
 * code to run, malloc'd, or NULL with the reason in *why. */
static char *s3_cell(const char *code, const char **why) {
    const char *u = getenv("CBAG_TUTORIAL_S3_URL");
    if ((!u || !*u) && !getenv("AWS_ENDPOINT_URL")) {
        *why = "set AWS_ENDPOINT_URL to an S3 endpoint holding " TAXI_URL
               " (tests/remote/run.sh starts one), or CBAG_TUTORIAL_S3_URL "
               "to the URL of a CSV to read instead";
        return NULL;
    }
    if (!u || !*u) u = TAXI_URL;
    if (strchr(u, '\'') || strchr(u, '\\')) {
        *why = "CBAG_TUTORIAL_S3_URL may not contain quotes";
        return NULL;
    }
    const char *at = strstr(code, TAXI_URL);
    size_t n = strlen(code) + strlen(u) + 1;
    char *out = malloc(n);
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    snprintf(out, n, "%.*s%s%s", (int)(at - code), code, u,
             at + strlen(TAXI_URL));
    return out;
}

static int prep_cell(const char *data) {
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/accounts.00.json.gz", data);
    struct stat st;
    if (stat(probe, &st) == 0) {
        printf("%s/ already has the accounts data\n", data);
        return 0;
    }
    char err[1024];
    if (cbag_prep_accounts(data, NULL, err, sizeof err) != CBAG_OK) {
        printf("error: %s\n", err);
        return 1;
    }
    printf("Created JSON accounts in %s/\n", data);
    return 0;
}

int cli_tutorial(int argc, char **argv) {
    cli_opts o = {0};
    o.progress = -1;
    const char *data = "data";
    for (int i = 2; i < argc; i++) {
        bool miss;
        const char *v;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: cbag tutorial [--data DIR] [-j N] [--scheduler "
                   "sync|threads|mpi]\n"
                   "Runs every cell of the dask.bag tutorial through cbag's "
                   "language,\ngenerating the accounts data in DIR "
                   "(default: data) when missing.\n");
            return 0;
        }
        int c = cli_common_option(argc, argv, &i, &o);
        if (c == 2) return 2;
        if (c == 1) continue;
        if ((v = cli_optarg(argc, argv, &i, NULL, "--data", &miss)) || miss) {
            if (miss) {
                fprintf(stderr, "cbag: tutorial: --data needs a directory\n");
                return 2;
            }
            data = v;
            continue;
        }
        fprintf(stderr, "cbag: tutorial: unknown option '%s'\n", argv[i]);
        return 2;
    }
    if (strchr(data, '\'') || strchr(data, '\\')) {
        fprintf(stderr, "cbag: tutorial: --data may not contain quotes\n");
        return 2;
    }
    cbag_ctx *cx = cli_open(&o);
    if (!cx) return 2;
    cbag__progopt po = {o.errors_skip, o.no_projection};
    cbag__prog *p = cbag__prog_new(cx, &po);
    if (!p) {
        cbag_close(cx);
        return 1;
    }
    int failures = 0;
    for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
        const cell *k = &cells[i];
        printf("\nIn [%s]:\n%s\n\n", k->n, k->code);
        fflush(stdout);
        double t0 = now();
        if (k->skip) {
            printf("(skipped: %s)\n", k->skip);
            continue;
        }
        char *s3code = NULL;
        if (strcmp(k->n, "17") == 0) {
            const char *why = NULL;
            if (!(s3code = s3_cell(k->code, &why))) {
                printf("(skipped: %s)\n", why);
                continue;
            }
        }
        if (strcmp(k->n, "1") == 0) {
            failures += prep_cell(data);
        } else {
            char *code = runnable(s3code ? s3code : k->code, data);
            free(s3code);
            char name[32];
            snprintf(name, sizeof name, "In [%s]", k->n);
            cbag__src src = {name, code ? code : ""};
            cbag__lv last;
            fflush(stdout);
            int rc = code ? cbag__prog_run(p, &src, &last, stdout) : RUN_ERROR;
            if (rc == RUN_OK)
                rc = cbag__prog_show(p, &last, CBAG_FMT_REPR, stdout, stdout,
                                     1200);
            if (rc != RUN_OK) failures++;
            free(code);
        }
        printf("Wall time: %.1f ms\n", (now() - t0) * 1e3);
        fflush(stdout);
    }
    cbag__prog_free(p);
    cbag_close(cx);
    if (failures) {
        fprintf(stderr, "cbag: tutorial: %d cell(s) failed\n", failures);
        return 1;
    }
    return 0;
}
