// Presets, splits and load_dataset() (see preset.hpp). Binary groupings are documented in README.md.
#include "datasets/preset.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <sstream>

#include "datasets/cifar10.hpp"
#include "datasets/idx.hpp"
#include "datasets/image_folder.hpp"
#include "datasets/synthetic.hpp"
#include "host/core/error.hpp"
#include "host/core/philox.hpp"

namespace sparse::data {

namespace {

std::vector<std::string> digits() { return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}; }

std::vector<Preset> make_presets() {
  const std::vector<std::string> fashion = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  const std::vector<std::string> cifar = {"airplane", "automobile", "bird",  "cat",  "deer",
                                          "dog",      "frog",       "horse", "ship", "truck"};
  std::vector<Preset> p;
  p.push_back({"mnist", Format::Idx, "/usr/share/datasets/mnist", 55000, 5000, 10000, 10, {28, 28, 1}, digits(), "", "", {}});
  p.push_back({"fashion-mnist", Format::Idx, "/usr/share/datasets/fashion-mnist", 55000, 5000, 10000, 10, {28, 28, 1},
               fashion, "", "", {}});
  p.push_back({"cifar10", Format::Cifar10, "/usr/share/datasets/cifar10", 45000, 5000, 10000, 10, {32, 32, 3}, cifar, "", "", {}});
  p.push_back({"curet", Format::ImageFolder, "/usr/share/datasets/curet", 3704, 500, 1408, 61, {32, 32, 3}, {}, "", "", {}});
  p.push_back({"chars4k", Format::ImageFolder, "/usr/share/datasets/chars4k", 3897, 500, 1886, 62, {32, 32, 1}, {}, "", "", {}});
  // Users' own images: any class count; 10% validation and 20% test when no train/ and test/ folders.
  p.push_back({"folder", Format::ImageFolder, "", 7000, 1000, 2000, 0, {32, 32, 3}, {}, "", "", {}});
  p.push_back({"synthetic", Format::Synthetic, "", 9000, 1000, 2000, 10, {28, 28, 1}, {}, "", "", {}});
  auto binary = [&](const std::string& base, std::string rule, std::function<int(int)> g) {
    Preset b = *std::find_if(p.begin(), p.end(), [&](const Preset& x) { return x.name == base; });
    b.name = base + "-binary";
    b.binary_of = base;
    b.binary_rule = std::move(rule);
    b.binary_group = std::move(g);
    return b;
  };
  std::vector<Preset> bin;
  bin.push_back(binary("mnist", "0 = even digit, 1 = odd digit", [](int y) { return y % 2; }));
  bin.push_back(binary("fashion-mnist", "0 = even label (T-shirt, Pullover, Coat, Sandal, Bag), 1 = odd label",
                       [](int y) { return y % 2; }));
  bin.push_back(binary("cifar10", "0 = animal (bird, cat, deer, dog, frog, horse), 1 = vehicle (airplane, automobile, ship, truck)",
                       [](int y) { return (y == 0 || y == 1 || y == 8 || y == 9) ? 1 : 0; }));
  bin.push_back(binary("curet", "0 = class folders 1-31 in sorted order, 1 = class folders 32-61",
                       [](int y) { return y < 31 ? 0 : 1; }));
  bin.push_back(binary("chars4k", "0 = digit (first 10 class folders, Sample001-Sample010), 1 = letter",
                       [](int y) { return y < 10 ? 0 : 1; }));
  p.insert(p.end(), bin.begin(), bin.end());
  return p;
}

// The validation size for `available` training files: the preset's when the files are the paper's,
// else the same fraction.
size_t scaled(size_t available, size_t part, size_t whole) {
  if (available == whole) return part;
  return std::max<size_t>(1, static_cast<size_t>(std::llround(static_cast<double>(available) * part / whole)));
}

void check_classes(const Preset& p, const std::filesystem::path& dir, size_t found) {
  SPARSE_CHECK(p.classes == 0 || found == static_cast<size_t>(p.classes),
               "dataset '" << p.name << "': folder '" << dir.string() << "' has " << found << " class folders, expected "
                           << p.classes);
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = make_presets();
  return all;
}

const Preset& find_preset(const std::string& name) {
  std::string names;
  for (const Preset& p : presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  SPARSE_FAIL("unknown dataset '" << name << "', expected one of: " << names);
}

std::pair<ImageSet, ImageSet> split_validation(const ImageSet& all, size_t val_size, uint64_t seed) {
  SPARSE_CHECK(val_size < all.size(), "validation size " << val_size << " leaves no training image (only " << all.size()
                                                         << " training images)");
  std::vector<size_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  PhiloxStream rng(seed, 0x5B117);
  rng.shuffle(order.begin(), order.end());
  std::vector<size_t> val(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(val_size));
  std::vector<size_t> train(order.begin() + static_cast<std::ptrdiff_t>(val_size), order.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {all.subset(train), all.subset(val)};
}

void relabel_binary(ImageSet& set, const std::function<int(int)>& group) {
  for (int32_t& y : set.labels) y = group(y);
  set.num_classes = 2;
}

ImageShape parse_image_shape(const std::string& text) {
  ImageShape s;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  in >> s.height >> x1 >> s.width >> x2 >> s.channels;
  SPARSE_CHECK(in && in.peek() == EOF && x1 == 'x' && x2 == 'x' && s.height > 0 && s.width > 0 && s.height <= 4096 &&
                   s.width <= 4096 && (s.channels == 1 || s.channels == 3),
               "image size '" << text << "' is invalid, expected HxWxC with H and W in 1..4096 and C 1 or 3 (e.g. 32x32x3)");
  return s;
}

Dataset load_dataset(const DatasetOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  const Preset& p = find_preset(o.name);
  const Preset& base = p.binary_of.empty() ? p : find_preset(p.binary_of);
  Dataset d;
  d.name = p.name;
  d.class_names = base.class_names;
  if (base.format != Format::Synthetic) {
    SPARSE_CHECK(o.data_dir || !base.default_dir.empty(),
                 "dataset '" << p.name << "' has no default folder: pass --data-dir");
    d.dir = o.data_dir ? *o.data_dir : std::filesystem::path(base.default_dir);
    std::error_code ec;
    SPARSE_CHECK(std::filesystem::is_directory(d.dir, ec),
                 "dataset '" << p.name << "': folder '" << d.dir.string() << "' does not exist"
                             << (o.data_dir ? "" : " (the preset's default; pass --data-dir to point elsewhere)")
                             << (base.name == "fashion-mnist" ? "; install it with: apt-get install dataset-fashion-mnist" : ""));
  }
  SPARSE_CHECK(!o.image_shape || base.format == Format::ImageFolder || base.format == Format::Synthetic,
               "--image-size applies to image-folder and synthetic datasets only, not '" << p.name << "'");
  const ImageShape shape = o.image_shape ? *o.image_shape : base.shape;
  ImageSet train_all;
  size_t val_n = 0;
  switch (base.format) {
    case Format::Idx: {
      // Looked up one by one so that the first missing file is the one reported.
      const auto train_images = find_idx_file(d.dir, "train-images-idx3-ubyte");
      const auto train_labels = find_idx_file(d.dir, "train-labels-idx1-ubyte");
      const auto test_images = find_idx_file(d.dir, "t10k-images-idx3-ubyte");
      const auto test_labels = find_idx_file(d.dir, "t10k-labels-idx1-ubyte");
      train_all = load_idx_pair(train_images, train_labels, base.classes);
      d.test = load_idx_pair(test_images, test_labels, base.classes);
      SPARSE_CHECK(d.test.shape == train_all.shape, "dataset '" << p.name << "': test images are " << d.test.shape.height << "x"
                                                                << d.test.shape.width << ", training images "
                                                                << train_all.shape.height << "x" << train_all.shape.width);
      val_n = scaled(train_all.size(), base.val, base.train + base.val);
      break;
    }
    case Format::Cifar10:
      train_all = load_cifar10(d.dir, true);
      d.test = load_cifar10(d.dir, false);
      val_n = scaled(train_all.size(), base.val, base.train + base.val);
      break;
    case Format::ImageFolder: {
      std::error_code ec;
      if (std::filesystem::is_directory(d.dir / "train", ec) && std::filesystem::is_directory(d.dir / "test", ec)) {
        ImageFolder tr = load_image_folder(d.dir / "train", shape);
        ImageFolder te = load_image_folder(d.dir / "test", shape);
        SPARSE_CHECK(tr.class_names == te.class_names, "dataset '" << p.name << "': class folders of '"
                                                                   << (d.dir / "train").string() << "' and '"
                                                                   << (d.dir / "test").string() << "' differ");
        check_classes(base, d.dir / "train", tr.class_names.size());
        train_all = std::move(tr.images);
        d.test = std::move(te.images);
        d.class_names = tr.class_names;
        val_n = scaled(train_all.size(), base.val, base.train + base.val);
      } else {
        ImageFolder all = load_image_folder(d.dir, shape);
        check_classes(base, d.dir, all.class_names.size());
        d.class_names = all.class_names;
        const size_t total = base.train + base.val + base.test;
        const size_t test_n = scaled(all.images.size(), base.test, total);
        SPARSE_CHECK(all.images.size() >= test_n + 2, "dataset '" << p.name << "': folder '" << d.dir.string() << "' has only "
                                                                  << all.images.size() << " images, too few to split");
        auto [rest, test] = split_validation(all.images, test_n, o.split_seed ^ 0x7E57ull);
        train_all = std::move(rest);
        d.test = std::move(test);
        val_n = scaled(all.images.size(), base.val, total);
      }
      break;
    }
    case Format::Synthetic: {
      SyntheticSpec spec;
      spec.num_classes = o.synthetic_classes;
      spec.shape = shape;
      spec.noise_std = o.synthetic_noise;
      spec.seed = o.split_seed;
      SPARSE_CHECK(o.synthetic_train >= 2 && o.synthetic_train <= 10'000'000 && o.synthetic_test >= 1 &&
                       o.synthetic_test <= 10'000'000,
                   "synthetic dataset: train size " << o.synthetic_train << " and test size " << o.synthetic_test
                                                    << " must be 2..1e7 and 1..1e7");
      val_n = std::max<size_t>(1, o.synthetic_train / 10);
      train_all = generate_synthetic(spec, o.synthetic_train + val_n, 0);
      d.test = generate_synthetic(spec, o.synthetic_test, 1);
      for (int k = 0; k < spec.num_classes; ++k) d.class_names.push_back("glyph" + std::to_string(k));
      break;
    }
  }
  if (o.val_size) val_n = *o.val_size;
  auto [train, val] = split_validation(train_all, val_n, o.split_seed);
  d.train = std::move(train);
  d.val = std::move(val);
  if (p.binary_group) {
    relabel_binary(d.train, p.binary_group);
    relabel_binary(d.val, p.binary_group);
    relabel_binary(d.test, p.binary_group);
    d.class_names = {"group0", "group1"};
  }
  d.norm = Normalization::fit(d.train);
  d.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return d;
}

}  // namespace sparse::data
