"""Resume check for `overclaim screen`: kill -9 at about half of 20,000 rows, rerun, count.

Writes 20,000 JSONL rows (a few deliberately malformed), starts `overclaim screen`, kills it with SIGKILL
once the output holds about half the rows, runs it again, and checks: every good row's id exactly once,
none scored twice, every malformed row in the errors file.  Usage: python benchmarks/screen_resume.py
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from overclaim.corpus import load_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="overclaim-resume-"))
    texts = [r["text"] for r in load_corpus() if len(r["text"]) < 300]
    src, broken = work / "posts.jsonl", set()
    with open(src, "w") as fh:
        for i in range(args.rows):
            if i % 997 == 500:
                fh.write('{"id": "bad-%d", "text": \n' % i)
                broken.add(i + 1)
            else:
                fh.write(json.dumps({"id": f"post-{i}", "text": texts[i % len(texts)]}) + "\n")
    out, errors = work / "scored.jsonl", work / "scored.errors.jsonl"
    cmd = [sys.executable, "-m", "overclaim", "screen", str(src), "--output", str(out), "--backend", args.backend]
    if args.model:
        cmd += ["--model", args.model]
    started = time.time()
    first = subprocess.Popen(cmd, stderr=subprocess.DEVNULL, start_new_session=True)
    while first.poll() is None:
        if out.exists() and sum(1 for _ in open(out, "rb")) >= args.rows // 2:
            os.killpg(first.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    first.wait()
    at_kill = sum(1 for _ in open(out, "rb"))
    subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
    records = [json.loads(line) for line in open(out)]
    ids = Counter(r["id"] for r in records)
    error_lines = {json.loads(line)["line"] for line in open(errors)}
    result = {
        "rows": args.rows, "malformed": len(broken), "rows_in_output_at_kill": at_kill,
        "output_records": len(records), "unique_ids": len(ids), "scored_twice": sum(1 for c in ids.values() if c > 1),
        "errors_file_rows": len(error_lines), "errors_match_malformed": error_lines == broken,
        "every_row_accounted": len(ids) + len(error_lines) == args.rows,
        "seconds": round(time.time() - started, 1), "work_dir": str(work),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
