"""Errors of alarm evaluation, answered to clients in CloudWatch's own error shape."""

from moto.cloudwatch.exceptions import ValidationError


class AlarmFeatureNotSupported(ValidationError):
    """An alarm uses something CloudWatch has and localcloud does not evaluate (anomaly
    detection bands, a metric-math function outside the supported set...). Refused when the
    alarm is created, so nothing is silently never evaluated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class InvalidAlarmRule(ValidationError):
    """A composite alarm's AlarmRule or a metric-math expression that does not parse."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
