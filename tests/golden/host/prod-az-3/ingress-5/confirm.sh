set -eu
umask 077
name=ingress-5
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
if [ ! -f /etc/netplan/60-lanes.yaml ] || [ "$(sha256sum < /etc/netplan/60-lanes.yaml | cut -d ' ' -f 1)" != 1c399dd871746ff3e03197e1a6b4bcac3cf258fdbdc13f470e9c76e5751ac04c ]; then
  bad="$bad netplan"
fi
if [ ! -f /etc/sysctl.d/60-lanes.conf ] || [ "$(sha256sum < /etc/sysctl.d/60-lanes.conf | cut -d ' ' -f 1)" != e5494be1c358943dd7d1dba5c43e23c97973fb32b42b145be42a70492390eb02 ]; then
  bad="$bad sysctl"
fi
if [ ! -f /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf ] || [ "$(sha256sum < /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf | cut -d ' ' -f 1)" != 2759adb9d40ff8cd746a51b63671c0c7bd942297e820293fc326b1ada0c1dfb2 ]; then
  bad="$bad kubelet"
fi
if [ -n "$bad" ]; then
  echo "lanes: $name: confirm: not as applied:$bad (rolled back earlier?): the previous configuration is live; apply again" >&2
  exit 1
fi
if [ -n "$id" ]; then rm -rf "$txn" "$txns/current"; fi
echo "lanes: $name: confirmed${id:+ $id}"
