set -eu
umask 077
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
name=edge-2
(
set -eu
umask 077
mkdir -p /var/lib/lanes /var/lib/lanes/staged /var/lib/lanes/backup
chmod 700 /var/lib/lanes /var/lib/lanes/staged /var/lib/lanes/backup
echo 'lanes: staging ready'
)
find /var/lib/lanes/staged -maxdepth 1 -type f -delete
received=/var/lib/lanes/staged/.lanes-stdin.$$
cat > "$received"
size=$(wc -c < "$received" | tr -d ' ')
if [ "$size" != 3461 ]; then
  echo "lanes: edge-2: stdin held $size bytes, not the 3461 of its files" >&2
  rm -f "$received"
  exit 1
fi
tail -c +1 "$received" | head -c 2576 > /var/lib/lanes/staged/netplan-635455c43cb3bcc5.lanes-part
if [ "$(sha256sum < /var/lib/lanes/staged/netplan-635455c43cb3bcc5.lanes-part | cut -d ' ' -f 1)" != 635455c43cb3bcc5859cd04a8a0c504f661496f9b8d1819d7680b72cf339117d ]; then
  echo "lanes: edge-2: netplan: received content is not sha256 635455c43cb3bcc5859cd04a8a0c504f661496f9b8d1819d7680b72cf339117d" >&2
  rm -f "$received" /var/lib/lanes/staged/netplan-635455c43cb3bcc5.lanes-part
  exit 1
fi
mv -f /var/lib/lanes/staged/netplan-635455c43cb3bcc5.lanes-part /var/lib/lanes/staged/netplan-635455c43cb3bcc5
tail -c +2577 "$received" | head -c 885 > /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2.lanes-part
if [ "$(sha256sum < /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2.lanes-part | cut -d ' ' -f 1)" != 5a3800cbf73d4cd2cdf38f6a14ee2467ad10188fef8d131c567fccd93545a589 ]; then
  echo "lanes: edge-2: sysctl: received content is not sha256 5a3800cbf73d4cd2cdf38f6a14ee2467ad10188fef8d131c567fccd93545a589" >&2
  rm -f "$received" /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2.lanes-part
  exit 1
fi
mv -f /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2.lanes-part /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2
rm -f "$received"
same=1
if [ ! -f /etc/netplan/60-lanes.yaml ] || [ "$(digest /etc/netplan/60-lanes.yaml)" != 635455c43cb3bcc5859cd04a8a0c504f661496f9b8d1819d7680b72cf339117d ] \
    || [ "$(stat -c %a /etc/netplan/60-lanes.yaml)" != 600 ]; then same=; fi
if [ ! -f /etc/sysctl.d/60-lanes.conf ] || [ "$(digest /etc/sysctl.d/60-lanes.conf)" != 5a3800cbf73d4cd2cdf38f6a14ee2467ad10188fef8d131c567fccd93545a589 ] \
    || [ "$(stat -c %a /etc/sysctl.d/60-lanes.conf)" != 644 ]; then same=; fi
if [ -e /var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf ] || [ -e /var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf.absent ]; then same=; fi
if [ -n "$same" ]; then
  rm -f /var/lib/lanes/staged/netplan-635455c43cb3bcc5 /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2
  echo "lanes: $name: unchanged"
  exit 0
fi
(
set -eu
umask 077
name=edge-2
txns=/var/lib/lanes/txn
timeout=120
watchdog=auto
command -v setsid >/dev/null 2>&1 || command -v systemd-run >/dev/null 2>&1 \
  || { echo "lanes: $name: arm: neither setsid nor systemd-run is installed" >&2; exit 1; }
mkdir -p "$txns"
if [ -f "$txns/current" ]; then
  last="$txns/$(cat "$txns/current")"
  if [ -d "$last" ] && [ ! -d "$last/decided" ]; then
    echo "lanes: $name: arm: the change armed as ${last##*/} still awaits its confirmation or rollback: run again after it" >&2
    exit 1
  fi
  rm -rf "$last"
fi
id="$(date -u +%Y%m%dT%H%M%S)-$$"
txn="$txns/$id"
mkdir "$txn"
if [ -f /etc/netplan/60-lanes.yaml ]; then cp -p /etc/netplan/60-lanes.yaml "$txn/netplan"; else : > "$txn/netplan.absent"; fi
if [ -f /etc/sysctl.d/60-lanes.conf ]; then cp -p /etc/sysctl.d/60-lanes.conf "$txn/sysctl"; else : > "$txn/sysctl.absent"; fi
if [ -f /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf ]; then cp -p /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf "$txn/kubelet"; else : > "$txn/kubelet.absent"; fi
cat > "$txn/rollback.sh" <<'LANES_ROLLBACK_END'
set -u
umask 077
name=edge-2
txn="$1"
mkdir "$txn/decided" 2>/dev/null || exit 0
exec >> "$txn/rollback.log" 2>&1
echo "lanes: $name: rollback: no confirmation came; putting back the previous files"
# netplan
target=/etc/netplan/60-lanes.yaml
saved="$txn/netplan"
restored=
if [ -f "$saved" ]; then
  if ! cmp -s "$saved" "$target"; then
    cp -p "$saved" "$target.lanes-rb" && mv -f "$target.lanes-rb" "$target" && restored=1
  fi
elif [ -e "$saved.absent" ] && [ -e "$target" ]; then
  rm -f "$target" && restored=1
fi
if [ -n "$restored" ]; then
  echo "lanes: $name: rollback: restored $target"
  { netplan apply
  } || echo "lanes: $name: rollback: reloading netplan failed"
fi
# sysctl
target=/etc/sysctl.d/60-lanes.conf
saved="$txn/sysctl"
restored=
if [ -f "$saved" ]; then
  if ! cmp -s "$saved" "$target"; then
    cp -p "$saved" "$target.lanes-rb" && mv -f "$target.lanes-rb" "$target" && restored=1
  fi
elif [ -e "$saved.absent" ] && [ -e "$target" ]; then
  rm -f "$target" && restored=1
fi
if [ -n "$restored" ]; then
  echo "lanes: $name: rollback: restored $target"
  { sysctl -e -q --system
  } || echo "lanes: $name: rollback: reloading sysctl failed"
fi
# kubelet
target=/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
saved="$txn/kubelet"
restored=
if [ -f "$saved" ]; then
  if ! cmp -s "$saved" "$target"; then
    cp -p "$saved" "$target.lanes-rb" && mv -f "$target.lanes-rb" "$target" && restored=1
  fi
elif [ -e "$saved.absent" ] && [ -e "$target" ]; then
  rm -f "$target" && restored=1
fi
if [ -n "$restored" ]; then
  echo "lanes: $name: rollback: restored $target"
  { systemctl daemon-reload && systemctl try-restart kubelet.service
  } || echo "lanes: $name: rollback: reloading kubelet failed"
fi
date -u +%Y-%m-%dT%H:%M:%SZ > "$txn/rolled-back"
LANES_ROLLBACK_END
printf '%s\n' "$id" > "$txns/current.new"
mv -f "$txns/current.new" "$txns/current"
if [ "$watchdog" = auto ] && [ -d /run/systemd/system ] \
    && command -v systemd-run >/dev/null 2>&1; then
  systemd-run --quiet --unit="lanes-rollback-$id" --on-active="${timeout}s" \
    --timer-property=AccuracySec=1s /bin/sh "$txn/rollback.sh" "$txn"
  printf '%s\n' "lanes-rollback-$id.timer" > "$txn/watchdog.timer"
else
  setsid sh -c 'sleep "$1"; exec sh "$2/rollback.sh" "$2"' lanes-rollback \
    "$timeout" "$txn" </dev/null >/dev/null 2>&1 &
  printf '%s\n' "$!" > "$txn/watchdog.pid"
fi
echo "lanes: $name: armed rollback $id: confirm within ${timeout}s"
)
(
set -eu
umask 077
label=netplan
staged=/var/lib/lanes/staged/netplan-635455c43cb3bcc5
target=/etc/netplan/60-lanes.yaml
backup=/var/lib/lanes/backup/etc/netplan/60-lanes.yaml
want=635455c43cb3bcc5859cd04a8a0c504f661496f9b8d1819d7680b72cf339117d
mode=600
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
if [ ! -f "$staged" ] || [ "$(digest "$staged")" != "$want" ]; then
  echo "lanes: $label: $staged is missing or is not sha256 $want" >&2
  exit 1
fi
if [ -f "$target" ] && [ "$(digest "$target")" = "$want" ] \
    && [ "$(stat -c %a "$target")" = "$mode" ]; then
  echo "lanes: $label: unchanged $target"
  exit 0
fi
mkdir -p "${backup%/*}" "${target%/*}"
if [ ! -e "$backup" ] && [ ! -e "$backup.absent" ]; then
  if [ -e "$target" ]; then cp -p "$target" "$backup"; else : > "$backup.absent"; fi
fi
prev="$target.lanes-prev"
if [ -e "$target" ]; then cp -p "$target" "$prev"; else rm -f "$prev"; fi
cp "$staged" "$target.lanes-new"
chmod "$mode" "$target.lanes-new"
mv -f "$target.lanes-new" "$target"
if ! { netplan apply; }; then
  echo "lanes: $label: reload failed; putting back the previous $target" >&2
  if [ -e "$prev" ]; then mv -f "$prev" "$target"; else rm -f "$target"; fi
  netplan apply || true
  exit 1
fi
rm -f "$prev"
echo "lanes: $label: changed $target"
)
(
set -eu
umask 077
label=sysctl
staged=/var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2
target=/etc/sysctl.d/60-lanes.conf
backup=/var/lib/lanes/backup/etc/sysctl.d/60-lanes.conf
want=5a3800cbf73d4cd2cdf38f6a14ee2467ad10188fef8d131c567fccd93545a589
mode=644
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
if [ ! -f "$staged" ] || [ "$(digest "$staged")" != "$want" ]; then
  echo "lanes: $label: $staged is missing or is not sha256 $want" >&2
  exit 1
fi
if [ -f "$target" ] && [ "$(digest "$target")" = "$want" ] \
    && [ "$(stat -c %a "$target")" = "$mode" ]; then
  echo "lanes: $label: unchanged $target"
  exit 0
fi
mkdir -p "${backup%/*}" "${target%/*}"
if [ ! -e "$backup" ] && [ ! -e "$backup.absent" ]; then
  if [ -e "$target" ]; then cp -p "$target" "$backup"; else : > "$backup.absent"; fi
fi
prev="$target.lanes-prev"
if [ -e "$target" ]; then cp -p "$target" "$prev"; else rm -f "$prev"; fi
cp "$staged" "$target.lanes-new"
chmod "$mode" "$target.lanes-new"
mv -f "$target.lanes-new" "$target"
if ! { sysctl -e -q --system; }; then
  echo "lanes: $label: reload failed; putting back the previous $target" >&2
  if [ -e "$prev" ]; then mv -f "$prev" "$target"; else rm -f "$target"; fi
  sysctl -e -q --system || true
  exit 1
fi
rm -f "$prev"
echo "lanes: $label: changed $target"
)
(
set -eu
label=kubelet
target=/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
backup=/var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
if [ -e "$backup" ]; then
  mv -f "$backup" "$target"
  echo "lanes: $label: restored $target (no longer rendered)"
elif [ -e "$backup.absent" ]; then
  rm -f "$target" "$backup.absent"
  echo "lanes: $label: removed $target (no longer rendered)"
else
  exit 0
fi
systemctl daemon-reload
systemctl try-restart kubelet.service
)
rm -f /var/lib/lanes/staged/netplan-635455c43cb3bcc5 /var/lib/lanes/staged/sysctl-5a3800cbf73d4cd2
