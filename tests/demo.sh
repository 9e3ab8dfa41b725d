#!/usr/bin/env bash
# The end-to-end scenario `./dev demo` runs: a store in a temp directory,
# driven by the shiplog tool, narrating what it does.
set -euo pipefail

SHIPLOG=${1:?usage: demo.sh PATH/TO/shiplog}
STORE=$(mktemp -d "${TMPDIR:-/tmp}/shiplog-demo.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$STORE"
}
trap cleanup EXIT

# start_server NAME ARGS...: runs `shiplog ARGS` in the background, its
# output in $STORE/NAME.out; with a "listening on" line expected, waits for
# it (10 s at most) and sets PORT.
start_server() {
  local name=$1
  shift
  "$SHIPLOG" "$@" >"$STORE/$name.out" 2>"$STORE/$name.err" &
  PIDS+=($!)
  LAST_PID=$!
}
wait_listening() {
  local name=$1
  for _ in $(seq 100); do
    PORT=$(sed -n 's/^shiplog serve: listening on 127.0.0.1:\([0-9]*\)$/\1/p' \
      "$STORE/$name.out")
    [[ -n $PORT ]] && return 0
    sleep 0.1
  done
  echo "demo: $name did not start:" >&2
  cat "$STORE/$name.err" >&2
  exit 1
}
# end_offset LOG_DIR: the next offset of a log, from its segment dump.
end_offset() {
  "$SHIPLOG" dump "$1" | awk '
    { for (i = 1; i < NF; i++) if ($i == "lastOffset:") last = $(i + 1) }
    END { print (last == "" ? 0 : last + 1) }'
}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; }

step "1. Produce 200,000 click events (key:value lines) into log clicks-0"
show "seq 1 200000 | sed ... | shiplog produce STORE clicks-0 --key-separator : --segment-bytes 1048576 --verbose"
start=$(date +%s%N)
seq 1 200000 | sed 's/^\(.*\)$/user-\1:clicked button \1/' |
  "$SHIPLOG" produce "$STORE" clicks-0 --key-separator : \
    --segment-bytes 1048576 --verbose
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
segments=$(ls "$STORE"/clicks-0/*.log | wc -l)
bytes=$(du -sb "$STORE"/clicks-0 | cut -f1)
echo "took ${elapsed_ms} ms; ${segments} segments, ${bytes} bytes on disk"

step "2. Consume the last three records, with offsets, keys and timestamps"
show "shiplog consume STORE clicks-0 --offset 199997 --format '%o %t %k => %v\n'"
"$SHIPLOG" consume "$STORE" clicks-0 --offset 199997 --format '%o %t %k => %v\n'

step "3. Any offset is an index lookup away: offset 123456, read from the middle"
show "shiplog consume STORE clicks-0 --offset 123456 --count 2 --format '%o %k => %v\n'"
"$SHIPLOG" consume "$STORE" clicks-0 --offset 123456 --count 2 \
  --format '%o %k => %v\n'

step "4. And by time: the first record at or after a timestamp (time index)"
timestamp=$("$SHIPLOG" consume "$STORE" clicks-0 --offset 150000 --count 1 --format '%t')
show "shiplog consume STORE clicks-0 --time $timestamp --count 1 --format '%o %t\n'"
"$SHIPLOG" consume "$STORE" clicks-0 --time "$timestamp" --count 1 \
  --format '%o %t\n'

step "5. The same events zstd-compressed, batch by batch"
seq 1 200000 | sed 's/^\(.*\)$/user-\1:clicked button \1/' |
  "$SHIPLOG" produce "$STORE" clicks-zstd-0 --key-separator : --compression zstd
zstd_bytes=$(du -sb "$STORE"/clicks-zstd-0 | cut -f1)
echo "uncompressed log ${bytes} bytes, zstd log ${zstd_bytes} bytes"
"$SHIPLOG" consume "$STORE" clicks-zstd-0 --offset 199999 --format '%o %k => %v\n'

step "6. Every batch's CRC-32C and every index entry checked against its batch"
show "shiplog dump STORE/clicks-0 --verify | tail -1"
"$SHIPLOG" dump "$STORE/clicks-0" --verify | tail -n 1

step "7. Crash: kill -9 a producer that prints each offset once it is fsync'd"
offsets="$STORE/printed-offsets"
show "seq 1 100000000 | shiplog produce STORE orders-0 --flush-messages 500 --print-offsets > printed-offsets &"
seq 1 100000000 | sed 's/^/order-/' |
  "$SHIPLOG" produce "$STORE" orders-0 --flush-messages 500 --print-offsets \
    >"$offsets" &
producer=$!
# Let it get going: wait (bounded) until it has acknowledged 20,000 records.
for _ in $(seq 1 600); do
  [[ $(wc -l <"$offsets") -ge 20000 ]] && break
  sleep 0.05
done
kill -KILL "$producer"  # $! of a pipeline is its last command: shiplog
wait "$producer" 2>/dev/null || true
acknowledged=$(wc -l <"$offsets")
last=$(tail -n 1 "$offsets")
echo "killed it; it had acknowledged ${acknowledged} offsets, the last one ${last}"
active=$(ls "$STORE"/orders-0/*.log | tail -n 1)
echo "and to be cruel: 300 random bytes after the last batch of $(basename "$active"), as a torn write leaves"
head -c 300 /dev/urandom >>"$active"
show "shiplog dump STORE/orders-0 --verify"
"$SHIPLOG" dump "$STORE/orders-0" --verify | grep PROBLEM || true

step "8. Reopen: recovery cuts the torn tail; every acknowledged record is there"
show "echo after-the-crash | shiplog produce STORE orders-0 --verbose --print-offsets"
echo after-the-crash |
  "$SHIPLOG" produce "$STORE" orders-0 --verbose --print-offsets
show "shiplog consume STORE orders-0 --offset $last --count 1"
"$SHIPLOG" consume "$STORE" orders-0 --offset "$last" --count 1 \
  --format 'offset %o holds %v (expected order-'$((last + 1))')\n'
"$SHIPLOG" dump "$STORE/orders-0" --verify | tail -n 1

step "9. Speak Kafka: shiplog serve, then kcat produces 10,000 messages (zstd)"
start_server leader serve "$STORE/broker" --listen 127.0.0.1:0
LEADER_PID=$LAST_PID
wait_listening leader
LEADER_PORT=$PORT
show "shiplog serve STORE/broker --listen 127.0.0.1:0   # on port $LEADER_PORT"
show "seq 1 10000 | sed 's/^/user/; s/$/:clicked/' | kcat -P -b 127.0.0.1:$LEADER_PORT -t clicks -K: -z zstd"
seq 1 10000 | sed 's/^/user/; s/$/:clicked/' |
  kcat -P -b "127.0.0.1:$LEADER_PORT" -t clicks -K: -z zstd
show "kcat -C -b 127.0.0.1:$LEADER_PORT -t clicks -o -3 -e -f '%o %k=%s\\n'"
kcat -C -b "127.0.0.1:$LEADER_PORT" -t clicks -o -3 -e -q -f '%o %k=%s\n'
echo "the topic is log clicks-0 of the store: $(end_offset "$STORE/broker/clicks-0") records"

step "10. Replicate: a follower fetches as a replica and holds the same bytes"
start_server follower replicate "$STORE/follower" --from "127.0.0.1:$LEADER_PORT"
FOLLOWER_PID=$LAST_PID
show "shiplog replicate STORE/follower --from 127.0.0.1:$LEADER_PORT"
for _ in $(seq 100); do
  [[ -d $STORE/follower/clicks-0 ]] &&
    [[ $(end_offset "$STORE/follower/clicks-0") == 10000 ]] && break
  sleep 0.1
done
kill "$FOLLOWER_PID"
wait "$FOLLOWER_PID" || true
show "cmp STORE/broker/clicks-0/*.log STORE/follower/clicks-0/*.log"
cmp "$STORE"/broker/clicks-0/00000000000000000000.log \
  "$STORE"/follower/clicks-0/00000000000000000000.log &&
  echo "byte-identical: $(stat -c %s "$STORE"/follower/clicks-0/00000000000000000000.log) bytes"
start_server follower-serve serve "$STORE/follower" --listen 127.0.0.1:0
wait_listening follower-serve
show "kcat -C -b 127.0.0.1:$PORT -t clicks -o 4999 -c 2   # from the follower"
kcat -C -b "127.0.0.1:$PORT" -t clicks -o 4999 -c 2 -q -f '%o %k=%s\n'

step "11. The article's comparison, live: copy vs mmap + write vs sendfile"
show "shiplog bench --size 16MiB --repetitions 3"
"$SHIPLOG" bench --size 16MiB --repetitions 3

step "Done"
echo "store was ${STORE} (removed on exit)"
