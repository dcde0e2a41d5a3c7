# Sanitizer builds of the C++ core and its tests (`make sanitize`: the Makefile holds the runtime options,
# sanitizers/*.supp the suppressions, each with its reason).
#
#   FASTIMG_SANITIZE=""        no sanitizer (the default)
#   FASTIMG_SANITIZE=address   AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer
#   FASTIMG_SANITIZE=thread    ThreadSanitizer
#
# Every report is fatal at build level (-fno-sanitize-recover=all); the *SAN_OPTIONS set by `make sanitize`
# make them fatal at run time as well.
#
# The core's threads are its own (cpp/src/thread_team.cpp: std::thread, mutex, condition variable), so
# ThreadSanitizer sees every synchronisation and checks the same code the release build runs.
#
# fastimg_sanitizer_fixups(<target>...), called once the targets exist, works around a GCC limitation:
# the ifunc resolver GCC generates for a target_clones function is instrumented too, and ld.so runs it
# while relocating the executable, before the TSan runtime is initialised, so __tsan_func_entry crashes
# the process before main (google/sanitizers#342; Clang fixed it in llvm-project#167516, GCC 12 has no
# fix). In the TSan build the sources of those targets that use target_clones are compiled with
# --param=tsan-instrument-func-entry-exit=0: their memory accesses are still checked, only their frames
# are missing from the stacks in reports.

set(FASTIMG_SANITIZE "" CACHE STRING "Sanitizer build: empty (none), address (ASan+UBSan) or thread (TSan)")
set_property(CACHE FASTIMG_SANITIZE PROPERTY STRINGS "" address thread)

function(fastimg_sanitizer_fixups)
  if(NOT FASTIMG_SANITIZE STREQUAL "thread" OR NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    return()
  endif()
  foreach(_target IN LISTS ARGN)
    get_target_property(_dir ${_target} SOURCE_DIR)
    get_target_property(_sources ${_target} SOURCES)
    foreach(_src IN LISTS _sources)
      get_filename_component(_path "${_src}" ABSOLUTE BASE_DIR "${_dir}")
      file(STRINGS "${_path}" _clones REGEX "target_clones")
      if(_clones)
        set_property(SOURCE "${_path}" DIRECTORY "${_dir}" APPEND PROPERTY
                     COMPILE_OPTIONS --param=tsan-instrument-func-entry-exit=0)
        message(STATUS "fastimg: ${_src} uses target_clones: TSan without function entry/exit hooks")
      endif()
    endforeach()
  endforeach()
endfunction()

if(FASTIMG_SANITIZE STREQUAL "")
  return()
endif()

if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  message(FATAL_ERROR "FASTIMG_SANITIZE needs GCC or Clang (compiler: ${CMAKE_CXX_COMPILER_ID})")
endif()

if(FASTIMG_SANITIZE STREQUAL "address")
  set(_fastimg_sanitize_flags -fsanitize=address,undefined)
elseif(FASTIMG_SANITIZE STREQUAL "thread")
  set(_fastimg_sanitize_flags -fsanitize=thread)
else()
  message(FATAL_ERROR "FASTIMG_SANITIZE='${FASTIMG_SANITIZE}': expected empty, address or thread")
endif()

# Directory-wide, so the core, the tests and anything else built here are instrumented alike.
add_compile_options(${_fastimg_sanitize_flags} -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
add_link_options(${_fastimg_sanitize_flags})
message(STATUS "fastimg: sanitizer build (${FASTIMG_SANITIZE})")

