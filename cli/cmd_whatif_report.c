/* cmd_whatif_report.c: the summary and the --json object of `shardsched
 * whatif` (cli/cmd_whatif.h): what is placed and why not, the pods on each
 * new node, the pod groups and their domains, --min-nodes' answer beside
 * its lower bound, --group's nodes and victims. docs/whatif.md ("JSON"). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_whatif.h"
#include "ss_json_out.h"
#include "ss_reason.h"

/* The domain the placed pending members of group g share: at the group's
 * topology level when it has one, else the narrowest level they share
 * ("zone=z1"); buf "" when none (or nothing placed). */
static void group_domain(const run_t *r, int32_t g, char *buf, size_t n)
{
    const ss_cluster_t *c = r->c;
    buf[0] = 0;
    int lv_hi =
        c->group_topo_mode[g] != SS_TOPO_MODE_NONE ? c->group_topo_level[g] : c->n_levels - 2;
    int lv_lo = c->group_topo_mode[g] != SS_TOPO_MODE_NONE ? c->group_topo_level[g] : 0;
    for (int lv = lv_hi; lv >= lv_lo; lv--) {
        int32_t v = -2;
        for (int32_t p = 0; p < r->n_pods0 && v != -1; p++) {
            if (c->pod_group[p] != g || r->where[p] < 0)
                continue;
            int32_t w = c->node_topo[(size_t)r->where[p] * SS_TOPO_STRIDE + lv];
            v = v == -2 || v == w ? w : -1;
        }
        if (v >= 0 && ss_cluster_strget(c, v)[0]) {
            snprintf(buf, n, "%s=%s", ss_topo_level_name(c, lv), ss_cluster_strget(c, v));
            return;
        }
    }
}

/* Per group: pending members, placed ones. */
static json_t *groups_json(const run_t *r, FILE *txt)
{
    const ss_cluster_t *c = r->c;
    json_t *a = json_array();
    int32_t *pend = calloc((size_t)c->n_groups + 1, sizeof *pend);
    int32_t *pl = calloc((size_t)c->n_groups + 1, sizeof *pl);
    for (int32_t p = 0; pend && pl && p < r->n_pods0; p++) {
        int32_t g = c->pod_group[p];
        if (g >= 0 && r->orig_pending[p]) {
            pend[g]++;
            pl[g] += r->where[p] >= 0;
        }
    }
    for (int32_t g = 0; a && pend && pl && g < c->n_groups; g++) {
        if (!pend[g])
            continue;
        char dom[300];
        group_domain(r, g, dom, sizeof dom);
        json_t *o = json_object();
        ss_json_set(o, "name", json_string(ss_cluster_strget(c, c->group_name[g])));
        ss_json_set(o, "pods", json_integer(pend[g]));
        ss_json_set(o, "placed", json_boolean(pl[g] == pend[g]));
        ss_json_set(o, "placed_pods", json_integer(pl[g]));
        ss_json_set(o, "domain", pl[g] == pend[g] && dom[0] ? json_string(dom) : json_null());
        json_array_append_new(a, o);
        if (txt && (r->group < 0 || r->group == g))
            fprintf(txt, "  group %s: %d pending pods, %s%s%s\n",
                    ss_cluster_strget(c, c->group_name[g]), pend[g],
                    pl[g] == pend[g] ? "placed" : "not placed",
                    pl[g] == pend[g] && dom[0] ? " in " : "", pl[g] == pend[g] ? dom : "");
    }
    free(pend);
    free(pl);
    return a;
}

/* --group's members: the nodes, the victims (names). */
static void group_detail(const run_t *r, json_t *root, FILE *txt)
{
    const ss_cluster_t *c = r->c;
    json_t *nodes = json_array(), *vict = json_array();
    for (int32_t p = 0; p < r->n_pods0; p++)
        if (c->pod_group[p] == r->group && r->orig_pending[p] && r->where[p] >= 0)
            json_array_append_new(nodes,
                                  json_string(ss_cluster_strget(c, c->node_name[r->where[p]])));
    for (int k = 0; k < 3; k++) {
        const ss_placements_t *pl = k == 2 ? r->pl : k ? r->pl1 : r->pl0;
        for (int32_t v = 0; pl && v < pl->n_victims; v++)
            if (c->pod_group[pl->pod[pl->victim_row[v]]] == r->group) {
                int32_t p = pl->victim_pod[v];
                char b[600];
                snprintf(b, sizeof b, "%s/%s", ss_cluster_strget(c, c->pod_ns[p]),
                         ss_cluster_strget(c, c->pod_name[p]));
                json_array_append_new(vict, json_string(b));
            }
    }
    if (txt) {
        fprintf(txt, "  group %s: on nodes", ss_cluster_strget(c, c->group_name[r->group]));
        for (size_t i = 0; i < json_array_size(nodes); i++)
            fprintf(txt, "%s %s", i ? "," : "", json_string_value(json_array_get(nodes, i)));
        fprintf(txt, "%s; %zu preemption victim(s)\n", json_array_size(nodes) ? "" : " (none)",
                json_array_size(vict));
    }
    json_t *o = json_object();
    ss_json_set(o, "name", json_string(ss_cluster_strget(c, c->group_name[r->group])));
    ss_json_set(o, "nodes", nodes);
    ss_json_set(o, "victims", vict);
    ss_json_set(root, "group", o);
}

/* Pods per added node (text) and the added counts (JSON). */
static void added_out(const run_t *r, json_t *root, FILE *txt)
{
    const ss_cluster_t *c = r->c;
    json_t *add = json_object(), *on = json_object();
    for (int32_t k = 0; k < r->pools.n; k++)
        if (r->add[k] > 0)
            ss_json_set(add, ss_cluster_strget(c, r->pools.name[k]), json_integer(r->add[k]));
    int32_t *per = calloc((size_t)c->n_nodes + 1, sizeof *per), used = 0;
    for (int32_t p = 0; per && p < r->n_pods0; p++)
        if (r->orig_pending[p] && r->where[p] >= 0)
            per[r->where[p]]++;
    for (int32_t a = 0; per && a < r->undo.n_added; a++) {
        int32_t nd = r->undo.added[a];
        used += per[nd] > 0;
        ss_json_set(on, ss_cluster_strget(c, c->node_name[nd]), json_integer(per[nd]));
        if (txt && a < 20)
            fprintf(txt, "    %s: %d pod(s)\n", ss_cluster_strget(c, c->node_name[nd]), per[nd]);
    }
    if (txt && r->undo.n_added > 20)
        fprintf(txt, "    ... %d more new nodes\n", r->undo.n_added - 20);
    free(per);
    ss_json_set(root, "added", add);
    ss_json_set(root, "pods_on_added", on);
    ss_json_set(root, "added_used", json_integer(used));
}

bool ss_wi_writable(const run_t *r)
{
    return !r->minmode || (r->verified && r->capped == 0);
}

int ss_wi_report(const run_t *r, int found)
{
    const ss_cluster_t *c = r->c;
    const opts_t *o = r->o;
    FILE *txt = o->json || o->quiet ? NULL : stdout;
    json_t *root = json_object(), *why = json_object();
    int32_t placed = 0, pending = 0, nreason[SS_REASON_COUNT] = {0};
    for (int32_t p = 0; p < r->n_pods0; p++) {
        pending += r->orig_pending[p];
        placed += r->orig_pending[p] && r->where[p] >= 0;
    }
    for (int32_t i = 0; i < r->pl->n; i++) {
        int32_t why = r->pl->reason[i];
        if (r->pl->node[i] < 0 && r->orig_pending[r->pl->pod[i]] && why >= 0 &&
            why < SS_REASON_COUNT)
            nreason[why]++;
    }
    for (int k = 0; k < SS_REASON_COUNT; k++)
        if (nreason[k])
            ss_json_set(why, ss_json_reason_key(k), json_integer(nreason[k]));
    if (txt) {
        fprintf(txt, "whatif %s: %d nodes + %d new, %d pending pods: %d placed, %d not", o->in,
                c->n_nodes - r->undo.n_added, r->undo.n_added, pending, placed, pending - placed);
        for (int k = 0, f = 1; k < SS_REASON_COUNT; k++)
            if (nreason[k])
                fprintf(txt, "%s%s %d", f-- > 0 ? " (" : ", ", ss_json_reason_key(k), nreason[k]);
        fprintf(txt, "%s\n", pending - placed ? ")" : "");
    }
    ss_json_set(root, "command", json_string("whatif"));
    ss_json_set(root, "input", json_string(o->in));
    ss_json_set(root, "nodes_before", json_integer(c->n_nodes - r->undo.n_added));
    ss_json_set(root, "pending", json_integer(pending));
    ss_json_set(root, "placed", json_integer(placed));
    ss_json_set(root, "unplaced", why);
    if (r->undo.n_added || o->add || r->minmode) {
        if (txt)
            fprintf(txt, "  %d new node(s):\n", r->undo.n_added);
        added_out(r, root, txt);
    }
    if (r->minmode) {
        int32_t total = 0;
        for (int32_t k = 0; k < r->pools.n; k++)
            total += r->add[k];
        const char *pool =
            r->first_pool >= 0 ? ss_cluster_strget(c, r->pools.name[r->first_pool]) : NULL;
        ss_json_set(root, "pool", pool ? json_string(pool) : json_null());
        ss_json_set(root, "nodes", json_integer(total));
        ss_json_set(root, "lower_bound", json_integer(r->lower_bound));
        ss_json_set(root, "target", json_integer(r->target));
        ss_json_set(root, "unplaceable", json_integer(r->unplaceable));
        ss_json_set(root, "schedules", json_integer(r->schedules));
        ss_json_set(root, "probes", json_integer(r->probes));
        ss_json_set(root, "capped", json_integer(r->capped));
        ss_json_set(root, "not_helped", json_integer(r->stuck));
        ss_json_set(root, "fits", json_boolean(found));
        if (txt)
            fprintf(txt,
                    "  min-nodes: %d new node(s)%s%s (volume lower bound %d), %d schedule(s) "
                    "of the cluster, %d of probes; %s\n",
                    total, pool ? ", first pool " : "", pool ? pool : "", r->lower_bound,
                    r->schedules, r->probes,
                    found                ? "every target pod placed"
                    : !ss_wi_writable(r) ? "NO ANSWER: target pods stay unplaced (see below)"
                                         : "every target pod placed that a new node can take");
        if (txt && r->unplaceable)
            fprintf(txt, "  %d target pod(s) fit no new node of the pools given\n", r->unplaceable);
        if (txt && r->stuck)
            fprintf(txt,
                    "  %d target pod(s) fit a new node, but more new nodes placed none of them "
                    "(another rule: see the reasons)\n",
                    r->stuck);
        if (txt && r->capped)
            fprintf(txt, "  %d target pod(s) would fit, but --pool-size leaves no room\n",
                    r->capped);
    }
    ss_json_set(root, "groups", groups_json(r, txt));
    if (r->group >= 0)
        group_detail(r, root, txt);
    return o->json ? ss_json_emit(SS_WI_CMD, root, 0) : (json_decref(root), 0);
}

/* -o and --cluster-out (collective; after everything else succeeded). */
