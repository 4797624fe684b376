"""`flask --app app storage init`: a fresh deployment's bucket is created (compose's migrate
service runs it), and running it again changes nothing."""

from __future__ import annotations

import io

import boto3

from lai_platform import create_app
from lai_platform.storage import S3Storage
from tests.conftest import make_settings


def test_storage_init_creates_the_bucket_once(s3_endpoint, tmp_path):
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'lai.db'}",
        storage_url=f"s3://fresh-bucket/platform?endpoint_url={s3_endpoint}")
    runner = create_app(settings).test_cli_runner()

    first = runner.invoke(args=["storage", "init"])
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    assert "fresh-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    again = runner.invoke(args=["storage", "init"])
    assert again.exit_code == 0 and "already there" in again.output


def test_a_stored_object_survives_ensure_bucket(s3_endpoint):
    store = S3Storage("kept-bucket", "p", endpoint_url=s3_endpoint)
    assert store.ensure_bucket() is True
    store.save("a/b.txt", io.BytesIO(b"hello"))
    assert store.ensure_bucket() is False
    with store.open("a/b.txt") as stream:
        assert stream.read() == b"hello"


def test_storage_init_on_local_storage_makes_the_folder(tmp_path):
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'lai.db'}")
    result = create_app(settings).test_cli_runner().invoke(args=["storage", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "storage").is_dir()
