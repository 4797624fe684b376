"""The scenarios of bench/load.py; each yields lines of figures with their references."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import requests
import resumable_scenario
import yaml
from leaderboard_bench import populate, populate_more

from lai_platform import create_app, services
from lai_platform.accounts.users import create_user
from lai_platform.challenges.bundles import load_challenge
from lai_platform.challenges.lookups import find_phase
from lai_platform.challenges.participation import join
from lai_platform.config import Settings
from lai_platform.extensions import db
from lai_platform.leaderboards.ranking_job import request_ranking
from lai_platform.leaderboards.ranks import recompute_ranks
from lai_platform.models import ApiToken, Phase, Submission
from stack import ROOT, Stack, peak_rss_mb
from tests.docker_images import (
    BUSYBOX,
    CONTAINERS_DIR,
    docker_client,
    image_config,
    layer_tar,
    save_image,
)

OUT = ROOT / "bench" / "out"
SMALL_DEMO = ["--seed=0", "--n-train=60", "--n-validation=40", "--n-test=40"]


# -- set-up -----------------------------------------------------------------------------------


def demo_bundle() -> Path:
    """The demo bundle with small data, made once under bench/out."""
    bundle = OUT / "bundle"
    if not (bundle / "data" / "manifest.json").exists():
        shutil.rmtree(bundle, ignore_errors=True)
        bundle.mkdir(parents=True)
        for source in (ROOT / "examples" / "lai-liver").iterdir():
            if source.is_file():
                shutil.copy(source, bundle / source.name)
        spec = yaml.safe_load((bundle / "challenge.yaml").read_text())
        spec["data"] = {"path": "data"}
        (bundle / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        subprocess.run([sys.executable, str(bundle / "generate.py"), "--out",
                        str(bundle / "data"), *SMALL_DEMO], check=True, capture_output=True)
    return bundle


def seed(stack: Stack, people: int, **phase_fields) -> list[str]:
    """The demo challenge, `people` joined participants; their API tokens."""
    app = create_app(Settings.from_env(stack.env))
    tokens = []
    with app.app_context():
        load_challenge(demo_bundle())
        phase = find_phase("lai-liver", "development")
        for key, value in phase_fields.items():
            setattr(phase, key, value)
        for i in range(people):
            user = create_user(f"p{i}@bench.invalid", "bench password", f"team {i}")
            db.session.flush()
            join(user, phase.challenge, accept_terms=True)
            row, token = ApiToken.issue(user, "bench")
            db.session.add(row)
            tokens.append(token)
        db.session.commit()
    return tokens


def image_tarball(pad_mb: int = 0) -> Path:
    """A runnable busybox image (one constant prediction per case), padded with `pad_mb` MB
    of random bytes; built and saved once."""
    path = OUT / f"ok-{pad_mb}mb.tar"
    if path.exists():
        return path
    context = OUT / f"context-{pad_mb}"
    shutil.rmtree(context, ignore_errors=True)
    shutil.copytree(CONTAINERS_DIR / "ok", context)
    recipe = (CONTAINERS_DIR / "Dockerfile").read_text()
    if pad_mb:
        with (context / "pad.bin").open("wb") as pad:
            for _ in range(pad_mb):
                pad.write(os.urandom(2**20))
        recipe += "COPY pad.bin /pad.bin\n"
    (context / "Dockerfile").write_text(recipe)
    shutil.copy2(BUSYBOX, context / "busybox")
    image, _ = docker_client().images.build(path=str(context), network_mode="none", rm=True,
                                            labels={"lai.bench": str(pad_mb)})
    save_image(image.id, path)
    shutil.rmtree(context)
    return path


def post_image(base: str, token: str, tarball: Path, phase: str = "development"):
    with tarball.open("rb") as body:
        return requests.post(
            f"{base}/api/v1/challenges/lai-liver/phases/{phase}/submissions", data=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-tar"},
            timeout=1800)


def wait_all_final(stack: Stack, timeout: float) -> tuple[float, Counter]:
    app = create_app(Settings.from_env(stack.env))
    started = time.monotonic()
    while True:
        with app.app_context():
            states = Counter(
                f"{s.status}:{s.failure_reason}" if s.failure_reason else s.status
                for s in db.session.scalars(db.select(Submission)))
        if not any(k in states for k in ("queued", "running")):
            return time.monotonic() - started, states
        if time.monotonic() - started > timeout:
            return float("nan"), states
        time.sleep(1)


# -- scenarios ----------------------------------------------------------------------------------


def uploads(quick: bool) -> Iterator[str]:
    people, per_person, quota = (10, 4, 3) if quick else (50, 4, 3)
    tarball = image_tarball()
    with Stack(production=True) as stack:
        tokens = seed(stack, people, submissions_per_day=quota)
        stack.start_servers()
        with ThreadPoolExecutor(people * per_person) as pool:
            answers = list(pool.map(lambda t: post_image(stack.base_url, t, tarball),
                                    [t for t in tokens for _ in range(per_person)]))
        statuses = Counter(a.status_code for a in answers)
        yield f"{people * per_person} uploads at once: answers {dict(statuses)}"
        yield (f"5xx: {sum(n for s, n in statuses.items() if s >= 500)} (reference 0); "
               f"admitted {statuses[202]} of a quota of {people * quota} "
               f"(ratio {statuses[202] / (people * quota):.2f})")
        took, states = wait_all_final(stack, timeout=1800)
        yield f"every admitted run reached a final state in {took:.0f} s: {dict(states)}"


def big_uploads(quick: bool) -> Iterator[str]:
    count, size = (4, 100) if quick else (20, 438)
    tarball = image_tarball(size)
    megabytes = tarball.stat().st_size / 2**20
    with Stack(production=False) as stack:
        tokens = seed(stack, count)
        stack.start_servers()
        started = time.monotonic()
        with ThreadPoolExecutor(count) as pool:
            answers = list(pool.map(lambda t: post_image(stack.base_url, t, tarball), tokens))
        took = time.monotonic() - started
        statuses = Counter(a.status_code for a in answers)
        copy = _time_copy(tarball, stack.data_dir, count)
        yield (f"{count} uploads of {megabytes:.0f} MB at once: {dict(statuses)}, 5xx "
               f"{sum(n for s, n in statuses.items() if s >= 500)} (reference 0), in {took:.1f} s;"
               f" {count} plain copies of the file: {copy:.1f} s (ratio {took / copy:.2f})")
        yield f"web process peak memory: {max(map(peak_rss_mb, stack.web_pids())):.0f} MB"
        done, states = wait_all_final(stack, timeout=1800)
        yield f"every admitted run reached a final state in {done:.0f} s: {dict(states)}"


def _time_copy(source: Path, folder: Path, count: int = 1) -> float:
    targets = [folder / f"copy-{i}.tar" for i in range(count)]
    subprocess.run(["sync"], check=True)  # start from a clean page cache state
    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(lambda t: subprocess.run(["cp", str(source), str(t)], check=True),
                      targets))
    subprocess.run(["sync"], check=True)
    took = time.monotonic() - started
    for target in targets:
        target.unlink()
    return took


def huge_upload(quick: bool) -> Iterator[str]:
    size_gib = 0.5 if quick else 5
    tarball = huge_tarball(size_gib)
    for production in (False, True):
        with Stack(production=production) as stack:
            tokens = seed(stack, 1, image_max_bytes=int((size_gib + 1) * 2**30))
            stack.start_servers()
            copy = _time_copy(tarball, stack.data_dir)
            started = time.monotonic()
            answer = post_image(stack.base_url, tokens[0], tarball)
            subprocess.run(["sync"], check=True)  # as the copy is timed: until it is on disk
            took = time.monotonic() - started
            rss = max(map(peak_rss_mb, stack.web_pids()))
            server = "gunicorn + S3" if production else "python app.py"
            yield (f"{server}: {size_gib:g} GiB upload answered {answer.status_code} in "
                   f"{took:.1f} s; cp of the file {copy:.1f} s (ratio {took / copy:.2f}); "
                   f"web process peak memory {rss:.0f} MB (reference: 150 MB)")
            if production:
                direct = _time_direct_s3(stack, tarball)
                yield (f"  the same file sent straight to the same S3 endpoint with boto3: "
                       f"{direct:.1f} s (ratio {took / direct:.2f})")


def _time_direct_s3(stack: Stack, tarball: Path) -> float:
    """The store's own speed: boto3's managed upload of the file, no platform between."""
    url = urlparse(stack.env["LAI_STORAGE_URL"])
    endpoint = parse_qs(url.query)["endpoint_url"][0]
    client = boto3.client("s3", endpoint_url=endpoint)
    started = time.monotonic()
    client.upload_file(str(tarball), url.netloc, "direct/reference.tar")
    took = time.monotonic() - started
    client.delete_object(Bucket=url.netloc, Key="direct/reference.tar")
    return took


def huge_tarball(size_gib: float) -> Path:
    """A valid `docker save` layout whose one layer holds a file of `size_gib` GiB."""
    path = OUT / f"huge-{size_gib:g}.tar"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    layer = OUT / "huge-layer.tar"
    size = int(size_gib * 2**30)
    with tarfile.open(layer, "w") as tar:
        info = tarfile.TarInfo("data.bin")
        info.size = size
        tar.addfile(info, _Zeros(size))
    config = image_config([layer_tar({"x": b""})])
    return _write_image(path, layer, config)


class _Zeros:
    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return bytes(n)


def _write_image(path: Path, layer: Path, config: dict) -> Path:
    digest = hashlib.sha256()
    with layer.open("rb") as stream:
        while chunk := stream.read(2**24):
            digest.update(chunk)
    config["rootfs"] = {"type": "layers", "diff_ids": [f"sha256:{digest.hexdigest()}"]}
    config_bytes = json.dumps(config).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["bench/huge:1"],
                            "Layers": ["layer/layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in ((config_name, config_bytes), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tar.add(layer, arcname="layer/layer.tar")
    layer.unlink()
    return path


def leaderboard(quick: bool) -> Iterator[str]:
    entries = 1000 if quick else 10_000
    with Stack(production=True) as stack:
        app = create_app(Settings.from_env(stack.env))
        with app.app_context():
            phase = populate(entries, 1000)
            recompute_ranks(phase)
            db.session.commit()
            phase_id = phase.id
        stack.start_servers()
        base = stack.base_url
        api = f"{base}/api/v1/challenges/bench/phases/final/leaderboard"
        html = f"{base}/challenges/bench/phases/final/leaderboard"
        stop = threading.Event()
        delays: list[float] = []
        lander = threading.Thread(target=_land_results, daemon=True,
                                  args=(app, phase_id, api, stop, delays))
        lander.start()
        try:
            for name, url in (("JSON", api), ("HTML", html)):
                yield from _compare_with_static(name, url)
        finally:
            stop.set()
            lander.join(60)
        if delays:
            yield (f"a landed result shows on the leaderboard after {max(delays):.2f} s at most "
                   f"(median {sorted(delays)[len(delays) // 2]:.2f} s, {len(delays)} landed; "
                   f"reference 2 s)")


def _land_results(app, phase_id: int, api: str, stop, delays: list) -> None:
    while not stop.wait(1.0):
        before = requests.get(api, timeout=10).json()["total"]
        with app.app_context():
            phase = db.session.get(Phase, phase_id)
            populate_more(phase, 1, 1000)
            request_ranking(phase_id)
            services.get().jobs.enqueue_ranking(phase_id)
        landed = time.monotonic()
        while not stop.is_set() and time.monotonic() - landed < 30:
            if requests.get(api, timeout=10).json()["total"] > before:
                delays.append(time.monotonic() - landed)
                break
            time.sleep(0.05)


def _compare_with_static(name: str, url: str) -> Iterator[str]:
    body = requests.get(url, timeout=30).content
    static = ROOT / "lai_platform" / "static" / f"bench-{uuid.uuid4().hex}.bin"
    static.write_bytes(body)
    try:
        static_url = url.split("/api/")[0].split("/challenges/")[0] + f"/static/{static.name}"
        reference = _wrk(static_url)
        page = _wrk(url)
    finally:
        static.unlink()
    yield (f"{name} page ({len(body) / 1024:.0f} KB): {page['rate']:.0f} requests/s, p99 "
           f"{page['p99']:.1f} ms; static file of the same size: {reference['rate']:.0f}/s, p99 "
           f"{reference['p99']:.1f} ms (ratio {page['rate'] / reference['rate']:.2f})")


def _wrk(url: str, seconds: int = 10) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"rate": rate, "p99": float(value) * scale}


def burst(quick: bool) -> Iterator[str]:
    count = 5 if quick else 20
    tarball = image_tarball()
    with Stack(production=False) as stack:
        tokens = seed(stack, count)
        image_id = docker_client().images.load(tarball.read_bytes())[0].id
        bare = _bare_runs(image_id, count)
        stack.start_servers()
        started = time.monotonic()
        for token in tokens:
            assert post_image(stack.base_url, token, tarball).status_code == 202
        took, states = wait_all_final(stack, timeout=1800)
        took = time.monotonic() - started
        yield (f"{count} runs queued at once on python app.py: {took:.1f} s {dict(states)}; "
               f"{count} sequential bare docker runs: {bare:.1f} s (ratio {took / bare:.2f})")


def _bare_runs(image_id: str, count: int) -> float:
    inputs = demo_bundle() / "data" / "validation" / "inputs"
    started = time.monotonic()
    for _ in range(count):
        with tempfile.TemporaryDirectory() as out:
            Path(out).chmod(0o777)
            docker_client().containers.run(
                image_id, remove=True, network_mode="none", user="65534",
                volumes={str(inputs): {"bind": "/input", "mode": "ro"},
                         out: {"bind": "/output", "mode": "rw"}},
                tmpfs={"/tmp": "size=64m"})
    return time.monotonic() - started


def resumable(quick: bool) -> Iterator[str]:
    return resumable_scenario.resumable(quick, seed=seed, huge_tarball=huge_tarball,
                                        post_image=post_image, settle=wait_all_final)


SCENARIOS = {
    "uploads": uploads,
    "resumable": resumable,
    "big-uploads": big_uploads,
    "leaderboard": leaderboard,
    "huge-upload": huge_upload,
    "burst": burst,
}
