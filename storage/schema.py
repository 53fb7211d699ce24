"""Every model module, imported so that Base.metadata is complete (for Alembic and tests)."""

from storage import (
    inspection_models,  # noqa: F401  (units, inspections)
    models,  # noqa: F401  (foundation tables)
)
from storage.models import Base

metadata = Base.metadata
