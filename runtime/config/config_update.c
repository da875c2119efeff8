/* config_update.c: the OCI LinuxResources JSON of `update --resources FILE`
 * ("-": standard input), parsed by the same code as linux.resources in a
 * config (config_resources.c), so every field, type and range rule is the
 * same; JSON paths in errors start at the object itself ("memory.limit").
 * Bad JSON is reported as `<file>:<line>:<column>: invalid JSON: ...`. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "config/config_internal.h"
#include "minirun/resources.h"
#include "base/utils.h"

#define RESOURCES_MAX_SIZE (4u << 20)

/* All of fd 0 (a pipe, a file, a socket: not reopened by path). */
static int
read_stdin (char **out, size_t *len_out, mr_error_t *err)
{
  cleanup_free char *buf = xmalloc (8192);
  size_t len = 0, cap = 8192;

  for (;;)
    {
      ssize_t n;
      if (cap - len < 1024)
        {
          if (cap > RESOURCES_MAX_SIZE)
            return mr_error_set (err, E2BIG, "read standard input: larger than %u bytes", RESOURCES_MAX_SIZE);
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      n = read (STDIN_FILENO, buf + len, cap - len - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return mr_error_set (err, errno, "read standard input");
      if (n == 0)
        break;
      len += (size_t)n;
    }
  buf[len] = '\0';
  *out = MR_STEAL (buf);
  *len_out = len;
  return 0;
}

int
mr_resources_parse_file (const char *path, struct mr_resources *out, mr_error_t *err)
{
  cleanup_free char *data = NULL;
  const char *name = strcmp (path, "-") == 0 ? "<stdin>" : path;
  json_error_t je;
  json_t *root;
  size_t len = 0;
  int ret;

  memset (out, 0, sizeof *out);
  if (strcmp (path, "-") == 0 ? read_stdin (&data, &len, err) < 0
                              : mr_read_file_at (AT_FDCWD, path, RESOURCES_MAX_SIZE, &data, &len, err) < 0)
    return -1;
  root = json_loadb (data, len, JSON_REJECT_DUPLICATES, &je);
  if (root == NULL && json_error_code (&je) == json_error_numeric_overflow)
    root = json_loadb (data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &je);
  if (root == NULL)
    return mr_error_set (err, 0, "%s:%d:%d: invalid JSON: %s", name, je.line, je.column, je.text);
  ret = mr_cfg_parse_resources (root, "", out, err);
  json_decref (root);
  if (ret < 0)
    {
      mr_cfg_resources_clear (out);
      return mr_error_wrap (err, "%s", name);
    }
  return 0;
}

void
mr_resources_free (struct mr_resources *res)
{
  if (res)
    mr_cfg_resources_clear (res);
}
