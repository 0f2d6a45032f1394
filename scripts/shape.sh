#!/usr/bin/env bash
# The shape the product code keeps (docs/architecture.md): no file in src/, host/src/ or
# iso8583/src/ over 500 lines, not counting a unit-test module at its end. Function length (60 lines) is
# clippy's too_many_lines, set in clippy.toml and denied at each product crate's root.
set -euo pipefail
cd "$(dirname "$0")/.."
max_lines=500
status=0
while IFS= read -r f; do
  # Lines up to the unit-test module, which tests aside are not part of the product.
  n=$(awk '/^#\[cfg\(test\)\]/ { exit } { n++ } END { print n + 0 }' "$f")
  if (( n > max_lines )); then
    echo "$f: $n lines (at most $max_lines)" >&2
    status=1
  fi
done < <(find src host/src iso8583/src -name '*.rs' | sort)
exit $status
