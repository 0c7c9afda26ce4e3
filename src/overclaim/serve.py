"""HTTP API and review page: ``overclaim serve``.

Requests are micro-batched: texts that arrive within a few milliseconds of each other are scored in one
call, so concurrent clients share the model's batch efficiency.
"""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import json
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Union

try:
    from fastapi import Depends, FastAPI, HTTPException, Query, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from pydantic import BaseModel, Field
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("the HTTP server needs: pip install 'overclaim[serve]'") from None

from .calibrate import parse_threshold

API_KEY_ENV = "OVERCLAIM_API_KEY"


@dataclass
class ServeLimits:
    max_chars: int = 100_000  # per text
    max_texts: int = 256  # per request
    max_body_bytes: int = 4_000_000
    max_batch_texts: int = 64  # texts scored together by the micro-batcher
    max_wait_ms: float = 5.0  # how long the batcher waits for more requests


class ScoreRequest(BaseModel):
    text: str | None = Field(None, description="one text to score")
    texts: list[str] | None = Field(None, description="several texts to score")
    threshold: Union[float, str, None] = Field(
        None, description="high_precision, balanced, high_recall, or a number in [0, 1]")


class MicroBatcher:
    """Collects texts from concurrent requests and scores them together on one worker thread."""

    def __init__(self, classifier, limits: ServeLimits):
        self.classifier = classifier
        self.limits = limits
        self.queue: asyncio.Queue | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="overclaim-model")
        self.task: asyncio.Task | None = None

    async def start(self):
        self.queue = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def stop(self):
        if self.task:
            self.task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def score(self, texts: list[str]):
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((texts, future))
        return await future

    async def _run(self):
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self.queue.get()]
            count = len(jobs[0][0])
            deadline = time.monotonic() + self.limits.max_wait_ms / 1000
            while count < self.limits.max_batch_texts:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
                jobs.append(job)
                count += len(job[0])
            texts = [t for job, _ in jobs for t in job]
            try:
                predictions = await loop.run_in_executor(self.executor, self.classifier.predict, texts)
            except Exception as exc:  # one bad batch must not kill the worker; each request gets the error
                for _, future in jobs:
                    if not future.done():
                        future.set_exception(exc)
                continue
            at = 0
            for job, future in jobs:
                if not future.done():
                    future.set_result(predictions[at:at + len(job)])
                at += len(job)


def create_app(classifier, limits: ServeLimits | None = None, api_key: str | None = None) -> FastAPI:
    limits = limits or ServeLimits()
    api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
    batcher = MicroBatcher(classifier, limits)

    async def lifespan(app):
        await batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="overclaim", version=_version(), lifespan=lifespan,
                  description="Scores text for unsupported medical-efficacy claims, with sentence highlights.")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
            return JSONResponse({"detail": f"request body over {limits.max_body_bytes} bytes"}, status_code=413)
        if request.method == "POST":
            body = b""
            async for part in request.stream():
                body += part
                if len(body) > limits.max_body_bytes:
                    return JSONResponse({"detail": f"request body over {limits.max_body_bytes} bytes"},
                                        status_code=413)
            request._body = body  # starlette reads the cached body in the endpoint
        return await call_next(request)

    def check_key(request: Request):
        if api_key is None:
            return
        given = request.headers.get("x-api-key", "")
        if not secrets.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "missing or wrong X-API-Key header")

    def resolve_threshold(value):
        try:
            return classifier.calibration.resolve(value)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    def check_texts(texts: list[str]):
        if not texts:
            raise HTTPException(422, "give 'text' or a non-empty 'texts' list")
        if len(texts) > limits.max_texts:
            raise HTTPException(413, f"{len(texts)} texts; at most {limits.max_texts} per request")
        for i, text in enumerate(texts):
            if len(text) > limits.max_chars:
                raise HTTPException(413, f"texts[{i}] has {len(text)} characters; at most {limits.max_chars}")
            if not text.strip():
                raise HTTPException(422, f"texts[{i}] is empty or whitespace only")

    async def score(texts: list[str], cut: float):
        predictions = await batcher.score(texts)
        return [dataclasses.replace(p, threshold=cut, flagged=p.score >= cut) for p in predictions]

    @app.post("/v1/score", dependencies=[Depends(check_key)])
    async def score_texts(body: ScoreRequest):
        if (body.text is None) == (body.texts is None):
            raise HTTPException(422, "give exactly one of 'text' or 'texts'")
        texts = [body.text] if body.text is not None else body.texts
        check_texts(texts)
        cut = resolve_threshold(body.threshold)
        predictions = await score(texts, cut)
        payload = [{"text": p.text, **p.to_dict()} for p in predictions]
        return {"model": classifier.name, "predictions": payload}

    @app.post("/v1/score/csv", dependencies=[Depends(check_key)])
    async def score_csv(request: Request, text_column: str = Query("text"), id_column: str = Query("id"),
                        threshold: str | None = Query(None)):
        """Score the rows of a CSV sent as the request body; rows that can't be scored are listed."""
        try:
            content = (await request.body()).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HTTPException(422, f"CSV is not valid UTF-8 (byte {exc.start})") from None
        reader = csv.DictReader(io.StringIO(content))
        if not reader.fieldnames or text_column not in reader.fieldnames:
            raise HTTPException(422, f"CSV has no column {text_column!r} (columns: {reader.fieldnames})")
        rows, errors = [], []
        for row in reader:
            text = row.get(text_column) or ""
            line = reader.line_num
            if not text.strip():
                errors.append({"line": line, "error": f"empty {text_column!r}"})
            elif len(text) > limits.max_chars:
                errors.append({"line": line, "error": f"over {limits.max_chars} characters"})
            else:
                rows.append((line, row.get(id_column) or str(line), text))
        if len(rows) > limits.max_texts * 40:
            raise HTTPException(413, f"{len(rows)} rows; at most {limits.max_texts * 40} per upload")
        cut = resolve_threshold(parse_threshold(threshold))
        results = []
        for at in range(0, len(rows), limits.max_texts):
            part = rows[at:at + limits.max_texts]
            for (line, row_id, _), p in zip(part, await score([t for _, _, t in part], cut)):
                results.append({"id": row_id, "line": line, "text": p.text, **p.to_dict()})
        results.sort(key=lambda r: -r["score"])
        return {"model": classifier.name, "threshold": cut, "rows": results, "errors": errors}

    @app.get("/v1/model")
    async def model_info():
        cal = classifier.calibration
        return {
            "name": classifier.name,
            "backend": type(classifier.backend).__name__,
            "max_length": classifier.max_length,
            "temperature": cal.temperature,
            "default_threshold": cal.default,
            "thresholds": {k: dataclasses.asdict(v) for k, v in cal.thresholds.items()},
            "calibrated_on": cal.fitted_on,
            "card": _card_facts(classifier.name),
            "limits": dataclasses.asdict(limits),
        }

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return resources.files("overclaim").joinpath("static/index.html").read_text(encoding="utf-8")

    return app


def _card_facts(name: str) -> dict:
    """Training facts from the model folder's own files (never a path the client chose)."""
    folder = Path(name)
    facts = {}
    for file, keys in (("training_config.json", ("base_model", "max_length", "epochs", "seed")),
                       ("metrics.json", ("train_size", "validation_size", "test_size", "train_seconds"))):
        try:
            data = json.loads((folder / file).read_text())
        except (OSError, ValueError):
            continue
        facts.update({k: data[k] for k in keys if k in data})
    return facts


def _version() -> str:
    from . import __version__

    return __version__


def serve(model: str | None = None, host: str = "127.0.0.1", port: int = 8000, backend: str = "auto",
          limits: ServeLimits | None = None, threads: int | None = None) -> None:
    import uvicorn

    from .predict import Classifier

    app = create_app(Classifier.load(model, backend=backend, threads=threads), limits)
    uvicorn.run(app, host=host, port=port, log_level="info")
