set -eu
(
set -eu
label=kubelet
staged=/var/lib/lanes/staged/kubelet-2759adb9d40ff8cd
target=/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
backup=/var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
want=2759adb9d40ff8cd746a51b63671c0c7bd942297e820293fc326b1ada0c1dfb2
mode=644
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
rm -f "$staged"
if [ -f "$target" ] && [ "$(digest "$target")" != "$want" ]; then
  echo "lanes: $label: $target no longer holds what this resource installed: left alone"
  exit 0
fi
if [ -e "$backup" ]; then
  mv -f "$backup" "$target"
  echo "lanes: $label: restored $target"
elif [ -e "$backup.absent" ]; then
  rm -f "$target" "$backup.absent"
  echo "lanes: $label: removed $target"
else
  echo "lanes: $label: unchanged $target (nothing to restore)"
  exit 0
fi
systemctl daemon-reload
systemctl try-restart kubelet.service
)
(
set -eu
label=sysctl
staged=/var/lib/lanes/staged/sysctl-e5494be1c358943d
target=/etc/sysctl.d/60-lanes.conf
backup=/var/lib/lanes/backup/etc/sysctl.d/60-lanes.conf
want=e5494be1c358943dd7d1dba5c43e23c97973fb32b42b145be42a70492390eb02
mode=644
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
rm -f "$staged"
if [ -f "$target" ] && [ "$(digest "$target")" != "$want" ]; then
  echo "lanes: $label: $target no longer holds what this resource installed: left alone"
  exit 0
fi
if [ -e "$backup" ]; then
  mv -f "$backup" "$target"
  echo "lanes: $label: restored $target"
elif [ -e "$backup.absent" ]; then
  rm -f "$target" "$backup.absent"
  echo "lanes: $label: removed $target"
else
  echo "lanes: $label: unchanged $target (nothing to restore)"
  exit 0
fi
sysctl -e -q --system
)
(
set -eu
label=netplan
staged=/var/lib/lanes/staged/netplan-1c399dd871746ff3
target=/etc/netplan/60-lanes.yaml
backup=/var/lib/lanes/backup/etc/netplan/60-lanes.yaml
want=1c399dd871746ff3e03197e1a6b4bcac3cf258fdbdc13f470e9c76e5751ac04c
mode=600
digest() { sha256sum < "$1" | cut -d ' ' -f 1; }
rm -f "$staged"
if [ -f "$target" ] && [ "$(digest "$target")" != "$want" ]; then
  echo "lanes: $label: $target no longer holds what this resource installed: left alone"
  exit 0
fi
if [ -e "$backup" ]; then
  mv -f "$backup" "$target"
  echo "lanes: $label: restored $target"
elif [ -e "$backup.absent" ]; then
  rm -f "$target" "$backup.absent"
  echo "lanes: $label: removed $target"
else
  echo "lanes: $label: unchanged $target (nothing to restore)"
  exit 0
fi
netplan apply
)
(
set -eu
umask 077
name=ingress-5
txns=/var/lib/lanes/txn
id="$(cat "$txns/current" 2>/dev/null || true)"
txn="$txns/$id"
if [ -n "$id" ] && [ -d "$txn" ] && mkdir "$txn/decided" 2>/dev/null; then
    if [ -f "$txn/watchdog.pid" ]; then kill -- "-$(cat "$txn/watchdog.pid")" 2>/dev/null || true; fi
    if [ -f "$txn/watchdog.timer" ]; then systemctl stop "$(cat "$txn/watchdog.timer")" 2>/dev/null || true; fi
  echo "lanes: $name: disarm: the change armed as $id will not be rolled back"
fi
rm -rf "$txns"
echo "lanes: $name: disarmed"
)
(
set -eu
for dir in /var/lib/lanes/staged /var/lib/lanes/backup; do
  if [ -d "$dir" ]; then find "$dir" -depth -type d -empty -delete; fi
done
rmdir /var/lib/lanes 2>/dev/null || true
echo 'lanes: staging removed'
)
