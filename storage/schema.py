"""Every model module, imported so that Base.metadata is complete (for Alembic and tests)."""

from storage import (
    channel_models,  # noqa: F401  (DingTalk accounts, work groups)
    complaint_models,  # noqa: F401  (complaints, their events, followers, photos)
    inspection_models,  # noqa: F401  (units, inspections)
    kept_photo_models,  # noqa: F401  (the photos of closures and owners' fixes)
    milestone_models,  # noqa: F401  (plan milestones and their done-marks)
    models,  # noqa: F401  (foundation tables)
    owner_models,  # noqa: F401  (units' owners)
    pacing_models,  # noqa: F401  (chat send allowances, throttled inbound messages)
    question_models,  # noqa: F401  (the county office's question queue, learned entries)
    runtime_models,  # noqa: F401  (APScheduler's job store, live bot instances)
    web_models,  # noqa: F401  (the web console: sign-in links, sessions, audit, register edits, filed files)
)
from storage.models import Base

metadata = Base.metadata
