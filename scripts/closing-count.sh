#!/bin/bash
# closing-count.sh < OUTPUT — the closing line of a test session made of several runs of node's
# test runner with test/reporter.ts: "N passed, N failed", the sum of every run's own closing line.
# A run that skipped something ends "N passed, N failed, N skipped": it counts too (its passes and
# failures once vanished from the sum). CI keeps only the end of the output, so the failed tests
# are named again, with the first line of their reason, right above the closing line.
set -uo pipefail
out=$(cat)
passed=0 failed=0
while read -r p _ f _; do passed=$((passed + p)); failed=$((failed + f)); done < <(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' <<<"$out")
if [ "$failed" -gt 0 ]; then echo "tests that failed:"; grep -A1 -E '^ *✖' <<<"$out" | grep -v '^--$' | cut -c1-240; fi
echo "$passed passed, $failed failed"
