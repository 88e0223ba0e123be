#!/usr/bin/env bash
# Fuzzes every reader of user input (tests/LearningMechanics.Tests/Fuzz): 1500 mutated inputs per reader by default (what
# the test suite runs), 10^5 with --long, or N with --count N. Ends with the test summary; exit 0 when no defect was found.
set -euo pipefail
cd "$(dirname "$0")/.."
count=1500
while [ $# -gt 0 ]; do
  case "$1" in
    --long) count=100000 ;;
    --count) shift; count="${1:?--count needs a number}" ;;
    *) echo "usage: scripts/fuzz.sh [--long | --count N]" >&2; exit 2 ;;
  esac
  shift
done
case "$count" in ''|*[!0-9]*) echo "--count: '$count' is not a positive integer" >&2; exit 2 ;; esac
dotnet build -c Release tests/LearningMechanics.Tests >/dev/null
LMECH_FUZZ_COUNT="$count" dotnet test tests/LearningMechanics.Tests -c Release --no-build --filter "FullyQualifiedName~.Fuzz."
