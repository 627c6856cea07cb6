# Pinned third-party sources, fetched as Debian source packages (trixie)
# by toolchain/fetch.sh and checked against these sha256 sums.
# Plain "NAME = value" lines: read by make (toolchain.mk) and by the shell
# scripts alike, so keep them free of make functions and shell syntax.

# musl libc: upstream 1.2.5 plus Debian's patches (CVE-2025-26519 iconv
# fixes, qsort fix, renameat2).
MUSL_VERSION = 1.2.5
MUSL_DEB = 1.2.5-3.1~deb13u1
MUSL_ORIG = musl_1.2.5.orig.tar.gz
MUSL_ORIG_SHA256 = a9a118bbe84d8764da0ea0d28b3ab3fae8477fc7e4085d90102b8596fc7c75e4
MUSL_DEBIAN_SHA256 = 46fdfb271edc2f035d8d4063ff2e299734409693e781e69e4b77e0a9a495072e

# mbedTLS 3.6 LTS: the release tarball carries the generated sources, so
# building the library needs neither Python nor CMake.
MBEDTLS_VERSION = 3.6.6
MBEDTLS_DEB = 3.6.6-0.1~deb13u1
MBEDTLS_ORIG = mbedtls_3.6.6.orig.tar.bz2
MBEDTLS_ORIG_SHA256 = 8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a
MBEDTLS_DEBIAN_SHA256 = 210466c522eeebc85cf2f76bd5aef935b4ebac465559cc0a84f9e73a8ed6601c

# BusyBox: the epoch (1:) is part of the Debian version, not of file names.
BUSYBOX_VERSION = 1.37.0
BUSYBOX_DEB = 1:1.37.0-6
BUSYBOX_ORIG = busybox_1.37.0.orig.tar.bz2
BUSYBOX_ORIG_SHA256 = 3311dff32e746499f4df0d5df04d7eb396382d7e108bb9250e7b519b837043a4
BUSYBOX_DEBIAN_SHA256 = 10b2cd64b41c26ae134e1cd6135b68575bbe79356c20985f35e32f32a1746c34
