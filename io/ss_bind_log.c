/* ss_bind_log: the ordered request log, bind's plan when placements have
 * preemption victims (docs/kubernetes.md, "Ordered request log"): built from
 * placements in commit order, written as JSON Lines (one request a line:
 * unit, op, method, path, contentType, body, wait) and read back strictly.
 * ss_bind_replay.c executes it. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ss_atomic.h"
#include "ss_bind_int.h"

static const char *const op_names[SS_REQ_COUNT] = {
    "nominate",   "disrupt", "delete",          "evict", "bind",
    "mig-config", "godel",   "podgroup-status", "cordon"};
static const char *const op_methods[SS_REQ_COUNT] = {"PATCH", "PATCH", "DELETE", "POST", "POST",
                                                     "PATCH", "PATCH", "PATCH",  "PATCH"};
static const char *const op_suffix[SS_REQ_COUNT] = {
    "/status", "/status", "", "/eviction", "/binding", "", "", "", ""};
static const char MIG_CTYPE[] = "application/merge-patch+json";

const char *ss_bind_op_name(int op)
{
    return op >= 0 && op < SS_REQ_COUNT ? op_names[op] : "?";
}

static void line_free(ss_bind_line_t *x)
{
    free(x->method);
    free(x->path);
    free(x->ctype);
    free(x->body);
    free(x->ns);
    free(x->name);
    free(x->node);
    for (int32_t k = 0; k < x->n_gone; k++)
        free(x->gone[k]);
    free(x->gone);
    free(x->entry);
    for (int32_t k = 0; k < x->n_alloc; k++)
        free(x->alloc_key[k]);
    free(x->alloc_key);
    free(x->alloc_val);
    for (int32_t k = 0; k < x->n_running; k++)
        free(x->running[k]);
    free(x->running);
    free(x->running_min);
    for (int32_t k = 0; k < x->n_budgets; k++)
        free(x->budget[k]);
    free(x->budget);
    free(x->budget_min);
}

void ss_bind_log_free(ss_bind_log_t *l)
{
    for (int32_t i = 0; l && i < l->n; i++)
        line_free(&l->line[i]);
    if (l)
        free(l->line);
    if (l)
        memset(l, 0, sizeof *l);
}

bool ss_bind_has_victims(const ss_cluster_t *c, const ss_placements_t *p)
{
    (void)c;
    return p->n_victims > 0;
}

int ss_bind_check_pdb_mode(const ss_placements_t *p, const char *fname, bool evict, bool allow_soft,
                           ss_error_t *err)
{
    if (!evict || allow_soft || p->n_victims == 0 || p->pdb_hard)
        return 0;
    return ss_error_set(err, SS_EINVAL,
                        "%s: refusing to evict %d preemption victim(s) with --preempt-with evict: "
                        "the plan was computed with PodDisruptionBudgets best effort (schedule "
                        "--preempt-with delete, the default; preempt_with is not 'evict' in the "
                        "file), so the API server may refuse evictions and leave preemptors "
                        "unbound; recompute it with schedule --preempt-with evict, bind with "
                        "--preempt-with delete, or pass --allow-soft-pdb to evict anyway",
                        fname, p->n_victims);
}

bool ss_bind_needs_log(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b,
                       int32_t n)
{
    (void)b;
    if (ss_bind_has_victims(c, p))
        return true;
    if (p->n_relayout == 0 || n == 0)
        return false;
    uint64_t *mask = calloc((size_t)c->n_nodes + 1, sizeof *mask);
    ss_error_t e = {{0}};
    bool need = mask == NULL || ss_bind_mig_masks(c, p, mask, &e) < 0; /* the build reports it */
    for (int32_t r = 0; !need && r < p->n; r++)
        need = p->node[r] >= 0 && ss_bind_mig_row_needs(c, p, r, mask[p->node[r]]);
    free(mask);
    return need;
}

/* The API path of node name, escaped; NULL if too long. */
static char *node_path(const char *name)
{
    char e[SS_BIND_FIELD_MAX];
    if (ss_bind_escape(name, e, sizeof e, true) < 0)
        return NULL;
    size_t n = strlen(e) + 20;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "/api/v1/nodes/%s", e);
    return s;
}

/* The API path of pod ns/name plus suffix, names escaped; NULL if too long. */
static char *pod_path(const char *ns, const char *name, const char *suffix)
{
    char ens[SS_BIND_FIELD_MAX], ename[SS_BIND_FIELD_MAX];
    if (ss_bind_escape(ns, ens, sizeof ens, true) < 0 ||
        ss_bind_escape(name, ename, sizeof ename, true) < 0)
        return NULL;
    size_t n = strlen(ens) + strlen(ename) + strlen(suffix) + 40;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "/api/v1/namespaces/%s/pods/%s%s", ens, ename, suffix);
    return s;
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

ss_bind_line_t *ss_bind_log_add(ss_bind_log_t *l, int32_t unit, int op, const char *path,
                                const char *ns, const char *name, const char *node, char *body,
                                const char *ctype)
{
    if (l->n == l->cap) {
        int32_t cap = l->cap ? 2 * l->cap : 64;
        ss_bind_line_t *v = realloc(l->line, (size_t)cap * sizeof *v);
        if (!v) {
            free(body);
            return NULL;
        }
        l->line = v;
        l->cap = cap;
    }
    ss_bind_line_t *x = &l->line[l->n];
    memset(x, 0, sizeof *x);
    x->unit = unit;
    x->op = op;
    x->method = strdup(op_methods[op]);
    x->path = path                                            ? strdup(path)
              : op == SS_REQ_MIGCONFIG || op == SS_REQ_CORDON ? node_path(name)
                                                              : pod_path(ns, name, op_suffix[op]);
    x->ctype = strdup(ctype);
    x->body = body;
    x->ns = strdup(ns);
    x->name = strdup(name);
    x->node = strdup(node ? node : "");
    if (!x->method || !x->path || !x->ctype || !x->ns || !x->name || !x->node) {
        line_free(x);
        return NULL;
    }
    l->n++;
    if (unit + 1 > l->n_units)
        l->n_units = unit + 1;
    return x;
}

/* Appends a line for pod ns/name; body is consumed. */
static ss_bind_line_t *add(ss_bind_log_t *l, int32_t unit, int op, const char *ns, const char *name,
                           const char *node, json_t *body, const char *ctype)
{
    char *text = body ? dump(body) : NULL;
    if (body && !text)
        return NULL;
    return ss_bind_log_add(l, unit, op, NULL, ns, name, node, text, ctype);
}

static json_t *nominate_body(const char *node)
{
    return json_pack("{s:{s:s}}", "status", "nominatedNodeName", node);
}

static json_t *disrupt_body(const char *pns, const char *pname)
{
    char msg[2 * SS_BIND_FIELD_MAX];
    snprintf(msg, sizeof msg, "shardsched: preempting to accommodate a higher priority pod %s/%s",
             pns, pname);
    return json_pack("{s:{s:[{s:s, s:s, s:s, s:s}]}}", "status", "conditions", "type",
                     "DisruptionTarget", "status", "True", "reason", "PreemptionByScheduler",
                     "message", msg);
}

static json_t *evict_body(const char *ns, const char *name)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "policy/v1", "kind", "Eviction",
                     "metadata", "name", name, "namespace", ns);
}

static json_t *bind_body(const ss_binding_t *b)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1", "kind",
                     "Binding", "metadata", "name", b->name, "namespace", b->ns, "target",
                     "apiVersion", "v1", "kind", "Node", "name", b->node);
}

typedef struct {
    const ss_cluster_t *c;
    const ss_placements_t *p;
    int32_t *vstart, *vpod; /* victims of row r: vpod[vstart[r] .. vstart[r+1]) */
    int32_t *bound;         /* row -> binding index, or -1 */
    int32_t *node_unit;     /* node -> unit of its bindings, or -1 */
    uint8_t *node_victims;  /* node has victims of a bound preemptor */
    uint64_t *mig_mask;     /* node -> its re-laid-out GPUs (node-local bits) */
    uint8_t *node_mig;      /* node has a Binding that needs its new MIG layout */
} build_t;

static const ss_placements_t *sort_p; /* qsort has no context argument */

static int by_seq(const void *a, const void *b)
{
    int32_t ra = *(const int32_t *)a, rb = *(const int32_t *)b;
    /* no commit order (no seq, or -1): after the ordered rows, in row order */
    int32_t sa = sort_p->seq && sort_p->seq[ra] >= 0 ? sort_p->seq[ra] : INT32_MAX;
    int32_t sb = sort_p->seq && sort_p->seq[rb] >= 0 ? sort_p->seq[rb] : INT32_MAX;
    return sa < sb ? -1 : sa > sb ? 1 : (ra < rb ? -1 : ra > rb);
}

/* Index the victims by row and check them; rows -> bindings. */
static int index_plan(build_t *B, const ss_binding_t *b, int32_t n, ss_error_t *err)
{
    const ss_cluster_t *c = B->c;
    const ss_placements_t *p = B->p;
    B->vstart = calloc((size_t)p->n + 2, sizeof *B->vstart);
    B->vpod = malloc(((size_t)p->n_victims + 1) * sizeof *B->vpod);
    B->bound = malloc(((size_t)p->n + 1) * sizeof *B->bound);
    B->node_unit = malloc(((size_t)c->n_nodes + 1) * sizeof *B->node_unit);
    B->node_victims = calloc((size_t)c->n_nodes + 1, 1);
    B->mig_mask = calloc((size_t)c->n_nodes + 1, sizeof *B->mig_mask);
    B->node_mig = calloc((size_t)c->n_nodes + 1, 1);
    if (!B->vstart || !B->vpod || !B->bound || !B->node_unit || !B->node_victims || !B->mig_mask ||
        !B->node_mig)
        return ss_error_set(err, SS_ENOMEM, "out of memory building the request log");
    int rc = ss_bind_mig_masks(c, p, B->mig_mask, err);
    if (rc < 0)
        return rc;
    for (int32_t v = 0; v < p->n_victims; v++) {
        int32_t r = p->victim_row[v], pod = p->victim_pod[v];
        if (r < 0 || r >= p->n || p->node[r] < 0 || pod < 0 || pod >= c->n_pods ||
            c->pod_node[pod] != p->node[r])
            return ss_error_set(err, SS_EFORMAT,
                                "victim %d (row %d, pod %d) is not a running pod on the node its "
                                "preemptor is placed on",
                                v, r, pod);
        B->vstart[r + 1]++;
    }
    for (int32_t r = 0; r < p->n; r++)
        B->vstart[r + 1] += B->vstart[r];
    int32_t *fill = calloc((size_t)p->n + 1, sizeof *fill);
    if (!fill)
        return ss_error_set(err, SS_ENOMEM, "out of memory building the request log");
    for (int32_t v = 0; v < p->n_victims; v++) {
        int32_t r = p->victim_row[v];
        B->vpod[B->vstart[r] + fill[r]++] = p->victim_pod[v];
    }
    free(fill);
    for (int32_t nd = 0; nd < c->n_nodes; nd++)
        B->node_unit[nd] = -1;
    /* b is in row order, its names borrowed from c: a two-pointer walk */
    for (int32_t r = 0, k = 0; r < p->n; r++) {
        const char *name = ss_cluster_strget(c, c->pod_name[p->pod[r]]);
        const char *ns = ss_cluster_strget(c, c->pod_ns[p->pod[r]]);
        B->bound[r] = (p->node[r] >= 0 && k < n && b[k].name == name && b[k].ns == ns) ? k++ : -1;
        if (B->bound[r] >= 0 && B->vstart[r + 1] > B->vstart[r])
            B->node_victims[p->node[r]] = 1;
        if (B->bound[r] >= 0 && ss_bind_mig_row_needs(c, p, r, B->mig_mask[p->node[r]]))
            B->node_mig[p->node[r]] = 1;
    }
    return 0;
}

/* The first line of node nd's unit when its pods need a new MIG layout:
 * PATCH its nvidia.com/mig.config label, then wait for the MIG manager. */
static int add_mig_config(build_t *B, ss_bind_log_t *l, int32_t unit, int32_t nd,
                          const ss_bind_opts_t *o, ss_error_t *err)
{
    const char *node = ss_cluster_strget(B->c, B->c->node_name[nd]);
    char entry[128];
    ss_bind_line_t tmp;
    memset(&tmp, 0, sizeof tmp);
    int rc = ss_bind_mig_expect(B->c, B->p, nd, &tmp, err);
    snprintf(entry, sizeof entry, "%s", rc == 0 ? tmp.entry : "");
    ss_bind_line_t *x =
        rc < 0
            ? NULL
            : add(l, unit, SS_REQ_MIGCONFIG, "", node, node,
                  json_pack("{s:{s:{s:s}}}", "metadata", "labels", "nvidia.com/mig.config", entry),
                  MIG_CTYPE);
    if (rc == 0 && !x)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory building the request log");
    if (rc < 0) {
        line_free(&tmp);
        return rc;
    }
    x->entry = tmp.entry;
    x->n_alloc = tmp.n_alloc;
    x->alloc_key = tmp.alloc_key;
    x->alloc_val = tmp.alloc_val;
    x->wait_s = o->mig_wait_s;
    return 0;
}

/* The lines of one preemptor: nominate, removals (the last one waits), bind. */
static int add_preemptor(build_t *B, ss_bind_log_t *l, int32_t unit, int32_t r,
                         const ss_binding_t *b, const ss_bind_opts_t *o)
{
    const ss_cluster_t *c = B->c;
    int32_t v0 = B->vstart[r], v1 = B->vstart[r + 1];
    if (!add(l, unit, SS_REQ_NOMINATE, b->ns, b->name, b->node, nominate_body(b->node),
             "application/merge-patch+json"))
        return SS_ENOMEM;
    ss_bind_line_t *last = NULL;
    for (int32_t v = v0; v < v1; v++) {
        const char *ns = ss_cluster_strget(c, c->pod_ns[B->vpod[v]]);
        const char *name = ss_cluster_strget(c, c->pod_name[B->vpod[v]]);
        if (o->preempt_evict) {
            last = add(l, unit, SS_REQ_EVICT, ns, name, NULL, evict_body(ns, name),
                       "application/json");
        } else {
            last = add(l, unit, SS_REQ_DISRUPT, ns, name, NULL, disrupt_body(b->ns, b->name),
                       "application/strategic-merge-patch+json");
            last =
                last ? add(l, unit, SS_REQ_DELETE, ns, name, NULL, NULL, "application/json") : NULL;
        }
        if (!last)
            return SS_ENOMEM;
        l->n_victims++;
    }
    last->gone = calloc((size_t)(v1 - v0), sizeof *last->gone);
    if (!last->gone)
        return SS_ENOMEM;
    for (int32_t v = v0; v < v1; v++) {
        last->gone[last->n_gone] = pod_path(ss_cluster_strget(c, c->pod_ns[B->vpod[v]]),
                                            ss_cluster_strget(c, c->pod_name[B->vpod[v]]), "");
        if (!last->gone[last->n_gone++])
            return SS_ENOMEM;
    }
    last->wait_s = o->evict_wait_s;
    return add(l, unit, SS_REQ_BIND, b->ns, b->name, b->node, bind_body(b), "application/json")
               ? 0
               : SS_ENOMEM;
}

static int build_lines(build_t *B, const ss_binding_t *b, const ss_bind_opts_t *o, ss_bind_log_t *l,
                       ss_error_t *err)
{
    const ss_placements_t *p = B->p;
    int32_t *order = malloc(((size_t)p->n + 1) * sizeof *order);
    if (!order)
        return ss_error_set(err, SS_ENOMEM, "out of memory building the request log");
    int32_t m = 0;
    for (int32_t r = 0; r < p->n; r++)
        if (B->bound[r] >= 0)
            order[m++] = r;
    sort_p = p;
    qsort(order, (size_t)m, sizeof *order, by_seq);
    int rc = 0;
    for (int32_t k = 0; rc == 0 && k < m; k++) {
        int32_t r = order[k], nd = p->node[r];
        const ss_binding_t *bi = &b[B->bound[r]];
        int32_t unit = l->n_units;
        if (B->node_victims[nd] || B->node_mig[nd]) {
            if (B->node_unit[nd] < 0) {
                B->node_unit[nd] = l->n_units;
                if (B->node_mig[nd])
                    rc = add_mig_config(B, l, B->node_unit[nd], nd, o, err);
                if (rc < 0)
                    break;
            }
            unit = B->node_unit[nd];
        }
        if (B->vstart[r + 1] > B->vstart[r])
            rc = add_preemptor(B, l, unit, r, bi, o);
        else if (!add(l, unit, SS_REQ_BIND, bi->ns, bi->name, bi->node, bind_body(bi),
                      "application/json"))
            rc = SS_ENOMEM;
        if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "out of memory (or a name too long) building the request log");
    }
    free(order);
    return rc;
}

int ss_bind_log_build(const ss_cluster_t *c, const ss_placements_t *p, const ss_binding_t *b,
                      int32_t n, const ss_bind_opts_t *o, ss_bind_log_t *l, ss_error_t *err)
{
    memset(l, 0, sizeof *l);
    build_t B = {c, p, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    int rc = index_plan(&B, b, n, err);
    if (rc == 0)
        rc = build_lines(&B, b, o, l, err);
    free(B.vstart);
    free(B.vpod);
    free(B.bound);
    free(B.node_unit);
    free(B.node_victims);
    free(B.mig_mask);
    free(B.node_mig);
    if (rc < 0)
        ss_bind_log_free(l);
    return rc;
}

/* ---- writing ---- */

/* A wave's wait: "running" [{"pods": PATH, "count": N}] and "budgets"
 * [{"pdb": PATH, "disruptionsAllowed": N}] beside "gone". */
static void wave_wait_object(const ss_bind_line_t *x, json_t *wait)
{
    json_t *run = json_array(), *bud = json_array();
    for (int32_t k = 0; run && k < x->n_running; k++)
        json_array_append_new(
            run, json_pack("{s:s, s:i}", "pods", x->running[k], "count", (int)x->running_min[k]));
    for (int32_t k = 0; bud && k < x->n_budgets; k++)
        json_array_append_new(bud, json_pack("{s:s, s:i}", "pdb", x->budget[k],
                                             "disruptionsAllowed", (int)x->budget_min[k]));
    json_object_set_new(wait, "running", run ? run : json_null());
    json_object_set_new(wait, "budgets", bud ? bud : json_null());
}

static json_t *line_object(const ss_bind_line_t *x)
{
    json_t *body = x->body ? json_loads(x->body, 0, NULL) : json_null();
    json_t *wait = json_null();
    if (x->op == SS_REQ_MIGCONFIG) {
        json_t *a = json_object();
        for (int32_t k = 0; a && k < x->n_alloc; k++) {
            char v[32];
            snprintf(v, sizeof v, "%lld", (long long)x->alloc_val[k]);
            json_object_set_new(a, x->alloc_key[k], json_string(v));
        }
        wait = json_pack("{s:{s:s, s:s, s:o}, s:f}", "migConfig", "node", x->node, "state",
                         "success", "allocatable", a, "timeoutSeconds", x->wait_s);
    } else if (x->n_gone > 0) {
        json_t *g = json_array();
        for (int32_t k = 0; k < x->n_gone; k++)
            json_array_append_new(g, json_string(x->gone[k]));
        wait = json_pack("{s:o, s:f}", "gone", g, "timeoutSeconds", x->wait_s);
        if (wait && (x->n_running > 0 || x->n_budgets > 0))
            wave_wait_object(x, wait);
    }
    json_t *o =
        json_pack("{s:i, s:s, s:s, s:s, s:s, s:o, s:o}", "unit", x->unit, "op",
                  ss_bind_op_name(x->op), "method", x->method, "path", x->path, "contentType",
                  x->ctype, "body", body ? body : json_null(), "wait", wait ? wait : json_null());
    if (o && x->wave > 0)
        json_object_set_new(o, "wave", json_integer(x->wave));
    return o;
}

static int write_lines(FILE *f, const ss_bind_log_t *l)
{
    for (int32_t i = 0; i < l->n; i++) {
        json_t *o = line_object(&l->line[i]);
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        int bad = !s || fprintf(f, "%s\n", s) < 0;
        free(s);
        if (bad)
            return -1;
    }
    return 0;
}

int ss_bind_log_write(const ss_bind_log_t *l, const char *path, ss_error_t *err)
{
    if (!strcmp(path, "-")) {
        if (write_lines(stdout, l) < 0 || fflush(stdout) != 0)
            return ss_error_set(err, SS_EIO, "writing the request log to standard output failed");
        return 0;
    }
    char tmp[4096];
    FILE *f = ss_atomic_fopen(path, tmp, sizeof tmp, err);
    if (!f)
        return SS_EIO;
    int rc = write_lines(f, l) < 0
                 ? ss_error_set(err, SS_EIO, "%s: writing the request log failed", path)
                 : 0;
    return ss_atomic_fclose(f, tmp, path, rc, err);
}

/* ---- reading ---- */

static int unhex(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                    : -1;
}

/* One escaped path segment [s, e) unescaped into a new string; NULL if bad. */
static char *unescape(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    for (; out && s < e; s++) {
        if (*s == '%') {
            int hi = (e - s >= 3) ? unhex(s[1]) : -1;
            int lo = (e - s >= 3) ? unhex(s[2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)(hi * 16 + lo);
            s += 2;
        } else if ((unsigned char)*s <= 0x20 || *s == '?' || *s == '#') {
            free(out);
            return NULL;
        } else {
            *o++ = *s;
        }
    }
    if (out)
        *o = '\0';
    return out;
}

bool ss_bind_parse_path(const char *path, const char *pre, const char *mid, const char *suffix,
                        char **ns, char **name)
{
    size_t lp = strlen(pre), lm = strlen(mid);
    *ns = *name = NULL;
    if (strncmp(path, pre, lp))
        return false;
    const char *a = path + lp, *slash = strchr(a, '/');
    if (!slash || slash == a || strncmp(slash, mid, lm))
        return false;
    const char *nm = slash + lm, *end = nm + strcspn(nm, "/");
    if (end == nm || strcmp(end, suffix))
        return false;
    *ns = unescape(a, slash);
    *name = unescape(nm, end);
    if (*ns && *name && **ns && **name && strcmp(*ns, ".") && strcmp(*ns, "..") &&
        strcmp(*name, ".") && strcmp(*name, ".."))
        return true;
    free(*ns);
    free(*name);
    *ns = *name = NULL;
    return false;
}

/* path = /api/v1/namespaces/NS/pods/NAME<suffix>; fills ns, name. */
static bool parse_pod_path(const char *path, const char *suffix, char **ns, char **name)
{
    return ss_bind_parse_path(path, "/api/v1/namespaces/", "/pods/", suffix, ns, name);
}

/* path = /api/v1/nodes/NAME; fills name. */
static bool parse_node_path(const char *path, char **name)
{
    static const char pre[] = "/api/v1/nodes/";
    *name = NULL;
    if (strncmp(path, pre, sizeof pre - 1))
        return false;
    const char *a = path + sizeof pre - 1, *end = a + strcspn(a, "/");
    if (end == a || *end)
        return false;
    *name = unescape(a, end);
    if (*name && **name && strcmp(*name, ".") && strcmp(*name, ".."))
        return true;
    free(*name);
    *name = NULL;
    return false;
}

/* A mig-config line's wait: {"migConfig": {"node", "state": "success",
 * "allocatable": {KEY: "N"}}, "timeoutSeconds"}. */
static int parse_mig_wait(json_t *w, ss_bind_line_t *x, const char **why)
{
    json_t *m = json_object_get(w, "migConfig"), *t = json_object_get(w, "timeoutSeconds");
    json_t *a = json_object_get(m, "allocatable");
    const char *node = json_string_value(json_object_get(m, "node"));
    const char *state = json_string_value(json_object_get(m, "state"));
    *why = "a mig-config wait is not {\"migConfig\": {\"node\": N, \"state\": \"success\", "
           "\"allocatable\": {KEY: \"COUNT\"}}, \"timeoutSeconds\": 0..86400} for the "
           "path's node";
    if (!json_is_object(a) || json_object_size(a) == 0 || !node || strcmp(node, x->node) ||
        !state || strcmp(state, "success") || !json_is_number(t) || json_number_value(t) < 0 ||
        json_number_value(t) > 86400)
        return SS_EFORMAT;
    x->wait_s = json_number_value(t);
    x->alloc_key = calloc(json_object_size(a), sizeof *x->alloc_key);
    x->alloc_val = calloc(json_object_size(a), sizeof *x->alloc_val);
    if (!x->alloc_key || !x->alloc_val)
        return SS_ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v)
    {
        const char *txt = json_string_value(v);
        char *end = NULL;
        long long n = txt && *txt ? strtoll(txt, &end, 10) : -1;
        if (!txt || !*txt || *end || n < 0 ||
            (strcmp(key, "nvidia.com/gpu") && strncmp(key, "nvidia.com/mig-", 15)))
            return *why = "wait.migConfig.allocatable holds a key that is not nvidia.com/gpu or "
                          "nvidia.com/mig-<profile>, or a count that is not a string of digits",
                   SS_EFORMAT;
        if (!(x->alloc_key[x->n_alloc] = strdup(key)))
            return SS_ENOMEM;
        x->alloc_val[x->n_alloc++] = n;
    }
    *why = "";
    return 0;
}

/* The fields of a mig-config line (path, body, wait). */
static int parse_mig_fields(json_t *o, ss_bind_line_t *x, const char **why)
{
    json_t *body = json_object_get(o, "body");
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *entry = json_string_value(json_object_get(
        json_object_get(json_object_get(body, "metadata"), "labels"), "nvidia.com/mig.config"));
    if (!path || !parse_node_path(path, &x->name))
        return *why = "path is not the op's /api/v1/nodes/NAME", SS_EFORMAT;
    if (!entry || !*entry || json_object_size(body) != 1)
        return *why = "a mig-config body is not {\"metadata\": {\"labels\": "
                      "{\"nvidia.com/mig.config\": ENTRY}}}",
               SS_EFORMAT;
    x->ns = strdup("");
    x->node = x->name ? strdup(x->name) : NULL;
    x->entry = strdup(entry);
    if (!x->ns || !x->node || !x->entry)
        return SS_ENOMEM;
    return parse_mig_wait(json_object_get(o, "wait"), x, why);
}

static int parse_op(const char *s)
{
    for (int k = 0; k < SS_REQ_COUNT; k++)
        if (!strcmp(s, op_names[k]))
            return k;
    return -1;
}

/* The node named by a nominate or bind body, or NULL. */
static const char *body_node(int op, json_t *body)
{
    if (op == SS_REQ_NOMINATE)
        return json_string_value(
            json_object_get(json_object_get(body, "status"), "nominatedNodeName"));
    return json_string_value(json_object_get(json_object_get(body, "target"), "name"));
}

/* path = /api/v1/namespaces/NS/pods?labelSelector=SEL (SEL escaped). */
static bool is_list_path(const char *path)
{
    static const char pre[] = "/api/v1/namespaces/", mid[] = "/pods?labelSelector=";
    if (strncmp(path, pre, sizeof pre - 1))
        return false;
    const char *a = path + sizeof pre - 1, *slash = strchr(a, '/');
    if (!slash || slash == a || strncmp(slash, mid, sizeof mid - 1))
        return false;
    char *ns = unescape(a, slash), *sel = unescape(slash + sizeof mid - 1, path + strlen(path));
    bool ok = ns && sel && *ns && strcmp(ns, ".") && strcmp(ns, "..") && !strchr(sel, '&');
    free(ns);
    free(sel);
    return ok;
}

/* A wave's extra waits: "running" [{"pods": list path, "count": N}] and
 * "budgets" [{"pdb": /apis/policy/v1/namespaces/NS/poddisruptionbudgets/NAME,
 * "disruptionsAllowed": N}]; both optional. */
static int parse_wave_wait(json_t *w, ss_bind_line_t *x, const char **why)
{
    json_t *run = json_object_get(w, "running"), *bud = json_object_get(w, "budgets");
    if ((run && !json_is_array(run)) || (bud && !json_is_array(bud)))
        return *why = "wait.running and wait.budgets are not lists", SS_EFORMAT;
    size_t nr = run ? json_array_size(run) : 0, nb = bud ? json_array_size(bud) : 0;
    x->running = calloc(nr + 1, sizeof *x->running);
    x->running_min = calloc(nr + 1, sizeof *x->running_min);
    x->budget = calloc(nb + 1, sizeof *x->budget);
    x->budget_min = calloc(nb + 1, sizeof *x->budget_min);
    if (!x->running || !x->running_min || !x->budget || !x->budget_min)
        return SS_ENOMEM;
    for (size_t k = 0; k < nr; k++) {
        json_t *e = json_array_get(run, k), *n = json_object_get(e, "count");
        const char *path = json_string_value(json_object_get(e, "pods"));
        if (!path || !is_list_path(path) || !json_is_integer(n) || json_integer_value(n) < 0 ||
            json_integer_value(n) > INT32_MAX)
            return *why = "wait.running holds an entry that is not {\"pods\": "
                          "\"/api/v1/namespaces/NS/pods?labelSelector=SEL\", \"count\": N >= 0}",
                   SS_EFORMAT;
        if (!(x->running[x->n_running] = strdup(path)))
            return SS_ENOMEM;
        x->running_min[x->n_running++] = (int32_t)json_integer_value(n);
    }
    for (size_t k = 0; k < nb; k++) {
        json_t *e = json_array_get(bud, k), *n = json_object_get(e, "disruptionsAllowed");
        const char *path = json_string_value(json_object_get(e, "pdb"));
        char *ns = NULL, *name = NULL;
        bool ok = path && ss_bind_parse_path(path, "/apis/policy/v1/namespaces/",
                                             "/poddisruptionbudgets/", "", &ns, &name);
        free(ns);
        free(name);
        if (!ok || !json_is_integer(n) || json_integer_value(n) < 0 ||
            json_integer_value(n) > INT32_MAX)
            return *why = "wait.budgets holds an entry that is not {\"pdb\": "
                          "\"/apis/policy/v1/namespaces/NS/poddisruptionbudgets/NAME\", "
                          "\"disruptionsAllowed\": N >= 0}",
                   SS_EFORMAT;
        if (!(x->budget[x->n_budgets] = strdup(path)))
            return SS_ENOMEM;
        x->budget_min[x->n_budgets++] = (int32_t)json_integer_value(n);
    }
    return 0;
}

static int parse_wait(json_t *w, ss_bind_line_t *x, const char **why)
{
    if (json_is_null(w) || !w)
        return 0;
    json_t *g = json_object_get(w, "gone"), *t = json_object_get(w, "timeoutSeconds");
    if (!json_is_object(w) || !json_is_array(g) || json_array_size(g) == 0 || !json_is_number(t) ||
        json_number_value(t) < 0 || json_number_value(t) > 86400) {
        *why = "wait is not null or {\"gone\": [paths], \"timeoutSeconds\": 0..86400}";
        return SS_EFORMAT;
    }
    x->wait_s = json_number_value(t);
    x->gone = calloc(json_array_size(g), sizeof *x->gone);
    if (!x->gone)
        return SS_ENOMEM;
    for (size_t k = 0; k < json_array_size(g); k++) {
        const char *p = json_string_value(json_array_get(g, k));
        char *ns = NULL, *name = NULL;
        if (!p || !parse_pod_path(p, "", &ns, &name)) {
            *why = "wait.gone holds a path that is not /api/v1/namespaces/NS/pods/NAME";
            return SS_EFORMAT;
        }
        free(ns);
        free(name);
        if (!(x->gone[x->n_gone++] = strdup(p)))
            return SS_ENOMEM;
    }
    return parse_wave_wait(w, x, why);
}

/* The fields of a cordon line: PATCH /api/v1/nodes/NAME with
 * {"spec": {"unschedulable": true}}, no wait. */
static int parse_cordon_fields(json_t *o, ss_bind_line_t *x, const char **why)
{
    json_t *body = json_object_get(o, "body"), *spec = json_object_get(body, "spec");
    const char *path = json_string_value(json_object_get(o, "path"));
    if (!path || !parse_node_path(path, &x->name))
        return *why = "path is not the op's /api/v1/nodes/NAME", SS_EFORMAT;
    if (json_object_size(body) != 1 || json_object_size(spec) != 1 ||
        !json_is_true(json_object_get(spec, "unschedulable")))
        return *why = "a cordon body is not {\"spec\": {\"unschedulable\": true}}", SS_EFORMAT;
    json_t *w = json_object_get(o, "wait");
    if (w && !json_is_null(w))
        return *why = "a cordon line has no wait", SS_EFORMAT;
    x->ns = strdup("");
    x->node = x->name ? strdup(x->name) : NULL;
    return x->ns && x->node ? 0 : SS_ENOMEM;
}

static int parse_fields(json_t *o, ss_bind_line_t *x, const char **why)
{
    json_t *unit = json_object_get(o, "unit"), *body = json_object_get(o, "body");
    const char *op = json_string_value(json_object_get(o, "op"));
    const char *method = json_string_value(json_object_get(o, "method"));
    const char *path = json_string_value(json_object_get(o, "path"));
    const char *ctype = json_string_value(json_object_get(o, "contentType"));
    x->op = op ? parse_op(op) : -1;
    if (!json_is_integer(unit) || json_integer_value(unit) < 0 ||
        json_integer_value(unit) > INT32_MAX - 1)
        return *why = "unit is not an integer >= 0", SS_EFORMAT;
    if (x->op < 0)
        return *why = "op is not nominate, disrupt, delete, evict, bind, mig-config, godel, "
                      "podgroup-status or cordon",
               SS_EFORMAT;
    if (!method || strcmp(method, op_methods[x->op]))
        return *why = "method does not match op", SS_EFORMAT;
    if (x->op == SS_REQ_GODEL || x->op == SS_REQ_PGSTATUS) { /* ss_bind_godel.c */
        x->unit = (int32_t)json_integer_value(unit);
        return ss_bind_godel_parse(o, x, why);
    }
    json_t *wave = json_object_get(o, "wave");
    if (wave && (!json_is_integer(wave) || json_integer_value(wave) < 1 ||
                 json_integer_value(wave) > INT32_MAX - 1))
        return *why = "wave is not an integer >= 1", SS_EFORMAT;
    x->wave = wave ? (int32_t)json_integer_value(wave) : 0;
    if (x->wave > 0 && x->op != SS_REQ_CORDON && x->op != SS_REQ_EVICT)
        return *why = "a wave line is a cordon or an evict", SS_EFORMAT;
    if (x->wave == 0 && x->op == SS_REQ_CORDON)
        return *why = "a cordon line has no wave", SS_EFORMAT;
    int rc = x->op == SS_REQ_MIGCONFIG ? parse_mig_fields(o, x, why)
             : x->op == SS_REQ_CORDON  ? parse_cordon_fields(o, x, why)
                                       : 0;
    if (rc < 0)
        return rc;
    bool node_op = x->op == SS_REQ_MIGCONFIG || x->op == SS_REQ_CORDON;
    if (!node_op && (!path || !parse_pod_path(path, op_suffix[x->op], &x->ns, &x->name)))
        return *why = "path is not the op's /api/v1/namespaces/NS/pods/NAME[/...]", SS_EFORMAT;
    if (!ctype || !*ctype || strpbrk(ctype, "\r\n"))
        return *why = "contentType is missing", SS_EFORMAT;
    if (x->op == SS_REQ_DELETE ? !json_is_null(body) : !json_is_object(body))
        return *why = "body is not an object (null for delete)", SS_EFORMAT;
    const char *node = x->op == SS_REQ_NOMINATE || x->op == SS_REQ_BIND ? body_node(x->op, body)
                       : node_op                                        ? x->name
                                                                        : "";
    if (!node || (x->op == SS_REQ_BIND && !*node))
        return *why = "the body names no node", SS_EFORMAT;
    x->unit = (int32_t)json_integer_value(unit);
    x->method = strdup(method);
    x->path = strdup(path);
    x->ctype = strdup(ctype);
    if (!node_op)
        x->node = strdup(node);
    x->body = json_is_null(body) ? NULL : json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!x->method || !x->path || !x->ctype || !x->node || (!json_is_null(body) && !x->body))
        return SS_ENOMEM;
    if (node_op)
        return 0;
    rc = parse_wait(json_object_get(o, "wait"), x, why);
    if (rc == 0 && x->wave == 0 && (x->n_running > 0 || x->n_budgets > 0))
        return *why = "wait.running and wait.budgets belong to a wave's eviction", SS_EFORMAT;
    return rc;
}

static int read_line(ss_bind_log_t *l, const char *text, const char **why)
{
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    if (!json_is_object(o)) {
        json_decref(o);
        return *why = "not a JSON object", SS_EFORMAT;
    }
    if (l->n == l->cap) {
        int32_t cap = l->cap ? 2 * l->cap : 64;
        ss_bind_line_t *v = realloc(l->line, (size_t)cap * sizeof *v);
        if (!v) {
            json_decref(o);
            return SS_ENOMEM;
        }
        l->line = v;
        l->cap = cap;
    }
    ss_bind_line_t *x = &l->line[l->n++];
    memset(x, 0, sizeof *x);
    int rc = parse_fields(o, x, why);
    json_decref(o);
    if (rc == 0 && x->unit + 1 > l->n_units)
        l->n_units = x->unit + 1;
    if (rc == 0 && (x->op == SS_REQ_DELETE || x->op == SS_REQ_EVICT))
        l->n_victims++;
    return rc;
}

int ss_bind_log_read(const char *path, ss_bind_log_t *l, ss_error_t *err)
{
    memset(l, 0, sizeof *l);
    FILE *f = fopen(path, "r");
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: cannot read the request log: %s", path,
                            strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    long lineno = 0;
    const char *why = "";
    while (rc == 0 && (len = getline(&buf, &cap, f)) > 0) {
        lineno++;
        if (buf[len - 1] != '\n')
            rc = ss_error_set(err, SS_EFORMAT, "%s:%ld: the last line does not end: truncated?",
                              path, lineno);
        else if (strspn(buf, " \t\r\n") != (size_t)len)
            rc = read_line(l, buf, &why);
        if (rc == SS_EFORMAT && why[0])
            ss_error_set(err, rc, "%s:%ld: not a request of a shardsched request log: %s", path,
                         lineno, why);
        else if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "%s:%ld: out of memory", path, lineno);
    }
    if (rc == 0 && ferror(f))
        rc = ss_error_set(err, SS_EIO, "%s: error reading the request log", path);
    if (rc == 0 && l->n == 0)
        rc = ss_error_set(err, SS_EFORMAT, "%s: the request log has no requests", path);
    for (int32_t i = 0; rc == 0 && i < l->n; i++) { /* a plan of waves is one unit, in order */
        const ss_bind_line_t *x = &l->line[i];
        if ((x->wave > 0) != (l->line[0].wave > 0) || (x->wave > 0 && x->unit != 0) ||
            (i > 0 && x->wave < l->line[i - 1].wave))
            rc = ss_error_set(err, SS_EFORMAT,
                              "%s:%d: not a request of a shardsched request log: a log of waves "
                              "has every line in unit 0 with a wave, waves in order",
                              path, (int)i + 1);
    }
    free(buf);
    fclose(f);
    if (rc < 0)
        ss_bind_log_free(l);
    return rc;
}
