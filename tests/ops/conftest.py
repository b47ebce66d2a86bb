"""Fixtures for the operations tests: an S3 bucket in moto's in-process mock (no network)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from bigtech.ops.store import BackupStore, StoreSettings

# The manifests are authenticated with a key derived from this (the stack's functions see it too).
os.environ.setdefault("BIGTECH_SECRETS_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")

BUCKET = "bigtech-backups-test"


@pytest.fixture
def s3() -> Iterator[object]:
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def store(s3: object) -> BackupStore:
    return BackupStore(StoreSettings(bucket=BUCKET, prefix="drill"), client=s3)
