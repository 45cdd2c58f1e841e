// Image folders: one sub-folder per class (sorted by name = label order), images PNG, PGM, PPM or JPEG,
// decoded with stb_image and resized (stb_image_resize) to the requested shape.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/image_set.hpp"

namespace sparse::data {

struct ImageFolder {
  ImageSet images;
  std::vector<std::string> class_names;  // sub-folder names, index = label
};

// Load `dir`/<class>/<image>. Files with other extensions are ignored; an image file that cannot be
// decoded, a class folder with no image and a folder with no class folder are errors naming the path.
ImageFolder load_image_folder(const std::filesystem::path& dir, ImageShape shape);

// True for the extensions the loader reads (.png .pgm .ppm .pnm .jpg .jpeg, any case).
bool is_image_file(const std::filesystem::path& p);

}  // namespace sparse::data
