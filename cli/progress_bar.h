// Progress on stderr: on a terminal one line redrawn in place with a bar, otherwise plain
// lines that a log keeps. Lines that stay (a phase, a finished run, a log line) go through
// Note, which ends the redrawn line first, so that nothing is glued to it.
#pragma once

#include <mutex>
#include <string>

namespace actsearch::cli {

class ProgressBar {
 public:
  // `bar_in_plain_lines`: plain lines start with the bar too (train's), or are the text alone.
  explicit ProgressBar(bool bar_in_plain_lines = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `fraction` (0 to 1) of the work done, and the text after the bar: counts, rate, time left.
  void Update(double fraction, const std::string& text);
  void Note(const std::string& line);
  void EndLine();
  bool terminal() const { return terminal_; }

 private:
  void EndLineLocked();

  bool terminal_;
  bool bar_in_plain_lines_;
  bool drawn_ = false;  // a redrawn line is open
  std::mutex mutex_;    // the controller's lines come from its strand and its timers
};

// "12.3 s" below 100 seconds, "123 s" above.
std::string Seconds(double seconds);

}  // namespace actsearch::cli
