/* ss_error: error codes and messages. See ss_error.h. */
#include "ss_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ss_strerror(int code)
{
    switch (code) {
#define SS_ERRNO_CASE(name, val, text)                                                             \
    case val:                                                                                      \
        return text;
        SS_ERRNO_MAP(SS_ERRNO_CASE)
#undef SS_ERRNO_CASE
    }
    return "unknown error";
}

int ss_error_set(ss_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
    }
    return code;
}

int ss_error_prefix(ss_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        char prefix[160];
        char old[sizeof err->text];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->text, sizeof old);
        snprintf(err->text, sizeof err->text, "%.150s: %.160s", prefix, old);
    }
    return code;
}
