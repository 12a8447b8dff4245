set -eu
umask 077
name=edge-1
txns=/var/lib/lanes/txn
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
if [ ! -f /etc/netplan/60-lanes.yaml ] || [ "$(sha256sum < /etc/netplan/60-lanes.yaml | cut -d ' ' -f 1)" != b4e12903d9c9a277465a8e5ae93ab58476daf646851504d53664aadf275bca45 ]; then
  bad="$bad netplan"
fi
if [ ! -f /etc/sysctl.d/60-lanes.conf ] || [ "$(sha256sum < /etc/sysctl.d/60-lanes.conf | cut -d ' ' -f 1)" != 35562b35bfad890d6798d42671f070e61ace3b523c4963f46f6b16e10dca1442 ]; then
  bad="$bad sysctl"
fi
if [ -n "$bad" ]; then
  echo "lanes: $name: confirm: not as applied:$bad (rolled back earlier?): the previous configuration is live; apply again" >&2
  exit 1
fi
if [ -n "$id" ]; then rm -rf "$txn" "$txns/current"; fi
echo "lanes: $name: confirmed${id:+ $id}"
