/* Fuzz target: the attribute action engine's regex translation and matching, and the YAML
 * scalar typing of action values. Input: "<pattern>\n<subject>". Every pattern must either
 * compile or be refused with a message; matching and an extract/hash/convert pass over an
 * attribute holding the subject must not crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "processor/attraction/attraction.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    char *pattern = malloc(plen + 1);
    if (!pattern) return 0;
    memcpy(pattern, data, plen);
    pattern[plen] = 0;
    gb_str subject = nl ? gb_str_n(nl + 1, size - plen - 1) : GB_STR_LIT("");

    char err[256];
    cfg_node node = {.kind = CFG_NODE_SCALAR, .scalar = pattern};
    pd_any v;
    attraction_node_value(&node, &v, err, sizeof err);

    attraction_cfg acts[] = {
        {.key = "k", .pattern = pattern, .action = "extract"},
        {.key = "k", .action = "hash"},
        {.key = "k", .converted_type = "double", .action = "convert"},
        {.pattern = pattern, .action = "delete"},
    };
    attraction *a = NULL;
    pd_batch *b = NULL;
    if (attraction_compile(acts, 4, "actions", &a, err, sizeof err) == GB_OK &&
        pd_batch_new(PD_TRACES, 0, &b) == GB_OK) {
        pd_attrs attrs = {0};
        gb_str key, val;
        if (gb_arena_dup(&b->arena, "k", 1, &key) == GB_OK &&
            gb_arena_dup(&b->arena, subject.ptr, subject.len, &val) == GB_OK &&
            pd_attrs_put(&b->arena, &attrs, key, pd_any_str(val)) == GB_OK) {
            attraction_ctx ctx;
            if (attraction_ctx_init(&ctx, a, b) == GB_OK) attraction_apply(&ctx, &attrs);
        }
    }
    pd_batch_unref(b);
    attraction_free(a);
    free(pattern);
    return 0;
}
