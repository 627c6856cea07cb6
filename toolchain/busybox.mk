# busybox.mk: BusyBox for the firmware image (rootfs/rootfs.mk includes
# it after toolchain.mk). Only for cross targets:
#
# In:	ARCH, TC_CC, TC_STAMP, PORCH_CACHE (toolchain.mk)
#	BUSYBOX_CONFIG	the config fragment (default rootfs/busybox.config)
# Out:	BUSYBOX_PREFIX	the cached build: busybox, busybox.links, config
#	BUSYBOX_STAMP	file; its rule builds BusyBox for this target
# Phony: busybox.
# The cache is keyed by the BusyBox version and a hash of the fragment,
# build-busybox.sh and the compiler: editing the fragment rebuilds.

BUSYBOX_CONFIG ?= rootfs/busybox.config

ifneq ($(filter armhf aarch64 mipsel,$(ARCH)),)
_bb_hash := $(shell { cat $(BUSYBOX_CONFIG) $(TC_DIR)/build-busybox.sh; \
	echo '$(ARCH) $(BUSYBOX_DEB) $(TC_CC)'; } | sha256sum | cut -c1-10)
BUSYBOX_PREFIX := $(PORCH_CACHE)/$(ARCH)/busybox-$(BUSYBOX_VERSION)-$(_bb_hash)
BUSYBOX_STAMP := $(BUSYBOX_PREFIX)/.stamp

$(BUSYBOX_STAMP): | $(TC_STAMP)
	@$(_tc_lock) $(_tc_env) $(_tc_dir)/build-busybox.sh $(ARCH) \
	    $(BUSYBOX_PREFIX) '$(TC_CC)' $(abspath $(BUSYBOX_CONFIG))

.PHONY: busybox
busybox: $(BUSYBOX_STAMP)
	@:
endif
