/* terminal.c: ptys for process.terminal (see terminal.h): the container
 * side makes the pty and /dev/console, the launcher side relays it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/pathsafe.h"
#include "process/sync.h"
#include "base/syscalls.h"
#include "process/terminal.h"
#include "base/utils.h"
#include "minirun/config.h"

int
mr_console_socket_connect (const char *path, mr_error_t *err)
{
  return mr_unix_connect (path, "--console-socket", err);
}

/* Bind the pty slave (open as `slave`, named `name`) over /dev/console of
 * the root we are in: a clone of the slave's mount (open_tree on its fd, no
 * path lookup) moved onto an fd of /dev/console resolved inside the root,
 * so a symlink in the image cannot send it elsewhere. */
static int
bind_console (int slave, const char *name, mr_error_t *err)
{
  cleanup_close int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int target = -1, tree = -1;
  struct stat st;

  if (root < 0)
    return mr_error_set (err, errno, "open /");
  target = mr_mkfile_in_root (root, "/dev/console", 0666, err);
  if (target < 0)
    return mr_error_wrap (err, "/dev/console (created for process.terminal)");
  if (fstat (target, &st) < 0)
    return mr_error_set (err, errno, "stat /dev/console");
  if (!S_ISREG (st.st_mode) && !S_ISCHR (st.st_mode))
    return mr_error_set (err, 0,
                         "/dev/console in the container is %s, not a file or a character device: cannot bind "
                         "the pty `%s` over it (remove it from the image)",
                         S_ISDIR (st.st_mode) ? "a directory" : "a special file", name);
  tree = open_tree (slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0)
    return mr_error_set (err, errno, "bind the pty `%s` over /dev/console: open_tree", name);
  if (move_mount (tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return mr_error_set (err, errno, "bind the pty `%s` over /dev/console: move_mount", name);
  return 0;
}

int
mr_terminal_setup (const struct mr_process *p, int console_fd, int sync_fd, bool console, mr_error_t *err)
{
  cleanup_close int master = -1, slave = -1;
  char name[64];

  master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return mr_error_set (err, errno, "open /dev/ptmx in the container (is /dev/pts a devpts mount?)");
  if (unlockpt (master) < 0)
    return mr_error_set (err, errno, "unlockpt");
  if (ptsname_r (master, name, sizeof name) != 0)
    return mr_error_set (err, errno, "ptsname");
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return mr_error_set (err, errno, "open the pty slave `%s`", name);
  if (p->has_console_size)
    {
      struct winsize ws = { .ws_row = (unsigned short) p->console_height, .ws_col = (unsigned short) p->console_width };
      if (ioctl (slave, TIOCSWINSZ, &ws) < 0)
        return mr_error_set (err, errno, "set the console size");
    }
  if (console && bind_console (slave, name, err) < 0)
    return -1;
  if (setsid () < 0)
    return mr_error_set (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return mr_error_set (err, errno, "make `%s` the controlling terminal", name);
  for (int fd = 0; fd < 3; fd++)
    if (dup2 (slave, fd) < 0)
      return mr_error_set (err, errno, "dup2 the pty slave onto fd %d", fd);
  if (console_fd >= 0)
    {
      if (mr_send_fd (console_fd, master, name, strlen (name), err) < 0)
        return mr_error_wrap (err, "send the pty master to --console-socket");
      close (console_fd);
      return 0;
    }
  return mr_sync_send_fd (sync_fd, MR_SYNC_TERMINAL, master, err);
}

static void
copy_once (int from, int to, bool *open_)
{
  char buf[8192];
  ssize_t n = read (from, buf, sizeof buf);
  if (n <= 0)
    {
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
      *open_ = false;
      return;
    }
  if (mr_write_all (to, buf, (size_t) n) < 0)
    *open_ = false;
}

int
mr_terminal_relay (int master, int pidfd, int sigfd, mr_error_t *err)
{
  struct termios saved, raw;
  bool tty = isatty (STDIN_FILENO), in_open = true, out_open = true, raw_set = false;

  if (tty && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      struct winsize ws;
      raw = saved;
      cfmakeraw (&raw);
      raw.c_oflag = saved.c_oflag; /* keep output processing: \n stays \r\n on our side */
      raw_set = tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0;
      if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
        ioctl (master, TIOCSWINSZ, &ws);
    }
  while (out_open)
    {
      struct pollfd pfd[4] = {
        { .fd = master, .events = POLLIN },
        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = sigfd, .events = POLLIN },
        { .fd = pidfd, .events = POLLIN },
      };
      if (poll (pfd, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          mr_error_set (err, errno, "poll while relaying the terminal");
          break;
        }
      if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
        copy_once (master, STDOUT_FILENO, &out_open);
      if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
        copy_once (STDIN_FILENO, master, &in_open);
      if (pfd[2].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          if (read (sigfd, &si, sizeof si) == (ssize_t) sizeof si)
            {
              if (si.ssi_signo == SIGWINCH)
                {
                  struct winsize ws;
                  if (ioctl (STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                    ioctl (master, TIOCSWINSZ, &ws);
                }
              else
                mr_pidfd_send_signal (pidfd, (int) si.ssi_signo, NULL, 0);
            }
        }
      if ((pfd[3].revents & POLLIN) && !(pfd[0].revents & POLLIN))
        break; /* the process exited and the master has nothing left */
    }
  if (raw_set)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  return err && *err ? -1 : 0;
}
