#!/usr/bin/env bash
# Builds the C ABI (target/release/libindset_ffi.a), compiles ffi/c/abi_test.c
# against it with `cc`, and runs it under valgrind: every answer is checked,
# and any leak or memory error fails the run.
#
#   bash ffi/c/run.sh            # from anywhere in the repository
#   VALGRIND=0 bash ffi/c/run.sh # without valgrind (faster, for debugging)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo build --release --quiet -p indset-ffi
cargo build --release --quiet --bin indset
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The two sets the program swaps between, and a file that is not a set.
target/release/indset compile --now 2026-01-01T00:00:00Z -o "$work/first.indset" "$here/sets/first.csv" 2>/dev/null
target/release/indset compile --now 2026-01-01T00:00:00Z -o "$work/second.indset" "$here/sets/second.csv" 2>/dev/null
cp "$here/sets/first.csv" "$work/not-a-set.indset"

cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -O1 -g -pthread \
  -I ffi/include "$here/abi_test.c" target/release/libindset_ffi.a \
  -lpthread -ldl -lm -o "$work/abi_test"

# The header compiles as C99 and, where there is a C++ compiler, as C++11.
echo '#include "indset.h"' > "$work/header.c"
cc -std=c99 -pedantic -Wall -Wextra -Werror -I ffi/include -fsyntax-only "$work/header.c"
if command -v c++ >/dev/null; then
  c++ -std=c++11 -Wall -Wextra -Werror -I ffi/include -fsyntax-only -x c++ "$work/header.c"
fi

# The memory probe of docs/embedding.md: compiled, so that it keeps up with the header.
cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -O2 -I ffi/include "$here/memory.c" \
  target/release/libindset_ffi.a -lpthread -ldl -lm -o "$work/memory"

run=("$work/abi_test" "$work/first.indset" "$work/second.indset" "$work/not-a-set.indset" "$root/tests/fixtures/flow")
if [ "${VALGRIND:-1}" = 0 ]; then
  "${run[@]}"
else
  command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
  status=0
  # --fair-sched=yes: valgrind runs one thread at a time, and without a fair
  # lock the swapping thread's wait for the checkers (a sched_yield loop)
  # can starve them for minutes. The timeout makes a hang a failure.
  timeout 900 valgrind --fair-sched=yes --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 \
    --log-file="$work/valgrind.log" "${run[@]}" || status=$?
  # The summary, and everything when it failed.
  if [ "$status" != 0 ]; then cat "$work/valgrind.log" >&2; fi
  grep -E "in use at exit|definitely lost|indirectly lost|possibly lost|still reachable|ERROR SUMMARY" \
    "$work/valgrind.log" | sed 's/^==[0-9]*== */valgrind: /'
  exit "$status"
fi
