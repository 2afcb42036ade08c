# Copyright (c) 2026, lvs.cluster developers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for lvs.cluster.arp_tuning: the pure helpers, then main() on a fake /proc/sys."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.lvs.cluster.plugins.module_utils import _sysctl
from ansible_collections.lvs.cluster.plugins.modules import arp_tuning

# --- pure helpers -------------------------------------------------------------------------------


def test_normalize_interfaces_puts_all_first_and_dedupes():
    assert arp_tuning.normalize_interfaces(["lo", "eth1", "all", "lo"]) == ["all", "eth1", "lo"]
    assert arp_tuning.normalize_interfaces([]) == ["all"]


@pytest.mark.parametrize("name", ["eth/0", "a b", "", ".", "..", "x" * 16, "eth0:1"])
def test_invalid_interface_names_rejected(name):
    assert arp_tuning.invalid_interface_names([name, "lo"]) == [name]


def test_valid_interface_names_accepted():
    assert arp_tuning.invalid_interface_names(["eth0.100", "tunl0", "x" * 15, "default"]) == []


def test_sysctl_name_uses_slash_form_for_dotted_interfaces():
    assert arp_tuning.sysctl_name("lo", "arp_ignore") == "net.ipv4.conf.lo.arp_ignore"
    assert arp_tuning.sysctl_name("eth0.100", "rp_filter") == "net/ipv4/conf/eth0.100/rp_filter"


def test_requested_settings_keeps_only_given_keys():
    params = {"arp_ignore": 0, "arp_announce": None, "rp_filter": 2}
    assert arp_tuning.requested_settings(params) == {"arp_ignore": 0, "rp_filter": 2}


def test_render_dropin_is_deterministic_and_ordered():
    content = arp_tuning.render_dropin(["all", "lo"], {"rp_filter": 0, "arp_ignore": 1, "arp_announce": 2})
    assert content == arp_tuning.HEADER + (
        "net.ipv4.conf.all.arp_ignore = 1\n"
        "net.ipv4.conf.all.arp_announce = 2\n"
        "net.ipv4.conf.all.rp_filter = 0\n"
        "net.ipv4.conf.lo.arp_ignore = 1\n"
        "net.ipv4.conf.lo.arp_announce = 2\n"
        "net.ipv4.conf.lo.rp_filter = 0\n"
    )


def test_effective_values_take_the_max_of_all_and_interface():
    values = {
        "all": {"arp_ignore": 1, "rp_filter": 0},
        "default": {"arp_ignore": 0, "rp_filter": 0},
        "eth0": {"arp_ignore": 2, "rp_filter": 0},
        "lo": {"arp_ignore": 0, "rp_filter": 1},
    }
    assert arp_tuning.effective_values(values) == {
        "eth0": {"arp_ignore": 2, "rp_filter": 0},
        "lo": {"arp_ignore": 1, "rp_filter": 1},
    }


def test_live_changes_lists_only_differences():
    before = {"all": {"arp_ignore": 1, "arp_announce": 0}, "lo": {"arp_ignore": 0, "arp_announce": 2}}
    assert arp_tuning.live_changes(before, {"arp_ignore": 1, "arp_announce": 2}) == [
        ("all", "arp_announce", 2), ("lo", "arp_ignore", 1)]


# --- main() on a fake /proc/sys -----------------------------------------------------------------

INTERFACES = ("all", "default", "lo", "eth0", "eth1")


@pytest.fixture
def proc(tmp_path, monkeypatch):
    """A /proc/sys/net/ipv4/conf tree with every key at 0, except eth1 arp_ignore at 2."""
    root = tmp_path / "proc_sys"
    for name in INTERFACES:
        conf = root / "net" / "ipv4" / "conf" / name
        conf.mkdir(parents=True)
        for key in arp_tuning.KEYS:
            (conf / key).write_text("0\n")
    (root / "net/ipv4/conf/eth1/arp_ignore").write_text("2\n")
    for name, content in (("ip_forward", "0\n"), ("ip_local_port_range", "32768\t60999\n")):
        (root / "net" / "ipv4" / name).write_text(content)
    (root / "net" / "ipv4" / "vs").mkdir()
    (root / "net" / "ipv4" / "vs" / "conntrack").write_text("0\n")
    monkeypatch.setattr(_sysctl, "_PROC_SYS", str(root))
    return root


@pytest.fixture
def dropin(tmp_path):
    (tmp_path / "sysctl.d").mkdir()
    return tmp_path / "sysctl.d" / "90-lvs-cluster-arp.conf"


def value(proc, interface, key):
    return int((proc / "net/ipv4/conf" / interface / key).read_text())


def snapshot(proc):
    return dict((p.relative_to(proc).as_posix(), p.read_text()) for p in proc.rglob("*") if p.is_file())


def run(args, capsys, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            arp_tuning.main()
    return json.loads(capsys.readouterr().out)


def test_apply_sets_all_and_named_interfaces_live_and_in_the_dropin(proc, dropin, capsys):
    result = run({"interfaces": ["lo"], "arp_ignore": 1, "arp_announce": 2, "path": str(dropin)}, capsys)
    assert result["changed"] is True
    assert result["interfaces"] == ["all", "lo"]
    assert value(proc, "all", "arp_ignore") == 1 and value(proc, "all", "arp_announce") == 2
    assert value(proc, "lo", "arp_ignore") == 1 and value(proc, "lo", "arp_announce") == 2
    assert value(proc, "eth0", "arp_ignore") == 0, "unnamed interfaces are covered by 'all', not written"
    assert result["before"] == {"all": {"arp_ignore": 0, "arp_announce": 0},
                                "lo": {"arp_ignore": 0, "arp_announce": 0}}
    assert result["after"] == {"all": {"arp_ignore": 1, "arp_announce": 2},
                               "lo": {"arp_ignore": 1, "arp_announce": 2}}
    # eth1 keeps its own higher arp_ignore: the kernel uses the max.
    assert result["effective"]["eth0"] == {"arp_ignore": 1, "arp_announce": 2}
    assert result["effective"]["eth1"] == {"arp_ignore": 2, "arp_announce": 2}
    assert "all" not in result["effective"] and "default" not in result["effective"]
    assert dropin.read_text() == result["content"]
    assert "net.ipv4.conf.lo.arp_announce = 2\n" in result["content"]
    assert "rp_filter" not in result["content"]
    assert result["path"] == str(dropin)
    assert oct(dropin.stat().st_mode & 0o777) == "0o644"


def test_second_run_is_unchanged(proc, dropin, capsys):
    args = {"interfaces": ["lo", "eth0"], "arp_ignore": 1, "rp_filter": 2, "path": str(dropin)}
    run(args, capsys)
    mtime = dropin.stat().st_mtime_ns
    result = run(args, capsys)
    assert result["changed"] is False
    assert result["before"] == result["after"]
    assert dropin.stat().st_mtime_ns == mtime


def test_check_mode_predicts_and_changes_nothing(proc, dropin, capsys):
    before = snapshot(proc)
    result = run({"interfaces": ["lo"], "arp_ignore": 1, "arp_announce": 2, "path": str(dropin)}, capsys,
                 check_mode=True, diff=True)
    assert result["changed"] is True
    assert snapshot(proc) == before
    assert not dropin.exists()
    assert result["after"]["all"] == {"arp_ignore": 1, "arp_announce": 2}
    assert result["effective"]["eth0"] == {"arp_ignore": 1, "arp_announce": 2}
    live, filediff = result["diff"]
    assert "net.ipv4.conf.all.arp_ignore = 0\n" in live["before"]
    assert "net.ipv4.conf.all.arp_ignore = 1\n" in live["after"]
    assert filediff["before"] == "" and filediff["after"] == result["content"]


def test_dropin_alone_out_of_date_is_a_change(proc, dropin, capsys):
    args = {"arp_ignore": 1, "path": str(dropin)}
    run(args, capsys)
    dropin.write_text("# edited by hand\n")
    result = run(args, capsys)
    assert result["changed"] is True
    assert dropin.read_text() == result["content"]


def test_live_drift_alone_is_a_change(proc, dropin, capsys):
    args = {"arp_announce": 2, "path": str(dropin)}
    run(args, capsys)
    (proc / "net/ipv4/conf/all/arp_announce").write_text("0\n")
    result = run(args, capsys)
    assert result["changed"] is True
    assert value(proc, "all", "arp_announce") == 2


def test_persist_false_leaves_the_dropin_alone(proc, dropin, capsys):
    result = run({"arp_ignore": 1, "persist": False, "path": str(dropin)}, capsys)
    assert result["changed"] is True
    assert value(proc, "all", "arp_ignore") == 1
    assert not dropin.exists()


def test_dotted_interface_written_in_slash_form(proc, dropin, capsys):
    conf = proc / "net/ipv4/conf/eth0.100"
    conf.mkdir()
    for key in arp_tuning.KEYS:
        (conf / key).write_text("0\n")
    result = run({"interfaces": ["eth0.100"], "arp_ignore": 1, "path": str(dropin)}, capsys)
    assert "net/ipv4/conf/eth0.100/arp_ignore = 1\n" in dropin.read_text()
    assert result["after"]["eth0.100"] == {"arp_ignore": 1}


def test_missing_interface_fails_before_any_change(proc, dropin, capsys):
    before = snapshot(proc)
    result = run({"interfaces": ["lo", "tunl0"], "arp_ignore": 1, "path": str(dropin)}, capsys)
    assert result["failed"] is True
    assert result["msg"] == "interfaces do not exist: tunl0 (nothing was changed)"
    assert result["missing"] == ["tunl0"]
    assert snapshot(proc) == before
    assert not dropin.exists()


def test_allow_missing_persists_but_skips_live(proc, dropin, capsys):
    result = run({"interfaces": ["tunl0"], "rp_filter": 0, "allow_missing": True, "path": str(dropin)},
                 capsys)
    assert result["missing"] == ["tunl0"]
    assert "net.ipv4.conf.tunl0.rp_filter = 0\n" in dropin.read_text()
    assert "tunl0" not in result["after"]
    # Nothing live to change (all is already 0), but the drop-in was written.
    assert result["changed"] is True


@pytest.mark.parametrize("args, message", [
    ({"arp_ignore": 4}, "value of arp_ignore must be one of: 0, 1, 2, 3, 8, got: 4"),
    ({"arp_announce": 3}, "value of arp_announce must be one of: 0, 1, 2, got: 3"),
    ({"rp_filter": -1}, "value of rp_filter must be one of: 0, 1, 2, got: -1"),
    ({"interfaces": ["lo"]}, "one of the following is required: arp_ignore, arp_announce, rp_filter, sysctls"),
    ({"interfaces": ["eth/0"], "arp_ignore": 1}, "invalid interface names: eth/0"),
])
def test_bad_input_fails_before_any_change(proc, dropin, capsys, args, message):
    before = snapshot(proc)
    result = run(dict(args, path=str(dropin)), capsys)
    assert result["failed"] is True
    assert result["msg"] == message
    assert snapshot(proc) == before
    assert not dropin.exists()


def test_missing_dropin_directory_fails_before_any_change(proc, tmp_path, capsys):
    before = snapshot(proc)
    result = run({"arp_ignore": 1, "path": str(tmp_path / "nope" / "x.conf")}, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("cannot persist to ")
    assert snapshot(proc) == before


def test_kernel_rejecting_a_write_fails_with_the_key(proc, dropin, capsys, monkeypatch):
    def refuse(parts, value):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(arp_tuning, "write_value", refuse)
    result = run({"arp_ignore": 1, "path": str(dropin)}, capsys)
    assert result["failed"] is True
    assert result["msg"] == "cannot set net.ipv4.conf.all.arp_ignore to 1: [Errno 13] Permission denied"
    assert not dropin.exists(), "nothing is persisted when the live write failed"


# --- the generic sysctls option (the engine in module_utils/_sysctl.py) --------------------------


@pytest.mark.parametrize("name, parts", [
    ("net.ipv4.ip_forward", ("net", "ipv4", "ip_forward")),
    ("net/ipv4/conf/eth0.100/rp_filter", ("net", "ipv4", "conf", "eth0.100", "rp_filter")),
])
def test_parse_name_reads_both_sysctl_d_forms(name, parts):
    assert _sysctl.parse_name(name) == parts


@pytest.mark.parametrize("name, message", [
    ("kernel.panic", "kernel.panic is not under net. (only net.* keys are managed)"),
    ("net", "net is not under net. (only net.* keys are managed)"),
    ("net..x", "net..x is not a valid sysctl name"),
    ("net/ipv4/../x", "net/ipv4/../x is not a valid sysctl name"),
    ("net.ipv4.a b", "net.ipv4.a b is not a valid sysctl name"),
    ("net.ipv4.a=1", "net.ipv4.a=1 is not a valid sysctl name"),
])
def test_parse_name_refuses_other_trees_and_odd_names(name, message):
    with pytest.raises(_sysctl.SysctlError) as exc:
        _sysctl.parse_name(name)
    assert str(exc.value) == message


@pytest.mark.parametrize("raw, value", [
    (1, 1), ("1", 1), (" -3\n", -3), ("32768\t60999\n", "32768 60999"), ("bbr", "bbr"),
])
def test_normalize_value_compares_as_the_kernel_prints(raw, value):
    assert _sysctl.normalize_value(raw) == value


@pytest.mark.parametrize("raw", [True, 1.5, [1], " ", None])
def test_normalize_value_refuses_other_types_and_empty(raw):
    with pytest.raises(_sysctl.SysctlError):
        _sysctl.normalize_value(raw)


def test_check_sysctls_sorts_normalizes_and_refuses_duplicates_and_reserved():
    assert _sysctl.check_sysctls({"net.ipv4.vs.conntrack": "1", "net.ipv4.ip_forward": 1}) == [
        ("net.ipv4.ip_forward", ("net", "ipv4", "ip_forward"), 1),
        ("net.ipv4.vs.conntrack", ("net", "ipv4", "vs", "conntrack"), 1)]
    with pytest.raises(_sysctl.SysctlError, match="net.ipv4.ip_forward and net/ipv4/ip_forward are the same key"):
        _sysctl.check_sysctls({"net.ipv4.ip_forward": 1, "net/ipv4/ip_forward": 1})
    reserved = arp_tuning.reserved_keys(["all"], {"arp_ignore": 1})
    with pytest.raises(_sysctl.SysctlError, match="net.ipv4.conf.all.arp_ignore is set by arp_ignore"):
        _sysctl.check_sysctls({"net.ipv4.conf.all.arp_ignore": 1}, reserved)
    with pytest.raises(_sysctl.SysctlError, match="net.ipv4.ip_forward must be an integer or a string"):
        _sysctl.check_sysctls({"net.ipv4.ip_forward": True})


def test_render_dropin_with_sysctls_only_has_no_arp_header_and_nothing_is_empty():
    entries = _sysctl.check_sysctls({"net.ipv4.vs.conntrack": 1, "net.ipv4.ip_forward": 1})
    assert arp_tuning.render_dropin([], {}, entries) == arp_tuning.MANAGED + (
        "net.ipv4.ip_forward = 1\n"
        "net.ipv4.vs.conntrack = 1\n")
    assert arp_tuning.render_dropin([], {}, []) == ""
    both = arp_tuning.render_dropin(["all"], {"arp_ignore": 1}, entries)
    assert both == arp_tuning.HEADER + "net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.ip_forward = 1\nnet.ipv4.vs.conntrack = 1\n"


def sysctl_value(proc, name):
    return (proc / name.replace(".", "/")).read_text()


def test_sysctls_only_sets_live_and_in_the_dropin_and_manages_no_arp_key(proc, dropin, capsys):
    before = snapshot(proc)
    result = run({"sysctls": {"net.ipv4.ip_forward": 1, "net.ipv4.vs.conntrack": "1"}, "path": str(dropin)}, capsys)
    assert result["changed"] is True
    assert sysctl_value(proc, "net.ipv4.ip_forward") == "1\n"
    assert sysctl_value(proc, "net.ipv4.vs.conntrack") == "1\n"
    changed = sorted(k for k, v in snapshot(proc).items() if before[k] != v)
    assert changed == ["net/ipv4/ip_forward", "net/ipv4/vs/conntrack"], "no ARP key is touched"
    assert result["interfaces"] == [] and result["effective"] == {} and result["missing_sysctls"] == []
    assert result["before"] == {"net.ipv4.ip_forward": 0, "net.ipv4.vs.conntrack": 0}
    assert result["after"] == {"net.ipv4.ip_forward": 1, "net.ipv4.vs.conntrack": 1}
    assert dropin.read_text() == result["content"] == arp_tuning.MANAGED + (
        "net.ipv4.ip_forward = 1\nnet.ipv4.vs.conntrack = 1\n")
    again = run({"sysctls": {"net.ipv4.ip_forward": "1", "net.ipv4.vs.conntrack": 1}, "path": str(dropin)}, capsys)
    assert again["changed"] is False


def test_sysctls_multi_value_compares_with_whitespace_collapsed(proc, dropin, capsys):
    args = {"sysctls": {"net.ipv4.ip_local_port_range": "32768 60999"}, "path": str(dropin)}
    result = run(args, capsys)
    assert result["before"] == {"net.ipv4.ip_local_port_range": "32768 60999"}
    assert sysctl_value(proc, "net.ipv4.ip_local_port_range") == "32768\t60999\n", "not rewritten live"
    assert result["changed"] is True, "the drop-in is new"
    assert run(args, capsys)["changed"] is False


def test_sysctls_together_with_arp_keys_share_one_dropin(proc, dropin, capsys):
    result = run({"interfaces": ["lo"], "arp_ignore": 1, "sysctls": {"net.ipv4.ip_forward": 1},
                  "path": str(dropin)}, capsys, diff=True)
    assert result["before"] == {"all": {"arp_ignore": 0}, "lo": {"arp_ignore": 0}, "net.ipv4.ip_forward": 0}
    assert result["after"] == {"all": {"arp_ignore": 1}, "lo": {"arp_ignore": 1}, "net.ipv4.ip_forward": 1}
    assert dropin.read_text() == arp_tuning.HEADER + (
        "net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.lo.arp_ignore = 1\nnet.ipv4.ip_forward = 1\n")
    assert "net.ipv4.ip_forward = 0\n" in result["diff"][0]["before"]
    assert "net.ipv4.ip_forward = 1\n" in result["diff"][0]["after"]


def test_dropped_sysctl_leaves_the_dropin_and_an_empty_dict_removes_it(proc, dropin, capsys):
    run({"sysctls": {"net.ipv4.ip_forward": 1, "net.ipv4.vs.conntrack": 1}, "path": str(dropin)}, capsys)
    result = run({"sysctls": {"net.ipv4.ip_forward": 1}, "path": str(dropin)}, capsys)
    assert result["changed"] is True
    assert "conntrack" not in dropin.read_text()
    assert sysctl_value(proc, "net.ipv4.vs.conntrack") == "1\n", "a dropped key keeps its live value"
    check = run({"sysctls": {}, "path": str(dropin)}, capsys, check_mode=True)
    assert check["changed"] is True and dropin.exists()
    result = run({"sysctls": {}, "path": str(dropin)}, capsys)
    assert result["changed"] is True and result["content"] == "" and result["before"] == {}
    assert not dropin.exists()
    assert run({"sysctls": {}, "path": str(dropin)}, capsys)["changed"] is False


def test_sysctls_check_mode_predicts_and_changes_nothing(proc, dropin, capsys):
    before = snapshot(proc)
    result = run({"sysctls": {"net.ipv4.ip_forward": 1}, "path": str(dropin)}, capsys, check_mode=True)
    assert result["changed"] is True
    assert result["after"] == {"net.ipv4.ip_forward": 1}
    assert snapshot(proc) == before
    assert not dropin.exists()


@pytest.mark.parametrize("sysctls, message", [
    ({"net.ipv4.vs.nope": 1}, "sysctls: net.ipv4.vs.nope does not exist (is the module loaded?) (nothing was changed)"),
    ({"kernel.panic": 1}, "sysctls: kernel.panic is not under net. (only net.* keys are managed) (nothing was changed)"),
    ({"net.ipv4.vs": 1}, "sysctls: net.ipv4.vs is a group of keys, not a value (nothing was changed)"),
    ({"net.ipv4.ip_forward": [1]}, "sysctls: net.ipv4.ip_forward must be an integer or a string, got [1] "
                                   "(nothing was changed)"),
    ({"net.ipv4.conf.all.arp_ignore": 0},
     "sysctls: net.ipv4.conf.all.arp_ignore is set by arp_ignore (nothing was changed)"),
])
def test_bad_sysctls_fail_before_any_change(proc, dropin, capsys, sysctls, message):
    before = snapshot(proc)
    # next to a valid key and an ARP key, which are not applied either
    result = run({"sysctls": dict({"net.ipv4.vs.conntrack": 1}, **sysctls), "arp_ignore": 1, "path": str(dropin)},
                 capsys)
    assert result["failed"] is True
    assert result["msg"] == message
    assert snapshot(proc) == before
    assert not dropin.exists()


def test_allow_missing_sysctl_is_persisted_only(proc, dropin, capsys):
    result = run({"sysctls": {"net.ipv4.vs.nope": 1, "net.ipv4.ip_forward": 1}, "allow_missing": True,
                  "path": str(dropin)}, capsys)
    assert result["missing_sysctls"] == ["net.ipv4.vs.nope"]
    assert "net.ipv4.vs.nope = 1\n" in dropin.read_text()
    assert result["after"] == {"net.ipv4.ip_forward": 1}


def test_interfaces_without_an_arp_key_are_refused(proc, dropin, capsys):
    result = run({"interfaces": ["lo"], "sysctls": {"net.ipv4.ip_forward": 1}, "path": str(dropin)}, capsys)
    assert result["failed"] is True
    assert result["msg"] == "interfaces needs one of arp_ignore, arp_announce, rp_filter"
    assert sysctl_value(proc, "net.ipv4.ip_forward") == "0\n"
