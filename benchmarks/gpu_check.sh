#!/usr/bin/env bash
# The GPU check of issue 26: runs on a lent GPU machine as it is, in about 5 minutes, writing
# $OUT/gpu_check.md (or ./gpu_check.md) section by section, each under its own timeout:
#   (1) every recipe 5 steps on CUDA in fp32 and bf16, with a checkpoint at 3 and a resume;
#   (2) images/s fp32 eager vs bf16 + channels_last (+ fused Adam, cudnn.benchmark), then
#       + torch.compile, for dcgan, sngan-resnet, biggan, stylegan2 at 32 and 64 px, and
#       StyleGAN2's paper256 preset at 256 px as sec/kimg beside stylegan2-ada-pytorch's
#       published 21.6-24.2 (one V100);
#   (3) two minutes of sngan-resnet at 32 px on Fashion-MNIST, then its domain FID.
#
# The machine (see the device tool's KINDS.md) has Python 3.12 with torch 2.11, torchvision,
# numpy, scipy, tqdm, tensorboard, safetensors, pillow and pyyaml, and no package index. Of
# ganarium's dependencies it lacks omegaconf and its antlr4-python3-runtime (mlxtend, also
# listed, is imported by nothing the check runs). Prepare, once, in the checkout, on a machine
# with pip and the internet (both folders are ignored, and carried with the run):
#   echo /.whl/ >> .git/info/exclude; echo /.fashion/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: -d .whl omegaconf==2.3.0
#   python3 -m pip wheel --no-deps -w .whl antlr4-python3-runtime==4.9.3   # sdist only: build
#   mkdir -p .fashion && cp /usr/share/datasets/fashion-mnist/*-ubyte* .fashion/
#     (the Debian package dataset-fashion-mnist; or torchvision's raw files: the four
#      train-/t10k-*-idx*-ubyte(.gz) files of FashionMNIST/raw/ straight into .fashion/)
# and run it with carry [".whl", ".fashion"]: bash benchmarks/gpu_check.sh
# A dry run of the whole script on a CPU, in a minute: DEVICE=cpu TINY=1 bash benchmarks/gpu_check.sh
set -u
cd "$(dirname "$0")/.."
out="${OUT:-.}/gpu_check.md"
py="${PYTHON:-python3}"
if ls .whl/*.whl >/dev/null 2>&1; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/ganarium-site .whl/*.whl || echo "could not install .whl/" >>"$out"
  export PYTHONPATH="/tmp/ganarium-site:${PYTHONPATH:-}"
fi
export PYTHONPATH=".:${PYTHONPATH:-}" GANARIUM_NO_DOWNLOAD=1 GANARIUM_CACHE=/tmp/ganarium-cache
bench="benchmarks/gpu_throughput.py"
dev="${DEVICE:-cuda}"
tiny=()
[ -n "${TINY:-}" ] && tiny=(--tiny --seconds 5)

section() {  # section TITLE SECONDS ARGS...: run one part under its own timeout
  local title=$1 limit=$2
  shift 2
  printf '\n## %s\n' "$title" >>"$out"
  local start=$SECONDS
  timeout --kill-after=5 "$limit" "$py" "$bench" "$@" --device "$dev" "${tiny[@]}" \
    --out "$out" 2>>"$out.log"
  local rc=$?
  [ $rc -eq 124 ] && echo "(cut at its ${limit} s timeout)" >>"$out"
  [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "(exited with $rc: see gpu_check.md.log)" >>"$out"
  echo "section took $((SECONDS - start)) s" >>"$out"
}

{
  echo "# ganarium GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
  "$py" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda)'
  "$py" -c 'import omegaconf' 2>/dev/null || echo "omegaconf missing: see this script's header"
} >>"$out" 2>&1

section "1. every recipe: 3 steps, checkpoint, resume to 5 (fp32, bf16)" 60 smoke --jobs 8
section "2. images/s: fp32 eager vs bf16 + channels_last (+ compile)" 80 throughput
if [ -d .fashion ] || [ -n "${TINY:-}" ]; then  # the tiny dry run trains on digits instead
  section "3. sngan-resnet 32 px on Fashion-MNIST, 2 minutes, domain FID" 145 fashion \
    --root .fashion --seconds 120
else
  printf '\n## 3. Fashion-MNIST\nskipped: no .fashion/ folder (see the header)\n' >>"$out"
fi
