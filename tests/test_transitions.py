"""The notification state machine: who may move where, and what it records."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from notifications.models import Channel, Notification, Status, StatusChange
from tests.builders import idle_channel, in_state

S = Status

# The state machine as Orion documents it: transition -> (sources, target).
# The model must declare exactly this; the matrix below walks every
# transition the model declares against every state.
EXPECTED = {
    "release": ({S.PENDING}, S.QUEUED),
    "requeue": ({S.RETRYING}, S.QUEUED),
    "claim": ({S.QUEUED}, S.SENDING),
    "mark_sent": ({S.SENDING}, S.SENT),
    "schedule_retry": ({S.SENDING}, S.RETRYING),
    "defer": ({S.SENDING}, S.RETRYING),
    "fail": ({S.PENDING, S.QUEUED, S.SENDING, S.RETRYING}, S.FAILED),
    "cancel": ({S.PENDING, S.QUEUED, S.RETRYING}, S.CANCELLED),
    "expire": ({S.PENDING, S.QUEUED, S.RETRYING}, S.EXPIRED),
    "retry": ({S.FAILED}, S.QUEUED),
}


def declared() -> dict[str, tuple[set[str], str]]:
    """What the model declares: transition name -> (sources, target)."""
    field = Notification._meta.get_field("status")
    found: dict[str, tuple[set[str], str]] = {}
    for transition in field.get_all_transitions(Notification):
        sources, target = found.setdefault(transition.name, (set(), transition.target))
        assert target == transition.target
        sources.add(transition.source)
    return found


MATRIX = [(name, state) for name in sorted(declared()) for state in Status.values]


def call(notification: Notification, name: str, **kwargs: object) -> None:
    method = getattr(notification, name)
    if name in ("schedule_retry", "defer"):
        method(timezone.now() + timezone.timedelta(minutes=5), **kwargs)
    else:
        method(**kwargs)


@pytest.fixture
def channel(db: None) -> Channel:
    return idle_channel()


@pytest.fixture
def operator(db: None) -> User:
    return User.objects.create_user("operator", password="x" * 12)


def test_the_model_declares_exactly_the_documented_transitions() -> None:
    assert declared() == EXPECTED


@pytest.mark.parametrize(("name", "state"), MATRIX)
def test_each_transition_runs_from_its_sources_and_is_refused_elsewhere(
    channel: Channel, name: str, state: str
) -> None:
    assert name in EXPECTED, f"{name} is not in the documented state machine"
    sources, target = EXPECTED[name]
    notification = in_state(channel, state, attempts=1)

    if state in sources:
        call(notification, name, actor="test", reason="matrix")
        notification.save()
        assert notification.status == target
        assert Notification.objects.get(pk=notification.pk).status == target
    else:
        with pytest.raises(TransitionNotAllowed):
            call(notification, name, actor="test", reason="matrix")
        assert notification.status == state
        assert Notification.objects.get(pk=notification.pk).status == state
        assert not StatusChange.objects.filter(notification=notification).exists()


def test_the_status_cannot_be_assigned_directly(channel: Channel) -> None:
    notification = in_state(channel, Status.QUEUED)
    with pytest.raises(AttributeError):
        notification.status = Status.SENT

    loaded = Notification.objects.get(pk=notification.pk)
    with pytest.raises(AttributeError):
        loaded.status = Status.SENT
    assert Notification.objects.get(pk=notification.pk).status == Status.QUEUED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_transition_records_who_what_and_why(
    channel: Channel, operator: User, name: str
) -> None:
    sources, target = EXPECTED[name]
    source = sorted(sources)[0]
    notification = in_state(channel, source, attempts=1)

    call(notification, name, by=operator, actor="admin", reason=f"because {name}")
    notification.save()

    change = StatusChange.objects.get(notification=notification)
    assert (change.source, change.target, change.transition) == (source, target, name)
    assert change.by == operator
    assert change.actor == "admin"
    assert change.reason == f"because {name}"


def test_the_actor_defaults_to_user_or_system(channel: Channel, operator: User) -> None:
    by_operator = in_state(channel, Status.QUEUED)
    by_operator.cancel(by=operator)
    by_operator.save()
    unattended = in_state(channel, Status.QUEUED)
    unattended.expire()
    unattended.save()

    assert StatusChange.objects.get(notification=by_operator).actor == "user"
    assert StatusChange.objects.get(notification=unattended).actor == "system"


def test_a_transition_saved_after_another_process_moved_the_row_is_refused(
    channel: Channel,
) -> None:
    notification = in_state(channel, Status.QUEUED)
    first = Notification.objects.get(pk=notification.pk)
    second = Notification.objects.get(pk=notification.pk)

    first.claim(actor="worker a")
    first.save()
    second.claim(actor="worker b")
    with pytest.raises(ConcurrentTransition):
        second.save()

    stored = Notification.objects.get(pk=notification.pk)
    assert stored.status == Status.SENDING
    assert stored.attempts == 1
    claims = StatusChange.objects.filter(notification=notification)
    assert [c.actor for c in claims] == ["worker a"]


def test_a_lost_transition_is_not_recorded_by_a_later_save(
    channel: Channel,
) -> None:
    notification = in_state(channel, Status.QUEUED)
    winner = Notification.objects.get(pk=notification.pk)
    loser = Notification.objects.get(pk=notification.pk)
    winner.claim(actor="worker a")
    winner.save()
    loser.cancel(actor="operator b")
    with pytest.raises(ConcurrentTransition):
        loser.save()

    loser.refresh_from_db()
    loser.fail(actor="operator b", reason="Gave up by hand.")
    loser.save()

    history = StatusChange.objects.filter(notification=notification)
    assert [(c.transition, c.actor) for c in history] == [
        ("claim", "worker a"),
        ("fail", "operator b"),
    ]
