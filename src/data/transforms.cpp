// Random augmentation (torchvision transforms.v1 semantics) on float (C, H, W) images.
#include "convnet/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numbers>

#include "convnet/core/error.h"

namespace convnet::data {

namespace {

constexpr const char* kGrammar =
    "expected items separated by ',': crop:P, flip[:P], rotate:D, affine:T[:S0:S1], jitter:B[:C[:S]], "
    "erasing[:P]";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  return out;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// torchvision's rgb_to_grayscale weights for float tensors.
inline float gray(const float* img, int64_t HW, int64_t i) {
  return 0.2989f * img[i] + 0.587f * img[HW + i] + 0.114f * img[2 * HW + i];
}

// img = clamp(f img + (1 - f) other, 0, 1), other per pixel (other_plane) or a constant.
void blend(float* img, int64_t n, double f, const float* other_plane, float other) {
  const auto ff = static_cast<float>(f), g = 1.f - ff;
  for (int64_t i = 0; i < n; ++i)
    img[i] = std::clamp(ff * img[i] + g * (other_plane ? other_plane[i] : other), 0.f, 1.f);
}

}  // namespace

std::shared_ptr<Augment> Augment::parse(const std::string& spec) {
  auto aug = std::make_shared<Augment>();
  const std::string s = trim(spec);
  if (s.empty() || s == "none") return aug;
  for (const std::string& item : split(s, ',')) {
    const std::vector<std::string> parts = split(item, ':');
    const std::string& name = parts[0];
    auto bad = [&](const std::string& why) {
      return Error(detail::cat("augment: bad item '", item, "' in '", spec, "': ", why, "; ", kGrammar));
    };
    std::vector<double> p;
    for (size_t i = 1; i < parts.size(); ++i) {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(parts[i], &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != parts[i].size() || !std::isfinite(v)) throw bad("'" + parts[i] + "' is not a number");
      p.push_back(v);
    }
    auto nargs = [&](size_t lo, size_t hi) {
      if (p.size() < lo || p.size() > hi) {
        const std::string range = lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi);
        throw bad(detail::cat(name, " takes ", range, " parameter", hi == 1 ? "" : "s", ", got ", p.size()));
      }
    };
    auto prob = [&](double v) {
      if (v < 0 || v > 1) throw bad("probability " + fmt(v) + " is outside [0, 1]");
    };
    Step st{};
    if (name == "crop") {
      nargs(1, 1);
      if (p[0] < 0 || p[0] != std::floor(p[0])) throw bad("padding must be a non-negative integer");
      st.kind = Kind::Crop;
    } else if (name == "flip") {
      nargs(0, 1);
      if (p.empty()) p.push_back(0.5);
      prob(p[0]);
      st.kind = Kind::Flip;
    } else if (name == "rotate") {
      nargs(1, 1);
      if (p[0] < 0 || p[0] > 180) throw bad("degrees must be in [0, 180]");
      st.kind = Kind::Rotate;
    } else if (name == "affine") {
      if (p.size() == 1) p = {p[0], 1.0, 1.0};
      nargs(3, 3);
      if (p[0] < 0 || p[0] > 1) throw bad("translate fraction must be in [0, 1]");
      if (!(p[1] > 0 && p[1] <= p[2])) throw bad("scale range must satisfy 0 < S0 <= S1");
      st.kind = Kind::Affine;
    } else if (name == "jitter") {
      nargs(1, 3);
      p.resize(3, 0.0);
      for (double v : p)
        if (v < 0) throw bad("jitter strengths must be non-negative");
      st.kind = Kind::Jitter;
    } else if (name == "erasing") {
      nargs(0, 1);
      if (p.empty()) p.push_back(0.5);
      prob(p[0]);
      st.kind = Kind::Erasing;
    } else {
      throw bad(name.empty() ? std::string("empty item") : "unknown transform '" + name + "'");
    }
    st.p = std::move(p);
    aug->steps_.push_back(std::move(st));
  }
  return aug;
}

std::string Augment::describe() const {
  static const char* names[] = {"crop", "flip", "rotate", "affine", "jitter", "erasing"};
  std::string out;
  for (const Step& st : steps_) {
    if (!out.empty()) out += ",";
    out += names[static_cast<int>(st.kind)];
    for (double v : st.p) out += ":" + fmt(v);
  }
  return out.empty() ? "none" : out;
}

void Augment::apply(float* img, int64_t C, int64_t H, int64_t W, Generator& gen) const {
  for (const Step& st : steps_) {
    const auto& p = st.p;
    switch (st.kind) {
      case Kind::Crop: {
        const auto pad = static_cast<int64_t>(p[0]);
        // RandomCrop.get_params: i, j ~ randint(0, padded - size + 1) = [0, 2 pad].
        const auto top = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(2 * pad + 1)));
        const auto left = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(2 * pad + 1)));
        pad_crop(img, C, H, W, pad, top, left);
        break;
      }
      case Kind::Flip:
        if (gen.uniform01() < p[0]) hflip(img, C, H, W);
        break;
      case Kind::Rotate:
        affine(img, C, H, W, gen.uniform(static_cast<float>(-p[0]), static_cast<float>(p[0])), 0, 0, 1);
        break;
      case Kind::Affine: {
        // RandomAffine.get_params: shifts rounded to whole pixels, then the scale.
        const double mx = p[0] * static_cast<double>(W), my = p[0] * static_cast<double>(H);
        const double tx = std::nearbyint(gen.uniform(static_cast<float>(-mx), static_cast<float>(mx)));
        const double ty = std::nearbyint(gen.uniform(static_cast<float>(-my), static_cast<float>(my)));
        const double sc = gen.uniform(static_cast<float>(p[1]), static_cast<float>(p[2]));
        affine(img, C, H, W, 0, tx, ty, sc);
        break;
      }
      case Kind::Jitter: {
        // ColorJitter: a random order of the adjustments, each factor ~ U(max(0, 1 - x), 1 + x).
        int order[3] = {0, 1, 2};
        for (int i = 2; i > 0; --i) std::swap(order[i], order[gen.randint(static_cast<uint64_t>(i + 1))]);
        double f[3] = {1, 1, 1};
        for (int k = 0; k < 3; ++k)
          if (p[k] > 0) f[k] = gen.uniform(static_cast<float>(std::max(0.0, 1 - p[k])), static_cast<float>(1 + p[k]));
        for (int k : order) {
          if (p[k] <= 0) continue;
          if (k == 0) adjust_brightness(img, C, H, W, f[0]);
          if (k == 1) adjust_contrast(img, C, H, W, f[1]);
          if (k == 2 && C == 3) adjust_saturation(img, C, H, W, f[2]);
        }
        break;
      }
      case Kind::Erasing:
        if (gen.uniform01() < p[0]) erase(img, C, H, W, random_erasing_box(H, W, gen), 0.f);
        break;
    }
  }
}

void hflip(float* img, int64_t C, int64_t H, int64_t W) {
  for (int64_t r = 0; r < C * H; ++r) std::reverse(img + r * W, img + (r + 1) * W);
}

void pad_crop(float* img, int64_t C, int64_t H, int64_t W, int64_t pad, int64_t top, int64_t left) {
  CONVNET_CHECK(pad >= 0 && top >= 0 && left >= 0 && top <= 2 * pad && left <= 2 * pad, "pad_crop: offset (", top, ", ",
                left, ") is outside [0, ", 2 * pad, "] for padding ", pad);
  const int64_t dy = top - pad, dx = left - pad;  // output (y, x) reads input (y + dy, x + dx)
  if (dy == 0 && dx == 0) return;
  std::vector<float> src(img, img + C * H * W);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        const int64_t sy = y + dy, sx = x + dx;
        img[(c * H + y) * W + x] = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? src[(c * H + sy) * W + sx] : 0.f;
      }
}

void affine(float* img, int64_t C, int64_t H, int64_t W, double angle, double tx, double ty, double scale) {
  CONVNET_CHECK(scale > 0, "affine: scale must be positive, got ", scale);
  if (angle == 0 && tx == 0 && ty == 0 && scale == 1) return;
  const double th = angle * std::numbers::pi / 180.0, cs = std::cos(th), sn = std::sin(th);
  const double cx = (static_cast<double>(W) - 1) / 2, cy = (static_cast<double>(H) - 1) / 2;
  // Sub-1e-9 offsets (cos 90 deg is 6e-17, not 0) would make exact quarter turns blur by
  // rounding; snapping keeps them exact permutations of the pixels.
  auto snap = [](double v) {
    const double r = std::nearbyint(v);
    return std::abs(v - r) < 1e-9 ? r : v;
  };
  std::vector<float> src(img, img + C * H * W);
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) {
      const double dx = static_cast<double>(x) - cx - tx, dy = static_cast<double>(y) - cy - ty;
      const double sx = snap((cs * dx - sn * dy) / scale + cx), sy = snap((sn * dx + cs * dy) / scale + cy);
      const double fx0 = std::floor(sx), fy0 = std::floor(sy);
      const auto x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
      const double ax = sx - fx0, ay = sy - fy0;
      const double wts[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
      const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
      for (int64_t c = 0; c < C; ++c) {
        double v = 0;
        for (int k = 0; k < 4; ++k)  // grid_sample's zeros padding: outside taps add nothing
          if (wts[k] != 0 && xs[k] >= 0 && xs[k] < W && ys[k] >= 0 && ys[k] < H)
            v += wts[k] * src[(c * H + ys[k]) * W + xs[k]];
        img[(c * H + y) * W + x] = static_cast<float>(v);
      }
    }
}

void adjust_brightness(float* img, int64_t C, int64_t H, int64_t W, double f) {
  blend(img, C * H * W, f, nullptr, 0.f);
}

void adjust_contrast(float* img, int64_t C, int64_t H, int64_t W, double f) {
  CONVNET_CHECK(C == 1 || C == 3, "adjust_contrast: expected 1 or 3 channels, got ", C);
  const int64_t HW = H * W;
  double sum = 0;
  for (int64_t i = 0; i < HW; ++i) sum += C == 3 ? gray(img, HW, i) : img[i];
  blend(img, C * HW, f, nullptr, static_cast<float>(sum / static_cast<double>(HW)));
}

void adjust_saturation(float* img, int64_t C, int64_t H, int64_t W, double f) {
  CONVNET_CHECK(C == 3, "adjust_saturation: expected 3 channels, got ", C);
  const int64_t HW = H * W;
  std::vector<float> g(static_cast<size_t>(HW));
  for (int64_t i = 0; i < HW; ++i) g[i] = gray(img, HW, i);
  for (int64_t c = 0; c < 3; ++c) blend(img + c * HW, HW, f, g.data(), 0.f);
}

Box random_erasing_box(int64_t H, int64_t W, Generator& gen) {
  const double area = static_cast<double>(H * W), lr0 = std::log(0.3), lr1 = std::log(3.3);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase_area = area * gen.uniform(0.02f, 0.33f);
    const double aspect = std::exp(gen.uniform(static_cast<float>(lr0), static_cast<float>(lr1)));
    const auto h = static_cast<int64_t>(std::nearbyint(std::sqrt(erase_area * aspect)));
    const auto w = static_cast<int64_t>(std::nearbyint(std::sqrt(erase_area / aspect)));
    if (!(h < H && w < W)) continue;
    Box b;
    b.height = h;
    b.width = w;
    b.top = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(H - h + 1)));
    b.left = static_cast<int64_t>(gen.randint(static_cast<uint64_t>(W - w + 1)));
    return b;
  }
  return {};
}

void erase(float* img, int64_t C, int64_t H, int64_t W, const Box& b, float value) {
  CONVNET_CHECK(
      b.top >= 0 && b.left >= 0 && b.height >= 0 && b.width >= 0 && b.top + b.height <= H && b.left + b.width <= W,
      "erase: box (top ", b.top, ", left ", b.left, ", ", b.height, "x", b.width, ") is outside the ", H, "x", W,
      " image");
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = b.top; y < b.top + b.height; ++y) std::fill_n(img + (c * H + y) * W + b.left, b.width, value);
}

}  // namespace convnet::data
