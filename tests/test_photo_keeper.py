"""The photo keeper: each report photo downloaded once after the report's commit, retried with a doubling delay,
flagged on its report after the last attempt (or at once when it can never be fetched), never fetched twice by two
instances. The channel is a scripted fake (the network edge); database, store and keeper are the real ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.photo_keeper import KeepLimits, PhotoKeeper
from scheduler.sender import PermanentFailure, TemporaryFailure
from storage import inspections
from storage.inspection_models import InspectionPhoto
from storage.media import LocalMediaStore, describe
from storage.models import Role
from storage.users import create_user
from tests.emulator import make_png
from tests.inspection_support import add_unit

PHOTO = make_png(3, 3, (1, 2, 3))


class ScriptedSource:
    """Answers each fetch with the next scripted outcome (an exception to raise, or bytes)."""

    def __init__(self, *outcomes) -> None:
        self.outcomes = list(outcomes)
        self.fetched: list[str] = []

    async def fetch(self, reference: str) -> bytes:
        self.fetched.append(reference)
        outcome = self.outcomes.pop(0) if self.outcomes else PHOTO
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def submit_with_photos(db, clock, *file_ids: str, key: str = "k1") -> int:
    unit_id = await add_unit(db, clock, "芙蓉村", "老王小吃店")
    async with db.transaction() as session:
        await create_user(session, 9001, clock.now(), Role.CADRE)
        report = inspections.Report(
            unit_id=unit_id,
            submit_key=key,
            industry="small_restaurant",
            answers={},
            notes={},
            proposed_compliant=True,
            compliant=True,
            unit_class="upgrade",
            photos=[{"file_id": file_id, "unique_id": f"u-{file_id}"} for file_id in file_ids],
        )
        inspection, _ = await inspections.submit(session, report, 1, clock.now())
        return inspection.id


async def photo_rows(db) -> list[InspectionPhoto]:
    async with db.transaction() as session:
        return list(await session.scalars(select(InspectionPhoto).order_by(InspectionPhoto.id)))


def keeper(db, clock, source, tmp_path, **limits) -> PhotoKeeper:
    return PhotoKeeper(
        db,
        source,
        LocalMediaStore(tmp_path / "media"),
        clock,
        limits=KeepLimits(max_attempts=3, first_retry=30.0, **limits),
    )


async def test_a_failing_download_is_retried_with_a_doubling_delay_then_flagged(db, clock, tmp_path):
    await submit_with_photos(db, clock, "file-a")
    source = ScriptedSource(TemporaryFailure("502"), TemporaryFailure("timeout"), TemporaryFailure("502"))
    worker = keeper(db, clock, source, tmp_path)
    assert await worker.round() == 1
    [photo] = await photo_rows(db)
    assert (photo.attempts, photo.failed, photo.sha256) == (1, False, None)
    assert photo.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert await worker.round() == 0  # not before its time
    clock.advance(timedelta(seconds=30))
    assert await worker.round() == 1
    [photo] = await photo_rows(db)
    assert photo.next_attempt_at == clock.now() + timedelta(seconds=60)  # doubled
    clock.advance(timedelta(seconds=60))
    assert await worker.round() == 1
    [photo] = await photo_rows(db)
    assert (photo.attempts, photo.failed, photo.sha256) == (3, True, None)  # flagged after the third failure
    assert "502" in photo.last_error
    clock.advance(timedelta(days=1))
    assert await worker.round() == 0  # given up: never tried again
    assert source.fetched == ["file-a"] * 3


async def test_a_download_that_succeeds_on_retry_is_kept_by_its_hash(db, clock, tmp_path):
    await submit_with_photos(db, clock, "file-a")
    worker = keeper(db, clock, ScriptedSource(TemporaryFailure("502"), PHOTO), tmp_path)
    await worker.round()
    clock.advance(timedelta(seconds=30))
    await worker.round()
    [photo] = await photo_rows(db)
    stored = describe(PHOTO)
    assert (photo.sha256, photo.extension, photo.failed, photo.attempts) == (stored.sha256, "png", False, 2)
    assert photo.stored_at == clock.now() and photo.last_error is None
    assert (tmp_path / "media" / stored.key).read_bytes() == PHOTO


async def test_a_photo_that_can_never_be_fetched_is_flagged_at_once(db, clock, tmp_path):
    await submit_with_photos(db, clock, "file-a", "file-b")
    worker = keeper(db, clock, ScriptedSource(PermanentFailure("file is too big")), tmp_path)
    assert await worker.round() == 2
    first, second = await photo_rows(db)
    assert (first.failed, first.attempts, second.failed, second.sha256) == (True, 1, False, describe(PHOTO).sha256)


async def test_a_full_disk_is_retried_like_a_network_failure(db, clock, tmp_path):
    await submit_with_photos(db, clock, "file-a")
    (tmp_path / "media").write_text("a file where the folder should be")
    worker = keeper(db, clock, ScriptedSource(), tmp_path)
    await worker.round()
    [photo] = await photo_rows(db)
    assert (photo.attempts, photo.failed, photo.sha256) == (1, False, None)
    assert "MediaError" in photo.last_error


async def test_two_instances_never_fetch_the_same_photo(db, clock, tmp_path):
    await submit_with_photos(db, clock, *(f"file-{n}" for n in range(6)))
    second_source = ScriptedSource()
    second = keeper(db, clock, second_source, tmp_path)
    first_source = Interleaving(second)
    first = keeper(db, clock, first_source, tmp_path)
    # The first instance read all six as due, claimed file-0 and, while it downloads, the second runs a whole
    # round. The first then goes on down its stale list: it must lose every claim for what the second kept.
    assert await first.round() == 1
    assert first_source.fetched == ["file-0"]
    assert first_source.other_attempted == 5 and sorted(second_source.fetched) == [f"file-{n}" for n in range(1, 6)]
    assert all(photo.sha256 for photo in await photo_rows(db))


class Interleaving(ScriptedSource):
    """Runs another keeper's round in the middle of its first download."""

    def __init__(self, other: PhotoKeeper) -> None:
        super().__init__()
        self.other = other
        self.other_attempted: int | None = None

    async def fetch(self, reference: str) -> bytes:
        if self.other_attempted is None:
            self.other_attempted = await self.other.round()
        return await super().fetch(reference)


async def test_a_claim_left_by_a_crashed_instance_is_taken_after_its_lease(db, clock, tmp_path):
    from storage import kept_photos

    await submit_with_photos(db, clock, "file-a")
    [photo] = await photo_rows(db)
    async with db.transaction() as session:
        assert await kept_photos.claim(session, photo.id, clock.now(), clock.now() + timedelta(seconds=300))
    worker = keeper(db, clock, ScriptedSource(), tmp_path)
    assert await worker.round() == 0  # claimed by an instance that died mid-download
    clock.advance(timedelta(seconds=301))
    assert await worker.round() == 1


async def test_a_corrected_report_does_not_fetch_its_kept_photos_again(db, clock, tmp_path):
    first_id = await submit_with_photos(db, clock, "file-a")
    worker = keeper(db, clock, ScriptedSource(), tmp_path)
    await worker.round()
    [kept] = await photo_rows(db)
    async with db.transaction() as session:
        report = inspections.Report(
            unit_id=1,
            submit_key="k2",
            industry="small_restaurant",
            answers={},
            notes={},
            proposed_compliant=True,
            compliant=True,
            unit_class="upgrade",
            previous_id=first_id,
            photos=[
                {"file_id": "file-a", "unique_id": "u-file-a", "sha256": kept.sha256, "extension": kept.extension},
                {"file_id": "file-new"},
            ],
        )
        await inspections.submit(session, report, 1, clock.now())
    source = ScriptedSource()
    assert await keeper(db, clock, source, tmp_path).round() == 1
    assert source.fetched == ["file-new"]
