/* test_escape.c: mr_escape_controls, the escaping of every message minirun
 * prints (log.c): control bytes become visible escapes, the rest is kept,
 * and the output is bounded by its buffer. */
#include <string.h>

#include "harness.h"
#include "utils.h"

static void
expect (const char *in, const char *want)
{
  char out[256];
  size_t n = mr_escape_controls (in, out, sizeof out);
  CHECK_STR (out, want);
  CHECK (n == strlen (want), "length %zu for %s", n, want);
}

int
main (void)
{
  char small[8];

  expect ("plain text `id` 42", "plain text `id` 42");
  expect ("a\nb", "a\\nb");
  expect ("\x1b[31mred", "\\e[31mred");
  expect ("cr\r tab\t bell\x07 del\x7f", "cr\\r tab\\t bell\\x07 del\\x7f");
  expect ("\x01\x1f", "\\x01\\x1f");
  expect ("UTF-8 \xc3\xa9 stays", "UTF-8 \xc3\xa9 stays");
  expect ("", "");
  /* bounded: never a partial escape, always NUL-terminated */
  CHECK (mr_escape_controls ("abcdef\n", small, sizeof small) == 6, "fits 6 of 7");
  CHECK_STR (small, "abcdef");
  CHECK (mr_escape_controls ("abcde\x1b", small, sizeof small) == 5, "an escape that does not fit is dropped");
  CHECK_STR (small, "abcde");
  CHECK (mr_escape_controls ("x", small, 0) == 0, "size 0 writes nothing");
  return harness_summary ();
}
