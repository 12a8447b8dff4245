# Gateway lab-router on router: apply, written by lanes. Run as root.
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
