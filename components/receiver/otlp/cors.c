/* CORS origin matching, kept apart from the receiver so unit tests can link it alone. Same rules
 * as rs/cors, which otelcol's confighttp uses. */
#include <string.h>
#include <strings.h>

#include "otlp_receiver.h"

static bool ieq_n(const char *a, const char *b, size_t n)
{
    return strncasecmp(a, b, n) == 0;
}

bool otlprecv_cors_origin_allowed(const cfg_strings *allowed, gb_str origin)
{
    for (uint32_t i = 0; i < allowed->n; i++) {
        const char *p = allowed->v[i];
        size_t pl = strlen(p);
        if (pl == 1 && p[0] == '*') return true;
        const char *star = strchr(p, '*');
        if (!star) {
            if (pl == origin.len && ieq_n(p, origin.ptr, pl)) return true;
            continue;
        }
        size_t pre = (size_t)(star - p), suf = pl - pre - 1;
        if (origin.len >= pre + suf && ieq_n(p, origin.ptr, pre) &&
            ieq_n(star + 1, origin.ptr + origin.len - suf, suf))
            return true;
    }
    return false;
}
