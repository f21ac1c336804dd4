#!/usr/bin/env bash
# Starts, stops and reports the services that the integration tests use: Kafka,
# PostgreSQL, OpenSearch and Mailpit (an SMTP server that stores what it receives), all on
# 127.0.0.1 and without Docker.
#
#   scripts/services.sh up|start|stop|restart|down|status [--fresh] [kafka|postgres|opensearch|mailpit ...]
#                                                                      (default: all four)
#
# State (jars, data, logs, PID files) lives in .devinfra/, which git ignores. `up` (= `start`)
# starts what is not running and reuses what is; `stop` (= `down`) stops each service by its
# recorded PID; `restart` stops then starts. Data is kept across stop and start: a service
# starts from an empty data directory only the first time, or with --fresh (or
# SERVICES_FRESH=1). DEVINFRA_STATE puts the state elsewhere and KAFKA_PORT moves the broker
# (its controller listens on KAFKA_PORT+1), so a test can run a private broker it may stop
# and restart; the downloaded jars stay shared in .devinfra/. devinfra/NOTES.md has the
# details and measurements.
#
# Mailpit is built once from its Go module (`go install`, Go from /usr/local/go; the module
# proxy serves it) into DEVINFRA_BIN (default .devinfra/bin, next to Helm). It listens for
# SMTP on 127.0.0.1:MAILPIT_SMTP_PORT (1025) and serves its HTTP API on
# 127.0.0.1:MAILPIT_HTTP_PORT (8025), accepts any SMTP credentials (also without TLS), and
# has chaos enabled: `PUT /api/v1/chaos` makes MAIL/RCPT/AUTH answer a chosen 4xx or 5xx.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${DEVINFRA_STATE:-$ROOT/.devinfra}
PG_PORT=${PG_PORT:-5432}
KAFKA_PORT=${KAFKA_PORT:-9092}
JARS=${DEVINFRA_JARS:-$ROOT/.devinfra} # Downloaded jars, shared by every state directory.
FRESH=${SERVICES_FRESH:-0}
PG_DB=ceh_test
START_TIMEOUT=${SERVICES_START_TIMEOUT:-180} # Seconds a service may take to become ready.
STOP_TIMEOUT=${SERVICES_STOP_TIMEOUT:-30}    # Seconds between the polite signal and SIGKILL.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1
SMTP_PORT=${MAILPIT_SMTP_PORT:-1025}
MAILPIT_HTTP_PORT=${MAILPIT_HTTP_PORT:-8025}
MAILPIT_VERSION=${MAILPIT_VERSION:-v1.33.1}
BIN=${DEVINFRA_BIN:-$JARS/bin} # Go-built tools (mailpit), shared by every state directory.
ALL=(kafka postgres opensearch mailpit)

# devinfra/kafka/server.properties names 9092/9093; KAFKA_PORT rewrites them. Mailpit's
# port here is its SMTP port; its API is on MAILPIT_HTTP_PORT.
declare -A PORT=([kafka]=$KAFKA_PORT [postgres]=$PG_PORT [opensearch]=9200 [mailpit]=$SMTP_PORT)
declare -A PIDFILE LOGFILE STARTED_AT
for svc in "${ALL[@]}"; do
    PIDFILE[$svc]=$STATE/$svc/$svc.pid
    LOGFILE[$svc]=$STATE/$svc/$svc.log
done

log() { echo "[services] $*" >&2; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
need() { command -v "$1" >/dev/null || { log "$1 is not installed ($2)"; return 1; }; }

# The postgres user must be able to reach the data directory. When this checkout is
# somewhere it cannot (a home directory with mode 700, say), the data goes to /tmp.
pg_data() {
    if runuser -u postgres -- test -x "$STATE/postgres" 2>/dev/null; then
        echo "$STATE/postgres/data"
    else
        echo "/tmp/ceh-postgres-$PG_PORT"
    fi
}

# A string that the service's command line must contain, so that a PID file naming a
# recycled PID is never trusted or signalled.
marker() {
    case $1 in
    kafka) echo "kafka.Kafka $STATE/kafka/server.properties" ;;
    postgres) echo "-D $(pg_data)" ;;
    opensearch) echo "OsNode.java $STATE/opensearch/home" ;;
    mailpit) echo "mailpit --smtp 127.0.0.1:$SMTP_PORT " ;;
    esac
}

# Prints the recorded PID if that process is alive (not a zombie) and is the service.
live_pid() { # svc
    local pid state
    pid=$(cat "${PIDFILE[$1]}" 2>/dev/null) || return 1
    state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
    [[ $state != Z* ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(marker "$1")" && echo "$pid"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# One check each that the service answers its own protocol, whoever started it.
# For Kafka: an ApiVersions v0 request (correlation id 1) whose reply has error code 0.
answers_kafka() {
    local reply
    reply=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"${PORT[kafka]}"'
        printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x01\x00\x05probe" >&3
        head -c 10 <&3 | od -An -tx1 | tr -d " \n"' 2>/dev/null) || return 1
    [[ $reply == ????????000000010000 ]]
}
answers_postgres() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -t 2 2>/dev/null; }
answers_opensearch() {
    curl -fsS -m 5 "http://127.0.0.1:${PORT[opensearch]}/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1
}
# For Mailpit: its API answers with its version, and its SMTP port greets with a 220.
answers_mailpit() {
    curl -fsS -m 5 "http://127.0.0.1:$MAILPIT_HTTP_PORT/api/v1/info" 2>/dev/null | grep -q '"Version"' &&
        timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/'"$SMTP_PORT"'; head -c 4 <&3' 2>/dev/null | grep -q '^220'
}

# Readiness of a service this script started.
ready_kafka() { grep -q 'Kafka Server started' "${LOGFILE[kafka]}" && answers_kafka; }
ready_postgres() { answers_postgres; }
ready_opensearch() { grep -q OPENSEARCH_STARTED "${LOGFILE[opensearch]}" && answers_opensearch; }
ready_mailpit() { answers_mailpit; }

# Copies a service's jars into .devinfra/<svc>/libs with Maven, unless the jars for the
# current pom.xml are already there (the pom's checksum is kept in libs/.pom.sha256).
fetch_jars() { # svc
    local svc=$1 pom=$ROOT/devinfra/$1/pom.xml libs=$JARS/$1/libs sum t
    sum=$(sha256sum "$pom" | cut -d' ' -f1)
    [[ -f $libs/.pom.sha256 && $(cat "$libs/.pom.sha256") == "$sum" ]] && return 0
    need mvn "apt-get install maven" || return 1
    log "$svc: downloading jars with Maven"
    t=$(now)
    rm -rf "$libs" "$libs.tmp" && mkdir -p "$JARS/$svc" || return 1
    if ! mvn -B -q -f "$pom" "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime \
        -DoutputDirectory="$libs.tmp" >"$STATE/$svc/mvn.log" 2>&1; then
        tail -n 30 "$STATE/$svc/mvn.log" >&2
        log "$svc: Maven could not download the jars (log: $STATE/$svc/mvn.log)"
        return 1
    fi
    echo "$sum" >"$libs.tmp/.pom.sha256"
    mv "$libs.tmp" "$libs"
    log "$svc: $(du -sh "$libs" | cut -f1) of jars in $(since "$t") s"
}

# The start_<svc> functions launch a service and return without waiting for it. Data is
# kept from an earlier run unless FRESH=1 (or there is none yet). Every step checks its
# own failure: they run where `set -e` does not apply.

start_kafka() {
    local dir=$STATE/kafka libs=$JARS/kafka/libs cluster_id
    need java "apt-get install openjdk-17-jdk-headless" && fetch_jars kafka || return 1
    if ((FRESH)) || [[ ! -f $dir/data/meta.properties ]]; then
        rm -rf "$dir/data" || return 1
    fi
    rm -rf "$dir/logs" && mkdir -p "$dir/logs" || return 1
    # The checked-in file has no log.dirs: this checkout's data directory is appended.
    { sed -e "s/:9092/:$KAFKA_PORT/g" -e "s/:9093/:$((KAFKA_PORT + 1))/g" "$ROOT/devinfra/kafka/server.properties" &&
        echo "log.dirs=$dir/data"; } >"$dir/server.properties" || return 1
    local opts=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
        "-Dlog4j2.configurationFile=$ROOT/devinfra/kafka/log4j2.properties" "-Dkafka.logs.dir=$dir/logs")
    # The cluster id must be in Kafka's own 22-character form, so StorageTool makes it.
    if [[ -f $dir/data/meta.properties ]]; then
        log "kafka: keeping the data of $dir/data"
    elif ! cluster_id=$(java -cp "$libs/*" kafka.tools.StorageTool random-uuid 2>"$dir/format.log") ||
        ! java "${opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster_id" \
            -c "$dir/server.properties" >>"$dir/format.log" 2>&1; then
        log "kafka: formatting the data directory failed; end of $dir/format.log:"
        tail -n 20 "$dir/format.log" >&2
        return 1
    fi
    # Many topics mean many open files: raise the soft limit to the hard one.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    # setsid keeps the broker out of the caller's process group, so a Ctrl-C in
    # `make test` does not reach it.
    setsid java "${opts[@]}" -cp "$libs/*" kafka.Kafka "$dir/server.properties" \
        >"${LOGFILE[kafka]}" 2>&1 </dev/null &
    echo $! >"${PIDFILE[kafka]}"
}

# Installs Debian's PostgreSQL when no server binaries are present, refreshing the
# package lists first only when apt has no candidate for it or the install fails.
ensure_postgres_installed() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
    [[ $(id -u) == 0 ]] || { log "postgres: not installed, and installing it needs root"; return 1; }
    log "postgres: installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-cache policy postgresql 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -q >&2
    apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
}

start_postgres() {
    local data bin plog=${LOGFILE[postgres]}
    [[ $(id -u) == 0 ]] || { log "postgres: this script runs initdb through runuser, which needs root"; return 1; }
    ensure_postgres_installed && chmod 755 "$STATE/postgres" || return 1
    data=$(pg_data)
    bin=$(compgen -G '/usr/lib/postgresql/*/bin' | sort -V | tail -n 1)
    if ((FRESH)) || [[ ! -f $data/PG_VERSION ]]; then
        rm -rf "$data" && install -d -o postgres -g postgres -m 700 "$data" || return 1
        # initdb refuses to run as root. The cd keeps it out of a directory postgres cannot
        # read; --no-sync skips the fsyncs that throw-away data does not need.
        (cd / && runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres --auth=trust \
            -E UTF8 --locale=C.UTF-8 --no-sync) >"$STATE/postgres/initdb.log" 2>&1 ||
            { tail -n 20 "$STATE/postgres/initdb.log" >&2; return 1; }
    else
        log "postgres: keeping the data of $data"
    fi
    install -o postgres -m 644 /dev/null "$plog" || return 1
    # Settings for tests: no durability, room for many connection pools, loopback only.
    # pg_ctl -w returns once the server accepts connections.
    (cd / && runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$plog" -w -t "$START_TIMEOUT" -o \
        "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$data -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start) >/dev/null || { show_log postgres; return 1; }
    head -n 1 "$data/postmaster.pid" >"${PIDFILE[postgres]}"
}

start_opensearch() {
    local dir=$STATE/opensearch
    need java "apt-get install openjdk-17-jdk-headless" && need curl "apt-get install curl" &&
        fetch_jars opensearch || return 1
    # The search tests need no data across restarts: the node always starts empty.
    rm -rf "${dir:?}/home" || return 1
    # The system properties are those of the distribution's jvm.options that matter for
    # an embedded node. A single-file source program needs a JDK, not only a JRE.
    setsid java -Xms512m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true \
        -Dio.netty.noUnsafe=true -Dio.netty.recycler.maxCapacityPerThread=0 \
        -Djava.locale.providers=SPI,COMPAT -Dos.http.port="${PORT[opensearch]}" \
        "-Dlog4j2.configurationFile=$ROOT/devinfra/opensearch/log4j2.properties" \
        -cp "$JARS/opensearch/libs/*" "$ROOT/devinfra/opensearch/OsNode.java" "$dir/home" \
        >"${LOGFILE[opensearch]}" 2>&1 </dev/null &
    echo $! >"${PIDFILE[opensearch]}"
}

# Builds Mailpit into $BIN unless the binary of MAILPIT_VERSION is there already (the version
# is kept in $BIN/mailpit.version). Go's module and build caches make a rebuild quick.
ensure_mailpit_installed() {
    local go=${GO:-/usr/local/go/bin/go} t
    [[ -x $BIN/mailpit && $(cat "$BIN/mailpit.version" 2>/dev/null) == "$MAILPIT_VERSION" ]] && return 0
    [[ -x $go ]] || go=$(command -v go) || { log "mailpit: go is not installed (/usr/local/go/bin/go)"; return 1; }
    log "mailpit: building $MAILPIT_VERSION with $("$go" version | cut -d' ' -f3) into $BIN"
    t=$(now)
    mkdir -p "$BIN" && rm -f "$BIN/mailpit.version" || return 1
    # The installed Go only: an older one fails on go.mod's `go` line instead of silently
    # downloading a newer toolchain. Mailpit's SQLite is pure Go (modernc.org/sqlite).
    if ! GOBIN=$BIN GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
        "$go" install "github.com/axllent/mailpit@$MAILPIT_VERSION" >"$STATE/mailpit/build.log" 2>&1; then
        tail -n 20 "$STATE/mailpit/build.log" >&2
        log "mailpit: go install failed (log: $STATE/mailpit/build.log)"
        return 1
    fi
    echo "$MAILPIT_VERSION" >"$BIN/mailpit.version"
    log "mailpit: built in $(since "$t") s"
}

start_mailpit() {
    local dir=$STATE/mailpit
    need curl "apt-get install curl" && ensure_mailpit_installed || return 1
    # Messages are kept across restarts in the state directory, like PostgreSQL's data.
    if ((FRESH)); then rm -f "$dir"/mailpit.db* || return 1; fi
    setsid "$BIN/mailpit" --smtp "127.0.0.1:$SMTP_PORT" --listen "127.0.0.1:$MAILPIT_HTTP_PORT" \
        --database "$dir/mailpit.db" --smtp-auth-accept-any --smtp-auth-allow-insecure \
        --enable-chaos --disable-version-check \
        >"${LOGFILE[mailpit]}" 2>&1 </dev/null &
    echo $! >"${PIDFILE[mailpit]}"
}

# Starts one service unless it runs already. Sets AWAIT=1 when the caller has to wait
# for a process of ours to become ready, AWAIT=0 for a server someone else started.
launch() { # svc
    local svc=$1 pid port=${PORT[$1]}
    AWAIT=1
    if pid=$(live_pid "$svc"); then
        log "$svc: already running (pid $pid)"
        if "ready_$svc"; then AWAIT=0; fi
        return 0
    fi
    if port_open "$port"; then
        if "answers_$svc"; then
            log "$svc: a server this script did not start answers on 127.0.0.1:$port; using it (down will not stop it)"
            AWAIT=0
            return 0
        fi
        log "$svc: 127.0.0.1:$port is taken by something that does not answer as $svc:"
        ss -ltnp "sport = :$port" >&2 || true
        return 1
    fi
    rm -f "${PIDFILE[$svc]}"
    log "$svc: starting"
    "start_$svc" || { log "$svc: could not be started"; return 1; }
}

# Prints a failed service's first error lines (stack traces bury them) and its last lines.
show_log() { # svc
    local f=${LOGFILE[$1]}
    log "$1: first errors in $f:"
    grep -m 8 -E '\b(ERROR|FATAL)\b|^Error|^(Caused by: )?[a-zA-Z.]+(Exception|Error): ' "$f" >&2 || true
    log "$1: last lines of $f:"
    tail -n 15 "$f" >&2 || true
}

# Waits until every named service of ours is ready, checking them in turn, so that each
# start time is measured on its own. On failure prints the end of the service's log.
await_all() { # svc...
    local pending=("$@") left svc pid failed=0 deadline=$((SECONDS + START_TIMEOUT))
    while ((${#pending[@]})); do
        left=()
        for svc in "${pending[@]}"; do
            if "ready_$svc"; then
                pid=$(live_pid "$svc") || pid='?'
                log "$svc: ready after $(since "${STARTED_AT[$svc]}") s (pid $pid, 127.0.0.1:${PORT[$svc]})"
            elif ! live_pid "$svc" >/dev/null || ((SECONDS > deadline)); then
                if live_pid "$svc" >/dev/null; then
                    log "$svc: not ready after $START_TIMEOUT s"
                else
                    log "$svc: the process exited during startup"
                fi
                show_log "$svc"
                failed=1
            else
                left+=("$svc")
            fi
        done
        pending=("${left[@]}")
        if ((${#pending[@]})); then sleep 0.5; fi
    done
    return "$failed"
}

write_env() {
    cat >"$STATE/env" <<EOF
# Written by scripts/services.sh up. Source it (. .devinfra/env) to point tests at the services.
export KAFKA_BROKERS=127.0.0.1:${PORT[kafka]}
export DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB
export OPENSEARCH_URL=http://127.0.0.1:${PORT[opensearch]}
export SMTP_HOST=127.0.0.1
export SMTP_PORT=$SMTP_PORT
export MAILPIT_URL=http://127.0.0.1:$MAILPIT_HTTP_PORT
EOF
    sed -n 's/^export //p' "$STATE/env"
}

cmd_up() {
    local svc failed=0 waiting=()
    # Launch everything first and then wait, so that the services start side by side.
    # OpenSearch, the slowest, goes first; PostgreSQL's start waits for itself, so it goes last.
    # Mailpit's first start builds it (minutes), so it goes right after OpenSearch.
    for svc in opensearch mailpit kafka postgres; do
        [[ " $* " == *" $svc "* ]] || continue
        STARTED_AT[$svc]=$(now)
        if launch "$svc"; then
            if ((AWAIT)); then waiting+=("$svc"); fi
        else
            failed=1
        fi
    done
    await_all "${waiting[@]}" || failed=1
    if [[ " $* " == *" postgres "* ]] && answers_postgres; then
        # The test database is created once per data directory.
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" | grep -q 1 ||
            psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE $PG_DB" || failed=1
    fi
    if ((failed)); then
        log "FAILED: not every service came up (logs are in $STATE/<service>/)"
        return 1
    fi
    write_env
}

# Signals a PID and waits for the process to end; sends SIGKILL after STOP_TIMEOUT.
stop_pid() { # svc pid signal
    local svc=$1 pid=$2 sig=$3 i state
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
        state=$(ps -o stat= -p "$pid" 2>/dev/null) || return 0
        [[ $state == Z* ]] && return 0
        sleep 0.2
    done
    log "$svc: pid $pid still running after $STOP_TIMEOUT s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_down() {
    local svc pid t
    for svc in "$@"; do
        if pid=$(live_pid "$svc"); then
            t=$(now)
            # PostgreSQL takes SIGTERM as "wait until every client has left"; SIGINT is
            # its fast shutdown. The JVMs run their shutdown hooks on SIGTERM, as Mailpit does.
            if [[ $svc == postgres ]]; then stop_pid "$svc" "$pid" INT; else stop_pid "$svc" "$pid" TERM; fi
            log "$svc: stopped pid $pid in $(since "$t") s"
        elif port_open "${PORT[$svc]}"; then
            log "$svc: not started by this script; leaving the server on 127.0.0.1:${PORT[$svc]} alone"
        else
            log "$svc: not running"
        fi
        rm -f "${PIDFILE[$svc]}"
    done
}

cmd_status() {
    local svc pid rc=0 rss
    for svc in "$@"; do
        if pid=$(live_pid "$svc"); then
            # Resident memory of the process and its children (PostgreSQL's backends).
            rss=$(ps -o rss= -p "$pid" --ppid "$pid" | awk '{ s += $1 } END { printf "%d", s / 1024 }')
            if "answers_$svc"; then
                echo "$svc: running, pid $pid, 127.0.0.1:${PORT[$svc]}, RSS $rss MB"
            else
                echo "$svc: pid $pid is alive but 127.0.0.1:${PORT[$svc]} does not answer"
                rc=1
            fi
        elif port_open "${PORT[$svc]}"; then
            echo "$svc: 127.0.0.1:${PORT[$svc]} is served by a process this script did not start"
        else
            echo "$svc: stopped"
            rc=1
        fi
    done
    [[ ! -f $STATE/env ]] || sed -n 's/^export //p' "$STATE/env"
    return "$rc"
}

main() {
    local cmd=${1:-} svc
    shift || true
    if [[ ${1:-} == --fresh ]]; then FRESH=1; shift; fi
    local svcs=("$@")
    ((${#svcs[@]})) || svcs=("${ALL[@]}")
    for svc in "${svcs[@]}"; do
        [[ " ${ALL[*]} " == *" $svc "* ]] || { log "unknown service '$svc' (expected: ${ALL[*]})"; exit 2; }
    done
    for svc in "${ALL[@]}"; do mkdir -p "$STATE/$svc"; done
    case $cmd in
    up | start) cmd_up "${svcs[@]}" ;;
    down | stop) cmd_down "${svcs[@]}" ;;
    restart) cmd_down "${svcs[@]}" && cmd_up "${svcs[@]}" ;;
    status) cmd_status "${svcs[@]}" ;;
    *)
        echo "usage: $0 up|start|stop|restart|down|status [--fresh] [kafka|postgres|opensearch|mailpit ...]" >&2
        exit 2
        ;;
    esac
}

main "$@"
