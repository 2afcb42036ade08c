"""Idempotence checks read the PLAY RECAP: its parser must see every host and count."""

from lab_harness import playbook

OUT = """TASK [x] ***
changed: [rs1]

PLAY RECAP *********************************************************************
director                   : ok=18   changed=0    unreachable=0    failed=0    skipped=5    rescued=0    ignored=0
rs1                        : ok=12   changed=4    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
rs2                        : ok=3    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
"""


def test_recap_counts_per_host():
    result = playbook.recap(OUT)
    assert playbook.changed_counts(result) == {"director": 0, "rs1": 4, "rs2": 0}
    assert playbook.failed_counts(result) == {"director": 0, "rs1": 1, "rs2": 1}


def test_only_the_last_recap_counts():
    result = playbook.recap(OUT.replace("changed=4", "changed=9") + "\n" + OUT)
    assert playbook.changed_counts(result)["rs1"] == 4


def test_no_recap_means_no_hosts():
    assert playbook.recap("ERROR! the playbook could not be parsed") == {"stats": {}}
