// The server's parts below HTTP: DynamicBatcher (requests of one key share a batch, keys never
// mix, limits hold, results go back to their own request, a full queue refuses, an abandoned
// request is never run, a model failure reaches every request of its batch and no other) and
// the JSON field readers (statuses and messages naming the field, base64 both ways).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "seq2seq/server/dynamic_batcher.h"
#include "seq2seq/server/http_error.h"
#include "seq2seq/server/json_fields.h"

namespace s2s::server {
namespace {

using namespace std::chrono_literals;
using Batcher = DynamicBatcher<int, int, int>;  // options: an offset added to every item

struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<int>> batches;
  Batcher::Run run() {
    return [this](const std::vector<int>& items, const int& offset) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        batches.push_back(items);
      }
      std::vector<int> out;
      for (int x : items)
        out.push_back(x + offset);
      return out;
    };
  }
};

Clock::time_point in(std::chrono::milliseconds ms) {
  return Clock::now() + ms;
}

TEST(DynamicBatcherTest, RequestsArrivingTogetherShareOneBatchAndGetTheirOwnResults) {
  Recorder recorder;
  BatchLimits limits;
  limits.max_wait = 200ms;
  Batcher batcher(recorder.run(), limits);
  std::vector<std::shared_ptr<Batcher::Job>> jobs;
  for (int r = 0; r < 5; ++r)
    jobs.push_back(batcher.submit("k", 100, {r * 10, r * 10 + 1}, 2, in(5s)));
  for (int r = 0; r < 5; ++r) {
    ASSERT_EQ(batcher.wait(*jobs[r], nullptr), JobState::done);
    EXPECT_EQ(jobs[r]->results, (std::vector<int>{100 + r * 10, 101 + r * 10}));
    EXPECT_EQ(jobs[r]->batch_items, 10);
  }
  ASSERT_EQ(recorder.batches.size(), 1u);
  EXPECT_EQ(recorder.batches[0].size(), 10u);
}

TEST(DynamicBatcherTest, KeysNeverShareABatchAndMaxItemsHolds) {
  Recorder recorder;
  BatchLimits limits;
  limits.max_wait = 100ms;
  limits.max_items = 4;
  Batcher batcher(recorder.run(), limits);
  std::vector<std::shared_ptr<Batcher::Job>> jobs;
  for (int r = 0; r < 6; ++r)
    jobs.push_back(batcher.submit(r % 2 ? "odd" : "even", r % 2 ? 1000 : 0, {r, r}, 2, in(5s)));
  for (int r = 0; r < 6; ++r) {
    ASSERT_EQ(batcher.wait(*jobs[r], nullptr), JobState::done);
    EXPECT_EQ(jobs[r]->results[0], r + (r % 2 ? 1000 : 0));
  }
  for (const auto& batch : recorder.batches) {
    EXPECT_LE(batch.size(), 4u);
    for (int x : batch)
      EXPECT_EQ(x % 2, batch[0] % 2) << "keys mixed in one batch";
  }
  EXPECT_EQ(recorder.batches.size(), 4u);  // 3 requests of 2 items per key, at most 4 items
}

TEST(DynamicBatcherTest, DisabledBatchingRunsEachRequestAlone) {
  Recorder recorder;
  BatchLimits limits;
  limits.enabled = false;
  Batcher batcher(recorder.run(), limits);
  std::vector<std::shared_ptr<Batcher::Job>> jobs;
  for (int r = 0; r < 4; ++r)
    jobs.push_back(batcher.submit("k", 0, {r}, 1, in(5s)));
  for (auto& job : jobs)
    ASSERT_EQ(batcher.wait(*job, nullptr), JobState::done);
  EXPECT_EQ(recorder.batches.size(), 4u);
}

TEST(DynamicBatcherTest, AFullQueueRefusesAndAnAbandonedRequestIsNeverRun) {
  Recorder recorder;
  BatchLimits limits;
  limits.max_wait = 300ms;  // short batches wait: the queue stays full while the test looks
  limits.max_queue_items = 3;
  Batcher batcher(recorder.run(), limits);
  auto first = batcher.submit("k", 0, {1, 2}, 2, in(30ms));
  EXPECT_THROW(batcher.submit("k", 0, {3, 4}, 2, in(5s)), QueueFull);
  auto fits = batcher.submit("k", 0, {5}, 1, in(5s));
  EXPECT_EQ(batcher.queued_items(), 3);
  EXPECT_EQ(batcher.wait(*first, nullptr), JobState::abandoned);  // its deadline passed queued
  EXPECT_EQ(batcher.queued_items(), 1);
  std::atomic<bool> gone{false};
  auto left = batcher.submit("k", 0, {7}, 1, in(5s));
  gone = true;
  EXPECT_EQ(batcher.wait(*left, [&] { return gone.load(); }), JobState::abandoned);
  ASSERT_EQ(batcher.wait(*fits, nullptr), JobState::done);
  for (const auto& batch : recorder.batches)
    for (int x : batch)
      EXPECT_TRUE(x == 5) << "an abandoned request's item " << x << " was run";
}

TEST(DynamicBatcherTest, AModelFailureReachesItsBatchOnly) {
  BatchLimits limits;
  limits.max_wait = 100ms;
  Batcher batcher(
      [](const std::vector<int>& items, const int&) -> std::vector<int> {
        for (int x : items)
          if (x < 0) throw InputError("negative item");
        return items;
      },
      limits);
  auto bad = batcher.submit("bad", 0, {-1}, 1, in(5s));
  auto good = batcher.submit("good", 0, {1}, 1, in(5s));
  EXPECT_EQ(batcher.wait(*bad, nullptr), JobState::failed);
  EXPECT_NE(bad->error.find("negative item"), std::string::npos);
  EXPECT_EQ(batcher.wait(*good, nullptr), JobState::done);
}

TEST(DynamicBatcherTest, StopFinishesWhatIsQueuedAndRefusesMore) {
  Recorder recorder;
  BatchLimits limits;
  limits.max_wait = 2s;
  Batcher batcher(recorder.run(), limits);
  auto job = batcher.submit("k", 0, {1}, 1, in(5s));
  batcher.stop();  // does not wait the 2 s for company
  EXPECT_EQ(job->state, JobState::done);
  EXPECT_THROW(batcher.submit("k", 0, {2}, 1, in(5s)), QueueFull);
}

int status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const HttpError& e) {
    return e.status();
  }
  return 0;
}

TEST(JsonFieldsTest, RefusalsNameTheFieldWithTheirStatus) {
  EXPECT_EQ(status_of([] { parse_request_body(""); }), 400);
  EXPECT_EQ(status_of([] { parse_request_body("[1, 2]"); }), 400);
  EXPECT_EQ(status_of([] { parse_request_body("{\"a\": \"\xff\"}"); }), 400);
  try {
    parse_request_body("{\"a\": \"\xc3\"}");
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos) << e.what();
  }
  const nlohmann::json body =
      nlohmann::json::parse(R"({"beam": 70, "text": ["a", 1], "lp": "x", "flag": 1, "name": 3})");
  try {
    integer_field(body, "beam", 5, 1, 64);
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("\"beam\""), std::string::npos);
  }
  EXPECT_EQ(status_of([&] { strings_field(body, "text", 10); }), 400);
  EXPECT_EQ(status_of([&] { strings_field(body, "text", 1); }), 413);
  EXPECT_EQ(status_of([&] { strings_field(body, "missing", 10); }), 400);
  EXPECT_EQ(status_of([&] { number_field(body, "lp", 0, 0, 1); }), 400);
  EXPECT_EQ(status_of([&] { bool_field(body, "flag", false); }), 400);
  EXPECT_EQ(status_of([&] { string_field(body, "name", ""); }), 400);
  EXPECT_EQ(status_of([&] { reject_unknown_fields(body, {"beam", "text"}); }), 400);
  EXPECT_EQ(integer_field(body, "absent", 7, 1, 64), 7);
}

TEST(JsonFieldsTest, Base64RoundTripsEveryLengthAndRefusesGarbage) {
  std::mt19937 random(7);
  for (size_t n = 0; n < 40; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes)
      c = static_cast<char>(random() & 0xff);
    const std::string encoded = encode_base64(bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(decode_base64(encoded, "x"), bytes) << n;
    EXPECT_EQ(decode_base64("data:image/png;base64," + encoded, "x"), bytes) << n;
  }
  EXPECT_EQ(decode_base64("aGVs\nbG8=", "x"), "hello");
  EXPECT_EQ(status_of([] { decode_base64("a*b=", "images[0]"); }), 400);
  EXPECT_EQ(status_of([] { decode_base64("aGVsb", "images[0]"); }), 400);  // truncated
  EXPECT_EQ(status_of([] { decode_base64("data:image/png,abc", "images[0]"); }), 400);
}

}  // namespace
}  // namespace s2s::server
