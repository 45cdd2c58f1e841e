// φ serialization (see phi.hpp for the layout), exact loading and inheritance from a reference trial.
#include "host/nn/phi.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include "host/core/error.hpp"
#include "host/core/file_io.hpp"
#include "host/space/config.hpp"

namespace sparse::nn {

const PhiTensor* Phi::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

namespace {

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(v >> (8 * k)));
}

class Reader {
 public:
  Reader(const std::vector<uint8_t>& b, const std::string& origin) : b_(b), origin_(origin) {}
  void need(size_t n, const char* what) const {
    SPARSE_CHECK(b_.size() - pos_ >= n, origin_ << ": truncated φ file: expected " << n << " more bytes for " << what
                                               << " at byte offset " << pos_ << ", the file has " << b_.size());
  }
  uint32_t u32(const char* what) {
    need(4, what);
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v |= static_cast<uint32_t>(b_[pos_ + static_cast<size_t>(k)]) << (8 * k);
    pos_ += 4;
    return v;
  }
  std::string str(size_t n, const char* what) {
    need(n, what);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  void floats(float* out, size_t n, const char* what) {
    need(n * 4, what);
    std::memcpy(out, b_.data() + pos_, n * 4);
    pos_ += n * 4;
  }
  size_t pos() const { return pos_; }

 private:
  const std::vector<uint8_t>& b_;
  const std::string& origin_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<uint8_t> serialize_phi(const Phi& phi) {
  std::vector<uint8_t> out = {'S', 'P', 'H', 'I'};
  put_u32(out, kPhiVersion);
  put_u32(out, phi.method == Method::spvd ? 0u : 1u);
  const std::string cfg = phi.config.dump();
  put_u32(out, static_cast<uint32_t>(cfg.size()));
  out.insert(out.end(), cfg.begin(), cfg.end());
  put_u32(out, static_cast<uint32_t>(phi.tensors.size()));
  for (const auto& t : phi.tensors) {
    put_u32(out, static_cast<uint32_t>(t.name.size()));
    out.insert(out.end(), t.name.begin(), t.name.end());
    put_u32(out, static_cast<uint32_t>(t.dims.size()));
    for (int d : t.dims) put_u32(out, static_cast<uint32_t>(d));
    const size_t at = out.size();
    out.resize(at + t.data.size() * 4);
    std::memcpy(out.data() + at, t.data.data(), t.data.size() * 4);
  }
  put_u32(out, static_cast<uint32_t>(crc32(0L, out.data(), static_cast<uInt>(out.size()))));
  return out;
}

Phi parse_phi(const std::vector<uint8_t>& bytes, const std::string& origin) {
  SPARSE_CHECK(bytes.size() >= 8 && std::memcmp(bytes.data(), "SPHI", 4) == 0,
               origin << ": not a φ file (expected the magic bytes \"SPHI\" at byte offset 0)");
  SPARSE_CHECK(bytes.size() >= 12, origin << ": truncated φ file (" << bytes.size() << " bytes)");
  const size_t body = bytes.size() - 4;
  uint32_t stored = 0;
  for (int k = 0; k < 4; ++k) stored |= static_cast<uint32_t>(bytes[body + static_cast<size_t>(k)]) << (8 * k);
  Reader r(bytes, origin);
  r.str(4, "magic");
  const uint32_t version = r.u32("version");
  SPARSE_CHECK(version >= 1 && version <= kPhiVersion, origin << ": φ file version " << version
                                                              << " at byte offset 4; this engine reads versions 1.."
                                                              << kPhiVersion);
  const uint32_t computed = static_cast<uint32_t>(crc32(0L, bytes.data(), static_cast<uInt>(body)));
  SPARSE_CHECK(stored == computed, origin << ": φ file checksum mismatch (CRC-32 at byte offset " << body << " is "
                                          << stored << ", the contents give " << computed
                                          << "): the file is corrupt or truncated");
  Phi phi;
  const uint32_t method = r.u32("method");
  SPARSE_CHECK(method <= 1, origin << ": φ method " << method << " at byte offset 8: expected 0 (spvd) or 1 (bc)");
  phi.method = method == 0 ? Method::spvd : Method::bc;
  const uint32_t cfg_len = r.u32("config length");
  const std::string cfg = r.str(cfg_len, "the config");
  try {
    phi.config = nlohmann::json::parse(cfg);
  } catch (const std::exception& e) {
    SPARSE_FAIL(origin << ": φ config JSON at byte offset 16 does not parse: " << e.what());
  }
  const uint32_t count = r.u32("tensor count");
  for (uint32_t t = 0; t < count; ++t) {
    PhiTensor pt;
    const uint32_t name_len = r.u32("tensor name length");
    pt.name = r.str(name_len, "tensor name");
    const uint32_t rank = r.u32("tensor rank");
    SPARSE_CHECK(rank <= 8, origin << ": tensor " << pt.name << " has rank " << rank << " at byte offset " << r.pos()
                                   << ", expected <= 8");
    size_t n = 1;
    for (uint32_t d = 0; d < rank; ++d) {
      const uint32_t dim = r.u32("tensor dims");
      pt.dims.push_back(static_cast<int>(dim));
      n *= dim;
    }
    SPARSE_CHECK(n <= (body - r.pos()) / 4, origin << ": tensor " << pt.name << " claims " << n
                                                   << " floats at byte offset " << r.pos() << ", more than the file holds");
    pt.data.resize(n);
    r.floats(pt.data.data(), n, "tensor data");
    phi.tensors.push_back(std::move(pt));
  }
  SPARSE_CHECK(r.pos() == body, origin << ": " << (body - r.pos()) << " unexpected bytes at byte offset " << r.pos());
  return phi;
}

void write_phi(const std::filesystem::path& path, const Phi& phi) {
  const auto bytes = serialize_phi(phi);
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    SPARSE_CHECK(f, path.string() << ": cannot open for writing");
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    SPARSE_CHECK(f.good(), path.string() << ": write failed");
  }
  std::filesystem::rename(tmp, path);
}

Phi read_phi(const std::filesystem::path& path) { return parse_phi(read_file_bytes(path), path.string()); }

Phi phi_of(Network& net) {
  Phi phi;
  phi.method = net.method();
  phi.config = space::to_json(net.config());
  for (auto& p : net.params()) phi.tensors.push_back({p.name, p.dims, p.value.download()});
  return phi;
}

void load_phi(Network& net, const Phi& phi) {
  SPARSE_CHECK(phi.method == net.method(), "φ was trained with " << to_string(phi.method) << ", the network uses "
                                                                  << to_string(net.method()));
  for (auto& p : net.params()) {
    const PhiTensor* t = phi.find(p.name);
    SPARSE_CHECK(t, "φ has no tensor " << p.name);
    SPARSE_CHECK(t->dims == p.dims, "φ tensor " << p.name << " has other dims than the network's");
    p.value.upload(t->data);
  }
}

namespace {

// Copy the overlap of a reference tensor into a new one of the same rank: 4-D conv [KH, KW, Cin, Cout] with
// the kernel centre-aligned, 1-D from index 0. Returns the elements copied.
int64_t copy_overlap(const std::vector<int>& nd, std::vector<float>& dst, const std::vector<int>& rd,
                     const std::vector<float>& src) {
  int64_t copied = 0;
  if (nd.size() == 1) {
    const int n = std::min(nd[0], rd[0]);
    std::copy(src.begin(), src.begin() + n, dst.begin());
    return n;
  }
  if (nd.size() == 4) {
    const int kh = std::min(nd[0], rd[0]), kw = std::min(nd[1], rd[1]);
    const int ci = std::min(nd[2], rd[2]), co = std::min(nd[3], rd[3]);
    const int nh0 = (nd[0] - kh) / 2, rh0 = (rd[0] - kh) / 2, nw0 = (nd[1] - kw) / 2, rw0 = (rd[1] - kw) / 2;
    for (int y = 0; y < kh; ++y)
      for (int x = 0; x < kw; ++x)
        for (int c = 0; c < ci; ++c)
          for (int o = 0; o < co; ++o) {
            const size_t di = ((size_t(nh0 + y) * nd[1] + size_t(nw0 + x)) * nd[2] + size_t(c)) * nd[3] + size_t(o);
            const size_t si = ((size_t(rh0 + y) * rd[1] + size_t(rw0 + x)) * rd[2] + size_t(c)) * rd[3] + size_t(o);
            dst[di] = src[si];
            ++copied;
          }
  }
  return copied;
}

// FC [In, Out] with In = (h, w, c) positions of the input node in each network: rows matched by position.
int64_t copy_fc_overlap(const graph::Shape& nin, int nout, std::vector<float>& dst, const graph::Shape& rin, int rout,
                        const std::vector<float>& src) {
  int64_t copied = 0;
  const int h = std::min(nin.h, rin.h), w = std::min(nin.w, rin.w), c = std::min(nin.c, rin.c), o = std::min(nout, rout);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        const size_t nrow = (size_t(y) * nin.w + size_t(x)) * nin.c + size_t(ch);
        const size_t rrow = (size_t(y) * rin.w + size_t(x)) * rin.c + size_t(ch);
        for (int k = 0; k < o; ++k) {
          dst[nrow * size_t(nout) + size_t(k)] = src[rrow * size_t(rout) + size_t(k)];
          ++copied;
        }
      }
  return copied;
}

}  // namespace

InheritReport inherit_phi(Network& net, const Phi& reference) {
  InheritReport rep;
  const graph::Graph ref_graph = graph::build_graph(space::config_from_json(reference.config));
  const graph::Graph& g = net.graph();
  for (auto& p : net.params()) {
    rep.total += p.count();
    const PhiTensor* t = reference.find(p.name);
    const std::string node = p.name.substr(0, p.name.find('/'));
    const int ni = g.index(node), ri = ref_graph.index(node);
    if (!t || ni < 0 || ri < 0 || g.nodes[size_t(ni)].kind != ref_graph.nodes[size_t(ri)].kind ||
        t->dims.size() != p.dims.size()) {
      ++rep.tensors_fresh;
      continue;
    }
    if (t->dims == p.dims) {
      p.value.upload(t->data);
      rep.inherited += p.count();
      ++rep.tensors_copied;
      continue;
    }
    std::vector<float> cur = p.value.download();
    int64_t copied = 0;
    if (p.dims.size() == 2) {
      const auto& nn_ = g.nodes[size_t(ni)];
      const auto& rn = ref_graph.nodes[size_t(ri)];
      copied = copy_fc_overlap(g.nodes[size_t(nn_.inputs[0])].out, p.dims[1], cur,
                               ref_graph.nodes[size_t(rn.inputs[0])].out, t->dims[1], t->data);
    } else {
      copied = copy_overlap(p.dims, cur, t->dims, t->data);
    }
    p.value.upload(cur);
    rep.inherited += copied;
    ++rep.tensors_sliced;
  }
  return rep;
}

}  // namespace sparse::nn
