/* ss_bench: the scenarios of `shardsched bench` (cli/ss_bench_scen.c): their
 * table, and the in-memory cluster of each step of a scenario. Generation
 * is never timed; cli/cmd_bench.c runs and reports. */
#ifndef SS_BENCH_H
#define SS_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "ss_cluster.h"
#include "ss_error.h"

#define SS_BENCH_MAX_STEPS 3

typedef struct {
    const char *name;
    const char *alias_of; /* NULL: a scenario of its own */
    int n_steps;          /* cluster sizes run one after the other (growth: 3) */
    /* gen: nodes and pending pods of each step; openb: nodes[0] = replicas
     * of the trace's nodes, pods[0] = pending pods per node */
    int64_t nodes[SS_BENCH_MAX_STEPS];
    int64_t pods[SS_BENCH_MAX_STEPS];
    int openb;        /* 1: the OpenB trace replicated, not gen */
    int exhaustive;   /* 1: run --exhaustive beside it by default */
    const char *what; /* one line of help */
} ss_bench_scen_t;

/* NULL-terminated names (scenarios and aliases) for SS_O_CHOICE, and the
 * scenario of name index i (an alias gives the scenario it names). */
extern const char *const ss_bench_names[];
const ss_bench_scen_t *ss_bench_scenario(int i);

/* The help lines of the scenarios. */
void ss_bench_print_scenarios(FILE *f);

/* Options of one build. */
typedef struct {
    uint64_t seed;
    double scale;          /* multiplies node and pod counts (openb: replicas) */
    const char *openb_dir; /* the trace's CSVs (openb-x100) */
    int rules;             /* gen's mix: 0 the inter-pod rules (default), 1 none */
} ss_bench_build_t;

/* Builds step k of s in memory: gen's default mix (ss_gen_opts_default with
 * nodes, pods and seed set) or, for openb-x100, the trace's GPU nodes
 * replicated into zones and blocks with pods sampled from the trace. *out is
 * the caller's. Returns 0 or a negative SS_E* code with a message. */
int ss_bench_build(const ss_bench_scen_t *s, int k, const ss_bench_build_t *b, ss_cluster_t **out,
                   ss_error_t *err);

#endif
