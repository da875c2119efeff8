/* fuzz_pins.c: libFuzzer target for the pin-list syntax shared by the
 * minirun.pids annotation and `exec --pid` ("host=42000,container=1").
 * The input, cut at its first NUL, goes to mr_pins_parse_string().  A
 * rejected list must come with a message; an accepted one must hold only
 * valid names (1-64 characters from A-Z, a-z, 0-9, '_', '-'), each once,
 * with pids in 1..INT_MAX or "any", and print back ("name=pid,...") to a
 * list that parses to the same pins.  A broken promise aborts.  Build:
 * -DMINIRUN_FUZZ=ON (clang); run: scripts/fuzz.sh. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minirun/config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
broken (const char *what, const char *input)
{
  fprintf (stderr, "fuzz_pins: %s (input \"%s\")\n", what, input);
  abort ();
}

static bool
valid_name (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 64)
    return false;
  for (; *s; s++)
    if (!isalnum ((unsigned char)*s) && *s != '_' && *s != '-')
      return false;
  return true;
}

static char *
print_pins (const struct mr_pin *pins, size_t n)
{
  size_t cap = 1;
  char *out;

  for (size_t i = 0; i < n; i++)
    cap += strlen (pins[i].ns) + 16;
  out = calloc (1, cap);
  if (out == NULL)
    abort ();
  for (size_t i = 0; i < n; i++)
    {
      size_t len = strlen (out);
      if (pins[i].pid == MR_PID_ANY)
        snprintf (out + len, cap - len, "%s%s=any", i ? "," : "", pins[i].ns);
      else
        snprintf (out + len, cap - len, "%s%s=%d", i ? "," : "", pins[i].ns, pins[i].pid);
    }
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *input = strndup ((const char *)data, size);
  struct mr_pin *pins = NULL, *again = NULL;
  size_t n = 0, n_again = 0;
  mr_error_t err = NULL;
  char *printed;

  if (input == NULL)
    abort ();
  if (mr_pins_parse_string (input, "fuzz", &pins, &n, &err) < 0)
    {
      if (err == NULL || err->msg == NULL || strncmp (err->msg, "fuzz: ", 6) != 0)
        broken ("rejected without a message naming the source", input);
      mr_error_free (&err);
      free (input);
      return 0;
    }
  if (n == 0 || pins == NULL)
    broken ("accepted an empty list", input);
  for (size_t i = 0; i < n; i++)
    {
      if (pins[i].ns == NULL || !valid_name (pins[i].ns))
        broken ("accepted an invalid namespace name", input);
      if (pins[i].pid < 0)
        broken ("accepted a negative pid", input);
      for (size_t j = 0; j < i; j++)
        if (strcmp (pins[i].ns, pins[j].ns) == 0)
          broken ("accepted a namespace twice", input);
    }
  printed = print_pins (pins, n);
  if (mr_pins_parse_string (printed, "fuzz", &again, &n_again, &err) < 0)
    broken ("its own printed form does not parse", input);
  if (n_again != n)
    broken ("the printed form parses to another number of pins", input);
  for (size_t i = 0; i < n; i++)
    if (strcmp (pins[i].ns, again[i].ns) != 0 || pins[i].pid != again[i].pid)
      broken ("the printed form parses to other pins", input);
  mr_pins_free (again, n_again);
  mr_pins_free (pins, n);
  free (printed);
  free (input);
  return 0;
}
