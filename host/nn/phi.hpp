// φ: all trained parameters of a Network (variational parameters, biases, batch-norm), as a versioned,
// checksummed binary file, and inheritance of φ from a reference trial (REFERENCE.md §5, paper Appendix C).
// File layout (little-endian): "SPHI" | u32 version (1) | u32 method (0 spvd, 1 bc) | u32 n | n bytes of the
// Config JSON | u32 tensor count | per tensor: u32 name length, name, u32 rank, rank × u32 dims, f32 data |
// u32 CRC-32 (zlib) of every byte before it. A file that is not φ, is truncated, has a bad checksum or a
// newer version is refused with its name and the byte offset.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/nn/network.hpp"

namespace sparse::nn {

inline constexpr uint32_t kPhiVersion = 1;

struct PhiTensor {
  std::string name;  // "<node>/<tensor>"
  std::vector<int> dims;
  std::vector<float> data;
};

struct Phi {
  Method method = Method::spvd;
  nlohmann::json config;  // the Config the tensors belong to
  std::vector<PhiTensor> tensors;
  const PhiTensor* find(const std::string& name) const;
};

std::vector<uint8_t> serialize_phi(const Phi& phi);
Phi parse_phi(const std::vector<uint8_t>& bytes, const std::string& origin);
void write_phi(const std::filesystem::path& path, const Phi& phi);
Phi read_phi(const std::filesystem::path& path);

// Every parameter tensor of `net` (Adam state excluded).
Phi phi_of(Network& net);
// Load φ exactly: every tensor of the network must be present with the same dims; errors name the tensor.
void load_phi(Network& net, const Phi& phi);

struct InheritReport {
  int64_t inherited = 0;      // parameter elements copied from the reference
  int64_t total = 0;          // parameter elements of the network (trained ones and BN statistics)
  int tensors_copied = 0;     // identical tensors copied whole
  int tensors_sliced = 0;     // same node and op type, different shape: overlapping slice copied
  int tensors_fresh = 0;      // no counterpart: left as initialized
};

// Inheritance (REFERENCE.md §5): a tensor of a node whose reference counterpart (same name, same op type)
// has the same shape is copied; a different shape copies the overlapping slice (conv kernels centre-aligned,
// channels from 0; FC rows matched by their (h, w, c) input position); everything else keeps its
// initialization. All of φ keeps training afterwards.
InheritReport inherit_phi(Network& net, const Phi& reference);

}  // namespace sparse::nn
