"""Choice of the EC2 remediation from the failed check, the root device and the settings."""

from __future__ import annotations

from healer_actions import AUTOMATION, REBOOT, STOP_START, PlannedAction
from healer_decisions import choose_ec2_action
from healer_triggers import INSTANCE_CHECK, SYSTEM_CHECK, Ec2Issue

IID = "i-0abc"


def test_instance_check_means_reboot_whatever_the_root_device() -> None:
    for root in ("ebs", "instance-store"):
        assert choose_ec2_action(Ec2Issue(IID, INSTANCE_CHECK), root, None) == PlannedAction(
            REBOOT, IID, IID
        )


def test_system_check_on_ebs_means_stop_and_start() -> None:
    assert choose_ec2_action(Ec2Issue(IID, SYSTEM_CHECK), "ebs", None) == PlannedAction(
        STOP_START, IID, IID
    )


def test_system_check_on_instance_store_is_left_to_ec2_recovery() -> None:
    # moto always reports "ebs" root devices, so this branch is tested here, without AWS.
    choice = choose_ec2_action(Ec2Issue(IID, SYSTEM_CHECK), "instance-store", None)
    assert isinstance(choice, str)
    assert "stop/start would lose instance-store data; rely on EC2 automatic recovery" in choice


def test_automation_document_wins_for_both_checks() -> None:
    for check in (INSTANCE_CHECK, SYSTEM_CHECK):
        choice = choose_ec2_action(Ec2Issue(IID, check), "instance-store", "Team-RestartInstance")
        assert choice == PlannedAction(AUTOMATION, IID, IID, document="Team-RestartInstance")
