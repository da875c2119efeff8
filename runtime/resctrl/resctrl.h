/* resctrl.h: linux.intelRdt, the container's resctrl group (Intel RDT, AMD
 * PQoS): a directory of the resctrl filesystem whose `schemata` limit the
 * L3 cache ways and memory bandwidth its `tasks` may use, and optionally a
 * monitoring group (mon_groups/<id>) that counts what they use.
 *
 * The group is <resctrl>/<closID> when the config names one (a group the
 * admin made, or that several containers share: minirun creates it when it
 * is missing and schemata are given, and never removes it), else
 * <resctrl>/<container id> (created and removed by minirun).  The caller
 * sequence is mr_rdt_create (host side, before the init runs: a failure
 * leaves no directory), mr_rdt_join (the init's pid; its children inherit
 * the group), and at delete mr_rdt_destroy with what mr_rdt_record gave. */
#ifndef MINIRUN_RESCTRL_H
#define MINIRUN_RESCTRL_H

#include <stdbool.h>
#include <sys/types.h>

#include "minirun/config.h"
#include "minirun/error.h"

struct mr_rdt
{
  char *dir;     /* the group */
  char *mon_dir; /* its mon_groups/<id>, or NULL */
  bool created;  /* minirun made `dir` (and removes it) */
};

/* The mount point of the resctrl filesystem (from /proc/self/mountinfo),
 * NULL when none is mounted.  Caller frees. */
char *mr_rdt_mountpoint (void);

/* Make (or find) the group under the resctrl mount `root` and write the
 * schemata.  Errors name linux.intelRdt's field, the file and the kernel's
 * own explanation (info/last_cmd_status).  On failure nothing is left. */
int mr_rdt_create (const char *root, const struct mr_intel_rdt *cfg, const char *id, struct mr_rdt *out,
                   mr_error_t *err);
/* Put `pid` in the group (and its monitoring group). */
int mr_rdt_join (const struct mr_rdt *g, pid_t pid, mr_error_t *err);
/* `update --l3-cache-schema / --mem-bw-schema`: write lines (NULL: skipped)
 * to the group's schemata. */
int mr_rdt_update (const struct mr_rdt *g, const char *l3, const char *mb, mr_error_t *err);
/* Remove what mr_rdt_create made: the monitoring group, and the group if
 * minirun created it.  Missing directories are fine. */
int mr_rdt_destroy (const struct mr_rdt *g, mr_error_t *err);

/* The launcher's side, in the order of create: make the group and record
 * it as <state>/resctrl (mr_rdt_record), put the launcher itself in it so
 * that the init it clones is born there (tasks are threads: a process
 * moved in later would leave the children it forked before outside), and
 * after the clone take the launcher out again (mr_rdt_leave: back to the
 * root group).  delete and a failed create: mr_rdt_release_dir. */
int mr_rdt_save (int state_dirfd, const struct mr_rdt *g, mr_error_t *err);
int mr_rdt_leave (const struct mr_rdt *g, mr_error_t *err);
/* Remove the group <state>/resctrl records (nothing to do without one). */
int mr_rdt_release_dir (int state_dirfd, mr_error_t *err);
/* Open the group <state>/resctrl records: 0 and out->dir NULL without one. */
int mr_rdt_load (int state_dirfd, struct mr_rdt *out, mr_error_t *err);

/* The group as text for the state directory ("created DIR\nmon DIR\n"),
 * and back.  Caller frees. */
char *mr_rdt_record (const struct mr_rdt *g);
int mr_rdt_parse_record (const char *text, struct mr_rdt *out, mr_error_t *err);
void mr_rdt_clear (struct mr_rdt *g);

#endif
