# The Debian packages, made by `cpack -G DEB` in a build directory: `scripts/dev package`
# (amd64) and `cross/build aarch64|armhf` (arm64, armhf; the device only).
#
# course-kiosk, the device (SPEC section 8):
#   /usr/bin/course-kiosk                      the server and its commands
#   /lib/systemd/system/course-kiosk.service   hardened unit, Type=notify with watchdog
#   /usr/lib/sysusers.d/course-kiosk.conf      the dedicated system user
#   /etc/course-kiosk/config.json              example config (a conffile)
#   /usr/share/doc/course-kiosk/               README, operator guide, copyright, changelog
#
# course-registry, the organiser's server (SPEC section 9), where it is built:
#   /usr/bin/course-registry                   the server and its commands
#   /lib/systemd/system/course-registry.service  hardened unit
#   /usr/lib/sysusers.d/course-registry.conf   the dedicated system user
#   /etc/course-registry/registry.env          the database and listen address (a conffile)
#   /usr/share/doc/course-registry/            README, registry guide, sync protocol, ...
#
# Depends is written by hand: dpkg-shlibdeps cannot see a cross target's libraries.
set(CK_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

set(CK_READABLE OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CK_PACKAGING_DIR}/course-kiosk.service DESTINATION /lib/systemd/system
        PERMISSIONS ${CK_READABLE} COMPONENT kiosk)
install(FILES ${CK_PACKAGING_DIR}/sysusers.conf DESTINATION lib/sysusers.d
        RENAME course-kiosk.conf PERMISSIONS ${CK_READABLE} COMPONENT kiosk)
install(FILES ${PROJECT_SOURCE_DIR}/docs/example-config.json DESTINATION /etc/course-kiosk
        RENAME config.json PERMISSIONS ${CK_READABLE} COMPONENT kiosk)

set(CK_CHANGELOG_GZ ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${CK_CHANGELOG_GZ}
  COMMAND gzip -9n -c ${CK_PACKAGING_DIR}/changelog > ${CK_CHANGELOG_GZ}
  DEPENDS ${CK_PACKAGING_DIR}/changelog VERBATIM)
add_custom_target(ck_changelog ALL DEPENDS ${CK_CHANGELOG_GZ})
install(FILES ${CK_PACKAGING_DIR}/copyright ${CK_CHANGELOG_GZ}
        ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/operator-guide.md
        ${PROJECT_SOURCE_DIR}/docs/sync.md ${PROJECT_SOURCE_DIR}/docs/credential.md
        DESTINATION share/doc/course-kiosk PERMISSIONS ${CK_READABLE} COMPONENT kiosk)

set(CPACK_COMPONENTS_ALL kiosk)
set(CK_REGISTRY_PACKAGING_DIR ${CK_PACKAGING_DIR}/registry)
if(COURSE_KIOSK_BUILD_REGISTRY)
  install(FILES ${CK_REGISTRY_PACKAGING_DIR}/course-registry.service
          DESTINATION /lib/systemd/system PERMISSIONS ${CK_READABLE} COMPONENT registry)
  install(FILES ${CK_REGISTRY_PACKAGING_DIR}/sysusers.conf DESTINATION lib/sysusers.d
          RENAME course-registry.conf PERMISSIONS ${CK_READABLE} COMPONENT registry)
  install(FILES ${CK_REGISTRY_PACKAGING_DIR}/registry.env DESTINATION /etc/course-registry
          PERMISSIONS ${CK_READABLE} COMPONENT registry)  # 0640 root:course-registry by postinst
  install(FILES ${CK_PACKAGING_DIR}/copyright ${CK_CHANGELOG_GZ}
          ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/registry.md
          ${PROJECT_SOURCE_DIR}/docs/sync.md ${PROJECT_SOURCE_DIR}/docs/credential.md
          DESTINATION share/doc/course-registry PERMISSIONS ${CK_READABLE} COMPONENT registry)
  list(APPEND CPACK_COMPONENTS_ALL registry)
endif()

set(CPACK_PACKAGE_NAME course-kiosk)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_KIOSK_PACKAGE_NAME course-kiosk)
set(CPACK_DEBIAN_REGISTRY_PACKAGE_NAME course-registry)
set(CPACK_PACKAGE_VENDOR "The course-kiosk developers")
set(CPACK_PACKAGE_CONTACT "The course-kiosk developers <kiosk@course-kiosk.invalid>")
# The first line of each package's description is its synopsis.
set(CPACK_DEBIAN_KIOSK_DESCRIPTION
    "QR-code attendance server for course venues\n"
    "course-kiosk records QR-code attendance for each session of a course module,\n"
    "gives course staff a live dashboard in the browser, and syncs attendance and\n"
    "module-completion records to a central registry. It runs on Raspberry-Pi-class\n"
    "devices and keeps working without a network.")
string(REPLACE ";" "" CPACK_DEBIAN_KIOSK_DESCRIPTION "${CPACK_DEBIAN_KIOSK_DESCRIPTION}")
set(CPACK_DEBIAN_REGISTRY_DESCRIPTION
    "Central attendance registry for course-kiosk devices\n"
    "course-registry is the organiser's server of course-kiosk: venues' devices sync\n"
    "their attendance to it, it issues module editions, rosters, device tokens and\n"
    "signed badges, and it computes each attendee's completion of modules and of\n"
    "the whole course cycle across editions and venues, with an office web page.\n"
    "It keeps everything in PostgreSQL.")
string(REPLACE ";" "" CPACK_DEBIAN_REGISTRY_DESCRIPTION "${CPACK_DEBIAN_REGISTRY_DESCRIPTION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_KIOSK_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_REGISTRY_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/course-kiosk/course-kiosk")
set(CPACK_DEBIAN_KIOSK_PACKAGE_DEPENDS
    "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libssl3 (>= 3.0.0), liblmdb0 (>= 0.9.24), libqrcodegencpp1 (>= 1.8.0), libcpp-httplib0.11 (>= 0.11.4), libdate-tz3 (>= 3.0.1), libicu72 (>= 72.1~rc-1~), libsystemd0, systemd, tzdata")
set(CPACK_DEBIAN_KIOSK_PACKAGE_CONTROL_EXTRA
    ${CK_PACKAGING_DIR}/conffiles ${CK_PACKAGING_DIR}/postinst ${CK_PACKAGING_DIR}/prerm
    ${CK_PACKAGING_DIR}/postrm)
# The registry's PostgreSQL: the local server by default (its set-up makes the role and
# the database there); libpq reaches a remote one as well.
set(CPACK_DEBIAN_REGISTRY_PACKAGE_DEPENDS
    "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libssl3 (>= 3.0.0), libpq5 (>= 15), libqrcodegencpp1 (>= 1.8.0), libcpp-httplib0.11 (>= 0.11.4), libdate-tz3 (>= 3.0.1), libicu72 (>= 72.1~rc-1~), systemd, tzdata, postgresql-15 | postgresql (>= 15)")
set(CPACK_DEBIAN_REGISTRY_PACKAGE_SECTION net)
set(CPACK_DEBIAN_REGISTRY_PACKAGE_CONTROL_EXTRA
    ${CK_REGISTRY_PACKAGING_DIR}/conffiles ${CK_REGISTRY_PACKAGING_DIR}/postinst
    ${CK_REGISTRY_PACKAGING_DIR}/prerm ${CK_REGISTRY_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
include(CPack)
