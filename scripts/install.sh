#!/usr/bin/env bash
# Installs the Debian 12 packages lmech uses: OpenBLAS (pthread build) and LAPACKE for dense linear algebra,
# dataset-fashion-mnist (the real data set of the training experiments), python3-numpy for the optional independent
# cross-check in the tests; further packages given as arguments (the tests add python3-torch). The .NET 10 SDK must be on PATH.
set -euo pipefail
pkgs=(libopenblas0-pthread liblapacke python3-numpy dataset-fashion-mnist "$@")
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK is required ('dotnet' is not on PATH)." >&2; exit 1; }
