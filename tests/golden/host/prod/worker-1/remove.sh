set -eu
(
set -eu
label=kubelet
staged=/var/lib/lanes/staged/kubelet-d6ecda245a49dd16
target=/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
backup=/var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
want=d6ecda245a49dd167e79bd4ca62076a123fc20f00ebb4155250660326d9a1de5
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
staged=/var/lib/lanes/staged/sysctl-06d1b9c664b36605
target=/etc/sysctl.d/60-lanes.conf
backup=/var/lib/lanes/backup/etc/sysctl.d/60-lanes.conf
want=06d1b9c664b36605fe024e86468599db61e67380e593be64f0217ad70e5974e7
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
staged=/var/lib/lanes/staged/netplan-c0f9697b60289987
target=/etc/netplan/60-lanes.yaml
backup=/var/lib/lanes/backup/etc/netplan/60-lanes.yaml
want=c0f9697b602899879fe77a7c13e6c7fd50e031fabc8ff570e9f3281ae7e84722
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
name=worker-1
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
