"""Reading CloudFormation templates the way Service Catalog does: from an S3 URL, JSON or YAML."""

import json
import re
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from .exceptions import InvalidParametersException

# Virtual-hosted style: BUCKET.s3.amazonaws.com, BUCKET.s3.REGION.amazonaws.com, BUCKET.s3-REGION...
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$")
_PATH_STYLE_HOST = re.compile(r"^s3([.-][a-z0-9-]+)?\.amazonaws\.com$")
_LOCAL_HOSTS = ("127.0.0.1", "localhost")


class TemplateUnreadable(Exception):
    """The template behind a URL is missing or is not a CloudFormation template."""


def split_s3_url(url: str) -> tuple[str, str]:
    """(bucket, key) of an S3 object URL; local path-style URLs are accepted too."""
    parsed = urlparse(url)
    host = (parsed.hostname or "").lower()
    path = unquote(parsed.path.lstrip("/"))
    virtual = _VIRTUAL_HOST.match(host)
    if virtual and path:
        return virtual.group("bucket"), path
    if (_PATH_STYLE_HOST.match(host) or host in _LOCAL_HOSTS) and "/" in path:
        bucket, key = path.split("/", 1)
        return bucket, key
    raise InvalidParametersException(f"Invalid templateUrl: {url!r} is not an S3 object URL")


def read_s3_object(account_id: str, bucket: str, key: str) -> bytes:
    from moto.s3.models import s3_backends

    backend = s3_backends[account_id]["aws"]
    try:
        found = backend.get_object(bucket, key)
    except Exception as error:  # moto raises MissingBucket/MissingKey/...: all mean unreadable
        raise TemplateUnreadable(f"Unable to read template s3://{bucket}/{key}: {error}") from error
    if found is None:
        raise TemplateUnreadable(f"Unable to read template s3://{bucket}/{key}: no such key")
    return bytes(found.value)


class _IntrinsicLoader(yaml.SafeLoader):
    """YAML loader that turns short-form intrinsics (!Ref, !Sub, ...) into their long form."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_IntrinsicLoader.add_multi_constructor("!", _construct_intrinsic)


def parse_template(body: bytes | str) -> dict[str, Any]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        try:
            document = yaml.load(text, Loader=_IntrinsicLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as error:
            raise TemplateUnreadable(f"Template format error: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateUnreadable(
            "Template format error: at least one Resources member must be defined."
        )
    return document


def load_template_from_url(account_id: str, url: str) -> dict[str, Any]:
    bucket, key = split_s3_url(url)
    return parse_template(read_s3_object(account_id, bucket, key))


def template_url_of(info: dict[str, str]) -> str:
    url = info.get("LoadTemplateFromURL")
    if not url:
        raise InvalidParametersException(
            "Info must contain LoadTemplateFromURL (ImportFromPhysicalId is not supported locally)"
        )
    return url
