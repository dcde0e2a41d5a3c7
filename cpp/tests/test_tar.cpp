#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fastimg/tar.hpp"

namespace fastimg {
namespace {

void put_octal(std::uint8_t* field, std::size_t width, std::uint64_t value) {
  std::snprintf(reinterpret_cast<char*>(field), width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

void seal(std::uint8_t* block) {
  std::memset(block + 148, ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < kTarBlock; ++i) sum += block[i];
  std::snprintf(reinterpret_cast<char*>(block + 148), 8, "%06o", sum);
}

// One member: header (ustar, with `prefix` when given) + bytes + padding.
void add_member(std::vector<std::uint8_t>& tar, const std::string& name, const std::string& bytes, char kind = '0',
                const std::string& prefix = "") {
  std::vector<std::uint8_t> block(kTarBlock, 0);
  std::memcpy(block.data(), name.data(), std::min<std::size_t>(name.size(), 100));
  put_octal(block.data() + 100, 8, 0644);
  put_octal(block.data() + 124, 12, bytes.size());
  block[156] = static_cast<std::uint8_t>(kind);
  std::memcpy(block.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memcpy(block.data() + 345, prefix.data(), prefix.size());
  seal(block.data());
  tar.insert(tar.end(), block.begin(), block.end());
  tar.insert(tar.end(), bytes.begin(), bytes.end());
  tar.resize(tar.size() + (kTarBlock - bytes.size() % kTarBlock) % kTarBlock, 0);
}

// The index of `tar`, through a temporary file as the reader indexes a shard it maps.
TarIndex index_of(const std::vector<std::uint8_t>& tar) {
  std::FILE* f = std::tmpfile();
  std::fwrite(tar.data(), 1, tar.size(), f);
  std::fflush(f);
  TarIndex index = index_tar_file(fileno(f), tar.size());
  std::fclose(f);
  return index;
}

TEST(Tar, IndexesMembersWithOffsetsNamesAndKinds) {
  std::vector<std::uint8_t> tar;
  add_member(tar, "0001.jpg", std::string(700, 'x'));
  add_member(tar, "0001.cls", "3");
  add_member(tar, "dir", "", '5');
  add_member(tar, "0002.jpg", "", '0', "a/b");
  tar.resize(tar.size() + 2 * kTarBlock, 0);  // end blocks
  const TarIndex index = index_of(tar);
  EXPECT_TRUE(index.damage.empty()) << index.damage;
  ASSERT_EQ(index.entries.size(), 4u);
  EXPECT_EQ(index.entries[0].header.name, "0001.jpg");
  EXPECT_EQ(index.entries[0].header.size, 700u);
  EXPECT_EQ(index.entries[0].data_offset, kTarBlock);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(tar.data() + index.entries[1].data_offset), 1), "3");
  EXPECT_EQ(index.entries[1].data_offset, kTarBlock * 4);  // 700 bytes take two blocks
  EXPECT_EQ(index.entries[2].header.kind, '5');
  EXPECT_EQ(index.entries[3].header.name, "a/b/0002.jpg");
}

TEST(Tar, ReportsDamageWithItsOffset) {
  std::vector<std::uint8_t> tar;
  add_member(tar, "0001.jpg", "abc");
  add_member(tar, "0002.jpg", "def");
  tar[kTarBlock * 2 + 10] ^= 0x5A;  // second header's name: checksum no longer matches
  TarIndex index = index_of(tar);
  ASSERT_EQ(index.entries.size(), 1u);
  EXPECT_EQ(index.damage, "corrupt tar header at byte 1024 (checksum mismatch)");

  tar.resize(kTarBlock * 2 + 100);  // the second header cut short
  index = index_of(tar);
  EXPECT_EQ(index.damage, "truncated tar: header at byte 1024 cut short");

  std::vector<std::uint8_t> cut;
  add_member(cut, "big.jpg", std::string(2000, 'y'));
  cut.resize(kTarBlock + 1000);  // the member's bytes cut short: its entry is the last, no damage text
  index = index_of(cut);
  ASSERT_EQ(index.entries.size(), 1u);
  EXPECT_EQ(index.entries[0].header.size, 2000u);
  EXPECT_TRUE(index.damage.empty());
}

TEST(Tar, ParsesNumericFieldsAsWritersWriteThem) {
  std::vector<std::uint8_t> block(kTarBlock, 0);
  std::memcpy(block.data(), "a.jpg", 5);
  std::memcpy(block.data() + 124, "  1750 \0\0\0\0\0", 12);  // space-padded octal
  block[156] = '0';
  seal(block.data());
  TarHeader h;
  ASSERT_EQ(parse_tar_header(block.data(), &h), TarHeaderStatus::Ok);
  EXPECT_EQ(h.size, 01750u);
  EXPECT_EQ(h.name, "a.jpg");  // no ustar magic: the prefix field is not read

  std::memset(block.data() + 124, 0, 12);  // GNU base-256: 8 GiB
  block[124] = 0x80;
  block[131] = 0x02;
  seal(block.data());
  ASSERT_EQ(parse_tar_header(block.data(), &h), TarHeaderStatus::Ok);
  EXPECT_EQ(h.size, 8ull << 30);

  std::memcpy(block.data() + 124, "12x4\0", 5);  // not a number
  seal(block.data());
  EXPECT_EQ(parse_tar_header(block.data(), &h), TarHeaderStatus::BadSize);

  std::vector<std::uint8_t> zero(kTarBlock, 0);
  EXPECT_EQ(parse_tar_header(zero.data(), &h), TarHeaderStatus::End);
}

TEST(Tar, AcceptsSignedByteChecksums) {
  // Old writers summed the header as signed chars: a name byte >= 0x80 makes the two sums differ.
  std::vector<std::uint8_t> block(kTarBlock, 0);
  std::memcpy(block.data(), "caf\xc3\xa9.jpg", 9);
  put_octal(block.data() + 124, 12, 0);
  block[156] = '0';
  std::memset(block.data() + 148, ' ', 8);
  int sum = 0;
  for (std::size_t i = 0; i < kTarBlock; ++i) sum += static_cast<std::int8_t>(block[i]);
  std::snprintf(reinterpret_cast<char*>(block.data() + 148), 8, "%06o", sum);
  TarHeader h;
  EXPECT_EQ(parse_tar_header(block.data(), &h), TarHeaderStatus::Ok);
  EXPECT_EQ(h.name, "caf\xc3\xa9.jpg");
}

}  // namespace
}  // namespace fastimg
