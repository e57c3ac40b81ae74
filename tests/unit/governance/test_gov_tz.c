/* Time zones (TZif + POSIX footer) and budget windows. Expected instants were computed
 * independently with Python's zoneinfo over the same tzdata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "governance/gov_budget.h"
#include "governance/gov_internal.h"

static gov_tz *load(const char *name)
{
    gov_tz *tz = NULL;
    char err[256];
    gb_status st = gov_tz_load(name, &tz, err, sizeof err);
    if (st != GB_OK) fprintf(stderr, "load %s: %s\n", name, err);
    assert_int_equal(st, GB_OK);
    assert_non_null(tz);
    return tz;
}

static void test_new_york(void **state)
{
    (void)state;
    gov_tz *tz = load("America/New_York");
    assert_string_equal(gov_tz_name(tz), "America/New_York");
    assert_int_equal(gov_tz_offset(tz, 1772953199), -18000); /* 2026-03-08 06:59:59Z */
    assert_int_equal(gov_tz_offset(tz, 1772953200), -14400); /* spring forward */
    assert_int_equal(gov_tz_offset(tz, 1793512799), -14400); /* 2026-11-01 05:59:59Z */
    assert_int_equal(gov_tz_offset(tz, 1793512800), -18000); /* fall back */
    /* past the table: the footer EST5EDT,M3.2.0,M11.1.0 */
    assert_int_equal(gov_tz_offset(tz, 4118083200), -14400); /* 2100-07-01 */
    assert_int_equal(gov_tz_offset(tz, 4102444800), -18000); /* 2100-01-01 */
    gov_tz_free(tz);
}

static void test_berlin_kolkata(void **state)
{
    (void)state;
    gov_tz *tz = load("Europe/Berlin");
    assert_int_equal(gov_tz_offset(tz, 1774745999), 3600);
    assert_int_equal(gov_tz_offset(tz, 1774746000), 7200);
    assert_int_equal(gov_tz_offset(tz, 1792890000), 3600);
    gov_tz_free(tz);
    tz = load("Asia/Kolkata");
    assert_int_equal(gov_tz_offset(tz, 1795608000), 19800);
    assert_int_equal(gov_tz_offset(tz, -852076800), 23400); /* 1943: +06:30 war time */
    gov_tz_free(tz);
}

static void test_lord_howe(void **state)
{
    (void)state;
    gov_tz *tz = load("Australia/Lord_Howe"); /* +10:30 standard, +11 DST: 30-minute DST */
    assert_int_equal(gov_tz_offset(tz, 1768435200), 39600);
    assert_int_equal(gov_tz_offset(tz, 1782864000), 37800);
    assert_int_equal(gov_tz_offset(tz, 1775314799), 39600);
    assert_int_equal(gov_tz_offset(tz, 1775314800), 37800); /* 2026-04-04 15:00Z */
    assert_int_equal(gov_tz_offset(tz, 1791041399), 37800);
    assert_int_equal(gov_tz_offset(tz, 1791041400), 39600); /* 2026-10-03 15:30Z */
    /* footer rule, southern hemisphere, year 2100 */
    assert_int_equal(gov_tz_offset(tz, 4103654400), 39600);
    assert_int_equal(gov_tz_offset(tz, 4118083200), 37800);
    assert_int_equal(gov_tz_offset(tz, 4110447599), 39600);
    assert_int_equal(gov_tz_offset(tz, 4110447600), 37800);
    assert_int_equal(gov_tz_offset(tz, 4126174199), 37800);
    assert_int_equal(gov_tz_offset(tz, 4126174200), 39600);
    gov_tz_free(tz);
}

static void test_midnight_transitions(void **state)
{
    (void)state;
    gov_tz *tz = load("Pacific/Apia"); /* skipped 2011-12-30 entirely */
    assert_int_equal(gov_tz_offset(tz, 1325239199), -36000);
    assert_int_equal(gov_tz_offset(tz, 1325239200), 50400);
    gov_window w = {GOV_WINDOW_DAY, 0, tz};
    char id[32];
    int64_t s, e;
    assert_int_equal(gov_window_at(&w, 1325239199, id, &s, &e), GB_OK);
    assert_string_equal(id, "2011-12-29");
    assert_int_equal(s, 1325152800);
    assert_int_equal(e, 1325239200); /* midnight of the 30th never happened */
    assert_int_equal(gov_window_at(&w, 1325239200, id, &s, &e), GB_OK);
    assert_string_equal(id, "2011-12-31");
    assert_int_equal(s, 1325239200);
    assert_int_equal(e, 1325325600);
    gov_tz_free(tz);

    tz = load("America/Havana"); /* CST5CDT,M3.2.0/0,M11.1.0/1 */
    assert_int_equal(gov_tz_offset(tz, 1772945999), -18000);
    assert_int_equal(gov_tz_offset(tz, 1772946000), -14400);
    assert_int_equal(gov_tz_offset(tz, 1793509199), -14400);
    assert_int_equal(gov_tz_offset(tz, 1793509200), -18000);
    w.tz = tz;
    /* 2026-03-08: 00:00 does not exist; the day starts at 01:00 CDT and lasts 23 h */
    assert_int_equal(gov_window_at(&w, 1772946000 + 3600, id, &s, &e), GB_OK);
    assert_string_equal(id, "2026-03-08");
    assert_int_equal(s, 1772946000);
    assert_int_equal(e, 1773028800);
    assert_int_equal(gov_window_at(&w, 1772945999, id, &s, &e), GB_OK);
    assert_string_equal(id, "2026-03-07");
    assert_int_equal(s, 1772859600);
    assert_int_equal(e, 1772946000);
    /* 2026-11-01: 00:00-01:00 happens twice; the day starts at the first one, lasts 25 h */
    assert_int_equal(gov_window_at(&w, 1793509200 + 60, id, &s, &e), GB_OK);
    assert_string_equal(id, "2026-11-01");
    assert_int_equal(s, 1793505600);
    assert_int_equal(e, 1793595600);
    gov_tz_free(tz);
}

static void test_builtin_and_fixed(void **state)
{
    (void)state;
    setenv("TZDIR", "/nonexistent-zoneinfo", 1); /* these need no file */
    const struct {
        const char *name;
        int32_t off;
    } cases[] = {{"UTC", 0},        {"Etc/UTC", 0},        {"GMT", 0},
                 {"+05:30", 19800}, {"-08:00", -28800},    {"+0545", 20700},
                 {"-03", -10800},   {"Etc/GMT+5", -18000}, {"Etc/GMT-14", 50400}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gov_tz *tz = load(cases[i].name);
        assert_int_equal(gov_tz_offset(tz, 1795608000), cases[i].off);
        gov_tz_free(tz);
    }
    unsetenv("TZDIR");
    assert_int_equal(gov_tz_offset(NULL, 0), 0);
}

static void test_bad_names(void **state)
{
    (void)state;
    const char *invalid[] = {"../etc/passwd",   "/etc/localtime", "Europe/../../etc/passwd",
                             "Europe/Berlin;x", "Europe/Ber lin", "",
                             "+25:00",          "+05:3",          "a\\b"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        gov_tz *tz = (gov_tz *)1;
        char err[256] = "";
        assert_int_equal(gov_tz_load(invalid[i], &tz, err, sizeof err), GB_ERR_INVALID);
        assert_null(tz);
        assert_true(strlen(err) > 0);
    }
    const char *unknown[] = {"Mars/Olympus_Mons", "America", "Europe/Berlinx"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        gov_tz *tz = NULL;
        char err[256] = "";
        assert_int_equal(gov_tz_load(unknown[i], &tz, err, sizeof err), GB_ERR_NOTFOUND);
        assert_null(tz);
        assert_non_null(strstr(err, "unknown time zone"));
    }
}

/* A TZDIR with garbage and truncated zone files. */
static void test_bad_files(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/gov_tz_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    char path[600];
    snprintf(path, sizeof path, "%s/Garbage", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("not a zone file at all, but long enough to have a header..........", f);
    fclose(f);
    /* a truncated copy of a real zone */
    FILE *src = fopen("/usr/share/zoneinfo/Europe/Berlin", "rb");
    assert_non_null(src);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, src);
    fclose(src);
    assert_true(n > 200);
    snprintf(path, sizeof path, "%s/Truncated", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(buf, 1, n - 40, f);
    fclose(f);
    /* the whole copy loads from the custom TZDIR */
    snprintf(path, sizeof path, "%s/Copy", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(buf, 1, n, f);
    fclose(f);
    setenv("TZDIR", dir, 1);
    gov_tz *tz = NULL;
    char err[256];
    assert_int_equal(gov_tz_load("Garbage", &tz, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "not a TZif"));
    assert_int_equal(gov_tz_load("Truncated", &tz, err, sizeof err), GB_ERR_INVALID);
    assert_null(tz);
    assert_int_equal(gov_tz_load("Copy", &tz, err, sizeof err), GB_OK);
    assert_int_equal(gov_tz_offset(tz, 1774746000), 7200);
    gov_tz_free(tz);
    unsetenv("TZDIR");
    snprintf(path, sizeof path, "%s/Garbage", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/Truncated", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/Copy", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- synthesized TZif data ------------------------------------------------------------------- */

static size_t put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return 4;
}

/* A TZif file with the given local time types, transitions and footer (version '2', or 0 for a
 * version 1 file without footer). */
static size_t mk_tzif(uint8_t *buf, char version, const int32_t *offs, int ntypes,
                      const int64_t *trans, const uint8_t *idx, int ntrans, const char *footer)
{
    size_t n = 0;
    for (int pass = 0; pass < (version ? 2 : 1); pass++) {
        memcpy(buf + n, "TZif", 4);
        buf[n + 4] = (uint8_t)version;
        memset(buf + n + 5, 0, 15);
        n += 20;
        n += put32(buf + n, 0);
        n += put32(buf + n, 0);
        n += put32(buf + n, 0);
        n += put32(buf + n, (uint32_t)ntrans);
        n += put32(buf + n, (uint32_t)ntypes);
        n += put32(buf + n, 4);
        for (int i = 0; i < ntrans; i++) {
            if (pass == 1) n += put32(buf + n, (uint32_t)((uint64_t)trans[i] >> 32));
            n += put32(buf + n, (uint32_t)trans[i]);
        }
        for (int i = 0; i < ntrans; i++)
            buf[n++] = idx[i];
        for (int i = 0; i < ntypes; i++) {
            n += put32(buf + n, (uint32_t)offs[i]);
            buf[n++] = 0;
            buf[n++] = 0;
        }
        memcpy(buf + n, "XYZ", 4);
        n += 4;
    }
    if (version) n += (size_t)sprintf((char *)buf + n, "\n%s\n", footer);
    return n;
}

static gov_tz *parse_rule(const char *footer, int32_t off0)
{
    uint8_t buf[512];
    size_t n = mk_tzif(buf, '2', &off0, 1, NULL, NULL, 0, footer);
    gov_tz *tz = NULL;
    char err[256];
    gb_status st = gov_tz_parse(footer, buf, n, &tz, err, sizeof err);
    if (st != GB_OK) fprintf(stderr, "%s: %s\n", footer, err);
    assert_int_equal(st, GB_OK);
    return tz;
}

static void test_posix_rules(void **state)
{
    (void)state;
    gov_tz *tz = parse_rule("EST5EDT,0/0,J365/25", -14400); /* permanent DST (RFC 8536 3.3.1) */
    assert_int_equal(gov_tz_offset(tz, 1768435200), -14400);
    assert_int_equal(gov_tz_offset(tz, 1784073600), -14400);
    assert_int_equal(gov_tz_offset(tz, 1830297600 - 3600), -14400);
    gov_tz_free(tz);
    tz = parse_rule("CET-1CEST,J60/2,J300/3", 3600);       /* Jn: Feb 29 never counted */
    assert_int_equal(gov_tz_offset(tz, 1835485199), 3600); /* 2028-03-01 00:59:59Z */
    assert_int_equal(gov_tz_offset(tz, 1835485200), 7200); /* 02:00 local */
    assert_int_equal(gov_tz_offset(tz, 1856221199), 7200); /* 2028-10-27 00:59:59Z */
    assert_int_equal(gov_tz_offset(tz, 1856221200), 3600);
    gov_tz_free(tz);
    tz = parse_rule("CET-1CEST,59,299", 3600);             /* n: zero-based, Feb 29 counted */
    assert_int_equal(gov_tz_offset(tz, 1835398799), 3600); /* 2028-02-29 00:59:59Z */
    assert_int_equal(gov_tz_offset(tz, 1835398800), 7200);
    gov_tz_free(tz);
    tz = parse_rule("<-03>3", -10800);
    assert_int_equal(gov_tz_offset(tz, 1795608000), -10800);
    gov_tz_free(tz);
    tz = parse_rule("", 19800); /* no footer: the last (only) type */
    assert_int_equal(gov_tz_offset(tz, 1795608000), 19800);
    gov_tz_free(tz);
    tz = parse_rule("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 37800); /* Lord Howe's footer */
    assert_int_equal(gov_tz_offset(tz, 4110447599), 39600);
    assert_int_equal(gov_tz_offset(tz, 4110447600), 37800);
    assert_int_equal(gov_tz_offset(tz, 4126174200), 39600);
    gov_tz_free(tz);

    const char *bad[] = {"EST",
                         "5EST",
                         "EST5EDT,M3.2.0",
                         "EST5EDT,M13.2.0,M11.1.0",
                         "EST5EDT,M3.6.0,M11.1.0",
                         "EST5EDT,M3.2.7,M11.1.0",
                         "EST5EDT,J0,J365",
                         "EST5EDT,M3.2.0/200,M11.1.0",
                         "EST25",
                         "<EST5",
                         "EST5EDT,M3.2.0,M11.1.0x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[512];
        int32_t off = 0;
        size_t n = mk_tzif(buf, '2', &off, 1, NULL, NULL, 0, bad[i]);
        gov_tz *z = (gov_tz *)1;
        char err[256] = "";
        assert_int_equal(gov_tz_parse("bad", buf, n, &z, err, sizeof err), GB_ERR_INVALID);
        assert_null(z);
        assert_non_null(strstr(err, "rule"));
    }
}

static void test_tzif_structure(void **state)
{
    (void)state;
    uint8_t buf[512];
    int32_t offs[2] = {3600, 7200};
    int64_t trans[2] = {100, 200};
    uint8_t idx[2] = {1, 0};
    gov_tz *tz = NULL;
    char err[256];
    /* version 1: the 32-bit block, no footer */
    size_t n = mk_tzif(buf, 0, offs, 2, trans, idx, 2, NULL);
    assert_int_equal(gov_tz_parse("v1", buf, n, &tz, err, sizeof err), GB_OK);
    assert_int_equal(gov_tz_offset(tz, 99), 3600);
    assert_int_equal(gov_tz_offset(tz, 100), 7200);
    assert_int_equal(gov_tz_offset(tz, 199), 7200);
    assert_int_equal(gov_tz_offset(tz, 200), 3600);
    assert_int_equal(gov_tz_offset(tz, 1795608000), 3600);
    gov_tz_free(tz);
    /* a type index out of range, transitions out of order, a missing footer line */
    idx[0] = 2;
    n = mk_tzif(buf, '2', offs, 2, trans, idx, 2, "");
    assert_int_equal(gov_tz_parse("x", buf, n, &tz, err, sizeof err), GB_ERR_INVALID);
    idx[0] = 1;
    trans[1] = 50;
    n = mk_tzif(buf, '2', offs, 2, trans, idx, 2, "");
    assert_int_equal(gov_tz_parse("x", buf, n, &tz, err, sizeof err), GB_ERR_INVALID);
    trans[1] = 200;
    n = mk_tzif(buf, '2', offs, 2, trans, idx, 2, "");
    assert_int_equal(gov_tz_parse("x", buf, n - 1, &tz, err, sizeof err), GB_ERR_INVALID);
    assert_int_equal(gov_tz_parse("x", buf, n, &tz, err, sizeof err), GB_OK);
    gov_tz_free(tz);
    /* every truncation of a valid file is refused, never read past */
    for (size_t k = 0; k < n; k++) {
        uint8_t *cut = malloc(k ? k : 1);
        memcpy(cut, buf, k);
        assert_int_equal(gov_tz_parse("x", cut, k, &tz, err, sizeof err), GB_ERR_INVALID);
        free(cut);
    }
    /* an absurd UTC offset */
    offs[0] = 30 * 3600;
    n = mk_tzif(buf, '2', offs, 2, trans, idx, 2, "");
    assert_int_equal(gov_tz_parse("x", buf, n, &tz, err, sizeof err), GB_ERR_INVALID);
}

static void expect_window(gov_window_kind kind, const gov_tz *tz, int64_t t, const char *id,
                          int64_t start, int64_t end)
{
    gov_window w = {kind, 0, tz};
    char got[32];
    int64_t s = 0, e = 0;
    assert_int_equal(gov_window_at(&w, t, got, &s, &e), GB_OK);
    assert_string_equal(got, id);
    assert_int_equal(s, start);
    assert_int_equal(e, end);
    assert_true(s <= t && t < e);
}

static void test_windows_dst(void **state)
{
    (void)state;
    gov_tz *ny = load("America/New_York");
    /* 23-hour and 25-hour days */
    expect_window(GOV_WINDOW_DAY, ny, 1772946000 + 12 * 3600, "2026-03-08", 1772946000, 1773028800);
    assert_int_equal(1773028800 - 1772946000, 23 * 3600);
    expect_window(GOV_WINDOW_DAY, ny, 1793505600 + 3600, "2026-11-01", 1793505600, 1793595600);
    assert_int_equal(1793595600 - 1793505600, 25 * 3600);
    expect_window(GOV_WINDOW_WEEK, ny, 1772946000, "2026-W10", 1772427600, 1773028800);
    expect_window(GOV_WINDOW_MONTH, ny, 1772946000, "2026-03", 1772341200, 1775016000);
    gov_tz_free(ny);

    gov_tz *lh = load("Australia/Lord_Howe"); /* a 23.5-hour and a 24.5-hour day */
    expect_window(GOV_WINDOW_DAY, lh, 1791034200 + 1, "2026-10-04", 1791034200, 1791118800);
    expect_window(GOV_WINDOW_DAY, lh, 1775307600 + 86000, "2026-04-05", 1775307600, 1775395800);
    gov_tz_free(lh);

    gov_tz *be = load("Europe/Berlin");
    expect_window(GOV_WINDOW_DAY, be, 1792879200 + 10, "2026-10-25", 1792879200, 1792969200);
    gov_tz_free(be);
    gov_tz *kol = load("Asia/Kolkata");
    expect_window(GOV_WINDOW_DAY, kol, 1795608000, "2026-11-25", 1795545000, 1795631400);
    gov_tz_free(kol);
}

static void test_windows_calendar(void **state)
{
    (void)state;
    /* month ends and leap years, UTC (tz NULL) */
    expect_window(GOV_WINDOW_MONTH, NULL, 1769903999, "2026-01", 1767225600, 1769904000);
    expect_window(GOV_WINDOW_MONTH, NULL, 1769904000, "2026-02", 1769904000, 1772323200);
    expect_window(GOV_WINDOW_DAY, NULL, 1835438400, "2028-02-29", 1835395200, 1835481600);
    expect_window(GOV_WINDOW_MONTH, NULL, 1835438400, "2028-02", 1832976000, 1835481600);
    expect_window(GOV_WINDOW_DAY, NULL, 1835481600, "2028-03-01", 1835481600, 1835568000);
    /* 2026-12-31 23:30 in Tokyo vs UTC */
    gov_tz *tk = load("Asia/Tokyo");
    expect_window(GOV_WINDOW_DAY, tk, 1798727400, "2026-12-31", 1798642800, 1798729200);
    expect_window(GOV_WINDOW_QUARTER, tk, 1798727400, "2026-Q4", 1790780400, 1798729200);
    expect_window(GOV_WINDOW_YEAR, tk, 1798727400, "2026", 1767193200, 1798729200);
    /* 2027-01-01 00:30 in Tokyo, still 2026-12-31 15:30 in UTC */
    expect_window(GOV_WINDOW_YEAR, tk, 1798731000, "2027", 1798729200, 1830265200);
    expect_window(GOV_WINDOW_QUARTER, tk, 1798731000, "2027-Q1", 1798729200, 1806505200);
    expect_window(GOV_WINDOW_WEEK, tk, 1798731000, "2026-W53", 1798383600, 1798988400);
    expect_window(GOV_WINDOW_YEAR, NULL, 1798731000, "2026", 1767225600, 1798761600);
    expect_window(GOV_WINDOW_QUARTER, NULL, 1798731000, "2026-Q4", 1790812800, 1798761600);
    gov_tz_free(tk);
    /* ISO week-years */
    const struct {
        int64_t t;
        const char *id;
    } weeks[] = {{1798718400, "2026-W53"}, {1798804800, "2026-W53"}, {1609416000, "2020-W53"},
                 {1609675200, "2020-W53"}, {1735560000, "2025-W01"}, {1799064000, "2027-W01"},
                 {1767268800, "2026-W01"}, {1767009600, "2026-W01"}, {1795608000, "2026-W48"}};
    for (size_t i = 0; i < sizeof weeks / sizeof weeks[0]; i++) {
        gov_window w = {GOV_WINDOW_WEEK, 0, NULL};
        char id[32];
        int64_t s, e;
        assert_int_equal(gov_window_at(&w, weeks[i].t, id, &s, &e), GB_OK);
        assert_string_equal(id, weeks[i].id);
        assert_int_equal(e - s, 7 * 86400);
        assert_int_equal(((s / 86400) + 3) % 7, 0); /* a Monday */
    }
    /* 2026-11-25T12:00Z: the ids of the contract */
    const struct {
        gov_window_kind k;
        const char *id;
    } ids[] = {{GOV_WINDOW_DAY, "2026-11-25"},
               {GOV_WINDOW_WEEK, "2026-W48"},
               {GOV_WINDOW_MONTH, "2026-11"},
               {GOV_WINDOW_QUARTER, "2026-Q4"},
               {GOV_WINDOW_YEAR, "2026"}};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        gov_window w = {ids[i].k, 0, NULL};
        char id[32];
        int64_t s, e;
        assert_int_equal(gov_window_at(&w, 1795608000, id, &s, &e), GB_OK);
        assert_string_equal(id, ids[i].id);
    }
}

static void test_window_parse_rolling(void **state)
{
    (void)state;
    gov_window_kind k;
    int64_t sec;
    const struct {
        const char *s;
        gov_window_kind k;
        int64_t sec;
    } ok[] = {{"day", GOV_WINDOW_DAY, 0},           {"daily", GOV_WINDOW_DAY, 0},
              {"weekly", GOV_WINDOW_WEEK, 0},       {"month", GOV_WINDOW_MONTH, 0},
              {"quarterly", GOV_WINDOW_QUARTER, 0}, {"annual", GOV_WINDOW_YEAR, 0},
              {"yearly", GOV_WINDOW_YEAR, 0},       {"24h", GOV_WINDOW_ROLLING, 86400},
              {"30d", GOV_WINDOW_ROLLING, 2592000}, {"90m", GOV_WINDOW_ROLLING, 5400},
              {"2w", GOV_WINDOW_ROLLING, 1209600},  {"3600s", GOV_WINDOW_ROLLING, 3600}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_true(gov_window_parse(ok[i].s, &k, &sec));
        assert_int_equal(k, ok[i].k);
        assert_int_equal(sec, ok[i].sec);
    }
    const char *bad[] = {"", "hourly", "24", "h", "24x", "-5h", "30s", "500d", "1h30m", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(gov_window_parse(bad[i], &k, &sec));

    const struct {
        int64_t sec;
        const char *id;
    } rids[] = {{86400, "rolling-24h"}, {2592000, "rolling-30d"}, {5400, "rolling-90m"},
                {3600, "rolling-1h"},   {172800, "rolling-2d"},   {90, "rolling-90s"}};
    for (size_t i = 0; i < sizeof rids / sizeof rids[0]; i++) {
        gov_window w = {GOV_WINDOW_ROLLING, rids[i].sec, NULL};
        char id[32];
        int64_t s, e;
        assert_int_equal(gov_window_at(&w, 1795608000, id, &s, &e), GB_OK);
        assert_string_equal(id, rids[i].id);
        assert_int_equal(s, 1795608000 - rids[i].sec);
        assert_int_equal(e, 1795608000);
    }
    gov_window w = {GOV_WINDOW_DAY, 0, NULL};
    char id[32];
    int64_t s, e;
    assert_int_equal(gov_window_at(&w, -1, id, &s, &e), GB_ERR_INVALID);
    w.kind = GOV_WINDOW_ROLLING;
    assert_int_equal(gov_window_at(&w, 100, id, &s, &e), GB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_york),          cmocka_unit_test(test_berlin_kolkata),
        cmocka_unit_test(test_lord_howe),         cmocka_unit_test(test_midnight_transitions),
        cmocka_unit_test(test_builtin_and_fixed), cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_bad_files),         cmocka_unit_test(test_posix_rules),
        cmocka_unit_test(test_tzif_structure),    cmocka_unit_test(test_windows_dst),
        cmocka_unit_test(test_windows_calendar),  cmocka_unit_test(test_window_parse_rolling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
