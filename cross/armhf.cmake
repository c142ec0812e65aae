# 32-bit Raspberry Pi OS / Debian armhf (ARMv7, hard float): Raspberry Pi 2 and later
# boards running a 32-bit system.
set(CK_CROSS_TARGET armhf)
set(CK_CROSS_TRIPLE arm-linux-gnueabihf)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE armhf)
# GCC notes on every std::map/vector instantiation that the ARM calling convention changed
# in GCC 7.1: irrelevant here, since everything is built with the same compiler.
set(CK_CROSS_EXTRA_FLAGS "-Wno-psabi")
include(${CMAKE_CURRENT_LIST_DIR}/toolchain.cmake)
