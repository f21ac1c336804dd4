#!/usr/bin/env python3
"""`make soak`: a long run of two flavors under random crashes and restarts,
then an outside check of everything they did. Not part of `make test`.

Everything runs on services of its own (a private broker and PostgreSQL via
scripts/services.sh with DEVINFRA_STATE, KAFKA_PORT and PG_PORT, 127.0.0.1
only), so the chaos disturbs nothing else:

- `produce --synthetic` publishes SOAK_RATE events/s for SOAK_SECS into a
  4-partition topic, and a poison record (bytes that are no event) goes in
  every SOAK_POISON_SECS;
- the `timeline` flavor (PostgreSQL) and the `evp-indexer` flavor (a loopback
  logs intake in this process that keeps every event_id it is sent) consume
  it, each restarted 1–3 s after it exits;
- a timer replica (`bench_runtime timers --log`: the runtime firing durable
  timers, each committed with its id in `fired_log`) owns the partitions of
  an empty 4-partition topic of its own, to which the timers belong;
  SOAK_TIMER_RATE timers per second come due over the chaos window;
- during the first two thirds, every 30–90 s one of: SIGKILL or SIGTERM of a
  flavor or of the timer replica, a PostgreSQL restart, a broker restart; the
  last third is calm, and
  the flavors' memory (RSS, every 5 s) is judged on it.

Then, from outside: both groups' committed offsets equal the end offsets;
the timeline's ledger holds every event exactly once and its cells match the
stream; the intake got every event (copies re-sent after a SIGKILL are
counted: the logs intake has no dedup, so the promise there is at least
once); each flavor's DLQ holds one dead letter per poison record; every
seeded timer fired, and exactly once in `fired_log`. The report
goes to target/soak/<UTC time>/report.md (and JSON beside it); the exit
status is 0 only when every check held.

    SOAK_SECS=1800 SOAK_RATE=2000 python3 bench/soak.py     # the issue's run
    SOAK_SECS=120 SOAK_RATE=500 python3 bench/soak.py       # a quick one
"""

import datetime
import gzip
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)
SECS = int(os.environ.get("SOAK_SECS", 1800))
RATE = int(os.environ.get("SOAK_RATE", 2000))
POISON_SECS = int(os.environ.get("SOAK_POISON_SECS", 60))
PER_CASE = 20
KAFKA_PORT = int(os.environ.get("SOAK_KAFKA_PORT", 19092))
PG_PORT = int(os.environ.get("SOAK_PG_PORT", 15432))
BROKERS = f"127.0.0.1:{KAFKA_PORT}"
PG = f"postgres://postgres@127.0.0.1:{PG_PORT}"
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BIN = os.environ.get("SOAK_BIN", os.path.join(TARGET, "release/case-event-handler"))
EX = os.environ.get("SOAK_EX", os.path.join(TARGET, "release/examples/bench_runtime"))
# Durable timers fired by a replica of the runtime (bench_runtime timers --log)
# under the same chaos: SOAK_TIMER_RATE due per second over the chaos window.
TIMER_RATE = int(os.environ.get("SOAK_TIMER_RATE", 50))
STAMP = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
OUT = os.path.join(ROOT, "target/soak", STAMP)
STATE = os.path.join(OUT, "state")
TOPIC = f"soak-{STAMP.lower()}"
SEED = 7
CASES = max(1, RATE * SECS // PER_CASE)
SERVICE_ENV = dict(os.environ, DEVINFRA_STATE=STATE, KAFKA_PORT=str(KAFKA_PORT), PG_PORT=str(PG_PORT))
T0 = time.monotonic()
EVENTS = []  # (seconds since start, what happened)
FAULTS = []  # the chaos actions taken


def log(msg):
    EVENTS.append((round(time.monotonic() - T0, 1), msg))
    print(f"[soak {time.monotonic() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, **kw).stdout


def services(*args):
    sh(["scripts/services.sh", *args], env=SERVICE_ENV)


def psql(sql, db="ceh_soak"):
    return sh(["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql]).strip()


def end_offsets(topic):
    md = json.loads(sh(["kcat", "-b", BROKERS, "-L", "-t", topic, "-J"]))
    parts = [p["partition"] for t in md["topics"] if t["topic"] == topic for p in t["partitions"]]
    ends = {}
    for p in parts:
        out = sh(["kcat", "-b", BROKERS, "-Q", "-t", f"{topic}:{p}:-1"])
        ends[p] = int(out.split("offset")[-1].strip())
    return ends


def admin(*args):
    """bench/KafkaAdmin.java against the private broker."""
    cp = os.path.join(ROOT, ".devinfra/kafka/libs/*")
    return sh(["java", "-cp", cp, "bench/KafkaAdmin.java", BROKERS, *args], stderr=subprocess.DEVNULL)


def committed(group):
    return {int(k): v for k, v in json.loads(admin("committed", group)).items()}


class Intake(BaseHTTPRequestHandler):
    """The loopback logs intake: 202 for every request, every event_id kept."""

    protocol_version = "HTTP/1.1"
    seen = {}
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        docs = json.loads(body)
        with Intake.lock:
            for d in docs:
                Intake.seen[d.get("event_id")] = Intake.seen.get(d.get("event_id"), 0) + 1
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class Flavor:
    """One flavor process, restarted 1–3 s after it exits until stopped."""

    def __init__(self, name, intake_url, cmd=None):
        self.name, self.group = name, f"soak-{name}-{STAMP.lower()}"
        self.proc, self.stopping, self.starts, self.rss = None, False, 0, []
        cfg = os.path.join(OUT, f"{name}.yaml")
        with open(cfg, "w") as f:
            f.write(f"kafka:\n  brokers: \"{BROKERS}\"\n  topics: [{TOPIC}]\n  group_id: {self.group}\n"
                    f"store:\n  url: \"{PG}/ceh_soak\"\n"
                    f"telemetry:\n  http_addr: \"127.0.0.1:0\"\n  log_level: warn\n"
                    f"flavors:\n  evp-indexer:\n    url: \"{intake_url}\"\n    api_key: soak\n")
        self.cmd = cmd or [BIN, "--env", "production", "--config", cfg, "run", "--flavor", name]
        self.err = open(os.path.join(OUT, f"{name}.stderr"), "a")
        threading.Thread(target=self.supervise, daemon=True).start()

    def supervise(self):
        while not self.stopping:
            if self.proc is None or self.proc.poll() is not None:
                if self.proc is not None:
                    log(f"{self.name} exited {self.proc.returncode}; restarting")
                    time.sleep(random.uniform(1, 3))
                    if self.stopping:
                        return
                self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self.err)
                self.starts += 1
            self.sample()
            time.sleep(5)

    def sample(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            self.rss.append((round(time.monotonic() - T0), self.proc.pid, kb))
        except (OSError, StopIteration):
            pass

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self):
        self.stopping = True
        self.signal(signal.SIGTERM)
        return self.proc.wait(timeout=60) if self.proc else None


def chaos(flavors, until):
    actions = [
        ("SIGKILL timeline", lambda: flavors[0].signal(signal.SIGKILL)),
        ("SIGKILL evp-indexer", lambda: flavors[1].signal(signal.SIGKILL)),
        ("SIGTERM timeline", lambda: flavors[0].signal(signal.SIGTERM)),
        ("SIGTERM evp-indexer", lambda: flavors[1].signal(signal.SIGTERM)),
        ("SIGKILL timers", lambda: flavors[2].signal(signal.SIGKILL)),
        ("SIGTERM timers", lambda: flavors[2].signal(signal.SIGTERM)),
        ("restart postgres", lambda: services("restart", "postgres")),
        ("restart kafka", lambda: services("restart", "kafka")),
    ]
    time.sleep(min(60, until / 4))
    while time.monotonic() - T0 < until:
        name, act = random.choice(actions)
        log(name)
        FAULTS.append(name)
        try:
            act()
        except subprocess.CalledProcessError as e:
            log(f"{name} failed: {e}")
        time.sleep(random.uniform(30, 90))


def poison(until):
    """A poison record every POISON_SECS (counted later from the topic itself)."""
    n = 0
    while time.monotonic() - T0 < until:
        time.sleep(POISON_SECS)
        subprocess.run(["kcat", "-b", BROKERS, "-P", "-t", TOPIC, "-k", f"poison-{n}",
                        "-X", "message.timeout.ms=60000"],
                       input=b"\xff\x00 not an event", stderr=subprocess.DEVNULL)
        n += 1


def expected_stream():
    """Events and timeline cells the synthetic stream holds (edits and deletes
    of comments update their comment's cell)."""
    cmd = [BIN, "produce", "--synthetic", "--cases", str(CASES), "--events-per-case",
           str(PER_CASE), "--seed", str(SEED), "--stdout"]
    events = cells = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as p:
        for line in p.stdout:
            events += 1
            if b'"case.comment_edited"' not in line and b'"case.comment_deleted"' not in line:
                cells += 1
    return events, cells


def origins(topic, fmt, keep):
    """Reads `topic` to its end with kcat's format `fmt`; the lines `keep` says yes to."""
    out = subprocess.run(["kcat", "-b", BROKERS, "-C", "-t", topic, "-e", "-q", "-f", fmt],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return [line for line in out.stdout.decode("utf-8", "replace").splitlines() if keep(line)]


def poison_records():
    """(partition, offset) of every poison record in the source topic."""
    lines = origins(TOPIC, "%k %p %o\\n", lambda line: line.startswith("poison-"))
    return sorted((int(p), int(o)) for _, p, o in (line.split() for line in lines))


def dead_letters(flavor):
    """(partition, offset) of the source record of every dead letter of `flavor`."""
    lines = origins(f"{TOPIC}.dlq.{flavor}", "%h\\n", lambda line: "dlq.original" in line)
    found = []
    for line in lines:
        p = re.search(r"dlq\.original\.partition=(\d+)", line)
        o = re.search(r"dlq\.original\.offset=(\d+)", line)
        if p and o:
            found.append((int(p.group(1)), int(o.group(1))))
    return sorted(found)


def rss_verdict(flavor, calm_from):
    """The RSS of the process that ran through the calm window: first and last
    sample, growth; flat means it grew less than 20 %."""
    calm = [(t, pid, kb) for t, pid, kb in flavor.rss if t >= calm_from]
    if not calm:
        return {"samples": 0, "flat": False}
    pid = calm[-1][1]
    mine = [kb for t, p, kb in calm if p == pid]
    growth = (mine[-1] - mine[0]) / mine[0] if mine[0] else 0.0
    return {"samples": len(mine), "first_mb": round(mine[0] / 1024, 1),
            "last_mb": round(mine[-1] / 1024, 1), "max_mb": round(max(mine) / 1024, 1),
            "growth": round(growth, 3), "flat": growth < 0.2}


def timers_cmd(*args):
    # A 4-partition topic of its own, without records: the replica owns its
    # partitions, and the timers belong to them.
    return [EX, "--brokers", BROKERS, "--store-url", f"{PG}/ceh_soak", "--set", "telemetry.log_level=warn",
            "timers", "--topic", f"{TOPIC}-timers", "--group", f"soak-timers-{STAMP.lower()}", *args]


def timers_check(expected, deadline):
    """Waits (until `deadline`) for every seeded timer to fire; then counts
    the firings committed in `fired_log` from outside."""
    pending = expected
    while time.monotonic() < deadline:
        pending = int(psql("SELECT COUNT(*) FROM timers WHERE flavor = 'bench-timers' AND state <> 'fired'"))
        if pending == 0:
            break
        time.sleep(5)
    rows = int(psql("SELECT COUNT(*) FROM fired_log"))
    distinct = int(psql("SELECT COUNT(DISTINCT firing_id) FROM fired_log"))
    late = psql("SELECT COALESCE(MAX(fired_at - due_at), 0) FROM timers WHERE flavor = 'bench-timers'")
    return {"seeded": expected, "not_fired": pending, "log_rows": rows, "distinct": distinct,
            "max_lateness_ms": int(float(late))}


def main():
    os.makedirs(OUT, exist_ok=True)
    log(f"{SECS} s at {RATE} events/s ({CASES * PER_CASE} events) into {TOPIC}; output in {OUT}")
    services("up", "kafka", "postgres")
    psql("DROP DATABASE IF EXISTS ceh_soak WITH (FORCE)", db="postgres")
    psql("CREATE DATABASE ceh_soak", db="postgres")
    admin("create", TOPIC, "4")
    admin("create", f"{TOPIC}-timers", "4")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Intake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/v2/logs"
    timers = TIMER_RATE * (SECS * 2 // 3)
    subprocess.run(timers_cmd("--seed-only", "--due", str(timers), "--rate", str(TIMER_RATE)), check=True,
                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "timers-seed.stderr"), "w"))
    replica = timers_cmd("--no-seed", "--log", "--secs", "0")
    flavors = [Flavor("timeline", url), Flavor("evp-indexer", url), Flavor("timers", url, cmd=replica)]
    produce = subprocess.Popen(
        [BIN, "--env", "production", "--set", f"kafka.brokers={BROKERS}", "produce", "--topic", TOPIC,
         "--synthetic", "--cases", str(CASES), "--events-per-case", str(PER_CASE),
         "--seed", str(SEED), "--rate", str(RATE)],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "produce.stderr"), "w"))
    chaos_until = SECS * 2 // 3
    threading.Thread(target=chaos, args=(flavors, chaos_until), daemon=True).start()
    threading.Thread(target=poison, args=(SECS - 30,), daemon=True).start()
    produced = produce.wait()
    log(f"producer exited {produced}")
    deadline = time.monotonic() + 600
    ends = end_offsets(TOPIC)
    while time.monotonic() < deadline:
        lagging = [f.name for f in flavors[:2] if committed(f.group) != ends]
        if not lagging:
            break
        time.sleep(5)
        ends = end_offsets(TOPIC)
    caught_up = time.monotonic() < deadline
    log(f"caught up: {caught_up}")
    fired = timers_check(timers, time.monotonic() + 120)
    exits = {f.name: f.stop() for f in flavors}
    events, cells = expected_stream()
    ledger = int(psql("SELECT COUNT(*) FROM processed_events WHERE flavor = 'timeline'"))
    distinct = int(psql("SELECT COUNT(DISTINCT event_id) FROM processed_events WHERE flavor = 'timeline'"))
    cell_rows = int(psql("SELECT COUNT(*) FROM timeline_cells"))
    seen = dict(Intake.seen)
    copies = sum(seen.values()) - len(seen)
    dlq = {f.name: dead_letters(f.name) for f in flavors[:2]}  # the timer replica has no DLQ
    poisons = poison_records()
    calm_from = chaos_until + min(90, (SECS - chaos_until) // 3)
    report = {
        "stamp": STAMP, "secs": SECS, "rate": RATE, "events": events, "poison_records": len(poisons),
        "producer_exit": produced, "caught_up": caught_up, "exits": exits,
        "starts": {f.name: f.starts for f in flavors},
        "timeline": {"ledger_rows": ledger, "distinct": distinct, "cells": cell_rows, "expected_cells": cells},
        "evp_indexer": {"distinct_ids": len([k for k in seen if k]), "copies": copies},
        "timers": fired,
        "dlq": {k: {"records": len(v), "distinct_origins": len(set(v))} for k, v in dlq.items()},
        "rss": {f.name: rss_verdict(f, calm_from) for f in flavors},
        "chaos": EVENTS,
    }
    checks = {
        "producer finished": produced == 0,
        "committed = end offsets (both groups)": caught_up,
        "timeline: every event once in the ledger": ledger == distinct == events,
        "timeline: cells match the stream": cell_rows == cells,
        "evp-indexer: every event reached the intake": report["evp_indexer"]["distinct_ids"] == events,
        "DLQ: one dead letter per poison record (each flavor)": all(
            v == poisons for v in dlq.values()),
        "RSS flat in the calm window (each flavor)": all(r["flat"] for r in report["rss"].values()),
        "timers: every seeded timer fired exactly once": fired["not_fired"] == 0
        and fired["log_rows"] == fired["distinct"] == timers,
        "clean exits at the end": all(code == 0 for code in exits.values()),
    }
    report["checks"] = checks
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    lines = [f"# Soak {STAMP}", "", f"{SECS} s at {RATE} events/s: {events} events, "
             f"{len(poisons)} poison records, {len(FAULTS)} faults injected "
             f"({', '.join(f'{FAULTS.count(k)} × {k}' for k in sorted(set(FAULTS)))}).", "", "| check | held |", "|---|---|"]
    lines += [f"| {k} | {'yes' if v else '**NO**'} |" for k, v in checks.items()]
    lines += ["", "```json", json.dumps({k: v for k, v in report.items() if k != "chaos"}, indent=2),
              "```", "", "Faults and restarts (seconds from start):", ""]
    lines += [f"- {t} s: {what}" for t, what in EVENTS]
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    services("stop")
    log(f"report: {os.path.join(OUT, 'report.md')}")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
