Feature: Log processor
  The log processor subscribes to an application's log group. CloudWatch Logs hands it each
  batch of log events through the subscription filter; errors in a batch become one alert.

  Scenario: A log batch with errors raises one alert
    Given the log processor launched through Service Catalog watching an application's log group
    When the application writes a batch of log lines with errors to its log group
    Then the on-call topic receives one alert about that log group
