"""sendMediaGroup: an album of 2-10 photos sent as one group of messages sharing a media_group_id, as Telegram
does. Each item's `media` is a file id, or `attach://<name>` naming an uploaded part."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from .errors import bad_request
from .markup import check_caption
from .params import Upload, chat_id_param
from .state import StoredFile, image_size

if TYPE_CHECKING:
    from .methods import ApiMethods

MIN_ITEMS, MAX_ITEMS = 2, 10
_group_ids = itertools.count(13_000_000_000_000_001)


def _item_file(api: ApiMethods, item: dict[str, Any], uploads: dict[str, Upload]) -> StoredFile:
    media = item.get("media")
    if not isinstance(media, str) or not media:
        raise bad_request("media not found")
    if media.startswith("attach://"):
        upload = uploads.get(media[len("attach://") :])
        if upload is None:
            raise bad_request(f"wrong file identifier/HTTP URL specified: attach {media!r} not found")
        dims = image_size(upload.data) or (1280, 960)
        return api.files.add(
            "photo",
            upload.data,
            file_name=upload.filename,
            mime_type=upload.content_type,
            width=dims[0],
            height=dims[1],
        )
    known = api.files.get(media)
    if known is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return known


def send_media_group(api: ApiMethods, p: dict[str, Any], u: dict[str, Upload]) -> list[dict[str, Any]]:
    chat = api._resolve_chat(chat_id_param(p))
    items = p.get("media")
    if not isinstance(items, list) or not MIN_ITEMS <= len(items) <= MAX_ITEMS:
        raise bad_request("wrong number of media in the album: must be 2-10 items")
    prepared = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "photo":
            raise bad_request("unsupported media type in the album (the emulator takes photos)")
        caption, entities = check_caption(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
        prepared.append((api.photo_sizes(_item_file(api, item, u)), caption, entities, item))
    group = str(next(_group_ids))
    reply_to = api._reply_target(chat, p)
    messages = []
    for sizes, caption, entities, item in prepared:
        msg = api._new_message(
            chat,
            api.bot_user,
            {"photo": sizes, "caption": caption, "caption_entities": entities, "media_group_id": group},
            reply_to,
        )
        api._record(
            "sendMediaGroup",
            msg,
            p,
            kind="photo",
            raw_text=item.get("caption"),
            markup=None,
            file_id=sizes[-1]["file_id"],
        )
        messages.append(msg)
    return messages
