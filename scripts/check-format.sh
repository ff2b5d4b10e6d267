#!/usr/bin/env bash
# Every C++ file follows .clang-format (what CI checks; `clang-format -i FILE` fixes one).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files '*.cpp' '*.h' | xargs clang-format --style=file --dry-run -Werror
echo "format: every C++ file follows .clang-format"
