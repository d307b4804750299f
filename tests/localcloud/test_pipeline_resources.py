"""AWS::CodeBuild::Project and AWS::CodePipeline::Pipeline through localcloud's CloudFormation:
created in the service backends (visible through their APIs), removed with the stack."""

from __future__ import annotations

import json
from typing import Any

import boto3

REGION = "us-east-1"


def _client(endpoint: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}
        ],
    }


def _build_action(name: str, inputs: str, outputs: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "Name": name,
        "ActionTypeId": {
            "Category": "Build",
            "Owner": "AWS",
            "Provider": "CodeBuild",
            "Version": "1",
        },
        "Configuration": {"ProjectName": {"Ref": "Project"}},
        "InputArtifacts": [{"Name": inputs}],
    }
    if outputs:
        action["OutputArtifacts"] = [{"Name": outputs}]
    return action


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "BuildRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": _trust("codebuild.amazonaws.com")},
        },
        "PipelineRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": _trust("codepipeline.amazonaws.com")},
        },
        "Project": {
            "Type": "AWS::CodeBuild::Project",
            "Properties": {
                "Name": "demo-build",
                "ServiceRole": {"Fn::GetAtt": ["BuildRole", "Arn"]},
                "Source": {"Type": "CODEPIPELINE", "BuildSpec": "buildspec.yml"},
                "Artifacts": {"Type": "CODEPIPELINE"},
                "Environment": {
                    "Type": "LINUX_CONTAINER",
                    "ComputeType": "BUILD_GENERAL1_SMALL",
                    "Image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
                    "EnvironmentVariables": [{"Name": "DEPLOY_ENVIRONMENT", "Value": "dev"}],
                },
            },
        },
        "Pipeline": {
            "Type": "AWS::CodePipeline::Pipeline",
            "Properties": {
                "Name": "demo-pipeline",
                "PipelineType": "V2",
                "RoleArn": {"Fn::GetAtt": ["PipelineRole", "Arn"]},
                "ArtifactStore": {"Type": "S3", "Location": {"Ref": "Bucket"}},
                "Stages": [
                    {"Name": "First", "Actions": [_build_action("First", "In", "Out")]},
                    {"Name": "Second", "Actions": [_build_action("Second", "Out")]},
                ],
            },
        },
    },
    "Outputs": {"ProjectArn": {"Value": {"Fn::GetAtt": ["Project", "Arn"]}}},
}


def test_project_and_pipeline_are_created_and_removed(local_endpoint: str) -> None:
    cfn = _client(local_endpoint, "cloudformation")
    cfn.create_stack(StackName="pipe", TemplateBody=json.dumps(TEMPLATE))
    # localcloud's CloudFormation creates a stack within the call.
    assert cfn.describe_stacks(StackName="pipe")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    project = _client(local_endpoint, "codebuild").batch_get_projects(names=["demo-build"])
    (found,) = project["projects"]
    assert found["environment"]["environmentVariables"] == [
        {"name": "DEPLOY_ENVIRONMENT", "value": "dev"}
    ]
    outputs = cfn.describe_stacks(StackName="pipe")["Stacks"][0]["Outputs"]
    assert outputs[0]["OutputValue"] == found["arn"]
    pipeline = _client(local_endpoint, "codepipeline").get_pipeline(name="demo-pipeline")
    assert [s["name"] for s in pipeline["pipeline"]["stages"]] == ["First", "Second"]
    assert pipeline["pipeline"]["stages"][0]["actions"][0]["configuration"] == {
        "ProjectName": "demo-build"
    }
    cfn.delete_stack(StackName="pipe")
    assert _client(local_endpoint, "codebuild").list_projects()["projects"] == []
    assert _client(local_endpoint, "codepipeline").list_pipelines()["pipelines"] == []
