// Tar headers (POSIX ustar, GNU, pax, old v7), parsed for the shard reader (src/fastimg/shards/tar.py), which
// keeps the member logic (GNU long names, pax paths, which kinds are files). Never throws on content: a
// bad header is a status with its reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fastimg {

inline constexpr std::size_t kTarBlock = 512;

struct TarHeader {
  std::string name;  // the name field, behind the ustar prefix field when there is one (raw bytes)
  char kind = '0';   // the typeflag byte
  std::uint64_t size = 0;
};

enum class TarHeaderStatus { Ok, End, BadChecksum, BadSize };

// Parses one 512-byte header block. End: the all-zero block that ends an archive. BadChecksum: the
// stored checksum matches neither the unsigned nor the signed byte sum (or is not a number). BadSize: the
// size field is neither octal text nor GNU base-256.
TarHeaderStatus parse_tar_header(const std::uint8_t* block, TarHeader* out);

struct TarEntry {
  TarHeader header;
  std::uint64_t data_offset = 0;  // where the member's bytes start
};

struct TarIndex {
  std::vector<TarEntry> entries;
  std::string damage;
};

// Every header of the archive in the first `size` bytes of the open file `fd`, in order, up to the end
// blocks, the end of the data or the first damage, read with pread: a shard about to be mapped is indexed
// without faulting in one page per member (2-4 us each in a VM). A member whose bytes run past the end is
// the last entry (the reader sees it cut short). `damage` is empty, or why the headers stop early, naming
// the byte offset (a read error: errno's text).
TarIndex index_tar_file(int fd, std::uint64_t size);

// The damage message of a header at `offset` with status `status` (not Ok or End).
std::string tar_header_damage(TarHeaderStatus status, std::uint64_t offset);

}  // namespace fastimg
