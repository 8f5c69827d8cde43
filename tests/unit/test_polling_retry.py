import pytest

from shared.errors import Busy, TransientError
from shared.polling import Schedule
from shared.retry import with_retries


def test_watch_polls_when_the_output_appears_or_on_the_fallback():
    watch = Schedule.parse("watch")
    assert watch.tick_s() == 0.5
    assert not watch.poll_due(3.0, output_seen=False)
    assert watch.poll_due(0.0, output_seen=True)
    assert watch.poll_due(15.0, output_seen=False)
    assert Schedule.parse("watch:30").poll_every_s == 30


def test_fixed_polls_on_its_interval_whatever_it_sees():
    fixed = Schedule.parse("fixed:5")
    assert fixed.tick_s() == 5 and not fixed.watch
    assert fixed.poll_due(5.0, output_seen=False)
    assert not fixed.poll_due(1.0, output_seen=True)


@pytest.mark.parametrize("bad", ["", "fixed", "fixed:", "poll:3", "watch:x"])
def test_unknown_strategies_are_refused(bad):
    with pytest.raises(ValueError):
        Schedule.parse(bad)


def test_transient_errors_are_retried_a_bounded_number_of_times(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    calls = []

    def flaky():
        calls.append(1)
        raise TransientError("429")

    with pytest.raises(TransientError):
        with_retries(flaky, attempts=3)
    assert len(calls) == 3


def test_success_after_a_transient_error(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    answers = iter([TransientError("503"), "ok"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert with_retries(call) == "ok"


def test_busy_is_not_retried_in_process():
    calls = []

    def busy():
        calls.append(1)
        raise Busy("held")

    with pytest.raises(Busy):
        with_retries(busy)
    assert len(calls) == 1
