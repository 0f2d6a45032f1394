# Sourced by the test scripts: `listening_on NAME OUT ERR` waits up to 10 s for the
# "listening on ADDR" line a server started in the background prints to OUT, and prints ADDR;
# if none comes, it shows ERR and fails, naming the server.
listening_on() {
  local name=$1 out=$2 err=$3 addr=""
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/^listening on //p' "$out" | head -n 1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "the $name did not start:" >&2; cat "$err" >&2; return 1; }
  echo "$addr"
}
