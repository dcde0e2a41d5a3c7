# Finds OpenCV's core and imgproc (and imgcodecs when present) without OpenCVConfig.cmake, which Debian
# ships only in the 687 MB libopencv-dev; the per-module -dev packages are enough for us.
# Defines the imported targets OpenCV::core and OpenCV::imgproc (and OpenCV::imgcodecs if found).
find_path(LeanOpenCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
find_library(LeanOpenCV_core_LIBRARY opencv_core)
find_library(LeanOpenCV_imgproc_LIBRARY opencv_imgproc)
find_library(LeanOpenCV_imgcodecs_LIBRARY opencv_imgcodecs)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LeanOpenCV
  REQUIRED_VARS LeanOpenCV_INCLUDE_DIR LeanOpenCV_core_LIBRARY LeanOpenCV_imgproc_LIBRARY
  REASON_FAILURE_MESSAGE "install OpenCV's core and imgproc (Debian: apt-get install libopencv-core-dev libopencv-imgproc-dev)")

if(LeanOpenCV_FOUND)
  foreach(_mod core imgproc imgcodecs)
    if(LeanOpenCV_${_mod}_LIBRARY AND NOT TARGET OpenCV::${_mod})
      add_library(OpenCV::${_mod} UNKNOWN IMPORTED)
      set_target_properties(OpenCV::${_mod} PROPERTIES
        IMPORTED_LOCATION "${LeanOpenCV_${_mod}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${LeanOpenCV_INCLUDE_DIR}")
    endif()
  endforeach()
endif()
mark_as_advanced(LeanOpenCV_INCLUDE_DIR LeanOpenCV_core_LIBRARY LeanOpenCV_imgproc_LIBRARY
                 LeanOpenCV_imgcodecs_LIBRARY)
