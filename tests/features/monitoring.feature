Feature: On-call monitoring of the launched tools
  A tool launched through Service Catalog has an errors alarm whose threshold comes from the
  environment's settings in catalog.yaml. When its function really fails through Invoke, the
  alarm fires on the local cloud's clock and the on-call topic tells its subscribers, then says
  so again when the function has recovered.

  Scenario: Monitoring Lambda Functions
    Given an operational Lambda function
    When it exceeds predefined error thresholds
    Then CloudWatch should trigger an alarm and notify the on-call team via SNS
