#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) for cir: system packages, npm packages, build.
#   scripts/setup.sh          what running cir needs
#   scripts/setup.sh --dev    also what the test suite needs (headless Chromium for the viewer test)
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# bubblewrap isolates the Python sandbox; Debian's python3 with sympy/numpy/scipy/mpmath runs
# model-written code; python3-seccomp builds the sandbox's system-call filter.
apt_packages=(bubblewrap python3 python3-sympy python3-numpy python3-scipy python3-mpmath python3-seccomp)
if [ "$dev" = 1 ]; then apt_packages+=(chromium); fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing Debian packages: ${missing[*]} (run as root, or install them with apt-get)" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$dev" = 1 ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm ci --no-audit --no-fund --loglevel=error
fi
# npm ci installs node-llama-cpp with only its CPU prebuilt binaries (package.json overrides its CUDA and
# Vulkan builds with an empty package); check that the binary for this platform loads without compiling.
node -e "import('node-llama-cpp').then((m) => m.getLlama({ gpu: false, build: 'never', logLevel: 'error' })).then((llama) => llama.dispose())" \
  || { echo "setup.sh: node-llama-cpp's prebuilt CPU binary does not load here (--engine llamacpp:FILE.gguf will not work)" >&2; exit 1; }
npm run build --silent
echo "setup.sh: ready" >&2
