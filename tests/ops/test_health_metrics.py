"""/healthz names what is down without leaking a secret; /metrics has the figures an operator
watches; every log line of a run carries its submission id."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from prometheus_client import REGISTRY

from lai_platform.ops import logcontext
from tests.fakes import FailureReason, fails, predicts
from tests.ops.conftest import submit


def test_healthz_is_200_with_details_when_all_is_fine(platform):
    response = platform.anonymous().client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["storage"]["ok"]
    assert body["checks"]["broker"] == {"ok": True, "skipped": "embedded: no broker"}
    assert body["checks"]["engine"]["ok"]  # embedded: the web runs the containers


def test_healthz_is_503_naming_what_is_down_and_no_secret(platform):
    svc = platform.services
    svc.settings = replace(svc.settings, broker_url="redis://:s3cret-pw@127.0.0.1:1/0")

    class Unreachable:
        def exists(self, key):
            raise ConnectionError("https://AKIA-secret@store.example:9000 refused")

    svc.storage = Unreachable()
    started = time.monotonic()
    response = platform.anonymous().client.get("/healthz")
    print(f"healthz with two checks down answered in {time.monotonic() - started:.2f} s")
    body = response.get_json()
    assert response.status_code == 503
    assert body["status"] == "down" and body["down"] == ["broker", "storage"]
    assert body["checks"]["storage"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"]
    # With a broker, the web runs no container: the engine is the workers' business.
    assert body["checks"]["engine"]["skipped"]
    assert "s3cret" not in response.text and "AKIA" not in response.text


def _metrics(platform, **headers) -> str:
    response = platform.anonymous().client.get("/metrics", headers=headers)
    assert response.status_code == 200
    return response.text


def _cache(result: str) -> float:
    return REGISTRY.get_sample_value("lai_leaderboard_cache_requests_total",
                                     {"result": result}) or 0.0


def test_metrics_count_queues_runs_run_time_uploads_and_cache_hits(ada, image, fake):
    platform = ada.platform
    submit(ada, image)
    text = _metrics(platform)
    assert 'lai_queue_length{queue="cpu"} 1.0' in text
    assert 'lai_queue_length{queue="gpu"} 0.0' in text
    platform.run_queued()
    fake.script = fails(FailureReason.TIMEOUT)
    submit(ada, image)
    platform.run_queued()
    fake.script = predicts()
    hits = _cache("hit")
    for _ in range(3):
        assert platform.anonymous().client.get(
            "/api/v1/challenges/lai-liver/phases/development/leaderboard").status_code == 200
    text = _metrics(platform)
    assert 'lai_runs_total{outcome="succeeded"} 1.0' in text
    assert 'lai_runs_total{outcome="timeout"} 1.0' in text
    assert 'lai_queue_length{queue="cpu"} 0.0' in text
    assert 'lai_run_seconds_bucket{le="1.0"} 1.0' in text
    assert "lai_run_seconds_count 1.0" in text
    upload = next(line for line in text.splitlines() if line.startswith("lai_upload_bytes_total"))
    assert float(upload.split()[-1]) >= image.stat().st_size
    assert _cache("hit") >= hits + 2  # the same ranking version served from the cache
    assert 'lai_workers_live{queue="gpu"} 0.0' in text


def test_metrics_count_unfinished_resumable_uploads(ada, image):
    ada.platform.set_upload_chunk(4096)
    upload = ada.open_upload(image.stat().st_size).get_json()
    ada.send_chunk(upload["id"], 0, image.read_bytes()[:4096])
    text = _metrics(ada.platform)
    assert "lai_uploads_unfinished 1.0" in text
    assert "lai_uploads_unfinished_bytes 4096.0" in text


def test_metrics_ask_for_the_token_when_one_is_set(platform):
    svc = platform.services
    svc.settings = replace(svc.settings, metrics_token="t0ken")
    client = platform.anonymous().client
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert _metrics(platform, Authorization="Bearer t0ken").startswith("#")


def test_every_log_line_of_a_run_carries_its_submission_id(ada, image, fake, caplog):
    def noisy(spec):
        logging.getLogger("lai_platform.runner.fake").warning("container says %s", "hello")
        return predicts()(spec)

    fake.script = noisy
    sub_id = submit(ada, image)
    logging.getLogger("lai_platform.test").warning("before the run")
    with caplog.at_level(logging.DEBUG):
        caplog.clear()
        ada.platform.run_queued()
    during = [r for r in caplog.records if r.name.startswith("lai_platform")]
    assert any("container says hello" in r.getMessage() for r in during)
    for record in during:
        if record.submission_id == sub_id:
            assert record.getMessage().startswith(f"[submission {sub_id}] ")
    run_lines = [r for r in during if "container says" in r.getMessage()]
    assert all(r.submission_id == sub_id for r in run_lines)
    assert logcontext.submission_id.get() is None  # reset after the run


def test_the_filter_marks_only_the_runs_lines():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("a",), None)
    logcontext.SubmissionIdFilter().filter(record)
    assert record.submission_id is None and record.getMessage() == "plain a"
    token = logcontext.submission_id.set(42)
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "during %d%%", (5,), None)
        logcontext.SubmissionIdFilter().filter(record)
        logcontext.SubmissionIdFilter().filter(record)  # a second handler: prefixed once
    finally:
        logcontext.submission_id.reset(token)
    assert record.getMessage() == "[submission 42] during 5%"
