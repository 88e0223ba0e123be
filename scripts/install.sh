#!/usr/bin/env bash
# Installs the Debian 12 packages lmech uses: OpenBLAS (pthread build) and LAPACKE for dense linear algebra,
# python3-numpy for the optional independent cross-check in the tests. The .NET 10 SDK must be on PATH.
set -euo pipefail
pkgs=(libopenblas0-pthread liblapacke python3-numpy)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi
command -v dotnet >/dev/null || { echo "error: the .NET 10 SDK is required ('dotnet' is not on PATH)." >&2; exit 1; }
