"""inspect_image_tarball: every rejection, both `docker save` layouts, plain and gzip."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from lai_platform.images import archive
from lai_platform.images.tarball import ImageInfo, ImageRejected, inspect_image_tarball
from tests.docker_images import (
    Special,
    Symlink,
    image_config,
    layer_tar,
    manifest_of,
    set_manifest,
    synthetic_image,
    write_tarball,
)

LIMIT = 100 * 2**20
LAYOUTS = ["classic", "oci"]


def rejected(path: Path, max_bytes: int = LIMIT) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        inspect_image_tarball(path, max_bytes)
    assert caught.value.message == str(caught.value)
    return caught.value


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("compress", [False, True])
def test_valid_image_is_described(tmp_path: Path, layout: str, compress: bool) -> None:
    members, image_id = synthetic_image(layout, cmd=["--fast"], repo_tags=["team/algo:v1"])
    path = write_tarball(tmp_path / "image.tar", members, compress=compress)

    info = inspect_image_tarball(path, LIMIT)

    assert replace(info, archive_end=0) == ImageInfo(
        image_id=image_id,
        architecture="amd64",
        os="linux",
        cmd=["--fast"],
        entrypoint=["/bin/predict"],
        repo_tags=["team/algo:v1"],
        size_bytes=path.stat().st_size,
        compressed=compress,
    )
    assert info.archive_end > 0


def test_compression_is_detected_by_content_not_by_name(tmp_path: Path) -> None:
    members, image_id = synthetic_image()
    gz_named_tar = write_tarball(tmp_path / "image.tar", members, compress=True)
    tar_named_gz = write_tarball(tmp_path / "image.tar.gz", members, compress=False)

    assert inspect_image_tarball(gz_named_tar, LIMIT).image_id == image_id
    assert inspect_image_tarball(tar_named_gz, LIMIT).image_id == image_id


def test_command_alone_or_entrypoint_alone_is_enough(tmp_path: Path) -> None:
    members, _ = synthetic_image(cmd=["/bin/predict"], entrypoint=None)
    info = inspect_image_tarball(write_tarball(tmp_path / "i.tar", members), LIMIT)
    assert (info.cmd, info.entrypoint) == (["/bin/predict"], None)


def test_a_layer_stored_once_and_linked_is_accepted(tmp_path: Path) -> None:
    # docker save writes a symlink when two layers have the same content.
    layer = layer_tar({"a": b"same"})
    members, _ = synthetic_image("classic", layers=[layer, layer])
    first, second = manifest_of(members)[0]["Layers"]
    members[second] = Symlink("../" + first)
    info = inspect_image_tarball(write_tarball(tmp_path / "i.tar", members), LIMIT)
    assert info.architecture == "amd64"


# -- not an image archive at all -------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "image.tar"
    path.write_bytes(b"")
    assert rejected(path).code == "not_tar"


def test_garbage(tmp_path: Path) -> None:
    path = tmp_path / "image.tar"
    path.write_bytes(b"this is not a tarball at all\n" * 100)
    error = rejected(path)
    assert error.code == "not_tar"
    assert "not a tar archive" in error.message


def test_gzip_of_garbage(tmp_path: Path) -> None:
    path = tmp_path / "image.tar.gz"
    path.write_bytes(gzip.compress(b"hello " * 1000))
    error = rejected(path)
    assert error.code == "not_tar"
    assert "gzip" in error.message


@pytest.mark.parametrize(
    ("magic", "kind"),
    [
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"BZh91AY", "bzip2"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"PK\x03\x04", "zip"),
    ],
)
def test_other_compressions_are_named(tmp_path: Path, magic: bytes, kind: str) -> None:
    path = tmp_path / "image.tar"
    path.write_bytes(magic + b"\0" * 600)
    error = rejected(path)
    assert error.code == "unsupported_compression"
    assert kind in error.message


def test_archive_without_files(tmp_path: Path) -> None:
    assert rejected(write_tarball(tmp_path / "i.tar", {})).code == "not_tar"


# -- truncated or corrupt ----------------------------------------------------------------------


def _big_image(tmp_path: Path, compress: bool = False) -> Path:
    # Random bytes do not compress, so a cut gzip file really loses layer data.
    layer = layer_tar({"weights.bin": os.urandom(2**20)})
    members, _ = synthetic_image(layers=[layer])
    return write_tarball(tmp_path / "image.tar", members, compress=compress)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_in_the_middle(tmp_path: Path, compress: bool) -> None:
    path = _big_image(tmp_path, compress)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    error = rejected(path)
    assert error.code == "corrupt_archive"
    assert "truncated" in error.message


def test_truncated_at_an_entry_boundary(tmp_path: Path) -> None:
    # Everything up to the end-of-archive marker is there, then nothing: still cut short.
    path = _big_image(tmp_path)
    with tarfile.open(path) as tar:
        end = tar.offset if tar.getmembers() else 0
    path.write_bytes(path.read_bytes()[:end])
    assert rejected(path).code == "corrupt_archive"


def test_damaged_entry_header(tmp_path: Path) -> None:
    path = _big_image(tmp_path)
    with tarfile.open(path) as tar:
        last = tar.getmembers()[-1]
    data = bytearray(path.read_bytes())
    data[last.offset : last.offset + 100] = b"X" * 100  # name field: checksum now wrong
    path.write_bytes(bytes(data))
    assert rejected(path).code == "corrupt_archive"


def test_gzip_with_flipped_bytes(tmp_path: Path) -> None:
    path = _big_image(tmp_path, compress=True)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0xFF for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))
    assert rejected(path).code == "corrupt_archive"


def test_config_that_does_not_match_its_digest(tmp_path: Path) -> None:
    members, image_id = synthetic_image("oci")
    name = f"blobs/sha256/{image_id.removeprefix('sha256:')}"
    config = json.loads(members[name])  # type: ignore[arg-type]
    config["config"]["Cmd"] = ["/bin/evil"]
    members[name] = json.dumps(config).encode()
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "corrupt_archive"


# -- size -----------------------------------------------------------------------------------------


def test_over_the_size_limit_names_both_sizes(tmp_path: Path) -> None:
    members, _ = synthetic_image(layers=[layer_tar({"w": b"\1" * 3 * 2**20})])
    path = write_tarball(tmp_path / "i.tar", members)
    error = rejected(path, max_bytes=2 * 2**20)
    assert error.code == "too_large"
    assert "3.0 MB" in error.message
    assert "2.0 MB" in error.message


# -- manifest ------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_manifest(tmp_path: Path, layout: str) -> None:
    members, image_id = synthetic_image(layout)
    del members["manifest.json"]
    path = write_tarball(tmp_path / "i.tar", members)
    if layout == "classic":
        error = rejected(path)
        assert error.code == "no_manifest" and "index.json" in error.message
        return
    # An OCI archive as podman and skopeo write it: read from its index.json.
    info = inspect_image_tarball(path, LIMIT)
    assert info.image_id == image_id and info.docker_manifest is not None
    manifest = json.loads(info.docker_manifest)[0]
    assert manifest["Config"] == f"blobs/sha256/{image_id.removeprefix('sha256:')}"


def test_no_image_in_manifest(tmp_path: Path) -> None:
    members, _ = synthetic_image()
    set_manifest(members, [])
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "image_count"
    assert "exactly one image per submission" in error.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_two_images_in_manifest(tmp_path: Path, layout: str) -> None:
    members, _ = synthetic_image(layout)
    entry = manifest_of(members)[0]
    set_manifest(members, [entry, entry])
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "image_count"
    assert "2 images" in error.message
    assert "exactly one image per submission" in error.message


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[" * 100_000 + b"]" * 100_000, b'{"Config": "x"}', b"[1]"]
)
def test_manifest_that_is_not_a_list_of_images(tmp_path: Path, raw: bytes) -> None:
    members, _ = synthetic_image()
    members["manifest.json"] = raw
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "manifest_invalid"


def test_huge_manifest_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_JSON_BYTES", 1024)
    members, _ = synthetic_image()
    members["manifest.json"] = json.dumps(manifest_of(members), indent=4096).encode()
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "manifest_invalid"
    assert "MB" in error.message


# -- config --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_config_missing(tmp_path: Path, layout: str) -> None:
    members, image_id = synthetic_image(layout)
    hex_ = image_id.removeprefix("sha256:")
    del members[f"{hex_}.json" if layout == "classic" else f"blobs/sha256/{hex_}"]
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "config_missing"


def test_config_not_json(tmp_path: Path) -> None:
    members, _ = synthetic_image()
    entry = manifest_of(members)
    members["config.json"] = b"{ nope"
    entry[0]["Config"] = "config.json"
    set_manifest(members, entry)
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "config_invalid"


def test_config_and_manifest_disagree_on_layers(tmp_path: Path) -> None:
    layers = [layer_tar({"a": b"1"}), layer_tar({"b": b"2"})]
    config = image_config(layers[:1])
    members, _ = synthetic_image(layers=layers, config=config)
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "config_invalid"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_wrong_architecture(tmp_path: Path, layout: str) -> None:
    members, _ = synthetic_image(layout, architecture="arm64")
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "wrong_architecture"
    assert "arm64" in error.message
    assert "--platform linux/amd64" in error.message


def test_wrong_os(tmp_path: Path) -> None:
    members, _ = synthetic_image(os="windows")
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "wrong_os"
    assert "windows" in error.message


@pytest.mark.parametrize("empty", [None, []])
def test_no_command_and_no_entrypoint(tmp_path: Path, empty: list | None) -> None:
    members, _ = synthetic_image(cmd=empty, entrypoint=empty)
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "no_command"
    assert "ENTRYPOINT" in error.message


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layers_missing(tmp_path: Path, layout: str) -> None:
    members, _ = synthetic_image(layout, layers=[layer_tar({"a": b"1"}), layer_tar({"b": b"2"})])
    del members[manifest_of(members)[0]["Layers"][1]]
    error = rejected(write_tarball(tmp_path / "i.tar", members))
    assert error.code == "layers_missing"
    assert "1 of the image's 2 layers" in error.message


# -- path tricks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.json", "/etc/cron.d/evil", "a/../../evil"])
def test_member_outside_the_archive(tmp_path: Path, name: str) -> None:
    members, _ = synthetic_image()
    members[name] = b"{}"
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "unsafe_path"


@pytest.mark.parametrize("target", ["/etc/passwd", "../../etc/passwd"])
def test_symlink_out_of_the_archive(tmp_path: Path, target: str) -> None:
    members, _ = synthetic_image()
    members["evil"] = Symlink(target)
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "unsafe_path"


@pytest.mark.parametrize("field", ["Config", "Layers"])
def test_manifest_pointing_outside(tmp_path: Path, field: str) -> None:
    members, _ = synthetic_image()
    entry = manifest_of(members)
    entry[0][field] = "../../etc/passwd" if field == "Config" else ["/etc/passwd"]
    set_manifest(members, entry)
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "unsafe_path"


def test_device_or_fifo_entries(tmp_path: Path) -> None:
    members, _ = synthetic_image()
    members["pipe"] = Special(tarfile.FIFOTYPE)
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "unsafe_path"


def test_duplicate_entries(tmp_path: Path) -> None:
    # tar keeps both; a reader and docker could disagree about which one counts.
    members, _ = synthetic_image()
    path = write_tarball(tmp_path / "i.tar", members)
    with tarfile.open(path, "a") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"[]"))
    assert rejected(path).code == "unsafe_path"


def test_huge_pax_header_is_not_read_into_memory(tmp_path: Path) -> None:
    members, _ = synthetic_image()
    path = write_tarball(tmp_path / "i.tar", members)
    header = tarfile.TarInfo("PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 200 * 2**20  # claims 200 MB; tarfile would read it in one piece
    data = header.tobuf(format=tarfile.USTAR_FORMAT) + b"\0" * 1024
    path.write_bytes(data + path.read_bytes())
    error = rejected(path)
    assert error.code == "corrupt_archive"
    assert "200.0 MB" in error.message


def test_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_ENTRIES", 10)
    members, _ = synthetic_image()
    members.update({f"junk/{i}": b"" for i in range(20)})
    assert rejected(write_tarball(tmp_path / "i.tar", members)).code == "too_many_entries"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gzip_is_read_in_one_pass(
    tmp_path: Path, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backward seek restarts decompression from byte 0: multi-GB uploads must not pay it."""
    members, image_id = synthetic_image(layout, layers=[layer_tar({"w": os.urandom(2**16)})])
    path = write_tarball(tmp_path / "i.tar.gz", members, compress=True)
    real_seek = gzip.GzipFile.seek
    backward: list[tuple[int, int]] = []

    def watching_seek(self: gzip.GzipFile, offset: int, whence: int = 0) -> int:
        if whence == 0 and offset < self.tell():
            backward.append((self.tell(), offset))
        return real_seek(self, offset, whence)

    monkeypatch.setattr(gzip.GzipFile, "seek", watching_seek)
    assert inspect_image_tarball(path, LIMIT).image_id == image_id
    assert backward == []


ZEROS = layer_tar({"zeros.bin": bytes(30 * 2**20)})  # 30 MiB that gzip makes ~30 KiB


def test_a_compressed_archive_that_expands_far_is_refused_early(tmp_path: Path) -> None:
    members, _ = synthetic_image(layers=[ZEROS])
    path = write_tarball(tmp_path / "bomb.tar.gz", members, compress=True)
    assert path.stat().st_size < 2**20
    error = rejected(path, max_bytes=2**30)
    assert error.code == "expands_too_much"
    assert "100 times its compressed size" in error.message


def test_a_compressed_layer_that_expands_far_is_refused(tmp_path: Path) -> None:
    members, _ = synthetic_image("oci", layers=[gzip.compress(ZEROS, compresslevel=9)])
    error = rejected(write_tarball(tmp_path / "bomb.tar", members), max_bytes=2**30)
    assert error.code == "expands_too_much" and "layer" in error.message


def test_layers_within_the_limit_but_too_many_in_total_are_refused(tmp_path: Path) -> None:
    # Each expands to 1 MiB (hex text: about twice its compressed size): together 3 MiB,
    # over a 2.5 MiB limit, though the archive itself is under it.
    layers = [gzip.compress(layer_tar({f"part{i}.txt": os.urandom(2**19).hex().encode()}))
              for i in range(3)]
    members, _ = synthetic_image("oci", layers=layers)
    path = write_tarball(tmp_path / "three.tar", members)
    assert path.stat().st_size < 2.5 * 2**20
    error = rejected(path, max_bytes=int(2.5 * 2**20))
    assert error.code == "expands_too_much" and "image limit" in error.message


def test_ten_thousand_layers_are_refused(tmp_path: Path) -> None:
    layers = [layer_tar({f"f{i}": b"x"}) for i in range(200)]
    members, _ = synthetic_image(layers=layers)
    error = rejected(write_tarball(tmp_path / "many.tar", members))
    assert error.code == "too_many_layers" and "200 layers" in error.message
