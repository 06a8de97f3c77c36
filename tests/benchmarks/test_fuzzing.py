"""A small seeded run of every fuzz target: the project's inputs fail only with its own errors."""
import pytest

from benchmarks import fuzzing

SMALL_RUN = 40


@pytest.mark.parametrize("target", fuzzing.targets())
def test_seeded_fuzz_run_has_no_failures(target):
    result = fuzzing.run(target, SMALL_RUN, seed=1)
    assert result.cases == SMALL_RUN
    assert not result.failures, "\n".join(fuzzing.iter_lines(result))


def test_driver_reports_escaping_errors_and_hangs(monkeypatch, tmp_path):
    """The driver itself can fail a case: an exception escaping check, or a hang."""
    import sys
    import types
    import time

    module = types.ModuleType("benchmarks.fuzzing._probe")
    module.generate = lambda rng, index: fuzzing.Case(f"probe{index}", index)

    def check(case):
        if case.payload == 0:
            raise IndexError("boom")
        if case.payload == 1:
            time.sleep(1.0)
        return None

    module.check = check
    monkeypatch.setitem(sys.modules, "benchmarks.fuzzing._probe", module)
    result = fuzzing.run("_probe", 3, hang_limit_s=0.2)
    reasons = [failure.reason for failure in result.failures]
    assert reasons[0] == "IndexError: boom"
    assert reasons[1].startswith("hang")
    assert len(reasons) == 2
