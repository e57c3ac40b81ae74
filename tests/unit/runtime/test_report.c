/* genops-collector report: aggregation over a ledger written by the real exporter (plus rows
 * inserted directly for the cases the exporter input cannot express), exact output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/timeutil.h"
#include "exporter/ledger/ledger.h"
#include "runtime/report.h"

#include "../exporters/ledger_batches.h"

#define T0  1767225600000000000ULL /* 2026-01-01T00:00:00Z */
#define DAY (86400ULL * 1000000000ULL)

static char g_dir[64], g_db[128];

static const lb_op k_ops[] = {
    {"platform", "acme", "gpt-4o", "openai", "priced", 0.0125, -1, -1, 1000, 1000, 1, T0},
    {"platform", "acme", "gpt-4o", "openai", "priced", 0.000000001, -1, -1, 10, 5, 2,
     T0 + 3600000000000ULL},
    {"search", NULL, "claude-sonnet-4-5", "anthropic", "estimated", 0.3, -1, -1, 50000, 10000, 3,
     T0 + DAY},
    {"search", NULL, "mystery-1", "acme-ai", "unpriced", -1, -1, -1, 10, 5, 4, T0 + DAY},
    {NULL, "initech", "gpt-4o", "openai", "priced", 1.1, -1, -1, 100, 50, 5, T0 + 2 * DAY},
};

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/genops-report-XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    snprintf(g_db, sizeof g_db, "%s/ledger.db", g_dir);
    ledger_cfg cfg;
    ledger_cfg_default(&cfg);
    cfg.path = g_db;
    pl_component c;
    if (lb_start(&c, &cfg, "", NULL) != GB_OK) return -1;
    if (c.desc->consume(&c, lb_spans(k_ops, 5, "chat-api", NULL)) != GB_OK) return -1;
    if (c.desc->shutdown(&c, gb_mono_ns() + GB_NS_PER_S) != GB_OK) return -1;
    c.desc->destroy(&c);
    /* a cost in another currency (not summed as USD: counted unpriced), a team with a comma
     * and a quote (CSV quoting), 500 nUSD (rounds half up to 0.000001) and a row outside every
     * window used below */
    sqlite3 *db = NULL;
    if (sqlite3_open(g_db, &db) != SQLITE_OK) return -1;
    const char *sql =
        "INSERT INTO ledger(time, trace_id, span_id, signal, team, model, currency, cost_status,"
        " cost_nusd, tokens_input, tokens_output, service_name, provider) VALUES"
        " (1767225600000000000, X'01', X'01', 'span', 'platform', 'gpt-4o', 'EUR', 'priced',"
        "  5000000000, 7, 3, 'chat-api', NULL),"
        " (1767225600000000000, X'01', X'02', 'span', 'r&d, \"labs\"', 'gpt-4o', NULL, 'priced',"
        "  2000, 0, 0, 'chat-api', NULL),"
        " (1767398400000000000, X'01', X'04', 'span', 'tiny', 'gpt-4o-mini', NULL, 'priced',"
        "  500, 1, 1, 'chat-api', 'openai'),"
        " (1767052800000000000, X'01', X'03', 'span', 'platform', 'gpt-4o', NULL, 'priced',"
        "  999000000000, 0, 0, 'chat-api', NULL)"; /* 2025-12-30: before the window */
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char p[200];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", g_db, suffix[i]);
        unlink(p);
    }
    rmdir(g_dir);
    return 0;
}

static void opts(rt_report_opts *o, const char *by, int format)
{
    memset(o, 0, sizeof *o);
    o->db = g_db;
    o->from_ns = (int64_t)T0;
    o->to_ns = (int64_t)(T0 + 3 * DAY);
    o->format = format;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", by);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = rt_report_key(t);
        assert_true(k >= 0);
        o->by[o->n_by++] = k;
    }
}

static void run(const rt_report_opts *o, const char *want)
{
    gb_sbuf out, err;
    gb_sbuf_init(&out, 0);
    gb_sbuf_init(&err, 0);
    int rc = rt_report_run(o, &out, &err);
    if (rc != 0) fprintf(stderr, "report failed: %s\n", err.data ? err.data : "");
    assert_int_equal(rc, 0);
    if (strcmp(out.data, want) != 0) fprintf(stderr, "got:\n%s\nwant:\n%s\n", out.data, want);
    assert_string_equal(out.data, want);
    gb_sbuf_free(&out);
    gb_sbuf_free(&err);
}

static void test_table_by_team_model(void **state)
{
    (void)state;
    rt_report_opts o;
    opts(&o, "team,model", RT_REPORT_TABLE);
    /* platform/gpt-4o: 12500000 + 1 nUSD (the EUR row is unpriced, its cost not added);
     * TOTAL = 1100000000 + 300000000 + 12500001 + 2000 + 500 = 1412502501 nUSD */
    run(&o, "team         model              operations  unpriced  input_tokens  output_tokens"
            "  cost_usd\n"
            "(none)       gpt-4o                      1         0           100             50"
            "  1.100000\n"
            "search       claude-sonnet-4-5           1         0         50000          10000"
            "  0.300000\n"
            "platform     gpt-4o                      3         1          1017           1008"
            "  0.012500\n"
            "r&d, \"labs\"  gpt-4o                      1         0             0              0"
            "  0.000002\n"
            "tiny         gpt-4o-mini                 1         0             1              1"
            "  0.000001\n"
            "search       mystery-1                   1         1            10              5"
            "  0.000000\n"
            "TOTAL                                    8         2         51128          11064"
            "  1.412503\n");
}

static void test_top_and_window(void **state)
{
    (void)state;
    rt_report_opts o;
    opts(&o, "team", RT_REPORT_TABLE);
    o.top = 2;
    o.from_ns = (int64_t)(T0 + DAY); /* drops day 1 */
    run(&o, "team    operations  unpriced  input_tokens  output_tokens  cost_usd\n"
            "(none)           1         0           100             50  1.100000\n"
            "search           2         1         50010          10005  0.300000\n"
            "TOTAL            4         1         50111          10056  1.400001\n");
    /* an open window end and a window before everything */
    opts(&o, "status", RT_REPORT_TABLE);
    o.from_ns = (int64_t)(T0 - 5 * DAY);
    o.to_ns = (int64_t)(T0 - 4 * DAY);
    run(&o, "status  operations  unpriced  input_tokens  output_tokens  cost_usd\n"
            "TOTAL            0         0             0              0  0.000000\n");
}

static void test_csv(void **state)
{
    (void)state;
    rt_report_opts o;
    opts(&o, "day,provider", RT_REPORT_CSV);
    run(&o, "day,provider,operations,unpriced,input_tokens,output_tokens,cost_usd,cost_nusd\n"
            "2026-01-03,openai,2,0,101,51,1.100001,1100000500\n"
            "2026-01-02,anthropic,1,0,50000,10000,0.300000,300000000\n"
            "2026-01-01,openai,2,0,1010,1005,0.012500,12500001\n"
            "2026-01-01,,2,1,7,3,0.000002,2000\n"
            "2026-01-02,acme-ai,1,1,10,5,0.000000,0\n");
    opts(&o, "team", RT_REPORT_CSV);
    o.top = 4;
    run(&o, "team,operations,unpriced,input_tokens,output_tokens,cost_usd,cost_nusd\n"
            ",1,0,100,50,1.100000,1100000000\n"
            "search,2,1,50010,10005,0.300000,300000000\n"
            "platform,3,1,1017,1008,0.012500,12500001\n"
            "\"r&d, \"\"labs\"\"\",1,0,0,0,0.000002,2000\n");
}

static void test_json_body(void **state)
{
    (void)state;
    rt_report_opts o;
    opts(&o, "customer,service", RT_REPORT_JSON);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"db\": \"%s\", \"from\": \"2026-01-01T00:00:00.000Z\", \"to\": "
             "\"2026-01-04T00:00:00.000Z\", \"by\": [\"customer\", \"service\"],\n"
             " \"groups\": [\n"
             "  {\"customer\": \"initech\", \"service\": \"chat-api\", \"operations\": 1, "
             "\"unpriced\": 0, \"input_tokens\": 100, \"output_tokens\": 50, \"cost_usd\": "
             "1.100000, \"cost_nusd\": 1100000000},\n"
             "  {\"customer\": null, \"service\": \"chat-api\", \"operations\": 5, \"unpriced\": "
             "2, \"input_tokens\": 50018, \"output_tokens\": 10009, \"cost_usd\": 0.300003, "
             "\"cost_nusd\": 300002500},\n"
             "  {\"customer\": \"acme\", \"service\": \"chat-api\", \"operations\": 2, "
             "\"unpriced\": 0, \"input_tokens\": 1010, \"output_tokens\": 1005, \"cost_usd\": "
             "0.012500, \"cost_nusd\": 12500001}\n"
             " ],\n"
             " \"total\": {\"operations\": 8, \"unpriced\": 2, \"input_tokens\": 51128, "
             "\"output_tokens\": 11064, \"cost_usd\": 1.412503, \"cost_nusd\": 1412502501}}\n",
             g_db);
    run(&o, want);
}

static void test_errors(void **state)
{
    (void)state;
    rt_report_opts o;
    opts(&o, "team", RT_REPORT_TABLE);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/nope.db", g_dir);
    o.db = missing;
    gb_sbuf out, err;
    gb_sbuf_init(&out, 0);
    gb_sbuf_init(&err, 0);
    assert_int_equal(rt_report_run(&o, &out, &err), 1);
    assert_non_null(strstr(err.data, "no ledger database at "));
    assert_non_null(strstr(err.data, "nope.db: No such file or directory"));
    assert_int_equal(access(missing, F_OK), -1); /* read-only: nothing created */
    /* a SQLite file that is not a ledger */
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", g_dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    o.db = other;
    gb_sbuf_reset(&err);
    assert_int_equal(rt_report_run(&o, &out, &err), 1);
    assert_non_null(strstr(err.data, "is not a GenOps ledger database"));
    unlink(other);
    gb_sbuf_free(&out);
    gb_sbuf_free(&err);

    assert_int_equal(rt_report_key("team"), rt_report_key("team"));
    assert_true(rt_report_key("customer") >= 0);
    assert_true(rt_report_key("customer_id") >= 0);
    assert_int_equal(rt_report_key("teams"), -1);
    assert_int_equal(rt_report_key(""), -1);
}

static void test_parse(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(rt_report_parse_duration("24h", &v), 0);
    assert_int_equal(v, 86400 * GB_NS_PER_S);
    assert_int_equal(rt_report_parse_duration("7d", &v), 0);
    assert_int_equal(v, 7 * 86400 * GB_NS_PER_S);
    assert_int_equal(rt_report_parse_duration("30m", &v), 0);
    assert_int_equal(v, 1800 * GB_NS_PER_S);
    assert_int_equal(rt_report_parse_duration("1h30m", &v), 0);
    assert_int_equal(v, 5400 * GB_NS_PER_S);
    assert_int_equal(rt_report_parse_duration("2w", &v), 0);
    assert_int_equal(v, 14 * 86400 * GB_NS_PER_S);
    assert_int_equal(rt_report_parse_duration("1.5h", &v), 0);
    assert_int_equal(v, 5400 * GB_NS_PER_S);
    const char *bad_d[] = {"", "24", "h", "-1h", "0h", "3y", "1h 2m", "+1h"};
    for (size_t i = 0; i < sizeof bad_d / sizeof bad_d[0]; i++)
        assert_int_not_equal(rt_report_parse_duration(bad_d[i], &v), 0);

    assert_int_equal(rt_report_parse_time("2026-01-01", &v), 0);
    assert_int_equal(v, (int64_t)T0);
    assert_int_equal(rt_report_parse_time("2026-01-01T00:00:00Z", &v), 0);
    assert_int_equal(v, (int64_t)T0);
    assert_int_equal(rt_report_parse_time("2026-01-01T01:30:00+01:30", &v), 0);
    assert_int_equal(v, (int64_t)T0);
    assert_int_equal(rt_report_parse_time("2025-12-31T19:00:00.5-05:00", &v), 0);
    assert_int_equal(v, (int64_t)T0 + 500000000);
    assert_int_equal(rt_report_parse_time("2026-01-01 10:00", &v), 0);
    assert_int_equal(v, (int64_t)T0 + 36000 * GB_NS_PER_S);
    const char *bad_t[] = {"",
                           "2026-1-01",
                           "2026-13-01",
                           "2026-01-01T25:00:00Z",
                           "2026-01-01T10:00:00+0100",
                           "yesterday",
                           "2026-01-01T10:00:00Zjunk"};
    for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++)
        assert_int_not_equal(rt_report_parse_time(bad_t[i], &v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_by_team_model),
        cmocka_unit_test(test_top_and_window),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
