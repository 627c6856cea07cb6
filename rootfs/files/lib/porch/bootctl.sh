# bootctl.sh: the boot-control record of the flash's A/B root slots.
# Sourced (POSIX sh: BusyBox ash in the image, dash on the build host) by
# the boot initramfs's /init, by fw-upgrade and by rootfs/mkdisks.sh.
# rootfs/README.md describes the layout and every state change.
#
# The flash disk (virtio serial "porch-flash"): partition 1 holds the
# record, partitions 2 and 3 are root slots a and b (squashfs). The record
# is text of at most 512 bytes, kept twice (sectors 0 and 8 of partition
# 1) and always written to the copy holding the older sequence number, so
# a write cut short by a power loss leaves the other, previous copy valid:
#
#	porch-bootctl 1
#	seq=7
#	active=b
#	a_state=good		good | pending | bad | empty
#	a_version=1.0
#	a_size=1871872		payload bytes of the slot's squashfs
#	a_sha256=...
#	a_tries=0		boots left for a pending slot
#	b_state=pending
#	...
#	sum=<sha256 of the lines above, each ending in a newline>
#
# Variables: BC_seq, BC_active, BC_a_state ... BC_b_tries.

BC_MAGIC="porch-bootctl 1"
BC_COPIES="0 8"		# 512-byte sectors within partition 1
BC_TRIES=3		# boots a new slot gets to confirm itself

bc_clear() {
	BC_seq=0
	BC_active=a
	for s in a b; do
		eval "BC_${s}_state=empty BC_${s}_version= BC_${s}_size=0" \
		    "BC_${s}_sha256= BC_${s}_tries=0"
	done
}

# bc_get SLOT FIELD: print BC_<slot>_<field>.
bc_get() {
	eval "printf '%s\n' \"\$BC_${1}_$2\""
}

# bc_set SLOT FIELD VALUE
bc_set() {
	case $1$2 in
	[ab]state|[ab]version|[ab]size|[ab]sha256|[ab]tries)
		eval "BC_${1}_$2=\$3" ;;
	*)	echo "bootctl: bad field $1 $2" >&2; return 1 ;;
	esac
}

# bc_disk SERIAL: the virtio disk QEMU gave that serial (-device
# virtio-blk-...,serial=porch-flash): /dev/vda, ...
bc_disk() {
	local f
	for f in /sys/block/*/serial; do
		[ -f "$f" ] || continue
		if [ "$(cat "$f")" = "$1" ]; then
			f=${f%/serial}
			echo "/dev/${f##*/}"
			return 0
		fi
	done
	return 1
}

bc_other() {
	if [ "$1" = a ]; then echo b; else echo a; fi
}

# bc_body: the record without its sum line.
bc_body() {
	echo "$BC_MAGIC"
	echo "seq=$BC_seq"
	echo "active=$BC_active"
	for s in a b; do
		for f in state version size sha256 tries; do
			echo "${s}_$f=$(bc_get $s $f)"
		done
	done
}

# bc_parse FILE: set BC_* from one copy; 1 when it is not a valid record
# (blank, torn, foreign). Values are only ever assigned, never evaluated.
bc_parse() {
	local body sum key val
	[ "$(head -n 1 "$1")" = "$BC_MAGIC" ] || return 1
	body=$(sed '/^sum=/,$d' "$1")
	sum=$(sed -n 's/^sum=\([0-9a-f]\{64\}\)$/\1/p' "$1")
	[ -n "$sum" ] || return 1
	[ "$(printf '%s\n' "$body" | sha256sum | cut -c1-64)" = "$sum" ] ||
	    return 1
	bc_clear
	while IFS='=' read -r key val; do
		case $key in
		seq)	BC_seq=$val ;;
		active)	BC_active=$val ;;
		[ab]_state|[ab]_version|[ab]_size|[ab]_sha256|[ab]_tries)
			bc_set "${key%%_*}" "${key#?_}" "$val" ;;
		esac
	done <<EOF
$body
EOF
	case $BC_active in a|b) ;; *) return 1 ;; esac
	for val in "$BC_seq" "$BC_a_size" "$BC_a_tries" "$BC_b_size" \
	    "$BC_b_tries"; do
		case $val in ''|*[!0-9]*) return 1 ;; esac
	done
	return 0
}

# bc_read PART [TMPDIR]: load the newest valid copy from the bootctl
# partition (or an image file of it). 1 when neither copy is valid.
# BC_copies says how many copies were valid.
bc_read() {
	local part=$1 tmp=${2:-/tmp} best=-1 off seq
	BC_copies=0
	for off in $BC_COPIES; do
		dd if="$part" bs=512 skip="$off" count=1 2>/dev/null |
		    tr -d '\000' >"$tmp/bootctl.$off"
		if bc_parse "$tmp/bootctl.$off"; then
			BC_copies=$((BC_copies + 1))
			[ "$BC_seq" -gt "$best" ] && best=$BC_seq
		fi
	done
	for off in $BC_COPIES; do
		if bc_parse "$tmp/bootctl.$off" && [ "$BC_seq" -eq "$best" ]; then
			rm -f "$tmp/bootctl.0" "$tmp/bootctl.8"
			return 0
		fi
	done
	rm -f "$tmp/bootctl.0" "$tmp/bootctl.8"
	bc_clear
	return 1
}

# bc_write PART [TMPDIR]: store BC_* with the next sequence number into
# the copy that holds the older one, and flush it to the disk.
bc_write() {
	local part=$1 tmp=${2:-/tmp} body sum off
	BC_seq=$((BC_seq + 1))
	body=$(bc_body)
	sum=$(printf '%s\n' "$body" | sha256sum | cut -c1-64)
	printf '%s\nsum=%s\n' "$body" "$sum" >"$tmp/bootctl.new"
	[ "$(wc -c <"$tmp/bootctl.new")" -le 512 ] || {
		echo "bootctl: record longer than 512 bytes" >&2
		rm -f "$tmp/bootctl.new"
		return 1
	}
	set -- $BC_COPIES
	if [ $((BC_seq % 2)) -eq 0 ]; then off=$1; else off=$2; fi
	dd if="$tmp/bootctl.new" of="$part" bs=512 seek="$off" count=1 \
	    conv=notrunc,sync,fsync 2>/dev/null || {
		rm -f "$tmp/bootctl.new"
		echo "bootctl: cannot write $part" >&2
		return 1
	}
	rm -f "$tmp/bootctl.new"
}

# bc_json: the record as a JSON object (fw-upgrade status).
bc_json() {
	printf '{"seq":%s,"active":"%s"' "$BC_seq" "$BC_active"
	for s in a b; do
		printf ',"%s":{"state":"%s","version":"%s","size":%s,' \
		    "$s" "$(bc_get $s state)" "$(bc_get $s version)" \
		    "$(bc_get $s size)"
		printf '"sha256":"%s","tries":%s}' "$(bc_get $s sha256)" \
		    "$(bc_get $s tries)"
	done
	printf '}\n'
}
