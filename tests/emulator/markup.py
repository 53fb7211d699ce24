"""Validation of message text (parse modes, lengths) and reply markup, mimicking Telegram's errors.

Telegram parses HTML / MarkdownV2 server-side and rejects bad markup with
"Bad Request: can't parse entities: ...". Bots that interpolate user input into HTML break on
that in production, so the emulator reproduces the check instead of accepting anything.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR_RE = re.compile(r"""([a-zA-Z_][\w-]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,8});")
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "`": "Code",
    "```": "Pre",
    "[": "TextUrl",
}
_MDV2_TYPES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
    "`": "code",
    "```": "pre",
    "[": "text_link",
}
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_error(detail: str) -> Exception:
    return bad_request(f"can't parse entities: {detail}")


class _Builder:
    """Accumulates plain text and entity spans measured in UTF-16 units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offset = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.offset += utf16_len(chunk)

    def close(self, etype: str, start: int, extra: dict[str, Any] | None = None) -> None:
        if self.offset > start:
            self.entities.append({"type": etype, "offset": start, "length": self.offset - start, **(extra or {})})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[tuple[str, int, dict[str, Any]]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            m = _ENTITY_RE.match(text, i)
            if m:
                name = m.group(1)
                if name.startswith(("#x", "#X")):
                    out.add(chr(int(name[2:], 16)))
                elif name.startswith("#"):
                    out.add(chr(int(name[1:])))
                elif name in _NAMED_ENTITIES:
                    out.add(_NAMED_ENTITIES[name])
                else:  # Telegram keeps unknown named entities verbatim
                    out.add(m.group(0))
                i = m.end()
                continue
            out.add(ch)
            i += 1
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        end = text.find(">", i)
        if end < 0:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
        body = text[i + 1 : end]
        if body.startswith("/"):
            name = body[1:].strip().lower()
            if not stack:
                raise _parse_error(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            open_name, start, extra = stack.pop()
            if open_name != name:
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            etype = _HTML_TAGS[open_name]
            if etype != "text_link" or "url" in extra:
                out.close(etype, start, extra)
        else:
            m = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", body)
            name = m.group(0).lower() if m else body.split(" ", 1)[0]
            if name not in _HTML_TAGS:
                raise _parse_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}')
            attrs = {
                a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or ""
                for a in _ATTR_RE.finditer(body[len(name) :])
            }
            extra: dict[str, Any] = {}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, i)}')
            if name == "a" and attrs.get("href"):
                extra["url"] = attrs["href"]
            if name == "pre" and "language" in attrs:
                extra["language"] = attrs["language"]
            if name == "tg-emoji":
                extra["custom_emoji_id"] = attrs.get("emoji-id", "")
            stack.append((name, out.offset, extra))
        i = end + 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (token, utf16 start, source index)
    i = 0
    at_line_start = True
    while i < len(text):
        ch = text[i]
        in_code = bool(stack) and stack[-1][0] in ("`", "```")
        if ch == "\\" and i + 1 < len(text):
            out.add(text[i + 1])
            i += 2
            at_line_start = False
            continue
        if in_code:
            token = "```" if text.startswith("```", i) else ch
            if token == stack[-1][0]:
                tok, start, _ = stack.pop()
                out.close(_MDV2_TYPES[tok], start)
                i += len(token)
            else:
                out.add(ch)
                i += 1
            continue
        if ch == ">" and at_line_start:
            i += 1  # blockquote marker; entity not tracked
            continue
        at_line_start = ch == "\n"
        token = None
        for cand in ("```", "__", "||", "*", "_", "~", "`", "["):
            if text.startswith(cand, i):
                token = cand
                break
        if token == "```":
            nl = text.find("\n", i + 3)
            stack.append(("```", out.offset, i))
            i = (nl + 1) if nl >= 0 else i + 3  # skip the language line
            continue
        if token == "[":
            stack.append(("[", out.offset, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "[":
            close = re.match(r"\]\(((?:\\.|[^)\\])*)\)", text[i:])
            if not close:
                raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(text, i)}")
            _, start, _ = stack.pop()
            out.close("text_link", start, {"url": re.sub(r"\\(.)", r"\1", close.group(1))})
            i += close.end()
            continue
        if token is not None:
            if stack and stack[-1][0] == token:
                tok, start, _ = stack.pop()
                out.close(_MDV2_TYPES[tok], start)
            else:
                stack.append((token, out.offset, i))
            i += len(token)
            continue
        if ch in _MDV2_RESERVED:
            raise _parse_error(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        out.add(ch)
        i += 1
    if stack:
        tok, _, src = stack[-1]
        raise _parse_error(f"Can't find end of {_MDV2_NAMES[tok]} entity at byte offset {_byte_offset(text, src)}")
    return out.result()


def parse_markdown_legacy(text: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    i = 0
    types = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        token = "```" if text.startswith("```", i) else ch
        if token in types:
            end = text.find(token, i + len(token))
            if end < 0:
                raise _parse_error(f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}")
            start = out.offset
            out.add(text[i + len(token) : end])
            out.close(types[token], start)
            i = end + len(token)
            continue
        if ch == "[":
            m = re.match(r"\[([^\]]*)\]\(([^)]*)\)", text[i:])
            if not m:
                raise _parse_error(f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}")
            start = out.offset
            out.add(m.group(1))
            out.close("text_link", start, {"url": m.group(2)})
            i += m.end()
            continue
        out.add(ch)
        i += 1
    return out.result()


def parse_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) the way Telegram would store the message."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown_legacy(text)
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    if entities is not None and not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    return text, list(entities or [])


def check_text(text: Any, parse_mode: str | None, entities: Any) -> tuple[str, list[dict[str, Any]]]:
    """Validate a sendMessage/editMessageText text parameter."""
    if text is None or not str(text).strip():
        raise bad_request("message text is empty")
    plain, ents = parse_text(str(text), parse_mode, entities)
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return plain, ents


def check_caption(caption: Any, parse_mode: str | None, entities: Any) -> tuple[str | None, list[dict[str, Any]]]:
    if caption is None or caption == "":
        return None, []
    plain, ents = parse_text(str(caption), parse_mode, entities)
    if utf16_len(plain) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return plain, ents


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Arrays')
    if sum(len(r) for r in rows) > 100:
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            if not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            actions = [a for a in _INLINE_ACTIONS if button.get(a) is not None]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in actions:
                data = button["callback_data"]
                size = len(data.encode("utf-8")) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in actions and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                raise bad_request("BUTTON_URL_INVALID")


def _check_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            label = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
            if not isinstance(label, str) or not label.strip():
                raise bad_request("keyboard button text must be non-empty")


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate reply_markup (already JSON-decoded) the way Telegram does; return it unchanged."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"])
        placeholder = markup.get("input_field_placeholder")
        if placeholder is not None and len(str(placeholder)) > 64:
            raise bad_request("input field placeholder is too long")
    elif not (markup.get("remove_keyboard") is True or markup.get("force_reply") is True):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Flattened inline keyboard buttons, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [b for row in markup["inline_keyboard"] for b in row]


def reply_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Flattened reply keyboard buttons, normalized to dicts."""
    if not markup or "keyboard" not in markup:
        return []
    return [b if isinstance(b, dict) else {"text": b} for row in markup["keyboard"] for b in row]


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities as a Telegram client would attach them to user text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        for m in _COMMAND_RE.finditer(text)
    ]
