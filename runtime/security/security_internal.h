/* security_internal.h: the prepared security state (struct mr_security) and
 * the per-feature steps that security.c strings together: capabilities
 * (caps.c), seccomp (seccomp.c), rlimits and oom_score_adj (rlimits.c).
 * Nothing here is public API; include/minirun and runtime/security/security.h are. */
#ifndef MINIRUN_SECURITY_INTERNAL_H
#define MINIRUN_SECURITY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/filter.h>
#include <seccomp.h>

#include "minirun/config.h"
#include "minirun/error.h"

struct mr_security
{
  /* Capabilities, masked to the bits this kernel knows (cap_max_bits()). */
  bool has_caps;
  struct mr_capabilities caps;

  /* Seccomp: the compiled filter (NULL: none).  Plain heap memory, so a
   * clone()d child owns a copy and only has to seccomp_load() it. */
  scmp_filter_ctx seccomp;
  struct sock_filter *bpf; /* the generated program (from the cache or libseccomp), or NULL */
  unsigned short bpf_len;
  unsigned int bpf_flags;  /* SECCOMP_FILTER_FLAG_LOG / _SPEC_ALLOW / _WAIT_KILLABLE_RECV from linux.seccomp.flags */
  bool seccomp_notify;     /* some rule uses SCMP_ACT_NOTIFY */
  char *listener_path;     /* linux.seccomp.listenerPath (copy) */
  char *listener_metadata; /* linux.seccomp.listenerMetadata (copy), may be NULL */
  int listener_fd;         /* pre-connected listener socket, or -1 */
};

/* ---- caps.c ---- */

/* Validate process.capabilities and mask it to this kernel's capabilities
 * (unknown high bits are dropped with a warning). */
int mr_caps_prepare (const struct mr_capabilities *in, struct mr_capabilities *out, mr_error_t *err);
/* Drop from the bounding set every capability not in caps->bounding.
 * Needs CAP_SETPCAP in the effective set: call before the uid change. */
int mr_caps_apply_bounding (const struct mr_capabilities *caps, mr_error_t *err);
/* Set effective, permitted and inheritable, then reset and raise ambient.
 * Call after the uid change (which, with keep-caps, keeps only permitted). */
int mr_caps_apply_sets (const struct mr_capabilities *caps, mr_error_t *err);
/* "CAP_NET_ADMIN" for 12, or "capability 12" (static buffer) for unnamed. */
const char *mr_cap_name (int cap, char buf[32]);

/* ---- seccomp_cache.c ---- */
void mr_seccomp_cache_set_dir (const char *state_root);
/* The exact text a cached program must match; NULL when no cache dir is set. */
char *mr_seccomp_cache_key (const struct mr_seccomp *s, size_t *len);
bool mr_seccomp_cache_get (const char *key, size_t len, struct sock_filter **prog, unsigned short *n);
void mr_seccomp_cache_put (const char *key, size_t len, const struct sock_filter *prog, unsigned short n);

/* ---- seccomp.c ---- */

/* Compile linux.seccomp into sec->seccomp (and copy the listener fields). */
int mr_seccomp_compile (const struct mr_seccomp *seccomp, struct mr_security *sec, mr_error_t *err);
/* Load the compiled filter; for a notify filter send the listener fd with
 * the containerProcessState to the listener and close it. */
int mr_seccomp_load (const struct mr_security *sec, const char *state_json, mr_error_t *err);
/* Build the containerProcessState JSON sent with the notify fd (caller frees). */
char *mr_seccomp_process_state (const char *state_json, const char *metadata, mr_error_t *err);
/* Connect to the seccomp agent's unix socket; returns the fd (O_CLOEXEC). */
int mr_seccomp_connect_listener (const char *path, mr_error_t *err);
/* Send the listener fd and the containerProcessState to the agent
 * (seccomp_notify.c). */
int mr_seccomp_send_listener (const struct mr_security *sec, int notify_fd, const char *state_json, mr_error_t *err);
void mr_seccomp_release (struct mr_security *sec);

/* ---- rlimits.c ---- */

/* Check process.rlimits against what the kernel will accept from us. */
int mr_rlimits_check (const struct mr_process *process, mr_error_t *err);
int mr_rlimits_apply (const struct mr_process *process, mr_error_t *err);
/* Write process.oomScoreAdj to <proc>/self/oom_score_adj (proc_dirfd < 0: "/proc"). */
int mr_oom_score_adj_apply (const struct mr_process *process, int proc_dirfd, mr_error_t *err);

#endif
