set -eu
umask 077
name=lb
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
name=lb
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
