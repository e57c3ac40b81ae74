/* file exporter internals shared with its tests. */
#ifndef FILE_FILE_H
#define FILE_FILE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "pipeline/component.h"

enum { FILE_FMT_JSON = 0, FILE_FMT_PROTO = 1 };
enum { FILE_COMP_NONE = 0, FILE_COMP_ZSTD = 1, FILE_COMP_EMPTY = 2 };

typedef struct file_rotation {
    int64_t max_megabytes; /* 100 */
    int64_t max_days;      /* 0 = keep regardless of age */
    int64_t max_backups;   /* 100; 0 = keep all */
    bool localtime;        /* backup names in local time instead of UTC */
} file_rotation;

typedef struct file_group_by {
    bool enabled;
    char *resource_attribute;
    int64_t max_open_files;
} file_group_by;

typedef struct file_cfg {
    char *path;
    int format; /* FILE_FMT_* */
    bool append;
    file_rotation rotation;
    bool rotation_set; /* rotation applies only when the section is present */
    int64_t flush_interval;
    int compression; /* FILE_COMP_* */
    file_group_by group_by;
    char *encoding; /* encoding extension: not available in this build */
} file_cfg;

extern const cfg_table file_table;
extern const pl_descriptor exporter_file_descriptor;

void file_cfg_default(file_cfg *cfg);
/* Flushes buffered records to the file now (tests, shutdown). */
gb_status file_flush(pl_component *c);
/* Backup name for path at unix time ns: "dir/name-2006-01-02T15-04-05.000.ext". */
void file_backup_name(const char *path, int64_t unix_ns, bool localtime, char *out, size_t size);

#endif
