"""The onboarding step machine: one test per gate, the statuses, recovery and completion."""

from __future__ import annotations

from dataclasses import replace

import pytest

from palyra_tui.models.preflight import Check, CheckStatus, Preflight
from palyra_tui.state.onboarding import (
    SUGGESTED_ACTIONS,
    OnboardingFacts,
    OpenAiReadiness,
    Phase,
    Readiness,
    StepKey,
    StepStatus,
    onboarding_status,
    stamp_completion,
)
from palyra_tui.state.persisted import Onboarding, record_failure

NOW = 1_795_200_000.0
PROFILE = "openai-01jq7p4nq2t7k5xg0c9m3e8ggg"
OK = Preflight((Check("state_root", "Writable state root", CheckStatus.OK, "writable"),))
BLOCKED = Preflight(
    (
        Check("gateway_binary", "Gateway binary", CheckStatus.BLOCKED, "cannot find 'palyrad'"),
        Check("cli_binary", "Support CLI", CheckStatus.WARNING, "cannot find 'palyra'"),
        Check("state_root", "Writable state root", CheckStatus.OK, "writable"),
    )
)


def every_gate() -> OnboardingFacts:
    """Facts where every gate holds (onboarding not stamped complete yet)."""
    return OnboardingFacts(
        progress=Onboarding(
            flow_id="flow",
            welcome_acknowledged_at=NOW - 100,
            state_root_confirmed_at=NOW - 90,
            discord_skipped_at=NOW - 20,
            dashboard_handoff_at=NOW - 10,
        ),
        preflight=OK,
        state_root="/srv/palyra",
        runtime_root="/srv/palyra/tui/runtime",
        gateway_version="0.1.0",
        gateway_down=False,
        operator_auth=Readiness(True, "The console login works."),
        openai=OpenAiReadiness(True, PROFILE, (PROFILE,)),
    )


def failing(step: StepKey) -> OnboardingFacts:
    """Facts where only the gate of ``step`` fails."""
    facts = every_gate()
    progress = facts.progress
    changes = {
        StepKey.WELCOME: lambda: replace(
            facts, progress=replace(progress, welcome_acknowledged_at=None)
        ),
        StepKey.ENVIRONMENT: lambda: replace(facts, preflight=BLOCKED),
        StepKey.STATE_ROOT: lambda: replace(
            facts, progress=replace(progress, state_root_confirmed_at=None)
        ),
        StepKey.GATEWAY_INIT: lambda: replace(facts, gateway_version="", gateway_down=True),
        StepKey.OPERATOR_AUTH: lambda: replace(facts, operator_auth=Readiness(False, "refused")),
        StepKey.OPENAI: lambda: replace(facts, openai=OpenAiReadiness(True, "", ())),
        StepKey.DISCORD: lambda: replace(
            facts, progress=replace(progress, discord_skipped_at=None)
        ),
        StepKey.DASHBOARD: lambda: replace(
            facts, progress=replace(progress, dashboard_handoff_at=None)
        ),
    }
    return changes[step]()


@pytest.mark.parametrize("step", [key for key in StepKey if key is not StepKey.COMPLETION])
def test_the_current_step_is_the_failing_gate(step: StepKey) -> None:
    status = onboarding_status(failing(step))
    assert status.current is step
    assert status.phase is Phase.ONBOARDING
    others = [s for s in status.steps if s.key not in (step, StepKey.COMPLETION)]
    assert all(s.status is StepStatus.COMPLETE for s in others), others
    expected = StepStatus.BLOCKED if step is StepKey.ENVIRONMENT else StepStatus.CURRENT
    assert status.step(step).status is expected
    assert status.step(StepKey.COMPLETION).status is StepStatus.PENDING
    assert status.progress_completed == 7
    assert status.progress_total == 9


def test_the_first_failing_gate_wins_and_later_ones_stay_pending_or_complete() -> None:
    facts = replace(
        failing(StepKey.STATE_ROOT), gateway_version="", gateway_down=True, preflight=None
    )
    status = onboarding_status(facts)
    assert status.current is StepKey.ENVIRONMENT
    assert status.step(StepKey.ENVIRONMENT).status is StepStatus.CURRENT
    assert status.step(StepKey.ENVIRONMENT).detail == "Not checked yet."
    assert status.step(StepKey.STATE_ROOT).status is StepStatus.PENDING
    assert status.step(StepKey.GATEWAY_INIT).status is StepStatus.PENDING
    assert status.step(StepKey.WELCOME).status is StepStatus.COMPLETE
    assert status.step(StepKey.OPENAI).status is StepStatus.COMPLETE


def test_a_blocked_environment_is_blocked_even_when_not_current() -> None:
    facts = replace(
        every_gate(),
        progress=replace(every_gate().progress, welcome_acknowledged_at=None),
        preflight=BLOCKED,
    )
    status = onboarding_status(facts)
    assert status.current is StepKey.WELCOME
    environment = status.step(StepKey.ENVIRONMENT)
    assert environment.status is StepStatus.BLOCKED
    assert environment.detail == "1 check blocked: Gateway binary, 1 warning."


def test_the_gateway_gate_needs_a_version_and_a_runtime_that_is_not_down() -> None:
    down = replace(every_gate(), gateway_down=True)
    assert onboarding_status(down).current is StepKey.GATEWAY_INIT
    silent = replace(every_gate(), gateway_version="")
    assert onboarding_status(silent).current is StepKey.GATEWAY_INIT


def test_the_gateway_step_says_what_is_missing_and_offers_the_demo() -> None:
    facts = replace(
        failing(StepKey.GATEWAY_INIT),
        gateway_missing="cannot find 'palyrad': install Palyra or set PALYRA_DESKTOP_PALYRAD_BIN",
    )
    detail = onboarding_status(facts).step(StepKey.GATEWAY_INIT).detail
    assert "cannot find 'palyrad'" in detail
    assert "palyra-tui demo" in detail
    crashed = replace(failing(StepKey.GATEWAY_INIT), gateway_problem="exited with code 1")
    assert "exited with code 1" in onboarding_status(crashed).step(StepKey.GATEWAY_INIT).detail


def test_openai_is_ready_only_with_a_listed_default_profile() -> None:
    assert OpenAiReadiness(True, PROFILE, (PROFILE,)).ready
    assert not OpenAiReadiness(False, PROFILE, (PROFILE,)).ready
    assert not OpenAiReadiness(True, "", (PROFILE,)).ready
    assert not OpenAiReadiness(True, PROFILE, ("openai-other",)).ready


def test_discord_is_done_when_verified_or_skipped_and_says_which() -> None:
    skipped = onboarding_status(every_gate()).step(StepKey.DISCORD)
    assert skipped.status is StepStatus.COMPLETE and skipped.skipped and skipped.skippable
    facts = failing(StepKey.DISCORD)
    verified = onboarding_status(replace(facts, discord_verified=True)).step(StepKey.DISCORD)
    assert verified.status is StepStatus.COMPLETE and not verified.skipped


def test_the_dashboard_handoff_is_done_when_opened_or_skipped() -> None:
    facts = failing(StepKey.DASHBOARD)
    skipped = replace(facts, progress=replace(facts.progress, dashboard_handoff_skipped_at=NOW))
    step = onboarding_status(skipped).step(StepKey.DASHBOARD)
    assert step.status is StepStatus.COMPLETE and step.skipped
    assert not onboarding_status(every_gate()).step(StepKey.DASHBOARD).skipped


def test_only_discord_and_the_dashboard_may_be_skipped() -> None:
    status = onboarding_status(every_gate())
    assert {s.key for s in status.steps if s.skippable} == {StepKey.DISCORD, StepKey.DASHBOARD}


def test_every_gate_holding_is_the_completion_step_and_the_home_phase() -> None:
    status = onboarding_status(every_gate())
    assert status.current is StepKey.COMPLETION
    assert status.phase is Phase.HOME
    assert status.progress_completed == status.progress_total == 9
    assert status.recovery is None


def test_completion_is_stamped_once_with_its_event() -> None:
    facts = every_gate()
    status = onboarding_status(facts)
    stamped = stamp_completion(facts.progress, status, NOW)
    assert stamped.completed_at == NOW
    assert [e.kind for e in stamped.recent_events] == ["onboarding_completed"]
    again = stamp_completion(stamped, onboarding_status(replace(facts, progress=stamped)), NOW + 5)
    assert again is stamped


def test_completion_is_not_stamped_while_a_gate_fails() -> None:
    facts = failing(StepKey.OPENAI)
    assert stamp_completion(facts.progress, onboarding_status(facts), NOW) is facts.progress


def test_a_completed_setup_stays_home_and_says_what_needs_attention() -> None:
    facts = replace(
        failing(StepKey.GATEWAY_INIT),
        progress=replace(failing(StepKey.GATEWAY_INIT).progress, completed_at=NOW - 5),
    )
    status = onboarding_status(facts)
    assert status.phase is Phase.HOME
    assert status.current is StepKey.GATEWAY_INIT
    assert status.step(StepKey.COMPLETION).status is StepStatus.COMPLETE
    assert status.recovery is not None
    assert status.recovery.step is StepKey.GATEWAY_INIT
    assert status.recovery.message.startswith("A completed setup needs attention: Gateway init.")
    unsettled = onboarding_status(replace(facts, settled=False))
    assert unsettled.recovery is None


def test_the_last_failure_is_the_recovery_with_its_step_s_actions() -> None:
    facts = failing(StepKey.OPENAI)
    failed = record_failure(facts.progress, "openai_connect", "The key was refused.", NOW)
    status = onboarding_status(replace(facts, progress=failed))
    assert status.recovery is not None
    assert status.recovery.step is StepKey.OPENAI
    assert status.recovery.message == "The key was refused."
    assert status.recovery.recorded_at == NOW
    assert status.recovery.suggested_actions == SUGGESTED_ACTIONS[StepKey.OPENAI]
    assert status.failure_step_counts == (("openai_connect", 1),)


def test_a_blocked_preflight_is_the_recovery_and_points_at_doctor_and_the_demo() -> None:
    status = onboarding_status(failing(StepKey.ENVIRONMENT))
    assert status.recovery is not None
    assert status.recovery.step is StepKey.ENVIRONMENT
    assert status.recovery.message.startswith("1 preflight check blocked")
    actions = " ".join(status.recovery.suggested_actions)
    assert "palyra-tui doctor" in actions and "palyra-tui demo" in actions


def test_every_step_has_a_title_and_a_detail() -> None:
    for facts in (every_gate(), OnboardingFacts()):
        for step in onboarding_status(facts).steps:
            assert step.title and step.detail.endswith("."), step


def test_a_fresh_start_is_welcome_with_nothing_complete() -> None:
    status = onboarding_status(OnboardingFacts())
    assert status.current is StepKey.WELCOME
    assert status.progress_completed == 0
    assert status.phase is Phase.ONBOARDING
