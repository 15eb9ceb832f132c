#include "streaming/segment_store.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace cohort::streaming;

namespace {

std::string seg(int i) { return "seg_" + std::to_string(i) + ".m4s"; }

// ffmpeg's playlist for segments [first, last], 1 s each, fMP4 with init.mp4.
media_playlist playlist(int first, int last) {
  media_playlist p;
  p.target_duration = 1;
  p.media_sequence = first;
  p.map_uri = "init.mp4";
  p.independent_segments = true;
  for (int i = first; i <= last; ++i) p.segments.push_back({seg(i), 1.0, "", false});
  return p;
}

std::vector<std::string> uris(const media_playlist& p) {
  std::vector<std::string> out;
  for (const auto& s : p.segments) out.push_back(s.uri);
  return out;
}

}  // namespace

TEST_CASE("a stored segment is one shared buffer, never copied", "[streaming][store]") {
  segment_store store(6, 1 << 20);
  std::string bytes(1000, 'x');
  const char* data = bytes.data();
  const auto put = store.put_segment("0", seg(1), std::move(bytes));
  const auto a = store.get("0", seg(1));
  const auto b = store.get("0", seg(1));
  REQUIRE(a);
  CHECK(a == put);
  CHECK(a.get() == b.get());
  CHECK(a->data() == data);  // the PUT body was moved in, not copied
  CHECK(*a == std::string(1000, 'x'));
  CHECK(store.total_bytes() == 1000);
  CHECK_FALSE(store.get("0", seg(2)));
  CHECK_FALSE(store.get("1", seg(1)));
}

TEST_CASE("each rendition keeps its newest max_segments without DELETEs", "[streaming][store]") {
  segment_store store(3, 1 << 20);
  store.put_init("0", "init.mp4", "init");
  for (int i = 1; i <= 5; ++i) store.put_segment("0", seg(i), std::string(10, 'a'));
  for (int i = 1; i <= 2; ++i) store.put_segment("1", seg(i), std::string(10, 'b'));
  CHECK_FALSE(store.get("0", seg(1)));
  CHECK_FALSE(store.get("0", seg(2)));
  for (int i = 3; i <= 5; ++i) CHECK(store.get("0", seg(i)));
  CHECK(store.get("0", "init.mp4"));  // the init is not a segment and stays
  CHECK(*store.get("1", seg(1)) == std::string(10, 'b'));  // same name, other rendition, untouched
  CHECK(store.total_bytes() == 4 + 3 * 10 + 2 * 10);
}

TEST_CASE("total bytes are bounded, oldest segment first across renditions", "[streaming][store]") {
  segment_store store(100, 350);
  store.put_init("hi", "init.mp4", std::string(20, 'i'));
  store.put_init("lo", "init.mp4", std::string(20, 'i'));
  store.put_segment("hi", seg(1), std::string(100, 'h'));  // 140
  store.put_segment("lo", seg(1), std::string(50, 'l'));   // 190
  store.put_segment("hi", seg(2), std::string(100, 'h'));  // 290
  store.put_segment("lo", seg(2), std::string(50, 'l'));   // 340
  CHECK(store.total_bytes() == 340);
  store.put_segment("hi", seg(3), std::string(100, 'h'));  // 440: hi/1 goes
  CHECK(store.total_bytes() == 340);
  CHECK_FALSE(store.get("hi", seg(1)));
  CHECK(store.get("lo", seg(1)));
  store.put_segment("lo", seg(3), std::string(50, 'l'));   // 390: lo/1 is now the oldest
  CHECK(store.total_bytes() == 340);
  CHECK_FALSE(store.get("lo", seg(1)));
  CHECK(store.get("hi", seg(2)));
  CHECK(store.get("lo", seg(2)));
  CHECK(store.get("hi", seg(3)));
  CHECK(store.get("lo", seg(3)));
  CHECK(store.get("hi", "init.mp4"));
  CHECK(store.get("lo", "init.mp4"));
}

TEST_CASE("a buffer handed out survives its eviction", "[streaming][store]") {
  segment_store store(1, 1 << 20);
  const auto held = store.put_segment("0", seg(1), "first");
  store.put_segment("0", seg(2), "second");
  CHECK_FALSE(store.get("0", seg(1)));
  CHECK(*held == "first");  // a response still sending it keeps it alive
}

TEST_CASE("remove drops a segment once", "[streaming][store]") {
  segment_store store(6, 1 << 20);
  store.put_segment("0", seg(1), "abc");
  CHECK(store.remove("0", seg(1)));
  CHECK_FALSE(store.remove("0", seg(1)));
  CHECK_FALSE(store.remove("9", seg(1)));
  CHECK_FALSE(store.get("0", seg(1)));
  CHECK(store.total_bytes() == 0);
  // A re-PUT of the same name replaces the bytes and counts them once.
  store.put_segment("0", seg(2), "one");
  store.put_segment("0", seg(2), "three");
  CHECK(*store.get("0", seg(2)) == "three");
  CHECK(store.total_bytes() == 5);
  // A new init replaces the old one.
  store.put_init("0", "init.mp4", "aa");
  store.put_init("0", "init_1.mp4", "bbbb");
  CHECK_FALSE(store.get("0", "init.mp4"));
  CHECK(store.total_bytes() == 9);
}

TEST_CASE("current lists only the segments the store holds", "[streaming][store]") {
  segment_store store(3, 1 << 20);
  CHECK_FALSE(store.current("0"));
  store.put_init("0", "init.mp4", "init");
  for (int i = 0; i <= 5; ++i) store.put_segment("0", seg(i), "data");  // 0..2 evicted
  store.update_playlist("0", playlist(0, 6));                         // 6 not PUT yet
  auto p = store.current("0");
  REQUIRE(p);
  CHECK(uris(*p) == std::vector<std::string>{seg(3), seg(4), seg(5)});
  CHECK(p->media_sequence == 3);
  CHECK(p->map_uri == std::optional<std::string>("init.mp4"));

  store.put_segment("0", seg(6), "data");  // evicts 3
  p = store.current("0");
  REQUIRE(p);
  CHECK(uris(*p) == std::vector<std::string>{seg(4), seg(5), seg(6)});
  CHECK(p->media_sequence == 4);

  store.remove("0", seg(5));  // a hole: the newest run is served, the live edge does not stall
  p = store.current("0");
  REQUIRE(p);
  CHECK(uris(*p) == std::vector<std::string>{seg(6)});
  CHECK(p->media_sequence == 6);
}

TEST_CASE("current is empty without the init segment or any listed segment", "[streaming][store]") {
  segment_store store(6, 1 << 20);
  store.put_segment("0", seg(1), "data");
  store.update_playlist("0", playlist(1, 1));
  CHECK_FALSE(store.current("0"));  // init.mp4 missing
  store.put_init("0", "init.mp4", "init");
  CHECK(store.current("0"));
  store.remove("0", seg(1));
  CHECK_FALSE(store.current("0"));
  CHECK_FALSE(store.current("other"));
}

TEST_CASE("discontinuities that slide out of the window move the discontinuity sequence", "[streaming][store]") {
  segment_store store(3, 1 << 20);
  store.put_init("0", "init.mp4", "init");
  for (int i = 0; i <= 2; ++i) store.put_segment("0", seg(i), "data");
  auto p = playlist(0, 2);
  p.segments[0].discontinuity = true;  // ffmpeg's discont_start
  p.segments[2].discontinuity = true;
  store.update_playlist("0", p);
  CHECK(store.current("0")->discontinuity_sequence == 0);

  // ffmpeg slides to 1..3 (seg 0 left its window), the store evicts 0 as well.
  store.put_segment("0", seg(3), "data");
  p.media_sequence = 1;
  p.segments.erase(p.segments.begin());
  p.segments.push_back({seg(3), 1.0, "", false});
  store.update_playlist("0", p);
  auto cur = store.current("0");
  REQUIRE(cur);
  CHECK(cur->media_sequence == 1);
  CHECK(cur->discontinuity_sequence == 1);

  // The store evicts seg 1 and 2 while ffmpeg still lists them: seg 2's discontinuity is gone too.
  store.put_segment("0", seg(4), "data");
  store.put_segment("0", seg(5), "data");
  cur = store.current("0");
  REQUIRE(cur);
  CHECK(uris(*cur) == std::vector<std::string>{seg(3)});
  CHECK(cur->media_sequence == 3);
  CHECK(cur->discontinuity_sequence == 2);
  const auto text = render_live(*cur);
  CHECK(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:2\n") != std::string::npos);
  CHECK(text.find("#EXT-X-DISCONTINUITY\n") == std::string::npos);
}

TEST_CASE("the target duration never goes down and ENDLIST waits for the last segment", "[streaming][store]") {
  segment_store store(10, 1 << 20);
  store.put_init("0", "init.mp4", "init");
  for (int i = 0; i <= 3; ++i) store.put_segment("0", seg(i), "data");
  auto p = playlist(0, 1);
  p.segments[1].duration = 2.6;
  store.update_playlist("0", p);
  CHECK(store.current("0")->target_duration == 3);
  auto later = playlist(2, 4);
  later.ended = true;
  store.update_playlist("0", later);  // 4 not PUT yet
  auto cur = store.current("0");
  REQUIRE(cur);
  CHECK(cur->target_duration == 3);
  CHECK_FALSE(cur->ended);
  store.put_segment("0", seg(4), "data");
  CHECK(store.current("0")->ended);
}

TEST_CASE("ffmpeg's live playlist through the store renders Cohort's own", "[streaming][store]") {
  segment_store store(7, 1 << 20);
  store.put_init("index", "init.mp4", "init");
  for (int i = 0; i <= 6; ++i) store.put_segment("index", "seg_0000" + std::to_string(i) + ".m4s", "data");
  const auto parsed = parse_media_playlist(
      "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.000000,\nseg_00005.m4s\n#EXTINF:1.000000,\nseg_00006.m4s\n");
  REQUIRE(parsed);
  store.update_playlist("index", *parsed);
  const auto cur = store.current("index");
  REQUIRE(cur);
  CHECK(render_live(*cur, [](std::string_view uri) { return "/hls/42/index/" + std::string(uri) + "?k=v"; }) ==
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-MAP:URI=\"/hls/42/index/init.mp4?k=v\"\n#EXTINF:1.000,\n/hls/42/index/seg_00005.m4s?k=v\n"
        "#EXTINF:1.000,\n/hls/42/index/seg_00006.m4s?k=v\n");
  CHECK(store.renditions() == std::vector<std::string>{"index"});
}

TEST_CASE("concurrent writers and readers see whole segments", "[streaming][store]") {
  segment_store store(4, 64 * 1024);
  store.put_init("0", "init.mp4", "init");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      store.put_segment("0", seg(i), std::string(1000 + i % 7, char('a' + i % 26)));
      if (i % 10 == 0) store.update_playlist("0", playlist(std::max(0, i - 5), i));
      if (i % 3 == 0) store.remove("0", seg(i - 2));
    }
    done = true;
  });
  std::size_t seen = 0;
  while (!done) {
    for (int i = 0; i < 2000; i += 97)
      if (const auto b = store.get("0", seg(i))) {
        REQUIRE(b->size() == std::size_t(1000 + i % 7));
        REQUIRE(b->front() == char('a' + i % 26));
        ++seen;
      }
    if (const auto p = store.current("0")) REQUIRE(p->segments.size() <= 4);
    REQUIRE(store.total_bytes() <= 64 * 1024);
  }
  writer.join();
  CHECK(store.total_bytes() <= 4 * 1010 + 4);
  (void)seen;
}

TEST_CASE("a stored file carries response headers built once, when it was stored", "[streaming][store]") {
  segment_store store(6, 1 << 20);
  store.put_init("0", "init.mp4", "init bytes");
  const auto put = store.put_segment("0", seg(1), std::string(1000, 'x'));
  const auto a = store.find("0", seg(1));
  const auto b = store.find("0", seg(1));
  REQUIRE(a);
  CHECK(a.bytes == put);
  CHECK(a.headers.get() == b.headers.get());  // the same list every time, not rebuilt per answer
  const segment_store::header_list expected_prefix{{"Content-Type", "video/mp4"},
                                                   {"Cache-Control", "public, max-age=3600, immutable"}};
  REQUIRE(a.headers->size() == 3);
  CHECK(std::equal(expected_prefix.begin(), expected_prefix.end(), a.headers->begin()));
  CHECK(a.headers->back().first == "ETag");
  CHECK(a.etag() == a.headers->back().second);
  CHECK(a.etag().front() == '"');
  CHECK(a.etag().back() == '"');
  // The same headers as lines ready to send, with the length; shared like the list.
  REQUIRE(a.header_lines);
  CHECK(a.header_lines.get() == b.header_lines.get());
  CHECK(*a.header_lines == "Content-Type: video/mp4\r\nCache-Control: public, max-age=3600, immutable\r\nETag: " + a.etag() +
                               "\r\nContent-Length: 1000\r\n");

  // The bytes again in a sealed memfd (what sendfile sends): the same bytes, and it cannot change.
  REQUIRE(a.file);
  CHECK(a.file == b.file);
  std::string in_file(2000, '\0');
  CHECK(::pread(a.file->fd, in_file.data(), in_file.size(), 0) == 1000);
  in_file.resize(1000);
  CHECK(in_file == *a.bytes);
  CHECK(::pwrite(a.file->fd, "y", 1, 0) == -1);
  CHECK(::ftruncate(a.file->fd, 10) == -1);

  // The ETag follows the content: other bytes, another tag; the same bytes again, the same tag.
  const auto init = store.find("0", "init.mp4");
  REQUIRE(init);
  CHECK(init.etag() != a.etag());
  store.put_segment("0", seg(2), std::string(1000, 'y'));
  CHECK(store.find("0", seg(2)).etag() != a.etag());
  store.put_segment("0", seg(3), std::string(1000, 'x'));
  CHECK(store.find("0", seg(3)).etag() == a.etag());

  // Evicted or unknown: nothing, and the caller's copy stays valid.
  CHECK(store.remove("0", seg(1)));
  CHECK_FALSE(store.find("0", seg(1)));
  CHECK_FALSE(store.find("1", seg(2)));
  CHECK(*a.bytes == std::string(1000, 'x'));
  CHECK(a.headers->size() == 3);
}
