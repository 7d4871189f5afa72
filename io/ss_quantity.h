/* ss_quantity: Kubernetes resource quantities ("500m", "1.5Gi", "1e3", "2")
 * parsed exactly as apimachinery's resource.ParseQuantity reads them, and
 * rounded up to the integer unit the engine stores (cpu in milli, memory in
 * bytes, everything else in units), as Quantity.ScaledValue does.
 *
 * Used by the Kubernetes importer on every request, allocatable and overhead
 * entry: a few per object, so clarity beats speed here.
 *
 * Grammar (from apimachinery/pkg/api/resource/quantity.go):
 *   quantity ::= sign? number suffix
 *   number   ::= digits | digits "." digits? | "." digits
 *   suffix   ::= "" | m | k | M | G | T | P | E          (decimal SI)
 *              | Ki | Mi | Gi | Ti | Pi | Ei             (binary SI)
 *              | ("e" | "E") sign? digits                (decimal exponent)
 * No spaces, no other letters ("1K", "1mi", "1.5.2" and "" are errors).
 */
#ifndef SS_QUANTITY_H
#define SS_QUANTITY_H

#include <stdint.h>

#include "ss_error.h"

/* Scales for ss_quantity_parse: the stored unit is 10^-scale of the
 * quantity's unit (cpu: 3, i.e. milli-cores; memory and counts: 0). */
#define SS_QTY_UNITS 0
#define SS_QTY_MILLI 3

/* Parses s and stores ceil(value * 10^scale) in *out (rounding away from
 * zero, as Kubernetes rounds up). Returns 0, SS_EFORMAT for text that is not
 * a quantity, or SS_ERANGE when the result does not fit an int64; err says
 * which (the caller prefixes the object and field). scale must be 0..9. */
int ss_quantity_parse(const char *s, int scale, int64_t *out, ss_error_t *err);

/* Writes v (in units of 10^-scale) as the shortest exact quantity text
 * ("1500m" or "2", "4Gi" for memory when binary): buf of at least 32 bytes.
 * binary != 0 tries Ki/Mi/Gi/Ti/Pi/Ei suffixes (scale 0 only). Returns buf. */
char *ss_quantity_format(int64_t v, int scale, int binary, char *buf);

#endif
