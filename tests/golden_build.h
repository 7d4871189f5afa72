/* Builders for the golden-placement test (tests/test_golden.c): small
 * clusters written as literal tables of nodes and pods, in a tiny text syntax
 * that reads like the Kubernetes objects they stand for. Header-only, for
 * one test program.
 *
 *   labels / nodeSelector  "k=v,k2=v2"
 *   taints                 "k=v:PreferNoSchedule,k2:NoExecute" (value may be empty)
 *   GPUs                   "A100:1000,A100:1000" (model:milli-GPU capacity)
 *   tolerations            "k=v:NoSchedule" (Equal), "k:NoExecute" (Exists),
 *                          no ":Effect" = any effect
 *   required affinity      "k In a;b & k2 Gt 3 | k3 Exists" (terms ORed by '|',
 *                          expressions ANDed by '&', values split by ';')
 *   preferred affinity     "50:k In a|30:k2 NotIn b" (weight:term per '|')
 *   GPU models             "A100,V100"
 *   MIG layout of a GPU    "H100-80GB:1000[4g.40gb@0 3g.40gb@4]": its instances,
 *                          profile@start, of the GPU's model (no [...]: not in
 *                          MIG mode)
 *   MIG request (pod)      .mig = "3g.40gb", .mig_n = count (0 = 1)
 */
#ifndef SS_GOLDEN_BUILD_H
#define SS_GOLDEN_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_cluster.h"
#include "ss_mig.h"

#define GIB ((int64_t)1 << 30)

typedef struct {
    const char *name;
    int64_t cpu_m; /* allocatable cpu, milli */
    int64_t mem_g; /* allocatable memory, GiB */
    int32_t pods;  /* allocatable pods (0 = 110) */
    const char *labels, *taints, *gpus;
} gnode_t;

/* One pod, or `count` replicas name-0 .. name-(count-1) of one template. */
typedef struct {
    const char *name;
    int32_t count; /* 0 = one pod called name */
    int32_t prio;
    int64_t cpu_m, mem_g;
    int32_t gpus, gpu_m; /* GPU count, milli-GPU per GPU */
    const char *sel, *req, *pref, *tol, *models;
    const char *group; /* pod group name, NULL = none */
    int32_t min_member;
    const char *on;    /* running on this node; NULL = pending */
    uint64_t gpu_mask; /* running pods: GPUs held (MIG pods: instances; 0 = first free) */
    const char *mig;   /* MIG profile requested, NULL = none */
    int32_t mig_n;     /* instances of it (0 = 1) */
} gpod_t;

static int32_t gb_str(ss_cluster_t *c, const char *s)
{
    return ss_cluster_str(c, s);
}

/* Calls fn(c, piece, arg) for each piece of s split by sep (copies s). */
static void gb_split(ss_cluster_t *c, const char *s, const char *sep,
                     void (*fn)(ss_cluster_t *, char *, void *), void *arg)
{
    if (!s || !*s)
        return;
    char *buf = strdup(s), *save = NULL;
    for (char *p = strtok_r(buf, sep, &save); p; p = strtok_r(NULL, sep, &save)) {
        while (*p == ' ')
            p++;
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            p[--n] = '\0';
        fn(c, p, arg);
    }
    free(buf);
}

static void gb_label(ss_cluster_t *c, char *p, void *arg)
{
    (void)arg;
    char *eq = strchr(p, '=');
    if (eq)
        *eq = '\0';
    ss_cluster_add_label(c, gb_str(c, p), gb_str(c, eq ? eq + 1 : ""));
}

static int32_t gb_effect(const char *e)
{
    if (!e)
        return SS_EFFECT_ANY;
    if (!strcmp(e, "NoSchedule"))
        return SS_EFFECT_NO_SCHEDULE;
    if (!strcmp(e, "PreferNoSchedule"))
        return SS_EFFECT_PREFER_NO_SCHEDULE;
    if (!strcmp(e, "NoExecute"))
        return SS_EFFECT_NO_EXECUTE;
    fprintf(stderr, "golden: bad effect '%s'\n", e);
    abort();
}

static void gb_taint(ss_cluster_t *c, char *p, void *arg)
{
    (void)arg;
    char *colon = strrchr(p, ':'), *eq = strchr(p, '=');
    if (!colon)
        abort();
    *colon = '\0';
    if (eq)
        *eq = '\0';
    ss_cluster_add_taint(c, gb_str(c, p), gb_str(c, eq ? eq + 1 : ""), gb_effect(colon + 1));
}

static void gb_toleration(ss_cluster_t *c, char *p, void *arg)
{
    (void)arg;
    char *colon = strrchr(p, ':'), *eq = strchr(p, '=');
    if (colon)
        *colon = '\0';
    if (eq)
        *eq = '\0';
    ss_cluster_add_toleration(c, gb_str(c, p), gb_str(c, eq ? eq + 1 : ""),
                              eq ? SS_TOL_EQUAL : SS_TOL_EXISTS,
                              gb_effect(colon ? colon + 1 : NULL));
}

static void gb_gpu(ss_cluster_t *c, char *p, void *arg)
{
    char *colon = strchr(p, ':');
    if (!colon)
        abort();
    *colon = '\0';
    int32_t g = ss_cluster_add_gpu(c, gb_str(c, p), atoi(colon + 1));
    (*(int32_t *)arg)++;
    char *lay = strchr(colon + 1, '[');
    if (!lay)
        return;
    const ss_mig_model_t *m = ss_mig_model(ss_mig_find_model(p));
    ss_mig_instance_t inst[SS_MIG_MAX_INSTANCES];
    int32_t n = 0;
    char *save = NULL;
    lay[strcspn(lay, "]")] = '\0';
    for (char *x = strtok_r(lay + 1, " ", &save); x && n < SS_MIG_MAX_INSTANCES;
         x = strtok_r(NULL, " ", &save)) {
        char *at = strchr(x, '@');
        if (!at)
            abort();
        *at = '\0';
        inst[n++] = (ss_mig_instance_t){gb_str(c, x), atoi(at + 1)};
    }
    ss_cluster_set_gpu_mig(c, g, gb_str(c, m ? m->name : "?"), inst, n);
}

static void gb_model(ss_cluster_t *c, char *p, void *arg)
{
    ss_cluster_add_model(c, gb_str(c, p));
    (*(int32_t *)arg)++;
}

static void gb_value(ss_cluster_t *c, char *p, void *arg)
{
    ss_cluster_add_expr_value(c, gb_str(c, p));
    (*(int32_t *)arg)++;
}

/* "key Op v1;v2" */
static void gb_expr(ss_cluster_t *c, char *p, void *arg)
{
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
    char key[128] = "", op[32] = "", vals[256] = "";
    if (sscanf(p, "%127s %31s %255s", key, op, vals) < 2)
        abort();
    int o = -1;
    for (int i = 0; i < SS_OP_COUNT; i++)
        if (!strcmp(op, ops[i]))
            o = i;
    if (o < 0)
        abort();
    int32_t vb = c->n_expr_values, vn = 0;
    gb_split(c, vals, ";", gb_value, &vn);
    ss_cluster_add_expr(c, gb_str(c, key), o, 0, vb, vn);
    (*(int32_t *)arg)++;
}

/* One term "[W:]expr & expr"; arg: the running term count. */
static void gb_term(ss_cluster_t *c, char *p, void *arg)
{
    int32_t weight = 0;
    char *colon = strchr(p, ':');
    if (colon) {
        *colon = '\0';
        weight = atoi(p);
        p = colon + 1;
    }
    int32_t eb = c->n_exprs, en = 0;
    gb_split(c, p, "&", gb_expr, &en);
    ss_cluster_add_term(c, eb, en, weight);
    (*(int32_t *)arg)++;
}

static int32_t gb_node_index(const ss_cluster_t *c, const char *name)
{
    for (int32_t i = 0; i < c->n_nodes; i++)
        if (!strcmp(ss_cluster_strget(c, c->node_name[i]), name))
            return i;
    fprintf(stderr, "golden: no node '%s'\n", name);
    abort();
}

static void gb_add_nodes(ss_cluster_t *c, const gnode_t *nodes)
{
    for (int32_t i = 0; nodes[i].name; i++) {
        const gnode_t *n = &nodes[i];
        char rack[32];
        snprintf(rack, sizeof rack, "rack-%02d", i); /* one rack a node, in table order */
        int32_t topo[4] = {gb_str(c, "region-1"), gb_str(c, "zone-1"), gb_str(c, "block-1"),
                           gb_str(c, rack)};
        int32_t lb = c->n_labels, tb = c->n_taints, gpb = c->n_gpus, ng = 0;
        gb_split(c, n->labels, ",", gb_label, NULL);
        gb_split(c, n->taints, ",", gb_taint, NULL);
        gb_split(c, n->gpus, ",", gb_gpu, &ng);
        ss_cluster_add_node(c, gb_str(c, n->name), topo, n->cpu_m, n->mem_g * GIB,
                            n->pods ? n->pods : 110, NULL, false, lb, c->n_labels - lb, tb,
                            c->n_taints - tb, gpb, ng);
    }
}

static int32_t gb_add_template(ss_cluster_t *c, const gpod_t *p)
{
    ss_template_t t = {.req = {.cpu_milli = p->cpu_m,
                               .memory = p->mem_g * GIB,
                               .gpu_count = p->gpus,
                               .gpu_milli = p->gpus ? (p->gpu_m ? p->gpu_m : 1000) : 0}};
    t.sel_begin = c->n_labels;
    gb_split(c, p->sel, ",", gb_label, NULL);
    t.sel_count = c->n_labels - t.sel_begin;
    t.req_begin = c->n_terms;
    gb_split(c, p->req, "|", gb_term, &t.req_count);
    t.pref_begin = c->n_terms;
    gb_split(c, p->pref, "|", gb_term, &t.pref_count);
    t.tol_begin = c->n_tolerations;
    gb_split(c, p->tol, ",", gb_toleration, NULL);
    t.tol_count = c->n_tolerations - t.tol_begin;
    t.model_begin = c->n_models;
    gb_split(c, p->models, ",", gb_model, &t.model_count);
    t.plabel_begin = c->n_labels;
    if (p->mig) {
        t.mig_profile = gb_str(c, p->mig);
        t.mig_count = p->mig_n > 0 ? p->mig_n : 1;
    }
    return ss_cluster_add_template(c, &t);
}

static int32_t gb_group(ss_cluster_t *c, const char *name, int32_t min_member)
{
    int32_t id = gb_str(c, name);
    for (int32_t g = 0; g < c->n_groups; g++)
        if (c->group_name[g] == id)
            return g;
    return ss_cluster_add_group(c, id, min_member, SS_TOPO_NODE, SS_TOPO_MODE_NONE);
}

static void gb_add_pods(ss_cluster_t *c, const gpod_t *pods)
{
    for (int32_t i = 0; pods[i].name; i++) {
        const gpod_t *p = &pods[i];
        int32_t t = gb_add_template(c, p);
        int32_t g = p->group ? gb_group(c, p->group, p->min_member) : -1;
        int32_t node = p->on ? gb_node_index(c, p->on) : -1;
        int32_t n = p->count > 0 ? p->count : 1;
        for (int32_t k = 0; k < n; k++) {
            char name[128];
            if (p->count > 0)
                snprintf(name, sizeof name, "%s-%d", p->name, k);
            else
                snprintf(name, sizeof name, "%s", p->name);
            ss_cluster_add_pod(c, gb_str(c, name), gb_str(c, "default"), t, p->prio, g, node,
                               p->gpu_mask);
        }
    }
}

static ss_cluster_t *gb_cluster(const gnode_t *nodes, const gpod_t *pods)
{
    ss_cluster_t *c = ss_cluster_create();
    gb_str(c, "");
    gb_add_nodes(c, nodes);
    gb_add_pods(c, pods);
    ss_error_t err = {{0}};
    if (ss_cluster_mig_assign_running(c, &err) < 0)
        fprintf(stderr, "golden cluster: %s\n", err.text);
    return c;
}

#endif
