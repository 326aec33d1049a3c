// convnet report
#include <cstdio>
#include <memory>

#include "commands.h"
#include "convnet/core/threads.h"
#include "convnet/viz/report.h"

namespace convnet::cli {

namespace {
struct ReportCliOptions {
  std::string run_dir;
  viz::ReportOptions report;
  int threads = 0;
};

int run_report(const ReportCliOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  const viz::ReportResult r = viz::write_report(o.run_dir, o.report);
  std::printf("checkpoint %s: top-1 %.2f%%, top-5 %.2f%% on %lld %s images\n", r.checkpoint.c_str(), 100 * r.top1,
              100 * r.top5, (long long)r.evaluated, o.report.split.c_str());
  std::printf("%lld images shown, %lld of them mistakes\nreport: %s\n", (long long)r.images_shown,
              (long long)r.mistakes_shown, r.path.c_str());
  return 0;
}
}  // namespace

Command add_report(CLI::App& app) {
  auto o = std::make_shared<ReportCliOptions>();
  auto* rp = app.add_subcommand("report",
                                "A self-contained HTML page about a training run: curves, confusion matrix, "
                                "per-class accuracy, test images with predictions, model summary, kernels");
  rp->add_option("run_dir", o->run_dir, "Run directory written by `convnet train` (its --out)")->required();
  rp->add_option("-c,--checkpoint", o->report.checkpoint,
                 "Checkpoint to evaluate (default: the run's best.safetensors, else last.safetensors)");
  rp->add_option("--split", o->report.split, "test, train, or val")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "train", "val"}));
  rp->add_option("-d,--data-dir", o->report.data_dir, "Dataset directory (default: the one of the run)");
  rp->add_option("-n,--images", o->report.images, "Images in the grid")->capture_default_str()->check(positive());
  rp->add_option("-o,--out", o->report.out, "Where to write the page (default: RUN_DIR/report.html)");
  rp->add_option("-j,--threads", o->threads, "Threads (0 = all cores)")->check(non_negative());
  return {rp, [o] { return run_report(*o); }};
}

}  // namespace convnet::cli
