"""The office's web console: a Starlette adapter beside the Telegram and DingTalk ones. Server-rendered Chinese
pages (Jinja2), plain forms, every asset served from this package. Nothing in handlers/ or storage/ imports it."""
