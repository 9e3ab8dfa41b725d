#include "engine/format/zstd_codec.h"

#include <zstd.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"

namespace shiplog {
namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* cctx) const { ZSTD_freeCCtx(cctx); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* dctx) const { ZSTD_freeDCtx(dctx); }
};

// The output grows by doubling from here: small batches stay cheap, large
// ones take a logarithmic number of resizes.
constexpr size_t kInitialOutputBytes = size_t{64} << 10;

// The size of the output buffer for the next decompression step: double
// what is written so far, but never past one byte over the cap (that byte
// is how an oversized stream is noticed).
size_t NextOutputSize(size_t written, size_t max_output_bytes) {
  const size_t limit = max_output_bytes == std::numeric_limits<size_t>::max()
                           ? max_output_bytes
                           : max_output_bytes + 1;
  const size_t wanted = std::max(kInitialOutputBytes, written * 2);
  return std::min(wanted, limit);
}

absl::Status ExceedsCap(size_t max_output_bytes) {
  return absl::DataLossError(
      absl::StrCat("decompressed size exceeds ", max_output_bytes, " bytes"));
}

}  // namespace

absl::Status ZstdCompress(absl::string_view input, int level,
                          std::string* out) {
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    return absl::InvalidArgumentError(
        absl::StrCat("zstd level ", level, " is outside [", ZSTD_minCLevel(),
                     ", ", ZSTD_maxCLevel(), "]"));
  }
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  if (cctx == nullptr) return absl::InternalError("ZSTD_createCCtx failed");
  const size_t old_size = out->size();
  const size_t bound = ZSTD_compressBound(input.size());
  out->resize(old_size + bound);
  const size_t written =
      ZSTD_compressCCtx(cctx.get(), out->data() + old_size, bound, input.data(),
                        input.size(), level);
  if (ZSTD_isError(written)) {
    out->resize(old_size);
    return absl::InternalError(
        absl::StrCat("zstd compression failed: ", ZSTD_getErrorName(written)));
  }
  out->resize(old_size + written);
  return absl::OkStatus();
}

absl::Status ZstdDecompress(absl::string_view input, size_t max_output_bytes,
                            std::string* out) {
  // A zstd stream is one or more frames; zero bytes is not a stream.
  if (input.empty()) return absl::DataLossError("empty zstd input");
  std::unique_ptr<ZSTD_DCtx, DCtxDeleter> dctx(ZSTD_createDCtx());
  if (dctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");

  const size_t old_size = out->size();
  size_t written = 0;
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  absl::Status status;
  while (true) {
    if (written == out->size() - old_size) {
      if (written > max_output_bytes) {
        status = ExceedsCap(max_output_bytes);
        break;
      }
      out->resize(old_size + NextOutputSize(written, max_output_bytes));
    }
    ZSTD_outBuffer buffer{out->data() + old_size, out->size() - old_size,
                          written};
    // Returns 0 once a frame is decoded and flushed; the context then starts
    // on the next frame, if the input holds one.
    const size_t result = ZSTD_decompressStream(dctx.get(), &buffer, &in);
    written = buffer.pos;
    if (ZSTD_isError(result)) {
      status = absl::DataLossError(
          absl::StrCat("corrupt zstd data: ", ZSTD_getErrorName(result)));
      break;
    }
    if (written > max_output_bytes) {
      status = ExceedsCap(max_output_bytes);
      break;
    }
    const bool input_consumed = in.pos == in.size;
    if (input_consumed && result == 0) break;
    // Room left in the output with no input left: the frame wants bytes
    // the input does not have.
    if (input_consumed && buffer.pos < buffer.size) {
      status = absl::DataLossError("truncated zstd data");
      break;
    }
  }
  out->resize(status.ok() ? old_size + written : old_size);
  return status;
}

}  // namespace shiplog
