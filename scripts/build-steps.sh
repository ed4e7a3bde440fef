# scripts/build-steps.sh — shared by the image build (image/lib.sh) and the netboot build
# (pxe/build-netboot.sh); sourced, not run. Named, logged and timed steps, loud failures that name
# the fix, and content hashes for the build caches.
#
# The sourcing script sets BUILD_NAME (the log prefix: image, netboot) first; BUILD_T0 (the build's
# start, for the elapsed seconds in every line) is taken now unless set already.

BUILD_NAME=${BUILD_NAME:?set BUILD_NAME before sourcing build-steps.sh}
BUILD_T0=${BUILD_T0:-$(date +%s)}
REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '[%s %4ss] %s\n' "$BUILD_NAME" "$(( $(date +%s) - BUILD_T0 ))" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$BUILD_NAME" "$*" >&2; exit 1; }

# step NAME FUNCTION ARGS...: runs one named step, logs its start, end and duration, stops the build on failure.
step() {
  local name=$1 t0; shift
  t0=$(date +%s)
  log "── $name"
  "$@" || die "step '$name' failed (see the lines above)"
  log "   $name done in $(( $(date +%s) - t0 ))s"
}

need_tool() { # need_tool COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: run scripts/install-deps.sh (Debian package $2)"
}

# hash_inputs PATH...: one sha256 over the names and contents of files (directories recursively,
# symlinks as their targets), so a cache is reused exactly when its inputs did not change. Names are
# relative to the repository: a clone elsewhere (CI's clean clone) reuses the same caches (with
# absolute names every new checkout rebuilt the arm64 base, 20 minutes of CI).
hash_inputs() {
  local path name
  for path in "$@"; do
    name=${path#"$REPO_DIR"/}
    if [ -d "$path" ]; then
      (cd "$path" && find . \( -type f -o -type l \) -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' f; do
        if [ -L "$f" ]; then printf 'L %s %s\n' "$f" "$(readlink "$f")"; else printf 'F %s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-64)"; fi
      done)
    elif [ -e "$path" ]; then
      printf 'F %s %s\n' "$name" "$(sha256sum <"$path" | cut -c1-64)"
    else
      printf 'M %s\n' "$name"
    fi
  done | sha256sum | cut -c1-16
}

# unmount_under PREFIX: unmounts whatever is mounted at paths starting with PREFIX, deepest first. A
# build killed mid-way leaves mmdebstrap's /proc, /sys and /dev/pts mounted inside its tree, and
# removing that tree then fails on them.
unmount_under() {
  local target
  findmnt -rn -o TARGET | awk -v prefix="$1" 'index($0, prefix) == 1' | sort -r | while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done
}

# Free space (MiB) on the file system holding $1.
free_mib() { df -Pm "$1" | awk 'NR==2 {print $4}'; }

# extract_packages ARCH "PACKAGES" → prints a directory: Debian packages of $SUITE from $MIRROR
# unpacked there (not installed: no maintainer scripts run), cached under $WORK_ROOT/debs by what
# was asked. For programs and files a build takes from Debian without putting the package into a
# root file system (the netboot's busybox and iPXE, the image's boot loaders).
extract_packages() {
  local arch=$1 packages=$2 key dir
  key=$(echo "${EXTRACT_RECIPE:-1} ${SUITE:?} ${MIRROR:?} $arch $packages" | sha256sum | cut -c1-16)
  dir="${WORK_ROOT:?}/debs/$arch-$key"
  if [ ! -f "$dir/complete" ]; then
    rm -rf "$dir"; mkdir -p "$dir"
    nice -n 10 mmdebstrap --mode=root --variant=extract --arch="$arch" --include="$packages" \
      "$SUITE" "$dir/root" "deb $MIRROR $SUITE main" >"$dir/mmdebstrap.log" 2>&1 \
      || { tail -15 "$dir/mmdebstrap.log" >&2; die "extracting $packages ($arch) from $MIRROR failed; log $dir/mmdebstrap.log"; }
    touch "$dir/complete"
  fi
  echo "$dir/root"
}
package_version() { # package_version ROOT PACKAGE: from the package's Debian changelog (a native package's is changelog.gz)
  { zcat "$1/usr/share/doc/$2/changelog.Debian.gz" 2>/dev/null || zcat "$1/usr/share/doc/$2/changelog.gz" 2>/dev/null; } | sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p'
}
