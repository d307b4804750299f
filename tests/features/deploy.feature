Feature: The release pipeline deploys the on-call tools
  A merge on main runs the pipeline: build and test, publish, then dev, staging and prod, each
  environment in its own account, prod after the manual approval.

  Scenario: Deploy Operational Tools as Lambda Functions
    Given the operational tool Lambda functions,
    When the pipeline is triggered,
    Then the functions should be automatically deployed to the AWS account with the correct configuration and IAM roles.
