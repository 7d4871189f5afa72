/* ss_kube_topo: the topology objects of the Kubernetes importer
 * (docs/kubernetes.md "Topology objects"):
 *
 *   - Kueue Topology (kueue.x-k8s.io, spec.levels[].nodeLabel, 1..16
 *     levels) and KAI Topology (kai.scheduler, the same shape): each level's
 *     node label becomes a topology level of the cluster (kube_level) when a
 *     node carries it; a KAI PodGroup's topologyConstraint.topology names
 *     one, whose levels its constraint must use;
 *   - Kueue ResourceFlavor (spec.topologyName must name a Topology in the
 *     input; spec.nodeLabels type-checked): the Topology's levels apply to
 *     every node (a node without a level's label has none there);
 *   - Volcano HyperNode (topology.volcano.sh/v1alpha1: spec.tier,
 *     spec.tierName, spec.members[] of type Node or HyperNode chosen by
 *     exactMatch, regexMatch (POSIX extended) or labelMatch): the tree. Each
 *     tier becomes the node label "shardsched.io/hypernode-tier-<N>" whose
 *     value is the name of the tier-N HyperNode holding the node (added to
 *     the nodes' labels), the level of networkTopology.highestTierAllowed N.
 *     A tree whose members do not nest (a node or HyperNode in two HyperNodes
 *     of one tier, a member HyperNode of a tier not below its parent's) adds
 *     no tier labels: the groups asking for a tier are reported unsupported
 *     and a warning names the HyperNode.
 *
 * It also reads the groups' constraints on these: Volcano networkTopology
 * and KAI topologyConstraint. */
#include "ss_kube_gangs_int.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#define TIER_KEY_PREFIX "shardsched.io/hypernode-tier-"
#define MAX_TIERS 16

typedef struct {
    int32_t item; /* k->pgs index */
    int64_t tier; /* spec.tier */
    int32_t ti;   /* index in tiers */
    int32_t name; /* cluster string id */
} khn_t;

struct ktopo {
    khn_t *hn;
    int32_t n_hn;
    int64_t tiers[MAX_TIERS]; /* distinct, increasing */
    int32_t tier_key[MAX_TIERS];
    int32_t n_tiers;
    int32_t *val;       /* [nodes.n * n_tiers]: HyperNode name id, 0 */
    int32_t *hn_parent; /* [n_hn * n_tiers]: HyperNode index + 1 holding it, 0 */
    bool nested;
    char bad[320];  /* the first HyperNode at fault */
    int32_t *topos; /* k->pgs indices of Kueue and KAI Topology objects */
    int32_t n_topos;
    bool *kai;        /* per topos: a KAI one */
    uint8_t *carried; /* per cluster string id: a node label key (built on first use) */
    int32_t n_carried;
    bool levels_done;
};

static int nomem(ss_error_t *err)
{
    return ss_error_set(err, SS_ENOMEM, "out of memory");
}

static bool api_group(const kitem_t *it, const char *group)
{
    const char *api = kstr(it->obj, "apiVersion", NULL, NULL);
    size_t n = strlen(group);
    return api && !strncmp(api, group, n) && api[n] == '/';
}

bool kube_topo_kind(const char *kind)
{
    return !strcmp(kind, "Topology") || !strcmp(kind, "ResourceFlavor") ||
           !strcmp(kind, "HyperNode");
}

static int ensure(kctx_t *k)
{
    if (k->topo)
        return 0;
    if (!(k->topo = calloc(1, sizeof *k->topo)))
        return SS_ENOMEM;
    k->topo->nested = true;
    return 0;
}

/* Kueue or KAI Topology: spec.levels, 1..16 distinct non-empty nodeLabels. */
static int read_topology(kctx_t *k, const kitem_t *it, int32_t i, bool kai, ss_error_t *err)
{
    json_t *levels, *x, *lab;
    size_t j, l;
    char who[512], where[64];
    int rc = kat(it, it->obj, NULL, "spec", "levels", NULL, KT_ARR, &levels, err);
    if (rc < 0)
        return rc;
    size_t n = json_array_size(levels);
    if (n < 1 || n > 16)
        return ss_error_set(err, SS_EFORMAT, "%s: spec.levels: %zu levels (1 to 16 allowed)",
                            kwho(it, who), n);
    json_array_foreach(levels, j, x)
    {
        snprintf(where, sizeof where, "spec.levels[%zu]", j);
        if (!json_is_object(x))
            return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who),
                                where);
        if ((rc = kat(it, x, where, "nodeLabel", NULL, NULL, KT_STR, &lab, err)) < 0)
            return rc;
        if (!lab || !*json_string_value(lab))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.nodeLabel: missing", kwho(it, who), where);
        for (l = 0; l < j; l++)
            if (!strcmp(json_string_value(lab),
                        kstr(json_array_get(levels, l), "nodeLabel", NULL, NULL)))
                return ss_error_set(err, SS_EFORMAT,
                                    "%s: %s.nodeLabel: '%.80s' is also spec.levels[%zu]'s",
                                    kwho(it, who), where, json_string_value(lab), l);
    }
    struct ktopo *t = k->topo;
    int32_t *nt = realloc(t->topos, (size_t)(t->n_topos + 1) * sizeof *nt);
    bool *nk = nt ? realloc(t->kai, (size_t)(t->n_topos + 1) * sizeof *nk) : NULL;
    if (nt)
        t->topos = nt;
    if (!nk)
        return nomem(err);
    t->kai = nk;
    t->topos[t->n_topos] = i;
    t->kai[t->n_topos++] = kai;
    return 0;
}

static int read_flavor(const kitem_t *it, ss_error_t *err)
{
    json_t *tn, *nl, *v;
    const char *key;
    char who[512];
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "topologyName", NULL, KT_STR, &tn, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "nodeLabels", NULL, KT_OBJ, &nl, err)) < 0)
        return rc;
    json_object_foreach(nl, key, v)
    {
        if (!json_is_string(v))
            return ss_error_set(err, SS_EFORMAT, "%s: spec.nodeLabels.%s: expected a string",
                                kwho(it, who), key);
    }
    return 0;
}

/* A HyperNode: tier, members' shapes (the tree is built by kube_topo_finish). */
static int read_hypernode(kctx_t *k, const kitem_t *it, int32_t i, ss_error_t *err)
{
    json_t *tier, *tname, *members, *x, *type, *sel, *ex, *re, *lm;
    size_t j;
    char who[512], where[64];
    int rc;
    if ((rc = kat(it, it->obj, NULL, "spec", "tierName", NULL, KT_STR, &tname, err)) < 0 ||
        (rc = kat(it, it->obj, NULL, "spec", "members", NULL, KT_ARR, &members, err)) < 0)
        return rc;
    tier = kget(it->obj, "spec", "tier", NULL);
    const char *ts = json_string_value(tier);
    char *end = "";
    long long tv = json_is_integer(tier)            ? json_integer_value(tier)
                   : ts && *ts >= '0' && *ts <= '9' ? strtoll(ts, &end, 10)
                                                    : -1;
    if (tv < 0 || *end)
        return ss_error_set(err, SS_EFORMAT, "%s: spec.tier: must be an integer >= 0",
                            kwho(it, who));
    json_array_foreach(members, j, x)
    {
        snprintf(where, sizeof where, "spec.members[%zu]", j);
        if (!json_is_object(x))
            return ss_error_set(err, SS_EFORMAT, "%s: %s: expected an object", kwho(it, who),
                                where);
        if ((rc = kat(it, x, where, "type", NULL, NULL, KT_STR, &type, err)) < 0 ||
            (rc = kat(it, x, where, "selector", NULL, NULL, KT_OBJ, &sel, err)) < 0 ||
            (rc = kat(it, x, where, "selector", "exactMatch", "name", KT_STR, &ex, err)) < 0 ||
            (rc = kat(it, x, where, "selector", "regexMatch", "pattern", KT_STR, &re, err)) < 0 ||
            (rc = kat(it, x, where, "selector", "labelMatch", NULL, KT_OBJ, &lm, err)) < 0)
            return rc;
        const char *ty = json_string_value(type);
        bool node = ty && !strcmp(ty, "Node");
        if (!node && !(ty && !strcmp(ty, "HyperNode")))
            return ss_error_set(err, SS_EFORMAT, "%s: %s.type: must be Node or HyperNode",
                                kwho(it, who), where);
        if ((ex != NULL) + (re != NULL) + (lm != NULL) != 1)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s.selector: exactly one of exactMatch.name, "
                                "regexMatch.pattern and labelMatch must be set",
                                kwho(it, who), where);
        if (lm && !node)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: %s.selector.labelMatch: only for members of type Node",
                                kwho(it, who), where);
        snprintf(where, sizeof where, "spec.members[%zu].selector.labelMatch", j);
        if (lm && (rc = kube_check_selector(it, lm, where, err)) < 0)
            return rc;
    }
    struct ktopo *t = k->topo;
    khn_t *nh = realloc(t->hn, (size_t)(t->n_hn + 1) * sizeof *nh);
    if (!nh)
        return nomem(err);
    t->hn = nh;
    int32_t name = kstr_id(k, kstr(it->obj, "metadata", "name", NULL), err);
    if (name < 0)
        return SS_ENOMEM;
    for (int32_t h = 0; h < t->n_hn; h++)
        if (t->hn[h].name == name)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: items[%zu]: HyperNode %s appears twice (first at %s: "
                                "items[%zu])",
                                it->path, it->index, ss_cluster_strget(k->c, name),
                                k->pgs.v[t->hn[h].item].path, k->pgs.v[t->hn[h].item].index);
    t->hn[t->n_hn++] = (khn_t){i, tv, -1, name};
    return 0;
}

int kube_topo_object(kctx_t *k, const kitem_t *it, ss_error_t *err)
{
    if (ensure(k) < 0)
        return nomem(err);
    int32_t i = (int32_t)(it - k->pgs.v);
    if (!strcmp(it->kind, "HyperNode"))
        return read_hypernode(k, it, i, err);
    if (!strcmp(it->kind, "ResourceFlavor"))
        return read_flavor(it, err);
    return read_topology(k, it, i, api_group(it, "kai.scheduler"), err);
}

/* ---- the HyperNode tree ---- */

/* The tree is found not to nest: the first fault is kept and logged. */
static void fault(kctx_t *k, int32_t h, const char *fmt, const char *a, const char *b)
{
    struct ktopo *t = k->topo;
    if (!t->nested)
        return;
    t->nested = false;
    snprintf(t->bad, sizeof t->bad, "%s", ss_cluster_strget(k->c, t->hn[h].name));
    if (k->o->log) {
        fprintf(k->o->log, "warning: %s: HyperNode %s: ", k->pgs.v[t->hn[h].item].path, t->bad);
        fprintf(k->o->log, fmt, a, b);
        fprintf(k->o->log, ": the tree does not nest; Volcano networkTopology constraints are not "
                           "read (their pods reported unsupported)\n");
    }
}

/* Whether member selector sel (exactMatch / regexMatch / labelMatch)
 * chooses the object named name with labels. */
static int chooses(const kitem_t *it, json_t *sel, const char *name, json_t *labels,
                   const regex_t *re, bool *yes)
{
    (void)it;
    const char *ex = kstr(sel, "exactMatch", "name", NULL);
    json_t *lm = kget(sel, "labelMatch", NULL, NULL);
    *yes = ex   ? !strcmp(ex, name)
           : lm ? kube_selector_matches(lm, labels)
                : regexec(re, name, 0, NULL, 0) == 0;
    return 0;
}

/* Node member m of HyperNode h: every node it chooses gets h at h's tier. */
static void assign_node(kctx_t *k, int32_t h, size_t node)
{
    struct ktopo *t = k->topo;
    int32_t *v = &t->val[node * (size_t)t->n_tiers + (size_t)t->hn[h].ti];
    const char *nn = kstr(k->nodes.v[node].obj, "metadata", "name", NULL);
    if (*v && *v != t->hn[h].name)
        fault(k, h, "node %s is also in HyperNode %s of the same tier", nn,
              ss_cluster_strget(k->c, *v));
    else
        *v = t->hn[h].name;
}

/* The members of HyperNode h: nodes (assigned), HyperNodes (their parent
 * at h's tier recorded). */
static int members(kctx_t *k, int32_t h, ss_error_t *err)
{
    struct ktopo *t = k->topo;
    const kitem_t *it = &k->pgs.v[t->hn[h].item];
    json_t *mem = kget(it->obj, "spec", "members", NULL), *x;
    size_t j;
    char who[512];
    json_array_foreach(mem, j, x)
    {
        json_t *sel = kget(x, "selector", NULL, NULL);
        bool node = !strcmp(kstr(x, "type", NULL, NULL), "Node"), yes;
        const char *pat = kstr(sel, "regexMatch", "pattern", NULL);
        regex_t re;
        if (pat && regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: spec.members[%zu].selector.regexMatch.pattern: '%.80s' is "
                                "not a valid regular expression",
                                kwho(it, who), j, pat);
        size_t n = node ? k->nodes.n : (size_t)t->n_hn;
        for (size_t m = 0; m < n; m++) {
            const char *name = node ? kstr(k->nodes.v[m].obj, "metadata", "name", NULL)
                                    : ss_cluster_strget(k->c, t->hn[m].name);
            json_t *labels = node ? kget(k->nodes.v[m].obj, "metadata", "labels", NULL) : NULL;
            chooses(it, sel, name, labels, pat ? &re : NULL, &yes);
            if (!yes)
                continue;
            if (node) {
                assign_node(k, h, m);
                continue;
            }
            if (t->hn[m].tier >= t->hn[h].tier) {
                char tb[32];
                snprintf(tb, sizeof tb, "%lld", (long long)t->hn[m].tier);
                fault(k, h, "member HyperNode %s is of tier %s, not below its own", name, tb);
                continue;
            }
            int32_t *p = &t->hn_parent[(size_t)m * (size_t)t->n_tiers + (size_t)t->hn[h].ti];
            if (*p && *p != h + 1)
                fault(k, h, "member HyperNode %s is also in HyperNode %s of the same tier", name,
                      ss_cluster_strget(k->c, t->hn[*p - 1].name));
            else
                *p = h + 1;
        }
        if (pat)
            regfree(&re);
    }
    return 0;
}

/* Nodes below HyperNode h through its member HyperNodes get h too (tiers
 * strictly decrease, so this ends). */
static void inherit(kctx_t *k)
{
    struct ktopo *t = k->topo;
    size_t nt = (size_t)t->n_tiers;
    /* tiers from low to high: a HyperNode's nodes are known before its parents' */
    for (size_t ti = 0; ti < nt; ti++)
        for (int32_t c = 0; c < t->n_hn; c++) {
            if ((size_t)t->hn[c].ti != ti)
                continue;
            for (size_t up = ti + 1; up < nt; up++) {
                int32_t p = t->hn_parent[(size_t)c * nt + up];
                if (!p)
                    continue;
                for (size_t n = 0; n < k->nodes.n; n++)
                    if (t->val[n * nt + ti] == t->hn[c].name)
                        assign_node(k, p - 1, n);
            }
        }
}

/* A ResourceFlavor's topologyName must name a Kueue Topology of the input. */
static int check_flavors(kctx_t *k, ss_error_t *err)
{
    const struct ktopo *t = k->topo;
    char who[512];
    for (size_t i = 0; i < k->pgs.n; i++) {
        const kitem_t *it = &k->pgs.v[i];
        const char *tn = kstr(it->obj, "spec", "topologyName", NULL);
        if (strcmp(it->kind, "ResourceFlavor") || !tn || !*tn)
            continue;
        bool found = false;
        for (int32_t j = 0; t && j < t->n_topos && !found; j++)
            found = !t->kai[j] &&
                    !strcmp(kstr(k->pgs.v[t->topos[j]].obj, "metadata", "name", NULL), tn);
        if (!found)
            return ss_error_set(err, SS_EFORMAT,
                                "%s: spec.topologyName: '%.80s' names no Kueue Topology in the "
                                "input",
                                kwho(it, who), tn);
    }
    return 0;
}

int kube_topo_finish(kctx_t *k, ss_error_t *err)
{
    if (ensure(k) < 0)
        return nomem(err);
    struct ktopo *t = k->topo;
    int rc = check_flavors(k, err);
    if (rc < 0)
        return rc;
    for (int32_t h = 0; h < t->n_hn; h++) {
        int32_t ti = 0;
        while (ti < t->n_tiers && t->tiers[ti] < t->hn[h].tier)
            ti++;
        if (ti < t->n_tiers && t->tiers[ti] == t->hn[h].tier)
            continue;
        if (t->n_tiers == MAX_TIERS)
            return ss_error_set(err, SS_EFORMAT, "%s: HyperNode %s: more than %d HyperNode tiers",
                                k->pgs.v[t->hn[h].item].path,
                                ss_cluster_strget(k->c, t->hn[h].name), MAX_TIERS);
        memmove(t->tiers + ti + 1, t->tiers + ti, (size_t)(t->n_tiers - ti) * sizeof *t->tiers);
        t->tiers[ti] = t->hn[h].tier;
        t->n_tiers++;
    }
    if (t->n_hn == 0)
        return 0;
    for (int32_t h = 0; h < t->n_hn; h++)
        for (int32_t ti = 0; ti < t->n_tiers; ti++)
            if (t->tiers[ti] == t->hn[h].tier)
                t->hn[h].ti = ti;
    for (int32_t ti = 0; ti < t->n_tiers; ti++) {
        char key[64];
        snprintf(key, sizeof key, TIER_KEY_PREFIX "%lld", (long long)t->tiers[ti]);
        if ((t->tier_key[ti] = kstr_id(k, key, err)) < 0)
            return SS_ENOMEM;
    }
    t->val = calloc(k->nodes.n * (size_t)t->n_tiers + 1, sizeof *t->val);
    t->hn_parent = calloc((size_t)t->n_hn * (size_t)t->n_tiers + 1, sizeof *t->hn_parent);
    if (!t->val || !t->hn_parent)
        return nomem(err);
    for (int32_t h = 0; h < t->n_hn; h++)
        if ((rc = members(k, h, err)) < 0)
            return rc;
    if (t->nested)
        inherit(k);
    return 0;
}

int kube_topo_node_labels(kctx_t *k, const kitem_t *it, int32_t *count, ss_error_t *err)
{
    struct ktopo *t = k->topo;
    if (!t || !t->nested || !t->val)
        return 0;
    size_t n = (size_t)(it - k->nodes.v);
    for (int32_t ti = 0; ti < t->n_tiers; ti++) {
        int32_t v = t->val[n * (size_t)t->n_tiers + (size_t)ti];
        if (!v)
            continue;
        if (ss_cluster_add_label(k->c, t->tier_key[ti], v) < 0)
            return nomem(err);
        (*count)++;
    }
    return 0;
}

int32_t kube_topo_tier_key(kctx_t *k, int64_t tier, const char *name, bool *nested, const char **hn,
                           ss_error_t *err)
{
    struct ktopo *t = k->topo;
    char key[400];
    *nested = !t || t->nested;
    *hn = t ? t->bad : "";
    for (int32_t h = 0; name && t && h < t->n_hn; h++) {
        const char *tn = kstr(k->pgs.v[t->hn[h].item].obj, "spec", "tierName", NULL);
        if (tn && !strcmp(tn, name)) {
            tier = t->hn[h].tier;
            name = NULL;
        }
    }
    if (name)
        snprintf(key, sizeof key, TIER_KEY_PREFIX "%.300s", name);
    else
        snprintf(key, sizeof key, TIER_KEY_PREFIX "%lld", (long long)tier);
    return kstr_id(k, key, err);
}

/* ---- the groups' constraints on these ---- */

/* Volcano networkTopology at where (a PodGroup's spec, or a subGroupPolicy
 * entry): mode hard (default) or soft at a HyperNode tier (highestTierAllowed
 * or highestTierName, not both) as a required or preferred level. */
int kube_volcano_topology(kctx_t *k, const kitem_t *it, json_t *base, const char *where, kgang_t *e,
                          ss_error_t *err)
{
    json_t *nt, *mode, *tier, *tname;
    char who[512];
    int rc;
    if ((rc = kat(it, base, where, "networkTopology", NULL, NULL, KT_OBJ, &nt, err)) < 0 ||
        (rc = kat(it, base, where, "networkTopology", "mode", NULL, KT_STR, &mode, err)) < 0 ||
        (rc = kat(it, base, where, "networkTopology", "highestTierAllowed", NULL, KT_INT, &tier,
                  err)) < 0 ||
        (rc = kat(it, base, where, "networkTopology", "highestTierName", NULL, KT_STR, &tname,
                  err)) < 0)
        return rc;
    const char *m = json_string_value(mode), *tn = json_string_value(tname);
    if (m && strcmp(m, "hard") && strcmp(m, "soft"))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s%snetworkTopology.mode: '%.60s' is not hard or soft",
                            kwho(it, who), where, *where ? "." : "", m);
    if (tier && tn && *tn)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s%snetworkTopology: highestTierAllowed and highestTierName "
                            "cannot both be set",
                            kwho(it, who), where, *where ? "." : "");
    if (tier && json_integer_value(tier) < 0)
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s%snetworkTopology.highestTierAllowed: must be an integer >= 0",
                            kwho(it, who), where, *where ? "." : "");
    if (!nt || (!tier && !(tn && *tn)))
        return 0;
    bool nested;
    const char *hn = NULL;
    int32_t sid = kube_topo_tier_key(k, tier ? json_integer_value(tier) : -1, tn && *tn ? tn : NULL,
                                     &nested, &hn, err);
    if (sid < 0)
        return sid;
    if (!nested) {
        e->rules |= SS_RULE_TOPOLOGY;
        e->warn = SS_KUBE_WARN_VOLCANO_TOPOLOGY;
        return 0;
    }
    e->key_sid = sid;
    e->mode = m && !strcmp(m, "soft") ? SS_TOPO_MODE_PREFERRED : SS_TOPO_MODE_REQUIRED;
    e->level = 0;
    e->topo_field = tier ? "networkTopology.highestTierAllowed" : "networkTopology.highestTierName";
    return 0;
}

/* KAI topologyConstraint (levels are node label keys; a required level
 * wins over a preferred one, and the engine tries finer levels first
 * anyway); topology names a KAI Topology whose levels they must be. */
int kube_kai_topology(kctx_t *k, const kitem_t *it, json_t *base, const char *where, kgang_t *e,
                      ss_error_t *err)
{
    json_t *req, *pref, *topo;
    char who[512];
    int rc;
    if ((rc = kat(it, base, where, "topologyConstraint", "requiredTopologyLevel", NULL, KT_STR,
                  &req, err)) < 0 ||
        (rc = kat(it, base, where, "topologyConstraint", "preferredTopologyLevel", NULL, KT_STR,
                  &pref, err)) < 0 ||
        (rc = kat(it, base, where, "topologyConstraint", "topology", NULL, KT_STR, &topo, err)) < 0)
        return rc;
    const char *r = json_string_value(req), *p = json_string_value(pref);
    const char *t = json_string_value(topo), *key = r && *r ? r : p && *p ? p : NULL;
    if (!key)
        return 0;
    if (t && *t && !kube_topo_kai_level(k, t, key))
        return ss_error_set(err, SS_EFORMAT,
                            "%s: %s.topologyConstraint.%sTopologyLevel: '%.80s' is no level of "
                            "Topology %.80s",
                            kwho(it, who), where, key == r ? "required" : "preferred", key, t);
    return kube_gang_set_topology(k, e, key,
                                  key == r ? SS_TOPO_MODE_REQUIRED : SS_TOPO_MODE_PREFERRED,
                                  key == r ? "topologyConstraint.requiredTopologyLevel"
                                           : "topologyConstraint.preferredTopologyLevel",
                                  err);
}

/* ---- levels and the keys nodes carry (after the nodes are added) ---- */

static int build_carried(kctx_t *k)
{
    struct ktopo *t = k->topo;
    const ss_cluster_t *c = k->c;
    t->n_carried = ss_strtab_count(c->strings);
    t->carried = calloc((size_t)t->n_carried + 1, 1);
    if (!t->carried)
        return SS_ENOMEM;
    for (int32_t n = 0; n < c->n_nodes; n++)
        for (int32_t l = 0; l < c->node_label_count[n]; l++) {
            int32_t key = c->labels[c->node_label_begin[n] + l].key;
            if (key >= 0 && key < t->n_carried)
                t->carried[key] = 1;
        }
    return 0;
}

bool kube_topo_carried(kctx_t *k, int32_t key)
{
    if (ensure(k) < 0)
        return false;
    struct ktopo *t = k->topo;
    if (!t->carried && build_carried(k) < 0)
        return false;
    /* the five legacy levels are there on every cluster, as before */
    const char *name = ss_cluster_strget(k->c, key);
    if (!strcmp(name, SS_KUBE_HOSTNAME_LABEL) || !strcmp(name, SS_KUBE_REGION_LABEL) ||
        !strcmp(name, SS_KUBE_ZONE_LABEL) ||
        (k->o->block_label && !strcmp(name, k->o->block_label)) ||
        (k->o->rack_label && !strcmp(name, k->o->rack_label)))
        return true;
    return key >= 0 && key < t->n_carried && t->carried[key];
}

int kube_topo_levels(kctx_t *k, ss_error_t *err)
{
    if (ensure(k) < 0)
        return nomem(err);
    struct ktopo *t = k->topo;
    if (t->levels_done)
        return 0;
    t->levels_done = true;
    for (int32_t i = 0; i < t->n_topos; i++) {
        json_t *x, *levels = kget(k->pgs.v[t->topos[i]].obj, "spec", "levels", NULL);
        size_t j;
        json_array_foreach(levels, j, x)
        {
            const char *key = kstr(x, "nodeLabel", NULL, NULL);
            int32_t sid = ss_cluster_str(k->c, key);
            if (sid < 0)
                return nomem(err);
            if (!kube_topo_carried(k, sid))
                continue;
            int l = kube_level(k, key, err);
            if (l < 0) {
                char who[512];
                return ss_error_prefix(err, l, "%s", kwho(&k->pgs.v[t->topos[i]], who));
            }
        }
    }
    return 0;
}

bool kube_topo_kai_level(const kctx_t *k, const char *name, const char *key)
{
    const struct ktopo *t = k->topo;
    for (int32_t i = 0; t && i < t->n_topos; i++) {
        json_t *obj = k->pgs.v[t->topos[i]].obj, *x;
        if (!t->kai[i] || strcmp(kstr(obj, "metadata", "name", NULL), name))
            continue;
        size_t j;
        json_array_foreach(kget(obj, "spec", "levels", NULL), j, x)
        {
            if (!strcmp(kstr(x, "nodeLabel", NULL, NULL), key))
                return true;
        }
        return false;
    }
    return true;
}

void kube_topo_free(kctx_t *k)
{
    if (!k->topo)
        return;
    free(k->topo->hn);
    free(k->topo->val);
    free(k->topo->hn_parent);
    free(k->topo->topos);
    free(k->topo->kai);
    free(k->topo->carried);
    free(k->topo);
    k->topo = NULL;
}
