# thinkiosk's slot chooser for U-Boot (Raspberry Pi; QEMU's virt machine in the tests): picks root
# slot A or B and boots the kernel and initramfs inside that slot (image/ab-slots.md). Made into
# boot.scr by image/steps/50-boot-files.sh (mkimage -T script).
#
# tk-slot.txt (written by Linux only): tk_slot = the committed slot; tk_trial + tk_trial_id = a slot
# to try once. tk-tried.txt (written here only): the id of the trial this script has started. A
# trial runs once: if Linux has not committed it by the next boot, the committed slot boots.
echo "thinkiosk: choosing a slot on ${devtype} ${devnum}"
setenv tk_slot a
setenv tk_trial
setenv tk_trial_id
setenv tk_tried
if load ${devtype} ${devnum}:1 ${scriptaddr} tk-slot.txt; then env import -t ${scriptaddr} ${filesize} tk_slot tk_trial tk_trial_id; fi
if test "${tk_slot}" != b; then setenv tk_slot a; fi
setenv tk_boot ${tk_slot}
if test -n "${tk_trial}" && test -n "${tk_trial_id}" && test "${tk_trial}" != "${tk_slot}"; then
  if load ${devtype} ${devnum}:1 ${scriptaddr} tk-tried.txt; then env import -t ${scriptaddr} ${filesize} tk_tried; fi
  if test "${tk_tried}" = "${tk_trial_id}"; then
    echo "thinkiosk: the trial of slot ${tk_trial} did not finish; booting slot ${tk_slot}"
  else
    # Recorded before the trial starts: a trial that hangs or resets is never started twice.
    setenv tk_tried ${tk_trial_id}
    env export -t ${scriptaddr} tk_tried
    if fatwrite ${devtype} ${devnum}:1 ${scriptaddr} tk-tried.txt ${filesize}; then
      setenv tk_boot ${tk_trial}
      echo "thinkiosk: trying slot ${tk_trial} once"
    else
      echo "thinkiosk: cannot record the trial of slot ${tk_trial}; booting slot ${tk_slot}"
    fi
  fi
fi
if test "${tk_boot}" = b; then setenv tk_part 3; setenv tk_label TKROOT-B; else setenv tk_part 2; setenv tk_label TKROOT-A; fi
# The firmware's command line (cmdline.txt on this partition, which the Pi firmware puts into the
# device tree's /chosen/bootargs), then the slot's own kernel parameters, then the slot.
if test -n "${fdt_addr}"; then setenv tk_fdt ${fdt_addr}; else setenv tk_fdt ${fdtcontroladdr}; fi
setenv tk_fwargs
fdt addr ${tk_fdt} && fdt get value tk_fwargs /chosen bootargs
setenv tk_bootargs
if load ${devtype} ${devnum}:${tk_part} ${scriptaddr} /boot/bootargs.env; then env import -t ${scriptaddr} ${filesize} tk_bootargs; fi
setenv bootargs "${tk_fwargs} ${tk_bootargs} root=LABEL=${tk_label} thinkiosk.slot=${tk_boot}"
echo "thinkiosk: booting slot ${tk_boot} (partition ${tk_part})"
if load ${devtype} ${devnum}:${tk_part} ${kernel_addr_r} /boot/vmlinuz; then
  if load ${devtype} ${devnum}:${tk_part} ${ramdisk_addr_r} /boot/initrd.img; then
    booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${tk_fdt}
  fi
fi
echo "thinkiosk: ERROR slot ${tk_boot} (partition ${tk_part}) has no kernel that starts; restarting in 10 s"
sleep 10
reset
