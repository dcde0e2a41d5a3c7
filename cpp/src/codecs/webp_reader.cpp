// WebP through libwebp. Pillow reads every WebP through WebPAnimDecoder (RGBA canvas of frame 1); for a
// still image that is the plain decode, so only animations take the animation decoder here.
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <memory>

#include "fastimg/errors.hpp"
#include "format_reader.hpp"

namespace fastimg::detail {
namespace {

const char* status_name(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK: return "VP8_STATUS_OK";
    case VP8_STATUS_OUT_OF_MEMORY: return "VP8_STATUS_OUT_OF_MEMORY";
    case VP8_STATUS_INVALID_PARAM: return "VP8_STATUS_INVALID_PARAM";
    case VP8_STATUS_BITSTREAM_ERROR: return "VP8_STATUS_BITSTREAM_ERROR";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "VP8_STATUS_UNSUPPORTED_FEATURE";
    case VP8_STATUS_SUSPENDED: return "VP8_STATUS_SUSPENDED";
    case VP8_STATUS_USER_ABORT: return "VP8_STATUS_USER_ABORT";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "VP8_STATUS_NOT_ENOUGH_DATA";
  }
  return "unknown status";
}

void check_status(VP8StatusCode status) {
  if (status == VP8_STATUS_OK) return;
  if (status == VP8_STATUS_NOT_ENOUGH_DATA) throw DecodeError("truncated WebP: VP8_STATUS_NOT_ENOUGH_DATA");
  throw DecodeError(concat("corrupt WebP: ", status_name(status)));
}

struct DemuxDeleter {
  void operator()(WebPDemuxer* demux) const { WebPDemuxDelete(demux); }
};
using DemuxHandle = std::unique_ptr<WebPDemuxer, DemuxDeleter>;

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* decoder) const { WebPAnimDecoderDelete(decoder); }
};
using AnimDecoderHandle = std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter>;

class ChunkIterator {
 public:
  ChunkIterator(const WebPDemuxer* demux, const char* fourcc) {
    found_ = WebPDemuxGetChunk(demux, fourcc, 1, &iter_) != 0;
  }
  ~ChunkIterator() { WebPDemuxReleaseChunkIterator(&iter_); }
  ChunkIterator(const ChunkIterator&) = delete;
  ChunkIterator& operator=(const ChunkIterator&) = delete;

  bool found() const { return found_; }
  const WebPData& chunk() const { return iter_.chunk; }

 private:
  WebPChunkIterator iter_{};
  bool found_ = false;
};

// Partial parsing so a cut-off file still yields whatever metadata precedes the cut.
DemuxHandle demux_partial(const WebPData& webp, WebPDemuxState& state) {
  return DemuxHandle(WebPDemuxPartial(&webp, &state));
}

int read_orientation(const WebPDemuxer* demux) {
  if (demux == nullptr) return 0;
  if (ChunkIterator exif(demux, "EXIF"); exif.found()) {
    if (int o = exif_block_orientation(exif.chunk().bytes, exif.chunk().size)) return o;
  }
  if (ChunkIterator xmp(demux, "XMP "); xmp.found()) {
    return xmp_orientation(reinterpret_cast<const char*>(xmp.chunk().bytes), xmp.chunk().size);
  }
  return 0;
}

struct DecBufferGuard {
  WebPDecBuffer* buffer;
  ~DecBufferGuard() { WebPFreeDecBuffer(buffer); }
};

// WebPDecode into our buffer (what WebPDecodeRGB[A]Into does) but keeping the status for the message.
NativeImage decode_still(const WebPData& webp, const WebPBitstreamFeatures& features) {
  NativeImage out = make_native(features.width, features.height, features.has_alpha ? 4 : 3);
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) throw DecodeError("corrupt WebP: libwebp version mismatch");
  DecBufferGuard guard{&config.output};
  config.output.colorspace = features.has_alpha ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out.pixels.data();
  config.output.u.RGBA.stride = out.width * out.channels;
  config.output.u.RGBA.size = out.pixels.size();
  check_status(WebPDecode(webp.bytes, webp.size, &config));
  return out;
}

// The first frame composited on the canvas (transparent black outside it), as Pillow gets it.
NativeImage decode_first_frame(const WebPData& webp, const WebPBitstreamFeatures& features, WebPDemuxState state) {
  if (state != WEBP_DEMUX_DONE) throw DecodeError("truncated WebP: animation ends early");
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) throw DecodeError("corrupt WebP: libwebp version mismatch");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  AnimDecoderHandle decoder(WebPAnimDecoderNew(&webp, &options));
  if (!decoder) throw DecodeError("corrupt WebP: cannot parse the animation");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info) || static_cast<int>(info.canvas_width) != features.width ||
      static_cast<int>(info.canvas_height) != features.height) {
    throw DecodeError("corrupt WebP: inconsistent canvas size");
  }
  std::uint8_t* rgba = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder.get(), &rgba, &timestamp)) {
    throw DecodeError("corrupt WebP: cannot decode the first frame");
  }
  NativeImage out = make_native(features.width, features.height, features.has_alpha ? 4 : 3);
  if (out.channels == 4) {
    std::memcpy(out.pixels.data(), rgba, out.pixels.size());
  } else {
    const std::size_t n = static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height);
    for (std::size_t i = 0; i < n; ++i) std::memcpy(&out.pixels[i * 3], rgba + i * 4, 3);
  }
  return out;
}

}  // namespace

NativeImage decode_webp(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits, int& orientation) {
  orientation = 0;
  WebPBitstreamFeatures features;
  check_status(WebPGetFeatures(data, size, &features));
  check_dimensions(features.width, features.height, limits, "WebP");
  const WebPData webp{data, size};
  WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
  const DemuxHandle demux = demux_partial(webp, state);
  NativeImage out = features.has_animation ? decode_first_frame(webp, features, state) : decode_still(webp, features);
  orientation = read_orientation(demux.get());
  return out;
}

}  // namespace fastimg::detail
