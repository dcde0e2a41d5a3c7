// Internal: every non-JPEG format, decoded whole through OpenCV's imgcodecs.
#pragma once

#include "fastimg/decode.hpp"

namespace fastimg::detail {

// Decodes `data` (format already detected) into `mode`. 16-bit images are scaled to 8 bits, alpha is
// dropped for RGB/L and kept (or made opaque) for RGBA. Throws DecodeError.
DecodedImage decode_with_opencv(const std::uint8_t* data, std::size_t size, ImageFormat format, PixelFormat mode,
                                const DecodeLimits& limits);

}  // namespace fastimg::detail
