#!/usr/bin/env bash
# Installs starlops' build and test dependencies from Debian's packages (idempotent, needs root).
# Also enables a deb-src entry so that the build can fetch StarPU's Debian source package
# (cmake/build-starpu.sh builds it with FxT and, when nvcc exists, CUDA).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# deb-src entry mirroring the first deb822 'deb' source of the machine (Debian bookworm here).
src_list=/etc/apt/sources.list.d/starlops-deb-src.sources
if [ ! -f "$src_list" ]; then
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  suite=$(awk '/^Suites:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  : "${uri:=http://deb.debian.org/debian}"
  : "${suite:=bookworm}"
  cat > "$src_list" <<SRC
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  rm -f /var/lib/starlops-apt-updated
fi

packages=(
  build-essential cmake pkg-config dpkg-dev
  libopenmpi-dev openmpi-bin
  libopenblas-dev liblapacke-dev
  libfftw3-dev                     # sl_op_fft (double and single precision FFTW)
  libhwloc-dev hwloc
  libfxt-dev fxt-tools pajeng recutils
  libltdl-dev
  python3 python3-matplotlib       # tools/starlops-trace's Gantt chart, bench plots
  libscalapack-openmpi-dev         # bench/summa's PDGEMM reference (linked by the bench only)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ! -f /var/lib/starlops-apt-updated ] || [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  touch /var/lib/starlops-apt-updated
fi
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps.sh: dependencies present"
