// zstd compression of a batch's records section (attributes codec 4).
//
// Kafka's zstd batches hold one or more standard zstd frames, produced by
// streaming compressors that may omit the content size, so decompression
// streams and never trusts a declared size.
//
// Thread-safety: pure functions (contexts are per call).
#ifndef SHIPLOG_ENGINE_FORMAT_ZSTD_CODEC_H_
#define SHIPLOG_ENGINE_FORMAT_ZSTD_CODEC_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shiplog {

// Appends the zstd compression of `input` to `*out`. kInvalidArgument for a
// level outside zstd's range; kInternal if zstd fails.
absl::Status ZstdCompress(absl::string_view input, int level, std::string* out);

// Appends the decompression of `input` to `*out`. kDataLoss for corrupt or
// truncated input, or output beyond `max_output_bytes`.
absl::Status ZstdDecompress(absl::string_view input, size_t max_output_bytes,
                            std::string* out);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_ZSTD_CODEC_H_
