/* criu_dump.c: `minirun checkpoint`: a running (or paused) container into a
 * CRIU image directory, then, unless --leave-running or --pre-dump, the
 * container is deleted (CRIU has killed its processes).
 *
 * Before CRIU is asked anything, what it would fail on or silently change is
 * refused: a container in the runtime's mount namespace (CRIU restores
 * mounts only from a namespace of the container's own), a process in a pid
 * namespace nested in the container's (CRIU 4.1 cannot dump those), a joined
 * cgroup namespace, --pre-dump/--parent-path where the kernel does not track
 * memory changes.  CRIU freezes the container through its freezer cgroup; the
 * config's bind mounts, the cgroup hierarchies and the init's stdio that
 * points outside are declared external (criu_mounts.c), the namespaces
 * joined by path (network, pid) too.  minirun.json is written before the
 * dump and again at CRIU's post-dump notification, while every process is
 * still stopped, with each one's pids at every level.  A failed dump leaves
 * the container as it was (running, thawed unless it was paused). */
#ifdef MINIRUN_HAVE_CRIU
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/criu.h>
#include <jansson.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/utils.h"
#include "cgroup/cgroup.h"
#include "minirun/minirun.h"
#include "ops/criu.h"

/* What the post-dump notification needs (libcriu's callback takes no
 * context argument). */
static struct
{
  const struct mr_state *st;
  int image_fd;
  struct mr_criu_record *rec;
  mr_error_t err;
} notify_ctx;

static int
dump_notify (char *action, criu_notify_arg_t na)
{
  struct mr_criu_proc *v = NULL;
  size_t n = 0;

  (void)na;
  if (strcmp (action, "post-dump") != 0 || notify_ctx.rec == NULL)
    return 0;
  if (mr_criu_procs_collect (notify_ctx.st, &v, &n, &notify_ctx.err) < 0)
    return -1;
  mr_criu_procs_free (notify_ctx.rec->procs, notify_ctx.rec->n_procs);
  notify_ctx.rec->procs = v;
  notify_ctx.rec->n_procs = n;
  return mr_criu_record_write (notify_ctx.image_fd, notify_ctx.rec, &notify_ctx.err) < 0 ? -1 : 0;
}

static const char *
pidns_mode (const struct mr_config *c)
{
  if (!c->namespaces[MR_NS_PID].present)
    return "shared";
  return c->namespaces[MR_NS_PID].path ? "joined" : "new";
}

/* Refuse what CRIU cannot dump, naming the process. */
static int
refuse_nested (const struct mr_criu_record *rec, mr_error_t *err)
{
  for (size_t i = 1; i < rec->n_procs; i++)
    {
      const struct mr_criu_proc *p = &rec->procs[i];
      cleanup_free char *ns = NULL;
      if (p->pidns == rec->procs[0].pidns)
        continue;
      if (p->pins && *p->pins)
        ns = strndup (p->pins, strcspn (p->pins, "="));
      return mr_error_set (
          err, ENOTSUP,
          "process %s%s%s(host pid %d, pid %d inside) lives in a pid namespace%s%s%s nested in the "
          "container's: CRIU cannot checkpoint nested pid namespaces (it refuses with \"Can't "
          "dump nested pid namespace\"), so minirun does not try; a container whose "
          "minirun.processes all live in pid namespace \"container\" can be checkpointed",
          p->name ? "\"" : "", p->name ? p->name : "", p->name ? "\" " : "", (int)p->pid,
          (int)p->nspid[p->n_nspid - 1], ns ? " (\"" : "", ns ? ns : "", ns ? "\")" : "");
    }
  return 0;
}

static int
external_namespaces (const struct mr_config *c, mr_error_t *err)
{
  static const struct
  {
    enum mr_ns_type t;
    const char *criu, *key;
  } ext[] = { { MR_NS_NET, "net", MR_CRIU_EXT_NETNS }, { MR_NS_PID, "pid", MR_CRIU_EXT_PIDNS } };

  if (c->namespaces[MR_NS_CGROUP].present && c->namespaces[MR_NS_CGROUP].path)
    return mr_error_set (
        err, ENOTSUP,
        "linux.namespaces[%zu]: the container joined the cgroup namespace `%s`, and CRIU cannot "
        "restore into an existing cgroup namespace",
        c->namespaces[MR_NS_CGROUP].index, c->namespaces[MR_NS_CGROUP].path);
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
    {
      const struct mr_namespace *ns = &c->namespaces[ext[i].t];
      struct stat st;
      cleanup_free char *key = NULL;
      if (!ns->present || ns->path == NULL)
        continue;
      if (stat (ns->path, &st) < 0)
        return mr_error_set (err, errno, "linux.namespaces[%zu].path `%s`", ns->index, ns->path);
      key = xasprintf ("%s[%llu]:%s", ext[i].criu, (unsigned long long)st.st_ino, ext[i].key);
      if (criu_add_external (key) < 0)
        return mr_error_set (err, ENOMEM, "libcriu: add the external namespace %s", key);
    }
  return 0;
}

/* runc's descriptors.json: where the init's fds 0, 1, 2 pointed. */
static int
write_descriptors (int image_fd, pid_t init, mr_error_t *err)
{
  json_t *a = json_array ();
  cleanup_free char *dump = NULL;
  for (int fd = 0; fd < 3; fd++)
    {
      char path[64], link[PATH_MAX];
      ssize_t n;
      (void)snprintf (path, sizeof path, "/proc/%d/fd/%d", (int)init, fd);
      n = readlink (path, link, sizeof link - 1);
      link[n > 0 ? n : 0] = '\0';
      json_array_append_new (a, json_string (n > 0 ? link : "/dev/null"));
    }
  dump = json_dumps (a, JSON_COMPACT);
  json_decref (a);
  if (dump == NULL
      || mr_write_file_atomic (image_fd, MR_CRIU_DESCRIPTORS, dump, strlen (dump), 0600, err) < 0)
    return dump ? mr_error_wrap (err, "write %s", MR_CRIU_DESCRIPTORS)
                : mr_error_set (err, ENOMEM, "encode %s", MR_CRIU_DESCRIPTORS);
  return 0;
}

static int
parent_images (const struct mr_checkpoint_opts *o, int image_fd, mr_error_t *err)
{
  struct stat st;
  if (o->parent_path[0] == '/')
    return mr_error_set (err, EINVAL,
                         "--parent-path `%s`: must be relative to the image directory (../pre-dump)",
                         o->parent_path);
  if (fstatat (image_fd, o->parent_path, &st, 0) < 0)
    return mr_error_set (err, errno, "--parent-path `%s` (relative to --image-path `%s`)", o->parent_path,
                         o->c.image_path);
  if (!S_ISDIR (st.st_mode))
    return mr_error_set (err, ENOTDIR, "--parent-path `%s`", o->parent_path);
  if (criu_set_parent_images (o->parent_path) < 0)
    return mr_error_set (err, ENOMEM, "libcriu: criu_set_parent_images");
  return 0;
}

/* After a failed dump: the container runs on as before. */
static void
thaw_unless_paused (const struct mr_state *st, bool was_paused)
{
  struct mr_cgroup *cg = NULL;
  mr_error_t e = NULL;
  bool frozen = false;

  if (was_paused || st->cgroup_path == NULL || mr_cgroup_open (st->cgroup_path, &cg, &e) < 0)
    {
      mr_error_free (&e);
      return;
    }
  if (mr_cgroup_is_frozen (cg, &frozen, &e) == 0 && frozen && mr_cgroup_freeze (cg, false, &e) < 0)
    mr_error_warn (&e, "thaw the container after the failed checkpoint");
  mr_error_free (&e);
  mr_cgroup_free (cg);
}

static int
checkpoint_locked (const struct mr_checkpoint_opts *o, int dirfd, struct mr_state *st, enum mr_status status,
                   mr_error_t *err)
{
  cleanup_free char *data = NULL, *freezer = NULL;
  struct mr_config *c = NULL;
  struct mr_criu_session s;
  struct mr_criu_record rec;
  size_t len;
  int ret = -1;

  memset (&rec, 0, sizeof rec);
  if (mr_read_file_at (dirfd, "config.json", 4 << 20, &data, &len, err) < 0
      || mr_config_parse_data (data, len, &c, err) < 0)
    return mr_error_wrap (err, "checkpoint `%s`: the config kept in its state directory", o->c.id);
  if (!c->namespaces[MR_NS_MOUNT].present)
    {
      mr_config_free (c);
      return mr_error_set (
          err, ENOTSUP,
          "checkpoint `%s`: the container has no mount namespace of its own (it uses the "
          "runtime's), and CRIU restores a container's mounts only from a namespace of its own",
          o->c.id);
    }
  rec.id = st->id;
  rec.bundle = st->bundle;
  rec.rootfs = st->rootfs;
  rec.cgroup_path = st->cgroup_path;
  rec.created = st->created;
  rec.pidns = (char *)pidns_mode (c);
  rec.terminal = c->process.terminal;
  rec.paused = status == MR_STATUS_PAUSED;
  rec.fingerprint = mr_criu_fingerprint (c);
  if (mr_criu_procs_collect (st, &rec.procs, &rec.n_procs, err) < 0 || refuse_nested (&rec, err) < 0)
    goto out_nosession;

  if (mr_criu_begin (&o->c, true, "dump.log", &s, err) < 0)
    goto out;
  if (o->pre_dump || o->parent_path)
    {
      if (mr_criu_check_mem_track (o->pre_dump ? "--pre-dump" : "--parent-path", err) < 0)
        goto out;
      criu_set_track_mem (true);
      if (o->parent_path && parent_images (o, s.image_fd, err) < 0)
        goto out;
    }
  criu_set_pid (st->pid);
  if (criu_set_root (st->rootfs) < 0)
    {
      mr_error_set (err, ENOMEM, "libcriu: criu_set_root");
      goto out;
    }
  mr_criu_set_common (&o->c);
  criu_set_leave_running (o->leave_running);
  criu_set_tcp_skip_in_flight (o->tcp_skip_in_flight);
  criu_set_link_remap (o->link_remap);
  freezer = mr_criu_freezer_dir (st->pid, err);
  if (freezer == NULL || criu_set_freeze_cgroup (freezer) < 0)
    {
      if (freezer)
        mr_error_set (err, ENOMEM, "libcriu: criu_set_freeze_cgroup");
      goto out;
    }
  if (mr_criu_dump_externals (st->pid, c, st->rootfs, &rec, err) < 0 || external_namespaces (c, err) < 0
      || write_descriptors (s.image_fd, st->pid, err) < 0 || mr_criu_record_write (s.image_fd, &rec, err) < 0)
    goto out;
  notify_ctx.st = st;
  notify_ctx.image_fd = s.image_fd;
  notify_ctx.rec = &rec;
  notify_ctx.err = NULL;
  criu_set_notify_cb (dump_notify);
  ret = mr_criu_call (&s, o->pre_dump ? criu_pre_dump : criu_dump, o->pre_dump ? "pre-dump" : "dump", err);
  notify_ctx.rec = NULL;
  if (ret < 0)
    {
      if (notify_ctx.err)
        {
          mr_error_free (err);
          *err = notify_ctx.err;
          notify_ctx.err = NULL;
          mr_error_wrap (err, "record the checkpointed processes");
        }
      thaw_unless_paused (st, rec.paused);
    }
  mr_error_free (&notify_ctx.err);
out:
  mr_criu_end (&s);
out_nosession:
  if (ret < 0)
    mr_error_wrap (err, "checkpoint `%s`", o->c.id);
  mr_strv_free (rec.fingerprint);
  mr_criu_procs_free (rec.procs, rec.n_procs);
  for (int i = 0; i < 3; i++)
    {
      free (rec.stdio[i]);
      free (rec.stdio_path[i]);
    }
  mr_config_free (c);
  return ret < 0 ? -1 : 0;
}

int
mr_container_checkpoint (const struct mr_checkpoint_opts *o, mr_error_t *err)
{
  struct mr_state *st = NULL;
  int dirfd, ret;
  enum mr_status status;

  dirfd = mr_state_dir_open (o->c.state_root, o->c.id, true, err);
  if (dirfd < 0)
    return -1;
  if (mr_state_read (dirfd, o->c.id, &st, err) < 0)
    {
      close (dirfd);
      return -1;
    }
  status = mr_state_status (st);
  if (status != MR_STATUS_RUNNING && status != MR_STATUS_PAUSED)
    {
      mr_error_set (err, 0,
                    "cannot checkpoint container `%s`: it is %s, and only a running or paused one can be",
                    o->c.id, mr_status_name (status));
      mr_state_free (st);
      close (dirfd);
      return -1;
    }
  ret = checkpoint_locked (o, dirfd, st, status, err);
  mr_state_free (st);
  close (dirfd);
  if (ret < 0 || o->leave_running || o->pre_dump)
    return ret;
  /* as runc: what CRIU killed is deleted (cgroup, state) */
  if (mr_container_delete (o->c.state_root, o->c.id, true, err) < 0)
    return mr_error_wrap (err, "checkpoint `%s` is complete, but deleting the checkpointed container failed",
                          o->c.id);
  return 0;
}
#endif
