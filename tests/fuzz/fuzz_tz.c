/* Fuzz target: TZif parsing (headers, counts, transitions, POSIX TZ footers) from arbitrary bytes;
 * when a zone parses, offsets and every window kind are evaluated at a spread of instants (the
 * POSIX rule evaluation and the local-midnight search must stay bounded and free of UB), and the
 * window spelling parser sees the input as text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "governance/gov_budget.h"
#include "governance/gov_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 16)) return 0;
    char err[256];
    gov_tz *tz = NULL;
    if (gov_tz_parse("fuzz", data, size, &tz, err, sizeof err) == GB_OK) {
        static const int64_t ts[] = {0,          86399,      951782400,  1325239200, 1772946000,
                                     1793505600, 2147483647, 4102444800, 4118083200, 253402300799};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
            (void)gov_tz_offset(tz, ts[i]);
            (void)gov_tz_offset(tz, -ts[i]);
            for (int k = GOV_WINDOW_DAY; k <= GOV_WINDOW_YEAR; k++) {
                gov_window w = {(gov_window_kind)k, 0, tz};
                char id[32];
                int64_t s, e;
                gov_window_at(&w, ts[i], id, &s, &e);
            }
        }
        gov_tz_free(tz);
    }
    char text[64];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = 0;
    gov_window_kind kind;
    int64_t sec;
    gov_window_parse(text, &kind, &sec);
    if (gov_tz_load(text, &tz, err, sizeof err) == GB_OK) gov_tz_free(tz);
    return 0;
}
