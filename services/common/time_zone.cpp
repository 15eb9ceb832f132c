#include "common/time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace cohort::common {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t year_of_days(std::int64_t days) {
  days += 719468;
  const std::int64_t era = floor_div(days, 146097);
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

class reader {
 public:
  explicit reader(std::string_view bytes) : bytes_(bytes) {}
  std::string_view take(std::size_t n) {
    if (n > bytes_.size() - pos_) throw std::runtime_error("truncated TZif data");
    auto out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::int64_t be(std::size_t n) {
    const auto b = take(n);
    std::uint64_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

// The largest UTC offset accepted, from the file or its footer: 26 h (RFC 8536 allows -25..+26 h).
constexpr std::int32_t max_offset = 26 * 3600;

struct counts {
  std::int64_t isut, isstd, leap, time, type, chars;
};

counts read_header(reader& r, char& version) {
  if (r.take(4) != "TZif") throw std::runtime_error("not a TZif file");
  version = r.take(1)[0];
  r.take(15);
  counts c{r.be(4), r.be(4), r.be(4), r.be(4), r.be(4), r.be(4)};
  if (c.type < 1 || c.type > 256 || c.time < 0 || c.time > 100000 || c.chars < 0 || c.leap < 0 || c.isut < 0 || c.isstd < 0)
    throw std::runtime_error("implausible TZif counts");
  return c;
}

}  // namespace

// A POSIX TZ string with Mm.w.d rules, the form tzdata writes in its footers.
struct time_zone::posix_rule {
  struct when {
    unsigned month = 0, week = 0, weekday = 0;
    std::int32_t time = 7200;  // seconds after local midnight
  };
  type standard, daylight;
  std::optional<std::pair<when, when>> rules;  // DST start, end

  static std::optional<posix_rule> parse(std::string_view s) {
    std::size_t i = 0;
    auto name = [&]() -> std::optional<std::string> {
      if (i < s.size() && s[i] == '<') {
        const auto end = s.find('>', i);
        if (end == std::string_view::npos) return std::nullopt;
        std::string out(s.substr(i + 1, end - i - 1));
        i = end + 1;
        return out;
      }
      const auto start = i;
      while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
      if (i - start < 3) return std::nullopt;
      return std::string(s.substr(start, i - start));
    };
    auto number = [&]() -> std::optional<int> {
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      int v = 0;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && v < 10000) v = v * 10 + (s[i++] - '0');
      return v;
    };
    auto hms = [&]() -> std::optional<std::int32_t> {  // [+-]h[:mm[:ss]]
      int sign = 1;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
      auto h = number();
      if (!h) return std::nullopt;
      std::int32_t v = *h * 3600;
      for (int unit : {60, 1}) {
        if (i >= s.size() || s[i] != ':') break;
        ++i;
        auto part = number();
        if (!part) return std::nullopt;
        v += *part * unit;
      }
      return sign * v;
    };
    auto rule = [&]() -> std::optional<when> {
      if (i >= s.size() || s[i] != 'M') return std::nullopt;  // Jn and n forms: not used by tzdata footers
      ++i;
      when w;
      auto m = number();
      if (!m || i >= s.size() || s[i++] != '.') return std::nullopt;
      auto wk = number();
      if (!wk || i >= s.size() || s[i++] != '.') return std::nullopt;
      auto d = number();
      if (!d || *m < 1 || *m > 12 || *wk < 1 || *wk > 5 || *d > 6) return std::nullopt;
      w.month = static_cast<unsigned>(*m), w.week = static_cast<unsigned>(*wk), w.weekday = static_cast<unsigned>(*d);
      if (i < s.size() && s[i] == '/') {
        ++i;
        auto t = hms();
        if (!t) return std::nullopt;
        w.time = *t;
      }
      return w;
    };

    // RFC 8536 3.3.1: POSIX offsets are hours 0-24 (and minutes); we accept up to 26 h.
    auto plausible = [](std::int32_t offset) { return offset >= -max_offset && offset <= max_offset; };
    posix_rule out;
    auto std_name = name();
    if (!std_name) return std::nullopt;
    auto std_off = hms();
    if (!std_off) return std::nullopt;
    out.standard = {-*std_off, false, *std_name};  // POSIX offsets count west
    if (!plausible(out.standard.offset)) return std::nullopt;
    if (i == s.size()) return out;
    auto dst_name = name();
    if (!dst_name) return std::nullopt;
    out.daylight = {out.standard.offset + 3600, true, *dst_name};
    if (i < s.size() && s[i] != ',') {
      auto dst_off = hms();
      if (!dst_off) return std::nullopt;
      out.daylight.offset = -*dst_off;
    }
    if (!plausible(out.daylight.offset)) return std::nullopt;
    if (i >= s.size() || s[i++] != ',') return std::nullopt;
    auto start = rule();
    if (!start || i >= s.size() || s[i++] != ',') return std::nullopt;
    auto end = rule();
    if (!end || i != s.size()) return std::nullopt;
    out.rules = std::make_pair(*start, *end);
    return out;
  }

  // The instant (UTC) the rule fires in `year`, given the offset in force just before it.
  static std::int64_t instant(const when& w, std::int64_t year, std::int32_t offset_before) {
    const auto first = days_from_civil(year, w.month, 1);
    const auto first_weekday = static_cast<unsigned>(((first + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
    unsigned day = 1 + (w.weekday + 7 - first_weekday) % 7 + 7 * (w.week - 1);
    while (day > days_in_month(year, w.month)) day -= 7;
    return (first + day - 1) * 86400 + w.time - offset_before;
  }

  const type& at(std::int64_t t) const {
    if (!rules) return standard;
    // Far enough (+-31 million years) for any date, near enough that t + offset and the rule's
    // instants (days * 86400) stay far from int64 overflow.
    constexpr std::int64_t horizon = 1'000'000'000'000'000;
    t = std::clamp(t, -horizon, horizon);
    const auto year = year_of_days(floor_div(t + standard.offset, 86400));
    const auto start = instant(rules->first, year, standard.offset);
    const auto end = instant(rules->second, year, daylight.offset);
    const bool dst = start < end ? (start <= t && t < end) : !(end <= t && t < start);
    return dst ? daylight : standard;
  }
};

std::shared_ptr<const time_zone> time_zone::parse(std::string name, std::string_view tzif) {
  reader r(tzif);
  char version = 0;
  auto c = read_header(r, version);
  const bool v2 = version >= '2';
  if (v2) {  // skip the 32-bit block; the 64-bit one follows with its own header
    r.take(static_cast<std::size_t>(c.time * 5 + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut));
    c = read_header(r, version);
  }
  const std::size_t width = v2 ? 8 : 4;
  std::shared_ptr<time_zone> z(new time_zone());
  z->name_ = std::move(name);
  for (std::int64_t k = 0; k < c.time; ++k) z->transitions_.push_back(r.be(width));
  for (std::int64_t k = 0; k < c.time; ++k) {
    const auto idx = static_cast<std::uint8_t>(r.take(1)[0]);
    if (idx >= c.type) throw std::runtime_error("TZif transition names a missing type");
    z->type_of_.push_back(idx);
  }
  std::vector<std::pair<std::int32_t, std::pair<bool, std::uint8_t>>> raw;
  for (std::int64_t k = 0; k < c.type; ++k) {
    const auto offset = static_cast<std::int32_t>(r.be(4));
    // RFC 8536 3.2: within -25..+26 h (and never -2^31, which cannot be negated).
    if (offset < -max_offset || offset > max_offset) throw std::runtime_error("TZif UTC offset out of range");
    const bool dst = r.take(1)[0] != 0;
    const auto abbr = static_cast<std::uint8_t>(r.take(1)[0]);
    raw.push_back({offset, {dst, abbr}});
  }
  const auto chars = r.take(static_cast<std::size_t>(c.chars));
  for (const auto& [offset, info] : raw) {
    const auto at = std::min<std::size_t>(info.second, chars.size());
    const auto end = chars.find('\0', at);
    z->types_.push_back({offset, info.first, std::string(chars.substr(at, end == std::string_view::npos ? chars.size() - at : end - at))});
  }
  if (!std::is_sorted(z->transitions_.begin(), z->transitions_.end())) throw std::runtime_error("TZif transitions out of order");
  if (v2) {
    r.take(static_cast<std::size_t>(c.leap * 12 + c.isstd + c.isut));
    const auto footer = r.rest();
    if (footer.size() >= 2 && footer.front() == '\n') {
      const auto end = footer.find('\n', 1);
      if (end != std::string_view::npos)
        if (auto rule = posix_rule::parse(footer.substr(1, end - 1))) z->footer_ = std::make_shared<posix_rule>(std::move(*rule));
    }
  }
  return z;
}

time_zone::local_time time_zone::at(std::int64_t t) const {
  const type* chosen = &types_.front();  // before the first transition: type 0 (RFC 8536)
  if (footer_ && (transitions_.empty() || t >= transitions_.back())) {
    chosen = &footer_->at(t);
  } else if (!transitions_.empty() && t >= transitions_.front()) {
    const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
    chosen = &types_[type_of_[static_cast<std::size_t>(it - transitions_.begin() - 1)]];
  }
  return {chosen->offset, chosen->abbreviation};
}

bool plausible_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  char previous = '/';
  for (char ch : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '+' || ch == '-' || ch == '/';
    if (!ok || (ch == '/' && previous == '/')) return false;
    previous = ch;
  }
  return name.back() != '/';
}

std::shared_ptr<const time_zone> time_zone::find(std::string_view name) {
  if (!plausible_zone_name(name)) return nullptr;
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const time_zone>, std::less<>> cache;  // found zones only: bounded by the database
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
  }
  const char* dir = std::getenv("TZDIR");
  std::ifstream in(std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name), std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream read;
  read << in.rdbuf();
  const auto bytes = read.str();
  if (bytes.size() > (1 << 20)) return nullptr;
  std::shared_ptr<const time_zone> zone;
  try {
    zone = parse(std::string(name), bytes);
  } catch (const std::exception&) {
    return nullptr;  // a directory, or not a zone file
  }
  std::lock_guard lock(mutex);
  return cache.emplace(std::string(name), std::move(zone)).first->second;
}

}  // namespace cohort::common
