# modules.sh: load the kernel modules the image ships, in the order
# toolchain/fetch-kernel.sh wrote (dependencies first). Sourced by the
# boot initramfs's /init and by rcS (the whole-root initramfs form keeps
# its modules in /lib/modules). The kernel packages carry no modules.dep
# and BusyBox insmod needs none this way.
modules_load() {
	local dir m
	dir=/lib/modules/$(uname -r)
	[ -f "$dir/modules.order" ] || return 0
	while read -r m; do
		# Loaded already (the initramfs did it) or built in.
		[ -d "/sys/module/$(echo "$m" | tr - _)" ] && continue
		insmod "$dir/$m.ko" || echo "modules: cannot load $m"
	done <"$dir/modules.order"
}
