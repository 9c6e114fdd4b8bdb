// Help.swift
//
// The text of `tailcar help`: every subcommand and option, with defaults and the environment variables
// that set them.

let tailcarVersion = "0.1.0"

let helpText = """
tailcar \(tailcarVersion): a sidecar log collector for Kubernetes pods.

Usage:
  tailcar run [--config PATH] [options] Tail the files the pipelines name and ship their records.
  tailcar status [--port PORT]          Ask a running tailcar's /healthz: exit 0 when it answers 200.
  tailcar check-config [PATH] [--from-sls]
                                        Load PATH (default as run) with run's environment and print
                                        the effective pipelines with their origin, or the errors;
                                        --from-sls adds what the SLS console applies here.
  tailcar bootstrap [--config PATH]     Create in SLS what the AliyunLogConfig resources name, and the
                                        flusher_clickhouse databases and tables (see below).
  tailcar controller [options]          In the cluster: keep SLS in step with the AliyunLogConfig
                                        resources applied to it and write their status (see below).
  tailcar parse --config PATH [--pipeline NAME] [--input FILE]
                                        Run a pipeline's processors over sample lines (FILE or
                                        stdin); print each record as JSON, unmatched ones marked.
  tailcar bench --config PIPELINE [--sample FILE] [--cpus 0.1,0.25,1] [--memory 32Mi,64Mi] [--seconds 60]
                                        The highest rate the pipeline sustains in each CPU and
                                        memory budget, and a suggested resources: block (see below).
  tailcar sls-sink [--port-file FILE]   A local SLS-compatible sink on 127.0.0.1 that answers every
                                        PutLogs with 200 and discards it, until SIGINT or SIGTERM.
  tailcar regex PATTERN [--search]      Match stdin lines against PATTERN; print captures as JSON.
  tailcar inject -f FILE --log-dir DIR [options]
                                        Add the Tailcar sidecar to the workloads of a manifest
                                        (FILE, or - for stdin); write the YAML to stdout.
  tailcar version | --version           Print the version.
  tailcar help | --help                 This text.

run options:
  --config PATH               A pipeline file or a directory of them (*.yaml, *.yml, *.json): iLogtail
                              pipelines, AliyunLogConfig resources (several per file), Logtail configs.
                              Default $TAILCAR_CONFIG, else /etc/tailcar/conf.d.
  --checkpoint-dir DIR        Where acknowledged offsets are kept (default $TAILCAR_CHECKPOINT_DIR,
                              else /var/lib/tailcar). Put it on a volume that outlives the container.
  --stop-delay SECONDS        After SIGTERM, keep collecting and delivering at most this long, then
                              exit 0 (default $TAILCAR_STOP_DELAY, else 10, as run_logtail.sh 10).
                              Exits sooner once every file sat at its end, delivered, for 1 s.
  --exit-when-drained SECONDS Exit 0 once every file sat at its end, delivered, for SECONDS
                              (Jobs and benchmarks).
  --task-dir DIR              The Logtail sidecar's Job handshake on a shared volume (default
                              $TAILCAR_TASK_DIR, else /tasksite when that directory exists, as in
                              the vendor's examples, and no other task option is set): once started,
                              tailcar writes DIR/cornerstone; when the application writes
                              DIR/tombstone, tailcar scans once more, reads every file to its end,
                              waits until everything is delivered and checkpointed, and exits 0.
  --cornerstone PATH          The cornerstone alone (default $TAILCAR_CORNERSTONE, else DIR/cornerstone).
  --tombstone PATH            The tombstone alone (default $TAILCAR_TOMBSTONE, else DIR/tombstone).
  --no-task-files             No cornerstone, no tombstone, whatever is set or mounted: the vendor
                              commands (ilogtaild start ... stop) drive the handshake and the stop.
  --poll-interval SECONDS     How often files are checked for rotation and new files are searched
                              for (default 0.5). inotify reports changes sooner where available.
  --no-reload                 Do not watch the configuration. By default the pipeline files are
                              checked every poll interval (a ConfigMap's ..data swap included); a
                              change adds, replaces or removes pipelines without a restart, and files
                              of changed pipelines continue at their acknowledged offsets.
  --bootstrap                 Before starting, do what `tailcar bootstrap` does; failures are logged
                              (event bootstrap, level warn) and the run goes on.
  --control-interval SECONDS  How often the SLS console's configs for this sidecar are fetched again
                              (default 10; see "SLS console" below).
  --discovery-interval SECONDS  How often projects and machine groups are looked through again
                              (default 300).
  --no-sls-configs            Do not follow the SLS console; run the local configuration only.
  --no-inotify                Find changes by stat-polling alone (used anyway where inotify is
                              unavailable or its watches run out).
  --read-delay SECONDS        With inotify, read a changed file this long after the first change of
                              a burst, with every change until then, rather than once per write
                              (default 0.05; 0: read on every change). A line reaches the flushers
                              up to this much later; a file with 256 KiB or more waiting is read at once.
  --max-bytes-per-sec N       Read at most N bytes a second, all files together (Logtail's
                              max_bytes_per_sec; default: unlimited). A backlog is then read at
                              this pace; the time held back is tailcar_read_throttled_seconds_total.
  --sealing-threads N         Threads that encode, compress and hash flusher_sls batches while the
                              loop is busy (a backlog; default: the container's CPU quota rounded up,
                              at most its CPUs; 0 when that is one CPU or less). The loop thread seals
                              when it is mostly idle, and always with 0.
  --replace-inputs PATH       Every input reads this one file from its first byte (what bench runs).
  --replace-flushers blackhole|sls=URL
                              Every flusher becomes a blackhole, or flusher_sls is sent to URL (the
                              others blackholed): try a pipeline without its real sink.
  --idle-close SECONDS        Close a file's descriptor after it sat idle this long (default 60);
                              it is reopened by identity when it grows.
  --max-in-flight-mb N        MB of records handed to flushers and not acknowledged, all pipelines
                              together, before reading pauses (default: an eighth of the container's
                              memory limit, 4 to 256; 32 without a limit).
  --http-port PORT            Serve on 127.0.0.1:PORT (default $TAILCAR_HTTP_PORT, else 18765; 0: off):
                              GET /healthz (200 while running, 503 once stopping), GET /metrics
                              (Prometheus text), POST /quitquitquit (a graceful stop, as SIGTERM).

bootstrap (PATH as run; the same environment: machine group, SLS endpoint, AccessKey):
  For each AliyunLogConfig resource that applies here, creates through the SLS API what the vendor's
  controller creates: the project, the logstore (ttl spec.lifeCycle, default 90 days; spec.shardCount
  shards, default 2), a full-text index, a machine group per spec.machineGroups entry (identified by
  user-defined id), the Logtail config (spec.logtailConfig), and the config applied to each group.
  "Already exists" answers count as success. One line per resource: created, exists, or failed with
  the SLS error code and request id. For each flusher_clickhouse, its database and table (the schema
  the flusher makes at start; no AccessKey needed for these). Exit 0 when every resource exists, 1 when
  one does not, 2 for a usage or configuration error.

controller options (the vendor controller's variables in brackets):
  --kubeconfig PATH           The API from a kubeconfig's current context (default $KUBECONFIG; server,
                              certificate-authority[-data], token or tokenFile). Without one: the pod's
                              service account (KUBERNETES_SERVICE_HOST/PORT, its token read again at each
                              request, ca.crt, namespace; directory $TAILCAR_SERVICE_ACCOUNT_DIR, else
                              /var/run/secrets/kubernetes.io/serviceaccount).
  --context NAME              Another kubeconfig context.
  --namespace NS              Watch one namespace (default $WATCH_NAMESPACE, else all).
  --sls-endpoint ENDPOINT     The SLS control-plane endpoint [ALICLOUD_LOG_ENDPOINT]; required.
  --default-project NAME      For resources with no spec.project [ALICLOUD_LOG_PROJECT].
  --default-machine-group G   For resources with no spec.machineGroups [ALICLOUD_LOG_MACHINE_GROUP].
  --identity NAME             The Lease holder's name (default $POD_NAME, else host_pid).
  --lease-name NAME           Default tailcar-controller, in --lease-namespace (default the access's
                              namespace). --lease-duration 15, --renew-deadline 10, --retry-period 2
                              (seconds) as client-go's; --no-leader-election for a single replica.
  --retry-min S, --retry-max S
                              A failed reconcile is retried after 1 s doubling to 300 s; others go on.
  --resync SECONDS            Reconcile every resource again this often (default 600; 0: never), making
                              again what was deleted in SLS; the status is written only when it changes.
  --watch-timeout SECONDS     What each watch asks the server for (default 300); then it watches again.
  --http-port PORT            As run's: GET /healthz (leader, watch, resources, failing), GET /metrics.
  --sls-ca-file PATH          Trust this CA for an https SLS endpoint.
  The AccessKey as bootstrap. Lists and watches the resources (bookmarks; a dropped watch resumes from
  the last resourceVersion after 0.2 s doubling to 30 s; 410 Gone lists again), and while it holds the
  Lease reconciles each new resource or changed spec (metadata.generation) as bootstrap does, with the
  vendor's logstore settings and default Kubernetes index, updating an existing config (UpdateConfig).
  Status: {status: OK, statusCode: 200, observedGeneration, lastUpdateTime}, or the SLS errorCode as
  status, statusCode, errorMessage, requestId, step, retryCount. A deleted resource leaves SLS alone
  (event resource_deleted). Log: one JSON object per line on stderr.

SLS console (run and check-config --from-sls; on when the sidecar has a user-defined id,
ALIYUN_LOGTAIL_CONFIG and an AccessKey): the configs applied to machine groups whose machineIdentifyType
is userdefined and whose machineList holds one of the ids run beside the local ones (a local pipeline of
the same name wins). Projects: ListProject, or TAILCAR_SLS_PROJECTS (comma list). Each poll makes one
GetAppliedConfigs per such group and one GetConfig per config; edits reload without a restart. The last
good set is kept in DIR/sls-configs.json (--checkpoint-dir) and run at start when SLS cannot be reached.

bench options (the sample is replayed at rising rates into a child `tailcar run` placed in each
budget; a rate holds when the lag stays under 1 s and does not grow for the whole --seconds run):
  --config PIPELINE           One pipeline (any form run loads); its processors, multi-line rules and
                              topic are kept, its inputs read the sample, its flushers are a blackhole.
  --sample FILE               Lines of your format (repeated as needed). Default: tailcar-gen's
                              --format lines (nginx; tailcar-gen beside tailcar, on PATH or $TAILCAR_GEN).
  --cpus LIST, --memory LIST  Budgets: every CPU share (0.25 or 250m) with every limit (32Mi, 1Gi).
  --seconds N                 Length of the confirming run of each budget (default 60; the search's
                              probing steps take a quarter of it, 2 to 10 s each).
  --json                      One JSON object per budget on stdout: cpus, memory_mib,
                              lines_per_second, mb_per_second, peak_rss_mib, measured, backend, ...
  --keep-flusher [--sink URL] Keep flusher_sls, sent to URL (a local SLS-compatible receiver), or
                              without --sink to a `tailcar sls-sink` the bench starts and stops.
  --backend auto|cgroup|podman|estimate
                              How budgets are enforced (default auto: a child cgroup, v1 or v2, when
                              this process may create one; else podman with --image, default
                              localhost/tailcar:dev, given --podman-root/--podman-runroot storage;
                              else an estimate from CPU-seconds per MB, marked measured: false).
  --work-dir DIR              Where the temporary sample files go (default $TMPDIR, else /tmp).
  SIGINT or SIGTERM stops the child run and removes its cgroup and files.

status options:
  --port PORT                 The port `run` serves on (default $TAILCAR_HTTP_PORT, else 18765).
  --timeout SECONDS           Give up after this long (default 3). Exit 0 on 200, else 1 with one
                              line saying why; a liveness exec probe.

inject options (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, and Lists of them;
other kinds pass through; a pod that already has the sidecar is left as it is; comments are not kept):
  -f, --filename FILE         The manifest, one or more YAML documents; - reads standard input.
  --log-dir DIR               The application's log directory: shared through the volume an application
                              container mounts there, else a new emptyDir mounted in every container.
  --image IMAGE               The sidecar image (default tailcar:\(tailcarVersion)).
  --config-map NAME           The ConfigMap of pipelines or AliyunLogConfig resources, mounted at
                              /etc/tailcar/conf.d (TAILCAR_CONFIG; default tailcar-config).
  --classic                   A regular container instead of a native sidecar (an init container with
                              restartPolicy Always, Kubernetes 1.29+). Jobs then get /tasksite and
                              TAILCAR_TASK_DIR: the application must touch /tasksite/tombstone at its end.
  --user-defined-id ID        ALIYUN_LOGTAIL_USER_DEFINED_ID (default: the workload's name).
  --user-id ID                ALIYUN_LOGTAIL_USER_ID (omitted unless given).
  --region REGION             ALIYUN_LOGTAIL_CONFIG=/etc/ilogtail/conf/REGION/ilogtail_config.json, e.g.
                              cn-hangzhou (intranet) or cn-hangzhou-internet.
  --stop-delay SECONDS        The sidecar's --stop-delay (default 10).
  --name NAME                 The sidecar container's name (default tailcar).

Environment (the Logtail sidecar's contract; `tailcar run` needs no arguments):
  ALIYUN_LOGTAIL_USER_DEFINED_ID  An AliyunLogConfig applies when its spec.machineGroups name this id
                              (or name none); others are skipped with a config_note. Unset: all apply.
  ALIYUN_LOGTAIL_CONFIG       The region's ilogtail_config.json: data_server_list[0].endpoint is the
                              SLS endpoint of resources that name none. When the file is absent, the
                              vendor layout /etc/ilogtail/conf/<region>[-internet]/ilogtail_config.json
                              gives <region>-intranet.log.aliyuncs.com (<region>.log.aliyuncs.com).
  ALIYUN_LOG_ENV_TAGS         `|`-separated names of variables attached to every record as tags.
  ALIYUN_LOGTAIL_USER_ID      Accepted for compatibility (the account is the credentials' business).
  enable_full_drain_mode      true: after SIGTERM no deadline; every file is read to its end and
                              delivered before the exit (also LOONG_ENABLE_FULL_DRAIN_MODE).
  mem_usage_limit             MB (at least 384): bounds the in-flight cap as a cgroup memory limit does.
  max_bytes_per_sec           The read-rate limit (at least 1 MiB/s). These two and the vendor's other
                              resource keys also come from ALIYUN_LOGTAIL_CONFIG's file; the environment
                              (LOONG_<KEY> first) wins. Those not acted on are listed once at start.
  TZ                          The zone of times without one when the configuration names none.
  TAILCAR_CONFIG, TAILCAR_CHECKPOINT_DIR, TAILCAR_STOP_DELAY, TAILCAR_HTTP_PORT, TAILCAR_TASK_DIR,
  TAILCAR_CORNERSTONE, TAILCAR_TOMBSTONE   Defaults of the options above.

Pipelines (iLogtail form):
  inputs:   [{Type: input_file, FilePaths: ["/var/log/app/*.log"], MaxDirSearchDepth: 0,
              TailingAllMatchedFiles: false, TailSizeKB: 1024}]
  flushers: [{Type: flusher_stdout}] | [{Type: flusher_file, FilePath: /tmp/out.jsonl}]
            | [{Type: flusher_blackhole}]
            | [{Type: flusher_sls, Endpoint: cn-hangzhou.log.aliyuncs.com, Project: p, Logstore: l,
                CompressType: lz4}]   (https unless the endpoint says http://)
            | [{Type: flusher_otlp, Endpoint: http://collector:4318, Compression: gzip,
                Headers: {X-Scope-OrgID: t}, BodyKey: content}]   (POST {Endpoint}/v1/logs, protobuf)
            | [{Type: flusher_clickhouse, Endpoint: http://clickhouse:8123, Database: logs, Table: app,
                User: default, Password: "", Columns: [content]}]   (database and table made when missing)

flusher_sls credentials (never logged):
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET [, ALIBABA_CLOUD_SECURITY_TOKEN], or
  ALIBABA_CLOUD_CREDENTIALS_FILE (JSON AccessKeyId/AccessKeySecret/SecurityToken, or the CLI's INI),
  re-read when it changes. SSL_CERT_FILE names another CA bundle; _pod_ip_ (or POD_IP) is __source__.

Records are printed as one JSON object per line: __time__, __path__, content, tags as __tag__:KEY.
Bytes that are not UTF-8 appear as \\udcXX escapes (Python's surrogateescape), so nothing is lost.
Internal events are JSON lines on standard error.
"""
