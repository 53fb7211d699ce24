"""Import aiogram without building every Telegram type's and method's validator up front.

aiogram declares its ~450 Telegram types with pydantic's `defer_build=True`, yet `aiogram.types` then calls
`model_rebuild()` on every one of them at import, to resolve their forward references, and its ~180 method models
(each also a parametrised generic class) are built as they are defined. That is about 2 s of CPU and 100 MB of
memory at each start, mostly for types and methods this bot never uses (payments, stickers, business
accounts ...). `import_aiogram()` imports aiogram with those rebuilds deferred and every model defined during the
import marked `defer_build` (pydantic's default config, for the length of the import), and hands every Telegram
type and method the namespace aiogram resolved its types in (as pydantic's parent namespace, which pydantic
consults when it builds a deferred model on first use: a method's own module does not hold the names its
types' forward references need; tests/test_startup.py checks the namespace agrees with every method module).
Should that hand-over not work with some future pydantic or aiogram, everything is built at once, as aiogram
would have done. tests/test_startup.py builds every aiogram model the deferred way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)

SAMPLE_UPDATE = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                             "from": {"id": 1, "is_bot": False, "first_name": "x"}, "text": "ok"}}


def aiogram_models() -> Iterator[type[BaseModel]]:
    """Every pydantic model class aiogram defines (types first: methods refer to them)."""
    seen: set[type[BaseModel]] = set()
    stack = [BaseModel]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    yield from sorted((cls for cls in seen if cls.__module__.startswith("aiogram.")),
                      key=lambda cls: (not cls.__module__.startswith("aiogram.types."), cls.__module__, cls.__name__))


def import_aiogram() -> None:
    """Import aiogram with its models built on first use; a no-op once aiogram is imported."""
    if "aiogram" in sys.modules:
        return
    original = BaseModel.__dict__["model_rebuild"]
    namespaces: list[Any] = []

    def defer(cls: type[BaseModel], *, _types_namespace: Any = None, **kwargs: Any) -> bool | None:
        if cls.__module__.startswith("aiogram.types.") and _types_namespace is not None and not kwargs:
            if not namespaces:
                namespaces.append(_types_namespace)
            return None
        return original.__func__(cls, _types_namespace=_types_namespace, **kwargs)

    default_config = BaseModel.model_config
    BaseModel.model_rebuild = classmethod(defer)  # type: ignore[method-assign,assignment]
    # Models inherit their bases' config: methods (TelegramMethod's subclasses) are then built on first use too.
    BaseModel.model_config = {**default_config, "defer_build": True}
    try:
        import aiogram
        import aiogram.types
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]
        BaseModel.model_config = default_config
    if not namespaces:
        return  # this aiogram did not rebuild its types at import: they resolve in their own modules
    pending = [cls for cls in aiogram_models() if not cls.__pydantic_complete__]
    for cls in pending:
        cls.__pydantic_parent_namespace__ = namespaces[0]  # one shared dict, not a copy per model
    try:
        # The two models every start needs, built now rather than at the first getUpdates answer; they also
        # prove the hand-over worked.
        update = aiogram.types.Update.model_validate(SAMPLE_UPDATE)
        commands = aiogram.methods.SetMyCommands(commands=[aiogram.types.BotCommand(command="ok", description="ok")])
        works = update.message is not None and update.message.text == "ok" and commands.commands[0].command == "ok"
    except Exception:
        log.exception("aiogram's deferred models did not build; building all of them now")
        works = False
    if not works:
        for cls in pending:
            cls.model_rebuild(_types_namespace=namespaces[0])
