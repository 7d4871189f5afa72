/* ss_opt: the shared option parser (see ss_opt.h): builds a getopt_long
 * table from a command's ss_opt_t list, converts and range-checks each
 * value, and prints usage errors in the one house style. */
#include "ss_opt.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ss_policy.h"

#define MAX_LONG 96 /* long options of one command, --no- forms included */

int ss_opt_fail(const char *cmd, bool loud, const char *fmt, ...)
{
    if (!loud)
        return 2;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "shardsched %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nsee 'shardsched %s --help'\n", cmd);
    va_end(ap);
    return 2;
}

int ss_opt_distinct_files(const char *cmd, bool loud, const char *out, const char *const *in, int n)
{
    struct stat so, si;
    if (!out || strcmp(out, "-") == 0 || stat(out, &so) != 0)
        return SS_OPT_RUN; /* stdout, or not there yet: cannot be an input */
    for (int i = 0; i < n; i++)
        if (in[i] && strcmp(in[i], "-") != 0 && stat(in[i], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            return ss_opt_fail(cmd, loud,
                               "output %s is the input %s (the same file); writing it would "
                               "destroy the input, choose another output",
                               out, in[i]);
    return SS_OPT_RUN;
}

/* How an option is named in messages: --long if it has one, else -c. */
static const char *opt_name(const ss_opt_t *o, char *buf, size_t n)
{
    if (o->long_name)
        snprintf(buf, n, "--%s", o->long_name);
    else
        snprintf(buf, n, "-%c", o->short_name);
    return buf;
}

static int parse_int(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || errno)
        return -1;
    *v = x;
    return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno)
        return -1;
    *v = x;
    return 0;
}

/* Stores one value; returns 0 or 2 after a usage error. */
static int store(const ss_opt_spec_t *sp, const ss_opt_t *o, bool on, const char *v, bool loud)
{
    char nm[80];
    opt_name(o, nm, sizeof nm);
    if (o->seen)
        *o->seen = 1;
    switch (o->type) {
    case SS_OPT_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case SS_OPT_SWITCH:
        *(bool *)o->dst = on;
        return 0;
    case SS_OPT_STR:
        if (!v[0])
            return ss_opt_fail(sp->cmd, loud, "%s needs a non-empty value", nm);
        *(const char **)o->dst = v;
        return 0;
    case SS_OPT_STRS: {
        ss_opt_strs_t *l = o->dst;
        if (!v[0])
            return ss_opt_fail(sp->cmd, loud, "%s needs a non-empty value", nm);
        if (l->n >= SS_OPT_STRS_MAX)
            return ss_opt_fail(sp->cmd, loud, "%s given more than %d times (name a folder instead)",
                               nm, SS_OPT_STRS_MAX);
        l->v[l->n++] = v;
        return 0;
    }
    case SS_OPT_INT: {
        int64_t x;
        if (parse_int(v, &x) < 0 || (double)x < o->lo || (double)x > o->hi)
            return ss_opt_fail(sp->cmd, loud, "%s: '%s' is not an integer in %.0f..%.0f", nm, v,
                               o->lo, o->hi);
        *(int64_t *)o->dst = x;
        return 0;
    }
    case SS_OPT_U64: {
        uint64_t x;
        if (parse_u64(v, &x) < 0)
            return ss_opt_fail(sp->cmd, loud, "%s: '%s' is not an unsigned integer", nm, v);
        *(uint64_t *)o->dst = x;
        return 0;
    }
    case SS_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x) || x < o->lo || x > o->hi)
            return ss_opt_fail(sp->cmd, loud, "%s: '%s' is not a number in %g..%g", nm, v, o->lo,
                               o->hi);
        *(double *)o->dst = x;
        return 0;
    }
    case SS_OPT_CHOICE: {
        char list[256] = "";
        size_t len = 0;
        for (int i = 0; o->choices[i]; i++) {
            if (!strcasecmp(v, o->choices[i])) {
                *(int *)o->dst = i;
                return 0;
            }
            len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s",
                                    i ? ", " : "", o->choices[i]);
        }
        return ss_opt_fail(sp->cmd, loud, "%s: '%s' is not one of %s", nm, v, list);
    }
    }
    return ss_opt_fail(sp->cmd, loud, "%s: internal error (option type)", nm);
}

typedef struct {
    struct option lo[MAX_LONG + 2];
    int which[MAX_LONG + 2]; /* index into opts */
    bool on[MAX_LONG + 2];   /* false: the --no- form of a switch */
    char names[MAX_LONG][64];
    char shorts[2 * MAX_LONG + 4];
    int n;
} table_t;

static void add_long(table_t *t, const char *name, int has_arg, int which, bool on)
{
    if (t->n >= MAX_LONG)
        return;
    snprintf(t->names[t->n], sizeof t->names[t->n], "%s%s", on ? "" : "no-", name);
    t->lo[t->n] = (struct option){t->names[t->n], has_arg, NULL, 1000 + t->n};
    t->which[t->n] = which;
    t->on[t->n] = on;
    t->n++;
}

static void build(table_t *t, const ss_opt_t *opts)
{
    size_t ns = 0;
    memset(t, 0, sizeof *t);
    t->shorts[ns++] = ':'; /* ':' for a missing value, '?' for an unknown option */
    t->shorts[ns++] = 'h';
    for (int i = 0; opts[i].short_name || opts[i].long_name; i++) {
        int arg = opts[i].type == SS_OPT_FLAG || opts[i].type == SS_OPT_SWITCH ? no_argument
                                                                               : required_argument;
        if (opts[i].short_name && ns + 2 < sizeof t->shorts) {
            t->shorts[ns++] = opts[i].short_name;
            if (arg == required_argument)
                t->shorts[ns++] = ':';
        }
        if (opts[i].long_name) {
            add_long(t, opts[i].long_name, arg, i, true);
            if (opts[i].type == SS_OPT_SWITCH)
                add_long(t, opts[i].long_name, arg, i, false);
        }
    }
    add_long(t, "help", no_argument, -1, true);
}

/* The text of the option getopt_long just refused. */
static const char *bad_arg(int argc, char **argv, char *buf, size_t n)
{
    if (optopt > 0 && optopt < 1000) {
        snprintf(buf, n, "-%c", optopt);
        return buf;
    }
    return optind - 1 < argc && optind >= 1 ? argv[optind - 1] : "?";
}

int ss_opt_parse(const ss_opt_spec_t *sp, int argc, char **argv, bool loud)
{
    table_t t;
    build(&t, sp->opts);
    char buf[80];
    int ch, li = -1, rc;
    bool help = false;
    opterr = 0;
    optind = 0; /* glibc: a full reset, the parser may have run before */
    while ((ch = getopt_long(argc, argv, t.shorts, t.lo, &li)) != -1) {
        if (ch == '?')
            return ss_opt_fail(sp->cmd, loud, "unknown option '%s'",
                               bad_arg(argc, argv, buf, sizeof buf));
        if (ch == ':')
            return ss_opt_fail(sp->cmd, loud, "%s needs a value",
                               bad_arg(argc, argv, buf, sizeof buf));
        if (ch == 'h') {
            help = true;
            continue;
        }
        const ss_opt_t *o = NULL;
        bool on = true;
        if (ch >= 1000) {
            if (t.which[ch - 1000] < 0) {
                help = true;
                continue;
            }
            o = &sp->opts[t.which[ch - 1000]];
            on = t.on[ch - 1000];
        } else {
            for (int i = 0; sp->opts[i].short_name || sp->opts[i].long_name; i++)
                if (sp->opts[i].short_name == ch)
                    o = &sp->opts[i];
        }
        if (!o)
            return ss_opt_fail(sp->cmd, loud, "unknown option '-%c'", ch);
        if ((rc = store(sp, o, on, optarg, loud)) != 0)
            return rc;
    }
    if (help) {
        if (loud && sp->help)
            sp->help(stdout);
        return 0;
    }
    for (int i = optind; i < argc; i++) {
        if (sp->operand && !*sp->operand && argv[i][0]) {
            *sp->operand = argv[i];
            continue;
        }
        return ss_opt_fail(sp->cmd, loud, "unexpected argument '%s'", argv[i]);
    }
    return SS_OPT_RUN;
}

int ss_opt_policy(const char *cmd, const char *name, bool loud)
{
    if (ss_policy_find(name))
        return SS_OPT_RUN;
    return ss_opt_fail(cmd, loud, "unknown policy '%s' (--list-policies names them)", name);
}

void ss_opt_list_policies(FILE *f)
{
    for (int i = 0; ss_policy_at(i); i++)
        fprintf(f, "%-20s %s\n", ss_policy_at(i)->name,
                ss_policy_at(i)->help ? ss_policy_at(i)->help : "");
}
