#include "progress.h"

#include <unistd.h>

#include <algorithm>

namespace convnet::cli {

void add_display_options(CLI::App* app, DisplayOptions& o) {
  app->add_flag("-q,--quiet", o.quiet, "Print only the epoch summaries and the result (no progress line)")
      ->group("Output");
  app->add_option("--log-format", o.log_format,
                  "text: lines for people (an updating progress line on a terminal); json: JSON lines on stdout "
                  "(per epoch the line of metrics.jsonl), everything else on stderr")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str()
      ->group("Output");
}

Progress::Progress(std::FILE* out, bool tty, bool lines) : out_(out), tty_(tty), lines_(lines) {}

Progress Progress::for_stdout(const DisplayOptions& o) {
  const bool text = !o.json() && !o.quiet;
  const bool tty = text && isatty(fileno(stdout));
  return Progress(stdout, tty, text && !tty);
}

std::string Progress::clock(double s) {
  const long long t = static_cast<long long>(std::max(0.0, s) + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

void Progress::step(const char* what, int64_t epoch, int64_t step, int64_t steps, double loss, double ips) {
  const auto now = clock_t_::now();
  if (epoch != cur_epoch_) epoch_start_ = now, last_quarter_ = -1, cur_epoch_ = epoch;
  if (steps <= 0) return;
  if (tty_) {
    // At most ten redraws a second, and always the last step.
    if (drawn_ && step < steps && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
    const double per_step = step > 0 ? elapsed / static_cast<double>(step) : 0;
    const double epoch_eta = per_step * static_cast<double>(steps - step);
    const int width = 24;
    const int filled = static_cast<int>(width * std::min<int64_t>(step, steps) / steps);
    std::string line = std::string(what);
    if (last_epoch_ > 0) line += " " + std::to_string(epoch) + "/" + std::to_string(last_epoch_);
    line += " [" + std::string(filled, '=') + (filled < width ? ">" : "") +
            std::string(std::max(0, width - filled - 1), ' ') + "] ";
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lld/%lld", (long long)step, (long long)steps);
    line += buf;
    if (loss >= 0) std::snprintf(buf, sizeof buf, "  loss %.4f", loss), line += buf;
    std::snprintf(buf, sizeof buf, "  %.0f img/s  ETA %s", ips, clock(epoch_eta).c_str());
    line += buf;
    if (last_epoch_ > 0 && last_epoch_ > epoch) {
      // The remaining epochs at the pace of the finished ones (validation included), or of
      // this one's steps before any has finished.
      const double per_epoch = done_epochs_ > 0 ? done_epoch_seconds_ / static_cast<double>(done_epochs_)
                                                : per_step * static_cast<double>(steps);
      line += " (run " + clock(epoch_eta + per_epoch * static_cast<double>(last_epoch_ - epoch)) + ")";
    }
    // Carriage return, the line, then erase what a longer previous line left.
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    std::fflush(out_);
  } else if (lines_) {
    const int64_t quarter = 4 * step / steps;
    if (quarter != last_quarter_ && quarter < 4) {
      last_quarter_ = quarter;
      if (quarter > 0) {
        std::fprintf(stderr, "%s %lld: step %lld/%lld", what, (long long)epoch, (long long)step, (long long)steps);
        if (loss >= 0) std::fprintf(stderr, " loss %.4f", loss);
        std::fprintf(stderr, " %.0f img/s\n", ips);
      }
    }
  }
}

void Progress::clear() {
  if (tty_ && drawn_) {
    std::fprintf(out_, "\r\x1b[K");
    std::fflush(out_);
  }
  drawn_ = false;
}

void Progress::epoch_done(double seconds) {
  clear();
  done_epoch_seconds_ += seconds;
  ++done_epochs_;
  last_quarter_ = -1;
}

}  // namespace convnet::cli
