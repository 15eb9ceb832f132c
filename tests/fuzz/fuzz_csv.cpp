// The CSV writer of the organizer's exports (common/csv): the input, split at NUL bytes, is the
// fields of one row (at most 64 fields of at most 4 KiB; the exports' cells are far smaller).
// Two rows are written (the row, then its fields reversed) and read back with a strict RFC 4180
// reader written here. Invariants:
// - the reader gets back exactly two records, so no field ends a cell or a record early: outside
//   quotes there is only ',' between fields and CRLF after the last (no bare CR or LF);
// - every field reads back as written, except that a field a spreadsheet would run as a formula
//   (first character after leading spaces and quotes is = + - @ TAB or CR, csv.hpp) reads back
//   with one leading ' — and only such a field; so no formula reaches a spreadsheet.
// fuzz-libs: cohort_common
#include "common/csv.hpp"

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t max_fields = 64;
constexpr std::size_t max_field_bytes = 4096;

// The formula rule as csv.hpp states it, independently of csv.cpp.
bool formula_like(std::string_view v) {
  for (const char c : v) {
    if (c == ' ' || c == '"' || c == '\'') continue;
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
  }
  return false;
}

// RFC 4180, strict: every record ends in CRLF; a field is quoted ("" inside is one quote) or
// unquoted without quotes, CR or LF. nullopt for anything else.
std::optional<std::vector<std::vector<std::string>>> read_csv(std::string_view in) {
  std::vector<std::vector<std::string>> records;
  std::size_t i = 0;
  while (i < in.size()) {
    std::vector<std::string> record;
    while (true) {
      std::string field;
      if (i < in.size() && in[i] == '"') {
        ++i;
        while (true) {
          if (i >= in.size()) return std::nullopt;  // an unterminated quote
          if (in[i] == '"') {
            if (i + 1 < in.size() && in[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field += in[i++];
        }
      } else {
        while (i < in.size() && in[i] != ',' && in[i] != '\r') {
          if (in[i] == '"' || in[i] == '\n') return std::nullopt;
          field += in[i++];
        }
      }
      record.push_back(std::move(field));
      if (i < in.size() && in[i] == ',') {
        ++i;
        continue;
      }
      if (in.substr(i, 2) == "\r\n") {
        i += 2;
        break;
      }
      return std::nullopt;  // a bare CR, a stray character after a closing quote, or no CRLF at the end
    }
    records.push_back(std::move(record));
  }
  return records;
}

void check_field(const std::string& written, const std::string& read) {
  if (formula_like(written)) {
    if (read != "'" + written) std::abort();  // a formula escaped the guard (or the value changed)
  } else if (read != written) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> fields;
  std::size_t pos = 0;
  while (fields.size() < max_fields) {
    const auto end = input.find('\0', pos);
    fields.emplace_back(input.substr(pos, std::min(end == std::string_view::npos ? input.size() - pos : end - pos, max_field_bytes)));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  const std::vector<std::string> reversed(fields.rbegin(), fields.rend());

  std::string out;
  cohort::common::append_csv_row(out, fields);
  cohort::common::append_csv_row(out, reversed);
  const auto records = read_csv(out);
  if (!records || records->size() != 2) std::abort();
  for (int r = 0; r < 2; ++r) {
    const auto& expect = r == 0 ? fields : reversed;
    const auto& got = (*records)[static_cast<std::size_t>(r)];
    if (got.size() != expect.size()) std::abort();
    for (std::size_t i = 0; i < got.size(); ++i) check_field(expect[i], got[i]);
  }
  // csv_field alone: always one quoted cell.
  const auto cell = cohort::common::csv_field(fields.front());
  if (cell.size() < 2 || cell.front() != '"' || cell.back() != '"') std::abort();
  return 0;
}
