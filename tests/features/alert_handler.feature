Feature: Alert handler
  The alert handler turns CloudWatch alarm state changes into Slack and PagerDuty
  notifications, once per change even when Lambda delivers an event twice.

  Scenario: An alarm reaches Slack and PagerDuty once each, then resolves
    Given the alert handler launched through Service Catalog with Slack and PagerDuty webhooks
    And a critical alarm on an application metric
    When the application metric breaches the alarm's threshold
    Then Slack and PagerDuty each receive the alarm once
    When the application metric is back to normal
    Then Slack says the alarm is resolved and PagerDuty gets a resolve event
