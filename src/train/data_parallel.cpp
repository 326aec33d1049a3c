#include "data_parallel.h"

#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "convnet/core/error.h"
#include "json_io.h"

namespace convnet::train {

void check_same_config(dist::ProcessGroup& pg, const TrainConfig& c) {
  static const std::set<std::string> may_differ = {"threads", "workers",         "data_dir",
                                                   "out",     "eval_batch_size", "dist_timeout"};
  const std::string mine = config_to_json(c);
  const nlohmann::json root = nlohmann::json::parse(pg.broadcast(mine, 0)), here = nlohmann::json::parse(mine);
  std::string diff;
  for (const OptionInfo& o : train_options()) {
    if (may_differ.count(o.key)) continue;
    const auto a = root.find(o.key), b = here.find(o.key);
    if (a == root.end() || b == here.end() || *a == *b) continue;
    diff = option_flag(o) + " " + plain(*b) + " where rank 0 has " + plain(*a);
    break;
  }
  const std::vector<std::string> all = pg.allgather(diff);
  for (size_t r = 0; r < all.size(); ++r)
    CONVNET_CHECK(all[r].empty(), "rank ", r, " was started with a different configuration: ", all[r],
                  "; every rank of a data-parallel run must be given the same options");
}

EvalResult evaluate_sharded(dist::ProcessGroup& pg, nn::Module& m, const data::Dataset& d, int64_t batch_size,
                            bool tta) {
  if (pg.size() == 1) return evaluate_full(m, d, batch_size, tta);
  const int64_t n = d.size(), lo = n * pg.rank() / pg.size(), hi = n * (pg.rank() + 1) / pg.size();
  std::vector<int64_t> idx(static_cast<size_t>(hi - lo));
  std::iota(idx.begin(), idx.end(), lo);
  EvalResult r = idx.empty() ? EvalResult{} : evaluate_full(m, data::select(d, idx), batch_size, tta);
  double sums[3] = {r.loss * static_cast<double>(r.n), r.top1 * static_cast<double>(r.n), static_cast<double>(r.n)};
  pg.allreduce(sums, 3, dist::ReduceOp::sum);
  EvalResult g;
  g.n = static_cast<int64_t>(sums[2]);
  g.loss = sums[0] / sums[2];
  g.top1 = sums[1] / sums[2];
  return g;
}

}  // namespace convnet::train
