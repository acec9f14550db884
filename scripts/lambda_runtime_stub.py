"""A local Lambda Runtime API on 127.0.0.1 (only the routes a function calls), to
time a Lambda binary without AWS. Two modes:

    python3 lambda_runtime_stub.py RUNS EVENT.json -- /path/to/bootstrap [args]

Cold starts: for each run, starts the binary with the environment Lambda gives it,
records when it asks for its first event (= the end of init, what Lambda reports
as Init Duration) and when it posts the answer, then stops it. Prints each run and
the median/max.

    python3 lambda_runtime_stub.py --warm [--memory MB] [--between CMD] [--json OUT] \
        EVENT.json [EVENT.json...] -- /path/to/bootstrap [args]

One warm process: starts the binary once and hands it the events in order, one
invocation each, as Lambda does with a warm sandbox. Per invocation it records the
process's CPU time (utime+stime from /proc/PID/stat, read just before the event is
handed out and just after the answer arrives), the wall time between those two
moments and the peak RSS so far (VmHWM); plus init CPU and wall (process start to
first poll). The first invocation is printed on its own, the spread is of the
later ones. CMD (a shell command) runs between two invocations, outside every
figure (e.g. to reset the emulator). Prints min/median/p90/max of each figure, the
CPU the process used while idle between invocations (should be 0) and the answers'
JSON bodies (first one in full, then how many were alike), and writes everything
to OUT. Linux only (/proc). CPU times have the kernel's USER_HZ resolution (10 ms).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
# Longest a single invocation (or init) may take before the run is abandoned: the
# scanner's Lambda timeout is 300 s, but locally anything near that is a hang.
STEP_TIMEOUT_S = 60


def lambda_env(port, memory_mb):
    """The environment Lambda gives a function's bootstrap."""
    return dict(os.environ,
                AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}",
                AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(memory_mb),
                AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/bench", AWS_LAMBDA_LOG_STREAM_NAME="bench")


def send_event(handler, request_id, event, deadline_s):
    """Answers a `GET .../invocation/next` with `event`, with Lambda's headers."""
    handler.send_response(200)
    for k, v in {
        "Lambda-Runtime-Aws-Request-Id": request_id,
        "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + deadline_s * 1000),
        "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
        "Content-Length": str(len(event)),
    }.items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(event)


def refuse(handler, done):
    """Holds a poll that gets no event until the run is over, then fails it."""
    done.wait(STEP_TIMEOUT_S)
    try:
        handler.send_error(503)
    except OSError:
        pass  # the function was stopped meanwhile


def one_cold_run(event, cmd):
    marks, done = {}, threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.endswith("/invocation/next"):
                self.send_error(404)
                return
            if "init" in marks:  # the second poll: this run is over
                refuse(self, done)
                return
            marks["init"] = time.perf_counter_ns()
            send_event(self, "bench-1", event, 30)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            marks["answer"] = time.perf_counter_ns()
            marks["error"] = "/error" in self.path
            marks["body"] = body.decode(errors="replace")
            self.send_response(202)
            self.end_headers()
            done.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start = time.perf_counter_ns()
    proc = subprocess.Popen(cmd, env=lambda_env(server.server_address[1], 512),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = done.wait(30)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    if not ok:
        sys.exit(f"no answer within 30 s; stderr:\n{err.decode(errors='replace')[-2000:]}")
    ms = lambda k: (marks[k] - start) / 1e6
    return ms("init"), ms("answer"), marks["error"], marks["body"]


def cold(runs, event_path, cmd):
    event = open(event_path, "rb").read()
    inits, answers = [], []
    for i in range(runs):
        init, answer, error, body = one_cold_run(event, cmd)
        inits.append(init)
        answers.append(answer)
        if i == 0:
            print(f"first answer ({'error' if error else 'ok'}): {body[:300]}")
    print(f"{runs} cold starts of {os.path.basename(cmd[0])}: "
          f"init (start to first event request) median {statistics.median(inits):.1f} ms, max {max(inits):.1f} ms; "
          f"start to first answer median {statistics.median(answers):.1f} ms, max {max(answers):.1f} ms")


def cpu_ms(pid):
    """User + system CPU of the whole process (all threads, living and gone), in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS  # utime, stime (fields 14, 15)


def peak_rss_mib(pid):
    """VmHWM: the most resident memory the process has held so far."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def warm(event_paths, memory_mb, between, json_out, cmd):
    events = [open(p, "rb").read() for p in event_paths]
    state = {"pid": None, "next": 0, "init": None}
    calls = [{} for _ in events]
    answered = [threading.Event() for _ in events]
    over = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.endswith("/invocation/next"):
                self.send_error(404)
                return
            i = state["next"]
            if i == 0:
                state["init"] = (time.perf_counter_ns(), cpu_ms(state["pid"]), peak_rss_mib(state["pid"]))
            if i >= len(events):
                refuse(self, over)
                return
            state["next"] = i + 1
            if i > 0 and between:
                try:
                    subprocess.run(between, shell=True, check=True, timeout=STEP_TIMEOUT_S,
                                   stdout=subprocess.DEVNULL)
                except (subprocess.SubprocessError, OSError) as e:
                    state["between_error"] = str(e)
                    over.set()
                    refuse(self, over)
                    return
            calls[i]["cpu0"] = cpu_ms(state["pid"])
            calls[i]["t0"] = time.perf_counter_ns()
            send_event(self, f"bench-{i + 1}", events[i], 300)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if "/init/error" in self.path:
                state["init_error"] = body.decode(errors="replace")
                self.send_response(202)
                self.end_headers()
                over.set()
                return
            t1, cpu1, rss = time.perf_counter_ns(), cpu_ms(state["pid"]), peak_rss_mib(state["pid"])
            i = int(self.path.split("/invocation/bench-")[1].split("/")[0]) - 1
            calls[i].update(t1=t1, cpu1=cpu1, rss=rss, error="/error" in self.path,
                            body=body.decode(errors="replace"))
            self.send_response(202)
            self.end_headers()
            answered[i].set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    start = time.perf_counter_ns()
    # stderr to a file: a pipe nobody reads during the run could fill and block it.
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, env=lambda_env(server.server_address[1], memory_mb),
                            stdout=subprocess.DEVNULL, stderr=errors)
    state["pid"] = proc.pid
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failure = None
    for i, a in enumerate(answered):
        # Each step is bounded; a failure elsewhere (`over`) ends the wait early.
        limit = time.monotonic() + STEP_TIMEOUT_S
        while not (a.wait(0.1) or over.is_set() or proc.poll() is not None
                   or time.monotonic() > limit):
            pass
        if a.is_set() and calls[i]["error"]:
            failure = f"invocation {i + 1} failed: {calls[i]['body'][:2000]}"
        elif a.is_set():
            continue
        elif "init_error" in state:
            failure = f"init error: {state['init_error'][:2000]}"
        elif "between_error" in state:
            failure = f"before invocation {i + 1}: {between!r} failed: {state['between_error']}"
        elif proc.poll() is not None:
            failure = f"the function exited with status {proc.returncode} before answering invocation {i + 1}"
        else:
            failure = f"invocation {i + 1}: no answer within {STEP_TIMEOUT_S} s"
        break
    over.set()
    proc.kill()
    proc.wait()
    server.shutdown()
    if failure:
        errors.seek(0)
        err = errors.read()
        sys.exit(f"{failure}\nstderr:\n{err.decode(errors='replace')[-2000:]}")

    init_t, init_cpu, init_rss = state["init"]
    report = {
        "binary": os.path.basename(cmd[0]),
        "init": {"wall_ms": (init_t - start) / 1e6, "cpu_ms": init_cpu, "peak_rss_mib": init_rss},
        "idle_cpu_ms": sum(calls[i + 1]["cpu0"] - calls[i]["cpu1"] for i in range(len(calls) - 1)),
        "invocations": [{"wall_ms": (c["t1"] - c["t0"]) / 1e6, "cpu_ms": c["cpu1"] - c["cpu0"],
                         "peak_rss_mib": c["rss"], "answer": json.loads(c["body"] or "null")}
                        for c in calls],
    }
    print_warm(report)
    if json_out:
        with open(json_out, "w") as f:
            json.dump(report, f, indent=1)


def spread(values):
    """min / median / p90 / max (p90 by the nearest-rank method)."""
    s = sorted(values)
    p90 = s[max(0, -(-len(s) * 9 // 10) - 1)]
    return s[0], statistics.median(s), p90, s[-1]


def print_warm(report):
    inv = report["invocations"]
    init = report["init"]
    print(f"{report['binary']}: init (start to first poll) {init['wall_ms']:.1f} ms wall, "
          f"{init['cpu_ms']:.0f} ms CPU, {init['peak_rss_mib']:.1f} MiB peak RSS")
    first = inv[0]
    print(f"  first invocation: {first['wall_ms']:.1f} ms wall, {first['cpu_ms']:.0f} ms CPU, "
          f"{first['peak_rss_mib']:.1f} MiB peak RSS; answer {json.dumps(first['answer'])[:400]}")
    # The first invocation of a process also pays for first use (connections,
    # allocations), so the spread is of the later, warm ones.
    rest = inv[1:]
    if not rest:
        return
    answers = [json.dumps(c["answer"]) for c in rest]
    alike = max(set(answers), key=answers.count)
    print(f"  later answers: {answers.count(alike)} of {len(answers)} were {alike[:400]}")
    print(f"  {len(rest)} later invocations  min   median      p90      max     mean")
    for label, key, unit in [("wall", "wall_ms", "ms"), ("CPU (user+sys)", "cpu_ms", "ms"),
                             ("peak RSS", "peak_rss_mib", "MiB")]:
        values = [c[key] for c in rest]
        cells = "".join(f"{v:9.1f}" for v in (*spread(values), statistics.fmean(values)))
        print(f"  {label:<15} {unit:>3} {cells}")
    cpu = sum(c["cpu_ms"] for c in rest)
    wall = sum(c["wall_ms"] for c in rest)
    print(f"  CPU/wall over the later invocations: {cpu / wall:.3f} "
          f"({cpu:.0f} ms CPU in {wall:.0f} ms; CPU resolution {TICK_MS:.0f} ms per reading); "
          f"CPU while idle between invocations: {report['idle_cpu_ms']:.0f} ms")


def main():
    args = sys.argv[1:]
    split = args.index("--")
    cmd = args[split + 1:]
    opts = args[:split]
    if opts and opts[0] == "--warm":
        opts = opts[1:]
        memory_mb, between, json_out = 512, None, None
        while opts and opts[0].startswith("--"):
            if opts[0] == "--memory":
                memory_mb = int(opts[1])
            elif opts[0] == "--between":
                between = opts[1]
            elif opts[0] == "--json":
                json_out = opts[1]
            else:
                sys.exit(f"unknown option {opts[0]}")
            opts = opts[2:]
        if not opts:
            sys.exit("--warm needs at least one EVENT.json")
        warm(opts, memory_mb, between, json_out, cmd)
    else:
        cold(int(opts[0]), opts[1], cmd)


if __name__ == "__main__":
    main()
