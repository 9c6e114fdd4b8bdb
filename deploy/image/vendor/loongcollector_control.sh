#!/bin/sh
# /usr/local/loongcollector/loongcollector_control.sh, for Tailcar (deploy/image/vendor/agent.sh).
#   start | stop [DELAY] | restart | status | start_and_block [DELAY]
# status prints nothing: exit 0 while the agent runs, 1 otherwise (as the open-source script).
# start_and_block runs tailcar in the foreground as run_logtail.sh does, DELAY its stop delay.
. "${TAILCAR_LIB_DIR:-/usr/local/lib/tailcar}/agent.sh"

case ${1:-} in
    start) agent_start ;;
    stop) agent_stop "${2:-}" ;;
    restart) agent_stop "${2:-}"; agent_start ;;
    status) agent_pid >/dev/null ;;
    start_and_block) shift; exec /usr/local/ilogtail/run_logtail.sh "$@" ;;
    *) echo "Usage: $0 command [ stop_delay_sec ]" ; echo "commands: start stop restart status start_and_block"; exit 1 ;;
esac
