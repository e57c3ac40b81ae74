/* Go-compatible number text (see numfmt.h).
 *
 * gb_fmt_double finds the shortest %.Ne that strtod reads back as d (at most 17 significant
 * digits always do), then lays those digits out without an exponent, padding with zeros. The
 * digits come from %e, never from %.Nf: "%.0f" of 1e23 prints the double's exact binary value
 * (99999999999999991611392) where Go prints the shortest digits padded with zeros. A hand-written
 * shortest-digits algorithm (Ryu, Grisu) was rejected: the snprintf loop is short and exact, and
 * its callers (attribute text for matching, prometheusremotewrite le/quantile labels) ran the same
 * loop in their own copies before. Output is built in a local buffer, then cut to cap. */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t gb_fmt_double(double d, char *buf, size_t cap)
{
    char tmp[GB_FMT_DOUBLE_MAX];
    size_t len = 0;
    if (cap == 0) return 0;
    if (isnan(d)) {
        len = (size_t)snprintf(tmp, sizeof tmp, "NaN");
    } else if (isinf(d)) {
        len = (size_t)snprintf(tmp, sizeof tmp, "%s", d > 0 ? "+Inf" : "-Inf");
    } else {
        char e[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(e, sizeof e, "%.*e", prec - 1, d);
            if (strtod(e, NULL) == d) break;
        }
        /* e = [-]D[.DDD]e[+-]XX */
        const char *p = e;
        if (*p == '-') tmp[len++] = *p++;
        char dig[20];
        int nd = 0;
        while (*p && *p != 'e') {
            if (*p != '.') dig[nd++] = *p;
            p++;
        }
        int exp = atoi(p + 1);
        while (nd > 1 && dig[nd - 1] == '0')
            nd--;
        if (exp >= nd - 1) { /* integer: digits then zeros */
            memcpy(tmp + len, dig, (size_t)nd);
            len += (size_t)nd;
            for (int i = 0; i < exp - (nd - 1); i++)
                tmp[len++] = '0';
        } else if (exp >= 0) { /* point inside the digits */
            memcpy(tmp + len, dig, (size_t)exp + 1);
            len += (size_t)exp + 1;
            tmp[len++] = '.';
            memcpy(tmp + len, dig + exp + 1, (size_t)(nd - exp - 1));
            len += (size_t)(nd - exp - 1);
        } else { /* 0.000ddd */
            tmp[len++] = '0';
            tmp[len++] = '.';
            for (int i = 0; i < -exp - 1; i++)
                tmp[len++] = '0';
            memcpy(tmp + len, dig, (size_t)nd);
            len += (size_t)nd;
        }
    }
    if (len >= cap) len = cap - 1;
    memcpy(buf, tmp, len);
    buf[len] = 0;
    return len;
}
