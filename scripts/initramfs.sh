# scripts/initramfs.sh — the small busybox initramfs shared by the disk image (image/initramfs,
# image/steps/50-boot-files.sh) and the netboot files (pxe/initramfs, pxe/build-netboot.sh); sourced,
# not run. Everything here runs on the build machine: no initramfs-tools, nothing under qemu-user
# (initramfs-tools took almost four minutes per arm64 build under emulation and made a 36 MB
# initramfs with every storage and file system driver of the kernel).

# initramfs_modules MODULES_DIR LIST TREE: the modules named in LIST ('#' comments; names with - or
# _), each after what it depends on (modules.dep), decompressed into TREE/lib/modules, and their
# load order in TREE/lib/modules/load-order (the /init scripts insmod them in that order). Prints
# the names that are not modules of this kernel (built in, or absent) on standard output.
initramfs_modules() {
  local modules=$1 list=$2 tree=$3 path name
  mkdir -p "$tree/lib/modules"
  : >"$tree/lib/modules/load-order"
  grep -v '^\s*#' "$list" | awk 'NF {print $1}' | awk -v depfile="$modules/modules.dep" -v missing="$tree/.missing" '
    BEGIN { while ((getline line < depfile) > 0) { split(line, parts, ":"); path = parts[1]; name = path
              sub(/.*\//, "", name); sub(/\.ko(\.[a-z]+)?$/, "", name); gsub(/-/, "_", name)
              file[name] = path; deps[name] = parts[2] } }
    function visit(name,   list, n, i, d) {
      if (name in done || !(name in file)) return
      done[name] = 1
      n = split(deps[name], list, " ")
      for (i = 1; i <= n; i++) { d = list[i]; sub(/.*\//, "", d); sub(/\.ko(\.[a-z]+)?$/, "", d); gsub(/-/, "_", d); visit(d) }
      print file[name]
    }
    { name = $1; gsub(/-/, "_", name); if (!(name in file)) print name > missing; visit(name) }' >"$tree/.paths"
  while read -r path; do
    name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}
    case "$path" in
      *.xz) xz -dc "$modules/$path" >"$tree/lib/modules/$name" ;;
      *.zst) zstd -qdc "$modules/$path" >"$tree/lib/modules/$name" ;;
      *) cp "$modules/$path" "$tree/lib/modules/$name" ;;
    esac
    echo "$name" >>"$tree/lib/modules/load-order"
  done <"$tree/.paths"
  [ -f "$tree/.missing" ] && tr '\n' ' ' <"$tree/.missing"
  rm -f "$tree/.paths" "$tree/.missing"
}

# initramfs_pack TREE FILE: TREE as a newc cpio archive, owned by root, in a fixed order, zstd -19
# (every kernel of the image unpacks zstd; small on the boot partition and quick to unpack).
initramfs_pack() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -19 -T0 >"$2"
}
