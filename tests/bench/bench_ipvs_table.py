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
    parser.add_argument('--repeat', type=int, default=3, help='rounds of measurements; medians are printed')
    parser.add_argument('--skip-per-rule', action='store_true',
                        help='do not time one ipvsadm process per rule (about 20 minutes for 11,000 rules under TCG)')
    args = parser.parse_args()

    booted = None
    if args.run:
        state = vm.find_run(args.run)
    else:
        state = booted = vm.up(topology.resolve('smoke'))
    try:
        report(Guest(state), Path(state['dir']) / 'inventory.yml', args.services, args.real_servers, not args.skip_per_rule,
               args.repeat)
    finally:
        if booted:
            vm.down(booted['run_id'])


# Runs one command on the guest and measures it there: wall seconds of the child alone (not of this
# helper's start), its peak RSS (the largest of the child and its own children) and the bytes it wrote.
MEASURE = r"""
import json, os, resource, subprocess, sys, time
out, stdin = sys.argv[1], sys.argv[2]
with open(out, 'wb') as sink, (open(stdin, 'rb') if stdin != '-' else open(os.devnull, 'rb')) as source:
    start = time.time()
    rc = subprocess.call(sys.argv[3:], stdin=source, stdout=sink)
    seconds = time.time() - start
print(json.dumps({'seconds': seconds, 'rc': rc, 'stdout_bytes': os.path.getsize(out),
                  'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""

# Starts keepalived (checker process only) on a config and waits until the kernel table has every
# rule: /proc/net/ip_vs is read by the kernel alone, polled every 0.1 s. Then peak RSS of its processes.
KEEPALIVED = r"""
import json, os, subprocess, sys, time
conf, rules = sys.argv[1], int(sys.argv[2])
def count():
    with open('/proc/net/ip_vs') as f:
        return sum(1 for line in f) - 3
start = time.time()
subprocess.check_call(['keepalived', '--check', '--use-file', conf, '--pid', '/run/bench_keepalived.pid',
                       '--checkers_pid', '/run/bench_keepalived_checkers.pid', '--no-syslog'])
while not os.path.exists('/proc/net/ip_vs') or count() < rules:
    if time.time() - start > 600:
        raise SystemExit('keepalived did not complete the table in 600 s')
    time.sleep(0.1)
seconds = time.time() - start
peak = 0
for pidfile in ('/run/bench_keepalived.pid', '/run/bench_keepalived_checkers.pid'):
    with open(pidfile) as f:
        pid = f.read().strip()
    with open('/proc/%s/status' % pid) as f:
        peak = max([peak] + [int(l.split()[1]) for l in f if l.startswith('VmHWM:')])
print(json.dumps({'seconds': seconds, 'maxrss_kb': peak, 'rules': count()}))
"""


def keepalived_conf(services):
    """The declaration as keepalived virtual_servers, without checkers (the real servers are then up)."""
    lines = ['global_defs {', '    router_id bench', '}']
    for svc in services:
        lines += ['virtual_server %s %d {' % (svc['address'], svc['port']), '    lb_algo %s' % svc['scheduler'],
                  '    lb_kind DR', '    protocol TCP']
        for rs in svc['real_servers']:
            lines.append('    real_server %s %d {\n        weight %d\n    }' % (rs['address'], svc['port'], rs['weight']))
        lines.append('}')
    return '\n'.join(lines) + '\n'


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def report(guest, inventory, n_services, n_real, per_rule=True, repeat=3):
    rules = n_services * (1 + n_real)
    desired = declaration(n_services, n_real)
    with tempfile.TemporaryDirectory() as workdir:
        guest.sh('ipvsadm -C; rm -rf /root/.ansible/tmp/ansible-tmp-*; pidof keepalived && exit 1 || true')
        task_wall = run_task(inventory, desired, True, workdir, 'from_empty')
        commands = json.loads(guest.sh('cat /tmp/bench_from_empty.json'))
        assert len(commands) == rules, (len(commands), rules)
        payload = guest.sh('ls -t /root/.ansible/tmp/*/AnsiballZ_ipvs_table.py | head -1').strip()
        rules_text = ''.join(c + '\n' for c in commands)
        guest.sh('cat > /tmp/bench_rules.txt', stdin=rules_text)
        guest.sh("sed 's/^/ipvsadm /' /tmp/bench_rules.txt > /tmp/bench_rules.sh")
        guest.sh('cat > /tmp/bench_measure.py', stdin=MEASURE)
        guest.sh('cat > /tmp/bench_keepalived.py', stdin=KEEPALIVED)
        guest.sh('cat > /tmp/bench_keepalived.conf', stdin=keepalived_conf(desired))

        def measure(argv, stdin='-'):
            out = json.loads(guest.sh('python3 /tmp/bench_measure.py /tmp/bench_out %s %s' % (stdin, argv)).splitlines()[-1])
            assert out['rc'] == 0, (argv, out)
            return out

        def count():
            return int(guest.sh('ipvsadm -S -n | wc -l'))

        # each round measures every contender once, back to back, so that the guest's noise is shared
        runs = {'empty': [], 'noop': [], 'restore': [], 'save': [], 'keepalived': []}
        for dummy in range(repeat):
            guest.sh('ipvsadm -C')
            runs['empty'].append(measure('python3 %s' % payload))
            assert count() == rules
            runs['noop'].append(measure('python3 %s' % payload))
            noop = json.loads(guest.sh('cat /tmp/bench_out'))
            assert not noop.get('changed') and noop.get('commands') == [], noop.get('commands')
            runs['save'].append(measure('ipvsadm -S -n'))
            guest.sh('ipvsadm -C')
            runs['restore'].append(measure('ipvsadm -R', '/tmp/bench_rules.txt'))
            assert count() == rules
            guest.sh('ipvsadm -C')
            runs['keepalived'].append(json.loads(guest.sh(
                'python3 /tmp/bench_keepalived.py /tmp/bench_keepalived.conf %d' % rules).splitlines()[-1]))
            guest.sh('kill $(cat /run/bench_keepalived.pid); while [ -e /run/bench_keepalived.pid ]; do sleep 0.2; done; '
                     'ipvsadm -C')

        t_processes = None
        if per_rule:
            guest.sh('ipvsadm -C')
            t_processes = guest.timed('sh -e /tmp/bench_rules.sh')

        guest.sh('ipvsadm -C')
        run_task(inventory, desired, False, workdir, 'seed')
        run_task(inventory, declaration(n_services, n_real, changed_weight=True), False, workdir, 'one_weight')
        weight_ops = json.loads(guest.sh('cat /tmp/bench_one_weight.json'))
        guest.sh('ipvsadm -C; rm -rf /root/.ansible/tmp/ansible-tmp-* /tmp/bench_*')

    t = dict((name, median(r['seconds'] for r in results)) for name, results in runs.items())
    rss = dict((name, max(r['maxrss_kb'] for r in results) / 1024.0) for name, results in runs.items())
    size = dict((name, median(r['stdout_bytes'] for r in runs[name]) / 1e6) for name in ('empty', 'noop'))
    print('IPVS table benchmark: %d services x %d real servers = %d rules (lab guest, TCG emulation)'
          % (n_services, n_real, rules))
    print('median of %d rounds; each round runs every line below once, back to back, on the same guest' % repeat)
    print('  %-46s %8s  %6s  %s' % ('', 'seconds', 'ratio', 'peak RSS, result'))
    print('  %-46s %8.2f  %6s  %s' % ('ipvsadm -R of the same rules', t['restore'], '1.00', '%.1f MB' % rss['restore']))
    print('  %-46s %8.2f  %5.2fx  %.1f MB, result %.2f MB   (target <= 2.0x ipvsadm -R)'
          % ('ipvs_table from empty (module on the guest)', t['empty'], t['empty'] / t['restore'], rss['empty'],
             size['empty']))
    print('  %-46s %8.2f  %5.2fx  %.1f MB (its processes)'
          % ('keepalived 2.2.7, start until the table is full', t['keepalived'], t['keepalived'] / t['restore'],
             rss['keepalived']))
    print('  %-46s %8.2f  %6s  %s' % ('ipvsadm -S -n alone', t['save'], '1.00', '%.1f MB' % rss['save']))
    print('  %-46s %8.2f  %5.2fx  %.1f MB, result %.2f MB   (target <= 4.0x ipvsadm -S -n)'
          % ('ipvs_table no-op re-run', t['noop'], t['noop'] / t['save'], rss['noop'], size['noop']))
    print('  ipvs_table from empty / keepalived: %.2fx (below 1 is faster)' % (t['empty'] / t['keepalived']))
    if t_processes is not None:
        print('  one ipvsadm process per rule (seed)            %8.2f s' % t_processes)
    print('  whole Ansible task from empty (plain Ansible, one run): %.2f s' % task_wall)
    print('  kernel operations for one changed weight: %d %s' % (len(weight_ops), weight_ops))
    print('  rounds (s): %s' % ', '.join('%s %s' % (name, '/'.join('%.1f' % r['seconds'] for r in results))
                                         for name, results in runs.items()))
    assert len(weight_ops) == 1


if __name__ == '__main__':
    main()
