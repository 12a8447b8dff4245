set -eu
umask 077
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
name=ingress-5
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
if [ "$size" != 2978 ]; then
  echo "lanes: ingress-5: stdin held $size bytes, not the 2978 of its files" >&2
  rm -f "$received"
  exit 1
fi
tail -c +1 "$received" | head -c 1974 > /var/lib/lanes/staged/netplan-1c399dd871746ff3.lanes-part
if [ "$(sha256sum < /var/lib/lanes/staged/netplan-1c399dd871746ff3.lanes-part | cut -d ' ' -f 1)" != 1c399dd871746ff3e03197e1a6b4bcac3cf258fdbdc13f470e9c76e5751ac04c ]; then
  echo "lanes: ingress-5: netplan: received content is not sha256 1c399dd871746ff3e03197e1a6b4bcac3cf258fdbdc13f470e9c76e5751ac04c" >&2
  rm -f "$received" /var/lib/lanes/staged/netplan-1c399dd871746ff3.lanes-part
  exit 1
fi
mv -f /var/lib/lanes/staged/netplan-1c399dd871746ff3.lanes-part /var/lib/lanes/staged/netplan-1c399dd871746ff3
tail -c +1975 "$received" | head -c 752 > /var/lib/lanes/staged/sysctl-e5494be1c358943d.lanes-part
if [ "$(sha256sum < /var/lib/lanes/staged/sysctl-e5494be1c358943d.lanes-part | cut -d ' ' -f 1)" != e5494be1c358943dd7d1dba5c43e23c97973fb32b42b145be42a70492390eb02 ]; then
  echo "lanes: ingress-5: sysctl: received content is not sha256 e5494be1c358943dd7d1dba5c43e23c97973fb32b42b145be42a70492390eb02" >&2
  rm -f "$received" /var/lib/lanes/staged/sysctl-e5494be1c358943d.lanes-part
  exit 1
fi
mv -f /var/lib/lanes/staged/sysctl-e5494be1c358943d.lanes-part /var/lib/lanes/staged/sysctl-e5494be1c358943d
tail -c +2727 "$received" | head -c 252 > /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd.lanes-part
if [ "$(sha256sum < /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd.lanes-part | cut -d ' ' -f 1)" != 2759adb9d40ff8cd746a51b63671c0c7bd942297e820293fc326b1ada0c1dfb2 ]; then
  echo "lanes: ingress-5: kubelet: received content is not sha256 2759adb9d40ff8cd746a51b63671c0c7bd942297e820293fc326b1ada0c1dfb2" >&2
  rm -f "$received" /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd.lanes-part
  exit 1
fi
mv -f /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd.lanes-part /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd
rm -f "$received"
same=1
if [ ! -f /etc/netplan/60-lanes.yaml ] || [ "$(digest /etc/netplan/60-lanes.yaml)" != 1c399dd871746ff3e03197e1a6b4bcac3cf258fdbdc13f470e9c76e5751ac04c ] \
    || [ "$(stat -c %a /etc/netplan/60-lanes.yaml)" != 600 ]; then same=; fi
if [ ! -f /etc/sysctl.d/60-lanes.conf ] || [ "$(digest /etc/sysctl.d/60-lanes.conf)" != e5494be1c358943dd7d1dba5c43e23c97973fb32b42b145be42a70492390eb02 ] \
    || [ "$(stat -c %a /etc/sysctl.d/60-lanes.conf)" != 644 ]; then same=; fi
if [ ! -f /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf ] || [ "$(digest /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf)" != 2759adb9d40ff8cd746a51b63671c0c7bd942297e820293fc326b1ada0c1dfb2 ] \
    || [ "$(stat -c %a /etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf)" != 644 ]; then same=; fi
if [ -n "$same" ]; then
  rm -f /var/lib/lanes/staged/netplan-1c399dd871746ff3 /var/lib/lanes/staged/sysctl-e5494be1c358943d /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd
  echo "lanes: $name: unchanged"
  exit 0
fi
(
set -eu
umask 077
name=ingress-5
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
name=ingress-5
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
staged=/var/lib/lanes/staged/netplan-1c399dd871746ff3
target=/etc/netplan/60-lanes.yaml
backup=/var/lib/lanes/backup/etc/netplan/60-lanes.yaml
want=1c399dd871746ff3e03197e1a6b4bcac3cf258fdbdc13f470e9c76e5751ac04c
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
staged=/var/lib/lanes/staged/sysctl-e5494be1c358943d
target=/etc/sysctl.d/60-lanes.conf
backup=/var/lib/lanes/backup/etc/sysctl.d/60-lanes.conf
want=e5494be1c358943dd7d1dba5c43e23c97973fb32b42b145be42a70492390eb02
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
umask 077
label=kubelet
staged=/var/lib/lanes/staged/kubelet-2759adb9d40ff8cd
target=/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
backup=/var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
want=2759adb9d40ff8cd746a51b63671c0c7bd942297e820293fc326b1ada0c1dfb2
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
if ! { systemctl daemon-reload && systemctl try-restart kubelet.service; }; then
  echo "lanes: $label: reload failed; putting back the previous $target" >&2
  if [ -e "$prev" ]; then mv -f "$prev" "$target"; else rm -f "$target"; fi
  systemctl daemon-reload && systemctl try-restart kubelet.service || true
  exit 1
fi
rm -f "$prev"
echo "lanes: $label: changed $target"
)
rm -f /var/lib/lanes/staged/netplan-1c399dd871746ff3 /var/lib/lanes/staged/sysctl-e5494be1c358943d /var/lib/lanes/staged/kubelet-2759adb9d40ff8cd
