"""Build (and optionally save) the LAI baseline algorithm image.

    python examples/lai-liver/baseline/build.py --training DIR [--tag T] [--save OUT.tar]

The image trains inside its first build stage on the training split DIR and ships only
code + model. A build is skipped when an image with the tag already carries the hash of
the same code, training data and base image (label ``org.lai.baseline.hash``).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import docker
from docker.errors import ImageNotFound

HERE = Path(__file__).resolve().parent
BASE_IMAGE = "lai-base-python:bookworm"
DEFAULT_TAG = "lai-liver-baseline:latest"
HASH_LABEL = "org.lai.baseline.hash"
CODE_FILES = ("Dockerfile", "features.py", "train.py", "predict.py")


class BuildFailed(RuntimeError):
    """The image build failed; the message carries the builder's error and log tail."""


def _training_files(training_dir: Path) -> list[Path]:
    if not (training_dir / "ground_truth.csv").is_file() or not (training_dir / "inputs").is_dir():
        raise FileNotFoundError(
            f"{training_dir} is not a training split (needs ground_truth.csv and inputs/)"
        )
    files = [training_dir / "ground_truth.csv"]
    files += sorted(p for p in (training_dir / "inputs").rglob("*") if p.is_file())
    return files


def content_hash(training_dir: Path, base_image_id: str) -> str:
    """Hash of everything the image is built from: code, training files, base image."""
    digest = hashlib.sha256(base_image_id.encode())
    for name in CODE_FILES:
        digest.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    for path in _training_files(training_dir):
        digest.update(str(path.relative_to(training_dir)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _make_context(root: Path, training_dir: Path) -> None:
    for name in CODE_FILES:
        shutil.copy2(HERE / name, root / name)
    (root / "training").mkdir()
    shutil.copy2(training_dir / "ground_truth.csv", root / "training" / "ground_truth.csv")
    shutil.copytree(training_dir / "inputs", root / "training" / "inputs")


def build_baseline(
    training_dir: Path, tag: str = DEFAULT_TAG, client: docker.DockerClient | None = None,
    quiet: bool = False,
) -> str:
    """Build the baseline image from `training_dir` (skipped if up to date); its image id."""
    training_dir = Path(training_dir).resolve()
    client = client or docker.from_env()
    try:
        base_id = client.images.get(BASE_IMAGE).id
    except ImageNotFound:
        raise BuildFailed(
            f"base image {BASE_IMAGE} is missing; run scripts/build_base_image.sh"
        ) from None
    digest = content_hash(training_dir, base_id)
    try:
        existing = client.images.get(tag)
        if existing.labels.get(HASH_LABEL) == digest:
            if not quiet:
                print(f"{tag} is up to date ({existing.short_id})")
            return existing.id
    except ImageNotFound:
        pass

    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="lai-baseline-") as tmp:
        _make_context(Path(tmp), training_dir)
        # pull=False and no network: everything comes from the local base image.
        stream = client.api.build(
            path=tmp, tag=tag, rm=True, forcerm=True, pull=False, network_mode="none",
            labels={HASH_LABEL: digest}, decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                tail = "".join(log[-20:])
                raise BuildFailed(f"building {tag} failed: {chunk['error'].strip()}\n{tail}")
            text = chunk.get("stream", "")
            if text:
                log.append(text)
                if not quiet:
                    print(text, end="", flush=True)
    return client.images.get(tag).id


def save_image(tag: str, out: Path, client: docker.DockerClient | None = None) -> Path:
    """`docker save` the image (named, so the tarball's manifest carries the tag)."""
    client = client or docker.from_env()
    image = client.images.get(tag)
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    with open(partial, "wb") as handle:
        for chunk in image.save(named=tag if tag in image.tags else True):
            handle.write(chunk)
    partial.replace(out)  # never leave a truncated tarball under the final name
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the LAI liver baseline image.")
    parser.add_argument("--training", type=Path, required=True, help="training split dir")
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--save", type=Path, help="also write a `docker save` tarball here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        image_id = build_baseline(args.training, args.tag)
    except (BuildFailed, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.tag}: {image_id} ({time.perf_counter() - started:.0f} s)")
    if args.save:
        save_image(args.tag, args.save)
        print(f"saved {args.save} ({args.save.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
