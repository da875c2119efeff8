/* config_spec.c: the default config.json that `minirun spec` writes, shaped
 * like runc's: busybox-friendly `sh` as the process, the three harmless
 * capabilities (AUDIT_WRITE, KILL, NET_BIND_SERVICE) in the bounding,
 * effective and permitted sets (no inheritable or ambient: an inheritable
 * set without ambient only matters for file capabilities, and runc dropped
 * it after CVE-2022-29162), the standard /proc, /dev, /dev/pts, /dev/shm,
 * /dev/mqueue, /sys and /sys/fs/cgroup mounts, runc's masked and read-only
 * paths, and new pid, network, ipc, uts, mount and cgroup namespaces.
 * Unlike runc, "terminal" is false: minirun does not allocate a tty unless
 * asked to.  The rootless variant follows `runc spec --rootless`: a user
 * namespace mapping root to the caller's euid/egid, no network namespace (an
 * unprivileged user could not configure it), no uid=/gid= mount options
 * (the ids would not be mapped), /sys bind-mounted read-only from the host
 * instead of a new sysfs and cgroupfs, and no cgroup device rules. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "base/utils.h"

static json_t *
str_array (const char *const *v)
{
  json_t *a = json_array ();
  for (; *v; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

static const char *const masked_paths[] = {
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
  NULL,
};

static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

struct default_mount
{
  const char *destination, *type, *source;
  const char *options[8];
  bool sysfs; /* replaced by a bind of the host's /sys when rootless */
};

static const struct default_mount default_mounts[] = {
  { "/proc", "proc", "proc", { NULL }, false },
  { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL }, false },
  { "/dev/pts",
    "devpts",
    "devpts",
    { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL },
    false },
  { "/dev/shm", "tmpfs", "shm", { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL }, false },
  { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL }, false },
  { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL }, true },
  { "/sys/fs/cgroup", "cgroup", "cgroup", { "nosuid", "noexec", "nodev", "relatime", "ro", NULL }, true },
};

static json_t *
build_mounts (bool rootless)
{
  json_t *mounts = json_array ();

  for (size_t i = 0; i < sizeof default_mounts / sizeof default_mounts[0]; i++)
    {
      const struct default_mount *d = &default_mounts[i];
      json_t *opts, *m;

      if (rootless && d->sysfs)
        continue;
      opts = json_array ();
      for (const char *const *o = d->options; *o; o++)
        if (!rootless || (strncmp (*o, "uid=", 4) != 0 && strncmp (*o, "gid=", 4) != 0))
          json_array_append_new (opts, json_string (*o));
      m = json_pack ("{s:s, s:s, s:s}", "destination", d->destination, "type", d->type, "source", d->source);
      if (json_array_size (opts) > 0)
        json_object_set_new (m, "options", opts);
      else
        json_decref (opts);
      json_array_append_new (mounts, m);
    }
  if (rootless)
    {
      static const char *const sys_opts[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
      json_array_append_new (mounts, json_pack ("{s:s, s:s, s:s, s:o}", "destination", "/sys", "type", "none",
                                                "source", "/sys", "options", str_array (sys_opts)));
    }
  return mounts;
}

static json_t *
build_linux (bool rootless)
{
  static const char *const ns_root[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL };
  static const char *const ns_rootless[] = { "pid", "ipc", "uts", "mount", "cgroup", "user", NULL };
  json_t *lx = json_object (), *nss = json_array ();

  if (!rootless)
    json_object_set_new (lx, "resources",
                         json_pack ("{s:[{s:b, s:s}]}", "devices", "allow", 0, "access", "rwm"));
  for (const char *const *n = rootless ? ns_rootless : ns_root; *n; n++)
    json_array_append_new (nss, json_pack ("{s:s}", "type", *n));
  json_object_set_new (lx, "namespaces", nss);
  if (rootless)
    {
      json_object_set_new (
          lx, "uidMappings",
          json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)geteuid (), "size", 1));
      json_object_set_new (
          lx, "gidMappings",
          json_pack ("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t)getegid (), "size", 1));
    }
  json_object_set_new (lx, "maskedPaths", str_array (masked_paths));
  json_object_set_new (lx, "readonlyPaths", str_array (readonly_paths));
  return lx;
}

char *
mr_config_default_json (bool rootless)
{
  static const char *const args[] = { "sh", NULL };
  static const char *const env[]
      = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL };
  json_t *root, *process;
  char *dump, *out;

  process = json_pack ("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:{s:o, s:o, s:o}, s:[{s:s, s:i, s:i}], s:b}",
                       "terminal", 0, "user", "uid", 0, "gid", 0, "args", str_array (args), "env",
                       str_array (env), "cwd", "/", "capabilities", "bounding", str_array (default_caps),
                       "effective", str_array (default_caps), "permitted", str_array (default_caps),
                       "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
  root = json_pack ("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0", "process", process,
                    "root", "path", "rootfs", "readonly", 1, "hostname", "minirun", "mounts",
                    build_mounts (rootless), "linux", build_linux (rootless));
  if (root == NULL)
    return NULL;
  dump = json_dumps (root, JSON_INDENT (4) | JSON_PRESERVE_ORDER);
  json_decref (root);
  if (dump == NULL)
    return NULL;
  out = xstrdup (dump); /* ours to free () whatever allocator jansson was given */
  free (dump);
  return out;
}
