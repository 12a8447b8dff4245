set -eu
(
set -eu
label=kubelet
staged=/var/lib/lanes/staged/kubelet-116b0615fcbf93f8
target=/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
backup=/var/lib/lanes/backup/etc/systemd/system/kubelet.service.d/20-lanes-node-ip.conf
want=116b0615fcbf93f80ea3c5c6fd8d1932a6b7c525fcc134766b86966ac0f8646c
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
staged=/var/lib/lanes/staged/sysctl-cee15ceb08f693f0
target=/etc/sysctl.d/60-lanes.conf
backup=/var/lib/lanes/backup/etc/sysctl.d/60-lanes.conf
want=cee15ceb08f693f027f2fc4c40a0b1111d96884670fb601b171b2f7f34953fbd
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
staged=/var/lib/lanes/staged/netplan-567bf55a5397f447
target=/etc/netplan/60-lanes.yaml
backup=/var/lib/lanes/backup/etc/netplan/60-lanes.yaml
want=567bf55a5397f4475ff58e130d2a5fa3883c094ef25fb4ecdf8e01c3a959b57f
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
name=ingress-4
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
