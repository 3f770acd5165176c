# StarPU 1.3 + StarPU-MPI.
#  source (default): built from Debian's source package by cmake/build-starpu.sh with FxT, 64 CPU
#                    workers and CUDA when available, into STARLOPS_STARPU_PREFIX (cached).
#  system:           Debian's libstarpu-dev (no FxT tracing, at most 4 CPU workers, no CUDA).
set(STARLOPS_STARPU "source" CACHE STRING "StarPU to use: source or system")
set_property(CACHE STARLOPS_STARPU PROPERTY STRINGS source system)
set(STARLOPS_STARPU_PREFIX "${CMAKE_BINARY_DIR}/starpu" CACHE PATH
    "Install prefix of the StarPU built from source (share it between build trees to build once)")

find_package(PkgConfig REQUIRED)
if(STARLOPS_STARPU STREQUAL "source")
  set(_cuda_arg none)
  if(STARLOPS_HAVE_CUDA)
    set(_cuda_arg "${STARLOPS_CUDA_ROOT}")
  endif()
  message(STATUS "starlops: building StarPU from Debian's source package into "
                 "${STARLOPS_STARPU_PREFIX} (cached; ~2-5 min the first time)")
  execute_process(
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cmake/build-starpu.sh "${STARLOPS_STARPU_PREFIX}"
            "${STARLOPS_STARPU_PREFIX}-build" "${_cuda_arg}"
    RESULT_VARIABLE _starpu_rc)
  if(NOT _starpu_rc EQUAL 0)
    message(FATAL_ERROR "Building StarPU from source failed (see messages above). Run "
                        "tools/install-deps.sh as root first, or use -DSTARLOPS_STARPU=system.")
  endif()
  set(ENV{PKG_CONFIG_PATH} "${STARLOPS_STARPU_PREFIX}/lib/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  set(STARLOPS_STARPU_LIBDIR "${STARLOPS_STARPU_PREFIX}/lib")
  set(STARLOPS_STARPU_BINDIR "${STARLOPS_STARPU_PREFIX}/bin")
elseif(STARLOPS_STARPU STREQUAL "system")
  set(STARLOPS_STARPU_LIBDIR "")
  set(STARLOPS_STARPU_BINDIR "")
else()
  message(FATAL_ERROR "STARLOPS_STARPU must be 'source' or 'system', not '${STARLOPS_STARPU}'")
endif()

pkg_check_modules(STARPU REQUIRED IMPORTED_TARGET GLOBAL starpumpi-1.3 starpu-1.3)
add_library(starlops::starpu ALIAS PkgConfig::STARPU)
if(STARLOPS_HAVE_CUDA)
  # A CUDA-enabled StarPU's headers include cuda_runtime.h; -isystem keeps CUDA 13's
  # deprecation warnings out of our build.
  target_include_directories(PkgConfig::STARPU SYSTEM INTERFACE "${STARLOPS_CUDA_ROOT}/include")
endif()
