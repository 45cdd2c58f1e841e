// DatasetOptions <-> JSON (see options_json.hpp).
#include "datasets/options_json.hpp"

#include <type_traits>
#include <vector>

#include "host/core/error.hpp"

namespace sparse::data {

nlohmann::json dataset_options_to_json(const DatasetOptions& o) {
  nlohmann::json j = {{"name", o.name},
                      {"data_dir", o.data_dir ? nlohmann::json(o.data_dir->string()) : nlohmann::json(nullptr)},
                      {"split_seed", o.split_seed},
                      {"val_size", o.val_size ? nlohmann::json(*o.val_size) : nlohmann::json(nullptr)},
                      {"image_shape", nullptr},
                      {"synthetic_classes", o.synthetic_classes},
                      {"synthetic_train", o.synthetic_train},
                      {"synthetic_test", o.synthetic_test},
                      {"synthetic_noise", o.synthetic_noise}};
  if (o.image_shape) j["image_shape"] = {o.image_shape->height, o.image_shape->width, o.image_shape->channels};
  return j;
}

namespace {

// The value at `key` as T when present and not null; errors name the origin, the key and the JSON found.
template <class T>
bool read(const nlohmann::json& j, const char* key, const std::string& origin, T& out) {
  if (!j.contains(key) || j[key].is_null()) return false;
  try {
    out = j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    const char* expected = std::is_same_v<T, std::string>        ? "a string"
                           : std::is_same_v<T, std::vector<int>> ? "an array of integers"
                           : std::is_integral_v<T>               ? "a non-negative integer"
                                                                 : "a number";
    SPARSE_FAIL(origin << ": dataset option '" << key << "' is " << j[key].dump() << ", expected " << expected);
  }
  return true;
}

}  // namespace

DatasetOptions dataset_options_from_json(const nlohmann::json& j, const std::string& origin) {
  SPARSE_CHECK(j.is_object(), origin << ": dataset options are " << j.dump() << ", expected a JSON object");
  DatasetOptions o;
  SPARSE_CHECK(read(j, "name", origin, o.name), origin << ": dataset options have no \"name\"");
  std::string dir;
  if (read(j, "data_dir", origin, dir)) o.data_dir = dir;
  read(j, "split_seed", origin, o.split_seed);
  size_t val = 0;
  if (read(j, "val_size", origin, val)) o.val_size = val;
  std::vector<int> shape;
  if (read(j, "image_shape", origin, shape)) {
    SPARSE_CHECK(shape.size() == 3, origin << ": dataset option 'image_shape' has " << shape.size()
                                           << " entries, expected 3 (height, width, channels)");
    o.image_shape = ImageShape{shape[0], shape[1], shape[2]};
  }
  read(j, "synthetic_classes", origin, o.synthetic_classes);
  read(j, "synthetic_train", origin, o.synthetic_train);
  read(j, "synthetic_test", origin, o.synthetic_test);
  read(j, "synthetic_noise", origin, o.synthetic_noise);
  return o;
}

}  // namespace sparse::data
