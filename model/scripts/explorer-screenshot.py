#!/usr/bin/env python3
"""Checks stateright's Explorer of the model in headless Chromium.

Serves the Explorer (`oplife-model explore --port 0`), follows a path to an
eviction through its JSON interface (register op0, start it, complete it,
register op1, start it, complete it: past max_completed = 1, op0 is
evicted), checks that the last step reads as the call it is and reports the
eviction, and saves Chromium's screenshot of that path.

    cargo build --release -p oplife-model
    python3 model/scripts/explorer-screenshot.py [OUTPUT.png]   # default: target/explorer.png

Needs `chromium` (or `chromium-browser`, `google-chrome`) on PATH. Exits
non-zero, saying why, when a step is missing or the screenshot fails.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.path.join(ROOT, "target", "release", "oplife-model")
PATH_TO_EVICTION = [
    "register_operation(op0, BackgroundToolOp",
    "provisioning_succeeded(op0)",
    "complete_operation(op0)",
    "register_operation(op1, BackgroundToolOp",
    "provisioning_succeeded(op1)",
    "complete_operation(op1)",
]


def fail(why):
    print(f"explorer-screenshot: {why}", file=sys.stderr)
    sys.exit(1)


def steps(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/.states{path}", timeout=30) as response:
        return json.load(response)


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "explorer.png")
    browser = next((b for b in ["chromium", "chromium-browser", "google-chrome"] if shutil.which(b)), None)
    if browser is None:
        fail("no chromium on PATH")
    if not os.path.exists(BINARY):
        fail(f"{BINARY} is missing: cargo build --release -p oplife-model")
    server = subprocess.Popen([BINARY, "explore", "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        found = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not found:
            fail(f"the Explorer did not say where it serves: {line!r}")
        port = found.group(1)
        path = "/0"  # the initial state
        last = None
        for call in PATH_TO_EVICTION:
            step = next((s for s in steps(port, path) if s.get("action", "").startswith(call)), None)
            if step is None:
                fail(f"no step {call!r} after {path}")
            path += f"/{step['actionIndex']}"
            last = step
        if "Evicted { id: 0 }" not in last.get("outcome", ""):
            fail(f"the last step does not report the eviction: {last.get('outcome')!r}")
        if "op1" not in last.get("state", "") or "operation " not in last.get("state", ""):
            fail(f"the state is not the operations table: {last.get('state')!r}")
        print(f"step:    {last['action']}")
        print(f"outcome: {last['outcome']}")
        print(f"state:\n{last['state']}")
        url = f"http://127.0.0.1:{port}/#/steps{path}"
        shot = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--window-size=1400,2200", "--virtual-time-budget=8000", f"--screenshot={output}", url],
            capture_output=True, text=True, timeout=120)
        if shot.returncode != 0 or not os.path.exists(output):
            fail(f"chromium failed: {shot.stderr[-2000:]}")
        print(f"saved {output} of {url}")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
