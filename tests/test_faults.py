"""The fault suite: what must stay zero, at a size for every test run.

``pytest tests/test_faults.py --fault-scale 20`` runs it twenty times longer;
``python -m benchmarks faults`` is the long version and prints the figures. The machinery is
``benchmarks/faults.py`` and ``benchmarks/bad_inputs.py``; every check runs real components:
a child process killed with SIGKILL, SQLite, chromadb.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.bad_inputs import Call, calls, check_call, seed_memory
from benchmarks.faults import Figures, isolation_run, kill_run, open_memory, verify_reopen


def test_kill_9_during_adds_loses_no_acknowledged_add_and_leaves_no_half_write(
    tmp_path, fault_scale
):
    figures = kill_run(tmp_path / "killed", 5 * fault_scale, seed=fault_scale)
    assert figures.clean, figures.problems
    assert figures.kills >= 1 and figures.acknowledged >= 1, vars(figures)


@pytest.mark.parametrize(
    "backends",
    [{}, {"records": {"kind": "memory"}, "vectors": {"kind": "memory"}}],
    ids=["sqlite+chroma", "inmemory"],
)
def test_look_alike_scopes_and_crafted_filters_never_cross(tmp_path, fault_scale, backends):
    figures = isolation_run(tmp_path / "isolation", 200 * fault_scale, seed=7, **backends)
    assert figures.isolation_ops == 200 * fault_scale
    assert figures.cross_scope_reads == 0, figures.problems


def test_every_public_method_answers_bad_input_with_a_typed_error_and_changes_nothing(
    tmp_path, fault_scale
):
    memory = open_memory(tmp_path / "bad")
    seed_memory(memory)

    @settings(
        max_examples=250 * fault_scale,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(call=calls())
    def property_holds(call: Call) -> None:
        outcome = check_call(memory, call)
        assert outcome.non_project is None, outcome.non_project
        assert outcome.changed is None, outcome.changed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quarantine and unknown-model warnings are expected
        try:
            property_holds()
        finally:
            memory.close()
    figures = Figures()
    verify_reopen(tmp_path / "bad", figures)
    assert figures.clean, figures.problems
