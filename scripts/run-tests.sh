#!/usr/bin/env bash
# Runs the whole test suite: fetches MNIST (the tests train on real MNIST data), then builds, tests and installs every
# module into the local Maven repository; the last module (templates/starter-check) then builds a copy of
# templates/starter offline against the installed artifacts and trains it on MNIST.
#
# Usage: scripts/run-tests.sh [extra Maven arguments]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${root}/scripts/fetch-mnist.sh"
cd "${root}"
exec mvn -B -ntp install "$@"
