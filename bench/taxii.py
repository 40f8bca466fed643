"""TAXII 2.1 figures through HTTP alone (prints figures; asserts nothing).

    .venv/bin/python bench/taxii.py WORKLOAD_DIR [--objects 100000]
    .venv/bin/python bench/taxii.py WORKLOAD_DIR --base-url URL (--token T | --user U --password P) --collection ID

WORKLOAD_DIR is made by ../shared/bench/gen_workload.py (its indicators.jsonl is posted), e.g.
``python3 ../shared/bench/gen_workload.py --out /tmp/wl --seed 42 --n-atomic 100000 --n-rich 1000
--n-events 100000 --hit-rate 0.001``.

Default mode: a fresh SQLite hub in a temporary folder (one organisation, one analyst with a token,
one collection of scope ``all`` that the organisation reads and writes), served by ``accord serve`` in a
subprocess on 127.0.0.1 at a free port. ``--hub-dir DIR`` keeps that hub in DIR instead; run again with
the same DIR, the populated hub is served as it is and the ingest phase is skipped (read and filtered
phases only), which saves the ingest's minutes between measurements of the read path. With
``--base-url`` any TAXII 2.1 server is measured instead (the OASIS reference server medallion, for one:
``--user``/``--password`` for HTTP Basic).

Phases, each bounded in requests and in time (``--phase-timeout`` stops new requests; one in flight
ends within ``--request-timeout``):
  1. ingest    the indicators POSTed in envelopes of ``--batch``, one POST at a time; statuses that
               come back ``pending`` (Accord ingests envelopes of more than 1,000 objects in the
               background) are polled until complete, and that wait counts: objects/s = objects
               the statuses report successful / time from the first POST to the last completion.
  2. read-all  GET objects/?limit=``--page-limit``, following ``next`` (or ``added_after`` = the
               X-TAXII-Date-Added-Last header where a server gives no ``next``) until ``more`` is false.
  3. filtered  for each level in ``--concurrency``: ``--requests`` GETs, half ``match[id]`` = a random
               posted id (checked: exactly that object comes back), half ``added_after`` = a random
               X-TAXII-Date-Added-* stamp seen in phase 2 with ``limit=--added-after-limit``, shuffled;
               p50/p90/p99/max latency and requests/s. A few untimed GETs of the collection open the
               connections first.

The client runs in Python threads on the same machine as the server, so on a small host they share the
CPUs: concurrency-8 figures are lower bounds for the server.

The measuring logic (phases, percentile, status polling, paging fallback) is adapted from the team's
shared ``../shared/bench/bench_taxii.py`` (which uses ``requests``); it is copied here, on httpx (an
Accord dependency), so this script does not depend on ../shared at run time.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

TAXII21 = "application/taxii+json;version=2.1"


# -- figures (pct and summarize: from ../shared/bench/bench_taxii.py) --------------------------------


def pct(values: list[float], p: float) -> float | None:
    """Percentile with linear interpolation between closest ranks."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)


def summarize(lat_s: list[float]) -> dict[str, Any]:
    if not lat_s:
        return {"n": 0}
    ms = [x * 1000 for x in lat_s]
    return {"n": len(ms), "p50_ms": round(pct(ms, 50) or 0, 2), "p90_ms": round(pct(ms, 90) or 0, 2),
            "p99_ms": round(pct(ms, 99) or 0, 2), "max_ms": round(max(ms), 2),
            "mean_ms": round(statistics.mean(ms), 2)}  # fmt: skip


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} (1/5 min)"


# -- the client ------------------------------------------------------------------------------------


class Client:
    """One TAXII collection over HTTP; an httpx.Client per thread (keep-alive connections)."""

    def __init__(self, base_url: str, collection: str, headers: dict[str, str], timeout: float) -> None:
        self.headers = {"Accept": TAXII21, **headers}
        self.timeout = timeout
        self.local = threading.local()
        self.clients: list[httpx.Client] = []
        self.lock = threading.Lock()
        base = base_url.rstrip("/") + "/"
        disc = urljoin(base, "taxii2/") if not base.rstrip("/").endswith("/taxii2") else base
        r = self.session().get(disc, headers=self.headers)
        r.raise_for_status()
        d = r.json()
        self.api_root = urljoin(disc, d.get("default") or d["api_roots"][0])
        if not self.api_root.endswith("/"):
            self.api_root += "/"
        self.coll = f"{self.api_root}collections/{collection}/"
        self.objects = self.coll + "objects/"

    def session(self) -> httpx.Client:
        s = getattr(self.local, "s", None)
        if s is None:
            s = self.local.s = httpx.Client(timeout=self.timeout)
            with self.lock:
                self.clients.append(s)
        return s

    def get(self, url: str, params: dict[str, Any] | None = None) -> tuple[httpx.Response, float]:
        t = time.perf_counter()
        r = self.session().get(url, params=params, headers=self.headers)
        return r, time.perf_counter() - t

    def post(self, url: str, body: bytes) -> tuple[httpx.Response, float]:
        t = time.perf_counter()
        r = self.session().post(url, content=body, headers={**self.headers, "Content-Type": TAXII21})
        return r, time.perf_counter() - t

    def close(self) -> None:
        for c in self.clients:
            c.close()


# -- phases (adapted from ../shared/bench/bench_taxii.py) -------------------------------------------


def phase_ingest(cl: Client, a: argparse.Namespace, objs: list[dict[str, Any]], res: dict[str, Any]) -> None:
    bodies = [orjson.dumps({"objects": objs[i : i + a.batch]}) for i in range(0, len(objs), a.batch)]
    print(f"ingest: {len(objs):,} objects in {len(bodies)} envelopes of {a.batch:,} "
          f"({len(bodies[0]) / 1024:,.0f} KiB each); {load()}")  # fmt: skip
    lat: list[float] = []
    accepted = failed = sent = 0
    pending: list[str] = []
    reasons: list[str] = []
    deadline = time.time() + a.phase_timeout
    t0 = time.perf_counter()
    for n, body in enumerate(bodies):
        if time.time() > deadline:
            print(f"ingest: phase timeout after {n} envelopes")
            break
        r, t = cl.post(cl.objects, body)
        lat.append(t)
        sent += 1
        if r.status_code != 202:
            print(f"ingest: POST {n} -> HTTP {r.status_code} {r.text[:200]}")
            failed += min(a.batch, len(objs) - n * a.batch)
            continue
        st = r.json()
        if st.get("status") == "pending":
            pending.append(st["id"])
        else:
            accepted += st.get("success_count", 0)
            failed += st.get("failure_count", 0)
            reasons += [f.get("message", "") for f in st.get("failures", [])[:3]]
    t_accept = time.perf_counter() - t0
    unfinished = 0
    for sid in pending:  # bounded: the phase's deadline plus --status-timeout
        while True:
            r, _ = cl.get(f"{cl.api_root}status/{sid}/")
            st = r.json() if r.status_code == 200 else {}
            if st.get("status") == "complete":
                accepted += st.get("success_count", 0)
                failed += st.get("failure_count", 0)
                reasons += [f.get("message", "") for f in st.get("failures", [])[:3]]
                break
            if time.time() > deadline + a.status_timeout:
                unfinished += 1
                break
            time.sleep(0.05)
    t_done = time.perf_counter() - t0
    res["ingest"] = {
        "objects_sent": min(sent * a.batch, len(objs)), "envelopes": sent, "batch": a.batch, "accepted": accepted,
        "failed": failed, "pending_statuses": len(pending), "unfinished_statuses": unfinished,
        "wall_s_until_202s": round(t_accept, 3), "wall_s_until_complete": round(t_done, 3),
        "objects_per_s": round(accepted / t_done, 1) if t_done else None, "post_latency": summarize(lat),
    }  # fmt: skip
    print(f"ingest: {accepted:,} accepted, {failed:,} failed in {t_done:.2f} s -> {accepted / t_done:,.0f} objects/s "
          f"(all {sent} POSTs answered after {t_accept:.2f} s, POST p50 {res['ingest']['post_latency'].get('p50_ms')} "
          f"ms; {len(pending)} statuses were pending); {load()}")  # fmt: skip
    if reasons:
        print(f"ingest: e.g. {reasons[0]!r}")
    if unfinished:
        print(f"ingest: {unfinished} statuses still pending after the timeout")


def phase_read_all(cl: Client, a: argparse.Namespace, res: dict[str, Any]) -> list[str]:
    deadline = time.time() + a.phase_timeout
    params: dict[str, Any] = {"limit": a.page_limit}
    lat: list[float] = []
    pages = n = 0
    stamps: list[str] = []
    complete = False
    t0 = time.perf_counter()
    while time.time() < deadline and pages < a.max_pages:
        try:
            r, t = cl.get(cl.objects, params)
        except httpx.HTTPError as exc:
            print(f"read-all: page {pages + 1} failed: {type(exc).__name__}")
            break
        lat.append(t)
        if r.status_code != 200:
            print(f"read-all: page {pages + 1} -> HTTP {r.status_code} {r.text[:200]}")
            break
        env = orjson.loads(r.content)
        pages += 1
        n += len(env.get("objects", []))
        stamps += [r.headers[h] for h in ("X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last") if r.headers.get(h)]
        if not env.get("more"):
            complete = True
            break
        params = {"limit": a.page_limit}
        if env.get("next"):
            params["next"] = env["next"]
        elif r.headers.get("X-TAXII-Date-Added-Last"):
            params["added_after"] = r.headers["X-TAXII-Date-Added-Last"]
        else:
            print("read-all: more=true but neither next nor X-TAXII-Date-Added-Last; stopping")
            break
    wall = time.perf_counter() - t0
    res["read_all"] = {"complete": complete, "pages": pages, "objects": n, "page_limit": a.page_limit,
                       "wall_s": round(wall, 3), "objects_per_s": round(n / wall, 1) if wall else None,
                       "page_latency": summarize(lat)}  # fmt: skip
    print(f"read-all: {'complete' if complete else 'INCOMPLETE'}, {n:,} objects in {pages} pages of up to "
          f"{a.page_limit:,}, {wall:.2f} s -> {n / wall if wall else 0:,.0f} objects/s (page p50 "
          f"{res['read_all']['page_latency'].get('p50_ms')} ms, p99 {res['read_all']['page_latency'].get('p99_ms')} "
          f"ms); {load()}")  # fmt: skip
    return stamps


def run_level(cl: Client, a: argparse.Namespace, reqs: list[tuple[str, dict[str, Any]]], c: int) -> dict[str, Any]:
    """The requests at concurrency ``c`` (after a few untimed GETs of the collection that open connections)."""
    deadline = 0.0
    lat: dict[str, list[float]] = {"match_id": [], "added_after": []}
    errors = {"http": 0, "wrong": 0, "exc": 0}
    skipped = [0]
    lock = threading.Lock()

    def one(item: tuple[str, dict[str, Any]]) -> None:
        kind, p = item
        if time.time() > deadline:
            with lock:
                skipped[0] += 1
            return
        try:
            r, t = cl.get(cl.objects, p)
        except httpx.HTTPError:
            with lock:
                errors["exc"] += 1
            return
        wrong = False
        if r.status_code == 200 and kind == "match_id":
            o = orjson.loads(r.content).get("objects", [])
            wrong = not (len(o) == 1 and o[0]["id"] == p["match[id]"])
        with lock:
            if r.status_code != 200:
                errors["http"] += 1
            elif wrong:
                errors["wrong"] += 1
            lat[kind].append(t)

    with ThreadPoolExecutor(max_workers=c) as ex:
        list(ex.map(lambda _: cl.get(cl.coll), range(2 * c)))
        deadline = time.time() + a.phase_timeout
        t0 = time.perf_counter()
        list(ex.map(one, reqs))
        wall = time.perf_counter() - t0
    done = len(lat["match_id"]) + len(lat["added_after"])
    return {
        "concurrency": c, "planned": len(reqs), "done": done, "skipped_after_timeout": skipped[0],
        "errors": errors, "wall_s": round(wall, 3), "req_per_s": round(done / wall, 1) if wall else None,
        "all": summarize(lat["match_id"] + lat["added_after"]), "match_id": summarize(lat["match_id"]),
        "added_after": summarize(lat["added_after"]),
    }  # fmt: skip


def phase_filtered(cl: Client, a: argparse.Namespace, ids: list[str], stamps: list[str], res: dict[str, Any]) -> None:
    rnd = random.Random(a.seed)
    stamps = sorted(set(stamps))[:-1] or stamps  # the newest stamp would match nothing
    out: dict[str, Any] = {}
    for c in [int(x) for x in a.concurrency.split(",")]:
        reqs = [("match_id", {"match[id]": rnd.choice(ids)}) for _ in range(a.requests // 2)]
        reqs += [("added_after", {"added_after": rnd.choice(stamps), "limit": a.added_after_limit})
                 for _ in range(a.requests - a.requests // 2)]  # fmt: skip
        rnd.shuffle(reqs)
        s = out[f"c{c}"] = run_level(cl, a, reqs, c)
        skipped = f", {s['skipped_after_timeout']} skipped at the phase timeout" if s["skipped_after_timeout"] else ""
        print(f"filtered c={c}: {s['done']}/{len(reqs)} in {s['wall_s']:.2f} s ({s['req_per_s']} req/s{skipped}), "
              f"errors {s['errors']} | match[id] p50 {s['match_id'].get('p50_ms')} "
              f"p99 {s['match_id'].get('p99_ms')} ms | "
              f"added_after (limit {a.added_after_limit}) p50 {s['added_after'].get('p50_ms')} "
              f"p99 {s['added_after'].get('p99_ms')} ms; {load()}")  # fmt: skip
    res["filtered"] = out


# -- a local Accord hub ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_hub(folder: Path) -> tuple[str, str, str]:
    """A fresh SQLite hub; returns (database URL, analyst token, collection id)."""
    from accord.config import Settings
    from accord.hub import Hub

    url = f"sqlite:///{folder / 'accord.db'}"
    hub = Hub(Settings(**{**Settings.from_env().__dict__, "database_url": url}))
    hub.init()
    op = hub.viewer_as(None)
    org = "Bench CERT"
    hub.add_org(op, org, "cert", "GB")
    hub.add_user(op, "analyst@bench.example", org, "analyst")
    token = hub.create_token(op, "analyst@bench.example", label="bench")["token"]
    cid = hub.add_collection(op, "all", scope="all", readers=org, writers=org)["id"]
    hub.engine.dispose()
    return url, token, cid


def start_server(
    url: str, folder: Path, timeout: float = 60.0, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """``accord serve`` on 127.0.0.1 at a free port; returns the process and its base URL once healthy."""
    port = free_port()
    accord = Path(sys.executable).with_name("accord")
    cmd = [str(accord)] if accord.exists() else [sys.executable, "-c", "from accord.cli.main import main; main()"]
    cmd += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ACCORD_DATABASE_URL": url})
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    sys.exit(f"accord serve did not come up:\n{(folder / 'serve.log').read_text()[-2000:]}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- main ------------------------------------------------------------------------------------------


def load_indicators(workload: Path, n: int) -> list[dict[str, Any]]:
    out = []
    with (workload / "indicators.jsonl").open("rb") as fh:
        for line in fh:
            out.append(orjson.loads(line))
            if len(out) >= n:
                break
    return out


def measure(a: argparse.Namespace, base_url: str, collection: str, headers: dict[str, str],
            objs: list[dict[str, Any]], *, ingest: bool = True) -> dict[str, Any]:  # fmt: skip
    cl = Client(base_url, collection, headers, a.request_timeout)
    try:
        res: dict[str, Any] = {"api_root": cl.api_root, "objects": len(objs)}
        r, _ = cl.get(cl.coll)
        if r.status_code != 200:
            sys.exit(f"collection {cl.coll} is not readable: HTTP {r.status_code} {r.text[:200]}")
        info = r.json()
        print(f"target {cl.coll} (can_read={info.get('can_read')}, can_write={info.get('can_write')})")
        if ingest:
            phase_ingest(cl, a, objs, res)
        else:
            print("ingest: skipped (the hub in --hub-dir is already populated)")
        stamps = phase_read_all(cl, a, res)
        if stamps:
            phase_filtered(cl, a, [o["id"] for o in objs], stamps, res)
        return res
    finally:
        cl.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workload", type=Path, help="folder made by gen_workload.py (indicators.jsonl)")
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--base-url", help="measure this TAXII 2.1 server (discovery at BASE/taxii2/) instead")
    ap.add_argument("--token", help="Bearer token (with --base-url)")
    ap.add_argument("--user", help="HTTP Basic user (with --base-url; e.g. for medallion)")
    ap.add_argument("--password", help="HTTP Basic password")
    ap.add_argument("--collection", help="a readable and writable collection's id (with --base-url)")
    ap.add_argument("--batch", type=int, default=2000, help="objects per envelope (default 2,000)")
    ap.add_argument("--page-limit", type=int, default=1000, help="limit of each full-read page (default 1,000)")
    ap.add_argument("--max-pages", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=400, help="filtered GETs per concurrency level (half each kind)")
    ap.add_argument("--concurrency", default="1,8")
    ap.add_argument("--added-after-limit", type=int, default=100)
    ap.add_argument("--phase-timeout", type=float, default=900.0, help="seconds; each phase stops after this")
    ap.add_argument("--status-timeout", type=float, default=300.0)
    ap.add_argument("--request-timeout", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--server-workers", type=int, default=1, help="accord serve --workers (default 1)")
    ap.add_argument("--hub-dir", type=Path, help="keep the SQLite hub here; reuse it (skipping ingest) if populated")
    ap.add_argument("--json-out", type=Path)
    a = ap.parse_args()
    if a.base_url and not a.collection:
        ap.error("--base-url needs --collection")

    objs = load_indicators(a.workload, a.objects)
    print(f"{len(objs):,} indicators from {a.workload}; {os.cpu_count()} CPUs; {load()}")
    if a.base_url:
        headers = {}
        if a.token:
            headers["Authorization"] = f"Bearer {a.token}"
        elif a.user is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{a.user}:{a.password or ''}".encode()).decode()
        res = measure(a, a.base_url, a.collection, headers, objs)
    else:
        folder = a.hub_dir or Path(tempfile.mkdtemp(prefix="accord-bench-taxii-"))
        folder.mkdir(parents=True, exist_ok=True)
        saved = folder / "bench-hub.json"
        proc = None
        try:
            reuse = a.hub_dir is not None and saved.exists()
            if reuse:
                info = orjson.loads(saved.read_bytes())
                url, token, cid = info["url"], info["token"], info["collection"]
            else:
                url, token, cid = make_hub(folder)
            proc, base = start_server(url, folder, workers=a.server_workers)
            print(f"accord serve (pid {proc.pid}, {a.server_workers} worker(s)) on {base}, SQLite at {url[10:]}")
            res = measure(a, base, cid, {"Authorization": f"Bearer {token}"}, objs, ingest=not reuse)
            if a.hub_dir is not None and not reuse:
                saved.write_bytes(orjson.dumps({"url": url, "token": token, "collection": cid}))
        finally:
            if proc is not None:
                stop_server(proc)
            if a.hub_dir is None:
                shutil.rmtree(folder, ignore_errors=True)
    if a.json_out:
        a.json_out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(a).items()
                                                   if k not in ("password", "token")}, **res}, indent=1))  # fmt: skip
        print(f"wrote {a.json_out}")


if __name__ == "__main__":
    main()
