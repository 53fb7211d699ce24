"""The media store on S3-compatible object storage (MinIO, a cloud bucket), for several instances sharing photos.

boto3 is the optional extra `.[s3]`. Its client is synchronous and thread-safe, so each call runs in a worker
thread and the event loop never waits on the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from storage.media import MediaError, MediaMissing, parse_key

MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class S3MediaStore:
    def __init__(
        self,
        bucket: str,
        *,
        endpoint: str = "",
        access_key: str = "",
        secret_key: str = "",
        region: str = "",
        prefix: str = "",
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise MediaError('S3 媒体存储需要 boto3：请安装 pip install ".[s3]"') from None
            client = boto3.client(
                "s3",
                endpoint_url=endpoint or None,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
                region_name=region or None,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=30),
            )
        self.client = client

    def _name(self, key: str) -> str:
        if parse_key(key) is None:
            raise MediaMissing(f"not a media key: {key!r}")
        return self.prefix + key

    async def _call(self, method: str, **arguments: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(getattr(self.client, method), Bucket=self.bucket, **arguments)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in MISSING_CODES:
                raise MediaMissing(arguments.get("Key", "")) from None
            raise MediaError(f"S3 {method}: {code or error}") from error
        except BotoCoreError as error:
            raise MediaError(f"S3 {method}: {error}") from error

    async def put(self, key: str, data: bytes) -> None:
        await self._call("put_object", Key=self._name(key), Body=data)

    async def get(self, key: str) -> bytes:
        answer = await self._call("get_object", Key=self._name(key))
        return await asyncio.to_thread(answer["Body"].read)

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Key=self._name(key))
        except MediaMissing:
            return False
        return True

    async def keys(self) -> AsyncIterator[str]:
        token: str | None = None
        while True:
            page = await self._call(
                "list_objects_v2", Prefix=self.prefix, **({"ContinuationToken": token} if token else {})
            )
            for entry in page.get("Contents", []):
                key = entry["Key"][len(self.prefix) :]
                if parse_key(key) is not None:
                    yield key
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")
