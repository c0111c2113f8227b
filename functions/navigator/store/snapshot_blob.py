"""The catalog snapshot's blob in S3: a container's cold start reads it instead of the feed."""

from __future__ import annotations

from functools import cache
from typing import Any

from navigator.settings import get_settings

KEY = "catalog/snapshot.v2"  # the format of store.catalog_snapshot (BLOB_FORMAT 2)


@cache
def _s3() -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    # Locally the embedded moto server answers S3 too, on the same endpoint.
    return boto3.client(
        "s3",
        endpoint_url=settings.dynamodb_endpoint,
        region_name=settings.region,
        config=Config(s3={"addressing_style": "path"}),
    )


def read_blob() -> bytes | None:
    from botocore.exceptions import ClientError

    try:
        response = _s3().get_object(Bucket=get_settings().catalog_bucket, Key=KEY)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
            return None
        raise
    return bytes(response["Body"].read())


def write_blob(data: bytes) -> None:
    _s3().put_object(
        Bucket=get_settings().catalog_bucket,
        Key=KEY,
        Body=data,
        ContentType="application/octet-stream",
    )


def reset() -> None:
    _s3.cache_clear()
