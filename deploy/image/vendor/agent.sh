# agent.sh: the lifecycle the vendor's commands share, sourced by ilogtaild, loongcollectord,
# loongcollector_control.sh and run_logtail.sh (installed as /usr/local/lib/tailcar/agent.sh).
#
# Owns the pid file and the exit file of one background `tailcar run` in TAILCAR_RUN_DIR (default
# /tmp/tailcar): `start` writes the agent's pid, a waiting subshell writes its exit status when it ends,
# so `status` and `stop` can tell running, finished (exit 0) and failed apart. Does not own what the agent
# does; `tailcar run` reads its configuration and environment itself.
#
#   agent_state           -> running | stopped | abnormal   (abnormal: exited non-zero, or vanished)
#   agent_start ARGS...   -> tailcar run --no-task-files --stop-delay ${TAILCAR_STOP_DELAY:-30} ARGS &
#   agent_stop [DELAY]    -> SIGTERM: the agent drains (reads to the end, delivers, checkpoints); after
#                            DELAY s (default: the agent's own stop delay) a second SIGTERM ends the wait;
#                            with enable_full_drain_mode=true no second SIGTERM: it waits for the drain.
#                            Then the exit status; an agent that already exited 0 is a successful stop.
#
# TAILCAR_BIN and TAILCAR_LIB_DIR (where this file is) exist for testing the scripts outside the image.

TAILCAR=${TAILCAR_BIN:-tailcar}
RUN_DIR=${TAILCAR_RUN_DIR:-/tmp/tailcar}
PID_FILE=$RUN_DIR/tailcar.pid
EXIT_FILE=$RUN_DIR/tailcar.exit
STOP_DELAY=${TAILCAR_STOP_DELAY:-30}

# The pid in the pid file when that process is alive, not a zombie, and is tailcar.
agent_pid() {
    local pid comm state rest
    [ -r "$PID_FILE" ] || return 1
    read -r pid < "$PID_FILE" || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
    read -r comm < "/proc/$pid/comm" || return 1
    [ "$comm" = tailcar ] || return 1
    read -r _ _ state rest < "/proc/$pid/stat" || return 1
    [ "$state" != Z ] || return 1
    echo "$pid"
}

agent_exit_status() {
    local code
    [ -r "$EXIT_FILE" ] && read -r code < "$EXIT_FILE" && echo "$code"
}

agent_state() {
    if agent_pid >/dev/null; then
        echo running
    elif [ -r "$EXIT_FILE" ]; then
        [ "$(agent_exit_status)" = 0 ] && echo stopped || echo abnormal
    elif [ -r "$PID_FILE" ]; then
        echo abnormal
    else
        echo stopped
    fi
}

# Starts the agent in the background. 0 once it runs, 1 if it ended at once (its errors are on stderr).
agent_start() {
    if agent_pid >/dev/null; then return 0; fi
    mkdir -p "$RUN_DIR" || { echo "cannot create $RUN_DIR (set TAILCAR_RUN_DIR to a writable directory)" >&2; return 1; }
    rm -f "$PID_FILE" "$EXIT_FILE"
    (
        "$TAILCAR" run --no-task-files --stop-delay "$STOP_DELAY" "$@" &
        echo $! > "$PID_FILE"
        wait $!
        echo $? > "$EXIT_FILE.new" && mv "$EXIT_FILE.new" "$EXIT_FILE"
    ) &
    local tries=0
    until [ -s "$PID_FILE" ] || [ $tries -ge 50 ]; do sleep 0.1; tries=$((tries + 1)); done
    sleep 0.5
    agent_pid >/dev/null
}

# Waits at most SECONDS for the exit file; 0 when it appeared.
agent_wait_exit() {
    local tenths=$(($1 * 10))
    until [ -r "$EXIT_FILE" ] || [ $tenths -le 0 ]; do sleep 0.1; tenths=$((tenths - 1)); done
    [ -r "$EXIT_FILE" ]
}

# Stops the agent and waits for it. 0 when it exited 0 (now or earlier), 1 otherwise.
agent_stop() {
    local delay=${1:-$STOP_DELAY} pid
    if pid=$(agent_pid); then
        kill -TERM "$pid" 2>/dev/null
        if [ "${enable_full_drain_mode:-${LOONG_ENABLE_FULL_DRAIN_MODE:-}}" = true ]; then
            until [ -r "$EXIT_FILE" ]; do sleep 0.1; done
        elif ! agent_wait_exit "$delay"; then
            kill -TERM "$pid" 2>/dev/null
            agent_wait_exit 5 || return 1
        fi
    fi
    [ "$(agent_state)" = stopped ]
}

agent_force_stop() {
    local pid
    if pid=$(agent_pid); then
        kill -KILL "$pid" 2>/dev/null
        agent_wait_exit 5
    fi
    rm -f "$PID_FILE" "$EXIT_FILE"
}
