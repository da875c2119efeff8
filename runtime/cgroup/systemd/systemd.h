/* systemd/systemd.h: the pieces of the systemd cgroup driver (driver.c), a
 * composition of the v2 driver's steps and systemd's D-Bus API:
 *   unit.c   the cgroupsPath form `slice:prefix:name` as runc reads it: the
 *            slice, the scope's unit name, where systemd puts its cgroup
 *   props.c  linux.resources as the unit properties systemd knows
 *            (MemoryMax, TasksMax, CPUWeight, CPUQuotaPerSecUSec,
 *            AllowedCPUs, ...), a plain list that bus.c sends
 *   annot.c  the org.systemd.property.* annotations as more properties
 *            (their GVariant text values parsed), appended to that list
 *   holder.c the process that holds a new scope until the init is in it
 *   bus.c    the D-Bus calls through libsystemd's sd-bus, loaded with
 *            dlopen on first use (a command that never uses the driver
 *            does not pay for loading libsystemd and its libraries)
 * unit.c, props.c and annot.c make no call to libsystemd (unit-tested without a
 * bus); bus.c is empty of sd-bus in a build without MINIRUN_HAVE_SYSTEMD
 * (the static one): every call then says this build has no systemd driver. */
#ifndef MINIRUN_CGROUP_SYSTEMD_H
#define MINIRUN_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

/* ---------- unit.c ---------- */

/* The systemd form of a cgroupsPath: exactly three `:`-separated parts,
 * none holding a `/` (anything else is a cgroupfs path). */
bool mr_sd_is_path (const char *path);

struct mr_sd_name
{
  char *slice;      /* "system.slice" (the default for root), "user.slice" (rootless), "-.slice" */
  char *unit;       /* "minirun-ID.scope": prefix-name.scope, name.scope without a prefix */
  char *slice_path; /* the slice's cgroup below systemd's root: "/system.slice", "/a.slice/a-b.slice", "" */
};
/* Parse and check `slice:prefix:name`.  An empty slice is the default
 * (system.slice; user.slice when `rootless`), `-` the root slice; a name
 * ending in .slice (runc's "the container is a slice") is refused.
 * Characters a unit name cannot hold in the name (a container id's `+`)
 * are escaped as systemd does (\x2b).  Errors name the path and the part. */
int mr_sd_name_parse (const char *path, bool rootless, struct mr_sd_name *out, mr_error_t *err);
void mr_sd_name_free (struct mr_sd_name *n);
/* The directory name systemd gives a unit's cgroup (its cg_escape: a `_`
 * before a name that could clash with a kernel file).  Caller frees. */
char *mr_sd_cgroup_name (const char *unit);

/* ---------- props.c ---------- */

/* One unit property: a name and a D-Bus value of the signature `sig` ("b",
 * "t", "s", "ay"; from an annotation, annot.c, also "y" "n" "q" "i" "u" "x"
 * "d", "as" and "a(ss)"). */
struct mr_sd_prop
{
  const char *name;
  const char *sig;
  uint64_t u;          /* b: 0/1; t: the number */
  const char *s;       /* s */
  uint8_t *bytes;      /* ay (owned) */
  size_t n_bytes;
  const char *cfg;     /* the config path it comes from (errors), NULL for minirun's own */
  union
  {
    uint8_t y;
    int16_t n;
    uint16_t q;
    int32_t i;
    uint32_t u32;
    int64_t x;
    double d;
  } v;                 /* the other basic types: the member of sig's type */
  char **strv;         /* as: the strings; a(ss): the pairs one after the other (owned, NULL-terminated) */
  char *own_name;      /* owned storage behind name and s (annot.c), freed with the list */
  char *own_s;
};
struct mr_sd_props
{
  struct mr_sd_prop *p;
  size_t n;
};
#define MR_SD_INFINITY UINT64_MAX /* systemd's "infinity" (CGROUP_LIMIT_MAX, USEC_INFINITY) */

/* The properties systemd knows for `res` (NULL: none), appended to `out`:
 *   memory.limit -> MemoryMax, memory.reservation -> MemoryLow,
 *   memory.swap (memory+swap) -> MemorySwapMax, pids.limit -> TasksMax,
 *   cpu.shares -> CPUWeight, cpu.quota/period -> CPUQuotaPerSecUSec and
 *   CPUQuotaPeriodUSec, cpu.cpus/mems -> AllowedCPUs/AllowedMemoryNodes,
 *   blockIO.weight -> IOWeight, and the unified keys memory.min/low/high/
 *   max, memory.swap.max, pids.max, cpu.weight (a value or "max").
 * -1 ("unlimited") is infinity; the conversions are the v2 writers' (the
 * same numbers land in the files).  `pids` false leaves TasksMax/pids.max
 * out.  Errors name the config path (a cpu list that does not parse). */
int mr_sd_props_from_resources (const struct mr_resources *res, bool pids, struct mr_sd_props *out,
                                mr_error_t *err);
/* Append a property; the driver's own (Delegate, Slice, ...). */
struct mr_sd_prop *mr_sd_props_add (struct mr_sd_props *p, const char *name, const char *sig);
void mr_sd_props_free (struct mr_sd_props *p);
/* A cpu or memory node list ("0-3,7") as systemd's bitmask (bit i of byte
 * i/8 is cpu i).  Caller frees *bytes. */
int mr_sd_cpulist_bits (const char *list, const char *cfg, uint8_t **bytes, size_t *n, mr_error_t *err);

/* ---------- annot.c ---------- */

#define MR_SD_ANNOTATION_PREFIX "org.systemd.property."
/* The annotations org.systemd.property.NAME=VALUE as extra properties of
 * the scope (runc's form), appended to `out`.  NAME: at least 3 ASCII
 * letters; VALUE in the GVariant text form (a subset): true/false, numbers
 * (an integer is int32 unless typed: byte int16 uint16 int32 uint32 int64
 * uint64 double, or @y @n @q @i @u @x @t @d; int64/uint64 when too large
 * for int32; a number with a dot or an exponent is a double), 'quoted' or
 * "quoted" strings (string / @s prefix allowed), ['a', 'b'] (as; @as []
 * empty) and [('a', 'b')] (a(ss), e.g. DeviceAllow).  NAMESec (a
 * lower-case letter before Sec) is sent as NAMEUSec in microseconds (a
 * number of seconds, as runc); a name ending in USec takes any
 * non-negative integer as uint64.  Slice, PIDs and Delegate are refused:
 * minirun's own bookkeeping depends on them.  Errors name the annotation,
 * the value and what was expected. */
int mr_sd_props_from_annotations (const struct mr_kv *a, size_t n, struct mr_sd_props *out, mr_error_t *err);
/* One annotation's property (NAME and VALUE as above, `key` the whole
 * annotation key for errors), appended to `out`. */
int mr_sd_prop_parse (const char *key, const char *name, const char *value, struct mr_sd_props *out,
                      mr_error_t *err);

/* ---------- holder.c ---------- */

/* A process of minirun's own that only waits (SIGKILLed when minirun
 * dies), the scope's first process until the init is in its cgroup:
 * *pidfd is its pidfd. */
int mr_sd_holder_start (pid_t *pid, int *pidfd, mr_error_t *err);
/* SIGKILL and reap it (*pidfd -1: nothing to do); *pidfd becomes -1. */
void mr_sd_holder_stop (int *pidfd);
/* The cgroup v2 path of `pid` (/proc/PID/cgroup's "0::" line).  Caller frees. */
int mr_sd_proc_cgroup (pid_t pid, char **out, mr_error_t *err);

/* ---------- bus.c ---------- */

/* Can this build use systemd, and is systemd running (sd_booted(3): the
 * directory /run/systemd/system)?  No bus call: cheap enough for every
 * command.  The error says which and what to do. */
int mr_sd_available (mr_error_t *err);

struct mr_sd_bus;
/* Connect to the manager: the system bus (root; systemd's private socket
 * when the bus daemon does not answer), or the user's bus (rootless). */
int mr_sd_bus_open (bool user, struct mr_sd_bus **out, mr_error_t *err);
void mr_sd_bus_close (struct mr_sd_bus *b);
/* The connection's socket (closed by the container's init, which inherits it). */
int mr_sd_bus_fd (const struct mr_sd_bus *b);
/* StartTransientUnit(unit, "fail", props + Slice, Description, PIDs=[pid],
 * Delegate and the accounting switches) and wait (bounded) for its job.  A
 * unit of that name left over in the failed state is reset and the start
 * tried once more. */
int mr_sd_start_scope (struct mr_sd_bus *b, const char *unit, const char *slice, pid_t pid,
                       const struct mr_sd_props *props, mr_error_t *err);
/* SetUnitProperties(unit, runtime, props). */
int mr_sd_set_properties (struct mr_sd_bus *b, const char *unit, const struct mr_sd_props *props,
                          mr_error_t *err);
/* StopUnit(unit, "replace"), wait for the job (bounded), ResetFailedUnit.
 * A unit systemd no longer knows is stopped already. */
int mr_sd_stop_unit (struct mr_sd_bus *b, const char *unit, mr_error_t *err);
/* The unit's ControlGroup property (relative to systemd's cgroup root);
 * ENOENT when systemd does not know the unit. */
int mr_sd_unit_cgroup (struct mr_sd_bus *b, const char *unit, char **out, mr_error_t *err);

#endif
