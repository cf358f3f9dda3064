"""RAPPORT_STORAGE_URL: local folders and S3-compatible stores; a bad value stops start-up with a clear message.
Only the parsing: django-storages is not installed in the test environment."""

from __future__ import annotations

import pytest

from rapport.env import ConfigurationError
from rapport.settings import _storage_settings


def test_unset_means_files_under_the_var_folder():
    assert _storage_settings("") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_local_folder():
    assert _storage_settings("file:///srv/rapport/files") == {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/srv/rapport/files"}}


def test_an_s3_compatible_store_with_its_options():
    storage = _storage_settings("s3://rapport-files/prod/docs?endpoint_url=https://minio.internal:9000"
                                "&region=eu-central-1&addressing_style=path")
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"] == {
        "bucket_name": "rapport-files", "location": "prod/docs", "endpoint_url": "https://minio.internal:9000",
        "region_name": "eu-central-1", "addressing_style": "path", "file_overwrite": False, "default_acl": None,
        "querystring_auth": True}


def test_a_plain_bucket():
    assert _storage_settings("s3://bucket")["OPTIONS"]["bucket_name"] == "bucket"


@pytest.mark.parametrize(("url", "words"), [
    ("ftp://host/files", "must look like s3://bucket"),
    ("s3://", "must look like s3://bucket"),
    ("s3://key:secret@bucket", "AWS_ACCESS_KEY_ID"),
    ("s3://bucket?colour=red", "unknown option colour"),
    ("s3://bucket?endpoint_url=minio:9000", "endpoint_url must be an http"),
    ("s3://bucket?addressing_style=sideways", "addressing_style"),
    ("file://relative/path", "file:///absolute/path"),
])
def test_bad_values_name_the_variable(url, words):
    with pytest.raises(ConfigurationError) as excinfo:
        _storage_settings(url)
    assert "RAPPORT_STORAGE_URL" in str(excinfo.value) and words in str(excinfo.value)
