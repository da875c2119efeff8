/* config_internal.h: what the config*.c files share and nobody else sees: the
 * JSON-path builders, the typed field getters that produce the
 * "<json path>: expected X, got Y" errors, and the per-section parsers and
 * their clear functions.  This is the only header that includes jansson.h;
 * it must never be included outside runtime/config*.c.
 *
 * Conventions: a JSON `null` counts as absent (as Go's encoding/json does);
 * getters return 1 when the field is present and stored, 0 when absent (the
 * output is left untouched) and -1 with *err set when the type or value is
 * wrong.  Section parsers fill a zeroed struct and leave it freeable by the
 * matching clear function at every point, so a failure half-way through can
 * simply free the whole config. */
#ifndef MINIRUN_CONFIG_INTERNAL_H
#define MINIRUN_CONFIG_INTERNAL_H

#include <jansson.h>

#include "minirun/config.h"

/* ---- JSON paths ("process.args[1]", `linux.sysctl["net.ipv4.ip_forward"]`) ---- */
char *mr_cfg_key (const char *path, const char *key);
char *mr_cfg_idx (const char *path, size_t i);

/* ---- errors ---- */
/* "integer 5", "string \"x\"", "an object", ... */
char *mr_cfg_describe (const json_t *v);
/* "<path>: expected <expected>, got <describe(v)>"; returns -1. */
int mr_cfg_type_error (mr_error_t *err, const char *path, const char *expected, const json_t *v);
/* "<path>.<key>: required field is missing"; returns -1. */
int mr_cfg_missing (mr_error_t *err, const char *path, const char *key);
/* "<path>: <message>" with printf formatting; returns -1. */
int mr_cfg_error (mr_error_t *err, const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

/* Always -1, and visible as such to the compiler and analyzers (as the
 * setters of minirun/error.h). */
#define mr_cfg_type_error(...) ({ (mr_cfg_type_error) (__VA_ARGS__); -1; })
#define mr_cfg_missing(...) ({ (mr_cfg_missing) (__VA_ARGS__); -1; })
#define mr_cfg_error(...) ({ (mr_cfg_error) (__VA_ARGS__); -1; })

/* The member `key` of obj, or NULL when obj is NULL, the key is absent or its value is null. */
json_t *mr_cfg_get (const json_t *obj, const char *key);

/* ---- values (v non-NULL, path = the full JSON path of v) ---- */
int mr_cfg_v_string (const json_t *v, const char *path, char **out, mr_error_t *err);
int mr_cfg_v_abs_path (const json_t *v, const char *path, char **out, mr_error_t *err);
int mr_cfg_v_i64 (const json_t *v, const char *path, int64_t min, int64_t max, int64_t *out, mr_error_t *err);
int mr_cfg_v_u64 (const json_t *v, const char *path, uint64_t max, uint64_t *out, mr_error_t *err);
int mr_cfg_v_object (const json_t *v, const char *path, mr_error_t *err);

/* ---- fields of an object (obj may be NULL: everything absent) ---- */
int mr_cfg_string (const json_t *obj, const char *path, const char *key, char **out, mr_error_t *err);
int mr_cfg_abs_path (const json_t *obj, const char *path, const char *key, char **out, mr_error_t *err);
int mr_cfg_bool (const json_t *obj, const char *path, const char *key, bool *out, mr_error_t *err);
int mr_cfg_i64 (const json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out,
                mr_error_t *err);
int mr_cfg_u64 (const json_t *obj, const char *path, const char *key, uint64_t max, uint64_t *out,
                mr_error_t *err);
int mr_cfg_opt_i64 (const json_t *obj, const char *path, const char *key, struct mr_opt_i64 *out,
                    mr_error_t *err);
int mr_cfg_opt_u64 (const json_t *obj, const char *path, const char *key, uint64_t max,
                    struct mr_opt_u64 *out, mr_error_t *err);
int mr_cfg_object (const json_t *obj, const char *path, const char *key, json_t **out, mr_error_t *err);
int mr_cfg_array (const json_t *obj, const char *path, const char *key, json_t **out, mr_error_t *err);
/* An array of strings -> NULL-terminated vector. */
int mr_cfg_strv (const json_t *obj, const char *path, const char *key, char ***out, size_t *n,
                 mr_error_t *err);
/* Like mr_cfg_strv, each entry an absolute path. */
int mr_cfg_abs_strv (const json_t *obj, const char *path, const char *key, char ***out, size_t *n,
                     mr_error_t *err);
/* Like mr_cfg_strv, each entry "NAME=value" with a non-empty NAME. */
int mr_cfg_env (const json_t *obj, const char *path, const char *key, char ***out, size_t *n,
                mr_error_t *err);
/* An object of string values -> key/value pairs in document order. */
int mr_cfg_kv (const json_t *obj, const char *path, const char *key, struct mr_kv **out, size_t *n,
               mr_error_t *err);
void mr_cfg_kv_free (struct mr_kv *kv, size_t n);

/* ---- sections ---- */
int mr_cfg_parse_process (const json_t *v, const char *path, struct mr_process *p, mr_error_t *err);
void mr_cfg_process_clear (struct mr_process *p);
/* config_procattrs.c: process.scheduler, process.ioPriority, process.execCPUAffinity */
int mr_cfg_parse_proc_attrs (const json_t *proc, const char *path, struct mr_process *p, mr_error_t *err);
void mr_cfg_proc_attrs_clear (struct mr_process *p);
/* linux.memoryPolicy; 1 when present, 0 absent, -1 error */
int mr_cfg_parse_memory_policy (const json_t *lx, struct mr_memory_policy *mp, mr_error_t *err);
int mr_cfg_parse_user (const json_t *v, const char *path, struct mr_user *u, mr_error_t *err);
void mr_cfg_user_clear (struct mr_user *u);

int mr_cfg_parse_mounts (const json_t *root, struct mr_config *c, mr_error_t *err);
void mr_cfg_mounts_clear (struct mr_config *c);
/* mounts[i].uidMappings or gidMappings (key) of the mount object v at path (config_idmap.c). */
int mr_cfg_mount_mappings (const json_t *v, const char *path, const char *key, struct mr_idmap **out, size_t *n,
                           mr_error_t *err);
/* After linux is parsed: the idmappings that depend on it (mr_mount.idmap). */
int mr_cfg_finish_mounts (struct mr_config *c, mr_error_t *err);
bool mr_cfg_propagation_from_name (const char *name, enum mr_propagation *out);

int mr_cfg_parse_linux (const json_t *root, struct mr_config *c, mr_error_t *err);
void mr_cfg_linux_clear (struct mr_config *c);
/* linux.netDevices (config_netdev.c), called by mr_cfg_parse_linux after the namespaces */
int mr_cfg_parse_net_devices (const json_t *lx, struct mr_config *c, mr_error_t *err);
void mr_cfg_net_devices_clear (struct mr_config *c);

int mr_cfg_parse_resources (const json_t *v, const char *path, struct mr_resources *r, mr_error_t *err);
void mr_cfg_resources_clear (struct mr_resources *r);

int mr_cfg_parse_seccomp (const json_t *v, const char *path, struct mr_seccomp *s, mr_error_t *err);
void mr_cfg_seccomp_clear (struct mr_seccomp *s);

/* minirun.* plus the minirun.pids annotation (c->annotations must be parsed first). */
int mr_cfg_parse_pins (const json_t *root, struct mr_config *c, mr_error_t *err);
void mr_cfg_pins_clear (struct mr_pin_config *pc);

#endif
