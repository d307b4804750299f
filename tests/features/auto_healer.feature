Feature: Auto-healer
  The auto-healer reacts to CloudWatch alarm state changes on EC2 instances, delivered by
  EventBridge. It heals only instances that opted in with the tag, and reports every decision.

  Scenario: An opted-in impaired instance is healed and an untagged one is left alone
    Given the auto-healer launched through Service Catalog with dry run off
    And two running instances, one opted in to auto-healing and one without the tag
    And an alarm on the failed status checks of each instance
    When both instances fail their status checks
    Then the opted-in instance is rebooted
    And the untagged instance is left alone
