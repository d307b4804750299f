"""SSM parameters and Secrets Manager secrets through Powertools Parameters, cached max_age.

The cache keeps an alarm storm or a run every minute from calling GetParameter or
GetSecretValue each time; its expiry lets a changed parameter or a rotated secret take effect
without a redeploy. The providers use our clients (aws.py: bounded retries and timeouts, the
local endpoint in tests) and are imported on first use: a tool that reads neither pays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from oncall_shared.aws import client, client_companion

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

PARAMETER_MAX_AGE_SECONDS = 300
SECRET_MAX_AGE_SECONDS = 300


def ssm_parameter_text(name: str) -> str:
    """The value of SSM parameter ``name`` (SecureString decrypted); AWS errors as raised."""
    provider = client_companion("ssm-provider", _ssm_provider)
    return str(_fetch(provider, name, PARAMETER_MAX_AGE_SECONDS, decrypt=True))


def secret_value(secret_id: str) -> str | bytes:
    """SecretString (str) or SecretBinary (bytes) of a secret; AWS errors as raised."""
    provider = client_companion("secrets-provider", _secrets_provider)
    value = _fetch(provider, secret_id, SECRET_MAX_AGE_SECONDS)
    return value if isinstance(value, bytes) else str(value)


def _fetch(provider: Any, name: str, max_age: int, **options: Any) -> Any:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return provider.get(name, max_age=max_age, **options)
    except GetParameterError as error:
        # Powertools wraps every failure in GetParameterError(str(error)); callers tell a
        # missing parameter from throttling by the AWS error code, so hand them the AWS error.
        cause = error.__context__
        if isinstance(cause, ClientError | BotoCoreError):
            raise cause from None
        raise


def _ssm_provider() -> SSMProvider:
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=client("ssm"))


def _secrets_provider() -> SecretsProvider:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client("secretsmanager"))
