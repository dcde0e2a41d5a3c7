#include "exif.hpp"

#include <algorithm>
#include <cstring>
#include <opencv2/core.hpp>

#include <string_view>

#include "../cv_view.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {

namespace {

constexpr char kExifPrefix[] = "Exif\0\0";

bool has_exif_prefix(const std::uint8_t* data, std::size_t size) {
  return size >= 6 && std::memcmp(data, kExifPrefix, 6) == 0;
}

// Orientation from a bare TIFF structure (what follows "Exif\0\0" in a JPEG, and all of a PNG eXIf).
int tiff_orientation(const std::uint8_t* tiff, std::size_t n) {
  if (n < 8) return 0;
  bool little;
  if (tiff[0] == 'I' && tiff[1] == 'I') {
    little = true;
  } else if (tiff[0] == 'M' && tiff[1] == 'M') {
    little = false;
  } else {
    return 0;
  }
  auto u16 = [&](std::size_t at) -> unsigned {
    return little ? tiff[at] | (tiff[at + 1] << 8) : (tiff[at] << 8) | tiff[at + 1];
  };
  auto u32 = [&](std::size_t at) -> std::uint32_t {
    return little ? (std::uint32_t{u16(at + 2)} << 16) | u16(at) : (std::uint32_t{u16(at)} << 16) | u16(at + 2);
  };
  if (u16(2) != 42) return 0;
  const std::uint32_t ifd = u32(4);
  if (ifd < 8 || ifd > n - 2) return 0;
  const unsigned entries = u16(ifd);
  for (unsigned i = 0; i < entries; ++i) {
    const std::size_t at = ifd + 2 + 12 * static_cast<std::size_t>(i);
    if (at + 12 > n) return 0;
    if (u16(at) == 0x0112) {
      if (u16(at + 2) != 3) return 0;  // type SHORT
      const unsigned value = u16(at + 8);
      return value >= 1 && value <= 8 ? static_cast<int>(value) : 0;
    }
  }
  return 0;
}

}  // namespace

int exif_orientation(const std::uint8_t* data, std::size_t size) {
  return has_exif_prefix(data, size) ? tiff_orientation(data + 6, size - 6) : 0;
}

RectF stored_rect(const RectF& d, int orientation, int w, int h) {
  // Undo the flips in displayed coordinates, then the transpose; continuous coordinates, so rectangles
  // map to rectangles.
  const OrientationOps o = orientation_ops(orientation);
  const double shown_w = o.swap ? h : w, shown_h = o.swap ? w : h;
  auto map = [&](double u, double v, double& x, double& y) {
    if (o.flip_x) u = shown_w - u;
    if (o.flip_y) v = shown_h - v;
    x = o.swap ? v : u;
    y = o.swap ? u : v;
  };
  double ax, ay, bx, by;
  map(d.x0, d.y0, ax, ay);
  map(d.x1, d.y1, bx, by);
  return {std::min(ax, bx), std::min(ay, by), std::max(ax, bx), std::max(ay, by)};
}

void apply_orientation(const ConstImageView& src, const ImageView& dst, int orientation) {
  const OrientationOps o = orientation_ops(orientation);
  cv::Mat in = as_mat(src), out = as_mat(dst), transposed;
  if (o.swap) {
    cv::transpose(in, transposed);
    in = transposed;
  }
  if (o.flip_x || o.flip_y) {
    cv::flip(in, out, o.flip_x && o.flip_y ? -1 : o.flip_x ? 1 : 0);
  } else {
    in.copyTo(out);
  }
}

int exif_block_orientation(const std::uint8_t* data, std::size_t size) {
  // PNG eXIf and most WebP EXIF chunks hold the bare TIFF structure; some WebP writers keep the prefix.
  return has_exif_prefix(data, size) ? tiff_orientation(data + 6, size - 6) : tiff_orientation(data, size);
}

int xmp_orientation(const char* xmp, std::size_t size) {
  // Pillow's rule (Image.getexif): the first tiff:Orientation(="|>)([0-9]).
  const std::string_view text(xmp, size);
  constexpr std::string_view kTag = "tiff:Orientation";
  for (std::size_t at = text.find(kTag); at != std::string_view::npos; at = text.find(kTag, at + 1)) {
    std::size_t p = at + kTag.size();
    if (p < text.size() && text[p] == '>') {
      p += 1;
    } else if (p + 1 < text.size() && text[p] == '=' && text[p + 1] == '"') {
      p += 2;
    } else {
      continue;
    }
    if (p < text.size() && text[p] >= '0' && text[p] <= '9') {
      const int value = text[p] - '0';
      return value >= 1 && value <= 8 ? value : 0;
    }
  }
  return 0;
}

}  // namespace fastimg::detail
