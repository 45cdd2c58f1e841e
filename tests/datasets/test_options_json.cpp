// DatasetOptions <-> JSON: round trip, missing keys take defaults, wrong types and shapes name the origin and key.
#include <gtest/gtest.h>

#include "datasets/options_json.hpp"
#include "host/core/error.hpp"

using namespace sparse;

namespace {

std::string error_message(const nlohmann::json& j) {
  try {
    data::dataset_options_from_json(j, "run/summary.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DatasetOptionsJson, RoundTripsEveryOption) {
  data::DatasetOptions o;
  o.name = "synthetic";
  o.data_dir = "/data/x";
  o.split_seed = 7;
  o.image_shape = data::ImageShape{16, 12, 3};
  o.val_size = 123;
  o.synthetic_classes = 4;
  o.synthetic_train = 300;
  o.synthetic_test = 60;
  o.synthetic_noise = 0.25f;
  const data::DatasetOptions r = data::dataset_options_from_json(data::dataset_options_to_json(o), "test");
  EXPECT_EQ(r.name, o.name);
  EXPECT_EQ(r.data_dir, o.data_dir);
  EXPECT_EQ(r.split_seed, o.split_seed);
  EXPECT_EQ(r.image_shape, o.image_shape);
  EXPECT_EQ(r.val_size, o.val_size);
  EXPECT_EQ(r.synthetic_classes, o.synthetic_classes);
  EXPECT_EQ(r.synthetic_train, o.synthetic_train);
  EXPECT_EQ(r.synthetic_test, o.synthetic_test);
  EXPECT_EQ(r.synthetic_noise, o.synthetic_noise);
  // Unset optionals stay unset.
  const data::DatasetOptions d = data::dataset_options_from_json(data::dataset_options_to_json({}), "test");
  EXPECT_FALSE(d.data_dir.has_value());
  EXPECT_FALSE(d.image_shape.has_value());
  EXPECT_FALSE(d.val_size.has_value());
  EXPECT_EQ(d.name, data::DatasetOptions{}.name);
}

TEST(DatasetOptionsJson, MissingKeysTakeTheDefaults) {
  const data::DatasetOptions o = data::dataset_options_from_json({{"name", "mnist"}}, "old");
  EXPECT_EQ(o.name, "mnist");
  EXPECT_EQ(o.split_seed, data::DatasetOptions{}.split_seed);
  EXPECT_EQ(o.synthetic_classes, data::DatasetOptions{}.synthetic_classes);
}

TEST(DatasetOptionsJson, BadValuesNameTheOriginAndKey) {
  std::string m = error_message({{"split_seed", 1}});
  EXPECT_NE(m.find("run/summary.json"), std::string::npos) << m;
  EXPECT_NE(m.find("no \"name\""), std::string::npos) << m;
  m = error_message({{"name", "synthetic"}, {"synthetic_classes", "four"}});
  EXPECT_NE(m.find("'synthetic_classes' is \"four\""), std::string::npos) << m;
  EXPECT_NE(m.find("integer"), std::string::npos) << m;
  m = error_message({{"name", "synthetic"}, {"image_shape", {16, 16}}});
  EXPECT_NE(m.find("'image_shape' has 2 entries, expected 3"), std::string::npos) << m;
  m = error_message({{"name", 5}});
  EXPECT_NE(m.find("'name' is 5, expected a string"), std::string::npos) << m;
  m = error_message(nlohmann::json::array());
  EXPECT_NE(m.find("expected a JSON object"), std::string::npos) << m;
}
