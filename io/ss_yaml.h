/* ss_yaml: YAML text (what `kubectl get ... -o yaml` prints: one object, a
 * v1 List, or several `---`-separated documents) turned into jansson trees,
 * so that the Kubernetes importer reads YAML with the same object readers
 * as JSON. Parsing is libyaml's (events); this file only builds the trees
 * and types plain scalars as Kubernetes (sigs.k8s.io/yaml over go-yaml v2,
 * YAML 1.1) does: quoted and block scalars stay strings; plain ~/null/empty
 * are null, true/false/yes/no/on/off (any of their three spellings) are
 * booleans, integers (1_000, 0x1f, 0o17, 017, 0b101) are integers,
 * 1.5/1e3/.5 are numbers, and anything else (100m, 1Gi, timestamps) is a
 * string. Anchors, aliases and `<<` merge keys are honoured; duplicate keys
 * and non-scalar keys are errors. The line and column of every value are
 * kept while the documents are loaded (ss_yaml_where), so that a wrong
 * type in a field can name file:line:column. */
#ifndef SS_YAML_H
#define SS_YAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ss_error.h"

typedef struct ss_yaml ss_yaml_t;

/* True when the text is JSON: its first character after a UTF-8 BOM and
 * white space is '{' or '['. Everything else (even empty) is not JSON. */
bool ss_yaml_text_is_json(const char *buf, size_t len);

/* Parses the YAML stream buf[0, len) (path names it in messages) into *out.
 * Errors name path:line:column and the problem as libyaml words it. */
int ss_yaml_load(const char *path, const char *buf, size_t len, ss_yaml_t **out, ss_error_t *err);

/* The number of documents, and the i-th one (borrowed; json null for an
 * empty document). */
size_t ss_yaml_count(const ss_yaml_t *y);
json_t *ss_yaml_doc(const ss_yaml_t *y, size_t i);

/* Where v was written (1-based line and column), if it is a value of a
 * loaded document: 0, or -1 when unknown. jansson shares true, false and
 * null among all trees, so those are asked by their member (obj, key), which
 * only knows those. */
int ss_yaml_where(const json_t *v, int *line, int *col);
int ss_yaml_member_where(const json_t *obj, const char *key, int *line, int *col);

/* Frees the documents and forgets their positions; NULL is fine. */
void ss_yaml_free(ss_yaml_t *y);

#endif
