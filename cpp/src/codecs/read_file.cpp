#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "fastimg/decode.hpp"
#include "fastimg/errors.hpp"

namespace fastimg {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::size_t file_size(int fd, const std::string& path) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw IoError(errno, path);
  if (S_ISDIR(st.st_mode)) throw IoError(EISDIR, path);
  return static_cast<std::size_t>(st.st_size);
}

// Reads until `size` bytes or end of file; returns the count (a file may shrink while we read it).
std::size_t read_all(int fd, std::uint8_t* data, std::size_t size, const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, data + done, size - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw IoError(errno, path);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

// O_DIRECT: page-aligned buffer and lengths; the page cache is bypassed. Returns false where the file
// system refuses it (EINVAL at open or first read), so the caller falls back to buffered reading.
bool read_direct(const std::string& path, std::vector<std::uint8_t>& buffer, std::size_t max_bytes) {
  constexpr std::size_t kAlign = 4096;
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT)};
  if (f.fd < 0) {
    if (errno == EINVAL) return false;
    throw IoError(errno, path);
  }
  const std::size_t size = file_size(f.fd, path);
  check_size(size, max_bytes);
  const std::size_t padded = (size + kAlign - 1) / kAlign * kAlign + kAlign;
  void* raw = nullptr;
  if (posix_memalign(&raw, kAlign, padded) != 0) throw std::bad_alloc();
  std::unique_ptr<std::uint8_t, decltype(&std::free)> aligned(static_cast<std::uint8_t*>(raw), &std::free);
  std::size_t done = 0;
  while (done < padded) {
    const ssize_t got = ::read(f.fd, aligned.get() + done, padded - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EINVAL && done == 0) return false;
      throw IoError(errno, path);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  buffer.assign(aligned.get(), aligned.get() + std::min(done, size));
  return true;
}

}  // namespace

void read_file(const std::string& path, std::vector<std::uint8_t>& buffer, bool direct_io, std::size_t max_bytes) {
  if (direct_io && read_direct(path, buffer, max_bytes)) return;
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) throw IoError(errno, path);
  const std::size_t size = file_size(f.fd, path);
  check_size(size, max_bytes);
  buffer.resize(size);
  buffer.resize(read_all(f.fd, buffer.data(), buffer.size(), path));
}

}  // namespace fastimg
