#include "metrics/metrics.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Catch::Matchers::Contains;
using cohort::metrics::counter;
using cohort::metrics::counter_family;
using cohort::metrics::histogram;
using cohort::metrics::histogram_family;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("counter adds from many threads without losing updates", "[metrics]") {
  counter c;
  CHECK(c.value() == 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c] {
      for (int i = 0; i < 10000; ++i) c.add();
    });
  for (auto& t : threads) t.join();
  c.add(5);
  CHECK(c.value() == 40005);
}

TEST_CASE("histogram renders cumulative buckets, +Inf, _sum and _count", "[metrics]") {
  histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 3.0, 4.0, 10.0}) h.observe(v);
  CHECK(h.count() == 6);
  std::string out;
  h.render(out, "demo_seconds", "");
  CHECK(lines_of(out) == std::vector<std::string>{
                             "demo_seconds_bucket{le=\"1\"} 2",  // 0.5 and 1.0: a value on the bound counts in it
                             "demo_seconds_bucket{le=\"2\"} 3",
                             "demo_seconds_bucket{le=\"4\"} 5",
                             "demo_seconds_bucket{le=\"+Inf\"} 6",  // 10.0 is only in +Inf
                             "demo_seconds_sum 20",
                             "demo_seconds_count 6",
                         });
}

TEST_CASE("histogram renders fractional bounds and sums", "[metrics]") {
  histogram h({0.0005, 0.0025, 0.25});
  h.observe(0.001);
  h.observe(0.25);
  std::string out;
  h.render(out, "t", "");
  CHECK_THAT(out, Contains("t_bucket{le=\"0.0005\"} 0\n"));
  CHECK_THAT(out, Contains("t_bucket{le=\"0.0025\"} 1\n"));
  CHECK_THAT(out, Contains("t_bucket{le=\"0.25\"} 2\n"));
  CHECK_THAT(out, Contains("t_sum 0.251\n"));
}

TEST_CASE("an empty histogram renders zeros", "[metrics]") {
  histogram h({1});
  std::string out;
  h.render(out, "idle", "");
  CHECK(out == "idle_bucket{le=\"1\"} 0\nidle_bucket{le=\"+Inf\"} 0\nidle_sum 0\nidle_count 0\n");
}

TEST_CASE("histogram puts its labels before le and on _sum and _count", "[metrics]") {
  histogram h({1});
  h.observe(0.5);
  std::string out;
  h.render(out, "req", "route=\"/api\"");
  CHECK(lines_of(out) == std::vector<std::string>{
                             "req_bucket{route=\"/api\",le=\"1\"} 1",
                             "req_bucket{route=\"/api\",le=\"+Inf\"} 1",
                             "req_sum{route=\"/api\"} 0.5",
                             "req_count{route=\"/api\"} 1",
                         });
}

TEST_CASE("histogram _sum keeps every digit of a large total", "[metrics]") {
  // A counter-like sum (every write ever committed) must be scraped to the unit.
  histogram h({1});
  h.observe(1234567);
  std::string out;
  h.render(out, "big", "");
  CHECK_THAT(out, Contains("big_sum 1234567\n"));
}

TEST_CASE("counter_family keeps one counter per label set and renders each", "[metrics]") {
  counter_family f;
  f.with("status=\"registered\"").add();
  f.with("status=\"registered\"").add(2);
  f.with("status=\"waitlisted\"").add();
  CHECK(&f.with("status=\"registered\"") == &f.with("status=\"registered\""));
  CHECK(f.with("status=\"registered\"").value() == 3);
  std::string out;
  f.render(out, "signups_total");
  CHECK(lines_of(out) == std::vector<std::string>{
                             "signups_total{status=\"registered\"} 3",
                             "signups_total{status=\"waitlisted\"} 1",
                         });
}

TEST_CASE("histogram_family renders one histogram per label set with its own counts", "[metrics]") {
  histogram_family f({0.1, 1});
  f.with("route=\"/a\"").observe(0.05);
  f.with("route=\"/b\"").observe(0.5);
  f.with("route=\"/b\"").observe(5);
  std::string out;
  f.render(out, "d");
  CHECK_THAT(out, Contains("d_bucket{route=\"/a\",le=\"0.1\"} 1\n"));
  CHECK_THAT(out, Contains("d_count{route=\"/a\"} 1\n"));
  CHECK_THAT(out, Contains("d_bucket{route=\"/b\",le=\"0.1\"} 0\n"));
  CHECK_THAT(out, Contains("d_bucket{route=\"/b\",le=\"1\"} 1\n"));
  CHECK_THAT(out, Contains("d_bucket{route=\"/b\",le=\"+Inf\"} 2\n"));
  CHECK_THAT(out, Contains("d_sum{route=\"/b\"} 5.5\n"));
}

TEST_CASE("label_value escapes backslash, double quote and newline", "[metrics]") {
  using cohort::metrics::label_value;
  CHECK(label_value("/api/webinars/{id}") == "/api/webinars/{id}");
  CHECK(label_value("a\"b") == "a\\\"b");
  CHECK(label_value("a\\b") == "a\\\\b");
  CHECK(label_value("line1\nline2") == "line1\\nline2");
  CHECK(label_value("\\\"\n") == "\\\\\\\"\\n");
  CHECK(label_value("Zoë") == "Zoë");
}

TEST_CASE("registry renders every metric with HELP and TYPE", "[metrics]") {
  cohort::metrics::registry r;
  r.http_requests.with("route=\"/api/webinars\",method=\"GET\",status=\"200\"").add();
  r.registrations.with("status=\"registered\"").add(4);
  r.sqlite_batch_size.observe(3);
  r.sqlite_write_rejected.add(2);
  r.http_connections_total.add(7);
  const auto text = r.render();
  for (const char* name : {"cohort_http_requests_total", "cohort_http_request_duration_seconds", "cohort_http_connections_total",
                           "cohort_registrations_total", "cohort_sqlite_commit_batch_size",
                           "cohort_sqlite_commit_duration_seconds", "cohort_sqlite_write_rejected_total"}) {
    INFO(name);
    CHECK_THAT(text, Contains(std::string("# HELP ") + name + " "));
    CHECK_THAT(text, Contains(std::string("# TYPE ") + name + " "));
  }
  CHECK_THAT(text, Contains("# TYPE cohort_http_requests_total counter\n"));
  CHECK_THAT(text, Contains("# TYPE cohort_sqlite_commit_batch_size histogram\n"));
  CHECK_THAT(text, Contains("cohort_http_requests_total{route=\"/api/webinars\",method=\"GET\",status=\"200\"} 1\n"));
  CHECK_THAT(text, Contains("cohort_registrations_total{status=\"registered\"} 4\n"));
  CHECK_THAT(text, Contains("cohort_sqlite_commit_batch_size_bucket{le=\"2\"} 0\n"));
  CHECK_THAT(text, Contains("cohort_sqlite_commit_batch_size_bucket{le=\"4\"} 1\n"));
  CHECK_THAT(text, Contains("cohort_sqlite_commit_batch_size_count 1\n"));
  CHECK_THAT(text, Contains("cohort_sqlite_write_rejected_total 2\n"));
  CHECK_THAT(text, Contains("cohort_http_connections_total 7\n"));
  // every sample line is "name[{labels}] value" and the document ends with a newline
  REQUIRE_FALSE(text.empty());
  CHECK(text.back() == '\n');
  for (const auto& line : lines_of(text)) {
    if (line.rfind("# ", 0) == 0) continue;
    INFO(line);
    CHECK(line.rfind("cohort_", 0) == 0);
    CHECK(line.find(' ') != std::string::npos);
  }
}
