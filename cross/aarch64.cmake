# 64-bit Raspberry Pi OS / Debian arm64: Raspberry Pi 3, 4, 5 and Zero 2 W.
set(CK_CROSS_TARGET aarch64)
set(CK_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain.cmake)
