# initd.sh: the verbs of /etc/init.d/ilogtaild and /etc/init.d/loongcollectord, sourced by both after
# agent.sh with exec_name set (ilogtail or loongcollector), which is all that differs in their messages.
# Installed as /usr/local/lib/tailcar/initd.sh.

initd_status() {
    case $(agent_state) in
        running) echo "$exec_name is running"; return 0 ;;
        stopped) echo "$exec_name is stopped"; return 3 ;;
        *) echo "$exec_name running process is abnormal."; return 1 ;;
    esac
}

initd_stop() {
    if [ "$(agent_state)" != running ]; then
        [ "$(agent_state)" = stopped ] && { echo "$exec_name is stopped"; return 0; }
        echo "$exec_name exited abnormally (status $(agent_exit_status))"; return 1
    fi
    if agent_stop; then echo "stop successfully"; return 0; fi
    echo "graceful stop failed (status $(agent_exit_status)); force-stop ends it"; return 1
}

case ${1:-} in
    start)
        agent_start || { echo "$exec_name start failed"; exit 1; }
        initd_status ;;
    stop) initd_stop ;;
    force-stop) agent_force_stop; echo "force stop successfully" ;;
    restart) initd_stop; agent_start || { echo "$exec_name start failed"; exit 1; }; initd_status ;;
    status) initd_status ;;
    *)
        echo "Usage: $0 { start | stop (graceful, flush data and save checkpoints) | force-stop | restart | status | -h for help}"
        exit 1 ;;
esac
