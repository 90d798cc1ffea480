// Black-box tests of the chat room, examples/chat-room/chat-room.json: a line protocol (line framing;
// every line the server sends ends with "\r\n") with names, broadcast, /who, /nick, /quit.
//
// Every test starts its own flowd with -Cport=0. All waits are bounded by deadlines. Where a test
// must show that something does NOT arrive it either uses a "next line is the marker" argument (a
// later event whose output is queued behind anything the earlier one could have sent) or, where no
// such marker exists, a read with a short deadline that must time out.

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/deadline.hpp"
#include "support/flowd_process.hpp"
#include "support/line_client.hpp"
#include "support/test_client.hpp"

#ifndef FLOWD_SOURCE_DIR
#error "FLOWD_SOURCE_DIR must be defined (the project source directory)"
#endif

namespace flowd::test {
namespace {

using namespace std::chrono_literals;

const std::string kPrompt = "Enter your name:";
const std::string kInvalidName = "Invalid name. Enter your name:";
const std::string kNameTaken = "Name taken. Enter your name:";

std::string chat_room_flow() { return std::string(FLOWD_SOURCE_DIR) + "/examples/chat-room/chat-room.json"; }
std::string runaway_flow() { return std::string(FLOWD_SOURCE_DIR) + "/tests/flows/runaway.json"; }
std::string log_message(const std::string& text) { return "message=\"" + text + "\""; }

// Names sorted by code point (byte order of UTF-8), joined by ", ".
std::string online(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string welcome(const std::string& name, const std::vector<std::string>& everyone) {
  return "Welcome " + name + "! Online: " + online(everyone);
}

std::string two_digits(int i) { return (i < 10 ? "0" : "") + std::to_string(i); }

class ChatRoomTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && flowd_) std::cerr << "[flowd output at the end of the failed test]" << flowd_->log_tail(80);
  }

  int start_flowd(const std::string& flow = chat_room_flow(), const std::vector<std::string>& extra = {}) {
    flowd_ = std::make_unique<FlowdProcess>();
    std::vector<std::string> args{"-Cport=0"};
    args.insert(args.end(), extra.begin(), extra.end());
    flowd_->start(flow, args);
    port_ = flowd_->port();
    return port_;
  }

  std::string tail() const { return flowd_ ? flowd_->log_tail() : std::string("\n(flowd not started)\n"); }

  // Connects and reads the name prompt.
  ::testing::AssertionResult connect(LineClient& c, Deadline deadline = deadline_in(kDefaultTimeout)) {
    if (!c.connect(port_, deadline)) return ::testing::AssertionFailure() << "connect: " << c.why();
    if (auto r = c.expect_line(kPrompt, deadline); !r) return r << " [waiting for the name prompt]";
    return ::testing::AssertionSuccess();
  }

  // Connects, reads the prompt, sends `name` and expects the welcome listing `everyone` (who must
  // include `name`).
  ::testing::AssertionResult join(LineClient& c, const std::string& name, const std::vector<std::string>& everyone,
                                  Deadline deadline = deadline_in(kDefaultTimeout)) {
    if (auto r = connect(c, deadline); !r) return r << " [joining as " << name << "]";
    if (!c.send_line(name, deadline)) return ::testing::AssertionFailure() << "send: " << c.why();
    if (auto r = c.expect_line(welcome(name, everyone), deadline); !r) return r << " [joining as " << name << "]";
    return ::testing::AssertionSuccess();
  }

  // Each client's next line is `line`.
  ::testing::AssertionResult all_see(const std::vector<LineClient*>& clients, const std::string& line,
                                     Deadline deadline = deadline_in(kDefaultTimeout)) {
    for (std::size_t i = 0; i < clients.size(); ++i)
      if (auto r = clients[i]->expect_line(line, deadline); !r) return r << " [recipient #" << i << "]";
    return ::testing::AssertionSuccess();
  }

  // `from` says `text`; each of `others` gets `<name>: <text>` as its next line.
  ::testing::AssertionResult say(LineClient& from, const std::string& name, const std::string& text,
                                 const std::vector<LineClient*>& others) {
    if (!from.send_line(text)) return ::testing::AssertionFailure() << "send: " << from.why();
    return all_see(others, name + ": " + text);
  }

  std::unique_ptr<FlowdProcess> flowd_;
  int port_ = 0;
};

#define START_FLOWD(...)                       \
  ASSERT_GT(start_flowd(__VA_ARGS__), 0)       \
      << "flowd did not log `listening on 127.0.0.1:PORT` within 10 s" << tail()

// ---------------------------------------------------------------------------------------------
// Names

TEST_F(ChatRoomTest, PromptOnConnect) {
  START_FLOWD();
  LineClient c;
  ASSERT_TRUE(connect(c)) << tail();
  EXPECT_TRUE(c.expect_no_line_within(200ms)) << "only the prompt before a name is given" << tail();
}

TEST_F(ChatRoomTest, NamesOfOneAnd32CharactersAreAccepted) {
  START_FLOWD();
  const std::string one = "a";
  const std::string thirty_two = "Abcdefghijklmnopqrstuvwxyz_-0129";
  ASSERT_EQ(thirty_two.size(), 32u);
  LineClient a, b;
  ASSERT_TRUE(join(a, one, {one})) << tail();
  ASSERT_TRUE(join(b, thirty_two, {one, thirty_two})) << tail();
  ASSERT_TRUE(a.expect_line("* " + thirty_two + " joined")) << tail();
}

TEST_F(ChatRoomTest, InvalidNamesAreRefusedAndThePromptRepeats) {
  START_FLOWD();
  LineClient watcher, c;
  ASSERT_TRUE(join(watcher, "watcher", {"watcher"})) << tail();
  ASSERT_TRUE(connect(c)) << tail();

  const std::vector<std::string> invalid = {
      "Abcdefghijklmnopqrstuvwxyz_-01234",  // 33 characters
      "bad name", "bad!", "", "a.b", "/who"};
  ASSERT_EQ(invalid[0].size(), 33u);
  for (const auto& name : invalid) {
    ASSERT_TRUE(c.send_line(name)) << c.why();
    ASSERT_TRUE(c.expect_line(kInvalidName)) << "name " << printable(name) << tail();
  }
  // Still at the prompt: a good name now joins, and the watcher's next line is that join (no
  // announcement was made for any refused name).
  ASSERT_TRUE(c.send_line("good-name_1")) << c.why();
  ASSERT_TRUE(c.expect_line(welcome("good-name_1", {"watcher", "good-name_1"}))) << tail();
  ASSERT_TRUE(watcher.expect_line("* good-name_1 joined")) << tail();
}

TEST_F(ChatRoomTest, TakenNameIsCaseInsensitive) {
  START_FLOWD();
  LineClient alice, other;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(connect(other)) << tail();
  for (const std::string name : {"alice", "ALICE", "Alice", "aLiCe"}) {
    ASSERT_TRUE(other.send_line(name)) << other.why();
    ASSERT_TRUE(other.expect_line(kNameTaken)) << "name " << name << tail();
  }
  ASSERT_TRUE(other.send_line("alice2")) << other.why();
  ASSERT_TRUE(other.expect_line(welcome("alice2", {"alice", "alice2"}))) << tail();
  ASSERT_TRUE(alice.expect_line("* alice2 joined")) << "the refused attempts must not be announced" << tail();
}

TEST_F(ChatRoomTest, WelcomeListsEveryoneOnlineSortedByCodePoint) {
  START_FLOWD();
  // '-' < '0' < 'C' < 'Z' < '_' < 'a' < 'b': code point order of the names as typed.
  std::vector<LineClient> clients(7);
  ASSERT_TRUE(join(clients[0], "bob", {"bob"})) << tail();
  ASSERT_TRUE(join(clients[1], "Carol", {"bob", "Carol"})) << tail();
  LineClient& c2 = clients[2];
  ASSERT_TRUE(connect(c2)) << tail();
  ASSERT_TRUE(c2.send_line("alice")) << c2.why();
  ASSERT_TRUE(c2.expect_line("Welcome alice! Online: Carol, alice, bob")) << tail();
  ASSERT_TRUE(join(clients[3], "_z", {"bob", "Carol", "alice", "_z"})) << tail();
  ASSERT_TRUE(join(clients[4], "Zed", {"bob", "Carol", "alice", "_z", "Zed"})) << tail();
  ASSERT_TRUE(join(clients[5], "0day", {"bob", "Carol", "alice", "_z", "Zed", "0day"})) << tail();
  LineClient& c6 = clients[6];
  ASSERT_TRUE(connect(c6)) << tail();
  ASSERT_TRUE(c6.send_line("-x")) << c6.why();
  ASSERT_TRUE(c6.expect_line("Welcome -x! Online: -x, 0day, Carol, Zed, _z, alice, bob")) << tail();
}

// ---------------------------------------------------------------------------------------------
// Joining, talking, commands

TEST_F(ChatRoomTest, JoinIsAnnouncedToEveryoneElse) {
  START_FLOWD();
  LineClient alice, bob, carol;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();
  ASSERT_TRUE(join(carol, "carol", {"alice", "bob", "carol"})) << tail();
  ASSERT_TRUE(all_see({&alice, &bob}, "* carol joined")) << tail();
  // Nobody is told about their own join: the next line each of them gets is alice's message.
  ASSERT_TRUE(say(alice, "alice", "marker", {&bob, &carol})) << tail();
  ASSERT_TRUE(bob.send_line("/who")) << bob.why();
  ASSERT_TRUE(bob.expect_line("* Online: alice, bob, carol")) << tail();
}

TEST_F(ChatRoomTest, MessageGoesToEveryOtherUserButNotTheSender) {
  START_FLOWD();
  LineClient alice, bob, carol;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(join(carol, "carol", {"alice", "bob", "carol"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();
  ASSERT_TRUE(all_see({&alice, &bob}, "* carol joined")) << tail();

  ASSERT_TRUE(say(alice, "alice", "hello all", {&bob, &carol})) << tail();
  // alice's next line is bob's message: her own never came back to her.
  ASSERT_TRUE(say(bob, "bob", "Text: with punctuation, digits 123, caf\xC3\xA9 and a /slash", {&alice, &carol}))
      << tail();
  ASSERT_TRUE(say(carol, "carol", "one more", {&alice, &bob})) << tail();
  EXPECT_TRUE(carol.expect_no_line_within(100ms)) << tail();
  EXPECT_EQ(flowd_->count_occurrences("hello all"), 0u) << "chat text is never logged" << tail();
}

TEST_F(ChatRoomTest, EmptyLineIsIgnored) {
  START_FLOWD();
  LineClient alice, bob;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();

  ASSERT_TRUE(alice.send("\r\n\n\r\n")) << alice.why();
  ASSERT_TRUE(alice.send_line("/who")) << alice.why();
  ASSERT_TRUE(alice.expect_line("* Online: alice, bob")) << "the empty lines must get no reply" << tail();
  ASSERT_TRUE(say(alice, "alice", "after the empty lines", {&bob})) << "bob must get nothing for them" << tail();
}

TEST_F(ChatRoomTest, WhoListsTheOnlineUsersSorted) {
  START_FLOWD();
  LineClient zoe, adam, Mia;
  ASSERT_TRUE(join(zoe, "zoe", {"zoe"})) << tail();
  ASSERT_TRUE(zoe.send_line("/who")) << zoe.why();
  ASSERT_TRUE(zoe.expect_line("* Online: zoe")) << tail();
  ASSERT_TRUE(join(adam, "adam", {"zoe", "adam"})) << tail();
  ASSERT_TRUE(join(Mia, "Mia", {"zoe", "adam", "Mia"})) << tail();
  ASSERT_TRUE(zoe.expect_line("* adam joined")) << tail();
  ASSERT_TRUE(zoe.expect_line("* Mia joined")) << tail();
  ASSERT_TRUE(zoe.send_line("/who")) << zoe.why();
  ASSERT_TRUE(zoe.expect_line("* Online: Mia, adam, zoe")) << tail();
  // Only the sender gets the list: the others' next line is zoe's message.
  ASSERT_TRUE(adam.expect_line("* Mia joined")) << tail();
  ASSERT_TRUE(say(zoe, "zoe", "marker", {&adam, &Mia})) << tail();
}

TEST_F(ChatRoomTest, NickRenamesAnnouncesAndFreesTheOldName) {
  START_FLOWD();
  LineClient alice, bob, newcomer;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();

  ASSERT_TRUE(alice.send_line("/nick Alicia")) << alice.why();
  ASSERT_TRUE(alice.expect_line("* You are now Alicia")) << tail();
  ASSERT_TRUE(bob.expect_line("* alice is now Alicia")) << tail();

  // Messages carry the new name.
  ASSERT_TRUE(say(alice, "Alicia", "new name, same me", {&bob})) << tail();
  ASSERT_TRUE(say(bob, "bob", "hi Alicia", {&alice})) << tail();
  ASSERT_TRUE(bob.send_line("/who")) << bob.why();
  ASSERT_TRUE(bob.expect_line("* Online: Alicia, bob")) << tail();

  // The old name is free again (in any case), the new one is taken (in any case).
  ASSERT_TRUE(connect(newcomer)) << tail();
  ASSERT_TRUE(newcomer.send_line("ALICIA")) << newcomer.why();
  ASSERT_TRUE(newcomer.expect_line(kNameTaken)) << tail();
  ASSERT_TRUE(newcomer.send_line("Alice")) << newcomer.why();
  ASSERT_TRUE(newcomer.expect_line(welcome("Alice", {"Alice", "Alicia", "bob"}))) << tail();
  ASSERT_TRUE(all_see({&alice, &bob}, "* Alice joined")) << tail();
}

TEST_F(ChatRoomTest, NickRefusesInvalidAndTakenNames) {
  START_FLOWD();
  LineClient alice, bob;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();

  for (const std::string& bad : std::vector<std::string>{"/nick bad!", "/nick bad name", "/nick " + std::string(33, 'n')}) {
    ASSERT_TRUE(alice.send_line(bad)) << alice.why();
    ASSERT_TRUE(alice.expect_line("* Invalid name.")) << bad << tail();
  }
  for (const std::string taken : {"/nick bob", "/nick BOB"}) {
    ASSERT_TRUE(alice.send_line(taken)) << alice.why();
    ASSERT_TRUE(alice.expect_line("* Name taken.")) << taken << tail();
  }
  // Nothing changed and nothing was announced: bob's next line is alice's message, under her name.
  ASSERT_TRUE(say(alice, "alice", "still alice", {&bob})) << tail();
  ASSERT_TRUE(bob.send_line("/who")) << bob.why();
  ASSERT_TRUE(bob.expect_line("* Online: alice, bob")) << tail();
}

TEST_F(ChatRoomTest, QuitSaysByeClosesAndAnnouncesTheLeave) {
  START_FLOWD();
  LineClient alice, bob, carol;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(join(carol, "carol", {"alice", "bob", "carol"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();
  ASSERT_TRUE(all_see({&alice, &bob}, "* carol joined")) << tail();

  ASSERT_TRUE(alice.send_line("/quit")) << alice.why();
  ASSERT_TRUE(alice.expect_line("* Bye")) << tail();
  ASSERT_TRUE(alice.expect_closed()) << "the server must close the connection after * Bye" << tail();
  ASSERT_TRUE(all_see({&bob, &carol}, "* alice left")) << tail();
  // Announced once: nothing more arrives, and alice is no longer listed.
  EXPECT_TRUE(bob.expect_no_line_within(300ms)) << tail();
  ASSERT_TRUE(bob.send_line("/who")) << bob.why();
  ASSERT_TRUE(bob.expect_line("* Online: bob, carol")) << tail();
  ASSERT_TRUE(say(bob, "bob", "marker", {&carol})) << tail();
  EXPECT_TRUE(flowd_->wait_for_log(log_message("alice left"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("alice left")), 1u) << tail();
}

TEST_F(ChatRoomTest, AbruptDisconnectIsAnnouncedOnce) {
  START_FLOWD();
  LineClient alice, bob, carol;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(join(carol, "carol", {"alice", "bob", "carol"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();
  ASSERT_TRUE(all_see({&alice, &bob}, "* carol joined")) << tail();

  bob.close();  // no /quit: the connection just ends
  ASSERT_TRUE(all_see({&alice, &carol}, "* bob left")) << tail();
  EXPECT_TRUE(alice.expect_no_line_within(300ms)) << "the leave must be announced once" << tail();
  ASSERT_TRUE(say(alice, "alice", "marker", {&carol})) << tail();
  ASSERT_TRUE(alice.send_line("/who")) << alice.why();
  ASSERT_TRUE(alice.expect_line("* Online: alice, carol")) << tail();
  // The name is free again.
  LineClient bob2;
  ASSERT_TRUE(join(bob2, "Bob", {"alice", "Bob", "carol"})) << tail();
  ASSERT_TRUE(all_see({&alice, &carol}, "* Bob joined")) << tail();
}

TEST_F(ChatRoomTest, UserWhoNeverGaveANameIsNeverAnnounced) {
  START_FLOWD();
  LineClient alice;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();

  LineClient quiet, refused, reset, rude;
  ASSERT_TRUE(connect(quiet)) << tail();
  quiet.close();  // closes at the prompt
  ASSERT_TRUE(connect(refused)) << tail();
  ASSERT_TRUE(refused.send_line("bad!")) << refused.why();
  ASSERT_TRUE(refused.expect_line(kInvalidName)) << tail();
  refused.close();  // closes after a refused name
  ASSERT_TRUE(connect(reset)) << tail();
  reset.reset();  // resets at the prompt
  ASSERT_TRUE(rude.connect(port_)) << rude.why();
  ASSERT_TRUE(rude.send("/quit\r\n")) << rude.why();  // "/quit" is not a valid name either
  ASSERT_TRUE(rude.expect_line(kPrompt)) << tail();
  ASSERT_TRUE(rude.expect_line(kInvalidName)) << tail();
  rude.close();

  EXPECT_TRUE(alice.expect_no_line_within(300ms)) << "nobody who never joined may be announced" << tail();
  LineClient bob;
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();
  ASSERT_TRUE(alice.send_line("/who")) << alice.why();
  ASSERT_TRUE(alice.expect_line("* Online: alice, bob")) << tail();
}

TEST_F(ChatRoomTest, UnknownCommandNamesTheFirstWord) {
  START_FLOWD();
  LineClient alice, bob;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(alice.expect_line("* bob joined")) << tail();

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/foo", "/foo"}, {"/foo bar baz", "/foo"}, {"/shrug", "/shrug"}, {"/quitnow", "/quitnow"}, {"/who?", "/who?"}};
  for (const auto& [line, command] : cases) {
    ASSERT_TRUE(alice.send_line(line)) << alice.why();
    ASSERT_TRUE(alice.expect_line("* Unknown command: " + command)) << line << tail();
  }
  // Nothing went to bob, and alice is still in the room.
  ASSERT_TRUE(say(alice, "alice", "marker", {&bob})) << tail();
}

TEST_F(ChatRoomTest, ClientsThatResetDoNotStopDeliveryToOthers) {
  START_FLOWD();
  LineClient alice, bob, carol;
  ASSERT_TRUE(join(alice, "alice", {"alice"})) << tail();
  ASSERT_TRUE(join(bob, "bob", {"alice", "bob"})) << tail();
  ASSERT_TRUE(join(carol, "carol", {"alice", "bob", "carol"})) << tail();
  // Three clients that never read and reset their connection (SO_LINGER 0) at different moments.
  const std::vector<std::string> resetters = {"dave", "erin", "frank"};
  std::vector<LineClient> gone(resetters.size());
  std::vector<std::string> everyone = {"alice", "bob", "carol"};
  for (std::size_t i = 0; i < gone.size(); ++i) {
    everyone.push_back(resetters[i]);
    ASSERT_TRUE(join(gone[i], resetters[i], everyone)) << tail();
  }
  // alice, bob and carol read the joins that came after theirs.
  const std::vector<LineClient*> stayers = {&alice, &bob, &carol};
  for (std::size_t i = 1; i < everyone.size(); ++i)
    for (std::size_t j = 0; j < i && j < stayers.size(); ++j)
      ASSERT_TRUE(stayers[j]->expect_line("* " + everyone[i] + " joined")) << everyone[j] << tail();

  // alice sends 30 messages without waiting; the resets happen before, in the middle and near the end.
  constexpr int kMessages = 30;
  gone[0].reset();
  for (int k = 0; k < kMessages; ++k) {
    if (k == 10) gone[1].reset();
    if (k == 20) gone[2].reset();
    ASSERT_TRUE(alice.send_line("m" + two_digits(k))) << alice.why();
  }

  for (LineClient* c : {&bob, &carol}) {
    const std::string who_am_i = c == &bob ? "bob" : "carol";
    std::vector<std::string> messages;
    std::map<std::string, int> left;
    const Deadline deadline = deadline_in(10s);
    while (static_cast<int>(messages.size()) < kMessages || left.size() < resetters.size()) {
      auto l = c->read_line(deadline);
      ASSERT_TRUE(l.has_value()) << who_am_i << " got " << messages.size() << " of " << kMessages << " messages and "
                                 << left.size() << " of " << resetters.size() << " leaves: " << c->why() << tail();
      if (l->rfind("* ", 0) == 0 && l->size() > 7 && l->substr(l->size() - 5) == " left") {
        ++left[l->substr(2, l->size() - 7)];
      } else {
        messages.push_back(*l);
      }
    }
    std::vector<std::string> expected;
    for (int k = 0; k < kMessages; ++k) expected.push_back("alice: m" + two_digits(k));
    EXPECT_EQ(messages, expected) << who_am_i << " must get every message, once, in order" << tail();
    for (const auto& name : resetters) EXPECT_EQ(left[name], 1) << who_am_i << ": `* " << name << " left`";
    EXPECT_EQ(left.size(), resetters.size()) << who_am_i;
  }
  // alice (who never gets her own messages) got the three leaves, and nothing else.
  std::set<std::string> alice_saw;
  for (std::size_t i = 0; i < resetters.size(); ++i) {
    const auto l = alice.read_line();
    ASSERT_TRUE(l.has_value()) << alice.why() << tail();
    alice_saw.insert(*l);
  }
  EXPECT_EQ(alice_saw, (std::set<std::string>{"* dave left", "* erin left", "* frank left"})) << tail();
  EXPECT_TRUE(bob.expect_no_line_within(200ms)) << tail();
  ASSERT_TRUE(carol.send_line("/who")) << carol.why();
  ASSERT_TRUE(carol.expect_line("* Online: alice, bob, carol")) << tail();
  ASSERT_TRUE(say(carol, "carol", "still here", {&alice, &bob})) << tail();
}

// ---------------------------------------------------------------------------------------------
// Whole sessions

TEST_F(ChatRoomTest, ThreeUsersTranscript) {
  START_FLOWD();
  LineClient alice, bob, carol;
  std::vector<LineClient*> all = {&alice, &bob, &carol};
  std::map<LineClient*, std::vector<std::string>> seen;  // every line each user got, in order
  const std::map<LineClient*, std::string> label = {{&alice, "alice"}, {&bob, "bob"}, {&carol, "carol"}};
  // `c` gets exactly `line` next (recorded).
  auto sees = [&](LineClient& c, const std::string& line) -> ::testing::AssertionResult {
    const auto got = c.read_line();
    seen[&c].push_back(got ? *got : "<nothing: " + c.why() + ">");
    if (got == line) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << label.at(&c) << " expected " << printable(line) << " but got "
                                         << (got ? printable(*got) : "nothing (" + c.why() + ")") << tail();
  };
  auto send = [&](LineClient& c, const std::string& line) -> ::testing::AssertionResult {
    if (c.send_line(line)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << label.at(&c) << " cannot send " << line << ": " << c.why();
  };

  ASSERT_TRUE(alice.connect(port_)) << alice.why();
  ASSERT_TRUE(sees(alice, "Enter your name:"));
  ASSERT_TRUE(send(alice, "alice"));
  ASSERT_TRUE(sees(alice, "Welcome alice! Online: alice"));

  ASSERT_TRUE(bob.connect(port_)) << bob.why();
  ASSERT_TRUE(sees(bob, "Enter your name:"));
  ASSERT_TRUE(send(bob, "bob"));
  ASSERT_TRUE(sees(bob, "Welcome bob! Online: alice, bob"));
  ASSERT_TRUE(sees(alice, "* bob joined"));

  ASSERT_TRUE(carol.connect(port_)) << carol.why();
  ASSERT_TRUE(sees(carol, "Enter your name:"));
  ASSERT_TRUE(send(carol, "Alice"));
  ASSERT_TRUE(sees(carol, "Name taken. Enter your name:"));
  ASSERT_TRUE(send(carol, "carol"));
  ASSERT_TRUE(sees(carol, "Welcome carol! Online: alice, bob, carol"));
  ASSERT_TRUE(sees(alice, "* carol joined"));
  ASSERT_TRUE(sees(bob, "* carol joined"));

  ASSERT_TRUE(send(alice, "hi everyone"));
  ASSERT_TRUE(sees(bob, "alice: hi everyone"));
  ASSERT_TRUE(sees(carol, "alice: hi everyone"));
  ASSERT_TRUE(send(bob, "hey alice"));
  ASSERT_TRUE(sees(alice, "bob: hey alice"));
  ASSERT_TRUE(sees(carol, "bob: hey alice"));
  ASSERT_TRUE(send(carol, "hello from carol"));
  ASSERT_TRUE(sees(alice, "carol: hello from carol"));
  ASSERT_TRUE(sees(bob, "carol: hello from carol"));

  ASSERT_TRUE(send(carol, "/who"));
  ASSERT_TRUE(sees(carol, "* Online: alice, bob, carol"));
  ASSERT_TRUE(send(bob, "/nick robert"));
  ASSERT_TRUE(sees(bob, "* You are now robert"));
  ASSERT_TRUE(sees(alice, "* bob is now robert"));
  ASSERT_TRUE(sees(carol, "* bob is now robert"));
  ASSERT_TRUE(send(alice, "/shrug"));
  ASSERT_TRUE(sees(alice, "* Unknown command: /shrug"));
  ASSERT_TRUE(send(carol, "bye all"));
  ASSERT_TRUE(sees(alice, "carol: bye all"));
  ASSERT_TRUE(sees(bob, "carol: bye all"));
  ASSERT_TRUE(send(carol, "/quit"));
  ASSERT_TRUE(sees(carol, "* Bye"));
  ASSERT_TRUE(carol.expect_closed()) << tail();
  ASSERT_TRUE(sees(alice, "* carol left"));
  ASSERT_TRUE(sees(bob, "* carol left"));
  ASSERT_TRUE(send(bob, "/who"));
  ASSERT_TRUE(sees(bob, "* Online: alice, robert"));
  EXPECT_TRUE(alice.expect_no_line_within(100ms)) << tail();
  alice.close();
  ASSERT_TRUE(sees(bob, "* alice left"));
  ASSERT_TRUE(send(bob, "/quit"));
  ASSERT_TRUE(sees(bob, "* Bye"));
  ASSERT_TRUE(bob.expect_closed()) << tail();

  const std::map<LineClient*, std::vector<std::string>> expected = {
      {&alice,
       {"Enter your name:", "Welcome alice! Online: alice", "* bob joined", "* carol joined", "bob: hey alice",
        "carol: hello from carol", "* bob is now robert", "* Unknown command: /shrug", "carol: bye all",
        "* carol left"}},
      {&bob,
       {"Enter your name:", "Welcome bob! Online: alice, bob", "* carol joined", "alice: hi everyone",
        "carol: hello from carol", "* You are now robert", "carol: bye all", "* carol left",
        "* Online: alice, robert", "* alice left", "* Bye"}},
      {&carol,
       {"Enter your name:", "Name taken. Enter your name:", "Welcome carol! Online: alice, bob, carol",
        "alice: hi everyone", "bob: hey alice", "* Online: alice, bob, carol", "* bob is now robert", "* Bye"}},
  };
  for (LineClient* c : all) EXPECT_EQ(seen[c], expected.at(c)) << "the lines " << label.at(c) << " got" << tail();

  // The log: joins, the rename and leaves, in order; never the chat text.
  ASSERT_TRUE(flowd_->wait_for_log(log_message("robert left"))) << tail();
  const std::string log = flowd_->log();
  std::size_t at = 0;
  for (const std::string event : {"alice joined", "bob joined", "carol joined", "bob is now robert", "carol left",
                                  "alice left", "robert left"}) {
    const std::size_t pos = log.find(log_message(event), at);
    EXPECT_NE(pos, std::string::npos) << "no `" << event << "` log line after the previous event" << tail();
    if (pos != std::string::npos) at = pos;
  }
  for (const std::string text : {"hi everyone", "hey alice", "hello from carol", "bye all"})
    EXPECT_EQ(flowd_->count_occurrences(text), 0u) << "chat text `" << text << "` was logged" << tail();
}

TEST_F(ChatRoomTest, FiftyClientsJoinTalkAndLeaveConcurrently) {
  constexpr int kClients = 50;
  constexpr int kMessagesEach = 2;
  START_FLOWD();
  const auto overall = deadline_in(30s);

  struct Member {
    LineClient c;
    std::string name;
    std::vector<std::string> welcome_list;     // the names in its welcome line
    std::set<std::string> joined;              // `* X joined` lines it got
    std::map<std::string, int> messages;       // `X: text` lines it got, by line
    std::map<std::string, int> last_k;         // per sender, the last message number seen
    std::set<std::string> left;                // `* X left` lines it got
    bool welcomed = false, prompted = false, bye = false;
    std::vector<std::string> problems;         // unexpected lines
  };
  std::vector<Member> m(kClients);
  std::vector<LineClient*> clients;
  for (int i = 0; i < kClients; ++i) {
    m[i].name = "user" + two_digits(i);
    clients.push_back(&m[i].c);
  }
  auto index_of = [](const std::string& name) -> int {
    if (name.size() != 6 || name.rfind("user", 0) != 0 || !std::isdigit(static_cast<unsigned char>(name[4])) ||
        !std::isdigit(static_cast<unsigned char>(name[5])))
      return -1;
    const int i = std::stoi(name.substr(4));
    return i < kClients ? i : -1;
  };
  const std::regex message_re(R"(^(user\d\d): msg (\d\d)-(\d)$)");
  // Takes every queued line of every member, in order, into its state.
  auto consume = [&]() {
    for (int i = 0; i < kClients; ++i) {
      Member& me = m[i];
      auto& q = me.c.queued();
      while (!q.empty()) {
        const std::string line = std::move(q.front());
        q.pop_front();
        std::smatch sm;
        if (me.bye) {
          me.problems.push_back("after * Bye: " + line);
        } else if (!me.prompted) {
          if (line == kPrompt) me.prompted = true;
          else me.problems.push_back("before the prompt: " + line);
        } else if (!me.welcomed) {
          const std::string head = "Welcome " + me.name + "! Online: ";
          if (line.rfind(head, 0) != 0) {
            me.problems.push_back("instead of the welcome: " + line);
            continue;
          }
          me.welcomed = true;
          std::string rest = line.substr(head.size());
          for (std::size_t start = 0;;) {
            const std::size_t comma = rest.find(", ", start);
            me.welcome_list.push_back(rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (comma == std::string::npos) break;
            start = comma + 2;
          }
        } else if (line.size() > 9 && line.rfind("* ", 0) == 0 && line.substr(line.size() - 7) == " joined") {
          const std::string who = line.substr(2, line.size() - 9);
          if (index_of(who) < 0 || who == me.name || !me.joined.insert(who).second ||
              std::find(me.welcome_list.begin(), me.welcome_list.end(), who) != me.welcome_list.end())
            me.problems.push_back("unexpected: " + line);
        } else if (line.size() > 7 && line.rfind("* ", 0) == 0 && line.substr(line.size() - 5) == " left") {
          const std::string who = line.substr(2, line.size() - 7);
          if (index_of(who) < 0 || who == me.name || !me.left.insert(who).second)
            me.problems.push_back("unexpected: " + line);
        } else if (line == "* Bye") {
          me.bye = true;
        } else if (std::regex_match(line, sm, message_re)) {
          const std::string from = sm[1].str();
          const int k = std::stoi(sm[3].str());
          if (from == me.name || sm[2].str() != from.substr(4) || ++me.messages[line] != 1)
            me.problems.push_back("unexpected: " + line);
          auto [it, fresh] = me.last_k.try_emplace(from, k);
          if (!fresh) {
            if (k <= it->second) me.problems.push_back("out of order: " + line);
            it->second = k;
          }
        } else {
          me.problems.push_back("unexpected: " + line);
        }
      }
    }
  };
  auto problems = [&]() {
    std::string out;
    int n = 0;
    for (const auto& me : m)
      for (const auto& p : me.problems)
        if (n++ < 10) out += "\n  " + me.name + ": " + p;
    return n == 0 ? std::string() : std::to_string(n) + " unexpected lines, the first:" + out;
  };
  // Polls every client until `done()` or the deadline.
  auto pump_until = [&](Deadline deadline, auto done) {
    for (;;) {
      consume();
      if (done()) return true;
      if (Clock::now() >= deadline) return false;
      if (!poll_clients(clients, deadline)) {
        bool any_open = false;
        for (auto* c : clients) any_open = any_open || (c->connected() && !c->closed());
        if (!any_open) {
          consume();
          return done();
        }
      }
    }
  };

  // 1. All connect at once, then all get the prompt.
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(m[i].c.connect(port_, overall)) << m[i].name << ": " << m[i].c.why();
  ASSERT_TRUE(pump_until(std::min(overall, deadline_in(10s)), [&] {
    return std::all_of(m.begin(), m.end(), [](const Member& x) { return x.prompted; });
  })) << "not every client got the prompt " << problems() << tail();

  // 2. All send their names at once; each learns about all 50 (its welcome list, then joins).
  for (int i = 0; i < kClients; ++i) ASSERT_TRUE(m[i].c.send_line(m[i].name, overall)) << m[i].c.why();
  const bool all_joined = pump_until(std::min(overall, deadline_in(10s)), [&] {
    return std::all_of(m.begin(), m.end(), [](const Member& x) {
      return x.welcomed && x.welcome_list.size() + x.joined.size() == static_cast<std::size_t>(kClients);
    });
  });
  ASSERT_EQ(problems(), "") << tail();
  ASSERT_TRUE(all_joined) << "not every client learnt of all " << kClients << " joins" << tail();
  std::set<std::size_t> list_sizes;
  for (const auto& me : m) {
    EXPECT_TRUE(std::is_sorted(me.welcome_list.begin(), me.welcome_list.end())) << me.name << "'s welcome list";
    EXPECT_NE(std::find(me.welcome_list.begin(), me.welcome_list.end(), me.name), me.welcome_list.end())
        << me.name << " is not in its own welcome list";
    for (const auto& n : me.welcome_list) EXPECT_GE(index_of(n), 0) << me.name << "'s welcome list has " << n;
    list_sizes.insert(me.welcome_list.size());
  }
  // Joins happen one at a time: the welcome lists have 1, 2, ..., 50 names.
  EXPECT_EQ(list_sizes.size(), static_cast<std::size_t>(kClients)) << "joins were not atomic";

  // 3. Everyone sends two messages at once; each reaches every other client exactly once, in order.
  for (int k = 0; k < kMessagesEach; ++k)
    for (int i = 0; i < kClients; ++i)
      ASSERT_TRUE(m[i].c.send_line("msg " + two_digits(i) + "-" + std::to_string(k), overall)) << m[i].c.why();
  const auto per_client = static_cast<std::size_t>(kMessagesEach * (kClients - 1));
  const bool all_delivered = pump_until(std::min(overall, deadline_in(15s)), [&] {
    return std::all_of(m.begin(), m.end(), [&](const Member& x) { return x.messages.size() >= per_client; });
  });
  std::size_t deliveries = 0;
  for (const auto& me : m) deliveries += me.messages.size();
  ASSERT_EQ(problems(), "") << tail();
  ASSERT_TRUE(all_delivered) << deliveries << " of " << per_client * kClients << " deliveries" << tail();
  EXPECT_EQ(deliveries, per_client * kClients);
  RecordProperty("deliveries", std::to_string(deliveries));

  // 4. The first half quits at once: each gets * Bye and is closed; the second half sees every leave.
  constexpr int kHalf = kClients / 2;
  for (int i = 0; i < kHalf; ++i) ASSERT_TRUE(m[i].c.send_line("/quit", overall)) << m[i].c.why();
  const bool first_half_gone = pump_until(std::min(overall, deadline_in(10s)), [&] {
    for (int i = 0; i < kClients; ++i) {
      if (i < kHalf && !(m[i].bye && m[i].c.closed())) return false;
      if (i >= kHalf && m[i].left.size() < static_cast<std::size_t>(kHalf)) return false;
    }
    return true;
  });
  ASSERT_EQ(problems(), "") << tail();
  ASSERT_TRUE(first_half_gone) << "the first half did not leave cleanly" << tail();
  for (int i = kHalf; i < kClients; ++i)
    for (int j = 0; j < kHalf; ++j) EXPECT_EQ(m[i].left.count(m[j].name), 1u) << m[i].name << " / " << m[j].name;

  // 5. The second half quits at once.
  for (int i = kHalf; i < kClients; ++i) ASSERT_TRUE(m[i].c.send_line("/quit", overall)) << m[i].c.why();
  const bool all_gone = pump_until(std::min(overall, deadline_in(10s)), [&] {
    return std::all_of(m.begin() + kHalf, m.end(), [](Member& x) { return x.bye && x.c.closed(); });
  });
  ASSERT_EQ(problems(), "") << tail();
  ASSERT_TRUE(all_gone) << "the second half did not leave cleanly" << tail();

  // Every name left exactly once (in the log).
  for (const auto& me : m) {
    EXPECT_TRUE(flowd_->wait_for_log(log_message(me.name + " left"), std::min(overall, deadline_in(5s))))
        << me.name << tail();
    EXPECT_EQ(flowd_->count_occurrences(log_message(me.name + " left")), 1u) << me.name << tail();
  }
}

// ---------------------------------------------------------------------------------------------
// The step budget (tests/flows/runaway.json: the line `spin` loops for ever, other lines echo)

TEST_F(ChatRoomTest, StepBudgetStopsARunawayHandlerWhileOthersChat) {
  START_FLOWD(runaway_flow(), {"--step-budget=200000"});
  LineClient spinner, talker;
  ASSERT_TRUE(spinner.connect(port_)) << spinner.why();
  ASSERT_TRUE(talker.connect(port_)) << talker.why();
  ASSERT_TRUE(talker.send_line("warm up")) << talker.why();
  ASSERT_TRUE(talker.expect_line("warm up")) << tail();

  // Twenty runaway events in one burst; the other client's lines are answered meanwhile, each within 1 s.
  std::string burst;
  for (int i = 0; i < 20; ++i) burst += "spin\r\n";
  ASSERT_TRUE(spinner.send(burst)) << spinner.why();
  for (int i = 0; i < 10; ++i) {
    const std::string text = "echo " + std::to_string(i);
    const auto sent_at = Clock::now();
    ASSERT_TRUE(talker.send_line(text)) << talker.why();
    ASSERT_TRUE(talker.expect_line(text, sent_at + 1s)) << "echo " << i << " was not answered within 1 s" << tail();
  }

  // The spinner's connection is still usable; its next line is the echo (nothing was written for the spins).
  ASSERT_TRUE(spinner.send_line("are you there")) << spinner.why();
  ASSERT_TRUE(spinner.expect_line("are you there")) << tail();

  const std::regex budget_error(R"(level=ERROR .*message="connection error".* error="[^"]*step budget)");
  ASSERT_TRUE(flowd_->wait_for_log(budget_error))
      << "a runaway event must fail with an error mentioning the step budget, and reach onError" << tail();
  // Each spin line is its own failed event (the counter is assigned before the loop).
  ASSERT_TRUE(flowd_->wait_for_log(std::regex(R"(message="connection error".* spins=20)"))) << tail();
  EXPECT_EQ(flowd_->count_occurrences(log_message("connection error")), 20u) << tail();
}

}  // namespace
}  // namespace flowd::test
