"""CloudWatch alarms that move: metric, metric-math and composite alarms evaluated every minute
of localcloud's clock, with history, actions (SNS, Lambda) and EventBridge events, plus the SQS
queue metrics the dead-letter alarms watch. See docs/localcloud.md, "Alarms".

`install()` (called by localcloud.server.build_server) patches moto and starts the minute tick;
the tick schedules itself again after every `reset_state()` through the clock's on_reset hooks.
"""

from ..clock import CLOCK
from .patches import patch_moto
from .ticks import run_tick, schedule_ticks

__all__ = ["install", "run_tick"]


def install() -> None:
    """Idempotent: a second LocalCloud in the same process shares the clock and the tick."""
    patch_moto()
    if schedule_ticks not in CLOCK.on_reset:
        CLOCK.on_reset.append(schedule_ticks)
        schedule_ticks(CLOCK)
