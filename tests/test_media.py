"""The media store: content-addressed, the same contract on a local folder and on S3 (a local moto server)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest

from storage.media import (
    LocalMediaStore,
    MediaError,
    MediaMissing,
    describe,
    extension_of,
    keep,
    media_key,
    parse_key,
)
from storage.media_s3 import S3MediaStore
from tests.emulator import make_png
from tests.s3_server import make_bucket, s3_server

PHOTO = make_png(5, 4, (10, 20, 30))
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return LocalMediaStore(tmp_path / "media")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"photos-{uuid.uuid4().hex[:8]}"
    make_bucket(endpoint, bucket)
    return S3MediaStore(
        bucket, endpoint=endpoint, access_key="test", secret_key="test", region="us-east-1", prefix="shixiao"
    )


def test_a_photo_is_named_by_its_content():
    stored = describe(PHOTO)
    sha256 = hashlib.sha256(PHOTO).hexdigest()
    assert (stored.sha256, stored.extension) == (sha256, "png")
    assert stored.key == f"{sha256[:2]}/{sha256[2:4]}/{sha256}.png"
    assert stored.path == f"media/{sha256[:2]}/{sha256[2:4]}/{sha256}.png"
    assert parse_key(stored.key) == stored
    assert [extension_of(data) for data in (JPEG, PHOTO, b"GIF89a..", b"hello")] == ["jpg", "png", "gif", "bin"]


@pytest.mark.parametrize("key", ["../x", "ab/cd/short.jpg", "/etc/passwd", media_key("A" * 64, "jpg"), ""])
def test_only_media_keys_are_names(key):
    assert parse_key(key) is None


@pytest.mark.slow
async def test_the_store_keeps_each_content_once_and_gives_it_back(store):
    first = await keep(store, PHOTO)
    again = await keep(store, PHOTO)  # the same photo in a second report, or a retried download
    other = await keep(store, JPEG)
    assert first == again
    assert await store.get(first.key) == PHOTO
    assert await store.get(other.key) == JPEG
    assert await store.exists(first.key)
    assert [key async for key in store.keys()] == sorted([first.key, other.key])


async def test_a_missing_or_forged_key_is_refused(store):
    with pytest.raises(MediaMissing):
        await store.get(media_key("0" * 64, "jpg"))
    assert not await store.exists(media_key("0" * 64, "jpg"))
    with pytest.raises(MediaMissing):
        await store.get("../../etc/passwd")


async def test_a_folder_store_never_leaves_half_a_file(tmp_path):
    store = LocalMediaStore(tmp_path / "media")
    stored = await keep(store, PHOTO)
    folder = (tmp_path / "media" / stored.key).parent
    assert [path.name for path in folder.iterdir()] == [f"{stored.sha256}.png"]  # no .part- leftovers


async def test_an_unwritable_folder_is_a_media_error(tmp_path):
    blocker = tmp_path / "media"
    blocker.write_text("not a folder")
    with pytest.raises(MediaError):
        await keep(LocalMediaStore(blocker), PHOTO)


async def test_an_unreachable_bucket_is_a_media_error():
    from tests.s3_server import free_port

    store = S3MediaStore(
        "photos", endpoint=f"http://127.0.0.1:{free_port()}", access_key="x", secret_key="y", region="us-east-1"
    )
    with pytest.raises(MediaError):
        await store.put(describe(PHOTO).key, PHOTO)


def test_the_media_store_is_the_folder_unless_a_bucket_is_configured(tmp_path, s3_endpoint):
    from bot.app import media_store
    from bot.settings import Settings

    assert Settings(_env_file=None, media_dir="").media_folder == Settings(_env_file=None).media_folder  # .env line
    folder = media_store(Settings(_env_file=None, data_dir=tmp_path))
    assert isinstance(folder, LocalMediaStore) and folder.root == tmp_path / "media"
    bucket = media_store(
        Settings(
            _env_file=None,
            media_s3_endpoint=s3_endpoint,
            media_s3_bucket="photos",
            media_s3_access_key="test",
            media_s3_secret_key="test",
            media_s3_region="us-east-1",
        )
    )
    assert isinstance(bucket, S3MediaStore) and bucket.bucket == "photos"
