"""Cold-start timing of a Lambda binary, on 127.0.0.1, without AWS.

    python3 lambda_runtime_stub.py RUNS EVENT.json -- /path/to/bootstrap [args]

For each run: serves a minimal Lambda Runtime API (only the routes a function
calls), starts the binary with the environment Lambda gives it, records when it
asks for its first event (= the end of init, what Lambda reports as Init Duration)
and when it posts the answer, then stops it. Prints each run and the median/max.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

runs, event_path, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[sys.argv.index("--") + 1:]
event = open(event_path, "rb").read()


def one_run():
    marks, done = {}, threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if not self.path.endswith("/invocation/next"):
                self.send_error(404)
                return
            if "init" in marks:  # the second poll: this run is over
                done.wait(5)
                try:
                    self.send_error(503)
                except OSError:
                    pass  # the function was stopped meanwhile
                return
            marks["init"] = time.perf_counter_ns()
            self.send_response(200)
            for k, v in {
                "Lambda-Runtime-Aws-Request-Id": "bench-1",
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                "Content-Length": str(len(event)),
            }.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(event)

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
    env = dict(os.environ,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
               AWS_LAMBDA_FUNCTION_NAME="bench", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512", AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/bench",
               AWS_LAMBDA_LOG_STREAM_NAME="bench")
    start = time.perf_counter_ns()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = done.wait(30)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    if not ok:
        sys.exit(f"no answer within 30 s; stderr:\n{err.decode(errors='replace')[-2000:]}")
    ms = lambda k: (marks[k] - start) / 1e6
    return ms("init"), ms("answer"), marks["error"], marks["body"]


inits, answers = [], []
for i in range(runs):
    init, answer, error, body = one_run()
    inits.append(init)
    answers.append(answer)
    if i == 0:
        print(f"first answer ({'error' if error else 'ok'}): {body[:300]}")
print(f"{runs} cold starts of {os.path.basename(cmd[0])}: "
      f"init (start to first event request) median {statistics.median(inits):.1f} ms, max {max(inits):.1f} ms; "
      f"start to first answer median {statistics.median(answers):.1f} ms, max {max(answers):.1f} ms")
