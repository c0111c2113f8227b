"""template.yaml is production-ready by default (issue 18, items 2-7), read from the template."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest

from infra.template import ROOT, load_template

DATA_TABLES = ("PeopleTable", "AccountsTable", "OperationsTable", "IdempotencyTable")
DEAD_LETTER_QUEUES = ("DebitDeadLetterQueue", "DebitDispatcherFailureQueue")
DATA_KEY_ARN = {"Fn::GetAtt": ["DataKey", "Arn"]}
# What cfn-lint's I3011 counts as stateful, as far as this template has them.
STATEFUL = (
    "AWS::Cognito::UserPool",
    "AWS::DynamoDB::Table",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
)


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    every = load_template()["Resources"]
    return {n: r for n, r in every.items() if kind is None or r["Type"] == kind}


def props(name: str) -> dict[str, Any]:
    return resources()[name]["Properties"]


def functions() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::Function")


def refs_in(value: Any) -> set[str]:
    """Every logical id a piece of the template refers to (Ref, GetAtt, ${...} of Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {m.split(".")[0] for m in re.findall(r"\$\{([^}]+)\}", text)}
            found |= refs_in(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs_in(inner)
    return found


# ------------------------------------------------------------ 2. nothing deleted


def test_the_user_pool_and_every_table_log_group_and_dead_letter_queue_are_retained():
    kept = ["UserPool", "DataKey", *DEAD_LETTER_QUEUES]
    kept += list(resources("AWS::DynamoDB::Table")) + list(resources("AWS::Logs::LogGroup"))
    for name in kept:
        resource = resources()[name]
        assert resource.get("DeletionPolicy") == "Retain", name
        assert resource.get("UpdateReplacePolicy") == "Retain", name
    assert props("UserPool")["DeletionProtection"] == "ACTIVE"


def test_every_stateful_resource_says_what_happens_to_it_with_the_stack():
    for name, resource in resources().items():
        if resource["Type"] in STATEFUL:
            assert resource.get("DeletionPolicy") in ("Retain", "Delete"), name
            assert resource.get("UpdateReplacePolicy") == resource["DeletionPolicy"], name
    # Deleted on purpose, each for its reason in docs/security.md.
    deleted = {n for n, r in resources().items() if r.get("DeletionPolicy") == "Delete"}
    assert deleted == {"DebitQueue", "InvoiceQueue", "CatalogSnapshotBucket", "RegistersBucket"}


# ------------------------------------------------------------ 3. the region's own key


def test_the_data_key_is_customer_managed_and_rotated():
    key = props("DataKey")
    assert resources()["DataKey"]["Type"] == "AWS::KMS::Key"
    assert key["EnableKeyRotation"] is True


def test_personal_data_money_logs_and_dead_letters_are_under_the_data_key():
    for name in DATA_TABLES:
        sse = props(name)["SSESpecification"]
        assert (sse["SSEEnabled"], sse["SSEType"], sse["KMSMasterKeyId"]) == (
            True,
            "KMS",
            DATA_KEY_ARN,
        ), name
    for name in resources("AWS::Logs::LogGroup"):
        assert props(name)["KmsKeyId"] == DATA_KEY_ARN, name
    for name in DEAD_LETTER_QUEUES:
        assert props(name)["KmsMasterKeyId"] == DATA_KEY_ARN, name
    assert props("AlarmTopic")["KmsMasterKeyId"] == DATA_KEY_ARN


def _statements() -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in props("DataKey")["KeyPolicy"]["Statement"]}


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_only_the_functions_that_touch_the_data_tables_may_decrypt():
    statements = _statements()
    use = statements["OnlyTheDataFunctionsUseTheKey"]
    assert use["Condition"] == {
        "StringEquals": {"aws:PrincipalTag/navigator-data-key": {"Ref": "AWS::StackName"}}
    }
    # No one else decrypts: the account only administers; services only through their scopes.
    admin = statements["AccountAdministersTheKey"]
    assert not any(a in ("kms:*", "kms:Decrypt") or "Decrypt" in a for a in _actions(admin))
    for sid, statement in statements.items():
        if any("Decrypt" in a for a in _actions(statement)):
            assert statement.get("Condition"), sid
    tagged = {
        name
        for name, fn in functions().items()
        if (fn["Properties"].get("Tags") or {}).get("navigator-data-key")
        == {"Ref": "AWS::StackName"}
    }
    touching = {
        name
        for name, fn in functions().items()
        if refs_in(fn["Properties"].get("Policies")) & set(DATA_TABLES)
    }
    assert tagged == touching
    assert {"SignUpFunction", "CatalogSnapshotFunction", "OperatorMfaFunction"}.isdisjoint(tagged)
    for name in tagged:
        policies = functions()[name]["Properties"]["Policies"]
        grants = [
            s
            for p in policies
            if isinstance(p, dict) and "Statement" in p
            for s in p["Statement"]
            if s.get("Resource") == DATA_KEY_ARN
        ]
        assert grants and "kms:Decrypt" in grants[0]["Action"], name


# ------------------------------------------------------------ 4. the audit trail


def test_the_api_writes_a_json_access_log_without_personal_data():
    setting = props("NavigatorApi")["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    line = json.loads(setting["Format"].replace("\n", ""))
    wanted = {
        "requestId": "$context.requestId",
        "sub": "$context.authorizer.claims.sub",
        "route": "$context.resourcePath",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        # Refusals by the gateway itself (401, 403, 429) say so here.
        "error": "$context.error.responseType",
    }
    assert wanted.items() <= line.items()
    for personal in ("sourceIp", "$context.path", "userAgent", "email", "body", "querystring"):
        assert personal not in setting["Format"], personal


def test_the_audit_trail_is_kept_at_least_five_years():
    parameter = load_template()["Parameters"]["AuditLogRetentionDays"]
    assert parameter["Default"] == 1827 and min(parameter["AllowedValues"]) >= 1827
    assert props("ApiAccessLogGroup")["RetentionInDays"] == {"Ref": "AuditLogRetentionDays"}
    assert "ApiGatewayAccount" in resources()
    assert resources()["NavigatorApi"]["DependsOn"] == "ApiGatewayAccount"


# ------------------------------------------------------------ 5. failures go somewhere


def test_the_dispatcher_s_failures_land_in_a_queue_with_an_alarm():
    invoke = functions()["DebitDispatcherFunction"]["Properties"]["EventInvokeConfig"]
    on_failure = invoke["DestinationConfig"]["OnFailure"]
    assert on_failure == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["DebitDispatcherFailureQueue", "Arn"]},
    }
    alarmed = {
        refs_in(r["Properties"]["Dimensions"]).pop()
        for r in resources("AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert set(DEAD_LETTER_QUEUES) <= alarmed


def test_the_worker_reports_item_failures_even_for_a_whole_failed_batch():
    from debit.worker import processor

    batches = functions()["DebitWorkerFunction"]["Properties"]["Events"]["Batches"]
    assert batches["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert processor.raise_on_entire_batch_failure is False


# ------------------------------------------------------------ 6. production fully guarded


def _holds(expression: Any, parameters: dict[str, str]) -> bool:
    if "Fn::Equals" in expression:
        left, right = (
            parameters[v["Ref"]] if isinstance(v, dict) else v for v in expression["Fn::Equals"]
        )
        return left == right
    if "Fn::Not" in expression:
        return not _holds(expression["Fn::Not"][0], parameters)
    raise AssertionError(f"unexpected rule expression {expression}")


def _rules_pass(parameters: dict[str, str]) -> bool:
    for rule in load_template()["Rules"].values():
        if "RuleCondition" in rule and not _holds(rule["RuleCondition"], parameters):
            continue
        if not all(_holds(a["Assert"], parameters) for a in rule["Assertions"]):
            return False
    return True


ACL = "arn:aws:wafv2:eu-central-1:111122223333:regional/webacl/navigator/abc"


@pytest.mark.parametrize(
    ("stage", "email", "acl", "deploys"),
    [
        ("production", "", "", False),
        ("production", "ops@example.org", "", False),
        ("production", "", ACL, False),
        ("production", "ops@example.org", ACL, True),
        ("staging", "", "", True),
    ],
)
def test_production_without_an_alarm_e_mail_or_a_waf_does_not_deploy(stage, email, acl, deploys):
    assert _rules_pass({"Stage": stage, "AlarmEmail": email, "WebAclArn": acl}) is deploys


def test_the_production_configuration_names_both_guards():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config["production"]["deploy"]["parameters"]["parameter_overrides"]
    names = {item.split("=", 1)[0] for item in overrides}
    assert {"AlarmEmail", "WebAclArn", "CursorKeyParameterName"} <= names


def test_operators_need_mfa_and_passwords_follow_the_region_s_rules():
    pool = props("UserPool")
    assert pool["MfaConfiguration"] == "OPTIONAL"
    assert "SOFTWARE_TOKEN_MFA" in pool["EnabledMfas"]
    trigger = functions()["OperatorMfaFunction"]["Properties"]
    assert trigger["Handler"] == "identity.operator_mfa.handler"
    events = trigger["Events"]["PreTokenGeneration"]
    assert events["Type"] == "Cognito"
    assert events["Properties"] == {
        "UserPool": {"Ref": "UserPool"},
        "Trigger": "PreTokenGeneration",
    }
    password = pool["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    for kind in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols"):
        assert password[kind] is True, kind
    assert password["TemporaryPasswordValidityDays"] == 1


# ------------------------------------------------------------ 7. secrets from SSM


def test_the_cursor_key_comes_from_ssm_not_from_the_stack_s_id():
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "CURSOR_KEY" not in env and "SNILS_HMAC_KEY" not in env
    assert env["CURSOR_KEY_PARAMETER"] == {"Ref": "CursorKeyParameterName"}
    assert "AWS::StackId" not in json.dumps(load_template()["Globals"])
    for name in ("CatalogFunction", "EnrollFunction", "DebitFunction"):
        statements = [
            s
            for p in functions()[name]["Properties"]["Policies"]
            if isinstance(p, dict) and "Statement" in p
            for s in p["Statement"]
        ]
        readable = [s for s in statements if s["Action"] == "ssm:GetParameter"]
        assert any("CursorKeyParameterName" in refs_in(s["Resource"]) for s in readable), name
