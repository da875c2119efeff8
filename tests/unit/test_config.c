/* test_config.c: the config parser on valid input: a config using every field
 * minirun reads (tests/configs/valid-full.json) checked value by value, the
 * minimal config, the pin annotation, integers above INT64_MAX, a
 * standalone process file, the pin-list string syntax, and the default
 * `minirun spec` configs parsed back.  Errors are in test_config_errors.c.
 * Prints "N passed, M failed", exits 1 on failure (harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "minirun/config.h"

static char *
fixture (const char *name)
{
  const char *slash = strrchr (__FILE__, '/');
  int dirlen = slash ? (int)(slash - __FILE__) : 1;
  char *p = NULL;
  if (asprintf (&p, "%.*s/../configs/%s", dirlen, slash ? __FILE__ : ".", name) < 0)
    abort ();
  return p;
}

static struct mr_config *
parse_fixture (const char *name)
{
  char *path = fixture (name);
  struct mr_config *c = NULL;
  mr_error_t err = NULL;
  if (mr_config_parse_file (path, &c, &err) < 0)
    {
      fprintf (stderr, "parse %s: %s\n", path, err->msg);
      mr_error_free (&err);
      c = NULL;
    }
  free (path);
  return c;
}

static uint64_t
capbit (const char *name)
{
  cap_value_t v;
  if (cap_from_name (name, &v) != 0)
    abort ();
  return UINT64_C (1) << v;
}

static void
test_full_process (const struct mr_config *c)
{
  const struct mr_process *p = &c->process;

  CHECK_STR (c->oci_version, "1.1.0");
  CHECK_STR (c->root_path, "rootfs");
  CHECK (c->root_readonly);
  CHECK_STR (c->hostname, "box");
  CHECK_STR (c->domainname, "example.org");
  CHECK (c->has_process);
  CHECK (p->terminal);
  CHECK (p->has_console_size && p->console_height == 25 && p->console_width == 80);
  CHECK_STR (p->cwd, "/work");
  CHECK (p->n_args == 3 && p->args[3] == NULL);
  CHECK_STR (p->args[2], "echo hello");
  CHECK (p->n_env == 3 && p->env[3] == NULL);
  CHECK_STR (p->env[2], "EMPTY=");
  CHECK (p->user.uid == 1000 && p->user.gid == 1001);
  CHECK (p->user.has_umask && p->user.umask == 022);
  CHECK (p->user.n_additional_gids == 3 && p->user.additional_gids[2] == 7);
  CHECK_STR (p->user.username, "alice");
  CHECK (p->has_capabilities);
  CHECK (p->capabilities.bounding
         == (capbit ("cap_sys_admin") | capbit ("cap_kill") | capbit ("cap_net_bind_service")));
  CHECK (p->capabilities.effective == capbit ("cap_kill"));
  CHECK (p->capabilities.inheritable == capbit ("cap_chown"));
  CHECK (p->capabilities.permitted == (capbit ("cap_kill") | capbit ("cap_net_bind_service")));
  CHECK (p->capabilities.ambient == capbit ("cap_net_bind_service"));
  CHECK (p->n_rlimits == 2);
  CHECK_STR (p->rlimits[0].type, "RLIMIT_NOFILE");
  CHECK (p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096);
  CHECK (p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].hard == 0);
  CHECK (p->no_new_privileges);
  CHECK (p->has_oom_score_adj && p->oom_score_adj == -500);
  CHECK_STR (p->apparmor_profile, "minirun-default");
  CHECK_STR (p->selinux_label, "system_u:system_r:container_t:s0");
}

static void
test_full_mounts_hooks (const struct mr_config *c)
{
  const struct mr_mount *m;

  CHECK (c->n_mounts == 5);
  m = &c->mounts[0];
  CHECK_STR (m->destination, "/proc");
  CHECK_STR (m->type, "proc");
  CHECK (m->n_options == 0 && m->flags == 0 && !m->bind && m->data == NULL);
  m = &c->mounts[1];
  CHECK (m->flags == (MS_NOSUID | MS_STRICTATIME));
  CHECK_STR (m->data, "mode=755,size=65536k");
  CHECK (m->n_options == 4);
  m = &c->mounts[2]; /* rbind ro rw nodev rslave rro rnoatime */
  CHECK (m->bind && m->recursive);
  CHECK (m->flags == MS_NODEV);
  CHECK (m->clear_flags == MS_RDONLY);
  CHECK (m->propagation == MR_PROP_RSLAVE);
  CHECK (m->n_rattrs == 2 && m->rattrs[0].option == 5 && m->rattrs[0].set == MOUNT_ATTR_RDONLY
         && m->rattrs[0].clr == 0);
  CHECK (m->rattrs[1].option == 6 && m->rattrs[1].set == MOUNT_ATTR_NOATIME
         && m->rattrs[1].clr == MOUNT_ATTR__ATIME);
  CHECK (!m->tmpcopyup && !m->idmap);
  CHECK (m->data == NULL);
  CHECK_STR (m->source, "/srv/data");
  m = &c->mounts[3];
  CHECK (m->type == NULL && m->bind && !m->recursive);
  CHECK (m->propagation == MR_PROP_PRIVATE);
  CHECK (m->flags == (MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME | MS_REMOUNT));
  CHECK (m->clear_flags == (MS_NOEXEC | MS_NOSUID | MS_NODEV | MS_NOATIME | MS_NODIRATIME | MS_RELATIME));
  CHECK (m->n_rattrs == 1 && m->rattrs[0].option == 17 && m->rattrs[0].set == 0
         && m->rattrs[0].clr == MOUNT_ATTR_RDONLY);
  m = &c->mounts[4];
  CHECK (m->flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY));
  CHECK (m->propagation == MR_PROP_UNBINDABLE);

  CHECK (c->n_hooks[MR_HOOK_PRESTART] == 1);
  CHECK_STR (c->hooks[MR_HOOK_PRESTART][0].path, "/usr/bin/prestart");
  CHECK (c->hooks[MR_HOOK_PRESTART][0].n_args == 2 && c->hooks[MR_HOOK_PRESTART][0].n_env == 1);
  CHECK (c->hooks[MR_HOOK_PRESTART][0].has_timeout && c->hooks[MR_HOOK_PRESTART][0].timeout == 5);
  CHECK (c->n_hooks[MR_HOOK_CREATE_RUNTIME] == 2);
  CHECK (!c->hooks[MR_HOOK_CREATE_RUNTIME][1].has_timeout
         && c->hooks[MR_HOOK_CREATE_RUNTIME][1].args == NULL);
  CHECK (c->n_hooks[MR_HOOK_CREATE_CONTAINER] == 1 && c->n_hooks[MR_HOOK_START_CONTAINER] == 1);
  CHECK (c->n_hooks[MR_HOOK_POSTSTART] == 1 && c->hooks[MR_HOOK_POSTSTART][0].timeout == 1);
  CHECK_STR (c->hooks[MR_HOOK_POSTSTOP][0].args[0], "pstop");
  CHECK (c->n_annotations == 2);
  CHECK_STR (c->annotations[0].key, "org.example.key");
  CHECK_STR (c->annotations[1].value, "v2");
}

static void
test_full_linux (const struct mr_config *c)
{
  for (int t = 0; t < MR_NS_COUNT; t++)
    CHECK (c->namespaces[t].present);
  CHECK_STR (c->namespaces[MR_NS_NET].path, "/var/run/netns/x");
  CHECK (c->namespaces[MR_NS_PID].path == NULL);
  CHECK (c->n_uid_mappings == 1 && c->uid_mappings[0].host_id == 100000 && c->uid_mappings[0].size == 65536);
  CHECK (c->n_gid_mappings == 2 && c->gid_mappings[1].container_id == 65536
         && c->gid_mappings[1].host_id == 5);
  CHECK (c->n_devices == 3);
  CHECK_STR (c->devices[0].path, "/dev/fuse");
  CHECK (c->devices[0].type == 'c' && c->devices[0].major == 10 && c->devices[0].minor == 229);
  CHECK (c->devices[0].has_file_mode && c->devices[0].file_mode == 0666);
  CHECK (c->devices[0].has_uid && c->devices[0].has_gid && c->devices[0].uid == 0);
  CHECK (c->devices[1].type == 'b' && !c->devices[1].has_file_mode && !c->devices[1].has_uid);
  CHECK (c->devices[2].type == 'p');
  CHECK_STR (c->cgroups_path, "/minirun/test");
  CHECK (c->n_sysctl == 2);
  CHECK_STR (c->sysctl[0].key, "net.ipv4.ip_forward");
  CHECK_STR (c->sysctl[1].value, "4294967296");
  CHECK (c->n_net_devices == 2);
  CHECK_STR (c->net_devices[0].host_name, "eth9");
  CHECK_STR (c->net_devices[0].name, "ceth0");
  CHECK_STR (c->net_devices[1].host_name, "enp0s3");
  CHECK (c->net_devices[1].name == NULL);
  CHECK (c->rootfs_propagation == MR_PROP_RSLAVE);
  CHECK (c->n_masked_paths == 2 && c->masked_paths[2] == NULL);
  CHECK_STR (c->readonly_paths[1], "/proc/sysrq-trigger");
  CHECK_STR (c->mount_label, "system_u:object_r:container_file_t:s0");
  CHECK (c->time_offsets.present && c->time_offsets.monotonic_secs == -86400);
  CHECK (c->time_offsets.monotonic_nsecs == 500 && c->time_offsets.boottime_secs == 3600);
  CHECK (c->intel_rdt.present);
  CHECK_STR (c->intel_rdt.clos_id, "clos1");
  CHECK_STR (c->personality_domain, "LINUX32");
}

static void
test_full_resources (const struct mr_config *c)
{
  const struct mr_resources *r = &c->resources;

  CHECK (r->present);
  CHECK (r->memory.limit.set && r->memory.limit.v == 536870912);
  CHECK (r->memory.reservation.set && r->memory.reservation.v == 268435456);
  CHECK (r->memory.swap.set && r->memory.swap.v == -1);
  CHECK (r->memory.kernel.v == 1000 && r->memory.kernel_tcp.v == 2000);
  CHECK (r->memory.swappiness.set && r->memory.swappiness.v == 60);
  CHECK (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer);
  CHECK (r->memory.has_use_hierarchy && !r->memory.use_hierarchy);
  CHECK (r->memory.has_check_before_update && r->memory.check_before_update);
  CHECK (r->cpu.shares.v == 1024 && r->cpu.quota.v == 50000 && r->cpu.burst.v == 1000
         && r->cpu.period.v == 100000);
  CHECK (r->cpu.realtime_runtime.v == 950000 && r->cpu.realtime_period.v == 1000000 && r->cpu.idle.v == 1);
  CHECK_STR (r->cpu.cpus, "0-1");
  CHECK_STR (r->cpu.mems, "0");
  CHECK (r->pids.limit.set && r->pids.limit.v == 64);
  CHECK (r->block_io.weight.v == 500 && r->block_io.leaf_weight.v == 300);
  CHECK (r->block_io.n_weight_device == 2 && r->block_io.weight_device[0].weight.v == 600);
  CHECK (r->block_io.weight_device[0].leaf_weight.set && !r->block_io.weight_device[1].weight.set);
  CHECK (r->block_io.weight_device[1].minor == 16);
  CHECK (r->block_io.n_throttle_read_bps == 1 && r->block_io.throttle_read_bps[0].rate == 104857600);
  CHECK (r->block_io.n_throttle_write_bps == 1 && r->block_io.throttle_write_bps[0].rate == 52428800);
  CHECK (r->block_io.n_throttle_read_iops == 1 && r->block_io.throttle_read_iops[0].rate == 1000);
  CHECK (r->block_io.n_throttle_write_iops == 2 && r->block_io.throttle_write_iops[1].rate == 7);
  CHECK (r->n_hugepage_limits == 2 && r->hugepage_limits[0].limit == 209715200);
  CHECK_STR (r->hugepage_limits[1].page_size, "1GB");
  CHECK (r->n_devices == 4);
  CHECK (!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1
         && r->devices[0].minor == -1);
  CHECK_STR (r->devices[0].access, "rwm");
  CHECK_STR (r->devices[1].access, "rwm"); /* "mwr" normalised */
  CHECK (r->devices[1].type == 'c' && r->devices[1].major == 1 && r->devices[1].minor == 3);
  CHECK_STR (r->devices[2].access, "rwm"); /* default */
  CHECK (r->devices[2].minor == -1);
  CHECK_STR (r->devices[3].access, "rw");
  CHECK (r->network.class_id.set && r->network.class_id.v == 1048577);
  CHECK (r->network.n_priorities == 2 && r->network.priorities[1].priority == 1);
  CHECK_STR (r->network.priorities[0].name, "eth0");
  CHECK (r->n_rdma == 2);
  CHECK_STR (r->rdma[0].device, "mlx5_1");
  CHECK (r->rdma[0].hca_handles.v == 3 && r->rdma[0].hca_objects.v == 10000);
  CHECK (!r->rdma[1].hca_handles.set && r->rdma[1].hca_objects.v == 5);
  CHECK (r->n_unified == 2);
  CHECK_STR (r->unified[0].value, "default 100");
}

static void
test_full_seccomp (const struct mr_config *c)
{
  const struct mr_seccomp *s = &c->seccomp;

  CHECK (s->present && s->default_action == MR_SECCOMP_ERRNO);
  CHECK (s->has_default_errno_ret && s->default_errno_ret == 1);
  CHECK (s->n_architectures == 3);
  CHECK_STR (s->architectures[2], "SCMP_ARCH_X32");
  CHECK (s->n_flags == 1);
  CHECK_STR (s->listener_path, "/run/seccomp-agent.sock");
  CHECK_STR (s->listener_metadata, "meta");
  CHECK (s->n_syscalls == 6);
  CHECK (s->syscalls[0].n_names == 3 && s->syscalls[0].action == MR_SECCOMP_ALLOW);
  CHECK (s->syscalls[1].n_args == 2);
  CHECK (s->syscalls[1].args[0].index == 0 && s->syscalls[1].args[0].value == 8
         && s->syscalls[1].args[0].op == MR_SECCOMP_OP_EQ);
  CHECK (s->syscalls[1].args[1].value_two == 4 && s->syscalls[1].args[1].op == MR_SECCOMP_OP_MASKED_EQ);
  CHECK (s->syscalls[2].has_errno_ret && s->syscalls[2].errno_ret == 38);
  CHECK (s->syscalls[3].action == MR_SECCOMP_NOTIFY);
  CHECK (s->syscalls[4].action == MR_SECCOMP_KILL_PROCESS);
  CHECK_STR (s->syscalls[5].names[0], "not_a_real_syscall");
  CHECK (s->syscalls[5].action == MR_SECCOMP_LOG);
}

static void
test_full_pins (const struct mr_config *c)
{
  const struct mr_pin_config *pc = &c->pins;

  CHECK (pc->n_init_pins == 2 && !pc->init_pins_from_annotation);
  CHECK_STR (pc->init_pins[0].ns, "host");
  CHECK (pc->init_pins[0].pid == 42000 && pc->init_pins[1].pid == 1);
  CHECK (pc->n_pid_namespaces == 3);
  CHECK_STR (pc->pid_namespaces[1].name, "deeper");
  CHECK_STR (pc->pid_namespaces[1].parent, "inner");
  CHECK_STR (pc->pid_namespaces[2].parent, "container"); /* default */
  CHECK (pc->n_processes == 3);
  CHECK_STR (pc->processes[0].name, "worker");
  CHECK_STR (pc->processes[0].parent, "init");
  CHECK_STR (pc->processes[0].pid_ns, "container");
  CHECK (pc->processes[0].n_pins == 2 && pc->processes[0].pins[1].pid == 42010);
  CHECK (pc->processes[0].env == NULL && pc->processes[0].cwd == NULL && !pc->processes[0].has_user);
  CHECK_STR (pc->processes[1].parent, "init");
  CHECK_STR (pc->processes[1].pid_ns, "inner");
  CHECK_STR (pc->processes[1].cwd, "/tmp");
  CHECK (pc->processes[1].n_env == 1 && pc->processes[1].has_user && pc->processes[1].user.uid == 5);
  CHECK_STR (pc->processes[2].parent, "inner-init");
  CHECK (pc->processes[2].n_pins == 3 && pc->processes[2].pins[2].pid == MR_PID_ANY);
  CHECK_STR (pc->processes[2].pins[2].ns, "host");
  CHECK (pc->processes[2].n_args == 2);
  CHECK (pc->legacy_ns_last_pid);
}

static void
test_minimal_and_annotation (void)
{
  struct mr_config *c = parse_fixture ("valid-minimal.json");

  CHECK (c != NULL);
  if (c)
    {
      CHECK (!c->has_process && c->process.args == NULL);
      CHECK (!c->root_readonly && c->n_mounts == 0 && !c->resources.present && !c->seccomp.present);
      CHECK (!c->namespaces[MR_NS_PID].present && c->pins.n_init_pins == 0 && c->pins.processes == NULL);
      mr_config_free (c);
    }
  c = parse_fixture ("valid-annotation-pins.json");
  CHECK (c != NULL);
  if (c)
    {
      CHECK (c->pins.init_pins_from_annotation && c->pins.n_init_pins == 2);
      CHECK_STR (c->pins.init_pins[0].ns, "host");
      CHECK (c->pins.init_pins[0].pid == 42000);
      CHECK_STR (c->pins.init_pins[1].ns, "container");
      CHECK (c->pins.init_pins[1].pid == 1);
      mr_config_free (c);
    }
  c = parse_fixture ("valid-big-rlimit.json");
  CHECK (c != NULL);
  if (c)
    {
      CHECK (c->process.n_rlimits == 1 && c->process.rlimits[0].soft == UINT64_MAX);
      CHECK (c->process.rlimits[0].hard == UINT64_MAX);
      mr_config_free (c);
    }
}

static void
test_process_file (void)
{
  char *path = fixture ("process.json");
  struct mr_process *p = NULL;
  mr_error_t err = NULL;

  CHECK (mr_process_parse_file (path, &p, &err) == 0);
  if (p)
    {
      CHECK_STR (p->cwd, "/tmp");
      CHECK (p->n_args == 2 && p->user.uid == 1 && p->user.gid == 2 && p->no_new_privileges);
      CHECK (p->has_capabilities && p->capabilities.bounding == capbit ("cap_chown"));
      mr_process_free (p);
    }
  mr_error_free (&err);
  free (path);
}

static void
test_pin_strings (void)
{
  struct mr_pin *pins = NULL;
  size_t n = 0;
  mr_error_t err = NULL;

  CHECK (mr_pins_parse_string ("host=42000,container=1", "test", &pins, &n, &err) == 0);
  CHECK (n == 2 && pins[0].pid == 42000 && pins[1].pid == 1);
  CHECK_STR (pins[1].ns, "container");
  mr_pins_free (pins, n);
  pins = NULL;
  CHECK (mr_pins_parse_string (" inner = 7 , host=any ", "test", &pins, &n, &err) == 0);
  CHECK (n == 2 && pins[0].pid == 7 && pins[1].pid == MR_PID_ANY);
  CHECK_STR (pins[0].ns, "inner");
  mr_pins_free (pins, n);
  CHECK (err == NULL);
}

static void
test_default_spec (bool rootless)
{
  char *json = mr_config_default_json (rootless);
  struct mr_config *c = NULL;
  mr_error_t err = NULL;

  CHECK (json != NULL);
  if (json == NULL)
    return;
  CHECK (strstr (json, "\n    \"ociVersion\": \"1.1.0\"") != NULL); /* 4-space indent */
  CHECK (mr_config_parse_data (json, strlen (json), &c, &err) == 0);
  if (err)
    fprintf (stderr, "default spec: %s\n", err->msg);
  mr_error_free (&err);
  if (c)
    {
      const struct mr_mount *pts = NULL, *sys = NULL;
      CHECK_STR (c->root_path, "rootfs");
      CHECK (c->root_readonly && c->has_process && !c->process.terminal);
      CHECK_STR (c->process.args[0], "sh");
      CHECK_STR (c->process.env[1], "TERM=xterm");
      CHECK (c->process.capabilities.bounding
             == (capbit ("cap_audit_write") | capbit ("cap_kill") | capbit ("cap_net_bind_service")));
      CHECK (c->process.capabilities.ambient == 0 && c->process.capabilities.inheritable == 0);
      CHECK (c->process.n_rlimits == 1 && c->process.rlimits[0].hard == 1024 && c->process.no_new_privileges);
      CHECK_STR (c->hostname, "minirun");
      CHECK (c->n_masked_paths == 10 && c->n_readonly_paths == 5);
      for (size_t i = 0; i < c->n_mounts; i++)
        {
          if (strcmp (c->mounts[i].destination, "/dev/pts") == 0)
            pts = &c->mounts[i];
          if (strcmp (c->mounts[i].destination, "/sys") == 0)
            sys = &c->mounts[i];
        }
      CHECK (pts != NULL && sys != NULL);
      CHECK (c->namespaces[MR_NS_PID].present && c->namespaces[MR_NS_MOUNT].present);
      CHECK (c->namespaces[MR_NS_CGROUP].present && c->namespaces[MR_NS_IPC].present);
      if (!rootless)
        {
          CHECK (c->n_mounts == 7);
          CHECK (c->namespaces[MR_NS_NET].present && !c->namespaces[MR_NS_USER].present);
          CHECK (c->resources.n_devices == 1 && !c->resources.devices[0].allow);
          if (pts)
            CHECK_STR (pts->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
          if (sys)
            CHECK (!sys->bind && sys->flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
        }
      else
        {
          CHECK (c->n_mounts == 6);
          CHECK (!c->namespaces[MR_NS_NET].present && c->namespaces[MR_NS_USER].present);
          CHECK (c->n_uid_mappings == 1 && c->uid_mappings[0].host_id == geteuid ());
          CHECK (c->n_gid_mappings == 1 && c->gid_mappings[0].host_id == getegid ());
          CHECK (!c->resources.present);
          if (pts)
            CHECK_STR (pts->data, "newinstance,ptmxmode=0666,mode=0620");
          if (sys)
            CHECK (sys->bind && sys->recursive && (sys->flags & MS_RDONLY));
        }
      mr_config_free (c);
    }
  free (json);
}

int
main (void)
{
  struct mr_config *c = parse_fixture ("valid-full.json");

  CHECK (c != NULL);
  if (c)
    {
      test_full_process (c);
      test_full_mounts_hooks (c);
      test_full_linux (c);
      test_full_resources (c);
      test_full_seccomp (c);
      test_full_pins (c);
      mr_config_free (c);
    }
  test_minimal_and_annotation ();
  test_process_file ();
  test_pin_strings ();
  test_default_spec (false);
  test_default_spec (true);
  CHECK_STR (mr_ns_type_name (MR_NS_NET), "network");
  CHECK_STR (mr_ns_type_name (MR_NS_TIME), "time");
  CHECK_STR (mr_ns_type_name (MR_NS_PID), "pid");

  return harness_summary ();
}
