set -eu
(
set -eu
label=sysctl
staged=/var/lib/lanes/staged/sysctl-2bcc576b9512a76e
target=/etc/sysctl.d/60-lanes.conf
backup=/var/lib/lanes/backup/etc/sysctl.d/60-lanes.conf
want=2bcc576b9512a76e0c470b974d399bae2c522110d0b29a80eeb38d88925c07a4
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
staged=/var/lib/lanes/staged/netplan-32b04c66c02edad9
target=/etc/netplan/60-lanes.yaml
backup=/var/lib/lanes/backup/etc/netplan/60-lanes.yaml
want=32b04c66c02edad94d9c54ea3e89cd0f432c0bcada98b087f68da5d3d42bb138
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
name=vpc2-nat
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
