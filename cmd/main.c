/* placeholder until the dispatcher lands */
int main (void);
int
main (void)
{
  return 0;
}
