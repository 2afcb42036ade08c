"""The molecule scenario extensions/molecule/ha (LVS-DR) on the ha lab make test boots: converge,
idempotence, the VRRP master powered off under load (side_effect), and testinfra's verify.

It attaches to the lab (LVSLAB_MOLECULE_RUN) instead of booting five more guests; the hosts are reset to
how they booted first, and the next test file powers the old master on again.
"""

import re

import pytest

import phases
from test_molecule import molecule_test

pytestmark = pytest.mark.lab


def test_molecule_ha_scenario_fails_over_within_4_s(ha_cluster):
    cluster = ha_cluster("ha_dr")
    out = molecule_test("ha", {"LVSLAB_MOLECULE_RUN": cluster.run_id, "LVSLAB_HA_FORWARDING": "dr"})
    assert re.search(r"idempotence: Executed: Successful", out), out[-20000:]
    gap = re.search(r"gap ([0-9.]+) s", out)
    assert gap, out[-20000:]
    # the measured figure, for the README: verify asserted it is at most 4 s
    phases.figure("director HA DR (molecule): failover gap", float(gap.group(1)))
