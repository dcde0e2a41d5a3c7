# Finds libjpeg-turbo: the TurboJPEG API (libturbojpeg) and the libjpeg API (libjpeg, for
# jpeg_crop_scanline / jpeg_skip_scanlines). Debian's two -dev packages link side by side.
# Defines TurboJPEG::turbojpeg and TurboJPEG::jpeg.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_TURBOJPEG QUIET libturbojpeg)
  pkg_check_modules(PC_LIBJPEG QUIET libjpeg)
endif()
find_path(TurboJPEG_INCLUDE_DIR turbojpeg.h HINTS ${PC_TURBOJPEG_INCLUDE_DIRS})
find_library(TurboJPEG_LIBRARY turbojpeg HINTS ${PC_TURBOJPEG_LIBRARY_DIRS})
find_path(TurboJPEG_jpeg_INCLUDE_DIR jpeglib.h HINTS ${PC_LIBJPEG_INCLUDE_DIRS})
find_library(TurboJPEG_jpeg_LIBRARY jpeg HINTS ${PC_LIBJPEG_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(TurboJPEG
  REQUIRED_VARS TurboJPEG_INCLUDE_DIR TurboJPEG_LIBRARY TurboJPEG_jpeg_INCLUDE_DIR TurboJPEG_jpeg_LIBRARY
  REASON_FAILURE_MESSAGE "install libjpeg-turbo (Debian: apt-get install libturbojpeg0-dev libjpeg62-turbo-dev)")

if(TurboJPEG_FOUND AND NOT TARGET TurboJPEG::turbojpeg)
  add_library(TurboJPEG::turbojpeg UNKNOWN IMPORTED)
  set_target_properties(TurboJPEG::turbojpeg PROPERTIES
    IMPORTED_LOCATION "${TurboJPEG_LIBRARY}" INTERFACE_INCLUDE_DIRECTORIES "${TurboJPEG_INCLUDE_DIR}")
  add_library(TurboJPEG::jpeg UNKNOWN IMPORTED)
  set_target_properties(TurboJPEG::jpeg PROPERTIES
    IMPORTED_LOCATION "${TurboJPEG_jpeg_LIBRARY}" INTERFACE_INCLUDE_DIRECTORIES "${TurboJPEG_jpeg_INCLUDE_DIR}")
endif()
mark_as_advanced(TurboJPEG_INCLUDE_DIR TurboJPEG_LIBRARY TurboJPEG_jpeg_INCLUDE_DIR TurboJPEG_jpeg_LIBRARY)
