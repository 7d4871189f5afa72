/* test_whatif: `shardsched whatif` (engine/ss_whatif.h, cli/cmd_whatif.c) on
 * hand-made clusters whose answers are known: the pools, copies added in
 * place and taken out again (sorted, renumbered, MIG layout copied, the
 * cluster as before), first-fit decreasing and the volume bound, the
 * expanders, and the command itself: 3 pending pods that need exactly 2
 * nodes of pool a, a tainted pool that sends them to pool b, the priority
 * expander's file, --pool-size too small (exit 1), the JSON fields, the
 * DaemonSet pods of the template node on every copy (their room counted,
 * in the estimate, the probes and the answer), a zone spread the probes
 * cannot see (the search falls back to whole-cluster schedules), the
 * same JSON for 1, 2 and 3 ranks, and bad input (exit status, message,
 * nothing written). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "golden_build.h"
#include "ss_snapshot.h"
#include "ss_test_files.h"
#include "ss_whatif.h"

/* Pool a: two full nodes (a1 runs a 4-cpu pod), pool b: one node. */
static const gnode_t nodes_ab[] = {
    {"a1", 4000, 16, 0, "pool=a", "", ""},
    {"a2", 4000, 16, 0, "pool=a", "", ""},
    {"b1", 8000, 32, 0, "pool=b", "", ""},
    {NULL, 0, 0, 0, 0, 0, 0},
};
static const gpod_t full_ab[] = {
    {.name = "run-a1", .cpu_m = 4000, .mem_g = 1, .on = "a1"},
    {.name = "run-a2", .cpu_m = 4000, .mem_g = 1, .on = "a2"},
    {.name = "run-b1", .cpu_m = 8000, .mem_g = 1, .on = "b1"},
    {.name = "web", .count = 3, .cpu_m = 2000, .mem_g = 1},
    {0},
};

static ss_cluster_t *cluster(const gnode_t *n, const gpod_t *p)
{
    ss_cluster_t *c = gb_cluster(n, p);
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    return c;
}

static int32_t *pending(const ss_cluster_t *c, int32_t *n)
{
    int32_t *t = malloc((size_t)c->n_pods * sizeof *t), k = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        if (c->pod_node[p] < 0)
            t[k++] = p;
    *n = k;
    return t;
}

static void test_pools(void **state)
{
    (void)state;
    const gnode_t n[] = {{"x1", 1000, 1, 0, "pool=p,karpenter.sh/nodepool=kp", "", ""},
                         {"x2", 1000, 1, 0, "pool=q", "", ""},
                         {NULL, 0, 0, 0, 0, 0, 0}};
    ss_cluster_t *c = cluster(n, (const gpod_t[]){{0}});
    ss_pools_t p;
    ss_error_t err = {{0}};
    assert_int_equal(ss_pools_find(c, NULL, &p, &err), 0); /* karpenter's label first */
    assert_int_equal(p.n, 1);
    assert_string_equal(ss_cluster_strget(c, p.name[0]), "kp");
    ss_pools_free(&p);
    assert_int_equal(ss_pools_find(c, "pool", &p, &err), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(ss_pools_index(&p, c, "q"), 1);
    assert_int_equal(p.first[1], 1);
    assert_int_equal(ss_pools_index(&p, c, "zz"), -1);
    ss_pools_free(&p);
    ss_cluster_destroy(c);
}

/* Copies go after their template's rack; pod_node follows; MIG copied;
 * removing gives the same cluster (fingerprint). */
static void test_add_remove(void **state)
{
    (void)state;
    const gnode_t n[] = {{"m1", 4000, 16, 0, "pool=m", "", "H100-80GB:1000[4g.40gb@0 3g.40gb@4]"},
                         {"z1", 4000, 16, 0, "pool=z", "", ""},
                         {NULL, 0, 0, 0, 0, 0, 0}};
    const gpod_t p[] = {{.name = "r", .cpu_m = 1000, .mem_g = 1, .on = "z1"}, {0}};
    ss_cluster_t *c = cluster(n, p);
    uint64_t fp = ss_cluster_fingerprint(c);
    ss_pools_t pools;
    ss_error_t err = {{0}};
    assert_int_equal(ss_pools_find(c, NULL, &pools, &err), 0);
    int32_t cnt[2] = {2, 1};
    ss_whatif_undo_t u;
    assert_int_equal(ss_whatif_add(c, &pools, cnt, &u, &err), 0);
    assert_int_equal(c->n_nodes, 5);
    assert_int_equal(u.n_added, 3);
    assert_string_equal(ss_cluster_strget(c, c->node_name[1]), "m-whatif-1");
    assert_string_equal(ss_cluster_strget(c, c->node_name[2]), "m-whatif-2");
    assert_string_equal(ss_cluster_strget(c, c->node_name[3]), "z1");
    assert_string_equal(ss_cluster_strget(c, c->node_name[4]), "z-whatif-1");
    assert_int_equal(c->pod_node[0], 3);
    assert_int_equal(ss_cluster_node_mig_count(c, 2), 2);
    assert_int_equal(c->node_unsched[1], 0);
    assert_true(ss_cluster_nodes_sorted(c));
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_whatif_remove(c, &u);
    assert_int_equal(c->n_nodes, 2);
    assert_int_equal(c->pod_node[0], 1);
    assert_true(ss_cluster_fingerprint(c) == fp);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_pools_free(&pools);
    ss_cluster_destroy(c);
}

/* 3 pods of 2 cpu on copies of a (4 cpu): FFD 2, bound 2; a tainted pool
 * places none. */
static void test_ffd(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster(nodes_ab, full_ab);
    int32_t n, *t = pending(c, &n);
    uint8_t fits[3];
    ss_ffd_t e = {.fits = fits};
    ss_error_t err = {{0}};
    assert_int_equal(n, 3);
    assert_int_equal(ss_whatif_ffd(c, 0, t, n, -1, &e, &err), 0);
    assert_int_equal(e.nodes, 2);
    assert_int_equal(e.placed, 3);
    assert_int_equal(e.lower_bound, 2);
    assert_int_equal(fits[2], 1);
    assert_int_equal(ss_whatif_ffd(c, 0, t, n, 1, &e, &err), 0); /* one node: two pods */
    assert_int_equal(e.nodes, 1);
    assert_int_equal(e.placed, 2);
    assert_int_equal(fits[0] + fits[1] + fits[2], 2);
    ss_cluster_destroy(c);
    const gnode_t tainted[] = {{"a1", 4000, 16, 0, "pool=a", "dedicated=x:NoSchedule", ""},
                               {"b1", 8000, 32, 0, "pool=b", "", ""},
                               {NULL, 0, 0, 0, 0, 0, 0}};
    c = cluster(tainted,
                (const gpod_t[]){{.name = "web", .count = 3, .cpu_m = 2000, .mem_g = 1}, {0}});
    free(t);
    t = pending(c, &n);
    assert_int_equal(ss_whatif_ffd(c, 0, t, n, -1, &e, &err), 0);
    assert_int_equal(e.placed, 0);
    assert_int_equal(e.nodes, 0);
    assert_int_equal(ss_whatif_ffd(c, 1, t, n, -1, &e, &err), 0);
    assert_int_equal(e.nodes, 1);
    assert_int_equal(e.placed, 3);
    free(t);
    ss_cluster_destroy(c);
}

/* Pool a's node a1 runs a DaemonSet pod of 1 cpu (and a 3-cpu pod): a
 * copy of a1 runs the DaemonSet pod too, so two pending 2-cpu pods need two
 * copies (3 cpu of room each), not one (4 cpu). */
static const gnode_t nodes_ds[] = {
    {"a1", 4000, 16, 0, "pool=a", "", ""},
    {NULL, 0, 0, 0, 0, 0, 0},
};
static const gpod_t pods_ds[] = {
    {.name = "agent", .cpu_m = 1000, .mem_g = 1, .on = "a1"},
    {.name = "run", .cpu_m = 3000, .mem_g = 1, .on = "a1"},
    {.name = "web", .count = 2, .cpu_m = 2000, .mem_g = 1},
    {0},
};

static ss_cluster_t *cluster_ds(void)
{
    ss_cluster_t *c = cluster(nodes_ds, pods_ds);
    c->templates[c->pod_template[0]].flags |= SS_TF_CONTROLLER | SS_TF_DAEMONSET;
    return c;
}

static void test_daemonset(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster_ds();
    uint64_t fp = ss_cluster_fingerprint(c);
    int32_t n, *t = pending(c, &n), ds[2];
    ss_ffd_t e = {0};
    ss_error_t err = {{0}};
    assert_int_equal(ss_whatif_ds_pods(c, 0, ds, 2), 1);
    assert_int_equal(ds[0], 0);
    assert_int_equal(ss_whatif_ffd(c, 0, t, n, -1, &e, &err), 0);
    assert_int_equal(e.nodes, 2);       /* 3 cpu of room per copy */
    assert_int_equal(e.lower_bound, 2); /* 4 cpu over 3 */
    ss_pools_t pools;
    assert_int_equal(ss_pools_find(c, NULL, &pools, &err), 0);
    int32_t cnt[1] = {2};
    ss_whatif_undo_t u;
    int32_t np0 = c->n_pods;
    assert_int_equal(ss_whatif_add(c, &pools, cnt, &u, &err), 0);
    assert_int_equal(c->n_pods, np0 + 2); /* one DaemonSet pod per copy */
    assert_string_equal(ss_cluster_strget(c, c->pod_name[np0]), "agent-a-whatif-1");
    assert_int_equal(c->pod_node[np0], u.added[0]);
    assert_int_equal(c->pod_node[np0 + 1], u.added[1]);
    assert_int_equal(c->pod_template[np0], c->pod_template[0]);
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    ss_whatif_remove(c, &u);
    assert_int_equal(c->n_pods, np0);
    assert_true(ss_cluster_fingerprint(c) == fp);
    /* the probe cluster: the copies with their DaemonSet pods, the pods given */
    ss_cluster_t *s = NULL;
    assert_int_equal(ss_whatif_probe(c, &pools, cnt, t, n, &s, &err), 0);
    assert_int_equal(s->n_nodes, 2);
    assert_int_equal(s->n_pods, n + 2);
    assert_int_equal(s->pod_node[0], -1);
    assert_int_equal(s->pod_node[n], 0);
    assert_int_equal(s->pod_node[n + 1], 1);
    assert_true(s->strings == c->strings);
    assert_int_equal(ss_cluster_validate(s, &err), 0);
    ss_whatif_probe_free(s);
    assert_true(ss_cluster_fingerprint(c) == fp);
    ss_pools_free(&pools);
    free(t);
    ss_cluster_destroy(c);
}

static void test_expanders(void **state)
{
    (void)state;
    /* b: 1 node, no cpu waste, 30/32 memory; c: 2 nodes, no cpu waste, 14/16 */
    ss_whatif_option_t o[2] = {
        {.pool = 0, .priority = 10, .est = {1, 2, 1, 8000, 2, 8000, 32, NULL}},
        {.pool = 1, .priority = 5, .est = {2, 2, 2, 8000, 2, 8000, 16, NULL}},
    };
    assert_int_equal(ss_whatif_expand(SS_EXP_LEAST_WASTE, o, 2), 1);
    assert_int_equal(ss_whatif_expand(SS_EXP_MOST_PODS, o, 2), 0); /* tie: fewer nodes */
    assert_int_equal(ss_whatif_expand(SS_EXP_PRIORITY, o, 2), 0);
    o[1].priority = 20;
    assert_int_equal(ss_whatif_expand(SS_EXP_PRIORITY, o, 2), 1);
    o[0].est.placed = o[1].est.placed = 0;
    assert_int_equal(ss_whatif_expand(SS_EXP_LEAST_WASTE, o, 2), -1);
}

/* ---- the command ---- */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fprintf(stderr, "%s: %s\n", path, je.text);
    assert_non_null(j);
    return j;
}

static const char *write_cluster(const char *name, const gnode_t *n, const gpod_t *p)
{
    ss_cluster_t *c = cluster(n, p);
    ss_error_t err = {{0}};
    const char *path = wpath(name);
    assert_int_equal(ss_snapshot_write(path, c, &err), 0);
    ss_cluster_destroy(c);
    return path;
}

#define RUN SS_BINARY " whatif -i "
#define MPI "mpirun --oversubscribe --bind-to none -n "

static void test_cmd_min_nodes(void **state)
{
    (void)state;
    char c[512];
    snprintf(c, sizeof c, "%s", write_cluster("ab.h5", nodes_ab, full_ab));
    assert_int_equal(sh(RUN "%s --min-nodes a --json > %s", c, wpath("a.json")), 0);
    json_t *j = load_json(wpath("a.json"));
    assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "lower_bound")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "pool")), "a");
    assert_int_equal(json_integer_value(json_object_get(j, "pending")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "placed")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "added"), "a")), 2);
    assert_true(json_is_array(json_object_get(j, "groups")));
    /* the search ran on probes: the cluster was scheduled twice (as it is,
     * then once with the answer to verify it) */
    assert_int_equal(json_integer_value(json_object_get(j, "schedules")), 2);
    assert_true(json_integer_value(json_object_get(j, "probes")) >= 1);
    json_decref(j);
    /* the same JSON for 1, 2 and 3 ranks */
    for (int n = 1; n <= 3; n++)
        assert_int_equal(sh(MPI "%d " RUN "%s --min-nodes a,b --json > %s", n, c,
                            wpath(n == 1   ? "r1.json"
                                  : n == 2 ? "r2.json"
                                           : "r3.json")),
                         0);
    assert_int_equal(sh("cmp -s %s %s && cmp -s %s %s", wpath("r1.json"), wpath("r2.json"),
                        wpath("r1.json"), wpath("r3.json")),
                     0);
    /* --pool-size too small: no answer, exit 1, a clear message, nothing written */
    assert_int_equal(
        sh(RUN "%s --min-nodes a --pool-size a=1 -o %s 2> %s", c, wpath("no.h5"), wpath("no.err")),
        1);
    assert_int_equal(sh("grep -q 'no answer fits' %s", wpath("no.err")), 0);
    assert_false(exists(wpath("no.h5")));
}

/* a's nodes are tainted: the pods need b; the expander chooses. */
static void test_cmd_taint_expander(void **state)
{
    (void)state;
    const gnode_t n[] = {{"a1", 4000, 16, 0, "pool=a", "dedicated=x:NoSchedule", ""},
                         {"b1", 2000, 8, 0, "pool=b", "", ""},
                         {"c1", 8000, 64, 0, "pool=c", "", ""},
                         {NULL, 0, 0, 0, 0, 0, 0}};
    const gpod_t p[] = {{.name = "rb", .cpu_m = 2000, .mem_g = 1, .on = "b1"},
                        {.name = "rc", .cpu_m = 8000, .mem_g = 1, .on = "c1"},
                        {.name = "web", .count = 2, .cpu_m = 2000, .mem_g = 1},
                        {0}};
    char c[512];
    snprintf(c, sizeof c, "%s", write_cluster("t.h5", n, p));
    assert_int_equal(sh(RUN "%s --min-nodes a,b --json > %s", c, wpath("t.json")), 0);
    json_t *j = load_json(wpath("t.json"));
    assert_string_equal(json_string_value(json_object_get(j, "pool")), "b");
    assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 2);
    json_decref(j);
    /* least-waste: b (2 nodes: 2/8 memory each) beats c (1 node, 62/64 memory unused... and
     * 4/8 cpu) */
    assert_int_equal(sh(RUN "%s --min-nodes b,c --json > %s", c, wpath("lw.json")), 0);
    j = load_json(wpath("lw.json"));
    assert_string_equal(json_string_value(json_object_get(j, "pool")), "b");
    json_decref(j);
    FILE *f = fopen(wpath("prio.yaml"), "w");
    fputs(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-autoscaler-priority-expander\n"
        "data:\n  priorities: |-\n    10:\n      - ^b$\n    50:\n      - ^c.*\n",
        f);
    fclose(f);
    assert_int_equal(sh(RUN "%s --min-nodes b,c --expander priority --expander-priorities %s "
                            "--json > %s",
                        c, wpath("prio.yaml"), wpath("p.json")),
                     0);
    j = load_json(wpath("p.json"));
    assert_string_equal(json_string_value(json_object_get(j, "pool")), "c");
    assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 1);
    json_decref(j);
    assert_int_equal(
        sh(RUN "%s --min-nodes b,c --expander most-pods --json > %s", c, wpath("mp.json")), 0);
    j = load_json(wpath("mp.json"));
    assert_string_equal(json_string_value(json_object_get(j, "pool")), "c"); /* fewer nodes */
    json_decref(j);
}

/* The command counts the DaemonSet pod's room: 2 new nodes, each running a
 * copy of the DaemonSet pod (in the cluster copy, which verifies). */
static void test_cmd_daemonset(void **state)
{
    (void)state;
    ss_cluster_t *c = cluster_ds();
    ss_error_t err = {{0}};
    assert_int_equal(ss_snapshot_write(wpath("ds.h5"), c, &err), 0);
    ss_cluster_destroy(c);
    assert_int_equal(sh(RUN "%s --min-nodes a --json -o %s --cluster-out %s > %s", wpath("ds.h5"),
                        wpath("dsp.h5"), wpath("dsc.h5"), wpath("ds.json")),
                     0);
    json_t *j = load_json(wpath("ds.json"));
    assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "lower_bound")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "placed")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "added_used")), 2);
    json_decref(j);
    assert_int_equal(sh(SS_BINARY " verify -i %s -p %s --quiet", wpath("dsc.h5"), wpath("dsp.h5")),
                     0);
    assert_int_equal(ss_snapshot_read(wpath("dsc.h5"), &c, &err), 0);
    int32_t on_copies = 0;
    for (int32_t p = 0; p < c->n_pods; p++)
        on_copies += c->pod_node[p] >= 0 &&
                     strstr(ss_cluster_strget(c, c->node_name[c->pod_node[p]]), "-whatif-") &&
                     (c->templates[c->pod_template[p]].flags & SS_TF_DAEMONSET);
    assert_int_equal(on_copies, 2);
    ss_cluster_destroy(c);
    /* --add 1: one pod fits beside the DaemonSet pod, the other does not */
    assert_int_equal(sh(RUN "%s --add a=1 --json > %s", wpath("ds.h5"), wpath("dsa.json")), 0);
    j = load_json(wpath("dsa.json"));
    assert_int_equal(json_integer_value(json_object_get(j, "placed")), 1);
    json_decref(j);
}

/* A zone spread (maxSkew 1) that the probes cannot see: a copy of a1 sits
 * in zone z1 only, where the probe places both web pods; the whole cluster
 * has zone z2 too (b1, full), so the second pod would make the skew 2 and
 * no number of new z1 nodes places it. The verifying schedule places one:
 * the search goes on over whole-cluster schedules and answers 1 node with
 * one pod not helped (exit 1, outputs written). */
static void test_cmd_probe_fallback(void **state)
{
    (void)state;
    const gnode_t n[] = {{"a1", 4000, 16, 0, "pool=a,topology.kubernetes.io/zone=z1", "", ""},
                         {"b1", 4000, 16, 0, "pool=b,topology.kubernetes.io/zone=z2", "", ""},
                         {NULL, 0, 0, 0, 0, 0, 0}};
    const gpod_t p[] = {{.name = "ra", .cpu_m = 4000, .mem_g = 1, .on = "a1"},
                        {.name = "rb", .cpu_m = 4000, .mem_g = 1, .on = "b1"},
                        {.name = "web", .count = 2, .cpu_m = 1000, .mem_g = 1},
                        {0}};
    ss_cluster_t *c = cluster(n, p);
    int32_t app = ss_cluster_str(c, "app"), web = ss_cluster_str(c, "web");
    int32_t vb = ss_cluster_add_expr_value(c, web);
    int32_t eb = ss_cluster_add_expr(c, app, SS_OP_IN, 0, vb, 1);
    ss_spread_t sp = {.max_skew = 1,
                      .key = ss_cluster_str(c, "topology.kubernetes.io/zone"),
                      .when = SS_WHEN_DO_NOT_SCHEDULE,
                      .min_domains = 1,
                      .node_affinity_policy = SS_INCL_HONOR,
                      .node_taints_policy = SS_INCL_IGNORE,
                      .sel = {eb, 1, 0}};
    ss_template_t *t = &c->templates[c->pod_template[2]];
    t->spread_begin = ss_cluster_add_spread(c, &sp);
    t->spread_count = 1;
    t->plabel_begin = ss_cluster_add_label(c, app, web);
    t->plabel_count = 1;
    ss_error_t err = {{0}};
    assert_int_equal(ss_cluster_validate(c, &err), 0);
    assert_int_equal(ss_snapshot_write(wpath("spread.h5"), c, &err), 0);
    ss_cluster_destroy(c);
    assert_int_equal(sh(RUN "%s --min-nodes a --json -o %s > %s 2> %s", wpath("spread.h5"),
                        wpath("sp.h5"), wpath("sp.json"), wpath("sp.err")),
                     1);
    json_t *j = load_json(wpath("sp.json"));
    assert_int_equal(json_integer_value(json_object_get(j, "nodes")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "placed")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "not_helped")), 1);
    assert_true(json_integer_value(json_object_get(j, "schedules")) > 2); /* the fallback ran */
    json_decref(j);
    assert_true(exists(wpath("sp.h5"))); /* the answer places every pod it can */
}

static void test_cmd_add_and_bad_input(void **state)
{
    (void)state;
    char c[512];
    snprintf(c, sizeof c, "%s", write_cluster("ab2.h5", nodes_ab, full_ab));
    assert_int_equal(sh(RUN "%s --add a=1 --json -o %s --cluster-out %s > %s", c, wpath("p.h5"),
                        wpath("copy.h5"), wpath("add.json")),
                     0);
    json_t *j = load_json(wpath("add.json"));
    assert_int_equal(json_integer_value(json_object_get(j, "placed")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "added"), "a")), 1);
    json_decref(j);
    assert_int_equal(sh(SS_BINARY " verify -i %s -p %s --quiet", wpath("copy.h5"), wpath("p.h5")),
                     0);
    /* unknown pool, bad COUNT: a clear error, nothing written */
    assert_int_equal(sh(RUN "%s --add zz=1 -o %s 2> %s", c, wpath("bad.h5"), wpath("e1")), 1);
    assert_int_equal(sh("grep -q 'pool label pool=zz (pools: a, b)' %s", wpath("e1")), 0);
    assert_int_equal(sh(RUN "%s --add a=x -o %s 2> %s", c, wpath("bad.h5"), wpath("e2")), 2);
    assert_int_equal(sh("grep -q \"bad COUNT 'x' for pool a\" %s", wpath("e2")), 0);
    assert_int_equal(sh(RUN "%s --min-nodes a=2 2> %s", c, wpath("e3")), 2);
    assert_int_equal(sh(RUN "%s --group nope 2> %s", c, wpath("e4")), 1);
    assert_int_equal(sh("grep -q 'no pod group named nope' %s", wpath("e4")), 0);
    assert_false(exists(wpath("bad.h5")));
    assert_false(tmp_left());
}

static int setup(void **state)
{
    (void)state;
    return ss_test_workdir_make("ss_test_whatif");
}

static int teardown(void **state)
{
    (void)state;
    return ss_test_workdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_add_remove),
        cmocka_unit_test(test_ffd),
        cmocka_unit_test(test_expanders),
        cmocka_unit_test(test_daemonset),
        cmocka_unit_test(test_cmd_min_nodes),
        cmocka_unit_test(test_cmd_taint_expander),
        cmocka_unit_test(test_cmd_daemonset),
        cmocka_unit_test(test_cmd_probe_fallback),
        cmocka_unit_test(test_cmd_add_and_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
