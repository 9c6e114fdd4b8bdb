#!/bin/sh
# /usr/local/ilogtail/run_logtail.sh [DELAY]: the Logtail image's main process, for Tailcar.
# Becomes `tailcar run --stop-delay DELAY` (default $TAILCAR_STOP_DELAY, else 10) with this pid, written to
# the pid file, so `/etc/init.d/ilogtaild status` answers. On SIGTERM tailcar collects and delivers for at
# most DELAY s (no longer than needed), saves checkpoints and exits 0; its exit status is the container's.
. "${TAILCAR_LIB_DIR:-/usr/local/lib/tailcar}/agent.sh"
delay=${1:-${TAILCAR_STOP_DELAY:-10}}
echo "delay stop seconds: $delay"
mkdir -p "$RUN_DIR" && rm -f "$EXIT_FILE" && echo $$ > "$PID_FILE"
exec "$TAILCAR" run --stop-delay "$delay"
