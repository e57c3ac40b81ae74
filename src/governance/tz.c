/* Time zones for budget windows: a small reader of the system's TZif database (RFC 8536).
 *
 * What: gov_tz_load(name) gives an immutable zone answering "UTC offset at unix time t". Sources:
 * "UTC"/"Etc/UTC"/"GMT"/"Z" and "Etc/GMT[+-]N" without any file, fixed offsets "+05:30",
 * "-0800", "+05", and TZif files under $TZDIR (default /usr/share/zoneinfo, Debian's tzdata).
 *
 * How: the file is read whole (bounded to 1 MiB). For version 2+ files the 32-bit block is
 * skipped and the 64-bit block used; version 1 files use the 32-bit block. Leap-second records
 * ("right/" zones) are skipped: budget windows are civil time. Offsets are looked up by binary
 * search over the transition times; before the first transition the first local time type
 * applies (RFC 8536 3.2); after the last one the POSIX TZ footer (e.g. "EST5EDT,M3.2.0,M11.1.0",
 * with the version 3 extensions: hours up to 167 and negative rule times) is evaluated. An empty
 * footer keeps the type of the last transition. The rule is evaluated by building the DST
 * start/end instants of the years around t (y-1..y+1), sorting them and taking the last one at or
 * before t, which handles southern-hemisphere rules, rule times past midnight, and permanent DST
 * ("EST5EDT,0/0,J365/25") without special cases.
 *
 * Names are checked before any file is touched: only [A-Za-z0-9_+/-], no leading '/', no "..",
 * at most 255 bytes, so a configuration cannot read arbitrary files.
 *
 * Rejected: localtime_r()/setenv("TZ") (process-global, not thread-safe, cannot hold two zones at
 * once); linking ICU (heavy); caching loaded zones globally (zones are loaded once per budget at
 * configuration time, so a cache would save nothing measurable). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "governance/gov_budget.h"
#include "governance/gov_internal.h"

#define TZ_FILE_MAX (1u << 20)

/* A POSIX TZ rule date: Jn (julian, no Feb 29), n (zero-based day of year), Mm.w.d. */
typedef struct tz_rule_date {
    char kind; /* 'J', 'D', 'M' */
    int a, b, c;
    int32_t time; /* seconds after local midnight, may be negative or > 24 h (v3) */
} tz_rule_date;

typedef struct tz_posix {
    bool present;
    int32_t std_off; /* UTC offset east, seconds */
    bool has_dst;
    int32_t dst_off;
    tz_rule_date start, end;
} tz_posix;

struct gov_tz {
    char name[256];
    int64_t *trans;  /* transition times, ascending */
    uint8_t *idx;    /* type index of each transition */
    int32_t *offs;   /* UTC offset of each local time type */
    uint32_t ntrans; /* 0 for fixed zones */
    uint32_t ntypes;
    int32_t fixed; /* offset when ntrans == 0 and no footer rule */
    tz_posix rule;
};

/* ---- civil calendar (proleptic Gregorian; Hinnant's algorithms) ----------------------------- */

int64_t gov_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void gov_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

bool gov_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int gov_month_days(int64_t y, int m)
{
    static const int k[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && gov_is_leap(y) ? 29 : k[m - 1];
}

/* Floor division for possibly negative unix times. */
int64_t gov_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* ---- POSIX TZ footer --------------------------------------------------------------------------
 */

static const char *posix_name(const char *p)
{
    if (*p == '<') {
        p++;
        while (*p && *p != '>')
            p++;
        return *p == '>' ? p + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh; result in seconds (sign applied). */
static const char *posix_hms(const char *p, int maxh, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9') return NULL;
    int h = 0, m = 0, s = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 3) {
        h = h * 10 + (*p++ - '0');
        nd++;
    }
    if (h > maxh) return NULL;
    if (*p == ':') {
        p++;
        if (p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9') return NULL;
        m = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':') {
            p++;
            if (p[0] < '0' || p[0] > '5' || p[1] < '0' || p[1] > '9') return NULL;
            s = (p[0] - '0') * 10 + (p[1] - '0');
            p += 2;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return p;
}

static const char *posix_int(const char *p, int lo, int hi, int *out)
{
    if (*p < '0' || *p > '9') return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > hi) return NULL;
    }
    if (v < lo) return NULL;
    *out = v;
    return p;
}

static const char *posix_date(const char *p, tz_rule_date *r)
{
    if (*p == 'J') {
        r->kind = 'J';
        p = posix_int(p + 1, 1, 365, &r->a);
    } else if (*p == 'M') {
        r->kind = 'M';
        p = posix_int(p + 1, 1, 12, &r->a);
        if (!p || *p++ != '.') return NULL;
        p = posix_int(p, 1, 5, &r->b);
        if (!p || *p++ != '.') return NULL;
        p = posix_int(p, 0, 6, &r->c);
    } else {
        r->kind = 'D';
        p = posix_int(p, 0, 365, &r->a);
    }
    if (!p) return NULL;
    r->time = 2 * 3600;
    if (*p == '/') p = posix_hms(p + 1, 167, &r->time);
    return p;
}

/* Parses a POSIX TZ string (RFC 8536 3.3.1 with the version 3 extensions). */
static bool posix_parse(const char *s, tz_posix *r)
{
    memset(r, 0, sizeof *r);
    const char *p = posix_name(s);
    if (!p) return false;
    int32_t off;
    p = posix_hms(p, 24, &off);
    if (!p) return false;
    r->std_off = -off; /* POSIX offsets are west-positive */
    r->present = true;
    if (!*p) return true;
    p = posix_name(p);
    if (!p) return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p && *p != ',') {
        p = posix_hms(p, 24, &off);
        if (!p) return false;
        r->dst_off = -off;
    }
    if (!*p) {
        /* No rule: the customary US rule (what glibc and tzcode assume). */
        r->start = (tz_rule_date){'M', 3, 2, 0, 7200};
        r->end = (tz_rule_date){'M', 11, 1, 0, 7200};
        return true;
    }
    if (*p++ != ',') return false;
    p = posix_date(p, &r->start);
    if (!p || *p++ != ',') return false;
    p = posix_date(p, &r->end);
    return p && !*p;
}

/* Local midnight (as days since the epoch) of a rule date in year y. */
static int64_t rule_day(const tz_rule_date *r, int64_t y)
{
    int64_t jan1 = gov_days_from_civil(y, 1, 1);
    switch (r->kind) {
    case 'J':
        return jan1 + r->a - 1 + (gov_is_leap(y) && r->a >= 60 ? 1 : 0);
    case 'D':
        return jan1 + r->a;
    default: {
        int64_t first = gov_days_from_civil(y, r->a, 1);
        int dow = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        int64_t day = first + (r->c - dow + 7) % 7 + (int64_t)(r->b - 1) * 7;
        while (day >= first + gov_month_days(y, r->a))
            day -= 7;
        return day;
    }
    }
}

static int32_t posix_offset(const tz_posix *r, int64_t t)
{
    if (!r->has_dst) return r->std_off;
    int64_t y;
    int m, d;
    gov_civil_from_days(gov_floor_div(t + r->std_off, 86400), &y, &m, &d);
    /* events: DST start (in standard time) and end (in DST) of y-1..y+1 */
    struct {
        int64_t at;
        bool dst;
    } ev[6];
    int n = 0;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        ev[n].at = rule_day(&r->start, yy) * 86400 + r->start.time - r->std_off;
        ev[n++].dst = true;
        ev[n].at = rule_day(&r->end, yy) * 86400 + r->end.time - r->dst_off;
        ev[n++].dst = false;
    }
    /* insertion sort; on equal instants an end sorts before a start (permanent DST) */
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0; j--) {
            bool swap = ev[j].at < ev[j - 1].at ||
                        (ev[j].at == ev[j - 1].at && !ev[j].dst && ev[j - 1].dst);
            if (!swap) break;
            __typeof__(ev[0]) tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    }
    bool dst = !ev[0].dst; /* before the first event: the opposite of it */
    for (int i = 0; i < n && ev[i].at <= t; i++)
        dst = ev[i].dst;
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ------------------------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static bool tzif_header(const uint8_t *p, size_t len, tzif_counts *c, int *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    *version = p[4] == 0 ? 1 : p[4] - '0';
    if (*version < 1 || *version > 9) return false;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    /* RFC 8536 3.1: typecnt != 0, isut/isstd either 0 or typecnt, counts bounded by file */
    if (c->type == 0 || c->type > 256 || c->chars == 0) return false;
    if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type))
        return false;
    return c->time <= TZ_FILE_MAX && c->leap <= TZ_FILE_MAX;
}

static size_t tzif_block_len(const tzif_counts *c, size_t tsize)
{
    return (size_t)c->time * tsize + c->time + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

static gb_status tzif_parse(gov_tz *tz, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    gb_status st = GB_ERR_INVALID;
    tzif_counts c;
    int version;
    if (!tzif_header(p, len, &c, &version)) {
        snprintf(err, errlen, "time zone %s: not a TZif file", tz->name);
        goto out;
    }
    size_t tsize = 4;
    size_t b1 = tzif_block_len(&c, 4);
    if (44 + b1 > len) goto trunc;
    const uint8_t *blk = p + 44;
    if (version >= 2) {
        const uint8_t *h2 = p + 44 + b1;
        int v2;
        if (!tzif_header(h2, len - (size_t)(h2 - p), &c, &v2)) goto trunc;
        tsize = 8;
        blk = h2 + 44;
        if ((size_t)(blk - p) + tzif_block_len(&c, 8) > len) goto trunc;
    }
    const uint8_t *tt = blk;
    const uint8_t *ti = tt + (size_t)c.time * tsize;
    const uint8_t *ty = ti + c.time;
    tz->ntrans = c.time;
    tz->ntypes = c.type;
    tz->trans = malloc(sizeof(int64_t) * (c.time ? c.time : 1));
    tz->idx = malloc(c.time ? c.time : 1);
    tz->offs = malloc(sizeof(int32_t) * c.type);
    if (!tz->trans || !tz->idx || !tz->offs) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < c.type; i++) {
        int32_t off = (int32_t)be32(ty + 6 * i);
        if (off == INT32_MIN || off < -25 * 3600 || off > 26 * 3600 || ty[6 * i + 4] > 1) {
            snprintf(err, errlen, "time zone %s: bad local time type %u", tz->name, i);
            goto out;
        }
        tz->offs[i] = off;
    }
    for (uint32_t i = 0; i < c.time; i++) {
        tz->trans[i] = tsize == 8 ? be64(tt + 8 * i) : (int64_t)(int32_t)be32(tt + 4 * i);
        tz->idx[i] = ti[i];
        if (ti[i] >= c.type || (i > 0 && tz->trans[i] <= tz->trans[i - 1])) {
            snprintf(err, errlen, "time zone %s: bad transition %u", tz->name, i);
            goto out;
        }
    }
    tz->fixed = tz->offs[0];
    if (version >= 2) {
        const uint8_t *f = blk + tzif_block_len(&c, 8);
        const uint8_t *end = p + len;
        if (f >= end || *f != '\n') goto trunc;
        const uint8_t *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
        if (!nl || nl - f - 1 > 255) goto trunc;
        char footer[256];
        memcpy(footer, f + 1, (size_t)(nl - f - 1));
        footer[nl - f - 1] = 0;
        if (footer[0] && !posix_parse(footer, &tz->rule)) {
            snprintf(err, errlen, "time zone %s: unsupported TZ rule \"%s\"", tz->name, footer);
            goto out;
        }
    }
    st = GB_OK;
    goto out;
trunc:
    snprintf(err, errlen, "time zone %s: truncated or malformed TZif data", tz->name);
out:
    return st;
}

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 255 || n[0] == '/' || strstr(n, "..")) return false;
    for (const char *p = n; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || ch == '+' || ch == '/' || ch == '-';
        if (!ok) return false;
    }
    return true;
}

/* "+05:30", "-0800", "+05", "-03:00"; false when s is not an offset. */
static bool parse_fixed(const char *s, int32_t *off)
{
    if (s[0] != '+' && s[0] != '-') return false;
    const char *p = s + 1;
    int digits[4], n = 0;
    bool colon = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9' && n < 4)
            digits[n++] = *p - '0';
        else if (*p == ':' && n == 2 && !colon)
            colon = true;
        else
            return false;
    }
    if (n != 2 && n != 4) return false;
    if (colon && n != 4) return false;
    int h = digits[0] * 10 + digits[1];
    int m = n == 4 ? digits[2] * 10 + digits[3] : 0;
    if (h > 18 || m > 59 || (h == 18 && m > 0)) return false;
    *off = (s[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

/* Zones recognised without any file: UTC spellings and Etc/GMT[+-]N (sign inverted, POSIX). */
static bool builtin_zone(const char *s, int32_t *off)
{
    static const char *const utc[] = {"UTC",  "Etc/UTC",       "GMT",      "Etc/GMT",
                                      "Z",    "Etc/UCT",       "UCT",      "Etc/Zulu",
                                      "Zulu", "Etc/Universal", "Universal"};
    for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++) {
        if (strcmp(s, utc[i]) == 0) {
            *off = 0;
            return true;
        }
    }
    if (strncmp(s, "Etc/GMT", 7) == 0 && (s[7] == '+' || s[7] == '-')) {
        int v = 0;
        const char *p = s + 8;
        if (!*p || strlen(p) > 2) return false;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return false;
            v = v * 10 + (*p - '0');
        }
        if (v > 14 || (s[7] == '+' && v > 12)) return false;
        *off = (s[7] == '+' ? -1 : 1) * v * 3600;
        return true;
    }
    return false;
}

gb_status gov_tz_load(const char *name, gov_tz **out, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    gov_tz *tz = NULL;
    uint8_t *data = NULL;
    FILE *f = NULL;
    if (errlen) err[0] = 0;
    *out = NULL;
    if (!name) name = "UTC";
    tz = calloc(1, sizeof *tz);
    if (!tz) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    snprintf(tz->name, sizeof tz->name, "%s", name);
    if (parse_fixed(name, &tz->fixed) || builtin_zone(name, &tz->fixed)) goto done;
    if (!name_ok(name)) {
        snprintf(err, errlen,
                 "invalid time zone name \"%.64s\" (expected an IANA name like Europe/Berlin, "
                 "UTC, or an offset like +05:30)",
                 name);
        st = GB_ERR_INVALID;
        goto out;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "unknown time zone \"%s\" (no %s: %s)", name, path, strerror(errno));
        st = errno == ENOENT || errno == ENOTDIR ? GB_ERR_NOTFOUND : GB_ERR_IO;
        goto out;
    }
    data = malloc(TZ_FILE_MAX);
    if (!data) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    size_t len = fread(data, 1, TZ_FILE_MAX, f);
    if (ferror(f)) {
        /* a directory (e.g. "America") reads as EISDIR */
        snprintf(err, errlen, "unknown time zone \"%s\" (%s is not a zone file)", name, path);
        st = GB_ERR_NOTFOUND;
        goto out;
    }
    if (len == TZ_FILE_MAX) {
        snprintf(err, errlen, "time zone %s: file too large", name);
        st = GB_ERR_INVALID;
        goto out;
    }
    fclose(f);
    f = NULL;
    gov_tz_free(tz);
    tz = NULL;
    st = gov_tz_parse(name, data, len, out, err, errlen);
    goto out;
done:
    *out = tz;
    tz = NULL;
out:
    if (f) fclose(f);
    free(data);
    gov_tz_free(tz);
    return st;
}

gb_status gov_tz_parse(const char *name, const void *data, size_t len, gov_tz **out, char *err,
                       size_t errlen)
{
    gb_status st = GB_OK;
    gov_tz *tz = calloc(1, sizeof *tz);
    if (errlen) err[0] = 0;
    *out = NULL;
    if (!tz) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
    st = tzif_parse(tz, data, len, err, errlen);
    if (st != GB_OK) goto out;
    *out = tz;
    tz = NULL;
out:
    gov_tz_free(tz);
    return st;
}

void gov_tz_free(gov_tz *tz)
{
    if (!tz) return;
    free(tz->trans);
    free(tz->idx);
    free(tz->offs);
    free(tz);
}

int32_t gov_tz_offset(const gov_tz *tz, int64_t t)
{
    if (!tz) return 0;
    if (tz->ntrans == 0 || t < tz->trans[0]) {
        if (tz->ntrans == 0 && tz->rule.present) return posix_offset(&tz->rule, t);
        return tz->fixed; /* type 0 (RFC 8536 3.2) or the fixed offset */
    }
    if (t >= tz->trans[tz->ntrans - 1] && tz->rule.present) {
        return posix_offset(&tz->rule, t);
    }
    uint32_t lo = 0, hi = tz->ntrans; /* last transition <= t */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offs[tz->idx[lo]];
}

const char *gov_tz_name(const gov_tz *tz)
{
    return tz ? tz->name : "UTC";
}
