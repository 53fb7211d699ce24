"""aiogram's HTTP session for the Bot API, refusing redirects.

The bot token is part of every Bot API URL. A client that follows a redirect sends it on to wherever the answer
points (another host, a captive portal, a proxy's login page), and aiohttp's errors about redirects (a loop, an
invalid target) quote the URL with the token. Telegram's Bot API never redirects, so a redirect is refused: the
call fails with an error that names the status, not the URL.

`make_request` is aiogram's own, through aiogram's public session interface (`create_session`, `api.api_url`,
`build_form_data`, `check_response`), with `allow_redirects=False` on the request; tests/test_log_privacy.py sends
the bot through a redirecting address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod


class NoRedirectSession(AiohttpSession):
    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's)
    ) -> Any:
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        form = self.build_form_data(bot=bot, method=method)
        try:
            async with session.post(
                url,
                data=form,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
                allow_redirects=False,
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        if 300 <= resp.status < 400:
            raise TelegramNetworkError(
                method=method,
                message=(
                    f"the Bot API address answered {resp.status} (a redirect), which is not followed: "
                    "check SHIXIAO_TELEGRAM_API_BASE"
                ),
            )
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(Any, response.result)
