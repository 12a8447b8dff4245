set -eu
(
# Gateway lab-router on router: delete, written by lanes. Run as root.
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

if command -v nft >/dev/null 2>&1; then
	# Create-then-delete in one transaction: no error when the table is already gone.
	printf 'table %s %s\ndelete table %s %s\n' "$family" "$table" "$family" "$table" | nft -f -
fi
if [ -f "$nginx_pid" ] && kill -0 "$(cat "$nginx_pid")" 2>/dev/null; then
	kill -QUIT "$(cat "$nginx_pid")"
	echo "lanes: nginx stopped"
fi
rm -f "$ruleset" "$nginx_conf" "$sysctl_conf"
rm -rf "$state"
rmdir "$conf_dir" 2>/dev/null || true
echo "lanes: gateway removed"
rm -f "$unit_dir/sysinit.target.wants/lanes-gateway.service" "$unit_dir/lanes-gateway.service"
rm -f "$unit_dir/multi-user.target.wants/lanes-gateway-nginx.service" "$unit_dir/lanes-gateway-nginx.service"
if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
)
(
set -eu
umask 077
name=lab-router
txns=/var/lib/lanes/gateway/txn
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
rmdir /etc/lanes/gateway 2>/dev/null || true
rmdir /etc/lanes 2>/dev/null || true
rmdir /var/lib/lanes 2>/dev/null || true
)
