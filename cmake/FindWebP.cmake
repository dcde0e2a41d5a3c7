# Finds libwebp and libwebpdemux (Debian: libwebp-dev), which ship no CMake config on Debian 12.
# Defines the imported targets WebP::webp and WebP::webpdemux.
find_path(WebP_INCLUDE_DIR webp/decode.h)
find_library(WebP_webp_LIBRARY webp)
find_library(WebP_webpdemux_LIBRARY webpdemux)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(WebP
  REQUIRED_VARS WebP_INCLUDE_DIR WebP_webp_LIBRARY WebP_webpdemux_LIBRARY
  REASON_FAILURE_MESSAGE "install libwebp (Debian: apt-get install libwebp-dev)")

if(WebP_FOUND)
  foreach(_lib webp webpdemux)
    if(NOT TARGET WebP::${_lib})
      add_library(WebP::${_lib} UNKNOWN IMPORTED)
      set_target_properties(WebP::${_lib} PROPERTIES
        IMPORTED_LOCATION "${WebP_${_lib}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${WebP_INCLUDE_DIR}")
    endif()
  endforeach()
  set_property(TARGET WebP::webpdemux APPEND PROPERTY INTERFACE_LINK_LIBRARIES WebP::webp)
endif()
mark_as_advanced(WebP_INCLUDE_DIR WebP_webp_LIBRARY WebP_webpdemux_LIBRARY)
