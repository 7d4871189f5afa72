/* bind_mig_plan: tests/e2e_bind_mig.sh's plan maker, standing in for
 * `schedule --mig-relayout` + `bind --emit` until the placements file
 * carries the re-layout (ss_placements_read of /mig_relayout). Reads an
 * imported snapshot, places pending pods where the arguments say, gives
 * GPUs new layouts (canonical placement of the counts), and writes what
 * bind would: the request log (ss_bind_collect + ss_bind_log_build), plus
 * the mig-parted configuration with the entry of every re-laid-out node
 * (what the MIG manager must be given).
 *
 * usage: bind_mig_plan CLUSTER.h5 LOG.jsonl MIGCONFIG.yaml MIGWAIT_S ARG...
 *   pod=NS/NAME@NODE[:MASK]         place a pending pod (MASK: its gpu_mask)
 *   gpu=NODE/I:PROFILE=N[,PROFILE=N] the node's I-th GPU gets that layout
 *   gpu=NODE/I:off                   the node's I-th GPU leaves MIG mode */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_bind.h"
#include "ss_snapshot.h"

static int32_t find_node(const ss_cluster_t *c, const char *name, size_t len)
{
    for (int32_t i = 0; i < c->n_nodes; i++) {
        const char *n = ss_cluster_strget(c, c->node_name[i]);
        if (strlen(n) == len && !strncmp(n, name, len))
            return i;
    }
    fprintf(stderr, "bind_mig_plan: no node %.*s\n", (int)len, name);
    exit(2);
}

static int32_t find_row(const ss_cluster_t *c, const ss_placements_t *p, const char *nsname,
                        size_t len)
{
    for (int32_t r = 0; r < p->n; r++) {
        char buf[600];
        snprintf(buf, sizeof buf, "%s/%s", ss_cluster_strget(c, c->pod_ns[p->pod[r]]),
                 ss_cluster_strget(c, c->pod_name[p->pod[r]]));
        if (strlen(buf) == len && !strncmp(buf, nsname, len))
            return r;
    }
    fprintf(stderr, "bind_mig_plan: no pending pod %.*s\n", (int)len, nsname);
    exit(2);
}

/* gpu=NODE/I:SPEC into re-layout row k. */
static void relayout_arg(const ss_cluster_t *c, ss_placements_t *p, int32_t k, const char *a)
{
    const char *slash = strchr(a, '/'), *colon = slash ? strchr(slash, ':') : NULL;
    if (!colon) {
        fprintf(stderr, "bind_mig_plan: bad %s\n", a);
        exit(2);
    }
    int32_t nd = find_node(c, a, (size_t)(slash - a)), i = atoi(slash + 1);
    int32_t g = c->node_gpu_begin[nd] + i;
    const char *model = c->gpu_mig_model[g] ? ss_cluster_strget(c, c->gpu_mig_model[g])
                                            : ss_cluster_strget(c, c->gpu_model[g]);
    int mi = ss_mig_find_model(model);
    if (i < 0 || i >= c->node_gpu_count[nd] || mi < 0) {
        fprintf(stderr, "bind_mig_plan: %s: no such GPU, or %s is not MIG-capable\n", a, model);
        exit(2);
    }
    p->relayout_gpu[k] = g;
    p->relayout_model[k] = strcmp(colon + 1, "off") ? mi : -1;
    memset(&p->relayout[k], 0, sizeof p->relayout[k]);
    if (p->relayout_model[k] < 0)
        return;
    const ss_mig_model_t *m = ss_mig_model(mi);
    int32_t counts[SS_MIG_MAX_PROFILES] = {0};
    char spec[256];
    snprintf(spec, sizeof spec, "%s", colon + 1);
    for (char *tok = strtok(spec, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        *eq = '\0';
        int pi = ss_mig_find_profile(m, tok);
        if (pi < 0) {
            fprintf(stderr, "bind_mig_plan: %s is not a profile of %s\n", tok, m->name);
            exit(2);
        }
        counts[pi] = atoi(eq + 1);
    }
    ss_error_t err = {{0}};
    if (ss_mig_canonical(m, counts, &p->relayout[k], &err) < 0) {
        fprintf(stderr, "bind_mig_plan: %s\n", err.text);
        exit(2);
    }
}

static int by_gpu(const void *a, const void *b)
{
    return *(const int32_t *)a - *(const int32_t *)b;
}

/* One mig-parted entry: per GPU of node nd, its state after p. */
static void write_entry(FILE *f, const ss_cluster_t *c, const ss_placements_t *p, int32_t nd,
                        const char *entry)
{
    fprintf(f, "  %s:\n", entry);
    for (int32_t i = 0; i < c->node_gpu_count[nd]; i++) {
        int32_t g = c->node_gpu_begin[nd] + i, k = -1;
        for (int32_t j = 0; j < p->n_relayout; j++)
            k = p->relayout_gpu[j] == g ? j : k;
        bool mig = k >= 0 ? p->relayout_model[k] >= 0 : c->gpu_mig_model[g] != 0;
        fprintf(f, "    - devices: [%d]\n      mig-enabled: %s\n", i, mig ? "true" : "false");
        if (!mig)
            continue;
        fprintf(f, "      mig-devices:\n");
        int32_t n = k >= 0 ? p->relayout[k].n : c->gpu_mig_count[g];
        const ss_mig_model_t *m = k >= 0 ? ss_mig_model(p->relayout_model[k]) : NULL;
        for (int32_t j = 0; j < n; j++) { /* one line per instance run of a profile */
            const char *name =
                m ? m->profiles[p->relayout[k].inst[j].profile].name
                  : ss_cluster_strget(c, c->mig_insts[c->gpu_mig_begin[g] + j].profile);
            int cnt = 0, seen = 0;
            for (int32_t q = 0; q < n; q++) {
                const char *o =
                    m ? m->profiles[p->relayout[k].inst[q].profile].name
                      : ss_cluster_strget(c, c->mig_insts[c->gpu_mig_begin[g] + q].profile);
                cnt += !strcmp(o, name);
                seen += q < j && !strcmp(o, name);
            }
            if (!seen)
                fprintf(f, "        \"%s\": %d\n", name, cnt);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bind_mig_plan CLUSTER.h5 LOG.jsonl MIGCONFIG.yaml WAIT ARG...\n");
        return 2;
    }
    ss_error_t err = {{0}};
    ss_cluster_t *c = NULL;
    if (ss_snapshot_read(argv[1], &c, &err) < 0) {
        fprintf(stderr, "bind_mig_plan: %s\n", err.text);
        return 1;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < c->n_pods; i++)
        n += c->pod_node[i] < 0;
    ss_placements_t *p = ss_placements_create(n);
    for (int32_t i = 0, r = 0; i < c->n_pods; i++)
        if (c->pod_node[i] < 0) {
            p->pod[r] = i;
            p->node[r] = -1;
            p->seq[r++] = -1;
        }
    int32_t ng = 0, seq = 0;
    for (int a = 5; a < argc; a++)
        ng += !strncmp(argv[a], "gpu=", 4);
    p->n_relayout = p->cap_relayout = ng;
    p->relayout_gpu = calloc((size_t)ng + 1, sizeof *p->relayout_gpu);
    p->relayout_model = calloc((size_t)ng + 1, sizeof *p->relayout_model);
    p->relayout = calloc((size_t)ng + 1, sizeof *p->relayout);
    for (int a = 5, k = 0; a < argc; a++) {
        const char *s = argv[a];
        if (!strncmp(s, "gpu=", 4)) {
            relayout_arg(c, p, k++, s + 4);
            continue;
        }
        const char *at = strchr(s, '@'), *colon = at ? strchr(at, ':') : NULL;
        if (strncmp(s, "pod=", 4) || !at) {
            fprintf(stderr, "bind_mig_plan: bad argument %s\n", s);
            return 2;
        }
        int32_t r = find_row(c, p, s + 4, (size_t)(at - s - 4));
        p->node[r] = find_node(c, at + 1, colon ? (size_t)(colon - at - 1) : strlen(at + 1));
        p->gpu_mask[r] = colon ? strtoull(colon + 1, NULL, 0) : 0;
        p->seq[r] = seq++;
        p->reason[r] = 0;
    }
    /* rows by increasing GPU record (their layouts move with them) */
    for (int32_t i = 1; i < ng; i++)
        for (int32_t j = i; j > 0 && by_gpu(&p->relayout_gpu[j - 1], &p->relayout_gpu[j]) > 0;
             j--) {
            int32_t tg = p->relayout_gpu[j], tm = p->relayout_model[j];
            ss_mig_layout_t tl = p->relayout[j];
            p->relayout_gpu[j] = p->relayout_gpu[j - 1];
            p->relayout_model[j] = p->relayout_model[j - 1];
            p->relayout[j] = p->relayout[j - 1];
            p->relayout_gpu[j - 1] = tg;
            p->relayout_model[j - 1] = tm;
            p->relayout[j - 1] = tl;
        }
    ss_binding_t *b = NULL;
    ss_bind_summary_t s;
    memset(&s, 0, sizeof s);
    ss_bind_opts_t o;
    ss_bind_opts_default(&o);
    o.mig_wait_s = atof(argv[4]);
    ss_bind_log_t l;
    int32_t nb = 0;
    int rc = ss_bind_collect(c, p, &b, &nb, &s, &err);
    if (rc == 0 && !ss_bind_needs_log(c, p, b, nb))
        fprintf(stderr, "bind_mig_plan: note: the plan needs no request log\n");
    if (rc == 0)
        rc = ss_bind_log_build(c, p, b, nb, &o, &l, &err);
    if (rc == 0)
        rc = ss_bind_log_write(&l, argv[2], &err);
    FILE *f = rc == 0 ? fopen(argv[3], "w") : NULL;
    if (f) {
        fprintf(f, "version: v1\nmig-configs:\n  all-disabled:\n    - devices: all\n"
                   "      mig-enabled: false\n");
        for (int32_t i = 0; i < l.n; i++)
            if (l.line[i].op == SS_REQ_MIGCONFIG)
                write_entry(f, c, p, find_node(c, l.line[i].node, strlen(l.line[i].node)),
                            l.line[i].entry);
        fclose(f);
    }
    if (rc < 0)
        fprintf(stderr, "bind_mig_plan: %s\n", err.text);
    if (rc == 0)
        ss_bind_log_free(&l);
    free(b);
    ss_placements_destroy(p);
    ss_cluster_destroy(c);
    return rc < 0 ? 1 : 0;
}
