/* ps.c: `minirun ps [--format table|json|pins] ID [PS OPTIONS...]`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "minirun/minirun.h"

static const char usage[] =
    "Usage: minirun ps [--format table|json|pins] ID [PS OPTIONS...]\n"
    "\n"
    "List the processes of a running container.  With ps(1) options after the\n"
    "id (as runc's `ps ID -o pid,comm` or `ps ID -- -ef`), the host's ps runs with\n"
    "them and prints its header and the lines of the container's processes\n"
    "(found by ps's PID column, which the options must keep).\n"
    "\n"
    "Options:\n"
    "  -f, --format table  host pid, parent, pid at every namespace level (outermost\n"
    "                      first), config name and command line (default)\n"
    "  -f, --format json   the host pids as a JSON array (runc's format, used by containerd)\n"
    "  -f, --format pins   capture: the running tree as a pin config fragment\n"
    "                      ({\"minirun\": {\"pids\", \"pidNamespaces\", \"processes\"}}); merge it\n"
    "                      into the container's config to recreate every process at the\n"
    "                      same pids at every level (see examples/restore)\n"
    "  -h, --help          this help\n";

/* Run the host's ps with `args` and print its header and the lines whose PID
 * column is one of pids (runc's `ps ID ARGS...`). */
static int
ps_filtered (char **args, int nargs, const pid_t *pids, size_t n)
{
  char **argv = cmd_xrealloc (NULL, sizeof *argv * ((size_t) nargs + 2));
  char *line = NULL;
  size_t cap = 0;
  int fds[2], status, col = -1, ret = 0;
  bool header = true;
  FILE *f;
  pid_t child;

  argv[0] = (char *) "ps";
  memcpy (argv + 1, args, sizeof *argv * (size_t) nargs);
  argv[nargs + 1] = NULL;
  if (pipe2 (fds, O_CLOEXEC) < 0)
    {
      fprintf (stderr, "minirun ps: pipe: %s\n", strerror (errno));
      free (argv);
      return MR_EXIT_FAILURE;
    }
  child = fork ();
  if (child < 0)
    {
      fprintf (stderr, "minirun ps: fork: %s\n", strerror (errno));
      close (fds[0]), close (fds[1]), free (argv);
      return MR_EXIT_FAILURE;
    }
  if (child == 0)
    {
      if (dup2 (fds[1], STDOUT_FILENO) < 0)
        _exit (127);
      execvp ("ps", argv);
      fprintf (stderr, "minirun ps: run ps(1): %s\n", strerror (errno));
      _exit (127);
    }
  close (fds[1]);
  free (argv);
  f = fdopen (fds[0], "r");
  if (f == NULL)
    {
      close (fds[0]);
      waitpid (child, &status, 0);
      fprintf (stderr, "minirun ps: read ps(1)'s output: %s\n", strerror (ENOMEM));
      return MR_EXIT_FAILURE;
    }
  while (getline (&line, &cap, f) > 0)
    {
      char *save = NULL, *copy = cmd_xstrdup (line), *tok = strtok_r (copy, " \t\n", &save);
      int i = 0;
      if (header)
        {
          for (; tok != NULL && col < 0; tok = strtok_r (NULL, " \t\n", &save), i++)
            if (strcmp (tok, "PID") == 0)
              col = i;
          header = false;
          fputs (line, stdout);
          free (copy);
          if (col < 0)
            {
              fprintf (stderr, "minirun ps: ps(1)'s header has no PID column; keep pid in its -o list\n");
              ret = MR_EXIT_FAILURE;
              break;
            }
          continue;
        }
      for (; tok != NULL && i < col; tok = strtok_r (NULL, " \t\n", &save))
        i++;
      if (tok != NULL)
        {
          char *end;
          long pid = strtol (tok, &end, 10);
          for (size_t k = 0; *end == '\0' && k < n; k++)
            if (pids[k] == pid)
              {
                fputs (line, stdout);
                break;
              }
        }
      free (copy);
    }
  free (line);
  (void) fclose (f);
  if (waitpid (child, &status, 0) < 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      if (ret == 0)
        fprintf (stderr, "minirun ps: ps(1) failed (exit status %d)\n",
                 WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
      ret = MR_EXIT_FAILURE;
    }
  return ret;
}

int
cmd_ps (struct mr_global *g, int argc, char **argv)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
                                        { "help", no_argument, NULL, 'h' },
                                        { NULL, 0, NULL, 0 } };
  const char *format = "table";
  mr_error_t err = NULL;
  const char *id;
  char *out = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "+f:h", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        format = optarg;
        if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0 && strcmp (format, "pins") != 0)
          {
            fprintf (stderr, "minirun ps: --format: expected table, json or pins, got `%s`\n", format);
            return MR_EXIT_FAILURE;
          }
        break;
      default:
        return cmd_usage (usage, c != 'h');
      }
  if (argc - optind < 1)
    return cmd_usage (usage, true);
  id = argv[optind];
  if (argc - optind > 1 && strcmp (format, "pins") == 0)
    {
      fprintf (stderr, "minirun ps: --format pins takes no ps(1) options\n");
      return MR_EXIT_FAILURE;
    }
  if (argc - optind > 1 && strcmp (format, "table") == 0)
    {
      pid_t *pids = NULL;
      size_t n = 0;
      int ret;
      if (mr_container_pids (g->root, id, &pids, &n, &err) < 0)
        return cmd_fail (&err);
      int first = optind + 1;
      if (strcmp (argv[first], "--") == 0) /* `ps ID -- -ef`: the rest is ps(1)'s */
        first++;
      ret = ps_filtered (argv + first, argc - first, pids, n);
      free (pids);
      return ret;
    }
  if (strcmp (format, "json") == 0) /* runc's json ignores ps(1) options */
    {
      pid_t *pids = NULL;
      size_t n = 0;
      if (mr_container_pids (g->root, id, &pids, &n, &err) < 0)
        return cmd_fail (&err);
      putchar ('[');
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      puts ("]");
      free (pids);
      return 0;
    }
  out = strcmp (format, "pins") == 0 ? mr_container_capture (g->root, id, &err)
                                     : mr_container_ps_table (g->root, id, &err);
  if (out == NULL)
    return cmd_fail (&err);
  fputs (out, stdout);
  if (*out && out[strlen (out) - 1] != '\n')
    putchar ('\n');
  free (out);
  return 0;
}
