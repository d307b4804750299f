"""AWS-style Service Catalog errors: the code is the class name the real service answers with."""


class ServiceCatalogError(Exception):
    """An error the client receives as {"__type": code, "message": ...} with HTTP 400."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResourceNotFoundException(ServiceCatalogError):
    code = "ResourceNotFoundException"


class InvalidParametersException(ServiceCatalogError):
    code = "InvalidParametersException"


class DuplicateResourceException(ServiceCatalogError):
    code = "DuplicateResourceException"


class ResourceInUseException(ServiceCatalogError):
    code = "ResourceInUseException"


class InvalidStateException(ServiceCatalogError):
    code = "InvalidStateException"


class LimitExceededException(ServiceCatalogError):
    code = "LimitExceededException"


class ValidationException(ServiceCatalogError):
    code = "ValidationException"


class UnsupportedOperation(ServiceCatalogError):
    """The real service has the operation; this emulation does not (never an HTML 500)."""

    code = "UnsupportedOperation"
    status = 501


class UnknownOperation(ServiceCatalogError):
    """The X-Amz-Target names no Service Catalog operation at all."""

    code = "UnknownOperationException"
