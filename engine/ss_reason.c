/* ss_reason: texts of the unschedulable reasons. */
#include "ss_reason.h"

const char *ss_reason_text(int code)
{
    switch (code) {
#define SS_REASON_CASE(name, val, text)                                                            \
    case val:                                                                                      \
        return text;
        SS_REASON_MAP(SS_REASON_CASE)
#undef SS_REASON_CASE
    }
    return "unknown reason";
}
