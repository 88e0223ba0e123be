#!/usr/bin/env bash
# Runs the whole test suite (installing the Debian packages it needs first) and ends with the line
# "N passed, N failed, N skipped" read from the test results.
set -uo pipefail
cd "$(dirname "$0")/.."
# python3-torch: the reference training in TorchReferenceTests; slurm-wlm and munge: the single-node cluster that
# scripts/slurm-local.sh starts for SlurmSweepTests (and stops again).
bash scripts/install.sh python3-torch slurm-wlm munge || exit 1
rm -rf TestResults
dotnet test LearningMechanics.slnx -c Release --logger "trx;LogFileName=tests.trx" --results-directory TestResults
rc=$?
trx=$(find TestResults -name '*.trx' 2>/dev/null | head -n 1)
if [ -z "$trx" ]; then
  echo "0 passed, 0 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(get passed); failed=$(get failed); errors=$(get error); total=$(get total); executed=$(get executed)
# xunit's skipped tests are neither executed nor "notExecuted" in the trx counters: count them as total − executed.
skipped=$((${total:-0} - ${executed:-0}))
echo "$passed passed, $((failed + errors)) failed, $skipped skipped"
exit $rc
