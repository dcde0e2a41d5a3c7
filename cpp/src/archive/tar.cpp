#include "fastimg/tar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fastimg {
namespace {

// Numeric fields are octal text padded with NULs or spaces; GNU writes values too big for the field in
// base-256 (high bit of the first byte set). False when the field is neither.
bool parse_number(const std::uint8_t* field, std::size_t width, std::uint64_t* value) {
  std::uint64_t v = 0;
  if (field[0] & 0x80) {
    v = field[0] & 0x7F;
    for (std::size_t i = 1; i < width; ++i) {
      if (v >> 56) return false;  // beyond 64 bits: no archive we can map has such a member
      v = (v << 8) | field[i];
    }
    *value = v;
    return true;
  }
  std::size_t i = 0;
  while (i < width && field[i] == ' ') ++i;
  bool digits = false;
  for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    if (v >> 60) return false;
    v = (v << 3) | static_cast<std::uint64_t>(field[i] - '0');
    digits = true;
  }
  // After the digits only padding: spaces and NULs (a NUL ends the text, whatever follows it).
  for (; i < width && field[i] != '\0'; ++i) {
    if (field[i] != ' ') return false;
  }
  *value = digits ? v : 0;
  return true;
}

bool checksum_ok(const std::uint8_t* block) {
  std::uint64_t stored = 0;
  if (!parse_number(block + 148, 8, &stored)) return false;
  // The checksum counts its own field as eight spaces; some old writers summed signed bytes.
  std::uint64_t unsigned_sum = 8 * ' ';
  std::int64_t signed_sum = 8 * ' ';
  for (std::size_t i = 0; i < kTarBlock; ++i) {
    if (i >= 148 && i < 156) continue;
    unsigned_sum += block[i];
    signed_sum += static_cast<std::int8_t>(block[i]);
  }
  return stored == unsigned_sum || static_cast<std::int64_t>(stored) == signed_sum;
}

std::string field_text(const std::uint8_t* field, std::size_t width) {
  const auto* end = static_cast<const std::uint8_t*>(std::memchr(field, 0, width));
  return std::string(reinterpret_cast<const char*>(field), end ? static_cast<std::size_t>(end - field) : width);
}

}  // namespace

TarHeaderStatus parse_tar_header(const std::uint8_t* block, TarHeader* out) {
  if (std::all_of(block, block + kTarBlock, [](std::uint8_t b) { return b == 0; })) return TarHeaderStatus::End;
  if (!checksum_ok(block)) return TarHeaderStatus::BadChecksum;
  if (!parse_number(block + 124, 12, &out->size)) return TarHeaderStatus::BadSize;
  out->kind = static_cast<char>(block[156]);
  out->name = field_text(block, 100);
  if (std::memcmp(block + 257, "ustar", 5) == 0) {
    const std::string prefix = field_text(block + 345, 155);
    if (!prefix.empty()) out->name = prefix + "/" + out->name;
  }
  return TarHeaderStatus::Ok;
}

std::string tar_header_damage(TarHeaderStatus status, std::uint64_t offset) {
  const std::string at = std::to_string(offset);
  if (status == TarHeaderStatus::BadSize) return "corrupt tar header at byte " + at + " (bad size field)";
  return "corrupt tar header at byte " + at + " (checksum mismatch)";
}

namespace {

// One header block at `offset`; false (errno set) on a read error or a file that shrank under us.
bool read_block(int fd, std::uint64_t offset, std::uint8_t* block) {
  std::size_t got = 0;
  while (got < kTarBlock) {
    const ssize_t n = pread(fd, block + got, kTarBlock - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

TarIndex index_tar_file(int fd, std::uint64_t size) {
  TarIndex index;
  std::uint64_t offset = 0;
  std::uint8_t block[kTarBlock];
  while (offset < size) {
    if (size - offset < kTarBlock) {
      index.damage = "truncated tar: header at byte " + std::to_string(offset) + " cut short";
      break;
    }
    if (!read_block(fd, offset, block)) {
      index.damage = "read failed at byte " + std::to_string(offset) + ": " + std::strerror(errno);
      break;
    }
    TarEntry entry;
    const TarHeaderStatus status = parse_tar_header(block, &entry.header);
    if (status == TarHeaderStatus::End) break;
    if (status != TarHeaderStatus::Ok) {
      index.damage = tar_header_damage(status, offset);
      break;
    }
    entry.data_offset = offset + kTarBlock;
    const std::uint64_t member = entry.header.size;
    index.entries.push_back(std::move(entry));
    const std::uint64_t left = size - (offset + kTarBlock);
    if (member > left) break;  // cut short: the reader reports it with the member's name
    offset += kTarBlock + member + (kTarBlock - member % kTarBlock) % kTarBlock;
  }
  return index;
}

}  // namespace fastimg
