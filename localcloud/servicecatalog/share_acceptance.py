"""The importing account's side of portfolio shares: accept, reject, list accepted.

A share is made in the owner's backend; the recipient (another account id: a different access key
registered in local IAM, the x-moto-account-id header or MOTO_ACCOUNT_ID) accepts it in its own.
"""

from typing import Any

from .admin import AdminBackend
from .entities import Portfolio
from .exceptions import ResourceNotFoundException

ORGANIZATION_NODE_TYPES = ("ORGANIZATION", "ORGANIZATIONAL_UNIT")


def _owner_of(portfolio_id: str, peers: list[AdminBackend]) -> AdminBackend:
    for backend in peers:
        if portfolio_id in backend.portfolios:
            return backend
    raise ResourceNotFoundException(f"Portfolio {portfolio_id} not found.")


def _find_share(owner: AdminBackend, portfolio_id: str, recipient: str, share_type: str) -> Any:
    if share_type == "AWS_ORGANIZATIONS":
        # Organization membership is not modelled locally: any org / OU share admits the account.
        for (shared_id, kind, _), share in owner.shares.items():
            if shared_id == portfolio_id and kind in ORGANIZATION_NODE_TYPES:
                return share
        return None
    return owner.shares.get((portfolio_id, "ACCOUNT", recipient))


def accept(
    recipient: AdminBackend, peers: list[AdminBackend], portfolio_id: str, share_type: str
) -> None:
    owner = _owner_of(portfolio_id, peers)
    share = _find_share(owner, portfolio_id, recipient.account_id, share_type)
    if share is None or owner is recipient:
        raise ResourceNotFoundException(
            f"Portfolio {portfolio_id} is not shared with {recipient.account_id} ({share_type})."
        )
    share.accepted = True
    recipient.accepted[portfolio_id] = (owner.portfolios[portfolio_id], share_type)
    recipient.imported_from[portfolio_id] = owner


def reject(recipient: AdminBackend, portfolio_id: str) -> None:
    recipient.imported_from.pop(portfolio_id, None)
    recipient.imported_principals.pop(portfolio_id, None)
    if recipient.accepted.pop(portfolio_id, None) is None:
        raise ResourceNotFoundException(
            f"Portfolio share {portfolio_id} was not accepted by this account."
        )


def accepted_portfolios(recipient: AdminBackend, share_type: str) -> list[Portfolio]:
    return [portfolio for portfolio, kind in recipient.accepted.values() if kind == share_type]
