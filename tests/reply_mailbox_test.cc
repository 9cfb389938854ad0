// mbox splitting, JSON records (good and bad) and the directory walk of reply/mailbox.h.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "reply/mailbox.h"
#include "seq2seq/error.h"

namespace s2s::reply {
namespace {
namespace fs = std::filesystem;

class ReplyMailbox : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("s2s_reply_mailbox_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(ReplyMailbox, SplitsAnMboxOnFromLinesAndUnquotesFrom) {
  const std::string path = write("box.mbox",
                                 "From joe@example.org Thu Aug 22 12:36:23 2002\n"
                                 "Subject: one\n"
                                 "\n"
                                 "first body\n"
                                 ">From the archive, a quoted From line\n"
                                 ">>From two levels\n"
                                 "\n"
                                 "From ann@example.org Fri Aug 23 09:00:00 2002\r\n"
                                 "Subject: two\r\n"
                                 "\r\n"
                                 "second body\r\n");
  MboxReader reader(path);
  RawMessage m;
  ASSERT_TRUE(reader.next(m));
  EXPECT_EQ(m.where, path + ":1");
  EXPECT_EQ(m.bytes,
            "Subject: one\n\nfirst body\nFrom the archive, a quoted From line\n>From two levels\n");
  ASSERT_TRUE(reader.next(m));
  EXPECT_EQ(m.where, path + ":8");
  EXPECT_EQ(m.bytes, "Subject: two\n\nsecond body\n");
  EXPECT_FALSE(reader.next(m));
  EXPECT_FALSE(reader.next(m));
}

TEST_F(ReplyMailbox, MboxEdgeCases) {
  RawMessage m;
  {
    MboxReader empty(write("empty.mbox", ""));
    EXPECT_FALSE(empty.next(m));
  }
  {
    MboxReader junk(write("junk.mbox", "no From line at all\n"));
    EXPECT_FALSE(junk.next(m));
  }
  {  // an over-long message is skipped over and flagged; the next one is read
    MboxReader big(write("big.mbox", "From a\n\n" + std::string(5000, 'x') + "\nFrom b\n\nsmall\n"),
                   1000);
    bool truncated = false;
    ASSERT_TRUE(big.next(m, &truncated));
    EXPECT_TRUE(truncated);
    EXPECT_TRUE(m.bytes.empty());
    ASSERT_TRUE(big.next(m, &truncated));
    EXPECT_FALSE(truncated);
    EXPECT_EQ(m.bytes, "\nsmall\n");
  }
  EXPECT_THROW(MboxReader(dir_.string() + "/missing.mbox"), IoError);
}

TEST_F(ReplyMailbox, JsonRecordsInEachLayout) {
  const std::string object =
      R"({"id":"00001","group":"easy-ham-1","checksum":{"type":"MD5","value":"x"},"text":"Subject: a\n\nbody \u00e9"})";
  auto records = parse_json_records(object, "one.json");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].group, "easy-ham-1");
  EXPECT_EQ(records[0].bytes, "Subject: a\n\nbody é");
  EXPECT_TRUE(records[0].unicode);
  EXPECT_EQ(records[0].where, "one.json");
  records = parse_json_records("[" + object + ",{\"text\":\"x\"}]", "arr.json");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].where, "arr.json[1]");
  EXPECT_EQ(records[1].group, "");
  records =
      parse_json_records(object + "\n\n{\"text\":\"y\",\"group\":\"spam-2\"}\n", "lines.jsonl");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].where, "lines.jsonl:3");
  EXPECT_EQ(records[1].group, "spam-2");
}

TEST_F(ReplyMailbox, BadJsonRecordsNameTheirPlace) {
  const auto message_of = [](const std::string& text, const std::string& where) {
    try {
      parse_json_records(text, where);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of("", "e.json").find("e.json: empty"), std::string::npos);
  EXPECT_NE(message_of("{\"text\": \"unterminated", "t.json").find("t.json"), std::string::npos);
  EXPECT_NE(message_of("[1, 2]", "n.json").find("n.json[0]: a record must be a JSON object"),
            std::string::npos);
  EXPECT_NE(message_of("{\"id\": 1}", "m.json").find("no string field \"text\""),
            std::string::npos);
  EXPECT_NE(message_of("{\"text\": 5}", "w.json").find("no string field \"text\""),
            std::string::npos);
  EXPECT_NE(message_of("{\"text\":\"a\"}\n{\"text\":", "l.jsonl").find("l.jsonl:2: invalid JSON"),
            std::string::npos);
  EXPECT_NE(message_of("{\"text\":\"\xff\"}", "u.json").find("u.json: invalid UTF-8"),
            std::string::npos);
  // A huge record is fine.
  const std::string huge = "{\"text\":\"" + std::string(2u << 20, 'a') + "\"}";
  EXPECT_EQ(parse_json_records(huge, "h.json").at(0).bytes.size(), 2u << 20);
}

TEST_F(ReplyMailbox, WalksDirectoriesInSortedOrderAndReportsBadInputs) {
  write("corpus/b/00002.json", R"({"id":"2","group":"easy-ham-1","text":"Subject: two\n\nb"})");
  write("corpus/a/00001.json", R"({"id":"1","group":"easy-ham-1","text":"Subject: one\n\na"})");
  write("corpus/a/00001.txt", "Subject: raw copy\n\na");
  write("corpus/a/broken.json", "{not json");
  write("corpus/c.mbox", "From x\nSubject: three\n\nc\n");
  std::vector<std::string> seen, errors;
  const auto on_message = [&](RawMessage&& m) {
    seen.push_back(m.bytes.substr(0, m.bytes.find('\n')));
  };
  const auto on_error = [&](const std::string& where, const std::string&) {
    errors.push_back(where);
  };
  for_each_message({(dir_ / "corpus").string()}, InputFormat::kJson, 1 << 20, on_message, on_error);
  EXPECT_EQ(seen, (std::vector<std::string>{"Subject: one", "Subject: two"}));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("broken.json"), std::string::npos);
  seen.clear();
  errors.clear();
  for_each_message({(dir_ / "corpus").string()}, InputFormat::kAuto, 1 << 20, on_message, on_error);
  EXPECT_EQ(seen, (std::vector<std::string>{"Subject: one", "Subject: raw copy", "Subject: two",
                                            "Subject: three"}));
  EXPECT_EQ(errors.size(), 1u);
  EXPECT_THROW(for_each_message({(dir_ / "nope").string()}, InputFormat::kAuto, 1 << 20, on_message,
                                on_error),
               IoError);
  EXPECT_EQ(parse_input_format("mbox"), InputFormat::kMbox);
  EXPECT_THROW(parse_input_format("maildir"), InvalidArgument);
}

}  // namespace
}  // namespace s2s::reply
