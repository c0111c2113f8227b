"""Writes template.yaml as CloudFormation sees it after the SAM transform (for checkov).

Run with the SAM tool venv's Python (`make audit` does): it needs no AWS account. The code
location is a placeholder, as in `sam validate`; AWS managed policies are not looked up.
Usage: .venv-sam/bin/python infra/sam_transform.py TEMPLATE OUT.json
"""

from __future__ import annotations

import json
import os
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

PLACEHOLDER_CODE = "s3://navigator-audit/code.zip"


class NoManagedPolicies:
    """The template names no AWS managed policy by name, so none is looked up."""

    def load(self) -> dict[str, str]:
        return {}


def transformed(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        template = yaml_parse(handle.read())
    template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = PLACEHOLDER_CODE
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"].pop("CodeUri", None)
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
    return transform(template, {}, NoManagedPolicies())


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(transformed(source), handle, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
