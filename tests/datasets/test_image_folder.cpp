// Image folders: class order, PGM/PPM/PNG decoding, resizing, channel conversion, and bad folders/images.
#include <gtest/gtest.h>

#include "datasets/image_folder.hpp"
#include "tests/datasets/fixtures.hpp"

using namespace sparse;
using sparse::test::error_of;
using sparse::test::TempDir;

TEST(ImageFolder, ClassesSortedAndImagesDecodedAndResized) {
  TempDir d;
  test::write_pnm(d / "b_second" / "x.pgm", 8, 8, {200});
  test::write_pnm(d / "a_first" / "1.ppm", 4, 4, {10, 20, 30});
  test::write_png(d / "a_first" / "2.PNG", 2, 2, 3, std::vector<uint8_t>(12, 77));
  test::write_text(d / "a_first" / "notes.txt", "ignored");
  const auto f = data::load_image_folder(d.path(), {4, 4, 3});
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"a_first", "b_second"}));
  ASSERT_EQ(f.images.size(), 3u);
  EXPECT_EQ(f.images.labels, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(f.images.image(0)[0], 10);
  EXPECT_EQ(f.images.image(0)[1], 20);
  EXPECT_EQ(f.images.image(0)[2], 30);
  // A constant image stays constant through the resize; gray becomes three equal channels.
  for (size_t p = 0; p < 48; ++p) EXPECT_NEAR(f.images.image(1)[p], 77, 1);
  for (size_t p = 0; p < 48; ++p) EXPECT_NEAR(f.images.image(2)[p], 200, 1);
}

TEST(ImageFolder, ColorToGrayUsesOneChannel) {
  TempDir d;
  test::write_pnm(d / "c" / "x.ppm", 3, 3, {90, 90, 90});
  const auto f = data::load_image_folder(d.path(), {3, 3, 1});
  EXPECT_EQ(f.images.shape.channels, 1);
  EXPECT_NEAR(f.images.image(0)[4], 90, 1);
}

TEST(ImageFolder, MissingOrEmptyFolder) {
  TempDir d;
  EXPECT_NE(error_of([&] { data::load_image_folder(d / "nope", {4, 4, 1}); }).find("does not exist or is not a folder"),
            std::string::npos);
  EXPECT_NE(error_of([&] { data::load_image_folder(d.path(), {4, 4, 1}); }).find("is empty: expected one sub-folder per class"),
            std::string::npos);
}

TEST(ImageFolder, ClassFolderWithoutImages) {
  TempDir d;
  test::write_pnm(d / "a" / "x.pgm", 2, 2, {1});
  test::write_text(d / "b" / "readme.txt", "no images here");
  const std::string msg = error_of([&] { data::load_image_folder(d.path(), {4, 4, 1}); });
  EXPECT_NE(msg.find("class folder '" + (d / "b").string() + "' has no image"), std::string::npos) << msg;
}

TEST(ImageFolder, UnreadableImageNamesFile) {
  TempDir d;
  test::write_text(d / "a" / "broken.png", "this is not a png");
  const std::string msg = error_of([&] { data::load_image_folder(d.path(), {4, 4, 1}); });
  EXPECT_NE(msg.find("image '" + (d / "a" / "broken.png").string() + "' cannot be decoded"), std::string::npos) << msg;
}

TEST(ImageFolder, BadTargetShape) {
  TempDir d;
  EXPECT_NE(error_of([&] { data::load_image_folder(d.path(), {4, 4, 2}); }).find("expected positive size and 1 or 3 channels"),
            std::string::npos);
}
