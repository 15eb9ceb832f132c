#include "live_room/channels/chat/chat_channel.hpp"

#include <catch2/catch.hpp>

using cohort::live_room::valid_chat_text;

TEST_CASE("chat text is trimmed and checked", "[chat]") {
  std::string why;
  CHECK(valid_chat_text("  hello  ", why) == std::optional<std::string>("hello"));
  CHECK_FALSE(valid_chat_text("   ", why));
  CHECK_FALSE(valid_chat_text("two\nlines", why));
  CHECK_FALSE(valid_chat_text("bell\a", why));
  CHECK_FALSE(valid_chat_text("\xc3\x28", why));
  CHECK(valid_chat_text(std::string(500, 'a'), why));
  CHECK_FALSE(valid_chat_text(std::string(501, 'a'), why));
  // 500 characters, not bytes: 500 × "é" is 1000 bytes and still fits.
  std::string accents;
  for (int i = 0; i < 500; ++i) accents += "\xc3\xa9";
  CHECK(valid_chat_text(accents, why));
  CHECK(valid_chat_text("<img src=x onerror=alert(1)>", why));
}
