"""playbooks/status.yml's table, rendered by Ansible from made-up ipvs_info and keepalived_state results."""

import sys

import yaml

from lab_harness import playbook

STATUS = playbook.REPO / "playbooks" / "status.yml"
TEMPLATE = playbook.REPO / "playbooks" / "templates" / "status_table.j2"


def counters(address, port, weight, conns):
    return {"address": address, "port": port, "forwarding": "nat", "weight": weight, "active_connections": 0,
            "inactive_connections": conns, "stats": {"connections": conns, "packets_in": 5 * conns,
                                                     "bytes_in": 300 * conns, "bytes_out": 400 * conns}}


def service(protocol, address, port, real_servers):
    return {"protocol": protocol, "address": address, "port": port, "fwmark": None, "scheduler": "rr",
            "persistence_timeout": 0, "stats": {"connections": sum(r["stats"]["connections"] for r in real_servers)},
            "real_servers": real_servers}


DIRECTOR_SERVICES = [
    {"protocol": "tcp", "address": "192.0.2.10", "port": 80, "scheduler": "rr", "health_check": {"type": "http", "path": "/"},
     "real_servers": [{"address": "10.0.0.11", "forwarding": "nat"}, {"address": "10.0.0.12", "forwarding": "nat"},
                      {"address": "10.0.0.13", "forwarding": "nat", "weight": 3}]},
    {"protocol": "udp", "address": "192.0.2.10", "port": 53, "scheduler": "rr",
     "real_servers": [{"address": "10.0.0.11", "forwarding": "nat"}]},
    {"protocol": "tcp", "address": "192.0.2.11", "port": 443, "scheduler": "rr", "health_check": {"type": "tcp"},
     "real_servers": [{"address": "10.0.0.11", "forwarding": "nat"}]},
]
INFO = {"loaded": True, "services": [
    service("tcp", "192.0.2.10", 80, [counters("10.0.0.12", 80, 1, 7), counters("10.0.0.13", 80, 0, 2),
                                      counters("10.0.0.99", 80, 5, 1)]),
    service("udp", "192.0.2.10", 53, [counters("10.0.0.11", 53, 1, 4)]),
]}
HEALTH = {"changed": False, "commands": [], "services": [
    {"service": "tcp 192.0.2.10:80", "in_kernel": True, "real_servers": [
        {"address": "10.0.0.11", "port": 80, "declared_weight": 1, "state": "down", "kernel_weight": None},
        {"address": "10.0.0.12", "port": 80, "declared_weight": 1, "state": "up", "kernel_weight": 1},
        {"address": "10.0.0.13", "port": 80, "declared_weight": 3, "state": "quiesced", "kernel_weight": 0}]},
    {"service": "tcp 192.0.2.11:443", "in_kernel": False, "real_servers": [
        {"address": "10.0.0.11", "port": 443, "declared_weight": 1, "state": "down", "kernel_weight": None}]},
]}


def render(tmp_path, **extra):
    status_play = yaml.safe_load(STATUS.read_text())[0]
    out = tmp_path / "table.txt"
    play = [{"hosts": "localhost", "connection": "local", "gather_facts": False, "vars": status_play["vars"],
             "tasks": [{"ansible.builtin.copy": {"dest": str(out), "mode": "0644",
                                                 "content": "{{ lookup('ansible.builtin.template', '%s') }}" % TEMPLATE}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    extra = dict({"__status_info": INFO, "ansible_python_interpreter": sys.executable}, **extra)
    proc = playbook.run_playbook(["localhost,"], tmp_path / "play.yml", extra_vars=extra, stats=False)[0]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line.split() for line in out.read_text().splitlines()]


def test_checked_services_show_each_declared_real_server_with_its_state_and_both_weights(tmp_path):
    rows = render(tmp_path, director_services=DIRECTOR_SERVICES, __status_health=HEALTH)
    assert rows[0] == ["TCP", "192.0.2.10:80", "rr", "(10", "conns,", "http", "check", "by", "keepalived)"]
    assert rows[1][:6] == ["real", "server", "state", "forward", "decl", "wt"]
    assert rows[2] == ["10.0.0.11:80", "down", "-", "1", "-", "-", "-", "-", "-", "-", "-"]
    assert rows[3] == ["10.0.0.12:80", "up", "nat", "1", "1", "0", "7", "7", "35", "2100", "2800"]
    assert rows[4] == ["10.0.0.13:80", "quiesced", "nat", "3", "0", "0", "2", "2", "10", "600", "800"]
    assert rows[5][:5] == ["10.0.0.99:80", "undeclared", "nat", "-", "5"]
    # the service without a check, as before
    assert rows[6] == ["UDP", "192.0.2.10:53", "rr", "(4", "conns)"]
    assert rows[7][:5] == ["real", "server", "forward", "weight", "active"]
    assert rows[8] == ["10.0.0.11:53", "nat", "1", "0", "4", "4", "20", "1200", "1600"]
    # a checked service keepalived declares but the kernel lacks
    assert rows[9] == ["TCP", "192.0.2.11:443", "is", "not", "in", "the", "kernel", "(tcp", "check", "by", "keepalived)"]
    assert rows[11][:4] == ["10.0.0.11:443", "down", "-", "1"]
    assert len(rows) == 12


def test_without_checks_the_table_is_as_before_and_keepalived_is_not_read(tmp_path):
    plain = [dict(svc, health_check=None) if "health_check" in svc else svc for svc in DIRECTOR_SERVICES]
    rows = render(tmp_path, director_services=plain, __status_health={"skipped": True})
    assert [r[0] for r in rows] == ["TCP", "real", "10.0.0.12:80", "10.0.0.13:80", "10.0.0.99:80",
                                    "UDP", "real", "10.0.0.11:53"]
    assert "keepalived" not in " ".join(" ".join(r) for r in rows)


def test_keepalived_unavailable_says_why_and_shows_the_kernel(tmp_path):
    rows = render(tmp_path, director_services=DIRECTOR_SERVICES,
                  __status_health={"failed": False, "msg": "keepalived is not running (no live pid in /run/keepalived.pid)"})
    assert rows[0][:6] == ["keepalived's", "state", "is", "unavailable", "on", "localhost:"]
    assert rows[1] == ["TCP", "192.0.2.10:80", "rr", "(10", "conns)"]
