#include "cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace actsearch::cli {
namespace {

constexpr int kWidth = 30;

}  // namespace

ProgressBar::ProgressBar(bool bar_in_plain_lines)
    : terminal_(isatty(STDERR_FILENO)), bar_in_plain_lines_(bar_in_plain_lines) {}

ProgressBar::~ProgressBar() { EndLine(); }

void ProgressBar::Update(double fraction, const std::string& text) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const int filled = static_cast<int>(kWidth * std::clamp(fraction, 0.0, 1.0));
  const std::string bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, ' ') + "] ";
  if (terminal_) {
    std::fprintf(stderr, "\r%s%s\x1b[K", bar.c_str(), text.c_str());
    drawn_ = true;
  } else {
    std::fprintf(stderr, "%s%s\n", bar_in_plain_lines_ ? bar.c_str() : "", text.c_str());
  }
  std::fflush(stderr);
}

void ProgressBar::Note(const std::string& line) {
  const std::lock_guard<std::mutex> lock(mutex_);
  EndLineLocked();
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

void ProgressBar::EndLine() {
  const std::lock_guard<std::mutex> lock(mutex_);
  EndLineLocked();
}

void ProgressBar::EndLineLocked() {
  if (drawn_) std::fputc('\n', stderr);
  drawn_ = false;
}

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, seconds < 100 ? "%.1f s" : "%.0f s", seconds);
  return text;
}

}  // namespace actsearch::cli
