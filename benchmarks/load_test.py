"""Load test of `overclaim serve` on loopback: 32 concurrent clients for 30 s, bounded in time and count.

Each client posts one ~180-character post per request and waits for the answer before the next. Prints
requests/s, p50/p95 latency, 5xx and lost responses, and the offline batch throughput of the same model
and backend for comparison.  Usage: python benchmarks/load_test.py [--model PATH] [--backend torch|onnx]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np

from overclaim.corpus import load_corpus


def posts() -> list[str]:
    return [r["text"] for r in load_corpus() if 150 <= len(r["text"]) <= 210]


async def client(http, url, texts, deadline, stats, k):
    i = k
    while time.monotonic() < deadline and stats["sent"] < stats["max_requests"]:
        text = texts[i % len(texts)]
        i += 32
        stats["sent"] += 1
        started = time.perf_counter()
        try:
            async with http.post(url, json={"text": text}) as r:
                status = r.status
                body = await r.json() if status == 200 else None
        except Exception as exc:  # a dropped connection is a lost response
            stats["lost"] += 1
            stats["errors"].append(repr(exc))
            continue
        stats["latencies"].append((time.perf_counter() - started) * 1000)
        if status >= 500:
            stats["5xx"] += 1
        elif status != 200 or body["predictions"][0]["text"] != text:
            stats["wrong"] += 1


async def run(url, texts, clients, seconds):
    # aiohttp rather than httpx: the load generator shares the 2 cores with the server, so its own cost per
    # request must stay small or it measures itself.
    import aiohttp

    stats = {"sent": 0, "lost": 0, "5xx": 0, "wrong": 0, "latencies": [], "errors": [], "max_requests": 200_000}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(http, url, texts, started + seconds, stats, k) for k in range(clients)))
        elapsed = time.monotonic() - started
    return stats, elapsed


def one_run(args, texts: list[str]) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "overclaim", "serve", "--port", str(port), "--backend", args.backend]
    if args.model:
        cmd += ["--model", args.model]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/v1/score"
        asyncio.run(run(url, texts, args.clients, 3))  # warm up
        stats, elapsed = asyncio.run(run(url, texts, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(30)
    from overclaim import Classifier

    clf = Classifier.load(args.model, backend=args.backend)
    # Unique texts only: predict() scores a repeated text once, which would flatter the offline figure.
    batch = texts[:2000]
    clf.predict(batch[:64])
    started = time.perf_counter()
    clf.predict(batch)
    offline = len(batch) / (time.perf_counter() - started)
    lat = np.array(stats["latencies"])
    rps = len(lat) / elapsed
    return {
        "backend": args.backend, "clients": args.clients, "seconds": round(elapsed, 1), "requests": stats["sent"],
        "answered": int(len(lat)), "5xx": stats["5xx"], "lost": stats["lost"], "wrong": stats["wrong"],
        "requests_per_s": round(rps, 1), "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p95_ms": round(float(np.percentile(lat, 95)), 1),
        "offline_posts": len(batch), "offline_posts_per_s": round(offline, 1),
        "served_share_of_offline": round(rps / offline, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=None, help="model threads in the server")
    parser.add_argument("--repeat", type=int, default=1,
                        help="independent runs (fresh server each); on a shared machine one run is noisy")
    args = parser.parse_args()
    texts = posts()
    runs = []
    for _ in range(args.repeat):
        runs.append(one_run(args, texts))
        print(json.dumps(runs[-1]), flush=True)
    if args.repeat > 1:
        shares = sorted(r["served_share_of_offline"] for r in runs)
        print(json.dumps({"runs": len(runs), "served_share_median": float(np.median(shares)),
                          "served_share_min": shares[0], "served_share_max": shares[-1],
                          "5xx": sum(r["5xx"] for r in runs), "lost": sum(r["lost"] for r in runs),
                          "wrong": sum(r["wrong"] for r in runs)}))


if __name__ == "__main__":
    main()
