/* features.c: the OCI runtime features document (`minirun features`).
 * Pid pinning is listed under "minirun" and as an annotation, so that a
 * client can tell a runtime that would silently ignore the pins from one
 * that honours them. */
#include <stdlib.h>

#include <jansson.h>
#include <sys/capability.h>

#include "cgroup/cgroup.h"
#include "minirun/checkpoint.h"
#include "minirun/minirun.h"
#include "process/pidpin.h"
#include "ns/ns.h"

#ifdef MINIRUN_HAVE_SYSTEMD
#define SYSTEMD_DRIVER 1 /* runtime/cgroup/systemd/ talks to systemd (system and user managers) */
#else
#define SYSTEMD_DRIVER 0
#endif

static json_t *
strings (const char *const *v)
{
  json_t *a = json_array ();
  for (; *v; v++)
    json_array_append_new (a, json_string (*v));
  return a;
}

char *
mr_features_json (void)
{
  static const char *const hooks[] = { "prestart", "createRuntime", "createContainer", "startContainer",
                                       "poststart", "poststop", NULL };
  static const char *const mount_opts[] = {
    "async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "idmap", "lazytime", "mand",
    "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
    "private", "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "ridmap", "rnoatime",
    "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro",
    "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow",
    "runbindable", "rw", "shared", "slave", "strictatime", "suid", "sync", "tmpcopyup", "unbindable", NULL,
  };
  static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL };
  static const char *const actions[] = { "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                         "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE",
                                         "SCMP_ACT_TRAP", NULL };
  static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE",
                                     "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL };
  static const char *const archs[] = { "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
                                       "SCMP_ARCH_ARM", NULL };
  static const char *const flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                       "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
  json_t *caps = json_array (), *o;
  char *dump;

  for (int c = 0; c <= CAP_LAST_CAP; c++)
    {
      char *name = cap_to_name ((cap_value_t) c);
      if (name)
        {
          for (char *p = name; *p; p++)
            if (*p >= 'a' && *p <= 'z')
              *p = (char) (*p - 'a' + 'A');
          json_array_append_new (caps, json_string (name));
          cap_free (name);
        }
    }
  o = json_pack ("{s:s, s:s, s:o, s:o, s:{s:o, s:o, s:{s:b, s:b, s:b, s:b}, s:{s:b, s:o, s:o, s:o, s:o}, "
                 "s:{s:b}, s:{s:b}, s:{s:b}, s:{s:{s:b}}}, s:{s:s, s:s}, s:{s:b, s:s, s:[s,s,s], s:s, s:b}}",
                 "ociVersionMin", "1.0.0", "ociVersionMax", "1.1.0", "hooks", strings (hooks), "mountOptions",
                 strings (mount_opts), "linux", "namespaces", strings (namespaces), "capabilities", caps, "cgroup",
                 "v1", 1, "v2", 1, "systemd", SYSTEMD_DRIVER, "systemdUser", SYSTEMD_DRIVER, "seccomp", "enabled", 1, "actions",
                 strings (actions), "operators", strings (ops), "archs", strings (archs), "knownFlags",
                 strings (flags), "apparmor", "enabled", 0, "selinux", "enabled", 0, "intelRdt", "enabled", 1,
                 "mountExtensions", "idmap", "enabled", 1,
                 "annotations", "io.github.minirun.pidPinning", mr_pidpin_kernel_supported () ? "true" : "false",
                 "io.github.minirun.version", MINIRUN_VERSION, "minirun", "pidPinning",
                 mr_pidpin_kernel_supported (), "pidPinningMechanism", "clone3 set_tid", "pinFields",
                 "minirun.pids", "minirun.pidNamespaces", "minirun.processes", "annotation", "minirun.pids",
                 "legacyNsLastPid", 1);
  if (o == NULL)
    return NULL;
  /* linux.memoryPolicy, as runc and crun list it (the names the parser knows) */
  {
    static const char *const modes[] = { "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE",
                                         "MPOL_PREFERRED", "MPOL_PREFERRED_MANY", "MPOL_LOCAL", NULL };
    static const char *const mflags[] = { "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES",
                                          NULL };
    json_object_set_new (json_object_get (o, "linux"), "memoryPolicy",
                         json_pack ("{s:o, s:o}", "modes", strings (modes), "flags", strings (mflags)));
  }
  /* linux.netDevices, as runc 1.3 says it (false in the static build) */
  json_object_set_new (json_object_get (o, "linux"), "netDevices", json_pack ("{s:b}", "enabled", mr_netdev_built_in));
  /* checkpoint/restore through libcriu, as runc says it */
  json_object_set_new (json_object_get (o, "annotations"), "org.opencontainers.runc.checkpoint.enabled",
                       json_string (mr_checkpoint_built_in () ? "true" : "false"));
  json_object_set_new (json_object_get (o, "minirun"), "checkpointRestore",
                       json_pack ("{s:b, s:s, s:s}", "builtIn", mr_checkpoint_built_in (), "libcriu",
                                  mr_criu_built_version (), "criu", mr_criu_default_binary ()));
  dump = json_dumps (o, JSON_INDENT (4));
  json_decref (o);
  return dump;
}
