/* ss_quantity: Kubernetes resource quantities, parsed exactly and rounded up
 * to the engine's stored unit. See ss_quantity.h for the grammar.
 *
 * The number is held as an exact integer mantissa M (up to 36 significant
 * digits in an unsigned __int128, plus a flag for any non-zero digits dropped
 * beyond those), a power of ten and a power of two; the result is
 * ceil(M * 10^e10 * 2^e2) computed in 128-bit integers, so "0.1m" of cpu is
 * 1 milli and "1.5Gi" is exactly 1610612736 bytes. */
#include "ss_quantity.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MAX_SIG_DIGITS 36
#define LIMIT ((u128)1 << 125) /* intermediate values stay below this */

typedef struct {
    u128 mant;   /* significant digits */
    bool tail;   /* a non-zero digit was dropped after MAX_SIG_DIGITS */
    int64_t e10; /* value = (mant + tail) * 10^e10 * 2^e2 (64 bits: a long text, or an */
    int e2;      /* exponent of any length, cannot wrap it) */
    bool negative;
} qty_t;

/* Reads [+-]? digits [. digits] ; returns the position after it or NULL. */
static const char *parse_number(const char *p, qty_t *q)
{
    int sig = 0;
    bool any = false, dot = false;
    if (*p == '+' || *p == '-')
        q->negative = (*p++ == '-');
    for (;; p++) {
        if (*p == '.' && !dot) {
            dot = true;
            continue;
        }
        if (*p < '0' || *p > '9')
            break;
        any = true;
        int d = *p - '0';
        if (sig == 0 && d == 0) {
            if (dot)
                q->e10--;
            continue;
        }
        if (sig < MAX_SIG_DIGITS) {
            q->mant = q->mant * 10 + (u128)d;
            sig++;
            if (dot)
                q->e10--;
        } else {
            if (d)
                q->tail = true;
            if (!dot)
                q->e10++;
        }
    }
    return any ? p : NULL;
}

/* Applies the suffix text s to q; false if it is not a valid suffix. */
static bool parse_suffix(const char *s, qty_t *q)
{
    static const char dec[] = "mkMGTPE";
    static const int dec_e[] = {-3, 3, 6, 9, 12, 15, 18};
    static const char bin[] = "KMGTPE";
    if (!*s)
        return true;
    if (s[1] == '\0' && strchr(dec, s[0])) {
        q->e10 += dec_e[strchr(dec, s[0]) - dec];
        return true;
    }
    if (s[1] == 'i' && s[2] == '\0' && strchr(bin, s[0])) {
        q->e2 += 10 * (int)(strchr(bin, s[0]) - bin + 1);
        return true;
    }
    if (s[0] != 'e' && s[0] != 'E')
        return false;
    const char *p = s + 1;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = (*p++ == '-') ? -1 : 1;
    if (!*p)
        return false;
    int64_t e = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (e < (INT64_C(1) << 40)) /* saturates far beyond any text's length */
            e = e * 10 + (*p - '0');
    }
    q->e10 += sign * e;
    return true;
}

/* ceil(q) as a non-negative magnitude; false on overflow. */
static bool evaluate(const qty_t *q, u128 *out)
{
    u128 m = q->mant;
    if (m == 0 && !q->tail) {
        *out = 0;
        return true;
    }
    if (q->tail && q->e10 + q->e2 >= 0)
        return false; /* 36+ significant digits left of the point: huge */
    for (int i = 0; i < q->e2; i++) {
        if (m >= LIMIT / 2)
            return false;
        m <<= 1;
    }
    bool inexact = q->tail;
    for (int i = 0; i < -q->e2; i++) { /* negative binary powers do not occur */
        inexact |= (m & 1);
        m >>= 1;
    }
    for (int64_t i = 0; i < q->e10; i++) {
        if (m >= LIMIT / 10)
            return false;
        m *= 10;
    }
    if (q->e10 < 0) {
        if (-q->e10 > 38) {
            inexact |= (m != 0);
            m = 0;
        } else {
            u128 div = 1;
            for (int64_t i = 0; i < -q->e10; i++)
                div *= 10;
            inexact |= (m % div != 0);
            m /= div;
        }
    }
    *out = m + (inexact ? 1 : 0);
    return true;
}

int ss_quantity_parse(const char *s, int scale, int64_t *out, ss_error_t *err)
{
    if (!s || !*s)
        return ss_error_set(err, SS_EFORMAT, "empty quantity");
    if (scale < 0 || scale > 9)
        return ss_error_set(err, SS_EINVAL, "quantity scale %d out of range", scale);
    qty_t q = {0};
    const char *rest = parse_number(s, &q);
    if (!rest)
        return ss_error_set(err, SS_EFORMAT,
                            "'%s' is not a quantity (expected a number such as 2, 0.5, 500m, 1Gi)",
                            s);
    if (!parse_suffix(rest, &q))
        return ss_error_set(err, SS_EFORMAT,
                            "'%s' is not a quantity: unknown suffix '%s' (allowed: m k M G T P "
                            "E, Ki Mi Gi Ti Pi Ei, e<exponent>)",
                            s, rest);
    q.e10 += scale;
    u128 mag;
    if (!evaluate(&q, &mag) || mag > (u128)INT64_MAX)
        return ss_error_set(err, SS_ERANGE, "'%s' is too large", s);
    *out = q.negative ? -(int64_t)mag : (int64_t)mag;
    return 0;
}

char *ss_quantity_format(int64_t v, int scale, int binary, char *buf)
{
    static const char *bin[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    if (scale == SS_QTY_MILLI) {
        if (v % 1000 == 0)
            snprintf(buf, 32, "%lld", (long long)(v / 1000));
        else
            snprintf(buf, 32, "%lldm", (long long)v);
        return buf;
    }
    if (binary && scale == 0 && v != 0) {
        int k = -1;
        int64_t x = v;
        while (k < 5 && x % 1024 == 0) {
            x /= 1024;
            k++;
        }
        if (k >= 0) {
            snprintf(buf, 32, "%lld%s", (long long)x, bin[k]);
            return buf;
        }
    }
    snprintf(buf, 32, "%lld", (long long)v);
    return buf;
}
