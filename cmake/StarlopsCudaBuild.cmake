# The CUDA half of starlops (codelets/cuda/), after StarlopsStarPU: it is built when a CUDA
# toolkit was found (StarlopsCuda) *and* the StarPU in use has CUDA workers, since the codelets'
# CUDA functions run on StarPU's CUDA streams and cuBLAS handles. Sets STARLOPS_USE_CUDA.
set(STARLOPS_USE_CUDA OFF)
if(STARLOPS_HAVE_CUDA)
  # The StarPU headers say whether it was built with CUDA (Debian's binary package is not).
  set(_starpu_cuda OFF)
  foreach(_dir ${STARPU_INCLUDE_DIRS})
    if(EXISTS "${_dir}/starpu_config.h")
      file(STRINGS "${_dir}/starpu_config.h" _def REGEX "^#define STARPU_USE_CUDA 1")
      if(_def)
        set(_starpu_cuda ON)
      endif()
    endif()
  endforeach()
  if(_starpu_cuda)
    set(STARLOPS_USE_CUDA ON)
  elseif(STARLOPS_CUDA STREQUAL "ON")
    message(FATAL_ERROR "STARLOPS_CUDA=ON but the StarPU in use has no CUDA support")
  else()
    message(STATUS "starlops: the StarPU in use has no CUDA: CPU codelets only")
  endif()
endif()

if(STARLOPS_USE_CUDA)
  # One architecture by default: the H200 of the device machine (sm_90). Each extra one costs a
  # full device compile of every kernel, and CI builds from scratch.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90 CACHE STRING "CUDA architectures of the kernels")
  endif()
  if(NOT CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_COMPILER "${STARLOPS_NVCC}")
  endif()
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED) # CUDA::cudart, CUDA::cublas, CUDA::cufft
endif()
# NCCL (STARLOPS_COMM=nccl): the toolkit's own copy (CUDA's NCCL lives next to cuBLAS here).
set(STARLOPS_HAVE_NCCL OFF)
if(STARLOPS_USE_CUDA)
  find_path(STARLOPS_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  find_library(STARLOPS_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR})
  if(STARLOPS_NCCL_INCLUDE AND STARLOPS_NCCL_LIBRARY)
    set(STARLOPS_HAVE_NCCL ON)
  endif()
endif()
message(STATUS "starlops: NCCL backend ${STARLOPS_HAVE_NCCL}")
message(STATUS "starlops: CUDA codelets ${STARLOPS_USE_CUDA} (architectures: "
               "${CMAKE_CUDA_ARCHITECTURES})")
