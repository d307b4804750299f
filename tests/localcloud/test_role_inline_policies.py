"""An IAM role's inline policies created by a stack read back through GetRolePolicy as the
JSON document the template gave (moto stored the template's object and answered its repr)."""

import json
from collections.abc import Callable
from typing import Any

DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}],
}
TEMPLATE = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "tool-role",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "Policies": [{"PolicyName": "least-privilege", "PolicyDocument": DOCUMENT}],
            },
        }
    }
}


def test_inline_policy_of_a_stack_role_reads_back_as_its_document(
    client_factory: Callable[..., Any],
) -> None:
    client_factory("cloudformation").create_stack(
        StackName="role", TemplateBody=json.dumps(TEMPLATE), Capabilities=["CAPABILITY_NAMED_IAM"]
    )
    answer = client_factory("iam").get_role_policy(
        RoleName="tool-role", PolicyName="least-privilege"
    )
    assert answer["PolicyDocument"] == DOCUMENT
