# Finds LibTorch and exposes it as the interface target actsearch_torch.
#
# Two configurations are supported:
# - Debian's libtorch-dev (1.13, CPU only): found in the system prefix, nothing to set;
# - the LibTorch inside PyPI's torch wheel (2.x, CUDA): pass
#   -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)').
# A LibTorch named by CMAKE_PREFIX_PATH or Torch_DIR is searched with the system paths off,
# so that its libraries are never mixed with Debian's libtorch in /usr/lib.
if(Torch_DIR OR CMAKE_PREFIX_PATH)
  set(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH FALSE)
  find_package(Torch CONFIG REQUIRED)
  unset(CMAKE_FIND_USE_CMAKE_SYSTEM_PATH)
else()
  find_package(Torch CONFIG REQUIRED)
endif()

# ATen's at::parallel_for is an inline `#pragma omp parallel`: without OpenMP in our own
# translation units it silently runs on one thread.
find_package(OpenMP REQUIRED COMPONENTS CXX)

add_library(actsearch_torch INTERFACE)
target_link_libraries(actsearch_torch INTERFACE ${TORCH_LIBRARIES} OpenMP::OpenMP_CXX)
target_compile_options(actsearch_torch INTERFACE ${TORCH_CXX_FLAGS})

# A wheel's LibTorch ships a copy of old Protobuf headers in torch/include/google/protobuf. Its
# -isystem path would shadow the system Protobuf that protoc generated our code for (a compile
# error with torch 2.11), so a folder holding only a link to the system's google/ goes first
# as -I, which the compiler searches before every -isystem folder.
foreach(torch_include_dir IN LISTS TORCH_INCLUDE_DIRS)
  if(EXISTS "${torch_include_dir}/google/protobuf" AND Protobuf_INCLUDE_DIRS)
    set(protobuf_first "${CMAKE_BINARY_DIR}/protobuf-before-torch")
    list(GET Protobuf_INCLUDE_DIRS 0 protobuf_include_dir)
    file(MAKE_DIRECTORY "${protobuf_first}")
    file(CREATE_LINK "${protobuf_include_dir}/google" "${protobuf_first}/google" SYMBOLIC)
    target_include_directories(actsearch_torch INTERFACE "${protobuf_first}")
    break()
  endif()
endforeach()

set(ACTSEARCH_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(ACTSEARCH_TORCH_HAS_CUDA ON)
  target_compile_definitions(actsearch_torch INTERFACE ACTSEARCH_TORCH_HAS_CUDA=1)
endif()

# A wheel's libtorch_cuda needs the CUDA libraries of the nvidia-* wheels beside it. The
# loader finds them through libtorch's own RPATH, but the linker needs to be told.
get_filename_component(torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
file(GLOB nvidia_lib_dirs LIST_DIRECTORIES true "${torch_lib_dir}/../../nvidia/*/lib")
if(nvidia_lib_dirs)
  list(JOIN nvidia_lib_dirs ":" nvidia_rpath_link)
  target_link_options(actsearch_torch INTERFACE "LINKER:-rpath-link,${nvidia_rpath_link}")
endif()

message(STATUS "LibTorch ${Torch_VERSION} from ${torch_lib_dir} (CUDA: ${ACTSEARCH_TORCH_HAS_CUDA})")

# Precompiled LibTorch headers, built once and shared by every target that includes them.
# Targets call actsearch_use_torch_pch(target).
add_library(actsearch_torch_pch STATIC ${CMAKE_CURRENT_LIST_DIR}/torch_pch.cc)
target_link_libraries(actsearch_torch_pch PUBLIC actsearch_torch)
target_precompile_headers(actsearch_torch_pch PRIVATE <torch/torch.h>)

function(actsearch_use_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM actsearch_torch_pch)
endfunction()
