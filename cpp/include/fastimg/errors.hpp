// The error family of the core. The bindings map each class to one Python exception:
// InvalidArgument -> ValueError, DecodeError -> fastimg.DecodeError (a ValueError), IoError -> OSError.
#pragma once

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fastimg {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InvalidArgument : public Error {
 public:
  using Error::Error;
};

class DecodeError : public Error {
 public:
  using Error::Error;
};

// A failed file operation; keeps errno and the path so Python can raise the matching OSError subclass.
class IoError : public Error {
 public:
  IoError(int error_number, const std::string& path)
      : Error(path + ": " + std::strerror(error_number)), errno_(error_number), path_(path) {}
  int error_number() const { return errno_; }
  const std::string& path() const { return path_; }

 private:
  int errno_;
  std::string path_;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace fastimg

// Throws fastimg::InvalidArgument with the failed condition and a message built from the remaining
// arguments (streamed), e.g. FASTIMG_CHECK(w > 0, "image ", i, ": width must be positive, got ", w).
#define FASTIMG_CHECK(cond, ...)                                                           \
  do {                                                                                     \
    if (!(cond)) throw ::fastimg::InvalidArgument(::fastimg::detail::concat(__VA_ARGS__)); \
  } while (0)
