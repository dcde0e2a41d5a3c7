// Internal: zero-copy cv::Mat headers over fastimg views.
#pragma once

#include <opencv2/core.hpp>

#include "fastimg/image_view.hpp"

namespace fastimg::detail {

inline cv::Mat as_mat(const ImageView& v) {
  return cv::Mat(v.height, v.width, CV_8UC(v.channels), v.data, static_cast<size_t>(v.stride));
}

// OpenCV has no const Mat header; the kernels that take this only read from it.
inline cv::Mat as_mat(const ConstImageView& v) {
  return cv::Mat(v.height, v.width, CV_8UC(v.channels), const_cast<std::uint8_t*>(v.data),
                 static_cast<size_t>(v.stride));
}

}  // namespace fastimg::detail
