#!/usr/bin/env bash
# Installs the Debian packages cbag needs to build, test and benchmark,
# only where missing. Usage: scripts/deps.sh [build|test|bench]...
set -euo pipefail
build=(gcc make pkg-config libisal-dev libxxhash-dev zlib1g-dev libzstd-dev
       libbz2-dev liblzma-dev liblz4-dev libedit-dev libcurl4-openssl-dev)
test=(libcmocka-dev python3-dask python3-numpy python3-pandas gzip bzip2 xz-utils zstd lz4
      bsdutils coreutils libopenmpi-dev openmpi-bin
      clang libclang-rt-14-dev libfuzzer-14-dev)
bench=(python3-dask python3-distributed python3-pandas python3-psutil jq time gnuplot-nox)
want=("${build[@]}")
for kind in "$@"; do
  case $kind in
    build) ;;
    test) want+=("${test[@]}") ;;
    bench) want+=("${test[@]}" "${bench[@]}") ;;
    *) echo "deps.sh: unknown kind $kind" >&2; exit 2 ;;
  esac
done
# node and npm for the local S3 server of the remote tests (s3rver, from
# npm): Debian's packages where the machine has neither
if [[ " ${want[*]} " == *" libcmocka-dev "* ]]; then
  command -v node >/dev/null || want+=(nodejs)
  command -v npm >/dev/null || want+=(npm)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps.sh: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
