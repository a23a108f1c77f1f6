#!/usr/bin/env bash
# Create (or reuse) the virtual environment and install the five VISA packages, editable, with
# their test extras. On machines without an NVIDIA GPU, constraints/cpu.txt pins the CPU torch
# wheel and forbids torchvision (it breaks transformers with the CPU torch). Override the choice
# with VISA_TORCH=cpu|cuda; choose the environment folder with VISA_VENV (default .venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VISA_VENV:-.venv}
packages=(visa-core visa-data visa-frame-select visa-propagate visa-eval)

torch_kind=${VISA_TORCH:-}
if [ -z "$torch_kind" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then torch_kind=cuda; else torch_kind=cpu; fi
fi
if [ "$torch_kind" = cpu ]; then export PIP_CONSTRAINT="$PWD/constraints/cpu.txt"; fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
stamp="$venv/.visa-installed"
wanted=$( { echo "$torch_kind"; cat constraints/cpu.txt scripts/setup-env.sh; for p in "${packages[@]}"; do cat "packages/$p/pyproject.toml"; done; } | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  echo "setup-env: $venv is up to date"
  exit 0
fi
args=()
for p in "${packages[@]}"; do args+=(-e "packages/$p[test]"); done
echo "setup-env: installing ${packages[*]} into $venv (torch: $torch_kind)"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${args[@]}" "ruff==0.17.5" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "$wanted" > "$stamp"
