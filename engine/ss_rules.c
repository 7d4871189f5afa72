/* ss_rules: selectors, namespaces, default spreading and PDB budgets (see
 * ss_rules.h). */
#include "ss_rules.h"

#include "ss_match.h"

#include <stdlib.h>
#include <string.h>

static bool in_values(const int32_t *vals, int32_t n, int32_t id)
{
    for (int32_t i = 0; i < n; i++)
        if (vals[i] == id)
            return true;
    return false;
}

static bool find_label(const ss_label_t *l, int32_t n, int32_t key, int32_t *value)
{
    for (int32_t i = 0; i < n; i++)
        if (l[i].key == key) {
            *value = l[i].value;
            return true;
        }
    return false;
}

/* One requirement against a label set, with an optional implied label. */
static bool req_match(const ss_cluster_t *c, const ss_expr_t *e, const ss_label_t *l, int32_t n,
                      int32_t implied_key, int32_t implied_value)
{
    int32_t value = -1;
    bool has = find_label(l, n, e->key, &value);
    if (!has && implied_key >= 0 && e->key == implied_key) {
        has = true;
        value = implied_value;
    }
    return !e->is_field && ss_match_set_op(c, e, has, value);
}

static bool sel_match_impl(const ss_cluster_t *c, const ss_selector_t *s, const ss_label_t *l,
                           int32_t n, int32_t implied_key, int32_t implied_value)
{
    if (s->null)
        return false;
    for (int32_t i = 0; i < s->count; i++)
        if (!req_match(c, &c->exprs[s->begin + i], l, n, implied_key, implied_value))
            return false;
    return true;
}

bool ss_sel_match(const ss_cluster_t *c, const ss_selector_t *s, int32_t label_begin,
                  int32_t label_count)
{
    return sel_match_impl(c, s, c->labels + label_begin, label_count, -1, -1);
}

bool ss_sel_match_pod(const ss_cluster_t *c, const ss_selector_t *s, int32_t pod)
{
    const ss_template_t *t = &c->templates[c->pod_template[pod]];
    return ss_sel_match(c, s, t->plabel_begin, t->plabel_count);
}

bool ss_sel_match_ns(const ss_cluster_t *c, const ss_selector_t *s, int32_t ns)
{
    if (s->null)
        return false;
    int32_t key = ss_strtab_find(c->strings, "kubernetes.io/metadata.name");
    const ss_label_t *l = NULL;
    int32_t n = 0;
    for (int32_t i = 0; i < c->n_namespaces; i++)
        if (c->ns_name[i] == ns) {
            l = c->labels + c->ns_label_begin[i];
            n = c->ns_label_count[i];
            break;
        }
    return sel_match_impl(c, s, l, n, key, ns);
}

bool ss_pterm_covers_ns(const ss_cluster_t *c, const ss_podterm_t *t, int32_t owner_ns, int32_t ns)
{
    if (t->ns_count == 0 && t->ns_sel.null)
        return ns == owner_ns;
    if (in_values(c->expr_values + t->ns_begin, t->ns_count, ns))
        return true;
    return ss_sel_match_ns(c, &t->ns_sel, ns);
}

bool ss_pterm_matches_pod(const ss_cluster_t *c, const ss_podterm_t *t, int32_t owner_ns,
                          int32_t pod)
{
    return ss_pterm_covers_ns(c, t, owner_ns, c->pod_ns[pod]) && ss_sel_match_pod(c, &t->sel, pod);
}

bool ss_default_spread_applies(const ss_cluster_t *c, int32_t tmpl)
{
    const ss_template_t *t = &c->templates[tmpl];
    return c->default_spreading == SS_SPREAD_DEFAULT_SYSTEM && t->spread_count == 0 &&
           (t->flags & SS_TF_CONTROLLER) && !(t->flags & SS_TF_DAEMONSET) && t->workload > 0;
}

bool ss_default_spread_matches(const ss_cluster_t *c, int32_t pod, int32_t other)
{
    return c->pod_ns[pod] == c->pod_ns[other] && c->templates[c->pod_template[pod]].workload ==
                                                     c->templates[c->pod_template[other]].workload;
}

bool ss_pdb_covers(const ss_cluster_t *c, const ss_pdb_t *p, int32_t pod)
{
    return c->pod_ns[pod] == p->ns && ss_sel_match_pod(c, &p->sel, pod);
}

bool ss_pdb_covers_victim(const ss_cluster_t *c, const ss_pdb_t *p, int32_t pod)
{
    return p->sel.count > 0 && c->templates[c->pod_template[pod]].plabel_count > 0 &&
           ss_pdb_covers(c, p, pod);
}

/* ceil(pct % of n) */
static int64_t pct_up(int64_t pct, int64_t n)
{
    return (pct * n + 99) / 100;
}

static int32_t allowed_of(const ss_pdb_t *p, int64_t expected, int64_t healthy)
{
    int64_t desired = expected;
    if (p->min_available >= 0)
        desired = p->min_pct ? pct_up(p->min_available, expected) : p->min_available;
    else if (p->max_unavailable >= 0)
        desired =
            expected - (p->max_pct ? pct_up(p->max_unavailable, expected) : p->max_unavailable);
    int64_t a = healthy - desired;
    return a < 0 ? 0 : a > INT32_MAX ? INT32_MAX : (int32_t)a;
}

int ss_pdb_allowed_all(const ss_cluster_t *c, int32_t *out)
{
    int32_t T = c->n_templates, P = c->n_pdbs;
    if (P == 0)
        return 0;
    int32_t *tb = calloc((size_t)T + 2, sizeof *tb), *tk = NULL;
    int64_t *exp = calloc((size_t)P, sizeof *exp), *hea = calloc((size_t)P, sizeof *hea);
    int64_t n = 0, cap = 64;
    tk = malloc((size_t)cap * sizeof *tk);
    int rc = tb && exp && hea && tk ? 0 : SS_ENOMEM;
    for (int32_t t = 0; t < T && rc == 0; t++) { /* per template: the PDBs its labels satisfy */
        const ss_template_t *tp = &c->templates[t];
        tb[t] = (int32_t)n;
        for (int32_t k = 0; k < P && rc == 0; k++) {
            if (c->pdbs[k].allowed >= 0 ||
                !ss_sel_match(c, &c->pdbs[k].sel, tp->plabel_begin, tp->plabel_count))
                continue;
            if (n == cap) {
                int32_t *q = realloc(tk, (size_t)cap * 2 * sizeof *q);
                if (!q) {
                    rc = SS_ENOMEM;
                    break;
                }
                tk = q;
                cap *= 2;
            }
            tk[n++] = k;
        }
    }
    if (rc == 0)
        tb[T] = (int32_t)n;
    for (int32_t p = 0; p < c->n_pods && rc == 0; p++) {
        int32_t t = c->pod_template[p];
        for (int32_t i = tb[t]; i < tb[t + 1]; i++)
            if (c->pdbs[tk[i]].ns == c->pod_ns[p]) {
                exp[tk[i]]++;
                hea[tk[i]] += c->pod_node[p] >= 0;
            }
    }
    for (int32_t k = 0; k < P && rc == 0; k++)
        out[k] =
            c->pdbs[k].allowed >= 0 ? c->pdbs[k].allowed : allowed_of(&c->pdbs[k], exp[k], hea[k]);
    free(tb);
    free(tk);
    free(exp);
    free(hea);
    return rc;
}

int32_t ss_pdb_allowed(const ss_cluster_t *c, const ss_pdb_t *p)
{
    if (p->allowed >= 0)
        return p->allowed;
    int64_t expected = 0, healthy = 0;
    for (int32_t i = 0; i < c->n_pods; i++)
        if (ss_pdb_covers(c, p, i)) {
            expected++;
            healthy += c->pod_node[i] >= 0;
        }
    return allowed_of(p, expected, healthy);
}
