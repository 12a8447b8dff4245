# Gateway vpc-1-nat on vpc1-nat: provision, written by lanes. Run as root.
set -eu
umask 022
(
set -eu
mkdir -p /etc/lanes/gateway
)
received=/etc/lanes/gateway/.lanes-stdin.$$
cat > "$received"
size=$(wc -c < "$received" | tr -d ' ')
if [ "$size" != 1159 ]; then
  echo "lanes: vpc-1-nat: stdin held $size bytes, not the 1159 of its files" >&2
  rm -f "$received"
  exit 1
fi
tail -c +1 "$received" | head -c 1159 > /etc/lanes/gateway/lanes.nft.lanes-staged.lanes-part
if [ "$(sha256sum < /etc/lanes/gateway/lanes.nft.lanes-staged.lanes-part | cut -d ' ' -f 1)" != d22370ef9f2acdd38c224ffb29756468754e18a55a674d5cb09640f8ad14087e ]; then
  echo "lanes: vpc-1-nat: ruleset: received content is not sha256 d22370ef9f2acdd38c224ffb29756468754e18a55a674d5cb09640f8ad14087e" >&2
  rm -f "$received" /etc/lanes/gateway/lanes.nft.lanes-staged.lanes-part
  exit 1
fi
mv -f /etc/lanes/gateway/lanes.nft.lanes-staged.lanes-part /etc/lanes/gateway/lanes.nft.lanes-staged
rm -f "$received"
(
set -eu
umask 077
name=vpc-1-nat
txns=/var/lib/lanes/gateway/txn
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
if [ -f /etc/lanes/gateway/lanes.nft ]; then cp -p /etc/lanes/gateway/lanes.nft "$txn/ruleset"; else : > "$txn/ruleset.absent"; fi
if [ -f /etc/lanes/gateway/nginx.conf ]; then cp -p /etc/lanes/gateway/nginx.conf "$txn/nginx"; else : > "$txn/nginx.absent"; fi
cat > "$txn/rollback.sh" <<'LANES_ROLLBACK_END'
set -u
umask 077
name=vpc-1-nat
txn="$1"
mkdir "$txn/decided" 2>/dev/null || exit 0
exec >> "$txn/rollback.log" 2>&1
echo "lanes: $name: rollback: no confirmation came; putting back the previous files"
# ruleset
target=/etc/lanes/gateway/lanes.nft
saved="$txn/ruleset"
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
  { :
  } || echo "lanes: $name: rollback: reloading ruleset failed"
fi
# nginx
target=/etc/lanes/gateway/nginx.conf
saved="$txn/nginx"
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
  { :
  } || echo "lanes: $name: rollback: reloading nginx failed"
fi
{
family=ip
table=lanes
conf_dir=/etc/lanes/gateway
ruleset=/etc/lanes/gateway/lanes.nft
state=/var/lib/lanes/gateway
listing=/var/lib/lanes/gateway/ruleset.applied
sysctl_conf=/etc/sysctl.d/61-lanes-gateway.conf
nginx_conf=/etc/lanes/gateway/nginx.conf
nginx_prefix=/var/lib/lanes/gateway/nginx
nginx_pid=/var/lib/lanes/gateway/nginx/nginx.pid
nginx_log=/var/lib/lanes/gateway/nginx/error.log
unit_dir=/etc/systemd/system
if [ -f "$ruleset" ]; then
	nft -f "$ruleset" && cp "$ruleset" "$state/lanes.nft.loaded"
	nft -s list table "$family" "$table" > "$listing"
	echo "lanes: $name: rollback: loaded the previous table $family $table"
else
	printf 'table %s %s\ndelete table %s %s\n' "$family" "$table" "$family" "$table" | nft -f -
	rm -f "$state/lanes.nft.loaded" "$listing"
fi
lanes_nginx() { nginx -p "$nginx_prefix/" -c "$nginx_conf" -e "$nginx_log" "$@"; }
if [ -f "$nginx_conf" ]; then
	if [ -f "$nginx_pid" ] && kill -0 "$(cat "$nginx_pid")" 2>/dev/null; then lanes_nginx -s reload; else lanes_nginx; fi
	cp "$nginx_conf" "$state/nginx.conf.loaded"
	echo "lanes: $name: rollback: nginx back on the previous config"
else
if [ -f "$nginx_pid" ] && kill -0 "$(cat "$nginx_pid")" 2>/dev/null; then
	kill -QUIT "$(cat "$nginx_pid")"
	echo "lanes: nginx stopped"
fi
	rm -f "$state/nginx.conf.loaded"
fi
} || echo "lanes: $name: rollback: re-applying failed"
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
if cmp -s /etc/lanes/gateway/lanes.nft.lanes-staged /etc/lanes/gateway/lanes.nft; then rm -f /etc/lanes/gateway/lanes.nft.lanes-staged; else mv -f /etc/lanes/gateway/lanes.nft.lanes-staged /etc/lanes/gateway/lanes.nft; fi
(
# Gateway vpc-1-nat on vpc1-nat: apply, written by lanes. Run as root.
set -eu
umask 022
family=ip
table=lanes
conf_dir=/etc/lanes/gateway
ruleset=/etc/lanes/gateway/lanes.nft
state=/var/lib/lanes/gateway
listing=/var/lib/lanes/gateway/ruleset.applied
sysctl_conf=/etc/sysctl.d/61-lanes-gateway.conf
nginx_conf=/etc/lanes/gateway/nginx.conf
nginx_prefix=/var/lib/lanes/gateway/nginx
nginx_pid=/var/lib/lanes/gateway/nginx/nginx.pid
nginx_log=/var/lib/lanes/gateway/nginx/error.log
unit_dir=/etc/systemd/system

for tool in nft sysctl cmp; do
	command -v "$tool" >/dev/null 2>&1 || { echo "lanes: $tool is not installed" >&2; exit 1; }
done
mkdir -p "$state" "${sysctl_conf%/*}"

# Forwarding on, now and after a reboot (the drop-in is rewritten only when it differs).
forwarding='net.ipv4.ip_forward = 1'
if [ ! -f "$sysctl_conf" ] || [ "$(cat "$sysctl_conf")" != "$forwarding" ]; then
	printf '%s\n' "$forwarding" > "$sysctl_conf"
fi
sysctl -q -p "$sysctl_conf"

# The kernel checks the whole file first; nft -f is one transaction either way.
if ! nft -c -f "$ruleset"; then
	echo "lanes: the kernel rejects $ruleset; the previous ruleset stays" >&2
	exit 1
fi
live=$(nft -s list table "$family" "$table" 2>/dev/null || true)
if [ -f "$state/lanes.nft.loaded" ] && cmp -s "$ruleset" "$state/lanes.nft.loaded" \
	&& [ -f "$listing" ] && [ "$live" = "$(cat "$listing")" ]; then
	echo "lanes: table $family $table is up to date"
else
	nft -f "$ruleset"
	nft -s list table "$family" "$table" > "$listing"
	cp "$ruleset" "$state/lanes.nft.loaded"
	echo "lanes: loaded table $family $table"
fi

if [ -f "$nginx_pid" ] && kill -0 "$(cat "$nginx_pid")" 2>/dev/null; then
	kill -QUIT "$(cat "$nginx_pid")"
	echo "lanes: nginx stopped"
fi
rm -f "$nginx_conf" "$state/nginx.conf.loaded"

# Boot: the lanes table, forwarding and nginx come back after a reboot.
mkdir -p "$unit_dir"
cat > "$unit_dir/lanes-gateway.service.lanes-new" <<'LANES_UNIT_END'
# Gateway vpc-1-nat: the lanes table, then forwarding, at boot.
# Written by lanes: edit the stack config, not this file.

[Unit]
Description=lanes gateway vpc-1-nat: nft table ip lanes and forwarding
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target
After=local-fs.target nftables.service systemd-sysctl.service
Conflicts=shutdown.target
ConditionPathExists=/var/lib/lanes/gateway/lanes.nft.loaded

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f /var/lib/lanes/gateway/lanes.nft.loaded
ExecStart=/usr/sbin/sysctl -q -p /etc/sysctl.d/61-lanes-gateway.conf

[Install]
WantedBy=sysinit.target
LANES_UNIT_END
if cmp -s "$unit_dir/lanes-gateway.service.lanes-new" "$unit_dir/lanes-gateway.service"; then
	rm -f "$unit_dir/lanes-gateway.service.lanes-new"
else
	mv -f "$unit_dir/lanes-gateway.service.lanes-new" "$unit_dir/lanes-gateway.service"
	echo "lanes: installed lanes-gateway.service"
fi
mkdir -p "$unit_dir/sysinit.target.wants"
ln -sfn "../lanes-gateway.service" "$unit_dir/sysinit.target.wants/lanes-gateway.service"
rm -f "$unit_dir/multi-user.target.wants/lanes-gateway-nginx.service" "$unit_dir/lanes-gateway-nginx.service"
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
)
