Feature: Health checker
  The health checker probes its targets on a schedule. A target is down only after the
  configured number of consecutive failures (flap suppression), and its recovery is reported.

  Scenario: A target that fails alerts once, then recovers
    Given the health checker launched through Service Catalog checking a local HTTP target every minute, alerting after 2 failures
    When the target answers with errors for 3 scheduled runs
    Then the on-call topic receives one alert that the target is down
    When the target answers normally at the next scheduled run
    Then the on-call topic receives one message that the target recovered
