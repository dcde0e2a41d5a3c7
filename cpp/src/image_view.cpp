#include "fastimg/image_view.hpp"

#include "fastimg/errors.hpp"

namespace fastimg {

void check_view(const ConstImageView& view, const char* what) {
  FASTIMG_CHECK(view.data != nullptr, what, ": no pixel data");
  FASTIMG_CHECK(view.width > 0 && view.height > 0, what, ": empty image (", view.width, "x", view.height, ")");
  FASTIMG_CHECK(view.channels == 1 || view.channels == 3 || view.channels == 4, what,
                ": expected 1, 3 or 4 channels, got ", view.channels);
  FASTIMG_CHECK(view.stride >= static_cast<std::ptrdiff_t>(view.row_bytes()), what, ": row stride ", view.stride,
                " is shorter than a row (", view.row_bytes(), " bytes)");
}

}  // namespace fastimg
