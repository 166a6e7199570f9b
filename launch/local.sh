#!/usr/bin/env bash
# Train on this machine with every local device; extra arguments go to main.
#   launch/local.sh configs/digits.py runs/digits --config.train.batch_size=64
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/digits.py}
workdir=${2:-runs/$(basename "$config" .py)}
shift $(( $# > 2 ? 2 : $# ))
make venv
mkdir -p "$(dirname "$workdir")"
exec .venv/bin/python -m jaxbip.main --config="$config" --workdir="$workdir" "$@"
