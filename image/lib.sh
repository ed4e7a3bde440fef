# image/lib.sh — shared by the image build steps (sourced, not run): the image's directories, and
# the build helpers every build script shares (scripts/build-steps.sh: log, die, step, need_tool,
# hash_inputs, unmount_under, free_mib) and the initramfs helpers (scripts/initramfs.sh).

IMAGE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK_ROOT=${THINKIOSK_IMAGE_WORK:-/var/tmp/thinkiosk-image}
BUILD_NAME=image
source "$IMAGE_DIR/../scripts/build-steps.sh"
source "$IMAGE_DIR/../scripts/initramfs.sh"
