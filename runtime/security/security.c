/* security.c: prepare/apply orchestration of the process's security settings
 * (see security.h for the order and why).  Owns the steps that belong to no
 * single kernel feature file: the AppArmor/SELinux availability checks and
 * exec labels, the user/group switch with keep-caps around it, the umask and
 * no_new_privs.  Capabilities, seccomp and limits live in caps.c, seccomp.c
 * and rlimits.c. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "security/security.h"
#include "security/security_internal.h"
#include "base/utils.h"

#define DEFAULT_UMASK 0022

static bool
apparmor_enabled (void)
{
  cleanup_free char *s = NULL;
  mr_error_t err = NULL;

  if (access ("/sys/kernel/security/apparmor", F_OK) < 0)
    return false;
  if (mr_read_file_at (AT_FDCWD, "/sys/module/apparmor/parameters/enabled", 16, &s, NULL, &err) < 0)
    {
      mr_error_free (&err);
      return false;
    }
  return s[0] == 'Y';
}

static bool
selinux_enabled (void)
{
  return access ("/sys/fs/selinux/enforce", F_OK) == 0;
}

static int
check_lsm (const struct mr_process *process, mr_error_t *err)
{
  /* runc and crun write the label unconditionally and fail when the LSM is
   * missing; we fail the same way, before anything is created. */
  if (process->apparmor_profile != NULL && process->apparmor_profile[0] != '\0' && !apparmor_enabled ())
    return mr_error_set (err, 0,
                         "process.apparmorProfile: profile `%s` is set but AppArmor is not enabled on this "
                         "host (no /sys/kernel/security/apparmor, or /sys/module/apparmor/parameters/enabled "
                         "is not Y); remove process.apparmorProfile",
                         process->apparmor_profile);
  if (process->selinux_label != NULL && process->selinux_label[0] != '\0' && !selinux_enabled ())
    return mr_error_set (
        err, 0,
        "process.selinuxLabel: label `%s` is set but SELinux is disabled or not supported on "
        "this host (no /sys/fs/selinux); remove process.selinuxLabel",
        process->selinux_label);
  return 0;
}

int
mr_security_prepare (const struct mr_process *process, const struct mr_seccomp *seccomp,
                     struct mr_security **out, mr_error_t *err)
{
  struct mr_security *sec = xcalloc (1, sizeof *sec);

  sec->listener_fd = -1;
  if (check_lsm (process, err) < 0 || mr_rlimits_check (process, err) < 0)
    goto fail;
  if (process->has_capabilities)
    {
      sec->has_caps = true;
      if (mr_caps_prepare (&process->capabilities, &sec->caps, err) < 0)
        goto fail;
    }
  if (mr_seccomp_compile (seccomp, sec, err) < 0)
    goto fail;
  *out = sec;
  return 0;

fail:
  mr_security_free (sec);
  return -1;
}

void
mr_security_free (struct mr_security *sec)
{
  if (sec == NULL)
    return;
  mr_seccomp_release (sec);
  if (sec->listener_fd >= 0)
    close (sec->listener_fd);
  free (sec);
}

int
mr_security_listener_connect (struct mr_security *sec, mr_error_t *err)
{
  int fd;

  if (sec == NULL || !sec->seccomp_notify)
    return 0;
  if (sec->listener_fd >= 0)
    close (sec->listener_fd);
  sec->listener_fd = -1;
  fd = mr_seccomp_connect_listener (sec->listener_path, err);
  if (fd < 0)
    return -1;
  sec->listener_fd = fd;
  return 0;
}

/* Write `value` to <proc>/thread-self/attr/<name> (the label for the next execve). */
static int
write_attr (int proc_dirfd, const char *name, const char *fallback, const char *value, const char *what,
            mr_error_t *err)
{
  char path[96];
  cleanup_close int fd = -1;

  (void) snprintf (path, sizeof path, "%sthread-self/attr/%s", proc_dirfd >= 0 ? "" : "/proc/", name);
  fd = openat (proc_dirfd >= 0 ? proc_dirfd : AT_FDCWD, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 && errno == ENOENT && fallback != NULL)
    {
      (void) snprintf (path, sizeof path, "%sthread-self/attr/%s", proc_dirfd >= 0 ? "" : "/proc/", fallback);
      fd = openat (proc_dirfd >= 0 ? proc_dirfd : AT_FDCWD, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    }
  if (fd < 0)
    return mr_error_set (err, errno, "%s: open `%s`", what, path);
  if (mr_write_all (fd, value, strlen (value)) < 0)
    return mr_error_set (err, errno, "%s: write `%s` to `%s`", what, value, path);
  return 0;
}

int
mr_security_apply_procfs (const struct mr_process *process, int proc_dirfd, mr_error_t *err)
{
  if (mr_oom_score_adj_apply (process, proc_dirfd, err) < 0)
    return -1;
  if (process->apparmor_profile != NULL && process->apparmor_profile[0] != '\0')
    {
      cleanup_free char *v = xasprintf ("exec %s", process->apparmor_profile);
      if (write_attr (proc_dirfd, "apparmor/exec", "exec", v, "process.apparmorProfile", err) < 0)
        return -1;
    }
  if (process->selinux_label != NULL && process->selinux_label[0] != '\0')
    if (write_attr (proc_dirfd, "exec", NULL, process->selinux_label, "process.selinuxLabel", err) < 0)
      return -1;
  return 0;
}

static bool
setgroups_denied (void)
{
  cleanup_free char *s = NULL;
  mr_error_t err = NULL;

  if (mr_read_file_at (AT_FDCWD, "/proc/self/setgroups", 64, &s, NULL, &err) < 0)
    {
      mr_error_free (&err);
      return false;
    }
  return strncmp (s, "deny", 4) == 0;
}

/* "[1, 2, 3]" (shortened) for error messages. */
static char *
gid_list (const struct mr_user *u)
{
  char buf[256];
  size_t len = 0;

  buf[len++] = '[';
  buf[len] = '\0';
  for (size_t i = 0; i < u->n_additional_gids && len < sizeof buf - 32; i++)
    len += (size_t) snprintf (buf + len, sizeof buf - len, "%s%u", i ? ", " : "", u->additional_gids[i]);
  if (len >= sizeof buf - 32)
    len += (size_t) snprintf (buf + len, sizeof buf - len, ", ...");
  (void) snprintf (buf + len, sizeof buf - len, "]");
  return xstrdup (buf);
}

static int
switch_user (const struct mr_user *u, mr_error_t *err)
{
  if (setgroups (u->n_additional_gids, u->additional_gids) < 0)
    {
      int e = errno;
      cleanup_free char *list = gid_list (u);
      if (e == EPERM && setgroups_denied ())
        {
          if (u->n_additional_gids > 0)
            return mr_error_set (err, e,
                                 "process.user.additionalGids %s: setgroups is denied in this user namespace "
                                 "(/proc/self/setgroups is `deny`, as for rootless containers); remove "
                                 "process.user.additionalGids",
                                 list);
        }
      else
        return mr_error_set (err, e, "setgroups %s (process.user.additionalGids)", list);
    }
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return mr_error_set (err, errno, "setresgid %u (process.user.gid)%s", u->gid,
                         errno == EINVAL ? ": the gid is not mapped in the user namespace (linux.gidMappings)"
                                         : "");
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return mr_error_set (err, errno, "setresuid %u (process.user.uid)%s", u->uid,
                         errno == EINVAL ? ": the uid is not mapped in the user namespace (linux.uidMappings)"
                                         : "");
  return 0;
}

int
mr_security_apply_final (const struct mr_security *sec, const struct mr_process *process,
                         const char *state_json, mr_error_t *err)
{
  bool nnp = process->no_new_privileges;

  if (sec == NULL)
    return mr_error_set (err, EINVAL,
                         "internal error: security settings applied without mr_security_prepare");
  if (mr_rlimits_apply (process, err) < 0)
    return -1;
  if (nnp && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "set no_new_privs (process.noNewPrivileges)");
  if (!nnp && mr_seccomp_load (sec, state_json, err) < 0)
    return -1;
  if (sec->has_caps && mr_caps_apply_bounding (&sec->caps, err) < 0)
    return -1;

  /* Keep the permitted set across the switch to a non-root uid; the
   * effective set is cleared by the kernel and set again below. */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl PR_SET_KEEPCAPS");
  if (switch_user (&process->user, err) < 0)
    return -1;
  if (prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return mr_error_set (err, errno, "prctl PR_SET_KEEPCAPS");
  umask (process->user.has_umask ? process->user.umask : DEFAULT_UMASK);

  if (sec->has_caps && mr_caps_apply_sets (&sec->caps, err) < 0)
    return -1;
  if (nnp && mr_seccomp_load (sec, state_json, err) < 0)
    return -1;
  return 0;
}

int
mr_security_apply (const struct mr_security *sec, const struct mr_process *process, const char *state_json,
                   mr_error_t *err)
{
  if (mr_security_apply_procfs (process, -1, err) < 0)
    return -1;
  return mr_security_apply_final (sec, process, state_json, err);
}
