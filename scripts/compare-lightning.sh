#!/usr/bin/env bash
# The seed's MNIST autoencoder trained side by side by (a) our Trainer with its defaults on, (b) PyTorch Lightning
# 2.6 with Trainer(max_epochs=1) defaults and (c) a hand-written PyTorch loop: same data (real MNIST, in memory, no
# shuffle), same Adam(lr=1e-3), same MSE, one intra-op thread, each run in a fresh process, the three interleaved.
#
# Usage: scripts/compare-lightning.sh [--reps N] [--batch-sizes 1,32,256] [--bs1-steps N] [--ours-only]
#   --reps N            repetitions of each (implementation, batch size); default 5 (about 5 minutes on 2 cores)
#   --batch-sizes LIST  default 1,32,256; batch 1 runs --bs1-steps steps (3000), the others one epoch
#   --ours-only         skip the Python side
#
# Repetition r uses the seed 41+r on every side, so the test-MSE range shows the spread over seeds. The Python side
# runs in a virtual environment made once with pip from benchmarks/requirements.txt and kept in
# ${BENCH_VENV:-~/.cache/djl-lightning/bench-venv}; without pip access the script says so and runs only our side.
# Prints a table and `RESULT bs=<n> ours_vs_lightning=<r> ours_vs_plain_torch=<r>`, `RESULT startup_s=<ours>
# <lightning>`; the runs' own output is kept under target/compare-lightning/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps=5
batch_sizes="1,32,256"
bs1_steps=3000
ours_only=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --batch-sizes) batch_sizes="$2"; shift 2 ;;
    --bs1-steps) bs1_steps="$2"; shift 2 ;;
    --ours-only) ours_only=true; shift ;;
    *) echo "unknown option '$1'; options: --reps N, --batch-sizes LIST, --bs1-steps N, --ours-only" >&2; exit 2 ;;
  esac
done
[[ "${reps}" =~ ^[1-9][0-9]*$ ]] || { echo "--reps takes a positive integer, got '${reps}'" >&2; exit 2; }

cd "${root}"
if [[ -z "${MNIST_DIR:-}" ]]; then
  scripts/fetch-mnist.sh
  export MNIST_DIR="${root}/data/mnist"
fi
MNIST_DIR="$(cd "${MNIST_DIR}" && pwd)"
export MNIST_DIR

echo "Building the examples (mvn package)..." >&2
mvn -B -q -ntp -DskipTests -pl lightning-examples -am package dependency:build-classpath \
  -Dmdep.outputFile=target/run-classpath.txt -Dmdep.includeScope=runtime >&2
classpath="${root}/lightning-examples/target/classes:$(cat lightning-examples/target/run-classpath.txt)"

# The Python side: a virtual environment with torch and lightning, made once and reused.
venv="${BENCH_VENV:-${HOME}/.cache/djl-lightning/bench-venv}"
python=""
if [[ "${ours_only}" == false ]]; then
  if "${venv}/bin/python" -c 'import torch, lightning' 2>/dev/null; then
    python="${venv}/bin/python"
  elif command -v python3 >/dev/null; then
    echo "Making the Python environment ${venv} (pip install torch lightning; takes minutes, once)..." >&2
    mkdir -p "$(dirname "${venv}")"
    if python3 -m venv "${venv}" >&2 \
        && "${venv}/bin/python" -m pip install -q --no-input -r benchmarks/requirements.txt >&2 \
        && "${venv}/bin/python" -c 'import torch, lightning'; then
      python="${venv}/bin/python"
    else
      echo "pip could not install torch and lightning (no access to a package index?): running only our side." >&2
    fi
  else
    echo "No python3 found: running only our side." >&2
  fi
fi

out="${root}/target/compare-lightning"
rm -rf "${out}"
mkdir -p "${out}/logs" "${out}/tmp"
# the runs' lightning_logs go to temporary folders under here, removed at the end
export TMPDIR="${out}/tmp"
tmp="${out}/tmp"
runs="${out}/runs.txt"
: > "${runs}"

# runs one implementation in a fresh process and appends its RUN line, with the whole-process seconds, to runs.txt
run_one() {
  local impl="$1" bs="$2" seed="$3" steps_args=() log start end line
  [[ "${bs}" == 1 ]] && steps_args=(--max-steps "${bs1_steps}")
  log="${out}/logs/${impl}-bs${bs}-seed${seed}.log"
  start=$(date +%s%N)
  case "${impl}" in
    ours) (cd "${out}/logs" && java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 ${JAVA_OPTS:-} \
            -cp "${classpath}" \
            io.github.djllightning.examples.Examples compare-run --batch-size "${bs}" --seed "${seed}" \
            --root "${tmp}" "${steps_args[@]}") > "${log}" 2>&1 ;;
    *) (cd "${out}/logs" && "${python}" "${root}/benchmarks/compare_run.py" --impl "${impl}" --batch-size "${bs}" \
            --seed "${seed}" "${steps_args[@]}") > "${log}" 2>&1 ;;
  esac || { echo "the ${impl} run at batch ${bs} failed; see ${log}" >&2; tail -5 "${log}" >&2; exit 1; }
  end=$(date +%s%N)
  line="$(grep '^RUN ' "${log}" | tail -1)"
  echo "${line} process_s=$(awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')" \
    | tee -a "${runs}" >&2
}

impls=(ours)
[[ -n "${python}" ]] && impls=(ours lightning torch)
IFS=',' read -r -a sizes <<< "${batch_sizes}"
for ((r = 1; r <= reps; r++)); do
  for bs in "${sizes[@]}"; do
    # rotate who goes first, so a slow drift of the machine does not always hit the same side
    n=${#impls[@]}
    for ((i = 0; i < n; i++)); do
      run_one "${impls[$(((i + r + bs) % n))]}" "${bs}" "$((41 + r))"
    done
  done
done

rm -rf "${out}/tmp"
echo
if command -v python3 >/dev/null; then
  python3 benchmarks/summarize.py "${runs}"
elif [[ -n "${python}" ]]; then
  "${python}" benchmarks/summarize.py "${runs}"
else
  cat "${runs}"
fi
