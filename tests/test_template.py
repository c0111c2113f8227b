"""template.yaml is the one source of truth for the tables and the routes."""

from __future__ import annotations

import importlib

import boto3

from infra.template import api_routes, load_template, table_specs


def _normalized(indexes):
    return sorted(
        (i["IndexName"], tuple((k["AttributeName"], k["KeyType"]) for k in i["KeySchema"]))
        for i in indexes or []
    )


def test_tables_are_created_from_the_template(aws):
    from infra.local.stack import table_names

    client = boto3.client("dynamodb")
    names = table_names()
    specs = table_specs()
    assert {s.logical_id for s in specs} == {
        "CatalogTable",
        "PeopleTable",
        "AccountsTable",
        "OperationsTable",
        "IdempotencyTable",
        "InvoicesTable",
    }
    for spec in specs:
        table = client.describe_table(TableName=names[spec.env_var])["Table"]
        assert table["KeySchema"] == spec.create_kwargs["KeySchema"]
        assert _normalized(table.get("GlobalSecondaryIndexes")) == _normalized(
            spec.create_kwargs.get("GlobalSecondaryIndexes")
        )
        if spec.ttl_attribute:
            ttl = client.describe_time_to_live(TableName=names[spec.env_var])
            assert ttl["TimeToLiveDescription"]["AttributeName"] == spec.ttl_attribute


def test_every_handler_serves_exactly_its_template_routes():
    by_handler: dict[str, set[tuple[str, str]]] = {}
    for route in api_routes():
        by_handler.setdefault(route.handler, set()).add((route.method, route.path))
    for spec, routes in by_handler.items():
        module = importlib.import_module(spec.rsplit(".", 1)[0])
        assert set(module.api.roles) == routes, spec


def test_public_routes_in_the_template_are_public_in_the_code():
    for route in api_routes():
        module = importlib.import_module(route.handler.rsplit(".", 1)[0])
        roles = module.api.roles[(route.method, route.path)]
        assert bool(roles) == route.authorized, (route.method, route.path)


def test_local_gateway_serves_the_template_routes():
    from infra.local.gateway import GatewayApp

    class NoPool:
        def submit(self, *args):
            raise AssertionError

    app = GatewayApp(api_routes(), NoPool())  # type: ignore[arg-type]
    served = {(m, path) for path, methods in app.routes.items() for m in methods}
    assert served == {(r.method, r.path) for r in api_routes()}


def test_money_tables_are_protected_and_recoverable():
    resources = load_template()["Resources"]
    for name in ("PeopleTable", "AccountsTable", "OperationsTable", "InvoicesTable"):
        props = resources[name]["Properties"]
        assert props["DeletionProtectionEnabled"] is True
        assert resources[name]["DeletionPolicy"] == "Retain"
    for spec in table_specs():
        props = resources[spec.logical_id]["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_functions_run_python_3_11_and_the_schedule_uses_the_domain_timezone():
    template = load_template()
    assert template["Globals"]["Function"]["Runtime"] == "python3.11"
    assert template["Globals"]["Function"]["Architectures"] == ["arm64"]
    schedule = template["Resources"]["DebitDispatcherFunction"]["Properties"]["Events"]["Monthly"]
    assert schedule["Type"] == "ScheduleV2"
    assert template["Parameters"]["ScheduleTimezone"]["Default"] == "Asia/Krasnoyarsk"


def test_the_api_has_limits_a_usage_plan_and_a_waf_association_point():
    template = load_template()
    api = template["Resources"]["NavigatorApi"]["Properties"]
    limits = {(m["ResourcePath"], m["HttpMethod"]): m for m in api["MethodSettings"]}
    assert limits[("/*", "*")]["ThrottlingRateLimit"] > 0
    assert ("/programs", "GET") in limits and ("/enrollments", "POST") in limits
    assert api["Auth"]["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    assert api["GatewayResponses"]["THROTTLED"]["StatusCode"] == "429"
    assert api["GatewayResponses"]["REQUEST_TOO_LARGE"]["StatusCode"] == "413"
    waf = template["Resources"]["ApiWebAclAssociation"]
    assert waf["Type"] == "AWS::WAFv2::WebACLAssociation" and waf["Condition"] == "HasWebAcl"


def test_the_parent_facing_functions_can_be_kept_warm_for_the_opening():
    template = load_template()
    assert template["Parameters"]["ApiProvisionedConcurrency"]["Default"] == 0
    for name in ("CatalogFunction", "EnrollFunction"):
        props = template["Resources"][name]["Properties"]
        assert props["AutoPublishAlias"] == "live"
        condition, warm, cold = props["ProvisionedConcurrencyConfig"]["Fn::If"]
        assert condition == "HasProvisionedConcurrency"
        assert warm == {"ProvisionedConcurrentExecutions": {"Ref": "ApiProvisionedConcurrency"}}
        assert cold == {"Ref": "AWS::NoValue"}
