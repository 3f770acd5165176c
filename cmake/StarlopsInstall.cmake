# Installation: the library, headers under include/starlops/, a CMake package and pkg-config.
include(CMakePackageConfigHelpers)

install(TARGETS starlops EXPORT starlopsTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/starlops.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/starlops DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT starlopsTargets NAMESPACE starlops::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/starlops)

configure_package_config_file(cmake/starlopsConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/starlopsConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/starlops)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/starlopsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/starlopsConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/starlopsConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/starlops)

set(STARLOPS_PC_STARPU_PATH "${STARLOPS_STARPU_LIBDIR}/pkgconfig")
# Relocatable .pc: paths relative to where the file is installed (works for --prefix too).
file(RELATIVE_PATH STARLOPS_PC_TO_PREFIX "/root/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/root")
configure_file(cmake/starlops.pc.in ${CMAKE_CURRENT_BINARY_DIR}/starlops.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/starlops.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
