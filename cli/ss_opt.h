/* ss_opt: the one option parser of every shardsched command, so that an
 * option is spelled and checked the same way everywhere (-i/--input,
 * -o/--output, -p/--placements, -q/--quiet, --policy, --seed, -h/--help).
 *
 * A command describes its options in a table of ss_opt_t (typed: flag,
 * on/off switch, string, integer in a range, uint64, finite double in a
 * range, one of a list of words) and calls ss_opt_parse, which runs
 * getopt_long over it. Usage errors are printed in one style, two lines on
 * stderr:
 *     shardsched CMD: what is wrong
 *     see 'shardsched CMD --help'
 * and give exit status 2; --help prints the command's help on stdout and
 * gives 0. Every rank parses the same argv, so all ranks reach the same
 * verdict without talking; only the rank told to (loud) prints. */
#ifndef SS_OPT_H
#define SS_OPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    SS_OPT_FLAG,   /* int *: set to 1 */
    SS_OPT_SWITCH, /* bool *: --NAME sets true, --no-NAME false */
    SS_OPT_STR,    /* const char **: a non-empty value */
    SS_OPT_INT,    /* int64_t *: a decimal integer in [lo, hi] */
    SS_OPT_U64,    /* uint64_t *: an unsigned decimal integer */
    SS_OPT_DOUBLE, /* double *: a finite number in [lo, hi] */
    SS_OPT_CHOICE, /* int *: index of the value in choices (case-insensitive) */
    SS_OPT_STRS,   /* ss_opt_strs_t *: each use adds a non-empty value (repeatable) */
} ss_opt_type_t;

/* The values of a repeatable option (SS_OPT_STRS), in the order given. */
#define SS_OPT_STRS_MAX 64
typedef struct {
    const char *v[SS_OPT_STRS_MAX];
    int n;
} ss_opt_strs_t;

typedef struct {
    char short_name;       /* 0: none */
    const char *long_name; /* NULL: none */
    ss_opt_type_t type;
    void *dst;
    double lo, hi;              /* SS_OPT_INT, SS_OPT_DOUBLE */
    const char *const *choices; /* SS_OPT_CHOICE: NULL-terminated */
    int *seen;                  /* optional: set to 1 when the option is given */
} ss_opt_t;

/* Table entries. s: the short letter (0: none), l: the long name (NULL:
 * none), d: the destination. */
#define SS_O_FLAG(s, l, d)                                                                         \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_FLAG, .dst = (d)                       \
    }
#define SS_O_SWITCH(l, d)                                                                          \
    {                                                                                              \
        .long_name = (l), .type = SS_OPT_SWITCH, .dst = (d)                                        \
    }
#define SS_O_STR(s, l, d)                                                                          \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_STR, .dst = (d)                        \
    }
#define SS_O_STRS(s, l, d)                                                                         \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_STRS, .dst = (d)                       \
    }
#define SS_O_INT(s, l, d, lo_, hi_)                                                                \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_INT, .dst = (d), .lo = (lo_),          \
        .hi = (hi_)                                                                                \
    }
#define SS_O_U64(s, l, d)                                                                          \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_U64, .dst = (d)                        \
    }
#define SS_O_DOUBLE(s, l, d, lo_, hi_)                                                             \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_DOUBLE, .dst = (d), .lo = (lo_),       \
        .hi = (hi_)                                                                                \
    }
#define SS_O_CHOICE(s, l, d, c)                                                                    \
    {                                                                                              \
        .short_name = (s), .long_name = (l), .type = SS_OPT_CHOICE, .dst = (d), .choices = (c)     \
    }
#define SS_O_END                                                                                   \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct {
    const char *cmd;       /* "schedule": messages say "shardsched schedule: ..." */
    const ss_opt_t *opts;  /* ends with {0} (no short nor long name) */
    void (*help)(FILE *f); /* the --help text */
    const char **operand;  /* where one positional argument goes; NULL: none allowed */
} ss_opt_spec_t;

/* ss_opt_parse's "go on": the command runs. Any other return value is the
 * exit status the command must return at once. */
#define SS_OPT_RUN (-1)

/* Parses argv[1..argc) (argv[0] is the command name) into the table's
 * destinations. Returns SS_OPT_RUN, 0 after printing the help (-h, --help)
 * or 2 after printing a usage error (printed only when loud). */
int ss_opt_parse(const ss_opt_spec_t *spec, int argc, char **argv, bool loud);

/* Prints a usage error for cmd (the two lines above) when loud; returns 2.
 * For the checks a command makes after parsing (missing -i, ...). */
int ss_opt_fail(const char *cmd, bool loud, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Refuses an output that is one of the inputs (issue 10, item 5: `schedule
 * -i c.h5 -o c.h5` destroyed c.h5). out and the n inputs in[] (NULL and "-"
 * entries, options not given, are skipped) are compared as files, by device
 * and inode after following links, so `./c.h5`, `dir/../c.h5` and symlinks
 * are caught; an output that does not exist yet cannot be an input. Returns
 * SS_OPT_RUN, or 2 after a usage error ("output c.h5 is the input ./c.h5
 * (the same file); writing it would destroy the input"). */
int ss_opt_distinct_files(const char *cmd, bool loud, const char *out, const char *const *in,
                          int n);
/* The same with the inputs listed: SS_OPT_DISTINCT("schedule", loud, o->out, o->in). */
#define SS_OPT_DISTINCT(cmd, loud, out, ...)                                                       \
    ss_opt_distinct_files(                                                                         \
        (cmd), (loud), (out), (const char *const[]){__VA_ARGS__},                                  \
        (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)))

/* --policy NAME of schedule and bench: returns SS_OPT_RUN when the engine's
 * registry (ss_policy_find) knows name, else 2 after a usage error naming it. */
int ss_opt_policy(const char *cmd, const char *name, bool loud);

/* --list-policies: one policy a line, its name then its help. */
void ss_opt_list_policies(FILE *f);

#endif
