"""`build.py drill TOOL --env ENV`: prove that a launched tool's failures reach the on-call team.

On any AWS the drill moves the tool's errors alarm to ALARM and back to OK with SetAlarmState
(AWS's documented way to test alarm actions: the actions run, the next evaluation sets the real
state again) and lists where the notifications went: the alarm's actions, their topics and the
topics' subscriptions. On a local cloud (`--local`, or an endpoint whose localcloud control
endpoint answers) it goes further, see portfolio/drill_live.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import click

from catalog.cli_context import CliContext
from portfolio.aws import AwsClients, Target, aws_errors
from portfolio.commands import launched_tool_options, target_options
from portfolio.drill_target import (
    DrillError,
    LaunchedTool,
    echo_history,
    echo_tool,
    find_launched_tool,
    notification_routes,
    set_state_drill,
)

if TYPE_CHECKING:
    from portfolio.drill_live import LiveDrill


@contextlib.contextmanager
def drill_target(
    target: Target, local: bool
) -> Iterator[tuple[AwsClients, Callable[[float], float] | None]]:
    """Clients for the target and, on a local cloud, a way to move its clock forward."""
    if local:
        from localcloud import LocalCloud

        with LocalCloud() as cloud:
            local_target = Target(endpoint_url=cloud.endpoint_url, region=target.region)
            with aws_errors(local_target):
                yield AwsClients(local_target), cloud.advance
        return
    with aws_errors(target):
        yield AwsClients(target), _served_clock(target.endpoint_url)


def _served_clock(endpoint_url: str | None) -> Callable[[float], float] | None:
    """The clock of a `build.py local` at ENDPOINT_URL, if its control endpoint answers."""
    if not endpoint_url:
        return None
    from localcloud.control import ControlClient
    from localcloud.errors import LocalCloudError

    try:
        ControlClient(endpoint_url, timeout=5.0).clock()
    except (LocalCloudError, OSError, ValueError):
        return None  # real AWS or another compatible endpoint: SetAlarmState only
    # Advancing runs every job due (invocations included): give it the client's full timeout.
    return ControlClient(endpoint_url).advance


def _region(obj: CliContext, target: Target) -> str:
    from catalog.config import load_config

    return target.region or str(load_config(obj.config_path).portfolio["regions"][0])


def _launch_locally(
    clients: AwsClients, obj: CliContext, tool: str, environment: str, instance: str | None = None
) -> None:
    """What `build.py launch TOOL --env ENV --local` does, quietly, on this local cloud."""
    from portfolio.demo import create_demo_prerequisites
    from portfolio.workflow import prepare, run_bootstrap, run_launch, run_publish

    build = bool(click.get_current_context().meta.get("portfolio.build", True))
    prepared = prepare(obj.config_path, obj.dist_dir, build=build)
    if tool not in prepared.desired.products:
        known = ", ".join(prepared.desired.products)
        raise DrillError(f"unknown tool {tool!r} (known: {known})")
    run_bootstrap(clients, prepared, lambda message: None)
    run_publish(clients, prepared, lambda change: None)
    create_demo_prerequisites(clients, prepared, environment)
    run_launch(
        clients,
        prepared,
        tool,
        environment,
        overrides={},
        echo=lambda line: None,
        instance=instance,
    )


@click.command()
@launched_tool_options
@target_options
@click.pass_obj
def drill(
    obj: CliContext,
    *,
    tool: str,
    environment: str,
    instance: str | None,
    target: Target,
    local: bool,
) -> None:
    """Prove that TOOL-ENV's failures reach the on-call team.

    Everywhere: finds the provisioned product TOOL-ENV, its errors alarm and where that alarm
    notifies; sets the alarm to ALARM and back to OK with SetAlarmState (its actions run) and
    prints the alarm history.

    On a local cloud (--local: a fresh in-process one, where TOOL is first built, published and
    launched; or --endpoint-url of a running `build.py local`) it also subscribes an observer
    queue to the alarm's topic, invokes the function with an event it cannot handle as often as
    the environment's errors threshold asks, moves the local clock until the alarm fires,
    and prints the alarm history and the ALARM and OK messages the observer received.

    TOOL-ENV is looked up in --region, or in the first region of portfolio.regions. Exit code 0
    when the on-call path worked; 1 with one line naming what failed.
    """
    region = _region(obj, target)
    with drill_target(target, local) as (clients, advance):
        if local:
            _launch_locally(clients, obj, tool, environment, instance)
        launched = find_launched_tool(clients, region, tool, environment, instance)
        echo_tool(launched, notification_routes(clients, region, launched.errors_alarm), click.echo)
        cloudwatch = clients.client("cloudwatch", region)
        live = _live_drill(clients, launched, advance)
        if live is not None:
            live.subscribe()
        set_state_drill(cloudwatch, launched, click.echo)
        if live is None:
            click.echo("(not a local cloud: no real failure is caused; see --local)")
        else:
            live.show_set_state_messages()
            live.run()
        echo_history(cloudwatch, launched.alarm_name, click.echo)


def _live_drill(
    clients: AwsClients, tool: LaunchedTool, advance: Callable[[float], float] | None
) -> LiveDrill | None:
    if advance is None:
        return None
    from portfolio.drill_live import LiveDrill

    return LiveDrill(clients, tool, advance, click.echo)


COMMANDS: list[click.Command] = [drill]
