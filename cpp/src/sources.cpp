#include "fastimg/sources.hpp"

#include <opencv2/core.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <new>

#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"
#include "fastimg/parallel.hpp"

namespace fastimg {

void check_size(std::size_t size, std::size_t max_bytes) {
  if (size > max_bytes) {
    throw DecodeError(detail::concat("input too large: ", size, " bytes exceeds the limit of ", max_bytes, " bytes"));
  }
}

void with_source_bytes(const Source& source, std::size_t max_bytes,
                       const std::function<void(const std::uint8_t*, std::size_t)>& fn) {
  if (source.path.empty()) {
    check_size(source.size, max_bytes);
    fn(source.data, source.size);
    return;
  }
  if (source.keep != nullptr) {
    read_file(source.path, *source.keep, source.direct_io, max_bytes);
    fn(source.keep->data(), source.keep->size());
    return;
  }
  thread_local std::vector<std::uint8_t> file_bytes;
  read_file(source.path, file_bytes, source.direct_io, max_bytes);
  fn(file_bytes.data(), file_bytes.size());
  // Do not keep one huge file's buffer alive for the thread's lifetime.
  if (file_bytes.capacity() > (std::size_t{64} << 20)) std::vector<std::uint8_t>().swap(file_bytes);
}

std::vector<ItemError> run_items(std::size_t count, int threads, bool stop_on_error,
                                 const std::function<void(std::size_t)>& fn) {
  std::vector<ItemError> errors;
  std::mutex mutex;
  std::atomic<bool> failed{false};
  auto record = [&](std::size_t i, ItemError::Kind kind, int error_number, std::string message, std::string path = {}) {
    std::lock_guard<std::mutex> lock(mutex);
    errors.push_back({i, kind, error_number, std::move(message), std::move(path)});
    failed.store(true);
  };
  parallel_for(static_cast<std::int64_t>(count), threads, [&](std::int64_t k) {
    const auto i = static_cast<std::size_t>(k);
    if (stop_on_error && failed.load()) return;
    try {
      fn(i);
    } catch (const IoError& e) {
      record(i, ItemError::Kind::Io, e.error_number(), std::strerror(e.error_number()), e.path());
    } catch (const DecodeError& e) {
      record(i, ItemError::Kind::Decode, 0, e.what());
    } catch (const InvalidArgument& e) {
      record(i, ItemError::Kind::Invalid, 0, e.what());
    } catch (const cv::Exception& e) {
      record(i, ItemError::Kind::Decode, 0, std::string("image processing failed: ") + e.err);
    } catch (const std::bad_alloc&) {
      record(i, ItemError::Kind::Decode, 0, "out of memory while decoding");
    } catch (const std::exception& e) {
      record(i, ItemError::Kind::Decode, 0, e.what());
    }
  });
  std::sort(errors.begin(), errors.end(),
            [](const ItemError& a, const ItemError& b) { return a.position < b.position; });
  return errors;
}

}  // namespace fastimg
