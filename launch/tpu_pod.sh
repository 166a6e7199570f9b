#!/usr/bin/env bash
# Train on a Cloud TPU VM pod (one jaxbip process per TPU VM worker).
#
#   launch/tpu_pod.sh create [gcloud flags...]   # e.g. --spot
#   launch/tpu_pod.sh run --config=configs/default.py \
#       --workdir=gs://BUCKET/jaxbip/run1 --config.eval.batch_size=128
#   launch/tpu_pod.sh stop                       # SIGTERM: checkpoint, exit 0
#   launch/tpu_pod.sh delete [gcloud flags...]   # e.g. --quiet
#
# `run` clones (or updates to BRANCH) REPO_URL on every worker, runs
# `make venv` with REMOTE_PYTHON, installs jax[tpu] at the jax version of
# requirements.lock (setup.cfg's `tpu` extra), then starts
# `.venv/bin/python -m jaxbip.main` with the remaining arguments, unchanged,
# on all workers at once. jaxbip.main calls
# jax.distributed.initialize() with no arguments there: JAX detects the pod
# (coordinator, process count and index) by itself.
#
# Every worker must use the same --workdir, on storage all of them reach: a
# gs:// bucket path works (Orbax checkpoints and TFDS data_dir both read and
# write gs:// paths). A relative or local path would give each worker its own
# directory. After a preemption or `stop`, `run` with the same arguments
# resumes from the checkpoint in the workdir (a preempted Spot TPU must be
# deleted and created again first).
#
# Settings (environment overrides the defaults below):
TPU_NAME=${TPU_NAME:-jaxbip-pod}
ZONE=${ZONE:-us-central2-b}
ACCELERATOR_TYPE=${ACCELERATOR_TYPE:-v4-32}
RUNTIME_VERSION=${RUNTIME_VERSION:-tpu-ubuntu2204-base}
PROJECT=${PROJECT:-}            # empty: gcloud's configured project
REPO_URL=${REPO_URL:-}          # empty: this checkout's `origin` remote
BRANCH=${BRANCH:-main}
REMOTE_DIR=${REMOTE_DIR:-jaxbip}           # on each worker, under $HOME
REMOTE_PYTHON=${REMOTE_PYTHON:-python3.11} # setup.cfg needs Python >= 3.11
set -euo pipefail

me=tpu_pod
cd "$(dirname "$0")/.."
usage() {
  echo "usage: $0 create|run|stop|delete [flags...]" >&2
  exit 2
}
(( $# >= 1 )) || usage
action=$1
shift

gcloud_tpu=(gcloud compute tpus tpu-vm)
where=(--zone="$ZONE")
if [[ -n $PROJECT ]]; then where+=(--project="$PROJECT"); fi

ssh_all() {  # COMMAND: run COMMAND on every worker
  "${gcloud_tpu[@]}" ssh "$TPU_NAME" "${where[@]}" --worker=all --command="$1"
}

run_command() {  # main's arguments -> the command each worker runs
  local main_args=
  if (( $# )); then printf -v main_args ' %q' "$@"; fi
  printf 'repo_url=%q branch=%q dir=%q py=%q\n' \
    "$REPO_URL" "$BRANCH" "$REMOTE_DIR" "$REMOTE_PYTHON"
  printf 'set --%s\n' "$main_args"  # main's arguments, as given here
  cat <<'EOF'
set -euo pipefail
cd "$HOME"
if ! command -v git >/dev/null || ! command -v make >/dev/null \
    || ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then
  sudo apt-get -qq -o DPkg::Lock::Timeout=300 update
  sudo DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 \
    install -y git make "$py" "$py-venv" >/dev/null
fi
if [[ -d $dir/.git ]]; then
  git -C "$dir" fetch -q origin "$branch"
  git -C "$dir" reset -q --hard
  git -C "$dir" checkout -q -B "$branch" FETCH_HEAD
else
  git clone -q --branch "$branch" "$repo_url" "$dir"
fi
cd "$dir"
echo "$(hostname): $(git rev-parse --short HEAD)"
make -s venv PYTHON="$py"
.venv/bin/python -m pip install -q -c requirements.lock -e '.[tpu,cloud]'
.venv/bin/python -m jaxbip.main "$@" &
echo $! > "$HOME/.jaxbip_main.pid"
status=0
wait $! || status=$?
rm -f "$HOME/.jaxbip_main.pid"
exit "$status"
EOF
}

case $action in
  create)
    "${gcloud_tpu[@]}" create "$TPU_NAME" "${where[@]}" \
      --accelerator-type="$ACCELERATOR_TYPE" --version="$RUNTIME_VERSION" "$@"
    ;;
  run)
    if [[ -z $REPO_URL ]]; then
      REPO_URL=$(git remote get-url origin 2>/dev/null) || {
        echo "$me: set REPO_URL (this checkout has no 'origin' remote)" >&2
        exit 2
      }
    fi
    workdir=
    for arg in "$@"; do
      case $arg in --workdir=*) workdir=${arg#--workdir=} ;; esac
    done
    if [[ $workdir != gs://* ]]; then
      echo "$me: warning: --workdir=$workdir is not a gs:// path; every worker" \
        "must see the same workdir" >&2
    fi
    command=$(run_command "$@")
    ssh_all "$command"
    ;;
  stop)
    # shellcheck disable=SC2016  # $HOME etc. expand on each worker
    ssh_all 'if [[ -f $HOME/.jaxbip_main.pid ]]; then
  kill -TERM "$(cat "$HOME/.jaxbip_main.pid")" && echo "$(hostname): SIGTERM sent"
else
  echo "$(hostname): no run"
fi'
    ;;
  delete)
    "${gcloud_tpu[@]}" delete "$TPU_NAME" "${where[@]}" "$@"
    ;;
  *)
    usage
    ;;
esac
