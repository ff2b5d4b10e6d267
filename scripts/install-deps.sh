#!/usr/bin/env bash
# Installs the Debian 12 packages lmul builds with (only those missing). PyTorch (python3-torch)
# is only for regenerating golden values, the side-by-side benchmarks and the lmul.torch tests:
# pass --with-torch. The Python module (python/) needs pybind11, the Python headers and NumPy.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-openmp-dev libfmt-dev libcli11-dev doctest-dev
      libtomlplusplus-dev nlohmann-json3-dev libicu-dev libarchive-dev zlib1g-dev clang-format
      clang libclang-rt-14-dev libomp-dev  # clang + its sanitizer/libFuzzer runtimes + OpenMP: the fuzz build
      openmpi-bin libopenmpi-dev           # mpirun -np N lmul train (data parallel) and its tests
      python3-pybind11 pybind11-dev python3-dev python3-numpy)  # the Python module lmul (python/)
if [[ "${1:-}" == "--with-torch" ]]; then pkgs+=(python3-torch); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
