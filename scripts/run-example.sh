#!/usr/bin/env bash
# Builds what an example needs and runs it by name.
#
# Usage: scripts/run-example.sh NAME [ARGS...]
#   scripts/run-example.sh autoencoder                 the seed's MNIST autoencoder, 1 epoch at batch 32
#   scripts/run-example.sh autoencoder --epochs 2
#   scripts/run-example.sh load-from-checkpoint        the trained autoencoder from its checkpoint (the newest under
#                                                      lightning_logs, or --checkpoint FILE), embedding 4 fake images
#   scripts/run-example.sh mnist-classifier            an MNIST classifier with validation, early stopping, the
#                                                      best checkpoint tested, and MC-dropout predictions
#   scripts/run-example.sh cli fit --trainer.max_epochs=1 --model.hidden=64 --data.batch_size=32
#                                                      the classifier through LightningCLI (cli --help lists the
#                                                      options; --print_config prints the resolved YAML)
#   scripts/run-example.sh plain-args --layer_1_dim 64 --devices 1
#                                                      the classifier with a hand-made argparse-style command line
#   scripts/run-example.sh overhead-benchmark          Trainer vs a hand-written DJL loop, and memory growth
#   scripts/run-example.sh profiler-overhead-benchmark what profiling costs per step (none / on / simple)
#   scripts/run-example.sh compare-run --batch-size 32 one run of scripts/compare-lightning.sh: our Trainer on the
#                                                      autoencoder, printing steps/s, startup, test MSE, peak RSS
#   scripts/run-example.sh sync-guide                  copies the marked regions of the samples into the Java
#                                                      blocks of docs/*.md and README.md, printing what changed
#
# MNIST is fetched first (scripts/fetch-mnist.sh) for the examples that read it. The natives of the PyTorch engine
# come from Maven; nothing is downloaded when the example runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
examples="autoencoder cli compare-run debug load-from-checkpoint mnist-classifier overhead-benchmark plain-args profiler-overhead-benchmark sync-guide transfer-learning"

if [[ $# -lt 1 ]]; then
  echo "usage: scripts/run-example.sh NAME [ARGS...]; NAME is one of: ${examples}" >&2
  exit 2
fi
name="$1"
shift
case " ${examples} " in
  *" ${name} "*) ;;
  *) echo "unknown example '${name}'; examples are: ${examples}" >&2; exit 2 ;;
esac

case "${name}" in
  autoencoder|cli|compare-run|debug|load-from-checkpoint|mnist-classifier|overhead-benchmark|plain-args|transfer-learning) "${root}/scripts/fetch-mnist.sh" ;;
esac

cd "${root}"
classpath_file="lightning-examples/target/run-classpath.txt"
echo "Building the examples (mvn package)..." >&2
mvn -B -q -ntp -DskipTests -pl lightning-examples -am package dependency:build-classpath \
  -Dmdep.outputFile=target/run-classpath.txt -Dmdep.includeScope=runtime >&2

jvm_opts=()
case "${name}" in
  # a fixed, pre-touched heap so resident-memory growth measures native memory, and one intra-op thread so the
  # engine's thread pool does not compete with the JIT on small machines (both loops run with the same settings)
  compare-run) jvm_opts=(-Dai.djl.pytorch.num_threads=1) ;;
  overhead-benchmark|profiler-overhead-benchmark) jvm_opts=(-Xms1g -Xmx1g -XX:+AlwaysPreTouch -Dai.djl.pytorch.num_threads=1) ;;
esac

exec java -Dai.djl.offline=true "${jvm_opts[@]}" ${JAVA_OPTS:-} \
  -cp "lightning-examples/target/classes:$(cat "${classpath_file}")" \
  io.github.djllightning.examples.Examples "${name}" "$@"
