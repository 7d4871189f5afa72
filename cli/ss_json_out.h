/* ss_json_out: the machine-readable output of `verify -o json` and
 * `inspect -o json`: one JSON object on stdout (jansson), keys in
 * snake_case, counts as integers, shares as percentages. */
#ifndef SS_JSON_OUT_H
#define SS_JSON_OUT_H

#include <jansson.h>

/* "cpu", "node_selector", ...: the snake_case key of a reason code. */
const char *ss_json_reason_key(int code);

/* Sets obj[key] = v (a new reference, stolen); returns 0 or -1 (out of memory). */
int ss_json_set(json_t *obj, const char *key, json_t *v);

/* Writes obj as one line on stdout and releases it; returns 0, or -1 (after
 * a message on stderr naming cmd) when it could not be built or written. */
int ss_json_emit(const char *cmd, json_t *obj, int built);

#endif
