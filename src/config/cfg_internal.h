/* Internal helpers shared by the config subsystem's files (not part of the public API). */
#ifndef CFG_INTERNAL_H
#define CFG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Open-addressing string -> uint32 table (heap), for duplicate keys, merge keys and anchors. */
typedef struct cfg_strtab_ent {
    const char *key;
    uint32_t val;
} cfg_strtab_ent;

typedef struct cfg_strtab {
    cfg_strtab_ent *e;
    uint32_t cap; /* power of two or 0 */
    uint32_t n;
} cfg_strtab;

void cfg_strtab_free(cfg_strtab *t);
/* Inserts key -> val. If key is present, leaves it unchanged (unless replace) and sets *found to
 * true and *old to the previous value. key must outlive the table. */
gb_status cfg_strtab_put(cfg_strtab *t, const char *key, uint32_t val, bool replace, bool *found,
                         uint32_t *old);
bool cfg_strtab_get(const cfg_strtab *t, const char *key, uint32_t *val);

/* YAML type a plain scalar resolves to (YAML 1.2 core schema, as yaml.v3 does). */
typedef enum cfg_ytype {
    CFG_Y_STR = 0,
    CFG_Y_NULL,
    CFG_Y_BOOL,
    CFG_Y_INT,
    CFG_Y_FLOAT,
} cfg_ytype;

cfg_ytype cfg_resolve_plain(const char *s);
bool cfg_is_null_word(const char *s);

/* A fresh node in the doc arena (NULL on OOM). */
cfg_node *cfg_new_node(cfg_doc *doc, cfg_node_kind kind, cfg_mark mark);
/* Interns a file name in the doc arena (small cache of names already copied). */
const char *cfg_doc_file(cfg_doc *doc, const char *name);
/* Deep-merges the map src into the map dst (both already in doc; src nodes are shared). */
gb_status cfg_node_merge_map(cfg_doc *doc, cfg_node *dst, const cfg_node *src);
/* Deep copy of n into doc. */
gb_status cfg_node_copy(cfg_doc *doc, const cfg_node *n, cfg_node **out);

#endif
