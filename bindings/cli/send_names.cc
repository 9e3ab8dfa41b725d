#include "bindings/cli/send_names.h"

#include <cstddef>
#include <iterator>
#include <utility>

namespace shiplog::cli {
namespace {

constexpr std::pair<shiplog_send_policy, absl::string_view> kPolicyNames[] = {
    {SHIPLOG_SEND_AUTO, "auto"},
    {SHIPLOG_SEND_SENDFILE, "sendfile"},
    {SHIPLOG_SEND_MMAP_WRITE, "mmap_write"},
    {SHIPLOG_SEND_COPY, "copy"},
};

}  // namespace

absl::string_view SendPolicyName(shiplog_send_policy policy) {
  for (const auto& [known, name] : kPolicyNames) {
    if (known == policy) return name;
  }
  return "unknown";
}

std::optional<shiplog_send_policy> ParseSendPolicy(absl::string_view name) {
  for (const auto& [policy, known] : kPolicyNames) {
    if (known == name) return policy;
  }
  return std::nullopt;
}

absl::string_view SendPathName(shiplog_send_path path) {
  // Indexed by shiplog_send_path, whose values number the paths from 0.
  static constexpr absl::string_view kPathNames[] = {
      "sendfile", "splice", "mmap_write", "copy", "direct_read"};
  const auto index = static_cast<size_t>(path);
  return index < std::size(kPathNames) ? kPathNames[index] : "unknown";
}

}  // namespace shiplog::cli
