/* Budget windows: which window contains a unix time, its id and its [start, end) in unix seconds.
 *
 * How: the local civil date of t is (t + offset(t)) / 86400; the window's first and next-first
 * local dates follow from it (ISO 8601 weeks start on Monday and belong to the ISO week-year of
 * their Thursday, so 2027-01-01 is in 2026-W53); each local midnight is converted back to UTC as
 * the first instant t' with t' + offset(t') >= midnight. Candidates are midnight - o for the
 * offsets in force a day before and a day after; a candidate is valid when the zone really has
 * that offset there (the earliest valid one wins: a midnight that occurs twice starts at its
 * first occurrence). When neither is valid the midnight falls in a gap (zones switching at 00:00)
 * and a binary search between the two candidates finds the transition instant, i.e. the first
 * valid local time after the missing midnight. This needs only gov_tz_offset, so it works the
 * same for transition tables and POSIX footer rules.
 *
 * Rejected: stepping hour by hour (wrong for 30-minute DST like Lord Howe); asking the zone for
 * its transition list (footer rules have none); mktime() (process-global TZ). */
#include <stdio.h>
#include <string.h>

#include "governance/gov_budget.h"
#include "governance/gov_internal.h"

#define MAX_UNIX 253402300799LL /* 9999-12-31T23:59:59Z */

bool gov_window_parse(const char *s, gov_window_kind *kind, int64_t *rolling_sec)
{
    static const struct {
        const char *name;
        gov_window_kind kind;
    } names[] = {
        {"day", GOV_WINDOW_DAY},         {"daily", GOV_WINDOW_DAY},
        {"week", GOV_WINDOW_WEEK},       {"weekly", GOV_WINDOW_WEEK},
        {"month", GOV_WINDOW_MONTH},     {"monthly", GOV_WINDOW_MONTH},
        {"quarter", GOV_WINDOW_QUARTER}, {"quarterly", GOV_WINDOW_QUARTER},
        {"year", GOV_WINDOW_YEAR},       {"yearly", GOV_WINDOW_YEAR},
        {"annual", GOV_WINDOW_YEAR},
    };
    if (!s) return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *kind = names[i].kind;
            *rolling_sec = 0;
            return true;
        }
    }
    /* rolling: <N><unit>, unit s m h d w; at least one minute, at most 400 days */
    int64_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > 100000000) return false;
    }
    int64_t mul;
    switch (*p) {
    case 's':
        mul = 1;
        break;
    case 'm':
        mul = 60;
        break;
    case 'h':
        mul = 3600;
        break;
    case 'd':
        mul = 86400;
        break;
    case 'w':
        mul = 7 * 86400;
        break;
    default:
        return false;
    }
    if (p[1] != 0) return false;
    int64_t sec = v * mul;
    if (sec < 60 || sec > 400 * 86400LL) return false;
    *kind = GOV_WINDOW_ROLLING;
    *rolling_sec = sec;
    return true;
}

/* "24h" for a day, "2d" for 48 h, "90m", "45s". */
static void format_duration(int64_t sec, char *buf, size_t len)
{
    if (sec % 86400 == 0 && sec > 86400)
        snprintf(buf, len, "%lldd", (long long)(sec / 86400));
    else if (sec % 3600 == 0)
        snprintf(buf, len, "%lldh", (long long)(sec / 3600));
    else if (sec % 60 == 0)
        snprintf(buf, len, "%lldm", (long long)(sec / 60));
    else
        snprintf(buf, len, "%llds", (long long)sec);
}

/* First instant whose local time is at or after the local time `local` (seconds). */
static int64_t local_to_utc(const gov_tz *tz, int64_t local)
{
    int32_t oa = gov_tz_offset(tz, local - 86400);
    int32_t ob = gov_tz_offset(tz, local + 86400);
    int64_t ta = local - oa, tb = local - ob;
    bool va = gov_tz_offset(tz, ta) == oa;
    bool vb = gov_tz_offset(tz, tb) == ob;
    if (va && vb) return ta < tb ? ta : tb;
    if (va) return ta;
    if (vb) return tb;
    /* gap: f(t) = t + offset(t) crosses `local` between the candidates */
    int64_t lo = ta < tb ? ta : tb, hi = ta < tb ? tb : ta;
    if (hi + gov_tz_offset(tz, hi) < local) return hi; /* not a simple gap; best effort */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (mid + gov_tz_offset(tz, mid) >= local)
            hi = mid;
        else
            lo = mid;
    }
    return lo + gov_tz_offset(tz, lo) >= local ? lo : hi;
}

gb_status gov_window_at(const gov_window *w, int64_t t, char id[32], int64_t *start, int64_t *end)
{
    gb_status st = GB_OK;
    if (!w || t < 0 || t > MAX_UNIX) {
        st = GB_ERR_INVALID;
        goto out;
    }
    if (w->kind == GOV_WINDOW_ROLLING) {
        if (w->rolling_sec <= 0) {
            st = GB_ERR_INVALID;
            goto out;
        }
        char d[24];
        format_duration(w->rolling_sec, d, sizeof d);
        snprintf(id, 32, "rolling-%s", d);
        *start = t - w->rolling_sec;
        *end = t;
        goto out;
    }
    const gov_tz *tz = w->tz;
    int64_t days = gov_floor_div(t + gov_tz_offset(tz, t), 86400);
    int64_t y;
    int m, d;
    gov_civil_from_days(days, &y, &m, &d);
    int64_t sd, ed;
    switch (w->kind) {
    case GOV_WINDOW_DAY:
        sd = days;
        ed = days + 1;
        snprintf(id, 32, "%04lld-%02d-%02d", (long long)y, m, d);
        break;
    case GOV_WINDOW_WEEK: {
        int64_t wd = gov_floor_div(days + 3, 7) * -7 + days + 3; /* 0 = Monday */
        sd = days - wd;
        ed = sd + 7;
        int64_t iy;
        int im, idd;
        gov_civil_from_days(sd + 3, &iy, &im, &idd); /* the Thursday names the week-year */
        int64_t week = (sd + 3 - gov_days_from_civil(iy, 1, 1)) / 7 + 1;
        snprintf(id, 32, "%04lld-W%02lld", (long long)iy, (long long)week);
        break;
    }
    case GOV_WINDOW_MONTH:
        sd = gov_days_from_civil(y, m, 1);
        ed = sd + gov_month_days(y, m);
        snprintf(id, 32, "%04lld-%02d", (long long)y, m);
        break;
    case GOV_WINDOW_QUARTER: {
        int q = (m - 1) / 3 + 1;
        sd = gov_days_from_civil(y, 3 * (q - 1) + 1, 1);
        ed = q == 4 ? gov_days_from_civil(y + 1, 1, 1) : gov_days_from_civil(y, 3 * q + 1, 1);
        snprintf(id, 32, "%04lld-Q%d", (long long)y, q);
        break;
    }
    case GOV_WINDOW_YEAR:
        sd = gov_days_from_civil(y, 1, 1);
        ed = gov_days_from_civil(y + 1, 1, 1);
        snprintf(id, 32, "%04lld", (long long)y);
        break;
    default:
        st = GB_ERR_INVALID;
        goto out;
    }
    *start = local_to_utc(tz, sd * 86400);
    *end = local_to_utc(tz, ed * 86400);
out:
    return st;
}
