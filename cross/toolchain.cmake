# Shared part of the Raspberry Pi toolchain files (aarch64.cmake, armhf.cmake), which set
# CK_CROSS_TARGET, CK_CROSS_TRIPLE and CMAKE_SYSTEM_PROCESSOR and include this file.
#
# The compiler is Debian's cross g++ (its C library lives in /usr/<triple>). The target's
# libraries are not installed into the host (`:arm64` packages must match the host's
# versions exactly, which a half-synced mirror breaks); `cross/build` unpacks Debian's
# target packages into build/sysroot/<target> instead, and everything is found there.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${CK_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${CK_CROSS_TRIPLE}-g++)

get_filename_component(CK_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CK_SYSROOT "${CK_SOURCE_ROOT}/build/sysroot/${CK_CROSS_TARGET}")
set(CK_SYSROOT_LIB "${CK_SYSROOT}/usr/lib/${CK_CROSS_TRIPLE}")

set(CMAKE_FIND_ROOT_PATH "${CK_SYSROOT}" "/usr/${CK_CROSS_TRIPLE}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE ${CK_CROSS_TRIPLE})

# Headers and libraries of the unpacked packages (multiarch layout), and the libraries
# they need in turn at link time.
string(JOIN " " CK_CROSS_FLAGS
  "-isystem ${CK_SYSROOT}/usr/include/${CK_CROSS_TRIPLE}"
  "-isystem ${CK_SYSROOT}/usr/include" "${CK_CROSS_EXTRA_FLAGS}")
set(CMAKE_C_FLAGS_INIT "${CK_CROSS_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${CK_CROSS_FLAGS}")
string(JOIN " " CK_CROSS_LINK_FLAGS
  "-L${CK_SYSROOT_LIB}" "-Wl,-rpath-link,${CK_SYSROOT_LIB}"
  "-Wl,-rpath-link,${CK_SYSROOT}/lib/${CK_CROSS_TRIPLE}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${CK_CROSS_LINK_FLAGS}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CK_CROSS_LINK_FLAGS}")

# pkg-config answers for the target, with paths inside the sysroot.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${CK_SYSROOT_LIB}/pkgconfig:${CK_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CK_SYSROOT}")

# Target programs (unit tests, the server in the integration tests) run under qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/qemu;${CK_CROSS_TARGET}")
