// convnet visualize kernels | features | edges | saliency
#include <cstdio>
#include <memory>

#include "commands.h"
#include "convnet/core/threads.h"
#include "convnet/train/checkpoint.h"
#include "convnet/viz/commands.h"

namespace convnet::cli {

namespace {
struct VisualizeOptions {
  std::string checkpoint, layer, image, out = "viz";
  int64_t cls = -1;
  int threads = 0;
};

int print(const viz::VisualizeResult& r) {
  for (const auto& n : r.notes) std::printf("%s\n", n.c_str());
  for (const auto& p : r.pictures) std::printf("wrote %s: %s\n", p.file.c_str(), p.title.c_str());
  std::printf("index: %s\n", r.index.c_str());
  return 0;
}

int run(const std::string& what, const VisualizeOptions& o) {
  if (o.threads > 0) set_num_threads(o.threads);
  if (what == "edges") return print(viz::visualize_edges(o.image, o.out));
  const train::Checkpoint ck = train::load_checkpoint(o.checkpoint);
  auto model = train::model_from_checkpoint(ck);
  if (what == "kernels") return print(viz::visualize_kernels(ck, *model, o.layer, o.out));
  if (what == "features") return print(viz::visualize_features(ck, *model, o.layer, o.image, o.out));
  return print(viz::visualize_saliency(ck, *model, o.image, o.cls, o.layer, o.out));
}

void add_checkpoint(CLI::App* s, VisualizeOptions& o) {
  s->add_option("-c,--checkpoint", o.checkpoint, "Checkpoint file, or a run directory (its last.safetensors)")
      ->required();
}
void add_common(CLI::App* s, VisualizeOptions& o) {
  s->add_option("-o,--out", o.out, "Output directory (PNG pictures and index.html)")->capture_default_str();
  s->add_option("-j,--threads", o.threads, "Threads (0 = all cores)")->check(non_negative());
}
}  // namespace

Command add_visualize(CLI::App& app) {
  auto o = std::make_shared<VisualizeOptions>();
  auto* v = app.add_subcommand("visualize",
                               "What a CNN sees: kernels, feature maps, edge detectors, saliency maps "
                               "(PNG pictures and an index.html)");
  v->require_subcommand(1);
  auto* k = v->add_subcommand("kernels",
                              "The filters of the first Conv2d (in color for RGB input), or of --layer "
                              "per input channel");
  add_checkpoint(k, *o);
  k->add_option("-l,--layer", o->layer, "A Conv2d layer by name, e.g. 3 or features.0 (default: the first)");
  add_common(k, *o);
  auto* f = v->add_subcommand("features", "The activations of a layer for one image, on one stated color scale");
  add_checkpoint(f, *o);
  f->add_option("-l,--layer", o->layer, "Any layer by name (see `convnet summary`), e.g. 1")->required();
  f->add_option("image", o->image, "Image file (preprocessed as in training)")->required();
  add_common(f, *o);
  auto* e = v->add_subcommand("edges", "Hand-set vertical and horizontal 3x3 edge detectors applied to an image");
  e->add_option("image", o->image, "Image file (read as gray)")->required();
  add_common(e, *o);
  auto* s = v->add_subcommand("saliency",
                              "Vanilla gradient, guided backpropagation and Grad-CAM of a class score, "
                              "overlaid on the image");
  add_checkpoint(s, *o);
  s->add_option("image", o->image, "Image file (preprocessed as in training)")->required();
  s->add_option("-k,--class", o->cls, "Class to explain (default: the predicted one)")->check(non_negative());
  s->add_option("-l,--layer", o->layer, "Layer for Grad-CAM (default: the last Conv2d)");
  add_common(s, *o);
  return {v, [o, k, f, e, s] {
            const std::string what = k->parsed()   ? "kernels"
                                     : f->parsed() ? "features"
                                     : e->parsed() ? "edges"
                                                   : "saliency";
            (void)s;
            return run(what, *o);
          }};
}

}  // namespace convnet::cli
