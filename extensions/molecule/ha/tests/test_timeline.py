"""The failover as the client saw it: a gap of at most 4 s, no failure after it, and the download opened
before the power cut completed intact."""

import hashlib

from timeline import REPORT, SURVIVOR, TIMELINE

# what both real servers serve for the download (tests/lab_harness/failover.py MAKE_BIG)
BIG = bytes(i % 251 for i in range(1200000))


def test_the_survivor_answers_within_4_s_of_the_old_master_last_answer():
    measured = TIMELINE["measured"]
    assert measured["new_director"] == SURVIVOR, REPORT
    assert measured["gap"] is not None and measured["gap"] <= 4.0, REPORT


def test_no_request_fails_after_the_first_answer_from_the_survivor():
    assert TIMELINE["measured"]["failed_after_first_new"] == [], REPORT


def test_the_download_opened_before_the_cut_completed_intact():
    download = TIMELINE["download"]
    assert download["start"] < TIMELINE["cut"] < download["end"], REPORT
    assert download["error"] is None and download["status"] == "HTTP/1.1 200 OK", REPORT
    assert download["bytes"] == len(BIG) and download["sha256"] == hashlib.sha256(BIG).hexdigest(), REPORT
