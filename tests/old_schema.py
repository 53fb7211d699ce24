"""Tables as early migrations left them, for tests that fill a database at an old revision: today's models have
columns later migrations add, so rows of the old shape are written through these."""

from __future__ import annotations

import sqlalchemy as sa

from storage.types import UTCDateTime

# users as 0001-0013 left it (0014 adds the inbound allowance and the last press).
USERS_0009 = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("channel_user_id", sa.BigInteger),
    sa.column("role", sa.String),
    sa.column("area_id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("last_seen_at", UTCDateTime()),
)
