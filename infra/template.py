"""template.yaml as the one source of truth: the tables and the API routes, read from it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form intrinsics (!Ref, !GetAtt, ...) as plain mappings."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


def _resources(kind: str, template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res.get("Type") == kind}


# ------------------------------------------------------------------- tables


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    env_var: str
    create_kwargs: dict[str, Any]
    ttl_attribute: str | None


def table_specs(template: dict[str, Any] | None = None) -> list[TableSpec]:
    """Each DynamoDB table of the template, with the environment variable that names it."""
    template = template or load_template()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    env_by_table = {
        value["Ref"]: var
        for var, value in env.items()
        if isinstance(value, dict) and "Ref" in value
    }
    specs = []
    for logical_id, res in _resources("AWS::DynamoDB::Table", template).items():
        props = res["Properties"]
        kwargs: dict[str, Any] = {
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in props:
                kwargs[key] = props[key]
        ttl = props.get("TimeToLiveSpecification") or {}
        specs.append(
            TableSpec(
                logical_id=logical_id,
                env_var=env_by_table[logical_id],
                create_kwargs=kwargs,
                ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
            )
        )
    return specs


def create_tables(client: Any, names: dict[str, str]) -> list[str]:
    """Create the template's tables that are missing; `names` maps env var -> table name."""
    existing = set(client.list_tables().get("TableNames", []))
    created = []
    for spec in table_specs():
        name = names[spec.env_var]
        if name in existing:
            continue
        client.create_table(TableName=name, **spec.create_kwargs)
        client.get_waiter("table_exists").wait(TableName=name)
        if spec.ttl_attribute:
            client.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": spec.ttl_attribute, "Enabled": True},
            )
        created.append(name)
    return created


# ------------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    handler: str
    authorized: bool


def api_routes(template: dict[str, Any] | None = None) -> list[Route]:
    """Every API event of every function: method, path, handler and whether Cognito guards it."""
    template = template or load_template()
    default_handler = template.get("Globals", {}).get("Function", {}).get("Handler")
    routes = []
    for logical_id, res in _resources("AWS::Serverless::Function", template).items():
        props = res["Properties"]
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            ev = event["Properties"]
            auth = (ev.get("Auth") or {}).get("Authorizer")
            routes.append(
                Route(
                    method=ev["Method"].upper(),
                    path=ev["Path"],
                    function=logical_id,
                    handler=props.get("Handler", default_handler),
                    authorized=auth != "NONE",
                )
            )
    return sorted(routes, key=lambda r: (r.path, r.method))


# ------------------------------------------------------------------ buckets


def bucket_env_vars(template: dict[str, Any] | None = None) -> list[str]:
    """The environment variables that the template binds to its S3 buckets."""
    template = template or load_template()
    buckets = set(_resources("AWS::S3::Bucket", template))
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    return sorted(
        var for var, value in env.items() if isinstance(value, dict) and value.get("Ref") in buckets
    )


def create_buckets(client: Any, names: dict[str, str | None], region: str) -> list[str]:
    """Create the template's buckets that are missing; `names` maps each of the template's
    bucket variables to a bucket name, or to None where this stack goes without it."""
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    created = []
    for var in bucket_env_vars():
        name = names[var]
        if name is not None and name not in existing:
            client.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
            )
            created.append(name)
    return created


# ------------------------------------------------------------ binary bodies


def binary_media_types(template: dict[str, Any] | None = None) -> list[str]:
    """The REST API's binary media types (SAM spells "/" as "~1" in them)."""
    template = template or load_template()
    out: list[str] = []
    for api in _resources("AWS::Serverless::Api", template).values():
        out += [str(t).replace("~1", "/") for t in api["Properties"].get("BinaryMediaTypes", [])]
    return out
