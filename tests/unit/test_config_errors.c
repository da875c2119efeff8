/* test_config_errors.c: every class of bad config is rejected with a message
 * naming the JSON path, the bad value and what was expected: bad JSON (line
 * and column), missing files, wrong types, missing required fields, bad
 * mounts, namespaces, capabilities, rlimits, seccomp, resources, hooks and
 * pins.  Configs are written with single quotes for readability and turned
 * into JSON before parsing.  Prints "N passed, M failed", exits 1 on
 * failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "minirun/config.h"

#define BASE "'ociVersion': '1.1.0', 'root': {'path': 'rootfs'}"
#define PROC "'process': {'cwd': '/', 'args': ['sh']"

static char *
dequote (const char *s)
{
  char *r = strdup (s);
  if (r == NULL)
    abort ();
  for (char *p = r; *p; p++)
    if (*p == '\'')
      *p = '"';
  return r;
}

/* Parse `json` (single quotes allowed) and require failure with `needle` in the message. */
static void
expect_error_at (int line, const char *json, const char *needle)
{
  char *data = dequote (json);
  struct mr_config *c = NULL;
  mr_error_t err = NULL;
  int r = mr_config_parse_data (data, strlen (data), &c, &err);

  if (r == 0 || err == NULL || strstr (err->msg, needle) == NULL)
    harness_fail ("%s:%d: expected an error containing\n    %s\n  got %s\n    %s\n", __FILE__, line, needle,
                  r == 0 ? "success" : "error", err ? err->msg : "(no message)");
  else
    harness_pass ();
  if (r == 0)
    mr_config_free (c);
  mr_error_free (&err);
  free (data);
}
#define EXPECT_ERROR(json, needle) expect_error_at (__LINE__, json, needle)

static void
expect_ok_at (int line, const char *json)
{
  char *data = dequote (json);
  struct mr_config *c = NULL;
  mr_error_t err = NULL;

  if (mr_config_parse_data (data, strlen (data), &c, &err) < 0)
    harness_fail ("%s:%d: expected success, got %s\n", __FILE__, line, err->msg);
  else
    harness_pass ();
  mr_config_free (c);
  mr_error_free (&err);
  free (data);
}
#define EXPECT_OK(json) expect_ok_at (__LINE__, json)

/* Parse tests/configs/<name> (a process file if `process`) and require
 * failure with `needle` in the message. */
static void
expect_file_error_at (int line, const char *name, bool process, const char *needle)
{
  const char *dir = __FILE__;
  struct mr_config *c = NULL;
  struct mr_process *p = NULL;
  mr_error_t err = NULL;
  char *path = NULL;
  int r;

  if (asprintf (&path, "%.*s/../configs/%s", (int)(strrchr (dir, '/') - dir), dir, name) < 0)
    abort ();
  r = process ? mr_process_parse_file (path, &p, &err) : mr_config_parse_file (path, &c, &err);
  if (r == 0 || err == NULL || strstr (err->msg, needle) == NULL)
    harness_fail ("%s:%d: %s: %s\n", __FILE__, line, name, err ? err->msg : "success");
  else
    harness_pass ();
  if (r == 0)
    {
      mr_config_free (c);
      mr_process_free (p);
    }
  mr_error_free (&err);
  free (path);
}
#define EXPECT_FILE_ERROR(name, process, needle) expect_file_error_at (__LINE__, name, process, needle)

static void
test_json_and_files (void)
{
  struct mr_config *c = NULL;
  mr_error_t err = NULL;

  EXPECT_ERROR ("{\n    'ociVersion': '1.1.0',\n    'root': {'path': 'rootfs',}\n}",
                "config.json:3:31: invalid JSON: ");
  EXPECT_ERROR ("{'ociVersion': '1.1.0', 'root': {'path': 'x'}, 'hostname': 'a',\n 'hostname': 'b'}",
                "config.json:2:");
  EXPECT_ERROR ("{'ociVersion': '1.1.0'", "config.json:1:");
  EXPECT_ERROR ("[1, 2]", "config.json: top level: expected an object, got an array");

  if (mr_config_parse_file ("/nonexistent-minirun-dir/config.json", &c, &err) == 0 || err == NULL
      || strcmp (err->msg, "open `/nonexistent-minirun-dir/config.json`: No such file or directory") != 0)
    harness_fail ("%s:%d: missing file: %s\n", __FILE__, __LINE__, err ? err->msg : "success");
  else
    harness_pass ();
  mr_error_free (&err);

  /* A file: errors carry its path. */
  EXPECT_FILE_ERROR ("bad-namespace.json", false,
                     "bad-namespace.json: linux.namespaces[0].type: unknown namespace type \"pidx\" "
                     "(expected one of pid, network, mount, ipc, uts, user, cgroup, time)");
  EXPECT_FILE_ERROR ("bad-json.json", false, "bad-json.json:3:31: invalid JSON: ");
  EXPECT_FILE_ERROR ("bad-process.json", true,
                     "bad-process.json: process.cwd: \"tmp\" is not an absolute path");
}

static void
test_types_and_required (void)
{
  EXPECT_ERROR ("{" BASE ", 'process': {'cwd': '/', 'args': ['a', 5]}}",
                "config.json: process.args[1]: expected a string, got integer 5");
  EXPECT_ERROR ("{'root': {'path': 'rootfs'}}", "config.json: ociVersion: required field is missing");
  EXPECT_ERROR ("{'ociVersion': 1, 'root': {'path': 'rootfs'}}",
                "ociVersion: expected a string, got integer 1");
  EXPECT_ERROR ("{'ociVersion': '1.1.0'}", "config.json: root: required field is missing");
  EXPECT_ERROR ("{'ociVersion': '1.1.0', 'root': {'readonly': true}}",
                "root.path: required field is missing");
  EXPECT_ERROR ("{'ociVersion': '1.1.0', 'root': {'path': 'r', 'readonly': 'yes'}}",
                "root.readonly: expected a boolean, got string \"yes\"");
  EXPECT_ERROR ("{" BASE ", 'process': {'args': ['sh']}}", "process.cwd: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'process': {'cwd': 'home', 'args': ['sh']}}",
                "process.cwd: \"home\" is not an absolute path");
  EXPECT_ERROR ("{" BASE ", 'process': {'cwd': '/'}}", "process.args: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'process': {'cwd': '/', 'args': []}}", "process.args: is empty");
  EXPECT_ERROR ("{" BASE ", 'process': {'cwd': '/', 'args': 'sh'}}",
                "process.args: expected an array, got string \"sh\"");
  EXPECT_ERROR ("{" BASE ", 'process': 7}", "process: expected an object, got integer 7");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'env': ['PATH=/bin', 'NOEQUALS']}}",
                "process.env[1]: \"NOEQUALS\" is not an environment entry (expected \"NAME=value\")");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'user': {'uid': -1}}}", "process.user.uid: -1 is negative");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'user': {'uid': 0, 'additionalGids': [1, 'x']}}}",
                "process.user.additionalGids[1]: expected a non-negative integer, got string \"x\"");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'oomScoreAdj': 5000}}",
                "process.oomScoreAdj: integer 5000 is out of range (expected an integer in -1000..1000)");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'oomScoreAdj': 1.5}}",
                "process.oomScoreAdj: expected an integer, got number 1.5");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'terminal': 1}}",
                "process.terminal: expected a boolean, got integer 1");
  EXPECT_ERROR ("{" BASE ", 'annotations': {'a.b': 1}}",
                "annotations[\"a.b\"]: expected a string, got integer 1");
  EXPECT_ERROR ("{" BASE ", 'linux': {'sysctl': {'net.ipv4.ip_forward': true}}}",
                "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got boolean true");
#define NETNS "'namespaces': [{'type': 'network'}]"
  EXPECT_ERROR ("{" BASE ", 'linux': {" NETNS ", 'netDevices': {'eth9': {'name': 'a/b'}}}}",
                "linux.netDevices[\"eth9\"]: name \"a/b\" is not a valid interface name: it contains '/', ':' or "
                "white space");
  EXPECT_ERROR ("{" BASE ", 'linux': {" NETNS ", 'netDevices': {'eth9': {'name': 'abcdefghijklmnop'}}}}",
                "linux.netDevices[\"eth9\"]: name \"abcdefghijklmnop\" is not a valid interface name: it is longer "
                "than 15 bytes (IFNAMSIZ - 1)");
  EXPECT_ERROR ("{" BASE ", 'linux': {" NETNS ", 'netDevices': {'e%d': {}}}}",
                "linux.netDevices[\"e%d\"]: \"e%d\" is not a valid interface name: a host interface name cannot "
                "contain '%'");
  EXPECT_ERROR ("{" BASE ", 'linux': {" NETNS ", 'netDevices': {'eth8': {'name': 'c0'}, 'eth9': {'name': 'c0'}}}}",
                "linux.netDevices[\"eth9\"]: would be named \"c0\" in the container, as "
                "linux.netDevices[\"eth8\"] would: give each a different \"name\"");
  EXPECT_ERROR ("{" BASE ", 'linux': {'netDevices': {'eth9': {}}}}",
                "linux.netDevices: the container has no network namespace of its own, and moving the devices would "
                "take them from the host into the host: add {\"type\": \"network\"} to linux.namespaces");
  EXPECT_OK ("{" BASE ", 'linux': {" NETNS ", 'netDevices': {'eth8': {'name': 'c%d'}, 'eth9': {'name': 'c%d'}}}}");
  /* unknown fields are ignored, null counts as absent */
  EXPECT_OK ("{" BASE ", 'futureField': [1, 2], 'linux': {'futureLinux': {}}, 'hostname': null}");
  EXPECT_OK ("{" BASE ", " PROC ", 'integral': 5.0, 'oomScoreAdj': 5.0}}");
}

static void
test_mounts (void)
{
  /* a relative destination is relative to "/" (a warning), an empty one an error */
  EXPECT_OK ("{" BASE ", 'mounts': [{'destination': '/proc'}, {'destination': '/a'}, {'destination': 'tmp'}]}");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': ''}]}", "mounts[0]: destination is empty");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'type': 'tmpfs'}]}",
                "mounts[0].destination: required field is missing");
  /* idmapped mounts: mappings of their own, or the container's user namespace's */
#define MAP1 "[{'containerID': 0, 'hostID': 1000, 'size': 1}]"
#define USERNS ", 'linux': {'namespaces': [{'type': 'user'}], 'uidMappings': " MAP1 ", 'gidMappings': " MAP1 "}"
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['ro', 'idmap']}]}",
                "mounts[0].options[1]: \"idmap\" without mounts[0].uidMappings and gidMappings takes the "
                "mappings of the container's user namespace, and the container has none");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['ridmap']}]}",
                "mounts[0].options[0]: \"ridmap\" without mounts[0].uidMappings");
  EXPECT_OK ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['rbind', 'ridmap']}]" USERNS "}");
  EXPECT_OK ("{" BASE ", 'mounts': [{'destination': '/a', 'uidMappings': [], 'gidMappings': []}]}");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'uidMappings': " MAP1 "}]}",
                "mounts[0].uidMappings: is given without gidMappings (an idmapped mount needs both)");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'gidMappings': " MAP1 "}]}",
                "mounts[0].gidMappings: is given without uidMappings");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'uidMappings': [{'containerID': 0, 'hostID': 1}], "
                "'gidMappings': " MAP1 "}]}",
                "mounts[0].uidMappings[0].size: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'uidMappings': " MAP1 ", 'gidMappings': "
                "[{'containerID': 0, 'hostID': 1, 'size': 0}]}]}",
                "mounts[0].gidMappings[0].size: is 0");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap', 'ridmap']}]}",
                "mounts[0].options[1]: \"ridmap\" after \"idmap\" (options[0]): give one idmap option");
  /* crun's form: uids=/gids= triplets, '@' for ids of the container's user namespace */
  EXPECT_OK (
      "{" BASE
      ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=0-1000-10#10-2000-5;gids=0-1000-1']}]}");
  EXPECT_OK ("{" BASE
             ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=@0-0-1;gids=@0-0-1']}]" USERNS "}");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=0-1000']}]}",
                "mounts[0].options[0]: uids: expected container-host-size triplets like 0-1000-10, got \"\"");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=0-1-1x']}]}",
                "mounts[0].options[0]: uids: unexpected \"x\" after a triplet");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=0-99999999999-1']}]}",
                "mounts[0].options[0]: uids: id \"99999999999\" is out of range");
  EXPECT_ERROR (
      "{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=users=0-1-1']}]}",
      "mounts[0].options[0]: expected \"uids=...\" or \"gids=...\" (';'-separated), got \"users=0-1-1\"");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=0-1-1;uids=1-2-1']}]}",
                "mounts[0].options[0]: \"uids=\" is given twice");
  EXPECT_ERROR (
      "{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=gids=@0-0-1']}]}",
      "mounts[0].options[0]: gids: \"@0\" (1 ids) is not inside one range of linux.gidMappings, which "
      "is empty");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': ['idmap=uids=@0-5-1']}]" USERNS "}",
                "mounts[0].options[0]: uids: \"@5\" (1 ids) is not inside one range of linux.uidMappings (an id");
  /* tmpcopyup is for a tmpfs (as in crun) */
  EXPECT_OK ("{" BASE ", 'mounts': [{'destination': '/a', 'type': 'tmpfs', 'options': ['tmpcopyup']}]}");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'type': 'bind', 'source': '/x', 'options': ['rbind', "
                "'tmpcopyup']}]}",
                "mounts[0].options[1]: \"tmpcopyup\" is for a mount of type tmpfs (this one is a bind mount)");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'type': 'proc', 'options': ['tmpcopyup']}]}",
                "mounts[0].options[0]: \"tmpcopyup\" is for a mount of type tmpfs (this one is of type \"proc\")");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'options': 'ro'}]}",
                "mounts[0].options: expected an array, got string \"ro\"");
  EXPECT_ERROR ("{" BASE ", 'mounts': {'destination': '/a'}}", "mounts: expected an array, got an object");
  EXPECT_ERROR ("{" BASE ", 'mounts': [{'destination': '/a', 'type': 5}]}",
                "mounts[0].type: expected a string, got integer 5");
}

static void
test_linux (void)
{
  EXPECT_ERROR (
      "{" BASE ", 'linux': {'namespaces': [{'type': 'pidx'}]}}",
      "linux.namespaces[0].type: unknown namespace type \"pidx\" (expected one of pid, network, mount, "
      "ipc, uts, user, cgroup, time)");
  EXPECT_ERROR ("{" BASE ", 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'mount'}, {'type': 'pid'}]}}",
                "linux.namespaces[2].type: namespace \"pid\" is listed twice (first at linux.namespaces[0])");
  EXPECT_ERROR ("{" BASE ", 'linux': {'namespaces': [{'type': 'network', 'path': 'netns/x'}]}}",
                "linux.namespaces[0].path: \"netns/x\" is not an absolute path");
  EXPECT_ERROR ("{" BASE ", 'linux': {'namespaces': [{'path': '/x'}]}}",
                "linux.namespaces[0].type: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'linux': {'uidMappings': [{'containerID': 0, 'hostID': 1000}]}}",
                "linux.uidMappings[0].size: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'linux': {'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 0}]}}",
                "linux.gidMappings[0].size: is 0");
  EXPECT_ERROR ("{" BASE ", 'linux': {'devices': [{'path': '/dev/x', 'type': 'q', 'major': 1, 'minor': 2}]}}",
                "linux.devices[0].type: unknown device type \"q\" (expected one of c, b, u, p)");
  EXPECT_ERROR ("{" BASE ", 'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]}}",
                "linux.devices[0].minor: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'linux': {'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1, 'minor': 1, "
                "'fileMode': 70000}]}}",
                "linux.devices[0].fileMode: 70000 is out of range (expected an integer in 0..65535)");
  EXPECT_ERROR ("{" BASE ", 'linux': {'rootfsPropagation': 'sideways'}}",
                "linux.rootfsPropagation: unknown propagation \"sideways\"");
  EXPECT_ERROR ("{" BASE ", 'linux': {'maskedPaths': ['/proc/kcore', 'proc/keys']}}",
                "linux.maskedPaths[1]: \"proc/keys\" is not an absolute path");
  EXPECT_ERROR ("{" BASE ", 'linux': {'timeOffsets': {'boottime': {'secs': 1, 'nanosecs': 1000000000}}}}",
                "linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range");
  EXPECT_ERROR ("{" BASE ", 'linux': {'personality': {'domain': 'LINUX64'}}}",
                "linux.personality.domain: unknown domain \"LINUX64\"");
  EXPECT_ERROR ("{" BASE ", 'linux': []}", "linux: expected an object, got an array");
}

static void
test_process_security (void)
{
  /* an unknown capability is a warning, not an error (runtime spec) */
  EXPECT_OK ("{" BASE ", " PROC ", 'capabilities': {'bounding': ['CAP_KILL', 'CAP_FOO'], 'ambient': ['kill']}}}");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'capabilities': {'effective': 'CAP_KILL'}}}",
                "process.capabilities.effective: expected an array, got string \"CAP_KILL\"");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'rlimits': [{'type': 'RLIMIT_FILES', 'soft': 1, 'hard': 1}]}}",
                "process.rlimits[0].type: unknown rlimit \"RLIMIT_FILES\"");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 2048, 'hard': 1024}]}}",
                "process.rlimits[0]: soft limit 2048 is greater than hard limit 1024");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024}]}}",
                "process.rlimits[0].soft: required field is missing");
  EXPECT_ERROR ("{" BASE ", " PROC ", 'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 0, 'hard': 0}, "
                "{'type': 'RLIMIT_CORE', 'soft': 0, 'hard': 0}]}}",
                "process.rlimits[1].type: \"RLIMIT_CORE\" is already set by process.rlimits[0]");
}

#define SECCOMP(x) "{" BASE ", 'linux': {'seccomp': " x "}}"

static void
test_seccomp (void)
{
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_DENY'}"),
                "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_DENY\" (expected one of");
  EXPECT_ERROR (SECCOMP ("{'syscalls': []}"), "linux.seccomp.defaultAction: required field is missing");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': "
                         "'SCMP_ACT_ALLOW'}, {'names': ['write'], 'action': 'ALLOW'}]}"),
                "linux.seccomp.syscalls[1].action: unknown seccomp action \"ALLOW\"");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': "
                         "'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, 'op': 'SCMP_CMP_EQUAL'}]}]}"),
                "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_EQUAL\"");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': "
                         "'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 1, 'op': 'SCMP_CMP_EQ'}]}]}"),
                "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (expected an integer in 0..5)");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['read'], 'action': "
                         "'SCMP_ACT_KILL', 'errnoRet': 1}]}"),
                "linux.seccomp.syscalls[0].errnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [], 'action': "
                         "'SCMP_ACT_KILL'}]}"),
                "linux.seccomp.syscalls[0].names: is empty");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['bpf'], 'action': "
                         "'SCMP_ACT_NOTIFY'}]}"),
                "linux.seccomp: SCMP_ACT_NOTIFY is used but listenerPath is not set");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', "
                         "'SCMP_ARCH_Z80']}"),
                "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_Z80\"");
  EXPECT_ERROR (SECCOMP ("{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_FAST']}"),
                "linux.seccomp.flags[0]: unknown seccomp filter flag \"SECCOMP_FILTER_FLAG_FAST\"");
}

#define RES(x) "{" BASE ", 'linux': {'resources': " x "}}"

static void
test_resources (void)
{
  EXPECT_ERROR (RES ("{'memory': {'limit': '512M'}}"),
                "linux.resources.memory.limit: expected an integer, got string \"512M\"");
  EXPECT_ERROR (RES ("{'memory': {'swappiness': 101}}"),
                "linux.resources.memory.swappiness: 101 is out of range (expected an integer in 0..100)");
  EXPECT_ERROR (RES ("{'cpu': {'shares': -2}}"), "linux.resources.cpu.shares: -2 is negative");
  EXPECT_ERROR (RES ("{'cpu': {'cpus': 3}}"), "linux.resources.cpu.cpus: expected a string, got integer 3");
  EXPECT_ERROR (RES ("{'pids': {'limit': true}}"), "linux.resources.pids.limit: expected an integer");
  EXPECT_ERROR (RES ("{'devices': [{'allow': true, 'access': 'rwx'}]}"),
                "linux.resources.devices[0].access: \"rwx\" is not a non-empty combination of r, w and m");
  EXPECT_ERROR (RES ("{'devices': [{'allow': true, 'type': 'p'}]}"),
                "linux.resources.devices[0].type: unknown device type \"p\" (expected one of a, c, b)");
  EXPECT_ERROR (RES ("{'devices': [{'access': 'rwm'}]}"), "linux.resources.devices[0].allow: required field");
  EXPECT_ERROR (RES ("{'devices': [{'allow': false, 'major': -2}]}"),
                "linux.resources.devices[0].major: integer -2 is out of range");
  EXPECT_ERROR (RES ("{'blockIO': {'weight': 70000}}"),
                "linux.resources.blockIO.weight: 70000 is out of range");
  EXPECT_ERROR (RES ("{'blockIO': {'throttleReadBpsDevice': [{'major': 8, 'minor': 0}]}}"),
                "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required field is missing");
  EXPECT_ERROR (RES ("{'blockIO': {'weightDevice': [{'major': 8, 'weight': 10}]}}"),
                "linux.resources.blockIO.weightDevice[0].minor: required field is missing");
  EXPECT_ERROR (RES ("{'hugepageLimits': [{'limit': 1}]}"),
                "linux.resources.hugepageLimits[0].pageSize: required field is missing");
  EXPECT_ERROR (RES ("{'network': {'priorities': [{'name': 'eth0', 'priority': 'high'}]}}"),
                "linux.resources.network.priorities[0].priority: expected a non-negative integer");
  EXPECT_ERROR (RES ("{'rdma': {'mlx5_1': 3}}"),
                "linux.resources.rdma.mlx5_1: expected an object, got integer 3");
  EXPECT_ERROR (RES ("{'rdma': {'mlx5_1': {'hcaHandles': -1}}}"),
                "linux.resources.rdma.mlx5_1.hcaHandles: -1");
  EXPECT_ERROR (RES ("{'unified': {'memory.max': 5}}"),
                "linux.resources.unified[\"memory.max\"]: expected a string, got integer 5");
}

static void
test_hooks (void)
{
  EXPECT_ERROR ("{" BASE ", 'hooks': {'prestart': [{'path': 'bin/hook'}]}}",
                "hooks.prestart[0].path: \"bin/hook\" is not an absolute path");
  EXPECT_ERROR ("{" BASE ", 'hooks': {'poststop': [{'path': '/h'}, {'args': []}]}}",
                "hooks.poststop[1].path: required field is missing");
  EXPECT_ERROR ("{" BASE ", 'hooks': {'createRuntime': [{'path': '/h', 'timeout': 0}]}}",
                "hooks.createRuntime[0].timeout: 0 is not a valid timeout");
  EXPECT_ERROR ("{" BASE ", 'hooks': {'startContainer': {'path': '/h'}}}",
                "hooks.startContainer: expected an array, got an object");
}

#define PINS(x) "{" BASE ", 'minirun': " x "}"

static void
test_pins (void)
{
  struct mr_pin *pins = NULL;
  size_t n = 0;
  mr_error_t err = NULL;
  static const struct
  {
    const char *spec, *needle;
  } bad_strings[] = {
    { "", "exec --pid: empty pin list" },
    { "host", "exec --pid: \"host\" is not NAME=PID" },
    { "host=abc", "exec --pid: \"host=abc\": expected a pid (an integer in 1..2147483647) or \"any\"" },
    { "host=0", "\"host=0\": expected a pid" },
    { "host=-5", "\"host=-5\": expected a pid" },
    { "host=1,host=2", "exec --pid: pid namespace \"host\" is given twice" },
    { "ho st=1", "exec --pid: invalid pid namespace name \"ho st\"" },
    { "=1", "invalid pid namespace name \"\"" },
    { "host=1,,container=2", "exec --pid: \"\" is not NAME=PID" },
    { "host=1,", "exec --pid: \"\" is not NAME=PID" },
    { "   ", "exec --pid: empty pin list" },
  };

  for (size_t i = 0; i < sizeof bad_strings / sizeof bad_strings[0]; i++)
    {
      int r = mr_pins_parse_string (bad_strings[i].spec, "exec --pid", &pins, &n, &err);
      if (r == 0 || err == NULL || strstr (err->msg, bad_strings[i].needle) == NULL)
        harness_fail ("%s:%d: pin string \"%s\": %s\n", __FILE__, __LINE__, bad_strings[i].spec,
                      err ? err->msg : "success");
      else
        harness_pass ();
      if (r == 0)
        mr_pins_free (pins, n);
      mr_error_free (&err);
    }

  EXPECT_ERROR ("{" BASE ", 'annotations': {'minirun.pids': 'host=x'}}",
                "config.json: annotations[\"minirun.pids\"]: \"host=x\": expected a pid");
  EXPECT_ERROR ("{" BASE ", 'annotations': {'minirun.pids': 'host=1'}, 'minirun': {'pids': {'host': 1}}}",
                "both minirun.pids and the annotation minirun.pids are set; use one");
  EXPECT_ERROR (PINS ("{'pids': {'host': 0}}"),
                "minirun.pids.host: 0 is not a pid (expected an integer in 1..2147483647 or \"any\")");
  EXPECT_ERROR (PINS ("{'pids': {'container': 'some'}}"),
                "minirun.pids.container: expected a pid (an integer > 0) or \"any\", got string \"some\"");
  EXPECT_ERROR (PINS ("{'pids': {'bad name': 1}}"), "minirun.pids: invalid pid namespace name \"bad name\"");
  EXPECT_ERROR (PINS ("{'pids': [1]}"), "minirun.pids: expected an object, got an array");
  EXPECT_ERROR (PINS ("{'pidNamespaces': {'container': {'parent': 'host'}}}"),
                "minirun.pidNamespaces.container: \"container\" is a built-in pid namespace name");
  EXPECT_ERROR (PINS ("{'pidNamespaces': {'inner': {'parent': 'a/b'}}}"),
                "minirun.pidNamespaces.inner.parent: invalid pid namespace name \"a/b\"");
  EXPECT_ERROR (PINS ("{'processes': [{'name': 'w', 'args': ['x']}, {'name': 'w', 'args': ['y']}]}"),
                "minirun.processes[1].name: process name \"w\" is already used by minirun.processes[0]");
  EXPECT_ERROR (PINS ("{'processes': [{'name': 'init', 'args': ['x']}]}"),
                "minirun.processes[0]: the process name \"init\" is reserved");
  EXPECT_ERROR (PINS ("{'processes': [{'args': ['x']}]}"),
                "minirun.processes[0].name: required field is missing");
  EXPECT_ERROR (PINS ("{'processes': [{'name': 'w'}]}"),
                "minirun.processes[0].args: required field is missing");
  EXPECT_ERROR (PINS ("{'processes': [{'name': 'w', 'args': ['x'], 'pids': {'inner': -3}}]}"),
                "minirun.processes[0].pids.inner: -3 is not a pid");
  EXPECT_ERROR (PINS ("{'processes': [{'name': 'w', 'args': ['x'], 'cwd': 'rel'}]}"),
                "minirun.processes[0].cwd: \"rel\" is not an absolute path");
  EXPECT_ERROR (PINS ("{'processes': [{'name': 'w', 'args': ['x'], 'parent': 'w'}]}"),
                "minirun.processes[0].parent: process \"w\" cannot be its own parent");
  EXPECT_ERROR (
      PINS ("{'pid': {'host': 42000}}"),
      "minirun.pid: unknown field (expected one of pids, pidNamespaces, processes, legacyNsLastPid)");
  EXPECT_ERROR (
      PINS ("{'processes': [{'name': 'w', 'args': ['x'], 'pid': {'host': 5}}]}"),
      "minirun.processes[0].pid: unknown field (expected one of name, parent, pidNamespace, pids, args, "
      "env, cwd, user)");
  EXPECT_ERROR (PINS ("{'pidNamespaces': {'inner': {'parnet': 'container'}}}"),
                "minirun.pidNamespaces.inner.parnet: unknown field (expected one of parent)");
  EXPECT_ERROR (PINS ("{'legacyNsLastPid': 'yes'}"),
                "minirun.legacyNsLastPid: expected a boolean, got string \"yes\"");
}

int
main (void)
{
  test_json_and_files ();
  test_types_and_required ();
  test_mounts ();
  test_linux ();
  test_process_security ();
  test_seccomp ();
  test_resources ();
  test_hooks ();
  test_pins ();
  return harness_summary ();
}
