/* ss_json_out: helpers of the commands' JSON output (ss_json_out.h). */
#include "ss_json_out.h"

#include <ctype.h>
#include <stdio.h>

#include "ss_reason.h"

static const char *const reason_upper[] = {
#define SS_REASON_KEY(name, val, text) [val] = #name,
    SS_REASON_MAP(SS_REASON_KEY)
#undef SS_REASON_KEY
};

const char *ss_json_reason_key(int code)
{
    static char keys[SS_REASON_COUNT][48];
    if (code < 0 || code >= SS_REASON_COUNT)
        return "unknown";
    if (!keys[code][0]) {
        const char *u = reason_upper[code];
        size_t i;
        for (i = 0; u[i] && i + 1 < sizeof keys[code]; i++)
            keys[code][i] = (char)tolower((unsigned char)u[i]);
        keys[code][i] = 0;
    }
    return keys[code];
}

int ss_json_set(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

int ss_json_emit(const char *cmd, json_t *obj, int built)
{
    int rc = -1;
    if (obj && built == 0 && json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
        putchar('\n') != EOF)
        rc = 0;
    else
        fprintf(stderr, "shardsched %s: could not write the JSON summary\n", cmd);
    json_decref(obj);
    return rc;
}
