# thinkiosk — one entry point per job. See README.md.
.PHONY: all build lint test unit-test demo bench soak cloud-up cloud-down clean image flash netboot

all: build

node_modules: package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# dist/ is rebuilt from scratch so a renamed or deleted test never runs from a stale .js file.
build: node_modules
	rm -rf dist
	npx tsc -p tsconfig.json
	npx tsc -p app/ui/tsconfig.json
	cp app/ui/*.html app/ui/*.css dist/www/app/ui/
	npx tsc -p controller/admin-page/page/tsconfig.json
	cp controller/admin-page/page/*.html controller/admin-page/page/*.css controller/admin-page/page/*.svg dist/www/controller/admin-page/page/

lint: node_modules
	npx eslint .

# Everything: type-check, lint, unit tests, then a real OpenStack brought up from Debian's packages
# and the controller tested against it. Ends with "N passed, N failed".
test: build lint
	scripts/run-tests.sh

# Unit tests only (no cloud).
unit-test: build
	scripts/run-tests.sh unit

# The controller shim in front of a local real OpenStack with demo users alice and bob.
demo: build
	scripts/demo.sh

# Benchmarks (not tests): shim vs direct OpenStack, side by side, printed as ratios.
bench: build
	scripts/bench.sh

# The tests' classroom day (test/day) day after day on one kiosk, printing the same figures (root):
# make soak [SOAK_MINUTES=60] [SOAK_PEOPLE=30]. Uses the test cloud when it runs, never starts it.
soak: build
	node dist/bench/soak.js

cloud-up:
	scripts/test-cloud/up.sh

cloud-down:
	scripts/test-cloud/up.sh down

# The appliance image from Debian trixie: Raspberry Pi (arm64) by default, ARCH=amd64 for PCs.
# Needs root; outputs in /var/tmp/thinkiosk-image/out (OUT=dir to change). See README, "Appliance image".
image: build
	scripts/install-deps.sh image
	image/build.sh --arch $(or $(ARCH),arm64) $(if $(OUT),--out $(OUT))

# Writes the image to a removable card and verifies it: make flash DEVICE=/dev/sdX [IMAGE=file.img.xz]
flash:
	image/flash.sh "$(DEVICE)" $(IMAGE)

# The boot server's netboot files (PXE/TFTP/HTTP) from the same images: kernel, initramfs and
# squashfs root per architecture, iPXE loaders, Raspberry Pi files, SHA256SUMS.
# make netboot [ARCHES="amd64 arm64"] [OUT=dir]; outputs in /var/tmp/thinkiosk-pxe/out/netboot. See README, "Netboot".
netboot: build
	scripts/install-deps.sh pxe
	for arch in $(or $(ARCHES),amd64 arm64); do image/build.sh --arch $$arch || exit 1; done
	pxe/build-netboot.sh $(foreach arch,$(or $(ARCHES),amd64 arm64),--arch $(arch)) $(if $(OUT),--out $(OUT))

clean:
	rm -rf dist
