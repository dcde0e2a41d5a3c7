// Encoding 8-bit images, for writing shards (python -m fastimg shards --max-side): JPEG by libjpeg-turbo.
// Thread-safe: every call owns its encoder state, so calls may run at once from any threads.
#pragma once

#include <cstdint>
#include <vector>

#include "fastimg/image_view.hpp"

namespace fastimg {

// Encodes `image` as a baseline JPEG and returns the whole file's bytes, owned by the caller.
//  - image: 1 channel (grey) or 3 channels (RGB), one byte per sample, rows may be strided; each side
//    1..65500 pixels (libjpeg's JPEG_MAX_DIMENSION). Only read, and only during the call.
//  - quality: libjpeg's quality scale, 1..100 (as Pillow's `quality=`); RGB is stored as YCbCr with
//    4:2:0 chroma subsampling (Pillow's default), with the accurate integer DCT.
// Throws InvalidArgument for a view check_view refuses, another channel count, a quality out of range or a
// side over the limit, and DecodeError (the codec family's error) if libjpeg reports a failure; never
// exits or aborts the process. Thread-safe; needs no GIL (the bindings release it around the call).
std::vector<std::uint8_t> encode_jpeg(const ConstImageView& image, int quality);

}  // namespace fastimg
