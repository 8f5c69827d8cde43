import pytest

from shared.core.errors import Busy, TransientError
from shared.core.retry import with_retries
from shared.domain.polling import next_check_s


def test_the_sweep_backs_off_per_operation_up_to_its_cap():
    assert [next_check_s(n, 15, 120) for n in range(1, 6)] == [15, 30, 60, 120, 120]
    assert next_check_s(0, 15, 120) == 15


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
