// JPEG encoding with libjpeg-turbo, for writing shards (python -m fastimg shards --max-side).
#pragma once

#include <cstdint>
#include <vector>

#include "fastimg/image_view.hpp"

namespace fastimg {

// Encodes `image` (1 channel: grey; 3 channels: RGB; rows may be strided) as a baseline JPEG at
// `quality` (1..100; 4:2:0 chroma subsampling for RGB, as Pillow's default). Returns the file's bytes.
// Throws InvalidArgument for an empty view, another channel count or a quality out of range, and
// DecodeError (the codec family's error) if libjpeg reports a failure. Thread-safe: each call owns its
// encoder; safe to call with the GIL released.
std::vector<std::uint8_t> encode_jpeg(const ConstImageView& image, int quality);

}  // namespace fastimg
