#!/usr/bin/env bash
# Regenerates tests/vectors/mosquitto/*.hex: MQTT packets captured from real traffic between
# mosquitto_pub / mosquitto_sub and a private mosquitto broker, for MQTT 3.1, 3.1.1 and 5.0.
#
#   tests/vectors/capture-mosquitto.sh            (needs root, or capture rights on lo, for tshark)
#
# Needs: mosquitto, mosquitto_pub, mosquitto_sub, tshark, python3, timeout
# (../shared/tools/install-peers.sh installs the first four from Debian's packages).
#
# For each protocol level it starts a private broker on a free 127.0.0.1 port (config in a
# temporary directory, no persistence), captures that port on lo with tshark, runs the
# scenarios below, stops everything, then reads every TCP stream's payload in each direction,
# splits it into MQTT packets by the fixed header (type byte + variable byte integer remaining
# length) and writes one packet per line as lowercase hex:
#   mosquitto/<level>-client.hex   bytes sent by the clients
#   mosquitto/<level>-server.hex   bytes sent by the broker
# Each TCP connection's packets are preceded by a "# scenario: ..." comment; connections appear
# in the order the script starts the clients.
# Output is written only when all three levels were captured and checked.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$HERE/mosquitto}"
MOSQUITTO="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
for b in "$MOSQUITTO" mosquitto_pub mosquitto_sub tshark python3 timeout; do
  command -v "$b" >/dev/null 2>&1 || { echo "error: $b not found (see ../shared/tools/install-peers.sh)" >&2; exit 1; }
done

WORK="$(mktemp -d)"
PIDS=()          # every background process this script started (killed by pid on exit)

stop_pid() {     # stop_pid PID [SIGNAL]: signal one process we started, wait at most ~5 s, then KILL
  local pid="$1" sig="${2:-TERM}" i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local p
  for p in ${PIDS[@]+"${PIDS[@]}"}; do stop_pid "$p"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {     # wait_for FILE FIXED-STRING [TENTHS]: bounded wait for a line to appear in a log
  local f="$1" s="$2" n="${3:-100}" i
  for i in $(seq 1 "$n"); do
    grep -qF -- "$s" "$f" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: timed out waiting for '$s' in $f" >&2
  tail -20 "$f" >&2 || true
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------- payload files (deterministic)
python3 - "$WORK" <<'PY'
import sys
d = sys.argv[1]
pat = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
open(d + "/big.bin", "wb").write((pat * 100)[:3000])      # remaining length needs 2 bytes
open(d + "/huge.bin", "wb").write((pat * 300)[:17000])    # remaining length needs 3 bytes
PY

# ---------------------------------------------------------------- the splitter / checker
cat > "$WORK/mqttsplit.py" <<'PY'
"""split <fields.tsv> <broker-port> <labels.tsv> <client.hex> <server.hex> <header-file>
   check <file.hex>...
Splits per-direction TCP byte streams into MQTT packets by the fixed header, or checks that
every non-comment line of a .hex file is exactly one complete MQTT packet."""
import sys

def vbi(buf, j):
    """decode a variable byte integer at buf[j:]; return (value, next index, n bytes)."""
    val, mult = 0, 1
    for k in range(4):
        if j + k >= len(buf):
            raise ValueError("truncated remaining length")
        b = buf[j + k]
        val += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            return val, j + k + 1, k + 1
    raise ValueError("remaining length longer than 4 bytes")

def vbi_len(n):
    return 1 if n < 128 else 2 if n < 16384 else 3 if n < 2097152 else 4

def split(buf):
    pkts, i = [], 0
    while i < len(buf):
        rl, j, nb = vbi(buf, i + 1)
        if nb != vbi_len(rl):
            print("note: non-minimal remaining length encoding in %s" % buf[i:j].hex(), file=sys.stderr)
        end = j + rl
        if end > len(buf):
            raise ValueError("truncated packet at offset %d (type byte %02x, needs %d, has %d)"
                             % (i, buf[i], end - i, len(buf) - i))
        pkts.append(bytes(buf[i:end]))
        i = end
    return pkts

def check_one(pkt):
    if len(pkt) < 2:
        raise ValueError("too short")
    rl, j, _ = vbi(pkt, 1)
    if j + rl != len(pkt):
        raise ValueError("remaining length %d does not match line (%d bytes after header)" % (rl, len(pkt) - j))
    if pkt[0] >> 4 == 0:
        raise ValueError("reserved packet type 0")

def client_id(pkt):
    """client identifier of a CONNECT packet, else None."""
    try:
        if pkt[0] >> 4 != 1:
            return None
        _, i, _ = vbi(pkt, 1)
        n = int.from_bytes(pkt[i:i + 2], "big"); i += 2 + n
        level = pkt[i]; i += 4                       # level, flags, keep alive
        if level == 5:
            plen, i, _ = vbi(pkt, i); i += plen
        n = int.from_bytes(pkt[i:i + 2], "big")
        return pkt[i + 2:i + 2 + n].decode("utf-8")
    except (IndexError, ValueError, UnicodeDecodeError):
        return None

def do_split(fields, port, labels_path, out_client, out_server, header_path):
    port = str(port)
    streams = {}            # stream -> {"c": bytearray, "s": bytearray}
    for line in open(fields):
        parts = line.rstrip("\n").split("\t")
        if len(parts) < 3 or not parts[2]:
            continue
        st, src, payload = int(parts[0]), parts[1], parts[2].replace(":", "")
        d = streams.setdefault(st, {"c": bytearray(), "s": bytearray()})
        d["s" if src == port else "c"] += bytes.fromhex(payload)
    labels = {}
    for line in open(labels_path):
        if line.strip():
            cid, desc = line.rstrip("\n").split("\t", 1)
            labels[cid] = desc
    header = open(header_path).read()
    outs = {"c": [header.replace("@DIR@", "clients")], "s": [header.replace("@DIR@", "broker")]}
    order = list(labels)    # groups follow the order the script ran the clients in
    groups = []
    for st in sorted(streams):
        d = streams[st]
        pk = {k: split(d[k]) for k in "cs"}
        cid = client_id(pk["c"][0]) if pk["c"] else None
        if cid is None or cid not in labels:
            raise SystemExit("error: TCP stream %d has no known client id (%r)" % (st, cid))
        groups.append((order.index(cid), st, cid, pk))
    seen = set()
    for _, st, cid, pk in sorted(groups, key=lambda g: g[:2]):
        seen.add(cid)
        for k in "cs":
            if pk[k]:
                outs[k].append("# scenario: %s [client id %s]\n" % (labels[cid], cid))
                outs[k].extend(p.hex() + "\n" for p in pk[k])
    missing = set(labels) - seen
    if missing:
        raise SystemExit("error: no TCP stream for client ids %s" % sorted(missing))
    open(out_client, "w").write("".join(outs["c"]))
    open(out_server, "w").write("".join(outs["s"]))

def do_check(paths):
    bad = 0
    for path in paths:
        for n, line in enumerate(open(path), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                if line != line.lower():
                    raise ValueError("not lowercase")
                check_one(bytes.fromhex(line))
            except ValueError as e:
                print("%s:%d: %s" % (path, n, e), file=sys.stderr)
                bad += 1
    if bad:
        raise SystemExit("error: %d bad lines" % bad)

if __name__ == "__main__":
    if sys.argv[1] == "split":
        do_split(*sys.argv[2:8])
    elif sys.argv[1] == "check":
        do_check(sys.argv[2:])
    else:
        raise SystemExit(__doc__)
PY

MOSQ_VERSION="$("$MOSQUITTO" -h 2>/dev/null | head -1 || true)"
CLIENT_VERSION="$(mosquitto_pub --help 2>/dev/null | sed -n 2p || true)"
TSHARK_VERSION="$(tshark --version 2>/dev/null | head -1 || true)"
TODAY="$(date -u +%Y-%m-%d)"

# ---------------------------------------------------------------- per-level state and helpers
LV=""; VER=""; PORT=""; BLOG=""; LABELS=""

label() { printf '%s\t%s\n' "$1" "$2" >> "$LABELS"; }

pub() {          # pub ID DESCRIPTION ARGS...  (must succeed)
  local id="$LV-$1" desc="$2"; shift 2
  label "$id" "$desc"
  timeout 20 mosquitto_pub -h 127.0.0.1 -p "$PORT" -V "$VER" -i "$id" "$@"
}

pub_any() {      # pub_any ID DESCRIPTION ARGS...  (expected to be refused / disconnected)
  local id="$LV-$1" desc="$2" rc=0; shift 2
  label "$id" "$desc"
  timeout 20 mosquitto_pub -h 127.0.0.1 -p "$PORT" -V "$VER" -i "$id" --quiet "$@" || rc=$?
  [ "$rc" -ne 124 ] || { echo "error: mosquitto_pub $id hung" >&2; return 1; }
}

SUB_PID=""
sub_bg() {       # sub_bg ID DESCRIPTION ARGS...  (background subscriber; sets SUB_PID)
  local id="$LV-$1" desc="$2"; shift 2
  label "$id" "$desc"
  timeout 60 mosquitto_sub -h 127.0.0.1 -p "$PORT" -V "$VER" -i "$id" "$@" > "$WORK/$id.out" 2>&1 &
  SUB_PID=$!; PIDS+=("$SUB_PID")
}

wait_sub() {     # wait_sub PID ID EXPECTED-RC...
  local pid="$1" id="$2" rc=0 ok; shift 2
  wait "$pid" || rc=$?
  for ok in "$@"; do [ "$rc" -eq "$ok" ] && return 0; done
  echo "error: mosquitto_sub $id exited with $rc (expected $*)" >&2
  cat "$WORK/$id.out" >&2 || true
  return 1
}

run_level() {
  LV="$1"; VER="$2"
  local v5=0; [ "$VER" = mqttv5 ] && v5=1
  PORT="$(free_port)"
  BLOG="$WORK/$LV-broker.log"; LABELS="$WORK/$LV-labels.tsv"; : > "$LABELS"
  local pcap="$WORK/$LV.pcapng" conf="$WORK/$LV-mosquitto.conf"
  cat > "$conf" <<EOF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
max_keepalive 300
max_packet_size 100000
log_dest stderr
log_type all
EOF
  "$MOSQUITTO" -c "$conf" 2> "$BLOG" &
  local broker=$!; PIDS+=("$broker")
  wait_for "$BLOG" " running"

  tshark -i lo -f "tcp port $PORT" -w "$pcap" > "$WORK/$LV-tshark.log" 2>&1 &
  local cap=$!; PIDS+=("$cap")
  wait_for "$WORK/$LV-tshark.log" "Capturing on"
  sleep 0.5

  # -- keepalive / ping: idles past its 5 s keep alive, then the -W timeout ends it (rc 27)
  local extra=()
  sub_bg ping "subscriber, keep alive 5 s, idles 7 s (PINGREQ/PINGRESP), then quits on -W timeout" \
    -k 5 -q 1 -t 'vping/#' -W 7
  local ping_pid=$SUB_PID

  # -- retained messages stored before anyone subscribes
  pub ret0 "publisher, QoS 0 retained" -q 0 -r -t vr/r0 -m retained-q0
  pub ret1 "publisher, QoS 1 retained" -q 1 -r -t vr/r1 -m retained-q1
  pub ret2 "publisher, QoS 2 retained" -q 2 -r -t vr/r2 -m retained-q2

  # -- the main subscriber: QoS 2, several filters with + and #, one of them unsubscribed again
  local n_main=17
  extra=()
  if [ $v5 = 1 ]; then
    n_main=20
    extra=(--retain-as-published
      -D subscribe user-property sk sv -D subscribe subscription-identifier 7
      -D unsubscribe user-property uk uv
      -D connect receive-maximum 10 -D connect maximum-packet-size 1048576
      -D connect user-property ck cv -D connect request-problem-information 1
      -D disconnect user-property dk dv)
  fi
  sub_bg main "subscriber, QoS 2, filters with + and # wildcards, unsubscribes vu/#, quits after $n_main messages (-C)$([ $v5 = 1 ] && echo ', v5 subscription options (retain as published), subscription identifier, user properties on CONNECT/SUBSCRIBE/UNSUBSCRIBE/DISCONNECT')" \
    -q 2 -k 30 -t 'vq/#' -t 'vp/+/x' -t 'vr/+' -t 'vu/#' -U 'vu/#' -C "$n_main" -W 50 -v ${extra[@]+"${extra[@]}"}
  local main_pid=$SUB_PID
  wait_for "$BLOG" "Received SUBSCRIBE from $LV-main"
  wait_for "$BLOG" "Received UNSUBSCRIBE from $LV-main"

  # -- publishers (each delivered to the main subscriber unless noted)
  pub q0 "publisher, QoS 0" -q 0 -t vq/0 -m hello-q0
  pub q1 "publisher, QoS 1" -q 1 -t vq/1/deep -m hello-q1
  pub q2 "publisher, QoS 2" -q 2 -t vq/2 -m hello-q2
  pub plus "publisher, QoS 1, topic matched by a + filter" -q 1 -t vp/abc/x -m plus-wildcard
  pub empty "publisher, QoS 1, empty payload (-n)" -q 1 -t vq/empty -n
  pub live "publisher, QoS 2 retained, delivered live" -q 2 -r -t vr/live -m retained-live
  pub big "publisher, QoS 2, 3000-byte payload (2-byte remaining length)" -q 2 -t vq/big -f "$WORK/big.bin"
  pub huge "publisher, QoS 1, 17000-byte payload (3-byte remaining length)" -q 1 -t vq/huge -f "$WORK/huge.bin"
  pub creds "publisher, QoS 1, username + password, will (QoS 1, retained) not triggered" \
    -q 1 -t vq/creds -m with-credentials -u alice -P s3cret \
    --will-topic vw/never --will-payload unused --will-qos 1 --will-retain
  pub user "publisher, QoS 0, username without password" -q 0 -t vq/user -m user-only -u bob
  pub repeat "publisher, QoS 1, three messages on one connection (--repeat 3)" -q 1 -t vq/rep -m repeated --repeat 3
  pub unsub "publisher, QoS 1, topic the subscriber unsubscribed (not delivered)" -q 1 -t vu/x -m nobody-listens
  pub ka600 "publisher, QoS 0, keep alive 600 s (broker max_keepalive is 300)" -q 0 -t vz/ka -m long-keepalive -k 600
  if [ $v5 = 1 ]; then
    pub props "publisher, QoS 1, PUBLISH properties (content type, user properties incl. a repeated key, message expiry, payload format, response topic, correlation data)" \
      -q 1 -t vq/props -m '{"k":1}' \
      -D publish content-type application/json \
      -D publish user-property a b -D publish user-property a c -D publish user-property x y \
      -D publish message-expiry-interval 3600 -D publish payload-format-indicator 1 \
      -D publish response-topic vq/reply -D publish correlation-data corr-123
    pub cprops "publisher, QoS 2, CONNECT properties (session expiry, receive maximum, maximum packet size, user property, problem/response information, topic alias maximum), DISCONNECT properties" \
      -q 2 -t vq/cprops -m connect-props \
      -D connect session-expiry-interval 30 -D connect receive-maximum 5 \
      -D connect maximum-packet-size 65536 -D connect user-property ck cv \
      -D connect request-problem-information 0 -D connect request-response-information 1 \
      -D connect topic-alias-maximum 4 \
      -D disconnect session-expiry-interval 0 -D disconnect user-property dk dv
    pub alias "publisher, QoS 0, topic alias 1 set together with the topic name" \
      -q 0 -t vq/alias -m via-alias -D publish topic-alias 1
    pub_any badalias "publisher, topic alias 20 above the broker's maximum (broker sends DISCONNECT 0x94)" \
      -q 0 -t vz/alias -m bad-alias -D publish topic-alias 20
    pub_any badauth "publisher, unsupported authentication method (broker refuses: CONNACK 0x8c)" \
      -q 0 -t vz/auth -m refused -D connect authentication-method SCRAM-SHA-256 -D connect authentication-data client-first
  fi
  pub q0last "publisher, QoS 0, last message for the main subscriber" -q 0 -t vq/last -m last
  wait_sub "$main_pid" "$LV-main" 0
  [ "$(tail -1 "$WORK/$LV-main.out")" = "vq/last last" ] || {
    echo "error: $LV-main did not end with the last message" >&2; tail -3 "$WORK/$LV-main.out" >&2; return 1; }

  # -- will: a watcher subscribes, a client with a will is killed (-9), the broker publishes the will
  extra=()
  [ $v5 = 1 ] && extra=(-D will will-delay-interval 1 -D will content-type text/plain
    -D will payload-format-indicator 1 -D will message-expiry-interval 120
    -D will response-topic vw/resp -D will correlation-data will-corr -D will user-property wk wv)
  sub_bg willw "subscriber, QoS 2 on vw/#, waits for one will message" -q 2 -t 'vw/#' -C 1 -W 20
  local willw_pid=$SUB_PID
  wait_for "$BLOG" "Received SUBSCRIBE from $LV-willw"
  label "$LV-will" "client with a will (QoS 2, retained$([ $v5 = 1 ] && echo ', will properties incl. will delay 1 s')), killed with SIGKILL so the broker publishes the will"
  mosquitto_sub -h 127.0.0.1 -p "$PORT" -V "$VER" -i "$LV-will" -q 1 -t vx/none -k 30 \
    --will-topic vw/gone --will-payload client-vanished --will-qos 2 --will-retain \
    ${extra[@]+"${extra[@]}"} > "$WORK/$LV-will.out" 2>&1 &
  local will_pid=$!; PIDS+=("$will_pid")
  wait_for "$BLOG" "Received SUBSCRIBE from $LV-will"
  sleep 0.3
  kill -KILL "$will_pid"; wait "$will_pid" 2>/dev/null || true
  wait_sub "$willw_pid" "$LV-willw" 0

  # -- clear two retained messages (retained PUBLISH with empty payload)
  pub clear1 "publisher, QoS 1 retained empty payload (clears the retained message)" -q 1 -r -n -t vr/r1
  pub clear2 "publisher, QoS 0 retained empty payload (clears the retained will)" -q 0 -r -n -t vw/gone

  wait_sub "$ping_pid" "$LV-ping" 27      # 27 = mosquitto_sub's -W timeout

  sleep 0.5
  stop_pid "$cap" INT
  stop_pid "$broker" TERM

  # -- extract each TCP stream's payload per direction, split into packets
  local bad
  bad="$(tshark -r "$pcap" -n -Y 'tcp.analysis.retransmission or tcp.analysis.out_of_order or tcp.analysis.lost_segment' -T fields -e frame.number 2>/dev/null | wc -l)"
  [ "$bad" -eq 0 ] || { echo "error: $LV capture has $bad retransmitted/out-of-order/lost segments; run again" >&2; return 1; }
  tshark -r "$pcap" -n -Y "tcp.len > 0 and ip.src == 127.0.0.1 and ip.dst == 127.0.0.1" \
    -T fields -E separator=/t -e tcp.stream -e tcp.srcport -e tcp.payload > "$WORK/$LV-fields.tsv" 2>/dev/null
  local level_name
  case "$LV" in v31) level_name="MQTT 3.1 (protocol level 3)";; v311) level_name="MQTT 3.1.1 (protocol level 4)";; v5) level_name="MQTT 5.0 (protocol level 5)";; esac
  cat > "$WORK/$LV-header.txt" <<EOF
# $level_name packets sent by the @DIR@, captured from real loopback traffic.
# Produced by tests/vectors/capture-mosquitto.sh on $TODAY (UTC).
# Broker: $MOSQ_VERSION
# Clients: $CLIENT_VERSION
# Capture: $TSHARK_VERSION
# Format: one complete MQTT packet per line, lowercase hex; lines starting with '#' are comments.
# Packets of each TCP connection are grouped under a "# scenario:" line, in the order sent.
EOF
  mkdir -p "$WORK/out"
  python3 "$WORK/mqttsplit.py" split "$WORK/$LV-fields.tsv" "$PORT" "$LABELS" \
    "$WORK/out/$LV-client.hex" "$WORK/out/$LV-server.hex" "$WORK/$LV-header.txt"
  python3 "$WORK/mqttsplit.py" check "$WORK/out/$LV-client.hex" "$WORK/out/$LV-server.hex"
  echo "$LV: $(grep -vc '^#' "$WORK/out/$LV-client.hex") client packets, $(grep -vc '^#' "$WORK/out/$LV-server.hex") server packets"
}

run_level v31 mqttv31
run_level v311 mqttv311
run_level v5 mqttv5

mkdir -p "$OUT"
cp "$WORK"/out/*.hex "$OUT"/
echo "wrote $(ls "$WORK"/out | sed "s#^#$OUT/#" | tr '\n' ' ')"
