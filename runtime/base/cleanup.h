/* cleanup.h: scope-bound release with __attribute__((cleanup)).  Every early
 * return releases what the scope took; steal a value with MR_STEAL(p). */
#ifndef MINIRUN_CLEANUP_H
#define MINIRUN_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
mr_freep (void *p)
{
  free (*(void **) p);
}

static inline void
mr_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
  *fd = -1;
}

static inline void
mr_fclosep (FILE **f)
{
  if (*f != NULL)
    (void) fclose (*f);
}

/* Free a NULL-terminated array of strings. */
static inline void
mr_strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p; p++)
    free (*p);
  free (v);
}

static inline void
mr_strv_freep (char ***v)
{
  mr_strv_free (*v);
}

#define cleanup_free __attribute__ ((cleanup (mr_freep)))
#define cleanup_close __attribute__ ((cleanup (mr_closep)))
#define cleanup_file __attribute__ ((cleanup (mr_fclosep)))
#define cleanup_strv __attribute__ ((cleanup (mr_strv_freep)))

#define MR_STEAL(p)                     \
  ({                                    \
    __typeof__ (p) _stolen = (p);       \
    (p) = (__typeof__ (p)) 0;           \
    _stolen;                            \
  })
#define MR_STEAL_FD(fd)                 \
  ({                                    \
    int _stolen = (fd);                 \
    (fd) = -1;                          \
    _stolen;                            \
  })

#endif
