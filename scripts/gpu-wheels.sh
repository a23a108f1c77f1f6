#!/usr/bin/env bash
# Download into .gpu-wheels/ (ignored by git) the wheels the GPU machine's image lacks for
# benchmarks/gpu_check.py, build the five VISA packages as wheels, check that all that travels fits
# the device tool's 64 MiB, and print the command to run there.
#
# The image (workplace notes, 2026-11): CPython 3.12.3, torch 2.11.0+cu130, transformers 5.17.0,
# peft, accelerate, safetensors, tokenizers, sentencepiece, pluggy, pyyaml, tqdm, pillow; not
# segment-anything, pycocotools, av, decord, bitsandbytes. transformers 5.17 lacks
# configuration_utils.SubConfigSpec, which visa_core.model imports, so the transformers and peft
# this checkout is tested with travel too. bitsandbytes keeps only its CUDA 13.0/13.2 libraries.
# av and decord (35 and 14 MB) stay behind: the check decodes no video file.
#
#   bash scripts/gpu-wheels.sh [FOLDER]        (PYTHON=... picks the interpreter; default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:-.gpu-wheels}
python=${PYTHON:-.venv/bin/python}
limit=$((64 * 1024 * 1024))
packages=(visa-core visa-data visa-frame-select visa-propagate visa-eval)

version() { "$python" -c "import importlib.metadata as m; print(m.version('$1'))"; }
rm -rf "$folder" && mkdir -p "$folder"
echo "gpu-wheels: downloading for CPython 3.12, manylinux x86_64 into $folder"
"$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$folder" \
  --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform any \
  "segment-anything==$(version segment-anything)" "pycocotools==$(version pycocotools)" \
  "transformers==$(version transformers)" "peft==$(version peft)" bitsandbytes \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
"$python" benchmarks/gpu_slim_wheel.py "$folder"/bitsandbytes-*.whl 130 132
echo "gpu-wheels: building ${packages[*]}"
for package in "${packages[@]}"; do
  "$python" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$folder" "packages/$package"
done

ls -l "$folder" | awk 'NR > 1 {printf "  %8.1f MiB  %s\n", $5 / 1048576, $9}'
wheels=$(du -cb "$folder"/*.whl | tail -1 | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | awk '$2 == "total" {s += $1} END {print s}')
printf "gpu-wheels: %.1f MiB of wheels + %.1f MiB of working tree = %.1f MiB of the 64 MiB\n" \
  "$(echo "$wheels / 1048576" | bc -l)" "$(echo "$tree / 1048576" | bc -l)" "$(echo "($wheels + $tree) / 1048576" | bc -l)"
if [ $((wheels + tree)) -gt $limit ]; then
  echo "gpu-wheels: over the 64 MiB the device tool carries" >&2
  exit 1
fi
cat <<COMMAND
Run on the GPU machine (device tool: carry ["$folder"]; \$OUT is the folder that comes back):
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site $folder/*.whl && PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 python3 benchmarks/gpu_check.py --preset visa-7b --device cuda --out \$OUT/gpu-check-visa-7b.json
COMMAND
