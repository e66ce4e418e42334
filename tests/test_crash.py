"""SIGKILL at random moments (README, "Delivery"): nothing delivered twice, nothing lost silently.

A real `python -m automation run --once` against aiosmtpd on 127.0.0.1, killed while it
starts, while it sends (right after the server accepted its n-th message, plus a few ms
so every step of a message is hit: render, the `sending` commit, the SMTP dialogue, the
`sent` commit) and while it writes the workbook back. Each kill is followed by a fresh
run at the same --now. The scenarios live in tests/faultkit.py, shared with
bench/reliability.py.
"""

from __future__ import annotations

import random

import pytest

from tests.faultkit import crash_trial, write_crash_trial
from tests.google_crash import google_write_crash_trial


def assert_trial_holds(trial) -> None:
    assert trial.failures == []
    assert trial.duplicates_before_resend == 0  # never twice by itself
    assert trial.lost == 0  # every delivered message is sent or uncertain in the ledger
    assert trial.uncertain_not_in_status == 0
    assert trial.uncertain_not_in_digest == 0
    assert trial.completing_status == (1 if trial.uncertain else 0)
    if trial.uncertain:
        assert trial.resend_status == 0
    assert trial.not_sent_at_end == 0  # the completing run and the resend finish it all
    # the only extra copies are the explicit resends of uncertain messages the server had
    assert trial.duplicates_after_resend <= trial.uncertain_delivered
    assert trial.corrupt_workbooks == 0
    assert trial.wrong_w_cells == 0


def test_one_kill_mid_cycle_then_a_full_cycle(tmp_path):
    trial = crash_trial(tmp_path, random.Random(7), owners=30, kills=3)
    assert trial.kills >= 2
    assert_trial_holds(trial)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_ten_kills_in_a_cycle_of_201_messages(tmp_path, seed):
    """5 seeds × 10 kills = 50 SIGKILLs on a cycle of 200 overdue notices and a digest."""
    trial = crash_trial(tmp_path, random.Random(seed), owners=200, kills=10)
    assert trial.planned == 201
    assert trial.kills >= 9  # the write-back kill may come after the run ended
    assert_trial_holds(trial)


@pytest.mark.slow
def test_kills_during_the_xlsx_write_back(tmp_path):
    """The workbook is always the old file or the whole new one, never half of it."""
    result = write_crash_trial(tmp_path, random.Random(11), kills=12)
    assert result.failures == []
    assert result.kills >= 8
    assert result.half_written == result.corrupt == 0
    assert result.old_file + result.new_file == 12
    assert result.repaired
    # each kill before the rename leaves a temporary copy; the next write clears old ones
    assert result.temp_files_left == result.old_file
    assert result.temp_files_after_repair == 0


@pytest.mark.slow
def test_kills_during_the_google_write_back(tmp_path):
    """The sheet has the old W cells or every new one; the next cycle writes the rest."""
    result = google_write_crash_trial(tmp_path, random.Random(5), kills=10)
    assert result.failures == []
    assert result.kills >= 8
    assert result.half_written == result.partner_cells_changed == 0
    assert result.old_sheet + result.new_sheet == 10
    assert result.repaired
