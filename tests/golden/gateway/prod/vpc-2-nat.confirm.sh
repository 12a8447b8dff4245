set -eu
umask 077
name=vpc-2-nat
txns=/var/lib/lanes/gateway/txn
id="$(cat "$txns/current" 2>/dev/null || true)"
txn="$txns/$id"
if [ -n "$id" ] && [ -d "$txn" ]; then
  if mkdir "$txn/decided" 2>/dev/null; then
    if [ -f "$txn/watchdog.pid" ]; then kill -- "-$(cat "$txn/watchdog.pid")" 2>/dev/null || true; fi
    if [ -f "$txn/watchdog.timer" ]; then systemctl stop "$(cat "$txn/watchdog.timer")" 2>/dev/null || true; fi
    : > "$txn/confirmed"
  fi
  waited=0
  while [ ! -f "$txn/confirmed" ] && [ ! -f "$txn/rolled-back" ] && [ "$waited" -lt 60 ]; do
    sleep 1; waited=$((waited + 1))
  done
  if [ ! -f "$txn/confirmed" ]; then
    echo "lanes: $name: confirm: no confirmation came in time: the change armed as $id was rolled back at $(cat "$txn/rolled-back" 2>/dev/null || echo "(in progress)"): the previous configuration is live again" >&2
    if [ -f "$txn/rollback.log" ]; then sed "s/^/  /" "$txn/rollback.log" >&2; fi
    exit 1
  fi
fi
bad=
if [ ! -f /etc/lanes/gateway/lanes.nft ] || [ "$(sha256sum < /etc/lanes/gateway/lanes.nft | cut -d ' ' -f 1)" != fdfe40835844ac87b275ea56fad9eb3c943972eabbb3e1d8aac830cc9a022721 ]; then
  bad="$bad ruleset"
fi
if [ ! -f /var/lib/lanes/gateway/lanes.nft.loaded ] || [ "$(sha256sum < /var/lib/lanes/gateway/lanes.nft.loaded | cut -d ' ' -f 1)" != fdfe40835844ac87b275ea56fad9eb3c943972eabbb3e1d8aac830cc9a022721 ]; then
  bad="$bad loaded-ruleset"
fi
if [ -n "$bad" ]; then
  echo "lanes: $name: confirm: not as applied:$bad (rolled back earlier?): the previous configuration is live; apply again" >&2
  exit 1
fi
if [ -n "$id" ]; then rm -rf "$txn" "$txns/current"; fi
echo "lanes: $name: confirmed${id:+ $id}"
