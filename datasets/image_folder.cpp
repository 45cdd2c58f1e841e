// Image-folder loading with stb_image / stb_image_resize (see image_folder.hpp).
#include "datasets/image_folder.hpp"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"

namespace sparse::data {

bool is_image_file(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".pgm" || ext == ".ppm" || ext == ".pnm" || ext == ".jpg" || ext == ".jpeg";
}

namespace {

std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir, bool want_dirs) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.empty() || n[0] == '.') continue;
    if (want_dirs ? e.is_directory() : (e.is_regular_file() && is_image_file(e.path()))) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void decode_into(const std::filesystem::path& p, ImageShape shape, uint8_t* dst) {
  const std::vector<uint8_t> bytes = read_file_bytes(p);
  int w = 0, h = 0, c = 0;
  std::unique_ptr<uint8_t, void (*)(void*)> img(
      stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()), &w, &h, &c, shape.channels), stbi_image_free);
  SPARSE_CHECK(img != nullptr, "image '" << p.string() << "' cannot be decoded (" << stbi_failure_reason()
                                         << "), expected a PNG, PGM, PPM or JPEG file");
  if (w == shape.width && h == shape.height) {
    std::memcpy(dst, img.get(), shape.pixels());
    return;
  }
  const int ok = stbir_resize_uint8(img.get(), w, h, 0, dst, shape.width, shape.height, 0, shape.channels);
  SPARSE_CHECK(ok == 1, "image '" << p.string() << "': resize from " << w << "x" << h << " to " << shape.width << "x"
                                  << shape.height << " failed");
}

}  // namespace

ImageFolder load_image_folder(const std::filesystem::path& dir, ImageShape shape) {
  SPARSE_CHECK(shape.height > 0 && shape.width > 0 && (shape.channels == 1 || shape.channels == 3),
               "image folder '" << dir.string() << "': target shape " << shape.height << "x" << shape.width << "x"
                                << shape.channels << " is invalid, expected positive size and 1 or 3 channels");
  std::error_code ec;
  SPARSE_CHECK(std::filesystem::is_directory(dir, ec), "image folder '" << dir.string() << "' does not exist or is not a folder");
  ImageFolder f;
  const auto classes = sorted_entries(dir, true);
  SPARSE_CHECK(!classes.empty(), "image folder '" << dir.string() << "' is empty: expected one sub-folder per class");
  std::vector<std::pair<std::filesystem::path, int>> files;
  for (size_t k = 0; k < classes.size(); ++k) {
    const auto imgs = sorted_entries(classes[k], false);
    SPARSE_CHECK(!imgs.empty(), "class folder '" << classes[k].string()
                                                 << "' has no image (expected .png, .pgm, .ppm or .jpg files)");
    f.class_names.push_back(classes[k].filename().string());
    for (const auto& p : imgs) files.emplace_back(p, static_cast<int>(k));
  }
  f.images.shape = shape;
  f.images.num_classes = static_cast<int>(classes.size());
  f.images.pixels.resize(files.size() * shape.pixels());
  f.images.labels.resize(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    decode_into(files[i].first, shape, f.images.pixels.data() + i * shape.pixels());
    f.images.labels[i] = files[i].second;
  }
  return f;
}

}  // namespace sparse::data
