#!/usr/bin/env bash
# Runs the whole test suite: fetches MNIST (the tests train on real MNIST data), then builds and tests every module.
#
# Usage: scripts/run-tests.sh [extra Maven arguments]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${root}/scripts/fetch-mnist.sh"
cd "${root}"
exec mvn -B -ntp verify "$@"
