/*
 * Opens a set through the C ABI, checks every line of stdin as a URL in
 * full mode, and prints what the process's memory holds: the set file's
 * mapping (its resident, proportional and dirty bytes: a mapped set stays
 * clean and shared with the page cache) and the whole process's RSS, PSS
 * and heap, before opening, after opening and after the checks.
 *
 *   memory SET.indset < urls.txt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indset.h"

/* Sums the smaps fields `name` (kB) over the mappings of `file` (NULL: all). */
static long smaps_kb(const char *file, const char *name) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) return -1;
  char line[4096];
  int in = file == NULL;
  long total = 0;
  size_t n = strlen(name);
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ':') && line[0] != ' ') {
      /* A mapping's header line: does it name the file? */
      char *path = strchr(line, '/');
      in = file == NULL || (path && strncmp(path, file, strlen(file)) == 0);
      continue;
    }
    if (in && strncmp(line, name, n) == 0 && line[n] == ':') total += atol(line + n + 1);
  }
  fclose(f);
  return total;
}

static void report(const char *when, const char *set) {
  printf("%-14s process: Rss %6ld kB  Pss %6ld kB  Private_Dirty %6ld kB | set mapping: Rss %6ld kB  "
         "Pss %6ld kB  Shared_Clean %6ld kB  Private_Clean %6ld kB  dirty %ld kB  Anonymous %ld kB\n",
         when, smaps_kb(NULL, "Rss"), smaps_kb(NULL, "Pss"), smaps_kb(NULL, "Private_Dirty"),
         smaps_kb(set, "Rss"), smaps_kb(set, "Pss"), smaps_kb(set, "Shared_Clean"),
         smaps_kb(set, "Private_Clean"), smaps_kb(set, "Private_Dirty") + smaps_kb(set, "Shared_Dirty"),
         smaps_kb(set, "Anonymous"));
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: memory SET.indset < urls.txt\n");
    return 2;
  }
  char *set = realpath(argv[1], NULL);
  report("before open", set);
  IndsetHandle *h = NULL;
  if (indset_open_path(set, &h) != INDSET_STATUS_OK) {
    char msg[512];
    indset_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "memory: %s\n", msg);
    return 1;
  }
  IndsetStats st;
  indset_stats(h, &st);
  printf("set: %llu indicators, %llu bytes\n", (unsigned long long)st.indicators,
         (unsigned long long)st.total_bytes);
  report("after open", set);
  char line[8192];
  unsigned long n = 0, decided[5] = {0};
  IndsetConfig supervised = {true, true, false};
  indset_set_config(h, &supervised);
  while (fgets(line, sizeof line, stdin)) {
    size_t len = strcspn(line, "\r\n");
    IndsetVerdict v;
    if (indset_check_url(h, line, len, &v) == INDSET_STATUS_OK) decided[v.decision]++;
    n++;
  }
  printf("checked %lu URLs: %lu none, %lu allow, %lu warn, %lu block, %lu audit\n", n, decided[0],
         decided[1], decided[2], decided[3], decided[4]);
  report("after checks", set);
  indset_close(h);
  free(set);
  return 0;
}
