set -eu
umask 077
name=sso
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
name=sso
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
