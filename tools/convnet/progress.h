#pragma once
// How train, finetune and eval report progress to people and to programs:
//   stdout a terminal   one line per epoch that updates in place (carriage return): a bar,
//                       step/steps, loss, images/s, and the ETA of the epoch and of the run
//   stdout not a terminal  a few plain lines per epoch on stderr (every quarter)
//   --quiet             only the epoch summaries (and the final result)
//   --log-format json   stdout is JSON lines only: per epoch the line metrics.jsonl gets;
//                       everything else goes to stderr
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace convnet::cli {

struct DisplayOptions {
  bool quiet = false;
  std::string log_format = "text";  // text | json
  bool json() const { return log_format == "json"; }
};

void add_display_options(CLI::App* app, DisplayOptions& o);

// The updating line (terminal) or the periodic lines (otherwise) of one loop over batches.
class Progress {
 public:
  // `tty`: draw the updating line on `out`; otherwise quarter lines on stderr when `lines`.
  Progress(std::FILE* out, bool tty, bool lines);
  static Progress for_stdout(const DisplayOptions& o);

  // The run's last epoch, for the run ETA; 0 (the default) for a single pass (eval).
  void set_last_epoch(int64_t last) { last_epoch_ = last; }
  // One finished step of `steps`; loss < 0 leaves it out (eval).
  void step(const char* what, int64_t epoch, int64_t step, int64_t steps, double loss, double images_per_second);
  // Clears the updating line (before any other output) and ends the epoch; seconds = its
  // duration, for the run ETA.
  void clear();
  void epoch_done(double seconds);

  // "1:02:03" or "2:03".
  static std::string clock(double seconds);

 private:
  using clock_t_ = std::chrono::steady_clock;
  std::FILE* out_;
  bool tty_, lines_;
  int64_t last_epoch_ = 0;
  int64_t cur_epoch_ = -1, last_quarter_ = -1;
  double done_epoch_seconds_ = 0;
  int64_t done_epochs_ = 0;
  clock_t_::time_point epoch_start_{}, last_draw_{};
  bool drawn_ = false;
};

}  // namespace convnet::cli
