#!/bin/bash
# Container health check without curl: one HTTP/1.0 GET /healthz over bash's /dev/tcp.
# The port is taken from TRADELANE_LISTEN (default 8080); exits 0 only on a 200.
set -eu
port="${TRADELANE_LISTEN:-0.0.0.0:8080}"
port="${port##*:}"
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
case "$status" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) echo "healthz: ${status:-no answer}" >&2; exit 1 ;;
esac
