"""Benchmark lvs.cluster.ipvs_table in a lab guest: 1,000 services x 10 real servers.

Usage (from the repository root):
    .venv/bin/python tests/bench/bench_ipvs_table.py [--run RUN_ID] [--services 1000] [--real-servers 10]

Without --run (or LVSLAB_SMOKE_RUN) it boots a one-guest "smoke" lab and tears it down afterwards.
It prints, from one run:
  * the time from an empty table for ipvs_table (the module process on the guest, re-run from the
    AnsiballZ payload Ansible left there, so SSH and controller overhead are not counted; the
    wall time of the whole Ansible task is printed too),
  * the time of 'ipvsadm -R' with the same rules (the lines the module sent),
  * the time of one ipvsadm process per rule (the seed's way),
  * the time of a no-op re-run of ipvs_table (the read: 'ipvsadm -S -n' + '--thresholds', plan),
    and of a bare 'ipvsadm -S -n' for reference,
  * the number of kernel operations (ipvsadm lines) for one changed weight.
Traffic stays inside the guest; nothing is sent anywhere.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from lab_harness import playbook, topology, vm  # noqa: E402


def declaration(services, real_servers, changed_weight=False):
    out = []
    for i in range(services):
        vip = '10.%d.%d.%d' % (100 + i // 65536, (i // 256) % 256, i % 256)
        rss = [{'address': '172.16.%d.%d' % (i % 250, j + 1), 'weight': 1 + j % 3} for j in range(real_servers)]
        out.append({'address': vip, 'port': 80, 'scheduler': 'wrr', 'real_servers': rss})
    if changed_weight:
        out[services // 2]['real_servers'][-1]['weight'] = 7
    return out


class Guest(object):
    def __init__(self, state):
        self.state = state

    def sh(self, script, stdin=None, check=True):
        proc = subprocess.run(vm.ssh_argv(self.state, 'smoke', [script]), input=stdin,
                              capture_output=True, text=True, check=False, timeout=1800)
        if check and proc.returncode != 0:
            raise RuntimeError('guest command failed (%d): %s\n%s%s' % (proc.returncode, script, proc.stdout, proc.stderr))
        return proc.stdout

    def timed(self, script, stdin=None):
        """Seconds the script takes on the guest (measured there)."""
        out = self.sh('s=$(date +%%s.%%N); %s >/dev/null; e=$(date +%%s.%%N); echo "$s $e"' % script, stdin=stdin)
        start, end = out.split()[-2:]
        return float(end) - float(start)


def run_task(inventory, services, keep_files, workdir, name):
    play = Path(workdir) / ('%s.yml' % name)
    data = Path(workdir) / ('%s.json' % name)
    data.write_text(json.dumps({'bench_services': services}))
    play.write_text('- hosts: lab_guests\n  gather_facts: false\n  tasks:\n'
                    '    - lvs.cluster.ipvs_table:\n        services: "{{ bench_services }}"\n      register: r\n'
                    '    - ansible.builtin.copy:\n        dest: /tmp/bench_%s.json\n        content: "{{ r.commands | to_json }}"\n' % name)
    # The timed run re-executes the AnsiballZ payload that plain Ansible leaves on the guest; Mitogen
    # (the lab default) leaves none, so that run is plain. The other runs use the lab default.
    env = ({'ANSIBLE_KEEP_REMOTE_FILES': '1', 'ANSIBLE_PIPELINING': 'False', 'LVSLAB_STRATEGY': 'linear'}
           if keep_files else {})
    env['ANSIBLE_REMOTE_TMP'] = '/root/.ansible/tmp'
    started = time.time()
    argv = [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(inventory), str(play), '-e', '@%s' % data]
    proc = subprocess.run(argv, env=playbook.environment(env), capture_output=True, text=True, check=False)
    elapsed = time.time() - started
    if proc.returncode != 0:
        raise RuntimeError('playbook %s failed:\n%s\n%s' % (name, proc.stdout[-5000:], proc.stderr[-3000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--run', default=os.environ.get('LVSLAB_SMOKE_RUN'))
    parser.add_argument('--services', type=int, default=1000)
    parser.add_argument('--real-servers', type=int, default=10)
    parser.add_argument('--skip-per-rule', action='store_true',
                        help='do not time one ipvsadm process per rule (about 20 minutes for 11,000 rules under TCG)')
    args = parser.parse_args()

    booted = None
    if args.run:
        state = vm.find_run(args.run)
    else:
        state = booted = vm.up(topology.resolve('smoke'))
    try:
        report(Guest(state), Path(state['dir']) / 'inventory.yml', args.services, args.real_servers, not args.skip_per_rule)
    finally:
        if booted:
            vm.down(booted['run_id'])


def report(guest, inventory, n_services, n_real, per_rule=True):
    rules = n_services * (1 + n_real)
    desired = declaration(n_services, n_real)
    with tempfile.TemporaryDirectory() as workdir:
        guest.sh('ipvsadm -C; rm -rf /root/.ansible/tmp/ansible-tmp-*')
        task_wall = run_task(inventory, desired, True, workdir, 'from_empty')
        commands = json.loads(guest.sh('cat /tmp/bench_from_empty.json'))
        assert len(commands) == rules, (len(commands), rules)
        payload = guest.sh('ls -t /root/.ansible/tmp/*/AnsiballZ_ipvs_table.py | head -1').strip()
        rules_text = ''.join(c + '\n' for c in commands)
        guest.sh('cat > /tmp/bench_rules.txt', stdin=rules_text)
        guest.sh("sed 's/^/ipvsadm /' /tmp/bench_rules.txt > /tmp/bench_rules.sh")

        guest.sh('ipvsadm -C')
        t_module = guest.timed('python3 %s' % payload)
        count = int(guest.sh('ipvsadm -S -n | wc -l'))
        t_noop = guest.timed('python3 %s' % payload)
        noop = json.loads(guest.sh('python3 %s' % payload))
        t_save = guest.timed('ipvsadm -S -n')

        guest.sh('ipvsadm -C')
        t_restore = guest.timed('ipvsadm -R < /tmp/bench_rules.txt')
        restored = int(guest.sh('ipvsadm -S -n | wc -l'))

        t_processes = None
        if per_rule:
            guest.sh('ipvsadm -C')
            t_processes = guest.timed('sh -e /tmp/bench_rules.sh')

        run_task(inventory, declaration(n_services, n_real, changed_weight=True), False, workdir, 'one_weight')
        weight_ops = json.loads(guest.sh('cat /tmp/bench_one_weight.json'))
        guest.sh('ipvsadm -C; rm -rf /root/.ansible/tmp/ansible-tmp-* /tmp/bench_*')

    print('IPVS table benchmark: %d services x %d real servers = %d rules (lab guest, TCG emulation)'
          % (n_services, n_real, rules))
    print('  ipvs_table from empty (module on the guest)    %8.2f s   (whole Ansible task: %.2f s)' % (t_module, task_wall))
    print('  ipvsadm -R of the same rules                   %8.2f s' % t_restore)
    if t_processes is not None:
        print('  one ipvsadm process per rule (seed)            %8.2f s' % t_processes)
    else:
        print('  one ipvsadm process per rule (seed)            skipped (--skip-per-rule)')
    print('  ipvs_table no-op re-run                        %8.2f s   (changed=%s, %d commands)'
          % (t_noop, noop.get('changed'), len(noop.get('commands', []))))
    print('  ipvsadm -S -n alone                            %8.2f s   (%d lines)' % (t_save, count))
    print('  kernel operations for one changed weight       %8d     %s' % (len(weight_ops), weight_ops))
    assert restored == count == rules and not noop.get('changed') and len(weight_ops) == 1


if __name__ == '__main__':
    main()
