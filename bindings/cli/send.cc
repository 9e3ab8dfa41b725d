// `shiplog send DIR LOG --to HOST:PORT`: ships a range of a log, its bytes
// exactly as stored (Kafka RecordBatch v2), to a TCP peer by the
// library's send paths (shiplog_log_send; engine/transport/TRANSPORT.md).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/send_names.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/stdout_buffer.h"
#include "bindings/cli/tcp_connect.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

constexpr int64_t kConnectTimeoutMs = 10'000;

struct SendCommandOptions {
  std::string directory;
  std::string log_name;
  HostPort to;
  std::optional<int64_t> offset;
  std::optional<uint64_t> max_bytes;
  shiplog_send_policy policy = SHIPLOG_SEND_AUTO;
  uint64_t cold_read_lag_bytes = 0;
};

absl::StatusOr<SendCommandOptions> ParseOptions(const ParsedFlags& flags) {
  SendCommandOptions options;
  options.directory = flags.positional(0);
  options.log_name = flags.positional(1);
  RETURN_IF_ERROR(CheckLogName(options.log_name));
  const std::optional<std::string> to = flags.GetString("to");
  if (!to) {
    return absl::InvalidArgumentError(
        "--to: required (HOST:PORT, as in 127.0.0.1:9000 or [::1]:9000)");
  }
  absl::StatusOr<HostPort> address = ParseHostPort(*to);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--to: ", address.status().message()));
  }
  options.to = *std::move(address);
  ASSIGN_OR_RETURN(options.offset, flags.GetInt("offset", 0));
  ASSIGN_OR_RETURN(options.max_bytes, flags.GetByteCount("max-bytes", 1));
  ASSIGN_OR_RETURN(
      const std::optional<std::string> policy,
      flags.GetChoice("policy", {"auto", "sendfile", "mmap_write", "copy"}));
  if (policy) options.policy = *ParseSendPolicy(*policy);
  ASSIGN_OR_RETURN(const std::optional<uint64_t> cold_read_lag,
                   flags.GetByteCount("cold-read-lag", 0));
  options.cold_read_lag_bytes = cold_read_lag.value_or(0);
  return options;
}

// "sendfile 67108864" or "mmap_write 4096, copy 100": the paths that moved
// bytes.
std::string BytesByPath(const uint64_t (&bytes_by_path)[kSendPaths.size()]) {
  std::vector<std::string> parts;
  for (const shiplog_send_path path : kSendPaths) {
    if (bytes_by_path[path] > 0) {
      parts.push_back(
          absl::StrCat(SendPathName(path), " ", bytes_by_path[path]));
    }
  }
  return absl::StrJoin(parts, ", ");
}

absl::Status Send(const SendCommandOptions& options) {
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/true));
  ASSIGN_OR_RETURN(const Owned<shiplog_log> log,
                   OpenExistingLog(store.get(), options.log_name));
  int64_t offset = 0;
  if (options.offset) {
    offset = *options.offset;
  } else {
    RETURN_IF_ERROR(AbiStatus(shiplog_log_start_offset(&offset, log.get())));
  }
  // Checked before anything connects: an offset outside the log is
  // refused first. (The send resolves the range again, from the batch
  // holding `offset`.)
  RETURN_IF_ERROR(Open(shiplog_log_read, log.get(), offset, 1).status());
  ASSIGN_OR_RETURN(ScopedFd socket, ConnectTcp(options.to, kConnectTimeoutMs));
  shiplog_send_options send_options = SHIPLOG_SEND_OPTIONS_INIT;
  send_options.policy = options.policy;
  send_options.cold_read_lag_bytes = options.cold_read_lag_bytes;
  shiplog_send_result sent;
  RETURN_IF_ERROR(AbiStatus(shiplog_log_send(
      &sent, log.get(), offset, options.max_bytes.value_or(UINT64_MAX),
      socket.get(), &send_options)));
  const std::string peer = FormatHostPort(options.to);
  StdoutBuffer out;
  if (sent.bytes_sent == 0) {
    absl::StrAppend(out.buffer(), "sent 0 bytes to ", peer, ": offset ", offset,
                    " is the end of log ", options.log_name, "\n");
  } else {
    absl::StrAppend(out.buffer(), "sent ", sent.bytes_sent, " bytes (offsets ",
                    sent.first_offset, "..", sent.next_offset - 1, ") to ",
                    peer, ": ", BytesByPath(sent.bytes_by_path), "\n");
  }
  return out.Flush();
}

}  // namespace

const CommandSpec& SendSpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "send",
      .positionals = {"DIR", "LOG"},
      .summary = "ship a range of a log to a TCP peer, zero-copy",
      .description =
          "Connects to HOST:PORT (IPv4 or IPv6; a name is resolved, and "
          "each of its\naddresses tried within 10 s) and sends the bytes of "
          "log LOG of the store in\nDIR exactly as stored: whole Kafka "
          "RecordBatch v2 batches, from the batch\nholding --offset, the "
          "first one whole even if larger than --max-bytes, later\nones "
          "while they fit. Then closes the connection and prints the bytes "
          "sent, the\noffsets they hold and the path that moved them. The "
          "store is opened\nread-only, so this works while a producer "
          "writes it.\n\n"
          "Policies (engine/transport/TRANSPORT.md): sendfile (page cache to "
          "socket),\nmmap_write (write from the segment's mapping), copy "
          "(pread into a buffer, then\nwrite: the traditional path), auto "
          "(mmap_write below a threshold the library\npicks for the "
          "destination, sendfile from there up).\n",
      .flags = {
          {"to", "HOST:PORT",
           "where to send (required): 127.0.0.1:9000, [::1]:9000, "
           "host:9000"},
          {"offset", "N",
           "start at the batch holding offset N (default: "
           "the log's start)"},
          {"max-bytes", "B",
           "send at most B bytes, e.g. 1048576 or 1MiB (default: the rest of "
           "the log)"},
          {"policy", "auto|sendfile|mmap_write|copy",
           "how to move the bytes (default auto)"},
          {"cold-read-lag", "B",
           "read the part of the range more than B bytes behind the log's "
           "end with O_DIRECT, bypassing the page cache (default 0: off)"},
      }};
  return *spec;
}

int RunSend(const ParsedFlags& flags) {
  return RunCommand("send", ParseOptions(flags), Send);
}

}  // namespace shiplog::cli
