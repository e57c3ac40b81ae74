#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <openssl/sha.h>

#include "processor/attraction/attraction.h"
#include "proc_testutil.h"

/* ---- helpers ---- */

static void hexof(const uint8_t *md, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

/* One batch with one attribute map to work on. */
typedef struct env {
    pd_batch *b;
    pd_attrs a;
    attraction *act;
    attraction_ctx ctx;
} env;

static void env_init(env *e, const attraction_cfg *cfg, uint32_t n)
{
    char err[256];
    pd_batch_new(PD_TRACES, 0, &e->b);
    e->a = tattrs(e->b, 2);
    gb_status st = attraction_compile(cfg, n, "actions", &e->act, err, sizeof err);
    if (st) fprintf(stderr, "compile: %s\n", err);
    assert_int_equal(st, GB_OK);
}

static void env_apply(env *e)
{
    assert_int_equal(attraction_ctx_init(&e->ctx, e->act, e->b), GB_OK);
    assert_int_equal(attraction_apply(&e->ctx, &e->a), GB_OK);
}

static void env_free(env *e)
{
    attraction_free(e->act);
    pd_batch_unref(e->b);
}

static pd_any *get(env *e, const char *k)
{
    pd_kv *kv = pd_attrs_find(&e->a, gb_str_c(k));
    return kv ? &kv->value : NULL;
}

static void put(env *e, const char *k, pd_any v)
{
    pd_attrs_put(&e->b->arena, &e->a, tdup(e->b, k), v);
}

static void assert_str(const pd_any *v, const char *s)
{
    assert_non_null(v);
    assert_int_equal(v->type, PD_ANY_STR);
    if (!gb_str_eq_c(v->u.str, s)) fail_msg("got \"%.*s\", want \"%s\"", GB_STR_FMT(v->u.str), s);
}

static gb_status compile_err(const attraction_cfg *c, uint32_t n, char *err, size_t errlen)
{
    attraction *a = NULL;
    gb_status st = attraction_compile(c, n, "actions", &a, err, errlen);
    attraction_free(a);
    return st;
}

/* ---- tests ---- */

static void test_sha256(void **state)
{
    (void)state;
    uint8_t md[32];
    char hex[65];
    attraction_sha256("", 0, md);
    hexof(md, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    attraction_sha256("abc", 3, md);
    hexof(md, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* every length around the block boundaries agrees with OpenSSL */
    uint8_t buf[300], ref[32];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof buf; len++) {
        attraction_sha256(buf, len, md);
        SHA256(buf, len, ref);
        assert_memory_equal(md, ref, 32);
    }
}

static void test_node_values(void **state)
{
    (void)state;
    char err[128];
    pd_any v;
    assert_int_equal(attraction_node_value(scalar("42", false), &v, err, sizeof err), GB_OK);
    assert_int_equal(v.type, PD_ANY_INT);
    assert_int_equal(v.u.i, 42);
    attraction_node_value(scalar("-7", false), &v, err, sizeof err);
    assert_int_equal(v.u.i, -7);
    attraction_node_value(scalar("0x1F", false), &v, err, sizeof err);
    assert_int_equal(v.type, PD_ANY_INT);
    assert_int_equal(v.u.i, 31);
    attraction_node_value(scalar("4.5", false), &v, err, sizeof err);
    assert_int_equal(v.type, PD_ANY_DOUBLE);
    assert_true(v.u.d == 4.5);
    attraction_node_value(scalar("1e3", false), &v, err, sizeof err);
    assert_int_equal(v.type, PD_ANY_DOUBLE);
    assert_true(v.u.d == 1000.0);
    attraction_node_value(scalar("-.inf", false), &v, err, sizeof err);
    assert_true(isinf(v.u.d) && v.u.d < 0);
    attraction_node_value(scalar("true", false), &v, err, sizeof err);
    assert_int_equal(v.type, PD_ANY_BOOL);
    assert_true(v.u.b);
    attraction_node_value(scalar("False", false), &v, err, sizeof err);
    assert_int_equal(v.type, PD_ANY_BOOL);
    assert_false(v.u.b);
    attraction_node_value(scalar("42", true), &v, err, sizeof err);
    assert_str(&v, "42");
    attraction_node_value(scalar("true", true), &v, err, sizeof err);
    assert_str(&v, "true");
    attraction_node_value(scalar("prod-1", false), &v, err, sizeof err);
    assert_str(&v, "prod-1");
    attraction_node_value(scalar("1.2.3", false), &v, err, sizeof err);
    assert_str(&v, "1.2.3");
    cfg_node map = {.kind = CFG_NODE_MAP};
    assert_int_equal(attraction_node_value(&map, &v, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "scalar"));
}

static void test_insert_update_upsert_all_types(void **state)
{
    (void)state;
    const char *vals[] = {"12", "2.5", "true", "text"};
    const pd_any_type types[] = {PD_ANY_INT, PD_ANY_DOUBLE, PD_ANY_BOOL, PD_ANY_STR};
    for (int t = 0; t < 4; t++) {
        attraction_cfg c[] = {
            {.key = "new", .value = scalar(vals[t], false), .action = "insert"},
            {.key = "existing", .value = scalar(vals[t], false), .action = "insert"},
            {.key = "existing2", .value = scalar(vals[t], false), .action = "update"},
            {.key = "missing", .value = scalar(vals[t], false), .action = "update"},
            {.key = "up1", .value = scalar(vals[t], false), .action = "upsert"},
            {.key = "up2", .value = scalar(vals[t], false), .action = "UPSERT"},
        };
        env e;
        env_init(&e, c, 6);
        put(&e, "existing", pd_any_str(GB_STR_LIT("keep")));
        put(&e, "existing2", pd_any_str(GB_STR_LIT("old")));
        put(&e, "up2", pd_any_int(-1));
        env_apply(&e);
        pd_any *v = get(&e, "new");
        assert_non_null(v);
        assert_int_equal(v->type, types[t]);
        assert_str(get(&e, "existing"), "keep");
        assert_int_equal(get(&e, "existing2")->type, types[t]);
        assert_null(get(&e, "missing"));
        assert_int_equal(get(&e, "up1")->type, types[t]);
        assert_int_equal(get(&e, "up2")->type, types[t]);
        if (types[t] == PD_ANY_INT) assert_int_equal(get(&e, "up2")->u.i, 12);
        if (types[t] == PD_ANY_DOUBLE) assert_true(get(&e, "up2")->u.d == 2.5);
        if (types[t] == PD_ANY_BOOL) assert_true(get(&e, "up2")->u.b);
        if (types[t] == PD_ANY_STR) assert_str(get(&e, "up2"), "text");
        /* inserted key and string value live in the batch arena, not in the config */
        pd_kv *kv = pd_attrs_find(&e.a, GB_STR_LIT("new"));
        assert_ptr_not_equal(kv->key.ptr, c[0].key);
        if (types[t] == PD_ANY_STR) assert_ptr_not_equal(kv->value.u.str.ptr, vals[t]);
        assert_int_equal(e.a.n, 5);
        env_free(&e);
    }
}

static void test_from_attribute_and_context(void **state)
{
    (void)state;
    attraction_cfg c[] = {
        {.key = "copy", .from_attribute = "src", .action = "insert"},
        {.key = "nocopy", .from_attribute = "absent", .action = "upsert"},
        {.key = "tenant", .from_context = "X-Tenant", .action = "upsert"},
        {.key = "tenant2", .from_context = "metadata.x-tenant", .action = "insert"},
        {.key = "multi", .from_context = "x-multi", .action = "insert"},
        {.key = "none", .from_context = "x-none", .action = "insert"},
    };
    env e;
    env_init(&e, c, 6);
    put(&e, "src", pd_any_double(1.5));
    add_meta(e.b, "x-tenant", "acme");
    add_meta(e.b, "x-multi", "a");
    add_meta(e.b, "x-multi", "b");
    env_apply(&e);
    assert_int_equal(get(&e, "copy")->type, PD_ANY_DOUBLE);
    assert_true(get(&e, "copy")->u.d == 1.5);
    assert_null(get(&e, "nocopy"));
    assert_str(get(&e, "tenant"), "acme");
    assert_str(get(&e, "tenant2"), "acme");
    pd_any *m = get(&e, "multi");
    assert_int_equal(m->type, PD_ANY_ARRAY);
    assert_int_equal(m->u.arr.n, 2);
    assert_str(&m->u.arr.v[1], "b");
    assert_null(get(&e, "none"));
    env_free(&e);
}

static void test_delete_key_and_pattern(void **state)
{
    (void)state;
    attraction_cfg c[] = {
        {.key = "password", .action = "delete"},
        {.pattern = "^secret\\.", .action = "delete"},
    };
    env e;
    env_init(&e, c, 2);
    put(&e, "password", pd_any_str(GB_STR_LIT("x")));
    put(&e, "secret.a", pd_any_int(1));
    put(&e, "keep", pd_any_int(2));
    put(&e, "secret.b", pd_any_bool(true));
    put(&e, "not.secret.c", pd_any_int(3));
    env_apply(&e);
    assert_int_equal(e.a.n, 2);
    assert_true(gb_str_eq_c(e.a.v[0].key, "keep"));
    assert_true(gb_str_eq_c(e.a.v[1].key, "not.secret.c"));
    env_free(&e);
}

static void test_hash_all_types(void **state)
{
    (void)state;
    attraction_cfg c[] = {
        {.key = "s", .action = "hash"},      {.key = "i", .action = "hash"},
        {.key = "d", .action = "hash"},      {.key = "b", .action = "hash"},
        {.key = "empty", .action = "hash"},  {.pattern = "^user\\.", .action = "hash"},
        {.key = "absent", .action = "hash"},
    };
    env e;
    env_init(&e, c, 7);
    put(&e, "s", pd_any_str(GB_STR_LIT("abc")));
    put(&e, "i", pd_any_int(258));
    put(&e, "d", pd_any_double(1.0));
    put(&e, "b", pd_any_bool(true));
    put(&e, "empty", pd_any_str(GB_STR_LIT("")));
    put(&e, "user.email", pd_any_str(GB_STR_LIT("abc")));
    env_apply(&e);
    uint8_t md[32];
    char hex[65];
    assert_str(get(&e, "s"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_str(get(&e, "user.email"),
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const uint8_t ib[8] = {0x02, 0x01, 0, 0, 0, 0, 0, 0}; /* 258 little-endian */
    SHA256(ib, 8, md);
    hexof(md, hex);
    assert_str(get(&e, "i"), hex);
    const uint8_t db[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f}; /* 1.0 bits little-endian */
    SHA256(db, 8, md);
    hexof(md, hex);
    assert_str(get(&e, "d"), hex);
    const uint8_t bb[1] = {1};
    SHA256(bb, 1, md);
    hexof(md, hex);
    assert_str(get(&e, "b"), hex);
    assert_str(get(&e, "empty"), "");
    assert_null(get(&e, "absent"));
    env_free(&e);
}

static void test_extract_named_groups(void **state)
{
    (void)state;
    attraction_cfg c[] = {
        {.key = "http.url",
         .pattern = "^/api/v1/document/(?P<documentId>.*)/update/(?<version>\\d+)$",
         .action = "extract"},
        {.key = "nomatch", .pattern = "^x(?P<g>y)$", .action = "extract"},
        {.key = "num", .pattern = "(?P<n>[0-9]+)", .action = "extract"},
        {.key = "ci", .pattern = "(?i)^(?:user)-(?P<uid>\\w+)", .action = "extract"},
        {.key = "date",
         .pattern = "^(?P<year>\\d{4})-(?P<rest>x{|[0-9]{2,})$",
         .action = "extract"},
    };
    env e;
    env_init(&e, c, 5);
    put(&e, "http.url", pd_any_str(tdup(e.b, "/api/v1/document/12345678/update/3")));
    put(&e, "nomatch", pd_any_str(GB_STR_LIT("xz")));
    put(&e, "num", pd_any_int(5)); /* not a string: untouched */
    put(&e, "ci", pd_any_str(GB_STR_LIT("USER-ab_9!")));
    put(&e, "date", pd_any_str(GB_STR_LIT("2026-x{")));
    env_apply(&e);
    assert_str(get(&e, "documentId"), "12345678");
    assert_str(get(&e, "version"), "3");
    assert_str(get(&e, "http.url"), "/api/v1/document/12345678/update/3");
    assert_null(get(&e, "g"));
    assert_null(get(&e, "n"));
    assert_str(get(&e, "uid"), "ab_9");
    assert_str(get(&e, "year"), "2026");
    assert_str(get(&e, "rest"), "x{"); /* a brace that is not an interval is literal */
    env_free(&e);
}

static void test_convert_matrix(void **state)
{
    (void)state;
    attraction_cfg c[] = {
        {.key = "s2i", .converted_type = "int", .action = "convert"},
        {.key = "bad2i", .converted_type = "int", .action = "convert"},
        {.key = "d2i", .converted_type = "int", .action = "convert"},
        {.key = "b2i", .converted_type = "int", .action = "convert"},
        {.key = "s2d", .converted_type = "double", .action = "convert"},
        {.key = "i2d", .converted_type = "double", .action = "convert"},
        {.key = "b2d", .converted_type = "double", .action = "convert"},
        {.key = "i2s", .converted_type = "string", .action = "convert"},
        {.key = "d2s", .converted_type = "string", .action = "convert"},
        {.key = "d2s2", .converted_type = "string", .action = "convert"},
        {.key = "d2s3", .converted_type = "string", .action = "convert"},
        {.key = "b2s", .converted_type = "string", .action = "convert"},
    };
    env e;
    env_init(&e, c, 12);
    put(&e, "s2i", pd_any_str(GB_STR_LIT("-123")));
    put(&e, "bad2i", pd_any_str(GB_STR_LIT("12a")));
    put(&e, "d2i", pd_any_double(7.9));
    put(&e, "b2i", pd_any_bool(true));
    put(&e, "s2d", pd_any_str(GB_STR_LIT("2.5e2")));
    put(&e, "i2d", pd_any_int(3));
    put(&e, "b2d", pd_any_bool(false));
    put(&e, "i2s", pd_any_int(-42));
    put(&e, "d2s", pd_any_double(0.1));
    put(&e, "d2s2", pd_any_double(1e21));
    put(&e, "d2s3", pd_any_double(-0.00012));
    put(&e, "b2s", pd_any_bool(true));
    env_apply(&e);
    assert_int_equal(get(&e, "s2i")->type, PD_ANY_INT);
    assert_int_equal(get(&e, "s2i")->u.i, -123);
    assert_str(get(&e, "bad2i"), "12a"); /* unconvertible: unchanged */
    assert_int_equal(get(&e, "d2i")->u.i, 7);
    assert_int_equal(get(&e, "b2i")->u.i, 1);
    assert_int_equal(get(&e, "s2d")->type, PD_ANY_DOUBLE);
    assert_true(get(&e, "s2d")->u.d == 250.0);
    assert_true(get(&e, "i2d")->u.d == 3.0);
    assert_int_equal(get(&e, "b2d")->type, PD_ANY_DOUBLE);
    assert_true(get(&e, "b2d")->u.d == 0.0);
    assert_str(get(&e, "i2s"), "-42");
    assert_str(get(&e, "d2s"), "0.1");
    assert_str(get(&e, "d2s2"), "1000000000000000000000");
    assert_str(get(&e, "d2s3"), "-0.00012");
    assert_str(get(&e, "b2s"), "true");
    env_free(&e);
}

static void test_actions_apply_in_order(void **state)
{
    (void)state;
    attraction_cfg c[] = {
        {.key = "a", .value = scalar("5", true), .action = "insert"},
        {.key = "a", .converted_type = "int", .action = "convert"},
        {.key = "b", .from_attribute = "a", .action = "insert"},
        {.key = "a", .action = "delete"},
    };
    env e;
    env_init(&e, c, 4);
    env_apply(&e);
    assert_null(get(&e, "a"));
    assert_int_equal(get(&e, "b")->type, PD_ANY_INT);
    assert_int_equal(get(&e, "b")->u.i, 5);
    env_free(&e);
}

static void test_validation_errors(void **state)
{
    (void)state;
    char err[256];
    struct {
        attraction_cfg c;
        const char *want;
    } cases[] = {
        {{.key = "k", .value = scalar("1", false)}, "missing required field \"action\""},
        {{.key = "k", .value = scalar("1", false), .action = "replace"}, "unsupported action"},
        {{.value = scalar("1", false), .action = "insert"}, "missing required field \"key\""},
        {{.key = "k", .action = "insert"}, "needs one of \"value\""},
        {{.key = "k", .value = scalar("1", false), .from_attribute = "x", .action = "upsert"},
         "only one of"},
        {{.key = "k", .from_attribute = "x", .from_context = "y", .action = "update"},
         "only one of"},
        {{.key = "k", .value = scalar("1", false), .pattern = "x", .action = "insert"},
         "does not use \"pattern\""},
        {{.action = "delete"}, "needs \"key\" or \"pattern\""},
        {{.key = "k", .value = scalar("1", false), .action = "hash"}, "does not use \"value\""},
        {{.key = "k", .action = "extract"}, "needs \"pattern\""},
        {{.key = "k", .pattern = "(a)(b)", .action = "extract"}, "at least one named group"},
        {{.key = "k", .pattern = "(?P<x>a+?)", .action = "extract"}, "lazy"},
        {{.key = "k", .pattern = "(?=a)(?P<x>b)", .action = "extract"}, "not supported"},
        {{.key = "k", .pattern = "(?P<x>[a-", .action = "extract"}, "missing ]"},
        {{.key = "k", .pattern = "(?P<x>a++)", .action = "extract"}, "nested repetition"},
        {{.key = "k", .pattern = "(?P<x>a{2}{3})", .action = "extract"}, "nested repetition"},
        {{.key = "k", .pattern = "(?P<x>a{1001})", .action = "extract"}, "invalid repeat count"},
        {{.key = "k", .pattern = "(?P<x>(a{10}){200})", .action = "extract"}, "exceed 1000"},
        {{.key = "k", .pattern = "(?P<x>((((((((((a+)+)+)+)+)+)+)+)+)+)+)", .action = "extract"},
         "exceed 1000"},
        {{.key = "k", .pattern = "(?P<x>*a)", .action = "extract"}, "missing argument"},
        {{.key = "k", .pattern = "(?P<x>a))", .action = "extract"}, "unexpected )"},
        {{.key = "k", .pattern = "(?P<x>a", .action = "extract"}, "missing )"},
        {{.key = "k", .action = "convert"}, "needs \"converted_type\""},
        {{.key = "k", .converted_type = "float", .action = "convert"},
         "unsupported converted_type"},
        {{.key = "k", .converted_type = "int", .value = scalar("1", false), .action = "convert"},
         "only uses"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        assert_int_equal(compile_err(&cases[i].c, 1, err, sizeof err), GB_ERR_INVALID);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        assert_non_null(strstr(err, "actions[0]"));
    }
    /* the position of the failing action is named */
    attraction_cfg two[] = {{.key = "a", .action = "delete"}, {.key = "b", .action = "nope"}};
    assert_int_equal(compile_err(two, 2, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "actions[1]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_node_values),
        cmocka_unit_test(test_insert_update_upsert_all_types),
        cmocka_unit_test(test_from_attribute_and_context),
        cmocka_unit_test(test_delete_key_and_pattern),
        cmocka_unit_test(test_hash_all_types),
        cmocka_unit_test(test_extract_named_groups),
        cmocka_unit_test(test_convert_matrix),
        cmocka_unit_test(test_actions_apply_in_order),
        cmocka_unit_test(test_validation_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
