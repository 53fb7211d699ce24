"""Every model module, imported so that Base.metadata is complete (for Alembic and tests)."""

from storage import models  # noqa: F401  (foundation tables)
from storage.models import Base

# Feature modules add their tables here as they land, e.g. `from storage import inspection_models`.

metadata = Base.metadata
